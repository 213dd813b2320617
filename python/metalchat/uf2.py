"""UF2 images for the RP2040/RP2350 boot ROM: write them, read them back, and check them.

UF2 (Microsoft's USB Flashing Format, https://github.com/microsoft/uf2) is a file of
independent 512-byte blocks, each carrying where its payload goes::

    offset  size  field
         0     4  magicStart0  0x0A324655 ("UF2\\n")
         4     4  magicStart1  0x9E5D5157
         8     4  flags        0x2000 = familyID present, 0x8000 = extension tags present, ...
        12     4  targetAddr   where the payload is written
        16     4  payloadSize  bytes of data used (256 for the Raspberry Pi boot ROMs)
        20     4  blockNo      0-based sequence number
        24     4  numBlocks    how many blocks the file (for that family) holds
        28     4  familyID     (or fileSize when the familyID flag is clear)
        32   476  data         payload, then optional extension tags, zero padded
       508     4  magicEnd     0x0AB16F30

All fields are little-endian. The RP2040 and RP2350 boot ROMs take 256-byte payloads at
256-byte aligned addresses and use the family ID to decide what the image is; the IDs
below are the ones the RP2350 datasheet lists as understood by its boot ROM (section
5.5.3, "UF2 targeting rules").

RP2350-E10 (RP2350 datasheet, appendix E): on A2 silicon, dragging a UF2 onto the boot
ROM's USB drive fails when a *partition table* is present in flash, because the ROM does
not set up the flash before reading the table. The workaround is one extra block at the
start of the UF2 with the ``absolute`` family, block number 0 and block count 2, aimed at
the last page of flash: it is written first and sets the flash up. That block erases the
last flash sector (it may hold user data), and A3 and later boot ROMs fix the erratum and
skip the block because it carries the ``RP2_IGNORE_BLOCK`` extension tag (0x9957e3).
metalchat's RP2350 images are single bare-metal images without a partition table, so the
erratum does not apply to them and :func:`encode` adds no such block unless asked
(``abs_block=``); :func:`check_uf2` accepts and reports one when present (picotool adds it).
"""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from metalchat.elf import Segment, is_elf, parse_elf32
from metalchat.errors import MetalchatError

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30

BLOCK_SIZE = 512
HEADER_SIZE = 32
DATA_AREA_SIZE = 476
PAGE_SIZE = 256  # payload per block, as the RP2040/RP2350 boot ROMs require

FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FILE_CONTAINER = 0x00001000
FLAG_FAMILY_ID_PRESENT = 0x00002000
FLAG_MD5_PRESENT = 0x00004000
FLAG_EXTENSION_TAGS_PRESENT = 0x00008000
KNOWN_FLAGS = (
    FLAG_NOT_MAIN_FLASH
    | FLAG_FILE_CONTAINER
    | FLAG_FAMILY_ID_PRESENT
    | FLAG_MD5_PRESENT
    | FLAG_EXTENSION_TAGS_PRESENT
)

# Raspberry Pi extension tag: "this block exists only for RP2350-E10; A3+ ROMs ignore it".
TAG_RP2_IGNORE_BLOCK = 0x9957E3

FAMILY_RP2040 = 0xE48BFF56
FAMILY_ABSOLUTE = 0xE48BFF57
FAMILY_DATA = 0xE48BFF58
FAMILY_RP2350_ARM_S = 0xE48BFF59
FAMILY_RP2350_RISCV = 0xE48BFF5A
FAMILY_RP2350_ARM_NS = 0xE48BFF5B

_HEADER = struct.Struct("<8I")
_FOOTER = struct.Struct("<I")


@dataclass(frozen=True)
class Region:
    """An address range a family's boot ROM writes to."""

    name: str
    start: int
    end: int  # exclusive

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


FLASH_BASE = 0x10000000
RP2040_REGIONS = (
    Region("flash", FLASH_BASE, FLASH_BASE + 16 * 1024 * 1024),
    Region("sram", 0x20000000, 0x20000000 + 264 * 1024),
)
RP2350_REGIONS = (
    Region("flash", FLASH_BASE, FLASH_BASE + 16 * 1024 * 1024),
    Region("sram", 0x20000000, 0x20000000 + 520 * 1024),
)
FLASH_ONLY = (RP2350_REGIONS[0],)


