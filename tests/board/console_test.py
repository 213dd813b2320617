"""Boots //tests/board:<board>_console_test (rpi4, rpi3) and types at its console: PL011
polled receive and common/line_edit on the board (erase, Ctrl-U, CR LF, escape sequences, a
line longer than the 32-byte buffer, UTF-8), checking the lines the image reports and the echo.

    console_test.py --board rpi4 --machine raspi4b --kernel kernel8.img --elf kernel8.elf
"""

from __future__ import annotations

import sys

from board_session import Tally, arguments, boot

# (bytes typed, line the image must report, echo that must appear)
LINES = [
    (b"hello\r", "line len=5 truncated=0 text=hello", "hello\r\n"),
    (b"ab\x7fc\r", "line len=2 truncated=0 text=ac", "ab\b \bc\r\n"),
    (b"junk\x15ok\r\n", "line len=2 truncated=0 text=ok", "junk\b \b\b \b\b \b\b \bok\r\n"),
    (b"\x1b[Aup\r", "line len=2 truncated=0 text=up", "up\r\n"),
    ("caf\u00e9\x7f!\r".encode(), "line len=4 truncated=0 text=caf!", "caf\u00e9\b \b!\r\n"),
    (b"x" * 40 + b"\r", "line len=31 truncated=1 text=" + "x" * 31,
     "x" * 31 + " [line truncated to 31 bytes]\r\n"),
    (b"/exit\r", "line len=5 truncated=0 text=/exit", "/exit\r\n"),
]  # fmt: skip


def main() -> int:
    args = arguments(__doc__, timeout=60.0)
    session = boot(args.machine, args.kernel)
    # pl011_init empties the receive FIFO: type only once the image is listening.
    session.wait_for("console test: ready", args.timeout)
    tally = Tally()
    for typed, report, echo in LINES:
        session.send(typed)
        session.wait_for(report + "\r\n", args.timeout)
        tally.check(echo + report in session.console, f"{typed!r}: echo {echo!r} then {report!r}")
    status = session.finish(args.timeout)
    print(session.console)
    tally.check(status == 0, f"QEMU exit status {status} == 0 after /exit")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
