// Arm MPS2+ FPGA image AN521 (SSE-200, two Cortex-M33) under QEMU -M mps2-an521: the RP2350's
// twin. The ELF given to -kernel boots CPU 0 in Secure state from the vector table at
// 0x10000000 (ZBT SSRAM1, Secure alias), which holds code, constants and the model region:
// the twin's "flash", the model region made read-only by the MPU as flash is on the RP2350.
// Data, stacks and the free RAM live in 520 KB of SSRAM2 (Secure alias 0x38000000), the
// RP2350's SRAM size: the app sees no more RAM than the real board has.
// CPU 1 is held by the SSE-200's CPUWAIT at reset; board_init points INITSVTOR1 at core 1's
// vector table and clears its CPUWAIT bit, and the banner counts it once it checks in.
// QEMU's SSE-200 gives only CPU 1 the FPU and DSP extension by default; boards.bzl turns them on
// for CPU 0 too (-global sse-200.CPU0_FPU=on, CPU0_DSP=on), so the twin runs the RP2350's
// build (-mcpu=cortex_m33+dsp+fp_armv8d16sp) on both cores.
#ifndef PLATFORMS_MPS2_AN521_MEMORY_MAP_H_
#define PLATFORMS_MPS2_AN521_MEMORY_MAP_H_

#define MPS2_AN521_CONSOLE_UART 0x50200000u  // CMSDK UART0, Secure alias
#define MPS2_AN521_SYSCLK_HZ 20000000u       // SYSCLK: the UART's and the timer's clock
#define MPS2_AN521_CONSOLE_BAUD 115200u

// SSE-200 CMSDK timer 0 (Secure alias): a 32-bit down counter at SYSCLK, board_time_us.
#define MPS2_AN521_TIMER0 0x50000000u

// SSE-200 system control registers (Secure only).
#define MPS2_AN521_SYSCTL 0x50021000u
#define SSE200_INITSVTOR1 0x114u  // CPU 1's Secure vector table at its reset
#define SSE200_CPUWAIT 0x118u     // bit n set: CPU n waits in reset
#define SSE200_CPUWAIT_CPU1 (1u << 1)
#define MPS2_AN521_CORE1_WAIT_SPINS 10000000u  // polls before giving up on CPU 1

#endif  // PLATFORMS_MPS2_AN521_MEMORY_MAP_H_
