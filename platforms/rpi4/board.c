// Raspberry Pi 4 (BCM2711): board.h on PL011 UART0, spin-table SMP and semihosting exit.
#include "board/board.h"

#include "arch/aarch64.h"
#include "bcm/bcm.h"
#include "drivers/pl011.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

static int cores_online = 1;

void board_init(void) {
  pl011_init(RPI4_CONSOLE_UART, BCM_UART_CLOCK_HZ, RPI4_CONSOLE_BAUD);
  bcm_spin_table_release(RPI4_CORES, (uintptr_t)_start);
  cores_online = aarch64_wait_cores(RPI4_CORES, RPI4_CORE_WAIT_MS);
}

void board_putc(char c) { pl011_putc(RPI4_CONSOLE_UART, c); }
int board_getc(void) { return pl011_getc(RPI4_CONSOLE_UART); }
const char *board_name(void) { return "rpi4"; }
const char *board_cpu(void) { return "cortex-a72"; }
const char *board_privilege(void) { return aarch64_privilege(); }
int board_cores_online(void) { return cores_online; }
void board_exit(int status) { semihosting_exit(status); }
