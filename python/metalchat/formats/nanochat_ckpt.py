"""nanochat checkpoints and tokenizers, read without torch and without running pickled code.

Upstream (karpathy/nanochat) writes, per saved step:

``model_<step:06d>.pt``
    ``torch.save(model.state_dict())``: a zip archive (stored, not compressed) whose entries
    sit under one folder named after the file (``model_000100/``): ``data.pkl``,
    ``data/<key>`` (one raw little-endian storage per key), ``version``, ``byteorder``
    (``little``/``big``, torch >= 2.1) and bookkeeping entries. ``data.pkl`` is a protocol-2
    pickle of a ``collections.OrderedDict`` (with a ``_metadata`` attribute) mapping names to
    ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[,
    metadata])``, where ``storage`` is a persistent id ``("storage", torch.<T>Storage, key,
    location, numel)``; offset, size and stride count elements.
``meta_<step:06d>.json``
    ``{"step": ..., "model_config": {GPTConfig fields}, ...}``.
``tokenizer/tokenizer.pkl`` (in nanochat's base folder, not beside the checkpoint)
    ``pickle.dump`` of a ``tiktoken.core.Encoding``, whose ``__getstate__`` is
    ``{"name", "pat_str", "mergeable_ranks": {bytes: rank}, "special_tokens": {str: id}}``;
    a token's id is its rank, special tokens follow the ranks.

Pickles can run arbitrary code, so both are read by unpicklers that resolve only the few
globals named above (to numpy reconstructions or plain containers) and refuse any other
global with a :class:`MetalchatError`. As upstream's ``build_model`` does, keys lose a
``_orig_mod.`` prefix (torch.compile), missing ``resid_lambdas``/``x0_lambdas`` become ones
and zeros, and a missing ``window_pattern`` means ``"L"``. Weights are returned as float32.
"""

from __future__ import annotations

import collections
import io
import json
import math
import pickle
import pickletools
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metalchat.errors import MetalchatError
from metalchat.fileio import read_bytes
from metalchat.reference.nanochat import NanochatConfig, check_weights

# torch storage class -> numpy dtype of its elements ("bfloat16" handled by widening)
_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
_CONFIG_FIELDS = ("sequence_len", "vocab_size", "n_layer", "n_head", "n_kv_head", "n_embd")
_MODEL_FILE = re.compile(r"model_(\d+)\.pt")


# What a malformed pickle or zip entry raises (the unpicklers only build plain containers
# and the numpy arrays above, so these come from the bytes, not from metalchat);
# RecursionError: nesting deeper than Python's stack; OSError: a zip header's offset that
# points outside the file.
_PICKLE_ERRORS = (
    OSError,
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    OverflowError,
    UnicodeDecodeError,
    RecursionError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
)


def _check_pickle(data: bytes, what: str) -> None:
    """Walk every opcode once without building anything: a length an opcode claims (strings,
    bytes, bytearrays up to 2**64) is checked against the bytes present, before the
    unpickler would allocate it."""
    try:
        for _ in pickletools.genops(data):
            pass
    except _PICKLE_ERRORS as exc:
        raise MetalchatError(f"corrupt {what}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) to float32: they are float32's upper 16 bits."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def _refuse(kind: str, module: str, name: str) -> MetalchatError:
    return MetalchatError(
        f"refusing to unpickle global {module}.{name}: a {kind} needs only the types listed "
        "in metalchat.formats.nanochat_ckpt, and a pickle that names others could run code"
    )


@dataclass(frozen=True)
class _Storage:
    """A ``torch.<T>Storage`` class named in a persistent id."""

    name: str


def _rebuild_tensor_v2(
    storage: np.ndarray,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    requires_grad: bool,
    hooks: object,
    metadata: object = None,
) -> np.ndarray:
    if not isinstance(storage, np.ndarray):
        raise MetalchatError("a tensor's storage is not a persistent storage reference")
    if not (
        isinstance(offset, int)
        and isinstance(size, tuple | list)
        and isinstance(stride, tuple | list)
        and all(isinstance(n, int) for n in (*size, *stride))
    ):
        raise MetalchatError("a tensor's offset, size or stride is not made of integers")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or offset < 0 or min(size, default=1) < 0:
        raise MetalchatError(f"tensor size {size} / stride {stride} / offset {offset} is invalid")
    if math.prod(size) > storage.size:  # a state dict's tensors never repeat elements
        raise MetalchatError(
            f"tensor of size {size} (stride {stride}) claims {math.prod(size)} elements, its "
            f"storage holds {storage.size}"
        )
    if 0 not in size:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if min(stride, default=0) < 0 or last >= storage.size:
            raise MetalchatError(
                f"tensor of size {size}, stride {stride} at offset {offset} reaches past its "
                f"storage of {storage.size} elements"
            )
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=tuple(s * item for s in stride), writeable=False
    )
    return np.array(view)


def _rebuild_parameter(data: np.ndarray, requires_grad: bool, hooks: object) -> np.ndarray:
    return data


