"""A minimal ELF32 reader: just enough to find what a loader puts where.

Only the ELF header and the program headers are read (no sections, no symbols). The
loadable contents of an image are its ``PT_LOAD`` segments: ``p_filesz`` bytes from
``p_offset`` in the file, placed at the *physical* address ``p_paddr`` (the load
address, LMA), which is where a flasher must write them. The rest of a segment up to
``p_memsz`` is zero-initialised memory (``.bss``) that the startup code clears, so it
is not part of the image.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from pathlib import Path

from metalchat.errors import MetalchatError

ELF_MAGIC = b"\x7fELF"
ELFCLASS32 = 1
ELFCLASS64 = 2
ELFDATA2LSB = 1
ELFDATA2MSB = 2
PT_LOAD = 1

# e_machine values worth naming in messages.
MACHINE_NAMES = {0x03: "x86", 0x28: "ARM", 0x3E: "x86-64", 0xB7: "AArch64", 0xF3: "RISC-V"}

_EHDR32 = struct.Struct("<16sHHIIIIIHHHHHH")  # 52 bytes
_PHDR32 = struct.Struct("<IIIIIIII")  # 32 bytes


@dataclass(frozen=True)
class Segment:
    """One loadable piece of an image: ``data`` belongs at physical address ``address``."""

    address: int
    data: bytes
    virtual_address: int = 0
    mem_size: int = 0
    flags: int = 0

    @property
    def end(self) -> int:
        return self.address + len(self.data)


@dataclass(frozen=True)
class ElfImage:
    """The parts of an ELF32 file a flasher needs."""

    machine: int
    entry: int
    segments: tuple[Segment, ...]

    @property
    def machine_name(self) -> str:
        return MACHINE_NAMES.get(self.machine, f"machine {self.machine:#x}")


def is_elf(data: bytes) -> bool:
    """True when ``data`` starts with the ELF magic number."""
    return data[:4] == ELF_MAGIC


def parse_elf32(data: bytes, path: str | Path | None = None) -> ElfImage:
    """Parse a little-endian ELF32 file and return its non-empty ``PT_LOAD`` segments.

    Segments come back sorted by physical address. Raises :class:`MetalchatError` for a
    file that is not ELF, is 64-bit or big-endian, or whose headers point outside the file.
    """
    if len(data) < 4 or not is_elf(data):
        raise MetalchatError("not an ELF file (missing \\x7fELF magic)", path)
    if len(data) < _EHDR32.size:
        raise MetalchatError(
            f"truncated ELF header: file has {len(data)} bytes, the header needs {_EHDR32.size}",
            path,
        )
    ident = data[:16]
    if ident[4] == ELFCLASS64:
        raise MetalchatError("64-bit ELF files are not supported here; expected ELF32", path)
    if ident[4] != ELFCLASS32:
        raise MetalchatError(f"unknown ELF class {ident[4]} (expected 1 = ELF32)", path)
    if ident[5] != ELFDATA2LSB:
        raise MetalchatError("big-endian ELF files are not supported; expected little-endian", path)
    (
        _ident,
        _etype,
        machine,
        _version,
        entry,
        phoff,
        _shoff,
        _flags,
        _ehsize,
        phentsize,
        phnum,
        _shentsize,
        _shnum,
        _shstrndx,
    ) = _EHDR32.unpack_from(data, 0)
    if phnum == 0:
        raise MetalchatError("ELF file has no program headers (was it linked?)", path)
    if phentsize < _PHDR32.size:
        raise MetalchatError(
            f"program header entries are {phentsize} bytes, expected at least {_PHDR32.size}",
            path,
        )
    table_end = phoff + phnum * phentsize
    if table_end > len(data):
        raise MetalchatError(
            f"program header table ({phnum} entries at offset {phoff:#x}) runs past the end "
            f"of the file ({len(data)} bytes); the file is truncated",
            path,
        )
    segments: list[Segment] = []
    for index in range(phnum):
        p_type, offset, vaddr, paddr, filesz, memsz, flags, _align = _PHDR32.unpack_from(
            data, phoff + index * phentsize
        )
        if p_type != PT_LOAD or filesz == 0:
            continue
        if offset + filesz > len(data):
            raise MetalchatError(
                f"segment {index} claims {filesz} bytes at file offset {offset:#x}, past the end "
                f"of the file ({len(data)} bytes); the file is truncated",
                path,
            )
        if filesz > memsz:
            raise MetalchatError(
                f"segment {index} has p_filesz {filesz} larger than p_memsz {memsz}", path
            )
        if paddr + filesz > 1 << 32:
            raise MetalchatError(
                f"segment {index} at {paddr:#x} ({filesz} bytes) runs past the 4 GiB address space",
                path,
            )
        segments.append(
            Segment(
                address=paddr,
                data=bytes(data[offset : offset + filesz]),
                virtual_address=vaddr,
                mem_size=memsz,
                flags=flags,
            )
        )
    segments.sort(key=lambda s: s.address)
    for before, after in itertools.pairwise(segments):
        if after.address < before.end:
            raise MetalchatError(
                f"loadable segments overlap: [{before.address:#010x}, {before.end:#010x}) and "
                f"[{after.address:#010x}, {after.end:#010x})",
                path,
            )
    if not segments:
        raise MetalchatError("ELF file has no loadable (PT_LOAD) contents", path)
    return ElfImage(machine=machine, entry=entry, segments=tuple(segments))


def build_elf32(
    segments: list[tuple[int, bytes]],
    *,
    entry: int = 0,
    machine: int = 0x28,
    bss: int = 0,
) -> bytes:
    """Build a tiny little-endian ELF32 executable holding ``segments`` (address, bytes).

    Used by tests and examples; each segment becomes one ``PT_LOAD`` with
    ``p_paddr == p_vaddr``; ``bss`` extra bytes of ``p_memsz`` are added to the last one.
    """
    phoff = _EHDR32.size
    offset = phoff + len(segments) * _PHDR32.size
    headers = b""
    body = b""
    for index, (address, blob) in enumerate(segments):
        extra = bss if index == len(segments) - 1 else 0
        headers += _PHDR32.pack(
            PT_LOAD, offset, address, address, len(blob), len(blob) + extra, 0x5, 4
        )
        body += blob
        offset += len(blob)
    ident = ELF_MAGIC + bytes([ELFCLASS32, ELFDATA2LSB, 1]) + bytes(9)
    header = _EHDR32.pack(
        ident,
        2,
        machine,
        1,
        entry,
        phoff,
        0,
        0x05000000,
        _EHDR32.size,
        _PHDR32.size,
        len(segments),
        40,
        0,
        0,
    )
    return header + headers + body
