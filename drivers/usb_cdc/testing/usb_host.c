// The simulated host of usb_host.h.
#include "drivers/usb_cdc/testing/usb_host.h"

#include <stdio.h>
#include <string.h>

#include "drivers/usb_cdc.h"

enum { MAX_PACKET = 64, NAK_RETRIES = 8 };

static char last_error[200];

const char *usb_host_error(void) { return last_error; }

static int protocol(const char *what, uint8_t rt, uint8_t req, size_t at) {
  snprintf(last_error, sizeof last_error, "request %02x/%02x: %s (after %zu bytes)", rt, req, what,
           at);
  return USB_HOST_PROTOCOL;
}

// An IN token retried while the device NAKs (it has not armed the packet yet).
static int in_packet(const usb_bus *bus, unsigned ep, uint8_t *data) {
  int n = USB_BUS_NAK;
  for (int i = 0; i < NAK_RETRIES && n == USB_BUS_NAK; i++) n = bus->in(bus->ctx, ep, data);
  return n;
}

static int out_packet(const usb_bus *bus, unsigned ep, const uint8_t *data, size_t len) {
  int r = USB_BUS_NAK;
  for (int i = 0; i < NAK_RETRIES && r == USB_BUS_NAK; i++) r = bus->out(bus->ctx, ep, data, len);
  return r;
}

void usb_host_setup_packet(uint8_t out[8], uint8_t rt, uint8_t req, uint16_t value, uint16_t index,
                           uint16_t length) {
  out[0] = rt;
  out[1] = req;
  out[2] = (uint8_t)value;
  out[3] = (uint8_t)(value >> 8);
  out[4] = (uint8_t)index;
  out[5] = (uint8_t)(index >> 8);
  out[6] = (uint8_t)length;
  out[7] = (uint8_t)(length >> 8);
}

int usb_host_control(const usb_bus *bus, uint8_t rt, uint8_t req, uint16_t value, uint16_t index,
                     uint16_t length, uint8_t *data) {
  uint8_t setup[8];
  usb_host_setup_packet(setup, rt, req, value, index, length);
  bus->setup(bus->ctx, setup);
  if ((rt & 0x80) && length > 0) {
    size_t got = 0;
    uint8_t packet[MAX_PACKET];
    for (;;) {
      const int n = in_packet(bus, 0, packet);
      if (n == USB_BUS_STALL) return USB_HOST_STALL;
      if (n == USB_BUS_NAK) return protocol("data stage never came", rt, req, got);
      if (n > MAX_PACKET || got + (size_t)n > length)
        return protocol("packet past wLength or over 64 bytes", rt, req, got);
      memcpy(data + got, packet, (size_t)n);
      got += (size_t)n;
      if (n < MAX_PACKET || got == length) break;
    }
    // Status stage: the host's zero-length OUT.
    const int r = out_packet(bus, 0, NULL, 0);
    if (r == USB_BUS_STALL) return USB_HOST_STALL;
    if (r != 0) return protocol("status stage not accepted", rt, req, got);
    return (int)got;
  }
  for (size_t off = 0; off < length;) {
    const size_t n = length - off < MAX_PACKET ? length - off : MAX_PACKET;
    const int r = out_packet(bus, 0, data + off, n);
    if (r == USB_BUS_STALL) return USB_HOST_STALL;
    if (r != 0) return protocol("data stage not accepted", rt, req, off);
    off += n;
  }
  uint8_t packet[MAX_PACKET];
  const int n = in_packet(bus, 0, packet);
  if (n == USB_BUS_STALL) return USB_HOST_STALL;
  if (n != 0) return protocol("no zero-length status packet", rt, req, length);
  return 0;
}

int usb_host_get_descriptor(const usb_bus *bus, uint8_t type, uint8_t index, uint16_t length,
                            uint8_t *buf) {
  return usb_host_control(bus, 0x80, 6, (uint16_t)(type << 8 | index),
                          type == 3 && index ? 0x0409 : 0, length, buf);
}

