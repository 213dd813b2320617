// xhci against a fake controller with the fake stick (drivers/usb_msc/fake_stick.h) behind it:
// the whole bring-up (reset, port reset, Enable Slot, Address Device, Evaluate Context,
// Configure Endpoint, usb_msc_open), reads, and the recoveries QEMU never needs: a stalled
// data phase (Reset Endpoint, Set TR Dequeue, CLEAR_FEATURE), a stalled control request, short
// packets, ring wrap-around, and a controller that stops answering (timeouts).
//
// The fake runs inside the driver's clock: every now_us() call lets it look at its registers
// (a written doorbell, a port reset, run/stop) and work through the rings like a controller.
#include "drivers/xhci.h"

#include "common/check.h"
#include "drivers/usb_msc.h"
#include "drivers/usb_msc/fake_stick.h"

#define DB_IDLE 0xffffffffu
enum { OP = 0x20, RT = 0x600, DB = 0x800, PORTS = 2 };

static uint32_t regs[0x1000 / 4] __attribute__((aligned(64)));
static uint8_t dma[XHCI_DMA_BYTES] __attribute__((aligned(4096)));
static fake_stick stick;
static usb_transport dev;
static uint64_t clock_us;
static int dead;  // the fake stops answering

typedef struct ring {
  uint32_t *at;
  uint32_t cycle;
} ring;

static struct {
  ring cmd, ep[32];
  uint32_t *events;
  uint32_t event_at, event_size, event_cycle;
  uint32_t ports[PORTS + 1];
  int slot_used;
  int stalls, resets, dequeues, short_packets;
} hc;

static uint32_t *reg(uint32_t off) { return &regs[off / 4]; }
static uint64_t u64(const uint32_t *p) { return p[0] | (uint64_t)p[1] << 32; }
static uint32_t *ptr(uint64_t a) { return (uint32_t *)(uintptr_t)a; }

static void event(uint64_t trb, uint32_t status, uint32_t control) {
  uint32_t *e = hc.events + hc.event_at * 4;
  e[0] = (uint32_t)trb;
  e[1] = (uint32_t)(trb >> 32);
  e[2] = status;
  e[3] = (control & ~1u) | hc.event_cycle;
  if (++hc.event_at == hc.event_size) {
    hc.event_at = 0;
    hc.event_cycle ^= 1;
  }
}

// The next TRB of a ring (links followed), or NULL when the producer has not written it.
static uint32_t *next_trb(ring *r) {
  for (;;) {
    if ((r->at[3] & 1) != r->cycle) return NULL;
    if (((r->at[3] >> 10) & 0x3f) != 6) {
      uint32_t *t = r->at;
      r->at += 4;
      return t;
    }
    if (r->at[3] & 2) r->cycle ^= 1;
    r->at = ptr(u64(r->at) & ~UINT64_C(0xf));
  }
}

static uint32_t *out_ctx(int slot, int dci) {
  uint64_t *dcbaa = (uint64_t *)(uintptr_t)u64(reg(OP + 0x30));
  return ptr(dcbaa[slot]) + dci * 8;
}

static void set_ep_ring(int dci, const uint32_t *ep) {
  hc.ep[dci].at = ptr(u64(ep + 2) & ~UINT64_C(0xf));
  hc.ep[dci].cycle = ep[2] & 1;
}

