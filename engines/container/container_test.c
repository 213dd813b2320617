/* Bad input for the container reader and the engines that load from it:
 *   container_test FILE ENGINE [FILE ENGINE ...]
 * Each FILE (written by the Python writer at build time) must open, be claimed by ENGINE in
 * the registry and run; then truncation at every offset, a flipped byte in the header and
 * in every section, wrong magic/version, impossible dimensions, a tokenizer vocabulary
 * different from the model's, misaligned, overlapping and out-of-range tensor regions must
 * each fail with its code. Inputs sit right before an inaccessible page (engines/fuzz/
 * guard.h), so a read past the end crashes the test. A FILE whose ENGINE is "llama-raw" is
 * a headerless llama2.c-layout file (InferPi fp16): truncation and NCHT only. */
#define _GNU_SOURCE
#include "container/container.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/crc32.h"
#include "common/fuzz/guard.h"
#include "engine/registry.h"
#include "engine/tokenizer.h"
#include "llama/llama.h"

static guard_buffer g_guard;
static uint8_t *g_arena_mem;
static const size_t kArenaSize = (size_t)64 << 20;

static void set_u32(uint8_t *b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; i++) b[off + i] = (uint8_t)(v >> (8 * i));
}
static void set_u64(uint8_t *b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; i++) b[off + i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *b, size_t off) {
  return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
         (uint32_t)b[off + 3] << 24;
}
static uint64_t get_u64(const uint8_t *b, size_t off) {
  return (uint64_t)get_u32(b, off) | (uint64_t)get_u32(b, off + 4) << 32;
}

/* Recomputes the section CRCs (of sections inside the buffer) and the header CRC, so a
 * mutation reaches the checks behind them. */
static void fix_crcs(uint8_t *b, size_t size) {
  if (size < MC_HEADER_SIZE) return;
  for (int i = 0; i < 4; i++) {
    size_t e = 40 + 24 * (size_t)i;
    uint64_t off = get_u64(b, e), len = get_u64(b, e + 8);
    if (off <= size && len <= size - off) set_u32(b, e + 16, crc32_update(0, b + off, (size_t)len));
  }
  set_u32(b, 12, 0);
  set_u32(b, 12, crc32_update(0, b, MC_HEADER_SIZE));
}

static em_status open_guarded(const uint8_t *bytes, size_t n) {
  mc_container c;
  const char *msg;
  return mc_open(&c, guard_place(&g_guard, bytes, n), n, 0, &msg);
}

/* Registry probe + load + two decode steps; the status of the first failure. */
static em_status run_guarded(const uint8_t *bytes, size_t n, const char **engine_name) {
  const uint8_t *p = guard_place(&g_guard, bytes, n);
  const em_engine *e = em_registry_find(p, n);
  *engine_name = e ? e->name : "none";
  if (!e) return EM_ERR_MAGIC;
  em_arena arena;
  em_arena_init(&arena, g_arena_mem, kArenaSize);
  void *model;
  const char *msg;
  em_status s = e->load(&model, p, n, NULL, &arena, &msg);
  if (s != EM_OK) return s;
  em_model_info info;
  e->info(model, &info);
  const float *logits;
  for (int i = 0; i < 2 && s == EM_OK; i++)
    s = e->decode(model, (info.bos_id + i) % info.vocab_size, &logits);
  if (s == EM_OK && e->tokenizer) {
    em_tokenizer tok;
    s = e->tokenizer(model, &tok, &arena, &msg);
    if (s == EM_ERR_UNSUPPORTED) s = EM_OK;
  }
  return s;
}

static em_status load_status(const uint8_t *bytes, size_t n) {
  const char *name;
  return run_guarded(bytes, n, &name);
}

/* The next truncation length to try: every offset up to 4 KiB into the tensor data (header,
 * tables, tokenizer), then every 257th (each try copies the prefix: quadratic otherwise). */
static size_t next_cut(size_t n, size_t dense_end) { return n < dense_end ? n + 1 : n + 257; }

/* A copy with one u32 (or u64) changed and the CRCs fixed: the status of loading it
 * (width 4/8: through the registry and the engine; 5/9: mc_open alone). */
static em_status patched(const uint8_t *bytes, size_t n, size_t off, uint64_t v, int width) {
  uint8_t *copy = malloc(n);
  memcpy(copy, bytes, n);
  if (width == 8 || width == 9)
    set_u64(copy, off, v);
  else
    set_u32(copy, off, (uint32_t)v);
  fix_crcs(copy, n);
  em_status s = (width == 5 || width == 9) ? open_guarded(copy, n) : load_status(copy, n);
  free(copy);
  return s;
}

