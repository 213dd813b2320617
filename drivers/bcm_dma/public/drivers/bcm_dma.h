// Broadcom DMA controller (BCM2835 family; the "DMA" block of the ARM peripherals): one
// channel, one control block, polled. Knows no board and no cache: the caller passes the
// channel's registers, bus addresses as the DMA engine sees them, and keeps the ARM's caches
// coherent with the buffers (clean before the engine reads, invalidate before the CPU reads).
//
// What it is for here: the BCM2835's Arasan SD controller has no SDMA or ADMA of its own; a
// DMA channel paced by the controller's DREQ reads its data port instead (drivers/sdhci's
// sdhci_dma hook, wired by the board).
#ifndef DRIVERS_BCM_DMA_H_
#define DRIVERS_BCM_DMA_H_

#include <stdint.h>

#define BCM_DMA_PERMAP_EMMC 11u  // the Arasan EMMC's DREQ line

// A control block (32-byte aligned, in RAM the engine can read); the driver fills it.
typedef struct bcm_dma_cb {
  uint32_t ti, source, dest, length, stride, next, reserved[2];
} __attribute__((aligned(32))) bcm_dma_cb;

enum {
  BCM_DMA_OK = 0,
  BCM_DMA_ERROR = -1,    // the engine reported an error (CS.ERROR, DEBUG bits)
  BCM_DMA_TIMEOUT = -2,  // not done in time; the channel was aborted
  BCM_DMA_INVALID = -3,  // length 0, not a multiple of 4, or above 1 GB
};

// Fills *cb to read `length` bytes from a fixed device register (bus address `source`, paced
// by DREQ `permap`) into consecutive bus addresses from `dest`. cb_bus: the bus address of *cb.
// The caller cleans *cb to memory, then calls bcm_dma_start.
int bcm_dma_prepare_from_device(bcm_dma_cb *cb, uint32_t source, uint32_t permap, uint32_t dest,
                                uint32_t length);
// Resets the channel (registers at `channel`, enable bit `index` at `enable`) and starts it on
// the control block at bus address cb_bus.
void bcm_dma_start(uintptr_t channel, uintptr_t enable, unsigned index, uint32_t cb_bus);
// Polls until the channel ends or fails, at most timeout_us by now_us(); a timeout aborts it.
int bcm_dma_wait(uintptr_t channel, uint64_t (*now_us)(void), uint32_t timeout_us);

#endif  // DRIVERS_BCM_DMA_H_
