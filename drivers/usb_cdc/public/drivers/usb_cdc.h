// USB 2.0 full-speed CDC-ACM device (one serial port, /dev/ttyACM0 on Linux) over any device
// controller: descriptors, enumeration (chapter 9 of the USB 2.0 specification), the CDC PSTN
// requests (SET/GET_LINE_CODING, SET_CONTROL_LINE_STATE, SEND_BREAK) and bulk IN/OUT with
// zero-length packets. It knows no controller and no board: the controller driver implements
// usb_dc_ops and reports what happened on the bus through the usb_cdc_on_* calls; the board
// hands in the identity (usb_cdc_config).
//
// Endpoints: EP0 control (64-byte packets), 0x81 interrupt IN (notifications, never sent),
// 0x02 bulk OUT and 0x82 bulk IN (64-byte packets).
//
// Single-threaded: every call comes from one context (a polling loop or the USB interrupt,
// not both). Not reentrant from usb_dc_ops callbacks.
#ifndef DRIVERS_USB_CDC_H_
#define DRIVERS_USB_CDC_H_

#include <stddef.h>
#include <stdint.h>

#include "drivers/usb.h"  // usb_setup, the standard request and descriptor numbers

enum {
  USB_EP0_SIZE = 64,         // bMaxPacketSize0
  USB_CDC_BULK_SIZE = 64,    // wMaxPacketSize of 0x02 and 0x82
  USB_CDC_NOTIFY_SIZE = 16,  // wMaxPacketSize of 0x81
  USB_CDC_EP_NOTIFY = 0x81,
  USB_CDC_EP_OUT = 0x02,
  USB_CDC_EP_IN = 0x82,
  USB_CDC_RX_SIZE = 256,  // bytes the host sent that the application has not read yet
  USB_CDC_TX_SIZE = 512,  // bytes queued for the host
  USB_CDC_CONFIG_LENGTH = 67,
};

// Decodes the 8 bytes of a SETUP packet (little-endian fields) into drivers/usb.h's usb_setup:
// 0, or -1 (out untouched) when len is not 8.
int usb_setup_parse(const uint8_t *bytes, size_t len, usb_setup *out);

// What the protocol asks of the controller. Each call returns at once; completion comes back
// through usb_cdc_on_*. Data toggles are the controller's: EP0 starts each data and status
// stage with DATA1; a bulk endpoint restarts at DATA0 when configured and when its halt is
// cleared (ep_halt(.., 0)).
typedef struct {
  // Send one packet of len <= USB_EP0_SIZE bytes (0: a zero-length packet) on EP0 IN.
  void (*ep0_in)(void *ctx, const uint8_t *data, size_t len);
  // Accept one packet from the host on EP0 OUT (a data stage packet or the status ZLP).
  void (*ep0_out)(void *ctx);
  // STALL both directions of EP0 until the next SETUP (a request error).
  void (*ep0_stall)(void *ctx);
  // Answer to `address` from now on (called after SET_ADDRESS's status stage).
  void (*set_address)(void *ctx, uint8_t address);
  // Enable (1) or disable (0) endpoints 0x81, 0x02 and 0x82 (SET_CONFIGURATION, bus reset).
  void (*configure)(void *ctx, int on);
  // Send one packet of len <= USB_CDC_BULK_SIZE bytes (0: ZLP) on IN endpoint `ep`.
  void (*ep_in)(void *ctx, uint8_t ep, const uint8_t *data, size_t len);
  // Accept one packet of up to USB_CDC_BULK_SIZE bytes on OUT endpoint `ep`.
  void (*ep_out)(void *ctx, uint8_t ep);
  // Halt (1: STALL every token) or resume (0, data toggle back to DATA0) endpoint `ep`.
  void (*ep_halt)(void *ctx, uint8_t ep, int halt);
} usb_dc_ops;

// The device's identity, handed in by the board. Strings are ASCII, at most 63 characters.
typedef struct {
  uint16_t vendor_id, product_id, device_release;  // idVendor, idProduct, bcdDevice
  const char *manufacturer, *product, *serial;     // string descriptors 1, 2, 3
  uint8_t max_power_ma;                            // bMaxPower in mA (even, at most 500/2*2)
} usb_cdc_config;

enum usb_cdc_ep0_state {
  USB_EP0_IDLE,        // waiting for SETUP
  USB_EP0_DATA_IN,     // sending the data stage
  USB_EP0_STATUS_OUT,  // waiting for the host's status ZLP
  USB_EP0_DATA_OUT,    // receiving the data stage
  USB_EP0_STATUS_IN,   // our status ZLP is queued
  USB_EP0_STALLED,     // request refused, until the next SETUP
};

