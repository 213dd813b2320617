// RP2350: board.h on the console backends (UART0, PL011, and USB CDC-ACM: usb_console.c); the
// PSRAM brought up and reported when present (psram_board.c);
// core 1 launched through the boot ROM into the two-core parallel-for; board/time.h on TIMER0
// (1 MHz ticks from the 12 MHz crystal); board/memory.h and board/storage.h (the SRAM after
// the image, the model region in flash) from arch/armv8m_flash.h. Runs forever on hardware,
// no semihosting.
#include "board/board.h"

#include "arch/armv8m.h"
#include "arch/armv8m_flash.h"
#include "arch/armv8m_smp.h"
#include "board/time.h"
#include "drivers/pl011.h"
#include "memory_map.h"
#include "psram_board.h"
#include "usb_console.h"

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
// CLOCKS (8.1): clk_peri has no glitchless mux, so stop it before switching AUXSRC; clk_ref
// has one (SRC, then SELECTED is one-hot).
enum {
  CLK_REF_CTRL = 0x30,
  CLK_REF_SELECTED = 0x38,
  CLK_REF_SRC_XOSC = 2u,
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
  RESET_TIMER0 = 1u << 23,
  RESET_UART0 = 1u << 26,
  GPIO_FUNC_UART = 2,
  PAD_IE = 1u << 6,
  PAD_OD = 1u << 7,
  PAD_ISO = 1u << 8,
};

// TICKS (8.5): TIMER0's tick generator divides clk_ref; TIMER0 (12.8): the raw 64-bit count.
enum {
  TICKS_TIMER0_CTRL = 0x18,
  TICKS_TIMER0_CYCLES = 0x1c,
  TICKS_ENABLE = 1u << 0,
  TIMER_TIMERAWH = 0x24,
  TIMER_TIMERAWL = 0x28,
};

// SIO inter-core FIFOs (datasheet 3.1): status, write (to the other core), read.
enum {
  SIO_FIFO_ST = 0x050,
  SIO_FIFO_WR = 0x054,
  SIO_FIFO_RD = 0x058,
  SIO_FIFO_ST_VLD = 1u << 0,  // the read FIFO holds data
  SIO_FIFO_ST_RDY = 1u << 1,  // the write FIFO has room
};

static int cores_online = 1;

// The next word core 1 sent, or 0 with *ok = 0 after `spins` polls of an empty FIFO.
static uint32_t fifo_read(uint32_t spins, int *ok) {
  while (!(*reg(RP2350_SIO_BASE, SIO_FIFO_ST) & SIO_FIFO_ST_VLD)) {
    if (spins-- == 0) {
      *ok = 0;
      return 0;
    }
  }
  *ok = 1;
  return *reg(RP2350_SIO_BASE, SIO_FIFO_RD);
}

