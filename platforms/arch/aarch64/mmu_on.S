// MMU and cache switch-on for the EL2 regime; leaf routines, no stack (secondaries call
// them before their first memory access, see start.S).

    .text

    // x0 = MAIR_EL2, x1 = TCR_EL2, x2 = TTBR0_EL2. Sets SCTLR_EL2.{M,C,I}, clears A
    // (alignment checks: unaligned normal-memory accesses are fine) and WXN.
    .global aarch64_mmu_on_el2
aarch64_mmu_on_el2:
    msr     mair_el2, x0
    msr     tcr_el2, x1
    msr     ttbr0_el2, x2
    isb
    tlbi    alle2                       // no stale translations from before
    dsb     ish
    ic      iallu                       // nor stale instructions
    dsb     ish
    isb
    mrs     x0, sctlr_el2
    mov     x1, #((1 << 0) | (1 << 2) | (1 << 12))     // M, C, I
    orr     x0, x0, x1
    mov     x1, #(1 << 1)                              // A
    orr     x1, x1, #(1 << 19)                         // WXN
    bic     x0, x0, x1
    msr     sctlr_el2, x0
    isb
    ret

    // Secondaries: the same switch-on with core 0's configuration (aarch64_mmu_config in
    // mmu.c: enabled, mair, tcr, ttbr0), or nothing when core 0 enabled no MMU.
    .global aarch64_mmu_secondary_on
aarch64_mmu_secondary_on:
    adrp    x3, aarch64_mmu_config
    add     x3, x3, :lo12:aarch64_mmu_config
    ldr     x0, [x3]
    cbz     x0, 1f
    mrs     x0, CurrentEL
    cmp     x0, #(2 << 2)
    b.ne    1f
    ldp     x0, x1, [x3, #8]
    ldr     x2, [x3, #24]
    b       aarch64_mmu_on_el2
1:  ret
