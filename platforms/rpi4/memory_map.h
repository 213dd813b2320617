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
#define RPI4_MAILBOX (BCM2711_PERIPH_BASE + BCM_MAILBOX_OFFSET)
#define RPI4_SYSTIMER (BCM2711_PERIPH_BASE + BCM_SYSTIMER_OFFSET)
#define RPI4_CORES 4u
#define RPI4_CORE_WAIT_MS 2000u     // how long core 0 waits for secondaries to check in
#define RPI4_KEEPALIVE_US 1000000u  // firmware poll interval (board_keepalive)

// MMU map (identity, 36-bit). RAM: from the revision's memory size (1, 2, 4 or 8 GB), below
// BCM2711_LOW_PERIPH_START and, on the 8 GB board, from 4 GB up. The VideoCore's share of
// RAM (mailbox: VC memory) is inside that map but outside board_ram(). Device: all of
// 0xfc000000-0xffffffff (main + ARM-local peripherals) and 1 GB at the PCIe window.
#define RPI4_RAM_FALLBACK (UINT64_C(1) << 30)  // if the revision says nothing: the 1 GB board
#define RPI4_PCIE_MAP_SIZE (UINT64_C(1) << 30)

// SD card controllers, in the order images try them (bcm_sd_slots): EMMC2 is the Pi 4's SD
// slot; QEMU 10's raspi4b wires `-drive if=sd` to the BCM2835 Arasan EMMC instead (WiFi SDIO on
// a real Pi 4). See drivers/sdhci/README.md.
#define RPI4_SD_EMMC2 (BCM2711_PERIPH_BASE + 0x340000u)
#define RPI4_SD_EMMC (BCM2711_PERIPH_BASE + 0x300000u)
#define RPI4_EMMC2_CLOCK_ID 12u  // the firmware's clock id of EMMC2 (mailbox GET_CLOCK_RATE)

// PCIe (the VL805 USB 3 controller behind the root port): the root complex's registers; the
// outbound window CPU 0x6_0000_0000 -> PCIe 0xf800_0000 (64 MB, in the MMU map above); the
// inbound DMA window PCIe 0 -> CPU 0, 2 GB (board_ram's memory lies below 1 GB), below the
// outbound window's PCIe addresses. The VL805's firmware is loaded by the VideoCore when asked
// (mailbox NOTIFY_XHCI_RESET with the device's bus/device/function) after the PCIe reset.
#define RPI4_PCIE_REGS UINT64_C(0xfd500000)
#define RPI4_PCIE_OUT_CPU BCM2711_PCIE_WINDOW
#define RPI4_PCIE_OUT_BUS UINT64_C(0xf8000000)
#define RPI4_PCIE_OUT_SIZE (UINT64_C(64) << 20)
#define RPI4_PCIE_IN_SIZE (UINT64_C(2) << 30)
#define RPI4_PCIE_LINK_US 100000u
#define RPI4_TAG_NOTIFY_XHCI_RESET 0x00030058u

// Where config.txt's `initramfs FILE 0x08000000` (QEMU: -device loader,addr=...) puts a file
// for the image to find in RAM at boot: 128 MiB, above the image and its stacks.
#define RPI4_RAM_BUNDLE UINT64_C(0x08000000)

#endif  // PLATFORMS_RPI4_MEMORY_MAP_H_
