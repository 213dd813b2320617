// Host unit test for common/line_edit: feeds bytes, checks the line and the echo.
// Prints "N passed, N failed", exits non-zero on failure.
#include "common/line_edit.h"

#include "common/check.h"

static const char *input;
static size_t input_len, input_pos;
static char echo[512];
static size_t echo_len;

static int feed_getc(void) {
  return input_pos < input_len ? (unsigned char)input[input_pos++] : -1;
}

static void capture(char c) {
  if (echo_len + 1 < sizeof echo) echo[echo_len++] = c;
  echo[echo_len] = '\0';
}

static void start(struct line_edit *ed, const char *bytes, size_t n) {
  input = bytes;
  input_len = n;
  input_pos = 0;
  echo_len = 0;
  echo[0] = '\0';
  line_edit_init(ed, feed_getc, capture);
}

// Reads one line from the current input into a buffer of `size` bytes and checks it.
static void expect_line(struct line_edit *ed, const char *what, size_t size, int want_len,
                        const char *want_line, int want_truncated, const char *want_echo) {
  char buf[128];
  memset(buf, 'X', sizeof buf);
  echo_len = 0;
  echo[0] = '\0';
  struct line_result r = line_edit_read(ed, buf, size);
  int ok = r.len == want_len && r.truncated == want_truncated && strcmp(echo, want_echo) == 0 &&
           (want_len < 0 || strcmp(buf, want_line) == 0) && buf[size] == 'X';
  CHECKF(ok, "%s: len %d truncated %d line \"%s\" echo \"%s\"; want %d %d \"%s\" \"%s\"", what,
         r.len, r.truncated, r.len >= 0 ? buf : "", echo, want_len, want_truncated, want_line,
         want_echo);
}

#define FEED(ed, s) start(ed, s, sizeof(s) - 1)

int main(void) {
  struct line_edit ed;

  FEED(&ed, "hello\r");
  expect_line(&ed, "plain CR", 64, 5, "hello", 0, "hello\r\n");

  FEED(&ed, "a\nb\r\nc\rd");
  expect_line(&ed, "LF ends", 64, 1, "a", 0, "a\r\n");
  expect_line(&ed, "CR LF is one end", 64, 1, "b", 0, "b\r\n");
  expect_line(&ed, "CR alone", 64, 1, "c", 0, "c\r\n");
  expect_line(&ed, "input ends mid-line", 64, 1, "d", 0, "d\r\n");
  expect_line(&ed, "end of input", 64, -1, "", 0, "");

  FEED(&ed, "\r\r\n");
  expect_line(&ed, "empty line", 64, 0, "", 0, "\r\n");
  expect_line(&ed, "empty line after CR", 64, 0, "", 0, "\r\n");
  expect_line(&ed, "CR LF then end", 64, -1, "", 0, "");

  FEED(&ed, "abc\x7f\x08x\r");
  expect_line(&ed, "DEL and BS erase", 64, 2, "ax", 0, "abc\b \b\b \bx\r\n");

  FEED(&ed, "\x7f\x08ok\r");
  expect_line(&ed, "erase on empty line", 64, 2, "ok", 0, "ok\r\n");

  FEED(&ed, "junk\x15yes\r");
  expect_line(&ed, "Ctrl-U clears", 64, 3, "yes", 0, "junk\b \b\b \b\b \b\b \byes\r\n");

  FEED(&ed, "caf\xc3\xa9\x7f!\r");
  expect_line(&ed, "DEL erases a whole UTF-8 char", 64, 4, "caf!", 0, "caf\xc3\xa9\b \b!\r\n");

  FEED(&ed, "a\x1b[A\x1b[1;5Cb\x1bOHc\x01\t\r");
  expect_line(&ed, "escape sequences and controls ignored", 64, 3, "abc", 0, "abc\r\n");

  // Ctrl-C clears the line: "1" Ctrl-C Enter is an empty line, not the choice 1.
  FEED(&ed, "1\x03\rok\x03no\r");
  expect_line(&ed, "Ctrl-C clears", 64, 0, "", 0, "1\b \b\r\n");
  expect_line(&ed, "Ctrl-C then text", 64, 2, "no", 0, "ok\b \b\b \bno\r\n");

  // ESC then Enter: the Enter still ends the line; so does one cutting a CSI sequence short.
  FEED(&ed, "hi\x1b\rnext\x1b[\rlast\x1bOx\r");
  expect_line(&ed, "ESC then Enter", 64, 2, "hi", 0, "hi\r\n");
  expect_line(&ed, "ESC [ then Enter", 64, 4, "next", 0, "next\r\n");
  expect_line(&ed, "ESC O x", 64, 4, "last", 0, "last\r\n");

  FEED(&ed, "abcdefghij\r");
  expect_line(&ed, "truncated", 6, 5, "abcde", 1, "abcde [line truncated to 5 bytes]\r\n");

  FEED(&ed, "abcdefgh\x7fZ\r");
  expect_line(&ed, "erase after truncation", 6, 5, "abcdZ", 1,
              "abcde\b \bZ [line truncated to 5 bytes]\r\n");

  FEED(&ed, "ab\xc3\xa9\xc3\xa9\r");
  expect_line(&ed, "truncation never splits UTF-8", 6, 4, "ab\xc3\xa9", 1,
              "ab\xc3\xa9\xc3 [line truncated to 4 bytes]\r\n");

  FEED(&ed, "xyz\r");
  expect_line(&ed, "size 1 keeps nothing", 1, 0, "", 1, " [line truncated to 0 bytes]\r\n");

  FEED(&ed, "exact\r");
  expect_line(&ed, "line fills the buffer exactly", 6, 5, "exact", 0, "exact\r\n");

  return finish();
}
