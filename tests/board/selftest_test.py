"""Checks a board's engines image: it linked (the ELF exists), and, for boards QEMU can boot,
the kernel self-test it runs there reports 0 failures and exits QEMU with status 0.

    selftest_test.py --board mps2_an521 --elf kernel.elf [--system arm --machine mps2-an521
        --kernel kernel.elf -- extra QEMU args]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from qemu import boot, qemu_command

RESULT = r"^{} self-test: board=(\S+) (\d+) passed, (\d+) failed\r?$"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--board", required=True)
    parser.add_argument("--label", default="kernels", help="the self-test's result line label")
    parser.add_argument("--elf", type=Path, required=True)
    parser.add_argument("--system")
    parser.add_argument("--machine")
    parser.add_argument("--kernel", type=Path)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()

    if not args.elf.is_file() or args.elf.stat().st_size == 0:
        print(f"{args.board}: no linked image at {args.elf}")
        return 1
    print(f"{args.board}: engines + kernels linked ({args.elf.stat().st_size} bytes of ELF)")
    if not args.machine:
        print(f"{args.board}: no QEMU machine; link checked only")
        return 0

    run = boot(qemu_command(args.system, args.machine, args.kernel, args.extra), timeout_s=120)
    print(run.console)
    found = re.search(RESULT.format(re.escape(args.label)), run.console, re.MULTILINE)
    if not found:
        print(f"{args.board}: no self-test result line (QEMU exit {run.exit_code})")
        return 1
    board, passed, failed = found.group(1), int(found.group(2)), int(found.group(3))
    ok = board == args.board and failed == 0 and passed > 0 and run.exit_code == 0
    print(f"{args.board}: {passed} passed, {failed} failed, QEMU exit {run.exit_code}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
