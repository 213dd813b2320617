"""Fuzzes drivers/fat32 with fat32_fuzz ($FAT32_FUZZ, common/fuzz's driver): seeded mutations
of a real FAT32 image, the library built with UBSan (aborts on undefined behaviour); a crash or
a hang fails the test.

The same entry point (fat32_fuzz_target.c, LLVMFuzzerTestOneInput) runs under real libFuzzer
with AddressSanitizer in CI, from the cut and the sparse seeds of fuzz_seeds.py:
`tests/fuzz/libfuzzer_smoke.sh 15 fat32`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fuzz_seeds import write_seed, write_sparse_seed

FUZZ = Path(os.environ.get("FAT32_FUZZ", "fat32_fuzz"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
ITERATIONS = int(os.environ.get("FAT32_FUZZ_ITERATIONS", "20000"))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("partition", [True, False])
def test_mutated_images_never_crash(partition: bool, sparse: bool) -> None:
    seed = TMP / f"seed_{int(partition)}.{'sparse' if sparse else 'img'}"
    (write_sparse_seed if sparse else write_seed)(seed, partition)
    done = subprocess.run(
        [str(FUZZ), str(ITERATIONS), str(0x1234 + partition), str(seed)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{ITERATIONS} iterations" in done.stdout
    assert "seeds accepted: 1 of 1" in done.stdout  # the seed itself mounts


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
