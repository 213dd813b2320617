// Host unit test for common/fmt: prints "N passed, N failed", exits non-zero on failure.
#include "common/fmt.h"

#include <limits.h>

#include "common/check.h"

static char out[256];
static size_t len;

static void capture(char c) {
  if (len + 1 < sizeof out) out[len++] = c;
  out[len] = '\0';
}

// Malformed formats are deliberate below; call through a pointer the compiler's
// format checker does not follow.
static int (*const unchecked_printf)(fmt_putc_fn, const char *, ...) = fmt_printf;

static void reset(void) {
  len = 0;
  out[0] = '\0';
}

static void expect(const char *what, int returned, const char *want) {
  CHECKF(strcmp(out, want) == 0 && returned == (int)strlen(want),
         "%s: got \"%s\" (returned %d), want \"%s\"", what, out, returned, want);
  reset();
}

int main(void) {
  int r;
  r = fmt_printf(capture, "plain");
  expect("plain", r, "plain");
  r = fmt_printf(capture, "%d %d %d", 0, -42, INT_MAX);
  expect("%d", r, "0 -42 2147483647");
  r = fmt_printf(capture, "%lld", LLONG_MIN);
  expect("%lld min", r, "-9223372036854775808");
  r = fmt_printf(capture, "%u %lu", 4000000000u, 7ul);
  expect("%u %lu", r, "4000000000 7");
  r = fmt_printf(capture, "%llu", ULLONG_MAX);
  expect("%llu max", r, "18446744073709551615");
  r = fmt_printf(capture, "%x %lx %llx", 0xbeefu, 0x1234ul, 0xfedcba9876543210ull);
  expect("%x", r, "beef 1234 fedcba9876543210");
  r = fmt_printf(capture, "%02x%02x %08x", 0x5u, 0xabu, 0x1fu);
  expect("%02x", r, "05ab 0000001f");
  r = fmt_printf(capture, "%s=%c%%", "cores", '4');
  expect("%s %c %%", r, "cores=4%");
  r = unchecked_printf(capture, "%s", (const char *)0);
  expect("%s null", r, "(null)");
  r = fmt_printf(capture, "%p", (void *)0x80000);
  expect("%p", r, "0x80000");
  r = unchecked_printf(capture, "%q");
  expect("unknown conversion", r, "%q");
  r = unchecked_printf(capture, "tail%");
  expect("trailing %", r, "tail");
  r = fmt_unsigned(capture, 5, 2, 4);
  expect("binary", r, "0101");
  r = fmt_unsigned(capture, 5, 1, 0);
  expect("bad base", r, "");
  r = fmt_signed(capture, -7);
  expect("fmt_signed", r, "-7");
  return finish();
}
