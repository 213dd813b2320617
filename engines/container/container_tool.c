/* Host tool for tests: container_tool FILE [OUT]
 * Opens FILE with mc_open and prints "STATUS message"; when it opens, prints one line per
 * tensor ("name format group_size ndim d0 d1 d2 d3") and, with OUT, writes every tensor's
 * values converted to f32 (mc_value), one tensor after another, to OUT. Exit status 0 when
 * the container opens. */
#include <stdio.h>
#include <stdlib.h>

#include "common/check.h"
#include "container/container.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: container_tool FILE [OUT]\n");
    return 2;
  }
  size_t size;
  void *bytes = read_file(argv[1], &size);
  if (!bytes) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  mc_container c;
  const char *msg;
  em_status s = mc_open(&c, bytes, size, 0, &msg);
  printf("%s %s\n", em_status_name(s), msg);
  if (s != EM_OK) return 1;
  FILE *out = argc > 2 ? fopen(argv[2], "wb") : NULL;
  for (uint32_t i = 0; i < c.tensor_count; i++) {
    mc_tensor t;
    mc_tensor_at(&c, i, &t);
    printf("%s %u %u %u %llu %llu %llu %llu\n", t.name, t.format, t.group_size, t.ndim,
           (unsigned long long)t.shape[0], (unsigned long long)t.shape[1],
           (unsigned long long)t.shape[2], (unsigned long long)t.shape[3]);
    for (uint64_t k = 0; out && k < t.count; k++) {
      float v = mc_value(&t, k);
      fwrite(&v, sizeof v, 1, out);
    }
  }
  if (out) fclose(out);
  free(bytes);
  return 0;
}