#define ENUM_CHECK(cond, what)                                          \
  do {                                                                  \
    if (!(cond)) {                                                      \
      snprintf(last_error, sizeof last_error, "enumeration: %s", what); \
      return USB_HOST_PROTOCOL;                                         \
    }                                                                   \
  } while (0)

#define ENUM_STEP(call)    \
  do {                     \
    const int r_ = (call); \
    if (r_ < 0) return r_; \
  } while (0)

int usb_host_enumerate(const usb_bus *bus, uint8_t address, usb_host_device *out) {
  memset(out, 0, sizeof *out);
  uint8_t buf[255];
  bus->bus_reset(bus->ctx);
  int n = usb_host_get_descriptor(bus, 1, 0, 64, buf);
  ENUM_STEP(n);
  ENUM_CHECK(n >= 8 && buf[1] == 1 && buf[7] == 64, "first device descriptor read");
  bus->bus_reset(bus->ctx);
  ENUM_STEP(usb_host_control(bus, 0x00, 5, address, 0, 0, NULL));
  n = usb_host_get_descriptor(bus, 1, 0, 18, out->device);
  ENUM_STEP(n);
  ENUM_CHECK(n == 18 && out->device[0] == 18 && out->device[17] == 1, "device descriptor");
  n = usb_host_get_descriptor(bus, 2, 0, 9, buf);
  ENUM_STEP(n);
  ENUM_CHECK(n == 9 && buf[1] == 2, "configuration header");
  const uint16_t total = (uint16_t)(buf[2] | buf[3] << 8);
  ENUM_CHECK(total <= sizeof out->config, "configuration too long for this host");
  n = usb_host_get_descriptor(bus, 2, 0, total, out->config);
  ENUM_STEP(n);
  ENUM_CHECK(n == total, "configuration shorter than wTotalLength");
  out->config_length = total;
  usb_config_summary sum;
  const char *why = "";
  if (usb_desc_walk(out->config, total, &sum, &why) != 0) {
    snprintf(last_error, sizeof last_error, "enumeration: configuration: %s", why);
    return USB_HOST_PROTOCOL;
  }
  out->bulk_in = sum.bulk_in;
  out->bulk_out = sum.bulk_out;
  out->interrupt_in = sum.interrupt_in;
  n = usb_host_get_descriptor(bus, 3, 0, 255, buf);
  ENUM_STEP(n);
  ENUM_CHECK(n >= 4 && buf[1] == 3 && buf[2] == 0x09 && buf[3] == 0x04, "language list");
  n = usb_host_get_descriptor(bus, 3, out->device[15], 255, buf);
  ENUM_STEP(n);
  ENUM_CHECK(n >= 2 && buf[0] == n && buf[1] == 3 && n % 2 == 0, "product string");
  for (int i = 2, j = 0; i + 1 < n && j + 1 < (int)sizeof out->product; i += 2)
    out->product[j++] = (char)buf[i];
  ENUM_STEP(usb_host_control(bus, 0x00, 9, 1, 0, 0, NULL));
  return 0;
}

size_t usb_host_bulk_read(const usb_bus *bus, unsigned ep, uint8_t *buf, size_t max, int *ended) {
  size_t got = 0;
  *ended = 0;
  uint8_t packet[MAX_PACKET];
  while (max - got >= MAX_PACKET) {  // an IN token only with room for a whole packet
    const int n = bus->in(bus->ctx, ep, packet);
    if (n < 0) break;
    memcpy(buf + got, packet, (size_t)n);
    got += (size_t)n;
    if (n < MAX_PACKET) {
      *ended = 1;
      break;
    }
  }
  return got;
}

size_t usb_host_bulk_write(const usb_bus *bus, unsigned ep, const uint8_t *data, size_t len) {
  size_t sent = 0;
  while (sent < len) {
    const size_t n = len - sent < MAX_PACKET ? len - sent : MAX_PACKET;
    if (bus->out(bus->ctx, ep, data + sent, n) != 0) break;
    sent += n;
  }
  return sent;
}