class _TorchUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, order: str) -> None:
        super().__init__(io.BytesIO(data))
        self.archive = archive
        self.prefix = prefix
        self.order = order
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Storage(name)
        raise _refuse("torch state dict", module, name)

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise MetalchatError(f"unknown persistent id {pid!r} in data.pkl")
        _, kind, key, _location, numel = pid
        if not (isinstance(kind, _Storage) and isinstance(key, str) and isinstance(numel, int)):
            raise MetalchatError(f"malformed storage reference {pid!r} in data.pkl")
        if key in self.storages:
            return self.storages[key]
        entry = f"{self.prefix}data/{key}"
        dtype = np.dtype(_STORAGE_DTYPES[kind.name]).newbyteorder(self.order)
        info = _entry(self.archive, entry, "storage")
        if info.file_size != numel * dtype.itemsize:
            raise MetalchatError(
                f"storage {entry} has {info.file_size} bytes, its {kind.name} of {numel} "
                f"elements needs {numel * dtype.itemsize}"
            )
        array = np.frombuffer(self.archive.read(entry), dtype=dtype)
        if kind.name == "BFloat16Storage":
            array = bf16_to_f32(array.astype(np.uint16))
        self.storages[key] = array
        return array


def _entry(archive: zipfile.ZipFile, name: str, what: str) -> zipfile.ZipInfo:
    """The archive entry ``name``, refused when it claims more bytes than the archive has
    (torch stores entries uncompressed, so none can be larger than the file)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise MetalchatError(f"{what} {name} is missing from the archive") from None
    size = archive.fp.seek(0, 2) if archive.fp is not None else 0
    if info.file_size > size:
        raise MetalchatError(
            f"{what} {name} claims {info.file_size} bytes, more than the whole file ({size})"
        )
    return info


def read_torch_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a ``torch.save``d state dict (zip format), as numpy arrays.

    bfloat16 tensors become float32; other dtypes keep theirs (native byte order).
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise MetalchatError("no such file", path) from None
    except OSError as exc:
        raise MetalchatError(f"cannot read: {exc.strerror}", path) from None
    except _PICKLE_ERRORS:  # what zipfile raises for a malformed archive
        raise MetalchatError(
            "not a torch zip checkpoint (torch.save writes a zip archive since torch 1.6; "
            "the file is truncated, or in the legacy format)",
            path,
        ) from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise MetalchatError(
                "not a torch checkpoint: expected one <name>/data.pkl in the archive", path
            )
        prefix = pickles[0][: -len("data.pkl")]
        order = "<"
        if f"{prefix}byteorder" in archive.namelist():
            info = _entry(archive, f"{prefix}byteorder", "entry")
            try:
                order = {b"little": "<", b"big": ">"}.get(archive.read(info), "")
            except _PICKLE_ERRORS as exc:
                raise MetalchatError(f"corrupt checkpoint: {_first_line(exc)}", path) from None
            if not order:
                raise MetalchatError("byteorder entry is neither 'little' nor 'big'", path)
        try:
            pickled = archive.read(_entry(archive, pickles[0], "pickle"))
            _check_pickle(pickled, "checkpoint")
            loaded = _TorchUnpickler(pickled, archive, prefix, order).load()
        except MetalchatError as exc:
            raise exc.with_path(path) from None
        except _PICKLE_ERRORS as exc:
            raise MetalchatError(f"corrupt checkpoint: {_first_line(exc)}", path) from None
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in loaded.items()
    ):
        raise MetalchatError("the checkpoint is not a state dict of named tensors", path)
    return {k: v.astype(v.dtype.newbyteorder("=")) for k, v in loaded.items()}


# ---------------------------------------------------------------------------------------
# checkpoints


@dataclass
class NanochatCheckpoint:
    """A nanochat model: its config, float32 weights by upstream name, and meta json."""

    config: NanochatConfig
    weights: dict[str, np.ndarray]
    meta: dict[str, Any]
    step: int


def checkpoint_files(directory: str | Path) -> dict[int, Path]:
    """``model_<step>.pt`` files in ``directory`` by step, ascending."""
    folder = Path(directory)
    if not folder.is_dir():
        raise MetalchatError("no such directory", folder)
    found = {int(m[1]): p for p in folder.iterdir() if (m := _MODEL_FILE.fullmatch(p.name))}
    return dict(sorted(found.items()))


def _config_from_meta(meta: dict[str, Any], path: Path) -> NanochatConfig:
    model_config = meta.get("model_config")
    if not isinstance(model_config, dict):
        raise MetalchatError("has no model_config object", path)
    values = dict(model_config)
    values.setdefault("window_pattern", "L")  # checkpoints from before sliding windows
    unknown = sorted(set(values) - {*_CONFIG_FIELDS, "window_pattern"})
    missing = [name for name in _CONFIG_FIELDS if name not in values]
    if unknown or missing:
        raise MetalchatError(
            f"model_config fields {unknown or missing} are "
            f"{'not known to this reader (a newer nanochat?)' if unknown else 'missing'}",
            path,
        )
    if not all(
        isinstance(values[name], int) and not isinstance(values[name], bool)
        for name in _CONFIG_FIELDS
    ) or not isinstance(values["window_pattern"], str):
        raise MetalchatError(f"model_config has values of the wrong type: {values}", path)
    config = NanochatConfig(**values)
    try:
        config.validate()
    except MetalchatError as exc:
        raise MetalchatError(f"model_config is invalid: {exc.message}", path) from None
    return config


def read_checkpoint(directory: str | Path, step: int | None = None) -> NanochatCheckpoint:
    """Read ``model_<step>.pt`` and ``meta_<step>.json`` (the last step when not given)."""
    folder = Path(directory)
    files = checkpoint_files(folder)
    if not files:
        raise MetalchatError("no model_<step>.pt checkpoint in this directory", folder)
    if step is None:
        step = max(files)
    elif step not in files:
        raise MetalchatError(f"no checkpoint for step {step} (steps here: {list(files)})", folder)
    model_path = files[step]
    meta_path = folder / f"meta_{model_path.name[len('model_') : -len('.pt')]}.json"
    try:
        meta = json.loads(read_bytes(meta_path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetalchatError(f"not valid JSON: {exc}", meta_path) from None
    if not isinstance(meta, dict):
        raise MetalchatError("is not a JSON object", meta_path)
    config = _config_from_meta(meta, meta_path)
    state = {k.removeprefix("_orig_mod."): v for k, v in read_torch_state_dict(model_path).items()}
    if f"transformer.h.{config.n_layer - 1}.attn.c_q.weight" in state:  # else: check_weights
        state.setdefault("resid_lambdas", np.ones(config.n_layer, np.float32))
        state.setdefault("x0_lambdas", np.zeros(config.n_layer, np.float32))
    weights = {name: np.asarray(value, dtype=np.float32) for name, value in state.items()}
    try:
        check_weights(config, weights)
    except MetalchatError as exc:
        raise MetalchatError(
            f"{exc.message} (the model_config in {meta_path.name} does not match, or the "
            "checkpoint comes from another nanochat version)",
            model_path,
        ) from None
    return NanochatCheckpoint(config, weights, meta, step)


# ---------------------------------------------------------------------------------------
# tokenizer.pkl


class _EncodingState:
    """Stands in for ``tiktoken.core.Encoding``: keeps the state pickle hands it."""

    state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _TokenizerUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("tiktoken.core", "Encoding"):
            return _EncodingState
        raise _refuse("tiktoken tokenizer", module, name)


@dataclass
class NanochatTokenizer:
    """nanochat's tiktoken BPE: byte strings by rank (= id), then the special tokens."""

    name: str
    pattern: str  # the regex that splits text before BPE
    ranks: dict[bytes, int]
    special_tokens: dict[str, int]

    @property
    def vocab_size(self) -> int:
        return len(self.ranks) + len(self.special_tokens)

    def tokens(self) -> list[bytes]:
        """The bytes of every token by id (special tokens as their UTF-8 text)."""
        by_id = {rank: token for token, rank in self.ranks.items()}
        by_id.update({i: text.encode("utf-8") for text, i in self.special_tokens.items()})
        return [by_id[i] for i in range(self.vocab_size)]

    def token_id(self, special: str) -> int:
        if special not in self.special_tokens:
            raise MetalchatError(f"the tokenizer has no special token {special}")
        return self.special_tokens[special]


