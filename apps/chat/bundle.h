// The RAM bundle: one model + tokenizer that the boot loader puts in RAM before the image
// starts (Pi firmware: config.txt `initramfs FILE ADDR`; QEMU: -device loader,file=F,addr=A,
// force-raw=on), or one of the bundles linked into flash (images/model_region.bzl: the board's
// model region holds bundles one after another, each starting 64-byte aligned after the
// previous one's payload). A region with one bundle skips the menu. Written by tools/sdcard
// (python/metalchat/sdcard.py: bundle_bytes). Little-endian, 128-byte header:
//
//   0   u8[4]  magic "MCRB"
//   4   u32    version 1
//   8   u32    header size, 128
//   12  u32    template (template.h: 0 plain, 1 alpaca)
//   16  u64    model offset from the start of the bundle (a multiple of 64)
//   24  u64    model size
//   32  u64    tokenizer offset (a multiple of 64)
//   40  u64    tokenizer size (0: the model file is a container that carries its tokenizer)
//   48  u32    CRC-32 (zlib) of the model bytes followed by the tokenizer bytes
//   52  u32    CRC-32 of the 128 header bytes with this field zero
//   56  u8[64] model name, UTF-8, NUL-padded (at most 63 bytes)
//   120 u8     placement flags: bit 0 = copy the model to RAM before loading it (the build's
//              planner found room: RAM is faster than the flash it lies in); other bits zero
//   121 u8[7]  zero
#ifndef APPS_CHAT_BUNDLE_H_
#define APPS_CHAT_BUNDLE_H_

#include <stddef.h>
#include <stdint.h>

#include "engine/session.h"

#define BUNDLE_MAGIC 0x4252434du  // "MCRB" as a little-endian u32
#define BUNDLE_HEADER_SIZE 128u
#define BUNDLE_NAME_MAX 64u
#define BUNDLE_COPY_TO_RAM 0x01u  // placement flag (byte 120)
#define BUNDLE_REGION_MAX 8       // bundles read from one model region

typedef struct bundle_view {
  const uint8_t *model;
  size_t model_size;
  const uint8_t *tokenizer;
  size_t tokenizer_size;
  size_t total_size;  // header + payload, up to the end of the later of the two
  em_template template;
  int copy_to_ram;  // the placement flag BUNDLE_COPY_TO_RAM
  char name[BUNDLE_NAME_MAX];
} bundle_view;

typedef enum bundle_status {
  BUNDLE_OK = 0,
  BUNDLE_ABSENT,  // no magic: nothing was placed there (not an error)
  BUNDLE_BAD,     // magic present, but the header or the payload is wrong: *why says what
} bundle_status;

// Checks the bundle at bytes (of which `room` bytes are readable RAM): header fields, CRCs,
// sizes within `room`.
bundle_status bundle_parse(const void *bytes, size_t room, bundle_view *out, const char **why);

// Where the next bundle of a region starts: total_size rounded up to 64 bytes.
size_t bundle_next(const bundle_view *b);

#endif  // APPS_CHAT_BUNDLE_H_
