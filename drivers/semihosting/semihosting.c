// Trap instructions and operation numbers from Arm's "Semihosting for AArch32 and
// AArch64" specification (version 2.0).
#include "drivers/semihosting.h"

#include <stdint.h>

enum {
  SYS_WRITE0 = 0x04,
  SYS_EXIT = 0x18,
  SYS_EXIT_EXTENDED = 0x20,
  ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static uintptr_t call(uintptr_t op, const void *arg) {
#if defined(__aarch64__)
  register uintptr_t r0 __asm__("x0") = op;
  register const void *r1 __asm__("x1") = arg;
  __asm__ volatile("hlt #0xf000" : "+r"(r0) : "r"(r1) : "memory");
#elif defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
  register uintptr_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt #0xab" : "+r"(r0) : "r"(r1) : "memory");
#elif defined(__arm__) && !defined(__thumb__)
  // A/R-profile in ARM state. A real SVC clobbers lr_svc, hence the clobber.
  register uintptr_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("svc #0x123456" : "+r"(r0) : "r"(r1) : "memory", "lr");
#else
#error "semihosting: unsupported architecture or instruction set"
#endif
  return r0;
}

void semihosting_write0(const char *s) { call(SYS_WRITE0, s); }

void semihosting_exit(int status) {
  // The parameter block form carries the status. AArch64 SYS_EXIT always takes
  // a block; on 32-bit cores that form is SYS_EXIT_EXTENDED.
  const uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)status};
#if defined(__aarch64__)
  call(SYS_EXIT, block);
#else
  call(SYS_EXIT_EXTENDED, block);
#endif
  for (;;) {
  }
}
