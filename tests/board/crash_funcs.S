// The faulting functions of the crash test image, in assembly so that each takes its
// exception on a known instruction; .size gives each its extent in the ELF's symbol table,
// which tests/board/crash_report_test.py checks the reported ELR against.

    .text
    .macro  crash_func name
    .global \name
    .type   \name, %function
    .balign 16
\name:
    .endm

    crash_func crash_data_abort        // load from 16 GB: inside the 36-bit map, unmapped
    mov     x0, #0x400000000
    ldr     x0, [x0]
    ret
    .size   crash_data_abort, . - crash_data_abort

    crash_func crash_brk
    brk     #0
    ret
    .size   crash_brk, . - crash_brk

    crash_func crash_undefined
    udf     #0
    ret
    .size   crash_undefined, . - crash_undefined
