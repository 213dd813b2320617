// Broadcom system timer: a free-running 64-bit counter at 1 MHz (BCM2835, BCM2837, BCM2711),
// readable as two 32-bit halves. Knows no board: calls take its base address.
// Only the counter is used; the four compare channels (interrupts) are not.
#ifndef DRIVERS_BCM_SYSTIMER_H_
#define DRIVERS_BCM_SYSTIMER_H_

#include <stdint.h>

#define BCM_SYSTIMER_HZ 1000000u

// Microseconds since the timer started counting (power-on), read without tearing.
uint64_t bcm_systimer_now(uintptr_t base);

#endif  // DRIVERS_BCM_SYSTIMER_H_
