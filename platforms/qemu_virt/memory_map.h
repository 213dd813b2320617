// QEMU -M virt -cpu cortex-a72 board facts. The ELF given to -kernel is loaded at its
// link address; only CPU 0 runs, the others start powered off until PSCI CPU_ON.
// QEMU implements PSCI itself: conduit HVC when the guest boots at EL1 (the default),
// SMC with -M virt,virtualization=on (boot at EL2); board.c picks by current EL.
#ifndef PLATFORMS_QEMU_VIRT_MEMORY_MAP_H_
#define PLATFORMS_QEMU_VIRT_MEMORY_MAP_H_

#define QEMU_VIRT_RAM_BASE 0x40000000u      // linker.ld links the image here
#define QEMU_VIRT_CONSOLE_UART 0x09000000u  // PL011
#define QEMU_VIRT_UART_CLOCK_HZ 24000000u   // "apb-pclk" in QEMU's device tree
#define QEMU_VIRT_CONSOLE_BAUD 115200u
#define QEMU_VIRT_CORES 4u  // run with -smp 4; fewer just report fewer
#define QEMU_VIRT_CORE_WAIT_MS 2000u

#endif  // PLATFORMS_QEMU_VIRT_MEMORY_MAP_H_
