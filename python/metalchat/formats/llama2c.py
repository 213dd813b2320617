"""llama2.c model files (``.bin`` v0, v1, v2) and ``tokenizer.bin``.

Weights use llama2.c's names with the layers stacked on axis 0 (see
:meth:`metalchat.config.LlamaConfig.tensor_shapes`). Layouts, as llama2.c's
``export.py`` writes them (all little-endian):

v0 (legacy, ``legacy_export``)
    7 x int32 ``dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len``;
    a negative ``vocab_size`` means the classifier is not shared with the embedding. Then
    float32: token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final,
    freq_cis_real, freq_cis_imag (each ``seq_len x head_size/2``), [wcls].
v1 (``version1_export``)
    uint32 magic 0x616b3432 ("ak42" as a big-endian word; bytes ``32 34 6b 61``), int32
    version 1, the 7 int32 (``vocab_size`` positive), uint8 shared_classifier, zeros up to
    byte 256. Then float32 in *this* order: rms_att, rms_ffn, rms_final, token_embedding,
    wq, wk, wv, wo, w1, w2, w3, [wcls]; no freq_cis.
v2 (``version2_export``, Q8_0)
    v1's header with version 2 plus int32 group_size right after the flag byte (offset 37,
    unaligned), zeros up to 256. Then float32 norms (rms_att, rms_ffn, rms_final); then
    int8 values of token_embedding, wq, wk, wv, wo, w1, w2, w3, [wcls]; then all their
    float32 scales in the same order. Groups are consecutive ``group_size`` values of
    the flattened tensor; value = q * scale, scale = max|w| / 127 per group.

tokenizer.bin
    int32 max_token_length; then per token: float32 score, int32 length, bytes. The
    number of tokens is not stored: it is the model's ``vocab_size``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import atomic_write, read_bytes

MAGIC = 0x616B3432
HEADER_SIZE = 256
_CONFIG = struct.Struct("<7i")

V0_ORDER = (
    "token_embedding",
    "rms_att",
    "wq",
    "wk",
    "wv",
    "wo",
    "rms_ffn",
    "w1",
    "w2",
    "w3",
    "rms_final",
    "freq_cis_real",
    "freq_cis_imag",
    "wcls",
)
V1_ORDER = (
    "rms_att",
    "rms_ffn",
    "rms_final",
    "token_embedding",
    "wq",
    "wk",
    "wv",
    "wo",
    "w1",
    "w2",
    "w3",
    "wcls",
)
V2_NORMS = ("rms_att", "rms_ffn", "rms_final")
V2_QUANTIZED = ("token_embedding", "wq", "wk", "wv", "wo", "w1", "w2", "w3", "wcls")


@dataclass
class QuantizedTensor:
    """Symmetric int8 groups: ``value = q * scales[group]``, groups along the flat tensor."""

    q: np.ndarray  # int8, the tensor's shape
    scales: np.ndarray  # float32, (numel / group_size,)
    group_size: int

    def dequantize(self) -> np.ndarray:
        groups = self.q.reshape(-1, self.group_size).astype(np.float32)
        return (groups * self.scales[:, None]).reshape(self.q.shape)


def quantize_q8(w: np.ndarray, group_size: int) -> QuantizedTensor:
    """Q8_0 as llama2.c does it: per group scale = max|w| / 127, q = round(w / scale).

    An all-zero group gets scale 0 and q 0 (llama2.c would divide by zero there).
    """
    w = np.asarray(w, dtype=np.float32)
    if w.size % group_size:
        raise MetalchatError(
            f"a tensor of {w.size} values does not split into groups of {group_size}"
        )
    groups = w.reshape(-1, group_size)
    scales = (np.abs(groups).max(axis=1) / np.float32(127.0)).astype(np.float32)
    safe = np.where(scales == 0, np.float32(1.0), scales)
    q = np.round(groups / safe[:, None])
    q = np.clip(q, -127, 127).astype(np.int8)
    return QuantizedTensor(q.reshape(w.shape), scales, group_size)


@dataclass
class Llama2cModel:
    """A llama2.c model: config plus float32 weights by llama2.c name.

    ``weights`` always holds float32 arrays (dequantized for v2 files); ``quantized`` holds
    the int8 tensors exactly as a v2 file stores them. ``freq_cis_real``/``freq_cis_imag``
    appear in ``weights`` only when read from a v0 file (so it can be rewritten
    byte-for-byte).
    """

    config: LlamaConfig
    weights: dict[str, np.ndarray]
    version: int = 0
    group_size: int = 0
    quantized: dict[str, QuantizedTensor] = field(default_factory=dict)

    def classifier(self) -> np.ndarray:
        """The output projection (vocab, dim): wcls, or the embedding when shared."""
        if self.config.shared_classifier:
            return self.weights["token_embedding"]
        return self.weights["wcls"]


# InferPi's GPT-2 (nanochat) model.bin: the little-endian u32 0x4E434854 ("NCHT" in hex
# digits; the file starts with the bytes 54 48 43 4E), as the engines and the chat menu read
# it (MC_INFERPI_NANOCHAT_MAGIC, docs/ENGINES.md). Its layout is not published: refused.
INFERPI_GPT2_MAGIC = 0x4E434854
INFERPI_GPT2_MESSAGE = (
    'this is InferPi\'s GPT-2 (nanochat) model.bin (magic "NCHT"), whose layout is not '
    "published, so metalchat cannot read it; export the nanochat checkpoint instead "
    "(export nanochat CHECKPOINT_DIR -o model.mcm) and put that model.mcm in the model folder"
)


def detect_version(data: bytes) -> int:
    """0, 1 or 2 from a model file's first bytes."""
    if len(data) >= 4 and struct.unpack_from("<I", data)[0] == INFERPI_GPT2_MAGIC:
        raise MetalchatError(INFERPI_GPT2_MESSAGE)
    if len(data) >= 8 and struct.unpack_from("<I", data)[0] == MAGIC:
        (version,) = struct.unpack_from("<i", data, 4)
        if version not in (1, 2):
            raise MetalchatError(
                f"llama2.c model version {version} is not supported "
                "(known: 0 legacy, 1 float32, 2 int8)"
            )
        return int(version)
    return 0


