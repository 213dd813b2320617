// Between the files of //platforms/bcm:aarch64_board: nothing here is public.
#ifndef PLATFORMS_BCM_AARCH64_BOARD_INTERNAL_H_
#define PLATFORMS_BCM_AARCH64_BOARD_INTERNAL_H_

#include "bcm/aarch64_board.h"

// The facts bcm_board_init() was given.
const struct bcm_board *bcm_board_facts(void);

// Sets the ARM clock to its maximum and takes the first firmware readings (health.c).
void bcm_health_init(void);

#endif  // PLATFORMS_BCM_AARCH64_BOARD_INTERNAL_H_
