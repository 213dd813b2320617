// Register layout from the PL011 Technical Reference Manual (ARM DDI 0183).
#include "drivers/pl011.h"

enum {
  DR = 0x00,      // data
  RSRECR = 0x04,  // receive status / error clear
  FR = 0x18,      // flags
  IBRD = 0x24,    // integer baud divisor
  FBRD = 0x28,    // fractional baud divisor (1/64ths)
  LCR_H = 0x2c,   // line control
  CR = 0x30,      // control
  IMSC = 0x38,    // interrupt mask
  ICR = 0x44,     // interrupt clear
};

enum {
  DR_FE = 1u << 8,   // framing error
  DR_PE = 1u << 9,   // parity error
  DR_BE = 1u << 10,  // break (line held low for a whole character)
  DR_OE = 1u << 11,  // overrun: the FIFO was full, bytes after this one were lost
  DR_ERRORS = DR_FE | DR_PE | DR_BE | DR_OE,
  FR_BUSY = 1u << 3,
  FR_RXFE = 1u << 4,
  FR_TXFF = 1u << 5,
  LCR_H_FEN = 1u << 4,
  LCR_H_WLEN8 = 3u << 5,
  CR_UARTEN = 1u << 0,
  CR_TXE = 1u << 8,
  CR_RXE = 1u << 9,
};

// Receive overruns seen by pl011_getc (all UARTs together; a diagnostic counter).
static uint32_t rx_overruns;

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
  for (;;) {
    if (*reg(base, FR) & FR_RXFE) return -1;
    uint32_t dr = *reg(base, DR);
    if (!(dr & DR_ERRORS)) return (int)(dr & 0xff);
    *reg(base, RSRECR) = 0;         // clear the sticky error flags
    if (dr & DR_OE) rx_overruns++;  // the byte itself is good; later ones were lost
    if (!(dr & (DR_FE | DR_PE | DR_BE))) return (int)(dr & 0xff);
    // Framing/parity error or break: the byte is garbage (a break reads as 0), drop it.
  }
}

uint32_t pl011_rx_overruns(void) { return rx_overruns; }

int pl011_getc_blocking(uintptr_t base) {
  int c;
  while ((c = pl011_getc(base)) < 0) {
  }
  return c;
}
