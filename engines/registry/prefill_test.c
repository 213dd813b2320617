/* Batched prefill against token-by-token on the test models of every engine (argv: model
 * files): the same prompt fed in blocks (the default) and one token at a time must give
 * bit-identical logits and greedy continuations (so the KV caches agree too), for every block
 * boundary (prompts around multiples of the blocks of 16 and 5, against blocks of 1). */
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "engine/engine.h"
#include "engine/registry.h"

enum { ARENA = 32 << 20, PROMPT = 40, CONTINUE = 6 };

/* Prompt lengths: short ones and each side of the block boundaries. */
static const int kLengths[] = {1, 2, 4, 5, 6, 9, 10, 11, 15, 16, 17, 31, 32, 33, 40};

typedef struct loaded {
  const em_engine *engine;
  void *model, *mem;
  em_model_info info;
} loaded;

static int load(loaded *l, const void *bytes, size_t size, int block) {
  l->mem = malloc(ARENA);
  em_arena arena;
  em_arena_init(&arena, l->mem, ARENA);
  em_load_options o = {0, {NULL, NULL}, block, NULL};
  const char *msg;
  l->engine = em_registry_find(bytes, size);
  if (!l->engine || l->engine->load(&l->model, bytes, size, &o, &arena, &msg) != EM_OK) return 0;
  l->engine->info(l->model, &l->info);
  return 1;
}

static int argmax(const float *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

/* Feeds prompt[0..n) to a in blocks and to b one token at a time, then CONTINUE greedy tokens
 * to both; 1 when every step's logits agree bit for bit. */
static int same_run(const loaded *a, const loaded *b, const int *prompt, int n) {
  const float *la, *lb;
  a->engine->reset(a->model);
  b->engine->reset(b->model);
  if (a->engine->prefill(a->model, prompt, n, &la) != EM_OK) return 0;
  for (int i = 0; i < n; i++)
    if (b->engine->decode(b->model, prompt[i], &lb) != EM_OK) return 0;
  size_t bytes = (size_t)a->info.vocab_size * sizeof(float);
  if (memcmp(la, lb, bytes) != 0) return 0;
  for (int t = 0; t < CONTINUE; t++) {
    int ta = argmax(la, a->info.vocab_size), tb = argmax(lb, a->info.vocab_size);
    if (ta != tb) return 0;
    if (a->engine->decode(a->model, ta, &la) != EM_OK ||
        b->engine->decode(b->model, tb, &lb) != EM_OK)
      return 1; /* the context is full: equal so far */
    if (memcmp(la, lb, bytes) != 0) return 0;
  }
  return 1;
}

static void test_file(const char *path) {
  size_t size;
  void *bytes = read_file(path, &size);
  CHECKF(bytes != NULL, "cannot read %s", path);
  if (!bytes) return;
  loaded one, block, five;
  int ok =
      load(&one, bytes, size, 1) && load(&block, bytes, size, 0) && load(&five, bytes, size, 5);
  CHECKF(ok, "%s: load", path);
  if (ok) {
    int prompt[PROMPT];
    uint32_t rng = 0x2545f491u;
    for (int i = 0; i < PROMPT; i++)
      prompt[i] = (int)(check_next_u32(&rng) % (uint32_t)one.info.vocab_size);
    int max = PROMPT < one.info.seq_len - CONTINUE ? PROMPT : one.info.seq_len - CONTINUE;
    int bad = 0, tried = 0;
    for (size_t i = 0; i < sizeof kLengths / sizeof kLengths[0] && kLengths[i] <= max; i++) {
      bad += !same_run(&block, &one, prompt, kLengths[i]) +
             !same_run(&five, &one, prompt, kLengths[i]);
      tried++;
    }
    CHECKF(bad == 0, "%s: %d runs differ from token-by-token", path, bad);
    printf(
        "%s (%s): %d prompt lengths up to %d tokens, blocks of %d and 5: identical to one by "
        "one\n",
        path, one.info.engine, tried, max, EM_PREFILL_BLOCK);
  }
  free(one.mem);
  free(block.mem);
  free(five.mem);
  free(bytes);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) test_file(argv[i]);
  CHECK(argc > 1);
  return finish();
}
