// PCIe bus walk and resource assignment (pcie.h).
#include "drivers/pcie.h"

#include <stddef.h>

enum {
  REG_ID = 0x00,
  REG_COMMAND = 0x04,
  REG_CLASS = 0x08,
  REG_HEADER = 0x0c,  // byte 2: header type, bit 7 multi-function
  REG_BAR0 = 0x10,
  REG_BUSES = 0x18,  // type 1: primary, secondary, subordinate, latency
  REG_IO_BASE = 0x1c,
  REG_MEM_BASE = 0x20,  // type 1: memory base/limit, 1 MB granules
  REG_PREF_BASE = 0x24,
  REG_PREF_BASE_HI = 0x28,
  REG_PREF_LIMIT_HI = 0x2c,
  CMD_MEMORY = 1u << 1,
  CMD_BUS_MASTER = 1u << 2,
  BRIDGE_WINDOW = 1u << 20,
};

uint32_t pcie_ecam_read(void *ecam, uint16_t bdf, uint16_t reg) {
  return *(volatile uint32_t *)((uintptr_t)ecam + ((uintptr_t)bdf << 12) + (reg & 0xffc));
}

void pcie_ecam_write(void *ecam, uint16_t bdf, uint16_t reg, uint32_t value) {
  *(volatile uint32_t *)((uintptr_t)ecam + ((uintptr_t)bdf << 12) + (reg & 0xffc)) = value;
}

typedef struct walk {
  const pcie_host *h;
  uint64_t next;  // next free bus address in the window
  uint64_t end;
  int next_bus;
  pcie_function *out;
  int max, found, error;
} walk;

