// The RP2350 controller driver against a fake USBCTRL (RP2350_USB_FAKE: register reads and
// writes come here; SIE_STATUS and BUFF_STATUS clear on writing 1) and its DPRAM (a host
// array), with the CDC protocol on top. The test plays the controller's part: it puts SETUP
// packets and OUT data into the DPRAM, takes IN data out of it, sets the status bits, and
// checks the words the driver wrote: endpoint and buffer control, PIDs, stalls, the address.
#include "drivers/rp2350_usb.h"

#include <string.h>

#include "common/check.h"
#include "drivers/usb_cdc/testing/usb_host.h"
#include "rp2350_usb_registers.h"

static uint32_t regs[0x120 / 4];
static uint32_t dpram_words[DPRAM_SIZE / 4];
static uint8_t *const dpram = (uint8_t *)dpram_words;
static int available_races;  // AVAILABLE written together with a change of the other bits

static uint32_t *word(uintptr_t a) {
  if (a >= (uintptr_t)regs && a < (uintptr_t)regs + sizeof regs)
    return &regs[(a - (uintptr_t)regs) / 4];
  if (a >= (uintptr_t)dpram && a < (uintptr_t)dpram + DPRAM_SIZE)
    return &dpram_words[(a - (uintptr_t)dpram) / 4];
  return NULL;
}

uint32_t rp2350_usb_fake_read(uintptr_t a) {
  uint32_t *w = word(a);
  CHECK(w != NULL);
  return w ? *w : 0;
}

void rp2350_usb_fake_write(uintptr_t a, uint32_t v) {
  uint32_t *w = word(a);
  CHECK(w != NULL);
  if (!w) return;
  if (w == &regs[USB_SIE_STATUS / 4] || w == &regs[USB_BUFF_STATUS / 4]) {
    *w &= ~v;  // write 1 to clear
    return;
  }
  const uintptr_t off = (uintptr_t)((uint8_t *)w - dpram);
  if (w >= dpram_words && off >= DPRAM_EP0_IN_BUF_CTRL && off < DPRAM_EP0_BUF &&
      (v & BUF_AVAILABLE) && *w != (v & ~BUF_AVAILABLE))
    available_races++;
  *w = v;
}

static rp2350_usb usb;
static usb_cdc cdc;

static uint32_t *buf_ctrl(unsigned ep, int in) {
  return &dpram_words[(DPRAM_EP0_IN_BUF_CTRL + 8 * ep + (in ? 0 : 4)) / 4];
}

static void event(uint32_t sie, uint32_t buff) {
  regs[USB_SIE_STATUS / 4] |= sie;
  regs[USB_BUFF_STATUS / 4] |= buff;
  rp2350_usb_poll(&usb);
  CHECK((regs[USB_SIE_STATUS / 4] & (SIE_STATUS_SETUP_REC | SIE_STATUS_BUS_RESET)) == 0);
  CHECK(regs[USB_BUFF_STATUS / 4] == 0);
}

static void setup(uint8_t rt, uint8_t req, uint16_t value, uint16_t index, uint16_t length) {
  usb_host_setup_packet(dpram + DPRAM_SETUP_PACKET, rt, req, value, index, length);
  event(SIE_STATUS_SETUP_REC, 0);
}

// The controller sends the armed IN packet of `ep`: returns its length (-1 if none armed),
// the data in out[], the PID in *pid.
static int take_in(unsigned ep, uint8_t *out, int *pid) {
  uint32_t *c = buf_ctrl(ep, 1);
  if (!(*c & BUF_AVAILABLE) || !(*c & BUF_FULL)) return -1;
  int len = (int)(*c & BUF_LEN_MASK);
  uint32_t off = ep == 0 ? DPRAM_EP0_BUF : ep == 1 ? DPRAM_EP1_IN_BUF : DPRAM_EP2_IN_BUF;
  memcpy(out, dpram + off, (size_t)len);
  *pid = (*c & BUF_DATA1) ? 1 : 0;
  *c &= ~(BUF_AVAILABLE | BUF_FULL);
  event(0, 1u << (2 * ep));
  return len;
}

