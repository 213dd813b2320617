"""The RP2350 image as the boot ROM sees it: a valid UF2 for rp2350-arm-s whose bytes are the
ELF's loadable segments, starting at flash 0x10000000 with the vector table, and an IMAGE_DEF
block (start marker 0xffffded3 ... end marker 0xab123579) in the first 4 KB."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from metalchat.elf import parse_elf32
from metalchat.uf2 import check_uf2, parse_uf2, to_binary

FLASH = 0x10000000


def _paths() -> tuple[Path, Path]:
    """The built image, given by the BUILD file as $RP2350_UF2 and $RP2350_ELF."""
    return Path(os.environ["RP2350_UF2"]), Path(os.environ["RP2350_ELF"])


def test_uf2_is_valid_for_rp2350_arm_secure() -> None:
    uf2, _ = _paths()
    summary = check_uf2(uf2.read_bytes(), uf2, expected_family="rp2350-arm-s")
    assert [f.name for f in summary.families] == ["rp2350-arm-s"]
    assert summary.families[0].ranges[0][0] == FLASH


def test_uf2_carries_exactly_the_elf_segments() -> None:
    uf2, elf = _paths()
    base, image = to_binary(parse_uf2(uf2.read_bytes(), uf2))
    assert base == FLASH
    for segment in parse_elf32(elf.read_bytes(), elf).segments:
        if not segment.data:
            continue
        at = segment.address - base
        assert image[at : at + len(segment.data)] == segment.data, hex(segment.address)


def test_flash_starts_with_vector_table_and_image_def() -> None:
    uf2, _ = _paths()
    _, image = to_binary(parse_uf2(uf2.read_bytes(), uf2))
    stack_top, reset = struct.unpack_from("<II", image, 0)
    assert 0x20000000 <= stack_top <= 0x20082000, hex(stack_top)  # SRAM
    assert FLASH < reset < FLASH + len(image) and reset & 1, hex(reset)  # Thumb, in flash
    head = image[:4096]
    start = head.find(struct.pack("<I", 0xFFFFDED3))
    assert start >= 0 and start % 4 == 0, "no IMAGE_DEF start marker in the first 4 KB"
    assert head.find(struct.pack("<I", 0xAB123579), start) > start, "no IMAGE_DEF end marker"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
