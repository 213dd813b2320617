// RP2350 USB controller (USBCTRL, RP2350 datasheet 12.7) as a full-speed device for the CDC-ACM
// protocol of drivers/usb_cdc.h: it implements usb_dc_ops over the controller's registers and
// dual-port RAM and turns what the controller reports (SIE_STATUS, BUFF_STATUS) into the
// usb_cdc_on_* events. Polled: the caller runs rp2350_usb_poll often (every console call).
// The board hands in the two base addresses and has already taken USBCTRL out of reset and
// started clk_usb at 48 MHz; no board knowledge here.
//
//   rp2350_usb_init(&usb, 0x50110000, 0x50100000, &cdc);
//   usb_cdc_init(&cdc, &identity, &rp2350_usb_ops, &usb);
//   rp2350_usb_connect(&usb);            // pull-up on: the host sees a device
//   for (;;) { rp2350_usb_poll(&usb); ... usb_cdc_getc(&cdc) / usb_cdc_write(&cdc, ..) }
#ifndef DRIVERS_RP2350_USB_H_
#define DRIVERS_RP2350_USB_H_

#include <stdint.h>

#include "drivers/usb_cdc.h"

typedef struct {
  uintptr_t regs;   // USBCTRL_REGS
  uintptr_t dpram;  // USBCTRL_DPRAM (4 KB)
  usb_cdc *cdc;
  uint8_t next_pid[16][2];  // per endpoint and direction (0 = OUT, 1 = IN): DATA0 or DATA1
  uint32_t setups, bus_resets, errors;  // counts for a status line
} rp2350_usb;

extern const usb_dc_ops rp2350_usb_ops;  // ctx: the rp2350_usb

// Device mode, PHY on and out of isolation, VBUS detection forced on (boards without a VBUS
// sense pin), EP0 interrupts per buffer; the pull-up stays off.
void rp2350_usb_init(rp2350_usb *u, uintptr_t regs, uintptr_t dpram, usb_cdc *cdc);
// Pull-up on DP: the host starts enumerating.
void rp2350_usb_connect(rp2350_usb *u);
// Handles every event the controller holds: bus reset, completed buffers, a SETUP packet.
void rp2350_usb_poll(rp2350_usb *u);

#endif  // DRIVERS_RP2350_USB_H_
