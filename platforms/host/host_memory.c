/* host_memory.h over C11 aligned_alloc and Linux madvise. */
#define _DEFAULT_SOURCE /* madvise */

#include <stdio.h>
#include <stdlib.h>

#include "host/memory.h"
#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

void *host_alloc(size_t size, bool huge_pages) {
  bool huge = huge_pages && size >= HOST_HUGE_PAGE_BYTES;
  size_t align = huge ? HOST_HUGE_PAGE_BYTES : 64;
  if (size > (size_t)-1 - align) return NULL;
  size_t rounded = (size + align - 1) & ~(align - 1); /* C11 asks for a multiple */
  void *p = aligned_alloc(align, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p && huge) madvise(p, rounded, MADV_HUGEPAGE); /* advice only: a refusal is fine */
#endif
  return p;
}

void *host_read_file(const char *path, size_t *size, bool huge_pages) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = host_alloc((size_t)n + 1, huge_pages);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (!buf) return NULL;
  buf[n] = '\0';
  *size = (size_t)n;
  return buf;
}

const void *host_map_file(const char *path, size_t *size, bool huge_pages) {
#if defined(__linux__)
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  struct stat st;
  void *p = MAP_FAILED;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return NULL;
#if defined(MADV_HUGEPAGE)
  if (huge_pages) madvise(p, (size_t)st.st_size, MADV_HUGEPAGE); /* advice only */
#endif
  madvise(p, (size_t)st.st_size, MADV_WILLNEED);
  *size = (size_t)st.st_size;
  return p;
#else
  (void)path;
  (void)size;
  (void)huge_pages;
  return NULL;
#endif
}

void host_unmap_file(const void *bytes, size_t size) {
#if defined(__linux__)
  if (bytes) munmap((void *)bytes, size);
#else
  (void)bytes;
  (void)size;
#endif
}
