// CDC-ACM device protocol (usb_cdc.h): USB 2.0 chapter 9 requests, CDC 1.2 / PSTN 1.2 ACM
// requests, bulk rings. No controller and no board in here.
#include "drivers/usb_cdc.h"

// bmRequestType fields and bRequest values (USB 2.0 9.3, 9.4; CDC PSTN 6.3).
enum {
  DIR_IN = 0x80,
  TYPE_MASK = 0x60,
  TYPE_STANDARD = 0x00,
  TYPE_CLASS = 0x20,
  RECIPIENT_MASK = 0x1f,
  TO_DEVICE = 0,
  TO_INTERFACE = 1,
  TO_ENDPOINT = 2,

  GET_STATUS = 0,
  SET_FEATURE = 3,
  SET_ADDRESS = 5,
  GET_CONFIGURATION = 8,
  GET_INTERFACE = 10,
  SET_INTERFACE = 11,

  SET_LINE_CODING = 0x20,
  GET_LINE_CODING = 0x21,
  SET_CONTROL_LINE_STATE = 0x22,
  SEND_BREAK = 0x23,
  LINE_CODING_LENGTH = 7,
  LINE_DTR = 1,

  DESC_STRING = 3,
  CS_INTERFACE = 0x24,

  COMM_INTERFACE = 0,  // bInterfaceNumber of the CDC communications interface
  DATA_INTERFACE = 1,
  CDC_CLASS_COMM = 0x02,
  CDC_SUBCLASS_ACM = 0x02,
  CDC_CLASS_DATA = 0x0a,

  HALT_IN = 1,  // c->halted bits
  HALT_OUT = 2,
  HALT_NOTIFY = 4,

  NO_ADDRESS = 0xff,
  STRING_MAX_CHARS = 63,
};

