// ARM CMSDK APB timer: a 32-bit down counter at its APB clock. Every call takes the base address.
#ifndef DRIVERS_CMSDK_TIMER_H_
#define DRIVERS_CMSDK_TIMER_H_

#include <stdint.h>

// Starts the counter free-running from 0xffffffff, reloading there at zero; no interrupt.
void cmsdk_timer_start(uintptr_t base);
// Ticks counted since the start, modulo 2^32 (the counter's complement).
uint32_t cmsdk_timer_ticks(uintptr_t base);

#endif  // DRIVERS_CMSDK_TIMER_H_
