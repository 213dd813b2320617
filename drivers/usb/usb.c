// USB descriptors and standard requests (usb.h).
#include "drivers/usb.h"

enum {
  DEVICE_DESC_LEN = 18,
  CONFIG_DESC_LEN = 9,
  INTERFACE_DESC_LEN = 9,
  ENDPOINT_DESC_LEN = 7,
  COMPANION_DESC_LEN = 6,
  CLASS_MASS_STORAGE = 8,
  SUBCLASS_SCSI = 6,
  PROTOCOL_BULK_ONLY = 0x50,
  ENDPOINT_BULK = 2,
};

const char *usb_strerror(int status) {
  switch (status) {
    case USB_OK:
      return "ok";
    case USB_ERR_STALL:
      return "device stalled";
    case USB_ERR_IO:
      return "transfer error";
    case USB_ERR_TIMEOUT:
      return "device timed out";
    case USB_ERR_SHORT:
      return "descriptor too short";
    case USB_ERR_DESCRIPTOR:
      return "malformed descriptor";
    case USB_ERR_NO_MSC:
      return "not a USB mass-storage (bulk-only SCSI) device";
    case USB_ERR_NO_DEVICE:
      return "no USB device connected";
    case USB_ERR_RESOURCES:
      return "USB controller out of resources";
    default:
      return "unknown USB error";
  }
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int usb_parse_device(const uint8_t *d, size_t n, usb_device_info *out) {
  if (n < 8 || d[0] < 8) return USB_ERR_SHORT;
  if (d[1] != USB_DESC_DEVICE) return USB_ERR_DESCRIPTOR;
  usb_device_info info = {le16(d + 2), d[4], d[7], 0, 0, 0};
  if (info.max_packet0 == 0) return USB_ERR_DESCRIPTOR;
  if (n >= DEVICE_DESC_LEN) {
    if (d[0] < DEVICE_DESC_LEN) return USB_ERR_SHORT;
    info.vendor = le16(d + 8);
    info.product = le16(d + 10);
    info.configurations = d[17];
  }
  *out = info;
  return USB_OK;
}

long usb_config_total_length(const uint8_t *d, size_t n) {
  if (n < CONFIG_DESC_LEN || d[0] < CONFIG_DESC_LEN) return -USB_ERR_SHORT;
  if (d[1] != USB_DESC_CONFIG) return -USB_ERR_DESCRIPTOR;
  uint16_t total = le16(d + 2);
  return total < CONFIG_DESC_LEN ? -USB_ERR_DESCRIPTOR : total;
}

const uint8_t *usb_desc_next(const uint8_t *buf, size_t end, size_t *at, int *status) {
  *status = USB_OK;
  if (*at >= end) return 0;
  const uint8_t *d = buf + *at;
  if (end - *at < 2 || d[0] < 2 || d[0] > end - *at) {
    *status = USB_ERR_DESCRIPTOR;
    return 0;
  }
  *at += d[0];
  return d;
}

// An interface being looked at while walking the descriptors.
typedef struct candidate {
  int open;  // inside a bulk-only SCSI interface
  usb_msc_choice choice;
  int have_in, have_out;
  usb_endpoint *last;  // the endpoint a companion descriptor that follows belongs to
} candidate;

int usb_find_msc(const uint8_t *d, size_t n, usb_msc_choice *out) {
  long total = usb_config_total_length(d, n);
  if (total < 0) return (int)-total;
  size_t end = (size_t)total < n ? (size_t)total : n;  // what was announced and received
  candidate c = {0};
  c.choice.config_value = d[5];
  size_t at = 0;
  int status;
  for (const uint8_t *p; (p = usb_desc_next(d, end, &at, &status)) != 0;) {
    uint8_t len = p[0], type = p[1];
    if (type == USB_DESC_INTERFACE) {
      if (c.open && c.have_in && c.have_out) break;
      if (len < INTERFACE_DESC_LEN) return USB_ERR_SHORT;
      c.open = p[5] == CLASS_MASS_STORAGE && p[6] == SUBCLASS_SCSI && p[7] == PROTOCOL_BULK_ONLY;
      c.choice.interface = p[2];
      c.choice.alternate = p[3];
      c.have_in = c.have_out = 0;
      c.last = 0;
    } else if (type == USB_DESC_ENDPOINT) {
      if (len < ENDPOINT_DESC_LEN) return USB_ERR_SHORT;
      c.last = 0;
      usb_endpoint e = {p[2], p[3], (uint16_t)(le16(p + 4) & 0x7ff), p[6], 0};
      if (c.open && (e.attributes & 3) == ENDPOINT_BULK && (e.address & 0xf) != 0 &&
          e.max_packet != 0) {
        int in = (e.address & 0x80) != 0;
        if (in && !c.have_in) {
          c.choice.bulk_in = e;
          c.have_in = 1;
          c.last = &c.choice.bulk_in;
        } else if (!in && !c.have_out) {
          c.choice.bulk_out = e;
          c.have_out = 1;
          c.last = &c.choice.bulk_out;
        }
      }
    } else if (type == USB_DESC_SS_COMPANION) {
      if (len < COMPANION_DESC_LEN) return USB_ERR_SHORT;
      if (c.last) c.last->max_burst = p[2] > 15 ? 15 : p[2];
      c.last = 0;
    } else if (type == USB_DESC_CONFIG && p != d) {
      return USB_ERR_DESCRIPTOR;
    }
  }
  if (status != USB_OK) return status;
  if (!(c.open && c.have_in && c.have_out)) return USB_ERR_NO_MSC;
  *out = c.choice;
  return USB_OK;
}

int usb_get_descriptor(const usb_transport *t, uint8_t type, uint8_t index, void *buf, uint16_t len,
                       uint32_t *actual) {
  usb_setup s = {0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(type << 8 | index), 0, len};
  return t->control(t->ctx, &s, buf, actual);
}

int usb_set_configuration(const usb_transport *t, uint8_t value) {
  usb_setup s = {0x00, USB_REQ_SET_CONFIGURATION, value, 0, 0};
  uint32_t actual;
  return t->control(t->ctx, &s, 0, &actual);
}

int usb_clear_halt(const usb_transport *t, uint8_t endpoint_address) {
  usb_setup s = {0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, endpoint_address, 0};
  uint32_t actual;
  return t->control(t->ctx, &s, 0, &actual);
}
