#include "arch/aarch64.h"

// Zeroed by core 0's .bss clear before any secondary is woken.
static volatile uint32_t checked_in[AARCH64_MAX_CORES];

static inline uint64_t counter(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
  return v;
}

const char *aarch64_privilege(void) {
  static const char *const names[] = {"el=0", "el=1", "el=2", "el=3"};
  return names[aarch64_current_el()];
}

void aarch64_secondary_main(unsigned core) {
  if (core < AARCH64_MAX_CORES) checked_in[core] = 1;
  aarch64_wake_all();  // make the flag visible, nudge core 0 out of wfe
  for (;;) __asm__ volatile("wfe");
}

int aarch64_wait_cores(int cores, uint32_t timeout_ms) {
  uint64_t hz;
  __asm__("mrs %0, cntfrq_el0" : "=r"(hz));  // programmed by firmware / QEMU
  uint64_t deadline = counter() + hz * timeout_ms / 1000;
  int online;
  do {
    online = 1;  // core 0 is running this
    for (int i = 1; i < cores && i < AARCH64_MAX_CORES; i++) online += checked_in[i] != 0;
  } while (online < cores && counter() < deadline);
  return online;
}
