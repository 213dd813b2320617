// libFuzzer entry point for drivers/fat32: the input is a whole disk image on a RAM block device.
// Mounts it, walks every directory (bounded), opens and reads every file. Any crash, sanitizer
// report or hang is a bug: the library must turn every corruption into a fat_status. Returns 1
// when the image mounts (the driver counts the accepted inputs).
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  block_device dev;
  block_ram_init(&dev, data, size);
  if (fat_mount(&vol, &dev) != FAT_OK) return 0;
  int budget = 4096;  // entries and reads per input
  walk("", 0, 0, &budget);
  fat_dirent e;
  fat_stat(&vol, "/models/stories/model.bin", &e);
  return 1;  // mounted: accepted
}
