// Register layout from the CMSDK Technical Reference Manual (ARM DDI 0479), APB UART.
#include "drivers/cmsdk_uart.h"

enum {
  DATA = 0x00,
  STATE = 0x04,
  CTRL = 0x08,
  BAUDDIV = 0x10,
};

enum {
  STATE_TX_FULL = 1u << 0,
  STATE_RX_FULL = 1u << 1,
  CTRL_TX_EN = 1u << 0,
  CTRL_RX_EN = 1u << 1,
  BAUDDIV_MIN = 16,
};

static inline volatile uint32_t *reg(uintptr_t base, unsigned off) {
  return (volatile uint32_t *)(base + off);
}

void cmsdk_uart_init(uintptr_t base, uint32_t clock_hz, uint32_t baud) {
  uint32_t div = clock_hz / baud;
  *reg(base, CTRL) = 0;
  *reg(base, BAUDDIV) = div < BAUDDIV_MIN ? BAUDDIV_MIN : div;
  *reg(base, CTRL) = CTRL_TX_EN | CTRL_RX_EN;
}

void cmsdk_uart_putc(uintptr_t base, char c) {
  while (*reg(base, STATE) & STATE_TX_FULL) {
  }
  *reg(base, DATA) = (uint8_t)c;
}

int cmsdk_uart_getc(uintptr_t base) {
  if (!(*reg(base, STATE) & STATE_RX_FULL)) return -1;
  return (int)(*reg(base, DATA) & 0xff);
}

int cmsdk_uart_getc_blocking(uintptr_t base) {
  int c;
  while ((c = cmsdk_uart_getc(base)) < 0) {
  }
  return c;
}
