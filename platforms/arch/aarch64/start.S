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

    // Allow FP/SIMD at the current EL (the compiler uses it freely) and install the
    // vectors (exception.c: a crash report if the board asked for one, else park).
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
    cbz     x19, 4f
    // A secondary turns on its MMU and caches (core 0's tables, if core 0 made any)
    // before its first memory access: with them off its loads and stores would bypass
    // the caches the other cores use. Uses no stack.
    bl      aarch64_mmu_secondary_on
    mov     x0, x19
    b       aarch64_secondary_main

4:  adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
5:  cmp     x1, x2
    b.hs    6f
    str     xzr, [x1], #8
    b       5b
6:  bl      board_init
    bl      main
    bl      board_exit                  // w0 = main's status; does not return

    .global aarch64_park
aarch64_park:
park:
    wfe
    b       park
    .ltorg

    // Exception vectors: 16 entries of 0x80 bytes, table aligned to 2 KB. Each entry
    // saves x0..x30 and the interrupted SP in a 256-byte frame on the current stack
    // (struct aarch64_frame) and calls aarch64_exception(kind, frame), which does not
    // return. kind = entry index: 0-3 current EL with SP_EL0, 4-7 current EL with
    // SP_ELx, 8-11 lower EL AArch64, 12-15 lower EL AArch32; within each group of four:
    // synchronous, IRQ, FIQ, SError.
    .macro  ventry kind
    .balign 0x80
    sub     sp, sp, #256
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       vector_common
    .endm

    .balign 0x800
vectors:
    .irp    kind, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    ventry  \kind
    .endr

vector_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    add     x1, sp, #256                // SP before the exception (same-EL exceptions)
    stp     x30, x1, [sp, #240]
    mov     x1, sp
    bl      aarch64_exception
    b       park
