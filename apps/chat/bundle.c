// RAM bundle header (see bundle.h).
#include "bundle.h"

#include "common/crc32.h"

static uint32_t u32_at(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64_at(const uint8_t *p) { return u32_at(p) | (uint64_t)u32_at(p + 4) << 32; }

static bundle_status bad(const char **why, const char *text) {
  *why = text;
  return BUNDLE_BAD;
}

// Checks that [offset, offset + size) lies in [header, room) and starts 64-byte aligned.
static int region_ok(uint64_t offset, uint64_t size, size_t room) {
  return offset % 64 == 0 && offset >= BUNDLE_HEADER_SIZE && offset <= room &&
         size <= room - offset;
}

bundle_status bundle_parse(const void *bytes, size_t room, bundle_view *out, const char **why) {
  const uint8_t *b = (const uint8_t *)bytes;
  *why = "ok";
  if (room < BUNDLE_HEADER_SIZE || u32_at(b) != BUNDLE_MAGIC) return BUNDLE_ABSENT;
  if (u32_at(b + 4) != 1) return bad(why, "bundle: version is not 1");
  if (u32_at(b + 8) != BUNDLE_HEADER_SIZE) return bad(why, "bundle: header size is not 128");
  uint8_t header[BUNDLE_HEADER_SIZE];
  __builtin_memcpy(header, b, sizeof header);
  __builtin_memset(header + 52, 0, 4);
  if (crc32_update(0, header, sizeof header) != u32_at(b + 52))
    return bad(why, "bundle: header CRC mismatch");
  uint32_t template_id = u32_at(b + 12);
  if (template_id > EM_TEMPLATE_ENGINE) return bad(why, "bundle: unknown template");
  uint64_t model_off = u64_at(b + 16), model_size = u64_at(b + 24);
  uint64_t tok_off = u64_at(b + 32), tok_size = u64_at(b + 40);
  if (!region_ok(model_off, model_size, room) || !region_ok(tok_off, tok_size, room))
    return bad(why, "bundle: model or tokenizer lies outside RAM or is misaligned");
  if (model_size == 0) return bad(why, "bundle: empty model");
  if (b[120] & ~BUNDLE_COPY_TO_RAM) return bad(why, "bundle: unknown placement flags");
  uint32_t crc = crc32_update(0, b + model_off, (size_t)model_size);
  crc = crc32_update(crc, b + tok_off, (size_t)tok_size);
  if (crc != u32_at(b + 48)) return bad(why, "bundle: payload CRC mismatch (truncated load?)");
  if (b[56 + BUNDLE_NAME_MAX - 1] != 0) return bad(why, "bundle: name not NUL-terminated");

  out->model = b + model_off;
  out->model_size = (size_t)model_size;
  out->tokenizer = tok_size ? b + tok_off : 0;
  out->tokenizer_size = (size_t)tok_size;
  out->copy_to_ram = (b[120] & BUNDLE_COPY_TO_RAM) != 0;
  uint64_t model_end = model_off + model_size, tok_end = tok_size ? tok_off + tok_size : 0;
  out->total_size = (size_t)(model_end > tok_end ? model_end : tok_end);
  out->template = (em_template)template_id;
  __builtin_memcpy(out->name, b + 56, BUNDLE_NAME_MAX);
  if (out->name[0] == '\0') __builtin_memcpy(out->name, "boot", 5);
  return BUNDLE_OK;
}

size_t bundle_next(const bundle_view *b) { return (b->total_size + 63) & ~(size_t)63; }
