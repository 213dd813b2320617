// Freestanding memory and string primitives; the compiler emits calls to these names.
#ifndef COMMON_MEM_H_
#define COMMON_MEM_H_

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);   // copy n bytes; regions must not overlap
void *memmove(void *dst, const void *src, size_t n);  // copy n bytes; regions may overlap
void *memset(void *dst, int c, size_t n);             // fill n bytes with (unsigned char)c
int memcmp(const void *a, const void *b, size_t n);   // <0, 0, >0 like the C library
size_t strlen(const char *s);                         // bytes before the terminating NUL

#endif  // COMMON_MEM_H_
