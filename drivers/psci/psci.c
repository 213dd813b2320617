#include "drivers/psci.h"

enum { PSCI_CPU_ON_64 = 0xc4000003 };

int psci_cpu_on(enum psci_conduit conduit, uint64_t mpidr, uintptr_t entry, uint64_t context) {
  register uint64_t x0 __asm__("x0") = PSCI_CPU_ON_64;
  register uint64_t x1 __asm__("x1") = mpidr;
  register uint64_t x2 __asm__("x2") = entry;
  register uint64_t x3 __asm__("x3") = context;
  // SMCCC: x0-x17 may be clobbered by the callee.
  if (conduit == PSCI_HVC) {
    __asm__ volatile("hvc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     :
                     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                       "x16", "x17", "memory");
  } else {
    __asm__ volatile("smc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     :
                     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                       "x16", "x17", "memory");
  }
  return (int)x0;
}
