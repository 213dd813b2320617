// Host storage for the chat app: a card image file as a block device (pread), and a bundle file
// read into memory as if a boot loader had put it there.
#define _XOPEN_SOURCE 700

#include "board/storage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"

static const char *card_path, *bundle_path;

void host_storage_set(const char *card, const char *bundle) {
  card_path = card;
  bundle_path = bundle;
}

static int read_blocks(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  int fd = (int)(intptr_t)dev->ctx;
  size_t bytes = (size_t)count * BLOCK_SIZE;
  return pread(fd, buf, bytes, (off_t)(lba * BLOCK_SIZE)) == (ssize_t)bytes ? BLOCK_OK
                                                                            : BLOCK_ERR_IO;
}

static board_card the_card(void) {
  static block_device dev;
  static int fd = -1;
  if (fd >= 0) close(fd);
  fd = card_path ? open(card_path, O_RDONLY) : -1;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    board_card none = {NULL, NULL, card_path ? "cannot open the card image" : "no card image",
                       "sd"};
    return none;
  }
  dev.read = read_blocks;
  dev.num_blocks = (uint64_t)st.st_size / BLOCK_SIZE;
  dev.max_blocks = 0;
  dev.ctx = (void *)(intptr_t)fd;
  board_card card = {&dev, "file", NULL, "sd"};
  return card;
}

int board_storage_cards(board_card cards[BOARD_CARDS_MAX]) {
  cards[0] = the_card();
  return 1;
}

const void *board_model_region(size_t *room) {
  static void *bundle;
  static size_t size;
  FILE *f = !bundle && bundle_path ? fopen(bundle_path, "rb") : NULL;
  if (f) {
    fseek(f, 0, SEEK_END);
    size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    bundle = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);
    if (!bundle || fread(bundle, 1, size, f) != size) size = 0;
    fclose(f);
  }
  *room = size;
  return bundle;
}
