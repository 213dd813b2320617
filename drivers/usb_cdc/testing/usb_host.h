// A simulated USB host for device tests: it speaks to a device through a usb_bus (packets on
// endpoints, as a host controller sees them) and runs control transfers, Linux's enumeration
// sequence and bulk transfers the way Linux does. The bus is the test's: over a simulated
// controller (drivers/usb_cdc) or over a fake controller's registers (drivers/rp2350_usb), so
// both layers meet the same host. Host-only, tests only.
#ifndef DRIVERS_USB_CDC_TESTING_USB_HOST_H_
#define DRIVERS_USB_CDC_TESTING_USB_HOST_H_

#include <stddef.h>
#include <stdint.h>

enum {
  USB_BUS_NAK = -1,    // nothing armed: the host retries later
  USB_BUS_STALL = -2,  // the endpoint answered STALL
};

// What a host controller can do on the bus. Endpoint numbers without the direction bit.
typedef struct {
  void *ctx;
  void (*bus_reset)(void *ctx);
  void (*setup)(void *ctx, const uint8_t packet[8]);  // a SETUP packet on EP0 (always ACKed)
  // An IN token on `ep`: the packet's length with its bytes in data[64], or NAK / STALL.
  int (*in)(void *ctx, unsigned ep, uint8_t *data);
  // An OUT packet on `ep`: 0 when ACKed, or NAK / STALL.
  int (*out)(void *ctx, unsigned ep, const uint8_t *data, size_t len);
} usb_bus;

enum {
  USB_HOST_STALL = -1,     // the device refused the request
  USB_HOST_PROTOCOL = -2,  // the device broke the transfer's rules: usb_host_error() says how
};

// The 8 bytes of a SETUP packet (little-endian fields, USB 2.0 9.3).
void usb_host_setup_packet(uint8_t out[8], uint8_t request_type, uint8_t request, uint16_t value,
                           uint16_t index, uint16_t length);

// The last protocol error, for a test's failure message.
const char *usb_host_error(void);

// One control transfer: SETUP; the data stage (IN: packets until a short one or wLength;
// OUT: `data` in 64-byte packets); the status stage. Returns the bytes read (IN requests with
// wLength > 0), 0, USB_HOST_STALL or USB_HOST_PROTOCOL.
int usb_host_control(const usb_bus *bus, uint8_t request_type, uint8_t request, uint16_t value,
                     uint16_t index, uint16_t length, uint8_t *data);

// GET_DESCRIPTOR(type, index) with wLength `length` (strings in English, 0x0409).
int usb_host_get_descriptor(const usb_bus *bus, uint8_t type, uint8_t index, uint16_t length,
                            uint8_t *buf);

// What enumeration found.
typedef struct {
  uint8_t device[18];
  uint8_t config[255];
  uint16_t config_length;
  char product[64];  // string 2, ASCII
  uint8_t bulk_in, bulk_out, interrupt_in;
} usb_host_device;

// Linux's hub driver, "new scheme": bus reset, GET_DESCRIPTOR(device) with wLength 64 at
// address 0, bus reset, SET_ADDRESS(address), the 18-byte device descriptor, the configuration
// with wLength 9 then its wTotalLength (checked with usb_desc_walk), strings 0 and 2 with
// wLength 255, SET_CONFIGURATION(1). 0, or USB_HOST_STALL / USB_HOST_PROTOCOL.
int usb_host_enumerate(const usb_bus *bus, uint8_t address, usb_host_device *out);

// A bulk IN transfer of at most `max` bytes: packets until a short one (a ZLP included) ends
// it, the device NAKs, or the next packet would not fit. *ended: it ended on a short packet.
size_t usb_host_bulk_read(const usb_bus *bus, unsigned ep, uint8_t *buf, size_t max, int *ended);

// A bulk OUT transfer in 64-byte packets until the device NAKs: the bytes it ACKed.
size_t usb_host_bulk_write(const usb_bus *bus, unsigned ep, const uint8_t *data, size_t len);

#endif  // DRIVERS_USB_CDC_TESTING_USB_HOST_H_
