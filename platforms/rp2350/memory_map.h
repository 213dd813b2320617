// RP2350 (Pico 2 / Pimoroni Pico Plus 2W; two Cortex-M33, Arm Secure boot) board facts.
// The boot ROM finds the IMAGE_DEF block (image_def.S) in the first 4 KB of flash, then
// enters Secure Thread mode through the vector table at the start of flash (0x10000000,
// XIP). The M33s have the single-precision FPU and DSP extension
// (-mcpu=cortex_m33+fp_armv8d16sp+dsp); start.S enables it on both cores. Core 1 waits in the
// boot ROM until board_init launches it over the SIO FIFO (its stack: SRAM8). Console: UART0
// (PL011) on GPIO0 (TX) / GPIO1 (RX), 115200 8N1, clocked by clk_peri from the 12 MHz crystal;
// board_init() sets that up itself (datasheet ch. 7, 8, 9) and assumes only that clk_sys is
// running, as the boot ROM leaves it (from the ROSC).
#ifndef PLATFORMS_RP2350_MEMORY_MAP_H_
#define PLATFORMS_RP2350_MEMORY_MAP_H_

#define RP2350_CLOCKS_BASE 0x40010000u
#define RP2350_RESETS_BASE 0x40020000u
#define RP2350_IO_BANK0_BASE 0x40028000u
#define RP2350_PADS_BANK0_BASE 0x40038000u
#define RP2350_XOSC_BASE 0x40048000u
#define RP2350_UART0_BASE 0x40070000u
#define RP2350_TIMER0_BASE 0x400b0000u
#define RP2350_TICKS_BASE 0x40108000u
#define RP2350_SIO_BASE 0xd0000000u

#define RP2350_XOSC_HZ 12000000u  // crystal on the Pico 2 and Pico Plus 2W
#define RP2350_CONSOLE_BAUD 115200u
#define RP2350_CONSOLE_TX_GPIO 0u
#define RP2350_CONSOLE_RX_GPIO 1u
#define RP2350_CORE1_LAUNCH_ATTEMPTS 8     // restarts of the launch sequence before giving up
#define RP2350_CORE1_WAIT_SPINS 10000000u  // polls for core 1's check-in after the launch

#endif  // PLATFORMS_RP2350_MEMORY_MAP_H_
