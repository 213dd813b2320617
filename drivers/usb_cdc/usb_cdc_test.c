// The CDC-ACM protocol against a simulated controller driven by a simulated Linux host: the
// enumeration sequence of Linux's hub driver (drivers/usb/core/hub.c, "new scheme": a 64-byte
// device descriptor read at address 0, a port reset, SET_ADDRESS, the 18-byte read, the
// configuration read twice, the strings with wLength 255, SET_CONFIGURATION), then what
// cdc-acm does when a program opens the tty (SET_CONTROL_LINE_STATE DTR|RTS, SET_LINE_CODING)
// and closes it (SET_CONTROL_LINE_STATE 0), bulk traffic both ways with zero-length packets,
// a halted bulk endpoint, refused requests and odd wLength values.
#include "drivers/usb_cdc.h"

#include <string.h>

#include "common/check.h"

// --- The simulated controller: what the protocol put on the bus ------------------------------
typedef struct {
  uint8_t ep0_in[USB_EP0_SIZE + 8];
  size_t ep0_in_len;
  int ep0_in_pending, ep0_out_armed, ep0_stalled;
  int address, address_calls;
  int configured, configure_calls;
  uint8_t bulk_in[USB_CDC_BULK_SIZE + 8];
  size_t bulk_in_len;
  int bulk_in_pending, bulk_out_armed;
  int halt_in, halt_out, halt_calls;
  int oversize;  // a packet longer than its endpoint's size was handed to the controller
} sim;

static void sim_ep0_in(void *ctx, const uint8_t *data, size_t len) {
  sim *s = ctx;
  if (len > USB_EP0_SIZE) s->oversize++;
  s->ep0_in_len = len;
  if (len) memcpy(s->ep0_in, data, len < USB_EP0_SIZE ? len : USB_EP0_SIZE);
  s->ep0_in_pending++;
}
static void sim_ep0_out(void *ctx) { ((sim *)ctx)->ep0_out_armed = 1; }
static void sim_ep0_stall(void *ctx) {
  sim *s = ctx;
  s->ep0_stalled = 1;
  s->ep0_in_pending = 0;
  s->ep0_out_armed = 0;
}
static void sim_set_address(void *ctx, uint8_t address) {
  sim *s = ctx;
  s->address = address;
  s->address_calls++;
}
static void sim_configure(void *ctx, int on) {
  sim *s = ctx;
  s->configured = on;
  s->configure_calls++;
  if (!on) s->bulk_in_pending = s->bulk_out_armed = s->halt_in = s->halt_out = 0;
}
static void sim_ep_in(void *ctx, uint8_t ep, const uint8_t *data, size_t len) {
  sim *s = ctx;
  if (ep != USB_CDC_EP_IN || len > USB_CDC_BULK_SIZE || !s->configured) {
    s->oversize++;
    return;
  }
  memcpy(s->bulk_in, data, len);
  s->bulk_in_len = len;
  s->bulk_in_pending++;
}
static void sim_ep_out(void *ctx, uint8_t ep) {
  sim *s = ctx;
  if (ep == USB_CDC_EP_OUT && s->configured) s->bulk_out_armed++;
}
static void sim_ep_halt(void *ctx, uint8_t ep, int halt) {
  sim *s = ctx;
  s->halt_calls++;
  if (ep == USB_CDC_EP_IN) {
    s->halt_in = halt;
    s->bulk_in_pending = 0;  // the controller drops the armed buffer
  }
  if (ep == USB_CDC_EP_OUT) {
    s->halt_out = halt;
    s->bulk_out_armed = 0;
  }
}

static const usb_dc_ops kSimOps = {
    sim_ep0_in,    sim_ep0_out, sim_ep0_stall, sim_set_address,
    sim_configure, sim_ep_in,   sim_ep_out,    sim_ep_halt,
};

// --- The simulated host ----------------------------------------------------------------------
enum { STALL = -1, PROTOCOL = -2 };

static void setup_bytes(uint8_t *p, uint8_t rt, uint8_t req, uint16_t value, uint16_t index,
                        uint16_t length) {
  p[0] = rt;
  p[1] = req;
  p[2] = (uint8_t)value;
  p[3] = (uint8_t)(value >> 8);
  p[4] = (uint8_t)index;
  p[5] = (uint8_t)(index >> 8);
  p[6] = (uint8_t)length;
  p[7] = (uint8_t)(length >> 8);
}

