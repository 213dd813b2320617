"""SD-card images for the Raspberry Pi 4 chat image, and the RAM bundle it boots straight into.

A card is one MBR partition (type 0x0C, FAT32 LBA, from sector 2048) made by ``mkfs.fat`` and
filled by ``mmd``/``mcopy`` (Debian's dosfstools and mtools), reproducibly: a fixed volume id
and label, ``mkfs.fat --invariant``, every file and folder stamped with one fixed time (UTC),
folders and files written in sorted order. The size is a power of two (QEMU's SD card model
needs it) of at least 64 MiB, so the FAT32 volume has the 65525 clusters FAT32 requires.
:func:`write_volume` is the writer underneath, with the knobs the FAT driver's tests turn:
any size, a superfloppy (no MBR), FAT16, the cluster size, empty folders, files in a given
order.

``config.txt`` holds what the Pi 4 firmware needs to boot a bare-metal AArch64 ``kernel8.img``
with the PL011 UART on GPIO 14/15 (see docs/RPI4.md). The firmware itself (``start4.elf``,
``fixup4.dat``, the device tree and ``overlays/disable-bt.dtbo``) is not ours to ship:
:func:`add_firmware` copies it from a folder the user provides.

The RAM bundle (``apps/chat/bundle.h`` is the reader; this is the writer): a 128-byte
header, then the model and the tokenizer, each 64-byte aligned. The firmware's config.txt line
``initramfs FILE ADDR`` (QEMU: ``-device loader,file=F,addr=A,force-raw=on``) puts it in RAM.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from metalchat import planner
from metalchat.errors import MetalchatError
from metalchat.fileio import Outputs, read_bytes
from metalchat.formats import container, llama2c

SECTOR = 512
PARTITION_LBA = 2048
MIN_CARD = 64 << 20
VOLUME_ID = 0x4D430001
LABEL = "METALCHAT"
# Every file and folder on the card carries this time: 2024-01-01 00:00:00 UTC.
FIXED_TIME = 1704067200

# Where the Pi 4 image looks for a RAM bundle (platforms/rpi4/memory_map.h: RPI4_RAM_BUNDLE; the
# Pi 3's and Pi Zero's are the same).
RPI4_BUNDLE_ADDR = 0x08000000

BUNDLE_MAGIC = b"MCRB"
BUNDLE_HEADER = 128
BUNDLE_NAME_MAX = 63
TEMPLATES = {"plain": 0, "alpaca": 1, "engine": 2}  # engine: the model file's own
BUNDLE_COPY_TO_RAM = 0x01  # placement flag (header byte 120): copy the model to RAM at load

# Firmware files copied by add_firmware: (path in the firmware's boot/ folder, required).
FIRMWARE_FILES = (
    ("start4.elf", True),
    ("fixup4.dat", True),
    ("bcm2711-rpi-4-b.dtb", False),
    ("overlays/disable-bt.dtbo", False),
)


def config_txt(kernel: str = "kernel8.img", bundle: str | None = None) -> str:
    """The firmware's config.txt for the chat image (and its RAM bundle, if any).

    ``kernel8.img``: the Pi 4 / Pi 3 AArch64 image; ``kernel.img``: the Pi Zero's 32-bit one
    (docs/RPI0.md), which the firmware loads at 0x8000 and enters in ARM state."""
    if kernel == "kernel.img":
        lines = [
            "# metalchat: bare-metal ARM1176 chat image for the Raspberry Pi Zero (docs/RPI0.md)",
            f"kernel={kernel}",
            "# PL011 UART0 on GPIO 14/15 (pins 8/10), 115200 8N1; on a Zero W Bluetooth gets",
            "# the mini UART",
            "enable_uart=1",
            "dtoverlay=disable-bt",
        ]
    else:
        lines = [
            "# metalchat: bare-metal AArch64 chat image for the Raspberry Pi 4 (docs/RPI4.md)",
            "arm_64bit=1",
            f"kernel={kernel}",
            "# PL011 UART0 on GPIO 14/15 (pins 8/10), 115200 8N1; Bluetooth gets the mini UART",
            "enable_uart=1",
            "dtoverlay=disable-bt",
        ]
    lines += [
        "# the PL011 clock the image's divisor assumes (the firmware's default)",
        "init_uart_clock=48000000",
    ]
    if bundle is not None:
        lines += [
            "# a model in RAM at boot: the image skips the menu and chats with it",
            f"initramfs {bundle} 0x{RPI4_BUNDLE_ADDR:08x}",
        ]
    return "\n".join(lines) + "\n"


def bundle_bytes(
    model: bytes, tokenizer: bytes, name: str, template: str = "plain", *, copy_to_ram: bool = False
) -> bytes:
    """A RAM bundle of ``model`` and ``tokenizer`` (layout: apps/chat/bundle.h). An empty
    ``tokenizer`` means the model is a container carrying its own; ``copy_to_ram`` sets the
    placement flag (the app copies the model out of flash into RAM before loading it)."""
    if template not in TEMPLATES:
        raise MetalchatError(f"template {template!r} is not one of {', '.join(TEMPLATES)}")
    encoded = name.encode()
    if len(encoded) > BUNDLE_NAME_MAX:
        raise MetalchatError(f"bundle name {name!r} is longer than {BUNDLE_NAME_MAX} bytes")
    if not model:
        raise MetalchatError("a bundle needs a non-empty model")
    model_at = BUNDLE_HEADER
    tokenizer_at = _align(model_at + len(model), 64) if tokenizer else model_at
    crc = zlib.crc32(tokenizer, zlib.crc32(model))
    header = bytearray(BUNDLE_HEADER)
    struct.pack_into(
        "<4sIIIQQQQII",
        header,
        0,
        BUNDLE_MAGIC,
        1,
        BUNDLE_HEADER,
        TEMPLATES[template],
        model_at,
        len(model),
        tokenizer_at,
        len(tokenizer),
        crc,
        0,
    )
    header[56 : 56 + len(encoded)] = encoded
    header[120] = BUNDLE_COPY_TO_RAM if copy_to_ram else 0
    struct.pack_into("<I", header, 52, zlib.crc32(header))
    padding = bytes(max(0, tokenizer_at - model_at - len(model)))
    return bytes(header) + model + padding + tokenizer


def read_template(chat_txt: bytes | None) -> str:
    """The template a model folder's chat.txt names (``template=alpaca``); plain without one."""
    if chat_txt is None:
        return "plain"
    text = chat_txt.decode(errors="replace").strip()
    key, _, value = text.partition("=")
    if key != "template" or value not in TEMPLATES:
        raise MetalchatError(f"chat.txt says {text!r}; expected template=plain or template=alpaca")
    return value


