// Optional board facade: a monotonic clock (for tokens/s). Implemented by rpi0, rpi3, rpi4 and
// qemu_virt.
#ifndef BOARD_TIME_H_
#define BOARD_TIME_H_

#include <stdint.h>

uint64_t board_time_us(void);  // microseconds since power-on, monotonic

#endif  // BOARD_TIME_H_
