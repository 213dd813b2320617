// Register layout and sequences from the SD Association's "SD Host Controller Simplified
// Specification" (v3.00) and "Physical Layer Simplified Specification" (v3.01+): command
// numbers, response formats, OCR/CSD/SCR fields.
#include "drivers/sdhci.h"

#include "sdhci_registers.h"

enum {
  CMD_TIMEOUT_US = 100000,
  DATA_TIMEOUT_US = 500000,
  RESET_TIMEOUT_US = 100000,
  ACMD41_TIMEOUT_US = 1000000,  // the card has up to 1 s to power up
  IDENT_CLOCK_HZ = 400000,
  DEFAULT_CLOCK_HZ = 25000000,
  MAX_BLOCKS_PER_COMMAND = 65535,  // 16-bit block count
};

#define OCR_BUSY_DONE (1u << 31)
#define OCR_CCS (1u << 30)
#define OCR_VOLTAGES 0x00ff8000u  // 2.7-3.6 V
#define OCR_HCS (1u << 30)

#ifdef SDHCI_FAKE_REGISTERS
// Host fuzzing (fuzz_sdhci.c): a fake controller answers every register access.
uint32_t sdhci_fake_read(uintptr_t base, unsigned off);
void sdhci_fake_write(uintptr_t base, unsigned off, uint32_t v);
static inline uint32_t rd(const sdhci *sd, unsigned off) { return sdhci_fake_read(sd->base, off); }
static inline void wr(const sdhci *sd, unsigned off, uint32_t v) {
  sdhci_fake_write(sd->base, off, v);
}
#else
static inline uint32_t rd(const sdhci *sd, unsigned off) {
  return *(volatile uint32_t *)(sd->base + off);
}
static inline void wr(const sdhci *sd, unsigned off, uint32_t v) {
  *(volatile uint32_t *)(sd->base + off) = v;
}
#endif

static void delay_us(const sdhci *sd, uint32_t us) {
  uint64_t end = sd->now_us() + us;
  while (sd->now_us() < end) {
  }
}

// Waits until (reg & mask) == want; 0 on success, -1 on timeout.
static int wait_reg(const sdhci *sd, unsigned reg, uint32_t mask, uint32_t want, uint32_t us) {
  uint64_t deadline = sd->now_us() + us;
  for (;;) {
    if ((rd(sd, reg) & mask) == want) return 0;
    if (sd->now_us() > deadline) return (rd(sd, reg) & mask) == want ? 0 : -1;
  }
}

static int fail(sdhci *sd, const char *step, uint32_t irq, int status) {
  sd->failed_step = step;
  sd->failed_irq = irq;
  return status;
}

// Resets the command and/or data state machines after an error.
static void reset_lines(sdhci *sd, uint32_t which) {
  wr(sd, REG_CLOCK, (rd(sd, REG_CLOCK) & 0x00ffffffu) | which);
  wait_reg(sd, REG_CLOCK, which, 0, RESET_TIMEOUT_US);
  wr(sd, REG_IRQ, 0xffffffffu);
}

// Waits for any of `bits` or an error interrupt; returns the status seen, or 0 on timeout.
static uint32_t wait_irq(const sdhci *sd, uint32_t bits, uint32_t us) {
  uint64_t deadline = sd->now_us() + us;
  for (;;) {
    uint32_t irq = rd(sd, REG_IRQ);
    if (irq & (bits | IRQ_ERROR)) return irq;
    if (sd->now_us() > deadline) {
      irq = rd(sd, REG_IRQ);
      return irq & (bits | IRQ_ERROR) ? irq : 0;
    }
  }
}

