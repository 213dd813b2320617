#include "common/term.h"

static int escaped(fmt_putc_fn putc, unsigned char b) {
  putc('\\');
  putc('x');
  return 2 + fmt_unsigned(putc, b, 16, 2);
}

static int put_pending(term_stream *t, int escape) {
  int n = 0;
  for (int i = 0; i < t->have; i++) {
    if (escape) {
      n += escaped(t->putc, t->pending[i]);
    } else {
      t->putc((char)t->pending[i]);
      n++;
    }
  }
  t->have = 0;
  return n;
}

void term_init(term_stream *t, fmt_putc_fn putc) {
  t->putc = putc;
  t->have = t->need = 0;
}

static int put_byte(term_stream *t, unsigned char b) {
  int n = 0;
  if (t->have > 0) {
    int ok = t->have == 1 ? fmt_utf8_valid_second(t->pending[0], b) : (b & 0xc0) == 0x80;
    if (ok) {
      t->pending[t->have++] = b;
      if (t->have < t->need) return 0;
      // A C1 control (U+0080..U+009F: c2 80 .. c2 9f) is a control like ESC.
      int c1 = t->need == 2 && t->pending[0] == 0xc2 && t->pending[1] <= 0x9f;
      return put_pending(t, c1);
    }
    n += put_pending(t, 1);  // a broken sequence; b starts afresh below
  }
  int need = fmt_utf8_length(b);
  if (need == 1) {
    if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f) return n + escaped(t->putc, b);
    t->putc((char)b);
    return n + 1;
  }
  if (need == 0) return n + escaped(t->putc, b);
  t->pending[0] = b;
  t->have = 1;
  t->need = need;
  return n;
}

void term_putc(term_stream *t, char c) { put_byte(t, (unsigned char)c); }

void term_flush(term_stream *t) { put_pending(t, 1); }

int term_write(fmt_putc_fn putc, const char *s, size_t len) {
  term_stream t;
  term_init(&t, putc);
  int n = 0;
  for (size_t i = 0; i < len; i++) n += put_byte(&t, (unsigned char)s[i]);
  return n + put_pending(&t, 1);
}

int term_puts(fmt_putc_fn putc, const char *s) { return term_write(putc, s, __builtin_strlen(s)); }
