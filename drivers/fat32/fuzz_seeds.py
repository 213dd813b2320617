"""FAT32 fuzz seeds from the package's writer (metalchat.sdcard.write_volume): long names,
nested and many-entry folders, a zero-length file. fat32_fuzz_test mutates whole images in
place; for libFuzzer (tests/fuzz/libfuzzer_smoke.sh) they are cut after the volume's first MiB
(boot sector, FATs, root folder and the small files), the volume and its partition shrunk to
match (fewer clusters, the files' ones among them), and written whole in the target's sparse
form (fat32_fuzz_target.c: "FZSP", sector count, then each non-zero sector with its number):

    fuzz_seeds OUT_DIR    writes OUT_DIR/fuzz_seed_{mbr,floppy}.{img,sparse}
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

from metalchat.sdcard import write_volume

SIZE = 34 << 20  # the smallest FAT32 volume with 512-byte clusters, and some room
CUT = 1 << 20  # what the cut seeds keep of the volume
FILES = {
    "models/stories/model.bin": bytes(range(256)) * 20,
    "A long name for the fuzzer.txt": b"hello\n" * 50,
    "d1/d2/deep.txt": b"deep\n",
    "zero.bin": b"",
    **{f"many/entry {i}.txt": b"%d" % i for i in range(40)},
}


def write_seed(path: Path, partition: bool, cut: bool = False) -> None:
    """A seed image at path: an MBR volume or a superfloppy; cut to its first MiB with cut."""
    start = write_volume(path, SIZE, FILES, partition=partition)
    if cut:
        image = bytearray(path.read_bytes()[: start + CUT])
        sectors = (CUT // 512).to_bytes(4, "little")
        image[start + 32 : start + 36] = sectors  # BPB total sectors
        if partition:
            image[446 + 12 : 446 + 16] = sectors  # the first partition's sector count
        path.write_bytes(bytes(image))


def write_sparse_seed(path: Path, partition: bool) -> None:
    """The whole seed image at path in the fuzz target's sparse form: only non-zero sectors."""
    whole = path.with_suffix(".whole")
    write_volume(whole, SIZE, FILES, partition=partition)
    image = whole.read_bytes()
    whole.unlink()
    out = bytearray(b"FZSP" + struct.pack("<I", len(image) // 512))
    for lba in range(len(image) // 512):
        sector = image[lba * 512 : (lba + 1) * 512]
        if any(sector):
            out += struct.pack("<I", lba) + sector
    path.write_bytes(bytes(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for fuzz_seed_{mbr,floppy}.{img,sparse}")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_seed(args.out_dir / "fuzz_seed_mbr.img", partition=True, cut=True)
    write_seed(args.out_dir / "fuzz_seed_floppy.img", partition=False, cut=True)
    write_sparse_seed(args.out_dir / "fuzz_seed_mbr.sparse", partition=True)
    write_sparse_seed(args.out_dir / "fuzz_seed_floppy.sparse", partition=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
