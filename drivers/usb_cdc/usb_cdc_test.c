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
#include "drivers/usb_cdc/testing/usb_host.h"
#include "drivers/usb_cdc_console.h"

// --- The simulated controller: what the protocol put on the bus ------------------------------
typedef struct {
  usb_cdc *cdc;
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
  int misuse;    // a second packet armed over one not yet sent, or IN data left at a status
} sim;

static void sim_ep0_in(void *ctx, const uint8_t *data, size_t len) {
  sim *s = ctx;
  if (len > USB_EP0_SIZE) s->oversize++;
  if (s->ep0_in_pending) s->misuse++;
  s->ep0_in_len = len;
  if (len) memcpy(s->ep0_in, data, len < USB_EP0_SIZE ? len : USB_EP0_SIZE);
  s->ep0_in_pending = 1;
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
  if (s->bulk_in_pending) s->misuse++;
  memcpy(s->bulk_in, data, len);
  s->bulk_in_len = len;
  s->bulk_in_pending = 1;
}
static void sim_ep_out(void *ctx, uint8_t ep) {
  sim *s = ctx;
  if (ep == USB_CDC_EP_OUT && s->configured) {
    if (s->bulk_out_armed) s->misuse++;
    s->bulk_out_armed = 1;
  }
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

// --- The bus the simulated host (testing/usb_host.h) drives: the controller's side ----------
static void bus_reset(void *ctx) {
  sim *s = ctx;
  s->ep0_in_pending = s->ep0_out_armed = s->ep0_stalled = 0;
  usb_cdc_on_bus_reset(s->cdc);
}
static void bus_setup(void *ctx, const uint8_t packet[8]) {
  sim *s = ctx;
  s->ep0_stalled = s->ep0_in_pending = s->ep0_out_armed = 0;  // a SETUP clears EP0's stall
  usb_cdc_on_setup(s->cdc, packet);
}
static int bus_in(void *ctx, unsigned ep, uint8_t *data) {
  sim *s = ctx;
  if (ep == 0) {
    if (s->ep0_stalled) return USB_BUS_STALL;
    if (!s->ep0_in_pending) return USB_BUS_NAK;
    s->ep0_in_pending = 0;
    const size_t n = s->ep0_in_len;  // the device may arm its next packet in on_ep0_in_done
    memcpy(data, s->ep0_in, n);
    usb_cdc_on_ep0_in_done(s->cdc);
    return (int)n;
  }
  if (ep != (USB_CDC_EP_IN & 0x0f) || s->halt_in) return USB_BUS_STALL;
  if (!s->bulk_in_pending) return USB_BUS_NAK;
  s->bulk_in_pending = 0;
  const size_t n = s->bulk_in_len;
  memcpy(data, s->bulk_in, n);
  usb_cdc_on_ep_in_done(s->cdc, USB_CDC_EP_IN);
  return (int)n;
}
static int bus_out(void *ctx, unsigned ep, const uint8_t *data, size_t len) {
  sim *s = ctx;
  if (ep == 0) {
    if (s->ep0_stalled) return USB_BUS_STALL;
    if (!s->ep0_out_armed) return USB_BUS_NAK;
    if (s->ep0_in_pending) s->misuse++;  // an IN packet still armed at the status stage
    s->ep0_out_armed = 0;
    usb_cdc_on_ep0_out(s->cdc, data, len);
    return 0;
  }
  if (ep != USB_CDC_EP_OUT || s->halt_out) return USB_BUS_STALL;
  if (!s->bulk_out_armed) return USB_BUS_NAK;
  s->bulk_out_armed = 0;
  usb_cdc_on_ep_out(s->cdc, USB_CDC_EP_OUT, data, len);
  return 0;
}

static usb_bus bus_of(sim *s) { return (usb_bus){s, bus_reset, bus_setup, bus_in, bus_out}; }

// --- The simulated host's requests -----------------------------------------------------------
enum { STALL = USB_HOST_STALL, PROTOCOL = USB_HOST_PROTOCOL };

static int control(usb_cdc *c, sim *s, uint8_t rt, uint8_t req, uint16_t value, uint16_t index,
                   uint16_t length, uint8_t *data) {
  (void)c;
  const usb_bus bus = bus_of(s);
  const int r = usb_host_control(&bus, rt, req, value, index, length, data);
  CHECKF(r != PROTOCOL, "%s", usb_host_error());
  return r;
}

static int get_descriptor(usb_cdc *c, sim *s, uint8_t type, uint8_t index, uint16_t length,
                          uint8_t *buf) {
  (void)c;
  const usb_bus bus = bus_of(s);
  const int r = usb_host_get_descriptor(&bus, type, index, length, buf);
  CHECKF(r != PROTOCOL, "%s", usb_host_error());
  return r;
}

static size_t host_read(usb_cdc *c, sim *s, uint8_t *buf, size_t max, int *ended) {
  (void)c;
  const usb_bus bus = bus_of(s);
  return usb_host_bulk_read(&bus, USB_CDC_EP_IN & 0x0f, buf, max, ended);
}

static size_t host_write(usb_cdc *c, sim *s, const uint8_t *data, size_t len) {
  (void)c;
  const usb_bus bus = bus_of(s);
  return usb_host_bulk_write(&bus, USB_CDC_EP_OUT, data, len);
}

static const usb_cdc_config kConfig = {
    0x1209, 0x0001, 0x0100, "metalchat", "metalchat console", "0123456789ABCDEF", 100,
};

// Linux's enumeration (usb_host_enumerate) up to SET_CONFIGURATION(1), then what the tests
// expect of it: the address applied, the identity, the endpoints, the configured controller.
static void enumerate(usb_cdc *c, sim *s, uint8_t address) {
  s->cdc = c;
  const usb_bus bus = bus_of(s);
  usb_host_device dev;
  const int r = usb_host_enumerate(&bus, address, &dev);
  CHECKF(r == 0, "%s", usb_host_error());
  CHECK(s->address == address && c->address == address);
  CHECK(dev.device[8] == 0x09 && dev.device[9] == 0x12 && dev.device[10] == 0x01);  // VID, PID
  CHECK(dev.config_length == USB_CDC_CONFIG_LENGTH && dev.config[8] == 50);         // 100 mA
  CHECK(dev.bulk_in == USB_CDC_EP_IN && dev.bulk_out == USB_CDC_EP_OUT);
  CHECK(dev.interrupt_in == USB_CDC_EP_NOTIFY);
  CHECK(strcmp(dev.product, c->config.product) == 0);
  // The class-specific descriptors cdc-acm looks for (CDC 1.2 5.2.3, PSTN 5.3): the union ties
  // interface 0 to data interface 1, ACM supports the line coding and control line requests,
  // call management names the data interface.
  int header = 0, union_ok = 0, acm_ok = 0, call_ok = 0;
  for (size_t pos = 9; pos + 2 < dev.config_length; pos += dev.config[pos]) {
    const uint8_t *d = dev.config + pos;
    if (d[1] != 0x24) continue;
    header += d[2] == 0x00 && d[0] == 5;
    union_ok += d[2] == 0x06 && d[0] == 5 && d[3] == 0 && d[4] == 1;
    acm_ok += d[2] == 0x02 && d[0] == 4 && (d[3] & 0x02);
    call_ok += d[2] == 0x01 && d[0] == 5 && d[4] == 1;
  }
  CHECK(header == 1 && union_ok == 1 && acm_ok == 1 && call_ok == 1);
  CHECK(s->configured == 1 && s->bulk_out_armed == 1);
  uint8_t buf[255];
  CHECK(control(c, s, 0x80, 8, 0, 0, 1, buf) == 1 && buf[0] == 1);  // GET_CONFIGURATION
  // The other strings Linux reads (manufacturer, serial number) with wLength 255.
  const char *strings[2] = {c->config.manufacturer, c->config.serial};
  for (int i = 0; i < 2; i++) {
    const int n = get_descriptor(c, s, 3, (uint8_t)(i == 0 ? 1 : 3), 255, buf);
    CHECK(n == (int)(2 + 2 * strlen(strings[i])));
    CHECK(n > 3 && buf[2] == (uint8_t)strings[i][0] && buf[3] == 0);
  }
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
  s.cdc = &c;
  enumerate(&c, &s, 7);
  CHECK(c.address == 7 && c.configuration == 1);
  CHECK(!usb_cdc_connected(&c));

  // SET_ADDRESS takes effect only once the host has the status stage's ZLP (USB 2.0 9.4.6).
  uint8_t setup[8];
  usb_host_setup_packet(setup, 0x00, 5, 21, 0, 0);
  const usb_bus bus = bus_of(&s);
  bus.setup(bus.ctx, setup);
  CHECK(s.address == 7 && c.address == 7 && s.ep0_in_pending && s.ep0_in_len == 0);
  uint8_t zlp[64];
  CHECK(bus.in(bus.ctx, 0, zlp) == 0);
  CHECK(s.address == 21 && c.address == 21);

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
  CHECK(s.oversize == 0 && s.misuse == 0);
}

static void test_odd_lengths(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_config config = kConfig;
  config.product = "exactly 31 characters long ....";  // 2 + 62 = 64 bytes: one full packet
  usb_cdc_init(&c, &config, &kSimOps, &s);
  s.cdc = &c;
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
  CHECK(s.oversize == 0 && s.misuse == 0);
}

static void test_refused_requests(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_init(&c, &kConfig, &kSimOps, &s);
  s.cdc = &c;
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
  usb_host_setup_packet(setup, 0x80, 6, 0x0200, 0, 255);
  usb_cdc_on_setup(&c, setup);
  CHECK(s.ep0_in_pending == 1 && s.ep0_in_len == 64);
  s.ep0_in_pending = 0;
  CHECK(get_descriptor(&c, &s, 1, 0, 18, buf) == 18);
  // A SET_LINE_CODING whose data stage comes short: refused, line unchanged.
  uint32_t before = c.line.baud;
  usb_host_setup_packet(setup, 0x21, 0x20, 0, 0, 7);
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
  CHECK(s.oversize == 0 && s.misuse == 0);
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
  // 64 bytes then a ZLP (a host that ends transfers of whole packets with one): no byte more.
  const usb_bus bus = bus_of(&s);
  CHECK(host_write(&c, &s, out, 64) == 64);
  CHECK(bus.out(bus.ctx, USB_CDC_EP_OUT, NULL, 0) == 0);
  for (int i = 0; i < 64; i++) CHECK(usb_cdc_getc(&c) == out[i]);
  CHECK(usb_cdc_getc(&c) == -1 && s.bulk_out_armed);

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
  CHECK(s.oversize == 0 && s.misuse == 0);
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
  CHECK(s.oversize == 0 && s.misuse == 0);
}

static void test_desc_walk_rejects(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_init(&c, &kConfig, &kSimOps, &s);
  s.cdc = &c;
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

static int polls;
static void count_poll(void *ctx) {
  (void)ctx;
  polls++;  // the simulated controller works synchronously: nothing to service
}

// Everything the device has queued, over as many bulk transfers as it takes (cdc-acm keeps
// reads posted, so each short packet ends one read and the next read continues).
static size_t drain(usb_cdc *c, sim *s, uint8_t *buf, size_t max) {
  size_t got = 0;
  int ended;
  for (size_t n; (n = host_read(c, s, buf + got, max - got, &ended)) > 0 || ended;) got += n;
  return got;
}

static void console_puts(usb_cdc_console *k, const char *s) {
  while (*s) usb_cdc_console_putc(k, *s++);
}

// The board console over the device: the banner before anyone listens, replayed on open; a
// host that stops reading; close and reopen.
static void test_console(void) {
  sim s = {0};
  usb_cdc c;
  usb_cdc_init(&c, &kConfig, &kSimOps, &s);
  s.cdc = &c;
  usb_cdc_console k;
  usb_cdc_console_init(&k, &c, count_poll, NULL, 1000);
  console_puts(&k, "metalchat: board=rp2350\r\n");  // not even enumerated yet
  enumerate(&c, &s, 6);
  console_puts(&k, "Choose a model (1-2): ");  // enumerated, but no program has the port
  uint8_t in[1024];
  CHECK(drain(&c, &s, in, sizeof in) == 0);
  port_open(&c, &s, 115200);
  CHECK(usb_cdc_console_getc(&k) == -1);  // the poll that sees the open replays the backlog
  const char *both = "metalchat: board=rp2350\r\nChoose a model (1-2): ";
  size_t n = drain(&c, &s, in, sizeof in);
  CHECK(n == strlen(both) && memcmp(in, both, n) == 0);
  // Typed and echoed.
  CHECK(host_write(&c, &s, (const uint8_t *)"1\r", 2) == 2);
  CHECK(usb_cdc_console_getc(&k) == '1' && usb_cdc_console_getc(&k) == '\r');
  usb_cdc_console_putc(&k, '1');
  CHECK(drain(&c, &s, in, sizeof in) == 1 && in[0] == '1');

  // The host stops reading: the queue fills (512), one wait of 1000 polls, then drops.
  const int before = polls;
  for (int i = 0; i < 600; i++) usb_cdc_console_putc(&k, 'x');
  CHECK(k.stalled && k.dropped == 600 - USB_CDC_TX_SIZE);
  CHECK(polls - before == 600 + 1000);  // one poll per byte and one wait, not one per byte
  CHECK(drain(&c, &s, in, sizeof in) == USB_CDC_TX_SIZE);
  usb_cdc_console_putc(&k, 'y');  // the queue moved: output flows again
  CHECK(!k.stalled && drain(&c, &s, in, sizeof in) == 1 && in[0] == 'y');

  // Closed: nothing sent; reopened: the last 512 bytes of output first.
  port_close(&c, &s);
  console_puts(&k, "bye");
  CHECK(drain(&c, &s, in, sizeof in) == 0);
  port_open(&c, &s, 115200);
  CHECK(usb_cdc_console_getc(&k) == -1);
  n = drain(&c, &s, in, sizeof in);
  CHECK(n == USB_CDC_TX_SIZE && memcmp(in + n - 4, "ybye", 4) == 0);
  CHECK(s.oversize == 0 && s.misuse == 0);
}

int main(void) {
  test_enumeration_and_line();
  test_odd_lengths();
  test_refused_requests();
  test_bulk();
  test_halted_endpoint();
  test_desc_walk_rejects();
  test_console();
  return finish();
}
