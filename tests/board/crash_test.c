// Crash test image (rpi3, rpi4): takes an exception on purpose so tests/board/crash_report_test.py
// can check the crash report. After its prompt, the first console byte picks the fault:
//   'b' brk #0, 'u' undefined instruction, anything else or nothing within 10 s: a load
//   from an unmapped address (data abort, translation fault).
#include "board/board.h"
#include "board/time.h"
#include "common/fmt.h"

// crash_funcs.S: each takes its exception on its first or second instruction.
void crash_data_abort(void);  // load from 0x400000000 (16 GB): inside the 36-bit map, unmapped
void crash_brk(void);         // brk #0
void crash_undefined(void);   // udf #0

int main(void) {
  fmt_puts(board_putc, "crash test: send b, u or d\r\n");
  int c = -1;
  for (uint64_t end = board_time_us() + 10000000; c < 0 && board_time_us() < end;) {
    c = board_getc();
  }
  if (c == 'b') {
    fmt_puts(board_putc, "crash test: brk #0\r\n");
    crash_brk();
  } else if (c == 'u') {
    fmt_puts(board_putc, "crash test: undefined instruction\r\n");
    crash_undefined();
  } else {
    fmt_puts(board_putc, "crash test: load from 0x400000000\r\n");
    crash_data_abort();
  }
  fmt_puts(board_putc, "crash test: survived the fault (no exception taken)\r\n");
  return 1;
}
