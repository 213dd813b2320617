// Raspberry Pi Zero: board.h on PL011 UART0, single core, semihosting exit.
#include "board/board.h"

#include "bcm/bcm.h"
#include "drivers/pl011.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

void board_init(void) { pl011_init(RPI0_CONSOLE_UART, BCM_UART_CLOCK_HZ, RPI0_CONSOLE_BAUD); }

void board_putc(char c) { pl011_putc(RPI0_CONSOLE_UART, c); }
int board_getc(void) { return pl011_getc(RPI0_CONSOLE_UART); }
int board_try_getc(void) { return pl011_getc(RPI0_CONSOLE_UART); }
const char *board_name(void) { return "rpi0"; }
const char *board_cpu(void) { return "arm1176jzf-s"; }

const char *board_privilege(void) {
  uint32_t cpsr;
  __asm__ volatile("mrs %0, cpsr" : "=r"(cpsr));
  switch (cpsr & 0x1f) {
    case 0x10:
      return "mode=usr";
    case 0x11:
      return "mode=fiq";
    case 0x12:
      return "mode=irq";
    case 0x13:
      return "mode=svc";
    case 0x16:
      return "mode=mon";
    case 0x17:
      return "mode=abt";
    case 0x1b:
      return "mode=und";
    case 0x1f:
      return "mode=sys";
    default:
      return "mode=unknown";
  }
}

int board_cores_online(void) { return 1; }  // the BCM2835 has one ARM core
void board_exit(int status) { semihosting_exit(status); }
