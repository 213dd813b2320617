// Raspberry Pi 4 (BCM2711) board facts. Firmware (and QEMU -M raspi4b with a raw kernel8.img)
// loads the image at 0x80000 and starts core 0 at EL2; cores 1-3 wait in the spin table.
// Console: PL011 UART0. On real hardware config.txt needs enable_uart=1 and
// dtoverlay=disable-bt (else UART0 drives Bluetooth and GPIO14/15 get the mini UART);
// the firmware then muxes GPIO14/15 to UART0 and sets its clock (BCM_UART_CLOCK_HZ).
#ifndef PLATFORMS_RPI4_MEMORY_MAP_H_
#define PLATFORMS_RPI4_MEMORY_MAP_H_

#include "bcm/bcm.h"

#define RPI4_CONSOLE_UART (BCM2711_PERIPH_BASE + BCM_UART0_OFFSET)
#define RPI4_CONSOLE_BAUD 115200u
#define RPI4_CORES 4u
#define RPI4_CORE_WAIT_MS 100u  // how long core 0 waits for secondaries to check in

#endif  // PLATFORMS_RPI4_MEMORY_MAP_H_
