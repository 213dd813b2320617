// PCI Express configuration and resource assignment, polled, no interrupts: configuration
// reads and writes through an accessor the board hands in (ECAM, or a root complex's own
// index/data window), a walk of every bus below the root that numbers bridges, sizes and
// assigns memory BARs (32- and 64-bit) from one memory window, opens the bridges' windows
// and turns on memory decoding and bus mastering. No I/O BARs, no prefetchable windows.
#ifndef DRIVERS_PCIE_H_
#define DRIVERS_PCIE_H_

#include <stdint.h>

#define PCIE_MAX_FUNCTIONS 16  // functions pcie_enumerate records

// Configuration space access: 32-bit aligned registers of function bdf (bus << 8 | dev << 3 |
// fn). read returns 0xffffffff for a function that is not there.
typedef struct pcie_config_ops {
  void *ctx;
  uint32_t (*read)(void *ctx, uint16_t bdf, uint16_t reg);
  void (*write)(void *ctx, uint16_t bdf, uint16_t reg, uint32_t value);
} pcie_config_ops;

// The ECAM accessor: ctx is the ECAM base of bus 0 (bus << 20 | dev << 15 | fn << 12 | reg).
uint32_t pcie_ecam_read(void *ecam, uint16_t bdf, uint16_t reg);
void pcie_ecam_write(void *ecam, uint16_t bdf, uint16_t reg, uint32_t value);

typedef struct pcie_host {
  pcie_config_ops cfg;
  uint8_t bus_first, bus_last;  // the buses the root decodes
  uint64_t mem_cpu;             // the memory window: CPU address,
  uint64_t mem_bus;             // the same on the PCI bus,
  uint64_t mem_size;            // and its size in bytes
  int allow_64bit;              // place 64-bit BARs (in the same window) too
} pcie_host;

typedef struct pcie_function {
  uint16_t bdf;
  uint16_t vendor, device;
  uint32_t class_code;   // class << 16 | subclass << 8 | programming interface
  uint64_t bar_cpu[6];   // CPU address of each memory BAR assigned (0: none)
  uint64_t bar_size[6];  // its size (0: none; a 64-bit BAR uses the slot of its low half)
} pcie_function;

enum pcie_status {
  PCIE_OK = 0,
  PCIE_ERR_NO_ROOM = -1,  // the memory window is too small for every BAR
  PCIE_ERR_BUSES = -2,    // more bridges than bus numbers
};

// Walks from bus_first, assigns bus numbers and BARs, enables decoding and bus mastering of
// every function whose BARs all fit. Records up to max endpoint functions in out; returns how
// many were found (more than max: only max recorded) or a negative pcie_status.
int pcie_enumerate(const pcie_host *host, pcie_function *out, int max);

// The first of n functions with class_code, or NULL.
const pcie_function *pcie_find_class(const pcie_function *f, int n, uint32_t class_code);

#define PCIE_CLASS_XHCI 0x0c0330u  // serial bus controller, USB, xHCI

#endif  // DRIVERS_PCIE_H_
