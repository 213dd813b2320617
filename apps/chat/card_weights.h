// Weight streaming from the card: a weight source (engine/weights.h) over a model file on the
// FAT32 volume, for models bigger than the RAM the chat has for them (loader.h). Reads are
// blocking (the storage drivers read before they return): the engine's next-layer read then
// happens before, not during, this layer's compute — sequential, as docs/RPI4.md says. The
// FAT32 driver walks a file's cluster chain forward only, so the source keeps CARD_CURSORS
// open views of the file and serves each read from the one nearest below it: the engine's
// reads of one stage run forward through each stacked tensor, layer after layer, so a cursor
// per tensor region walks every chain once per token.
#ifndef APPS_CHAT_CARD_WEIGHTS_H_
#define APPS_CHAT_CARD_WEIGHTS_H_

#include <stdint.h>

#include "drivers/fat32.h"
#include "engine/weights.h"

#define CARD_CURSORS 16

typedef struct card_weights {
  em_weight_source source;  // hand &source to the session
  fat_file cursor[CARD_CURSORS];
  uint32_t used[CARD_CURSORS];  // when each cursor last served (least recent is reused)
  uint32_t clock;
  uint64_t bytes_read;  // every byte read through the source
  em_status status;     // of the batch start read
} card_weights;

// Opens path for streaming; FAT_OK or the error opening it.
fat_status card_weights_open(card_weights *w, fat_volume *vol, const char *path);

#endif  // APPS_CHAT_CARD_WEIGHTS_H_
