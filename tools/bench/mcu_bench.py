"""Guest instructions per token of the MCU chat image on the RP2350's QEMU twin, and the
RP2350's predicted tokens/s (a program, not a test: docs/BENCHMARKS.md).

Each --image=NAME=ELF is booted in QEMU mps2-an521 with -icount shift=0 (1 ns of guest time a
guest instruction, both vCPUs on one host thread, so the count is the sum over the cores). Its
model region holds one model, so it boots into the chat; for /cores 1 and /cores 2: /reset,
/temp 0, /len N, a prompt; the chat's "Generation: N tokens in X ms (Y tokens/sec)" gives
instructions per token = 1e9 / Y. The prediction for an RP2350 at 150 MHz:

    cycles/token  = CPI * instructions/token (one core's run)
    flash s/token = weight bytes read from flash per token / FLASH_BW (0 when in SRAM)
    tok/s, 1 core = 1 / (cycles/token / 150e6 + flash s/token)
    tok/s, 2 cores <= 1 / (cycles/token / 2 / 150e6 + flash s/token)   (the compute halved)
    tok/s, 2 cores  = 1 / (cycles/token * (1 - PARALLEL / 2) / 150e6 + flash s/token)
with PARALLEL the share of the instructions inside the parallel-for, measured once from a QEMU
block trace (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from qemu import Session, qemu_command

CLOCK_HZ = 150e6
CPI = 1.2  # assumed cycles per instruction of the M33 on this code (see docs/BENCHMARKS.md)
PARALLEL = 0.74  # share of the instructions in the parallel-for (see docs/BENCHMARKS.md)
FLASH_BW = 21e6  # bytes/s from QSPI flash through XIP cache misses (see docs/BENCHMARKS.md)
TIMEOUT = 300.0
PROMPT = "Once upon a time"
LENGTH = 64


class Twin:
    def __init__(self, elf: Path, qemu_args: list[str]) -> None:
        command = qemu_command("arm", "mps2-an521", elf, [*qemu_args, "-icount", "shift=0"])
        self.session = Session(command)

    def until(self, text: str) -> str:
        return self.session.until(text, TIMEOUT)

    def line(self, text: str) -> str:
        return self.session.line(text, "\n> ", TIMEOUT)


def measure(name: str, elf: Path, qemu_args: list[str]) -> dict[str, object]:
    twin = Twin(elf, qemu_args)
    try:
        boot = twin.until("\n> ")
        size = re.search(r"boot bundle at 0x[0-9a-f]+: \S+, (\d+\.\d+) MB", boot)
        in_sram = "weights copied to RAM" in boot
        context = re.search(r"context (\d+) tokens", boot)
        row: dict[str, object] = {
            "name": name,
            "bytes": float(size.group(1)) * 1e6 if size else 0.0,
            "where": "SRAM" if in_sram else "flash",
            "context": int(context.group(1)) if context else 0,
        }
        for cores in (1, 2):
            for command in (f"/cores {cores}", "/reset", "/temp 0", f"/len {LENGTH}"):
                twin.line(command)
            out = twin.line(PROMPT)
            m = re.search(r"Generation: (\d+) tokens in \d+ ms \((\d+\.\d+) tokens/sec\)", out)
            if not m:
                raise RuntimeError(f"{name}: no Generation line in {out!r}")
            print(f"  {name} cores={cores}: {m.group(0)}")
            row[f"instr{cores}"] = 1e9 / float(m.group(2))
        return row
    finally:
        twin.session.stop()


def predict(row: dict[str, object]) -> tuple[float, float, float]:
    cycles = CPI * float(row["instr1"])  # type: ignore[arg-type]
    flash = float(row["bytes"]) / FLASH_BW if row["where"] == "flash" else 0.0  # type: ignore[arg-type]
    split = cycles * (1 - PARALLEL / 2)
    return (
        1 / (cycles / CLOCK_HZ + flash),
        1 / (cycles / 2 / CLOCK_HZ + flash),
        1 / (split / CLOCK_HZ + flash),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", action="append", required=True, help="NAME=ELF")
    parser.add_argument("--qemu-arg", action="append", default=[], help="more QEMU arguments")
    args = parser.parse_args()
    print(
        f"QEMU mps2-an521 -icount shift=0; greedy, prompt {PROMPT!r}, /len {LENGTH}, after "
        "/reset; instructions summed over the cores in use"
    )
    rows = []
    for spec in args.image:
        name, _, elf = spec.partition("=")
        rows.append(measure(name, Path(elf), args.qemu_arg))
    print(
        "| model | weights | context | instr/token, 1 core | instr/token, 2 cores (sum) "
        "| weight bytes from flash/token | predicted RP2350 tok/s, 1 core | 2 cores (bound) "
        "| 2 cores |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        one, bound, two = predict(row)
        flash = f"{row['bytes']:,.0f}" if row["where"] == "flash" else "0"
        print(
            f"| {row['name']} | {row['where']} | {row['context']} | {row['instr1']:,.0f} "
            f"| {row['instr2']:,.0f} | {flash} | {one:.1f} | {bound:.1f} | {two:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
