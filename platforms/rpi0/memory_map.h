// Raspberry Pi Zero (BCM2835, one ARM1176JZF-S) board facts. The firmware loads
// kernel.img at 0x8000 and enters it in ARM state (SVC mode); linker.ld links there.
// Under QEMU -M raspi0 a raw image would land at 0x10000 instead, so the tests boot
// the ELF, which QEMU loads at its link address. Console: PL011 UART0 on GPIO14/15
// (the Zero has no Bluetooth); config.txt enable_uart=1 has the firmware mux the pins.
#ifndef PLATFORMS_RPI0_MEMORY_MAP_H_
#define PLATFORMS_RPI0_MEMORY_MAP_H_

#include "bcm/bcm.h"

#define RPI0_CONSOLE_UART (BCM2835_PERIPH_BASE + BCM_UART0_OFFSET)
#define RPI0_CONSOLE_BAUD 115200u

#endif  // PLATFORMS_RPI0_MEMORY_MAP_H_
