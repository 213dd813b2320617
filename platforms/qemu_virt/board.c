// QEMU virt (AArch64): board.h on PL011, PSCI SMP and semihosting exit; board/time.h on the
// generic timer, board/memory.h (RAM after the image), board/parallel.h on the cores that
// checked in, with the MMU and caches on when the image starts at EL2.
#include "board/board.h"

#include "arch/aarch64.h"
#include "arch/board_parallel.h"
#include "arch/exception.h"
#include "arch/mmu.h"
#include "board/memory.h"
#include "board/time.h"
#include "common/fmt.h"
#include "drivers/pl011.h"
#include "drivers/psci.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

extern char __stacks_top[];  // linker.ld: end of the image's memory

static void enable_mmu(void) {
  static const struct aarch64_region regions[] = {
      {0, QEMU_VIRT_DEVICES_END, AARCH64_MEM_DEVICE},
      {QEMU_VIRT_RAM_BASE, QEMU_VIRT_RAM_SIZE, AARCH64_MEM_NORMAL},
  };
  int error = aarch64_mmu_enable(regions, sizeof regions / sizeof regions[0]);
  if (error != AARCH64_MMU_OK)
    fmt_printf(board_putc, "qemu_virt: MMU and caches stay off: %s\r\n",
               aarch64_mmu_error_name(error));
}

void board_init(void) {
  pl011_init(QEMU_VIRT_CONSOLE_UART, QEMU_VIRT_UART_CLOCK_HZ, QEMU_VIRT_CONSOLE_BAUD);
  aarch64_crash_report_to(board_putc, board_exit);
  unsigned el = aarch64_current_el();
  if (el == 2) enable_mmu();  // secondaries turn theirs on with the same tables (start.S)
  // virt numbers CPUs in Aff0; a refused CPU_ON (no such CPU) never checks in.
  // At EL3 (-M virt,secure=on, unsupported) there is no PSCI below us: QEMU starts
  // every CPU at the entry itself, racing core 0's .bss clear, so the count is a guess.
  for (unsigned core = 1; el < 3 && core < QEMU_VIRT_CORES; core++) {
    psci_cpu_on(el == 1 ? PSCI_HVC : PSCI_SMC, core, (uintptr_t)_start, 0);
  }
  aarch64_board_cores_start(QEMU_VIRT_CORES, QEMU_VIRT_CORE_WAIT_MS);
}

void board_putc(char c) { pl011_putc(QEMU_VIRT_CONSOLE_UART, c); }
int board_getc(void) { return pl011_getc(QEMU_VIRT_CONSOLE_UART); }
int board_try_getc(void) { return pl011_getc(QEMU_VIRT_CONSOLE_UART); }
const char *board_name(void) { return "qemu_virt"; }
const char *board_cpu(void) { return "cortex-a72"; }
const char *board_privilege(void) { return aarch64_privilege(); }
void board_exit(int status) { semihosting_exit(status); }

uint64_t board_time_us(void) {
  uint64_t hz = aarch64_counter_hz(), t = aarch64_counter();
  return hz ? t / hz * 1000000u + t % hz * 1000000u / hz : 0;
}

int board_ram(uintptr_t *base, size_t *size) {
  uintptr_t start = ((uintptr_t)__stacks_top + 4095) & ~(uintptr_t)4095;
  *base = start;
  *size = (uintptr_t)QEMU_VIRT_RAM_BASE + QEMU_VIRT_RAM_SIZE - start;
  return 0;
}
