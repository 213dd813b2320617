"""UF2 writer and checker, against the UF2 spec's block layout (hand-computed bytes)."""

from __future__ import annotations

import struct

import pytest

from metalchat import uf2
from metalchat.elf import build_elf32, parse_elf32
from metalchat.errors import MetalchatError

# One block for the 4 bytes 01 02 03 04 at 0x10000000, family rp2350-arm-s, written out
# field by field from the spec (little-endian words).
EXPECTED_HEADER = bytes.fromhex(
    "5546320a"  # magicStart0 0x0A324655 "UF2\n"
    "57515d9e"  # magicStart1 0x9E5D5157
    "00200000"  # flags: familyID present (0x2000)
    "00000010"  # targetAddr 0x10000000
    "00010000"  # payloadSize 256
    "00000000"  # blockNo 0
    "01000000"  # numBlocks 1
    "59ff8be4"  # familyID 0xe48bff59 (rp2350-arm-s)
)
EXPECTED_FOOTER = bytes.fromhex("306fb10a")  # magicEnd 0x0AB16F30


def test_single_block_bytes_match_the_spec() -> None:
    out = uf2.convert(b"\x01\x02\x03\x04", base=0x10000000)
    assert len(out) == 512
    assert out[:32] == EXPECTED_HEADER
    assert out[32:36] == b"\x01\x02\x03\x04"
    assert out[36:508] == bytes(472)  # rest of the page, then the unused data area
    assert out[508:] == EXPECTED_FOOTER


def test_family_ids_match_the_rp2350_datasheet() -> None:
    assert uf2.resolve_family("rp2040") == 0xE48BFF56
    assert uf2.resolve_family("absolute") == 0xE48BFF57
    assert uf2.resolve_family("data") == 0xE48BFF58
    assert uf2.resolve_family("rp2350-arm-s") == 0xE48BFF59
    assert uf2.resolve_family("rp2350-riscv") == 0xE48BFF5A
    assert uf2.resolve_family("rp2350-arm-ns") == 0xE48BFF5B
    assert uf2.resolve_family("0x12345678") == 0x12345678
    with pytest.raises(MetalchatError, match="unknown UF2 family 'rp9999'"):
        uf2.resolve_family("rp9999")


def test_multi_block_numbering_and_unaligned_base() -> None:
    data = bytes((i * 7) & 0xFF for i in range(600))
    out = uf2.convert(data, base=0x10000080, family="rp2040")
    blocks = uf2.parse_uf2(out)
    # 0x80 + 600 = 728 bytes from 0x10000000: pages 0x10000000, 0x10000100, 0x10000200
    assert [b.target_address for b in blocks] == [0x10000000 + 256 * i for i in range(3)]
    assert [b.block_no for b in blocks] == [0, 1, 2]
    assert {b.num_blocks for b in blocks} == {3}
    assert {b.family_id for b in blocks} == {0xE48BFF56}
    assert blocks[0].payload[:0x80] == bytes(0x80)  # page head not covered: zero filled
    base, image = uf2.to_binary(blocks)
    assert base == 0x10000000
    assert image[0x80 : 0x80 + 600] == data
    assert image[0x80 + 600 :] == bytes(len(image) - 0x80 - 600)


def test_round_trip_raw_binary() -> None:
    data = bytes(range(256)) * 5 + b"tail"
    out = uf2.convert(data, base=0x10000000)
    summary = uf2.check_uf2(out, expected_family="rp2350-arm-s")
    assert summary.blocks == 6
    assert summary.families[0].ranges == [(0x10000000, 0x10000600)]
    base, image = uf2.to_binary(uf2.parse_uf2(out))
    assert base == 0x10000000
    assert image[: len(data)] == data


def test_elf_segments_by_physical_address() -> None:
    text = b"\x00\x20\x08\x20" + bytes(range(1, 200))  # "vector table" + code
    rodata = b"hello, board\x00\x00\x00\x00"
    elf = build_elf32([(0x10000000, text), (0x10001000, rodata)], entry=0x10000001, bss=64)
    image = parse_elf32(elf)
    assert [s.address for s in image.segments] == [0x10000000, 0x10001000]
    assert image.machine_name == "ARM"
    out = uf2.convert(elf)
    blocks = uf2.parse_uf2(out)
    assert [b.target_address for b in blocks] == [0x10000000, 0x10001000]
    assert blocks[0].payload[: len(text)] == text
    assert blocks[1].payload[: len(rodata)] == rodata
    # .bss (p_memsz beyond p_filesz) is not part of the image
    assert uf2.check_uf2(out).families[0].payload_bytes == 512


def test_elf_uses_load_address_not_virtual_address() -> None:
    elf = bytearray(build_elf32([(0x20000000, b"data")]))
    # rewrite p_paddr (program header 0, field 3) to a flash address: .data loaded from flash
    struct.pack_into("<I", elf, 52 + 12, 0x10002000)
    out = uf2.convert(bytes(elf))
    assert uf2.parse_uf2(out)[0].target_address == 0x10002000


def test_elf_errors() -> None:
    elf = build_elf32([(0x10000000, b"abcd" * 64)])
    with pytest.raises(MetalchatError, match="truncated"):
        uf2.convert(elf[:-10], path="k.elf")
    with pytest.raises(MetalchatError, match="64-bit ELF"):
        parse_elf32(elf[:4] + b"\x02" + elf[5:])
    overlapping = build_elf32([(0x10000000, b"a" * 32), (0x10000010, b"b" * 32)])
    with pytest.raises(MetalchatError, match="overlap"):
        uf2.convert(overlapping)