// Issues a command and waits for its response (and the busy end for R1b). mode is the
// transfer mode for data commands (0 otherwise). resp gets RESP0..3.
static int command(sdhci *sd, const char *name, uint32_t index, uint32_t flags, uint32_t arg,
                   uint32_t mode, uint32_t resp[4]) {
  uint32_t inhibit = PRESENT_CMD_INHIBIT;
  if ((flags & DATA_PRESENT) || (flags & 3) == RESP_48_BUSY) inhibit |= PRESENT_DAT_INHIBIT;
  if (wait_reg(sd, REG_PRESENT, inhibit, 0, CMD_TIMEOUT_US) != 0) {
    reset_lines(sd, RESET_CMD | RESET_DAT);
    return fail(sd, name, rd(sd, REG_PRESENT), BLOCK_ERR_TIMEOUT);
  }
  wr(sd, REG_IRQ, 0xffffffffu);
  wr(sd, REG_ARG, arg);
  wr(sd, REG_COMMAND, (index << 8 | flags) << 16 | mode);
  uint32_t irq = wait_irq(sd, IRQ_CMD_DONE, CMD_TIMEOUT_US);
  if (irq == 0 || (irq & IRQ_ERROR)) {
    reset_lines(sd, RESET_CMD | RESET_DAT);
    int timed_out = irq == 0 || (irq & IRQ_ERR_CMD_TIMEOUT);
    return fail(sd, name, irq, timed_out ? BLOCK_ERR_TIMEOUT : BLOCK_ERR_IO);
  }
  wr(sd, REG_IRQ, IRQ_CMD_DONE);
  if (resp != 0) {
    for (int i = 0; i < 4; i++) resp[i] = rd(sd, REG_RESP0 + 4 * (unsigned)i);
  }
  if ((flags & 3) == RESP_48_BUSY) {  // the card holds DAT0 low while busy
    irq = wait_irq(sd, IRQ_XFER_DONE, DATA_TIMEOUT_US);
    if (irq == 0 || (irq & IRQ_ERROR)) {
      reset_lines(sd, RESET_CMD | RESET_DAT);
      return fail(sd, name, irq, irq == 0 ? BLOCK_ERR_TIMEOUT : BLOCK_ERR_IO);
    }
    wr(sd, REG_IRQ, IRQ_XFER_DONE);
  }
  return BLOCK_OK;
}

static int app_command(sdhci *sd, const char *name, uint32_t index, uint32_t flags, uint32_t arg,
                       uint32_t mode, uint32_t resp[4]) {
  int st = command(sd, "CMD55", 55, R1, sd->rca << 16, 0, 0);
  if (st != BLOCK_OK) return st;
  return command(sd, name, index, flags, arg, mode, resp);
}

// Reads `count` blocks of `size` bytes from the data port after a data command was issued.
static int read_data(sdhci *sd, const char *name, uint8_t *buf, uint32_t count, uint32_t size) {
  for (uint32_t b = 0; b < count; b++) {
    uint32_t irq = wait_irq(sd, IRQ_READ_READY, DATA_TIMEOUT_US);
    if (irq == 0 || (irq & IRQ_ERROR)) {
      reset_lines(sd, RESET_CMD | RESET_DAT);
      int timed_out = irq == 0 || (irq & IRQ_ERR_DATA_TIMEOUT);
      return fail(sd, name, irq, timed_out ? BLOCK_ERR_TIMEOUT : BLOCK_ERR_IO);
    }
    wr(sd, REG_IRQ, IRQ_READ_READY);
    if (((uintptr_t)buf & 3) == 0) {
      uint32_t *w = (uint32_t *)(void *)buf;
      for (uint32_t i = 0; i < size / 4; i++) w[i] = rd(sd, REG_DATA);
    } else {
      for (uint32_t i = 0; i < size / 4; i++) {
        uint32_t v = rd(sd, REG_DATA);
        buf[4 * i] = (uint8_t)v;
        buf[4 * i + 1] = (uint8_t)(v >> 8);
        buf[4 * i + 2] = (uint8_t)(v >> 16);
        buf[4 * i + 3] = (uint8_t)(v >> 24);
      }
    }
    buf += size;
  }
  uint32_t irq = wait_irq(sd, IRQ_XFER_DONE, DATA_TIMEOUT_US);
  if (irq == 0 || (irq & IRQ_ERROR)) {
    reset_lines(sd, RESET_CMD | RESET_DAT);
    return fail(sd, name, irq, irq == 0 ? BLOCK_ERR_TIMEOUT : BLOCK_ERR_IO);
  }
  wr(sd, REG_IRQ, IRQ_XFER_DONE);
  return BLOCK_OK;
}

