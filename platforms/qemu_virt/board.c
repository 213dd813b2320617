// QEMU virt (AArch64): board.h on PL011, PSCI SMP and semihosting exit.
#include "board/board.h"

#include "arch/aarch64.h"
#include "drivers/pl011.h"
#include "drivers/psci.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

static int cores_online = 1;

void board_init(void) {
  pl011_init(QEMU_VIRT_CONSOLE_UART, QEMU_VIRT_UART_CLOCK_HZ, QEMU_VIRT_CONSOLE_BAUD);
  unsigned el = aarch64_current_el();
  // virt numbers CPUs in Aff0; a refused CPU_ON (no such CPU) never checks in.
  // At EL3 (-M virt,secure=on, unsupported) there is no PSCI below us: QEMU starts
  // every CPU at the entry itself, racing core 0's .bss clear, so the count is a guess.
  for (unsigned core = 1; el < 3 && core < QEMU_VIRT_CORES; core++) {
    psci_cpu_on(el == 1 ? PSCI_HVC : PSCI_SMC, core, (uintptr_t)_start, 0);
  }
  cores_online = aarch64_wait_cores(QEMU_VIRT_CORES, QEMU_VIRT_CORE_WAIT_MS);
}

void board_putc(char c) { pl011_putc(QEMU_VIRT_CONSOLE_UART, c); }
int board_getc(void) { return pl011_getc(QEMU_VIRT_CONSOLE_UART); }
int board_try_getc(void) { return pl011_getc(QEMU_VIRT_CONSOLE_UART); }
const char *board_name(void) { return "qemu_virt"; }
const char *board_cpu(void) { return "cortex-a72"; }
const char *board_privilege(void) { return aarch64_privilege(); }
int board_cores_online(void) { return cores_online; }
void board_exit(int status) { semihosting_exit(status); }
