// AArch64 probes for the rpi3/rpi4 test images (system registers, raw loads), in one place.
#ifndef TESTS_BOARD_ARCH_PROBE_H_
#define TESTS_BOARD_ARCH_PROBE_H_

#include <stdint.h>

static inline unsigned long long probe_sctlr(void) {  // SCTLR_EL2: the image runs at EL2
  unsigned long long v;
  __asm__ volatile("mrs %0, sctlr_el2" : "=r"(v));
  return v;
}
static inline uint64_t probe_counter(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
  return v;
}
static inline uint64_t probe_counter_hz(void) {
  uint64_t v;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
  return v;
}
static inline unsigned probe_core(void) {
  uint64_t v;
  __asm__ volatile("mrs %0, mpidr_el1" : "=r"(v));
  return (unsigned)(v & 0xff);
}
static inline unsigned long long probe_load64(const void *p) {
  unsigned long long v;
  __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(p) : "memory");
  return v;
}

#endif  // TESTS_BOARD_ARCH_PROBE_H_
