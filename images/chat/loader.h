// Bringing a model up: the engine picked by em_registry_find, loaded over an arena with the
// board's parallel-for, its tokenizer (which must match the model's vocabulary) and a sampler.
#ifndef IMAGES_CHAT_LOADER_H_
#define IMAGES_CHAT_LOADER_H_

#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"
#include "model_store.h"
#include "template.h"

// Sampling defaults, llama2.c's.
#define CHAT_DEFAULT_TEMPERATURE 1.0f
#define CHAT_DEFAULT_TOPP 0.9f

typedef struct chat_model {
  const char *name;
  const em_engine *engine;
  void *model;
  em_model_info info;
  em_tokenizer tokenizer;
  em_sampler sampler;
  em_arena arena;  // the engine's, tokenizer's and sampler's memory, then the chat's scratch
  chat_template template;
  int stop_id;  // a token that ends an answer besides EOS and BOS (<|assistant_end|>), or -1
} chat_model;

// Loads entry e from its bytes with arena memory mem[0..mem_size). When the KV cache of the
// model's whole context does not fit, the context is halved until it does (down to 64
// tokens) and a line says so. Returns 0, or -1 after printing one line.
int chat_model_load(chat_model *m, const model_entry *e, const model_bytes *bytes, uint8_t *mem,
                    size_t mem_size);

#endif  // IMAGES_CHAT_LOADER_H_