// One control transfer as a host controller runs it: SETUP, the data stage (IN: packets until
// a short one or wLength; OUT: `data` in 64-byte packets), the status stage. Returns the bytes
// read (IN), 0 (OUT), STALL, or PROTOCOL when the device broke the sequence (reported).
static int control(usb_cdc *c, sim *s, uint8_t rt, uint8_t req, uint16_t value, uint16_t index,
                   uint16_t length, uint8_t *data) {
  uint8_t setup[8];
  setup_bytes(setup, rt, req, value, index, length);
  s->ep0_stalled = s->ep0_in_pending = s->ep0_out_armed = 0;  // a SETUP clears EP0's stall
  usb_cdc_on_setup(c, setup);
  if ((rt & 0x80) && length > 0) {
    size_t got = 0;
    for (;;) {
      if (s->ep0_stalled) return STALL;
      if (s->ep0_in_pending != 1) {
        CHECKF(0, "request %02x/%02x: %d IN packets armed, expected 1", rt, req, s->ep0_in_pending);
        return PROTOCOL;
      }
      size_t n = s->ep0_in_len;
      if (n > USB_EP0_SIZE || got + n > length) {
        CHECKF(0, "request %02x/%02x: packet of %zu bytes after %zu of %u", rt, req, n, got,
               length);
        return PROTOCOL;
      }
      memcpy(data + got, s->ep0_in, n);
      got += n;
      s->ep0_in_pending = 0;
      usb_cdc_on_ep0_in_done(c);
      if (n < USB_EP0_SIZE || got == length) break;
    }
    if (s->ep0_in_pending || !s->ep0_out_armed) {
      CHECKF(0, "request %02x/%02x: no status stage after %zu bytes", rt, req, got);
      return PROTOCOL;
    }
    s->ep0_out_armed = 0;
    usb_cdc_on_ep0_out(c, NULL, 0);
    return (int)got;
  }
  for (size_t off = 0; off < length;) {
    if (s->ep0_stalled) return STALL;
    if (!s->ep0_out_armed) {
      CHECKF(0, "request %02x/%02x: EP0 OUT not armed for data", rt, req);
      return PROTOCOL;
    }
    size_t n = length - off < USB_EP0_SIZE ? length - off : USB_EP0_SIZE;
    s->ep0_out_armed = 0;
    usb_cdc_on_ep0_out(c, data + off, n);
    off += n;
  }
  if (s->ep0_stalled) return STALL;
  if (s->ep0_in_pending != 1 || s->ep0_in_len != 0) {
    CHECKF(0, "request %02x/%02x: no status ZLP", rt, req);
    return PROTOCOL;
  }
  s->ep0_in_pending = 0;
  usb_cdc_on_ep0_in_done(c);
  return 0;
}

static int get_descriptor(usb_cdc *c, sim *s, uint8_t type, uint8_t index, uint16_t length,
                          uint8_t *buf) {
  return control(c, s, 0x80, 6, (uint16_t)(type << 8 | index), type == 3 && index ? 0x0409 : 0,
                 length, buf);
}

// Reads the bulk IN endpoint like cdc-acm's read URBs: packets until a short one (a ZLP
// included) ends the transfer or nothing is armed. *ended: the transfer ended short.
static size_t host_read(usb_cdc *c, sim *s, uint8_t *buf, size_t max, int *ended) {
  size_t got = 0;
  *ended = 0;
  while (s->bulk_in_pending && !s->halt_in) {
    CHECK(s->bulk_in_pending == 1);
    size_t n = s->bulk_in_len;
    if (got + n > max) break;
    memcpy(buf + got, s->bulk_in, n);
    got += n;
    s->bulk_in_pending = 0;
    usb_cdc_on_ep_in_done(c, USB_CDC_EP_IN);
    if (n < USB_CDC_BULK_SIZE) {
      *ended = 1;
      break;
    }
  }
  return got;
}

