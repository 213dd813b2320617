// Deterministic fuzz driver for fat32_fuzz_target.c when libFuzzer is not at hand (zig ships
// none): mutates a seed image with a seeded xorshift RNG and runs the target on each mutant.
//   fat32_fuzz SEED_IMAGE ITERATIONS [RNG_SEED]
// Mutations favour the metadata at the start of the image (MBR, boot sector, FATs, root).
// Prints the iterations run; a crash, sanitizer abort or hang fails the test that runs it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/block.h"
#include "drivers/fat32.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SEED_IMAGE ITERATIONS [RNG_SEED]\n", argv[0]);
    return 64;
  }
  FILE *in = fopen(argv[1], "rb");
  if (in == NULL) return 64;
  fseek(in, 0, SEEK_END);
  size_t size = (size_t)ftell(in);
  fseek(in, 0, SEEK_SET);
  uint8_t *work = malloc(size);
  if (work == NULL || fread(work, 1, size, in) != size) return 64;
  fclose(in);
  long iterations = strtol(argv[2], NULL, 0);
  rng = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x5eed;
  if (rng == 0) rng = 1;
  static const uint8_t special[] = {0x00, 0xff, 0x0f, 0xf8, 0xf7, 0x0b, 0x0c,
                                    0x55, 0xaa, 0xe5, 0x40, 0x80, 0x01, 0x02};
  size_t hot = size < (1u << 20) ? size : (1u << 20);  // metadata lives here in small images
  for (long it = 0; it < iterations; it++) {
    // Mutate in place and undo afterwards: images are tens of MB, copying each time is slow.
    struct undo {
      size_t at;
      uint8_t old;
    } undo[16 * 4];
    int undone = 0;
    int mutations = 1 + (int)(next() % 16);
    for (int m = 0; m < mutations; m++) {
      size_t at = (next() % 4 != 0) ? next() % hot : next() % size;
      uint64_t r = next();
      for (int i = 0; i < 4 && at + i < size; i++)
        undo[undone++] = (struct undo){at + i, work[at + i]};
      switch (r % 4) {
        case 0:
          work[at] = (uint8_t)(r >> 8);
          break;
        case 1:
          work[at] = special[(r >> 8) % sizeof special];
          break;
        case 2:
          work[at] ^= (uint8_t)(1u << ((r >> 8) % 8));
          break;
        default: {  // a 32-bit little-endian value: cluster numbers, sizes, FAT entries
          uint32_t v = (r >> 8) % 3 == 0 ? (uint32_t)(r >> 16) : (uint32_t)((r >> 16) % 4096);
          for (int i = 0; i < 4 && at + i < size; i++) work[at + i] = (uint8_t)(v >> (8 * i));
        }
      }
    }
    size_t len = size;
    if (next() % 16 == 0) len = next() % size;  // truncated image
    LLVMFuzzerTestOneInput(work, len);
    while (undone > 0) {
      undone--;
      work[undo[undone].at] = undo[undone].old;
    }
  }
  // The seed itself must mount.
  block_device dev;
  block_ram_init(&dev, work, size);
  static fat_volume vol;
  fat_status st = fat_mount(&vol, &dev);
  printf("%ld iterations; seed mounts: %s\n", iterations, fat_status_name(st));
  return st != FAT_OK;
}
