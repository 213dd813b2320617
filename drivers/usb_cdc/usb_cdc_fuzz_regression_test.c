// The fuzz target's entry point on fixed scripts (linked in: fuzz_usb_cdc.c and its checks,
// which abort on a violation): the seeds' shapes written out, and inputs that once broke it.
#include <stddef.h>
#include <stdint.h>

#include "common/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(void) {
  // Bus reset, SET_ADDRESS 1, SET_CONFIGURATION 1 with their status stages acknowledged.
  static const uint8_t kConfigure[] = {5, 0,    0x00, 5, 1, 0, 0, 0, 0, 0, 1,
                                       0, 0x00, 9,    1, 0, 0, 0, 0, 0, 1};
  CHECK(LLVMFuzzerTestOneInput(kConfigure, sizeof kConfigure) == 1);
  // The same without SET_CONFIGURATION: never configured, not accepted.
  CHECK(LLVMFuzzerTestOneInput(kConfigure, 11) == 0);
  // Writes while unconfigured, a stray IN acknowledgement, reads of nothing.
  static const uint8_t kIdle[] = {6, 200, 4, 1, 7, 9, 2, 3, 1, 2, 3};
  CHECK(LLVMFuzzerTestOneInput(kIdle, sizeof kIdle) == 0);
  return finish();
}
