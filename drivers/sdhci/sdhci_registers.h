// SDHCI registers and the bits the driver uses (sdhci.c), shared with the fake controller of
// its fuzz target (fuzz_sdhci.c). From the SD Host Controller Simplified Specification v3.00.
#ifndef DRIVERS_SDHCI_REGISTERS_H_
#define DRIVERS_SDHCI_REGISTERS_H_

enum {
  REG_BLOCK = 0x04,       // block size (15:0), block count (31:16)
  REG_ARG = 0x08,         // command argument
  REG_COMMAND = 0x0c,     // transfer mode (15:0), command (31:16)
  REG_RESP0 = 0x10,       // response bits 31:0 (R2: 39:8 of the card's response), ... 0x1c
  REG_DATA = 0x20,        // buffer data port
  REG_PRESENT = 0x24,     // present state
  REG_HOST = 0x28,        // host control 1 (7:0), power control (15:8), block gap, wakeup
  REG_CLOCK = 0x2c,       // clock control (15:0), timeout control (23:16), software reset (31:24)
  REG_IRQ = 0x30,         // normal (15:0) and error (31:16) interrupt status, write 1 to clear
  REG_IRQ_ENABLE = 0x34,  // status enables (latch the bits above)
  REG_IRQ_SIGNAL = 0x38,  // interrupt line enables (kept 0: polled)
  REG_CAPS = 0x40,
  REG_VERSION = 0xfc,  // slot interrupt status (15:0), host controller version (31:16)
};

enum {
  PRESENT_CMD_INHIBIT = 1u << 0,
  PRESENT_DAT_INHIBIT = 1u << 1,
  HOST_4BIT = 1u << 1,
  POWER_ON_3V3 = (7u << 1 | 1u) << 8,
  CLOCK_INTERNAL_EN = 1u << 0,
  CLOCK_INTERNAL_STABLE = 1u << 1,
  CLOCK_SD_EN = 1u << 2,
  TIMEOUT_MAX = 0xeu << 16,  // data timeout counter TMCLK * 2^27
  RESET_ALL = 1u << 24,
  RESET_CMD = 1u << 25,
  RESET_DAT = 1u << 26,
  IRQ_CMD_DONE = 1u << 0,
  IRQ_XFER_DONE = 1u << 1,
  IRQ_READ_READY = 1u << 5,
  IRQ_ERROR = 1u << 15,
  IRQ_ERR_CMD_TIMEOUT = 1u << 16,
  IRQ_ERR_DATA_TIMEOUT = 1u << 20,
  IRQ_ALL_ERRORS = 0x03ffu << 16,
  // Transfer mode
  MODE_BLOCK_COUNT = 1u << 1,
  MODE_AUTO_CMD12 = 1u << 2,
  MODE_READ = 1u << 4,
  MODE_MULTI = 1u << 5,
  // Command register: response type and checks
  RESP_NONE = 0,
  RESP_136 = 1,
  RESP_48 = 2,
  RESP_48_BUSY = 3,
  CHECK_CRC = 1u << 3,
  CHECK_INDEX = 1u << 4,
  DATA_PRESENT = 1u << 5,
  R1 = RESP_48 | CHECK_CRC | CHECK_INDEX,
  R1B = RESP_48_BUSY | CHECK_CRC | CHECK_INDEX,
  R2 = RESP_136 | CHECK_CRC,
  R3 = RESP_48,
  R6 = R1,
  R7 = R1,
};

#endif  // DRIVERS_SDHCI_REGISTERS_H_
