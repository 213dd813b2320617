// USB console glue for the RP2350 boards: the clocks and reset the USB controller needs, the
// device's identity, and the console byte interface over drivers/rp2350_usb + drivers/usb_cdc.
#include "usb_console.h"

#include <stdint.h>

#include "board/board.h"
#include "drivers/rp2350_usb.h"
#include "drivers/usb_cdc.h"
#include "drivers/usb_cdc_console.h"
#include "memory_map.h"

// Board facts used here only (RP2350 datasheet: 2.2 address map, 7.5 resets, 8.1 clocks,
// 8.6 PLL); the shared bases come from memory_map.h.
enum {
  RESETS_BASE = RP2350_RESETS_BASE,
  CLOCKS_BASE = RP2350_CLOCKS_BASE,
  PLL_USB_BASE = 0x40058000u,
  USBCTRL_DPRAM_BASE = 0x50100000u,
  USBCTRL_REGS_BASE = 0x50110000u,

  RESETS_RESET = 0x00,
  RESETS_DONE = 0x08,
  RESET_PLL_USB = 1u << 15,
  RESET_USBCTRL = 1u << 28,

  CLK_USB_CTRL = 0x60,
  CLK_USB_DIV = 0x64,
  CLK_CTRL_ENABLE = 1u << 11,
  CLK_CTRL_ENABLED = 1u << 28,
  CLK_USB_AUXSRC_PLL_USB = 0u << 5,
  CLK_DIV_1 = 1u << 16,

  PLL_CS = 0x0,
  PLL_PWR = 0x4,
  PLL_FBDIV_INT = 0x8,
  PLL_PRIM = 0xc,
  PLL_CS_LOCK = 1u << 31,
  PLL_PWR_PD = 1u << 0,
  PLL_PWR_POSTDIVPD = 1u << 3,
  PLL_PWR_VCOPD = 1u << 5,
  // 12 MHz / REFDIV 1 x FBDIV 100 = 1200 MHz VCO (in 750-1600), / 5 / 5 = 48 MHz.
  PLL_USB_REFDIV = 1,
  PLL_USB_FBDIV = 100,
  PLL_USB_POSTDIV1 = 5,
  PLL_USB_POSTDIV2 = 5,
  PLL_LOCK_SPINS = 1000000,
};

// pid.codes' test VID/PID (a product would register its own); Linux binds cdc-acm by class.
static const usb_cdc_config kIdentity = {
    .vendor_id = 0x1209,
    .product_id = 0x0001,
    .device_release = 0x0100,
    .manufacturer = "metalchat",
    .product = "metalchat RP2350 console",
    .serial = NULL,  // the image's build id, filled in at init
    .max_power_ma = 100,
};

// Polls of a full queue before output is dropped (about a second at 150 MHz).
enum { USB_CONSOLE_STALL_SPINS = 2000000 };

static usb_cdc cdc;
static rp2350_usb usb;
static usb_cdc_console console;
static int started;
static char serial[17];

static void poll(void *ctx) { rp2350_usb_poll(ctx); }

static inline volatile uint32_t *reg(uint32_t base, uint32_t off) {
  return (volatile uint32_t *)(uintptr_t)(base + off);
}

static int pll_usb_start(void) {
  *reg(RESETS_BASE, RESETS_RESET) |= RESET_PLL_USB;
  *reg(RESETS_BASE, RESETS_RESET) &= ~RESET_PLL_USB;
  while (!(*reg(RESETS_BASE, RESETS_DONE) & RESET_PLL_USB)) {
  }
  *reg(PLL_USB_BASE, PLL_CS) = PLL_USB_REFDIV;
  *reg(PLL_USB_BASE, PLL_FBDIV_INT) = PLL_USB_FBDIV;
  *reg(PLL_USB_BASE, PLL_PWR) &= ~(PLL_PWR_PD | PLL_PWR_VCOPD);
  for (uint32_t spins = 0; !(*reg(PLL_USB_BASE, PLL_CS) & PLL_CS_LOCK); spins++) {
    if (spins >= PLL_LOCK_SPINS) return -1;
  }
  *reg(PLL_USB_BASE, PLL_PRIM) = PLL_USB_POSTDIV1 << 16 | PLL_USB_POSTDIV2 << 12;
  *reg(PLL_USB_BASE, PLL_PWR) &= ~PLL_PWR_POSTDIVPD;
  return 0;
}

static void clk_usb_start(void) {
  // clk_usb has no glitchless mux: stop it, wait until it has stopped, then switch.
  *reg(CLOCKS_BASE, CLK_USB_CTRL) = 0;
  while (*reg(CLOCKS_BASE, CLK_USB_CTRL) & CLK_CTRL_ENABLED) {
  }
  *reg(CLOCKS_BASE, CLK_USB_DIV) = CLK_DIV_1;
  *reg(CLOCKS_BASE, CLK_USB_CTRL) = CLK_USB_AUXSRC_PLL_USB;
  *reg(CLOCKS_BASE, CLK_USB_CTRL) = CLK_USB_AUXSRC_PLL_USB | CLK_CTRL_ENABLE;
}

void usb_console_init(void) {
  if (pll_usb_start()) return;  // no 48 MHz: no USB console; UART0 still works
  clk_usb_start();
  *reg(RESETS_BASE, RESETS_RESET) |= RESET_USBCTRL;
  *reg(RESETS_BASE, RESETS_RESET) &= ~RESET_USBCTRL;
  while (!(*reg(RESETS_BASE, RESETS_DONE) & RESET_USBCTRL)) {
  }
  // iSerialNumber: the first 8 bytes of the build id in hex, so two images tell apart.
  size_t id_len;
  const uint8_t *id = board_build_id(&id_len);
  static const char kHex[] = "0123456789abcdef";
  size_t n = 0;
  for (size_t i = 0; i < id_len && n + 2 < sizeof serial; i++) {
    serial[n++] = kHex[id[i] >> 4];
    serial[n++] = kHex[id[i] & 15];
  }
  serial[n] = 0;
  usb_cdc_config identity = kIdentity;
  identity.serial = n ? serial : "0";
  rp2350_usb_init(&usb, USBCTRL_REGS_BASE, USBCTRL_DPRAM_BASE, &cdc);
  usb_cdc_init(&cdc, &identity, &rp2350_usb_ops, &usb);
  usb_cdc_console_init(&console, &cdc, poll, &usb, USB_CONSOLE_STALL_SPINS);
  rp2350_usb_connect(&usb);
  started = 1;
}

void usb_console_putc(char c) {
  if (started) usb_cdc_console_putc(&console, c);
}

int usb_console_getc(void) { return started ? usb_cdc_console_getc(&console) : -1; }
