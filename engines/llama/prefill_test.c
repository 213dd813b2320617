/* Batched prefill against token-by-token on the test models (argv: llama containers or
 * llama2.c files): the same prompt fed in blocks (the default) and one token at a time must
 * give bit-identical logits, KV cache contents and greedy continuations, for every block
 * boundary (prompts around multiples of the blocks of 16 and 5, against blocks of 1). */
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "engine/engine.h"
#include "llama/llama.h"

enum { ARENA = 32 << 20, PROMPT = 40, CONTINUE = 6 };

/* Prompt lengths: short ones and each side of the block boundaries. */
static const int kLengths[] = {1, 2, 4, 5, 6, 9, 10, 11, 15, 16, 17, 31, 32, 33, 40};

static llama_model *load(const void *bytes, size_t size, int block, void **mem) {
  *mem = malloc(ARENA);
  em_arena arena;
  em_arena_init(&arena, *mem, ARENA);
  em_load_options o = {0, {NULL, NULL}, block};
  llama_model *m;
  const char *msg;
  if (llama_load(&m, bytes, size, &o, &arena, &msg) != EM_OK) {
    fprintf(stderr, "load: %s\n", msg);
    return NULL;
  }
  return m;
}

static int argmax(const float *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

/* Feeds prompt[0..n) to both, then CONTINUE greedy tokens; 1 when every step agrees. */
static int same_run(llama_model *a, llama_model *b, const int *prompt, int n) {
  const float *la, *lb;
  a->pos = b->pos = 0;
  if (llama_engine.prefill(a, prompt, n, &la) != EM_OK) return 0;
  for (int i = 0; i < n; i++)
    if (llama_engine.decode(b, prompt[i], &lb) != EM_OK) return 0;
  int vocab = a->config.vocab_size, kv = a->config.dim / a->config.n_heads * a->config.n_kv_heads;
  if (memcmp(la, lb, (size_t)vocab * sizeof(float)) != 0) return 0;
  for (int l = 0; l < a->config.n_layers; l++) {
    size_t at = (size_t)l * (size_t)a->seq_len * (size_t)kv, bytes = (size_t)n * kv * sizeof(float);
    if (memcmp(a->state.key_cache + at, b->state.key_cache + at, bytes) != 0 ||
        memcmp(a->state.value_cache + at, b->state.value_cache + at, bytes) != 0)
      return 0;
  }
  for (int t = 0; t < CONTINUE; t++) {
    int ta = argmax(la, vocab), tb = argmax(lb, vocab);
    if (ta != tb) return 0;
    if (llama_engine.decode(a, ta, &la) != EM_OK || llama_engine.decode(b, tb, &lb) != EM_OK)
      return 1; /* the context is full: equal so far */
    if (memcmp(la, lb, (size_t)vocab * sizeof(float)) != 0) return 0;
  }
  return 1;
}

static void test_file(const char *path) {
  size_t size;
  void *bytes = read_file(path, &size);
  CHECKF(bytes != NULL, "cannot read %s", path);
  if (!bytes) return;
  void *mem_one, *mem_block, *mem_five;
  llama_model *one = load(bytes, size, 1, &mem_one);
  llama_model *block = load(bytes, size, 0, &mem_block);
  llama_model *five = load(bytes, size, 5, &mem_five);
  CHECKF(one && block && five, "%s: load", path);
  if (one && block && five) {
    CHECK(block->state.block == EM_PREFILL_BLOCK && one->state.block == 1);
    int prompt[PROMPT];
    uint32_t rng = 0x2545f491u;
    for (int i = 0; i < PROMPT; i++)
      prompt[i] = (int)(check_next_u32(&rng) % (uint32_t)one->config.vocab_size);
    int max = PROMPT < one->seq_len - CONTINUE ? PROMPT : one->seq_len - CONTINUE;
    int bad = 0, tried = 0;
    for (size_t i = 0; i < sizeof kLengths / sizeof kLengths[0] && kLengths[i] <= max; i++) {
      bad += !same_run(block, one, prompt, kLengths[i]) + !same_run(five, one, prompt, kLengths[i]);
      tried++;
    }
    CHECKF(bad == 0, "%s: %d runs differ from token-by-token", path, bad);
    printf("%s: %d prompt lengths up to %d tokens, blocks of %d and 5: identical to one by one\n",
           path, tried, max, EM_PREFILL_BLOCK);
  }
  free(mem_one);
  free(mem_block);
  free(mem_five);
  free(bytes);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) test_file(argv[i]);
  CHECK(argc > 1);
  return finish();
}