@dataclass(frozen=True)
class Family:
    name: str
    family_id: int
    description: str
    regions: tuple[Region, ...]


FAMILIES: tuple[Family, ...] = (
    Family("rp2040", FAMILY_RP2040, "RP2040 executable image", RP2040_REGIONS),
    Family("absolute", FAMILY_ABSOLUTE, "written to flash as is, ignoring partitions", FLASH_ONLY),
    Family("data", FAMILY_DATA, "generic data", FLASH_ONLY),
    Family(
        "rp2350-arm-s",
        FAMILY_RP2350_ARM_S,
        "RP2350 Arm Secure image (boot ROM boots it)",
        RP2350_REGIONS,
    ),
    Family("rp2350-riscv", FAMILY_RP2350_RISCV, "RP2350 RISC-V image", RP2350_REGIONS),
    Family("rp2350-arm-ns", FAMILY_RP2350_ARM_NS, "RP2350 Arm Non-secure image", RP2350_REGIONS),
)
_BY_ID = {family.family_id: family for family in FAMILIES}
_BY_NAME = {family.name: family for family in FAMILIES}

DEFAULT_FAMILY = "rp2350-arm-s"
DEFAULT_ABS_BLOCK_ADDRESS = FLASH_BASE + 16 * 1024 * 1024 - PAGE_SIZE  # last page of 16 MB


def family_name(family_id: int | None) -> str:
    """A readable name for a family ID: ``rp2350-arm-s`` or ``0x12345678``."""
    if family_id is None:
        return "(none)"
    family = _BY_ID.get(family_id)
    return family.name if family else f"{family_id:#010x}"


def resolve_family(value: str | int) -> int:
    """Turn a family name (``rp2350-arm-s``) or number (``0xe48bff59``) into its ID."""
    if isinstance(value, int):
        family_id = value
    else:
        text = value.strip().lower()
        if text in _BY_NAME:
            return _BY_NAME[text].family_id
        try:
            family_id = int(text, 0)
        except ValueError:
            names = ", ".join(f.name for f in FAMILIES)
            raise MetalchatError(
                f"unknown UF2 family {value!r}; use one of {names} or a number like 0xe48bff59"
            ) from None
    if not 0 <= family_id <= 0xFFFFFFFF:
        raise MetalchatError(f"UF2 family ID {family_id:#x} does not fit in 32 bits")
    return family_id


# ---------------------------------------------------------------------------------------
# blocks


@dataclass(frozen=True)
class Uf2Block:
    """One 512-byte UF2 block, decoded."""

    flags: int
    target_address: int
    payload: bytes
    block_no: int
    num_blocks: int
    family_or_size: int
    tags: tuple[tuple[int, bytes], ...] = ()  # (tag type, tag data) extension tags
    padding_clean: bool = True  # bytes after payload/tags were all zero

    @property
    def family_id(self) -> int | None:
        return self.family_or_size if self.flags & FLAG_FAMILY_ID_PRESENT else None

    @property
    def end(self) -> int:
        return self.target_address + len(self.payload)

    def has_tag(self, tag: int) -> bool:
        return any(kind == tag for kind, _ in self.tags)

    def pack(self) -> bytes:
        """Encode as exactly 512 bytes."""
        data = bytearray(self.payload)
        if self.tags:
            data += bytes(-len(data) % 4)
            for kind, blob in self.tags:
                size = 4 + len(blob)
                if size > 0xFF:
                    raise MetalchatError(f"UF2 extension tag {kind:#x} is too long ({size} bytes)")
                data += struct.pack("<I", size | (kind << 8)) + blob + bytes(-size % 4)
        if len(data) > DATA_AREA_SIZE:
            raise MetalchatError(
                f"UF2 block payload and tags need {len(data)} bytes, more than {DATA_AREA_SIZE}"
            )
        flags = self.flags | (FLAG_EXTENSION_TAGS_PRESENT if self.tags else 0)
        header = _HEADER.pack(
            MAGIC_START0,
            MAGIC_START1,
            flags,
            self.target_address,
            len(self.payload),
            self.block_no,
            self.num_blocks,
            self.family_or_size,
        )
        return header + bytes(data) + bytes(DATA_AREA_SIZE - len(data)) + _FOOTER.pack(MAGIC_END)


def _where(index: int) -> str:
    return f"block {index} (file offset {index * BLOCK_SIZE:#x})"


