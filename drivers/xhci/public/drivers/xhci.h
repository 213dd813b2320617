// xHCI (eXtensible Host Controller Interface 1.x) host controller, polled: reset and start,
// one command ring, one event ring (interrupter 0, no interrupts), scratchpad buffers, and
// one USB device at a time on a root port: port reset, slot and device context, address,
// control transfers on endpoint 0, and two bulk endpoints for a class driver, offered as a
// usb_transport (usb.h). 32- or 64-bit DMA addresses; every wait has a timeout.
//
// The board hands in everything: the register base (PCI BAR 0), DMA memory for rings and
// contexts, how CPU addresses map to bus addresses, a microsecond clock, and cache maintenance
// for controllers that do not snoop the CPU's caches (NULL when they do).
#ifndef DRIVERS_XHCI_H_
#define DRIVERS_XHCI_H_

#include <stddef.h>
#include <stdint.h>

#include "drivers/usb.h"

#define XHCI_DMA_BYTES (64u * 1024u)  // DMA memory needed, plus one page per scratchpad buffer
#define XHCI_RING_TRBS 64u            // TRBs per ring (the last one links back)

typedef struct xhci_config {
  uintptr_t base;  // capability registers, CPU address
  void *dma;       // DMA memory: XHCI_DMA_BYTES + scratchpads, 4 KiB aligned
  size_t dma_size;
  uint64_t dma_offset;  // bus address = CPU address + dma_offset (every buffer, data too)
  uint64_t (*now_us)(void);
  // Cache maintenance by CPU address range; NULL for a coherent controller. clean: before the
  // controller reads memory the CPU wrote. invalidate: before the CPU reads memory the
  // controller wrote (it must not lose the CPU's dirty bytes around the range: clean+invalidate).
  void (*clean)(const void *p, size_t n);
  void (*invalidate)(const void *p, size_t n);
} xhci_config;

typedef struct xhci_ring {
  volatile uint32_t *trb;  // XHCI_RING_TRBS TRBs of 4 words
  uint32_t enqueue;
  uint32_t cycle;
} xhci_ring;

typedef struct xhci {
  xhci_config c;
  uintptr_t op, rt, db;  // operational, runtime, doorbell registers
  uint32_t ports, slots, context_size, scratchpads;
  int ac64;
  uint8_t *next_dma, *end_dma;
  volatile uint64_t *dcbaa;
  xhci_ring cmd, ep0, bulk_in, bulk_out;
  volatile uint32_t *events;  // XHCI_RING_TRBS event TRBs
  uint32_t event_dequeue, event_cycle;
  volatile uint32_t *input, *output;  // input context, output device context
  // the device on a port
  int slot, port, speed;
  uint16_t max_packet0;
  int dci_in, dci_out;
  uint8_t addr_in, addr_out;                      // endpoint addresses, for CLEAR_FEATURE
  const char *error;                              // the last failure in words
  uint8_t desc[64] __attribute__((aligned(64)));  // the first bytes of the device descriptor
} xhci;

// Halts and resets the controller, lays out its memory and starts it. Returns a usb_status;
// x->error says why on failure.
int xhci_init(xhci *x, const xhci_config *config);

// Root ports (1..x->ports) with something connected, as a bit mask (bit p-1 for port p).
uint32_t xhci_connected(xhci *x);

// Resets port (1..ports), enables a slot and addresses the device connected there (releasing
// the previous device's slot), then reads the device descriptor's first 8 bytes to learn
// endpoint 0's packet size. Afterwards xhci_transport's control pipe works.
int xhci_open_port(xhci *x, int port);

// The device as a usb_transport: control on endpoint 0, bulk on the endpoints opened by
// xhci_configure (a usb_msc_configure_fn: ctx is the xhci).
usb_transport xhci_transport(xhci *x);
int xhci_configure(void *ctx, const usb_msc_choice *choice);

// Port speed names by PORTSC speed id ("high", "super", ...).
const char *xhci_speed_name(int speed);

#endif  // DRIVERS_XHCI_H_