def card_size(payload: int) -> int:
    """The smallest power-of-two card of at least MIN_CARD bytes with room for ``payload``."""
    need = PARTITION_LBA * SECTOR + payload + payload // 16 + (8 << 20)  # FATs, slack
    size = MIN_CARD
    while size < need:
        size *= 2
    return size


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _sectors_per_cluster(volume_sectors: int) -> int:
    """The largest cluster (up to 4 KiB) that still gives FAT32 its 65525+ clusters."""
    spc = 8
    while spc > 1 and volume_sectors // spc < 66000:
        spc //= 2
    return spc


class ToolMissing(MetalchatError):
    """mkfs.fat or mtools is not installed."""


def mbr(partitions: Sequence[tuple[int, int, int]]) -> bytes:
    """A classic MBR sector: (type, first LBA, sectors) per entry, CHS fields set to 'use LBA'."""
    sector = bytearray(SECTOR)
    for i, (ptype, first, count) in enumerate(partitions):
        entry = struct.pack(
            "<B3sB3sII", 0x00, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff", first, count
        )
        sector[446 + 16 * i : 446 + 16 * (i + 1)] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def _tool(name: str) -> str:
    # Bazel's strict action environment leaves /usr/sbin (mkfs.fat's home) off PATH.
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=search)
    if found is None:
        raise ToolMissing(
            f"{name} not found: install Debian's dosfstools and mtools (./bazelw does)"
        )
    return found


