// The card's weight source (card_weights.h).
#include "card_weights.h"

// The cursor to read at file offset `at` of shard from: the one on that shard at or below it
// nearest to it, else the least recently used one, moved to the shard's start.
static fat_file *cursor_for(card_weights *w, int shard, uint32_t at) {
  int best = -1, oldest = 0;
  for (int i = 0; i < CARD_CURSORS; i++) {
    card_cursor *c = &w->cursor[i];
    if (c->shard == shard && c->file.pos <= at &&
        (best < 0 || c->file.pos > w->cursor[best].file.pos))
      best = i;
    if (c->used < w->cursor[oldest].used) oldest = i;
  }
  if (best < 0) {
    best = oldest;
    w->cursor[best].shard = shard;
    w->cursor[best].file = w->shard[shard];  // a fat_file is its fields: a fresh view
  }
  w->cursor[best].used = ++w->clock;
  return &w->cursor[best].file;
}

// size bytes at offset of the model (offset + size within the file) into dst.
static em_status read_at(card_weights *w, uint64_t offset, uint8_t *dst, size_t size) {
  while (size > 0) {
    int i = 0;
    while (offset >= w->start[i + 1]) i++;
    uint64_t room = w->start[i + 1] - offset;
    size_t part = size < room ? size : (size_t)room;
    uint32_t at = (uint32_t)(offset - w->start[i]);
    fat_file *f = cursor_for(w, i, at);
    size_t got = 0;
    if (fat_seek(f, at) != FAT_OK || fat_read(f, dst, part, &got) != FAT_OK || got != part)
      return EM_ERR_IO;
    w->bytes_read += got;
    offset += part;
    dst += part;
    size -= part;
  }
  return EM_OK;
}

static em_status start(void *user, const em_read *reads, int n) {
  card_weights *w = (card_weights *)user;
  w->status = EM_OK;
  for (int k = 0; k < n && w->status == EM_OK; k++) {
    const em_read *r = &reads[k];
    if (r->offset > w->source.file_size || r->size > w->source.file_size - r->offset)
      w->status = EM_ERR_TRUNCATED;
    else
      w->status = read_at(w, r->offset, (uint8_t *)r->dst, r->size);
  }
  return EM_OK;  // the status comes with wait
}

static em_status wait_batch(void *user) { return ((card_weights *)user)->status; }

fat_status card_weights_open(card_weights *w, fat_volume *vol, const char *const *paths, int n) {
  __builtin_memset(w, 0, sizeof *w);
  if (n <= 0 || n > CARD_SHARDS) return FAT_ERR_INVALID;
  for (int i = 0; i < n; i++) {
    fat_status st = fat_open(vol, paths[i], &w->shard[i]);  // checks the whole chain once
    if (st != FAT_OK) return st;
    w->start[i + 1] = w->start[i] + fat_file_size(&w->shard[i]);
  }
  w->shards = n;
  for (int i = 0; i < CARD_CURSORS; i++) w->cursor[i].shard = -1;
  w->source.file_size = w->start[n];
  w->source.start = start;
  w->source.wait = wait_batch;
  w->source.user = w;
  return FAT_OK;
}
