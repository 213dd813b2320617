// Raspberry Pi Zero (BCM2835, one ARM1176JZF-S): board.h on PL011 UART0 (semihosting exit), and
// the optional parts the chat uses: board/time.h (BCM system timer), board/memory.h (the ARM's
// RAM as the firmware reports it), board/parallel.h (one core: runs the task in place),
// board/health.h (//platforms/bcm:health) and board/storage.h (//platforms/bcm:storage over
// bcm/sd_slots.h: the Arasan EMMC, its reads through a DMA channel, the RAM-bundle address).
#include "board/board.h"

#include "arch/armv6_mmu.h"
#include "bcm/bcm.h"
#include "bcm/health.h"
#include "bcm/sd_slots.h"
#include "board/memory.h"
#include "board/parallel.h"
#include "board/time.h"
#include "common/fmt.h"
#include "drivers/bcm_dma.h"
#include "drivers/bcm_firmware.h"
#include "drivers/bcm_mailbox.h"
#include "drivers/bcm_systimer.h"
#include "drivers/pl011.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

extern char __stack_top[];  // linker.ld: the end of the image (code, data, bss, stack)

static uint32_t arm_ram_end;  // 0 when the firmware did not answer
static uint32_t emmc_clock_hz;

static int property(uint32_t tag, uint32_t *values, unsigned count) {
  return bcm_mailbox_property(RPI0_MAILBOX, BCM2835_VC_BUS_ALIAS, tag, values, count) ==
         BCM_MAILBOX_OK;
}

// The flat map: RAM (the ARM's and the VideoCore's, 512 MB) normal and cached, the peripherals
// device. The whole RAM is mapped before the firmware has said where the ARM's share ends.
static const struct armv6_region regions[] = {
    {0, RPI0_RAM_MAP_SIZE, ARMV6_MEM_NORMAL},
    {BCM2835_PERIPH_BASE, RPI0_PERIPH_SIZE, ARMV6_MEM_DEVICE},
};

void board_init(void) {
  int mmu = armv6_mmu_enable(regions, sizeof regions / sizeof regions[0]);
  pl011_init(RPI0_CONSOLE_UART, BCM_UART_CLOCK_HZ, RPI0_CONSOLE_BAUD);
  if (mmu != 0) fmt_printf(board_putc, "rpi0: MMU and caches stay off: bad region\r\n");
  uint32_t arm[2] = {0, 0}, clock[2] = {RPI0_EMMC_CLOCK_ID, 0};
  if (property(BCM_TAG_ARM_MEMORY, arm, 2)) arm_ram_end = arm[0] + arm[1];
  if (property(BCM_TAG_GET_CLOCK_RATE, clock, 2) && clock[0] == RPI0_EMMC_CLOCK_ID) {
    emmc_clock_hz = clock[1];
  }
  bcm_health_init(RPI0_MAILBOX, BCM2835_VC_BUS_ALIAS, RPI0_KEEPALIVE_US);
}

void board_putc(char c) { pl011_putc(RPI0_CONSOLE_UART, c); }
int board_getc(void) { return pl011_getc(RPI0_CONSOLE_UART); }
int board_try_getc(void) { return pl011_getc(RPI0_CONSOLE_UART); }
const char *board_name(void) { return "rpi0"; }
const char *board_cpu(void) { return "arm1176jzf-s"; }

const char *board_privilege(void) {
  uint32_t cpsr;
  __asm__ volatile("mrs %0, cpsr" : "=r"(cpsr));
  switch (cpsr & 0x1f) {
    case 0x10:
      return "mode=usr";
    case 0x11:
      return "mode=fiq";
    case 0x12:
      return "mode=irq";
    case 0x13:
      return "mode=svc";
    case 0x16:
      return "mode=mon";
    case 0x17:
      return "mode=abt";
    case 0x1b:
      return "mode=und";
    case 0x1f:
      return "mode=sys";
    default:
      return "mode=unknown";
  }
}

int board_cores_online(void) { return 1; }  // the BCM2835 has one ARM core
void board_exit(int status) { semihosting_exit(status); }

void board_parallel_for(board_task_fn fn, void *ctx, int n, void *user) {
  (void)user;
  if (n > 0) fn(ctx, 0, n);
}
int board_parallel_set_cores(int cores) {
  (void)cores;
  return 1;
}
int board_parallel_cores(void) { return 1; }

uint64_t board_time_us(void) { return bcm_systimer_now(RPI0_SYSTIMER); }

int board_ram(uintptr_t *base, size_t *size) {
  uintptr_t start = ((uintptr_t)__stack_top + 4095) & ~(uintptr_t)4095;
  if (arm_ram_end <= start) {
    *base = 0;
    *size = 0;
    return -1;
  }
  *base = start;
  *size = arm_ram_end - start;
  return 0;
}

// The SD card's DMA (drivers/sdhci's sdhci_dma): one control block, buffers whole cache lines
// (32-byte aligned, multiples of 512 bytes), so invalidating them before and after is enough.
static bcm_dma_cb sd_cb;
static void *sd_buf;
static uint32_t sd_bytes;

static uint32_t bus_address(const void *p) { return (uint32_t)(uintptr_t)p | BCM2835_VC_BUS_ALIAS; }

static int sd_dma_start(void *ctx, uintptr_t data_port, void *buf, uint32_t bytes) {
  (void)ctx;
  uint32_t source = (uint32_t)(data_port - BCM2835_PERIPH_BASE) + BCM_PERIPH_BUS_BASE;
  if (bcm_dma_prepare_from_device(&sd_cb, source, BCM_DMA_PERMAP_EMMC, bus_address(buf), bytes) !=
      BCM_DMA_OK) {
    return -1;
  }
  armv6_dcache_clean(&sd_cb, sizeof sd_cb);
  armv6_dcache_invalidate(buf, bytes);  // no dirty line may be written back over the data
  sd_buf = buf;
  sd_bytes = bytes;
  bcm_dma_start(RPI0_SD_DMA_CHANNEL, RPI0_DMA_ENABLE, RPI0_SD_DMA_INDEX, bus_address(&sd_cb));
  return 0;
}

static int sd_dma_finish(void *ctx) {
  (void)ctx;
  // At least 4 MB/s: a real card at 25 MHz, 4 bits moves up to 12.5 MB/s.
  int st = bcm_dma_wait(RPI0_SD_DMA_CHANNEL, board_time_us, 100000u + sd_bytes / 4u);
  armv6_dcache_invalidate(sd_buf, sd_bytes);  // lines fetched while the engine wrote
  return st != BCM_DMA_OK;
}

static const sdhci_dma sd_dma = {sd_dma_start, sd_dma_finish, 0, 32};

int bcm_sd_slots(const struct bcm_sd_slot **slots) {
  static struct bcm_sd_slot table[1] = {{RPI0_SD_EMMC, 0, "EMMC", &sd_dma}};
  table[0].clock_hz = emmc_clock_hz;
  *slots = table;
  return 1;
}

uintptr_t bcm_ram_bundle(void) { return RPI0_RAM_BUNDLE; }

// The Zero's one USB port is the SoC's DWC2 OTG controller, not xHCI: no USB path.
int bcm_usb_card(struct board_card *card) {
  (void)card;
  return 0;
}