static uint32_t rd(walk *w, uint16_t bdf, uint16_t reg) {
  return w->h->cfg.read(w->h->cfg.ctx, bdf, reg);
}
static void wr(walk *w, uint16_t bdf, uint16_t reg, uint32_t v) {
  w->h->cfg.write(w->h->cfg.ctx, bdf, reg, v);
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// Sizes and places the memory BARs of an endpoint (bars: 6) or bridge (2). Returns 0, or -1
// when one did not fit (then the function keeps decoding off).
static int assign_bars(walk *w, uint16_t bdf, int bars, pcie_function *f) {
  int ok = 0;
  for (int i = 0; i < bars; i++) {
    uint16_t reg = (uint16_t)(REG_BAR0 + 4 * i);
    uint32_t orig = rd(w, bdf, reg);
    if (orig & 1) continue;  // I/O space: not used
    int is64 = ((orig >> 1) & 3) == 2;
    wr(w, bdf, reg, 0xffffffffu);
    uint64_t mask = rd(w, bdf, reg) & ~UINT64_C(0xf);
    if (is64) {
      wr(w, bdf, (uint16_t)(reg + 4), 0xffffffffu);
      mask |= (uint64_t)rd(w, bdf, (uint16_t)(reg + 4)) << 32;
    } else {
      mask |= UINT64_C(0xffffffff00000000);
    }
    if ((uint32_t)mask == 0 && !is64) {  // not implemented
      wr(w, bdf, reg, orig);
      continue;
    }
    uint64_t size = ~mask + 1;
    uint64_t at = align_up(w->next, size);
    int fits = size != 0 && at >= w->next && at + size <= w->end && at + size > at &&
               (is64 ? w->h->allow_64bit || at + size <= UINT64_C(1) << 32
                     : at + size <= UINT64_C(1) << 32);
    if (!fits) {
      ok = -1;
      wr(w, bdf, reg, orig);
      if (is64) i++;
      continue;
    }
    wr(w, bdf, reg, (uint32_t)at | (orig & 0xf));
    if (is64) wr(w, bdf, (uint16_t)(reg + 4), (uint32_t)(at >> 32));
    if (f) {
      f->bar_cpu[i] = at - w->h->mem_bus + w->h->mem_cpu;
      f->bar_size[i] = size;
    }
    w->next = at + size;
    if (is64) i++;
  }
  return ok;
}

static void scan_bus(walk *w, int bus);

static void bridge(walk *w, uint16_t bdf, int bus) {
  if (w->next_bus > w->h->bus_last) {
    w->error = PCIE_ERR_BUSES;
    return;
  }
  int secondary = w->next_bus++;
  wr(w, bdf, REG_COMMAND, rd(w, bdf, REG_COMMAND) & ~(CMD_MEMORY | CMD_BUS_MASTER));
  // primary, secondary, subordinate (all below for now), latency kept
  uint32_t buses = rd(w, bdf, REG_BUSES) & 0xff000000u;
  wr(w, bdf, REG_BUSES, buses | 0xff0000u | (uint32_t)secondary << 8 | (uint32_t)bus);
  assign_bars(w, bdf, 2, 0);
  w->next = align_up(w->next, BRIDGE_WINDOW);
  uint64_t base = w->next;
  scan_bus(w, secondary);
  w->next = align_up(w->next, BRIDGE_WINDOW);
  uint32_t subordinate = (uint32_t)(w->next_bus - 1);
  wr(w, bdf, REG_BUSES, buses | subordinate << 16 | (uint32_t)secondary << 8 | (uint32_t)bus);
  if (w->next > base) {
    uint64_t limit = w->next - 1;
    wr(w, bdf, REG_MEM_BASE, (uint32_t)((base >> 16) & 0xfff0) | (uint32_t)(limit & 0xfff00000u));
  } else {
    wr(w, bdf, REG_MEM_BASE, 0x0000fff0u);  // base above limit: window closed
  }
  wr(w, bdf, REG_PREF_BASE, 0x0000fff0u);  // no prefetchable window
  wr(w, bdf, REG_PREF_BASE_HI, 0);
  wr(w, bdf, REG_PREF_LIMIT_HI, 0);
  wr(w, bdf, REG_IO_BASE, (rd(w, bdf, REG_IO_BASE) & 0xffff0000u) | 0x00f0u);  // no I/O window
  wr(w, bdf, REG_COMMAND, rd(w, bdf, REG_COMMAND) | CMD_MEMORY | CMD_BUS_MASTER);
}

static void endpoint(walk *w, uint16_t bdf, uint32_t id) {
  pcie_function f = {0};
  f.bdf = bdf;
  f.vendor = (uint16_t)id;
  f.device = (uint16_t)(id >> 16);
  f.class_code = rd(w, bdf, REG_CLASS) >> 8;
  wr(w, bdf, REG_COMMAND, rd(w, bdf, REG_COMMAND) & ~(CMD_MEMORY | CMD_BUS_MASTER));
  if (assign_bars(w, bdf, 6, &f) == 0) {
    wr(w, bdf, REG_COMMAND, rd(w, bdf, REG_COMMAND) | CMD_MEMORY | CMD_BUS_MASTER);
  } else {
    w->error = PCIE_ERR_NO_ROOM;
  }
  if (w->found < w->max) w->out[w->found] = f;
  w->found++;
}

static void scan_bus(walk *w, int bus) {
  for (int dev = 0; dev < 32 && !w->error; dev++) {
    for (int fn = 0; fn < 8 && !w->error; fn++) {
      uint16_t bdf = (uint16_t)(bus << 8 | dev << 3 | fn);
      uint32_t id = rd(w, bdf, REG_ID);
      if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
        if (fn == 0) break;
        continue;
      }
      uint8_t header = (uint8_t)(rd(w, bdf, REG_HEADER) >> 16);
      if ((header & 0x7f) == 1)
        bridge(w, bdf, bus);
      else if ((header & 0x7f) == 0)
        endpoint(w, bdf, id);
      if (fn == 0 && !(header & 0x80)) break;
    }
  }
}

int pcie_enumerate(const pcie_host *host, pcie_function *out, int max) {
  walk w = {host, host->mem_bus, host->mem_bus + host->mem_size, host->bus_first + 1, out, max, 0,
            0};
  scan_bus(&w, host->bus_first);
  return w.error ? w.error : w.found;
}

const pcie_function *pcie_find_class(const pcie_function *f, int n, uint32_t class_code) {
  for (int i = 0; i < n; i++)
    if (f[i].class_code == class_code) return &f[i];
  return NULL;
}
