// Where a board keeps models: its cards (an SD card, a USB stick) as block devices, and a region
// of memory that may hold a model bundle (RAM a boot loader filled, or flash linked into the
// image). Optional facade part.
#ifndef BOARD_STORAGE_H_
#define BOARD_STORAGE_H_

#include <stddef.h>

#include "drivers/block.h"

typedef struct board_card {
  block_device *dev;  // the card, or NULL when there is none
  const char *where;  // on success: which controller or file, e.g. "EMMC2"
  const char *error;  // on failure: why, one phrase, e.g. "no SD card (EMMC2 and EMMC tried)"
  const char *kind;   // "sd", "usb": the menu marks a model with it when a board has two kinds
} board_card;

#define BOARD_CARDS_MAX 2  // kinds of storage a board has at most

// (Re)initialises the storage and describes every kind the board has, in menu order: fills
// cards[0..n) and returns n (1..BOARD_CARDS_MAX). Called every time the menu is shown.
int board_storage_cards(board_card cards[BOARD_CARDS_MAX]);

// The start of the memory that may hold a model bundle and its size in bytes, or NULL.
const void *board_model_region(size_t *size);

#endif  // BOARD_STORAGE_H_
