// Crash reports for exceptions. Exception classes and fault status codes: Arm ARM, ESR_ELx.
#include "arch/exception.h"

#include "arch/aarch64.h"
#include "common/fmt.h"

#define HLT_SEMIHOSTING 0xd45e0000u  // hlt #0xf000, the AArch64 semihosting trap

static void (*report_putc)(char c);
static void (*report_exit)(int status);
static uint32_t crashing;

void aarch64_crash_report_to(void (*putc)(char c), void (*exit_fn)(int status)) {
  report_exit = exit_fn;
  report_putc = putc;
}

const char *aarch64_exception_class_name(unsigned ec) {
  switch (ec) {
    case 0x00:
      return "unknown reason (undefined instruction)";
    case 0x01:
      return "trapped WFI/WFE";
    case 0x07:
      return "trapped SIMD/FP access";
    case 0x0e:
      return "illegal execution state";
    case 0x15:
      return "SVC (AArch64)";
    case 0x16:
      return "HVC (AArch64)";
    case 0x17:
      return "SMC (AArch64)";
    case 0x18:
      return "trapped MSR/MRS/system instruction";
    case 0x20:
      return "instruction abort, lower EL";
    case 0x21:
      return "instruction abort, same EL";
    case 0x22:
      return "PC alignment fault";
    case 0x24:
      return "data abort, lower EL";
    case 0x25:
      return "data abort, same EL";
    case 0x26:
      return "SP alignment fault";
    case 0x2c:
      return "floating-point exception";
    case 0x2f:
      return "SError interrupt";
    case 0x30:
    case 0x31:
      return "breakpoint";
    case 0x32:
    case 0x33:
      return "software step";
    case 0x34:
    case 0x35:
      return "watchpoint";
    case 0x3c:
      return "BRK instruction";
  }
  return "?";
}

// Data/instruction fault status code (ISS bits 5:0) of an abort.
static const char *fault_status_name(unsigned fsc) {
  if (fsc <= 0x03) return "address size fault";
  if (fsc <= 0x07) return "translation fault";
  if (fsc >= 0x09 && fsc <= 0x0b) return "access flag fault";
  if (fsc >= 0x0d && fsc <= 0x0f) return "permission fault";
  if (fsc == 0x10) return "synchronous external abort";
  if (fsc == 0x21) return "alignment fault";
  if (fsc == 0x30) return "TLB conflict abort";
  return "other fault";
}

struct syndrome {
  uint64_t esr, elr, far, spsr;
};

static struct syndrome read_syndrome(void) {
  struct syndrome s = {0, 0, 0, 0};
  switch (aarch64_current_el()) {
    case 1:
      __asm__ volatile("mrs %0, esr_el1\n\tmrs %1, elr_el1\n\tmrs %2, far_el1\n\tmrs %3, spsr_el1"
                       : "=r"(s.esr), "=r"(s.elr), "=r"(s.far), "=r"(s.spsr));
      break;
    case 2:
      __asm__ volatile("mrs %0, esr_el2\n\tmrs %1, elr_el2\n\tmrs %2, far_el2\n\tmrs %3, spsr_el2"
                       : "=r"(s.esr), "=r"(s.elr), "=r"(s.far), "=r"(s.spsr));
      break;
    case 3:
      __asm__ volatile("mrs %0, esr_el3\n\tmrs %1, elr_el3\n\tmrs %2, far_el3\n\tmrs %3, spsr_el3"
                       : "=r"(s.esr), "=r"(s.elr), "=r"(s.far), "=r"(s.spsr));
      break;
  }
  return s;
}

// --- probing reads (aarch64_probe_read32) ---

static volatile uintptr_t probe_at;  // the probing load's address while a probe runs, else 0
static volatile int probe_failed;

int aarch64_probe_read32(uintptr_t addr, uint32_t *value) {
  uint32_t v = 0;
  uintptr_t at;
  probe_failed = 0;
  __asm__ volatile(
      "adr %1, 1f\n\t"
      "str %1, [%3]\n\t"
      "dsb sy\n"
      "1: ldr %w0, [%2]\n\t"
      "dsb sy"
      : "+&r"(v), "=&r"(at)
      : "r"(addr), "r"(&probe_at)
      : "memory");
  probe_at = 0;
  if (probe_failed) return -1;
  *value = v;
  return 0;
}

