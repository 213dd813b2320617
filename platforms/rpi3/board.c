// Raspberry Pi 3 (BCM2837): the shared AArch64 Broadcom board support (bcm/aarch64_board.h)
// over the Pi 3's memory map, and its SD slot (the Arasan EMMC) and RAM-bundle address.
#include "board/board.h"

#include "arch/mmu.h"
#include "bcm/aarch64_board.h"
#include "bcm/bcm.h"
#include "bcm/sd_slots.h"
#include "memory_map.h"

// Device windows: the peripherals, and the ARM-local block right after them.
static const struct aarch64_region devices[] = {
    {BCM2837_PERIPH_BASE, RPI3_PERIPH_SIZE, AARCH64_MEM_DEVICE},
    {RPI3_LOCAL_BASE, RPI3_LOCAL_MAP_SIZE, AARCH64_MEM_DEVICE},
};

static const struct bcm_board rpi3 = {
    .name = "rpi3",
    .cpu = "cortex-a53",
    .uart = RPI3_CONSOLE_UART,
    .mailbox = RPI3_MAILBOX,
    .systimer = RPI3_SYSTIMER,
    .baud = RPI3_CONSOLE_BAUD,
    .cores = RPI3_CORES,
    .core_wait_ms = RPI3_CORE_WAIT_MS,
    .keepalive_us = RPI3_KEEPALIVE_US,
    .ram_fallback = RPI3_RAM_FALLBACK,
    .ram_limit = BCM2837_PERIPH_BASE,
    .devices = devices,
    .device_count = sizeof devices / sizeof devices[0],
};

void board_init(void) { bcm_board_init(&rpi3); }

int bcm_sd_slots(const struct bcm_sd_slot **slots) {
  static const struct bcm_sd_slot table[1] = {{RPI3_SD_EMMC, 0, "EMMC", 0}};
  *slots = table;
  return 1;
}

uintptr_t bcm_ram_bundle(void) { return (uintptr_t)RPI3_RAM_BUNDLE; }

// The Pi 3's USB hangs off a DWC2 (USB 2 OTG) controller, not xHCI: no USB path.
int bcm_usb_card(struct board_card *card) {
  (void)card;
  return 0;
}
