// Firmware keepalive (board/health.h) over the VideoCore mailbox, the same on every Pi (Zero, 3,
// 4): bcm/health.h.
//
// bcm_health_init() asks the firmware for the ARM clock's maximum and sets it (the firmware may
// start the cores below it; asking again is harmless). After that, at most once per the
// board's keepalive_us (1 s on all of them), board_keepalive() reads the SoC temperature, the
// throttling flags and the ARM clock; it reports a change of throttling on the console, and
// asks for the maximum clock again when the clock is below it while nothing throttles (the
// firmware lowers it under thermal or voltage pressure). Only core 0 calls it, never inside a
// parallel-for: the mailbox driver has one buffer.
#include "board/health.h"

#include "bcm/health.h"
#include "board/board.h"
#include "board/time.h"
#include "common/fmt.h"
#include "drivers/bcm_firmware.h"
#include "drivers/bcm_mailbox.h"

static board_health health = {0, 0, 0, 0, 0, ""};
static uint64_t last_poll_us;
static uintptr_t mailbox;
static uint32_t bus_alias, keepalive_us;

static int property(uint32_t tag, uint32_t *values, unsigned count) {
  return bcm_mailbox_property(mailbox, bus_alias, tag, values, count) == BCM_MAILBOX_OK;
}

static uint32_t arm_clock(uint32_t tag) {
  uint32_t v[2] = {BCM_CLOCK_ARM, 0};
  return property(tag, v, 2) && v[0] == BCM_CLOCK_ARM ? v[1] : 0;
}

static void set_arm_clock(uint32_t hz) {
  uint32_t v[3] = {BCM_CLOCK_ARM, hz, 0};
  (void)property(BCM_TAG_SET_CLOCK_RATE, v, 3);
}

static void poll(void) {
  uint32_t temp[2] = {0, 0}, flags[1] = {0};
  if (property(BCM_TAG_GET_TEMPERATURE, temp, 2)) health.temp_mc = (int32_t)temp[1];
  uint32_t was = health.throttled;
  if (property(BCM_TAG_GET_THROTTLED, flags, 1)) health.throttled = flags[0];
  health.arm_hz = arm_clock(BCM_TAG_GET_CLOCK_RATE);
  health.problem = bcm_throttled_describe(health.throttled);
  health.polls++;
  last_poll_us = board_time_us();
  if ((was ^ health.throttled) & BCM_THROTTLED_CURRENT) {
    fmt_printf(board_putc, "\r\n[%s: firmware reports %s]\r\n", board_name(),
               health.problem[0] ? health.problem : "no throttling any more");
  }
  if (health.problem[0] == '\0' && health.arm_hz < health.arm_max_hz) {
    set_arm_clock(health.arm_max_hz);
    health.arm_hz = arm_clock(BCM_TAG_GET_CLOCK_RATE);
  }
}

void bcm_health_init(uintptr_t mailbox_base, uint32_t vc_bus_alias, uint32_t interval_us) {
  mailbox = mailbox_base;
  bus_alias = vc_bus_alias;
  keepalive_us = interval_us;
  health.arm_max_hz = arm_clock(BCM_TAG_GET_MAX_CLOCK_RATE);
  if (health.arm_max_hz != 0) set_arm_clock(health.arm_max_hz);
  poll();
}

void board_keepalive(void) {
  if (board_time_us() - last_poll_us >= keepalive_us) poll();
}

const board_health *board_health_now(void) { return &health; }
