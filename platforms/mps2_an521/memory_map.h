// Arm MPS2+ FPGA image AN521 (SSE-200, two Cortex-M33) under QEMU -M mps2-an521.
// The ELF given to -kernel boots CPU 0 in Secure state from the vector table at
// 0x10000000 (ZBT SSRAM1, Secure alias; linker.ld keeps the whole image there).
// CPU 1 stays held by the SSE-200's CPUWAIT and is never released here, so the
// banner reports cores=1: the cores actually running, not the two present.
// QEMU's AN521 CPUs have no FPU (CPACR reads 0, MVFR0 = 0; its AN505 has one): build
// this board soft-float, -target thumb-freestanding-eabi -mcpu=cortex_m33.
#ifndef PLATFORMS_MPS2_AN521_MEMORY_MAP_H_
#define PLATFORMS_MPS2_AN521_MEMORY_MAP_H_

#define MPS2_AN521_CONSOLE_UART 0x50200000u  // CMSDK UART0, Secure alias
#define MPS2_AN521_SYSCLK_HZ 25000000u       // UART clock (SYSCLK)
#define MPS2_AN521_CONSOLE_BAUD 115200u      // BAUDDIV 217

#endif  // PLATFORMS_MPS2_AN521_MEMORY_MAP_H_
