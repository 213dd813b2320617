/* llama2.c-compatible sampler. */
#include "engine/sampler.h"

#include <stddef.h>

#include "engine/kernels.h"

em_status em_sampler_init(em_sampler *s, int vocab_size, float temperature, float topp,
                          uint64_t seed, em_arena *arena) {
  if (!s || !arena || vocab_size <= 0 || !(temperature >= 0.0f)) return EM_ERR_ARG;
  size_t mark = em_arena_mark(arena);
  s->probs = (float *)em_arena_alloc_array(arena, (size_t)vocab_size, sizeof(float), 4);
  s->candidates =
      (em_prob_index *)em_arena_alloc_array(arena, (size_t)vocab_size, sizeof(em_prob_index), 4);
  if (!s->probs || !s->candidates) {
    em_arena_reset(arena, mark);
    return EM_ERR_NOMEM;
  }
  s->vocab_size = vocab_size;
  s->temperature = temperature;
  s->topp = topp;
  s->rng_state = seed;
  return EM_OK;
}

uint32_t em_random_u32(uint64_t *state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

float em_random_f32(uint64_t *state) { return (float)(em_random_u32(state) >> 8) / 16777216.0f; }

int em_sample_argmax(const float *values, int n) {
  int best = 0;
  for (int i = 1; i < n; i++) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

int em_sample_mult(const float *probs, int n, float coin) {
  float cdf = 0.0f;
  for (int i = 0; i < n; i++) {
    cdf += probs[i];
    if (coin < cdf) return i;
  }
  return n - 1;
}

/* Candidate a goes before b: higher probability first, then lower id (the order a stable
 * sort by probability gives, as llama2.c's qsort does with glibc). */
static int goes_before(const em_prob_index *a, const em_prob_index *b) {
  if (a->prob != b->prob) return a->prob > b->prob;
  return a->index < b->index;
}

static void sift_down(em_prob_index *c, int root, int n) {
  for (;;) {
    int child = 2 * root + 1;
    if (child >= n) return;
    /* max-heap on "goes after", so the heap sort leaves the "goes before" order */
    if (child + 1 < n && goes_before(&c[child], &c[child + 1])) child++;
    if (!goes_before(&c[root], &c[child])) return;
    em_prob_index t = c[root];
    c[root] = c[child];
    c[child] = t;
    root = child;
  }
}

static void sort_candidates(em_prob_index *c, int n) {
  for (int i = n / 2 - 1; i >= 0; i--) sift_down(c, i, n);
  for (int end = n - 1; end > 0; end--) {
    em_prob_index t = c[0];
    c[0] = c[end];
    c[end] = t;
    sift_down(c, 0, end);
  }
}

int em_sample_topp(const float *probs, int n, float topp, em_prob_index *scratch, float coin) {
  const float cutoff = (1.0f - topp) / (float)(n - 1);
  int n_candidates = 0;
  for (int i = 0; i < n; i++) {
    if (probs[i] >= cutoff) {
      scratch[n_candidates].index = i;
      scratch[n_candidates].prob = probs[i];
      n_candidates++;
    }
  }
  if (n_candidates == 0) return em_sample_mult(probs, n, coin);
  sort_candidates(scratch, n_candidates);

  float cumulative = 0.0f;
  int last = n_candidates - 1;
  for (int i = 0; i < n_candidates; i++) {
    cumulative += scratch[i].prob;
    if (cumulative > topp) {
      last = i;
      break;
    }
  }
  float r = coin * cumulative;
  float cdf = 0.0f;
  for (int i = 0; i <= last; i++) {
    cdf += scratch[i].prob;
    if (r < cdf) return scratch[i].index;
  }
  return scratch[last].index;
}

int em_sample(em_sampler *s, const float *logits) {
  int n = s->vocab_size;
  if (s->temperature == 0.0f) return em_sample_argmax(logits, n);
  for (int i = 0; i < n; i++) s->probs[i] = logits[i] / s->temperature;
  em_softmax(s->probs, n);
  float coin = em_random_f32(&s->rng_state);
  if (s->topp <= 0.0f || s->topp >= 1.0f) return em_sample_mult(s->probs, n, coin);
  return em_sample_topp(s->probs, n, s->topp, s->candidates, coin);
}