def test_raw_binary_needs_base_and_valid_region() -> None:
    with pytest.raises(MetalchatError, match="pass --base"):
        uf2.convert(b"\x00" * 16, path="x.bin")
    with pytest.raises(MetalchatError, match="outside the memory a rp2350-arm-s UF2 can target"):
        uf2.convert(b"\x00" * 16, base=0x30000000)
    # SRAM images are fine
    uf2.check_uf2(uf2.convert(b"\x00" * 16, base=0x20000000))


def test_e10_block() -> None:
    out = uf2.convert(b"\x55" * 300, base=0x10000000, abs_block=uf2.DEFAULT_ABS_BLOCK_ADDRESS)
    blocks = uf2.parse_uf2(out)
    assert len(blocks) == 3
    first = blocks[0]
    assert first.family_id == 0xE48BFF57
    assert (first.block_no, first.num_blocks) == (0, 2)
    assert first.target_address == 0x10FFFF00
    assert first.flags == 0x2000 | 0x8000
    assert first.has_tag(0x9957E3)
    # the RP2_IGNORE_BLOCK tag word follows the 256-byte payload
    assert out[32 + 256 : 32 + 260] == struct.pack("<I", 0x9957E304)
    summary = uf2.check_uf2(out)
    assert summary.e10_block is not None
    assert [(f.name, f.blocks) for f in summary.families] == [("rp2350-arm-s", 2)]
    base, _ = uf2.to_binary(blocks)
    assert base == 0x10000000  # the workaround block is not part of the image
    with pytest.raises(MetalchatError, match="only makes sense for RP2350"):
        uf2.convert(b"x", base=0x10000000, family="rp2040", abs_block=0x10FFFF00)


# --- malformed files --------------------------------------------------------------------


def _good() -> bytearray:
    return bytearray(uf2.convert(bytes(range(256)) * 3, base=0x10000000))


def test_rejects_bad_magics() -> None:
    for offset, name in ((0, "first magic"), (4, "second magic"), (508, "final magic")):
        bad = _good()
        bad[512 + offset] ^= 0xFF
        with pytest.raises(MetalchatError, match=f"block 1 .*bad {name}"):
            uf2.check_uf2(bytes(bad), "x.uf2")


def test_rejects_truncated_file() -> None:
    bad = bytes(_good()[:-100])
    with pytest.raises(MetalchatError, match=r"x.uf2: file is 1436 bytes, not a multiple of 512"):
        uf2.check_uf2(bad, "x.uf2")
    with pytest.raises(MetalchatError, match="empty"):
        uf2.check_uf2(b"", "x.uf2")


def _patch(data: bytearray, block: int, field: int, value: int) -> bytes:
    struct.pack_into("<I", data, block * 512 + field * 4, value)
    return bytes(data)


def test_rejects_wrong_block_count() -> None:
    bad = _patch(_good(), 2, 6, 4)  # numBlocks field of the last block
    with pytest.raises(MetalchatError, match=r"block 2 .*numBlocks is 4, but the file holds 3"):
        uf2.check_uf2(bad)
    missing = bytes(_good()[512:])  # first block dropped
    with pytest.raises(MetalchatError, match="blockNo is 1, expected 0"):
        uf2.check_uf2(missing)


def test_rejects_out_of_order_blocks() -> None:
    good = _good()
    swapped = good[512:1024] + good[:512] + good[1024:]
    with pytest.raises(MetalchatError, match=r"block 0 .*blockNo is 1, expected 0"):
        uf2.check_uf2(bytes(swapped))


def test_rejects_misaligned_address() -> None:
    bad = _patch(_good(), 1, 3, 0x10000104)
    with pytest.raises(MetalchatError, match="target address 0x10000104 is not 256-byte aligned"):
        uf2.check_uf2(bad)


def test_rejects_overlap() -> None:
    bad = _patch(_good(), 2, 3, 0x10000100)
    with pytest.raises(MetalchatError, match="blocks overlap"):
        uf2.check_uf2(bad)


def test_rejects_wrong_payload_size_and_family() -> None:
    with pytest.raises(MetalchatError, match="only accepts 256-byte payloads"):
        uf2.check_uf2(_patch(_good(), 0, 4, 128))
    with pytest.raises(MetalchatError, match="payloadSize 477"):
        uf2.check_uf2(_patch(_good(), 0, 4, 477))
    with pytest.raises(MetalchatError, match="image is for rp2350-arm-s, not rp2040"):
        uf2.check_uf2(bytes(_good()), expected_family="rp2040")
    no_family = _good()
    for block in range(3):
        struct.pack_into("<I", no_family, block * 512 + 8, 0)
    with pytest.raises(MetalchatError, match="has no family ID"):
        uf2.check_uf2(bytes(no_family))


def test_rejects_address_outside_flash() -> None:
    bad = _patch(_good(), 2, 3, 0x11000000)
    with pytest.raises(MetalchatError, match="outside the memory"):
        uf2.check_uf2(bad)


def test_unknown_flags_rejected() -> None:
    with pytest.raises(MetalchatError, match="unknown flag bits 0x00000100"):
        uf2.check_uf2(_patch(_good(), 0, 2, 0x2100))


def test_summary_json() -> None:
    import json

    doc = json.loads(uf2.check_uf2(bytes(_good())).to_json())
    assert doc["blocks"] == 3
    assert doc["families"][0]["family_id"] == "0xe48bff59"
    assert doc["families"][0]["ranges"] == [["0x10000000", "0x10000300"]]


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
