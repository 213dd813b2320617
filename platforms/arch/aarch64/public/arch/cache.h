// AArch64 data-cache maintenance by address range, to the point of coherency (what a DMA
// master such as the VideoCore sees). Safe with the caches off (then they do nothing useful).
#ifndef ARCH_CACHE_H_
#define ARCH_CACHE_H_

#include <stddef.h>
#include <stdint.h>

static inline size_t aarch64_dcache_line(void) {  // smallest D-cache line, from CTR_EL0.DminLine
  uint64_t ctr;
  __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
  return (size_t)4 << ((ctr >> 16) & 0xf);
}

#define AARCH64_DCACHE_OP(name, op)                                                   \
  static inline void name(const volatile void *start, size_t len) {                   \
    size_t line = aarch64_dcache_line();                                              \
    uintptr_t p = (uintptr_t)start & ~(uintptr_t)(line - 1);                          \
    uintptr_t end = (uintptr_t)start + len;                                           \
    for (; p < end; p += line) __asm__ volatile("dc " op ", %0" ::"r"(p) : "memory"); \
    __asm__ volatile("dsb sy" ::: "memory");                                          \
  }

// Write dirty lines back to memory (before a device reads the buffer).
AARCH64_DCACHE_OP(aarch64_dcache_clean, "cvac")
// Write back and drop the lines (before and after a device writes the buffer; unlike a bare
// invalidate it never loses a neighbour's dirty bytes sharing the first or last line).
AARCH64_DCACHE_OP(aarch64_dcache_clean_invalidate, "civac")

#undef AARCH64_DCACHE_OP

#endif  // ARCH_CACHE_H_
