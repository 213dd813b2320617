// Register layout from the PL011 Technical Reference Manual (ARM DDI 0183).
#include "drivers/pl011.h"

enum {
  DR = 0x00,     // data
  FR = 0x18,     // flags
  IBRD = 0x24,   // integer baud divisor
  FBRD = 0x28,   // fractional baud divisor (1/64ths)
  LCR_H = 0x2c,  // line control
  CR = 0x30,     // control
  IMSC = 0x38,   // interrupt mask
  ICR = 0x44,    // interrupt clear
};

enum {
  FR_BUSY = 1u << 3,
  FR_RXFE = 1u << 4,
  FR_TXFF = 1u << 5,
  LCR_H_FEN = 1u << 4,
  LCR_H_WLEN8 = 3u << 5,
  CR_UARTEN = 1u << 0,
  CR_TXE = 1u << 8,
  CR_RXE = 1u << 9,
};

static inline volatile uint32_t *reg(uintptr_t base, unsigned off) {
  return (volatile uint32_t *)(base + off);
}

void pl011_init(uintptr_t base, uint32_t clock_hz, uint32_t baud) {
  *reg(base, CR) = 0;
  while (*reg(base, FR) & FR_BUSY) {
  }
  *reg(base, LCR_H) = 0;  // flush the FIFOs
  // Divisor in 1/64ths: clock / (16 * baud) * 64 = 4 * clock / baud, rounded.
  uint32_t div64 = (8 * clock_hz / baud + 1) / 2;
  *reg(base, IBRD) = div64 >> 6;
  *reg(base, FBRD) = div64 & 63;
  *reg(base, LCR_H) = LCR_H_WLEN8 | LCR_H_FEN;  // also latches IBRD/FBRD
  *reg(base, IMSC) = 0;
  *reg(base, ICR) = 0x7ff;
  *reg(base, CR) = CR_UARTEN | CR_TXE | CR_RXE;
}

void pl011_putc(uintptr_t base, char c) {
  while (*reg(base, FR) & FR_TXFF) {
  }
  *reg(base, DR) = (uint8_t)c;
}

int pl011_getc(uintptr_t base) {
  if (*reg(base, FR) & FR_RXFE) return -1;
  return (int)(*reg(base, DR) & 0xff);
}

int pl011_getc_blocking(uintptr_t base) {
  int c;
  while ((c = pl011_getc(base)) < 0) {
  }
  return c;
}
