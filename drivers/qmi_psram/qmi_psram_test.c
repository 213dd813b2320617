// The PSRAM driver against a fake QMI with a fake APS6404L behind chip select 1 (QMI_PSRAM_FAKE:
// every register and window access comes here). The chip model follows its datasheet: SPI
// after power-up or reset (0x66 then 0x99), QPI after 0x35, 0xF5 leaves QPI (ignored in SPI),
// 0x9F answers manufacturer, known-good-die and EID after the command and 24-bit address.
// The memory behind the window wraps at the device size, as address bits above it are ignored.
#include "drivers/qmi_psram.h"

#include <string.h>

#include "common/check.h"

enum {
  QMI = 0x400d0000,
  XIP_CTRL = 0x400c8000,
  WINDOW = 0x15000000,  // uncached M1 alias
  WINDOW_SIZE = 16 << 20,
};

// --- The fake QMI and chip -------------------------------------------------------------------
static uint32_t qmi[0x60 / 4], xip_ctrl;
static int qpi;                // the chip's mode
static uint8_t kgd = 0x5d;     // what the chip answers as known-good-die
static int absent;             // no chip: the data line floats high
static int stuck_busy;         // BUSY never clears
static int busy_reads;         // BUSY reads 1 this many times after each TX
static uint8_t cmd_bytes[16];  // the current command while CS1 is asserted
static int cmd_len, cmd_quad;
static uint8_t log_cmd[32];  // first byte of each command the chip acted on
static int log_quad[32], log_n;
static int tx_without_cs;  // bytes sent with chip select released
static uint32_t rx;
static int bad_access;  // an access outside the QMI, XIP_CTRL and the window

static uint32_t mem[WINDOW_SIZE / 4];
static uint32_t device_size = 8u << 20;  // 0: nothing answers
static uint32_t stuck_offset = 0xffffffffu, stuck_mask;

static void chip_command_end(void) {
  if (cmd_len == 0) return;
  const uint8_t c = cmd_bytes[0];
  if (cmd_quad != qpi) {  // sent at the wrong width: the chip sees garbage and does nothing
    cmd_len = 0;
    return;
  }
  if (log_n < 32) {
    log_cmd[log_n] = c;
    log_quad[log_n++] = cmd_quad;
  }
  const int reset_enabled = log_n >= 2 && log_cmd[log_n - 2] == 0x66;
  if (c == 0x99 && reset_enabled) qpi = 0;
  if (c == 0x35 && !qpi) qpi = 1;
  if (c == 0xf5 && qpi) qpi = 0;
  cmd_len = 0;
}

static uint8_t chip_answer(int position) {
  if (absent) return 0xff;
  if (!qpi && cmd_bytes[0] == 0x9f) {
    const uint8_t id[3] = {0x0d, kgd, 0x26};
    if (position >= 4 && position < 7) return id[position - 4];
  }
  return 0;
}

static uint32_t *mem_word(uint32_t off) {
  if (device_size == 0) return NULL;
  return &mem[(off % device_size) / 4];
}

uint32_t qmi_psram_fake_read(uintptr_t a) {
  if (a >= WINDOW && a < WINDOW + WINDOW_SIZE) {
    const uint32_t off = (uint32_t)(a - WINDOW);
    const uint32_t *w = mem_word(off);
    uint32_t v = w ? *w : 0xffffffffu;
    return off == stuck_offset ? v | stuck_mask : v;
  }
  if (a == XIP_CTRL) return xip_ctrl;
  if (a < QMI || a >= QMI + sizeof qmi) return (uint32_t)++bad_access;
  const uint32_t off = (uint32_t)(a - QMI);
  if (off == 0x00) {  // DIRECT_CSR: BUSY
    uint32_t busy = stuck_busy || busy_reads > 0;
    if (busy_reads > 0) busy_reads--;
    return (qmi[0] & ~2u) | busy << 1;
  }
  if (off == 0x08) return rx;
  return qmi[off / 4];
}

