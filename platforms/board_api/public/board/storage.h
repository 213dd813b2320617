// Where a board keeps models: its card as a block device, and a region of memory that may hold a
// model bundle (RAM a boot loader filled, or flash linked into the image). Optional facade part.
#ifndef BOARD_STORAGE_H_
#define BOARD_STORAGE_H_

#include <stddef.h>

#include "drivers/block.h"

typedef struct board_card {
  block_device *dev;  // the card, or NULL when there is none
  const char *where;  // on success: which controller or file, e.g. "EMMC2"
  const char *error;  // on failure: why, one phrase, e.g. "no SD card (EMMC2 and EMMC tried)"
} board_card;

// (Re)initialises the storage and returns the card. Called every time the menu is shown.
board_card board_storage_card(void);

// The start of the memory that may hold a model bundle and its size in bytes, or NULL.
const void *board_model_region(size_t *size);

#endif  // BOARD_STORAGE_H_