static void command(uint32_t *t) {
  int type = (t[3] >> 10) & 0x3f, slot = t[3] >> 24, cc = 1;
  uint32_t *in = ptr(u64(t) & ~UINT64_C(0xf));
  switch (type) {
    case 9:
      slot = ++hc.slot_used;
      break;  // Enable Slot
    case 10:
      break;  // Disable Slot
    case 11:  // Address Device: slot + EP0 from the input context
    case 13:  // Evaluate Context
    case 12:  // Configure Endpoint
      for (int dci = 0; dci < 31; dci++) {
        if (!(in[1] & 1u << dci)) continue;
        uint32_t *out = out_ctx(slot, dci);
        for (int i = 0; i < 8; i++) out[i] = in[(dci + 1) * 8 + i];
        if (dci > 0) {
          out[0] = (out[0] & ~7u) | 1;  // running
          set_ep_ring(dci, out);
        }
      }
      break;
    case 14: {  // Reset Endpoint: halted -> stopped
      int dci = (t[3] >> 16) & 0x1f;
      uint32_t *ep = out_ctx(slot, dci);
      if ((ep[0] & 7) != 2)
        cc = 19;  // context state error
      else
        ep[0] = (ep[0] & ~7u) | 3;
      hc.resets++;
      break;
    }
    case 15: {  // Stop Endpoint
      uint32_t *ep = out_ctx(slot, (t[3] >> 16) & 0x1f);
      ep[0] = (ep[0] & ~7u) | 3;
      break;
    }
    case 16: {  // Set TR Dequeue Pointer
      int dci = (t[3] >> 16) & 0x1f;
      uint32_t *ep = out_ctx(slot, dci);
      if ((ep[0] & 7) != 3) {
        cc = 19;
        break;
      }
      hc.ep[dci].at = ptr(u64(t) & ~UINT64_C(0xf));
      hc.ep[dci].cycle = t[0] & 1;
      hc.dequeues++;
      break;
    }
    default:
      cc = 9;  // TRB error
  }
  event((uint64_t)(uintptr_t)t, (uint32_t)cc << 24, 33u << 10 | (uint32_t)slot << 24);
}

static void halt(int slot, int dci) {
  uint32_t *ep = out_ctx(slot, dci);
  ep[0] = (ep[0] & ~7u) | 2;
  hc.stalls++;
}

static int code_of(int usb) { return usb == USB_OK ? 1 : usb == USB_ERR_STALL ? 6 : 4; }

// Runs the TDs waiting on an endpoint.
static void transfer(int slot, int dci) {
  uint32_t *ep = out_ctx(slot, dci);
  uint32_t control = (uint32_t)slot << 24 | (uint32_t)dci << 16 | 32u << 10;
  while ((ep[0] & 7) != 2) {
    uint32_t *t = next_trb(&hc.ep[dci]);
    if (!t) return;
    ep[0] = (ep[0] & ~7u) | 1;
    int type = (t[3] >> 10) & 0x3f;
    if (dci == 1 && type == 2) {  // control: setup, [data], status
      uint64_t s = u64(t);
      usb_setup setup = {(uint8_t)s, (uint8_t)(s >> 8), (uint16_t)(s >> 16), (uint16_t)(s >> 32),
                         (uint16_t)(s >> 48)};
      uint32_t *data = next_trb(&hc.ep[dci]), *status = data;
      uint32_t len = 0, actual = 0;
      if (((data[3] >> 10) & 0x3f) == 3) {
        len = data[2] & 0x1ffff;
        status = next_trb(&hc.ep[dci]);
      } else {
        data = NULL;
      }
      int st = dev.control(dev.ctx, &setup, data ? ptr(u64(data)) : NULL, &actual);
      if (st != USB_OK) {
        halt(slot, dci);
        event((uint64_t)(uintptr_t)(data ? data : status), (uint32_t)code_of(st) << 24, control);
        return;
      }
      if (data && actual < len) {
        hc.short_packets++;
        event((uint64_t)(uintptr_t)data, 13u << 24 | (len - actual), control);
      }
      event((uint64_t)(uintptr_t)status, 1u << 24, control);
      continue;
    }
    // bulk: normal TRBs chained over one buffer
    uint32_t *trbs[8];
    int n = 0;
    trbs[n++] = t;
    while (trbs[n - 1][3] & (1u << 4)) trbs[n++] = next_trb(&hc.ep[dci]);
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += trbs[i][2] & 0x1ffff;
    uint32_t actual = 0;
    int st = dev.bulk(dev.ctx, dci & 1, ptr(u64(trbs[0])), total, &actual);
    if (st != USB_OK) {
      halt(slot, dci);
      event((uint64_t)(uintptr_t)trbs[0], (uint32_t)code_of(st) << 24, control);
      return;
    }
    if (actual < total) {  // the TRB where it fell short, with its residual
      hc.short_packets++;
      uint32_t before = 0;
      int i = 0;
      while (before + (trbs[i][2] & 0x1ffff) <= actual && i < n - 1)
        before += trbs[i++][2] & 0x1ffff;
      event((uint64_t)(uintptr_t)trbs[i], 13u << 24 | ((trbs[i][2] & 0x1ffff) - (actual - before)),
            control);
    } else {
      event((uint64_t)(uintptr_t)trbs[n - 1], 1u << 24, control);
    }
  }
}

