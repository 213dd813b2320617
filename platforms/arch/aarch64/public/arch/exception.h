// AArch64 exception reports. start.S installs one vector table on every core; each entry
// saves the registers and calls aarch64_exception(), which never returns. Until a board
// calls aarch64_crash_report_to(), an exception parks the core silently (wfe forever).
#ifndef ARCH_EXCEPTION_H_
#define ARCH_EXCEPTION_H_

#include <stdint.h>

#define AARCH64_CRASH_STATUS 70  // exit status after a crash report (EX_SOFTWARE)

// Registers at the exception, as start.S saves them.
struct aarch64_frame {
  uint64_t x[31];  // x0..x30
  uint64_t sp;     // SP before the exception (exceptions taken from the same EL)
};

// After this call an exception prints a crash report through putc -- exception class
// (named for the common ones), ESR, FAR, ELR, SPSR, x0-x30, SP, core -- then calls
// exit_fn(AARCH64_CRASH_STATUS) (semihosting exit under QEMU). Only the first crash is
// reported; a second one (another core, or inside the report) parks. A semihosting trap
// (hlt #0xf000) with no debugger attached parks silently: that is board_exit() on hardware.
void aarch64_crash_report_to(void (*putc)(char c), void (*exit_fn)(int status));

// Reads a 32-bit register that may not exist: returns 0 with *value, or -1 when the read took
// a synchronous external abort (a whole register block absent, as QEMU's raspi4b lacks the
// BCM2711's PCIe controller); the abort is then not reported. Core 0, EL1 or EL2.
int aarch64_probe_read32(uintptr_t addr, uint32_t *value);

// Name of an ESR exception class, e.g. 0x25 -> "data abort, same EL"; "?" if not named.
const char *aarch64_exception_class_name(unsigned ec);

// start.S: kind is the vector index 0..15, frame the saved registers.
void aarch64_exception(unsigned kind, struct aarch64_frame *frame) __attribute__((noreturn));

#endif  // ARCH_EXCEPTION_H_
