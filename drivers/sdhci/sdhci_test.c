// Regression inputs of fuzz_sdhci.c (linked in: its fake controller and entry point). Each
// once made the driver misbehave; the fuzz target's checks abort on a regression.
#include <stddef.h>
#include <stdint.h>

#include "common/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// An init that failed after CMD3 had given the card its address left sdhci_read working on a
// card that was never brought up (libFuzzer's find; the driver now answers BLOCK_ERR_INVALID).
static const uint8_t kFailsAfterCmd3[] = {
    0x81, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x04, 0x04, 0x04, 0x00, 0x00, 0x00, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23,
    0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x00, 0x08, 0x00, 0x82, 0x02, 0xff, 0x8b, 0xf9};

int main(void) {
  static const uint8_t kSdhc4bit[8] = {0x07, 0x10, 0, 0, 0, 0x07, 0x01, 0};
  CHECK(LLVMFuzzerTestOneInput(kSdhc4bit, sizeof kSdhc4bit) == 1);  // the fake card comes up
  CHECK(LLVMFuzzerTestOneInput(kFailsAfterCmd3, sizeof kFailsAfterCmd3) == 0);
  return finish();
}