class _Reader:
    def __init__(self, data: bytes, path: str | Path | None) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, count: int, what: str) -> memoryview:
        end = self.pos + count
        if end > len(self.data):
            raise MetalchatError(
                f"truncated: {what} needs bytes {self.pos}..{end}, but the file has only "
                f"{len(self.data)} bytes (wrong model dimensions, or an incomplete copy?)",
                self.path,
            )
        view = memoryview(self.data)[self.pos : end]
        self.pos = end
        return view

    def array(self, shape: tuple[int, ...], dtype: type, what: str) -> np.ndarray:
        count = math.prod(shape)
        raw = self.take(count * np.dtype(dtype).itemsize, what)
        return (
            np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
        )

    def finish(self) -> None:
        extra = len(self.data) - self.pos
        if extra:
            raise MetalchatError(
                f"{extra} unexpected bytes after the last tensor (the file is {len(self.data)} "
                f"bytes, the header's dimensions account for {self.pos}); wrong format version "
                "or dimensions?",
                self.path,
            )


def _config_from_header(
    values: tuple[int, ...], shared: bool | None, path: str | Path | None
) -> LlamaConfig:
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = values
    if shared is None:  # v0: the sign of vocab_size is the flag
        shared = vocab > 0
        vocab = abs(vocab)
    config = LlamaConfig(dim, hidden, layers, heads, kv_heads, vocab, seq_len, shared)
    try:
        config.validate()
    except MetalchatError as exc:
        raise MetalchatError(
            f"not a llama2.c model: header {list(values)} is invalid: {exc.message}", path
        ) from None
    # A sanity bound that catches non-model files early: 2**34 floats is 64 GiB.
    if config.parameter_count() > 1 << 34:
        raise MetalchatError(
            f"not a llama2.c model: header {list(values)} describes "
            f"{config.parameter_count()} parameters",
            path,
        )
    return config