def _run(args: list[str]) -> None:
    env = dict(
        os.environ,
        MTOOLS_SKIP_CHECK="1",
        SOURCE_DATE_EPOCH=str(FIXED_TIME),
        TZ="UTC",
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
    )
    done = subprocess.run([_tool(args[0]), *args[1:]], capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise MetalchatError(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace')}")


def _folders(paths: Iterable[str]) -> list[str]:
    """Every folder above the card paths ``paths``, sorted."""
    return sorted({"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)})


def _put_files(
    image: Path, offset: int, files: Mapping[str, bytes | Path], dirs: Sequence[str] = ()
) -> None:
    """Makes the folders ``dirs``, then copies ``files`` (card path -> bytes or host file) in
    their order onto the volume at byte ``offset`` of ``image``, each file's folders made when
    first needed; every entry carries :data:`FIXED_TIME`."""
    target = f"{image}@@{offset}"
    made: set[str] = set()

    def make_folders(folder: str) -> None:
        parts = [p for p in folder.split("/") if p]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in made:
                _run(["mmd", "-i", target, "::/" + sub])
                made.add(sub)

    for folder in dirs:
        make_folders(folder)
    with tempfile.TemporaryDirectory() as tmp:
        for dest, source in files.items():
            make_folders(dest.rpartition("/")[0])
            staged = Path(tmp) / "file"
            if isinstance(source, Path):
                shutil.copyfile(source, staged)
            else:
                staged.write_bytes(source)
            os.utime(staged, (FIXED_TIME, FIXED_TIME))
            _run(["mcopy", "-m", "-i", target, str(staged), "::/" + dest])
            staged.unlink()


def write_volume(
    path: str | Path,
    size: int,
    files: Mapping[str, bytes | Path],
    dirs: Sequence[str] = (),
    *,
    partition: bool = True,
    sectors_per_cluster: int = 1,
    fat_bits: int = 32,
    label: str = LABEL,
) -> int:
    """Writes a FAT image of ``size`` bytes in place at ``path``; returns the volume's byte
    offset in it.

    With ``partition``, an MBR with one LBA partition from sector 2048 (type 0x0C for FAT32,
    0x0E for FAT16); without, a "superfloppy" whose volume starts at sector 0. The folders
    ``dirs`` are made first, then ``files`` (card path -> bytes or host file) are copied in
    their order. mtools decides the FAT type from the cluster count, so FAT32 needs at least
    65525 clusters (32 MiB of 512-byte clusters). No size rules: :func:`write_card` has the
    Pi 4's. The image stays sparse; the same arguments give the same bytes.
    """
    path = Path(path)
    offset = PARTITION_LBA * SECTOR if partition else 0
    volume_sectors = (size - offset) // SECTOR
    with open(path, "wb") as f:
        f.truncate(size)
        if partition:
            f.write(mbr([(0x0C if fat_bits == 32 else 0x0E, PARTITION_LBA, volume_sectors)]))
    args = ["mkfs.fat", "--invariant", "-F", str(fat_bits), "-s", str(sectors_per_cluster)]
    args += ["-n", label, "-i", f"{VOLUME_ID:08x}"]
    if partition:
        args += ["--offset", str(PARTITION_LBA), "-h", str(PARTITION_LBA)]
    _run([*args, str(path), str(volume_sectors * SECTOR // 1024)])
    _put_files(path, offset, files, dirs)
    return offset


def write_card(out: str | Path, files: Mapping[str, str | Path], size: int | None = None) -> int:
    """Writes a FAT32 card image holding ``files`` (card path -> host file); returns its size.

    Card paths use '/' and no leading slash (``tiny/model.bin``). Folders, then files, are
    written in sorted order. The same files give the same bytes.
    """
    sources = {dest.strip("/"): Path(src) for dest, src in files.items()}
    for dest, src in sources.items():
        if not src.is_file():
            raise MetalchatError(f"{src} (for {dest}) is not a file")
    payload = sum(_align(src.stat().st_size, 4096) for src in sources.values())
    size = size or card_size(payload)
    if size & (size - 1) or size < MIN_CARD:
        raise MetalchatError(f"card size {size} is not a power of two of at least 64 MiB")
    if card_size(payload) > size:
        raise MetalchatError(f"{payload} bytes of files do not fit on a {size >> 20} MiB card")
    volume_sectors = size // SECTOR - PARTITION_LBA
    with Outputs(sources.values()) as outputs, outputs.staged(out) as image:
        write_volume(
            image,
            size,
            {dest: sources[dest] for dest in sorted(sources)},
            _folders(sources),
            sectors_per_cluster=_sectors_per_cluster(volume_sectors),
        )
    return size


def add_firmware(card: str | Path, firmware: str | Path, out: str | Path) -> list[str]:
    """Copies ``card`` to ``out`` with the Pi 4 firmware files from ``firmware`` (the
    raspberrypi/firmware repository's ``boot/`` folder) added; returns the files added."""
    firmware = Path(firmware)
    found: dict[str, Path] = {}
    for name, required in FIRMWARE_FILES:
        path = firmware / name
        if path.is_file():
            found[name] = path
        elif required:
            raise MetalchatError(f"{path} is missing (the firmware's boot/ folder has it)")
    with Outputs([card, firmware]) as outputs:
        outputs.check(out)
        data = read_bytes(card)
        if data[510:512] != b"\x55\xaa" or data[450] != 0x0C:
            raise MetalchatError("not a card made by this tool (no FAT32 MBR partition)", card)
        (first,) = struct.unpack_from("<I", data, 454)
        with outputs.staged(out) as image:
            image.write_bytes(data)
            _put_files(image, first * SECTOR, dict(sorted(found.items())), _folders(found))
    return sorted(found)


def model_bytes_whole(model: Path) -> tuple[str, int]:
    """(description, bytes of RAM) the chat image needs to load ``model`` whole: the file (it
    loads it into RAM and runs it in place), the KV cache at the model's context, activations.

    ``model`` is a llama2.c ``model.bin`` (only its header is read) or a ``model.mcm``.
    """
    if model.suffix == ".mcm":
        m = container.read_container(model)
        params = m.manifest.WhichOneof("params")
        if params == "llama":
            cfg = m.llama_config()
            layers, seq, kv_dim = cfg.n_layers, cfg.seq_len, cfg.kv_dim
        else:
            n = m.manifest.nanochat
            layers, seq = n.n_layer, n.sequence_len
            kv_dim = n.n_kv_head * (n.n_embd // n.n_head)
        kv_cache = 2 * layers * seq * kv_dim * 4
        return f"{params} container", model.stat().st_size + kv_cache
    config, version, group = llama2c.read_config(model)
    fmt = "q8" if version == 2 else "f32"
    plan = planner.plan(config, fmt, group or 64)
    return f"llama2.c v{version} {fmt}", plan.whole_bytes


def require_fits(model: Path, board_name: str) -> str:
    """The line saying how ``model`` runs on the board: loaded whole, or (a Llama container
    too big for that) streamed layer by layer from the card, with the planner's predicted
    s/token (engines/llama/llama_stream.c). Raises :class:`MetalchatError` (one line, with
    the numbers) when it can do neither."""
    what, needed = model_bytes_whole(model)
    board = planner.board(board_name)
    if needed <= board.ram:
        return f"{model.parent.name}: fits {board_name} whole ({planner.human(needed)})"
    if model.suffix == ".mcm" and what == "llama container":
        m = container.read_container(model)
        cfg = m.llama_config()
        big = max(m.tensors.values(), key=lambda t: t.values.size)
        fmt = big.fmt
        p = planner.plan(cfg, fmt, big.group_size or 64)
        result = planner.fit(p, board)
        if result.ok:
            return (
                f"{model.parent.name}: {planner.human(model.stat().st_size)}, too big to load "
                f"whole on {board_name}: {result.verdict}, {planner.human(result.needed)} of RAM; "
                f"{result.details[0] if result.details else ''}"
            )
    raise MetalchatError(
        f"model {model.parent.name} ({what}) needs {planner.human(needed)} loaded whole, "
        f"{board_name} has {planner.human(board.ram)} for a model and only Llama containers "
        "are streamed layer by layer; choose a smaller format (q8/q4) or a smaller model",
        model,
    )
