// Settings of the host's fake board (board.c) and storage (storage.c), made by the host
// program's main from its command line.
#ifndef HOST_HOST_H_
#define HOST_HOST_H_

#include <stddef.h>

// RAM board_ram() hands out (allocated on the first call).
void host_board_set_ram(size_t bytes);
// The card image file (NULL: no card) and a RAM bundle file (NULL: none).
void host_storage_set(const char *card_path, const char *bundle_path);

#endif  // HOST_HOST_H_
