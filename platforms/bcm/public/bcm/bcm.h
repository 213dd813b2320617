// Broadcom SoC facts shared by the Raspberry Pi boards (BCM2835 Pi Zero,
// BCM2837 Pi 3, BCM2711 Pi 4), as the ARM cores see them.
#ifndef BCM_BCM_H_
#define BCM_BCM_H_

#include <stdint.h>

#define BCM2835_PERIPH_BASE 0x20000000u  // Pi Zero / Pi 1
#define BCM2837_PERIPH_BASE 0x3f000000u  // Pi 3
#define BCM2711_PERIPH_BASE 0xfe000000u  // Pi 4, low-peripheral mode (the default)

#define BCM_UART0_OFFSET 0x201000u   // PL011 UART0 from the peripheral base
#define BCM_UART_CLOCK_HZ 48000000u  // PL011 reference clock: firmware default init_uart_clock

// Writes entry to the spin-table release words of cores 1..cores-1 (0xe0, 0xe8, 0xf0 as
// armstub8 and QEMU's raspi boot stub poll them) and wakes them with dsb; sev.
void bcm_spin_table_release(unsigned cores, uintptr_t entry);

#endif  // BCM_BCM_H_
