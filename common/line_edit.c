#include "common/line_edit.h"

enum {
  CTRL_C = 0x03,
  CTRL_H = 0x08,
  LF = 0x0a,
  CR = 0x0d,
  CTRL_U = 0x15,
  ESC = 0x1b,
  DEL = 0x7f,
};

void line_edit_init(struct line_edit *ed, line_getc_fn getc, line_putc_fn putc) {
  ed->getc = getc;
  ed->putc = putc;
  ed->after_cr = 0;
}

static void puts_(line_putc_fn putc, const char *s) {
  while (*s) putc(*s++);
}

static void put_decimal(line_putc_fn putc, size_t v) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0) putc(digits[--n]);
}

// Removes the last character (a UTF-8 lead byte and its continuation bytes) from buf[0..len).
static size_t erase_char(line_putc_fn putc, const char *buf, size_t len) {
  if (len == 0) return 0;
  do len--;
  while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80);
  puts_(putc, "\b \b");
  return len;
}

enum { NO_BYTE = -2 };

// Skips the rest of an escape sequence after ESC: CSI (ESC [ params final) or SS3 (ESC O x).
// Returns a byte that turned out not to belong to one (ESC then Enter: the Enter), to be
// handled as typed, or NO_BYTE (or -1 when input ended).
static int skip_escape(struct line_edit *ed) {
  int c = ed->getc();
  if (c == '[') {
    do c = ed->getc();
    while (c >= 0x20 && c <= 0x3f);  // parameter and intermediate bytes; then the final byte
    return c < 0 ? -1 : (c >= 0x40 && c <= 0x7e) ? NO_BYTE : c;
  }
  if (c == 'O') {
    c = ed->getc();
    return c < 0 ? -1 : (c >= 0x40 && c <= 0x7e) ? NO_BYTE : c;
  }
  return c;
}

struct line_result line_edit_read(struct line_edit *ed, char *buf, size_t size) {
  struct line_result r = {0, 0};
  size_t len = 0, dropped = 0;
  int any = 0, next = NO_BYTE;
  for (;;) {
    int c = next != NO_BYTE ? next : ed->getc();
    next = NO_BYTE;
    if (c < 0) {
      if (!any) r.len = -1;
      break;
    }
    if (c == LF && ed->after_cr) {  // the LF of a CR LF pair
      ed->after_cr = 0;
      continue;
    }
    any = 1;
    ed->after_cr = 0;
    if (c == CR || c == LF) {
      ed->after_cr = c == CR;
      break;
    }
    if (c == CTRL_H || c == DEL) {
      len = erase_char(ed->putc, buf, len);
    } else if (c == CTRL_U || c == CTRL_C) {
      while (len > 0) len = erase_char(ed->putc, buf, len);
      dropped = 0;
    } else if (c == ESC) {
      next = skip_escape(ed);
    } else if (c < 0x20) {
      // other control bytes: ignored
    } else if (len + 1 < size) {
      buf[len++] = (char)c;
      ed->putc((char)c);
    } else {
      dropped++;
    }
  }
  // A UTF-8 sequence cut by the truncation would be invalid: drop its partial bytes.
  if (dropped) {
    size_t end = len;
    while (end > 0 && ((unsigned char)buf[end - 1] & 0xc0) == 0x80) end--;
    if (end > 0 && ((unsigned char)buf[end - 1] & 0xc0) == 0xc0) {
      unsigned char lead = (unsigned char)buf[end - 1];
      size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      if (len - (end - 1) < need) len = end - 1;
    }
  }
  if (size > 0) buf[len < size ? len : size - 1] = '\0';
  if (r.len >= 0) r.len = (int)len;
  r.truncated = dropped != 0;
  if (any) {
    if (dropped) {
      puts_(ed->putc, " [line truncated to ");
      put_decimal(ed->putc, len);
      puts_(ed->putc, " bytes]");
    }
    puts_(ed->putc, "\r\n");
  }
  return r;
}
