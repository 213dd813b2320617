// USB mass storage: Bulk-Only Transport (USB MSC BOT 1.0) carrying SCSI commands (SPC/SBC:
// INQUIRY, TEST UNIT READY, REQUEST SENSE, READ CAPACITY (10) and (16), READ (10) and (16)),
// as a block device (drivers/block.h) over any host controller's usb_transport (usb.h).
//
// Every Command Status Wrapper is checked (length, signature, tag, status, residue): a stall
// in the command or status phase, a phase error or a CSW that does not add up leads to the
// reset recovery of BOT 5.3.4 (Bulk-Only Mass Storage Reset, then CLEAR_FEATURE HALT on both
// bulk endpoints) and the command is reported failed; a failed command's sense data is read.
#ifndef DRIVERS_USB_MSC_H_
#define DRIVERS_USB_MSC_H_

#include <stdint.h>

#include "drivers/block.h"
#include "drivers/usb.h"

#define USB_MSC_MAX_BLOCKS 256u  // sectors per READ command: 128 KiB
#define USB_MSC_CONFIG_MAX 512u  // bytes of configuration descriptor read at most

typedef struct usb_msc {
  block_device dev;  // what FAT32 reads through; dev.ctx points back here
  usb_transport t;
  uint8_t interface;      // for the class request (mass storage reset)
  uint8_t ep_in, ep_out;  // endpoint addresses, for CLEAR_FEATURE HALT
  uint32_t tag;
  uint64_t blocks;               // capacity in 512-byte sectors
  char vendor[9], product[17];   // from INQUIRY, NUL-terminated, printable ASCII only
  uint8_t sense_key, asc, ascq;  // the last REQUEST SENSE
  int recoveries;                // reset recoveries done so far (tests read it)
  // The wrappers and small replies: DMA-reachable because the structure is (the board puts it
  // in memory the controller reaches).
  uint8_t cbw[32] __attribute__((aligned(64)));
  uint8_t csw[64] __attribute__((aligned(64)));
  uint8_t reply[64] __attribute__((aligned(64)));
  uint8_t desc[USB_MSC_CONFIG_MAX] __attribute__((aligned(64)));
  char error[96];  // why usb_msc_open failed: one phrase
} usb_msc;

// The host controller's part of SET_CONFIGURATION: open the two bulk endpoints of `choice`.
typedef int (*usb_msc_configure_fn)(void *ctx, const usb_msc_choice *choice);

// The whole bring-up of a device the host controller has just addressed, over its control
// pipe: the device descriptor, the configuration descriptor (at most USB_MSC_CONFIG_MAX bytes
// of it), the mass-storage interface in it (usb_find_msc), SET_CONFIGURATION, configure(ctx,
// choice), then usb_msc_init. Returns a block_status; on failure m->error says which step and
// why, e.g. "configuration descriptor: malformed descriptor".
int usb_msc_open(usb_msc *m, const usb_transport *t, usb_msc_configure_fn configure, void *ctx);

// Brings up LUN 0 of the interface chosen by usb_find_msc (already configured): INQUIRY (a
// direct-access device), TEST UNIT READY until ready (through the unit attention of a fresh
// device, up to a few tries), READ CAPACITY (10), then (16) when the capacity needs it. Only
// 512-byte logical blocks are used. Returns a block_status: BLOCK_ERR_UNSUPPORTED for another
// device type or block size, BLOCK_ERR_NO_MEDIUM when the unit never becomes ready.
int usb_msc_init(usb_msc *m, const usb_transport *t, const usb_msc_choice *choice);

// Reads count sectors (1..USB_MSC_MAX_BLOCKS) at lba with one READ (10) or READ (16).
int usb_msc_read(usb_msc *m, uint64_t lba, uint32_t count, void *buf);

#endif  // DRIVERS_USB_MSC_H_
