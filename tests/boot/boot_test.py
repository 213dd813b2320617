"""Boots one board's banner image in QEMU and checks every field of its banner line.

    boot_test.py --board rpi4 --system aarch64 --machine raspi4b --kernel kernel8.img \
        --elf kernel8.elf --cpu cortex-a72 --privilege el=2 --cores 4
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from qemu import boot, qemu_command

BANNER = re.compile(
    r"^metalchat: board=(?P<board>\S+) cpu=(?P<cpu>\S+) (?P<privilege>(?:el|mode)=\S+) "
    r"cores=(?P<cores>\d+) build=(?P<build>[0-9a-f]{16})\r?$",
    re.MULTILINE,
)

# An ELF note: namesz 4, descsz 20, type NT_GNU_BUILD_ID (3), name "GNU\0", then the sha1.
_BUILD_ID_NOTE = b"\x04\x00\x00\x00\x14\x00\x00\x00\x03\x00\x00\x00GNU\x00"


def elf_build_id(elf: Path) -> str:
    """The hex GNU build id recorded in `elf` by the linker (--build-id=sha1)."""
    data = elf.read_bytes()
    at = data.find(_BUILD_ID_NOTE)
    if at < 0:
        raise AssertionError(f"{elf}: no GNU build-id note")
    start = at + len(_BUILD_ID_NOTE)
    return data[start : start + 20].hex()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--board", required=True)
    parser.add_argument("--system", required=True, help="QEMU system: aarch64 or arm")
    parser.add_argument("--machine", required=True, help="QEMU machine, e.g. raspi4b")
    parser.add_argument("--kernel", type=Path, required=True, help="file given to -kernel")
    parser.add_argument(
        "--elf", type=Path, required=True, help="the image's ELF (for the build id)"
    )
    parser.add_argument("--cpu", required=True, help="CPU name the banner must report")
    parser.add_argument("--privilege", required=True, help="e.g. el=2 or mode=svc")
    parser.add_argument("--cores", type=int, required=True, help="cores the banner must count")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--input", default="", help="console input (\\r for Enter)")
    parser.add_argument("--input-after", help="type --input once this text is on the console")
    parser.add_argument("extra", nargs="*", help="more QEMU arguments")
    args = parser.parse_args()

    command = qemu_command(args.system, args.machine, args.kernel, args.extra)
    print("$", " ".join(command))
    typed = args.input.replace("\\r", "\r").encode()
    run = boot(command, stdin=typed, timeout_s=args.timeout, after=args.input_after)
    print(run.console)
    print(f"QEMU exit status: {run.exit_code}")

    problems = []
    if run.exit_code != 0:
        problems.append(f"QEMU exited with {run.exit_code}, expected 0 (semihosting exit)")
    banner = BANNER.search(run.console)
    if banner is None:
        problems.append("no banner line 'metalchat: board=... build=...' on the console")
    else:
        expected = {
            "board": args.board,
            "cpu": args.cpu,
            "privilege": args.privilege,
            "cores": str(args.cores),
            "build": elf_build_id(args.elf)[:16],
        }
        for field, want in expected.items():
            if banner[field] != want:
                problems.append(f"banner {field}={banner[field]!r}, expected {want!r}")
    for problem in problems:
        print("FAIL:", problem)
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
