"""Fuzzes drivers/fat32 with fat32_fuzz ($FAT32_FUZZ, common/fuzz's driver): seeded mutations
of a real FAT32 image, the library built with UBSan (aborts on undefined behaviour); a crash or
a hang fails the test.

The same entry point (fat32_fuzz_target.c, LLVMFuzzerTestOneInput) runs under real libFuzzer
with AddressSanitizer outside Bazel, with Debian's clang (apt-get install clang):

    clang -g -O1 -fsanitize=fuzzer,address,undefined -Idrivers/block/public \\
        -Idrivers/fat32/public drivers/fat32/fat32_fuzz_target.c drivers/fat32/fat32.c \\
        drivers/block/block.c drivers/block/block_ram.c -o /tmp/fat32_libfuzzer
    mkdir -p /tmp/corpus && cp SEED.img /tmp/corpus/   # e.g. a small image from write_volume
    /tmp/fat32_libfuzzer -max_len=67108864 -timeout=10 /tmp/corpus
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from metalchat.sdcard import write_volume

FUZZ = Path(os.environ.get("FAT32_FUZZ", "fat32_fuzz"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
ITERATIONS = int(os.environ.get("FAT32_FUZZ_ITERATIONS", "20000"))


@pytest.mark.parametrize("partition", [True, False])
def test_mutated_images_never_crash(partition: bool) -> None:
    seed = TMP / f"seed_{int(partition)}.img"
    files = {
        "models/stories/model.bin": bytes(range(256)) * 20,
        "A long name for the fuzzer.txt": b"hello\n" * 50,
        "d1/d2/deep.txt": b"deep\n",
        "zero.bin": b"",
        **{f"many/entry {i}.txt": b"%d" % i for i in range(40)},
    }
    write_volume(seed, 34 << 20, files, partition=partition)
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
