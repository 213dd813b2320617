"""Boot a board image in QEMU, its first UART on this terminal.

As a library: `qemu_command` and `boot` (with a timeout, console captured) for tests.
As a program: the run targets, e.g. `bazel run //images:rpi4_qemu`; type at the board's console,
or pipe input in (`printf '1\nHello\n' | bazel run //images:rpi4_qemu`). Ctrl-A X quits QEMU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--system", required=True, help="QEMU system: aarch64 or arm")
    parser.add_argument("--machine", required=True, help="QEMU machine, e.g. raspi4b")
    parser.add_argument("--kernel", type=Path, required=True, help="image or ELF for -kernel")
    parser.add_argument("extra", nargs="*", help="more QEMU arguments (after --)")
    args = parser.parse_args()
    try:
        command = qemu_command(args.system, args.machine, args.kernel.resolve(), args.extra)
    except QemuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if sys.stdin.isatty():
        # Interactive: QEMU owns the terminal (-serial mon:stdio gives Ctrl-A X to quit).
        command[command.index("-serial") + 1] = "mon:stdio"
        command.remove("-monitor")
        command.remove("none")
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
