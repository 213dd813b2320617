// CMSDK APB timer (Cortex-M System Design Kit TRM, "APB timer"): CTRL, VALUE, RELOAD.
#include "drivers/cmsdk_timer.h"

enum {
  TIMER_CTRL = 0x00,
  TIMER_VALUE = 0x04,
  TIMER_RELOAD = 0x08,
  TIMER_CTRL_ENABLE = 1u << 0,
};

static inline volatile uint32_t *reg(uintptr_t base, uint32_t off) {
  return (volatile uint32_t *)(base + off);
}

void cmsdk_timer_start(uintptr_t base) {
  *reg(base, TIMER_CTRL) = 0;
  *reg(base, TIMER_RELOAD) = 0xffffffffu;
  *reg(base, TIMER_VALUE) = 0xffffffffu;
  *reg(base, TIMER_CTRL) = TIMER_CTRL_ENABLE;
}

uint32_t cmsdk_timer_ticks(uintptr_t base) { return ~*reg(base, TIMER_VALUE); }