// Programs the SD clock to at most hz; returns the frequency set, or 0 on timeout.
static uint32_t set_clock(sdhci *sd, uint32_t hz) {
  uint32_t base = sd->base_clock_hz;
  uint32_t divisor;  // SD clock = base / (2 * divisor), or base when 0
  if (base <= hz) {
    divisor = 0;
  } else if (sd->version >= 2) {  // 3.0: 10-bit divided clock mode
    divisor = (base + 2 * hz - 1) / (2 * hz);
    if (divisor > 0x3ff) divisor = 0x3ff;
  } else {  // 1.0/2.0: 8-bit, a power of two
    divisor = 1;
    while (divisor < 0x80 && base / (2 * divisor) > hz) divisor <<= 1;
  }
  uint32_t field = (divisor & 0xff) << 8 | ((divisor >> 8) & 3) << 6;
  wr(sd, REG_CLOCK, TIMEOUT_MAX);  // SD clock off while the divisor changes
  wr(sd, REG_CLOCK, TIMEOUT_MAX | field | CLOCK_INTERNAL_EN);
  if (wait_reg(sd, REG_CLOCK, CLOCK_INTERNAL_STABLE, CLOCK_INTERNAL_STABLE, RESET_TIMEOUT_US)) {
    return 0;
  }
  wr(sd, REG_CLOCK, TIMEOUT_MAX | field | CLOCK_INTERNAL_EN | CLOCK_SD_EN);
  delay_us(sd, 100);  // a few clocks before the first command
  return divisor == 0 ? base : base / (2 * divisor);
}

// Bits [start + len - 1 : start] of a 128-bit register as the card sends it (CSD, CID),
// from an R2 response in which the controller drops the CRC byte (resp bit n = card bit n+8).
static uint32_t r2_bits(const uint32_t resp[4], unsigned start, unsigned len) {
  uint32_t v = 0;
  for (unsigned i = 0; i < len; i++) {
    unsigned bit = start + i - 8;
    v |= ((resp[bit / 32] >> (bit % 32)) & 1u) << i;
  }
  return v;
}

static uint64_t csd_blocks(const uint32_t csd[4]) {
  if (r2_bits(csd, 126, 2) == 1) {  // CSD 2.0 (SDHC/SDXC): C_SIZE in 512 KB units
    return ((uint64_t)r2_bits(csd, 48, 22) + 1) * 1024;
  }
  uint64_t c_size = r2_bits(csd, 62, 12);  // CSD 1.0 (SDSC)
  uint32_t mult = r2_bits(csd, 47, 3);
  uint32_t read_bl_len = r2_bits(csd, 80, 4);
  return ((c_size + 1) << (mult + 2) << read_bl_len) / BLOCK_SIZE;
}

// A multi-block read's data through the board's DMA engine: it empties the data port while
// the controller fills it, then the transfer-complete interrupt as for PIO. 1 when the engine
// would not start (the caller reads by PIO instead), else a block_status.
static int read_data_dma(sdhci *sd, const char *name, uint8_t *buf, uint32_t count) {
  const sdhci_dma *dma = sd->dma;
  if (dma->start(dma->ctx, sd->base + REG_DATA, buf, count * BLOCK_SIZE) != 0) return 1;
  int failed = dma->finish(dma->ctx);
  uint32_t irq = wait_irq(sd, IRQ_XFER_DONE, DATA_TIMEOUT_US);
  if (failed || irq == 0 || (irq & IRQ_ERROR)) {
    reset_lines(sd, RESET_CMD | RESET_DAT);
    return fail(sd, name, irq, irq == 0 ? BLOCK_ERR_TIMEOUT : BLOCK_ERR_IO);
  }
  wr(sd, REG_IRQ, IRQ_XFER_DONE | IRQ_READ_READY);
  return BLOCK_OK;
}

static int block_read_fn(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  return sdhci_read((sdhci *)dev->ctx, lba, count, buf);
}

