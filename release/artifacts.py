"""The release folder and its tar: provenance, SHA256SUMS, deterministic tar and xz.

Shared by the build action (pack.py) and the checker (verify.py), so both compute the
provenance and the sums the same way. Nothing here reads a clock, a user or a path outside
its arguments: the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path

from metalchat.errors import MetalchatError

SUMS = "SHA256SUMS"
PROVENANCE = "PROVENANCE.json"
BUILD_COMMAND = "bazel build //release"

# The checkout files the provenance describes, by their path in the repository.
VERSION_FILE = "release/version.bzl"
PINNED_FILES = (
    ".bazelversion",
    "toolchains/host/versions.sh",
    "toolchains/zig/versions.bzl",
    "toolchains/python/requirements.lock",
)

# xz with fixed settings: preset 6, CRC64, one thread (liblzma's output then depends only on
# the input bytes and the preset).
XZ_PRESET = 6
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _setting(text: str, pattern: str, source: str) -> str:
    """The first group of ``pattern`` (a ``^...$`` line) in ``text``; a clear error if absent."""
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise MetalchatError(f"no line matching {pattern!r}", source)
    return match.group(1)


def version_of(version_bzl: str) -> str:
    """The release version from release/version.bzl's text."""
    return _setting(version_bzl, r'^VERSION = "([^"]+)"$', VERSION_FILE)


def provenance(commit: str, files: Mapping[str, bytes]) -> dict[str, object]:
    """The provenance record of a release built from ``commit`` with these checkout files.

    ``files`` maps VERSION_FILE and every PINNED_FILES path to its bytes.
    """
    missing = [name for name in (VERSION_FILE, *PINNED_FILES) if name not in files]
    if missing:
        raise MetalchatError(f"provenance needs {', '.join(missing)}")
    host = files["toolchains/host/versions.sh"].decode()
    zig = files["toolchains/zig/versions.bzl"].decode()
    bazel = files[".bazelversion"].decode().strip()
    bazel_debian = _setting(
        host, r'^BAZEL_DEBIAN_VERSION="([^"]+)"$', "toolchains/host/versions.sh"
    )
    qemu_debian = _setting(host, r'^QEMU_DEBIAN_VERSION="([^"]+)"$', "toolchains/host/versions.sh")
    dosfstools = _setting(
        host, r'^DOSFSTOOLS_DEBIAN_VERSION="([^"]+)"$', "toolchains/host/versions.sh"
    )
    mtools = _setting(host, r'^MTOOLS_DEBIAN_VERSION="([^"]+)"$', "toolchains/host/versions.sh")
    zig_version = _setting(zig, r'^ZIG_VERSION = "([^"]+)"$', "toolchains/zig/versions.bzl")
    zig_wheel = _setting(zig, r'^\s*sha256 = "([0-9a-f]{64})",$', "toolchains/zig/versions.bzl")
    return {
        "name": "metalchat",
        "version": version_of(files[VERSION_FILE].decode()),
        "source_commit": commit,
        "build_command": BUILD_COMMAND,
        "bazel": f"{bazel} (Debian bazel-bootstrap {bazel_debian})",
        "zig": f"{zig_version} (PyPI ziglang, x86_64 wheel sha256 {zig_wheel})",
        "qemu": f"Debian qemu-system-arm {qemu_debian} (bookworm-backports)",
        # The SD cards' FAT32 writers, pinned by the installer.
        "sdcard_tools": f"Debian dosfstools {dosfstools}, mtools {mtools}",
        "python_lock_sha256": sha256_bytes(files["toolchains/python/requirements.lock"]),
        "compression": f"xz preset {XZ_PRESET}, CRC64, one thread (Python lzma, Debian liblzma5)",
        "pinned_files_sha256": {name: sha256_bytes(files[name]) for name in PINNED_FILES},
    }


def provenance_bytes(record: Mapping[str, object]) -> bytes:
    """The provenance file's bytes: sorted keys, two-space indent, final newline."""
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def sums_bytes(files: Mapping[str, bytes]) -> bytes:
    """SHA256SUMS of ``files`` (release path -> bytes), sorted, in ``sha256sum -c`` format."""
    return "".join(f"{sha256_bytes(files[name])}  {name}\n" for name in sorted(files)).encode()


def parse_sums(text: bytes) -> dict[str, str]:
    """SHA256SUMS -> {path: hex}; a malformed line is one error naming it."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.decode(errors="replace").splitlines(), 1):
        match = re.fullmatch(r"([0-9a-f]{64})  (\S.*)", line)
        if match is None:
            raise MetalchatError(f"line {number} is not '<sha256>  <path>': {line[:80]!r}", SUMS)
        sums[match.group(2)] = match.group(1)
    return sums


def xz_compress(source: Path, target: Path) -> None:
    """Compress ``source`` into ``target`` with the fixed xz settings."""
    compressor = lzma.LZMACompressor(
        format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=XZ_PRESET
    )
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(compressor.compress(chunk))
        writer.write(compressor.flush())


def _tar_info(name: str, directory: bool, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_tar(target: Path, top: str, files: Mapping[str, bytes]) -> None:
    """A tar of ``files`` under folder ``top``: sorted, owner 0, mode 644/755, mtime 0."""
    folders = {top}
    for name in files:
        parts = name.split("/")[:-1]
        folders.update(f"{top}/" + "/".join(parts[: i + 1]) for i in range(len(parts)))
    entries = sorted(
        [(folder, True) for folder in folders] + [(f"{top}/{name}", False) for name in files]
    )
    with tarfile.open(target, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, directory in entries:
            if directory:
                tar.addfile(_tar_info(name, True))
            else:
                data = files[name[len(top) + 1 :]]
                tar.addfile(_tar_info(name, False, len(data)), io.BytesIO(data))


def read_release(path: Path) -> dict[str, bytes]:
    """Every file of a release folder or tar, by its path inside the release's top folder."""
    if path.is_dir():
        return {
            str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()
        }
    if not path.is_file():
        raise MetalchatError("no such file or folder", path)
    try:
        with tarfile.open(path) as tar:
            files: dict[str, bytes] = {}
            for member in tar.getmembers():
                if member.isdir():
                    continue
                if not member.isfile():
                    raise MetalchatError(f"{member.name} is not a regular file", path)
                _, _, name = member.name.partition("/")
                handle = tar.extractfile(member)
                files[name] = handle.read() if handle else b""
            return files
    except tarfile.TarError as exc:
        raise MetalchatError(f"not a release folder or tar: {exc}", path) from None
