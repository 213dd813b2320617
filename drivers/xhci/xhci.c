// xHCI host controller, polled (xhci.h). Register and structure layouts: xHCI 1.2, chapters 4-6.
#include "drivers/xhci.h"

enum {
  // capability registers
  CAP_LENGTH = 0x00,
  CAP_HCSPARAMS1 = 0x04,
  CAP_HCSPARAMS2 = 0x08,
  CAP_HCCPARAMS1 = 0x10,
  CAP_DBOFF = 0x14,
  CAP_RTSOFF = 0x18,
  // operational registers
  OP_USBCMD = 0x00,
  OP_USBSTS = 0x04,
  OP_PAGESIZE = 0x08,
  OP_CRCR = 0x18,
  OP_DCBAAP = 0x30,
  OP_CONFIG = 0x38,
  OP_PORTSC = 0x400,  // + 0x10 * (port - 1)
  CMD_RUN = 1u << 0,
  CMD_RESET = 1u << 1,
  STS_HALTED = 1u << 0,
  STS_NOT_READY = 1u << 11,
  // PORTSC
  PORT_CONNECTED = 1u << 0,
  PORT_ENABLED = 1u << 1,
  PORT_RESET = 1u << 4,
  PORT_POWER = 1u << 9,
  PORT_RESET_CHANGE = 1u << 21,
  PORT_CHANGES = 0x7fu << 17,                       // write-1-to-clear change bits
  PORT_KEEP = (1u << 9) | (3u << 14) | (7u << 25),  // PP, PIC, WCE/WDE/WOE
  // runtime registers, interrupter 0
  RT_IMAN = 0x20,
  RT_ERSTSZ = 0x28,
  RT_ERSTBA = 0x30,
  RT_ERDP = 0x38,
  ERDP_BUSY = 1u << 3,
  // TRB types
  TRB_NORMAL = 1,
  TRB_SETUP = 2,
  TRB_DATA = 3,
  TRB_STATUS = 4,
  TRB_LINK = 6,
  TRB_ENABLE_SLOT = 9,
  TRB_DISABLE_SLOT = 10,
  TRB_ADDRESS_DEVICE = 11,
  TRB_CONFIGURE_ENDPOINT = 12,
  TRB_EVALUATE_CONTEXT = 13,
  TRB_RESET_ENDPOINT = 14,
  TRB_STOP_ENDPOINT = 15,
  TRB_SET_DEQUEUE = 16,
  TRB_TRANSFER_EVENT = 32,
  TRB_COMMAND_COMPLETION = 33,
  // TRB control bits
  TRB_CYCLE = 1u << 0,
  TRB_TOGGLE = 1u << 1,  // link: toggle cycle
  TRB_ISP = 1u << 2,
  TRB_CHAIN = 1u << 4,
  TRB_IOC = 1u << 5,
  TRB_IDT = 1u << 6,
  TRB_DIR_IN = 1u << 16,
  // completion codes
  CC_SUCCESS = 1,
  CC_BABBLE = 3,
  CC_TRANSACTION = 4,
  CC_STALL = 6,
  CC_SHORT_PACKET = 13,
  // endpoint context
  EP_CONTROL = 4,
  EP_BULK_OUT = 2,
  EP_BULK_IN = 6,
  EP_STATE_HALTED = 2,
  // timeouts
  RESET_US = 1000000,
  COMMAND_US = 500000,
  PORT_RESET_US = 500000,
  CONTROL_US = 1000000,
  BULK_US = 5000000,
  MAX_TRB_BYTES = 65536,
};

static inline uint32_t rd32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void wr64(uintptr_t a, uint64_t v) {
  wr32(a, (uint32_t)v);
  wr32(a + 4, (uint32_t)(v >> 32));
}
static inline void barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#if defined(__aarch64__)
static inline void dma_barrier(void) { __asm__ volatile("dsb sy" ::: "memory"); }
#else
static inline void dma_barrier(void) { barrier(); }
#endif

