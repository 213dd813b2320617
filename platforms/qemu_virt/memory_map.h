// QEMU -M virt,virtualization=on,highmem=off -cpu cortex-a72 -m 1024 board facts. The ELF given
// to -kernel is loaded at its link address; only CPU 0 runs, the others start powered off until
// PSCI CPU_ON. virtualization=on starts the image at EL2 (where the MMU code runs; PSCI conduit
// SMC), highmem=off keeps everything below 4 GB (the PCIe ECAM at 0x3f000000, in the MMU's 36
// bits). QEMU implements PSCI itself: conduit HVC when the guest boots at EL1 instead.
#ifndef PLATFORMS_QEMU_VIRT_MEMORY_MAP_H_
#define PLATFORMS_QEMU_VIRT_MEMORY_MAP_H_

#define QEMU_VIRT_RAM_BASE 0x40000000u      // linker.ld links the image here
#define QEMU_VIRT_RAM_SIZE 0x40000000u      // -m 1024 (boards.bzl)
#define QEMU_VIRT_CONSOLE_UART 0x09000000u  // PL011
#define QEMU_VIRT_UART_CLOCK_HZ 24000000u   // "apb-pclk" in QEMU's device tree
#define QEMU_VIRT_CONSOLE_BAUD 115200u
#define QEMU_VIRT_CORES 4u  // run with -smp 4; fewer just report fewer
#define QEMU_VIRT_CORE_WAIT_MS 2000u

// The generic PCIe host (device tree "pci-host-ecam-generic", highmem=off): ECAM for buses
// 0-15, and the 32-bit memory window, where bus addresses equal CPU addresses. DMA is coherent
// ("dma-coherent"): bus address = CPU address, no cache maintenance.
#define QEMU_VIRT_PCIE_ECAM 0x3f000000u
#define QEMU_VIRT_PCIE_BUS_LAST 15u
#define QEMU_VIRT_PCIE_MEM 0x10000000u
#define QEMU_VIRT_PCIE_MEM_SIZE 0x2eff0000u
#define QEMU_VIRT_DEVICES_END 0x40000000u  // everything below RAM is MMIO (Device memory)

#endif  // PLATFORMS_QEMU_VIRT_MEMORY_MAP_H_
