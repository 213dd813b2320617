// Settings of the host build's fake board (host_board.c) and storage (storage_file.c), made by
// host_main.c from its command line.
#ifndef IMAGES_CHAT_HOST_HOST_H_
#define IMAGES_CHAT_HOST_HOST_H_

#include <stddef.h>

// RAM board_ram() hands out (allocated on the first call).
void host_board_set_ram(size_t bytes);
// The card image file (NULL: no card) and a RAM bundle file (NULL: none).
void host_storage_set(const char *card_path, const char *bundle_path);

#endif  // IMAGES_CHAT_HOST_HOST_H_
