// APS6404L QSPI PSRAM on RP2350 QMI chip select 1 (qmi_psram.h). Facts from the RP2350
// datasheet (12.14 QMI: DIRECT_CSR/TX/RX, M1_TIMING/RFMT/RCMD/WFMT/WCMD; 4.4 XIP_CTRL) and the
// APS6404L datasheet (commands, ID, tCEM 8 us, tCPH 18 ns, 1 KB pages, 6 QPI read wait cycles).
#include "drivers/qmi_psram.h"

#include <stddef.h>

// --- Register and memory access: MMIO on the board, the test's fake with QMI_PSRAM_FAKE ------
#ifdef QMI_PSRAM_FAKE
uint32_t qmi_psram_fake_read(uintptr_t address);
void qmi_psram_fake_write(uintptr_t address, uint32_t value);
#define RAMFUNC
static inline uint32_t rd(uintptr_t a) { return qmi_psram_fake_read(a); }
static inline void wr(uintptr_t a, uint32_t v) { qmi_psram_fake_write(a, v); }
#else
// Runs from SRAM (copied with .data): flash is unreachable while QMI direct mode is on.
#define RAMFUNC __attribute__((section(".data.qmi_psram_ramfunc"), noinline))
static inline __attribute__((always_inline)) uint32_t rd(uintptr_t a) {
  return *(volatile uint32_t *)a;
}
static inline __attribute__((always_inline)) void wr(uintptr_t a, uint32_t v) {
  *(volatile uint32_t *)a = v;
}
#endif

enum {
  // QMI register offsets.
  DIRECT_CSR = 0x00,
  DIRECT_TX = 0x04,
  DIRECT_RX = 0x08,
  M1_TIMING = 0x20,
  M1_RFMT = 0x24,
  M1_RCMD = 0x28,
  M1_WFMT = 0x2c,
  M1_WCMD = 0x30,
  // XIP_CTRL.
  XIP_CTRL_CTRL = 0x00,
  // APS6404L commands.
  CMD_RESET_ENABLE = 0x66,
  CMD_RESET = 0x99,
  CMD_READ_ID = 0x9f,
  CMD_ENTER_QPI = 0x35,
  CMD_EXIT_QPI = 0xf5,
  CMD_QUAD_READ = 0xeb,
  CMD_QUAD_WRITE = 0x38,
  QUAD_READ_WAIT_CYCLES = 6,
  ID_MANUFACTURER = 0x0d,
  ID_KGD_PASS = 0x5d,
  DIRECT_CLKDIV = 30,  // direct-mode SCK: clk_sys / 30 (5 MHz at 150 MHz): safe without RXDELAY
  SPINS = 100000,
};

#define CSR_EN (1u << 0)
#define CSR_BUSY (1u << 1)
#define CSR_ASSERT_CS1N (1u << 3)
#define CSR_CLKDIV_SHIFT 22
#define TX_IWIDTH_QUAD (2u << 16)
#define TX_OE (1u << 19)
#define XIP_CTRL_WRITABLE_M1 (1u << 11)
// Format fields (RFMT and WFMT share the layout): widths 0 single, 1 dual, 2 quad.
#define FMT_ALL_QUAD (2u << 0 | 2u << 2 | 2u << 4 | 2u << 6 | 2u << 8)
#define FMT_PREFIX_LEN_8 (1u << 12)
#define FMT_DUMMY_LEN_SHIFT 16  // in units of 4 bits
// Timing fields.
#define TIMING_COOLDOWN_SHIFT 30
#define TIMING_PAGEBREAK_1024 (2u << 28)
#define TIMING_MAX_SELECT_SHIFT 17
#define TIMING_MIN_DESELECT_SHIFT 12
#define TIMING_RXDELAY_SHIFT 8

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

