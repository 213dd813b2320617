// Arm MPS2+ FPGA image AN521 (SSE-200, two Cortex-M33) under QEMU -M mps2-an521.
// The ELF given to -kernel boots CPU 0 in Secure state from the vector table at
// 0x10000000 (ZBT SSRAM1, Secure alias; linker.ld keeps the whole image there).
// CPU 1 is held by the SSE-200's CPUWAIT at reset; board_init points INITSVTOR1 at core 1's
// vector table and clears its CPUWAIT bit, and the banner counts it once it checks in.
// QEMU's AN521 CPUs have no FPU (CPACR reads 0, MVFR0 = 0; its AN505 has one): build
// this board soft-float, -target thumb-freestanding-eabi -mcpu=cortex_m33.
#ifndef PLATFORMS_MPS2_AN521_MEMORY_MAP_H_
#define PLATFORMS_MPS2_AN521_MEMORY_MAP_H_

#define MPS2_AN521_CONSOLE_UART 0x50200000u  // CMSDK UART0, Secure alias
#define MPS2_AN521_SYSCLK_HZ 25000000u       // UART clock (SYSCLK)
#define MPS2_AN521_CONSOLE_BAUD 115200u      // BAUDDIV 217

// SSE-200 system control registers (Secure only).
#define MPS2_AN521_SYSCTL 0x50021000u
#define SSE200_INITSVTOR1 0x114u  // CPU 1's Secure vector table at its reset
#define SSE200_CPUWAIT 0x118u     // bit n set: CPU n waits in reset
#define SSE200_CPUWAIT_CPU1 (1u << 1)
#define MPS2_AN521_CORE1_WAIT_SPINS 10000000u  // polls before giving up on CPU 1

#endif  // PLATFORMS_MPS2_AN521_MEMORY_MAP_H_
