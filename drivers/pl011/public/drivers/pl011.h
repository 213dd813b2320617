// ARM PrimeCell PL011 UART. Knows no board: every call takes the base address.
#ifndef DRIVERS_PL011_H_
#define DRIVERS_PL011_H_

#include <stdint.h>

// Disables, programs 8N1 with FIFOs at baud from the UART reference clock (< 512 MHz), enables.
void pl011_init(uintptr_t base, uint32_t clock_hz, uint32_t baud);
// Writes one byte, waiting while the transmit FIFO is full.
void pl011_putc(uintptr_t base, char c);
// Receive is polled (no interrupts): the receive FIFO (16 entries on the BCM283x PL011)
// holds what arrives between polls, so a reader must poll at least every
// FIFO-depth characters (1.4 ms per 16 bytes at 115200 baud) or bytes are lost (counted).
// Returns the next received byte, or -1 when the receive FIFO is empty. Bytes with a
// framing or parity error, and breaks, are dropped.
int pl011_getc(uintptr_t base);
// Receive overruns pl011_getc has seen since boot (bytes lost because nobody polled).
uint32_t pl011_rx_overruns(void);
// Returns the next received byte, waiting for one to arrive.
int pl011_getc_blocking(uintptr_t base);

#endif  // DRIVERS_PL011_H_
