// Console output and line input over the board facade.
#include "console.h"

#include "board/health.h"
#include "common/line_edit.h"
#include "common/term.h"

void con_text(const char *text) { term_puts(con_putc, text); }

void con_putc(char c) {
  if (c == '\n') board_putc('\r');
  board_putc(c);
}

void con_hundredths(uint64_t hundredths) {
  fmt_unsigned(con_putc, hundredths / 100, 10, 1);
  con_putc('.');
  fmt_unsigned(con_putc, hundredths % 100, 10, 2);
}

void con_ratio(uint64_t n, uint64_t d) {
  // n * 100 / d, rounded, without overflowing for the sizes and times the app prints.
  uint64_t hundredths = 0;
  if (d != 0) {
    uint64_t whole = n / d, rest = n % d;
    hundredths = whole * 100 + (rest * 100 + d / 2) / d;
  }
  con_hundredths(hundredths);
}

// Bytes typed while an answer streamed (con_ctrl_c read them), oldest first.
static struct {
  unsigned char bytes[CON_TYPEAHEAD];
  unsigned head, count;
} typeahead;

int con_ctrl_c(void) {
  int c, seen = 0;
  while ((c = board_try_getc()) >= 0) {
    if (c == 0x03) {
      seen = 1;  // Ctrl-C cancels the answer; what was typed before it is dropped too
      typeahead.count = 0;
    } else if (typeahead.count < CON_TYPEAHEAD) {
      typeahead.bytes[(typeahead.head + typeahead.count++) % CON_TYPEAHEAD] = (unsigned char)c;
    }
  }
  return seen;
}

static int blocking_getc(void) {
  if (typeahead.count > 0) {
    int c = typeahead.bytes[typeahead.head];
    typeahead.head = (typeahead.head + 1) % CON_TYPEAHEAD;
    typeahead.count--;
    return c;
  }
  int c;
  while ((c = board_getc()) < 0) board_keepalive();
  return c;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

size_t con_read_line(char *buf, size_t size) {
  static struct line_edit ed;  // one editor for the whole session: it remembers a CR before LF
  if (!ed.getc) line_edit_init(&ed, blocking_getc, board_putc);
  struct line_result r = line_edit_read(&ed, buf, size);
  size_t len = r.len < 0 ? 0 : (size_t)r.len;
  while (len > 0 && is_space(buf[len - 1])) len--;
  size_t start = 0;
  while (start < len && is_space(buf[start])) start++;
  for (size_t i = start; i < len; i++) buf[i - start] = buf[i];
  buf[len - start] = '\0';
  return len - start;
}
