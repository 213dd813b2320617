// Raspberry Pi 4 (BCM2711): the shared AArch64 Broadcom board support (bcm/aarch64_board.h)
// over the Pi 4's memory map, plus what only the Pi 4 has: the PCIe window in the MMU map,
// and its SD slots (EMMC2 with its clock from the firmware, then QEMU's Arasan EMMC).
#include "board/board.h"

#include "arch/mmu.h"
#include "bcm/aarch64_board.h"
#include "bcm/bcm.h"
#include "bcm/sd_slots.h"
#include "drivers/bcm_firmware.h"
#include "drivers/bcm_mailbox.h"
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