int sdhci_read(sdhci *sd, uint64_t lba, uint32_t count, void *buf) {
  // Only a card sdhci_init brought up all the way (a failed init leaves dev.ctx 0).
  if (sd == 0 || buf == 0 || count == 0 || count > MAX_BLOCKS_PER_COMMAND || sd->dev.ctx != sd) {
    return BLOCK_ERR_INVALID;
  }
  if (lba > sd->blocks || count > sd->blocks - lba) return BLOCK_ERR_RANGE;
  uint64_t address = sd->high_capacity ? lba : lba * BLOCK_SIZE;
  if (address > UINT32_MAX) return BLOCK_ERR_RANGE;
  wr(sd, REG_BLOCK, count << 16 | BLOCK_SIZE);
  uint32_t mode = MODE_READ | MODE_BLOCK_COUNT;
  int st;
  if (count == 1) {
    st = command(sd, "CMD17", 17, R1 | DATA_PRESENT, (uint32_t)address, mode, 0);
    if (st == BLOCK_OK) st = read_data(sd, "CMD17 data", buf, 1, BLOCK_SIZE);
  } else {
    mode |= MODE_MULTI | MODE_AUTO_CMD12;  // the controller sends CMD12 after the last block
    st = command(sd, "CMD18", 18, R1 | DATA_PRESENT, (uint32_t)address, mode, 0);
    int by_dma = 1;  // 1: not (yet) read
    if (st == BLOCK_OK && sd->dma && ((uintptr_t)buf & (sd->dma->align - 1)) == 0) {
      by_dma = read_data_dma(sd, "CMD18 DMA", buf, count);
      if (by_dma == BLOCK_OK) sd->dma_blocks += count;
      if (by_dma != 1) st = by_dma;
    }
    if (st == BLOCK_OK && by_dma == 1) {
      st = read_data(sd, "CMD18 data", buf, count, BLOCK_SIZE);
      if (st == BLOCK_OK) sd->pio_blocks += count;
    }
    if (st != BLOCK_OK) command(sd, "CMD12", 12, R1B, 0, 0, 0);  // stop a half-done transfer
  }
  if (count == 1 && st == BLOCK_OK) sd->pio_blocks++;
  return st;
}

void sdhci_set_dma(sdhci *sd, const sdhci_dma *dma) {
  sd->dma =
      dma && dma->start && dma->finish && dma->align && !(dma->align & (dma->align - 1)) ? dma : 0;
}

