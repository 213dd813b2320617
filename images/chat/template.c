// Prompt templates (see template.h).
#include "template.h"

static const char kAlpacaPreamble[] =
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.";
static const char kAlpacaInstruction[] = "\n\n### Instruction:\n";
static const char kAlpacaResponse[] = "\n\n### Response:";

static const char *const kNames[] = {"plain", "alpaca"};

int chat_template_from_name(const char *text, size_t len, chat_template *out) {
  for (int t = 0; t < (int)(sizeof kNames / sizeof kNames[0]); t++) {
    size_t n = __builtin_strlen(kNames[t]);
    if (n == len && __builtin_memcmp(text, kNames[t], n) == 0) {
      *out = (chat_template)t;
      return 1;
    }
  }
  return 0;
}

const char *chat_template_name(chat_template t) {
  return (unsigned)t < sizeof kNames / sizeof kNames[0] ? kNames[t] : "?";
}

typedef struct writer {
  char *out;
  size_t size, len;
  int overflow;
} writer;

static void put(writer *w, const char *s) {
  for (; *s; s++) {
    if (w->len + 1 >= w->size) {
      w->overflow = 1;
      return;
    }
    w->out[w->len++] = *s;
  }
}

size_t chat_template_render(chat_template t, int first_turn, const char *user, char *out,
                            size_t size) {
  writer w = {out, size, 0, 0};
  switch (t) {
    case CHAT_TEMPLATE_PLAIN:
      put(&w, user);
      break;
    case CHAT_TEMPLATE_ALPACA:
      // The first turn's preamble already ends in the instruction header's leading "\n\n".
      if (first_turn) put(&w, kAlpacaPreamble);
      put(&w, kAlpacaInstruction);
      put(&w, user);
      put(&w, kAlpacaResponse);
      break;
    default:
      return 0;
  }
  if (w.overflow || size == 0) return 0;
  out[w.len] = '\0';
  return w.len;
}
