// USB, host side, independent of the controller: standard requests, descriptor parsing with
// bounds checks (every length is checked against the bytes actually received), the choice of
// a mass-storage interface, and the transport interface a host controller driver (xhci)
// implements for a class driver (usb_msc).
#ifndef DRIVERS_USB_H_
#define DRIVERS_USB_H_

#include <stddef.h>
#include <stdint.h>

// Results of transfers and of the helpers here.
typedef enum usb_status {
  USB_OK = 0,
  USB_ERR_STALL = 1,       // the device stalled the endpoint (halted; see reset_endpoint)
  USB_ERR_IO = 2,          // transaction error, babble, or a controller error
  USB_ERR_TIMEOUT = 3,     // no completion in time
  USB_ERR_SHORT = 4,       // a descriptor shorter than its kind requires
  USB_ERR_DESCRIPTOR = 5,  // a malformed descriptor (bad length or type, runs past the end)
  USB_ERR_NO_MSC = 6,      // no bulk-only SCSI mass-storage interface in any configuration
  USB_ERR_NO_DEVICE = 7,   // nothing connected / the port did not enable
  USB_ERR_RESOURCES = 8,   // the controller ran out of slots or memory
} usb_status;

const char *usb_strerror(int status);  // "device stalled", ...

// A SETUP packet (USB 2.0 9.3), fields in host order.
typedef struct usb_setup {
  uint8_t request_type;  // bit 7: device-to-host; bits 6:5 type; bits 4:0 recipient
  uint8_t request;
  uint16_t value, index, length;
} usb_setup;

// What a host controller driver offers a class driver for one configured device. Every call
// returns a usb_status and has a timeout. `actual` receives the bytes transferred (less than
// asked on a short packet). A stalled bulk endpoint stays halted until reset_endpoint.
typedef struct usb_transport {
  void *ctx;
  int (*control)(void *ctx, const usb_setup *setup, void *data, uint32_t *actual);
  int (*bulk)(void *ctx, int in, void *data, uint32_t len, uint32_t *actual);
  // Clears a halted bulk endpoint on both sides: the controller's endpoint state and the
  // device's (CLEAR_FEATURE ENDPOINT_HALT). in: 1 the bulk-in endpoint, 0 the bulk-out one.
  int (*reset_endpoint)(void *ctx, int in);
} usb_transport;

// Standard descriptor types and requests (USB 2.0 9.4, 9.6; USB 3 9.6.7).
enum {
  USB_DESC_DEVICE = 1,
  USB_DESC_CONFIG = 2,
  USB_DESC_INTERFACE = 4,
  USB_DESC_ENDPOINT = 5,
  USB_DESC_SS_COMPANION = 0x30,
  USB_REQ_CLEAR_FEATURE = 1,
  USB_REQ_GET_DESCRIPTOR = 6,
  USB_REQ_SET_CONFIGURATION = 9,
  USB_FEATURE_ENDPOINT_HALT = 0,
};

typedef struct usb_device_info {
  uint16_t usb_version;  // bcdUSB
  uint8_t device_class, max_packet0;
  uint16_t vendor, product;
  uint8_t configurations;
} usb_device_info;

// The 18-byte device descriptor (or its first 8 bytes, n == 8: only max_packet0 and class).
int usb_parse_device(const uint8_t *desc, size_t n, usb_device_info *out);

typedef struct usb_endpoint {
  uint8_t address;  // bit 7: IN; bits 3:0 the number
  uint8_t attributes;
  uint16_t max_packet;
  uint8_t interval;
  uint8_t max_burst;  // from the SuperSpeed companion, 0 without one
} usb_endpoint;

// A Bulk-Only Transport SCSI interface (class 8, subclass 6, protocol 0x50) and its endpoints.
typedef struct usb_msc_choice {
  uint8_t config_value;  // for SET_CONFIGURATION
  uint8_t interface, alternate;
  usb_endpoint bulk_in, bulk_out;
} usb_msc_choice;

// Steps through a descriptor set buf[0..end): returns the descriptor at offset *at and moves *at
// past it, or NULL at the end (*at == end, *status USB_OK) or for one whose bLength is below 2
// or runs past `end` (*status USB_ERR_DESCRIPTOR). Every walker over descriptors uses it.
const uint8_t *usb_desc_next(const uint8_t *buf, size_t end, size_t *at, int *status);

// The total length a configuration descriptor's 9-byte header announces (wTotalLength), or a
// negative usb_status.
long usb_config_total_length(const uint8_t *desc, size_t n);

// Walks a whole configuration descriptor (n bytes received) and picks the first interface that
// is bulk-only SCSI mass storage with one bulk-in and one bulk-out endpoint. Returns USB_OK,
// USB_ERR_SHORT / USB_ERR_DESCRIPTOR for malformed bytes, USB_ERR_NO_MSC when there is none.
int usb_find_msc(const uint8_t *desc, size_t n, usb_msc_choice *out);

// Standard requests over a transport's control pipe.
int usb_get_descriptor(const usb_transport *t, uint8_t type, uint8_t index, void *buf, uint16_t len,
                       uint32_t *actual);
int usb_set_configuration(const usb_transport *t, uint8_t value);
int usb_clear_halt(const usb_transport *t, uint8_t endpoint_address);

#endif  // DRIVERS_USB_H_
