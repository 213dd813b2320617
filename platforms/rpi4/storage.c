// Raspberry Pi 4 storage: the SD card over SDHCI, EMMC2 (the SD slot) first, then the Arasan
// EMMC that QEMU's raspi4b wires its card to (rpi4_sd_slots); the RAM bundle at the board's
// agreed address, RAM from there up to the end of board_ram.
#include "board/storage.h"

#include "board/memory.h"
#include "board/time.h"
#include "drivers/sdhci.h"
#include "rpi4/rpi4.h"

static sdhci card;

board_card board_storage_card(void) {
  const struct rpi4_sd_slot *slots;
  int n = rpi4_sd_slots(&slots);
  int status = BLOCK_ERR_NO_MEDIUM;
  for (int i = 0; i < n; i++) {
    sdhci_config config = {slots[i].base, slots[i].clock_hz, board_time_us, 0};
    status = sdhci_init(&card, &config);
    if (status == BLOCK_OK) {
      board_card found = {&card.dev, slots[i].name, 0};
      return found;
    }
    if (status != BLOCK_ERR_NO_MEDIUM && status != BLOCK_ERR_TIMEOUT) break;
  }
  int missing = status == BLOCK_ERR_NO_MEDIUM || status == BLOCK_ERR_TIMEOUT;
  board_card none = {0, 0, missing ? "no SD card (EMMC2 and EMMC tried)" : block_strerror(status)};
  return none;
}

const void *board_model_region(size_t *room) {
  uintptr_t base, at = rpi4_ram_bundle();
  size_t size;
  *room = 0;
  if (board_ram(&base, &size) != 0 || at < base || at >= base + size) return 0;
  *room = base + size - at;
  return (const void *)at;
}
