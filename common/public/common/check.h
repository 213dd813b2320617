/* The C test header, for host tests and board test programs alike: CHECK counts results and
 * reports each failure; finish() prints the summary line "N passed, M failed" (plus
 * ", K skipped" when something was skipped) and gives the exit status. Also a seeded
 * xorshift32 for test data and, on a host, the shared test data and whole-file reads.
 *
 * Output goes through CHECK_PRINTF (printf-like). A host gets printf; a freestanding board
 * program defines CHECK_PRINTF before including this header, e.g.
 *   #define CHECK_PRINTF(...) fmt_printf(board_putc, __VA_ARGS__)
 * One test program = one translation unit: the counters are statics here. */
#ifndef COMMON_CHECK_H_
#define COMMON_CHECK_H_

#include <stddef.h>
#include <stdint.h>

#ifndef CHECK_PRINTF
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define CHECK_PRINTF printf
#define CHECK_FAIL_PRINTF(...) fprintf(stderr, __VA_ARGS__)
#define CHECK_HOSTED 1
#else
#define CHECK_FAIL_PRINTF CHECK_PRINTF
#endif

static int g_passed, g_failed, g_skipped;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      g_passed++;                                                                \
    } else {                                                                     \
      g_failed++;                                                                \
      CHECK_FAIL_PRINTF("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

/* Like CHECK, with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                        \
  do {                                                                           \
    if (cond) {                                                                  \
      g_passed++;                                                                \
    } else {                                                                     \
      g_failed++;                                                                \
      CHECK_FAIL_PRINTF("%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
      CHECK_FAIL_PRINTF(__VA_ARGS__);                                            \
      CHECK_FAIL_PRINTF("\n");                                                   \
    }                                                                            \
  } while (0)

static inline void skip(const char *what) {
  g_skipped++;
  CHECK_PRINTF("SKIPPED: %s\n", what);
}

static inline int finish(void) {
  if (g_skipped)
    CHECK_PRINTF("%d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
  else
    CHECK_PRINTF("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed != 0;
}

/* xorshift32 (13, 17, 5) from *state, which must not be 0. */
static inline uint32_t check_next_u32(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

/* Uniform in [-1, 1). */
static inline float check_frand(uint32_t *state) {
  return (float)(check_next_u32(state) >> 8) / 8388608.0f - 1.0f;
}

#ifdef CHECK_HOSTED
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

/* Reads a whole file into a malloc'd buffer with one spare byte after it (for a NUL); NULL if
 * it cannot. */
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
#endif

#endif /* COMMON_CHECK_H_ */
