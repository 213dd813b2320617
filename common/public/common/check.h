/* Minimal host test harness: CHECK counts results; finish() prints the summary line
 * "N passed, M failed" (plus ", K skipped" when something was skipped) and gives the exit
 * status. Also finds the shared test data directory. Host only (uses libc). */
#ifndef COMMON_CHECK_H_
#define COMMON_CHECK_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_passed, g_failed, g_skipped;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      g_passed++;                                                              \
    } else {                                                                   \
      g_failed++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Like CHECK, with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                      \
  do {                                                                         \
    if (cond) {                                                                \
      g_passed++;                                                              \
    } else {                                                                   \
      g_failed++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

static inline void skip(const char *what) {
  g_skipped++;
  printf("SKIPPED: %s\n", what);
}

static inline int finish(void) {
  if (g_skipped)
    printf("%d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
  else
    printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed != 0;
}

/* Full path of a file in the shared test data: $METALCHAT_TESTDATA/name, else
 * ../shared/testdata/name from the repository root (tried from the current directory and
 * up to five parents). Returns 0 and fills `out` when the file exists. */
static inline int testdata_path(const char *name, char *out, size_t cap) {
  const char *env = getenv("METALCHAT_TESTDATA");
  if (env && *env) {
    snprintf(out, cap, "%s/%s", env, name);
    FILE *f = fopen(out, "rb");
    if (f) {
      fclose(f);
      return 0;
    }
  }
  char prefix[64] = "";
  for (int up = 0; up <= 5; up++) {
    snprintf(out, cap, "%s../shared/testdata/%s", prefix, name);
    FILE *f = fopen(out, "rb");
    if (f) {
      fclose(f);
      return 0;
    }
    strcat(prefix, "../");
  }
  return -1;
}

/* Reads a whole file into a malloc'd buffer (8-byte aligned); NULL if it cannot. */
static inline void *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) *size = (size_t)n;
  return buf;
}

#endif /* COMMON_CHECK_H_ */
