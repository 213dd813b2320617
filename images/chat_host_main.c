// The chat app on the host's fake board (platforms/host), for fast tests off the board:
//   chat_host [--card card.img] [--bundle bundle.bin] [--ram-mib N] < input
// The console is stdin/stdout; the run ends with the menu's q or at the end of stdin.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/chat/app.h"
#include "board/board.h"
#include "host/host.h"

int main(int argc, char **argv) {
  const char *card = NULL, *bundle = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--card") == 0) {
      card = argv[i + 1];
    } else if (strcmp(argv[i], "--bundle") == 0) {
      bundle = argv[i + 1];
    } else if (strcmp(argv[i], "--ram-mib") == 0) {
      host_board_set_ram((size_t)strtoul(argv[i + 1], NULL, 10) << 20);
    } else {
      fprintf(stderr, "usage: chat_host [--card IMG] [--bundle FILE] [--ram-mib N]\n");
      return 2;
    }
  }
  if (argc % 2 == 0) {
    fprintf(stderr, "usage: chat_host [--card IMG] [--bundle FILE] [--ram-mib N]\n");
    return 2;
  }
  host_storage_set(card, bundle);
  board_init();
  return chat_main();
}
