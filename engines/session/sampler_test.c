/* Sampler: llama2.c's RNG sequence, argmax/multinomial/top-p choices on hand-made
 * distributions, and the temperature path. (The comparison with llama2.c's recorded runs
 * on a real model is in engines/llama/llama_test.c.) */
#include "engine/sampler.h"

#include <stdint.h>

#include "common/check.h"

static void test_rng(void) {
  /* xorshift64* as in llama2.c, seed 42 (values computed from its definition). */
  const uint32_t expect[5] = {1456360119u, 3359763283u, 3393612768u, 4054632243u, 3283045847u};
  uint64_t state = 42;
  int same = 1;
  for (int i = 0; i < 5; i++) same &= em_random_u32(&state) == expect[i];
  CHECK(same);
  CHECK(state == 0x53e4a303a98ce13eull);
  state = 42;
  CHECK(em_random_f32(&state) == 0.3390852212905884f);
  state = 7;
  int in_range = 1;
  for (int i = 0; i < 100000; i++) {
    float f = em_random_f32(&state);
    in_range &= f >= 0.0f && f < 1.0f;
  }
  CHECK(in_range);
}

static void test_choices(void) {
  const float logits[5] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  CHECK(em_sample_argmax(logits, 5) == 1); /* first of the tied maxima */

  const float p[4] = {0.1f, 0.2f, 0.3f, 0.4f};
  CHECK(em_sample_mult(p, 4, 0.0f) == 0);
  CHECK(em_sample_mult(p, 4, 0.05f) == 0);
  CHECK(em_sample_mult(p, 4, 0.15f) == 1);
  CHECK(em_sample_mult(p, 4, 0.59f) == 2);
  CHECK(em_sample_mult(p, 4, 0.99f) == 3);
  CHECK(em_sample_mult(p, 4, 1.5f) == 3); /* past the cdf: the last token */

  /* top-p 0.5 over {0.4, 0.3, 0.2, 0.1}: keeps 3 (0.4), 2 (0.3); cumulative 0.7;
   * r = coin * 0.7 picks 3 when r < 0.4. */
  em_prob_index scratch[4];
  CHECK(em_sample_topp(p, 4, 0.5f, scratch, 0.5f) == 3); /* r = 0.35 */
  CHECK(em_sample_topp(p, 4, 0.5f, scratch, 0.6f) == 2); /* r = 0.42 */
  CHECK(em_sample_topp(p, 4, 0.5f, scratch, 0.999f) == 2);
  /* top-p 0.95: cutoff (1 - 0.95) / 3 = 0.0167 keeps all; cumulative never exceeds 0.95
   * before the last one. */
  CHECK(em_sample_topp(p, 4, 0.95f, scratch, 0.999f) == 0);

  /* Equal probabilities keep id order (what a stable sort of llama2.c's qsort gives). */
  const float tie[6] = {0.25f, 0.05f, 0.25f, 0.05f, 0.25f, 0.15f};
  CHECK(em_sample_topp(tie, 6, 0.6f, scratch, 0.0f) == 0);
  CHECK(em_sample_topp(tie, 6, 0.6f, scratch, 0.4f) == 2); /* r = 0.3: second of the ties */
  CHECK(em_sample_topp(tie, 6, 0.6f, scratch, 0.8f) == 4);
  /* Candidates below the cutoff are never chosen. */
  const float skew[4] = {0.97f, 0.01f, 0.01f, 0.01f};
  CHECK(em_sample_topp(skew, 4, 0.9f, scratch, 0.999f) == 0);
}

static void test_sampler(void) {
  static uint8_t mem[4096];
  em_arena a;
  em_arena_init(&a, mem, sizeof mem);
  em_sampler s;
  const float logits[5] = {0.5f, 2.0f, -1.0f, 2.5f, 1.0f};
  float copy[5];
  memcpy(copy, logits, sizeof copy);

  CHECK(em_sampler_init(&s, 5, 0.0f, 0.9f, 42, &a) == EM_OK);
  CHECK(em_sample(&s, logits) == 3);
  CHECK(s.rng_state == 42); /* greedy draws no random number, like llama2.c */

  /* temperature 1, top-p 0.9, seed 42: probabilities descending are 3 (0.5012),
   * 1 (0.3040), 4 (0.1118), 0 (0.0678), 2 (0.0151); top-p keeps 3, 1, 4 (cumulative 0.9170
   * first exceeds 0.9 there). First coin 0.339085: r = 0.3109 < 0.5012 -> token 3. */
  CHECK(em_sampler_init(&s, 5, 1.0f, 0.9f, 42, &a) == EM_OK);
  CHECK(em_sample(&s, logits) == 3);
  /* second coin 3359763283 >> 8 / 2^24 = 0.782253: r = 0.7173; cdf 0.5012, 0.8052 -> 1 */
  CHECK(em_sample(&s, logits) == 1);
  CHECK(memcmp(copy, logits, sizeof copy) == 0); /* logits untouched */

  /* top-p >= 1 samples from everything (multinomial). */
  CHECK(em_sampler_init(&s, 5, 1.0f, 1.0f, 42, &a) == EM_OK);
  CHECK(em_sample(&s, logits) == 1); /* coin 0.339: cdf 0.0678, 0.3718 -> token 1 */
  CHECK(em_sampler_init(&s, 0, 1.0f, 1.0f, 42, &a) == EM_ERR_ARG);
  CHECK(em_sampler_init(&s, 1000, 1.0f, 1.0f, 42, &a) == EM_ERR_NOMEM);
}

int main(void) {
  test_rng();
  test_choices();
  test_sampler();
  return finish();
}