static uint64_t bus(const xhci *x, const volatile void *p) {
  return (uint64_t)(uintptr_t)p + x->c.dma_offset;
}
static void clean(const xhci *x, const volatile void *p, size_t n) {
  if (x->c.clean) x->c.clean((const void *)p, n);
  dma_barrier();
}
static void invalidate(const xhci *x, const volatile void *p, size_t n) {
  if (x->c.invalidate) x->c.invalidate((const void *)p, n);
}

static int fail(xhci *x, const char *why, int status) {
  x->error = why;
  return status;
}

// Waits until (reg & mask) == want; 1 when it did in time.
static int wait_reg(xhci *x, uintptr_t reg, uint32_t mask, uint32_t want, uint64_t timeout_us) {
  uint64_t start = x->c.now_us();
  for (;;) {
    if ((rd32(reg) & mask) == want) return 1;
    if (x->c.now_us() - start > timeout_us) return 0;
  }
}

// Bump allocation from the DMA memory: zeroed, aligned (a power of two).
static void *alloc(xhci *x, size_t size, size_t align) {
  uintptr_t at = ((uintptr_t)x->next_dma + align - 1) & ~(uintptr_t)(align - 1);
  if (at + size > (uintptr_t)x->end_dma || at + size < at) return 0;
  x->next_dma = (uint8_t *)(at + size);
  for (size_t i = 0; i < size; i++) ((volatile uint8_t *)at)[i] = 0;
  return (void *)at;
}

// --- rings ---

static void ring_reset(xhci *x, xhci_ring *r) {
  for (uint32_t i = 0; i < XHCI_RING_TRBS * 4; i++) r->trb[i] = 0;
  volatile uint32_t *link = r->trb + (XHCI_RING_TRBS - 1) * 4;
  uint64_t start = bus(x, r->trb);
  link[0] = (uint32_t)start;
  link[1] = (uint32_t)(start >> 32);
  link[3] = TRB_LINK << 10 | TRB_TOGGLE;
  r->enqueue = 0;
  r->cycle = 1;
  clean(x, r->trb, XHCI_RING_TRBS * 16);
}

static int ring_alloc(xhci *x, xhci_ring *r) {
  // aligned to its size: never crosses a 64 KiB boundary
  r->trb = alloc(x, XHCI_RING_TRBS * 16, XHCI_RING_TRBS * 16);
  if (!r->trb) return -1;
  ring_reset(x, r);
  return 0;
}

// Writes one TRB (the cycle bit last) and returns its bus address.
static uint64_t push(xhci *x, xhci_ring *r, uint64_t param, uint32_t status, uint32_t control) {
  volatile uint32_t *t = r->trb + r->enqueue * 4;
  uint64_t at = bus(x, t);
  t[0] = (uint32_t)param;
  t[1] = (uint32_t)(param >> 32);
  t[2] = status;
  barrier();
  t[3] = (control & ~TRB_CYCLE) | r->cycle;
  clean(x, t, 16);
  if (++r->enqueue == XHCI_RING_TRBS - 1) {
    volatile uint32_t *link = r->trb + r->enqueue * 4;
    // the link carries the chain bit of a TD that continues past it
    link[3] = TRB_LINK << 10 | TRB_TOGGLE | (control & TRB_CHAIN) | r->cycle;
    clean(x, link, 16);
    r->enqueue = 0;
    r->cycle ^= 1;
  }
  return at;
}

// --- events ---

// The next event within the timeout: 1 (ev filled) or 0.
static int next_event(xhci *x, uint32_t ev[4], uint64_t start, uint64_t timeout_us) {
  for (;;) {
    volatile uint32_t *e = x->events + x->event_dequeue * 4;
    invalidate(x, e, 16);
    if ((e[3] & TRB_CYCLE) == x->event_cycle) {
      barrier();
      for (int i = 0; i < 4; i++) ev[i] = e[i];
      if (++x->event_dequeue == XHCI_RING_TRBS) {
        x->event_dequeue = 0;
        x->event_cycle ^= 1;
      }
      wr64(x->rt + RT_ERDP, bus(x, x->events + x->event_dequeue * 4) | ERDP_BUSY);
      return 1;
    }
    if (x->c.now_us() - start > timeout_us) return 0;
  }
}

