// Board test image of the AArch64 Broadcom boards (rpi3, rpi4): firmware facts over the mailbox,
// MMU and cache state, the RAM arena, both clocks, unaligned access. Prints one "key=value" line
// per check, each starting with the board's name, for tests/board/board_test.py, then exits 0
// (the script judges the values).
#include "board/board.h"

#include "arch_probe.h"
#include "bcm/aarch64_board.h"
#include "board/memory.h"
#include "board/time.h"
#include "common/fmt.h"

int main(void) {
  const char *name = board_name();
  const struct bcm_firmware *fw = bcm_board_firmware();
  fmt_printf(board_putc,
             "%s: mailbox_ok=%d revision=0x%08x arm_mem=0x%08x+0x%08x vc_mem=0x%08x+0x%08x\r\n",
             name, fw->ok, fw->revision, fw->arm_base, fw->arm_size, fw->vc_base, fw->vc_size);
  fmt_printf(board_putc, "%s: ram_total_mb=%u mmu_error=%d sctlr=0x%llx\r\n", name,
             (unsigned)(bcm_board_ram_total() >> 20), bcm_board_mmu_error(), probe_sctlr());

  uintptr_t base;
  size_t size;
  int ram = board_ram(&base, &size);
  fmt_printf(board_putc, "%s: board_ram=%d base=0x%llx size=0x%llx\r\n", name, ram,
             (unsigned long long)base, (unsigned long long)size);
  if (ram == 0) {  // the arena is real, cacheable RAM: write and read back both ends
    volatile uint64_t *lo = (volatile uint64_t *)base;
    volatile uint64_t *hi = (volatile uint64_t *)(base + size - 8);
    *lo = 0x1122334455667788ull;
    *hi = ~*lo;
    fmt_printf(board_putc, "%s: arena_rw=%d\r\n", name,
               *lo == 0x1122334455667788ull && *hi == ~*lo);
  }

  // Both clocks over the same busy loop: the 1 MHz system timer and the generic timer.
  uint64_t t0 = board_time_us(), c0 = probe_counter();
  for (volatile int i = 0; i < 2000000; i++) {
  }
  uint64_t t1 = board_time_us(), c1 = probe_counter();
  fmt_printf(board_putc, "%s: systimer_us=%llu counter_ticks=%llu counter_hz=%llu\r\n", name,
             (unsigned long long)(t1 - t0), (unsigned long long)(c1 - c0),
             (unsigned long long)probe_counter_hz());

  // With the MMU on, RAM is normal memory: an unaligned load works (it faults on Device
  // memory, i.e. with the MMU off). The compiler never emits one (-mstrict-align): asm.
  static uint8_t bytes[16] __attribute__((aligned(16))) = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  fmt_printf(board_putc, "%s: unaligned_load=0x%016llx\r\n", name, probe_load64(bytes + 1));
  fmt_printf(board_putc, "%s: board test done\r\n", name);
  return 0;
}
