// The RP2350 boards' USB console: a CDC-ACM serial port (drivers/usb_cdc) on the chip's USB
// controller (drivers/rp2350_usb), so the board shows up as /dev/ttyACM0 on Linux, beside
// UART0. Polled: every call below services the controller first.
#ifndef PLATFORMS_RP2350_USB_CONSOLE_H_
#define PLATFORMS_RP2350_USB_CONSOLE_H_

// PLL_USB to 48 MHz from the 12 MHz crystal (XOSC must be running), clk_usb from it, USBCTRL
// out of reset, the CDC-ACM device connected (pull-up on).
void usb_console_init(void);
// One byte to the host while a program holds the port open (DTR set), with the last 512 bytes
// of output replayed when a program opens it and output dropped after a host stops reading
// (drivers/usb_cdc_console.h; about a second of waiting, then no more waits).
void usb_console_putc(char c);
// A byte the host sent, else -1 at once.
int usb_console_getc(void);

#endif  // PLATFORMS_RP2350_USB_CONSOLE_H_
