// Prompt templates: how one user turn becomes the text the model reads. A per-model choice
// (the model folder's chat.txt, or the boot bundle's header); no hint means plain completion.
//
//   plain   the text as typed: the model continues it (tiny story models, llama2.c)
//   alpaca  Stanford Alpaca's instruction format (what InferPi uses for Llama models):
//           first turn  "Below is an instruction that describes a task. Write a response that
//                        appropriately completes the request.\n\n### Instruction:\n{text}\n\n
//                        ### Response:"
//           later turns "\n\n### Instruction:\n{text}\n\n### Response:"
// The conversation starts with BOS; later turns continue the same context (KV cache).
#ifndef IMAGES_CHAT_TEMPLATE_H_
#define IMAGES_CHAT_TEMPLATE_H_

#include <stddef.h>

typedef enum chat_template {
  CHAT_TEMPLATE_PLAIN = 0,
  CHAT_TEMPLATE_ALPACA = 1,
} chat_template;

// The template named by text[0..len) ("plain" or "alpaca"); returns 0 if there is none.
int chat_template_from_name(const char *text, size_t len, chat_template *out);
const char *chat_template_name(chat_template t);

// Writes the turn's text into out (NUL-terminated); returns its length, or 0 when it does not
// fit in `size` bytes (or t is unknown).
size_t chat_template_render(chat_template t, int first_turn, const char *user, char *out,
                            size_t size);

// Bytes a rendering adds around the user's text, at most (for sizing buffers).
#define CHAT_TEMPLATE_OVERHEAD 192

#endif  // IMAGES_CHAT_TEMPLATE_H_
