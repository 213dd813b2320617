// Raspberry Pi 4 (BCM2711): board.h on PL011 UART0, spin-table SMP and semihosting exit;
// MMU and caches, crash reports, parallel-for on 4 cores, system timer, mailbox RAM query;
// the firmware keepalive is in health.c.
#include "board/board.h"

#include "arch/aarch64.h"
#include "arch/exception.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "bcm/bcm.h"
#include "board/memory.h"
#include "board/parallel.h"
#include "board/time.h"
#include "common/fmt.h"
#include "drivers/bcm_firmware.h"
#include "drivers/bcm_mailbox.h"
#include "drivers/bcm_systimer.h"
#include "drivers/pl011.h"
#include "drivers/semihosting.h"
#include "memory_map.h"
#include "rpi4/rpi4.h"
#include "rpi4_internal.h"

extern char __stacks_top[];  // linker.ld: end of the image's memory

static int cores_online = 1;
static int parallel_cores = 1;
static struct rpi4_firmware firmware;
static uint64_t ram_total;
static int mmu_error;

static void query_firmware(void) {
  uint32_t rev[1] = {0}, arm[2] = {0, 0}, vc[2] = {0, 0};
  int ok = bcm_mailbox_property(RPI4_MAILBOX, BCM_VC_BUS_ALIAS, BCM_TAG_BOARD_REVISION, rev, 1) ==
           BCM_MAILBOX_OK;
  ok &= bcm_mailbox_property(RPI4_MAILBOX, BCM_VC_BUS_ALIAS, BCM_TAG_ARM_MEMORY, arm, 2) ==
        BCM_MAILBOX_OK;
  ok &= bcm_mailbox_property(RPI4_MAILBOX, BCM_VC_BUS_ALIAS, BCM_TAG_VC_MEMORY, vc, 2) ==
        BCM_MAILBOX_OK;
  struct rpi4_firmware f = {ok, rev[0], arm[0], arm[1], vc[0], vc[1]};
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
  if (ram_total == 0) ram_total = RPI4_RAM_FALLBACK;
  const uint64_t four_gb = UINT64_C(1) << 32;
  struct aarch64_region regions[4];
  int n = 0;
  uint64_t low = ram_total < BCM2711_LOW_PERIPH_START ? ram_total : BCM2711_LOW_PERIPH_START;
  regions[n++] = (struct aarch64_region){0, low, AARCH64_MEM_NORMAL};
  regions[n++] = (struct aarch64_region){BCM2711_LOW_PERIPH_START,
                                         four_gb - BCM2711_LOW_PERIPH_START, AARCH64_MEM_DEVICE};
  if (ram_total > four_gb) {
    regions[n++] = (struct aarch64_region){four_gb, ram_total - four_gb, AARCH64_MEM_NORMAL};
  }
  regions[n++] =
      (struct aarch64_region){BCM2711_PCIE_WINDOW, RPI4_PCIE_MAP_SIZE, AARCH64_MEM_DEVICE};
  mmu_error = aarch64_mmu_enable(regions, n);
  if (mmu_error != AARCH64_MMU_OK) {
    fmt_printf(board_putc, "rpi4: MMU and caches stay off: %s\r\n",
               aarch64_mmu_error_name(mmu_error));
  }
}

void board_init(void) {
  pl011_init(RPI4_CONSOLE_UART, BCM_UART_CLOCK_HZ, RPI4_CONSOLE_BAUD);
  aarch64_crash_report_to(board_putc, board_exit);
  query_firmware();  // before the MMU: the RAM size decides the map
  enable_mmu();
  // Secondaries turn on their MMU with the same tables first thing (start.S).
  bcm_spin_table_release(RPI4_CORES, (uintptr_t)_start);
  cores_online = aarch64_wait_cores(RPI4_CORES, RPI4_CORE_WAIT_MS);
  parallel_cores = cores_online;
  rpi4_health_init();
}

void board_putc(char c) { pl011_putc(RPI4_CONSOLE_UART, c); }
int board_getc(void) { return pl011_getc(RPI4_CONSOLE_UART); }
const char *board_name(void) { return "rpi4"; }
const char *board_cpu(void) { return "cortex-a72"; }
const char *board_privilege(void) { return aarch64_privilege(); }
int board_cores_online(void) { return cores_online; }
void board_exit(int status) { semihosting_exit(status); }

void board_parallel_for(board_task_fn fn, void *ctx, int n, void *user) {
  (void)user;
  aarch64_parallel_for(fn, ctx, n, parallel_cores);
}

int board_parallel_set_cores(int cores) {
  parallel_cores = cores < 1 ? 1 : cores > cores_online ? cores_online : cores;
  return parallel_cores;
}

int board_parallel_cores(void) { return parallel_cores; }

uint64_t board_time_us(void) { return bcm_systimer_now(RPI4_SYSTIMER); }

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

// EMMC2's clock as the firmware set it (GET_CLOCK_RATE), or 0 when the firmware does not say.
static uint32_t emmc2_clock_hz(void) {
  uint32_t clock[2] = {RPI4_EMMC2_CLOCK_ID, 0};
  int ok = bcm_mailbox_property(RPI4_MAILBOX, BCM_VC_BUS_ALIAS, BCM_TAG_GET_CLOCK_RATE, clock, 2) ==
           BCM_MAILBOX_OK;
  return ok && clock[0] == RPI4_EMMC2_CLOCK_ID ? clock[1] : 0;
}

int rpi4_sd_slots(const struct rpi4_sd_slot **slots) {
  static struct rpi4_sd_slot table[2] = {{RPI4_SD_EMMC2, 0, "EMMC2"}, {RPI4_SD_EMMC, 0, "EMMC"}};
  table[0].clock_hz = emmc2_clock_hz();
  *slots = table;
  return 2;
}

uintptr_t rpi4_ram_bundle(void) { return (uintptr_t)RPI4_RAM_BUNDLE; }

const struct rpi4_firmware *rpi4_firmware(void) { return &firmware; }
uint64_t rpi4_ram_total(void) { return ram_total; }
int rpi4_mmu_error(void) { return mmu_error; }
