// AArch64 support shared by the AArch64 boards: entry (start.S), EL report and
// secondary-core check-in. Boards wake their secondaries at _start (spin table
// or PSCI); each one checks in and parks, and core 0 counts them.
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
const char *aarch64_privilege(void);  // "el=N" for the current exception level
int aarch64_wait_cores(int cores,
                       uint32_t timeout_ms);  // cores 0..cores-1 checked in, waiting up to timeout
void aarch64_secondary_main(unsigned core) __attribute__((noreturn));  // start.S: check in, park

static inline void aarch64_wake_all(void) { __asm__ volatile("dsb sy\n\tsev" ::: "memory"); }

#endif  // ARCH_AARCH64_H_
