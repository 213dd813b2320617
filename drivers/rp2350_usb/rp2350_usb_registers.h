// RP2350 USBCTRL register offsets and bits (datasheet 12.7.5 for USBCTRL_REGS; 12.7.3 for the
// DPRAM layout and the endpoint/buffer control words). Private to the driver and its test.
#ifndef DRIVERS_RP2350_USB_REGISTERS_H_
#define DRIVERS_RP2350_USB_REGISTERS_H_

// USBCTRL_REGS offsets.
enum {
  USB_ADDR_ENDP = 0x00,
  USB_MAIN_CTRL = 0x40,
  USB_SIE_CTRL = 0x4c,
  USB_SIE_STATUS = 0x50,
  USB_BUFF_STATUS = 0x58,
  USB_EP_STALL_ARM = 0x68,
  USB_USB_MUXING = 0x74,
  USB_USB_PWR = 0x78,
};

#define ADDR_ENDP_ADDRESS_MASK 0x7fu
#define MAIN_CTRL_CONTROLLER_EN (1u << 0)
#define MAIN_CTRL_HOST_NDEVICE (1u << 1)
#define MAIN_CTRL_PHY_ISO (1u << 2)  // resets to 1 on the RP2350: must be cleared
#define SIE_CTRL_PULLDOWN_EN (1u << 15)
#define SIE_CTRL_PULLUP_EN (1u << 16)
#define SIE_CTRL_EP0_INT_1BUF (1u << 29)
#define SIE_STATUS_SETUP_REC (1u << 17)
#define SIE_STATUS_BUS_RESET (1u << 19)
// CRC, bit stuff, RX overflow, RX timeout, data sequence errors (24-27, 31).
#define SIE_STATUS_ERRORS 0x8f000000u
#define SIE_STATUS_W1C_ALL 0xff0f0800u  // every write-1-to-clear bit
#define EP_STALL_ARM_EP0_IN (1u << 0)
#define EP_STALL_ARM_EP0_OUT (1u << 1)
#define USB_MUXING_TO_PHY (1u << 0)
#define USB_MUXING_SOFTCON (1u << 3)
#define USB_PWR_VBUS_DETECT (1u << 2)
#define USB_PWR_VBUS_DETECT_OVERRIDE_EN (1u << 3)

// USBCTRL_DPRAM layout (device mode).
enum {
  DPRAM_SETUP_PACKET = 0x000,     // the 8 bytes of the last SETUP
  DPRAM_EP1_IN_CTRL = 0x008,      // endpoint control of EP n IN at 0x008 + 8 (n - 1), OUT + 4
  DPRAM_EP0_IN_BUF_CTRL = 0x080,  // buffer control of EP n IN at 0x080 + 8 n, OUT + 4
  DPRAM_EP0_BUF = 0x100,          // EP0's 64-byte buffer, shared by IN and OUT
  DPRAM_EP1_IN_BUF = 0x180,       // data buffers from 0x180 on, 64-byte aligned (ours:)
  DPRAM_EP2_OUT_BUF = 0x1c0,
  DPRAM_EP2_IN_BUF = 0x200,
  DPRAM_SIZE = 0x1000,
};

// Endpoint control word.
#define EP_CTRL_ENABLE (1u << 31)
#define EP_CTRL_INTERRUPT_PER_BUFFER (1u << 29)
#define EP_CTRL_TYPE_SHIFT 26
#define EP_TYPE_BULK 2u
#define EP_TYPE_INTERRUPT 3u

// Buffer control word (buffer 0 in the low half).
#define BUF_LEN_MASK 0x3ffu
#define BUF_AVAILABLE (1u << 10)
#define BUF_STALL (1u << 11)
#define BUF_DATA1 (1u << 13)
#define BUF_FULL (1u << 15)

#endif  // DRIVERS_RP2350_USB_REGISTERS_H_
