// Raspberry Pi 4 (BCM2711): the shared AArch64 Broadcom board support (bcm/aarch64_board.h)
// over the Pi 4's memory map, plus what only the Pi 4 has: the PCIe window in the MMU map,
// its SD slots (EMMC2 with its clock from the firmware, then QEMU's Arasan EMMC) and its USB
// stick (PCIe root complex, VL805 xHCI, USB mass storage: docs/USB.md).
#include "board/board.h"

#include "arch/cache.h"
#include "arch/exception.h"
#include "arch/mmu.h"
#include "bcm/aarch64_board.h"
#include "bcm/bcm.h"
#include "bcm/sd_slots.h"
#include "board/storage.h"
#include "board/time.h"
#include "drivers/bcm2711_pcie.h"
#include "drivers/bcm_firmware.h"
#include "drivers/bcm_mailbox.h"
#include "drivers/usb_stick.h"
#include "memory_map.h"

// Device windows: the main and ARM-local peripherals up to 4 GB, and the PCIe window.
static const struct aarch64_region devices[] = {
    {BCM2711_LOW_PERIPH_START, (UINT64_C(1) << 32) - BCM2711_LOW_PERIPH_START, AARCH64_MEM_DEVICE},
    {BCM2711_PCIE_WINDOW, RPI4_PCIE_MAP_SIZE, AARCH64_MEM_DEVICE},
};

static const struct bcm_board rpi4 = {
    .name = "rpi4",
    .cpu = "cortex-a72",
    .uart = RPI4_CONSOLE_UART,
    .mailbox = RPI4_MAILBOX,
    .systimer = RPI4_SYSTIMER,
    .baud = RPI4_CONSOLE_BAUD,
    .cores = RPI4_CORES,
    .core_wait_ms = RPI4_CORE_WAIT_MS,
    .keepalive_us = RPI4_KEEPALIVE_US,
    .ram_fallback = RPI4_RAM_FALLBACK,
    .ram_limit = BCM2711_LOW_PERIPH_START,
    .devices = devices,
    .device_count = sizeof devices / sizeof devices[0],
};

void board_init(void) { bcm_board_init(&rpi4); }

// EMMC2's clock as the firmware set it (GET_CLOCK_RATE), or 0 when the firmware does not say.
static uint32_t emmc2_clock_hz(void) {
  uint32_t clock[2] = {RPI4_EMMC2_CLOCK_ID, 0};
  int ok = bcm_mailbox_property(RPI4_MAILBOX, BCM_VC_BUS_ALIAS, BCM_TAG_GET_CLOCK_RATE, clock, 2) ==
           BCM_MAILBOX_OK;
  return ok && clock[0] == RPI4_EMMC2_CLOCK_ID ? clock[1] : 0;
}

int bcm_sd_slots(const struct bcm_sd_slot **slots) {
  static struct bcm_sd_slot table[2] = {{RPI4_SD_EMMC2, 0, "EMMC2", 0},
                                        {RPI4_SD_EMMC, 0, "EMMC", 0}};
  table[0].clock_hz = emmc2_clock_hz();
  *slots = table;
  return 2;
}

uintptr_t bcm_ram_bundle(void) { return (uintptr_t)RPI4_RAM_BUNDLE; }

// --- the USB stick: PCIe root complex, VL805 xHCI, USB mass storage ---

// The VideoCore loads the VL805's firmware when told where it sits (after every PCIe reset).
static int notify_xhci_reset(void *ctx, const pcie_function *controller, const char **why) {
  (void)ctx;
  uint32_t address[1] = {(uint32_t)controller->bdf << 12};
  if (bcm_mailbox_property(RPI4_MAILBOX, BCM_VC_BUS_ALIAS, RPI4_TAG_NOTIFY_XHCI_RESET, address,
                           1) != BCM_MAILBOX_OK) {
    *why = "the firmware did not load the VL805's firmware (mailbox NOTIFY_XHCI_RESET)";
    return -1;
  }
  return 0;
}

// The VL805 does not snoop the ARM's caches: clean what it reads, clean+invalidate what it writes.
static void dma_clean(const void *p, size_t n) { aarch64_dcache_clean(p, n); }
static void dma_invalidate(const void *p, size_t n) { aarch64_dcache_clean_invalidate(p, n); }

int bcm_usb_card(struct board_card *card) {
  enum { SCRATCHPAD_PAGES = 32 };
  static usb_stick stick;
  static uint8_t dma[XHCI_DMA_BYTES + SCRATCHPAD_PAGES * 4096] __attribute__((aligned(4096)));
  const bcm2711_pcie_config rc = {(uintptr_t)RPI4_PCIE_REGS, RPI4_PCIE_OUT_CPU,   RPI4_PCIE_OUT_BUS,
                                  RPI4_PCIE_OUT_SIZE,        RPI4_PCIE_IN_SIZE,   board_time_us,
                                  RPI4_PCIE_LINK_US,         aarch64_probe_read32};
  const char *why = 0;
  board_card none = {0, 0, 0, "usb"};
  *card = none;
  if (bcm2711_pcie_start(&rc, &why) != 0) {
    static char line[96];
    char *at = line, *end = line + sizeof line - 2;
    for (const char *p = "no USB stick ("; *p && at < end;) *at++ = *p++;
    for (const char *p = why; *p && at < end;) *at++ = *p++;
    *at++ = ')';
    *at = '\0';
    card->error = line;
    return 1;
  }
  usb_stick_config config = {
      .host = {{(void *)(uintptr_t)RPI4_PCIE_REGS, bcm2711_pcie_read, bcm2711_pcie_write},
               0,
               1,
               RPI4_PCIE_OUT_CPU,
               RPI4_PCIE_OUT_BUS,
               RPI4_PCIE_OUT_SIZE,
               0},
      .xhci = {0, dma, sizeof dma, 0, board_time_us, dma_clean, dma_invalidate},
      .before_xhci = notify_xhci_reset,
  };
  card->dev = usb_stick_open(&stick, &config);
  card->where = card->dev ? stick.where : 0;
  card->error = card->dev ? 0 : stick.error;
  return 1;
}
