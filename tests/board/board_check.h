/* common/check.h on a board: its lines go to the board's console with CRLF line ends. Include
 * this instead of common/check.h in a board test program (one translation unit). */
#ifndef TESTS_BOARD_BOARD_CHECK_H_
#define TESTS_BOARD_BOARD_CHECK_H_

#include "board/board.h"
#include "common/fmt.h"

static inline void board_check_putc(char c) {
  if (c == '\n') board_putc('\r');
  board_putc(c);
}

#define CHECK_PRINTF(...) fmt_printf(board_check_putc, __VA_ARGS__)
#include "common/check.h"

/* Prints "<name> self-test: board=B N passed, M failed" (selftest_test.py reads it) and gives
 * main's exit status. */
static inline int selftest_finish(const char *name) {
  CHECK_PRINTF("%s self-test: board=%s ", name, board_name());
  return finish();
}

#endif /* TESTS_BOARD_BOARD_CHECK_H_ */
