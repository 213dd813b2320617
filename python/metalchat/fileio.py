"""File helpers every tool uses: the user's paths, checked reads and safe output files.

Output files are written the one way :class:`Outputs` does it: each output is checked before
any work starts (not empty, not a folder, not a device or other non-regular file, its folder
exists, and it is not the same file as any input of the command, compared by device and
inode), written to a temporary file in its destination folder, flushed to disk with fsync,
and renamed over the target only when the whole command succeeded. When anything fails, the
temporary files are removed and the old targets stay as they were. A target that is a
symbolic link is written through (the file it points to is replaced, the link stays).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from metalchat.errors import MetalchatError

EMPTY_PATH = 'an empty path ("") was given'


def user_path(text: str) -> Path:
    """A path the user typed: ``~`` expanded and, under ``bazel run``, a relative path taken
    from the folder the command was started in (``BUILD_WORKING_DIRECTORY``) rather than the
    runfiles tree. Use it as the argparse ``type`` of every input and output path."""
    if not text:  # Path("") would be the current folder
        raise MetalchatError(EMPTY_PATH)
    path = Path(os.path.expanduser(text))
    base = os.environ.get("BUILD_WORKING_DIRECTORY")
    if base and not path.is_absolute():
        return Path(base) / path
    return path


def runfile_or_user_path(text: str) -> Path:
    """A path that a target's BUILD ``args`` give relative to its runfiles tree (the folder a
    ``bazel run`` program starts in) or the user gives on the command line: the runfile when
    it exists there, else :func:`user_path`."""
    if text and not Path(text).is_absolute() and Path(text).exists():
        return Path(text)
    return user_path(text)


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, turning OS errors into a :class:`MetalchatError` naming the file."""
    source = Path(path)
    try:
        return source.read_bytes()
    except FileNotFoundError:
        raise MetalchatError("no such file", source) from None
    except IsADirectoryError:
        raise MetalchatError("is a folder, expected a file", source) from None
    except OSError as exc:
        raise MetalchatError(f"cannot read: {exc.strerror}", source) from None


def parse_json_object(data: bytes, path: str | Path | None, what: str = "") -> dict[str, Any]:
    """``data`` as a JSON object; malformed, too deeply nested or not an object is a
    :class:`MetalchatError` (``what`` names the part of the file, e.g. "safetensors header")."""
    where = f"{what}: " if what else ""
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetalchatError(f"{where}not valid JSON: {exc}", path) from None
    except RecursionError:
        raise MetalchatError(f"{where}JSON nested too deeply", path) from None
    if not isinstance(value, dict):
        raise MetalchatError(f"{where}not a JSON object", path)
    return value


def read_json_object(path: str | Path) -> dict[str, Any]:
    """Read a JSON file holding an object (see :func:`parse_json_object`)."""
    return parse_json_object(read_bytes(path), path)


def _identities(paths: Iterable[str | Path]) -> dict[tuple[int, int], Path]:
    """(device, inode) -> path of every existing input; a folder stands for its files too."""
    found: dict[tuple[int, int], Path] = {}
    for entry in paths:
        path = Path(entry)
        try:
            info = path.stat()
        except OSError:
            continue
        found[(info.st_dev, info.st_ino)] = path
        if path.is_dir():
            with contextlib.suppress(OSError):
                for child in path.iterdir():
                    with contextlib.suppress(OSError):
                        child_info = child.stat()
                        found[(child_info.st_dev, child_info.st_ino)] = child
    return found


class Outputs:
    """The output files of one command, written together or not at all.

    ``with Outputs(inputs=[...]) as out:`` then :meth:`check` every output first (before the
    work, so a bad output path fails fast), and :meth:`write` bytes or :meth:`staged` a path
    to fill; leaving the block normally renames every staged file onto its target, leaving
    it by an exception removes them.
    """

    def __init__(self, inputs: Iterable[str | Path] = ()) -> None:
        self._inputs = _identities(inputs)
        self._checked: dict[Path, Path] = {}  # target as given -> real target
        self._staged: list[tuple[Path, Path]] = []  # (temporary file, real target)

    def check(self, path: str | Path) -> Path:
        """Refuse an output path that cannot or must not be replaced; returns it resolved."""
        if str(path) == "":
            raise MetalchatError(EMPTY_PATH)
        given = Path(path)
        if given in self._checked:
            return self._checked[given]
        target = Path(os.path.realpath(given)) if given.is_symlink() else given
        if target.exists():
            if target.is_dir():
                raise MetalchatError("is a folder; give the output a file name", given)
            if not target.is_file():
                raise MetalchatError(
                    "is not a regular file (a device, pipe or socket); refusing to replace it",
                    given,
                )
            info = target.stat()
            source = self._inputs.get((info.st_dev, info.st_ino))
            if source is not None:
                same = "" if source == given else f" (the same file as {source})"
                raise MetalchatError(
                    f"is an input of this command{same}; refusing to overwrite it", given
                )
        folder = target.parent
        if not folder.is_dir():
            raise MetalchatError("no such folder", folder)
        if target in self._checked.values():
            raise MetalchatError("is named as two outputs of this command", given)
        self._checked[given] = target
        return target

    @contextlib.contextmanager
    def staged(self, path: str | Path) -> Iterator[Path]:
        """A temporary path beside ``path`` to write; staged for the commit if the block ends
        normally, removed if it raises."""
        target = self.check(path)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise MetalchatError(f"cannot write here: {exc.strerror}", target.parent) from None
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, OSError):
                raise MetalchatError(f"cannot write: {exc.strerror}", path) from None
            raise
        self._staged.append((tmp, target))

    def write(self, path: str | Path, data: bytes) -> None:
        """Stage ``data`` as the new contents of ``path``."""
        with self.staged(path) as tmp, open(tmp, "wb") as handle:
            handle.write(data)

    def commit(self) -> None:
        """Rename every staged file onto its target (done by leaving the ``with`` block)."""
        try:
            while self._staged:
                tmp, target = self._staged[0]
                os.replace(tmp, target)
                self._staged.pop(0)
        except OSError as exc:
            raise MetalchatError(f"cannot write: {exc.strerror}", self._staged[0][1]) from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove every staged file; no target changes."""
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged.clear()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def atomic_write(path: str | Path, data: bytes, inputs: Iterable[str | Path] = ()) -> None:
    """Write one output file the :class:`Outputs` way: readers see the old file or the whole
    new one, never an input of the command, a folder or a device."""
    with Outputs(inputs) as out:
        out.write(path, data)


# FAT32 holds at most 4 GiB - 1 bytes a file: bigger models go to the card in shards.
FAT32_MAX_FILE = (4 << 30) - 1
DEFAULT_SHARD = 2 << 30


def shard_path(path: str | Path, index: int) -> Path:
    """Shard ``index`` of ``path``: ``<path>.000``, ``.001``, ... (readers concatenate them:
    platforms/host/weights.h, apps/chat/card_weights.h)."""
    return Path(f"{path}.{index:03d}")
