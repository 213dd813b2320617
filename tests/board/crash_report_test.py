"""Boots //tests/board:<board>_crash_test (rpi4, rpi3) three times (data abort, brk, undefined
instruction) and checks each crash report: exception class, fault details, ELR inside the
function that faulted (from the ELF's symbol table), and QEMU's exit status 70 from board_exit.

    crash_report_test.py --board rpi4 --machine raspi4b --kernel kernel8.img --elf kernel8.elf
"""

from __future__ import annotations

import re
import sys

from board_session import Tally, arguments, boot, elf64_symbols

CRASH_STATUS = 70
# (byte sent, function that faults, ESR class line, more text the report must contain)
CASES = [
    (b"d", "crash_data_abort", "class: 0x25 data abort, same EL",
     ["translation fault, level 1, read", "FAR=0x0000000400000000"]),
    (b"b", "crash_brk", "class: 0x3c BRK instruction", []),
    (b"u", "crash_undefined", "class: 0x00 unknown reason", []),
]  # fmt: skip


def main() -> int:
    args = arguments(__doc__, timeout=60.0)
    symbols = elf64_symbols(args.elf)
    tally = Tally()
    for byte, function, class_line, details in CASES:
        session = boot(args.machine, args.kernel)
        session.wait_for("crash test: send", args.timeout)
        session.send(byte)
        status = session.finish(args.timeout)
        console = session.console
        print(console)
        what = f"[{function}]"
        tally.check(status == CRASH_STATUS, f"{what} QEMU exit status {status} == {CRASH_STATUS}")
        tally.check("*** crash: synchronous exception" in console, f"{what} crash report printed")
        tally.check(class_line in console, f"{what} report names '{class_line}'")
        for detail in details:
            tally.check(detail in console, f"{what} report says '{detail}'")
        regs = re.findall(r"\bx(\d\d)=0x[0-9a-f]{16}", console)
        tally.check(regs == [f"{i:02d}" for i in range(31)], f"{what} x00..x30 all printed")
        tally.check(re.search(r"sp =0x[0-9a-f]{16}", console) is not None, f"{what} SP printed")
        tally.check(re.search(r"SPSR=0x[0-9a-f]{16}", console) is not None, f"{what} SPSR printed")
        elr = re.search(r"ELR=0x([0-9a-f]{16})", console)
        sym = symbols.get(function)
        if elr is None or sym is None:
            tally.check(False, f"{what} ELR printed and symbol {function} in the ELF")
            continue
        pc = int(elr[1], 16)
        tally.check(
            sym.value <= pc < sym.value + sym.size,
            f"{what} ELR {pc:#x} inside {function} [{sym.value:#x}, {sym.value + sym.size:#x})",
        )
        tally.check(
            sym.value > 0x80000 and sym.size > 0, f"{what} {function} has a plausible extent"
        )
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
