/* host_memory: alignment of small and huge buffers, a file read back byte for byte with its
 * NUL terminator, an empty file, and a missing file. */
#define _DEFAULT_SOURCE /* mkstemp */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "host/memory.h"

static int aligned(const void *p, size_t to) { return ((uintptr_t)p & (to - 1)) == 0; }

static char *write_temp(const unsigned char *bytes, size_t n) {
  const char *dir = getenv("TEST_TMPDIR");
  static char path[4096];
  snprintf(path, sizeof path, "%s/host_memory_XXXXXX", dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "wb");
  if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) return NULL;
  return path;
}

int main(void) {
  for (int huge = 0; huge <= 1; huge++) {
    void *small = host_alloc(100, huge);
    CHECK(small && aligned(small, 64));
    free(small);
    void *big = host_alloc(HOST_HUGE_PAGE_BYTES + 1, huge);
    CHECK(big && aligned(big, huge ? HOST_HUGE_PAGE_BYTES : 64));
    free(big);
  }
  CHECK(host_alloc((size_t)-1, true) == NULL);

  enum { N = 70000 };
  static unsigned char bytes[N];
  for (size_t i = 0; i < N; i++) bytes[i] = (unsigned char)(i * 131u + 7u);
  char *path = write_temp(bytes, N);
  CHECK(path != NULL);
  size_t size = 0;
  unsigned char *got = path ? host_read_file(path, &size, false) : NULL;
  CHECK(got && size == N && aligned(got, 64) && memcmp(got, bytes, N) == 0 && got[N] == 0);
  free(got);
  if (path) unlink(path);

  path = write_temp(bytes, 0);
  got = path ? host_read_file(path, &size, true) : NULL;
  CHECK(got && size == 0 && got[0] == 0);
  free(got);
  if (path) unlink(path);

  size = 12345;
  CHECK(host_read_file("/nonexistent/model.bin", &size, true) == NULL && size == 12345);
  return finish();
}
