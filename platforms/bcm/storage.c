// board/storage.h for the Pis (Zero, 3, 4): the SD card over SDHCI on the board's slots
// in order (bcm_sd_slots: the next one only when a slot has no card), then the board's USB stick
// if it has a USB path (bcm_usb_card), and the RAM bundle at the board's agreed address, RAM
// from there up to the end of board_ram.
#include "board/storage.h"

#include "bcm/sd_slots.h"
#include "board/memory.h"
#include "board/time.h"
#include "drivers/sdhci.h"

static sdhci card;

enum { CHECK_BLOCKS = 8 };
static _Alignas(64) uint8_t by_pio[CHECK_BLOCKS * 512], by_dma[CHECK_BLOCKS * 512];

static char *append(char *at, const char *end, const char *text) {
  while (*text && at < end) *at++ = *text++;
  return at;
}

// The slot's DMA engine against PIO on the card's first blocks: 1 when both read the same bytes
// and the engine did the second read (then the card's reads use it), else 0 (PIO only).
static int dma_agrees(const sdhci_dma *dma) {
  if (card.blocks < CHECK_BLOCKS || dma->align > 64) return 0;
  sdhci_set_dma(&card, 0);
  if (sdhci_read(&card, 0, CHECK_BLOCKS, by_pio) != BLOCK_OK) return 0;
  for (unsigned i = 0; i < sizeof by_dma; i++) by_dma[i] = (uint8_t)~by_pio[i];
  sdhci_set_dma(&card, dma);
  uint64_t before = card.dma_blocks;
  if (sdhci_read(&card, 0, CHECK_BLOCKS, by_dma) != BLOCK_OK || card.dma_blocks == before) {
    sdhci_set_dma(&card, 0);
    return 0;
  }
  for (unsigned i = 0; i < sizeof by_dma; i++) {
    if (by_dma[i] != by_pio[i]) {
      sdhci_set_dma(&card, 0);
      return 0;
    }
  }
  return 1;
}

// "no SD card (EMMC2 and EMMC tried)": the names of the slots tried.
static const char *no_card(const struct bcm_sd_slot *slots, int n) {
  static char text[96];
  char *at = append(text, text + sizeof text - 1, "no SD card (");
  for (int i = 0; i < n; i++) {
    if (i > 0) at = append(at, text + sizeof text - 1, " and ");
    at = append(at, text + sizeof text - 1, slots[i].name);
  }
  *append(at, text + sizeof text - 1, " tried)") = '\0';
  return text;
}

static board_card sd_card(void) {
  const struct bcm_sd_slot *slots;
  int n = bcm_sd_slots(&slots);
  int status = BLOCK_ERR_NO_MEDIUM;
  for (int i = 0; i < n; i++) {
    sdhci_config config = {slots[i].base, slots[i].clock_hz, board_time_us, 0, 0};
    status = sdhci_init(&card, &config);
    if (status == BLOCK_OK) {
      // "EMMC", "EMMC, DMA reads" or "EMMC, PIO (DMA check failed)"
      static char where[64];
      const char *how = "";
      if (slots[i].dma) how = dma_agrees(slots[i].dma) ? ", DMA reads" : ", PIO (DMA check failed)";
      *append(append(where, where + sizeof where - 1, slots[i].name), where + sizeof where - 1,
              how) = '\0';
      board_card found = {&card.dev, where, 0, "sd"};
      return found;
    }
    if (status != BLOCK_ERR_NO_MEDIUM && status != BLOCK_ERR_TIMEOUT) break;
  }
  int missing = status == BLOCK_ERR_NO_MEDIUM || status == BLOCK_ERR_TIMEOUT;
  board_card none = {0, 0, missing ? no_card(slots, n) : block_strerror(status), "sd"};
  return none;
}

int board_storage_cards(board_card cards[BOARD_CARDS_MAX]) {
  cards[0] = sd_card();
  return 1 + bcm_usb_card(&cards[1]);
}

const void *board_model_region(size_t *size) {
  uintptr_t base, at = bcm_ram_bundle();
  size_t ram;
  *size = 0;
  if (board_ram(&base, &ram) != 0 || at < base || at >= base + ram) return 0;
  *size = base + ram - at;
  return (const void *)at;
}
