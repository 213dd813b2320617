/* Fuzz target: the RAM-bundle header parser (bundle.c). The input is the RAM at the agreed
 * address (its size is the readable room). Parsed as it is (mutations mostly meet the CRCs),
 * then on a copy whose header and payload CRCs are recomputed where the header allows it, so
 * mutations reach the offset, size, template and name checks. Checked on success: model and
 * tokenizer (when there is one) lie inside the room, the total size covers both, the name is
 * NUL-terminated and not empty; on failure: a one-line reason. Returns 1 when a bundle was
 * accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "common/crc32.h"

static uint32_t get_u32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t get_u64(const uint8_t *b) { return get_u32(b) | (uint64_t)get_u32(b + 4) << 32; }
static void set_u32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static int check(const uint8_t *data, size_t size) {
  bundle_view v;
  const char *why = NULL;
  bundle_status st = bundle_parse(data, size, &v, &why);
  if (!why || !why[0] || strchr(why, '\n')) abort();
  if (st != BUNDLE_OK) return 0;
  const uint8_t *end = data + size;
  if (v.model < data + BUNDLE_HEADER_SIZE || v.model_size == 0 ||
      v.model_size > (size_t)(end - v.model))
    abort();
  /* no tokenizer (size 0) when the model is a container that carries its own */
  if (v.tokenizer_size == 0 ? v.tokenizer != NULL
                            : v.tokenizer < data + BUNDLE_HEADER_SIZE ||
                                  v.tokenizer_size > (size_t)(end - v.tokenizer))
    abort();
  if (v.total_size > size || v.total_size < (size_t)(v.model - data) + v.model_size ||
      (v.tokenizer_size && v.total_size < (size_t)(v.tokenizer - data) + v.tokenizer_size))
    abort();
  size_t name_len = 0;
  while (name_len < BUNDLE_NAME_MAX && v.name[name_len]) name_len++;
  if (name_len == 0 || name_len == BUNDLE_NAME_MAX) abort();
  if ((unsigned)v.template > EM_TEMPLATE_ENGINE) abort();
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the parser reads u32/u64 fields byte by byte: any alignment; an exact-size copy */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  int ok = check(copy, size);
  if (size >= BUNDLE_HEADER_SIZE) {
    uint64_t model_off = get_u64(copy + 16), model_size = get_u64(copy + 24);
    uint64_t tok_off = get_u64(copy + 32), tok_size = get_u64(copy + 40);
    if (model_off <= size && model_size <= size - model_off && tok_off <= size &&
        tok_size <= size - tok_off) {
      uint32_t crc = crc32_update(0, copy + model_off, (size_t)model_size);
      set_u32(copy + 48, crc32_update(crc, copy + tok_off, (size_t)tok_size));
    }
    set_u32(copy + 52, 0);
    set_u32(copy + 52, crc32_update(0, copy, BUNDLE_HEADER_SIZE));
    ok |= check(copy, size);
  }
  free(copy);
  return ok;
}
