"""An independent reader and editor of FAT32 on-disk structures, for the driver's tests.

    offset = write_volume(path, 64 << 20, {"models/stories/model.bin": data}, dirs=["empty"])
    view = Fat32View(bytearray(path.read_bytes()), offset)

The images come from the package's writer (``metalchat.sdcard.write_volume``: mkfs.fat +
mtools); `Fat32View` reads them without the C library, to locate what the tests corrupt and
to fragment files.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass

from metalchat.sdcard import SECTOR

EOC = 0x0FFFFFFF


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