static uint64_t event_trb(const uint32_t ev[4]) { return ev[0] | (uint64_t)ev[1] << 32; }
static int event_type(const uint32_t ev[4]) { return (ev[3] >> 10) & 0x3f; }
static int event_code(const uint32_t ev[4]) { return ev[2] >> 24; }

// Runs a command; returns its completion code (0 on timeout), *slot the slot id it reports.
static int command(xhci *x, uint64_t param, uint32_t control, int *slot) {
  uint64_t at = push(x, &x->cmd, param, 0, control);
  wr32(x->db, 0);
  uint64_t start = x->c.now_us();
  uint32_t ev[4];
  while (next_event(x, ev, start, COMMAND_US)) {
    if (event_type(ev) == TRB_COMMAND_COMPLETION && event_trb(ev) == at) {
      if (slot) *slot = (int)(ev[3] >> 24);
      return event_code(ev);
    }
  }
  return 0;
}

// --- contexts ---

static volatile uint32_t *input_ctx(xhci *x, int index) {  // 0 control, 1 slot, 1 + dci
  return x->input + index * (x->context_size / 4);
}
static volatile uint32_t *output_ctx(xhci *x, int dci) {  // 0 slot, dci
  return x->output + dci * (x->context_size / 4);
}

static void clear_input(xhci *x) {
  for (uint32_t i = 0; i < 33 * x->context_size / 4; i++) x->input[i] = 0;
}

static void endpoint_ctx(xhci *x, int dci, int type, uint16_t max_packet, int burst, xhci_ring *r,
                         uint32_t avg) {
  volatile uint32_t *ep = input_ctx(x, 1 + dci);
  ep[0] = 0;
  ep[1] = 3u << 1 | (uint32_t)type << 3 | (uint32_t)burst << 8 | (uint32_t)max_packet << 16;
  uint64_t deq = bus(x, r->trb + r->enqueue * 4) | r->cycle;
  ep[2] = (uint32_t)deq;
  ep[3] = (uint32_t)(deq >> 32);
  ep[4] = avg;
}

// --- init ---

// USB legacy support: ask the firmware to hand the controller over (xHCI 7.1).
static void take_ownership(xhci *x, uint32_t hccparams1) {
  uintptr_t cap = x->c.base + ((hccparams1 >> 16) << 2);
  for (int n = 0; cap != x->c.base && n < 64; n++) {
    uint32_t v = rd32(cap);
    if ((v & 0xff) == 1) {
      wr32(cap, v | 1u << 24);
      wait_reg(x, cap, 1u << 16, 0, RESET_US);
      return;
    }
    uint32_t next = (v >> 8) & 0xff;
    if (!next) return;
    cap += next << 2;
  }
}

