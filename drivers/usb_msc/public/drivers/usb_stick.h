// A USB stick as a block device, from the top: the first xHCI controller found on a PCIe host
// (pcie.h), its ports in order, the first device on them that is bulk-only SCSI mass storage
// (usb_msc.h). What a board calls from board_storage_cards; it hands in the host, DMA memory,
// a clock and cache maintenance (xhci.h), and may run a step of its own between the PCIe walk
// and the controller's reset (the Pi 4 has the VideoCore load the VL805's firmware there).
#ifndef DRIVERS_USB_STICK_H_
#define DRIVERS_USB_STICK_H_

#include "drivers/block.h"
#include "drivers/pcie.h"
#include "drivers/usb_msc.h"
#include "drivers/xhci.h"

typedef struct usb_stick_config {
  pcie_host host;
  xhci_config xhci;  // base is filled in from the controller's BAR 0
  // Optional: run after the PCIe walk, before the xHCI reset; nonzero stops with error `why`.
  int (*before_xhci)(void *ctx, const pcie_function *controller, const char **why);
  void *ctx;
} usb_stick_config;

typedef struct usb_stick {
  xhci x;
  usb_msc msc;
  pcie_function functions[PCIE_MAX_FUNCTIONS];
  char where[96];   // on success, e.g. "USB port 5 (high speed): QEMU HARDDISK"
  char error[128];  // on failure: one phrase, e.g. "no USB stick (nothing on the 8 xHCI ports)"
} usb_stick;

// Brings everything up from scratch and returns the stick's block device, or NULL with
// s->error set. s must stay in memory the controller can reach (it holds DMA buffers).
block_device *usb_stick_open(usb_stick *s, const usb_stick_config *config);

#endif  // DRIVERS_USB_STICK_H_
