/* Text generation on any engine, the loop of llama2.c's generate(): prompt with BOS, feed
 * the prompt, then sample until `steps` positions or BOS. Text streams to the host's putc. */
#ifndef ENGINE_GENERATE_H_
#define ENGINE_GENERATE_H_

#include <stdint.h>

#include "engine/arena.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

typedef struct em_host {
  em_putc_fn putc;                  /* console output; NULL = print nothing */
  uint64_t (*clock_us)(void *user); /* monotonic microseconds; NULL = no timing */
  void *user;
} em_host;

/* Called after every forward pass: the input token at pos, its logits, and the token
 * chosen next (the next prompt token while in the prompt). */
typedef void (*em_step_fn)(void *user, int pos, int token, const float *logits, int next);

typedef struct em_generate_result {
  int n_prompt;        /* prompt tokens including BOS */
  int n_generated;     /* sampled tokens (not counting a final BOS) */
  int n_positions;     /* forward passes run */
  int context_full;    /* 1 when the context filled up before `steps` positions or a BOS */
  uint64_t elapsed_us; /* from the first forward pass to the end */
} em_generate_result;

/* Generates from `prompt` (may be ""). Uses the arena only for the prompt's tokens and
 * gives that memory back. The model is reset first. A prompt (with its BOS) longer than the
 * model's context runs nothing and returns EM_ERR_FULL; when the context fills up while
 * generating, the text ends there (EM_OK, context_full set). */
em_status em_generate(const em_engine *engine, void *model, em_tokenizer *tok, em_sampler *sampler,
                      const char *prompt, int steps, em_arena *arena, const em_host *host,
                      em_step_fn on_step, void *step_user, em_generate_result *result);

#endif /* ENGINE_GENERATE_H_ */