int sdhci_init(sdhci *sd, const sdhci_config *config) {
  if (sd == 0 || config == 0 || config->now_us == 0 || config->base == 0) {
    return BLOCK_ERR_INVALID;
  }
  sd->dev.read = 0;  // set when the card is up
  sd->dev.ctx = 0;
  sd->base = config->base;
  sd->now_us = config->now_us;
  sdhci_set_dma(sd, config->dma);
  sd->dma_blocks = 0;
  sd->pio_blocks = 0;
  sd->failed_step = 0;
  sd->failed_irq = 0;
  sd->rca = 0;
  sd->blocks = 0;
  sd->bus_width = 1;
  sd->high_capacity = 0;
  sd->clock_hz = 0;

  // Reset the whole controller.
  wr(sd, REG_CLOCK, RESET_ALL);
  if (wait_reg(sd, REG_CLOCK, RESET_ALL, 0, RESET_TIMEOUT_US) != 0) {
    return fail(sd, "reset", rd(sd, REG_CLOCK), BLOCK_ERR_TIMEOUT);
  }
  sd->version = (rd(sd, REG_VERSION) >> 16) & 0xff;
  sd->capabilities = rd(sd, REG_CAPS);
  uint32_t caps_mhz = (sd->capabilities >> 8) & (sd->version >= 2 ? 0xff : 0x3f);
  sd->base_clock_hz = config->base_clock_hz ? config->base_clock_hz : caps_mhz * 1000000u;
  if (sd->base_clock_hz == 0) return fail(sd, "base clock", sd->capabilities, BLOCK_ERR_INVALID);

  wr(sd, REG_HOST, POWER_ON_3V3);  // 1-bit bus, 3.3 V on
  wr(sd, REG_IRQ_ENABLE, IRQ_ALL_ERRORS | 0xffffu);
  wr(sd, REG_IRQ_SIGNAL, 0);
  wr(sd, REG_IRQ, 0xffffffffu);
  if (set_clock(sd, IDENT_CLOCK_HZ) == 0) {
    return fail(sd, "clock", rd(sd, REG_CLOCK), BLOCK_ERR_TIMEOUT);
  }
  // The card-detect bit is not relied on (unverified on the Pi 4 slot): a card that answers
  // neither CMD8 nor CMD55 below is reported as missing instead.

  uint32_t r[4];
  int st = command(sd, "CMD0", 0, RESP_NONE, 0, 0, 0);
  if (st != BLOCK_OK) return st;
  delay_us(sd, 1000);
  int v2 = 0;
  st = command(sd, "CMD8", 8, R7, 0x1aa, 0, r);
  if (st == BLOCK_OK) {
    if ((r[0] & 0xfff) != 0x1aa) return fail(sd, "CMD8 echo", r[0], BLOCK_ERR_UNSUPPORTED);
    v2 = 1;
  } else if (st != BLOCK_ERR_TIMEOUT) {
    return st;
  }  // no answer: an SD 1.x card, or no card at all

  uint64_t deadline = sd->now_us() + ACMD41_TIMEOUT_US;
  for (int attempt = 0;; attempt++) {
    st = app_command(sd, "ACMD41", 41, R3, (v2 ? OCR_HCS : 0) | OCR_VOLTAGES, 0, r);
    if (st != BLOCK_OK) {
      if (attempt == 0 && st == BLOCK_ERR_TIMEOUT && !v2) {
        return fail(sd, "CMD8/CMD55 (neither answered)", sd->failed_irq, BLOCK_ERR_NO_MEDIUM);
      }
      return st;
    }
    if (r[0] & OCR_BUSY_DONE) break;
    if (sd->now_us() > deadline) return fail(sd, "ACMD41 power-up", r[0], BLOCK_ERR_TIMEOUT);
    delay_us(sd, 10000);
  }
  sd->ocr = r[0];
  sd->high_capacity = v2 && (r[0] & OCR_CCS) != 0;

  st = command(sd, "CMD2", 2, R2, 0, 0, sd->cid);
  if (st != BLOCK_OK) return st;
  st = command(sd, "CMD3", 3, R6, 0, 0, r);
  if (st != BLOCK_OK) return st;
  sd->rca = r[0] >> 16;
  if (sd->rca == 0) return fail(sd, "CMD3 rca 0", r[0], BLOCK_ERR_IO);

  uint32_t max_hz = config->max_clock_hz ? config->max_clock_hz : DEFAULT_CLOCK_HZ;
  if (max_hz > DEFAULT_CLOCK_HZ) max_hz = DEFAULT_CLOCK_HZ;  // high speed needs CMD6 first
  sd->clock_hz = set_clock(sd, max_hz);
  if (sd->clock_hz == 0) return fail(sd, "clock", rd(sd, REG_CLOCK), BLOCK_ERR_TIMEOUT);

  st = command(sd, "CMD9", 9, R2, sd->rca << 16, 0, sd->csd);
  if (st != BLOCK_OK) return st;
  sd->blocks = csd_blocks(sd->csd);
  st = command(sd, "CMD7", 7, R1B, sd->rca << 16, 0, 0);
  if (st != BLOCK_OK) return st;

  // SCR: 8 bytes, most significant first; SD_BUS_WIDTHS is bits 51:48 (bit 50: 4-bit).
  _Alignas(4) uint8_t scr[8];
  wr(sd, REG_BLOCK, 1u << 16 | sizeof scr);
  st = app_command(sd, "ACMD51", 51, R1 | DATA_PRESENT, 0, MODE_READ | MODE_BLOCK_COUNT, 0);
  if (st == BLOCK_OK) st = read_data(sd, "ACMD51 data", scr, 1, sizeof scr);
  if (st == BLOCK_OK && (scr[1] & 0x04)) {
    st = app_command(sd, "ACMD6", 6, R1, 2, 0, 0);
    if (st != BLOCK_OK) return st;
    wr(sd, REG_HOST, (rd(sd, REG_HOST) & 0xffffff00u) | HOST_4BIT);
    sd->bus_width = 4;
  }
  if (!sd->high_capacity) {
    st = command(sd, "CMD16", 16, R1, BLOCK_SIZE, 0, 0);
    if (st != BLOCK_OK) return st;
  }
  sd->failed_step = 0;
  sd->failed_irq = 0;
  sd->dev.read = block_read_fn;
  sd->dev.num_blocks = sd->blocks;
  sd->dev.max_blocks = MAX_BLOCKS_PER_COMMAND;
  sd->dev.ctx = sd;
  return BLOCK_OK;
}
