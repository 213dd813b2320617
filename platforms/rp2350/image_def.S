// RP2350 boot ROM metadata (datasheet 5.9 "Metadata block details", 5.9.5.1 "Minimum
// Arm IMAGE_DEF"): one block holding an IMAGE_TYPE item, linked to itself so the block
// loop is closed. linker.ld places it right after the vector table, within the first
// 4 KB of flash; with no VECTOR_TABLE item the ROM uses the table at the image start.

    .section .image_def, "a"
    .balign 4
    .word   0xffffded3      // PICOBIN_BLOCK_MARKER_START
    .byte   0x42            // item PICOBIN_BLOCK_ITEM_1BS_IMAGE_TYPE
    .byte   1               // item size in words
    .hword  0x1021          // EXE | security S (2 << 4) | CPU Arm (0 << 8) | chip RP2350 (1 << 12)
    .byte   0xff            // item PICOBIN_BLOCK_ITEM_2BS_LAST
    .hword  1               // words of items before it
    .byte   0               // pad
    .word   0               // relative link to the next block: 0 = itself
    .word   0xab123579      // PICOBIN_BLOCK_MARKER_END