def _parse_tags(
    data: bytes, start: int, index: int, path: str | Path | None
) -> tuple[tuple[tuple[int, bytes], ...], int]:
    tags: list[tuple[int, bytes]] = []
    pos = start + (-start % 4)
    while pos + 4 <= DATA_AREA_SIZE:
        (word,) = struct.unpack_from("<I", data, pos)
        if word == 0:
            break
        size, kind = word & 0xFF, word >> 8
        if size < 4 or pos + size > DATA_AREA_SIZE:
            raise MetalchatError(
                f"{_where(index)}: extension tag {kind:#08x} at data offset {pos} has size "
                f"{size}, which does not fit the {DATA_AREA_SIZE}-byte data area",
                path,
            )
        tags.append((kind, bytes(data[pos + 4 : pos + size])))
        pos += size + (-size % 4)
    return tuple(tags), pos


def unpack_block(raw: bytes, index: int = 0, path: str | Path | None = None) -> Uf2Block:
    """Decode one 512-byte block, checking its magic numbers and payload size."""
    if len(raw) != BLOCK_SIZE:
        raise MetalchatError(f"{_where(index)}: has {len(raw)} bytes, expected {BLOCK_SIZE}", path)
    magic0, magic1, flags, address, size, block_no, num_blocks, family = _HEADER.unpack_from(raw)
    (magic_end,) = _FOOTER.unpack_from(raw, BLOCK_SIZE - 4)
    for name, got, want in (
        ("first magic (magicStart0)", magic0, MAGIC_START0),
        ("second magic (magicStart1)", magic1, MAGIC_START1),
        ("final magic (magicEnd)", magic_end, MAGIC_END),
    ):
        if got != want:
            raise MetalchatError(
                f"{_where(index)}: bad {name} {got:#010x}, expected {want:#010x}; "
                "this is not a UF2 block (wrong file, or the file is corrupted)",
                path,
            )
    if size == 0 or size > DATA_AREA_SIZE:
        raise MetalchatError(
            f"{_where(index)}: payloadSize {size} is outside 1..{DATA_AREA_SIZE}", path
        )
    data = raw[HEADER_SIZE : HEADER_SIZE + DATA_AREA_SIZE]
    tags: tuple[tuple[int, bytes], ...] = ()
    used = size
    if flags & FLAG_EXTENSION_TAGS_PRESENT:
        tags, used = _parse_tags(data, size, index, path)
    padding_clean = not any(data[used:])
    return Uf2Block(
        flags, address, bytes(data[:size]), block_no, num_blocks, family, tags, padding_clean
    )


