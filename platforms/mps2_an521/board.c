// MPS2+ AN521: board.h on CMSDK UART0, CPU 0 only, semihosting exit.
#include "board/board.h"

#include "arch/armv8m.h"
#include "drivers/cmsdk_uart.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

void board_init(void) {
  cmsdk_uart_init(MPS2_AN521_CONSOLE_UART, MPS2_AN521_SYSCLK_HZ, MPS2_AN521_CONSOLE_BAUD);
}

void board_putc(char c) { cmsdk_uart_putc(MPS2_AN521_CONSOLE_UART, c); }
int board_getc(void) { return cmsdk_uart_getc(MPS2_AN521_CONSOLE_UART); }
const char *board_name(void) { return "mps2_an521"; }
const char *board_cpu(void) { return "cortex-m33"; }
const char *board_privilege(void) { return armv8m_privilege(); }
int board_cores_online(void) { return 1; }  // CPU 1 is present but left in CPUWAIT
void board_exit(int status) { semihosting_exit(status); }
