// Line editor for a serial console; no heap, no libc, no board: bytes come from a getc and
// the echo goes to a putc the caller supplies.
//
//   printable bytes (and UTF-8)  appended and echoed
//   Backspace (0x08), DEL (0x7f) erase the last character (a whole UTF-8 sequence)
//   Ctrl-U (0x15), Ctrl-C (0x03) erase the whole line
//   CR, LF, CR LF                end the line (a LF right after a CR is skipped)
//   ESC [ ... / ESC O x          terminal escape sequences (arrow keys...) are ignored; a byte
//                                that cannot belong to one (ESC then Enter) counts as typed
//   other control bytes          ignored
// A line longer than the buffer keeps its first size-1 bytes: the rest is not stored and
// not echoed, and at the end of the line the editor prints "[line truncated to N bytes]".
#ifndef COMMON_LINE_EDIT_H_
#define COMMON_LINE_EDIT_H_

#include <stddef.h>

typedef int (*line_getc_fn)(void);  // next byte (blocking), or -1 when input has ended
typedef void (*line_putc_fn)(char c);

struct line_edit {
  line_getc_fn getc;
  line_putc_fn putc;
  int after_cr;  // the last line ended with CR: skip one LF
};

struct line_result {
  int len;        // bytes in buf (NUL-terminated), or -1: input ended before any byte
  int truncated;  // 1 if bytes were dropped because the buffer was full
};

void line_edit_init(struct line_edit *ed, line_getc_fn getc, line_putc_fn putc);
// Reads and echoes one line into buf (size >= 1). Input ending mid-line returns what was typed.
struct line_result line_edit_read(struct line_edit *ed, char *buf, size_t size);

#endif  // COMMON_LINE_EDIT_H_
