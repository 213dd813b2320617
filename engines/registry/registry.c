/* Adding an engine: a new directory under engines/ and one line in kEngines. */
#include "engine/registry.h"

#include "llama/llama.h"
#include "nanochat/nanochat.h"

static const em_engine *const kEngines[] = {
    &llama_engine,    /* llama2.c v0/v1/v2, InferPi fp16 model.bin, containers of architecture 1 */
    &nanochat_engine, /* containers of architecture 2 */
};

int em_registry_count(void) { return (int)(sizeof kEngines / sizeof kEngines[0]); }

const em_engine *em_registry_get(int i) {
  return (i >= 0 && i < em_registry_count()) ? kEngines[i] : NULL;
}

const em_engine *em_registry_find(const void *bytes, size_t size) {
  const em_engine *best = NULL;
  int best_score = 0;
  for (int i = 0; i < em_registry_count(); i++) {
    int score = kEngines[i]->probe(bytes, size);
    if (score > best_score) {
      best_score = score;
      best = kEngines[i];
    }
  }
  return best;
}

static int same_name(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

const em_engine *em_registry_by_name(const char *name) {
  for (int i = 0; i < em_registry_count(); i++) {
    if (same_name(kEngines[i]->name, name)) return kEngines[i];
  }
  return NULL;
}