int xhci_init(xhci *x, const xhci_config *config) {
  x->c = *config;
  x->error = 0;
  x->slot = 0;
  uintptr_t b = config->base;
  uint32_t hcs1 = rd32(b + CAP_HCSPARAMS1), hcs2 = rd32(b + CAP_HCSPARAMS2);
  uint32_t hcc1 = rd32(b + CAP_HCCPARAMS1);
  if (hcs1 == 0xffffffffu) return fail(x, "no controller answers at its registers", USB_ERR_IO);
  x->op = b + (rd32(b + CAP_LENGTH) & 0xff);
  x->rt = b + (rd32(b + CAP_RTSOFF) & ~0x1fu);
  x->db = b + (rd32(b + CAP_DBOFF) & ~0x3u);
  x->ports = hcs1 >> 24;
  x->slots = hcs1 & 0xff;
  x->context_size = (hcc1 & (1u << 2)) ? 64 : 32;
  x->ac64 = hcc1 & 1;
  x->scratchpads = ((hcs2 >> 21) & 0x1f) << 5 | ((hcs2 >> 27) & 0x1f);
  take_ownership(x, hcc1);
  if (!wait_reg(x, x->op + OP_USBSTS, STS_NOT_READY, 0, RESET_US))
    return fail(x, "controller not ready", USB_ERR_TIMEOUT);
  wr32(x->op + OP_USBCMD, rd32(x->op + OP_USBCMD) & ~CMD_RUN);
  if (!wait_reg(x, x->op + OP_USBSTS, STS_HALTED, STS_HALTED, RESET_US))
    return fail(x, "controller does not halt", USB_ERR_TIMEOUT);
  wr32(x->op + OP_USBCMD, CMD_RESET);
  if (!wait_reg(x, x->op + OP_USBCMD, CMD_RESET, 0, RESET_US) ||
      !wait_reg(x, x->op + OP_USBSTS, STS_NOT_READY, 0, RESET_US))
    return fail(x, "controller reset timed out", USB_ERR_TIMEOUT);
  if (!(rd32(x->op + OP_PAGESIZE) & 1)) return fail(x, "controller lacks 4 KiB pages", USB_ERR_IO);

  x->next_dma = config->dma;
  x->end_dma = (uint8_t *)config->dma + config->dma_size;
  uint64_t last = bus(x, x->end_dma - 1);
  if (!x->ac64 && last >> 32)
    return fail(x, "DMA memory above 4 GB for a 32-bit controller", USB_ERR_RESOURCES);
  uint32_t slots = x->slots < 8 ? x->slots : 8;
  x->dcbaa = alloc(x, 256 * 8, 64);
  x->events = alloc(x, XHCI_RING_TRBS * 16, XHCI_RING_TRBS * 16);
  volatile uint32_t *erst = alloc(x, 64, 64);
  x->input = alloc(x, 33 * x->context_size, 64);
  x->output = alloc(x, 32 * x->context_size, 64);
  if (!x->dcbaa || !x->events || !erst || !x->input || !x->output || ring_alloc(x, &x->cmd) ||
      ring_alloc(x, &x->ep0) || ring_alloc(x, &x->bulk_in) || ring_alloc(x, &x->bulk_out))
    return fail(x, "too little DMA memory", USB_ERR_RESOURCES);
  if (x->scratchpads) {
    volatile uint64_t *array = alloc(x, x->scratchpads * 8, 64);
    if (!array) return fail(x, "too little DMA memory for scratchpads", USB_ERR_RESOURCES);
    for (uint32_t i = 0; i < x->scratchpads; i++) {
      void *page = alloc(x, 4096, 4096);
      if (!page) return fail(x, "too little DMA memory for scratchpads", USB_ERR_RESOURCES);
      array[i] = bus(x, page);
    }
    clean(x, array, x->scratchpads * 8);
    x->dcbaa[0] = bus(x, array);
  }
  clean(x, x->dcbaa, 256 * 8);
  // one event ring segment
  uint64_t events = bus(x, x->events);
  erst[0] = (uint32_t)events;
  erst[1] = (uint32_t)(events >> 32);
  erst[2] = XHCI_RING_TRBS;
  clean(x, erst, 16);
  clean(x, x->events, XHCI_RING_TRBS * 16);
  x->event_dequeue = 0;
  x->event_cycle = 1;

  wr32(x->op + OP_CONFIG, (rd32(x->op + OP_CONFIG) & ~0xffu) | slots);
  wr64(x->op + OP_DCBAAP, bus(x, x->dcbaa));
  wr64(x->op + OP_CRCR, bus(x, x->cmd.trb) | 1);
  wr32(x->rt + RT_ERSTSZ, 1);
  wr64(x->rt + RT_ERDP, events);
  wr64(x->rt + RT_ERSTBA, bus(x, erst));
  wr32(x->rt + RT_IMAN, 1);  // clear a pending flag; interrupts stay off
  wr32(x->op + OP_USBCMD, CMD_RUN);
  if (!wait_reg(x, x->op + OP_USBSTS, STS_HALTED, 0, RESET_US))
    return fail(x, "controller does not start", USB_ERR_TIMEOUT);
  for (uint32_t p = 1; p <= x->ports; p++) {  // power every port (no-op without power switches)
    uintptr_t sc = x->op + OP_PORTSC + 0x10 * (p - 1);
    uint32_t v = rd32(sc);
    if (!(v & PORT_POWER)) wr32(sc, (v & PORT_KEEP) | PORT_POWER);
  }
  return USB_OK;
}