// Sends bytes on bulk OUT in 64-byte packets while the device has a buffer armed (else the
// controller NAKs and the host retries later). Returns the bytes accepted.
static size_t host_write(usb_cdc *c, sim *s, const uint8_t *data, size_t len) {
  size_t sent = 0;
  while (sent < len && s->bulk_out_armed && !s->halt_out) {
    size_t n = len - sent < USB_CDC_BULK_SIZE ? len - sent : USB_CDC_BULK_SIZE;
    s->bulk_out_armed--;
    usb_cdc_on_ep_out(c, USB_CDC_EP_OUT, data + sent, n);
    sent += n;
  }
  return sent;
}

static const usb_cdc_config kConfig = {
    0x1209, 0x0001, 0x0100, "metalchat", "metalchat console", "0123456789ABCDEF", 100,
};

// Linux's enumeration up to SET_CONFIGURATION(1); the device ends at `address`.
static void enumerate(usb_cdc *c, sim *s, uint8_t address) {
  uint8_t buf[256];
  usb_cdc_on_bus_reset(c);
  int n = get_descriptor(c, s, 1, 0, 64, buf);  // at address 0, wLength 64
  CHECK(n == 18);
  CHECK(buf[0] == 18 && buf[1] == 1 && buf[7] == USB_EP0_SIZE);
  usb_cdc_on_bus_reset(c);  // the second port reset of the new scheme

  uint8_t setup[8];
  setup_bytes(setup, 0x00, 5, address, 0, 0);
  s->ep0_in_pending = 0;
  usb_cdc_on_setup(c, setup);
  CHECK(s->address_calls == 0 || s->address != address);  // not before the status stage
  CHECK(s->ep0_in_pending == 1 && s->ep0_in_len == 0);
  s->ep0_in_pending = 0;
  usb_cdc_on_ep0_in_done(c);
  CHECK(s->address == address);

  n = get_descriptor(c, s, 1, 0, 18, buf);
  CHECK(n == 18);
  CHECK(buf[8] == 0x09 && buf[9] == 0x12 && buf[10] == 0x01 && buf[11] == 0x00);  // VID, PID
  CHECK(buf[17] == 1);                                                            // one config
  n = get_descriptor(c, s, 2, 0, 9, buf);
  CHECK(n == 9);
  const uint16_t total = (uint16_t)(buf[2] | buf[3] << 8);
  CHECK(total == USB_CDC_CONFIG_LENGTH);
  n = get_descriptor(c, s, 2, 0, total, buf);
  CHECK(n == total);
  usb_config_summary sum;
  const char *why = "";
  CHECKF(usb_desc_walk(buf, (size_t)n, &sum, &why) == 0, "%s", why);
  CHECK(sum.interfaces == 2 && sum.endpoints == 3 && sum.cdc_acm);
  CHECK(sum.bulk_in == USB_CDC_EP_IN && sum.bulk_out == USB_CDC_EP_OUT);
  CHECK(sum.interrupt_in == USB_CDC_EP_NOTIFY);
  CHECK(sum.bulk_in_size == 64 && sum.bulk_out_size == 64);
  CHECK(buf[8] == 50);  // bMaxPower: 100 mA

  n = get_descriptor(c, s, 3, 0, 255, buf);
  CHECK(n == 4 && buf[2] == 0x09 && buf[3] == 0x04);
  n = get_descriptor(c, s, 3, 2, 255, buf);
  const size_t product = strlen(c->config.product);
  CHECK(n == (int)(2 + 2 * product) && buf[0] == n && buf[1] == 3);
  CHECK(buf[2] == (uint8_t)c->config.product[0] && buf[3] == 0);
  CHECK(buf[n - 2] == (uint8_t)c->config.product[product - 1]);
  n = get_descriptor(c, s, 3, 1, 255, buf);
  CHECK(n == 2 + 2 * 9);
  n = get_descriptor(c, s, 3, 3, 255, buf);
  CHECK(n == 2 + 2 * 16 && buf[2] == '0');

  CHECK(control(c, s, 0x00, 9, 1, 0, 0, NULL) == 0);
  CHECK(s->configured == 1);
  CHECK(s->bulk_out_armed == 1);
  CHECK(control(c, s, 0x80, 8, 0, 0, 1, buf) == 1 && buf[0] == 1);  // GET_CONFIGURATION
}