// Boot ROM launch protocol for core 1 (datasheet 5.3): send 0, 0, 1, vector table, stack
// pointer, entry; core 1 echoes each word, and a wrong echo restarts the sequence. Before each
// 0 the read FIFO is drained. Gives up after RP2350_CORE1_LAUNCH_ATTEMPTS restarts or when
// core 1 stops answering; board_init then counts one core.
static void launch_core1(void) {
  const uint32_t sequence[] = {
      0, 0, 1, (uint32_t)(uintptr_t)__vectors_core1, __vectors_core1[0], __vectors_core1[1],
  };
  int attempts = RP2350_CORE1_LAUNCH_ATTEMPTS, ok = 1;
  for (unsigned i = 0; i < sizeof sequence / sizeof sequence[0] && attempts > 0 && ok;) {
    if (sequence[i] == 0) {
      while (*reg(RP2350_SIO_BASE, SIO_FIFO_ST) & SIO_FIFO_ST_VLD) {
        (void)*reg(RP2350_SIO_BASE, SIO_FIFO_RD);
      }
      __asm__ volatile("sev");  // core 1 may be waiting for room in its FIFO
    }
    while (!(*reg(RP2350_SIO_BASE, SIO_FIFO_ST) & SIO_FIFO_ST_RDY)) {
    }
    *reg(RP2350_SIO_BASE, SIO_FIFO_WR) = sequence[i];
    __asm__ volatile("sev");
    if (fifo_read(RP2350_CORE1_WAIT_SPINS, &ok) == sequence[i] && ok) {
      i++;
    } else {
      i = 0;
      attempts--;
    }
  }
}

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

  // clk_ref from the crystal: the timer's 1 MHz tick is exact
  *reg(RP2350_CLOCKS_BASE, CLK_REF_CTRL) = CLK_REF_SRC_XOSC;
  while (!(*reg(RP2350_CLOCKS_BASE, CLK_REF_SELECTED) & (1u << CLK_REF_SRC_XOSC))) {
  }

  const uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0 | RESET_TIMER0;
  *reg(RP2350_RESETS_BASE, RESETS_RESET) &= ~blocks;
  while ((*reg(RP2350_RESETS_BASE, RESETS_DONE) & blocks) != blocks) {
  }

  console_pin(RP2350_CONSOLE_TX_GPIO);
  console_pin(RP2350_CONSOLE_RX_GPIO);
  pl011_init(RP2350_UART0_BASE, RP2350_XOSC_HZ, RP2350_CONSOLE_BAUD);
  *reg(RP2350_TICKS_BASE, TICKS_TIMER0_CYCLES) = RP2350_XOSC_HZ / 1000000u;
  *reg(RP2350_TICKS_BASE, TICKS_TIMER0_CTRL) = TICKS_ENABLE;
  usb_console_init();
  rp2350_psram_init();  // before core 1: flash XIP pauses during the bring-up
  rp2350_psram_report(board_putc);

  launch_core1();
  cores_online = armv8m_wait_core1(RP2350_CORE1_WAIT_SPINS);
}

// The console backends: output goes to every one, input comes from the first with a byte
// waiting: UART0 first, then USB CDC-ACM.
typedef struct console_backend {
  void (*putc)(char c);
  int (*getc)(void);  // a byte waiting, else -1 at once
} console_backend;

static void uart_putc(char c) { pl011_putc(RP2350_UART0_BASE, c); }
static int uart_getc(void) { return pl011_getc(RP2350_UART0_BASE); }

static const console_backend kConsoles[] = {
    {uart_putc, uart_getc},
    {usb_console_putc, usb_console_getc},
};
enum { CONSOLES = sizeof kConsoles / sizeof kConsoles[0] };

void board_putc(char c) {
  for (int i = 0; i < CONSOLES; i++) kConsoles[i].putc(c);
}

int board_try_getc(void) {
  for (int i = 0; i < CONSOLES; i++) {
    int c = kConsoles[i].getc();
    if (c >= 0) return c;
  }
  return -1;
}

int board_getc(void) { return board_try_getc(); }

// TIMERAWH, TIMERAWL, TIMERAWH again: a carry between the two reads shows as a changed high word.
uint64_t board_time_us(void) {
  uint32_t hi, lo;
  do {
    hi = *reg(RP2350_TIMER0_BASE, TIMER_TIMERAWH);
    lo = *reg(RP2350_TIMER0_BASE, TIMER_TIMERAWL);
  } while (hi != *reg(RP2350_TIMER0_BASE, TIMER_TIMERAWH));
  return (uint64_t)hi << 32 | lo;
}
const char *board_name(void) { return "rp2350"; }
const char *board_cpu(void) { return "cortex-m33"; }
const char *board_privilege(void) { return armv8m_privilege(); }
int board_cores_online(void) { return cores_online; }

void board_exit(int status) {
  (void)status;  // no host to report to: the banner stays on the UART, the core sleeps
  for (;;) __asm__ volatile("wfi");
}
