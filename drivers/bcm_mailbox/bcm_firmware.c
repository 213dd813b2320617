// GET_THROTTLED flags to words.
#include "drivers/bcm_firmware.h"

static const struct {
  uint32_t bit;
  const char *name;
} kConditions[] = {
    {BCM_THROTTLED_UNDER_VOLTAGE, "under-voltage"},
    {BCM_THROTTLED_NOW, "throttled"},
    {BCM_THROTTLED_FREQ_CAPPED, "ARM frequency capped"},
    {BCM_THROTTLED_SOFT_TEMP_LIMIT, "soft temperature limit"},
};

const char *bcm_throttled_describe(uint32_t flags) {
  static char text[96];
  size_t n = 0;
  for (size_t i = 0; i < sizeof kConditions / sizeof kConditions[0]; i++) {
    if (!(flags & kConditions[i].bit)) continue;
    if (n > 0) {
      text[n++] = ',';
      text[n++] = ' ';
    }
    for (const char *s = kConditions[i].name; *s; s++) text[n++] = *s;
  }
  text[n] = '\0';
  return text;
}