uint32_t qmi_psram_timing(uint32_t sys_hz, uint32_t max_sck_hz) {
  if (max_sck_hz == 0) max_sck_hz = 1;
  const uint32_t clkdiv = clamp((sys_hz + max_sck_hz - 1) / max_sck_hz, 1, 255);
  // tCEM 8 us in units of 64 clk_sys: 8e-6 * sys / 64 = sys / 8e6, rounded down, less one unit
  // for the word under way when the limit is reached.
  const uint32_t units = sys_hz / 8000000u;
  const uint32_t max_select = clamp(units > 1 ? units - 1 : 1, 1, 63);
  // tCPH 18 ns in clk_sys cycles, rounded up (kHz keeps the product in 32 bits).
  const uint32_t min_deselect = clamp(((sys_hz / 1000u) * 18u + 999999u) / 1000000u, 1, 31);
  // Sample half an SCK period after the edge: RXDELAY counts half clk_sys cycles.
  const uint32_t rxdelay = clamp(clkdiv, 1, 7);
  return 1u << TIMING_COOLDOWN_SHIFT | TIMING_PAGEBREAK_1024 |
         max_select << TIMING_MAX_SELECT_SHIFT | min_deselect << TIMING_MIN_DESELECT_SHIFT |
         rxdelay << TIMING_RXDELAY_SHIFT | clkdiv;
}

// Waits for the direct-mode transfer to finish: 0, or -1 after SPINS polls.
static inline __attribute__((always_inline)) int wait_idle(uintptr_t qmi) {
  for (uint32_t i = 0; i < SPINS; i++)
    if (!(rd(qmi + DIRECT_CSR) & CSR_BUSY)) return 0;
  return -1;
}

// One byte out (single width, or quad in QPI), one byte in: the received byte, or -1.
static inline __attribute__((always_inline)) int xfer(uintptr_t qmi, uint8_t byte, int quad) {
  wr(qmi + DIRECT_TX, byte | (quad ? TX_IWIDTH_QUAD | TX_OE : 0));
  if (wait_idle(qmi)) return -1;
  return (int)(rd(qmi + DIRECT_RX) & 0xff);
}

static inline __attribute__((always_inline)) void chip_select(uintptr_t qmi, int on) {
  const uint32_t csr = rd(qmi + DIRECT_CSR);
  wr(qmi + DIRECT_CSR, on ? csr | CSR_ASSERT_CS1N : csr & ~CSR_ASSERT_CS1N);
}

// A command of `len` bytes, answers into in[] (may be NULL): 0 or -1 on a timeout.
static inline __attribute__((always_inline)) int command(uintptr_t qmi, const uint8_t *out,
                                                         uint8_t *in, int len, int quad) {
  chip_select(qmi, 1);
  for (int i = 0; i < len; i++) {
    const int b = xfer(qmi, out[i], quad);
    if (b < 0) {
      chip_select(qmi, 0);
      return -1;
    }
    if (in) in[i] = (uint8_t)b;
  }
  chip_select(qmi, 0);
  return 0;
}

