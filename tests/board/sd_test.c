// SD card test image (rpi3, rpi4): brings up the SD card over SDHCI, mounts its FAT32 volume,
// lists the root directory and prints the CRC-32 of one file read through FAT32:
//   sd: card at 0xfe300000: SDHC, 4194304 blocks, 4-bit bus, 25000000 Hz
//   ls /: d 0 models
//   file /models/stories/model.bin size=300000 crc32=1a2b3c4d reads=7 us=1234
// Exit status: 0 ok, 1 no card, 2 no FAT32 volume, 3 file missing or unreadable.
//
// Which controllers, in which order: the board's (bcm/sd_slots.h); the next one is tried only
// when a controller reports no card. Pi 4: EMMC2 (0xfe340000, the SD slot), then the BCM2835
// Arasan EMMC (0xfe300000), where QEMU 10's raspi4b routes `-drive if=sd`. Pi 3: the Arasan
// EMMC (0x3f300000), where QEMU's raspi3b routes it too.
#include "bcm/sd_slots.h"
#include "board/board.h"
#include "common/crc32.h"
#include "common/fmt.h"
#include "drivers/fat32.h"
#include "drivers/sdhci.h"

#define TEST_FILE "/models/stories/model.bin"

static uint64_t now_us(void) {
  uint64_t ticks, hz;
  __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(ticks));
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz ? ticks / (hz / 1000000u ? hz / 1000000u : 1) : ticks;
}

static sdhci card;
static fat_volume volume;
static _Alignas(16) uint8_t chunk[64 * 1024];

static unsigned long device_reads;
static int counting_read(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  device_reads++;
  return sdhci_read((sdhci *)dev->ctx, lba, count, buf);
}

static int try_controller(uintptr_t base) {
  // Real hardware: the EMMC2 base clock comes from the firmware (mailbox clock id 12); the
  // capabilities register is used here (what QEMU provides). See drivers/sdhci/README.md.
  sdhci_config config = {base, 0, now_us, 0, 0};
  int st = sdhci_init(&card, &config);
  if (st != BLOCK_OK) {
    fmt_printf(board_putc, "sd: 0x%lx: %s at %s (irq=0x%08x)\r\n", (unsigned long)base,
               block_strerror(st), card.failed_step ? card.failed_step : "?", card.failed_irq);
  }
  return st;
}

int main(void) {
  const struct bcm_sd_slot *slots;
  int n = bcm_sd_slots(&slots), st = BLOCK_ERR_NO_MEDIUM;
  uintptr_t base = 0;
  for (int i = 0; i < n && (st == BLOCK_ERR_NO_MEDIUM || st == BLOCK_ERR_TIMEOUT); i++) {
    base = slots[i].base;
    st = try_controller(base);
  }
  if (st != BLOCK_OK) {
    fmt_puts(board_putc, "sd: no card found\r\n");
    return 1;
  }
  fmt_printf(board_putc, "sd: card at 0x%lx: %s, %llu blocks, %u-bit bus, %u Hz\r\n",
             (unsigned long)base, card.high_capacity ? "SDHC" : "SDSC",
             (unsigned long long)card.blocks, card.bus_width, card.clock_hz);
  card.dev.read = counting_read;

  fat_status fs = fat_mount(&volume, &card.dev);
  if (fs != FAT_OK) {
    fmt_printf(board_putc, "fat32: %s: %s\r\n", fat_status_name(fs), fat_strerror(fs));
    return 2;
  }
  fmt_printf(board_putc, "fat32: partition %d, %u clusters of %u bytes, label \"%s\"\r\n",
             volume.partition, volume.cluster_count, 1u << volume.cluster_shift, volume.label);
  fat_dir dir;
  fat_dirent entry;
  fs = fat_opendir(&volume, "/", &dir);
  while (fs == FAT_OK && (fs = fat_readdir(&dir, &entry)) == FAT_OK) {
    fmt_printf(board_putc, "ls /: %c %u %s\r\n", entry.is_dir ? 'd' : 'f', entry.size, entry.name);
  }
  if (fs != FAT_END) {
    fmt_printf(board_putc, "fat32: listing /: %s\r\n", fat_status_name(fs));
    return 2;
  }

  fat_file file;
  fs = fat_open(&volume, TEST_FILE, &file);
  if (fs != FAT_OK) {
    fmt_printf(board_putc, "fat32: %s: %s\r\n", TEST_FILE, fat_status_name(fs));
    return 3;
  }
  uint32_t crc = 0;
  size_t got, total = 0;
  unsigned long reads_before = device_reads;
  uint64_t start = now_us();
  do {
    fs = fat_read(&file, chunk, sizeof chunk, &got);
    crc = crc32_update(crc, chunk, got);
    total += got;
  } while (fs == FAT_OK && got == sizeof chunk);
  uint64_t us = now_us() - start;
  if (fs != FAT_OK || total != fat_file_size(&file)) {
    fmt_printf(board_putc, "fat32: reading %s: %s\r\n", TEST_FILE, fat_status_name(fs));
    return 3;
  }
  fmt_printf(board_putc, "file %s size=%u crc32=%08x reads=%lu us=%llu\r\n", TEST_FILE,
             fat_file_size(&file), crc, device_reads - reads_before, (unsigned long long)us);
  return 0;
}
