// AArch64 support shared by the AArch64 boards: entry (start.S), EL report and
// secondary-core check-in. Boards wake their secondaries at _start (spin table
// or PSCI); each one turns on its MMU if core 0 built tables (mmu.h), checks in
// and waits for work (smp.h); core 0 counts them.
#ifndef ARCH_AARCH64_H_
#define ARCH_AARCH64_H_

#include <stdint.h>

#define AARCH64_MAX_CORES 8  // check-in slots; stacks come from the board's linker script

void _start(void);                                 // image entry, for every core
static inline unsigned aarch64_current_el(void) {  // 0..3
  uint64_t el;
  __asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
  return (unsigned)(el >> 2) & 3;
}
static inline unsigned aarch64_core_id(void) {  // MPIDR Aff0: 0..3 on the Pi's single cluster
  uint64_t mpidr;
  __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
  return (unsigned)(mpidr & 0xff);
}
const char *aarch64_privilege(void);  // "el=N" for the current exception level
int aarch64_wait_cores(int cores,
                       uint32_t timeout_ms);  // cores 0..cores-1 checked in, waiting up to timeout
int aarch64_core_online(unsigned core);       // 1 if core checked in (core 0: always)
void aarch64_secondary_main(unsigned core) __attribute__((noreturn));  // start.S: check in, work
void aarch64_park(void) __attribute__((noreturn));                     // start.S: wfe forever

static inline void aarch64_wake_all(void) { __asm__ volatile("dsb sy\n\tsev" ::: "memory"); }

// Generic timer: the counter (CNTPCT_EL0) and its frequency (CNTFRQ_EL0, set by firmware/QEMU).
static inline uint64_t aarch64_counter(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
  return v;
}
static inline uint64_t aarch64_counter_hz(void) {
  uint64_t hz;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz;
}

#endif  // ARCH_AARCH64_H_
