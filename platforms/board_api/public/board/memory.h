// Optional board facade: RAM an application may use. Implemented by rpi0, rpi3, rpi4 and
// qemu_virt.
#ifndef BOARD_MEMORY_H_
#define BOARD_MEMORY_H_

#include <stddef.h>
#include <stdint.h>

// The free RAM after the image (code, data, stacks) up to the end of the usable block,
// page aligned; returns 0, or -1 (and *size 0) when the board could not find out its RAM.
int board_ram(uintptr_t *base, size_t *size);

#endif  // BOARD_MEMORY_H_