// The line as the host set it (CDC PSTN 6.3.11).
typedef struct {
  uint32_t baud;      // dwDTERate
  uint8_t stop_bits;  // bCharFormat: 0 = 1, 1 = 1.5, 2 = 2
  uint8_t parity;     // bParityType: 0 none, 1 odd, 2 even, 3 mark, 4 space
  uint8_t data_bits;  // bDataBits: 5, 6, 7, 8 or 16
} usb_cdc_line_coding;

typedef struct {
  const usb_dc_ops *ops;
  void *ctx;
  usb_cdc_config config;
  // Chapter 9 state.
  uint8_t address, pending_address, configuration;
  uint8_t halted;  // bit 0: 0x82 halted, bit 1: 0x02 halted, bit 2: 0x81 halted
  // EP0 transfer in progress.
  enum usb_cdc_ep0_state ep0_state;
  usb_setup setup;
  const uint8_t *ep0_data;  // rest of the data stage to send
  size_t ep0_left;          // its bytes (already cut to wLength)
  int ep0_zlp;              // a ZLP must end the data stage (wLength not reached, last full)
  uint8_t ep0_buf[128];     // answers built on the fly (strings, status) and OUT data
  size_t ep0_received;
  // CDC state.
  usb_cdc_line_coding line;
  uint16_t line_state;  // SET_CONTROL_LINE_STATE: bit 0 DTR, bit 1 RTS
  uint32_t opens;       // DTR rising edges seen
  // Bulk OUT: ring of received bytes; the endpoint is re-armed only while a packet fits.
  uint8_t rx[USB_CDC_RX_SIZE];
  uint32_t rx_head, rx_tail;  // free-running: count = head - tail
  int out_armed;
  // Bulk IN: ring of bytes to send, one packet in flight at a time.
  uint8_t tx[USB_CDC_TX_SIZE];
  uint32_t tx_head, tx_tail;
  uint8_t in_packet[USB_CDC_BULK_SIZE];
  size_t in_flight;  // bytes of the packet on the bus (0 with in_busy: a ZLP)
  int in_busy;
  int in_need_zlp;      // the last packet was full and nothing followed: end the transfer
  uint32_t rx_dropped;  // bytes the host sent while the ring was full (never: flow control)
} usb_cdc;

// Starts the protocol detached (address 0, unconfigured). The controller connects the pull-up.
void usb_cdc_init(usb_cdc *c, const usb_cdc_config *config, const usb_dc_ops *ops, void *ctx);

// --- Events from the controller --------------------------------------------------------------
void usb_cdc_on_bus_reset(usb_cdc *c);                      // back to address 0, unconfigured
void usb_cdc_on_setup(usb_cdc *c, const uint8_t setup[8]);  // a SETUP packet arrived on EP0
void usb_cdc_on_ep0_in_done(usb_cdc *c);                    // the EP0 IN packet was acknowledged
void usb_cdc_on_ep0_out(usb_cdc *c, const uint8_t *data, size_t len);  // an EP0 OUT packet
void usb_cdc_on_ep_in_done(usb_cdc *c, uint8_t ep);  // a bulk/interrupt IN packet was ACKed
void usb_cdc_on_ep_out(usb_cdc *c, uint8_t ep, const uint8_t *data, size_t len);

// --- The application's side ------------------------------------------------------------------
// Queues up to len bytes for the host; returns how many fit (0 when not configured).
size_t usb_cdc_write(usb_cdc *c, const uint8_t *data, size_t len);
// The next byte the host sent, or -1 if none is waiting.
int usb_cdc_getc(usb_cdc *c);
// 1 when configured and a program on the host holds the port open (DTR set).
int usb_cdc_connected(const usb_cdc *c);
// Bytes queued for the host and not yet acknowledged.
size_t usb_cdc_tx_pending(const usb_cdc *c);

// --- Descriptors -----------------------------------------------------------------------------
// The descriptor GET_DESCRIPTOR(type, index) answers, whole: its bytes and length, or NULL.
// String descriptors are built in c->ep0_buf.
const uint8_t *usb_cdc_descriptor(usb_cdc *c, uint8_t type, uint8_t index, size_t *len);

// What usb_desc_walk found in a configuration descriptor set.
typedef struct {
  uint8_t interfaces;                       // interface descriptors (alternate setting 0)
  uint8_t endpoints;                        // endpoint descriptors
  uint8_t bulk_in, bulk_out, interrupt_in;  // endpoint addresses found (0 = none)
  uint16_t bulk_in_size, bulk_out_size;
  uint8_t cdc_acm;  // a CDC communications interface with the ACM subclass
} usb_config_summary;

// Checks a configuration descriptor set as a host reads it (bLength >= 2 and inside the buffer,
// wTotalLength equal to len, bNumInterfaces and each bNumEndpoints matching what follows,
// endpoint sizes non-zero) and summarises it. 0, or -1 with a reason in *why.
int usb_desc_walk(const uint8_t *cfg, size_t len, usb_config_summary *out, const char **why);

#endif  // DRIVERS_USB_CDC_H_
