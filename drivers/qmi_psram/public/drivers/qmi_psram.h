// QSPI PSRAM (AP Memory APS6404L, 8 MB, as on the Pimoroni Pico Plus 2W) on chip select 1 of
// the RP2350's QSPI memory interface (QMI, datasheet 12.14), mapped for reads and writes in the
// M1 XIP window. Bring-up in QMI direct mode: leave QPI if a warm reset left the chip in it,
// reset it, read its ID (SPI 0x9F: manufacturer 0x0D, known-good-die 0x5D), enter QPI (0x35),
// then program M1 for QPI quad reads (0xEB, 6 wait cycles) and writes (0x38) with timing
// derived from clk_sys and the chip's limits (8 us longest select for its refresh, 18 ns
// shortest deselect, SCK limit given). Then a size probe by address aliasing and a
// write/read-back self-test through the uncached window.
//
// While direct mode is on, XIP from flash (M0) stops: qmi_psram_init runs from SRAM (.data),
// touches no flash-resident data, and must run while nothing else executes from flash (before
// core 1 is started, interrupts off). The board hands in every address and clock; the chip
// select pin (GPIO 47 on the Pico Plus 2W, function XIP_CS1) is the board's to set up.
#ifndef DRIVERS_QMI_PSRAM_H_
#define DRIVERS_QMI_PSRAM_H_

#include <stdint.h>

typedef struct {
  uintptr_t qmi;        // QMI registers
  uintptr_t xip_ctrl;   // XIP_CTRL registers (CTRL.WRITABLE_M1)
  uint32_t sys_hz;      // clk_sys while the PSRAM is in use
  uint32_t max_sck_hz;  // the chip's clock limit for QPI reads and writes
} qmi_psram_config;

typedef enum {
  QMI_PSRAM_OK = 0,
  QMI_PSRAM_TIMEOUT = -1,    // the QMI stayed busy in direct mode
  QMI_PSRAM_NO_DEVICE = -2,  // the ID read back is not an APS6404L-style known-good die
} qmi_psram_status;

typedef struct {
  uint8_t manufacturer;  // 0x0D for AP Memory
  uint8_t kgd;           // 0x5D: known good die
  uint8_t eid;           // first byte of the extended ID
  uint32_t m1_timing;    // what was written to M1_TIMING
  uint32_t sck_hz;       // the resulting SCK
} qmi_psram_info;

// Brings the chip up in QPI and maps it in M1; fills *info (the ID even on failure).
qmi_psram_status qmi_psram_init(const qmi_psram_config *config, qmi_psram_info *info);

// M1_TIMING for clk_sys `sys_hz` and SCK at most `max_sck_hz`: CLKDIV = ceil(sys / max),
// MAX_SELECT = floor(8 us / 64 clk_sys) - 1, MIN_DESELECT = ceil(18 ns * clk_sys), RXDELAY one half
// SCK period (clamped to the fields), COOLDOWN 1, PAGEBREAK 1024 bytes (the chip's page).
uint32_t qmi_psram_timing(uint32_t sys_hz, uint32_t max_sck_hz);

// Size in bytes by aliasing: writes markers at 0 and at each power of two from 1 MB up to
// `max` (the window: 16 MB) through `window` (the uncached M1 alias) and finds where a write
// lands on offset 0 again. 0 when offset 0 does not hold what was written (no memory). Destroys
// the words it touches.
uint32_t qmi_psram_probe_size(uintptr_t window, uint32_t max);

typedef struct {
  uint32_t offset;  // first failing byte offset
  uint32_t expected, got;
} qmi_psram_fault;

// Writes a seeded pattern to every `step`-th word (step a multiple of 4) of [0, size), reads it
// back, then the complement: 0 when all matched, else -1 with the first mismatch in *fault.
int qmi_psram_self_test(uintptr_t window, uint32_t size, uint32_t step, uint32_t seed,
                        qmi_psram_fault *fault);

#endif  // DRIVERS_QMI_PSRAM_H_
