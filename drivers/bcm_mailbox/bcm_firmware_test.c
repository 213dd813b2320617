// Host unit test for bcm_throttled_describe: "N passed, M failed", non-zero exit on failure.
#include "drivers/bcm_firmware.h"

#include "common/check.h"

static void expect(uint32_t flags, const char *want) {
  const char *got = bcm_throttled_describe(flags);
  CHECKF(strcmp(got, want) == 0, "flags 0x%05x: got \"%s\", want \"%s\"", (unsigned)flags, got,
         want);
}

int main(void) {
  expect(0, "");
  expect(BCM_THROTTLED_UNDER_VOLTAGE, "under-voltage");
  // Past conditions (bits 16-19) are not current: nothing to report.
  expect(0xfu << BCM_THROTTLED_SINCE_BOOT_SHIFT, "");
  expect(BCM_THROTTLED_SOFT_TEMP_LIMIT | BCM_THROTTLED_NOW, "throttled, soft temperature limit");
  expect(0xfu | (0xfu << BCM_THROTTLED_SINCE_BOOT_SHIFT),
         "under-voltage, throttled, ARM frequency capped, soft temperature limit");
  return finish();
}
