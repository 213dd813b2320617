// ARM CMSDK APB UART (Cortex-M System Design Kit). Every call takes the base address.
#ifndef DRIVERS_CMSDK_UART_H_
#define DRIVERS_CMSDK_UART_H_

#include <stdint.h>

// Programs BAUDDIV = clock_hz / baud (the UART requires >= 16) and enables TX and RX.
void cmsdk_uart_init(uintptr_t base, uint32_t clock_hz, uint32_t baud);
// Writes one byte, waiting while the transmit buffer is full.
void cmsdk_uart_putc(uintptr_t base, char c);
// Returns the received byte, or -1 when none is waiting.
int cmsdk_uart_getc(uintptr_t base);
// Returns the next received byte, waiting for one to arrive.
int cmsdk_uart_getc_blocking(uintptr_t base);

#endif  // DRIVERS_CMSDK_UART_H_
