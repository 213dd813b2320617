// ARMv6 flat section map (arch/armv6_mmu.h). Section descriptors in the ARMv6 format
// (SCTLR.XP = 1): type 0b10, B bit 2, C bit 3, XN bit 4, domain 0, AP bits 11:10 = 0b11
// (read/write at every privilege), TEX bits 14:12. Domain 0 is a client domain (DACR).
#include "arch/armv6_mmu.h"

#define SECTION_TYPE 0x2u
#define SECTION_B (1u << 2)
#define SECTION_C (1u << 3)
#define SECTION_XN (1u << 4)
#define SECTION_AP_RW (3u << 10)
#define SECTION_TEX(t) ((uint32_t)(t) << 12)
#define SECTION_S (1u << 16)

#define SCTLR_M (1u << 0)
#define SCTLR_C (1u << 2)
#define SCTLR_Z (1u << 11)
#define SCTLR_I (1u << 12)
#define SCTLR_XP (1u << 23)

#define LINE 32u  // ARM1176 cache line

static uint32_t table[4096] __attribute__((aligned(16384)));

static uint32_t attributes(enum armv6_mem type) {
  if (type == ARMV6_MEM_DEVICE) return SECTION_B | SECTION_XN | SECTION_S;  // shared device
  return SECTION_TEX(1) | SECTION_C | SECTION_B;  // write-back, write-allocate
}

int armv6_mmu_enable(const struct armv6_region *regions, int count) {
  for (int i = 0; i < count; i++) {
    uint64_t end = (uint64_t)regions[i].base + regions[i].size;
    if ((regions[i].base | regions[i].size) & (ARMV6_SECTION - 1) || end > (UINT64_C(1) << 32)) {
      return -1;
    }
  }
  for (int i = 0; i < 4096; i++) table[i] = 0;  // fault
  for (int i = 0; i < count; i++) {
    uint32_t attr = SECTION_TYPE | SECTION_AP_RW | attributes(regions[i].type);
    for (uint32_t s = regions[i].base >> 20; s < (regions[i].base >> 20) + (regions[i].size >> 20);
         s++) {
      table[s] = (s << 20) | attr;
    }
  }
  uint32_t zero = 0;
  __asm__ volatile(
      "mcr p15, 0, %0, c7, c10, 4\n\t"  // drain the write buffer: the table is in memory
      "mcr p15, 0, %0, c2, c0, 2\n\t"   // TTBCR = 0: TTBR0 translates everything
      "mcr p15, 0, %1, c2, c0, 0\n\t"   // TTBR0: the table, walks non-cacheable
      "mcr p15, 0, %2, c3, c0, 0\n\t"   // DACR: domain 0 client (AP checked)
      "mcr p15, 0, %0, c8, c7, 0\n\t"   // invalidate the TLBs
      "mcr p15, 0, %0, c7, c7, 0\n\t"   // invalidate both caches
      "mcr p15, 0, %0, c7, c5, 6\n\t"   // flush the branch target cache
      "mcr p15, 0, %0, c7, c10, 4\n\t" ::"r"(zero),
      "r"((uint32_t)(uintptr_t)table), "r"(1u)
      : "memory");
  uint32_t sctlr;
  __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
  sctlr |= SCTLR_M | SCTLR_C | SCTLR_Z | SCTLR_I | SCTLR_XP;
  __asm__ volatile(
      "mcr p15, 0, %0, c1, c0, 0\n\t"
      "mcr p15, 0, %1, c7, c5, 4\n\t"  // prefetch flush: later instructions see the MMU on
      ::"r"(sctlr),
      "r"(zero)
      : "memory");
  return 0;
}

void armv6_dcache_clean(const void *start, uint32_t len) {
  for (uintptr_t a = (uintptr_t)start & ~(uintptr_t)(LINE - 1); a < (uintptr_t)start + len;
       a += LINE) {
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 1" ::"r"(a) : "memory");
  }
  __asm__ volatile("mcr p15, 0, %0, c7, c10, 4" ::"r"(0) : "memory");
}

void armv6_dcache_invalidate(const void *start, uint32_t len) {
  for (uintptr_t a = (uintptr_t)start & ~(uintptr_t)(LINE - 1); a < (uintptr_t)start + len;
       a += LINE) {
    __asm__ volatile("mcr p15, 0, %0, c7, c6, 1" ::"r"(a) : "memory");
  }
  __asm__ volatile("mcr p15, 0, %0, c7, c10, 4" ::"r"(0) : "memory");
}
