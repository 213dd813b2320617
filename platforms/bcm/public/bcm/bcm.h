// Broadcom SoC facts shared by the Raspberry Pi boards (BCM2835 Pi Zero,
// BCM2837 Pi 3, BCM2711 Pi 4), as the ARM cores see them.
#ifndef BCM_BCM_H_
#define BCM_BCM_H_

#include <stdint.h>

#define BCM2835_PERIPH_BASE 0x20000000u  // Pi Zero / Pi 1
#define BCM2837_PERIPH_BASE 0x3f000000u  // Pi 3
#define BCM2711_PERIPH_BASE 0xfe000000u  // Pi 4, low-peripheral mode (the default)

// Where the peripherals are on the VideoCore bus, the addresses a DMA engine is given.
#define BCM_PERIPH_BUS_BASE 0x7e000000u

// Offsets from the peripheral base.
#define BCM_SYSTIMER_OFFSET 0x3000u    // system timer, 1 MHz free-running counter
#define BCM_MAILBOX_OFFSET 0xb880u     // VideoCore mailboxes 0 and 1
#define BCM_DMA_OFFSET 0x7000u         // DMA controller: channel n at +0x100 * n (0-14)
#define BCM_DMA_ENABLE_OFFSET 0x7ff0u  // DMA controller's global enable, a bit per channel
#define BCM_UART0_OFFSET 0x201000u     // PL011 UART0

#define BCM_UART_CLOCK_HZ 48000000u  // PL011 reference clock: firmware default init_uart_clock
// VideoCore bus address of ARM RAM (first 1 GB): the L2-uncached alias, as the mailbox
// property interface expects buffer addresses (Pi 2, 3 and 4; Linux's dma-ranges on BCM2711).
#define BCM_VC_BUS_ALIAS 0xc0000000u
// The same on the BCM2835 (Pi Zero, Pi 1), whose firmware keeps the VideoCore's L2 cache on:
// ARM RAM through the L2-coherent alias (Linux's dma-ranges for bcm2835).
#define BCM2835_VC_BUS_ALIAS 0x40000000u

// BCM2711 only, in low-peripheral mode (firmware default): the ARM's 4 GB map has the main
// peripherals at 0xfc000000-0xff7fffff and the ARM-local ones (GIC-400, local timers) at
// 0xff800000-0xffffffff; RAM above 0xfc000000 is not visible below 4 GB. The PCIe outbound
// window (VL805 USB 3 controller's BAR on the Pi 4) is at 0x6_0000_0000, 64 MB as the
// firmware's device tree sets it up.
#define BCM2711_LOW_PERIPH_START 0xfc000000u
#define BCM2711_PCIE_WINDOW UINT64_C(0x600000000)

// Writes entry to the spin-table release words of cores 1..cores-1 (0xe0, 0xe8, 0xf0 as
// armstub8 and QEMU's raspi boot stub poll them) and wakes them with dsb; sev.
// The words are cleaned to memory (the waiting cores read with their caches off).
void bcm_spin_table_release(unsigned cores, uintptr_t entry);

#endif  // BCM_BCM_H_
