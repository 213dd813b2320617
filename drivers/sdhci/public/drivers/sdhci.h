// SD Host Controller (SDHCI 2.0/3.0) driver for SD memory cards, as a block device
// (drivers/block.h). Knows no board: the caller passes the controller's base address, its base
// clock and a microsecond clock for timeouts. Polled, no interrupts. Reads go through the 32-bit
// data port: by the CPU (PIO, into any buffer, no cache maintenance), or, when the board hands
// in an external DMA engine (sdhci_dma: the BCM2835's Arasan EMMC has no SDMA/ADMA, the SoC's
// DMA controller paced by its DREQ reads the port), multi-block reads into aligned buffers go
// through that engine.
// Registers are only accessed 32 bits wide (the BCM2711 EMMC2 and the BCM2835 Arasan EMMC
// require it).
//
// Init: reset, 3.3 V power, 400 kHz, CMD0, CMD8 (SD 2.0+), ACMD41 (HCS: SDHC/SDXC), CMD2,
// CMD3, 25 MHz default speed, CMD9 (capacity from the CSD), CMD7, ACMD51 (SCR), ACMD6 (4-bit
// bus when the SCR offers it), CMD16 (512-byte blocks on SDSC). Reads: CMD17 for one block,
// CMD18 with auto-CMD12 for more (up to 65535 per command). Every wait has a timeout: a
// missing card gives BLOCK_ERR_NO_MEDIUM, a silent controller BLOCK_ERR_TIMEOUT.
#ifndef DRIVERS_SDHCI_H_
#define DRIVERS_SDHCI_H_

#include <stdint.h>

#include "drivers/block.h"

// A DMA engine outside the controller that empties its data port (the board wires it). One
// transfer at a time: start, then finish.
typedef struct sdhci_dma {
  // Starts moving `bytes` from the data port (CPU physical address data_port) into buf;
  // 0, or nonzero when it cannot (the driver then reads by PIO).
  int (*start)(void *ctx, uintptr_t data_port, void *buf, uint32_t bytes);
  // Waits for the transfer: 0 when buf holds the data as the CPU sees it, nonzero on failure.
  int (*finish)(void *ctx);
  void *ctx;
  uint32_t align;  // DMA only for buffers whose address is a multiple of this (a power of two)
} sdhci_dma;

typedef struct sdhci_config {
  uintptr_t base;            // controller registers
  uint32_t base_clock_hz;    // controller base clock; 0: read it from the capabilities
  uint64_t (*now_us)(void);  // monotonic microseconds, for timeouts
  uint32_t max_clock_hz;     // data transfer clock cap; 0: 25 MHz (SD default speed)
  const sdhci_dma *dma;      // multi-block reads through this engine; NULL: PIO only
} sdhci_config;

typedef struct sdhci {
  uintptr_t base;
  uint64_t (*now_us)(void);
  uint32_t base_clock_hz;
  uint32_t clock_hz;      // SD clock in use after init
  uint32_t version;       // host controller specification: 0 = 1.0, 1 = 2.0, 2 = 3.0, ...
  uint32_t capabilities;  // capabilities register (0x40)
  uint32_t rca;           // relative card address
  uint32_t ocr;           // operating conditions from ACMD41
  uint32_t cid[4];        // card identification (R2 layout: bits 127:8 of the CID)
  uint32_t csd[4];        // card-specific data (R2 layout)
  uint64_t blocks;        // capacity in 512-byte blocks
  uint8_t high_capacity;  // SDHC/SDXC: block addressing (else byte addressing, SDSC)
  uint8_t bus_width;      // 1 or 4
  const sdhci_dma *dma;   // from the config; sdhci_set_dma() turns it off or on
  uint64_t dma_blocks;    // blocks read through the DMA engine since init
  uint64_t pio_blocks;    // blocks read by the CPU since init
  // Diagnostics of the last failure: which step, and the interrupt status seen.
  const char *failed_step;  // e.g. "CMD8", "ACMD41", "CMD18 data"; NULL if none
  uint32_t failed_irq;      // normal (15:0) and error (31:16) interrupt status
  block_device dev;         // valid after sdhci_init returned BLOCK_OK
} sdhci;

// Resets the controller and brings up the card; returns a block_status. On success sd->dev
// reads the card (sd->dev.ctx is sd). A missing card gives BLOCK_ERR_NO_MEDIUM.
int sdhci_init(sdhci *sd, const sdhci_config *config);
// Reads count 512-byte blocks at lba into buf (any alignment); what sd->dev.read calls.
// BLOCK_ERR_INVALID unless sdhci_init succeeded (a failed init leaves the card unusable).
int sdhci_read(sdhci *sd, uint64_t lba, uint32_t count, void *buf);
// Uses `dma` (NULL: PIO only) for the reads from now on, e.g. after a check of the engine.
void sdhci_set_dma(sdhci *sd, const sdhci_dma *dma);

#endif  // DRIVERS_SDHCI_H_