void qmi_psram_fake_write(uintptr_t a, uint32_t v) {
  if (a >= WINDOW && a < WINDOW + WINDOW_SIZE) {
    bad_access += !(xip_ctrl & (1u << 11));  // writes need XIP_CTRL.WRITABLE_M1
    uint32_t *w = mem_word((uint32_t)(a - WINDOW));
    if (w) *w = v;
    return;
  }
  if (a == XIP_CTRL) {
    xip_ctrl = v;
    return;
  }
  if (a < QMI || a >= QMI + sizeof qmi) {
    bad_access++;
    return;
  }
  const uint32_t off = (uint32_t)(a - QMI);
  if (off == 0x00) {  // DIRECT_CSR: chip select edges
    const int was = (qmi[0] & 8u) != 0, now = (v & 8u) != 0;
    if (was && !now) chip_command_end();
    qmi[0] = v & ~2u;
    return;
  }
  if (off == 0x04) {               // DIRECT_TX
    bad_access += !(qmi[0] & 1u);  // TX only in direct mode
    if (!(qmi[0] & 8u)) {
      tx_without_cs++;
      return;
    }
    const int quad = ((v >> 16) & 3u) == 2;
    if (cmd_len == 0) cmd_quad = quad;
    if (cmd_len < 16) cmd_bytes[cmd_len] = (uint8_t)v;
    rx = chip_answer(cmd_len);
    cmd_len++;
    busy_reads = 2;
    return;
  }
  qmi[off / 4] = v;
}

static void reset_fake(void) {
  memset(qmi, 0, sizeof qmi);
  xip_ctrl = 1;  // EN_SECURE, as the boot ROM leaves it
  qpi = 0;
  kgd = 0x5d;
  absent = stuck_busy = busy_reads = cmd_len = log_n = tx_without_cs = 0;
}

static const qmi_psram_config kConfig = {QMI, XIP_CTRL, 150000000u, 84000000u};

// --- Tests -----------------------------------------------------------------------------------

static void test_bring_up(void) {
  reset_fake();
  qmi_psram_info info;
  CHECK(qmi_psram_init(&kConfig, &info) == QMI_PSRAM_OK);
  CHECK(info.manufacturer == 0x0d && info.kgd == 0x5d && info.eid == 0x26);
  CHECK(qpi == 1);
  // The chip acted on: reset enable, reset, read ID, enter QPI (the quad 0xF5 was ignored).
  CHECK(log_n == 4 && log_cmd[0] == 0x66 && log_cmd[1] == 0x99 && log_cmd[2] == 0x9f &&
        log_cmd[3] == 0x35);
  CHECK(!log_quad[0] && !log_quad[3]);
  CHECK(tx_without_cs == 0);
  CHECK(qmi[0] == 0);  // direct mode off, chip select released
  CHECK(xip_ctrl == (1u | 1u << 11));
  CHECK(qmi[0x28 / 4] == 0xeb && qmi[0x30 / 4] == 0x38);  // M1_RCMD, M1_WCMD
  const uint32_t rfmt = qmi[0x24 / 4], wfmt = qmi[0x2c / 4];
  CHECK((rfmt & 0x3ff) == 0x2aa && (wfmt & 0x3ff) == 0x2aa);  // every phase on four lines
  CHECK((rfmt >> 12 & 1) == 1 && (rfmt >> 16 & 7) == 6);      // 8-bit command, 24 dummy bits
  CHECK((wfmt >> 12 & 1) == 1 && (wfmt >> 16 & 7) == 0);      // no dummy on writes
  CHECK(qmi[0x20 / 4] == info.m1_timing);
  CHECK(info.sck_hz == 75000000u);  // 150 MHz / 2

  // A warm start: the chip still in QPI from before. The quad 0xF5 brings it back to SPI.
  reset_fake();
  qpi = 1;
  CHECK(qmi_psram_init(&kConfig, &info) == QMI_PSRAM_OK);
  CHECK(log_cmd[0] == 0xf5 && log_quad[0] == 1 && qpi == 1 && info.kgd == 0x5d);
}

