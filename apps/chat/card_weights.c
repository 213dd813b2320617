// The card's weight source (card_weights.h).
#include "card_weights.h"

// The cursor to read at pos from: the one at or below pos nearest to it, else the least
// recently used (its next read walks the chain again from the start).
static fat_file *cursor_for(card_weights *w, uint32_t pos) {
  int best = -1, oldest = 0;
  for (int i = 0; i < CARD_CURSORS; i++) {
    if (w->cursor[i].pos <= pos && (best < 0 || w->cursor[i].pos > w->cursor[best].pos)) best = i;
    if (w->used[i] < w->used[oldest]) oldest = i;
  }
  int pick = best >= 0 ? best : oldest;
  w->used[pick] = ++w->clock;
  return &w->cursor[pick];
}

static em_status start(void *user, const em_read *reads, int n) {
  card_weights *w = (card_weights *)user;
  w->status = EM_OK;
  for (int k = 0; k < n && w->status == EM_OK; k++) {
    const em_read *r = &reads[k];
    if (r->offset > w->source.file_size || r->size > w->source.file_size - r->offset) {
      w->status = EM_ERR_TRUNCATED;
      break;
    }
    fat_file *f = cursor_for(w, (uint32_t)r->offset);
    size_t got = 0;
    if (fat_seek(f, (uint32_t)r->offset) != FAT_OK || fat_read(f, r->dst, r->size, &got) != FAT_OK ||
        got != r->size)
      w->status = EM_ERR_IO;
    w->bytes_read += got;
  }
  return EM_OK;  // the status comes with wait
}

static em_status wait_batch(void *user) { return ((card_weights *)user)->status; }

fat_status card_weights_open(card_weights *w, fat_volume *vol, const char *path) {
  __builtin_memset(w, 0, sizeof *w);
  fat_status st = fat_open(vol, path, &w->cursor[0]);  // checks the whole chain once
  if (st != FAT_OK) return st;
  for (int i = 1; i < CARD_CURSORS; i++) w->cursor[i] = w->cursor[0];  // a cursor is its fields
  w->source.file_size = fat_file_size(&w->cursor[0]);
  w->source.start = start;
  w->source.wait = wait_batch;
  w->source.user = w;
  return FAT_OK;
}
