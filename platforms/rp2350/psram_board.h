// PSRAM of the Pimoroni Pico Plus 2W (8 MB APS6404L on QMI chip select 1, GPIO 47): brought up
// at boot, mapped at RP2350_PSRAM_BASE (cached XIP window M1), size-probed and self-tested.
// On a board without it (the Pico 2) the ID read finds nothing and the result says so.
#ifndef PLATFORMS_RP2350_PSRAM_BOARD_H_
#define PLATFORMS_RP2350_PSRAM_BOARD_H_

#include <stdint.h>

#include "drivers/qmi_psram.h"

#define RP2350_PSRAM_BASE 0x11000000u           // M1, cached
#define RP2350_PSRAM_UNCACHED_BASE 0x15000000u  // M1, uncached: the probe and the self-test
#define RP2350_PSRAM_WINDOW_BYTES (16u << 20)
#define RP2350_PSRAM_CS_GPIO 47u
#define RP2350_PSRAM_MAX_SCK_HZ 84000000u  // APS6404L: 84 MHz is safe for every burst shape

typedef struct {
  uint32_t sys_hz;  // clk_sys as measured against the crystal, what the timing is for
  qmi_psram_status status;
  qmi_psram_info info;
  uint32_t bytes;  // probed size, 0 when absent
  int self_test;   // 0 passed, -1 failed (fault says where), 1 not run
  qmi_psram_fault fault;
} rp2350_psram;

// Call from board_init once clk_sys is as it will stay and the crystal runs, before core 1
// does (flash XIP pauses while the chip is set up). Measures clk_sys (rp2350_measure_sys_hz)
// for the QMI timing. Returns the usable bytes at RP2350_PSRAM_BASE: 0 when absent or when
// the self-test failed.
uint32_t rp2350_psram_init(void);

// What rp2350_psram_init found (all zero before it ran).
const rp2350_psram *rp2350_psram_state(void);

// Usable bytes at RP2350_PSRAM_BASE (0: none, or it failed its self-test), for the board's
// memory map (models bigger than SRAM).
uint32_t rp2350_psram_bytes(void);

// clk_sys in Hz: SysTick (counting clk_sys) over 1 ms of the XOSC's down-counter (12 MHz
// crystal). The boot ROM leaves clk_sys on the ring oscillator, whose frequency varies from
// chip to chip, so it is measured rather than assumed. Leaves SysTick off.
uint32_t rp2350_measure_sys_hz(void);

// One line for the boot log, e.g. "psram: 8 MB at 0x11000000 (APS6404L id 0d 5d 26),
// clk_sys 150 MHz, SCK 75 MHz, self-test passed".
void rp2350_psram_report(void (*putc)(char c));

#endif  // PLATFORMS_RP2350_PSRAM_BOARD_H_
