// BCM2711 PCIe root complex (bcm2711_pcie.h).
#include "drivers/bcm2711_pcie.h"

enum {
  RC_VENDOR_SPECIFIC1 = 0x0188,  // bits 3:2: BAR2 endianness (0: little endian)
  RC_CLASS = 0x043c,             // the root port's class code (bits 23:0)
  MISC_CTRL = 0x4008,
  MISC_CTRL_SCB_ACCESS = 1u << 12,
  MISC_CTRL_CFG_READ_UR = 1u << 13,
  MISC_CTRL_BURST_MASK = 3u << 20,  // 0: 128-byte bursts
  MISC_CTRL_SCB0_SHIFT = 27,
  WIN0_LO = 0x400c,  // outbound window 0: PCIe address
  WIN0_HI = 0x4010,
  RC_BAR1_LO = 0x402c,  // PCIe -> internal bus windows: 1 and 3 off, 2 the DMA window
  RC_BAR2_LO = 0x4034,
  RC_BAR2_HI = 0x4038,
  RC_BAR3_LO = 0x403c,
  STATUS = 0x4068,
  STATUS_LINK = 0x30,  // PHY link up + data link active
  STATUS_RC_MODE = 0x80,
  WIN0_BASE_LIMIT = 0x4070,  // outbound window 0: CPU address in MB, low 12 bits
  WIN0_BASE_HI = 0x4080,     // ... and the bits above
  WIN0_LIMIT_HI = 0x4084,
  HARD_DEBUG = 0x4204,
  HARD_DEBUG_SERDES_IDDQ = 1u << 27,
  INTR2_CPU_CLEAR = 0x4308,  // interrupts: cleared, left masked
  INTR2_CPU_MASK_SET = 0x4310,
  EXT_CFG_DATA = 0x8000,
  EXT_CFG_INDEX = 0x9000,
  SW_INIT = 0x9210,
  SW_INIT_PERST = 1u << 0,
  SW_INIT_BRIDGE = 1u << 1,
  CLASS_BRIDGE = 0x060400,
};

static uint32_t rd(uintptr_t base, uint32_t reg) { return *(volatile uint32_t *)(base + reg); }
static void wr(uintptr_t base, uint32_t reg, uint32_t v) { *(volatile uint32_t *)(base + reg) = v; }

static void wait_us(const bcm2711_pcie_config *c, uint32_t us) {
  uint64_t start = c->now_us();
  while (c->now_us() - start < us) {
  }
}

static int log2_of(uint64_t v) {
  int n = 0;
  while (v > 1) {
    v >>= 1;
    n++;
  }
  return n;
}

