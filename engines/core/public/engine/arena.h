/* Bump allocator over a caller-owned buffer: no free, only mark/reset. */
#ifndef ENGINE_ARENA_H_
#define ENGINE_ARENA_H_

#include <stddef.h>
#include <stdint.h>

typedef struct em_arena {
  uint8_t *base; /* first byte of the caller's buffer */
  size_t size;   /* bytes in the buffer */
  size_t used;   /* bytes handed out (including alignment padding) */
  size_t peak;   /* highest value `used` ever reached */
} em_arena;

/* Makes an empty arena over buf[0..size). */
void em_arena_init(em_arena *arena, void *buf, size_t size);

/* Returns `size` bytes aligned to `align` (a power of two), or NULL when they do not fit. */
void *em_arena_alloc(em_arena *arena, size_t size, size_t align);

/* Returns room for count * elem_size bytes (overflow-checked), or NULL. */
void *em_arena_alloc_array(em_arena *arena, size_t count, size_t elem_size, size_t align);

/* Returns the current position, for a later em_arena_reset. */
size_t em_arena_mark(const em_arena *arena);

/* Frees everything allocated after `mark` was taken. */
void em_arena_reset(em_arena *arena, size_t mark);

/* Bytes in use now. */
size_t em_arena_used(const em_arena *arena);

/* Most bytes ever in use. */
size_t em_arena_peak(const em_arena *arena);

#endif /* ENGINE_ARENA_H_ */