uint32_t xhci_connected(xhci *x) {
  uint32_t mask = 0;
  for (uint32_t p = 1; p <= x->ports && p <= 32; p++)
    if (rd32(x->op + OP_PORTSC + 0x10 * (p - 1)) & PORT_CONNECTED) mask |= 1u << (p - 1);
  return mask;
}

const char *xhci_speed_name(int speed) {
  static const char *names[] = {"?", "full", "low", "high", "super", "super+"};
  return speed >= 1 && speed <= 5 ? names[speed] : names[0];
}

// --- transfers ---

// Gets the endpoint going again after an error: Reset Endpoint when halted, then the dequeue
// pointer moved past what is on the ring.
static int restart_endpoint(xhci *x, xhci_ring *r, int dci) {
  volatile uint32_t *ep = output_ctx(x, dci);
  invalidate(x, ep, 16);
  uint32_t state = ep[0] & 7;
  uint32_t target = (uint32_t)x->slot << 24 | (uint32_t)dci << 16;
  if (state == EP_STATE_HALTED)
    command(x, 0, TRB_RESET_ENDPOINT << 10 | target, 0);
  else if (state == 1)
    command(x, 0, TRB_STOP_ENDPOINT << 10 | target, 0);  // running
  uint64_t deq = bus(x, r->trb + r->enqueue * 4) | r->cycle;
  int cc = command(x, deq, TRB_SET_DEQUEUE << 10 | target, 0);
  return cc == CC_SUCCESS ? USB_OK : USB_ERR_IO;
}

static int usb_error_of(int cc) {
  return cc == CC_STALL ? USB_ERR_STALL : cc == 0 ? USB_ERR_TIMEOUT : USB_ERR_IO;
}

// Waits for the end of the TD whose TRBs lie at bus addresses [first, last]: the event of the
// last TRB, or a short packet / error on any. *residual_at: bytes not moved by the TRB the
// event names, at *where. Returns the completion code, 0 on timeout.
static int wait_td(xhci *x, int dci, uint64_t first, uint64_t last, uint64_t timeout_us,
                   uint64_t *where, uint32_t *residual) {
  uint64_t start = x->c.now_us();
  uint32_t ev[4];
  while (next_event(x, ev, start, timeout_us)) {
    if (event_type(ev) != TRB_TRANSFER_EVENT || (int)(ev[3] >> 24) != x->slot ||
        (int)((ev[3] >> 16) & 0x1f) != dci)
      continue;
    uint64_t at = event_trb(ev);
    int in_td = first <= last ? at >= first && at <= last : at >= first || at <= last;
    if (!in_td) continue;  // a late event of an earlier TD
    *where = at;
    *residual = ev[2] & 0xffffff;
    int cc = event_code(ev);
    if (cc == CC_SUCCESS && at != last) continue;  // an event mid-TD (not asked for)
    return cc;
  }
  return 0;
}

