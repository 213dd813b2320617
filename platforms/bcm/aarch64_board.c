// The AArch64 Broadcom board support of bcm/aarch64_board.h: everything rpi3 and rpi4 do the
// same way, over the facts in the board's struct bcm_board.
#include "bcm/aarch64_board.h"

#include "arch/aarch64.h"
#include "arch/board_parallel.h"
#include "arch/exception.h"
#include "arch/mmu.h"
#include "bcm/bcm.h"
#include "bcm/health.h"
#include "board/board.h"
#include "board/memory.h"
#include "board/time.h"
#include "common/fmt.h"
#include "drivers/bcm_mailbox.h"
#include "drivers/bcm_systimer.h"
#include "drivers/pl011.h"
#include "drivers/semihosting.h"

#define MAX_REGIONS 8  // RAM below the peripherals, RAM above 4 GB, the device windows

extern char __stacks_top[];  // linker.ld: end of the image's memory

static const struct bcm_board *facts;
static struct bcm_firmware firmware;
static uint64_t ram_total;
static int mmu_error;

static void query_firmware(void) {
  uint32_t rev[1] = {0}, arm[2] = {0, 0}, vc[2] = {0, 0};
  uintptr_t mailbox = facts->mailbox;
  int ok = bcm_mailbox_property(mailbox, BCM_VC_BUS_ALIAS, BCM_TAG_BOARD_REVISION, rev, 1) ==
           BCM_MAILBOX_OK;
  ok &=
      bcm_mailbox_property(mailbox, BCM_VC_BUS_ALIAS, BCM_TAG_ARM_MEMORY, arm, 2) == BCM_MAILBOX_OK;
  ok &= bcm_mailbox_property(mailbox, BCM_VC_BUS_ALIAS, BCM_TAG_VC_MEMORY, vc, 2) == BCM_MAILBOX_OK;
  struct bcm_firmware f = {ok, rev[0], arm[0], arm[1], vc[0], vc[1]};
  firmware = f;
}

// New-style revision codes (bit 23) carry the memory size in bits 22:20: 256 MB << n.
static uint64_t ram_from_revision(uint32_t revision) {
  unsigned code = (revision >> 20) & 7;
  if (!(revision & (1u << 23)) || code > 5) return 0;
  return (UINT64_C(256) << 20) << code;
}

static void enable_mmu(void) {
  ram_total = ram_from_revision(firmware.revision);
  if (ram_total == 0) ram_total = facts->ram_fallback;
  const uint64_t four_gb = UINT64_C(1) << 32;
  struct aarch64_region regions[MAX_REGIONS];
  int n = 0;
  uint64_t low = ram_total < facts->ram_limit ? ram_total : facts->ram_limit;
  regions[n++] = (struct aarch64_region){0, low, AARCH64_MEM_NORMAL};
  if (ram_total > four_gb) {
    regions[n++] = (struct aarch64_region){four_gb, ram_total - four_gb, AARCH64_MEM_NORMAL};
  }
  for (int i = 0; i < facts->device_count && n < MAX_REGIONS; i++) regions[n++] = facts->devices[i];
  mmu_error = aarch64_mmu_enable(regions, n);
  if (mmu_error != AARCH64_MMU_OK) {
    fmt_printf(board_putc, "%s: MMU and caches stay off: %s\r\n", facts->name,
               aarch64_mmu_error_name(mmu_error));
  }
}

void bcm_board_init(const struct bcm_board *board) {
  facts = board;
  pl011_init(board->uart, BCM_UART_CLOCK_HZ, board->baud);
  aarch64_crash_report_to(board_putc, board_exit);
  query_firmware();  // before the MMU: the RAM size decides the map
  enable_mmu();
  // Secondaries turn on their MMU with the same tables first thing (start.S).
  bcm_spin_table_release(board->cores, (uintptr_t)_start);
  aarch64_board_cores_start((int)board->cores, board->core_wait_ms);
  bcm_health_init(board->mailbox, BCM_VC_BUS_ALIAS, board->keepalive_us);
}

void board_putc(char c) { pl011_putc(facts->uart, c); }
int board_getc(void) { return pl011_getc(facts->uart); }
int board_try_getc(void) { return pl011_getc(facts->uart); }
const char *board_name(void) { return facts->name; }
const char *board_cpu(void) { return facts->cpu; }
const char *board_privilege(void) { return aarch64_privilege(); }
void board_exit(int status) { semihosting_exit(status); }

uint64_t board_time_us(void) { return bcm_systimer_now(facts->systimer); }

int board_ram(uintptr_t *base, size_t *size) {
  uintptr_t start = ((uintptr_t)__stacks_top + 4095) & ~(uintptr_t)4095;
  uintptr_t end = (uintptr_t)firmware.arm_base + firmware.arm_size;
  if (!firmware.ok || end <= start) {
    *base = 0;
    *size = 0;
    return -1;
  }
  *base = start;
  *size = end - start;
  return 0;
}

const struct bcm_firmware *bcm_board_firmware(void) { return &firmware; }
uint64_t bcm_board_ram_total(void) { return ram_total; }
int bcm_board_mmu_error(void) { return mmu_error; }