// The host's OUT packet lands in the armed buffer of `ep`: 0, or -1 if none was armed.
static int give_out(unsigned ep, const uint8_t *data, size_t len, int *pid) {
  uint32_t *c = buf_ctrl(ep, 0);
  if (!(*c & BUF_AVAILABLE) || (*c & BUF_FULL) || len > (*c & BUF_LEN_MASK)) return -1;
  memcpy(dpram + (ep == 0 ? DPRAM_EP0_BUF : DPRAM_EP2_OUT_BUF), data, len);
  *pid = (*c & BUF_DATA1) ? 1 : 0;
  *c = (*c & ~(BUF_AVAILABLE | BUF_LEN_MASK)) | BUF_FULL | (uint32_t)len;
  event(0, 2u << (2 * ep));
  return 0;
}

static const usb_cdc_config kIdentity = {0x1209, 0x0001, 0x0100, "metalchat", "console", "1", 100};

static void test_bring_up(void) {
  regs[USB_MAIN_CTRL / 4] = MAIN_CTRL_PHY_ISO;  // the reset values
  regs[USB_SIE_CTRL / 4] = SIE_CTRL_PULLDOWN_EN;
  memset(dpram_words, 0xa5, sizeof dpram_words);  // DPRAM holds garbage after power-up
  rp2350_usb_init(&usb, (uintptr_t)regs, (uintptr_t)dpram, &cdc);
  usb_cdc_init(&cdc, &kIdentity, &rp2350_usb_ops, &usb);
  CHECK(regs[USB_MAIN_CTRL / 4] == MAIN_CTRL_CONTROLLER_EN);  // device, PHY not isolated
  CHECK(regs[USB_USB_MUXING / 4] == (USB_MUXING_TO_PHY | USB_MUXING_SOFTCON));
  CHECK(regs[USB_USB_PWR / 4] == (USB_PWR_VBUS_DETECT | USB_PWR_VBUS_DETECT_OVERRIDE_EN));
  CHECK(regs[USB_SIE_CTRL / 4] == SIE_CTRL_EP0_INT_1BUF);  // no pull-up yet, no pull-downs
  for (unsigned off = DPRAM_EP1_IN_CTRL; off < DPRAM_EP0_BUF; off += 4)
    CHECK(dpram_words[off / 4] == 0);
  rp2350_usb_connect(&usb);
  CHECK(regs[USB_SIE_CTRL / 4] == (SIE_CTRL_EP0_INT_1BUF | SIE_CTRL_PULLUP_EN));
}

