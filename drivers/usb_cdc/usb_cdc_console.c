// Console byte stream over a CDC-ACM device (usb_cdc_console.h).
#include "drivers/usb_cdc_console.h"

void usb_cdc_console_init(usb_cdc_console *k, usb_cdc *cdc, void (*poll)(void *ctx), void *poll_ctx,
                          uint32_t stall_spins) {
  *k = (usb_cdc_console){0};
  k->cdc = cdc;
  k->poll = poll;
  k->poll_ctx = poll_ctx;
  k->stall_spins = stall_spins;
  k->opens_seen = cdc->opens;
}

// After a poll: a program has just opened the port, so it gets the recent output first.
static void replay_on_open(usb_cdc_console *k) {
  if (k->cdc->opens == k->opens_seen || !usb_cdc_connected(k->cdc)) return;
  k->opens_seen = k->cdc->opens;
  k->stalled = 0;
  const uint32_t kept = k->backlog_head < USB_CDC_TX_SIZE ? k->backlog_head : USB_CDC_TX_SIZE;
  for (uint32_t i = k->backlog_head - kept; i != k->backlog_head; i++) {
    const uint8_t b = k->backlog[i % USB_CDC_TX_SIZE];
    if (usb_cdc_write(k->cdc, &b, 1) != 1) break;  // the queue is full: the rest is lost
  }
}

void usb_cdc_console_putc(usb_cdc_console *k, char c) {
  const uint8_t byte = (uint8_t)c;
  k->poll(k->poll_ctx);
  replay_on_open(k);
  k->backlog[k->backlog_head++ % USB_CDC_TX_SIZE] = byte;
  if (!usb_cdc_connected(k->cdc)) return;  // nobody has the port open
  if (usb_cdc_write(k->cdc, &byte, 1) == 1) {
    k->stalled = 0;
    return;
  }
  if (!k->stalled) {
    for (uint32_t spins = 0; spins < k->stall_spins && usb_cdc_connected(k->cdc); spins++) {
      k->poll(k->poll_ctx);
      if (usb_cdc_write(k->cdc, &byte, 1) == 1) return;
    }
    k->stalled = 1;  // the host stopped reading: drop until the queue moves again
  }
  k->dropped++;
}

int usb_cdc_console_getc(usb_cdc_console *k) {
  k->poll(k->poll_ctx);
  replay_on_open(k);
  return usb_cdc_getc(k->cdc);
}
