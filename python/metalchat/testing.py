"""Helpers for tests: where the shared, not-committed test data lives."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "METALCHAT_TESTDATA"


def shared_testdata_dir(start: str | Path | None = None) -> Path | None:
    """The folder with large test inputs (stories260K.bin, ...), or ``None`` if absent.

    ``$METALCHAT_TESTDATA`` wins; otherwise look for ``../shared/testdata`` beside the
    checkout that holds this file (following Bazel's runfiles symlinks back to the source).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
        return path if path.is_dir() else None
    here = Path(start if start is not None else __file__).resolve()
    for parent in here.parents:
        if (parent / "WORKSPACE").exists() or (parent / ".git").exists():
            candidate = parent.parent / "shared" / "testdata"
            return candidate if candidate.is_dir() else None
    return None


def shared_testdata_file(name: str) -> Path | None:
    """``shared_testdata_dir() / name`` if that file exists, else ``None``."""
    folder = shared_testdata_dir()
    if folder is None:
        return None
    path = folder / name
    return path if path.is_file() else None
