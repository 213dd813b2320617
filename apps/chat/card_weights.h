// Weight streaming from the card: a weight source (engine/weights.h) over a model file on the
// FAT32 volume, or over its shards (`model.mcm.000`, `.001`, ... read as their concatenation:
// FAT32 holds at most 4 GiB - 1 bytes a file), for models bigger than the RAM the chat has for
// them (loader.h). Reads are blocking (the storage drivers read before they return): the
// engine's next-layer read then happens before, not during, this layer's compute — sequential,
// as docs/RPI4.md says. The FAT32 driver walks a file's cluster chain forward only, so the
// source keeps CARD_CURSORS open views of the files and serves each read from the one nearest
// below it: the engine's reads run forward through each stacked tensor, layer after layer, so
// a cursor per tensor region walks each chain about once per token.
#ifndef APPS_CHAT_CARD_WEIGHTS_H_
#define APPS_CHAT_CARD_WEIGHTS_H_

#include <stdint.h>

#include "drivers/fat32.h"
#include "engine/weights.h"

#define CARD_CURSORS 16
#define CARD_SHARDS 16  // shards of one model at most (64 GB)

typedef struct card_cursor {
  int shard;
  fat_file file;
  uint32_t used;  // when it last served (the least recent is reused)
} card_cursor;

typedef struct card_weights {
  em_weight_source source;  // hand &source to the session
  fat_file shard[CARD_SHARDS];
  uint64_t start[CARD_SHARDS + 1];  // shard i holds bytes [start[i], start[i + 1])
  int shards;
  card_cursor cursor[CARD_CURSORS];
  uint32_t clock;
  uint64_t bytes_read;  // every byte read through the source
  em_status status;     // of the batch start read
} card_weights;

// Opens paths[0..n) (one file, or the shards in order) for streaming; FAT_OK or the error
// opening one (FAT_ERR_INVALID when n is 0 or above CARD_SHARDS).
fat_status card_weights_open(card_weights *w, fat_volume *vol, const char *const *paths, int n);

#endif  // APPS_CHAT_CARD_WEIGHTS_H_
