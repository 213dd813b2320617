"""Boots //tests/board:<board>_smp_test (rpi4, rpi3): parallel-for on 1..4 cores against the
serial result. The image checks itself; this checks that all four cores came online, that
every core count ran on that many distinct cores with matching results, and the image's
pass/fail line.

    smp_test.py --board rpi4 --machine raspi4b --kernel kernel8.img --elf kernel8.elf
"""

from __future__ import annotations

import re
import sys

from board_session import Tally, arguments, boot

CORES = 4


def main() -> int:
    args = arguments(__doc__, timeout=240.0)
    session = boot(args.machine, args.kernel)
    status = session.finish(args.timeout)
    console = session.console
    print(console)
    tally = Tally()
    tally.check(status == 0, f"QEMU exit status {status} == 0")
    tally.check(f"smp: cores_online={CORES} " in console, f"{CORES} cores online")
    rows = {
        int(m["cores"]): m
        for m in re.finditer(
            r"smp: cores=(?P<cores>\d) slices=(?P<slices>\d+) core_mask=0x(?P<mask>[0-9a-f]+) "
            r"sum=(?P<sum>\S+) matvec=(?P<matvec>\S+) stress=(?P<got>\d+)/(?P<want>\d+)",
            console,
        )
    }
    tally.check(sorted(rows) == list(range(1, CORES + 1)), "a result line per core count 1..4")
    sums = {m["sum"] for m in rows.values()}
    tally.check(len(sums) == 1, "the same array sum on every core count")
    for cores, m in sorted(rows.items()):
        mask = int(m["mask"], 16)
        tally.check(
            int(m["slices"]) == cores and bin(mask).count("1") == cores,
            f"cores={cores}: {m['slices']} slices on cores {mask:#x}",
        )
        tally.check(m["matvec"] == "match", f"cores={cores}: matvec bit-identical to serial")
        tally.check(m["got"] == m["want"], f"cores={cores}: stress {m['got']}/{m['want']}")
    tally.check(re.search(r"smp: \d+ passed, 0 failed", console) is not None, "image self-checks")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
