"""Instructions of em_tokenizer_encode against text length (not a test): runs tokenizer_bench
under valgrind's callgrind, counting only inside em_tokenizer_encode, for one chunk of N
letters, with the merge heap (a session's arena) and with the quadratic loop (no arena).
O(n log n) shows as a flat instructions / (N log2 N) column.

    bazel run -c opt //engines/tokenizer:bench [-- --max N]      (needs valgrind on the host)
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def instructions(bench: Path, n: int, plain: bool) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             "--collect-atstart=no", "--toggle-collect=em_tokenizer_encode",
             str(bench), str(n), *(["--plain"] if plain else [])],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        totals = [line for line in out.read_text().splitlines() if line.startswith("summary:")]
        return int(totals[0].split()[1]), done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", type=Path, default=Path("engines/tokenizer/tokenizer_bench"))
    parser.add_argument("--max", type=int, default=64000, help="longest text (heap)")
    parser.add_argument("--max-plain", type=int, default=8000, help="longest text (quadratic)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("tokenizer_bench: valgrind is not installed (apt-get install valgrind)")
        return 1
    print("| merge | N bytes | tokens | instructions | per byte | per N log2 N |")
    print("| --- | --- | --- | --- | --- | --- |")
    for plain, top in ((False, args.max), (True, args.max_plain)):
        n = 1000
        while n <= top:
            count, said = instructions(args.bench, n, plain)
            tokens = said.split("->")[1].split()[0]
            print(
                f"| {'quadratic' if plain else 'heap'} | {n} | {tokens} | {count} | "
                f"{count / n:.0f} | {count / (n * math.log2(n)):.1f} |",
                flush=True,
            )
            n *= 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
