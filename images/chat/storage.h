// What the chat app needs from its board beyond the board facade: the card as a block device,
// and where a boot loader may have left a RAM bundle (bundle.h). One implementation per board
// (storage_rpi4.c: SDHCI on EMMC2, then QEMU's Arasan EMMC) and one for the host build
// (host/storage_file.c: an image file).
#ifndef IMAGES_CHAT_STORAGE_H_
#define IMAGES_CHAT_STORAGE_H_

#include <stddef.h>

#include "drivers/block.h"

typedef struct storage_card {
  block_device *dev;  // the card, or NULL when there is none
  const char *where;  // on success: which controller or file, e.g. "EMMC2"
  const char *error;  // on failure: why, one phrase, e.g. "no SD card (EMMC2 and EMMC tried)"
} storage_card;

// (Re)initialises the storage and returns the card. Called every time the menu is shown.
storage_card storage_open(void);

// The address a boot loader may have put a bundle at and the bytes of RAM from there, or NULL
// when the board has no such place.
const void *storage_bundle_region(size_t *room);

#endif  // IMAGES_CHAT_STORAGE_H_
