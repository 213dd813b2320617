"""Boot a board image in QEMU, its first UART on this terminal.

As a library: `qemu_command`, `boot` (with a timeout, console captured) and `Session` (type
at a running guest, wait for its answers) for tests.
As a program: the run targets, e.g. `bazel run //images:rpi4_qemu`; type at the board's console
(Ctrl-A X quits QEMU), or pipe input in (`printf '1\nHello\n' | bazel run //images:rpi4_qemu`):
the input is passed on once the guest has printed its first line (a UART initialising drops
what arrived before), and when it runs out the run ends as soon as the guest exits or has been
quiet for --idle-exit seconds (then QEMU is stopped and the status is 0), so scripts never hang.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
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


class Session:
    """QEMU running `command` with its console on pipes: wait for text, type bytes.

    `echo`, if given, receives every byte of console output as it arrives.
    """

    def __init__(self, command: list[str], echo: Callable[[bytes], None] | None = None) -> None:
        self.command = command
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._out = bytearray()
        self._lock = threading.Lock()
        self._echo = echo
        self._at = 0  # where `until` goes on reading
        self.last_output = time.monotonic()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(4096):
            with self._lock:
                self._out += chunk
                self.last_output = time.monotonic()
            if self._echo:
                self._echo(chunk)

    @property
    def console(self) -> str:
        """Everything the guest printed so far."""
        with self._lock:
            return self._out.decode("utf-8", "replace")

    def exited(self) -> int | None:
        """QEMU's exit status, or None while it runs."""
        return self._proc.poll()

    def wait_for(self, text: str, timeout_s: float, start: int = 0) -> int:
        """Waits until `text` is on the console at or after index `start`; returns the index
        just past it. QemuError if QEMU ends or time runs out first."""
        deadline = time.monotonic() + timeout_s
        while (at := self.console.find(text, start)) < 0:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self._reader.join(timeout=1)
                if (at := self.console.find(text, start)) >= 0:
                    break
                raise QemuError(f"{text!r} did not appear; console so far:\n{self.console}")
            time.sleep(0.01)
        return at + len(text)

    def send(self, data: bytes) -> None:
        """Types `data` at the guest's console."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    def until(self, text: str, timeout_s: float) -> str:
        """The console from where the last `until` stopped to just past the next `text`
        (a conversation read in order: each call returns only what is new)."""
        end = self.wait_for(text, timeout_s, self._at)
        out = self.console[self._at : end]
        self._at = end
        return out

    def line(self, text: str, until: str, timeout_s: float) -> str:
        """Types `text` and Enter, then returns the console up to `until` (see `until`)."""
        self.send(text.encode() + b"\r")
        return self.until(until, timeout_s)

    def finish(self, timeout_s: float) -> int:
        """Waits for QEMU to exit and returns its status; kills it (QemuError) after timeout."""
        try:
            code = self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            self.stop()
            raise QemuError(
                f"QEMU did not exit within {timeout_s:.0f} s; console so far:\n{self.console}"
            ) from exc
        self._reader.join(timeout=5)
        return code

    def stop(self) -> None:
        """Ends QEMU (terminate, then kill)."""
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=5)


def boot(
    command: list[str], stdin: bytes = b"", timeout_s: float = 60.0, after: str | None = None
) -> QemuRun:
    """Runs QEMU until the guest exits (semihosting) or `timeout_s` passes. With `after`, the
    `stdin` bytes are typed only once that text is on the console."""
    if after is not None:
        session = Session(command)
        try:
            session.wait_for(after, timeout_s)
            session.send(stdin)
            code = session.finish(timeout_s)
        finally:
            if session.exited() is None:
                session.stop()
        return QemuRun(command, code, session.console)
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


def relay(command: list[str], idle_exit_s: float) -> int:
    """Runs QEMU with this process's stdin piped to the guest and its console to stdout."""

    def echo(chunk: bytes) -> None:
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()

    session = Session(command, echo)
    try:
        session.wait_for("\n", timeout_s=float("inf"))
    except QemuError:
        return session.finish(5)
    done = threading.Event()

    def forward() -> None:
        try:
            while data := os.read(sys.stdin.fileno(), 4096):
                session.send(data)
        except (BrokenPipeError, OSError):
            pass
        done.set()

    threading.Thread(target=forward, daemon=True).start()
    while (code := session.exited()) is None:
        if done.is_set() and time.monotonic() - session.last_output > idle_exit_s:
            print(
                f"\nqemu.py: input ended and the guest was quiet for {idle_exit_s:g} s: "
                "stopping QEMU",
                file=sys.stderr,
            )
            session.stop()
            return 0
        time.sleep(0.05)
    session.finish(5)
    return code


def main() -> int:
    from metalchat.fileio import runfile_or_user_path  # the CLI only: the library needs none

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--system", required=True, help="QEMU system: aarch64 or arm")
    parser.add_argument("--machine", required=True, help="QEMU machine, e.g. raspi4b")
    parser.add_argument(
        "--kernel", type=runfile_or_user_path, required=True, help="image or ELF for -kernel"
    )
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=5.0,
        help="piped input: seconds of guest silence after the input ends before QEMU is stopped",
    )
    parser.add_argument("extra", nargs="*", help="more QEMU arguments (after --)")
    args = parser.parse_args()
    try:
        command = qemu_command(args.system, args.machine, args.kernel.resolve(), args.extra)
    except QemuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not sys.stdin.isatty():
        return relay(command, args.idle_exit)
    # Interactive: QEMU owns the terminal (-serial mon:stdio gives Ctrl-A X to quit).
    command[command.index("-serial") + 1] = "mon:stdio"
    command.remove("-monitor")
    command.remove("none")
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
