// Register layout from the BCM2835 ARM Peripherals manual, "System Timer".
#include "drivers/bcm_systimer.h"

enum {
  CLO = 0x04,  // counter, low 32 bits
  CHI = 0x08,  // counter, high 32 bits
};

uint64_t bcm_systimer_now(uintptr_t base) {
  volatile uint32_t *lo = (volatile uint32_t *)(base + CLO);
  volatile uint32_t *hi = (volatile uint32_t *)(base + CHI);
  // The halves are separate reads: re-read when the low half wrapped in between.
  uint32_t h, l;
  do {
    h = *hi;
    l = *lo;
  } while (*hi != h);
  return (uint64_t)h << 32 | l;
}
