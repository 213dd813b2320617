// A console byte stream over a CDC-ACM device (usb_cdc.h), for a board's putc/getc: output
// goes to the host only while a program holds the port open (DTR); the last USB_CDC_TX_SIZE
// bytes of output are kept and sent first whenever a program opens the port (the banner and
// prompt printed before anyone listened); a host that keeps the port open but stops reading
// costs one wait of `stall_spins` polls, after which output is dropped until the queue moves.
// Every call services the controller first through the caller's poll function.
#ifndef DRIVERS_USB_CDC_CONSOLE_H_
#define DRIVERS_USB_CDC_CONSOLE_H_

#include <stdint.h>

#include "drivers/usb_cdc.h"

typedef struct {
  usb_cdc *cdc;
  void (*poll)(void *ctx);  // services the controller (e.g. rp2350_usb_poll)
  void *poll_ctx;
  uint32_t stall_spins;
  uint8_t backlog[USB_CDC_TX_SIZE];
  uint32_t backlog_head;  // bytes ever written; the last USB_CDC_TX_SIZE of them are kept
  uint32_t opens_seen;    // usb_cdc.opens when the backlog was last replayed
  int stalled;
  uint32_t dropped;  // bytes not sent to an open port (a host that stopped reading)
} usb_cdc_console;

void usb_cdc_console_init(usb_cdc_console *k, usb_cdc *cdc, void (*poll)(void *ctx), void *poll_ctx,
                          uint32_t stall_spins);
void usb_cdc_console_putc(usb_cdc_console *k, char c);
// A byte the host sent, else -1 at once.
int usb_cdc_console_getc(usb_cdc_console *k);

#endif  // DRIVERS_USB_CDC_CONSOLE_H_
