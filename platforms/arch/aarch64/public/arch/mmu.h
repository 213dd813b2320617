// AArch64 MMU at EL2: an identity map (VA = PA) of 36 bits (64 GB) with a 4 KB granule,
// 1 GB and 2 MB blocks. Core 0 builds the tables from the board's region list and turns
// the MMU and caches on; every secondary turns them on with the same tables in start.S
// before its first memory access (so all cores see one coherent, cacheable memory).
// Addresses not in any region are unmapped: an access faults (see exception.h).
#ifndef ARCH_MMU_H_
#define ARCH_MMU_H_

#include <stdint.h>

#define AARCH64_MMU_VA_BITS 36                 // T0SZ = 28; also the PA size (TCR_EL2.PS)
#define AARCH64_MMU_BLOCK (UINT64_C(2) << 20)  // region granule: 2 MB

enum aarch64_mem {
  AARCH64_MEM_NORMAL,     // RAM: write-back, read/write-allocate, inner shareable, executable
  AARCH64_MEM_DEVICE,     // MMIO: Device-nGnRE, execute-never
  AARCH64_MEM_NORMAL_NC,  // RAM shared with a non-coherent DMA master: non-cacheable
};

struct aarch64_region {
  uint64_t base;  // 2 MB aligned
  uint64_t size;  // multiple of 2 MB
  enum aarch64_mem type;
};

enum aarch64_mmu_error {
  AARCH64_MMU_OK = 0,
  AARCH64_MMU_NOT_EL2 = -1,      // only the EL2 regime is implemented
  AARCH64_MMU_UNSUPPORTED = -2,  // core lacks 4 KB granule or 36-bit PA
  AARCH64_MMU_BAD_REGION = -3,   // unaligned, beyond 36 bits, or overlapping another region
  AARCH64_MMU_NO_TABLES = -4,    // regions need more 2 MB-level tables than the pool holds
};

// Core 0, MMU off: builds the tables and turns MMU, D-cache and I-cache on. Afterwards
// secondaries released at _start turn theirs on too. Returns AARCH64_MMU_OK or an error
// (then nothing changed).
int aarch64_mmu_enable(const struct aarch64_region *regions, int count);
const char *aarch64_mmu_error_name(int error);

// SCTLR bits of the current EL: 1 when the MMU / D-cache / I-cache are on.
struct aarch64_mmu_state {
  int mmu, dcache, icache;
};
struct aarch64_mmu_state aarch64_mmu_state(void);

#endif  // ARCH_MMU_H_
