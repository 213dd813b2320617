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
#define RPI0_MAILBOX (BCM2835_PERIPH_BASE + BCM_MAILBOX_OFFSET)
#define RPI0_SYSTIMER (BCM2835_PERIPH_BASE + BCM_SYSTIMER_OFFSET)
#define RPI0_KEEPALIVE_US 1000000u  // firmware poll interval (board_keepalive)

// The SD slot: the Arasan SDHCI ("EMMC"), where QEMU's raspi0 wires `-drive if=sd` too. Its base
// clock comes from the firmware (GET_CLOCK_RATE, clock id 1 = EMMC; 250 MHz on a real Zero);
// the capabilities register's figure when the firmware does not say.
#define RPI0_SD_EMMC (BCM2835_PERIPH_BASE + 0x300000u)
#define RPI0_EMMC_CLOCK_ID 1u
// Its reads go through DMA channel 4 (the Arasan has no SDMA/ADMA; a channel paced by the EMMC's
// DREQ empties the data port). Channel 4 is among those the firmware leaves to the ARM
// (Linux's dma-channel-mask 0x7f35 on the BCM2835).
#define RPI0_SD_DMA_INDEX 4u
#define RPI0_SD_DMA_CHANNEL (BCM2835_PERIPH_BASE + BCM_DMA_OFFSET + 0x100u * RPI0_SD_DMA_INDEX)
#define RPI0_DMA_ENABLE (BCM2835_PERIPH_BASE + BCM_DMA_ENABLE_OFFSET)

// RAM (512 MB, the ARM's share below the VideoCore's gpu_mem): what the firmware reports through
// the mailbox (BCM_TAG_ARM_MEMORY). Where config.txt's `initramfs FILE 0x08000000` (QEMU:
// -device loader,addr=...) puts a file for the image to find at boot: 128 MiB, as on the Pi 3/4.
#define RPI0_RAM_BUNDLE 0x08000000u

// The MMU's flat map (1 MB sections): all 512 MB of RAM normal and cached, the 16 MB of
// peripherals device; everything else faults.
#define RPI0_RAM_MAP_SIZE (512u << 20)
#define RPI0_PERIPH_SIZE (16u << 20)

#endif  // PLATFORMS_RPI0_MEMORY_MAP_H_
