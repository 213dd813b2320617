// Stage 1 translation for the EL2 regime (Arm ARM D8: VMSAv8-64), identity mapped.
//
// With the MMU on, normal memory is cacheable and unaligned loads and stores to it are
// legal, so the -mstrict-align flag in toolchains/cc/zig_toolchains.bzl could go for code
// that only runs after aarch64_mmu_enable() (engines, drivers). It stays for now because
// start.S, board_init() up to this call, and the secondaries' first instructions run with
// the MMU off, where every access is Device memory and must be aligned.
#include "arch/mmu.h"

#include "arch/aarch64.h"
#include "arch/cache.h"

#define L1_SHIFT 30
#define L2_SHIFT 21
#define L1_ENTRIES (1u << (AARCH64_MMU_VA_BITS - L1_SHIFT))  // 64 x 1 GB
#define L2_ENTRIES 512u                                      // 512 x 2 MB
#define L2_POOL 8                                            // 1 GB slots mixing 2 MB blocks

// Descriptor bits (block and table descriptors, levels 1 and 2).
#define DESC_VALID (UINT64_C(1) << 0)
#define DESC_TABLE (UINT64_C(1) << 1)  // at levels 1-2: 1 = table, 0 = block
#define DESC_ATTR(i) ((uint64_t)(i) << 2)
#define DESC_AP1 (UINT64_C(1) << 6)  // RES1 in the EL2 regime (read/write at EL2)
#define DESC_SH_INNER (UINT64_C(3) << 8)
#define DESC_AF (UINT64_C(1) << 10)  // access flag: set, v8.0 has no hardware update
#define DESC_XN (UINT64_C(1) << 54)  // EL2 regime: execute-never
#define DESC_ADDR_MASK UINT64_C(0x0000fffffffff000)

// MAIR_EL2 attribute indexes, matching enum aarch64_mem.
#define MAIR_NORMAL_WB 0xffu  // inner/outer write-back non-transient, read+write allocate
#define MAIR_DEVICE_NGNRE 0x04u
#define MAIR_NORMAL_NC 0x44u
#define MAIR_VALUE \
  ((uint64_t)MAIR_NORMAL_WB | (uint64_t)MAIR_DEVICE_NGNRE << 8 | (uint64_t)MAIR_NORMAL_NC << 16)

// TCR_EL2 (non-VHE layout).
#define TCR_T0SZ (64u - AARCH64_MMU_VA_BITS)
#define TCR_IRGN0_WBWA (UINT64_C(1) << 8)
#define TCR_ORGN0_WBWA (UINT64_C(1) << 10)
#define TCR_SH0_INNER (UINT64_C(3) << 12)
#define TCR_TG0_4K (UINT64_C(0) << 14)
#define TCR_PS_36BIT (UINT64_C(1) << 16)
#define TCR_RES1 ((UINT64_C(1) << 23) | (UINT64_C(1) << 31))
#define TCR_VALUE                                                                           \
  (TCR_T0SZ | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K | TCR_PS_36BIT | \
   TCR_RES1)

static uint64_t l1_table[L1_ENTRIES] __attribute__((aligned(4096)));
static uint64_t l2_tables[L2_POOL][L2_ENTRIES] __attribute__((aligned(4096)));
static int l2_used;

// Read by start.S on secondaries, with their MMU still off: core 0 cleans it (and the
// tables) to memory before releasing them. Layout shared with mmu_on.S.
struct mmu_config {
  uint64_t enabled, mair, tcr, ttbr0;
};
struct mmu_config aarch64_mmu_config;

void aarch64_mmu_on_el2(uint64_t mair, uint64_t tcr, uint64_t ttbr0);  // mmu_on.S

static uint64_t block_attrs(enum aarch64_mem type) {
  switch (type) {
    case AARCH64_MEM_NORMAL:
      return DESC_ATTR(0) | DESC_SH_INNER | DESC_AP1 | DESC_AF;
    case AARCH64_MEM_DEVICE:
      return DESC_ATTR(1) | DESC_AP1 | DESC_AF | DESC_XN;
    case AARCH64_MEM_NORMAL_NC:
      return DESC_ATTR(2) | DESC_SH_INNER | DESC_AP1 | DESC_AF | DESC_XN;
  }
  return 0;
}