static void run_controller(void) {
  if (dead) return;
  uint32_t *cmd = reg(OP), *sts = reg(OP + 4);
  if (*cmd & 2) {  // reset
    *cmd = 0;
    hc.slot_used = 0;
  }
  *sts = (*cmd & 1) ? 0 : 1;
  if ((*cmd & 1) && !hc.events) {  // started: take the rings
    uint32_t *erst = ptr(u64(reg(RT + 0x30)));
    hc.events = ptr(u64(erst));
    hc.event_size = erst[2];
    hc.event_cycle = 1;
    hc.event_at = 0;
    hc.cmd.at = ptr(u64(reg(OP + 0x18)) & ~UINT64_C(0x3f));
    hc.cmd.cycle = 1;
  }
  for (int p = 1; p <= PORTS; p++) {  // PORTSC: reset, write-1-to-clear changes
    uint32_t *sc = reg(OP + 0x400 + 0x10 * (uint32_t)(p - 1)), w = *sc;
    if (w == hc.ports[p]) continue;
    if (w & (1u << 4)) hc.ports[p] |= 1u << 1 | 1u << 21;  // enabled, reset change
    hc.ports[p] &= ~(w & (0x7fu << 17));
    *sc = hc.ports[p];
  }
  if (!hc.events) return;
  for (int i = 0; i < 32; i++) {
    uint32_t *db = reg(DB + 4 * (uint32_t)i);
    if (*db == DB_IDLE) continue;
    uint32_t target = *db;
    *db = DB_IDLE;
    if (i == 0) {
      for (uint32_t *t; (t = next_trb(&hc.cmd)) != NULL;) command(t);
    } else {
      transfer(i, (int)target);
    }
  }
}

static uint64_t now_us(void) {
  run_controller();
  return clock_us += 10;
}

static void reset_fake(void) {
  memset(regs, 0, sizeof regs);
  memset(&hc, 0, sizeof hc);
  *reg(0) = OP;                         // CAPLENGTH
  *reg(4) = (uint32_t)PORTS << 24 | 8;  // ports, slots
  *reg(0x10) = 1;                       // 64-bit addresses, 32-byte contexts, no extended caps
  *reg(0x14) = DB;
  *reg(0x18) = RT;
  *reg(OP + 4) = 1;  // halted
  *reg(OP + 8) = 1;  // 4 KiB pages
  for (int i = 0; i < 32; i++) *reg(DB + 4 * (uint32_t)i) = DB_IDLE;
  hc.ports[2] = 1u | 1u << 9 | 4u << 10 | 1u << 17;  // port 2: connected, powered, super speed
  for (int p = 1; p <= PORTS; p++) *reg(OP + 0x400 + 0x10 * (uint32_t)(p - 1)) = hc.ports[p];
  if (!hc.ports[1]) hc.ports[1] = 1u << 9;
  *reg(OP + 0x400) = hc.ports[1];
  dead = 0;
}

enum { BLOCKS = 1024 };
static uint8_t disk[BLOCKS * 512];
static uint8_t buf[USB_MSC_MAX_BLOCKS * 512 + 1];
static xhci x;
static usb_msc m;

static int bring_up(void) {
  reset_fake();
  fake_stick_init(&stick, disk, sizeof disk, BLOCKS);
  dev = fake_stick_transport(&stick);
  xhci_config c = {(uintptr_t)regs, dma, sizeof dma, 0, now_us, 0, 0};
  int st = xhci_init(&x, &c);
  if (st != USB_OK) return -1;
  if (xhci_connected(&x) != 2u) return -2;
  if (xhci_open_port(&x, 2) != USB_OK) return -3;
  usb_transport t = xhci_transport(&x);
  return usb_msc_open(&m, &t, xhci_configure, &x) == BLOCK_OK ? 0 : -4;
}

