// Host unit test for common/term: what reaches a terminal from a model or a card.
#include "common/term.h"

#include "common/check.h"

static char out[256];
static size_t len;

static void capture(char c) {
  if (len + 1 < sizeof out) out[len++] = c;
  out[len] = '\0';
}

// Writes text[0..n) whole and byte by byte (split anywhere) and checks both give want.
static void expect(const char *what, const char *text, size_t n, const char *want) {
  len = 0;
  out[0] = '\0';
  int r = term_write(capture, text, n);
  CHECKF(strcmp(out, want) == 0 && r == (int)strlen(want), "%s: got \"%s\", want \"%s\"", what, out,
         want);
  len = 0;
  out[0] = '\0';
  term_stream t;
  term_init(&t, capture);
  for (size_t i = 0; i < n; i++) term_putc(&t, text[i]);
  term_flush(&t);
  CHECKF(strcmp(out, want) == 0, "%s (stream): got \"%s\", want \"%s\"", what, out, want);
}

#define EXPECT(what, text, want) expect(what, text, sizeof text - 1, want)

int main(void) {
  EXPECT("ascii", "Once upon a time,\n\tthere was", "Once upon a time,\n\tthere was");
  EXPECT("utf-8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0",
         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
  // A tokenizer piece that would set the terminal's title.
  EXPECT("osc title", "\x1b]0;PWNED\x07", "\\x1b]0;PWNED\\x07");
  EXPECT("csi", "\x1b[2J", "\\x1b[2J");
  EXPECT("c0 and del", "a\x0e\x17\r\x7f", "a\\x0e\\x17\\x0d\\x7f");
  EXPECT("nul", "a\0b", "a\\x00b");
  EXPECT("c1 csi",
         "x\xc2\x9b"
         "2J",
         "x\\xc2\\x9b2J");
  EXPECT("lone continuation", "a\x80z", "a\\x80z");
  EXPECT("invalid lead", "\xc0\xaf\xff", "\\xc0\\xaf\\xff");
  EXPECT("cut sequence", "\xe2\x82z", "\\xe2\\x82z");
  EXPECT("cut at the end", "ok\xf0\x9f\x98", "ok\\xf0\\x9f\\x98");
  EXPECT("surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80");
  EXPECT("above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
  EXPECT("cut then escape", "\xc3\x1b", "\\xc3\\x1b");
  len = 0;
  int r = term_puts(capture, "models/\x1b[31mred");
  CHECK(strcmp(out, "models/\\x1b[31mred") == 0 && r == 18);
  return finish();
}
