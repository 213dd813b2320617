// What the two ARMv8-M boards (rp2350, mps2_an521) share of board/memory.h and board/storage.h:
// the free RAM and the model region come from their linker scripts, which define
//   __ram_free, __ram_end           the RAM after data, bss and stacks (64-byte aligned start)
//   __models_start, __models_end    the model bundles linked into flash (images/model_region.bzl)
// There is no card: board_storage_cards says so.
#ifndef ARCH_ARMV8M_FLASH_H_
#define ARCH_ARMV8M_FLASH_H_

#include <stdint.h>

// Makes [start, end) read-only for every access with MPU region 0 (start and end 32-byte
// aligned; nothing when empty), keeping the default map elsewhere, and enables the MPU: a
// write there faults, as on flash.
void armv8m_mpu_read_only(uintptr_t start, uintptr_t end);

// The model region's bounds (the linker symbols above).
uintptr_t armv8m_models_start(void);
uintptr_t armv8m_models_end(void);

#endif  // ARCH_ARMV8M_FLASH_H_
