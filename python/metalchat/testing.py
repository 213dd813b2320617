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


def tokenizer_bin(vocab_size: int) -> bytes:
    """A llama2.c ``tokenizer.bin`` of ``vocab_size`` tokens for models without their own:
    ``<unk>``, ``<s>``, ``</s>``, the 256 byte tokens ``<0xNN>``, then ``t<i>`` fillers."""
    from metalchat.formats import llama2c

    tokens = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    tokens = (tokens + [f"t{i}".encode() for i in range(vocab_size)])[:vocab_size]
    return llama2c.serialize_tokenizer(tokens, [-float(i) for i in range(vocab_size)])