// What cdc-acm sends when a program opens the tty (DTR and RTS up, the termios line coding).
static void port_open(usb_cdc *c, sim *s, uint32_t baud) {
  CHECK(control(c, s, 0x21, 0x22, 3, 0, 0, NULL) == 0);
  uint8_t coding[7] = {
      (uint8_t)baud, (uint8_t)(baud >> 8), (uint8_t)(baud >> 16), (uint8_t)(baud >> 24), 0, 0, 8};
  CHECK(control(c, s, 0x21, 0x20, 0, 0, 7, coding) == 0);
}

// A device enumerated at `address` with the port open at 115200 baud.
static void open_device(usb_cdc *c, sim *s, uint8_t address) {
  memset(s, 0, sizeof *s);
  usb_cdc_init(c, &kConfig, &kSimOps, s);
  enumerate(c, s, address);
  port_open(c, s, 115200);
}

static void port_close(usb_cdc *c, sim *s) { CHECK(control(c, s, 0x21, 0x22, 0, 0, 0, NULL) == 0); }

static void test_enumeration_and_line(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_init(&c, &kConfig, &kSimOps, &s);
  enumerate(&c, &s, 7);
  CHECK(c.address == 7 && c.configuration == 1);
  CHECK(!usb_cdc_connected(&c));

  uint8_t buf[16];
  port_open(&c, &s, 9600);
  CHECK(usb_cdc_connected(&c));
  CHECK(c.line.baud == 9600 && c.line.data_bits == 8 && c.line.parity == 0);
  CHECK(control(&c, &s, 0xa1, 0x21, 0, 0, 7, buf) == 7);  // GET_LINE_CODING
  CHECK(buf[0] == 0x80 && buf[1] == 0x25 && buf[2] == 0 && buf[6] == 8);
  CHECK(control(&c, &s, 0xa1, 0x21, 0, 0, 4, buf) == 4);     // a short read of it
  CHECK(control(&c, &s, 0x21, 0x23, 250, 0, 0, NULL) == 0);  // SEND_BREAK

  // Open and close three times: DTR follows, every rising edge counted.
  for (int i = 0; i < 3; i++) {
    port_close(&c, &s);
    CHECK(!usb_cdc_connected(&c));
    port_open(&c, &s, 115200);
    CHECK(usb_cdc_connected(&c));
  }
  CHECK(c.opens == 4);
  CHECK(c.line.baud == 115200);
  CHECK(s.oversize == 0);
}

static void test_odd_lengths(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_config config = kConfig;
  config.product = "exactly 31 characters long ....";  // 2 + 62 = 64 bytes: one full packet
  usb_cdc_init(&c, &config, &kSimOps, &s);
  enumerate(&c, &s, 3);
  uint8_t buf[256];

  CHECK(get_descriptor(&c, &s, 1, 0, 8, buf) == 8);  // the first 8 bytes only
  CHECK(buf[0] == 18 && buf[7] == 64);
  CHECK(get_descriptor(&c, &s, 1, 0, 1, buf) == 1);
  CHECK(get_descriptor(&c, &s, 2, 0, 64, buf) == 64);  // wLength reached on a full packet: no ZLP
  CHECK(get_descriptor(&c, &s, 2, 0, 65, buf) == 65);
  CHECK(get_descriptor(&c, &s, 2, 0, 255, buf) == USB_CDC_CONFIG_LENGTH);  // 64 + 3
  CHECK(get_descriptor(&c, &s, 2, 0, 0xffff, buf) == USB_CDC_CONFIG_LENGTH);
  // A 64-byte answer to a longer wLength ends with a ZLP (control() reads it as the short one).
  CHECK(get_descriptor(&c, &s, 3, 2, 255, buf) == 64);
  CHECK(buf[0] == 64 && buf[2] == 'e');
  CHECK(get_descriptor(&c, &s, 3, 2, 64, buf) == 64);  // and without one when wLength is 64
  // wLength 0: no data stage, the device's status ZLP only.
  CHECK(get_descriptor(&c, &s, 1, 0, 0, buf) == 0);
  CHECK(control(&c, &s, 0x80, 0, 0, 0, 2, buf) == 2 && buf[0] == 0 && buf[1] == 0);  // GET_STATUS
  CHECK(control(&c, &s, 0x81, 10, 0, 1, 1, buf) == 1 && buf[0] == 0);  // GET_INTERFACE
  CHECK(control(&c, &s, 0x01, 11, 0, 1, 0, NULL) == 0);                // SET_INTERFACE alt 0
  CHECK(s.oversize == 0);
}

