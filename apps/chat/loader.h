// Bringing a model up through the session layer (engine/session.h): the engine that
// recognises the file, loaded over an arena with the board's parallel-for and the context
// capped to fit RAM, its tokenizer and a sampler.
#ifndef APPS_CHAT_LOADER_H_
#define APPS_CHAT_LOADER_H_

#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/session.h"
#include "model_store.h"

// Sampling defaults, llama2.c's.
#define CHAT_DEFAULT_TEMPERATURE 1.0f
#define CHAT_DEFAULT_TOPP 0.9f

typedef struct chat_model {
  const char *name;
  em_session session;
  em_arena arena;  // the engine's, tokenizer's and sampler's memory, then the chat's scratch
  em_template template;
  const em_weight_source *source;  // weight streaming (model_bytes.source), else 0
  size_t held;                     // RAM before the arena: the model file, or its head
  size_t ram;                      // the RAM the model has (held + the arena's room)
} chat_model;

// RAM in use at most so far (held + the arena's peak): what a streamed model's turns report.
size_t chat_model_peak(const chat_model *m);

// Loads entry e from its bytes with arena memory mem[0..mem_size). When the KV cache of the
// model's whole context does not fit, the context is halved until it does (down to 64
// tokens) and a line says so. Returns 0, or -1 after printing one line.
int chat_model_load(chat_model *m, const model_entry *e, const model_bytes *bytes, uint8_t *mem,
                    size_t mem_size);

#endif  // APPS_CHAT_LOADER_H_
