// Optional board facade: periodic contact with the board's firmware (a keepalive), and what
// it last reported. Implemented by rpi0, rpi3 and rpi4 (VideoCore mailbox,
// platforms/bcm/health.c); a board with no firmware links //platforms/board_api:no_health (the host
// does).
#ifndef BOARD_HEALTH_H_
#define BOARD_HEALTH_H_

#include <stdint.h>

typedef struct board_health {
  uint32_t polls;       // firmware polls since boot (0: the board has no firmware to ask)
  int32_t temp_mc;      // SoC temperature at the last poll, millidegrees Celsius
  uint32_t arm_hz;      // ARM clock at the last poll
  uint32_t arm_max_hz;  // the clock the board asked for at boot (the firmware's maximum)
  uint32_t throttled;   // the firmware's throttling flags at the last poll (board-specific)
  const char *problem;  // current throttling conditions, e.g. "under-voltage"; "" when none
} board_health;

// Polls the firmware when the last poll is older than the board's interval; otherwise returns
// at once. Images call it often: while waiting for input and after every generated token.
void board_keepalive(void);

// The readings of the last poll.
const board_health *board_health_now(void);

#endif  // BOARD_HEALTH_H_
