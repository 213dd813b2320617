// A fake USB stick for host tests: a usb_transport that answers the control requests from
// descriptor bytes a test sets (so they can be short, oversized or malformed) and runs a
// Bulk-Only SCSI disk over a byte array, with faults to switch on: stalls in each phase,
// phase errors, CSWs with a wrong tag or length, short data, a unit attention at start.
#ifndef DRIVERS_USB_MSC_FAKE_STICK_H_
#define DRIVERS_USB_MSC_FAKE_STICK_H_

#include <stddef.h>
#include <stdint.h>

#include "drivers/usb.h"
#include "drivers/usb_msc.h"

enum fake_fault {
  FAKE_STALL_CBW = 1,         // the next CBW is stalled
  FAKE_STALL_DATA = 2,        // the next data phase is stalled (CSW then says failed)
  FAKE_STALL_CSW = 4,         // the next CSW read is stalled once (the retry gets it)
  FAKE_PHASE_ERROR = 8,       // the next CSW says phase error
  FAKE_BAD_TAG = 16,          // the next CSW carries another tag
  FAKE_SHORT_CSW = 32,        // the next CSW is 12 bytes
  FAKE_SHORT_DATA = 64,       // the next data-in phase sends half the bytes
  FAKE_UNIT_ATTENTION = 128,  // the next TEST UNIT READY fails with a unit attention
  FAKE_STALL_ALWAYS = 256,    // every bulk transfer stalls (persistent)
  FAKE_NOT_READY = 512,       // TEST UNIT READY always fails: not ready, no medium (persistent)
};

typedef struct fake_stick {
  const uint8_t *device_desc;  // what GET_DESCRIPTOR(device) returns (up to what is asked)
  size_t device_len;
  const uint8_t *config_desc;
  size_t config_len;
  const uint8_t *disk;  // the medium; sectors past disk_bytes read as zeros
  size_t disk_bytes;
  uint64_t blocks;      // the capacity reported
  uint32_t block_len;   // the logical block length reported (512)
  uint8_t device_type;  // INQUIRY's peripheral device type (0: direct access)
  unsigned faults;      // enum fake_fault bits; one-shot ones clear when used
  // what happened
  int configured, endpoints_opened, resets, halts_cleared, commands, reads;
  uint32_t largest_read;  // bytes in the largest READ
  // BOT state
  int halted_in, halted_out, phase;  // phase: 0 CBW, 1 data, 2 CSW
  uint8_t cbw[31];
  uint32_t tag, residue, expected;
  uint8_t status;
  uint8_t sense[3];
} fake_stick;

// A bulk-only SCSI device's descriptors (high speed, 512-byte bulk packets).
extern const uint8_t fake_stick_device_desc[18];
extern const uint8_t fake_stick_config_desc[32];

// Sets s up as a well-behaved stick over disk[0..bytes) of blocks sectors.
void fake_stick_init(fake_stick *s, const uint8_t *disk, size_t bytes, uint64_t blocks);
usb_transport fake_stick_transport(fake_stick *s);
int fake_stick_configure(void *ctx, const usb_msc_choice *choice);  // usb_msc_configure_fn

#endif  // DRIVERS_USB_MSC_FAKE_STICK_H_
