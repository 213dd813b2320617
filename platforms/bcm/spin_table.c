#include "arch/cache.h"
#include "bcm/bcm.h"

// Release word of core n (armstub8's spin table starts at 0xd8 for core 0).
#define SPIN_TABLE_RELEASE(core) (0xd8u + 8u * (core))

void bcm_spin_table_release(unsigned cores, uintptr_t entry) {
  for (unsigned core = 1; core < cores; core++) {
    volatile uint64_t *release = (volatile uint64_t *)(uintptr_t)SPIN_TABLE_RELEASE(core);
    *release = entry;
    // With core 0's caches on, the store may sit in its D-cache; the polling core reads memory.
    aarch64_dcache_clean_invalidate(release, sizeof *release);
  }
  __asm__ volatile("dsb sy\n\tsev" ::: "memory");
}
