// board/health.h for a board with no firmware to ask (the host, the Cortex-M boards): nothing
// to keep alive, no readings (polls stays 0). Such a board links //platforms/board_api:no_health.
#include "board/health.h"

void board_keepalive(void) {}

const board_health *board_health_now(void) {
  static const board_health none = {0, 0, 0, 0, 0, ""};
  return &none;
}
