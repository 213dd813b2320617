// Terminal safety: text that comes from a model or a card (token pieces, folder and bundle
// names, file contents) written so that a terminal only displays it and never obeys it.
//   printable UTF-8, '\n' and '\t'     written unchanged (normal text stays byte-identical)
//   other C0 bytes (ESC, BEL, CR...),  written as \xNN (e.g. ESC -> "\x1b")
//   DEL, C1 controls (U+0080..U+009F)  the C1 code point's two bytes each as \xNN
//   bytes of a broken UTF-8 sequence   each as \xNN
// No heap, no libc, no board: bytes go to the caller's putc.
#ifndef COMMON_TERM_H_
#define COMMON_TERM_H_

#include <stddef.h>

#include "common/fmt.h"

// A byte stream (text arriving piece by piece, a UTF-8 sequence possibly split between pieces).
typedef struct term_stream {
  fmt_putc_fn putc;
  unsigned char pending[4];  // the start of a UTF-8 sequence not yet complete
  int have, need;
} term_stream;

void term_init(term_stream *t, fmt_putc_fn putc);
// Writes one byte of text (held back while its UTF-8 sequence is incomplete).
void term_putc(term_stream *t, char c);
// Ends the text: an incomplete sequence still held back is written escaped.
void term_flush(term_stream *t);

// Writes s[0..len) (a whole text) safely; returns the characters written.
int term_write(fmt_putc_fn putc, const char *s, size_t len);
// Writes the NUL-terminated s safely; returns the characters written.
int term_puts(fmt_putc_fn putc, const char *s);

#endif  // COMMON_TERM_H_