def read_model(source: bytes | str | Path) -> Llama2cModel:
    """Read a llama2.c model file of any version (v0 legacy, v1 float32, v2 int8)."""
    path: str | Path | None = None
    if isinstance(source, bytes):
        data = source
    else:
        path = source
        data = read_bytes(source)
    try:
        version = detect_version(data)
    except MetalchatError as exc:
        raise exc.with_path(path) if path is not None else exc from None
    reader = _Reader(data, path)
    if version == 0:
        config = _config_from_header(_CONFIG.unpack(reader.take(28, "the header")), None, path)
        shapes = config.tensor_shapes(freq_cis=True)
        weights = {
            name: reader.array(shapes[name], np.float32, name)
            for name in V0_ORDER
            if name in shapes
        }
        reader.finish()
        return Llama2cModel(config, weights, version=0)

    header = reader.take(HEADER_SIZE, "the 256-byte header")
    values = _CONFIG.unpack_from(header, 8)
    shared = header[36]
    if shared not in (0, 1):
        raise MetalchatError(f"shared_classifier byte is {shared}, expected 0 or 1", path)
    config = _config_from_header(values, bool(shared), path)
    shapes = config.tensor_shapes()
    if version == 1:
        weights = {
            name: reader.array(shapes[name], np.float32, name)
            for name in V1_ORDER
            if name in shapes
        }
        reader.finish()
        return Llama2cModel(config, weights, version=1)

    (group_size,) = struct.unpack_from("<i", header, 37)
    if group_size <= 0:
        raise MetalchatError(f"group_size is {group_size}; it must be positive", path)
    weights = {name: reader.array(shapes[name], np.float32, name) for name in V2_NORMS}
    names = [name for name in V2_QUANTIZED if name in shapes]
    for name in names:
        if math.prod(shapes[name]) % group_size:
            raise MetalchatError(
                f"{name} has {math.prod(shapes[name])} values, not a multiple "
                f"of group_size {group_size}",
                path,
            )
    values_q = {name: reader.array(shapes[name], np.int8, f"{name} (int8)") for name in names}
    quantized: dict[str, QuantizedTensor] = {}
    for name in names:
        scales = reader.array(
            (math.prod(shapes[name]) // group_size,), np.float32, f"{name} scales"
        )
        quantized[name] = QuantizedTensor(values_q[name], scales, group_size)
        weights[name] = quantized[name].dequantize()
    reader.finish()
    return Llama2cModel(config, weights, version=2, group_size=group_size, quantized=quantized)


def freq_cis(config: LlamaConfig) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin tables (seq_len, head_size/2) as llama2.c's model.py computes them."""
    half = config.head_size // 2
    exponents = np.arange(0, config.head_size, 2, dtype=np.float32)[:half] / config.head_size
    inv = (1.0 / (np.float32(config.rope_theta) ** exponents)).astype(np.float32)
    angles = np.outer(np.arange(config.seq_len, dtype=np.float32), inv).astype(np.float32)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def _f32(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def _check_shapes(model: Llama2cModel) -> None:
    for name, shape in model.config.tensor_shapes().items():
        if name not in model.weights:
            raise MetalchatError(f"weight {name!r} is missing")
        if tuple(model.weights[name].shape) != shape:
            raise MetalchatError(
                f"weight {name!r} has shape {tuple(model.weights[name].shape)}, "
                f"the config needs {shape}"
            )


def _header(config: LlamaConfig, version: int, group_size: int | None) -> bytes:
    head = struct.pack("<Ii", MAGIC, version)
    head += _CONFIG.pack(
        config.dim,
        config.hidden_dim,
        config.n_layers,
        config.n_heads,
        config.n_kv_heads,
        config.vocab_size,
        config.seq_len,
    )
    head += struct.pack("<B", int(config.shared_classifier))
    if group_size is not None:
        head += struct.pack("<i", group_size)
    return head + bytes(HEADER_SIZE - len(head))


def serialize_model(model: Llama2cModel, version: int, *, group_size: int = 64) -> bytes:
    """The bytes of ``model`` as a llama2.c file of ``version`` (0, 1 or 2).

    For v2, tensors are quantized with :func:`quantize_q8` unless ``model.quantized``
    already holds them with this group size (then they are written unchanged). As in
    llama2.c, the group size is halved until it divides ``dim``.
    """
    config = model.config
    config.validate()
    _check_shapes(model)
    names = config.tensor_shapes()
    if version == 0:
        c = config
        vocab = c.vocab_size if c.shared_classifier else -c.vocab_size
        out = [
            _CONFIG.pack(c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, vocab, c.seq_len)
        ]
        cos, sin = freq_cis(config)
        extra = {
            "freq_cis_real": model.weights.get("freq_cis_real", cos),
            "freq_cis_imag": model.weights.get("freq_cis_imag", sin),
        }
        for name in V0_ORDER:
            if name in names:
                out.append(_f32(model.weights[name]))
            elif name in extra:
                out.append(_f32(extra[name]))
        return b"".join(out)
    if version == 1:
        return _header(config, 1, None) + b"".join(
            _f32(model.weights[name]) for name in V1_ORDER if name in names
        )
    if version != 2:
        raise MetalchatError(f"cannot write llama2.c version {version} (known: 0, 1, 2)")
    while group_size > 1 and config.dim % group_size:
        group_size //= 2
    if group_size <= 0:
        raise MetalchatError(f"group_size must be positive, got {group_size}")
    parts = [_header(config, 2, group_size)]
    parts += [_f32(model.weights[name]) for name in V2_NORMS]
    chosen = []
    for name in V2_QUANTIZED:
        if name not in names:
            continue
        q = model.quantized.get(name)
        if q is None or q.group_size != group_size:
            q = quantize_q8(model.weights[name], group_size)
        chosen.append(q)
    parts += [np.ascontiguousarray(q.q, dtype=np.int8).tobytes() for q in chosen]
    parts += [_f32(q.scales) for q in chosen]
    return b"".join(parts)


def write_model(
    path: str | Path, model: Llama2cModel, version: int, *, group_size: int = 64
) -> None:
    """Write ``model`` atomically as a llama2.c file of ``version``."""
    try:
        data = serialize_model(model, version, group_size=group_size)
    except MetalchatError as exc:
        raise exc.with_path(path) from None
    atomic_write(path, data)


def random_model(config: LlamaConfig, seed: int = 0, scale: float = 0.1) -> Llama2cModel:
    """A model with random normal weights (norm weights near 1), for tests and examples."""
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for name, shape in config.tensor_shapes().items():
        if name.startswith("rms_"):
            weights[name] = (1.0 + scale * rng.standard_normal(shape)).astype(np.float32)
        else:
            weights[name] = (scale * rng.standard_normal(shape)).astype(np.float32)
    return Llama2cModel(config, weights)


# ---------------------------------------------------------------------------------------
# tokenizer.bin


@dataclass
class Llama2cTokenizer:
    """llama2.c's tokenizer: token byte strings and their merge scores."""

    tokens: list[bytes]
    scores: list[float]
    max_token_length: int

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)


def read_tokenizer(source: bytes | str | Path, vocab_size: int | None = None) -> Llama2cTokenizer:
    """Read ``tokenizer.bin``. With ``vocab_size`` exactly that many tokens must be
    present (and nothing after them); without it, tokens are read to the end of the file."""
    path: str | Path | None = None
    if isinstance(source, bytes):
        data = source
    else:
        path = source
        data = read_bytes(source)
    if len(data) < 4:
        raise MetalchatError(
            f"truncated: a tokenizer.bin starts with a 4-byte "
            f"max_token_length, the file has {len(data)} bytes",
            path,
        )
    (max_len,) = struct.unpack_from("<i", data)
    if max_len <= 0 or max_len > 1 << 16:
        raise MetalchatError(
            f"max_token_length is {max_len}; this is not a llama2.c "
            "tokenizer.bin (or it is a model file)",
            path,
        )
    pos = 4
    tokens: list[bytes] = []
    scores: list[float] = []
    while (vocab_size is None and pos < len(data)) or (
        vocab_size is not None and len(tokens) < vocab_size
    ):
        index = len(tokens)
        if pos + 8 > len(data):
            expected = f" of {vocab_size}" if vocab_size is not None else ""
            raise MetalchatError(
                f"truncated: token {index}{expected} needs its score and length "
                f"at byte {pos}, but the file has {len(data)} bytes",
                path,
            )
        score, length = struct.unpack_from("<fi", data, pos)
        pos += 8
        if length < 0 or length > max_len:
            raise MetalchatError(
                f"token {index} has length {length}, outside 0..max_token_length {max_len}", path
            )
        if pos + length > len(data):
            raise MetalchatError(
                f"truncated: token {index} needs {length} bytes at byte {pos}, "
                f"but the file has {len(data)} bytes",
                path,
            )
        if not math.isfinite(score):
            raise MetalchatError(f"token {index} has a non-finite score {score}", path)
        tokens.append(bytes(data[pos : pos + length]))
        scores.append(float(score))
        pos += length
    if pos != len(data):
        raise MetalchatError(
            f"{len(data) - pos} unexpected bytes after token {len(tokens) - 1} "
            f"(vocab_size {vocab_size} is too small for this file?)",
            path,
        )
    return Llama2cTokenizer(tokens, scores, max_len)


def serialize_tokenizer(
    tokens: Iterable[bytes], scores: Iterable[float], max_token_length: int | None = None
) -> bytes:
    """The bytes of a ``tokenizer.bin``; ``max_token_length`` defaults to the longest token."""
    tokens = list(tokens)
    scores = list(scores)
    if len(tokens) != len(scores):
        raise MetalchatError(f"{len(tokens)} tokens but {len(scores)} scores")
    longest = max((len(t) for t in tokens), default=0)
    max_len = longest if max_token_length is None else max_token_length
    if max_len < longest:
        raise MetalchatError(
            f"max_token_length {max_len} is shorter than the longest token ({longest} bytes)"
        )
    if max_len <= 0:
        raise MetalchatError("max_token_length must be positive")
    out = [struct.pack("<i", max_len)]
    for token, score in zip(tokens, scores, strict=True):
        out.append(struct.pack("<fi", score, len(token)) + token)
    return b"".join(out)


def write_tokenizer(path: str | Path, tokenizer: Llama2cTokenizer) -> None:
    """Write ``tokenizer.bin`` atomically."""
    try:
        data = serialize_tokenizer(tokenizer.tokens, tokenizer.scores, tokenizer.max_token_length)
    except MetalchatError as exc:
        raise exc.with_path(path) from None
    atomic_write(path, data)


def read_config(path: str | Path) -> tuple[LlamaConfig, int, int]:
    """(config, version, group_size) from a model file's header, without reading weights."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEADER_SIZE)
    except FileNotFoundError:
        raise MetalchatError("no such file", path) from None
    except OSError as exc:
        raise MetalchatError(f"cannot read: {exc.strerror}", path) from None
    try:
        version = detect_version(head)
    except MetalchatError as exc:
        raise exc.with_path(path) from None
    if version == 0:
        if len(head) < 28:
            raise MetalchatError("truncated: shorter than the 28-byte header", path)
        return _config_from_header(_CONFIG.unpack_from(head), None, path), 0, 0
    if len(head) < HEADER_SIZE:
        raise MetalchatError("truncated: shorter than the 256-byte header", path)
    config = _config_from_header(_CONFIG.unpack_from(head, 8), bool(head[36]), path)
    group = struct.unpack_from("<i", head, 37)[0] if version == 2 else 0
    return config, version, group
