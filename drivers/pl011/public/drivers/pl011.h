// ARM PrimeCell PL011 UART. Knows no board: every call takes the base address.
#ifndef DRIVERS_PL011_H_
#define DRIVERS_PL011_H_

#include <stdint.h>

// Disables, programs 8N1 with FIFOs at baud from the UART reference clock (< 512 MHz), enables.
void pl011_init(uintptr_t base, uint32_t clock_hz, uint32_t baud);
// Writes one byte, waiting while the transmit FIFO is full.
void pl011_putc(uintptr_t base, char c);
// Returns the next received byte, or -1 when the receive FIFO is empty.
int pl011_getc(uintptr_t base);
// Returns the next received byte, waiting for one to arrive.
int pl011_getc_blocking(uintptr_t base);

#endif  // DRIVERS_PL011_H_
