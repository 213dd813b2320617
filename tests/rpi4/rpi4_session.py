"""Helpers for the rpi4 board-support tests: an interactive QEMU raspi4b session, an ELF64
section and symbol table reader, and a pass/fail tally that prints "N passed, N failed".
"""

from __future__ import annotations

import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from qemu import QemuError, qemu_command

SYSTEM = "aarch64"
MACHINE = "raspi4b"


class Session:
    """QEMU raspi4b booting `kernel`, console on a pipe: wait for text, send bytes."""

    def __init__(self, kernel: Path, extra: list[str] | None = None) -> None:
        self.command = qemu_command(SYSTEM, MACHINE, kernel, extra or [])
        print("$", " ".join(self.command))
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._out = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(4096):
            with self._lock:
                self._out += chunk

    @property
    def console(self) -> str:
        with self._lock:
            return self._out.decode("utf-8", "replace")

    def wait_for(self, text: str, timeout_s: float) -> None:
        """Waits until `text` is on the console (or QEMU ended, or time ran out: QemuError)."""
        deadline = time.monotonic() + timeout_s
        while text not in self.console:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise QemuError(f"{text!r} did not appear; console so far:\n{self.console}")
            time.sleep(0.02)

    def send(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    def finish(self, timeout_s: float) -> int:
        """Waits for QEMU to exit (semihosting) and returns its status; kills it after timeout."""
        try:
            code = self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            self._proc.kill()
            self._proc.wait()
            raise QemuError(
                f"QEMU did not exit within {timeout_s:.0f} s; console so far:\n{self.console}"
            ) from exc
        self._reader.join(timeout=5)
        return code


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
