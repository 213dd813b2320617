// MPS2+ AN521: board.h on CMSDK UART0, semihosting exit, and both Cortex-M33 cores: CPU 1 is
// released from the SSE-200's CPUWAIT into arch/armv8m_smp.h's parallel-for.
#include "board/board.h"

#include "arch/armv8m.h"
#include "arch/armv8m_smp.h"
#include "drivers/cmsdk_uart.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

static int cores_online = 1;

static inline volatile uint32_t *sysctl(uint32_t offset) {
  return (volatile uint32_t *)(uintptr_t)(MPS2_AN521_SYSCTL + offset);
}

void board_init(void) {
  cmsdk_uart_init(MPS2_AN521_CONSOLE_UART, MPS2_AN521_SYSCLK_HZ, MPS2_AN521_CONSOLE_BAUD);
  *sysctl(SSE200_INITSVTOR1) = (uint32_t)(uintptr_t)__vectors_core1;
  __asm__ volatile("dsb" ::: "memory");
  *sysctl(SSE200_CPUWAIT) &= ~SSE200_CPUWAIT_CPU1;
  cores_online = armv8m_wait_core1(MPS2_AN521_CORE1_WAIT_SPINS);
}

void board_putc(char c) { cmsdk_uart_putc(MPS2_AN521_CONSOLE_UART, c); }
int board_getc(void) { return cmsdk_uart_getc(MPS2_AN521_CONSOLE_UART); }
int board_try_getc(void) { return cmsdk_uart_getc(MPS2_AN521_CONSOLE_UART); }
const char *board_name(void) { return "mps2_an521"; }
const char *board_cpu(void) { return "cortex-m33"; }
const char *board_privilege(void) { return armv8m_privilege(); }
int board_cores_online(void) { return cores_online; }
void board_exit(int status) { semihosting_exit(status); }
