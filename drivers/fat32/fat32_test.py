"""drivers/fat32 against real FAT32 images made by mkfs.fat and mtools (metalchat.sdcard).

The C library runs in fat32_tool ($FAT32_TOOL) over an image file; every file it reads is
compared byte for byte with its source, and each corruption must give its own error code.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import struct
import subprocess
from pathlib import Path

import pytest
from fat32_view import Fat32View

from metalchat.sdcard import PARTITION_LBA, SECTOR, ToolMissing, mbr, write_volume

TOOL = Path(os.environ.get("FAT32_TOOL", "fat32_tool"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
MIB = 1 << 20

_rng = random.Random(20240611)


def _blob(n: int) -> bytes:
    return _rng.randbytes(n)


LONG_NAME = "A very long file name, with spaces and dots.v2.txt"
UNICODE_NAME = "naïve café — ünïcödé ✓.txt"
FILES: dict[str, bytes] = {
    "models/stories/model.bin": _blob(300_000),  # ~586 clusters of 512 bytes, contiguous
    "models/stories/tokenizer.bin": _blob(5_000),
    LONG_NAME: b"long name\n" * 100,
    UNICODE_NAME: "ünïcödé\n".encode() * 10,
    "README.TXT": b"upper-case 8.3 name\n",
    "readme.md": b"lower-case 8.3 name (NT case bits, no LFN)\n",
    "empty.bin": b"",
    "a/b/c/d/deep.txt": b"nested four levels\n",
    "frag.bin": _blob(40_000),  # fragmented after creation
    "exact.bin": _blob(4 * 512),  # exactly four clusters
    **{f"many/file number {i:03d}.txt": f"file {i}\n".encode() for i in range(200)},
}


def tool(image: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOL), str(image), *args], capture_output=True, text=True, check=False
    )


def error_of(image: Path, *args: str) -> str:
    done = tool(image, *args)
    m = re.search(r"^error (FAT_\w+): ", done.stdout, re.MULTILINE)
    assert m, f"expected an error, got rc={done.returncode} {done.stdout!r} {done.stderr!r}"
    assert done.returncode == 2
    return m.group(1)


@pytest.fixture(scope="module")
def card() -> tuple[Path, int]:
    path = TMP / "card.img"
    try:
        offset = write_volume(path, 40 * MIB, FILES, dirs=["emptydir"])
    except ToolMissing as exc:
        pytest.fail(str(exc))
    image = bytearray(path.read_bytes())
    view = Fat32View(image, offset)
    chain = view.fragment("frag.bin", run=10)
    assert any(b != a + 1 for a, b in itertools.pairwise(chain)), "frag.bin not fragmented"
    path.write_bytes(image)
    return path, offset


def damaged(card: tuple[Path, int], name: str, edit) -> Path:
    """A copy of the card with `edit(image, view)` applied."""
    image = bytearray(card[0].read_bytes())
    edit(image, Fat32View(image, card[1]))
    out = TMP / f"{name}.img"
    out.write_bytes(image)
    return out


def cat(image: Path, path: str, *extra: str) -> tuple[bytes, dict[str, int]]:
    out = TMP / "out.bin"
    done = tool(image, "cat", path, str(out), *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    stats = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", done.stdout)}
    return out.read_bytes(), stats


# ---- good images ----------------------------------------------------------------------------


def test_mounts_partition(card) -> None:
    done = tool(card[0], "info")
    assert done.returncode == 0, done.stdout
    assert f"partition=1 volume_lba={PARTITION_LBA} " in done.stdout
    assert "cluster_bytes=512 " in done.stdout and "label=METALCHAT" in done.stdout


def test_tree_lists_every_file_with_long_names_and_sizes(card) -> None:
    done = tool(card[0], "tree")
    assert done.returncode == 0, done.stdout
    listed = {}
    for line in done.stdout.splitlines():
        kind, size, rest = line.split(" ", 2)
        name, _short, flags = rest.split("|")
        assert flags == "", line
        if kind == "f":
            listed[name] = int(size)
    assert listed == {k: len(v) for k, v in FILES.items()}


def test_short_names_and_case_bits(card) -> None:
    lines = tool(card[0], "ls", "/").stdout.splitlines()
    by_name = {line.split(" ", 2)[2].split("|")[0]: line for line in lines}
    assert "README.TXT" in by_name and "readme.md" in by_name
    assert by_name[LONG_NAME].split("|")[1].startswith("AVERYL~")
    assert by_name["emptydir"].startswith("d 0 ")


@pytest.mark.parametrize("path", sorted(FILES))
def test_every_file_reads_back_exactly(card, path) -> None:
    data, stats = cat(card[0], "/" + path)
    assert data == FILES[path]
    assert stats["size"] == len(FILES[path])


def test_case_insensitive_paths_and_dot_components(card) -> None:
    data, _ = cat(card[0], "/MODELS/Stories/./MODEL.BIN")
    assert data == FILES["models/stories/model.bin"]
    data, _ = cat(card[0], "models//stories/model.bin")  # relative, double slash
    assert data == FILES["models/stories/model.bin"]
    shouted = "".join(c.upper() if c.isascii() else c for c in UNICODE_NAME)
    data, _ = cat(card[0], "/" + shouted)
    assert data == FILES[UNICODE_NAME]  # ASCII folded, non-ASCII compared exactly


def test_contiguous_file_is_one_large_read(card) -> None:
    data, stats = cat(card[0], "/models/stories/model.bin")
    assert data == FILES["models/stories/model.bin"]
    assert stats["largest_read"] == len(data) // SECTOR  # every whole sector in one read
    assert stats["device_reads"] <= 8, stats  # + the tail sector, FAT and directory sectors


def test_fragmented_file_reads_run_by_run(card) -> None:
    data, stats = cat(card[0], "/frag.bin")
    assert data == FILES["frag.bin"]
    assert stats["largest_read"] == 10, stats  # runs of ten clusters (FAT reads are 8 sectors)
    assert stats["device_reads"] >= len(FILES["frag.bin"]) // (10 * SECTOR), stats


@pytest.mark.parametrize("chunk,offset", [(1, 0), (511, 0), (1000, 0), (513, 700), (4096, 511)])
def test_odd_chunks_and_offsets(card, chunk, offset) -> None:
    for path in ("models/stories/model.bin", "frag.bin"):
        data, _ = cat(card[0], "/" + path, str(chunk) if chunk > 1 else "1", str(offset))
        assert data == FILES[path][offset:]


def test_superfloppy_with_larger_clusters() -> None:
    path = TMP / "floppy.img"
    files = {"models/m.bin": _blob(100_000), "x/" + LONG_NAME: b"x" * 3000, "zero": b""}
    write_volume(path, 72 * MIB, files, partition=False, sectors_per_cluster=2)
    assert "partition=0 volume_lba=0 " in tool(path, "info").stdout
    for name, data in files.items():
        assert cat(path, "/" + name)[0] == data


def test_missing_paths(card) -> None:
    assert error_of(card[0], "cat", "/nope.bin", "/dev/null") == "FAT_ERR_NOT_FOUND"
    assert error_of(card[0], "cat", "/models", "/dev/null") == "FAT_ERR_IS_DIR"
    assert error_of(card[0], "ls", "/readme.md") == "FAT_ERR_NOT_DIR"
    assert error_of(card[0], "cat", "/readme.md/x", "/dev/null") == "FAT_ERR_NOT_DIR"
    assert error_of(card[0], "cat", "/models/../readme.md", "/dev/null") == "FAT_ERR_BAD_PATH"


# ---- damaged images -------------------------------------------------------------------------


def test_truncated_image(card) -> None:
    out = TMP / "truncated.img"
    out.write_bytes(card[0].read_bytes()[: 20 * MIB])
    assert error_of(out, "info") == "FAT_ERR_TRUNCATED"
    out.write_bytes(b"")
    assert error_of(out, "info") == "FAT_ERR_TRUNCATED"


@pytest.mark.parametrize(
    "field,offset,fmt,value,code",
    [
        ("sectors per cluster 3", 13, "B", 3, "FAT_ERR_BAD_BPB"),
        ("bytes per sector 1024", 11, "<H", 1024, "FAT_ERR_SECTOR_SIZE"),
        ("bytes per sector 500", 11, "<H", 500, "FAT_ERR_BAD_BPB"),
        ("no FATs", 16, "B", 0, "FAT_ERR_BAD_BPB"),
        ("five FATs", 16, "B", 5, "FAT_ERR_BAD_BPB"),
        ("FAT size 0", 36, "<I", 0, "FAT_ERR_BAD_BPB"),
        ("FAT too small", 36, "<I", 8, "FAT_ERR_BAD_BPB"),
        ("FATs fill the volume", 36, "<I", 0x100000, "FAT_ERR_BAD_BPB"),
        ("root cluster 1", 44, "<I", 1, "FAT_ERR_BAD_BPB"),
        ("root cluster past the end", 44, "<I", 0x0FFFFFF0, "FAT_ERR_BAD_BPB"),
        ("larger than its partition", 32, "<I", 0x7FFFFFFF, "FAT_ERR_BAD_BPB"),
        ("version 1", 42, "<H", 1, "FAT_ERR_BAD_BPB"),
        ("FAT16 root entries", 17, "<H", 512, "FAT_ERR_NOT_FAT32"),
        ("no signature", 510, "<H", 0, "FAT_ERR_BAD_BPB"),
    ],
)
def test_bad_boot_sector(card, field, offset, fmt, value, code) -> None:
    def edit(image, view):
        struct.pack_into(fmt, image, view.offset + offset, value)

    assert error_of(damaged(card, "bpb", edit), "info") == code, field


def test_volume_past_device_end(card) -> None:
    def edit(image, view):  # the partition entry and the BPB both claim 4 GiB
        struct.pack_into("<I", image, 446 + 12, 0x800000)

    assert error_of(damaged(card, "mbr_big", edit), "info") == "FAT_ERR_TRUNCATED"


def test_bad_partition_status(card) -> None:
    def edit(image, view):
        image[446] = 0x12

    assert error_of(damaged(card, "mbr_status", edit), "info") == "FAT_ERR_BAD_MBR"


def test_file_chain_cycle(card) -> None:
    def edit(image, view):
        chain = view.chain(view.find("models/stories/model.bin").first_cluster)
        view.set_fat(chain[10], chain[3])

    assert (
        error_of(damaged(card, "cycle", edit), "cat", "/models/stories/model.bin", "/dev/null")
        == "FAT_ERR_CHAIN_LOOP"
    )


def test_self_loop_after_the_last_needed_cluster(card) -> None:
    def edit(image, view):
        chain = view.chain(view.find("exact.bin").first_cluster)
        view.set_fat(chain[-1], chain[-1])

    assert (
        error_of(damaged(card, "selfloop", edit), "cat", "/exact.bin", "/dev/null")
        == "FAT_ERR_CHAIN_LOOP"
    )


def test_directory_chain_cycle(card) -> None:
    def edit(image, view):
        chain = view.chain(view.find("many").first_cluster)
        assert len(chain) > 4, "the directory should span several clusters"
        view.set_fat(chain[3], chain[1])  # before the end marker: the walk goes round

    image = damaged(card, "dircycle", edit)
    assert error_of(image, "ls", "/many") == "FAT_ERR_CHAIN_LOOP"
    assert error_of(image, "cat", "/many/nothing-here", "/dev/null") == "FAT_ERR_CHAIN_LOOP"


@pytest.mark.parametrize(
    "value,code",
    [
        (0x0FFFFFF0, "FAT_ERR_BAD_CLUSTER"),  # past the last cluster
        (0x0FFFFFF7, "FAT_ERR_BAD_CLUSTER"),  # bad-cluster marker
        (0, "FAT_ERR_BAD_CLUSTER"),  # free
        (1, "FAT_ERR_BAD_CLUSTER"),  # reserved
        (0x0FFFFFFF, "FAT_ERR_CHAIN_SHORT"),  # end of chain too early
    ],
)
def test_bad_cluster_in_file_chain(card, value, code) -> None:
    def edit(image, view):
        chain = view.chain(view.find("models/stories/model.bin").first_cluster)
        if value == 0x0FFFFFF0:
            view.set_fat(chain[5], view.clusters + 2)  # first number past the end
        else:
            view.set_fat(chain[5], value)

    path = damaged(card, "badcluster", edit)
    assert error_of(path, "cat", "/models/stories/model.bin", "/dev/null") == code
    assert cat(path, "/readme.md")[0] == FILES["readme.md"]  # the rest still reads


def test_directory_entry_points_past_the_end(card) -> None:
    def edit(image, view):
        view.set_first_cluster(view.find("models/stories/model.bin"), view.clusters + 2)
        view.set_first_cluster(view.find("a"), 0x0FFFFFF0)
        view.set_first_cluster(view.find("empty.bin"), 0x0FFFFFF0)  # zero length: ignored
        entry = view.find("exact.bin")
        struct.pack_into("<I", image, entry.offset + 28, 0xFFFFFFFF)  # larger than the volume

    path = damaged(card, "direntry", edit)
    assert (
        error_of(path, "cat", "/models/stories/model.bin", "/dev/null") == "FAT_ERR_BAD_DIR_ENTRY"
    )
    assert error_of(path, "ls", "/a") == "FAT_ERR_BAD_DIR_ENTRY"
    assert error_of(path, "cat", "/exact.bin", "/dev/null") == "FAT_ERR_BAD_DIR_ENTRY"
    assert cat(path, "/empty.bin")[0] == b""


def test_lfn_with_bad_checksum_falls_back_to_8_3(card) -> None:
    short = {}

    def edit(image, view):
        entry = view.find(LONG_NAME)
        short["name"] = entry.short
        for at in entry.lfn_offsets:
            image[at + 13] ^= 0x5A

    path = damaged(card, "lfnsum", edit)
    lines = tool(path, "ls", "/").stdout.splitlines()
    hit = [line for line in lines if line.split("|")[1] == short["name"]]
    assert hit and hit[0].endswith("|lfn-discarded"), lines
    assert hit[0].split(" ", 2)[2].split("|")[0] == short["name"]
    assert error_of(path, "cat", "/" + LONG_NAME, "/dev/null") == "FAT_ERR_NOT_FOUND"
    assert cat(path, "/" + short["name"])[0] == FILES[LONG_NAME]


def test_lfn_with_broken_sequence_falls_back_to_8_3(card) -> None:
    def edit(image, view):
        entry = view.find(UNICODE_NAME)
        image[entry.lfn_offsets[-1]] = 0x07  # part 1 renumbered: the sequence breaks

    path = damaged(card, "lfnseq", edit)
    assert "lfn-discarded" in tool(path, "ls", "/").stdout
    assert error_of(path, "cat", "/" + UNICODE_NAME, "/dev/null") == "FAT_ERR_NOT_FOUND"


def test_fat16_is_not_fat32() -> None:
    path = TMP / "fat16.img"
    write_volume(path, 40 * MIB, {"x.txt": b"x"}, fat_bits=16, sectors_per_cluster=4)
    assert error_of(path, "info") == "FAT_ERR_NOT_FAT32"
    write_volume(
        path, 40 * MIB, {"x.txt": b"x"}, fat_bits=16, sectors_per_cluster=4, partition=False
    )
    assert error_of(path, "info") == "FAT_ERR_NOT_FAT32"


def test_empty_partition_table() -> None:
    path = TMP / "empty_mbr.img"
    path.write_bytes(mbr([]) + bytes(MIB))
    assert error_of(path, "info") == "FAT_ERR_NO_PARTITION"
    path.write_bytes(mbr([(0x83, 2048, 4096)]) + bytes(3 * MIB))  # a Linux partition only
    assert error_of(path, "info") == "FAT_ERR_NO_PARTITION"


def test_blank_card() -> None:
    path = TMP / "zeros.img"
    path.write_bytes(bytes(4 * MIB))
    assert error_of(path, "info") == "FAT_ERR_NO_FILESYSTEM"


def test_unformatted_partition() -> None:
    path = TMP / "unformatted.img"
    path.write_bytes(mbr([(0x0C, 2048, 4096)]) + bytes(3 * MIB))
    assert error_of(path, "info") == "FAT_ERR_NO_FILESYSTEM"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
