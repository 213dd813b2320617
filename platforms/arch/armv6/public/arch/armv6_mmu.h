// ARMv6 (ARM1176JZF-S) MMU: a flat map (VA = PA) of 1 MB sections from the board's region
// list, then the MMU, data cache, instruction cache and branch prediction on. Needed for more
// than speed: with the MMU off every data access is Strongly-ordered, where the unaligned
// loads the compiler emits for ARMv6 fault. Addresses in no region are unmapped (they fault).
#ifndef ARCH_ARMV6_MMU_H_
#define ARCH_ARMV6_MMU_H_

#include <stdint.h>

#define ARMV6_SECTION (UINT32_C(1) << 20)  // region granule: 1 MB

enum armv6_mem {
  ARMV6_MEM_NORMAL,  // RAM: inner and outer write-back, write-allocate
  ARMV6_MEM_DEVICE,  // MMIO: shared device, execute-never
};

struct armv6_region {
  uint32_t base;  // 1 MB aligned
  uint32_t size;  // multiple of 1 MB, base + size <= 4 GB
  enum armv6_mem type;
};

// MMU off: builds the table and turns MMU, caches and branch prediction on. Returns 0, or -1
// (nothing changed) when a region is not 1 MB aligned or runs past 4 GB.
int armv6_mmu_enable(const struct armv6_region *regions, int count);

// Data cache maintenance by address range (32-byte lines), for buffers a DMA master reads or
// writes: clean before the device reads memory, invalidate before the CPU reads what the device
// wrote (the range should cover whole lines: other data in them is lost).
void armv6_dcache_clean(const void *start, uint32_t len);
void armv6_dcache_invalidate(const void *start, uint32_t len);

#endif  // ARCH_ARMV6_MMU_H_