static void test_enumeration(void) {
  uint8_t in[64];
  int pid = -1;
  event(SIE_STATUS_BUS_RESET, 0);
  CHECK(usb.bus_resets == 1 && regs[USB_ADDR_ENDP / 4] == 0);

  setup(0x80, 6, 0x0100, 0, 64);  // GET_DESCRIPTOR(device), wLength 64, at address 0
  CHECK(take_in(0, in, &pid) == 18);
  CHECK(pid == 1 && in[0] == 18 && in[1] == 1 && in[8] == 0x09 && in[9] == 0x12);
  CHECK(give_out(0, NULL, 0, &pid) == 0 && pid == 1);  // status stage, DATA1
  CHECK(cdc.ep0_state == USB_EP0_IDLE);

  setup(0x00, 5, 12, 0, 0);             // SET_ADDRESS 12
  CHECK(regs[USB_ADDR_ENDP / 4] == 0);  // not before the status stage
  CHECK(take_in(0, in, &pid) == 0 && pid == 1);
  CHECK(regs[USB_ADDR_ENDP / 4] == 12);

  setup(0x80, 6, 0x0200, 0, 255);  // GET_DESCRIPTOR(configuration): 64 + 3, DATA1 then DATA0
  CHECK(take_in(0, in, &pid) == 64 && pid == 1 && in[1] == 2 && in[2] == USB_CDC_CONFIG_LENGTH);
  CHECK(take_in(0, in, &pid) == 3 && pid == 0);
  CHECK(take_in(0, in, &pid) == -1);  // nothing more: the status stage is the host's
  CHECK(give_out(0, NULL, 0, &pid) == 0 && pid == 1);

  setup(0x80, 6, 0x0600, 0, 10);  // device qualifier: STALL both halves of EP0
  CHECK(regs[USB_EP_STALL_ARM / 4] == (EP_STALL_ARM_EP0_IN | EP_STALL_ARM_EP0_OUT));
  CHECK(*buf_ctrl(0, 1) == BUF_STALL && *buf_ctrl(0, 0) == BUF_STALL);
  regs[USB_EP_STALL_ARM / 4] = 0;  // the controller clears it at the next SETUP

  setup(0x00, 9, 1, 0, 0);  // SET_CONFIGURATION 1
  CHECK(take_in(0, in, &pid) == 0 && pid == 1);
  CHECK(cdc.configuration == 1);
  const uint32_t ep1_in = dpram_words[DPRAM_EP1_IN_CTRL / 4];
  const uint32_t ep2_in = dpram_words[(DPRAM_EP1_IN_CTRL + 8) / 4];
  const uint32_t ep2_out = dpram_words[(DPRAM_EP1_IN_CTRL + 12) / 4];
  CHECK(ep1_in == (EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFFER |
                   EP_TYPE_INTERRUPT << EP_CTRL_TYPE_SHIFT | DPRAM_EP1_IN_BUF));
  CHECK(ep2_in == (EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFFER |
                   EP_TYPE_BULK << EP_CTRL_TYPE_SHIFT | DPRAM_EP2_IN_BUF));
  CHECK(ep2_out == (EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFFER |
                    EP_TYPE_BULK << EP_CTRL_TYPE_SHIFT | DPRAM_EP2_OUT_BUF));
  // Buffers 64-byte aligned, past EP0's, apart, inside the DPRAM.
  const uint32_t bufs[3] = {ep1_in & 0xffff, ep2_out & 0xffff, ep2_in & 0xffff};
  for (int i = 0; i < 3; i++) {
    CHECK(bufs[i] % 64 == 0 && bufs[i] >= DPRAM_EP0_BUF + 64 && bufs[i] + 64 <= DPRAM_SIZE);
    for (int j = 0; j < i; j++) CHECK(bufs[i] != bufs[j]);
  }
  CHECK((*buf_ctrl(2, 0) & BUF_AVAILABLE) && (*buf_ctrl(2, 0) & BUF_LEN_MASK) == 64);

  // cdc-acm opens the port.
  setup(0x21, 0x22, 3, 0, 0);
  CHECK(take_in(0, in, &pid) == 0 && pid == 1);
  setup(0x21, 0x20, 0, 0, 7);
  const uint8_t coding[7] = {0x00, 0xc2, 0x01, 0x00, 0, 0, 8};
  CHECK(give_out(0, coding, 7, &pid) == 0 && pid == 1);
  CHECK(take_in(0, in, &pid) == 0 && pid == 1);
  CHECK(cdc.line.baud == 115200 && usb_cdc_connected(&cdc));
}