// Everything between entering and leaving direct mode, from SRAM.
static RAMFUNC qmi_psram_status bring_up(const qmi_psram_config *c, uint32_t timing,
                                         qmi_psram_info *info) {
  const uintptr_t qmi = c->qmi;
  wr(qmi + DIRECT_CSR, DIRECT_CLKDIV << CSR_CLKDIV_SHIFT | CSR_EN);
  qmi_psram_status status = QMI_PSRAM_TIMEOUT;
  if (wait_idle(qmi)) goto out;  // an XIP transfer's cooldown may still be running
  // Byte arrays on the stack, built from immediates: no flash-resident constants.
  uint8_t cmd[7];
  uint8_t id[7];
  cmd[0] = CMD_EXIT_QPI;  // harmless in SPI mode; needed after a warm reset left QPI on
  if (command(qmi, cmd, NULL, 1, 1)) goto out;
  cmd[0] = CMD_RESET_ENABLE;
  if (command(qmi, cmd, NULL, 1, 0)) goto out;
  cmd[0] = CMD_RESET;
  if (command(qmi, cmd, NULL, 1, 0)) goto out;
  cmd[1] = cmd[2] = cmd[3] = cmd[4] = cmd[5] = cmd[6] = 0;  // stores, not a memset in flash
  cmd[0] = CMD_READ_ID;  // then a 24-bit address (0), then MF ID, KGD, EID[0] clocked in
  if (command(qmi, cmd, id, 7, 0)) goto out;
  info->manufacturer = id[4];
  info->kgd = id[5];
  info->eid = id[6];
  status = QMI_PSRAM_NO_DEVICE;
  if (id[4] != ID_MANUFACTURER || id[5] != ID_KGD_PASS) goto out;
  cmd[0] = CMD_ENTER_QPI;
  status = QMI_PSRAM_TIMEOUT;
  if (command(qmi, cmd, NULL, 1, 0)) goto out;
  wr(qmi + M1_TIMING, timing);
  // Wait cycles as dummy bits on four lines (6 x 4 = 24 bits), counted in 4-bit units.
  wr(qmi + M1_RFMT, FMT_ALL_QUAD | FMT_PREFIX_LEN_8 | QUAD_READ_WAIT_CYCLES << FMT_DUMMY_LEN_SHIFT);
  wr(qmi + M1_RCMD, CMD_QUAD_READ);
  wr(qmi + M1_WFMT, FMT_ALL_QUAD | FMT_PREFIX_LEN_8);
  wr(qmi + M1_WCMD, CMD_QUAD_WRITE);
  status = QMI_PSRAM_OK;
out:
  wr(qmi + DIRECT_CSR, 0);  // chip select released, direct mode off: XIP runs again
  return status;
}

qmi_psram_status qmi_psram_init(const qmi_psram_config *config, qmi_psram_info *info) {
  info->manufacturer = info->kgd = info->eid = 0;
  info->m1_timing = qmi_psram_timing(config->sys_hz, config->max_sck_hz);
  info->sck_hz = config->sys_hz / (info->m1_timing & 0xff);
  const qmi_psram_status status = bring_up(config, info->m1_timing, info);
  if (status == QMI_PSRAM_OK) {
    wr(config->xip_ctrl + XIP_CTRL_CTRL,
       rd(config->xip_ctrl + XIP_CTRL_CTRL) | XIP_CTRL_WRITABLE_M1);
  }
  return status;
}

uint32_t qmi_psram_probe_size(uintptr_t window, uint32_t max) {
  const uint32_t base_marker = 0x5a17c0deu;
  wr(window, base_marker);
  if (rd(window) != base_marker) return 0;
  for (uint32_t size = 1u << 20; size < max; size <<= 1) {
    wr(window + size, base_marker ^ size);
    if (rd(window) != base_marker) return size;  // the write wrapped round onto offset 0
    if (rd(window + size) != (base_marker ^ size)) return size;  // nothing answers there
  }
  return max;
}

static uint32_t pattern(uint32_t seed, uint32_t offset) {
  uint32_t x = seed ^ (offset * 0x9e3779b9u);  // address-dependent: catches aliasing too
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

int qmi_psram_self_test(uintptr_t window, uint32_t size, uint32_t step, uint32_t seed,
                        qmi_psram_fault *fault) {
  if (step < 4) step = 4;
  step &= ~3u;
  for (uint32_t pass = 0; pass < 2; pass++) {
    const uint32_t flip = pass ? 0xffffffffu : 0;
    for (uint32_t off = 0; off + 4 <= size; off += step)
      wr(window + off, pattern(seed, off) ^ flip);
    for (uint32_t off = 0; off + 4 <= size; off += step) {
      const uint32_t want = pattern(seed, off) ^ flip, got = rd(window + off);
      if (got != want) {
        fault->offset = off;
        fault->expected = want;
        fault->got = got;
        return -1;
      }
    }
  }
  return 0;
}
