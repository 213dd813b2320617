// MPS2+ AN521, the RP2350's twin: board.h on CMSDK UART0, semihosting exit, and both Cortex-M33
// cores: CPU 1 is released from the SSE-200's CPUWAIT into arch/armv8m_smp.h's parallel-for.
// board/time.h on the SSE-200's CMSDK timer 0; board/memory.h and board/storage.h (520 KB of
// RAM, the model region in read-only "flash") from arch/armv8m_flash.h.
#include "board/board.h"

#include "arch/armv8m.h"
#include "arch/armv8m_flash.h"
#include "arch/armv8m_smp.h"
#include "board/time.h"
#include "drivers/cmsdk_timer.h"
#include "drivers/cmsdk_uart.h"
#include "drivers/semihosting.h"
#include "memory_map.h"

static int cores_online = 1;

static inline volatile uint32_t *sysctl(uint32_t offset) {
  return (volatile uint32_t *)(uintptr_t)(MPS2_AN521_SYSCTL + offset);
}

void board_init(void) {
  cmsdk_uart_init(MPS2_AN521_CONSOLE_UART, MPS2_AN521_SYSCLK_HZ, MPS2_AN521_CONSOLE_BAUD);
  cmsdk_timer_start(MPS2_AN521_TIMER0);
  armv8m_mpu_read_only(armv8m_models_start(), armv8m_models_end());
  *sysctl(SSE200_INITSVTOR1) = (uint32_t)(uintptr_t)__vectors_core1;
  __asm__ volatile("dsb" ::: "memory");
  *sysctl(SSE200_CPUWAIT) &= ~SSE200_CPUWAIT_CPU1;
  cores_online = armv8m_wait_core1(MPS2_AN521_CORE1_WAIT_SPINS);
}

// The 32-bit tick count widened to 64 bits: it wraps every 214 s at 20 MHz, and the chat asks
// for the time at least once per token and per key press.
uint64_t board_time_us(void) {
  static uint64_t ticks;
  static uint32_t last;
  uint32_t now = cmsdk_timer_ticks(MPS2_AN521_TIMER0);
  ticks += (uint32_t)(now - last);
  last = now;
  return ticks / (MPS2_AN521_SYSCLK_HZ / 1000000u);
}

void board_putc(char c) { cmsdk_uart_putc(MPS2_AN521_CONSOLE_UART, c); }
int board_getc(void) { return cmsdk_uart_getc(MPS2_AN521_CONSOLE_UART); }
int board_try_getc(void) { return cmsdk_uart_getc(MPS2_AN521_CONSOLE_UART); }
const char *board_name(void) { return "mps2_an521"; }
const char *board_cpu(void) { return "cortex-m33"; }
const char *board_privilege(void) { return armv8m_privilege(); }
int board_cores_online(void) { return cores_online; }
void board_exit(int status) { semihosting_exit(status); }
