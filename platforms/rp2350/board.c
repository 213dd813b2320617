// RP2350: board.h on UART0 (PL011); runs forever on hardware, no semihosting.
#include "board/board.h"

#include "arch/armv8m.h"
#include "drivers/pl011.h"
#include "memory_map.h"

static inline volatile uint32_t *reg(uint32_t base, uint32_t off) {
  return (volatile uint32_t *)(uintptr_t)(base + off);
}

// XOSC (datasheet 8.2): CTRL, STATUS, STARTUP.
enum {
  XOSC_CTRL = 0x00,
  XOSC_STATUS = 0x04,
  XOSC_STARTUP = 0x0c,
  XOSC_CTRL_1_15MHZ_ENABLE = (0xfabu << 12) | 0xaa0u,
  XOSC_STATUS_STABLE = 1u << 31,
  XOSC_STARTUP_1MS = (RP2350_XOSC_HZ / 1000 + 255) / 256,  // units of 256 crystal cycles
};
// CLOCKS (8.1): clk_peri has no glitchless mux, so stop it before switching AUXSRC.
enum {
  CLK_PERI_CTRL = 0x48,
  CLK_PERI_DIV = 0x4c,
  CLK_CTRL_ENABLE = 1u << 11,
  CLK_CTRL_ENABLED = 1u << 28,
  CLK_PERI_AUXSRC_XOSC = 4u << 5,
  CLK_DIV_1 = 1u << 16,
};
// RESETS (7.5), IO_BANK0 and PADS_BANK0 (9.11).
enum {
  RESETS_RESET = 0x00,
  RESETS_DONE = 0x08,
  RESET_IO_BANK0 = 1u << 6,
  RESET_PADS_BANK0 = 1u << 9,
  RESET_UART0 = 1u << 26,
  GPIO_FUNC_UART = 2,
  PAD_IE = 1u << 6,
  PAD_OD = 1u << 7,
  PAD_ISO = 1u << 8,
};

static void console_pin(unsigned gpio) {
  volatile uint32_t *pad = reg(RP2350_PADS_BANK0_BASE, 4 + 4 * gpio);
  *pad = (*pad & ~PAD_OD) | PAD_IE;
  *reg(RP2350_IO_BANK0_BASE, 4 + 8 * gpio) = GPIO_FUNC_UART;  // GPIOn_CTRL.FUNCSEL
  *pad &= ~PAD_ISO;                                           // pads come out of reset isolated
}

void board_init(void) {
  *reg(RP2350_XOSC_BASE, XOSC_STARTUP) = XOSC_STARTUP_1MS;
  *reg(RP2350_XOSC_BASE, XOSC_CTRL) = XOSC_CTRL_1_15MHZ_ENABLE;
  while (!(*reg(RP2350_XOSC_BASE, XOSC_STATUS) & XOSC_STATUS_STABLE)) {
  }

  *reg(RP2350_CLOCKS_BASE, CLK_PERI_CTRL) = 0;
  while (*reg(RP2350_CLOCKS_BASE, CLK_PERI_CTRL) & CLK_CTRL_ENABLED) {
  }
  *reg(RP2350_CLOCKS_BASE, CLK_PERI_DIV) = CLK_DIV_1;
  *reg(RP2350_CLOCKS_BASE, CLK_PERI_CTRL) = CLK_PERI_AUXSRC_XOSC;
  *reg(RP2350_CLOCKS_BASE, CLK_PERI_CTRL) = CLK_PERI_AUXSRC_XOSC | CLK_CTRL_ENABLE;

  const uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
  *reg(RP2350_RESETS_BASE, RESETS_RESET) &= ~blocks;
  while ((*reg(RP2350_RESETS_BASE, RESETS_DONE) & blocks) != blocks) {
  }

  console_pin(RP2350_CONSOLE_TX_GPIO);
  console_pin(RP2350_CONSOLE_RX_GPIO);
  pl011_init(RP2350_UART0_BASE, RP2350_XOSC_HZ, RP2350_CONSOLE_BAUD);
}

void board_putc(char c) { pl011_putc(RP2350_UART0_BASE, c); }
int board_getc(void) { return pl011_getc(RP2350_UART0_BASE); }
const char *board_name(void) { return "rp2350"; }
const char *board_cpu(void) { return "cortex-m33"; }
const char *board_privilege(void) { return armv8m_privilege(); }
int board_cores_online(void) { return 1; }  // core 1 is never launched

void board_exit(int status) {
  (void)status;  // no host to report to: the banner stays on the UART, the core sleeps
  for (;;) __asm__ volatile("wfi");
}
