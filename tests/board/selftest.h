/* What the board self-test images share: pass/fail counters with a console line per failure,
 * a seeded xorshift32 for test data, and the summary line selftest_test.py reads.
 * One image = one translation unit, so the state lives here as statics. */
#ifndef TESTS_ENGINES_BOARD_SELFTEST_H_
#define TESTS_ENGINES_BOARD_SELFTEST_H_

#include <stdint.h>

#include "board/board.h"
#include "common/fmt.h"

static int g_passed, g_failed;

/* Counts one check; a failure prints what and two numbers that locate it. */
static inline void check(int ok, const char *what, int a, int b) {
  if (ok) {
    g_passed++;
    return;
  }
  g_failed++;
  fmt_printf(board_putc, "FAILED: %s (%d, %d)\r\n", what, a, b);
}

/* xorshift32 (13, 17, 5) from *state, which must not be 0. */
static inline uint32_t next_u32(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

/* Uniform in [-1, 1). */
static inline float frand(uint32_t *state) {
  return (float)(next_u32(state) >> 8) / 8388608.0f - 1.0f;
}

/* Prints "<name> self-test: board=B N passed, M failed" and gives main's exit status. */
static inline int selftest_finish(const char *name) {
  fmt_printf(board_putc, "%s self-test: board=%s %d passed, %d failed\r\n", name, board_name(),
             g_passed, g_failed);
  return g_failed != 0;
}

#endif /* TESTS_ENGINES_BOARD_SELFTEST_H_ */