static int control(void *ctx, const usb_setup *s, void *data, uint32_t *actual) {
  xhci *x = ctx;
  *actual = 0;
  if (!x->slot) return USB_ERR_NO_DEVICE;
  int in = (s->request_type & 0x80) != 0;
  uint32_t len = s->length;
  if (len && !data) return USB_ERR_IO;
  if (len) (in ? invalidate : clean)(x, data, len);
  uint64_t setup = s->request_type | (uint32_t)s->request << 8 | (uint32_t)s->value << 16 |
                   (uint64_t)s->index << 32 | (uint64_t)s->length << 48;
  uint32_t trt = len ? (in ? 3u : 2u) : 0u;
  uint64_t first = push(x, &x->ep0, setup, 8, TRB_SETUP << 10 | TRB_IDT | trt << 16);
  uint64_t data_trb = 0;
  if (len)
    data_trb =
        push(x, &x->ep0, bus(x, data), len, TRB_DATA << 10 | TRB_ISP | (in ? TRB_DIR_IN : 0));
  uint32_t status_dir = (len && in) ? 0 : TRB_DIR_IN;
  uint64_t last = push(x, &x->ep0, 0, 0, TRB_STATUS << 10 | TRB_IOC | status_dir);
  wr32(x->db + 4 * (uint32_t)x->slot, 1);
  uint64_t where;
  uint32_t residual;
  uint32_t moved = len;
  int cc = wait_td(x, 1, first, last, CONTROL_US, &where, &residual);
  if (cc == CC_SHORT_PACKET && where == data_trb) {
    moved = len - (residual < len ? residual : len);
    cc = wait_td(x, 1, first, last, CONTROL_US, &where, &residual);  // the status stage
  }
  if (cc != CC_SUCCESS) {
    restart_endpoint(x, &x->ep0, 1);
    return usb_error_of(cc);
  }
  if (len && in) invalidate(x, data, len);
  *actual = moved;
  return USB_OK;
}

static int bulk(void *ctx, int in, void *data, uint32_t len, uint32_t *actual) {
  xhci *x = ctx;
  *actual = 0;
  int dci = in ? x->dci_in : x->dci_out;
  xhci_ring *r = in ? &x->bulk_in : &x->bulk_out;
  if (!x->slot || !dci) return USB_ERR_NO_DEVICE;
  if (!data || !len) return USB_ERR_IO;
  (in ? invalidate : clean)(x, data, len);
  volatile uint32_t *ep = output_ctx(x, dci);
  invalidate(x, ep, 32);
  uint16_t mps = (uint16_t)(ep[1] >> 16);
  if (!mps) mps = 512;
  // TRBs of at most 64 KiB that do not cross a 64 KiB boundary of the bus address
  uint64_t addr = bus(x, data), end = addr + len;
  uint64_t first = 0, last = 0, starts[8];
  uint32_t lens[8];
  int n = 0;
  for (uint64_t at = addr; at < end && n < 8; n++) {
    uint64_t next = (at & ~(uint64_t)(MAX_TRB_BYTES - 1)) + MAX_TRB_BYTES;
    if (next > end) next = end;
    starts[n] = at;
    lens[n] = (uint32_t)(next - at);
    at = next;
  }
  if (starts[n - 1] + lens[n - 1] != end) return USB_ERR_IO;  // more than 8 TRBs' worth
  uint32_t remaining = len;
  for (int i = 0; i < n; i++) {
    remaining -= lens[i];
    uint32_t td_size = (remaining + mps - 1) / mps;
    if (td_size > 31) td_size = 31;
    uint32_t control = TRB_NORMAL << 10 | TRB_ISP | (i == n - 1 ? TRB_IOC : TRB_CHAIN);
    uint64_t at = push(x, r, starts[i], lens[i] | td_size << 17, control);
    if (i == 0) first = at;
    last = at;
  }
  wr32(x->db + 4 * (uint32_t)x->slot, (uint32_t)dci);
  uint64_t where;
  uint32_t residual;
  int cc = wait_td(x, dci, first, last, BULK_US, &where, &residual);
  if (cc == CC_SUCCESS || cc == CC_SHORT_PACKET) {
    // bytes of the TRBs before the one the event names, then that one's
    uint32_t moved = 0;
    uint64_t t = first;
    for (int i = 0; i < n; i++) {
      if (t == where) {
        moved += lens[i] - (residual < lens[i] ? residual : lens[i]);
        break;
      }
      moved += lens[i];
      t += 16;
      if (t == bus(x, r->trb + (XHCI_RING_TRBS - 1) * 4)) t = bus(x, r->trb);  // the link
    }
    if (in) invalidate(x, data, len);
    *actual = moved;
    return USB_OK;
  }
  restart_endpoint(x, r, dci);
  return usb_error_of(cc);
}

