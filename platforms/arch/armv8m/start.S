// ARMv8-M Mainline (Cortex-M33) vector tables and reset handlers of both cores, shared by
// mps2_an521 and rp2350. Needs from linker.ld: the .vectors section first in the image,
// .vectors_core1 kept, __stack_top and __stack1_top (core 1),
// __data_start/__data_end/__data_load and __bss_start/__bss_end (all 4-byte aligned).

    .syntax unified
    .thumb

    // Reset SP and PC, then the 14 system exceptions; no interrupts are enabled.
    .section .vectors, "a"
    .global __vectors
__vectors:
    .word   __stack_top
    .word   _start
    .rept   14
    .word   park
    .endr

    .text
    // Reset handler; named _start like every image entry (ELF e_entry).
    .global _start
    .thumb_func
    .type   _start, %function
_start:
    // FPU (the hard-float ABI may use it anywhere): CPACR CP10/CP11 full access.
    ldr     r0, =0xe000ed88
    ldr     r1, [r0]
    orr     r1, r1, #(0xf << 20)
    str     r1, [r0]
    dsb
    isb

    ldr     r0, =__data_load        // .data initial values, copied when not in place
    ldr     r1, =__data_start
    ldr     r2, =__data_end
1:  cmp     r1, r2
    itt     lo
    ldrlo   r3, [r0], #4
    strlo   r3, [r1], #4
    blo     1b

    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    movs    r2, #0
2:  cmp     r0, r1
    it      lo
    strlo   r2, [r0], #4
    blo     2b

    bl      board_init
    bl      main
    bl      board_exit              // r0 = main's status; does not return

    // Core 1, when the board releases it (arch/armv8m_smp.h): its own vector table and stack.
    .section .vectors_core1, "a"
    .balign 256                     // VTOR's alignment for 16 entries and more
    .global __vectors_core1
__vectors_core1:
    .word   __stack1_top
    .word   _start_core1
    .rept   14
    .word   park
    .endr

    .text
    .thumb_func
    .type   _start_core1, %function
_start_core1:
    ldr     r0, =0xe000ed88         // CPACR is per core: FPU on for core 1 too
    ldr     r1, [r0]
    orr     r1, r1, #(0xf << 20)
    str     r1, [r0]
    dsb
    isb
    bl      armv8m_core1_main       // does not return

    // Faults (e.g. a semihosting BKPT with no debugger attached) stop here.
    .thumb_func
    .type   park, %function
park:
    wfi
    b       park
    .ltorg
