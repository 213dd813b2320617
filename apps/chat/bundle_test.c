/* RAM bundle header: a valid bundle, then each way one can be wrong. The Python writer
 * (python/metalchat/sdcard.py) is checked against this reader by tests/chat. */
#include "bundle.h"

#include <stdint.h>

#include "common/check.h"
#include "common/crc32.h"

static _Alignas(64) uint8_t buf[1024];

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* A bundle: model 200 bytes at 128, tokenizer 100 bytes at 384, template alpaca. */
static void make(void) {
  memset(buf, 0, sizeof buf);
  put32(buf, BUNDLE_MAGIC);
  put32(buf + 4, 1);
  put32(buf + 8, BUNDLE_HEADER_SIZE);
  put32(buf + 12, EM_TEMPLATE_ALPACA);
  put64(buf + 16, 128);
  put64(buf + 24, 200);
  put64(buf + 32, 384);
  put64(buf + 40, 100);
  for (int i = 0; i < 200; i++) buf[128 + i] = (uint8_t)i;
  for (int i = 0; i < 100; i++) buf[384 + i] = (uint8_t)(255 - i);
  put32(buf + 48, crc32_update(crc32_update(0, buf + 128, 200), buf + 384, 100));
  memcpy(buf + 56, "tiny", 4);
}

static void seal(void) {
  put32(buf + 52, 0);
  put32(buf + 52, crc32_update(0, buf, BUNDLE_HEADER_SIZE));
}

static bundle_status parse(size_t room, const char **why) {
  bundle_view v;
  return bundle_parse(buf, room, &v, why);
}

int main(void) {
  const char *why;
  bundle_view v;
  make();
  seal();
  CHECK(bundle_parse(buf, sizeof buf, &v, &why) == BUNDLE_OK);
  CHECK(v.model == buf + 128 && v.model_size == 200);
  CHECK(v.tokenizer == buf + 384 && v.tokenizer_size == 100);
  CHECK(v.total_size == 484);
  CHECK(v.template == EM_TEMPLATE_ALPACA);
  CHECK(strcmp(v.name, "tiny") == 0);

  CHECK(parse(484, &why) == BUNDLE_OK);
  CHECK(parse(483, &why) == BUNDLE_BAD); /* payload past the RAM */
  CHECK(parse(64, &why) == BUNDLE_ABSENT);

  memset(buf, 0, 4);
  CHECK(parse(sizeof buf, &why) == BUNDLE_ABSENT);

  make();
  put32(buf + 4, 2);
  seal();
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "version"));

  make();
  seal();
  buf[60] ^= 1; /* header changed after sealing */
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "header CRC"));

  make();
  seal();
  buf[300] ^= 1; /* payload damaged */
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "payload CRC"));

  make();
  put64(buf + 16, 130); /* misaligned model */
  seal();
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "misaligned"));

  make();
  put64(buf + 40, UINT64_MAX - 100); /* size that would overflow */
  seal();
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD);

  make();
  put32(buf + 12, 9);
  seal();
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "template"));

  /* A container carries its tokenizer: no tokenizer, and the copy-to-RAM placement flag. */
  make();
  put64(buf + 32, 128);
  put64(buf + 40, 0);
  put32(buf + 48, crc32_update(0, buf + 128, 200));
  buf[120] = BUNDLE_COPY_TO_RAM;
  seal();
  CHECK(bundle_parse(buf, sizeof buf, &v, &why) == BUNDLE_OK);
  CHECK(v.tokenizer == NULL && v.tokenizer_size == 0 && v.copy_to_ram);
  CHECK(v.total_size == 328 && bundle_next(&v) == 384);
  buf[120] = 0x80; /* a flag this build does not know */
  seal();
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "placement"));
  make();
  put64(buf + 24, 0);
  seal();
  CHECK(parse(sizeof buf, &why) == BUNDLE_BAD && strstr(why, "empty model"));
  return finish();
}
