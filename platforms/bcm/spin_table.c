#include "bcm/bcm.h"

// Release word of core n (armstub8's spin table starts at 0xd8 for core 0).
#define SPIN_TABLE_RELEASE(core) (0xd8u + 8u * (core))

void bcm_spin_table_release(unsigned cores, uintptr_t entry) {
  for (unsigned core = 1; core < cores; core++) {
    *(volatile uint64_t *)(uintptr_t)SPIN_TABLE_RELEASE(core) = entry;
  }
  __asm__ volatile("dsb sy\n\tsev" ::: "memory");
}
