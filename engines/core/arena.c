/* Bump arena over a caller buffer. */
#include "engine/arena.h"

void em_arena_init(em_arena *arena, void *buf, size_t size) {
  arena->base = (uint8_t *)buf;
  arena->size = buf ? size : 0;
  arena->used = 0;
  arena->peak = 0;
}

void *em_arena_alloc(em_arena *arena, size_t size, size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) return NULL;
  uintptr_t start = (uintptr_t)arena->base + arena->used;
  size_t pad = (size_t)((align - (start & (align - 1))) & (align - 1));
  size_t room = arena->size - arena->used;
  if (pad > room || size > room - pad) return NULL;
  arena->used += pad + size;
  if (arena->used > arena->peak) arena->peak = arena->used;
  return arena->base + (arena->used - size);
}

void *em_arena_alloc_array(em_arena *arena, size_t count, size_t elem_size, size_t align) {
  if (elem_size != 0 && count > (size_t)-1 / elem_size) return NULL;
  return em_arena_alloc(arena, count * elem_size, align);
}

size_t em_arena_mark(const em_arena *arena) { return arena->used; }

void em_arena_reset(em_arena *arena, size_t mark) {
  if (mark <= arena->used) arena->used = mark;
}

size_t em_arena_used(const em_arena *arena) { return arena->used; }

size_t em_arena_peak(const em_arena *arena) { return arena->peak; }
