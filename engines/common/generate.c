/* The generation loop (llama2.c's generate) over the engine interface. */
#include "engine/generate.h"

#include <stddef.h>

static size_t text_length(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static uint64_t now_us(const em_host *host) {
  return host && host->clock_us ? host->clock_us(host->user) : 0;
}

em_status em_generate(const em_engine *engine, void *model, em_tokenizer *tok, em_sampler *sampler,
                      const char *prompt, int steps, em_arena *arena, const em_host *host,
                      em_step_fn on_step, void *step_user, em_generate_result *result) {
  *result = (em_generate_result){0, 0, 0, 0, 0};
  size_t length = text_length(prompt);
  if (length > (size_t)0x7fffffff - 3) return EM_ERR_ARG;
  size_t mark = em_arena_mark(arena);
  int capacity = (int)length + 3;
  int *prompt_tokens =
      (int *)em_arena_alloc_array(arena, (size_t)capacity, sizeof(int), sizeof(int));
  if (!prompt_tokens) return EM_ERR_NOMEM;
  int n_prompt;
  em_status status =
      em_tokenizer_encode(tok, prompt, true, false, prompt_tokens, capacity, &n_prompt);
  if (status != EM_OK) goto done;
  result->n_prompt = n_prompt;
  em_model_info info;
  engine->info(model, &info);
  if (n_prompt > info.seq_len) {
    status = EM_ERR_FULL;
    goto done;
  }

  engine->reset(model);
  em_utf8_stream out;
  em_utf8_init(&out);
  uint64_t start = now_us(host);
  int token = prompt_tokens[0];
  for (int pos = 0; pos < steps; pos++) {
    const float *logits;
    status = engine->decode(model, token, &logits);
    if (status != EM_OK) break;
    result->n_positions++;
    int next = pos + 1 < n_prompt ? prompt_tokens[pos + 1] : em_sample(sampler, logits);
    if (on_step) on_step(step_user, pos, token, logits, next);
    if (pos + 1 >= n_prompt) {
      if (next == tok->bos_id) break; /* BOS delimits sequences */
      result->n_generated++;
    }
    if (host && host->putc) {
      int len;
      const char *piece = em_tokenizer_decode(tok, token, next, &len);
      em_utf8_write(&out, piece, len, host->putc, host->user);
    }
    token = next;
  }
  if (host && host->putc) em_utf8_flush(&out, host->putc, host->user);
  result->elapsed_us = now_us(host) - start;
  if (status == EM_ERR_FULL) { /* the context ended the text */
    result->context_full = 1;
    status = EM_OK;
  }
done:
  em_arena_reset(arena, mark);
  return status;
}