static int map_region(const struct aarch64_region *r) {
  const uint64_t gb = UINT64_C(1) << L1_SHIFT, limit = UINT64_C(1) << AARCH64_MMU_VA_BITS;
  if (r->base % AARCH64_MMU_BLOCK || r->size % AARCH64_MMU_BLOCK || r->size == 0 ||
      r->base >= limit || r->size > limit - r->base || r->type > AARCH64_MEM_NORMAL_NC) {
    return AARCH64_MMU_BAD_REGION;
  }
  uint64_t attrs = block_attrs(r->type);
  for (uint64_t pa = r->base, end = r->base + r->size; pa < end;) {
    uint64_t *l1 = &l1_table[pa >> L1_SHIFT];
    if (pa % gb == 0 && end - pa >= gb && *l1 == 0) {  // a whole 1 GB block
      *l1 = pa | attrs | DESC_VALID;
      pa += gb;
      continue;
    }
    if (*l1 == 0) {  // split this 1 GB slot into 2 MB blocks
      if (l2_used == L2_POOL) return AARCH64_MMU_NO_TABLES;
      *l1 = (uint64_t)(uintptr_t)l2_tables[l2_used++] | DESC_TABLE | DESC_VALID;
    } else if (!(*l1 & DESC_TABLE)) {
      return AARCH64_MMU_BAD_REGION;  // overlaps a 1 GB block
    }
    uint64_t *l2 = (uint64_t *)(uintptr_t)(*l1 & DESC_ADDR_MASK);
    uint64_t *entry = &l2[(pa >> L2_SHIFT) % L2_ENTRIES];
    if (*entry != 0) return AARCH64_MMU_BAD_REGION;  // overlaps an earlier region
    *entry = pa | attrs | DESC_VALID;
    pa += AARCH64_MMU_BLOCK;
  }
  return AARCH64_MMU_OK;
}

int aarch64_mmu_enable(const struct aarch64_region *regions, int count) {
  if (aarch64_mmu_state().mmu) return AARCH64_MMU_OK;
  if (aarch64_current_el() != 2) return AARCH64_MMU_NOT_EL2;
  uint64_t mmfr0;
  __asm__ volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
  // PARange (bits 3:0) >= 1: 36-bit PA; TGran4 (bits 31:28) == 0: 4 KB granule.
  if ((mmfr0 & 0xf) < 1 || ((mmfr0 >> 28) & 0xf) != 0) return AARCH64_MMU_UNSUPPORTED;

  for (unsigned i = 0; i < L1_ENTRIES; i++) l1_table[i] = 0;
  for (int t = 0; t < L2_POOL; t++) {
    for (unsigned i = 0; i < L2_ENTRIES; i++) l2_tables[t][i] = 0;
  }
  l2_used = 0;
  for (int i = 0; i < count; i++) {
    int err = map_region(&regions[i]);
    if (err != AARCH64_MMU_OK) return err;
  }

  aarch64_mmu_config.mair = MAIR_VALUE;
  aarch64_mmu_config.tcr = TCR_VALUE;
  aarch64_mmu_config.ttbr0 = (uint64_t)(uintptr_t)l1_table;
  aarch64_mmu_config.enabled = 1;
  // Caches are still off here (the boot protocol hands over with SCTLR.C = 0), so these
  // writes are in memory already; the cleans make that true whatever the order of calls.
  aarch64_dcache_clean(l1_table, sizeof l1_table);
  aarch64_dcache_clean(l2_tables, sizeof l2_tables);
  aarch64_dcache_clean(&aarch64_mmu_config, sizeof aarch64_mmu_config);
  aarch64_mmu_on_el2(aarch64_mmu_config.mair, aarch64_mmu_config.tcr, aarch64_mmu_config.ttbr0);
  return AARCH64_MMU_OK;
}

const char *aarch64_mmu_error_name(int error) {
  switch (error) {
    case AARCH64_MMU_OK:
      return "ok";
    case AARCH64_MMU_NOT_EL2:
      return "not at EL2";
    case AARCH64_MMU_UNSUPPORTED:
      return "core lacks 4 KB granule or 36-bit PA";
    case AARCH64_MMU_BAD_REGION:
      return "bad or overlapping region";
    case AARCH64_MMU_NO_TABLES:
      return "out of translation tables";
  }
  return "unknown error";
}

struct aarch64_mmu_state aarch64_mmu_state(void) {
  uint64_t sctlr = 0;
  switch (aarch64_current_el()) {
    case 1:
      __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
      break;
    case 2:
      __asm__ volatile("mrs %0, sctlr_el2" : "=r"(sctlr));
      break;
    case 3:
      __asm__ volatile("mrs %0, sctlr_el3" : "=r"(sctlr));
      break;
  }
  struct aarch64_mmu_state s = {(int)(sctlr & 1), (int)((sctlr >> 2) & 1),
                                (int)((sctlr >> 12) & 1)};
  return s;
}