static void test_refused_requests(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_init(&c, &kConfig, &kSimOps, &s);
  uint8_t buf[64] = {0};
  usb_cdc_on_bus_reset(&c);
  // Class requests before SET_CONFIGURATION are refused.
  CHECK(control(&c, &s, 0x21, 0x22, 3, 0, 0, NULL) == STALL);
  enumerate(&c, &s, 9);

  CHECK(get_descriptor(&c, &s, 6, 0, 10, buf) == STALL);       // device qualifier: full speed only
  CHECK(get_descriptor(&c, &s, 7, 0, 9, buf) == STALL);        // other speed configuration
  CHECK(get_descriptor(&c, &s, 3, 4, 255, buf) == STALL);      // no string 4
  CHECK(get_descriptor(&c, &s, 2, 1, 9, buf) == STALL);        // no configuration index 1
  CHECK(control(&c, &s, 0x00, 9, 2, 0, 0, NULL) == STALL);     // SET_CONFIGURATION 2
  CHECK(control(&c, &s, 0x40, 0x01, 0, 0, 0, NULL) == STALL);  // a vendor request
  CHECK(control(&c, &s, 0x00, 3, 1, 0, 0, NULL) == STALL);     // SET_FEATURE remote wakeup
  CHECK(control(&c, &s, 0x00, 5, 200, 0, 0, NULL) == STALL);   // SET_ADDRESS above 127
  CHECK(control(&c, &s, 0x01, 11, 1, 1, 0, NULL) == STALL);    // SET_INTERFACE alt 1
  uint8_t coding[8] = {0x00, 0xc2, 0x01, 0x00, 0, 0, 8, 0};
  CHECK(control(&c, &s, 0x21, 0x20, 0, 0, 8, coding) == STALL);  // SET_LINE_CODING of 8 bytes
  CHECK(control(&c, &s, 0x21, 0x20, 0, 1, 7, coding) == STALL);  // to the data interface
  // After each stall the next SETUP is served: the device is still fine.
  CHECK(get_descriptor(&c, &s, 1, 0, 18, buf) == 18);
  CHECK(c.address == 9 && c.configuration == 1);

  // A host that gives up mid data stage: a new SETUP replaces the transfer.
  uint8_t setup[8];
  setup_bytes(setup, 0x80, 6, 0x0200, 0, 255);
  usb_cdc_on_setup(&c, setup);
  CHECK(s.ep0_in_pending == 1 && s.ep0_in_len == 64);
  s.ep0_in_pending = 0;
  CHECK(get_descriptor(&c, &s, 1, 0, 18, buf) == 18);
  // A SET_LINE_CODING whose data stage comes short: refused, line unchanged.
  uint32_t before = c.line.baud;
  setup_bytes(setup, 0x21, 0x20, 0, 0, 7);
  usb_cdc_on_setup(&c, setup);
  CHECK(s.ep0_out_armed);
  usb_cdc_on_ep0_out(&c, coding, 3);
  CHECK(s.ep0_stalled && c.line.baud == before);
  // Stray completions with nothing in flight change nothing.
  usb_cdc_on_ep0_in_done(&c);
  usb_cdc_on_ep0_out(&c, coding, 7);
  usb_cdc_on_ep_in_done(&c, USB_CDC_EP_IN);
  usb_cdc_on_ep_out(&c, USB_CDC_EP_OUT + 1, coding, 7);
  CHECK(get_descriptor(&c, &s, 1, 0, 18, buf) == 18);
  CHECK(s.oversize == 0);
}