def parse_uf2(data: bytes, path: str | Path | None = None) -> list[Uf2Block]:
    """Split a UF2 file into decoded blocks, checking sizes and magic numbers only."""
    if not data:
        raise MetalchatError("file is empty, expected UF2 blocks", path)
    if len(data) % BLOCK_SIZE:
        whole, rest = divmod(len(data), BLOCK_SIZE)
        raise MetalchatError(
            f"file is {len(data)} bytes, not a multiple of {BLOCK_SIZE}: the last block has only "
            f"{rest} bytes after {whole} whole blocks (truncated download or copy?)",
            path,
        )
    return [
        unpack_block(data[offset : offset + BLOCK_SIZE], offset // BLOCK_SIZE, path)
        for offset in range(0, len(data), BLOCK_SIZE)
    ]


# ---------------------------------------------------------------------------------------
# writing


def paginate(
    segments: Iterable[Segment], page_size: int = PAGE_SIZE, fill: int = 0
) -> list[tuple[int, bytes]]:
    """Cut segments into ``page_size``-aligned pages (address, bytes), in address order.

    Bytes of a page that no segment covers are ``fill``. Segments must not overlap.
    """
    pages: dict[int, bytearray] = {}
    covered: dict[int, bytearray] = {}
    for segment in sorted(segments, key=lambda s: s.address):
        address = segment.address
        view = memoryview(segment.data)
        while view:
            page = address - address % page_size
            start = address - page
            count = min(page_size - start, len(view))
            buffer = pages.setdefault(page, bytearray([fill]) * page_size)
            mask = covered.setdefault(page, bytearray(page_size))
            if any(mask[start : start + count]):
                raise MetalchatError(
                    f"two segments both write address {address:#010x}; they overlap"
                )
            buffer[start : start + count] = view[:count]
            mask[start : start + count] = b"\x01" * count
            address += count
            view = view[count:]
    return [(page, bytes(pages[page])) for page in sorted(pages)]


def e10_block(address: int = DEFAULT_ABS_BLOCK_ADDRESS) -> Uf2Block:
    """The RP2350-E10 workaround block (see the module docstring)."""
    if address % PAGE_SIZE:
        raise MetalchatError(f"E10 block address {address:#x} is not {PAGE_SIZE}-byte aligned")
    return Uf2Block(
        flags=FLAG_FAMILY_ID_PRESENT,
        target_address=address,
        payload=b"\xef" * PAGE_SIZE,
        block_no=0,
        num_blocks=2,
        family_or_size=FAMILY_ABSOLUTE,
        tags=((TAG_RP2_IGNORE_BLOCK, b""),),
    )


def encode(
    segments: Sequence[Segment],
    family: str | int = DEFAULT_FAMILY,
    *,
    abs_block: int | None = None,
    check_regions: bool = True,
) -> bytes:
    """Encode loadable segments as UF2: 256-byte pages, one block each, numbered in order.

    ``family`` is a name from :data:`FAMILIES` or a number. With ``check_regions`` every
    page must lie in memory the family's boot ROM writes (flash or SRAM).
    ``abs_block`` adds the RP2350-E10 workaround block at that address first.
    """
    family_id = resolve_family(family)
    if not segments or not any(segment.data for segment in segments):
        raise MetalchatError("nothing to write: the input has no bytes to load")
    pages = paginate(segments)
    known = _BY_ID.get(family_id)
    if check_regions and known is not None:
        for address, _ in pages:
            if not any(r.contains(address, address + PAGE_SIZE) for r in known.regions):
                spans = ", ".join(f"{r.name} {r.start:#010x}-{r.end:#010x}" for r in known.regions)
                raise MetalchatError(
                    f"address {address:#010x} is outside the memory a {known.name} UF2 can "
                    f"target ({spans}); check the linker script's load addresses or --base"
                )
    blocks: list[bytes] = []
    if abs_block is not None:
        if family_id in (FAMILY_ABSOLUTE, FAMILY_RP2040):
            raise MetalchatError(
                "the RP2350-E10 block only makes sense for RP2350 families, not "
                f"{family_name(family_id)}"
            )
        blocks.append(e10_block(abs_block).pack())
    for number, (address, payload) in enumerate(pages):
        blocks.append(
            Uf2Block(FLAG_FAMILY_ID_PRESENT, address, payload, number, len(pages), family_id).pack()
        )
    return b"".join(blocks)


def load_segments(data: bytes, base: int | None, path: str | Path | None = None) -> list[Segment]:
    """The loadable contents of an input file: ELF ``PT_LOAD`` segments, or a raw binary.

    A raw binary needs ``base`` (its load address); for an ELF ``base`` must be ``None``.
    """
    if is_elf(data):
        if base is not None:
            raise MetalchatError(
                "--base is for raw binaries; an ELF file carries its own load addresses", path
            )
        return list(parse_elf32(data, path).segments)
    if base is None:
        raise MetalchatError(
            "not an ELF file, so it is taken as a raw binary, which needs its load address: "
            "pass --base (e.g. --base 0x10000000 for the start of RP2350 flash)",
            path,
        )
    if not data:
        raise MetalchatError("file is empty", path)
    if base < 0 or base + len(data) > 1 << 32:
        raise MetalchatError(f"a {len(data)}-byte image at {base:#x} does not fit in 4 GiB", path)
    return [Segment(address=base, data=data)]


def convert(
    data: bytes,
    *,
    base: int | None = None,
    family: str | int = DEFAULT_FAMILY,
    abs_block: int | None = None,
    path: str | Path | None = None,
) -> bytes:
    """Convert an ELF32 file or raw binary (with ``base``) to UF2 bytes."""
    try:
        return encode(load_segments(data, base, path), family, abs_block=abs_block)
    except MetalchatError as exc:
        raise exc.with_path(path) if path is not None else exc from None


# ---------------------------------------------------------------------------------------
# checking


@dataclass
class FamilySummary:
    family_id: int | None
    blocks: int = 0
    payload_bytes: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)  # merged [start, end)

    @property
    def name(self) -> str:
        return family_name(self.family_id)


