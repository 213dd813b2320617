// Raspberry Pi 3 (BCM2837) board facts. Firmware (and QEMU -M raspi3b with a raw kernel8.img)
// loads the image at 0x80000 and starts core 0 at EL2; cores 1-3 wait in the spin table.
// Console: PL011 UART0. On real hardware config.txt needs enable_uart=1 and
// dtoverlay=disable-bt (else UART0 drives Bluetooth and GPIO14/15 get the mini UART);
// the firmware then muxes GPIO14/15 to UART0 and sets its clock (BCM_UART_CLOCK_HZ).
#ifndef PLATFORMS_RPI3_MEMORY_MAP_H_
#define PLATFORMS_RPI3_MEMORY_MAP_H_

#include "bcm/bcm.h"

#define RPI3_CONSOLE_UART (BCM2837_PERIPH_BASE + BCM_UART0_OFFSET)
#define RPI3_CONSOLE_BAUD 115200u
#define RPI3_MAILBOX (BCM2837_PERIPH_BASE + BCM_MAILBOX_OFFSET)
#define RPI3_SYSTIMER (BCM2837_PERIPH_BASE + BCM_SYSTIMER_OFFSET)
#define RPI3_CORES 4u
#define RPI3_CORE_WAIT_MS 2000u     // how long core 0 waits for secondaries to check in
#define RPI3_KEEPALIVE_US 1000000u  // firmware poll interval (board_keepalive)

// MMU map (identity, 36-bit). RAM (1 GB on every Pi 3): normal below the peripherals at
// 0x3f000000; the VideoCore's share (mailbox: VC memory) is inside it but outside board_ram().
// Device: the 16 MB of peripherals and the ARM-local block at 0x40000000 (local timers and
// interrupt routing; one 2 MB block). Everything else faults.
#define RPI3_RAM_FALLBACK (UINT64_C(1) << 30)
#define RPI3_PERIPH_SIZE (UINT64_C(16) << 20)
#define RPI3_LOCAL_BASE UINT64_C(0x40000000)
#define RPI3_LOCAL_MAP_SIZE (UINT64_C(2) << 20)

// The SD card: the BCM2835 Arasan SDHCI ("EMMC"), where QEMU's raspi3b wires `-drive if=sd`.
// On a real Pi 3 the SD slot's pins (GPIO 48-53) must be muxed to it (ALT3); the firmware may
// leave them on the sdhost controller (ALT0), which drivers/sdhci does not drive.
#define RPI3_SD_EMMC (BCM2837_PERIPH_BASE + 0x300000u)

// Where config.txt's `initramfs FILE 0x08000000` (QEMU: -device loader,addr=...) puts a file
// for the image to find in RAM at boot: 128 MiB, above the image and its stacks (as on the Pi 4).
#define RPI3_RAM_BUNDLE UINT64_C(0x08000000)

#endif  // PLATFORMS_RPI3_MEMORY_MAP_H_
