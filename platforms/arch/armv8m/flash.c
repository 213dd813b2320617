// board/memory.h and board/storage.h from the linker script's symbols (arch/armv8m_flash.h),
// and the MPU region that makes the model region read-only.
#include "arch/armv8m_flash.h"
#include "board/memory.h"
#include "board/storage.h"

extern const uint8_t __ram_free[], __ram_end[], __models_start[], __models_end[];

uintptr_t armv8m_models_start(void) { return (uintptr_t)__models_start; }
uintptr_t armv8m_models_end(void) { return (uintptr_t)__models_end; }

int board_ram(uintptr_t *base, size_t *size) {
  *base = (uintptr_t)__ram_free;
  *size = (size_t)(__ram_end - __ram_free);
  return 0;
}

int board_storage_cards(board_card cards[BOARD_CARDS_MAX]) {
  board_card none = {0, 0, "none on this board (the models are linked into flash)", "flash"};
  cards[0] = none;
  return 1;
}

const void *board_model_region(size_t *size) {
  *size = (size_t)(__models_end - __models_start);
  return *size ? __models_start : 0;
}

// ARMv8-M MPU (Armv8-M ARM, B3.5): the Secure MPU's TYPE, CTRL, RNR, RBAR, RLAR and MAIR0.
enum {
  MPU_CTRL = 0xe000ed94u,
  MPU_RNR = 0xe000ed98u,
  MPU_RBAR = 0xe000ed9cu,
  MPU_RLAR = 0xe000eda0u,
  MPU_MAIR0 = 0xe000edc0u,
  MPU_CTRL_ENABLE = 1u << 0,
  MPU_CTRL_PRIVDEFENA = 1u << 2,  // the default memory map where no region matches
  RBAR_AP_RO_ANY = 3u << 1,       // read-only, privileged and unprivileged
  RLAR_ENABLE = 1u << 0,          // AttrIndx 0
  MAIR_NORMAL_WB = 0xffu,         // attribute 0: normal memory, write-back, read/write-allocate
};

static inline volatile uint32_t *sys(uint32_t addr) { return (volatile uint32_t *)(uintptr_t)addr; }

void armv8m_mpu_read_only(uintptr_t start, uintptr_t end) {
  if (end <= start) return;
  __asm__ volatile("dsb" ::: "memory");
  *sys(MPU_MAIR0) = MAIR_NORMAL_WB;
  *sys(MPU_RNR) = 0;
  *sys(MPU_RBAR) = ((uint32_t)start & ~31u) | RBAR_AP_RO_ANY;
  *sys(MPU_RLAR) = ((uint32_t)(end - 1) & ~31u) | RLAR_ENABLE;
  *sys(MPU_CTRL) = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
  __asm__ volatile("dsb\n isb" ::: "memory");
}
