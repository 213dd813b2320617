// Host tool over drivers/fat32, for tests: runs the library on a disk image file.
//   fat32_tool IMAGE info                 volume facts
//   fat32_tool IMAGE ls PATH              one line per entry: "d|f SIZE NAME|SHORT|flags"
//   fat32_tool IMAGE tree                 every entry below the root, with full paths
//   fat32_tool IMAGE cat PATH OUT [CHUNK [OFFSET]]
//                                         copies the file (from OFFSET, CHUNK bytes per fat_read)
//                                         to OUT; prints the bytes and the device reads it took
// Errors print "error FAT_ERR_...: message" and exit 2; usage errors exit 64.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/block.h"
#include "drivers/fat32.h"

static int (*ram_read)(block_device *, uint64_t, uint32_t, void *);
static unsigned long reads;
static unsigned long sectors_read;
static uint32_t largest_read;

static int counting_read(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  reads++;
  sectors_read += count;
  if (count > largest_read) largest_read = count;
  return ram_read(dev, lba, count, buf);
}

static int fail(fat_status st) {
  printf("error %s: %s\n", fat_status_name(st), fat_strerror(st));
  return 2;
}

static void print_entry(const char *prefix, const fat_dirent *e) {
  printf("%c %u %s%s|%s|%s\n", e->is_dir ? 'd' : 'f', e->size, prefix, e->name, e->short_name,
         e->lfn_discarded ? "lfn-discarded" : "");
}

static fat_status tree(fat_volume *vol, char *path, size_t len, int depth) {
  fat_dir dir;
  fat_status st = fat_opendir(vol, len ? path : "/", &dir);
  if (st != FAT_OK) return st;
  fat_dirent e;
  while ((st = fat_readdir(&dir, &e)) == FAT_OK) {
    path[len] = '\0';
    print_entry(path, &e);
    if (e.is_dir && depth < 16) {
      size_t n = strlen(e.name);
      if (len + 1 + n + 1 >= 4096) return FAT_ERR_BAD_PATH;
      memcpy(path + len, e.name, n);
      path[len + n] = '/';
      path[len + n + 1] = '\0';
      fat_status sub = tree(vol, path, len + n + 1, depth + 1);
      if (sub != FAT_OK) return sub;
      path[len] = '\0';
    }
  }
  return st == FAT_END ? FAT_OK : st;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s IMAGE info|ls PATH|tree|cat PATH OUT [CHUNK [OFFSET]]\n", argv[0]);
    return 64;
  }
  FILE *in = fopen(argv[1], "rb");
  if (in == NULL) {
    perror(argv[1]);
    return 64;
  }
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  fseek(in, 0, SEEK_SET);
  uint8_t *image = malloc(size > 0 ? (size_t)size : 1);
  if (image == NULL || (size > 0 && fread(image, 1, (size_t)size, in) != (size_t)size)) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 64;
  }
  fclose(in);
  block_device dev;
  block_ram_init(&dev, image, (size_t)size);
  ram_read = dev.read;
  dev.read = counting_read;

  static fat_volume vol;
  fat_status st = fat_mount(&vol, &dev);
  if (st != FAT_OK) return fail(st);
  const char *cmd = argv[2];
  if (strcmp(cmd, "info") == 0) {
    printf(
        "partition=%d volume_lba=%llu sectors=%llu clusters=%u cluster_bytes=%u root=%u "
        "label=%s\n",
        vol.partition, (unsigned long long)vol.volume_lba, (unsigned long long)vol.volume_sectors,
        vol.cluster_count, 1u << vol.cluster_shift, vol.root_cluster, vol.label);
    return 0;
  }
  if (strcmp(cmd, "ls") == 0 && argc == 4) {
    fat_dir dir;
    st = fat_opendir(&vol, argv[3], &dir);
    if (st != FAT_OK) return fail(st);
    fat_dirent e;
    while ((st = fat_readdir(&dir, &e)) == FAT_OK) print_entry("", &e);
    return st == FAT_END ? 0 : fail(st);
  }
  if (strcmp(cmd, "tree") == 0) {
    static char path[4096];
    st = tree(&vol, path, 0, 0);
    return st == FAT_OK ? 0 : fail(st);
  }
  if (strcmp(cmd, "cat") == 0 && argc >= 5) {
    size_t chunk = argc > 5 ? strtoul(argv[5], NULL, 0) : (64u << 20);
    uint32_t offset = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 0) : 0;
    if (chunk == 0) return 64;
    fat_file f;
    st = fat_open(&vol, argv[3], &f);
    if (st != FAT_OK) return fail(st);
    FILE *out = fopen(argv[4], "wb");
    uint8_t *buf = malloc(chunk);
    if (out == NULL || buf == NULL) return 64;
    fat_seek(&f, offset);
    unsigned long before = reads;
    size_t total = 0, got;
    do {
      st = fat_read(&f, buf, chunk, &got);
      if (st != FAT_OK) return fail(st);
      fwrite(buf, 1, got, out);
      total += got;
    } while (got == chunk);
    fclose(out);
    printf("size=%u read=%zu device_reads=%lu largest_read=%u\n", fat_file_size(&f), total,
           reads - before, largest_read);
    return 0;
  }
  fprintf(stderr, "unknown command %s\n", cmd);
  return 64;
}
