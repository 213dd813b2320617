// Register layout from the "BCM2835 ARM Peripherals" datasheet, chapter 4 (DMA Controller):
// per channel CS (0x00), CONBLK_AD (0x04), DEBUG (0x20); the control block's TI bits; the
// global ENABLE register (0xff0 from the controller base).
#include "drivers/bcm_dma.h"

enum {
  REG_CS = 0x00,
  REG_CONBLK_AD = 0x04,
  REG_DEBUG = 0x20,
};

#define CS_ACTIVE (1u << 0)
#define CS_END (1u << 1)
#define CS_INT (1u << 2)
#define CS_ERROR (1u << 8)
#define CS_PRIORITY(p) ((uint32_t)(p) << 16)
#define CS_PANIC_PRIORITY(p) ((uint32_t)(p) << 20)
#define CS_WAIT_WRITES (1u << 28)
#define CS_ABORT (1u << 30)
#define CS_RESET (1u << 31)

#define TI_WAIT_RESP (1u << 3)
#define TI_DEST_INC (1u << 4)
#define TI_SRC_DREQ (1u << 10)
#define TI_PERMAP(p) ((uint32_t)(p) << 16)

#define DEBUG_ERRORS 0x7u  // read error, FIFO error, read-last-not-set error (write 1 to clear)
#define MAX_LENGTH (1u << 30)

static inline uint32_t rd(uintptr_t channel, unsigned off) {
  return *(volatile uint32_t *)(channel + off);
}
static inline void wr(uintptr_t channel, unsigned off, uint32_t v) {
  *(volatile uint32_t *)(channel + off) = v;
}

int bcm_dma_prepare_from_device(bcm_dma_cb *cb, uint32_t source, uint32_t permap, uint32_t dest,
                                uint32_t length) {
  if (length == 0 || (length & 3u) || length > MAX_LENGTH) return BCM_DMA_INVALID;
  cb->ti = TI_PERMAP(permap) | TI_SRC_DREQ | TI_DEST_INC | TI_WAIT_RESP;
  cb->source = source;
  cb->dest = dest;
  cb->length = length;
  cb->stride = 0;
  cb->next = 0;
  cb->reserved[0] = 0;
  cb->reserved[1] = 0;
  return BCM_DMA_OK;
}

void bcm_dma_start(uintptr_t channel, uintptr_t enable, unsigned index, uint32_t cb_bus) {
  *(volatile uint32_t *)enable |= 1u << index;
  wr(channel, REG_CS, CS_RESET);
  wr(channel, REG_DEBUG, DEBUG_ERRORS);
  wr(channel, REG_CONBLK_AD, cb_bus);
  wr(channel, REG_CS, CS_ACTIVE | CS_PRIORITY(8) | CS_PANIC_PRIORITY(15) | CS_WAIT_WRITES);
}

int bcm_dma_wait(uintptr_t channel, uint64_t (*now_us)(void), uint32_t timeout_us) {
  uint64_t deadline = now_us() + timeout_us;
  for (;;) {
    uint32_t cs = rd(channel, REG_CS);
    if (cs & CS_ERROR) {
      wr(channel, REG_CS, CS_RESET);
      return BCM_DMA_ERROR;
    }
    if (cs & CS_END) {
      wr(channel, REG_CS, CS_END | CS_INT);  // write 1 to clear
      return BCM_DMA_OK;
    }
    if (now_us() > deadline) {
      wr(channel, REG_CS, CS_ABORT);
      wr(channel, REG_CS, CS_RESET);
      return BCM_DMA_TIMEOUT;
    }
  }
}