static int reset_endpoint(void *ctx, int in) {
  xhci *x = ctx;
  int dci = in ? x->dci_in : x->dci_out;
  if (!x->slot || !dci) return USB_ERR_NO_DEVICE;
  int st = restart_endpoint(x, in ? &x->bulk_in : &x->bulk_out, dci);
  usb_transport t = xhci_transport(x);
  int cleared = usb_clear_halt(&t, in ? x->addr_in : x->addr_out);
  return st != USB_OK ? st : cleared;
}

usb_transport xhci_transport(xhci *x) {
  usb_transport t = {x, control, bulk, reset_endpoint};
  return t;
}

// --- devices ---

static uint16_t default_max_packet(int speed) { return speed >= 4 ? 512 : speed == 3 ? 64 : 8; }

int xhci_open_port(xhci *x, int port) {
  if (port < 1 || (uint32_t)port > x->ports) return fail(x, "no such port", USB_ERR_NO_DEVICE);
  if (x->slot) {
    command(x, 0, TRB_DISABLE_SLOT << 10 | (uint32_t)x->slot << 24, 0);
    x->dcbaa[x->slot] = 0;
    clean(x, &x->dcbaa[x->slot], 8);
    x->slot = 0;
  }
  x->dci_in = x->dci_out = 0;
  uintptr_t sc = x->op + OP_PORTSC + 0x10 * (uint32_t)(port - 1);
  uint32_t v = rd32(sc);
  if (!(v & PORT_CONNECTED)) return fail(x, "nothing connected", USB_ERR_NO_DEVICE);
  if (!(v & PORT_ENABLED)) {  // USB 2 ports enable through a reset; USB 3 ones by themselves
    wr32(sc, (v & PORT_KEEP) | PORT_RESET);
    if (!wait_reg(x, sc, PORT_RESET_CHANGE, PORT_RESET_CHANGE, PORT_RESET_US))
      return fail(x, "port reset timed out", USB_ERR_TIMEOUT);
    v = rd32(sc);
    wr32(sc, (v & PORT_KEEP) | (v & PORT_CHANGES));
    if (!(v & PORT_ENABLED)) return fail(x, "port did not enable after reset", USB_ERR_NO_DEVICE);
  } else {
    wr32(sc, (v & PORT_KEEP) | (v & PORT_CHANGES));
  }
  x->port = port;
  x->speed = (int)((rd32(sc) >> 10) & 0xf);
  x->max_packet0 = default_max_packet(x->speed);

  int slot = 0;
  int cc = command(x, 0, TRB_ENABLE_SLOT << 10, &slot);
  if (cc != CC_SUCCESS || slot < 1 || slot > 255)
    return fail(x, cc ? "no device slot free" : "Enable Slot timed out",
                cc ? USB_ERR_RESOURCES : USB_ERR_TIMEOUT);
  if ((uint32_t)slot > (x->slots < 8 ? x->slots : 8))
    return fail(x, "controller gave a slot beyond those enabled", USB_ERR_RESOURCES);
  x->slot = slot;
  for (uint32_t i = 0; i < 32 * x->context_size / 4; i++) x->output[i] = 0;
  clean(x, x->output, 32 * x->context_size);
  x->dcbaa[slot] = bus(x, x->output);
  clean(x, &x->dcbaa[slot], 8);
  ring_reset(x, &x->ep0);
  ring_reset(x, &x->bulk_in);
  ring_reset(x, &x->bulk_out);

  clear_input(x);
  input_ctx(x, 0)[1] = 3;  // add: slot, endpoint 0
  volatile uint32_t *sl = input_ctx(x, 1);
  sl[0] = 1u << 27 | (uint32_t)x->speed << 20;
  sl[1] = (uint32_t)port << 16;
  endpoint_ctx(x, 1, EP_CONTROL, x->max_packet0, 0, &x->ep0, 8);
  clean(x, x->input, 33 * x->context_size);
  cc = command(x, bus(x, x->input), TRB_ADDRESS_DEVICE << 10 | (uint32_t)slot << 24, 0);
  if (cc != CC_SUCCESS)
    return fail(x, cc ? "Address Device failed" : "Address Device timed out",
                cc ? USB_ERR_IO : USB_ERR_TIMEOUT);

  // endpoint 0's real packet size from the descriptor's first 8 bytes
  usb_transport t = xhci_transport(x);
  uint32_t got = 0;
  int st = usb_get_descriptor(&t, USB_DESC_DEVICE, 0, x->desc, 8, &got);
  if (st != USB_OK) return fail(x, "device descriptor (8 bytes) failed", st);
  usb_device_info info;
  if (usb_parse_device(x->desc, got, &info) != USB_OK)
    return fail(x, "malformed device descriptor", USB_ERR_DESCRIPTOR);
  uint16_t mps = x->speed >= 4 ? (uint16_t)(info.max_packet0 <= 9 ? 1u << info.max_packet0 : 512)
                               : info.max_packet0;
  if (mps != x->max_packet0) {
    x->max_packet0 = mps;
    clear_input(x);
    input_ctx(x, 0)[1] = 2;  // evaluate endpoint 0
    endpoint_ctx(x, 1, EP_CONTROL, mps, 0, &x->ep0, 8);
    clean(x, x->input, 33 * x->context_size);
    cc = command(x, bus(x, x->input), TRB_EVALUATE_CONTEXT << 10 | (uint32_t)slot << 24, 0);
    if (cc != CC_SUCCESS) return fail(x, "Evaluate Context failed", USB_ERR_IO);
  }
  return USB_OK;
}