int usb_setup_parse(const uint8_t *bytes, size_t len, usb_setup *out) {
  if (len != 8) return -1;
  out->request_type = bytes[0];
  out->request = bytes[1];
  out->value = (uint16_t)(bytes[2] | bytes[3] << 8);
  out->index = (uint16_t)(bytes[4] | bytes[5] << 8);
  out->length = (uint16_t)(bytes[6] | bytes[7] << 8);
  return 0;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

// Freestanding: no libc here (a board links common/mem for what the compiler emits).
static void copy(uint8_t *dst, const uint8_t *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

// --- Descriptors -----------------------------------------------------------------------------

static size_t device_descriptor(const usb_cdc *c, uint8_t *d) {
  const uint8_t fixed[18] = {
      18,
      USB_DESC_DEVICE,
      0x00,
      0x02,  // USB 2.0
      CDC_CLASS_COMM,
      0,
      0,  // class at interface level, CDC so older hosts bind
      USB_EP0_SIZE,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      2,
      3,  // iManufacturer, iProduct, iSerialNumber
      1,  // bNumConfigurations
  };
  copy(d, fixed, sizeof fixed);
  put16(d + 8, c->config.vendor_id);
  put16(d + 10, c->config.product_id);
  put16(d + 12, c->config.device_release);
  return sizeof fixed;
}

static size_t config_descriptor(const usb_cdc *c, uint8_t *d) {
  const uint8_t fixed[USB_CDC_CONFIG_LENGTH] = {
      // Configuration 1: two interfaces, bus powered.
      9,
      USB_DESC_CONFIG,
      USB_CDC_CONFIG_LENGTH,
      0,
      2,
      1,
      0,
      0x80,
      0,
      // Interface 0: CDC communications, ACM, no protocol (so no modem probing), one endpoint.
      9,
      USB_DESC_INTERFACE,
      COMM_INTERFACE,
      0,
      1,
      CDC_CLASS_COMM,
      CDC_SUBCLASS_ACM,
      0,
      0,
      5,
      CS_INTERFACE,
      0x00,
      0x20,
      0x01,  // Header, bcdCDC 1.20
      5,
      CS_INTERFACE,
      0x01,
      0x00,
      DATA_INTERFACE,  // Call management: none
      4,
      CS_INTERFACE,
      0x02,
      0x02,  // ACM: line coding + control lines
      5,
      CS_INTERFACE,
      0x06,
      COMM_INTERFACE,
      DATA_INTERFACE,  // Union
      7,
      USB_DESC_ENDPOINT,
      USB_CDC_EP_NOTIFY,
      0x03,
      USB_CDC_NOTIFY_SIZE,
      0,
      16,  // interrupt
      // Interface 1: CDC data, two bulk endpoints.
      9,
      USB_DESC_INTERFACE,
      DATA_INTERFACE,
      0,
      2,
      CDC_CLASS_DATA,
      0,
      0,
      0,
      7,
      USB_DESC_ENDPOINT,
      USB_CDC_EP_OUT,
      0x02,
      USB_CDC_BULK_SIZE,
      0,
      0,
      7,
      USB_DESC_ENDPOINT,
      USB_CDC_EP_IN,
      0x02,
      USB_CDC_BULK_SIZE,
      0,
      0,
  };
  copy(d, fixed, sizeof fixed);
  d[8] = (uint8_t)(c->config.max_power_ma / 2);  // bMaxPower in 2 mA units
  return sizeof fixed;
}

// String descriptor `s` (ASCII; anything else becomes '?') in UTF-16LE.
static size_t string_descriptor(const char *s, uint8_t *d) {
  size_t n = 0;
  for (; s && s[n] && n < STRING_MAX_CHARS; n++) {
    unsigned char ch = (unsigned char)s[n];
    d[2 + 2 * n] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    d[3 + 2 * n] = 0;
  }
  d[0] = (uint8_t)(2 + 2 * n);
  d[1] = DESC_STRING;
  return 2 + 2 * n;
}

const uint8_t *usb_cdc_descriptor(usb_cdc *c, uint8_t type, uint8_t index, size_t *len) {
  uint8_t *d = c->ep0_buf;
  *len = 0;
  if (type == USB_DESC_DEVICE && index == 0) {
    *len = device_descriptor(c, d);
  } else if (type == USB_DESC_CONFIG && index == 0) {
    *len = config_descriptor(c, d);
  } else if (type == DESC_STRING && index == 0) {
    const uint8_t languages[4] = {4, DESC_STRING, 0x09, 0x04};  // English (United States)
    copy(d, languages, sizeof languages);
    *len = sizeof languages;
  } else if (type == DESC_STRING && index >= 1 && index <= 3) {
    const char *s[3] = {c->config.manufacturer, c->config.product, c->config.serial};
    *len = string_descriptor(s[index - 1], d);
  } else {
    return NULL;  // device qualifier, other speed: a full-speed-only device stalls (9.6.2)
  }
  return d;
}

// --- Bulk endpoints --------------------------------------------------------------------------

static void out_arm(usb_cdc *c) {
  if (!c->configuration || c->out_armed || (c->halted & HALT_OUT)) return;
  if (USB_CDC_RX_SIZE - (c->rx_head - c->rx_tail) < USB_CDC_BULK_SIZE) return;  // no room
  c->out_armed = 1;
  c->ops->ep_out(c->ctx, USB_CDC_EP_OUT);
}

static void in_kick(usb_cdc *c) {
  if (!c->configuration || c->in_busy || (c->halted & HALT_IN)) return;
  size_t pending = c->tx_head - c->tx_tail;
  if (pending == 0 && !c->in_need_zlp) return;
  size_t n = min_size(pending, USB_CDC_BULK_SIZE);
  for (size_t i = 0; i < n; i++) c->in_packet[i] = c->tx[(c->tx_tail + i) % USB_CDC_TX_SIZE];
  c->in_flight = n;
  c->in_busy = 1;
  c->in_need_zlp = 0;
  c->ops->ep_in(c->ctx, USB_CDC_EP_IN, c->in_packet, n);
}

// Endpoints 0x81/0x02/0x82 off and every transfer on them forgotten.
static void bulk_reset(usb_cdc *c) {
  c->halted = 0;
  c->out_armed = 0;
  c->in_busy = 0;
  c->in_flight = 0;
  c->in_need_zlp = 0;
}

static void set_configuration(usb_cdc *c, uint8_t value) {
  if (c->configuration) c->ops->configure(c->ctx, 0);
  bulk_reset(c);
  c->configuration = value;
  if (!value) {
    c->line_state = 0;
    return;
  }
  c->ops->configure(c->ctx, 1);
  out_arm(c);
  in_kick(c);
}

static int endpoint_bit(uint8_t ep) {
  switch (ep) {
    case USB_CDC_EP_IN:
      return HALT_IN;
    case USB_CDC_EP_OUT:
      return HALT_OUT;
    case USB_CDC_EP_NOTIFY:
      return HALT_NOTIFY;
    default:
      return 0;
  }
}

static void set_halt(usb_cdc *c, uint8_t ep, int halt) {
  int bit = endpoint_bit(ep);
  if (halt) {
    c->halted |= (uint8_t)bit;
  } else {
    c->halted &= (uint8_t)~bit;
  }
  c->ops->ep_halt(c->ctx, ep, halt);
  if (bit == HALT_IN) {
    c->in_busy = 0;  // a packet armed before the halt is dropped; its bytes are still queued
    if (!halt) in_kick(c);
  } else if (bit == HALT_OUT) {
    c->out_armed = 0;
    if (!halt) out_arm(c);
  }
}

// --- EP0 -------------------------------------------------------------------------------------

static void ep0_stall(usb_cdc *c) {
  c->ep0_state = USB_EP0_STALLED;
  c->ep0_left = 0;
  c->ep0_zlp = 0;
  c->ops->ep0_stall(c->ctx);
}

static void status_in(usb_cdc *c) {
  c->ep0_state = USB_EP0_STATUS_IN;
  c->ops->ep0_in(c->ctx, NULL, 0);
}

static void ep0_send_next(usb_cdc *c) {
  size_t n = min_size(c->ep0_left, USB_EP0_SIZE);
  if (n == 0) c->ep0_zlp = 0;  // this is the closing zero-length packet
  const uint8_t *p = c->ep0_data;
  c->ep0_data += n;
  c->ep0_left -= n;
  c->ops->ep0_in(c->ctx, p, n);
}

// Answers an IN request with `len` bytes of `data`, cut to wLength. A data stage that ends
// before wLength on a full packet is closed with a zero-length packet (USB 2.0 5.5.3).
static void ep0_reply(usb_cdc *c, const uint8_t *data, size_t len) {
  size_t want = c->setup.length;
  if (want == 0) {  // no data stage: the status stage is ours (IN)
    status_in(c);
    return;
  }
  len = min_size(len, want);
  c->ep0_data = data;
  c->ep0_left = len;
  c->ep0_zlp = len < want && len % USB_EP0_SIZE == 0;
  c->ep0_state = USB_EP0_DATA_IN;
  ep0_send_next(c);
}

static int ep0_reply_bytes(usb_cdc *c, uint8_t b0, uint8_t b1, size_t len) {
  c->ep0_buf[0] = b0;
  c->ep0_buf[1] = b1;
  ep0_reply(c, c->ep0_buf, len);
  return 1;
}

// 1 when the request was taken (reply, status or data stage started), 0 to stall.
static int standard_request(usb_cdc *c) {
  const usb_setup *s = &c->setup;
  const int in = s->request_type & DIR_IN;
  const int recipient = s->request_type & RECIPIENT_MASK;
  const uint8_t ep = (uint8_t)s->index;
  switch (s->request) {
    case USB_REQ_GET_DESCRIPTOR: {
      if (!in || recipient != TO_DEVICE) return 0;
      size_t len;
      const uint8_t *d = usb_cdc_descriptor(c, (uint8_t)(s->value >> 8), (uint8_t)s->value, &len);
      if (!d) return 0;
      ep0_reply(c, d, len);
      return 1;
    }
    case SET_ADDRESS:
      if (in || recipient != TO_DEVICE || s->value > 127 || s->index || s->length) return 0;
      c->pending_address = (uint8_t)s->value;  // takes effect after the status stage
      status_in(c);
      return 1;
    case GET_CONFIGURATION:
      if (!in || recipient != TO_DEVICE) return 0;
      return ep0_reply_bytes(c, c->configuration, 0, 1);
    case USB_REQ_SET_CONFIGURATION:
      if (in || recipient != TO_DEVICE || s->value > 1 || s->length) return 0;
      set_configuration(c, (uint8_t)s->value);
      status_in(c);
      return 1;
    case GET_STATUS:
      if (!in || s->value) return 0;
      if (recipient == TO_DEVICE) return ep0_reply_bytes(c, 0, 0, 2);  // bus powered, no wakeup
      if (recipient == TO_INTERFACE && c->configuration && s->index <= DATA_INTERFACE)
        return ep0_reply_bytes(c, 0, 0, 2);
      if (recipient == TO_ENDPOINT && (ep & 0x7f) == 0) return ep0_reply_bytes(c, 0, 0, 2);
      if (recipient == TO_ENDPOINT && c->configuration && endpoint_bit(ep))
        return ep0_reply_bytes(c, (c->halted & endpoint_bit(ep)) ? 1 : 0, 0, 2);
      return 0;
    case USB_REQ_CLEAR_FEATURE:
    case SET_FEATURE:
      // Only ENDPOINT_HALT: no remote wakeup, no test modes (high speed only).
      if (in || recipient != TO_ENDPOINT || s->value != USB_FEATURE_ENDPOINT_HALT || s->length)
        return 0;
      if ((ep & 0x7f) == 0) {
        if (s->request == SET_FEATURE) return 0;  // a halted EP0 is a stall: answer with one
      } else if (c->configuration && endpoint_bit(ep)) {
        set_halt(c, ep, s->request == SET_FEATURE);
      } else {
        return 0;
      }
      status_in(c);
      return 1;
    case GET_INTERFACE:
      if (!in || recipient != TO_INTERFACE || !c->configuration || s->index > DATA_INTERFACE)
        return 0;
      return ep0_reply_bytes(c, 0, 0, 1);
    case SET_INTERFACE:
      if (in || recipient != TO_INTERFACE || !c->configuration || s->index > DATA_INTERFACE ||
          s->value != 0)
        return 0;
      status_in(c);
      return 1;
    default:
      return 0;
  }
}

static void line_coding_bytes(const usb_cdc *c, uint8_t *d) {
  d[0] = (uint8_t)c->line.baud;
  d[1] = (uint8_t)(c->line.baud >> 8);
  d[2] = (uint8_t)(c->line.baud >> 16);
  d[3] = (uint8_t)(c->line.baud >> 24);
  d[4] = c->line.stop_bits;
  d[5] = c->line.parity;
  d[6] = c->line.data_bits;
}

static int class_request(usb_cdc *c) {
  const usb_setup *s = &c->setup;
  if ((s->request_type & RECIPIENT_MASK) != TO_INTERFACE || s->index != COMM_INTERFACE ||
      !c->configuration)
    return 0;
  const int in = s->request_type & DIR_IN;
  switch (s->request) {
    case SET_LINE_CODING:
      if (in || s->length != LINE_CODING_LENGTH) return 0;
      c->ep0_state = USB_EP0_DATA_OUT;
      c->ops->ep0_out(c->ctx);
      return 1;
    case GET_LINE_CODING:
      if (!in) return 0;
      line_coding_bytes(c, c->ep0_buf);
      ep0_reply(c, c->ep0_buf, LINE_CODING_LENGTH);
      return 1;
    case SET_CONTROL_LINE_STATE:
      if (in || s->length) return 0;
      if ((s->value & LINE_DTR) && !(c->line_state & LINE_DTR)) c->opens++;
      c->line_state = s->value & 3;
      status_in(c);
      return 1;
    case SEND_BREAK:
      if (in || s->length) return 0;
      status_in(c);
      return 1;
    default:
      return 0;
  }
}

// The data stage of an OUT request is complete (only SET_LINE_CODING has one).
static void out_data_done(usb_cdc *c) {
  const uint8_t *d = c->ep0_buf;
  c->line.baud = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
  c->line.stop_bits = d[4];
  c->line.parity = d[5];
  c->line.data_bits = d[6];
  status_in(c);
}

void usb_cdc_on_setup(usb_cdc *c, const uint8_t setup[8]) {
  usb_setup_parse(setup, 8, &c->setup);
  // A SETUP ends whatever control transfer was under way (USB 2.0 8.5.3), stall included.
  c->ep0_left = 0;
  c->ep0_zlp = 0;
  c->ep0_received = 0;
  c->pending_address = NO_ADDRESS;
  c->ep0_state = USB_EP0_IDLE;
  int taken = 0;
  switch (c->setup.request_type & TYPE_MASK) {
    case TYPE_STANDARD:
      taken = standard_request(c);
      break;
    case TYPE_CLASS:
      taken = class_request(c);
      break;
    default:
      break;
  }
  if (!taken) ep0_stall(c);
}

void usb_cdc_on_ep0_in_done(usb_cdc *c) {
  switch (c->ep0_state) {
    case USB_EP0_DATA_IN:
      if (c->ep0_left > 0 || c->ep0_zlp) {
        ep0_send_next(c);
      } else {
        c->ep0_state = USB_EP0_STATUS_OUT;
        c->ops->ep0_out(c->ctx);
      }
      break;
    case USB_EP0_STATUS_IN:
      c->ep0_state = USB_EP0_IDLE;
      if (c->pending_address != NO_ADDRESS) {
        c->address = c->pending_address;
        c->pending_address = NO_ADDRESS;
        c->ops->set_address(c->ctx, c->address);
      }
      break;
    default:
      break;  // nothing of ours was in flight
  }
}

void usb_cdc_on_ep0_out(usb_cdc *c, const uint8_t *data, size_t len) {
  if (c->ep0_state == USB_EP0_STATUS_OUT) {
    c->ep0_state = USB_EP0_IDLE;  // the host acknowledged our data stage
    return;
  }
  if (c->ep0_state != USB_EP0_DATA_OUT) return;
  size_t want = c->setup.length;  // at most LINE_CODING_LENGTH: checked in class_request
  size_t n = min_size(len, want - c->ep0_received);
  copy(c->ep0_buf + c->ep0_received, data, n);
  c->ep0_received += n;
  if (c->ep0_received == want) {
    out_data_done(c);
  } else if (len < USB_EP0_SIZE) {
    ep0_stall(c);  // the host ended the data stage short of wLength
  } else {
    c->ops->ep0_out(c->ctx);
  }
}

// --- Bus events, bulk completions ------------------------------------------------------------

void usb_cdc_init(usb_cdc *c, const usb_cdc_config *config, const usb_dc_ops *ops, void *ctx) {
  *c = (usb_cdc){0};
  c->ops = ops;
  c->ctx = ctx;
  c->config = *config;
  c->pending_address = NO_ADDRESS;
  c->line.baud = 115200;  // until the host sets its own
  c->line.data_bits = 8;
}

void usb_cdc_on_bus_reset(usb_cdc *c) {
  if (c->configuration) c->ops->configure(c->ctx, 0);
  bulk_reset(c);
  c->configuration = 0;
  c->address = 0;
  c->pending_address = NO_ADDRESS;
  c->ep0_state = USB_EP0_IDLE;
  c->ep0_left = 0;
  c->ep0_zlp = 0;
  c->line_state = 0;
  c->rx_head = c->rx_tail = 0;
  c->tx_head = c->tx_tail = 0;  // whoever was reading has gone
}

void usb_cdc_on_ep_in_done(usb_cdc *c, uint8_t ep) {
  if (ep != USB_CDC_EP_IN || !c->in_busy) return;
  c->tx_tail += (uint32_t)c->in_flight;
  c->in_need_zlp = c->in_flight == USB_CDC_BULK_SIZE;  // a full packet: the transfer goes on
  c->in_busy = 0;
  in_kick(c);
}

void usb_cdc_on_ep_out(usb_cdc *c, uint8_t ep, const uint8_t *data, size_t len) {
  if (ep != USB_CDC_EP_OUT || !c->out_armed) return;
  c->out_armed = 0;
  len = min_size(len, USB_CDC_BULK_SIZE);
  for (size_t i = 0; i < len; i++) {
    if (c->rx_head - c->rx_tail == USB_CDC_RX_SIZE) {
      c->rx_dropped += (uint32_t)(len - i);
      break;
    }
    c->rx[c->rx_head++ % USB_CDC_RX_SIZE] = data[i];
  }
  out_arm(c);
}

size_t usb_cdc_write(usb_cdc *c, const uint8_t *data, size_t len) {
  if (!c->configuration) return 0;
  size_t room = USB_CDC_TX_SIZE - (c->tx_head - c->tx_tail);
  size_t n = min_size(len, room);
  for (size_t i = 0; i < n; i++) c->tx[c->tx_head++ % USB_CDC_TX_SIZE] = data[i];
  in_kick(c);
  return n;
}

int usb_cdc_getc(usb_cdc *c) {
  if (c->rx_head == c->rx_tail) return -1;
  int b = c->rx[c->rx_tail++ % USB_CDC_RX_SIZE];
  out_arm(c);
  return b;
}

int usb_cdc_connected(const usb_cdc *c) { return c->configuration && (c->line_state & LINE_DTR); }

size_t usb_cdc_tx_pending(const usb_cdc *c) { return c->tx_head - c->tx_tail; }

// --- Configuration descriptor walk (what a host does with it) --------------------------------

#define WALK_FAIL(msg) \
  do {                 \
    *why = (msg);      \
    return -1;         \
  } while (0)

int usb_desc_walk(const uint8_t *cfg, size_t len, usb_config_summary *out, const char **why) {
  *out = (usb_config_summary){0};
  if (len < 9) WALK_FAIL("shorter than a configuration descriptor");
  if (cfg[0] < 9 || cfg[1] != USB_DESC_CONFIG) WALK_FAIL("not a configuration descriptor");
  if ((size_t)(cfg[2] | cfg[3] << 8) != len) WALK_FAIL("wTotalLength is not the length read");
  if (cfg[0] > len) WALK_FAIL("bLength runs past the end");
  unsigned expect_endpoints = 0, comm = 0;
  size_t pos = cfg[0];
  int status;
  for (const uint8_t *d; (d = usb_desc_next(cfg, len, &pos, &status)) != 0;) {
    switch (d[1]) {
      case USB_DESC_INTERFACE:
        if (d[0] < 9) WALK_FAIL("interface descriptor too short");
        if (expect_endpoints) WALK_FAIL("fewer endpoints than bNumEndpoints");
        if (d[3] == 0) out->interfaces++;
        expect_endpoints = d[4];
        comm = d[5] == CDC_CLASS_COMM && d[6] == CDC_SUBCLASS_ACM;
        if (comm) out->cdc_acm = 1;
        break;
      case USB_DESC_ENDPOINT: {
        if (d[0] < 7) WALK_FAIL("endpoint descriptor too short");
        if (!expect_endpoints) WALK_FAIL("more endpoints than bNumEndpoints");
        expect_endpoints--;
        out->endpoints++;
        const uint16_t size = (uint16_t)((d[4] | d[5] << 8) & 0x7ff);
        if (size == 0) WALK_FAIL("endpoint with wMaxPacketSize 0");
        if ((d[2] & 0x0f) == 0) WALK_FAIL("endpoint descriptor for endpoint 0");
        const int type = d[3] & 3;
        if (type == 2 && (d[2] & 0x80)) {
          out->bulk_in = d[2];
          out->bulk_in_size = size;
        } else if (type == 2) {
          out->bulk_out = d[2];
          out->bulk_out_size = size;
        } else if (type == 3 && (d[2] & 0x80) && comm) {
          out->interrupt_in = d[2];
        }
        break;
      }
      case USB_DESC_CONFIG:
        WALK_FAIL("a second configuration descriptor");
      default:
        break;  // class-specific and other descriptors: skipped, as a host does
    }
  }
  if (status != USB_OK) WALK_FAIL("a descriptor with bLength below 2 or running past the end");
  if (expect_endpoints) WALK_FAIL("fewer endpoints than bNumEndpoints");
  if (out->interfaces != cfg[4]) WALK_FAIL("bNumInterfaces does not match the interfaces");
  *why = "";
  return 0;
}