@dataclass
class Uf2Summary:
    """What :func:`check_uf2` found in a valid file."""

    blocks: int
    families: list[FamilySummary]
    e10_block: Uf2Block | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "blocks": self.blocks,
                "bytes": self.blocks * BLOCK_SIZE,
                "families": [
                    {
                        "family": f.name,
                        "family_id": None if f.family_id is None else f"{f.family_id:#010x}",
                        "blocks": f.blocks,
                        "payload_bytes": f.payload_bytes,
                        "ranges": [[f"{a:#010x}", f"{b:#010x}"] for a, b in f.ranges],
                    }
                    for f in self.families
                ],
                "e10_block": None
                if self.e10_block is None
                else f"{self.e10_block.target_address:#010x}",
                "notes": self.notes,
            },
            indent=2,
        )

    def describe(self) -> str:
        lines = [f"valid UF2: {self.blocks} blocks ({self.blocks * BLOCK_SIZE} bytes)"]
        for fam in self.families:
            fid = "no family ID" if fam.family_id is None else f"{fam.family_id:#010x}"
            lines.append(
                f"  family {fam.name} ({fid}): {fam.blocks} blocks, "
                f"{fam.payload_bytes} payload bytes"
            )
            known = _BY_ID.get(fam.family_id) if fam.family_id is not None else None
            for start, end in fam.ranges:
                where = ""
                if known is not None:
                    region = next((r for r in known.regions if r.contains(start, end)), None)
                    where = f"  {region.name}" if region else ""
                lines.append(f"    {start:#010x}-{end:#010x}  {end - start:>9} bytes{where}")
        if self.e10_block is not None:
            lines.append(
                f"  RP2350-E10 workaround block at {self.e10_block.target_address:#010x} "
                "(absolute family; ignored by A3+ boot ROMs)"
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def _is_e10_block(block: Uf2Block) -> bool:
    return (
        block.family_id == FAMILY_ABSOLUTE
        and block.block_no == 0
        and block.num_blocks == 2
        and len(block.payload) == PAGE_SIZE
    )


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def check_blocks(
    blocks: Sequence[Uf2Block],
    path: str | Path | None = None,
    *,
    expected_family: str | int | None = None,
) -> Uf2Summary:
    """Validate decoded blocks against the UF2 spec and the Raspberry Pi boot ROM's rules.

    Checks: known flags only; a family ID on every block (the RP boot ROMs require one);
    for the RP families 256-byte payloads at 256-byte aligned addresses (4-byte alignment
    otherwise); block numbers 0..n-1 in file order and the same block count n within each
    family; no two blocks of a family writing the same byte; addresses inside the
    family's flash/SRAM; and, if given, that the image is for ``expected_family``.
    """
    want = None if expected_family is None else resolve_family(expected_family)
    notes: list[str] = []
    e10: Uf2Block | None = None
    groups: dict[int | None, list[tuple[int, Uf2Block]]] = {}
    for index, block in enumerate(blocks):
        where = _where(index)
        unknown = block.flags & ~KNOWN_FLAGS
        if unknown:
            raise MetalchatError(f"{where}: unknown flag bits {unknown:#010x} set", path)
        if block.flags & FLAG_FILE_CONTAINER:
            raise MetalchatError(
                f"{where}: is a file-container block (flag 0x1000), not a firmware image", path
            )
        family = block.family_id
        rp = family in _BY_ID
        if rp and len(block.payload) != PAGE_SIZE:
            raise MetalchatError(
                f"{where}: payloadSize is {len(block.payload)}; the Raspberry Pi boot ROM only "
                f"accepts {PAGE_SIZE}-byte payloads",
                path,
            )
        alignment = PAGE_SIZE if rp else 4
        if block.target_address % alignment:
            raise MetalchatError(
                f"{where}: target address {block.target_address:#010x} is not "
                f"{alignment}-byte aligned",
                path,
            )
        if len(block.payload) % 4:
            raise MetalchatError(
                f"{where}: payloadSize {len(block.payload)} is not a multiple of 4", path
            )
        if block.end > 1 << 32:
            raise MetalchatError(f"{where}: payload runs past the 4 GiB address space", path)
        if not block.padding_clean:
            notes.append(f"{where}: data area after the payload is not zero-filled")
        if index == 0 and _is_e10_block(block) and len(blocks) > 1:
            e10 = block
            continue
        groups.setdefault(family, []).append((index, block))

    if not groups:
        raise MetalchatError("file holds no image blocks", path)
    if None in groups:
        first = groups[None][0][0]
        raise MetalchatError(
            f"{_where(first)}: has no family ID (flag 0x2000 clear); the RP2040/RP2350 boot "
            "ROMs ignore such blocks — rebuild with a family, e.g. --family rp2350-arm-s",
            path,
        )
    if want is not None and want not in groups:
        found = ", ".join(family_name(f) for f in groups)
        raise MetalchatError(f"image is for {found}, not {family_name(want)}", path)

    summaries: list[FamilySummary] = []
    for family, members in groups.items():
        count = len(members)
        summary = FamilySummary(family)
        spans: list[tuple[int, int, int]] = []
        for expected_no, (index, block) in enumerate(members):
            where = _where(index)
            if block.block_no != expected_no:
                raise MetalchatError(
                    f"{where}: blockNo is {block.block_no}, expected {expected_no} "
                    f"(blocks of family {family_name(family)} must be numbered 0..{count - 1} "
                    "in file order; a block is missing, duplicated or out of order)",
                    path,
                )
            if block.num_blocks != count:
                raise MetalchatError(
                    f"{where}: numBlocks is {block.num_blocks}, but the file holds {count} "
                    f"blocks of family {family_name(family)}",
                    path,
                )
            summary.blocks += 1
            if block.flags & FLAG_NOT_MAIN_FLASH:
                continue
            summary.payload_bytes += len(block.payload)
            spans.append((block.target_address, block.end, index))
        spans.sort()
        for (s0, e0, i0), (s1, _e1, i1) in itertools.pairwise(spans):
            if s1 < e0:
                raise MetalchatError(
                    f"{_where(i1)}: writes {s1:#010x}, which block {i0} "
                    f"({s0:#010x}-{e0:#010x}) already writes; blocks overlap",
                    path,
                )
        summary.ranges = _merge([(s, e) for s, e, _ in spans])
        known = _BY_ID.get(family) if family is not None else None
        if known is not None:
            for start, end, index in spans:
                if not any(r.contains(start, end) for r in known.regions):
                    regions = ", ".join(
                        f"{r.name} {r.start:#010x}-{r.end:#010x}" for r in known.regions
                    )
                    raise MetalchatError(
                        f"{_where(index)}: target {start:#010x}-{end:#010x} is outside the memory "
                        f"a {known.name} image can be written to ({regions})",
                        path,
                    )
        summaries.append(summary)
    return Uf2Summary(blocks=len(blocks), families=summaries, e10_block=e10, notes=notes)


def check_uf2(
    data: bytes, path: str | Path | None = None, *, expected_family: str | int | None = None
) -> Uf2Summary:
    """Parse and validate a UF2 file; raise :class:`MetalchatError` on the first problem."""
    return check_blocks(parse_uf2(data, path), path, expected_family=expected_family)


def to_binary(
    blocks: Sequence[Uf2Block],
    *,
    family: str | int | None = None,
    fill: int = 0,
) -> tuple[int, bytes]:
    """Rebuild the memory image a UF2 writes: (lowest address, bytes up to the highest).

    Blocks of other families, the E10 block and not-main-flash blocks are left out; gaps
    between blocks become ``fill``.
    """
    want = None if family is None else resolve_family(family)
    chosen = [
        b
        for b in blocks
        if not (b.flags & FLAG_NOT_MAIN_FLASH)
        and not (b.family_id == FAMILY_ABSOLUTE and b.has_tag(TAG_RP2_IGNORE_BLOCK))
        and (want is None or b.family_id == want)
    ]
    if not chosen:
        raise MetalchatError(f"no blocks of family {family_name(want)} to unpack")
    families = {b.family_id for b in chosen}
    if len(families) > 1:
        names = ", ".join(family_name(f) for f in families)
        raise MetalchatError(f"the file holds several families ({names}); pick one with --family")
    low = min(b.target_address for b in chosen)
    high = max(b.end for b in chosen)
    if high - low > 64 * 1024 * 1024:
        raise MetalchatError(
            f"blocks span {high - low} bytes ({low:#x}-{high:#x}); too sparse "
            "to unpack as one binary"
        )
    image = bytearray([fill]) * (high - low)
    for b in chosen:
        image[b.target_address - low : b.end - low] = b.payload
    return low, bytes(image)
