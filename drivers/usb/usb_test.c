// Descriptor parsing: the committed seeds (a stick, a SuperSpeed stick with companions, a hub,
// a device descriptor) and every truncation of them.
#include "drivers/usb.h"

#include "common/check.h"

static const uint8_t ss_stick[] = {
    9, 2,    44,   0, 1, 1, 0, 0x80, 50,  // configuration 1
    9, 4,    0,    0, 2, 8, 6, 0x50, 0,   // interface 0: mass storage, SCSI, bulk-only
    7, 5,    0x81, 2, 0, 4, 0,            // bulk in, 1024
    6, 0x30, 15,   0, 0, 0,               // companion: burst 15
    7, 5,    0x02, 2, 0, 4, 0,            // bulk out, 1024
    6, 0x30, 3,    0, 0, 0,               // companion: burst 3
};

// A UAS-capable stick: alternate 0 bulk-only, alternate 1 UAS (protocol 0x62) first in the list
static const uint8_t uas_first[] = {
    9, 2, 41,   0, 1, 2, 0, 0x80, 50, 9,    4, 0, 1, 2, 8, 6, 0x62, 0,  // alternate 1: UAS, skipped
    7, 5, 0x83, 2, 0, 2, 0, 7,    5,  0x04, 2, 0, 2, 0, 9, 4, 0,    0, 1,
    8, 6, 0x50, 0,  // alternate 0: bulk-only, only one endpoint listed...
};

static const uint8_t hub[] = {9, 2, 25, 0, 1, 1, 0, 0xe0, 0, 9, 4, 0, 0,
                              1, 9, 0,  0, 0, 7, 5, 0x81, 3, 1, 0, 12};

static const uint8_t device[] = {18, 1, 0, 3, 0, 0, 0, 9, 0x81, 0x07, 0x81, 0x55, 0, 1, 1, 2, 3, 1};

int main(void) {
  usb_msc_choice c;
  CHECK(usb_find_msc(ss_stick, sizeof ss_stick, &c) == USB_OK);
  CHECK(c.config_value == 1 && c.interface == 0 && c.alternate == 0);
  CHECK(c.bulk_in.address == 0x81 && c.bulk_in.max_packet == 1024 && c.bulk_in.max_burst == 15);
  CHECK(c.bulk_out.address == 0x02 && c.bulk_out.max_burst == 3);
  // every truncation fails cleanly (short, malformed or no interface), never reads past n
  for (size_t n = 0; n < sizeof ss_stick; n++) {
    int st = usb_find_msc(ss_stick, n, &c);
    CHECKF(st == USB_ERR_SHORT || st == USB_ERR_DESCRIPTOR || st == USB_ERR_NO_MSC ||
               (st == USB_OK && n >= 38),
           "n=%zu: %s\n", n, usb_strerror(st));
  }
  // wTotalLength shorter than what arrived: only the announced bytes count
  uint8_t cut[sizeof ss_stick];
  memcpy(cut, ss_stick, sizeof cut);
  cut[2] = 25;
  CHECK(usb_find_msc(cut, sizeof cut, &c) == USB_ERR_NO_MSC);
  cut[2] = 4;
  CHECK(usb_find_msc(cut, sizeof cut, &c) == USB_ERR_DESCRIPTOR);
  // a UAS alternate is not bulk-only; the bulk-only one lacks its second endpoint here
  CHECK(usb_find_msc(uas_first, sizeof uas_first, &c) == USB_ERR_NO_MSC);
  CHECK(usb_find_msc(hub, sizeof hub, &c) == USB_ERR_NO_MSC);
  CHECK(usb_config_total_length(hub, sizeof hub) == 25);

  usb_device_info d;
  CHECK(usb_parse_device(device, sizeof device, &d) == USB_OK);
  CHECK(d.usb_version == 0x300 && d.max_packet0 == 9 && d.vendor == 0x0781 && d.product == 0x5581 &&
        d.configurations == 1);
  CHECK(usb_parse_device(device, 8, &d) == USB_OK && d.max_packet0 == 9);
  CHECK(usb_parse_device(device, 7, &d) == USB_ERR_SHORT);
  uint8_t wrong[18];
  memcpy(wrong, device, sizeof wrong);
  wrong[1] = 2;
  CHECK(usb_parse_device(wrong, sizeof wrong, &d) == USB_ERR_DESCRIPTOR);
  wrong[1] = 1;
  wrong[0] = 12;  // claims 12 bytes but 18 were read: a short descriptor
  CHECK(usb_parse_device(wrong, sizeof wrong, &d) == USB_ERR_SHORT);
  return finish();
}
