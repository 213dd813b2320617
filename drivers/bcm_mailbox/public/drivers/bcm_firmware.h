// Facts of the VideoCore firmware's property interface that need no hardware: tag numbers
// for clocks, temperature and throttling, and the meaning of GET_THROTTLED's bits. Portable
// (host-tested); the calls themselves go through bcm_mailbox.h.
#ifndef DRIVERS_BCM_FIRMWARE_H_
#define DRIVERS_BCM_FIRMWARE_H_

#include <stddef.h>
#include <stdint.h>

#define BCM_TAG_GET_CLOCK_RATE 0x00030002u      // clock id -> clock id, rate in Hz
#define BCM_TAG_GET_MAX_CLOCK_RATE 0x00030004u  // clock id -> clock id, rate in Hz
#define BCM_TAG_GET_TEMPERATURE 0x00030006u     // sensor 0 -> sensor, millidegrees C
#define BCM_TAG_GET_THROTTLED 0x00030046u       // -> flags (BCM_THROTTLED_*)
#define BCM_TAG_SET_CLOCK_RATE 0x00038002u      // clock id, Hz, skip turbo -> clock id, Hz

#define BCM_CLOCK_ARM 3u  // the ARM cores' clock id

// GET_THROTTLED bits 0-3 say what holds now; bits 16-19 the same conditions since boot.
#define BCM_THROTTLED_UNDER_VOLTAGE (1u << 0)
#define BCM_THROTTLED_FREQ_CAPPED (1u << 1)
#define BCM_THROTTLED_NOW (1u << 2)
#define BCM_THROTTLED_SOFT_TEMP_LIMIT (1u << 3)
#define BCM_THROTTLED_CURRENT 0xfu  // the four conditions that hold now
#define BCM_THROTTLED_SINCE_BOOT_SHIFT 16

// The conditions that hold now in `flags`, most severe first, comma separated
// ("under-voltage, throttled"); "" when none. Returns a static string.
const char *bcm_throttled_describe(uint32_t flags);

#endif  // DRIVERS_BCM_FIRMWARE_H_
