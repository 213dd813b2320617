/* Fuzz target: the llama2.c model loader (v0/v1/v2 and InferPi fp16 model.bin): probe, load,
 * two decode steps. Returns 1 when the input loaded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llama/llama.h"

static uint8_t arena_mem[32 << 20] __attribute__((aligned(64)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *bytes = data;
  uint8_t *copy = NULL;
  if ((uintptr_t)data & 3u) { /* the loader needs 4-byte alignment; libFuzzer's buffer is not */
    copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    bytes = copy;
  }
  (void)llama_probe(bytes, size);
  em_arena arena;
  em_arena_init(&arena, arena_mem, sizeof arena_mem);
  llama_model *m;
  const char *msg;
  em_load_options opt = {8, {NULL, NULL}, 0, NULL};
  int ok = llama_load(&m, bytes, size, &opt, &arena, &msg) == EM_OK;
  if (ok) {
    for (int pos = 0; pos < 2 && pos < m->seq_len; pos++)
      (void)llama_forward(m, pos % m->config.vocab_size, pos);
  }
  free(copy);
  return ok;
}