static int dci_of(uint8_t address) { return (address & 0xf) * 2 + ((address & 0x80) ? 1 : 0); }

int xhci_configure(void *ctx, const usb_msc_choice *c) {
  xhci *x = ctx;
  if (!x->slot) return USB_ERR_NO_DEVICE;
  x->dci_in = dci_of(c->bulk_in.address);
  x->dci_out = dci_of(c->bulk_out.address);
  x->addr_in = c->bulk_in.address;
  x->addr_out = c->bulk_out.address;
  clear_input(x);
  input_ctx(x, 0)[1] = 1u | 1u << x->dci_in | 1u << x->dci_out;
  volatile uint32_t *out_slot = output_ctx(x, 0);
  invalidate(x, out_slot, x->context_size);
  volatile uint32_t *sl = input_ctx(x, 1);
  for (uint32_t i = 0; i < x->context_size / 4; i++) sl[i] = out_slot[i];
  int entries = x->dci_in > x->dci_out ? x->dci_in : x->dci_out;
  sl[0] = (sl[0] & ~(0x1fu << 27)) | (uint32_t)entries << 27;
  sl[3] = 0;  // slot state and device address are the controller's
  endpoint_ctx(x, x->dci_in, EP_BULK_IN, c->bulk_in.max_packet, c->bulk_in.max_burst, &x->bulk_in,
               3072);
  endpoint_ctx(x, x->dci_out, EP_BULK_OUT, c->bulk_out.max_packet, c->bulk_out.max_burst,
               &x->bulk_out, 3072);
  clean(x, x->input, 33 * x->context_size);
  int cc = command(x, bus(x, x->input), TRB_CONFIGURE_ENDPOINT << 10 | (uint32_t)x->slot << 24, 0);
  if (cc != CC_SUCCESS) {
    x->dci_in = x->dci_out = 0;
    return fail(x, "Configure Endpoint failed", cc ? USB_ERR_IO : USB_ERR_TIMEOUT);
  }
  return USB_OK;
}
