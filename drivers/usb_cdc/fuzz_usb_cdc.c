/* Fuzz target: the CDC-ACM protocol (usb_cdc.c) driven by a host that sends anything, and the
 * configuration-descriptor walk (usb_desc_walk) over the raw input.
 * The input is a script of bus events, one opcode byte each (its low 3 bits):
 *   0 SETUP: the next 8 bytes           4 the bulk IN packet is acknowledged (if one is armed)
 *   1 the EP0 IN packet is acknowledged 5 bus reset
 *   2 EP0 OUT packet: length byte (mod 65), bytes   6 the application writes n (next byte) bytes
 *   3 bulk OUT packet: length byte (mod 65), bytes  7 the application reads n (next byte) bytes
 * Completions arrive only for what the device armed, as a controller would deliver them.
 * Checked (abort on violation): no EP0 packet over 64 bytes and no data stage over wLength;
 * never a second packet armed on an endpoint before the first completed; bulk packets only
 * while configured and not halted, at most 64 bytes; the bytes the host reads on bulk IN are
 * the bytes the application wrote, in order, none lost or doubled (the stream restarts at a bus
 * reset); the bytes the application reads are those the host sent on bulk OUT, in order, with
 * none dropped; the address changes only after SET_ADDRESS's status stage; DTR only when
 * configured. Returns 1 when the device reached the configured state or the walk accepted the
 * input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/usb_cdc.h"

#define FAIL() abort()

typedef struct {
  int ep0_in_pending, ep0_out_armed, bulk_in_pending, bulk_out_armed, configured;
  int halt_in, halt_out;
  size_t ep0_in_len;
  size_t stage_bytes;  // data-stage bytes sent since the last SETUP
  uint16_t w_length;
  int setup_is_in;
  uint8_t bulk_in[USB_CDC_BULK_SIZE];
  size_t bulk_in_len;
  int address_set;
} fake;

static void f_ep0_in(void *ctx, const uint8_t *data, size_t len) {
  fake *f = ctx;
  if (len > USB_EP0_SIZE || f->ep0_in_pending) FAIL();
  if (len && !data) FAIL();
  f->stage_bytes += len;
  if (f->setup_is_in && f->stage_bytes > f->w_length) FAIL();
  if (!f->setup_is_in && len) FAIL();  // an OUT request's only IN packet is the status ZLP
  f->ep0_in_pending = 1;
  f->ep0_in_len = len;
}
static void f_ep0_out(void *ctx) { ((fake *)ctx)->ep0_out_armed = 1; }
static void f_ep0_stall(void *ctx) {
  fake *f = ctx;
  f->ep0_in_pending = f->ep0_out_armed = 0;
}
static void f_set_address(void *ctx, uint8_t address) {
  fake *f = ctx;
  if (address > 127) FAIL();
  f->address_set = 1;
}
static void f_configure(void *ctx, int on) {
  fake *f = ctx;
  f->configured = on;
  f->bulk_in_pending = f->bulk_out_armed = f->halt_in = f->halt_out = 0;
}
static void f_ep_in(void *ctx, uint8_t ep, const uint8_t *data, size_t len) {
  fake *f = ctx;
  if (ep != USB_CDC_EP_IN || len > USB_CDC_BULK_SIZE || !f->configured || f->halt_in ||
      f->bulk_in_pending)
    FAIL();
  memcpy(f->bulk_in, data, len);
  f->bulk_in_len = len;
  f->bulk_in_pending = 1;
}
static void f_ep_out(void *ctx, uint8_t ep) {
  fake *f = ctx;
  if (ep != USB_CDC_EP_OUT || !f->configured || f->halt_out || f->bulk_out_armed) FAIL();
  f->bulk_out_armed = 1;
}
static void f_ep_halt(void *ctx, uint8_t ep, int halt) {
  fake *f = ctx;
  if (!f->configured) FAIL();
  if (ep == USB_CDC_EP_IN) {
    f->halt_in = halt;
    f->bulk_in_pending = 0;
  } else if (ep == USB_CDC_EP_OUT) {
    f->halt_out = halt;
    f->bulk_out_armed = 0;
  } else if (ep != USB_CDC_EP_NOTIFY) {
    FAIL();
  }
}

static const usb_dc_ops kOps = {f_ep0_in,    f_ep0_out, f_ep0_stall, f_set_address,
                                f_configure, f_ep_in,   f_ep_out,    f_ep_halt};

static const uint8_t *in;
static size_t left;
static uint8_t take(void) {
  if (!left) return 0;
  left--;
  return *in++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The walk, over the input as a configuration descriptor set.
  usb_config_summary sum;
  const char *why = NULL;
  int walked = usb_desc_walk(data, size, &sum, &why);
  if (!why || (walked != 0 && walked != -1)) FAIL();
  if (walked == 0 && (sum.endpoints > size / 7 || sum.interfaces > size / 9)) FAIL();

  static fake f;
  static usb_cdc c;
  static const usb_cdc_config config = {0x1209, 0x0001, 0x0100, "m", "metalchat", "1", 100};
  memset(&f, 0, sizeof f);
  usb_cdc_init(&c, &config, &kOps, &f);
  in = data;
  left = size;
  uint8_t next_write = 0, next_read = 0;  // the bulk IN stream: written / read by the host
  static uint8_t sent[4096];              // bulk OUT bytes the application has not read yet
  size_t sent_head = 0, sent_tail = 0;
  int reached = 0;

  while (left) {
    const uint8_t op = take() & 7;
    switch (op) {
      case 0: {
        uint8_t setup[8];
        for (int i = 0; i < 8; i++) setup[i] = take();
        f.ep0_in_pending = f.ep0_out_armed = 0;  // a SETUP cancels EP0's transfer and stall
        f.stage_bytes = 0;
        f.w_length = (uint16_t)(setup[6] | setup[7] << 8);
        f.setup_is_in = (setup[0] & 0x80) && f.w_length;
        f.address_set = 0;
        usb_cdc_on_setup(&c, setup);
        if (f.address_set) FAIL();  // never before the status stage
        break;
      }
      case 1:
        if (f.ep0_in_pending) {
          f.ep0_in_pending = 0;
          usb_cdc_on_ep0_in_done(&c);
        }
        break;
      case 2: {
        uint8_t buf[USB_EP0_SIZE];
        size_t n = take() % (USB_EP0_SIZE + 1);
        for (size_t i = 0; i < n; i++) buf[i] = take();
        if (f.ep0_out_armed) {
          f.ep0_out_armed = 0;
          usb_cdc_on_ep0_out(&c, buf, n);
        }
        break;
      }
      case 3: {
        uint8_t buf[USB_CDC_BULK_SIZE];
        size_t n = take() % (USB_CDC_BULK_SIZE + 1);
        for (size_t i = 0; i < n; i++) buf[i] = take();
        if (f.bulk_out_armed && !f.halt_out) {
          f.bulk_out_armed = 0;
          for (size_t i = 0; i < n; i++) sent[sent_head++ % sizeof sent] = buf[i];
          usb_cdc_on_ep_out(&c, USB_CDC_EP_OUT, buf, n);
          if (c.rx_dropped) FAIL();
        }
        break;
      }
      case 4:
        if (f.bulk_in_pending && !f.halt_in) {
          for (size_t i = 0; i < f.bulk_in_len; i++)
            if (f.bulk_in[i] != next_read++) FAIL();
          f.bulk_in_pending = 0;
          usb_cdc_on_ep_in_done(&c, USB_CDC_EP_IN);
        }
        break;
      case 5:
        f.ep0_in_pending = f.ep0_out_armed = 0;
        usb_cdc_on_bus_reset(&c);
        if (f.configured) FAIL();
        next_read = next_write;  // queued bytes are gone with the host that wanted them
        sent_tail = sent_head;
        break;
      case 6: {
        uint8_t buf[256];
        size_t n = take();
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(next_write + i);
        size_t taken = usb_cdc_write(&c, buf, n);
        if (taken > n || (!c.configuration && taken)) FAIL();
        next_write = (uint8_t)(next_write + taken);
        break;
      }
      default: {
        size_t n = take();
        for (size_t i = 0; i < n; i++) {
          int b = usb_cdc_getc(&c);
          if (b < 0) {
            if (sent_tail != sent_head) FAIL();
            break;
          }
          if (sent_tail == sent_head || b != sent[sent_tail++ % sizeof sent]) FAIL();
        }
        break;
      }
    }
    if (usb_cdc_connected(&c) && !c.configuration) FAIL();
    if (c.configuration != (f.configured ? 1 : 0)) FAIL();
    if (usb_cdc_tx_pending(&c) > USB_CDC_TX_SIZE) FAIL();
    if (c.configuration) reached = 1;
  }
  return reached || walked == 0;
}