def read_tokenizer(path: str | Path) -> NanochatTokenizer:
    """Read nanochat's ``tokenizer.pkl`` (or the folder holding it)."""
    source = Path(path)
    if source.is_dir():
        source = source / "tokenizer.pkl"
    data = read_bytes(source)
    try:
        _check_pickle(data, "tokenizer pickle")
        loaded = _TokenizerUnpickler(io.BytesIO(data)).load()
    except MetalchatError as exc:
        raise exc.with_path(source) from None
    except _PICKLE_ERRORS as exc:
        raise MetalchatError(f"corrupt tokenizer pickle: {_first_line(exc)}", source) from None
    state = loaded.state if isinstance(loaded, _EncodingState) else None
    if isinstance(state, str):
        raise MetalchatError(
            f"the pickle names tiktoken's built-in encoding {state!r} instead of holding its "
            "ranks; only self-contained (trained) encodings can be read offline",
            source,
        )
    if not isinstance(state, dict) or not {"pat_str", "mergeable_ranks", "special_tokens"} <= set(
        state
    ):
        raise MetalchatError("not a pickled tiktoken Encoding", source)
    ranks, specials = state["mergeable_ranks"], state["special_tokens"]
    if not (
        isinstance(ranks, dict)
        and all(isinstance(k, bytes) and isinstance(v, int) for k, v in ranks.items())
        and isinstance(specials, dict)
        and all(isinstance(k, str) and isinstance(v, int) for k, v in specials.items())
    ):
        raise MetalchatError(
            "mergeable_ranks or special_tokens has entries of the wrong type", source
        )
    tokenizer = NanochatTokenizer(
        str(state.get("name", "")), str(state["pat_str"]), ranks, specials
    )
    ids = sorted([*ranks.values(), *specials.values()])
    if ids != list(range(tokenizer.vocab_size)):
        raise MetalchatError(
            f"token ids are not 0..{tokenizer.vocab_size - 1} without gaps or repeats", source
        )
    return tokenizer
