// The Pico Plus 2W's PSRAM: chip select pin, bases and clock handed to drivers/qmi_psram.
#include "psram_board.h"

#include "common/fmt.h"
#include "memory_map.h"

enum {
  IO_BANK0_BASE = RP2350_IO_BANK0_BASE,
  PADS_BANK0_BASE = RP2350_PADS_BANK0_BASE,
  QMI_BASE = 0x400d0000u,
  XIP_CTRL_BASE = 0x400c8000u,
  GPIO_FUNC_XIP_CS1 = 9,
  PAD_IE = 1u << 6,
  PAD_OD = 1u << 7,
  PAD_ISO = 1u << 8,
  XOSC_COUNT = 0x10,  // down-counter at the crystal's rate; reads 0 once it has run out
  SYST_CSR = 0xe000e010u,
  SYST_RVR = 0xe000e014u,
  SYST_CVR = 0xe000e018u,
  SYST_CSR_ENABLE_CPU_CLOCK = 5u,  // ENABLE, CLKSOURCE = the processor clock
  SELF_TEST_STEP = 1024,  // every 256th word of the chip: 16 K words written and read twice
  SELF_TEST_SEED = 0x2350,
};

static rp2350_psram state;

static inline volatile uint32_t *reg(uint32_t base, uint32_t off) {
  return (volatile uint32_t *)(uintptr_t)(base + off);
}

uint32_t rp2350_measure_sys_hz(void) {
  *reg(SYST_CSR, 0) = 0;
  *reg(SYST_RVR, 0) = 0x00ffffffu;
  *reg(SYST_CVR, 0) = 0;  // any write clears it: the count restarts from RVR
  *reg(SYST_CSR, 0) = SYST_CSR_ENABLE_CPU_CLOCK;
  const uint32_t start = *reg(SYST_CVR, 0);
  *reg(RP2350_XOSC_BASE, XOSC_COUNT) = RP2350_XOSC_HZ / 1000u;  // 1 ms
  while (*reg(RP2350_XOSC_BASE, XOSC_COUNT)) {
  }
  const uint32_t end = *reg(SYST_CVR, 0);
  *reg(SYST_CSR, 0) = 0;
  return ((start - end) & 0x00ffffffu) * 1000u;  // 24-bit down-counter
}

const rp2350_psram *rp2350_psram_state(void) { return &state; }

uint32_t rp2350_psram_bytes(void) { return state.self_test == 0 ? state.bytes : 0; }

uint32_t rp2350_psram_init(void) {
  rp2350_psram *out = &state;
  out->bytes = 0;
  out->self_test = 1;
  // GPIO 47 as XIP_CS1 (IO_BANK0 and PADS_BANK0 are out of reset: board_init did that).
  volatile uint32_t *pad = reg(PADS_BANK0_BASE, 4 + 4 * RP2350_PSRAM_CS_GPIO);
  *pad = (*pad & ~PAD_OD) | PAD_IE;
  *reg(IO_BANK0_BASE, 4 + 8 * RP2350_PSRAM_CS_GPIO) = GPIO_FUNC_XIP_CS1;
  *pad &= ~PAD_ISO;
  out->sys_hz = rp2350_measure_sys_hz();
  const qmi_psram_config config = {QMI_BASE, XIP_CTRL_BASE, out->sys_hz, RP2350_PSRAM_MAX_SCK_HZ};
  out->status = qmi_psram_init(&config, &out->info);
  if (out->status != QMI_PSRAM_OK) return 0;
  out->bytes = qmi_psram_probe_size(RP2350_PSRAM_UNCACHED_BASE, RP2350_PSRAM_WINDOW_BYTES);
  if (out->bytes == 0) return 0;
  out->self_test = qmi_psram_self_test(RP2350_PSRAM_UNCACHED_BASE, out->bytes, SELF_TEST_STEP,
                                       SELF_TEST_SEED, &out->fault);
  return out->self_test == 0 ? out->bytes : 0;
}

void rp2350_psram_report(void (*putc)(char c)) {
  const rp2350_psram *p = &state;
  const qmi_psram_info *i = &p->info;
  if (p->status == QMI_PSRAM_TIMEOUT) {
    fmt_printf(putc, "psram: QMI direct mode timed out\r\n");
  } else if (p->status == QMI_PSRAM_NO_DEVICE) {
    fmt_printf(putc, "psram: none (id %02x %02x %02x)\r\n", i->manufacturer, i->kgd, i->eid);
  } else if (p->bytes == 0) {
    fmt_printf(putc, "psram: id %02x %02x %02x but no memory answers in the window\r\n",
               i->manufacturer, i->kgd, i->eid);
  } else {
    fmt_printf(putc,
               "psram: %u MB at 0x%x (APS6404L id %02x %02x %02x), clk_sys %u MHz, SCK %u MHz, ",
               (unsigned)(p->bytes >> 20), RP2350_PSRAM_BASE, i->manufacturer, i->kgd, i->eid,
               (unsigned)(p->sys_hz / 1000000u), (unsigned)(i->sck_hz / 1000000u));
    if (p->self_test == 0) {
      fmt_printf(putc, "self-test passed\r\n");
    } else {
      fmt_printf(putc, "self-test FAILED at +0x%x: wrote %08x, read %08x\r\n",
                 (unsigned)p->fault.offset, (unsigned)p->fault.expected, (unsigned)p->fault.got);
    }
  }
}
