// The BCM2711's PCIe root complex (Broadcom STB "brcmstb" controller, one x1 port): reset,
// SerDes power-up, the outbound memory window (CPU -> PCIe), the inbound DMA window (PCIe ->
// RAM), PERST release and link training, and configuration access for drivers/pcie (the root
// port's own registers at the base; the devices below through an index register and a 4 KiB
// data window). Written from public descriptions of the register map; see docs/USB.md for what
// has not been tried on a board. The board hands in the base and the windows.
#ifndef DRIVERS_BCM2711_PCIE_H_
#define DRIVERS_BCM2711_PCIE_H_

#include <stdint.h>

#include "drivers/pcie.h"

typedef struct bcm2711_pcie_config {
  uintptr_t base;     // the controller's registers
  uint64_t out_cpu;   // outbound window: CPU address,
  uint64_t out_bus;   // PCIe address (below 4 GB),
  uint64_t out_size;  // size (a multiple of 1 MB)
  uint64_t in_size;   // inbound window at PCIe address 0 = CPU address 0: a power of two,
                      // 64 KB..32 GB, not reaching out_bus
  uint64_t (*now_us)(void);
  uint32_t link_timeout_us;  // how long to wait for the link (100 ms is plenty with a device)
  // Optional: a read that survives a missing register block (0 and *v, or -1), to find out
  // whether the controller is there at all before touching it (QEMU's raspi4b has none).
  int (*probe)(uintptr_t addr, uint32_t *v);
} bcm2711_pcie_config;

// Brings the root complex up and waits for the link. Returns 0, or -1 with *why set ("PCIe link
// did not come up", ...).
int bcm2711_pcie_start(const bcm2711_pcie_config *c, const char **why);

// Configuration access for pcie_enumerate: ctx is the controller's base (as a pointer).
uint32_t bcm2711_pcie_read(void *base, uint16_t bdf, uint16_t reg);
void bcm2711_pcie_write(void *base, uint16_t bdf, uint16_t reg, uint32_t value);

#endif  // DRIVERS_BCM2711_PCIE_H_
