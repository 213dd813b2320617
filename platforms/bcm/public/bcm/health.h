// board/health.h (the firmware keepalive) over the VideoCore mailbox, for every Pi: the board
// calls bcm_health_init() once from board_init(), after its console and board_time_us() work.
#ifndef BCM_HEALTH_H_
#define BCM_HEALTH_H_

#include <stdint.h>

// Sets the ARM clock to the firmware's maximum and takes the first readings; board_keepalive()
// polls again at most every interval_us. mailbox: the mailbox registers; vc_bus_alias: where the
// VideoCore sees ARM RAM (BCM_VC_BUS_ALIAS, BCM2835_VC_BUS_ALIAS).
void bcm_health_init(uintptr_t mailbox, uint32_t vc_bus_alias, uint32_t interval_us);

#endif  // BCM_HEALTH_H_
