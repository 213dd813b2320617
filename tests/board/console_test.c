// Console test image (rpi3, rpi4): PL011 polled receive + common/line_edit. Echoes each line as
//   line len=<n> truncated=<0|1> text=<bytes>
// with a 32-byte buffer, until the line "/exit" (exit 0) or end of input.
#include "board/board.h"
#include "common/fmt.h"
#include "common/line_edit.h"

static int console_getc(void) {
  int c;
  while ((c = board_getc()) < 0) {
  }
  return c;
}

int main(void) {
  struct line_edit ed;
  line_edit_init(&ed, console_getc, board_putc);
  fmt_puts(board_putc, "console test: ready\r\n");
  for (;;) {
    char line[32];
    struct line_result r = line_edit_read(&ed, line, sizeof line);
    if (r.len < 0) return 1;
    fmt_printf(board_putc, "line len=%d truncated=%d text=%s\r\n", r.len, r.truncated, line);
    const char *exit_cmd = "/exit";
    int i = 0;
    while (exit_cmd[i] && line[i] == exit_cmd[i]) i++;
    if (exit_cmd[i] == '\0' && line[i] == '\0') return 0;
  }
}
