"""FAT32 card images for tests: made by mkfs.fat + mtools, then inspected and damaged in Python.

    card = make_card(path, 64 << 20, {"models/stories/model.bin": data}, dirs=["empty"])
    view = Fat32View(bytearray(path.read_bytes()), card.volume_offset)

`make_card` writes an MBR (one FAT32 LBA partition, type 0x0c, at sector 2048) unless
`partition=False` (a "superfloppy": the volume starts at sector 0). mtools decides the FAT type
from the cluster count, so FAT32 volumes need at least 65525 clusters (32 MiB with 512-byte
clusters). `Fat32View` is an independent reader and editor of the on-disk structures, used to
locate things the tests corrupt and to fragment files.
"""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PARTITION_LBA = 2048
SECTOR = 512
EOC = 0x0FFFFFFF


class ToolMissing(RuntimeError):
    """mkfs.fat or mtools is not installed."""


def _run(args: list[str]) -> None:
    # Bazel's strict action environment leaves /usr/sbin (mkfs.fat's home) off PATH.
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    binary = shutil.which(args[0], path=search)
    if binary is None:
        raise ToolMissing(
            f"{args[0]} not found: install Debian's dosfstools and mtools (./bazelw does)"
        )
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    done = subprocess.run([binary, *args[1:]], capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace')}")


def mbr(partitions: list[tuple[int, int, int]]) -> bytes:
    """A classic MBR sector: (type, first LBA, sectors) per entry, CHS fields set to 'use LBA'."""
    sector = bytearray(SECTOR)
    for i, (ptype, first, count) in enumerate(partitions):
        entry = struct.pack(
            "<B3sB3sII", 0x00, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff", first, count
        )
        sector[446 + 16 * i : 446 + 16 * (i + 1)] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


@dataclass(frozen=True)
class Card:
    path: Path
    volume_offset: int  # byte offset of the FAT volume in the image


def make_card(
    path: Path,
    size: int,
    files: dict[str, bytes],
    dirs: tuple[str, ...] | list[str] = (),
    *,
    partition: bool = True,
    sectors_per_cluster: int = 1,
    label: str = "METALCHAT",
    fat_bits: int = 32,
) -> Card:
    """Writes an image of `size` bytes holding `files` (paths relative to the root)."""
    path = Path(path)
    with open(path, "wb") as f:
        f.truncate(size)
    offset = PARTITION_LBA * SECTOR if partition else 0
    sectors = (size - offset) // SECTOR
    if partition:
        ptype = 0x0C if fat_bits == 32 else 0x0E
        with open(path, "r+b") as f:
            f.write(mbr([(ptype, PARTITION_LBA, sectors)]))
    args = ["mkfs.fat", "-F", str(fat_bits), "-s", str(sectors_per_cluster), "-n", label]
    args += ["-i", "4d430001"]  # fixed volume id: reproducible images
    if partition:
        args += ["--offset", str(PARTITION_LBA), "-h", str(PARTITION_LBA)]
    _run([*args, str(path), str(sectors * SECTOR // 1024)])
    target = f"{path}@@{offset}"
    made: set[str] = set()

    def mkdirs(d: str) -> None:
        parts = [p for p in d.split("/") if p]
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            if sub not in made:
                _run(["mmd", "-i", target, "::/" + sub])
                made.add(sub)

    for d in dirs:
        mkdirs(d)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            parent = name.rsplit("/", 1)[0] if "/" in name else ""
            if parent:
                mkdirs(parent)
            src = Path(tmp) / "f"
            src.write_bytes(data)
            _run(["mcopy", "-i", target, str(src), "::/" + name])
    return Card(path, offset)


@dataclass
class Entry:
    name: str  # long name if any, else the 8.3 name
    short: str
    offset: int  # byte offset of the 8.3 entry in the image
    lfn_offsets: list[int]  # byte offsets of its LFN entries
    first_cluster: int
    size: int
    is_dir: bool


class Fat32View:
    """Reads and edits one FAT32 volume inside `image` (a bytearray) at byte `offset`."""

    def __init__(self, image: bytearray, offset: int = 0):
        self.image = image
        self.offset = offset
        b = image[offset : offset + SECTOR]
        self.bytes_per_sector = struct.unpack_from("<H", b, 11)[0]
        self.sectors_per_cluster = b[13]
        self.reserved = struct.unpack_from("<H", b, 14)[0]
        self.fats = b[16]
        total16 = struct.unpack_from("<H", b, 19)[0]
        self.total = total16 or struct.unpack_from("<I", b, 32)[0]
        self.fat_size = struct.unpack_from("<I", b, 36)[0]
        self.root = struct.unpack_from("<I", b, 44)[0]
        self.data_sector = self.reserved + self.fats * self.fat_size
        self.clusters = (self.total - self.data_sector) // self.sectors_per_cluster
        self.cluster_bytes = self.sectors_per_cluster * SECTOR

    # -- FAT ----------------------------------------------------------------------------
    def fat_offset(self, cluster: int, copy: int = 0) -> int:
        return self.offset + (self.reserved + copy * self.fat_size) * SECTOR + 4 * cluster

    def fat(self, cluster: int) -> int:
        return struct.unpack_from("<I", self.image, self.fat_offset(cluster))[0] & 0x0FFFFFFF

    def set_fat(self, cluster: int, value: int) -> None:
        for copy in range(self.fats):
            struct.pack_into("<I", self.image, self.fat_offset(cluster, copy), value)

    def chain(self, first: int, limit: int = 1 << 24) -> list[int]:
        out = []
        c = first
        while 2 <= c < 0x0FFFFFF8 and len(out) < limit:
            out.append(c)
            c = self.fat(c)
        return out

    def cluster_offset(self, cluster: int) -> int:
        return self.offset + (self.data_sector + (cluster - 2) * self.sectors_per_cluster) * SECTOR

    def free_clusters_from_end(self, count: int) -> list[int]:
        out = []
        c = self.clusters + 1
        while len(out) < count and c >= 2:
            if self.fat(c) == 0:
                out.append(c)
            c -= 1
        if len(out) < count:
            raise RuntimeError("volume full")
        return out

    # -- directories ----------------------------------------------------------------------
    def entries(self, first_cluster: int) -> list[Entry]:
        out: list[Entry] = []
        lfn: dict[int, str] = {}
        lfn_offsets: list[int] = []
        for c in self.chain(first_cluster):
            base = self.cluster_offset(c)
            for i in range(self.cluster_bytes // 32):
                at = base + 32 * i
                e = self.image[at : at + 32]
                if e[0] == 0:
                    return out
                if e[0] == 0xE5:
                    lfn, lfn_offsets = {}, []
                    continue
                if e[11] & 0x3F == 0x0F:
                    units = e[1:11] + e[14:26] + e[28:32]
                    lfn[e[0] & 0x1F] = units.decode("utf-16-le")
                    lfn_offsets.append(at)
                    continue
                if e[11] & 0x08:
                    lfn, lfn_offsets = {}, []
                    continue
                base_name = e[0:8].decode("latin-1").rstrip()
                ext = e[8:11].decode("latin-1").rstrip()
                short = base_name + ("." + ext if ext else "")
                long = "".join(lfn[k] for k in sorted(lfn)).split("\x00")[0] if lfn else ""
                first = (
                    struct.unpack_from("<H", e, 20)[0] << 16 | struct.unpack_from("<H", e, 26)[0]
                )
                size = struct.unpack_from("<I", e, 28)[0]
                if short not in (".", ".."):
                    out.append(
                        Entry(
                            long or short, short, at, lfn_offsets, first, size, bool(e[11] & 0x10)
                        )
                    )
                lfn, lfn_offsets = {}, []
        return out

    def find(self, path: str) -> Entry:
        cluster = self.root
        found = None
        for part in [p for p in path.split("/") if p]:
            for e in self.entries(cluster):
                if part.lower() in (e.name.lower(), e.short.lower()):
                    found = e
                    break
            else:
                raise KeyError(path)
            cluster = found.first_cluster
        if found is None:
            raise KeyError(path)
        return found

    def set_first_cluster(self, entry: Entry, cluster: int) -> None:
        struct.pack_into("<H", self.image, entry.offset + 20, cluster >> 16)
        struct.pack_into("<H", self.image, entry.offset + 26, cluster & 0xFFFF)

    # -- fragmentation --------------------------------------------------------------------
    def fragment(self, path: str, run: int = 3) -> list[int]:
        """Moves a file's clusters (after its first run) into free clusters at the end of the
        volume, in runs of `run` clusters placed in reverse order: the chain then jumps
        backwards and forwards. Returns the new chain."""
        entry = self.find(path)
        old = self.chain(entry.first_cluster)
        keep, move = old[:run], old[run:]
        free = self.free_clusters_from_end(len(move))  # descending cluster numbers
        groups = [move[i : i + run] for i in range(0, len(move), run)]
        targets: list[int] = []
        pos = 0
        for g in groups:
            block = sorted(free[pos : pos + len(g)])  # ascending inside a run: contiguous
            targets += block
            pos += len(g)
        new = keep + targets
        for src, dst in zip(move, targets, strict=True):
            a, b = self.cluster_offset(src), self.cluster_offset(dst)
            self.image[b : b + self.cluster_bytes] = self.image[a : a + self.cluster_bytes]
        for c in move:
            self.set_fat(c, 0)
        for a, b in itertools.pairwise(new):
            self.set_fat(a, b)
        self.set_fat(new[-1], EOC)
        return new
