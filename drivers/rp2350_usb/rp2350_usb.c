// RP2350 USBCTRL in device mode (datasheet 12.7: registers, DPRAM layout, buffer control).
#include "drivers/rp2350_usb.h"

#include "rp2350_usb_registers.h"

// --- Register access: MMIO on the board; a test's fake controller with RP2350_USB_FAKE --------
#ifdef RP2350_USB_FAKE
uint32_t rp2350_usb_fake_read(uintptr_t address);
void rp2350_usb_fake_write(uintptr_t address, uint32_t value);
static uint32_t rd(uintptr_t a) { return rp2350_usb_fake_read(a); }
static void wr(uintptr_t a, uint32_t v) { rp2350_usb_fake_write(a, v); }
#else
static uint32_t rd(uintptr_t a) { return *(volatile uint32_t *)a; }
static void wr(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
#endif

static uintptr_t reg(const rp2350_usb *u, uint32_t off) { return u->regs + off; }

// Buffer control word of endpoint `ep` in direction `in` (DPRAM 0x80 + 8 n, OUT at + 4).
static uintptr_t buf_ctrl(const rp2350_usb *u, unsigned ep, int in) {
  return u->dpram + DPRAM_EP0_IN_BUF_CTRL + 8u * ep + (in ? 0u : 4u);
}

// Data buffer of an endpoint (fixed layout, rp2350_usb_registers.h).
static uint32_t buffer_offset(unsigned ep, int in) {
  if (ep == 0) return DPRAM_EP0_BUF;
  if (ep == 1) return DPRAM_EP1_IN_BUF;
  return in ? DPRAM_EP2_IN_BUF : DPRAM_EP2_OUT_BUF;
}

static volatile uint8_t *buffer(const rp2350_usb *u, unsigned ep, int in) {
  return (volatile uint8_t *)(u->dpram + buffer_offset(ep, in));
}

// Hands a buffer to the controller: every field first, AVAILABLE after a pause, because the
// controller runs on clk_usb and may sample the word mid-update otherwise (datasheet 12.7.3.2:
// at least 3 clk_usb cycles; 12 clk_sys cycles cover clk_sys up to 200 MHz).
static void arm(rp2350_usb *u, unsigned ep, int in, uint32_t len) {
  uint32_t v = (len & BUF_LEN_MASK) | (u->next_pid[ep][in] ? BUF_DATA1 : 0) | (in ? BUF_FULL : 0);
  wr(buf_ctrl(u, ep, in), v);
  for (int i = 0; i < 12; i++) __asm__ volatile("nop");
  wr(buf_ctrl(u, ep, in), v | BUF_AVAILABLE);
}

static void send(rp2350_usb *u, unsigned ep, const uint8_t *data, size_t len) {
  volatile uint8_t *b = buffer(u, ep, 1);
  for (size_t i = 0; i < len; i++) b[i] = data[i];
  arm(u, ep, 1, (uint32_t)len);
}

// --- usb_dc_ops ------------------------------------------------------------------------------

static void op_ep0_in(void *ctx, const uint8_t *data, size_t len) { send(ctx, 0, data, len); }

static void op_ep0_out(void *ctx) { arm(ctx, 0, 0, USB_EP0_SIZE); }

static void op_ep0_stall(void *ctx) {
  rp2350_usb *u = ctx;
  // EP_STALL_ARM and the STALL bit together; the controller drops both at the next SETUP.
  wr(reg(u, USB_EP_STALL_ARM), EP_STALL_ARM_EP0_IN | EP_STALL_ARM_EP0_OUT);
  wr(buf_ctrl(u, 0, 1), BUF_STALL);
  wr(buf_ctrl(u, 0, 0), BUF_STALL);
}

static void op_set_address(void *ctx, uint8_t address) {
  rp2350_usb *u = ctx;
  wr(reg(u, USB_ADDR_ENDP), address & ADDR_ENDP_ADDRESS_MASK);
}

// Endpoint control word (DPRAM 0x08 + 8 (n - 1), OUT at + 4) of the CDC endpoints.
static void endpoint(rp2350_usb *u, unsigned ep, int in, uint32_t type, int on) {
  const uintptr_t ctrl = u->dpram + DPRAM_EP1_IN_CTRL + 8u * (ep - 1) + (in ? 0u : 4u);
  wr(buf_ctrl(u, ep, in), 0);
  u->next_pid[ep][in] = 0;
  wr(ctrl, on ? EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFFER | type << EP_CTRL_TYPE_SHIFT |
                    buffer_offset(ep, in)
              : 0);
}

static void op_configure(void *ctx, int on) {
  rp2350_usb *u = ctx;
  endpoint(u, 1, 1, EP_TYPE_INTERRUPT, on);
  endpoint(u, 2, 0, EP_TYPE_BULK, on);
  endpoint(u, 2, 1, EP_TYPE_BULK, on);
}

static void op_ep_in(void *ctx, uint8_t ep, const uint8_t *data, size_t len) {
  send(ctx, ep & 0x0f, data, len);
}

static void op_ep_out(void *ctx, uint8_t ep) { arm(ctx, ep & 0x0f, 0, USB_CDC_BULK_SIZE); }

static void op_ep_halt(void *ctx, uint8_t ep, int halt) {
  rp2350_usb *u = ctx;
  const unsigned n = ep & 0x0f;
  const int in = (ep & 0x80) != 0;
  // Outside EP0 the STALL bit alone stalls every token; clearing restarts at DATA0 (9.4.5).
  wr(buf_ctrl(u, n, in), halt ? BUF_STALL : 0);
  u->next_pid[n][in] = 0;
}

const usb_dc_ops rp2350_usb_ops = {
    op_ep0_in,    op_ep0_out, op_ep0_stall, op_set_address,
    op_configure, op_ep_in,   op_ep_out,    op_ep_halt,
};

// --- Bring-up and events ---------------------------------------------------------------------

void rp2350_usb_init(rp2350_usb *u, uintptr_t regs, uintptr_t dpram, usb_cdc *cdc) {
  u->regs = regs;
  u->dpram = dpram;
  u->cdc = cdc;
  u->setups = u->bus_resets = u->errors = 0;
  for (unsigned ep = 0; ep < 16; ep++) u->next_pid[ep][0] = u->next_pid[ep][1] = 0;
  // Endpoint and buffer control words start cleared (DPRAM is not reset with the controller).
  for (uint32_t off = DPRAM_EP1_IN_CTRL; off < DPRAM_EP0_BUF; off += 4) wr(dpram + off, 0);
  wr(reg(u, USB_USB_MUXING), USB_MUXING_TO_PHY | USB_MUXING_SOFTCON);
  wr(reg(u, USB_USB_PWR), USB_PWR_VBUS_DETECT | USB_PWR_VBUS_DETECT_OVERRIDE_EN);
  wr(reg(u, USB_MAIN_CTRL), MAIN_CTRL_CONTROLLER_EN);  // device mode; PHY_ISO cleared (12.7.2)
  wr(reg(u, USB_SIE_CTRL), SIE_CTRL_EP0_INT_1BUF);     // pull-up off, pull-downs off
  wr(reg(u, USB_ADDR_ENDP), 0);
  wr(reg(u, USB_SIE_STATUS), SIE_STATUS_W1C_ALL);
  wr(reg(u, USB_BUFF_STATUS), 0xffffffffu);
}

void rp2350_usb_connect(rp2350_usb *u) {
  wr(reg(u, USB_SIE_CTRL), rd(reg(u, USB_SIE_CTRL)) | SIE_CTRL_PULLUP_EN);
}

// Buffer `bit` of BUFF_STATUS completed: bit 2 n is endpoint n IN, 2 n + 1 endpoint n OUT.
static void buffer_done(rp2350_usb *u, unsigned bit) {
  const unsigned ep = bit / 2;
  const int in = (bit & 1) == 0;
  const uint32_t ctrl = rd(buf_ctrl(u, ep, in));
  u->next_pid[ep][in] ^= 1;
  if (in) {
    if (ep == 0) {
      usb_cdc_on_ep0_in_done(u->cdc);
    } else {
      usb_cdc_on_ep_in_done(u->cdc, (uint8_t)(0x80 | ep));
    }
    return;
  }
  uint8_t data[USB_EP0_SIZE];
  size_t len = ctrl & BUF_LEN_MASK;
  if (len > sizeof data) len = sizeof data;  // never more than armed; a corrupt word is cut
  const volatile uint8_t *b = buffer(u, ep, 0);
  for (size_t i = 0; i < len; i++) data[i] = b[i];
  if (ep == 0) {
    usb_cdc_on_ep0_out(u->cdc, data, len);
  } else {
    usb_cdc_on_ep_out(u->cdc, (uint8_t)ep, data, len);
  }
}

void rp2350_usb_poll(rp2350_usb *u) {
  uint32_t status = rd(reg(u, USB_SIE_STATUS));
  if (status & SIE_STATUS_ERRORS) {
    u->errors++;  // the controller retries on its own; counted for a status line
    wr(reg(u, USB_SIE_STATUS), status & SIE_STATUS_ERRORS);
  }
  // A bus reset first: whatever completed before it belongs to a host that has started over.
  if (status & SIE_STATUS_BUS_RESET) {
    wr(reg(u, USB_SIE_STATUS), SIE_STATUS_BUS_RESET);
    wr(reg(u, USB_ADDR_ENDP), 0);
    wr(reg(u, USB_BUFF_STATUS), 0xffffffffu);
    for (unsigned ep = 0; ep < 16; ep++) u->next_pid[ep][0] = u->next_pid[ep][1] = 0;
    wr(buf_ctrl(u, 0, 1), 0);
    wr(buf_ctrl(u, 0, 0), 0);
    u->bus_resets++;
    usb_cdc_on_bus_reset(u->cdc);
  }
  // Completed buffers before a new SETUP: they finished earlier.
  uint32_t done = rd(reg(u, USB_BUFF_STATUS));
  for (unsigned bit = 0; done && bit < 32; bit++) {
    const uint32_t mask = 1u << bit;
    if (!(done & mask)) continue;
    done &= ~mask;
    wr(reg(u, USB_BUFF_STATUS), mask);
    buffer_done(u, bit);
  }
  if (status & SIE_STATUS_SETUP_REC) {
    wr(reg(u, USB_SIE_STATUS), SIE_STATUS_SETUP_REC);
    uint8_t setup[8];
    const volatile uint8_t *p = (const volatile uint8_t *)(u->dpram + DPRAM_SETUP_PACKET);
    for (int i = 0; i < 8; i++) setup[i] = p[i];
    u->next_pid[0][0] = u->next_pid[0][1] = 1;  // data and status stages start with DATA1
    wr(buf_ctrl(u, 0, 1), 0);  // a buffer still armed for the old transfer is withdrawn
    wr(buf_ctrl(u, 0, 0), 0);
    u->setups++;
    usb_cdc_on_setup(u->cdc, setup);
  }
}
