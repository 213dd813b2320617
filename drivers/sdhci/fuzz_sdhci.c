/* Fuzz target: the SDHCI driver against a fake controller and card whose register reads come
 * from the input. The fake behaves like a well-behaved controller with an SD card in it; each
 * register read takes one control byte of the input: below 0x80 the read is well-behaved,
 * 0x80-0xbf flips one bit of it, 0xc0-0xff returns the next four input bytes instead. An
 * input that has run out reads well-behaved. Header (8 bytes): card flags (bit 0 answers CMD8
 * (SD 2.0), bit 1 high capacity, bit 2 offers a 4-bit bus, bit 3 CSD 1.0), the LBA of a read
 * (u32), its block count - 1 (4 bits) and the buffer's misalignment (2 bits).
 * The driver must end every call with a block status, time out instead of hanging (the fake
 * clock advances 50 us per look; over 20 million register reads is a hang), and never write
 * past the buffer. Returns 1 when the card came up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/sdhci.h"
#include "sdhci_registers.h"

enum {
  CARD_V2 = 1,
  CARD_HIGH_CAPACITY = 2,
  CARD_4BIT = 4,
  CARD_CSD1 = 8,
  HEADER = 8,
  HANG_READS = 20000000,
};

static const uint8_t *in;
static size_t in_left;
static uint8_t card;
static uint32_t regs[64], resp[4], pending, words_read, blocks_left, block_words, data_word;
static int app; /* the last command was CMD55 */
static uint64_t clock_us;
static long reads;

static uint8_t take(void) {
  if (in_left == 0) return 0;
  in_left--;
  return *in++;
}

static uint64_t fake_now_us(void) { return clock_us += 50; }

/* Sets bits [start, start + len) of a 128-bit card register in the R2 layout (bit n of the
 * response is bit n + 8 of the register). */
static void r2_set(unsigned start, unsigned len, uint32_t value) {
  for (unsigned i = 0; i < len; i++) {
    unsigned bit = start + i - 8;
    if ((value >> i) & 1) resp[bit / 32] |= 1u << (bit % 32);
  }
}

static void card_command(uint32_t index, uint32_t flags) {
  int was_app = app;
  app = 0;
  memset(resp, 0, sizeof resp);
  pending |= IRQ_CMD_DONE;
  switch (index) {
    case 8:
      if (card & CARD_V2) {
        resp[0] = 0x1aa;
      } else {
        pending = IRQ_ERROR | IRQ_ERR_CMD_TIMEOUT;
      }
      break;
    case 55:
      app = 1;
      resp[0] = 0x120;
      break;
    case 41:
      resp[0] = 0x80ff8000u | (was_app && (card & CARD_HIGH_CAPACITY) ? 1u << 30 : 0);
      break;
    case 2:
      resp[0] = 0x12345678u;
      resp[3] = 0x00035344u;
      break;
    case 3:
      resp[0] = 0xb3680000u;
      break;
    case 9:
      if (card & CARD_CSD1) {
        r2_set(62, 12, 1023); /* C_SIZE */
        r2_set(47, 3, 7);     /* C_SIZE_MULT */
        r2_set(80, 4, 9);     /* READ_BL_LEN */
      } else {
        r2_set(126, 2, 1);
        r2_set(48, 22, 127); /* 64 MiB */
      }
      break;
    default:
      resp[0] = 0x900;
  }
  if ((flags & 3) == RESP_48_BUSY) pending |= IRQ_XFER_DONE; /* busy ends at once */
  if (flags & DATA_PRESENT) {                                /* count blocks of size bytes */
    blocks_left = regs[REG_BLOCK / 4] >> 16;
    block_words = (regs[REG_BLOCK / 4] & 0xfff) / 4;
    words_read = 0;
    data_word = index == 51 ? ((card & CARD_4BIT) ? 0x00000502u : 0x00000102u) : 0x5a5a0000u;
    if (blocks_left == 0 || block_words == 0) pending |= IRQ_XFER_DONE;
  }
}

