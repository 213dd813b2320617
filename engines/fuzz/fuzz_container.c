/* Fuzz target: the container reader and the engines behind it. Runs mc_open on the input as
 * it is (mutations mostly meet the CRC checks), then on a copy whose CRCs are recomputed
 * (so mutations reach the table, tokenizer and engine checks), and when the registry finds
 * an engine: load, two decode steps, and the embedded tokenizer encoding a short text.
 * Returns 1 when the input loaded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32.h"
#include "container/container.h"
#include "engine/registry.h"
#include "engine/tokenizer.h"

static uint8_t arena_mem[32 << 20] __attribute__((aligned(64)));

static uint32_t get_u32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t get_u64(const uint8_t *b) { return get_u32(b) | (uint64_t)get_u32(b + 4) << 32; }
static void set_u32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* A weight source over the fuzz input itself: the streamed load reads what it would read
 * from a card (every read bounds-checked here as a card's reader does). */
typedef struct mem_source {
  const uint8_t *data;
  size_t size;
  em_status status;
} mem_source;

static em_status mem_start(void *user, const em_read *reads, int n) {
  mem_source *m = (mem_source *)user;
  m->status = EM_OK;
  for (int k = 0; k < n; k++) {
    if (reads[k].offset > m->size || reads[k].size > m->size - reads[k].offset) {
      m->status = EM_ERR_TRUNCATED;
      break;
    }
    memcpy(reads[k].dst, m->data + reads[k].offset, reads[k].size);
  }
  return EM_OK;
}

static em_status mem_wait(void *user) { return ((mem_source *)user)->status; }

/* The same bytes streamed: the head opened MC_HEAD_ONLY, the rest read through a source. */
static void run_streamed(const em_engine *e, const uint8_t *data, size_t size) {
  uint64_t head = mc_head_size(data, size);
  if (head == 0 || head > size) return;
  mem_source m = {data, size, EM_OK};
  em_weight_source src = {size, mem_start, mem_wait, &m};
  em_arena arena;
  em_arena_init(&arena, arena_mem, sizeof arena_mem);
  void *model;
  const char *msg;
  em_load_options opt = {8, {NULL, NULL}, 0, &src};
  if (e->load(&model, data, (size_t)head, &opt, &arena, &msg) != EM_OK) return;
  em_model_info info;
  e->info(model, &info);
  const float *logits;
  for (int i = 0; i < 2; i++) {
    if (e->decode(model, (info.bos_id + i) % info.vocab_size, &logits) != EM_OK) break;
  }
}

static int run(const uint8_t *data, size_t size) {
  mc_container c;
  const char *msg;
  if (mc_open(&c, data, size, 0, &msg) == EM_OK) {
    for (uint32_t i = 0; i < c.tensor_count; i++) {
      mc_tensor t;
      mc_tensor_at(&c, i, &t);
      (void)mc_value(&t, t.count - 1);
    }
    (void)mc_chat_template(&c);
  }
  const em_engine *e = em_registry_find(data, size);
  if (!e) return 0;
  run_streamed(e, data, size);
  em_arena arena;
  em_arena_init(&arena, arena_mem, sizeof arena_mem);
  void *model;
  em_load_options opt = {8, {NULL, NULL}, 0, NULL};
  if (e->load(&model, data, size, &opt, &arena, &msg) != EM_OK) return 0;
  em_model_info info;
  e->info(model, &info);
  const float *logits;
  for (int i = 0; i < 2; i++) {
    if (e->decode(model, (info.bos_id + i) % info.vocab_size, &logits) != EM_OK) break;
  }
  em_tokenizer tok;
  if (e->tokenizer && e->tokenizer(model, &tok, &arena, &msg) == EM_OK) {
    int ids[64], n;
    if (em_tokenizer_encode(&tok, "Hello, world! It's 2024.\n", true, false, ids, 64, &n) ==
        EM_OK) {
      for (int i = 0; i < n; i++) {
        int len;
        (void)em_tokenizer_decode(&tok, i ? ids[i - 1] : ids[0], ids[i], &len);
      }
    }
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* engines need a 4-byte aligned buffer: libFuzzer's is not promised to be */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  int ok = run(((uintptr_t)data & 3u) ? copy : data, size);
  if (size >= MC_HEADER_SIZE) { /* the same with every CRC recomputed */
    for (int i = 0; i < 4; i++) {
      const uint8_t *e = copy + 40 + 24 * i;
      uint64_t off = get_u64(e), len = get_u64(e + 8);
      if (off <= size && len <= size - off)
        set_u32(copy + 40 + 24 * i + 16, crc32_update(0, copy + off, (size_t)len));
    }
    set_u32(copy + 12, 0);
    set_u32(copy + 12, crc32_update(0, copy, MC_HEADER_SIZE));
    ok |= run(copy, size);
  }
  free(copy);
  return ok;
}
