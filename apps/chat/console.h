// The chat app's console: formatted output to the board's UART, line input with editing, and
// the few number formats the app prints (fixed point, sizes, rates). No floats are formatted
// by common/fmt, so values come in as integers scaled by 100.
#ifndef APPS_CHAT_CONSOLE_H_
#define APPS_CHAT_CONSOLE_H_

#include <stddef.h>
#include <stdint.h>

#include "board/board.h"
#include "common/fmt.h"

// Everything the app prints goes through fmt_printf(con_putc, ...): '\n' becomes "\r\n".
void con_putc(char c);
#define con_printf(...) fmt_printf(con_putc, __VA_ARGS__)

// Writes text from a model or the card (names, file contents) with control bytes escaped
// (common/term.h).
void con_text(const char *text);

// Writes hundredths as "12.34".
void con_hundredths(uint64_t hundredths);
// Writes n / d with two decimals ("0.00" when d is 0).
void con_ratio(uint64_t n, uint64_t d);

// Reads one line (echoed, editable; see common/line_edit.h) into buf, NUL-terminated, with
// leading and trailing spaces removed. Returns its length.
size_t con_read_line(char *buf, size_t size);

// Without waiting: whether Ctrl-C (0x03) was typed since the last call. Other bytes typed
// meanwhile are kept, in order, for the next con_read_line (up to CON_TYPEAHEAD of them).
#define CON_TYPEAHEAD 256
int con_ctrl_c(void);

#endif  // APPS_CHAT_CONSOLE_H_