static uint32_t well_behaved(unsigned off) {
  switch (off) {
    case REG_CLOCK:
      return (regs[off / 4] & ~(uint32_t)(RESET_ALL | RESET_CMD | RESET_DAT)) |
             CLOCK_INTERNAL_STABLE;
    case REG_PRESENT:
      return 0;
    case REG_IRQ: {
      uint32_t irq = pending;
      if (blocks_left > 0) irq |= IRQ_READ_READY;
      return irq;
    }
    case REG_RESP0:
    case REG_RESP0 + 4:
    case REG_RESP0 + 8:
    case REG_RESP0 + 12:
      return resp[(off - REG_RESP0) / 4];
    case REG_DATA: {
      uint32_t v = data_word++;
      if (blocks_left > 0 && ++words_read == block_words) {
        words_read = 0;
        if (--blocks_left == 0) pending |= IRQ_XFER_DONE;
      }
      return v;
    }
    case REG_CAPS:
      return 52u << 8;
    case REG_VERSION:
      return 2u << 16;
    default:
      return off / 4 < 64 ? regs[off / 4] : 0;
  }
}

uint32_t sdhci_fake_read(uintptr_t base, unsigned off) {
  (void)base;
  if (++reads > HANG_READS) abort(); /* a wait that never times out */
  uint32_t v = well_behaved(off);
  uint8_t c = take();
  if (c >= 0xc0) {
    v = take();
    v |= (uint32_t)take() << 8;
    v |= (uint32_t)take() << 16;
    v |= (uint32_t)take() << 24;
  } else if (c >= 0x80) {
    v ^= 1u << (c & 31);
  }
  return v;
}

void sdhci_fake_write(uintptr_t base, unsigned off, uint32_t v) {
  (void)base;
  if (off / 4 >= 64) abort(); /* no register there */
  if (off == REG_IRQ) {
    pending &= ~v;
    if (v & IRQ_READ_READY) pending &= ~IRQ_READ_READY;
    return;
  }
  regs[off / 4] = v;
  if (off == REG_COMMAND) card_command(v >> 24, (v >> 16) & 0xff);
}

static int valid_status(int st) { return st >= BLOCK_OK && st <= BLOCK_ERR_UNSUPPORTED; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < HEADER) return 0;
  card = data[0];
  uint32_t lba =
      data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
  uint32_t count = (data[5] & 15) + 1, misalign = data[6] & 3;
  in = data + HEADER;
  in_left = size - HEADER;
  memset(regs, 0, sizeof regs);
  pending = blocks_left = words_read = 0;
  app = 0;
  reads = 0;
  clock_us = 1000000;

  static sdhci sd;
  memset(&sd, 0xa5, sizeof sd);
  static uint32_t fake_base[64];
  sdhci_config config = {(uintptr_t)fake_base, 0, fake_now_us, 0, 0};
  int st = sdhci_init(&sd, &config);
  if (!valid_status(st)) abort();
  if (st != BLOCK_OK) {
    if (!sd.failed_step) abort(); /* every failure names its step */
    if (sdhci_read(&sd, 0, 1, regs) != BLOCK_ERR_INVALID) abort(); /* not brought up */
    return 0;
  }
  if (sd.rca == 0 || sd.dev.ctx != &sd) abort();
  uint8_t *raw = malloc(count * BLOCK_SIZE + misalign);
  if (!raw) return 1;
  /* the exact buffer (ASan sees a write past it), 0-3 bytes off alignment */
  st = sdhci_read(&sd, sd.blocks ? lba % sd.blocks : lba, count, raw + misalign);
  if (!valid_status(st)) abort();
  st = sdhci_read(&sd, sd.blocks, 1, raw + misalign); /* past the end */
  if (st != BLOCK_ERR_RANGE) abort();
  free(raw);
  return 1;
}
