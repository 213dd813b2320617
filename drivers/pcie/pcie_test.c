// pcie_enumerate over a fake configuration space: a root port (bridge) at 00:00.0 with an xHCI
// controller behind it at 01:00.0 (a 64-bit 4 KiB BAR and a 32-bit 1 MiB BAR), as on the Pi 4,
// and a second endpoint on bus 0. BARs answer sizing writes as hardware does.
#include "drivers/pcie.h"

#include "common/check.h"

typedef struct fake_fn {
  uint16_t bdf;
  uint32_t regs[64];
  uint64_t bar_size[6];  // 0: not implemented
  int bar64[6];
} fake_fn;

static fake_fn fns[3];

static fake_fn *find(uint16_t bdf) {
  for (int i = 0; i < 3; i++)
    if (fns[i].bdf == bdf && fns[i].regs[0]) return &fns[i];
  return NULL;
}

static uint32_t fake_read(void *ctx, uint16_t bdf, uint16_t reg) {
  (void)ctx;
  fake_fn *f = find(bdf);
  return f ? f->regs[reg / 4] : 0xffffffffu;
}

static void fake_write(void *ctx, uint16_t bdf, uint16_t reg, uint32_t v) {
  (void)ctx;
  fake_fn *f = find(bdf);
  if (!f) return;
  int i = (reg - 0x10) / 4;
  int type1 = ((f->regs[3] >> 16) & 0x7f) == 1;
  if (reg >= 0x10 && reg < 0x28 && !(type1 && i >= 2)) {
    // a BAR: the address bits below its size read as zero
    int low = i > 0 && f->bar64[i - 1] ? i - 1 : i;
    uint64_t size = f->bar_size[low];
    if (size == 0) return;
    uint64_t mask = ~(size - 1);
    if (low == i)
      f->regs[reg / 4] = (v & (uint32_t)mask) | (f->regs[reg / 4] & 0xf);
    else
      f->regs[reg / 4] = v & (uint32_t)(mask >> 32);
    return;
  }
  f->regs[reg / 4] = v;
}

static void add(int k, uint16_t bdf, uint32_t id, uint32_t class_rev, int header) {
  fns[k].bdf = bdf;
  fns[k].regs[0] = id;
  fns[k].regs[2] = class_rev;
  fns[k].regs[3] = (uint32_t)header << 16;
}

int main(void) {
  add(0, 0x0000, 0x271114e4, 0x06040000, 1);  // root port
  add(1, 0x0100, 0x34831106, 0x0c033001, 0);  // xHCI behind it
  fns[1].bar_size[0] = 4096;
  fns[1].bar64[0] = 1;
  fns[1].regs[4] = 0x4;  // 64-bit memory BAR
  fns[1].bar_size[2] = 1 << 20;
  add(2, 0x0008, 0x00011af4, 0x01000000, 0);  // an endpoint on bus 0, 16 KiB BAR
  fns[2].bar_size[0] = 16384;
  pcie_host host = {{0, fake_read, fake_write}, 0, 15, 0x600000000, 0xc0000000, 0x40000000, 0};
  pcie_function found[4];
  int n = pcie_enumerate(&host, found, 4);
  CHECK(n == 2);
  const pcie_function *x = pcie_find_class(found, n, PCIE_CLASS_XHCI);
  CHECK(x != NULL && x->bdf == 0x0100 && x->vendor == 0x1106 && x->device == 0x3483);
  // the bridge numbers bus 1 and opens a window over what lies behind it
  CHECK((fns[0].regs[6] & 0xffffff) == 0x010100);
  uint32_t window = fns[0].regs[8];
  uint64_t base = (uint64_t)(window & 0xfff0) << 16, limit = (window & 0xfff00000u) | 0xfffff;
  CHECK(x && x->bar_size[0] == 4096 && x->bar_size[2] == 1 << 20);
  if (x) {
    uint64_t bar0 = x->bar_cpu[0] - host.mem_cpu + host.mem_bus;
    uint64_t bar2 = x->bar_cpu[2] - host.mem_cpu + host.mem_bus;
    CHECK(bar0 % 4096 == 0 && bar2 % (1 << 20) == 0);
    CHECK(bar0 >= base && bar0 + 4096 - 1 <= limit && bar2 >= base &&
          bar2 + (1 << 20) - 1 <= limit);
    CHECK((fns[1].regs[4] & ~0xfu) == (uint32_t)bar0 && fns[1].regs[5] == 0);
    CHECK(x->bar_cpu[0] >= host.mem_cpu && x->bar_cpu[0] < host.mem_cpu + host.mem_size);
  }
  CHECK((fns[1].regs[1] & 6) == 6 && (fns[0].regs[1] & 6) == 6 && (fns[2].regs[1] & 6) == 6);
  // the bus-0 endpoint lies outside the bridge's window
  uint64_t other = found[0].bdf == 0x0008 ? found[0].bar_cpu[0] : found[1].bar_cpu[0];
  other = other - host.mem_cpu + host.mem_bus;
  CHECK(other + 16384 - 1 < base || other > limit);

  // a window too small: one clear error, decoding left off
  for (int i = 0; i < 3; i++) fns[i].regs[1] = 0;
  host.mem_size = 8192;
  CHECK(pcie_enumerate(&host, found, 4) == PCIE_ERR_NO_ROOM);
  CHECK((fns[1].regs[1] & 2) == 0);
  return finish();
}
