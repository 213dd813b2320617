"""Helpers for the board-support tests: a QEMU session to type into, an ELF64 section and
symbol table reader, a pass/fail tally that prints "N passed, N failed", and the command line
every driver takes (--board, --machine, --kernel, --elf).
"""

from __future__ import annotations

import argparse
import struct
from dataclasses import dataclass
from pathlib import Path

from qemu import Session, qemu_command

SYSTEM = "aarch64"


def arguments(doc: str, timeout: float) -> argparse.Namespace:
    """The drivers' command line: the board (its name, QEMU machine), its image and ELF."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--board", required=True, help="board name, e.g. rpi4")
    parser.add_argument("--machine", required=True, help="QEMU machine, e.g. raspi4b")
    parser.add_argument("--kernel", type=Path, required=True)
    parser.add_argument("--elf", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=timeout)
    return parser.parse_args()


def boot(machine: str, kernel: Path, extra: list[str] | None = None) -> Session:
    """QEMU `machine` booting `kernel`, its console on pipes (tools/qemu's Session)."""
    command = qemu_command(SYSTEM, machine, kernel, extra or [])
    print("$", " ".join(command))
    return Session(command)


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    data: bytes  # empty for NOBITS (.bss, .stacks)
    size: int


def elf64_sections(path: Path) -> dict[str, tuple[Section, int, int, int]]:
    """Sections of a little-endian ELF64 file by name: (section, type, link, entry size)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not a little-endian ELF64 file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]

    def name_of(offset: int) -> str:
        return data[offset : data.index(b"\0", offset)].decode()

    sections = {}
    for index, (name, sh_type, _flags, addr, offset, size, link, _info, _al, entsize) in enumerate(
        headers
    ):
        contents = b"" if sh_type == 8 else data[offset : offset + size]  # 8: SHT_NOBITS
        section = Section(name_of(names_at + name), addr, contents, size)
        sections[section.name or f"#{index}"] = (section, sh_type, link, entsize)
    return sections


def elf64_symbols(path: Path) -> dict[str, Symbol]:
    """The symbol table (.symtab) by name; empty when the image was linked without one."""
    sections = elf64_sections(path)
    by_index = list(sections.values())
    symbols: dict[str, Symbol] = {}
    for section, sh_type, link, entsize in by_index:
        if sh_type != 2:  # SHT_SYMTAB
            continue
        strings = by_index[link][0].data
        for at in range(0, len(section.data), entsize):
            st_name, _info, _other, _shndx, value, size = struct.unpack_from(
                "<IBBHQQ", section.data, at
            )
            name = strings[st_name : strings.index(b"\0", st_name)].decode()
            if name:
                symbols[name] = Symbol(name, value, size)
    return symbols


class Tally:
    """Counts checks, prints each failure, and the final "N passed, N failed" line."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str) -> None:
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}")

    def finish(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
