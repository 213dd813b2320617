/* Fuzz target: USB descriptor parsing on arbitrary bytes, as received from a device. The input
 * is read as a configuration descriptor (usb_find_msc, at every length up to the whole input)
 * and as a device descriptor. A choice it returns must be consistent: a bulk-in and a bulk-out
 * endpoint with nonzero packet sizes; the parser reads nothing past the length given (UBSan
 * and, under libFuzzer, ASan check). Seeds: testdata/ (a stick, a SuperSpeed stick with
 * companions, a hub, a device descriptor). Accepted (1): a well-formed device descriptor or
 * configuration header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/usb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);  // exactly size bytes: a read past it is caught
  if (!copy) return 0;
  memcpy(copy, data, size);
  usb_device_info info;
  int accepted = usb_parse_device(copy, size, &info) == USB_OK;
  if (accepted && info.max_packet0 == 0) abort();
  accepted |= usb_config_total_length(copy, size) >= 0;
  usb_msc_choice c;
  size_t step = size > 64 ? size / 16 : 1;
  for (size_t n = 0; n <= size; n += step) {
    if (usb_find_msc(copy, n, &c) != USB_OK) continue;
    if (!(c.bulk_in.address & 0x80) || (c.bulk_out.address & 0x80)) abort();
    if ((c.bulk_in.attributes & 3) != 2 || (c.bulk_out.attributes & 3) != 2) abort();
    if (!c.bulk_in.max_packet || !c.bulk_out.max_packet || c.bulk_in.max_burst > 15) abort();
  }
  free(copy);
  return accepted;
}