static void test_raw(const uint8_t *bytes, size_t size) {
  const char *name;
  CHECKF(run_guarded(bytes, size, &name) == EM_OK && strcmp(name, "llama") == 0,
         "raw llama2.c-layout file loads with llama (got %s)", name);
  int bad = 0;
  for (size_t n = 0; n < size; n++) {
    if (run_guarded(bytes, n, &name) == EM_OK) bad++;
  }
  CHECKF(bad == 0, "%d truncated raw files loaded", bad);
  uint8_t *copy = malloc(size);
  memcpy(copy, bytes, size);
  set_u32(copy, 0, 0x4E434854u); /* InferPi's nanochat magic: not ours to guess */
  CHECK(run_guarded(copy, size, &name) == EM_ERR_MAGIC && strcmp(name, "none") == 0);
  llama_model *m;
  em_arena arena;
  em_arena_init(&arena, g_arena_mem, kArenaSize);
  const char *msg;
  CHECK(llama_load(&m, guard_place(&g_guard, copy, size), size, NULL, &arena, &msg) ==
        EM_ERR_UNSUPPORTED);
  free(copy);
}

static void test_container(const char *path, const uint8_t *bytes, size_t size,
                           const char *engine) {
  const char *name;
  em_status s = run_guarded(bytes, size, &name);
  CHECKF(s == EM_OK && strcmp(name, engine) == 0, "%s: %s by %s (want %s)", path, em_status_name(s),
         name, engine);

  /* the manifest's chat template: the test models name none (llama) or nanochat's */
  mc_container c;
  const char *msg;
  CHECK(mc_open(&c, bytes, size, 0, &msg) == EM_OK);
  uint32_t want_template = strcmp(engine, "nanochat") == 0 ? 3 : 1;
  CHECKF(mc_chat_template(&c) == want_template, "%s: chat template %u, want %u", path,
         (unsigned)mc_chat_template(&c), (unsigned)want_template);

  /* truncation: the header's file size no longer matches */
  size_t dense_end = (size_t)get_u64(bytes, 88) + 4096;
  int wrong = 0;
  for (size_t n = 0; n < size; n = next_cut(n, dense_end)) {
    if (open_guarded(bytes, n) != EM_ERR_TRUNCATED) wrong++;
  }
  CHECKF(wrong == 0, "%s: %d truncations not reported as EM_ERR_TRUNCATED", path, wrong);

  /* ... and with the header patched to the shorter size: the sections run out */
  uint8_t *copy = malloc(size);
  int opened = 0;
  for (size_t n = MC_HEADER_SIZE; n < size; n = next_cut(n, dense_end)) {
    memcpy(copy, bytes, MC_HEADER_SIZE);
    set_u64(copy, 16, n);
    set_u32(copy, 12, 0);
    set_u32(copy, 12, crc32_update(0, copy, MC_HEADER_SIZE));
    memcpy(copy + MC_HEADER_SIZE, bytes + MC_HEADER_SIZE, n - MC_HEADER_SIZE);
    if (open_guarded(copy, n) == EM_OK) opened++;
  }
  CHECKF(opened == 0, "%s: %d truncated containers with a matching header opened", path, opened);

  /* a flipped bit anywhere in the header, and in each section */
  wrong = 0;
  for (size_t i = 0; i < MC_HEADER_SIZE; i++) {
    memcpy(copy, bytes, size);
    copy[i] ^= 0x10;
    em_status want = i < 4 ? EM_ERR_MAGIC : EM_ERR_CORRUPT;
    if (i >= 4 && i < 8) want = EM_ERR_VERSION;
    if (i >= 8 && i < 12) want = EM_ERR_DIMS;
    if (open_guarded(copy, size) != want) wrong++;
  }
  CHECKF(wrong == 0, "%s: %d header bit flips not reported by their code", path, wrong);
  for (int k = 0; k < 4; k++) {
    uint64_t off = get_u64(bytes, 40 + 24 * (size_t)k), len = get_u64(bytes, 48 + 24 * (size_t)k);
    memcpy(copy, bytes, size);
    copy[off + len / 2] ^= 0x01;
    CHECKF(open_guarded(copy, size) == EM_ERR_CORRUPT, "%s: flip in section %d", path, k);
  }

  /* magic, version, impossible values (CRCs fixed so that the field's own check answers) */
  uint32_t arch = get_u32(bytes, 24);
  uint64_t table = get_u64(bytes, 40), tok = get_u64(bytes, 64);
  uint64_t data = get_u64(bytes, 88), data_len = get_u64(bytes, 96);
  CHECK(patched(bytes, size, 0, 0x464655u, 4) == EM_ERR_MAGIC);
  CHECK(patched(bytes, size, 4, 2, 5) == EM_ERR_VERSION);
  CHECK(patched(bytes, size, 4, 2, 4) == EM_ERR_MAGIC);        /* no engine claims it */
  CHECK(patched(bytes, size, 24, 7, 5) == EM_ERR_UNSUPPORTED); /* architecture */
  CHECK(patched(bytes, size, 36, get_u32(bytes, 36) + 1, 4) == EM_ERR_DIMS); /* tensor count */
  CHECK(patched(bytes, size, 36, 0, 4) == EM_ERR_DIMS);
  CHECK(patched(bytes, size, 40, table + 64, 8) == EM_ERR_DIMS); /* section not canonical */
  CHECK(patched(bytes, size, 60, 3, 4) == EM_ERR_DIMS);          /* section kind */
  CHECK(patched(bytes, size, tok + 4, get_u32(bytes, tok + 4) + 1, 4) == EM_ERR_DIMS);
  CHECK(patched(bytes, size, tok, 9, 4) == EM_ERR_UNSUPPORTED);     /* tokenizer kind */
  CHECK(patched(bytes, size, tok + 8, 1u << 30, 4) == EM_ERR_DIMS); /* BOS outside */
  /* tensor 0: name, format, ndim, shape, offsets */
  CHECK(patched(bytes, size, table, 0, 4) == EM_ERR_DIMS);                /* empty name */
  CHECK(patched(bytes, size, table + 44, 0x41414141u, 4) == EM_ERR_DIMS); /* no NUL */
  CHECK(patched(bytes, size, table + 48, 5, 4) == EM_ERR_DIMS);           /* format */
  CHECK(patched(bytes, size, table + 56, 0, 4) == EM_ERR_DIMS);           /* ndim */
  CHECK(patched(bytes, size, table + 56, 5, 4) == EM_ERR_DIMS);
  CHECK(patched(bytes, size, table + 64, 0, 8) == EM_ERR_DIMS); /* zero extent */
  CHECK(patched(bytes, size, table + 64, ((uint64_t)1 << 48) + 1, 8) == EM_ERR_OVERFLOW);
  CHECK(patched(bytes, size, table + 96, data + 4, 8) == EM_ERR_ALIGN);
  CHECK(patched(bytes, size, table + 96, data + data_len, 8) == EM_ERR_TRUNCATED);
  CHECK(patched(bytes, size, table + 96, UINT64_MAX - 63, 8) == EM_ERR_TRUNCATED); /* wraps */
  CHECK(patched(bytes, size, table + 96 + MC_ENTRY_SIZE, data, 8) == EM_ERR_DIMS); /* overlap */
  CHECK(patched(bytes, size, table + MC_ENTRY_SIZE, get_u32(bytes, table), 4) == EM_ERR_DIMS);
  /* impossible dimensions: the engine refuses them */
  if (arch == MC_ARCH_LLAMA) {
    CHECK(patched(bytes, size, 136 + 12, 0, 4) == EM_ERR_DIMS);           /* n_heads */
    CHECK(patched(bytes, size, 136 + 16, 3, 4) == EM_ERR_DIMS);           /* n_kv_heads */
    CHECK(patched(bytes, size, 136, 1u << 31, 4) == EM_ERR_DIMS);         /* dim */
    CHECK(patched(bytes, size, 136 + 24, 0x7fffffff, 4) == EM_ERR_NOMEM); /* seq_len */
    CHECK(patched(bytes, size, 136 + 40, 3, 4) == EM_ERR_UNSUPPORTED);    /* rope layout */
  } else {
    CHECK(patched(bytes, size, 136 + 8, 5, 4) == EM_ERR_DIMS);            /* n_head */
    CHECK(patched(bytes, size, 136 + 4, 65, 4) == EM_ERR_DIMS);           /* n_layer */
    CHECK(patched(bytes, size, 136 + 20, 64, 4) == EM_ERR_DIMS);          /* padded < vocab */
    CHECK(patched(bytes, size, 136 + 80, 'X', 4) == EM_ERR_DIMS);         /* window pattern */
    CHECK(patched(bytes, size, 136 + 72, 1ull << 63, 8) == EM_ERR_DIMS);  /* ve layer */
    CHECK(patched(bytes, size, 136 + 32, 0xFFC00000u, 4) == EM_ERR_DIMS); /* softcap NaN */
  }
  free(copy);
}

int main(int argc, char **argv) {
  size_t biggest = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    size_t size;
    void *bytes = read_file(argv[i], &size);
    if (bytes && size > biggest) biggest = size;
    free(bytes);
  }
  g_arena_mem = malloc(kArenaSize);
  if (guard_init(&g_guard, biggest + 64) != 0 || !g_arena_mem) return 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    size_t size;
    uint8_t *bytes = read_file(argv[i], &size);
    CHECKF(bytes != NULL, "cannot read %s", argv[i]);
    if (!bytes) continue;
    if (strcmp(argv[i + 1], "llama-raw") == 0)
      test_raw(bytes, size);
    else
      test_container(argv[i], bytes, size, argv[i + 1]);
    printf("%s: checked\n", argv[i]);
    free(bytes);
  }
  return finish();
}
