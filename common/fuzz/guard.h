/* Host test helper: a buffer whose last byte sits right before an inaccessible page, so a
 * read past the end of an input faults (a segfault fails the test) without ASan. Inputs are
 * placed 4-byte aligned (the engines need it), so up to 3 bytes of slack follow them; the
 * slack is filled with 0xA5. */
#ifndef COMMON_FUZZ_GUARD_H_
#define COMMON_FUZZ_GUARD_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct guard_buffer {
  uint8_t *base;  /* start of the accessible pages */
  uint8_t *limit; /* first inaccessible byte */
} guard_buffer;

/* Room for inputs up to `capacity` bytes; returns 0 on success. */
static inline int guard_init(guard_buffer *g, size_t capacity) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t room = (capacity + 4 + page - 1) / page * page;
  uint8_t *p = (uint8_t *)mmap(NULL, room + page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == (uint8_t *)MAP_FAILED) return -1;
  if (mprotect(p + room, page, PROT_NONE) != 0) return -1;
  g->base = p;
  g->limit = p + room;
  return 0;
}

/* Copies data[0..n) (n <= capacity) so that it ends at most 3 bytes before the guard page. */
static inline uint8_t *guard_place(guard_buffer *g, const void *data, size_t n) {
  size_t padded = (n + 3) & ~(size_t)3;
  uint8_t *p = g->limit - padded;
  if (n) memcpy(p, data, n);
  memset(p + n, 0xA5, padded - n);
  return p;
}

#endif /* COMMON_FUZZ_GUARD_H_ */