static void test_bulk(void) {
  sim s;
  usb_cdc c;
  open_device(&c, &s, 2);
  uint8_t out[1024], in[1024];
  for (size_t i = 0; i < sizeof out; i++) out[i] = (uint8_t)(i * 7 + 1);
  int ended;

  // Host to device: a line typed at the terminal.
  CHECK(host_write(&c, &s, (const uint8_t *)"hello\r", 6) == 6);
  char line[8] = {0};
  for (int i = 0; i < 6; i++) line[i] = (char)usb_cdc_getc(&c);
  CHECK(strcmp(line, "hello\r") == 0);
  CHECK(usb_cdc_getc(&c) == -1);

  // Flow control: 300 bytes unread fill the 256-byte ring; the rest waits (NAK), none lost.
  CHECK(host_write(&c, &s, out, 300) == 256);
  CHECK(!s.bulk_out_armed);
  for (int i = 0; i < 64; i++) CHECK(usb_cdc_getc(&c) == out[i]);
  CHECK(s.bulk_out_armed == 1);  // room for a packet again
  CHECK(host_write(&c, &s, out + 256, 44) == 44);
  for (int i = 64; i < 300; i++) CHECK(usb_cdc_getc(&c) == out[i]);
  CHECK(c.rx_dropped == 0);

  // Device to host: a short write is one short packet.
  CHECK(usb_cdc_write(&c, out, 10) == 10);
  CHECK(host_read(&c, &s, in, sizeof in, &ended) == 10 && ended);
  CHECK(memcmp(in, out, 10) == 0);
  // Exactly 64 bytes: a full packet, then a ZLP ends the transfer.
  CHECK(usb_cdc_write(&c, out, 64) == 64);
  CHECK(host_read(&c, &s, in, sizeof in, &ended) == 64 && ended);
  CHECK(memcmp(in, out, 64) == 0);
  CHECK(!s.bulk_in_pending);
  // 100 bytes written as 1 + 99: the first byte goes out alone, the rest queue behind it
  // and follow as 64 + 35.
  CHECK(usb_cdc_write(&c, out, 1) == 1);
  CHECK(usb_cdc_write(&c, out + 1, 99) == 99);
  CHECK(host_read(&c, &s, in, sizeof in, &ended) == 1 && ended);
  CHECK(host_read(&c, &s, in + 1, sizeof in, &ended) == 99 && ended);
  CHECK(memcmp(in, out, 100) == 0);
  // More than the ring holds: what fits is taken, the rest is for the caller to retry.
  size_t taken = usb_cdc_write(&c, out, 600);
  CHECK(taken == USB_CDC_TX_SIZE);
  CHECK(host_read(&c, &s, in, sizeof in, &ended) == USB_CDC_TX_SIZE && ended);
  CHECK(memcmp(in, out, USB_CDC_TX_SIZE) == 0);
  CHECK(usb_cdc_tx_pending(&c) == 0);
  CHECK(s.oversize == 0);
}