int main(void) {
  uint32_t seed = 4;
  for (size_t i = 0; i < sizeof disk; i++) disk[i] = (uint8_t)check_next_u32(&seed);
  int up = bring_up();
  CHECKF(up == 0, "bring-up: %d (%s / %s)\n", up, x.error ? x.error : "-", m.error);
  CHECK(x.slot == 1 && x.dci_in == 3 && x.dci_out == 4 && stick.configured == 1);
  // reads of every size up to a whole command, at odd addresses; the rings wrap many times
  int good = 1;
  for (uint32_t i = 0; i < 200 && up == 0; i++) {
    uint32_t count = 1 + (i * 37) % USB_MSC_MAX_BLOCKS, lba = (i * 101) % (BLOCKS - count);
    good &= block_read(&m.dev, lba, count, buf + (i & 1)) == BLOCK_OK &&
            memcmp(buf + (i & 1), disk + lba * 512, count * 512) == 0;
  }
  CHECK(good);
  CHECK(stick.largest_read == USB_MSC_MAX_BLOCKS * 512);
  // a stalled data phase: the endpoint is reset on the controller and the device, the read
  // is tried again and returns the right bytes
  stick.faults = FAKE_STALL_DATA;
  CHECK(block_read(&m.dev, 5, 64, buf) == BLOCK_OK && memcmp(buf, disk + 5 * 512, 64 * 512) == 0);
  CHECK(hc.stalls == 1 && hc.resets >= 1 && hc.dequeues >= 1 && stick.halts_cleared >= 1);
  // a CSW that comes up short, then a phase error: reset recovery through the controller
  stick.faults = FAKE_SHORT_CSW;
  CHECK(block_read(&m.dev, 9, 8, buf) == BLOCK_OK && memcmp(buf, disk + 9 * 512, 8 * 512) == 0);
  CHECK(hc.short_packets >= 1);
  stick.faults = FAKE_PHASE_ERROR;
  CHECK(block_read(&m.dev, 11, 3, buf) == BLOCK_OK && memcmp(buf, disk + 11 * 512, 3 * 512) == 0);
  CHECK(stick.resets >= 2);
  // a control request the device stalls: endpoint 0 recovers and the next one works
  usb_transport t = xhci_transport(&x);
  uint32_t got;
  CHECK(usb_get_descriptor(&t, 0x0f, 0, buf, 5, &got) == USB_ERR_STALL);  // no BOS here
  CHECK(usb_get_descriptor(&t, USB_DESC_DEVICE, 0, buf, 18, &got) == USB_OK && got == 18);
  // a device stalling every bulk transfer: one error, no hang
  stick.faults = FAKE_STALL_ALWAYS;
  CHECK(block_read(&m.dev, 0, 1, buf) == BLOCK_ERR_IO);
  stick.faults = 0;
  // a controller that stops answering: every wait times out
  dead = 1;
  uint64_t before = clock_us;
  CHECK(block_read(&m.dev, 0, 1, buf) == BLOCK_ERR_TIMEOUT);
  CHECK(clock_us - before < 60000000);
  // nothing on the ports; a port with nothing connected
  reset_fake();
  hc.ports[2] = 1u << 9;
  *reg(OP + 0x410) = hc.ports[2];
  xhci_config c = {(uintptr_t)regs, dma, sizeof dma, 0, now_us, 0, 0};
  CHECK(xhci_init(&x, &c) == USB_OK && xhci_connected(&x) == 0);
  CHECK(xhci_open_port(&x, 2) == USB_ERR_NO_DEVICE && xhci_open_port(&x, 3) == USB_ERR_NO_DEVICE);
  // too little DMA memory
  c.dma_size = 4096;
  CHECK(xhci_init(&x, &c) == USB_ERR_RESOURCES);
  return finish();
}
