/* Fuzz target: the serial line editor (common/line_edit). Byte 0 picks the buffer size
 * (1..64, or 256 when it is 0); the rest is what the terminal sends, read line after line
 * until it ends. Checked on every line: the length is below the buffer size and matches the
 * NUL, the line holds no control byte (< 0x20, DEL), and the echo holds no control byte but
 * BS, CR and LF (no escape sequence reaches the terminal). Returns 1 when a line was read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/line_edit.h"

static const uint8_t *in;
static size_t in_left;

static int fake_getc(void) {
  if (in_left == 0) return -1;
  in_left--;
  return *in++;
}

static void fake_putc(char c) {
  unsigned char u = (unsigned char)c;
  if ((u < 0x20 && u != '\b' && u != '\r' && u != '\n') || u == 0x7f) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t room = data[0] % 65 ? data[0] % 65 : 256;
  in = data + 1;
  in_left = size - 1;
  struct line_edit ed;
  line_edit_init(&ed, fake_getc, fake_putc);
  char *buf = malloc(room); /* exact size: ASan sees a write past it */
  if (!buf) return 0;
  int lines = 0;
  for (;;) {
    struct line_result r = line_edit_read(&ed, buf, room);
    if (r.len < 0) break;
    if ((size_t)r.len >= room || strlen(buf) != (size_t)r.len) abort();
    for (int i = 0; i < r.len; i++) {
      unsigned char u = (unsigned char)buf[i];
      if (u < 0x20 || u == 0x7f) abort();
    }
    lines++;
    if (in_left == 0) break;
  }
  free(buf);
  return lines > 0;
}
