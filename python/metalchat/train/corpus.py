"""The training text: the King James Bible (public domain), as Debian ships it.

Debian 12's ``bible-kjv-text`` 4.38 holds the text in a compressed random-access format
(``/usr/lib/bible.data``) and ``bible-kjv`` 4.38 the ``bible`` program that prints it.
:func:`fetch_kjv` downloads both ``.deb`` files with ``apt-get download`` (no root needed,
nothing installed), checks their sha256, unpacks them with ``dpkg-deb -x`` into a temporary
folder and runs ``bible -f Gen1:1-Rev22:21``, which prints one verse per line::

    Ge1:1 In the beginning God created the heaven and the earth.

The result (31,102 verses, 4,404,412 bytes of ASCII) is checked against
:data:`KJV_TEXT_SHA256`. :func:`chapters` turns it into 1,189 documents, one per chapter,
verses joined by newlines and without their references; :func:`split` holds out every
:data:`VAL_EVERY`-th chapter for validation.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from metalchat.errors import MetalchatError
from metalchat.fileio import atomic_write, read_bytes

# Debian 12 (bookworm) packages, pinned by version and the sha256 of the .deb file.
KJV_DEBS = {
    "bible-kjv-text": (
        "4.38",
        "all",
        "d61b6aad4c51ba9e2800b825325fa6a09e99a0d02a9bb6dc4724fcc4995a1b7a",
    ),
    "bible-kjv": (
        "4.38",
        "amd64",
        "75a49c032a6efa9faa2beb4a9acb70974380122906329d0e100de36cc88ff02d",
    ),
}
KJV_TEXT_SHA256 = "cd45f0c9cedab8e4439bd6486c8952c77cc8b0ecc5d1f6ae3513f2039f47229d"
KJV_TEXT_SIZE = 4404412
KJV_RANGE = "Gen1:1-Rev22:21"
VAL_EVERY = 40  # chapters 39, 79, ... (0-based) are the validation split: 29 of 1189

_VERSE = re.compile(r"([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


@dataclass(frozen=True)
class Chapter:
    ref: str  # e.g. "Ge1"
    text: str  # the verses, joined by "\n"


def deb_file_name(package: str) -> str:
    version, arch, _ = KJV_DEBS[package]
    return f"{package}_{version}_{arch}.deb"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _run(command: list[str], cwd: Path, what: str) -> bytes:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise MetalchatError(
            f"{what}: {command[0]} not found (this needs Debian's apt and dpkg)"
        ) from None
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace").strip().splitlines()
        raise MetalchatError(
            f"{what} failed ({' '.join(command)}): {said[-1] if said else 'no message'}"
        )
    return result.stdout


def fetch_debs(folder: Path, deb_dir: Path | None = None) -> dict[str, Path]:
    """The two .deb files in ``folder``: copied from ``deb_dir`` if given, else downloaded
    with ``apt-get download`` (needs ``apt-get update`` once). Each sha256 is checked."""
    found: dict[str, Path] = {}
    for package, (version, _arch, digest) in KJV_DEBS.items():
        name = deb_file_name(package)
        target = folder / name
        if deb_dir is not None:
            shutil.copyfile(deb_dir / name, target)
        else:
            _run(
                ["apt-get", "download", f"{package}={version}"],
                folder,
                f"downloading {package} {version} from Debian",
            )
        data = read_bytes(target)
        if _sha256(data) != digest:
            raise MetalchatError(
                f"sha256 {_sha256(data)} differs from the pinned {digest} "
                f"(not Debian 12's {package} {version}?)",
                target,
            )
        found[package] = target
    return found


def fetch_kjv(out: str | Path, deb_dir: str | Path | None = None) -> str:
    """Write the KJV text (one ``Ref Verse`` line per verse) to ``out``; returns its sha256."""
    with tempfile.TemporaryDirectory(prefix="metalchat-kjv-") as tmp:
        folder = Path(tmp)
        debs = fetch_debs(folder, Path(deb_dir) if deb_dir is not None else None)
        root = folder / "root"
        for deb in debs.values():
            _run(["dpkg-deb", "-x", str(deb), str(root)], folder, f"unpacking {deb.name}")
        data_dir = root / "usr" / "lib"
        text = _run(
            [str(root / "usr" / "bin" / "bible"), "-f", "-p", str(data_dir), KJV_RANGE],
            folder,
            "printing the text with bible-kjv's `bible`",
        )
    digest = _sha256(text)
    if digest != KJV_TEXT_SHA256 or len(text) != KJV_TEXT_SIZE:
        raise MetalchatError(
            f"the extracted text has sha256 {digest} ({len(text)} bytes), expected "
            f"{KJV_TEXT_SHA256} ({KJV_TEXT_SIZE} bytes)"
        )
    atomic_write(out, text)
    return digest


def read_kjv(path: str | Path) -> str:
    """The text written by :func:`fetch_kjv`, checked against its pinned sha256."""
    data = read_bytes(path)
    if _sha256(data) != KJV_TEXT_SHA256:
        raise MetalchatError(
            f"sha256 {_sha256(data)} is not the pinned KJV text {KJV_TEXT_SHA256}; "
            "make it with `bazel run //tools/train:fetch_corpus`",
            path,
        )
    return data.decode("ascii")


def chapters(text: str) -> list[Chapter]:
    """One document per chapter, in canonical order, verse references dropped."""
    out: list[Chapter] = []
    current = ""
    verses: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _VERSE.fullmatch(line)
        if not match:
            raise MetalchatError(f"line {number} is not `Book1:1 text`: {line[:60]!r}")
        ref = match[1] + match[2]
        if ref != current and verses:
            out.append(Chapter(current, "\n".join(verses)))
            verses = []
        current = ref
        verses.append(match[4])
    if verses:
        out.append(Chapter(current, "\n".join(verses)))
    return out


def split(docs: list[Chapter]) -> tuple[list[Chapter], list[Chapter]]:
    """(train, validation): every :data:`VAL_EVERY`-th chapter is held out."""
    train = [d for i, d in enumerate(docs) if i % VAL_EVERY != VAL_EVERY - 1]
    val = [d for i, d in enumerate(docs) if i % VAL_EVERY == VAL_EVERY - 1]
    return train, val


def words(text: str) -> list[str]:
    """Lower-cased words (letters with inner apostrophes) of ``text``."""
    return [w.lower() for w in _WORD.findall(text)]


def word_list(docs: list[Chapter]) -> list[str]:
    """The sorted distinct words of ``docs``."""
    return sorted({w for d in docs for w in words(d.text)})