// Returns from an exception to elr with the registers of frame (the vector saved them).
__attribute__((naked, noreturn)) static void resume(struct aarch64_frame *frame, uint64_t elr) {
  __asm__ volatile(
      "mrs x2, CurrentEL\n\t"
      "cmp x2, #8\n\t"
      "b.ne 1f\n\t"
      "msr elr_el2, x1\n\t"
      "b 2f\n"
      "1: msr elr_el1, x1\n"
      "2: ldr x1, [x0, #248]\n\t"
      "mov sp, x1\n\t"
      "ldp x2, x3, [x0, #16]\n\t"
      "ldp x4, x5, [x0, #32]\n\t"
      "ldp x6, x7, [x0, #48]\n\t"
      "ldp x8, x9, [x0, #64]\n\t"
      "ldp x10, x11, [x0, #80]\n\t"
      "ldp x12, x13, [x0, #96]\n\t"
      "ldp x14, x15, [x0, #112]\n\t"
      "ldp x16, x17, [x0, #128]\n\t"
      "ldp x18, x19, [x0, #144]\n\t"
      "ldp x20, x21, [x0, #160]\n\t"
      "ldp x22, x23, [x0, #176]\n\t"
      "ldp x24, x25, [x0, #192]\n\t"
      "ldp x26, x27, [x0, #208]\n\t"
      "ldp x28, x29, [x0, #224]\n\t"
      "ldr x30, [x0, #240]\n\t"
      "ldp x0, x1, [x0, #0]\n\t"
      "eret");
}

void aarch64_exception(unsigned kind, struct aarch64_frame *frame) {
  static const char *const types[] = {"synchronous", "IRQ", "FIQ", "SError"};
  static const char *const origins[] = {"current EL, SP_EL0", "current EL, SP_ELx",
                                        "lower EL, AArch64", "lower EL, AArch32"};
  struct syndrome s = read_syndrome();
  unsigned ec = (unsigned)(s.esr >> 26) & 0x3f;
  // A probing read that aborted: carry on after it, the probe reports the failure.
  if (kind == 4 && ec == 0x25 && probe_at != 0 && s.elr == probe_at) {
    probe_failed = 1;
    resume(frame, s.elr + 4);
  }
  // board_exit() on hardware: the semihosting trap is an undefined instruction there.
  if ((kind & 3) == 0 && ec == 0x00 &&
      *(const volatile uint32_t *)(uintptr_t)s.elr == HLT_SEMIHOSTING) {
    aarch64_park();
  }
  fmt_putc_fn putc = report_putc;
  if (putc == 0 || __atomic_exchange_n(&crashing, 1u, __ATOMIC_ACQ_REL) != 0) aarch64_park();

  fmt_printf(putc, "\r\n*** crash: %s exception (%s) on core %u at el=%u\r\n", types[kind & 3],
             origins[(kind >> 2) & 3], aarch64_core_id(), aarch64_current_el());
  fmt_printf(putc, "  class: 0x%02x %s", ec, aarch64_exception_class_name(ec));
  if ((kind & 3) == 0 && (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25)) {
    unsigned fsc = (unsigned)s.esr & 0x3f;
    fmt_printf(putc, ": %s", fault_status_name(fsc));
    if (fsc < 0x10) fmt_printf(putc, ", level %u", fsc & 3);
    if (ec >= 0x24) fmt_puts(putc, (s.esr >> 6) & 1 ? ", write" : ", read");
  }
  fmt_puts(putc, "\r\n");
  fmt_printf(putc, "  ESR=0x%016llx FAR=0x%016llx\r\n", (unsigned long long)s.esr,
             (unsigned long long)s.far);
  fmt_printf(putc, "  ELR=0x%016llx SPSR=0x%016llx\r\n", (unsigned long long)s.elr,
             (unsigned long long)s.spsr);
  for (int i = 0; i < 31; i++) {
    fmt_printf(putc, "%sx%02u=0x%016llx", i % 4 == 0 ? "  " : " ", (unsigned)i,
               (unsigned long long)frame->x[i]);
    if (i % 4 == 3) fmt_puts(putc, "\r\n");
  }
  fmt_printf(putc, "  sp =0x%016llx\r\n", (unsigned long long)frame->sp);
  fmt_printf(putc, "*** exit status %d\r\n", AARCH64_CRASH_STATUS);
  if (report_exit != 0) report_exit(AARCH64_CRASH_STATUS);
  aarch64_park();
}
