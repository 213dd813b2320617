// ARM1176JZF-S (ARMv6, ARM state) entry for the Pi Zero. Needs from linker.ld:
// __stack_top and __bss_start/__bss_end (4-byte aligned).

    .arm
    .section .text.boot, "ax"
    .global _start
_start:
    ldr     sp, =__stack_top

    // VFP before any float: CPACR cp10/cp11 full access, flush the prefetch
    // buffer (ARMv6's ISB), then FPEXC.EN. Else the first VFP instruction is undefined.
    mrc     p15, 0, r0, c1, c0, 2
    orr     r0, r0, #(0xf << 20)
    mcr     p15, 0, r0, c1, c0, 2
    mov     r0, #0
    mcr     p15, 0, r0, c7, c5, 4
    mov     r0, #(1 << 30)
    vmsr    fpexc, r0
    // RunFast mode (FPSCR.FZ flush-to-zero, FPSCR.DN default NaN, no trapped exceptions): the
    // VFP11 then never bounces a subnormal operand or result to support code, which bare metal
    // does not have (an underflowing softmax exp would otherwise stop the board).
    mov     r0, #(3 << 24)
    vmsr    fpscr, r0

    // Unaligned loads and stores as ARMv6 defines them (SCTLR.U = 1, alignment checks off:
    // SCTLR.A = 0): the compiler emits them for ARMv6. With U = 0 (the reset value) they fault
    // or, on real silicon in the legacy mode, load rotated words.
    mrc     p15, 0, r0, c1, c0, 0
    orr     r0, r0, #(1 << 22)
    bic     r0, r0, #(1 << 1)
    mcr     p15, 0, r0, c1, c0, 0

    // Low vectors (SCTLR.V = 0) live at address 0: copy a table sending every
    // exception to park, so a semihosting SVC with no host attached stops quietly.
    adr     r0, vectors
    mov     r1, #0
    add     r2, r0, #(vectors_end - vectors)
1:  ldr     r3, [r0], #4
    str     r3, [r1], #4
    cmp     r0, r2
    blo     1b

    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    mov     r2, #0
2:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     2b

    bl      board_init
    bl      main
    bl      board_exit              // r0 = main's status; does not return

park:
    wfi
    b       park

    // Position independent: each entry loads pc from the address word 8 words on.
vectors:
    .rept   8
    ldr     pc, [pc, #24]
    .endr
    .rept   8
    .word   park
    .endr
vectors_end:
    .ltorg