int bcm2711_pcie_start(const bcm2711_pcie_config *c, const char **why) {
  uintptr_t b = c->base;
  int in_log2 = log2_of(c->in_size);
  if (c->in_size != UINT64_C(1) << in_log2 || in_log2 < 16 || in_log2 > 35 ||
      c->in_size > c->out_bus || c->out_size < (1u << 20) || (c->out_size & 0xfffff) ||
      ((c->out_bus + c->out_size - 1) >> 32)) {
    *why = "PCIe windows not usable";
    return -1;
  }
  uint32_t probed;
  if (c->probe && (c->probe(b + SW_INIT, &probed) != 0 || c->probe(b + STATUS, &probed) != 0)) {
    *why = "no PCIe controller answers at its registers";
    return -1;
  }
  // Bridge and endpoint in reset, then the bridge out of it; SerDes powered.
  wr(b, SW_INIT, rd(b, SW_INIT) | SW_INIT_PERST | SW_INIT_BRIDGE);
  wait_us(c, 200);
  wr(b, SW_INIT, rd(b, SW_INIT) & ~SW_INIT_BRIDGE);
  wr(b, HARD_DEBUG, rd(b, HARD_DEBUG) & ~HARD_DEBUG_SERDES_IDDQ);
  wait_us(c, 200);
  // Internal bus access, unsupported-request reads as all ones, 128-byte bursts, and the
  // inbound window: PCIe 0..in_size -> CPU 0..in_size.
  uint32_t enc = (uint32_t)(in_log2 - 15);
  uint32_t ctrl = rd(b, MISC_CTRL) & ~MISC_CTRL_BURST_MASK & ~(0x1fu << MISC_CTRL_SCB0_SHIFT);
  wr(b, MISC_CTRL,
     ctrl | MISC_CTRL_SCB_ACCESS | MISC_CTRL_CFG_READ_UR | enc << MISC_CTRL_SCB0_SHIFT);
  wr(b, RC_BAR2_LO, enc);  // PCIe address 0, size code
  wr(b, RC_BAR2_HI, 0);
  wr(b, RC_BAR1_LO, rd(b, RC_BAR1_LO) & ~0x1fu);
  wr(b, RC_BAR3_LO, rd(b, RC_BAR3_LO) & ~0x1fu);
  wr(b, INTR2_CPU_MASK_SET, 0xffffffffu);
  wr(b, INTR2_CPU_CLEAR, 0xffffffffu);
  // Outbound window 0: CPU out_cpu.. -> PCIe out_bus..
  wr(b, WIN0_LO, (uint32_t)c->out_bus);
  wr(b, WIN0_HI, (uint32_t)(c->out_bus >> 32));
  uint64_t base_mb = c->out_cpu >> 20, limit_mb = (c->out_cpu + c->out_size - 1) >> 20;
  wr(b, WIN0_BASE_LIMIT, (uint32_t)(base_mb & 0xfff) << 4 | (uint32_t)(limit_mb & 0xfff) << 20);
  wr(b, WIN0_BASE_HI, (uint32_t)(base_mb >> 12) & 0xff);
  wr(b, WIN0_LIMIT_HI, (uint32_t)(limit_mb >> 12) & 0xff);
  // Release PERST and wait for the link.
  wr(b, SW_INIT, rd(b, SW_INIT) & ~SW_INIT_PERST);
  uint64_t start = c->now_us();
  while ((rd(b, STATUS) & STATUS_LINK) != STATUS_LINK) {
    if (c->now_us() - start > c->link_timeout_us) {
      *why = "PCIe link did not come up";
      return -1;
    }
  }
  if (!(rd(b, STATUS) & STATUS_RC_MODE)) {
    *why = "PCIe controller is not in root complex mode";
    return -1;
  }
  // The root port presents itself as a PCI-to-PCI bridge; BAR2 little endian.
  wr(b, RC_CLASS, (rd(b, RC_CLASS) & 0xff000000u) | CLASS_BRIDGE);
  wr(b, RC_VENDOR_SPECIFIC1, rd(b, RC_VENDOR_SPECIFIC1) & ~(3u << 2));
  return 0;
}

// Bus 0 holds only the root port (its registers at the base); the rest go through the window.
static volatile uint32_t *config_word(uintptr_t base, uint16_t bdf, uint16_t reg) {
  reg &= 0xffc;
  if ((bdf >> 8) == 0) return (bdf & 0xff) == 0 ? (volatile uint32_t *)(base + reg) : 0;
  wr(base, EXT_CFG_INDEX, (uint32_t)bdf << 12);
  (void)rd(base, EXT_CFG_INDEX);
  return (volatile uint32_t *)(base + EXT_CFG_DATA + reg);
}

uint32_t bcm2711_pcie_read(void *base, uint16_t bdf, uint16_t reg) {
  volatile uint32_t *p = config_word((uintptr_t)base, bdf, reg);
  return p ? *p : 0xffffffffu;
}

void bcm2711_pcie_write(void *base, uint16_t bdf, uint16_t reg, uint32_t value) {
  volatile uint32_t *p = config_word((uintptr_t)base, bdf, reg);
  if (p) *p = value;
}
