// Where a Pi (rpi0, rpi3, rpi4) keeps its card, its USB stick and a boot loader's RAM bundle.
// Each board implements these (in its board.c); the shared storage backend (board/storage.h,
// platforms/bcm/storage.c) and the SD test program use them.
#ifndef BCM_SD_SLOTS_H_
#define BCM_SD_SLOTS_H_

#include <stdint.h>

#include "drivers/sdhci.h"

// An SD host controller (SDHCI) to try for the card: base address, base clock (from the
// firmware; 0: take it from the controller's capabilities register) and a name for messages.
// dma: an external DMA engine for its reads (sdhci_dma), or NULL for PIO. storage.c checks it
// on every card: 8 blocks read both ways must agree, else it reads by PIO.
struct bcm_sd_slot {
  uintptr_t base;
  uint32_t clock_hz;
  const char *name;
  const sdhci_dma *dma;
};

// The SD controllers in the order to try them (the board's SD slot first); returns how many.
int bcm_sd_slots(const struct bcm_sd_slot **slots);

// The board's USB stick, for a board with a USB path (the Pi 4: PCIe, VL805 xHCI): brings it up
// and fills *card (its kind "usb"), returning 1; a board without one returns 0.
struct board_card;
int bcm_usb_card(struct board_card *card);

// Where a file the boot loader placed in RAM (config.txt `initramfs FILE ADDR`) is expected.
uintptr_t bcm_ram_bundle(void);

#endif  // BCM_SD_SLOTS_H_
