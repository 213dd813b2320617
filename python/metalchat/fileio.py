"""Small file helpers shared by the tools: atomic writes and checked reads."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from metalchat.errors import MetalchatError


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either the old file or the whole new one.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the
    temporary file then replaces ``path`` with :func:`os.replace`.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise MetalchatError(f"directory {directory} does not exist", target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, turning OS errors into a :class:`MetalchatError` naming the file."""
    source = Path(path)
    try:
        return source.read_bytes()
    except FileNotFoundError:
        raise MetalchatError("no such file", source) from None
    except IsADirectoryError:
        raise MetalchatError("is a directory, expected a file", source) from None
    except OSError as exc:
        raise MetalchatError(f"cannot read: {exc.strerror}", source) from None
