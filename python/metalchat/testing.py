"""Helpers for tests: where the shared, not-committed test data lives, and a torch.save
look-alike (a protocol-2 pickle assembled opcode by opcode, raw storages under
``<name>/data/<key>`` in a zip) for nanochat checkpoints without torch."""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

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


def write_linux_only_disk(path: Path, size: int = 64 << 20) -> Path:
    """A disk image whose MBR has one Linux (0x83) partition and no FAT32: a card or stick
    that readers must refuse in one line (FAT_ERR_NO_PARTITION)."""
    data = bytearray(size)
    data[446:462] = (
        bytes([0, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF])
        + (2048).to_bytes(4, "little")
        + (4096).to_bytes(4, "little")
    )
    data[510:512] = b"\x55\xaa"
    path.write_bytes(data)
    return path


def tokenizer_bin(vocab_size: int) -> bytes:
    """A llama2.c ``tokenizer.bin`` of ``vocab_size`` tokens for models without their own:
    ``<unk>``, ``<s>``, ``</s>``, the 256 byte tokens ``<0xNN>``, then ``t<i>`` fillers."""
    from metalchat.formats import llama2c

    tokens = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    tokens = (tokens + [f"t{i}".encode() for i in range(vocab_size)])[:vocab_size]
    return llama2c.serialize_tokenizer(tokens, [-float(i) for i in range(vocab_size)])


# --- a torch.save look-alike, opcode by opcode ------------------------------------------


def pt_global(module: str, name: str) -> bytes:
    """GLOBAL: ``module.name``."""
    return b"c" + f"{module}\n{name}\n".encode()


def pt_str(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def pt_int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def pt_tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def pt_ordered_dict() -> bytes:
    return pt_global("collections", "OrderedDict") + b")R"


def pt_tensor(key: str, storage: str, numel: int, offset: int, size: tuple, stride: tuple) -> bytes:
    """``_rebuild_tensor_v2`` of storage ``key`` (a ``torch.<storage>`` of ``numel``)."""
    persistent = pt_tuple(
        [pt_str("storage"), pt_global("torch", storage), pt_str(key), pt_str("cpu"), pt_int(numel)]
    )
    args = [
        persistent + b"Q",  # BINPERSID
        pt_int(offset),
        pt_tuple([pt_int(n) for n in size]),
        pt_tuple([pt_int(s) for s in stride]),
        b"\x89",  # requires_grad False
        pt_ordered_dict(),  # backward hooks
    ]
    return pt_global("torch._utils", "_rebuild_tensor_v2") + pt_tuple(args) + b"R"


def write_pt(path: Path, tensors: dict[str, np.ndarray], *, bf16: tuple[str, ...] = ()) -> None:
    """A ``torch.save``d state dict of ``tensors`` at ``path``: each tensor gets its own
    storage; ``bf16`` names are stored as bfloat16 (truncated)."""
    stem = path.stem
    body = b"\x80\x02" + pt_ordered_dict() + b"("
    storages = []
    for key, (name, array) in enumerate(tensors.items()):
        array = np.ascontiguousarray(array)
        stride = tuple(s // array.itemsize for s in array.strides)
        if name in bf16:
            raw = (array.astype("<f4").view("<u4") >> 16).astype("<u2")
            kind = "BFloat16Storage"
        else:
            raw = array.astype(array.dtype.newbyteorder("<"))
            kind = {"float32": "FloatStorage", "int64": "LongStorage"}[array.dtype.name]
        body += pt_str(name) + pt_tensor(str(key), kind, array.size, 0, array.shape, stride)
        storages.append(raw.tobytes())
    body += b"u."  # SETITEMS, STOP
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{stem}/data.pkl", body)
        archive.writestr(f"{stem}/byteorder", "little")
        for key, raw in enumerate(storages):
            archive.writestr(f"{stem}/data/{key}", raw)
        archive.writestr(f"{stem}/version", "3\n")


def tiktoken_pickle(state: object) -> bytes:
    """What pickle.dump(tiktoken.Encoding) writes: the class, NEWOBJ, then BUILD(state).

    Protocol 3 (not 2) so that bytes are BINBYTES, as in the real protocol-4 file.
    """
    return (
        b"\x80\x03"
        + pt_global("tiktoken.core", "Encoding")
        + b")\x81"
        + (pickle.dumps(state, protocol=3)[2:-1] + b"b.")
    )