static void test_failures(void) {
  qmi_psram_info info;
  reset_fake();
  absent = 1;  // a Pico 2 without PSRAM: the ID reads 0xff
  CHECK(qmi_psram_init(&kConfig, &info) == QMI_PSRAM_NO_DEVICE);
  CHECK(info.manufacturer == 0xff);
  CHECK(qmi[0] == 0 && qmi[0x28 / 4] == 0 && !(xip_ctrl & (1u << 11)));  // M1 left alone
  reset_fake();
  kgd = 0x55;  // a die that failed its test
  CHECK(qmi_psram_init(&kConfig, &info) == QMI_PSRAM_NO_DEVICE);
  CHECK(qpi == 0 && qmi[0] == 0);
  reset_fake();
  stuck_busy = 1;
  CHECK(qmi_psram_init(&kConfig, &info) == QMI_PSRAM_TIMEOUT);
  CHECK(qmi[0] == 0);  // direct mode off again, so flash XIP works
}

static void test_timing(void) {
  // Every clk_sys from 12 to 300 MHz against three SCK limits: the chip's limits hold.
  int checked = 0, bad = 0;
  for (uint32_t sys = 12000000u; sys <= 300000000u; sys += 3000000u) {
    const uint32_t limits[3] = {84000000u, 104000000u, 133000000u};
    for (int i = 0; i < 3; i++) {
      const uint32_t t = qmi_psram_timing(sys, limits[i]);
      const uint32_t clkdiv = t & 0xff, rxdelay = t >> 8 & 7, min_deselect = t >> 12 & 31;
      const uint32_t max_select = t >> 17 & 63;
      bad += clkdiv == 0 || sys / clkdiv > limits[i];
      // max_select * 64 / sys <= 8 us and min_deselect / sys >= 18 ns, in integers.
      bad += (uint64_t)max_select * 64u * 1000000u > 8ull * sys || max_select == 0;
      bad += (uint64_t)min_deselect * 1000000000u < 18ull * sys;
      bad += rxdelay == 0 || (t >> 28 & 3) != 2 || (t >> 30) != 1;
      checked++;
    }
  }
  CHECKF(bad == 0, "%d of %d timings break a limit", bad, checked);
  const uint32_t t = qmi_psram_timing(150000000u, 84000000u);
  CHECK((t & 0xff) == 2 && (t >> 17 & 63) == 17 && (t >> 12 & 31) == 3 && (t >> 8 & 7) == 2);
}

static void test_probe_and_self_test(void) {
  reset_fake();
  xip_ctrl |= 1u << 11;
  const uint32_t sizes[4] = {8u << 20, 2u << 20, 1u << 20, 16u << 20};
  for (int i = 0; i < 4; i++) {
    device_size = sizes[i];
    CHECKF(qmi_psram_probe_size(WINDOW, WINDOW_SIZE) == sizes[i], "device of %u bytes",
           (unsigned)sizes[i]);
  }
  device_size = 0;  // nothing there
  CHECK(qmi_psram_probe_size(WINDOW, WINDOW_SIZE) == 0);

  device_size = 8u << 20;
  qmi_psram_fault fault;
  CHECK(qmi_psram_self_test(WINDOW, 8u << 20, 1024, 1, &fault) == 0);
  CHECK(qmi_psram_self_test(WINDOW, 64u << 10, 4, 2, &fault) == 0);  // every word of 64 KB
  // More than the device holds: the upper half aliases the lower and the pattern says so.
  CHECK(qmi_psram_self_test(WINDOW, 16u << 20, 4096, 3, &fault) == -1);
  CHECK(fault.offset < (8u << 20));
  // A stuck data bit.
  stuck_offset = 0x123400;
  stuck_mask = 1u << 7;
  CHECK(qmi_psram_self_test(WINDOW, 8u << 20, 1024, 4, &fault) == -1);
  CHECK(fault.offset == 0x123400 && (fault.got ^ fault.expected) == (1u << 7));
  stuck_offset = 0xffffffffu;
}

int main(void) {
  test_bring_up();
  test_failures();
  test_timing();
  test_probe_and_self_test();
  CHECK(bad_access == 0);
  return finish();
}
