// libFuzzer entry point for drivers/fat32: the input is a disk image, whole (a RAM block device)
// or sparse: "FZSP", the disk's sector count (u32 LE), then records of a sector number (u32 LE)
// and its 512 bytes; unlisted sectors read as zeros, the last record of a sector wins. A sparse
// FAT32 volume of 34 MiB is a few kB, so libFuzzer mutates the structures, not megabytes of
// zeros. Mounts it, walks every directory (bounded), opens and reads every file. Any crash,
// sanitizer report or hang is a bug: the library must turn every corruption into a fat_status.
// Returns 1 when the image mounts (the driver counts the accepted inputs).
#include <stddef.h>
#include <stdint.h>

#include "drivers/block.h"
#include "drivers/fat32.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fat_volume vol;
static uint8_t chunk[70000];  // odd sizes below exercise partial and multi-sector reads

static void walk(const char *path, size_t len, int depth, int *budget) {
  static char paths[8][1024];
  fat_dir dir;
  if (fat_opendir(&vol, path, &dir) != FAT_OK) return;
  fat_dirent e;
  while (*budget > 0 && fat_readdir(&dir, &e) == FAT_OK) {
    (*budget)--;
    size_t n = 0;
    while (e.name[n] != '\0') n++;
    if (depth >= 8 || len + n + 2 > sizeof paths[0]) continue;
    char *child = paths[depth];
    for (size_t i = 0; i < len; i++) child[i] = path[i];
    child[len] = '/';
    for (size_t i = 0; i < n; i++) child[len + 1 + i] = e.name[i];
    child[len + 1 + n] = '\0';
    if (e.is_dir) {
      walk(child, len + 1 + n, depth + 1, budget);
    } else {
      fat_file f;
      if (fat_open(&vol, child, &f) != FAT_OK) continue;
      static const size_t sizes[] = {1, 511, 4096, 70000, 513};
      size_t got;
      for (int i = 0; *budget > 0; i++, (*budget)--) {
        if (fat_read(&f, chunk, sizes[i % 5], &got) != FAT_OK || got == 0) break;
      }
      fat_seek(&f, fat_file_size(&f) / 3);
      fat_read(&f, chunk, 1000, &got);
    }
  }
}

typedef struct sparse_disk {
  const uint8_t *records;
  size_t count;
} sparse_disk;

enum { SPARSE_HEADER = 8, SPARSE_RECORD = 4 + BLOCK_SIZE };

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int sparse_read(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  const sparse_disk *disk = (const sparse_disk *)dev->ctx;
  uint8_t *out = (uint8_t *)buf;
  for (uint32_t i = 0; i < count; i++, out += BLOCK_SIZE) {
    const uint8_t *sector = 0;
    for (size_t r = 0; r < disk->count; r++) {
      const uint8_t *record = disk->records + r * SPARSE_RECORD;
      if (le32(record) == lba + i) sector = record + 4;
    }
    for (uint32_t b = 0; b < BLOCK_SIZE; b++) out[b] = sector ? sector[b] : 0;
  }
  return BLOCK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  block_device dev;
  static sparse_disk disk;
  if (size >= SPARSE_HEADER && data[0] == 'F' && data[1] == 'Z' && data[2] == 'S' &&
      data[3] == 'P') {
    disk.records = data + SPARSE_HEADER;
    disk.count = (size - SPARSE_HEADER) / SPARSE_RECORD;
    dev.read = sparse_read;
    dev.num_blocks = le32(data + 4);
    dev.max_blocks = 0;
    dev.ctx = &disk;
  } else {
    block_ram_init(&dev, data, size);
  }
  if (fat_mount(&vol, &dev) != FAT_OK) return 0;
  int budget = 4096;  // entries and reads per input
  walk("", 0, 0, &budget);
  fat_dirent e;
  fat_stat(&vol, "/models/stories/model.bin", &e);
  return 1;  // mounted: accepted
}