static void test_halted_endpoint(void) {
  sim s;
  usb_cdc c;
  open_device(&c, &s, 4);
  uint8_t buf[256], in[256];
  int ended;

  CHECK(usb_cdc_write(&c, (const uint8_t *)"abc", 3) == 3);
  CHECK(s.bulk_in_pending == 1);
  // SET_FEATURE(ENDPOINT_HALT) on 0x82: the armed packet is dropped, nothing goes out.
  CHECK(control(&c, &s, 0x02, 3, 0, USB_CDC_EP_IN, 0, NULL) == 0);
  CHECK(s.halt_in && !s.bulk_in_pending);
  CHECK(control(&c, &s, 0x82, 0, 0, USB_CDC_EP_IN, 2, buf) == 2 && buf[0] == 1);  // halted
  CHECK(usb_cdc_write(&c, (const uint8_t *)"def", 3) == 3);
  CHECK(!s.bulk_in_pending);
  // CLEAR_FEATURE: DATA0 again (the controller's), and the queued bytes go out in order.
  CHECK(control(&c, &s, 0x02, 1, 0, USB_CDC_EP_IN, 0, NULL) == 0);
  CHECK(!s.halt_in);
  CHECK(control(&c, &s, 0x82, 0, 0, USB_CDC_EP_IN, 2, buf) == 2 && buf[0] == 0);
  CHECK(host_read(&c, &s, in, sizeof in, &ended) == 6 && ended);
  CHECK(memcmp(in, "abcdef", 6) == 0);

  // The OUT endpoint the same way.
  CHECK(control(&c, &s, 0x02, 3, 0, USB_CDC_EP_OUT, 0, NULL) == 0);
  CHECK(s.halt_out && host_write(&c, &s, (const uint8_t *)"x", 1) == 0);
  CHECK(control(&c, &s, 0x02, 1, 0, USB_CDC_EP_OUT, 0, NULL) == 0);
  CHECK(host_write(&c, &s, (const uint8_t *)"x", 1) == 1 && usb_cdc_getc(&c) == 'x');
  // EP0's halt can be cleared (a no-op) but not set; unknown endpoints are refused.
  CHECK(control(&c, &s, 0x02, 1, 0, 0x00, 0, NULL) == 0);
  CHECK(control(&c, &s, 0x02, 3, 0, 0x00, 0, NULL) == STALL);
  CHECK(control(&c, &s, 0x02, 3, 0, 0x83, 0, NULL) == STALL);
  CHECK(control(&c, &s, 0x82, 0, 0, 0x05, 2, buf) == STALL);

  // A bus reset forgets halts, configuration, queued bytes and the open port.
  CHECK(control(&c, &s, 0x02, 3, 0, USB_CDC_EP_IN, 0, NULL) == 0);
  CHECK(usb_cdc_write(&c, (const uint8_t *)"zz", 2) == 2);
  usb_cdc_on_bus_reset(&c);
  CHECK(!s.configured && c.configuration == 0 && c.halted == 0 && c.address == 0);
  CHECK(!usb_cdc_connected(&c) && usb_cdc_tx_pending(&c) == 0);
  CHECK(usb_cdc_write(&c, (const uint8_t *)"zz", 2) == 0);  // nobody to send to
  enumerate(&c, &s, 5);
  port_open(&c, &s, 115200);
  CHECK(usb_cdc_write(&c, (const uint8_t *)"ok", 2) == 2);
  CHECK(host_read(&c, &s, in, sizeof in, &ended) == 2 && memcmp(in, "ok", 2) == 0);
  // SET_CONFIGURATION 0 then 1 (a driver rebinding): endpoints come back, data flows.
  CHECK(control(&c, &s, 0x00, 9, 0, 0, 0, NULL) == 0);
  CHECK(!s.configured && !usb_cdc_connected(&c));
  CHECK(control(&c, &s, 0x00, 9, 1, 0, 0, NULL) == 0);
  CHECK(s.configured && s.bulk_out_armed);
  CHECK(s.oversize == 0);
}

static void test_desc_walk_rejects(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_init(&c, &kConfig, &kSimOps, &s);
  size_t len;
  const uint8_t *d = usb_cdc_descriptor(&c, 2, 0, &len);
  uint8_t cfg[USB_CDC_CONFIG_LENGTH];
  memcpy(cfg, d, len);
  usb_config_summary sum;
  const char *why = "";
  CHECK(usb_desc_walk(cfg, len, &sum, &why) == 0);
  CHECK(usb_desc_walk(cfg, len - 1, &sum, &why) == -1);  // wTotalLength disagrees
  cfg[4] = 3;
  CHECK(usb_desc_walk(cfg, len, &sum, &why) == -1 && strstr(why, "bNumInterfaces"));
  cfg[4] = 2;
  cfg[9 + 4] = 2;  // interface 0 claims two endpoints
  CHECK(usb_desc_walk(cfg, len, &sum, &why) == -1 && strstr(why, "endpoints"));
  cfg[9 + 4] = 1;
  cfg[9 + 9] = 0;  // a zero bLength would loop for ever in a careless host
  CHECK(usb_desc_walk(cfg, len, &sum, &why) == -1 && strstr(why, "bLength"));
  cfg[9 + 9] = 200;
  CHECK(usb_desc_walk(cfg, len, &sum, &why) == -1 && strstr(why, "past the end"));
  uint8_t setup[8] = {0x80, 6, 0, 1, 0, 0, 18, 0};
  usb_setup parsed;
  CHECK(usb_setup_parse(setup, 7, &parsed) == -1);
  CHECK(usb_setup_parse(setup, 8, &parsed) == 0 && parsed.value == 0x100 && parsed.length == 18);
}

int main(void) {
  test_enumeration_and_line();
  test_odd_lengths();
  test_refused_requests();
  test_bulk();
  test_halted_endpoint();
  test_desc_walk_rejects();
  return finish();
}
