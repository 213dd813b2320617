/* Token sampling with llama2.c's semantics: greedy argmax at temperature 0, otherwise
 * softmax(logits / temperature) then top-p (nucleus) or plain multinomial sampling, with
 * llama2.c's xorshift RNG, so equal probabilities and seed give llama2.c's choices. */
#ifndef ENGINE_SAMPLER_H_
#define ENGINE_SAMPLER_H_

#include <stdint.h>

#include "engine/arena.h"
#include "engine/status.h"

/* A candidate token for top-p: its probability and id. */
typedef struct em_prob_index {
  float prob;
  int index;
} em_prob_index;

typedef struct em_sampler {
  int vocab_size;
  float temperature;         /* 0 = greedy */
  float topp;                /* in (0, 1) enables top-p; otherwise sample from all tokens */
  uint64_t rng_state;        /* xorshift state; the seed as given */
  float *probs;              /* (vocab) scratch: the logits turned into probabilities */
  em_prob_index *candidates; /* (vocab) scratch for top-p */
} em_sampler;

/* Prepares a sampler; takes 8 bytes per vocabulary entry from the arena. */
em_status em_sampler_init(em_sampler *s, int vocab_size, float temperature, float topp,
                          uint64_t seed, em_arena *arena);

/* Picks the next token from logits[vocab] (the logits are not modified). */
int em_sample(em_sampler *s, const float *logits);

/* llama2.c's RNG: xorshift64* step, upper 32 bits. */
uint32_t em_random_u32(uint64_t *state);
/* A float in [0, 1) from the top 24 bits of em_random_u32. */
float em_random_f32(uint64_t *state);

/* Index of the largest value (the first one on ties). */
int em_sample_argmax(const float *values, int n);
/* Index i where coin falls in the cumulative distribution of probs (coin in [0, 1)). */
int em_sample_mult(const float *probs, int n, float coin);
/* Top-p: sorts the tokens with prob >= (1 - topp) / (n - 1) by probability, keeps the
 * smallest prefix whose mass exceeds topp, and samples within it. */
int em_sample_topp(const float *probs, int n, float topp, em_prob_index *scratch, float coin);

#endif /* ENGINE_SAMPLER_H_ */
