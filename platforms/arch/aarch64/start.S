// AArch64 entry shared by rpi4, rpi3 and qemu_virt. Every core enters at _start,
// core 0 from the loader and secondaries when a board releases them (spin table
// or PSCI CPU_ON). Needs from the linker script: __stacks_bottom/__stacks_top
// (per-core slots of __core_stack_size, core N's slot top = top - N * size) and
// __bss_start/__bss_end (8-byte aligned).

    .section .text.boot, "ax"
    .global _start
_start:
    mrs     x19, mpidr_el1
    and     x19, x19, #0xff             // Aff0: core index within the cluster

    adrp    x1, __stacks_top
    add     x1, x1, :lo12:__stacks_top
    ldr     x2, =__core_stack_size
    msub    x1, x19, x2, x1             // top of this core's stack slot
    adrp    x3, __stacks_bottom
    add     x3, x3, :lo12:__stacks_bottom
    cmp     x1, x3
    b.ls    park                        // more cores than stack slots
    mov     sp, x1

    // Allow FP/SIMD at the current EL (the compiler uses it freely) and point
    // the vectors at park, so a stray trap (e.g. semihosting with no host) stops quietly.
    adr     x1, vectors
    mrs     x0, CurrentEL
    lsr     x0, x0, #2
    cmp     x0, #2
    b.eq    1f
    b.hi    2f
    mov     x2, #(3 << 20)              // CPACR_EL1.FPEN = 0b11
    msr     cpacr_el1, x2
    msr     vbar_el1, x1
    b       3f
1:  mrs     x2, cptr_el2
    bic     x2, x2, #(1 << 10)          // CPTR_EL2.TFP = 0
    msr     cptr_el2, x2
    msr     vbar_el2, x1
    b       3f
2:  mrs     x2, cptr_el3
    bic     x2, x2, #(1 << 10)          // CPTR_EL3.TFP = 0
    msr     cptr_el3, x2
    msr     vbar_el3, x1
3:  isb

    mov     x0, x19
    cbnz    x19, aarch64_secondary_main

    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
4:  cmp     x1, x2
    b.hs    5f
    str     xzr, [x1], #8
    b       4b
5:  bl      board_init
    bl      main
    bl      board_exit                  // w0 = main's status; does not return

park:
    wfe
    b       park
    .ltorg

    // 16 entries of 0x80 bytes, table aligned to 2 KB.
    .balign 0x800
vectors:
    .rept   16
    .balign 0x80
    b       park
    .endr