static void test_bulk_and_halt(void) {
  uint8_t in[64];
  int pid = -1;
  // OUT: DATA0, DATA1, DATA0 ...
  CHECK(give_out(2, (const uint8_t *)"hi", 2, &pid) == 0 && pid == 0);
  CHECK(give_out(2, (const uint8_t *)"!", 1, &pid) == 0 && pid == 1);
  CHECK(usb_cdc_getc(&cdc) == 'h' && usb_cdc_getc(&cdc) == 'i' && usb_cdc_getc(&cdc) == '!');
  CHECK(usb_cdc_getc(&cdc) == -1);
  // IN: the packet in the EP2 IN buffer, alternating PIDs.
  CHECK(usb_cdc_write(&cdc, (const uint8_t *)"abc", 3) == 3);
  CHECK(usb_cdc_write(&cdc, (const uint8_t *)"defg", 4) == 4);
  CHECK(take_in(2, in, &pid) == 3 && pid == 0 && memcmp(in, "abc", 3) == 0);
  CHECK(take_in(2, in, &pid) == 4 && pid == 1 && memcmp(in, "defg", 4) == 0);
  CHECK(take_in(2, in, &pid) == -1);

  // SET_FEATURE(ENDPOINT_HALT, 0x82): STALL in its buffer control; CLEAR: DATA0 again.
  setup(0x02, 3, 0, 0x82, 0);
  CHECK(take_in(0, in, &pid) == 0);
  CHECK(*buf_ctrl(2, 1) == BUF_STALL);
  CHECK(usb_cdc_write(&cdc, (const uint8_t *)"x", 1) == 1);
  CHECK(*buf_ctrl(2, 1) == BUF_STALL);  // nothing armed while halted
  setup(0x02, 1, 0, 0x82, 0);
  CHECK(take_in(0, in, &pid) == 0);
  CHECK(take_in(2, in, &pid) == 1 && pid == 0 && in[0] == 'x');

  // A bus reset: address 0, endpoints off, the protocol unconfigured.
  event(SIE_STATUS_BUS_RESET, 0);
  CHECK(regs[USB_ADDR_ENDP / 4] == 0 && cdc.configuration == 0);
  CHECK(dpram_words[DPRAM_EP1_IN_CTRL / 4] == 0 && dpram_words[(DPRAM_EP1_IN_CTRL + 8) / 4] == 0);
  // Bus errors are counted and cleared, nothing else happens.
  event(0x01000000u, 0);  // CRC error
  CHECK(usb.errors == 1);
  CHECK(available_races == 0);
}

// --- The shared simulated Linux host over this fake controller ------------------------------
// The bus acts as the controller's far side: SETUP into the DPRAM, IN packets taken from armed
// buffers, OUT packets put into them, and the data toggles a host keeps, checked against the
// PIDs the driver put in the buffer control words.
static int host_pid[16][2];  // the host's next PID per endpoint, [ep][1 = IN]
static int pid_errors;

static void rbus_reset(void *ctx) {
  (void)ctx;
  memset(host_pid, 0, sizeof host_pid);
  event(SIE_STATUS_BUS_RESET, 0);
}

static void rbus_setup(void *ctx, const uint8_t packet[8]) {
  (void)ctx;
  regs[USB_EP_STALL_ARM / 4] = 0;  // the controller clears EP0's stall on a SETUP
  host_pid[0][0] = host_pid[0][1] = 1;
  // What the host resets on its side: every toggle at SET_CONFIGURATION, one at CLEAR_FEATURE.
  if (packet[0] == 0x00 && packet[1] == 9) memset(host_pid[1], 0, sizeof host_pid - 8);
  if (packet[0] == 0x02 && packet[1] == 1 && packet[2] == 0)
    host_pid[packet[4] & 15][packet[4] >> 7 & 1] = 0;
  memcpy(dpram + DPRAM_SETUP_PACKET, packet, 8);
  event(SIE_STATUS_SETUP_REC, 0);
}

static int stalled(unsigned ep, int in) {
  if (!(*buf_ctrl(ep, in) & BUF_STALL)) return 0;
  return ep != 0 ||
         (regs[USB_EP_STALL_ARM / 4] & (in ? EP_STALL_ARM_EP0_IN : EP_STALL_ARM_EP0_OUT));
}

