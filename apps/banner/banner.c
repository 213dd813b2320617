// Banner image: one greppable line proving the board boots, then exit status 0.
//   metalchat: board=rpi4 cpu=cortex-a72 el=2 cores=4 build=1a2b3c4d5e6f7a8b
// Returns 1 (and prints build=none) when the image carries no build id.
#include "board/board.h"
#include "common/fmt.h"

enum { BUILD_ID_PRINTED = 8 };  // bytes of the build id shown

int main(void) {
  size_t len;
  const uint8_t *id = board_build_id(&len);
  fmt_printf(board_putc, "metalchat: board=%s cpu=%s %s cores=%d build=", board_name(), board_cpu(),
             board_privilege(), board_cores_online());
  if (len < BUILD_ID_PRINTED) {
    fmt_puts(board_putc, "none\r\n");
    return 1;
  }
  for (int i = 0; i < BUILD_ID_PRINTED; i++) fmt_printf(board_putc, "%02x", id[i]);
  fmt_puts(board_putc, "\r\n");
  return 0;
}
