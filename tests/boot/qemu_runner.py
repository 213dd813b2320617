"""Boot an image in QEMU with a timeout and capture its console (the board's first UART)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class QemuError(Exception):
    """QEMU could not be started or did not finish in time."""


@dataclass(frozen=True)
class QemuRun:
    """What one QEMU boot produced."""

    command: list[str]
    exit_code: int
    console: str


def qemu_command(system: str, machine: str, kernel: Path, extra: list[str]) -> list[str]:
    """The command line that boots `kernel` on `machine`, console on stdio, semihosting on."""
    binary = f"qemu-system-{system}"
    if shutil.which(binary) is None:
        raise QemuError(f"{binary} not found on PATH: run ./bazelw once to install QEMU")
    return [
        binary,
        "-M", machine,
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",
        "-semihosting-config", "enable=on,target=native",
        "-kernel", str(kernel),
        *extra,
    ]  # fmt: skip


def boot(command: list[str], stdin: bytes = b"", timeout_s: float = 60.0) -> QemuRun:
    """Runs QEMU until the guest exits (semihosting) or `timeout_s` passes."""
    try:
        done = subprocess.run(
            command, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout_s, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        seen = (exc.stdout or b"").decode("utf-8", "replace")
        raise QemuError(
            f"QEMU did not exit within {timeout_s:.0f} s; console so far:\n{seen}"
        ) from exc
    return QemuRun(command, done.returncode, done.stdout.decode("utf-8", "replace"))