static int rbus_in(void *ctx, unsigned ep, uint8_t *data) {
  (void)ctx;
  if (stalled(ep, 1)) return USB_BUS_STALL;
  int pid;
  const int n = take_in(ep, data, &pid);
  if (n < 0) return USB_BUS_NAK;
  pid_errors += pid != host_pid[ep][1];
  host_pid[ep][1] ^= 1;
  return n;
}

static int rbus_out(void *ctx, unsigned ep, const uint8_t *data, size_t len) {
  (void)ctx;
  if (stalled(ep, 0)) return USB_BUS_STALL;
  int pid;
  if (give_out(ep, data, len, &pid) < 0) return USB_BUS_NAK;
  pid_errors += pid != host_pid[ep][0];
  host_pid[ep][0] ^= 1;
  return 0;
}

static void test_linux_host(void) {
  rp2350_usb_init(&usb, (uintptr_t)regs, (uintptr_t)dpram, &cdc);
  usb_cdc_init(&cdc, &kIdentity, &rp2350_usb_ops, &usb);
  rp2350_usb_connect(&usb);
  const usb_bus bus = {NULL, rbus_reset, rbus_setup, rbus_in, rbus_out};
  usb_host_device dev;
  CHECKF(usb_host_enumerate(&bus, 33, &dev) == 0, "%s", usb_host_error());
  CHECK(regs[USB_ADDR_ENDP / 4] == 33 && strcmp(dev.product, "console") == 0);
  CHECK(dev.bulk_in == USB_CDC_EP_IN && dev.bulk_out == USB_CDC_EP_OUT);
  // cdc-acm opens the port; a line typed; a reply of exactly 128 bytes (two full packets, ZLP).
  CHECK(usb_host_control(&bus, 0x21, 0x22, 3, 0, 0, NULL) == 0);
  uint8_t coding[7] = {0x80, 0x25, 0, 0, 0, 0, 8};
  CHECK(usb_host_control(&bus, 0x21, 0x20, 0, 0, 7, coding) == 0);
  CHECK(usb_cdc_connected(&cdc) && cdc.line.baud == 9600);
  CHECK(usb_host_bulk_write(&bus, 2, (const uint8_t *)"ping\r", 5) == 5);
  char line[6] = {0};
  for (int i = 0; i < 5; i++) line[i] = (char)usb_cdc_getc(&cdc);
  CHECK(strcmp(line, "ping\r") == 0);
  uint8_t out[128], in[256];
  for (int i = 0; i < 128; i++) out[i] = (uint8_t)(i * 3);
  CHECK(usb_cdc_write(&cdc, out, 128) == 128);
  int ended;
  CHECK(usb_host_bulk_read(&bus, 2, in, sizeof in, &ended) == 128 && ended);
  CHECK(memcmp(in, out, 128) == 0);
  // A halt and its clearing from the host; the bytes queued meanwhile arrive after it.
  CHECK(usb_host_control(&bus, 0x02, 3, 0, 0x82, 0, NULL) == 0);
  CHECK(usb_cdc_write(&cdc, out, 10) == 10);
  CHECK(usb_host_bulk_read(&bus, 2, in, sizeof in, &ended) == 0);  // STALL
  CHECK(usb_host_control(&bus, 0x02, 1, 0, 0x82, 0, NULL) == 0);
  CHECK(usb_host_bulk_read(&bus, 2, in, sizeof in, &ended) == 10 && ended);
  CHECK(usb_host_get_descriptor(&bus, 6, 0, 10, in) == USB_HOST_STALL);  // device qualifier
  CHECK(usb_host_control(&bus, 0x21, 0x22, 0, 0, 0, NULL) == 0);         // port closed
  CHECK(!usb_cdc_connected(&cdc));
  CHECK(pid_errors == 0);
  CHECK(available_races == 0);
}

int main(void) {
  test_bring_up();
  test_enumeration();
  test_bulk_and_halt();
  test_linux_host();
  return finish();
}
