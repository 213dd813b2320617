"""GGUF files of the llama family (llama.cpp) into llama2.c-shaped models and tokenizers.

Read with the ``gguf`` package's :class:`gguf.GGUFReader`; ``general.architecture`` must be
in :data:`ARCHITECTURES` (today ``llama``; others are refused with one line naming it).
Hyperparameters come from ``llama.embedding_length``,
``llama.feed_forward_length``, ``llama.block_count``, ``llama.attention.head_count``,
``llama.attention.head_count_kv``, ``llama.context_length``,
``llama.attention.layer_norm_rms_epsilon`` and ``llama.rope.freq_base``; the vocabulary
size from ``token_embd.weight``. Tensor names: ``token_embd`` -> token_embedding,
``blk.i.attn_norm`` -> rms_att, ``attn_q/attn_k/attn_v/attn_output`` -> wq/wk/wv/wo,
``ffn_norm`` -> rms_ffn, ``ffn_gate/ffn_down/ffn_up`` -> w1/w2/w3, ``output_norm`` ->
rms_final, ``output`` -> wcls (absent when tied).

RoPE layout: llama.cpp's ``convert_hf_to_gguf.py`` (``LlamaModel.permute``) reorders HF
q_proj/k_proj rows exactly as llama2.c's ``permute_reverse`` does (per head, k per kv head),
and llama.cpp rotates adjacent pairs for llama; so GGUF q/k are already in llama2.c's
interleaved layout and are taken as they are.

Tensor types (``ne[0]`` is the row length; the reader gives numpy shapes reversed):
F32, F16, BF16, blocks of 32 values along a row (below), and the K-quants Q4_K and Q6_K
(super-blocks of 256 values; dequantized with the ``gguf`` package's ``gguf.quants``):

Q8_0 (34 bytes)
    float16 ``d``, then 32 int8 ``q``: value ``j`` is ``q[j] * d``.
Q4_0 (18 bytes)
    float16 ``d``, then 16 bytes: byte ``j`` holds value ``j`` in its low nibble and value
    ``j + 16`` in its high nibble, each ``(nibble - 8) * d``.

:func:`gguf_container` makes a container without going through float32 where it need not:
a stacked tensor whose layers are all Q8_0 (no code -128) is taken over as q8 in groups of 32
(the block's float16 ``d`` widened to the float32 scale, the codes as they are), all Q4_0 as
q4 in groups of 32 (the nibbles reordered to the container's packing: code ``j`` low, ``j+1``
high; Q4_0's code -8 is kept, which the q4 reader decodes), F16 as f16, F32 and BF16 as f32:
all exactly. Q4_K is requantized to q4 and Q6_K to q8 (groups of 32), mixed layers to the
wider of their types, each with its error against the dequantized GGUF values in the report;
``--format`` requantizes everything to one format instead (Q8_0/Q4_0 blocks still taken over
when that format is q8/q4 in groups of 32). The report of a taken-over tensor is its error
against the ``gguf`` package's own dequantization: 0, a check of the repacking.

The tokenizer (``tokenizer.ggml.model == "llama"``, i.e. SentencePiece) converts the way
llama2.c's ``tokenizer.py`` does: ``▁`` -> space, BOS/EOS as ``\\n<s>\\n``/``\\n</s>\\n``,
``tokenizer.ggml.scores`` as scores. Byte-level (``gpt2``) vocabularies are refused.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np
from tqdm import tqdm

from metalchat import quant
from metalchat.config import MATRIX_TENSORS, LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats.llama2c import Llama2cModel, Llama2cTokenizer
from metalchat.quant import QTensor, TensorError

_T = gguf.GGMLQuantizationType
# general.architecture -> the engine that runs it; hyperparameters are read from keys named
# after the architecture ("<arch>.embedding_length", ...). A new architecture is a new entry.
ARCHITECTURES = {"llama": "llama"}
SUPPORTED_TYPES = (_T.F32, _T.F16, _T.BF16, _T.Q8_0, _T.Q4_0, _T.Q4_K, _T.Q6_K)
_LAYER_TENSORS = {
    "rms_att": "attn_norm",
    "wq": "attn_q",
    "wk": "attn_k",
    "wv": "attn_v",
    "wo": "attn_output",
    "rms_ffn": "ffn_norm",
    "w1": "ffn_gate",
    "w2": "ffn_down",
    "w3": "ffn_up",
}
_GLOBAL_TENSORS = {"token_embedding": "token_embd", "rms_final": "output_norm", "wcls": "output"}


def dequantize_q8_0(blocks: np.ndarray) -> np.ndarray:
    """(..., n * 34) bytes of Q8_0 blocks -> (..., n * 32) float32."""
    b = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(*blocks.shape[:-1], -1, 34)
    d = b[..., :2].copy().view("<f2").astype(np.float32)  # (..., n, 1)
    q = b[..., 2:].view(np.int8).astype(np.float32)  # (..., n, 32)
    return (q * d).reshape(*blocks.shape[:-1], -1)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """(..., n * 18) bytes of Q4_0 blocks -> (..., n * 32) float32."""
    b = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(*blocks.shape[:-1], -1, 18)
    d = b[..., :2].copy().view("<f2").astype(np.float32)  # (..., n, 1)
    packed = b[..., 2:]  # (..., n, 16)
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=-1).astype(np.float32) - 8.0
    return (q * d).reshape(*blocks.shape[:-1], -1)


def open_gguf(path: str | Path) -> gguf.GGUFReader:
    """A :class:`gguf.GGUFReader`, with unreadable or truncated files as MetalchatError."""
    source = Path(path)
    if not source.is_file():
        raise MetalchatError("no such file", source)
    try:
        return gguf.GGUFReader(source)
    except (ValueError, IndexError, KeyError, OverflowError, OSError) as exc:
        raise MetalchatError(f"truncated or not a GGUF file: {exc}", source) from None


_REQUIRED = object()


def _field(reader: gguf.GGUFReader, key: str, path: Path, default: Any = _REQUIRED) -> Any:
    field = reader.get_field(key)
    if field is None:
        if default is _REQUIRED:
            raise MetalchatError(f"metadata {key} is missing", path)
        return default
    try:
        return field.contents()
    except (ValueError, IndexError, TypeError, OverflowError) as exc:  # e.g. not UTF-8
        raise MetalchatError(f"metadata {key} is malformed: {exc}", path) from None


def _int_field(reader: gguf.GGUFReader, key: str, path: Path, default: Any = _REQUIRED) -> int:
    value = _field(reader, key, path, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise MetalchatError(f"metadata {key} is {value!r}, expected an integer", path)
    return int(value)


def _float_field(reader: gguf.GGUFReader, key: str, path: Path, default: Any = _REQUIRED) -> float:
    value = _field(reader, key, path, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise MetalchatError(f"metadata {key} is {value!r}, expected a finite number", path)
    return float(value)


def tensor_array(tensor: Any, path: str | Path) -> np.ndarray:
    """A GGUF tensor as float32 in numpy order (rows, row length)."""
    kind = _T(tensor.tensor_type)
    if kind not in SUPPORTED_TYPES:
        raise MetalchatError(
            f"tensor {tensor.name} is {kind.name}; supported: "
            f"{', '.join(t.name for t in SUPPORTED_TYPES)}",
            path,
        )
    if kind == _T.Q8_0:
        return dequantize_q8_0(tensor.data)
    if kind == _T.Q4_0:
        return dequantize_q4_0(tensor.data)
    if kind in (_T.BF16, _T.Q4_K, _T.Q6_K):
        return _library_array(tensor, Path(path))
    return np.asarray(tensor.data, dtype=np.float32)


def _f32_value(value: float) -> float:
    """A float32 metadata value as the shortest decimal that rounds to it (1e-5, not
    9.9999997e-06), so configs compare equal to those read from JSON."""
    return float(str(np.float32(value)))


def read_config(reader: gguf.GGUFReader, path: str | Path) -> LlamaConfig:
    """The :class:`LlamaConfig` of a llama GGUF file (vocab size from token_embd)."""
    source = Path(path)
    arch = _field(reader, "general.architecture", source)
    if not isinstance(arch, str) or arch not in ARCHITECTURES:
        raise MetalchatError(
            f"general.architecture is {arch!r}; export gguf reads "
            f"{', '.join(repr(a) for a in ARCHITECTURES)}",
            source,
        )
    scaling = _field(reader, f"{arch}.rope.scaling.type", source, "none")
    if scaling != "none":
        raise MetalchatError(f"RoPE scaling {scaling!r} is not supported by llama2.c", source)
    tensors = {t.name: t for t in reader.tensors}
    if "token_embd.weight" not in tensors:
        raise MetalchatError("tensor token_embd.weight is missing", source)
    heads = _int_field(reader, f"{arch}.attention.head_count", source)
    embedding_shape = tensors["token_embd.weight"].shape
    config = LlamaConfig(
        dim=_int_field(reader, f"{arch}.embedding_length", source),
        hidden_dim=_int_field(reader, f"{arch}.feed_forward_length", source),
        n_layers=_int_field(reader, f"{arch}.block_count", source),
        n_heads=heads,
        n_kv_heads=_int_field(reader, f"{arch}.attention.head_count_kv", source, heads),
        vocab_size=int(embedding_shape[-1]) if len(embedding_shape) else 0,
        seq_len=_int_field(reader, f"{arch}.context_length", source),
        shared_classifier="output.weight" not in tensors,
        rope_theta=_f32_value(_float_field(reader, f"{arch}.rope.freq_base", source, 10000.0)),
        norm_eps=_f32_value(
            _float_field(reader, f"{arch}.attention.layer_norm_rms_epsilon", source)
        ),
    )
    try:
        config.validate()
        # Q4_0, the smallest type read, takes 18 bytes per 32 values
        config.require_bytes(source.stat().st_size, 18 / 32, "the file")
    except MetalchatError as exc:
        raise exc.with_path(source) from None
    rope_dims = _int_field(reader, f"{arch}.rope.dimension_count", source, config.head_size)
    if rope_dims != config.head_size:
        raise MetalchatError(
            f"{arch}.rope.dimension_count {rope_dims} is not the head size {config.head_size} "
            "(partial RoPE is not supported)",
            source,
        )
    return config


def read_model(path: str | Path) -> Llama2cModel:
    """Read a llama GGUF file into a float32 :class:`Llama2cModel` (Q8_0/Q4_0 dequantized)."""
    source = Path(path)
    reader = open_gguf(source)
    config = read_config(reader, source)
    tensors = {t.name: t for t in reader.tensors}
    shapes = config.tensor_shapes()
    used: set[str] = set()

    def check(name: str, shape: tuple[int, ...]) -> Any:
        if name not in tensors:
            raise MetalchatError(f"tensor {name} is missing", source)
        got = tuple(int(n) for n in reversed(tensors[name].shape))
        if got != shape:
            raise MetalchatError(
                f"tensor {name} has shape {list(got)}, the metadata implies {list(shape)}", source
            )
        return tensors[name]

    for name, gguf_name in _GLOBAL_TENSORS.items():  # all present before allocating
        if name in shapes:
            check(f"{gguf_name}.weight", shapes[name])
    for name, gguf_name in _LAYER_TENSORS.items():
        for layer in range(config.n_layers):
            check(f"blk.{layer}.{gguf_name}.weight", shapes[name][1:])

    def load(name: str, shape: tuple[int, ...]) -> np.ndarray:
        used.add(name)
        return tensor_array(check(name, shape), source).reshape(shape)

    weights: dict[str, np.ndarray] = {}
    for name, gguf_name in _GLOBAL_TENSORS.items():
        if name in shapes:
            weights[name] = load(f"{gguf_name}.weight", shapes[name])
    for name, gguf_name in _LAYER_TENSORS.items():
        stacked = np.empty(shapes[name], dtype=np.float32)
        for layer in range(config.n_layers):
            stacked[layer] = load(f"blk.{layer}.{gguf_name}.weight", shapes[name][1:])
        weights[name] = stacked
    unused = sorted(set(tensors) - used - {"rope_freqs.weight"})
    if unused:
        raise MetalchatError(f"unexpected tensors: {', '.join(unused[:5])}", source)
    return Llama2cModel(config, weights)


def read_tokenizer(path: str | Path) -> Llama2cTokenizer:
    """The llama2.c tokenizer of a GGUF file with a SentencePiece (``llama``) vocabulary."""
    source = Path(path)
    reader = open_gguf(source)
    kind = _field(reader, "tokenizer.ggml.model", source, "")
    if kind != "llama":
        raise MetalchatError(
            f"tokenizer.ggml.model is {kind or 'missing'!r}; only SentencePiece ('llama') "
            "vocabularies convert to llama2.c's tokenizer",
            source,
        )
    pieces = _field(reader, "tokenizer.ggml.tokens", source)
    if not isinstance(pieces, list) or not pieces or not all(isinstance(p, str) for p in pieces):
        raise MetalchatError("tokenizer.ggml.tokens is not a non-empty list of strings", source)
    scores = _field(reader, "tokenizer.ggml.scores", source, [0.0] * len(pieces))
    if not isinstance(scores, list) or not all(
        isinstance(x, numbers.Real) and math.isfinite(x) for x in scores
    ):
        raise MetalchatError("tokenizer.ggml.scores is not a list of finite numbers", source)
    if len(scores) != len(pieces):
        raise MetalchatError(f"{len(pieces)} tokens but {len(scores)} scores", source)
    bos = _int_field(reader, "tokenizer.ggml.bos_token_id", source, -1)
    eos = _int_field(reader, "tokenizer.ggml.eos_token_id", source, -1)
    tokens = []
    for i, piece in enumerate(pieces):
        text = "\n<s>\n" if i == bos else "\n</s>\n" if i == eos else piece.replace("\u2581", " ")
        tokens.append(text.encode("utf-8"))
    return Llama2cTokenizer(tokens, [float(s) for s in scores], max(len(t) for t in tokens))


# ---------------------------------------------------------------------------------------
# straight to a container


def q8_0_codes(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, n * 34) Q8_0 bytes -> (int8 codes (rows, n * 32), float32 scales (rows * n))."""
    b = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(blocks.shape[0], -1, 34)
    scales = b[..., :2].copy().view("<f2").astype(np.float32).reshape(-1)
    return b[..., 2:].view(np.int8).reshape(blocks.shape[0], -1), scales


def q4_0_codes(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, n * 18) Q4_0 bytes -> (int8 codes in [-8, 7] (rows, n * 32), float32 scales)."""
    b = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(blocks.shape[0], -1, 18)
    scales = b[..., :2].copy().view("<f2").astype(np.float32).reshape(-1)
    packed = b[..., 2:]
    codes = np.concatenate([packed & 0x0F, packed >> 4], axis=-1).astype(np.int8) - 8
    return codes.reshape(blocks.shape[0], -1), scales


def _library_array(tensor: Any, path: Path) -> np.ndarray:
    """A tensor as float32 by the ``gguf`` package's own dequantization (the reference the
    taken-over blocks are checked against)."""
    kind = _T(tensor.tensor_type)
    if kind in (_T.F32, _T.F16):
        return np.asarray(tensor.data, dtype=np.float32)
    try:
        return np.asarray(gguf.quants.dequantize(tensor.data, kind), dtype=np.float32)
    except (ValueError, IndexError, TypeError) as exc:
        raise MetalchatError(
            f"tensor {tensor.name}: malformed {kind.name} data: {exc}", path
        ) from None


_NATIVE = {_T.F32: ("f32", 0), _T.BF16: ("f32", 0), _T.F16: ("f16", 0)}
_NATIVE |= {_T.Q8_0: ("q8", 32), _T.Q6_K: ("q8", 32), _T.Q4_0: ("q4", 32), _T.Q4_K: ("q4", 32)}
_WIDTH = {"f32": 3, "f16": 2, "q8": 1, "q4": 0}


def _take_over(parts: list[Any], target: tuple[str, int]) -> QTensor | None:
    """The layers' blocks as one q8/q4 tensor without requantizing, if they allow it."""
    kinds = {_T(t.tensor_type) for t in parts}
    if target == ("q8", 32) and kinds == {_T.Q8_0}:
        codes = [q8_0_codes(t.data) for t in parts]
        if any((c == -128).any() for c, _ in codes):
            return None  # outside the container's q8 range: requantize
    elif target == ("q4", 32) and kinds == {_T.Q4_0}:
        codes = [q4_0_codes(t.data) for t in parts]
    elif target == ("f16", 0) and kinds == {_T.F16}:
        return QTensor("f16", np.stack([np.asarray(t.data, dtype=np.float16) for t in parts]))
    elif target == ("f32", 0) and kinds == {_T.F32}:
        return QTensor("f32", np.stack([np.asarray(t.data, dtype=np.float32) for t in parts]))
    else:
        return None
    values = np.stack([c for c, _ in codes])
    scales = np.concatenate([s for _, s in codes])
    return QTensor(target[0], values, scales, 32)


def container_tensors(
    reader: gguf.GGUFReader,
    path: str | Path,
    config: LlamaConfig,
    *,
    fmt: str | None = None,
    group_size: int = 64,
    progress: bool | None = None,
) -> tuple[dict[str, QTensor], list[TensorError]]:
    """The container tensors (llama2.c names and order) of a llama GGUF file and the report.

    ``fmt`` None keeps each tensor's own type (taken over or the nearest container format),
    else every matrix goes to ``fmt``/``group_size`` (:func:`metalchat.quant.tensor_plan`).
    """
    source = Path(path)
    tensors = {t.name: t for t in reader.tensors}
    shapes = config.tensor_shapes()
    names = {n: [f"{g}.weight"] for n, g in _GLOBAL_TENSORS.items()}
    for n, g in _LAYER_TENSORS.items():
        names[n] = [f"blk.{layer}.{g}.weight" for layer in range(config.n_layers)]
    for n, parts in names.items():
        if n not in shapes:
            continue
        for part in parts:
            if part not in tensors:
                raise MetalchatError(f"tensor {part} is missing", source)
            got = tuple(int(d) for d in reversed(tensors[part].shape))
            want = shapes[n][1:] if n in _LAYER_TENSORS else shapes[n]
            if got != want:
                raise MetalchatError(
                    f"tensor {part} has shape {list(got)}, the metadata implies {list(want)}",
                    source,
                )
            kind = _T(tensors[part].tensor_type)
            if kind not in SUPPORTED_TYPES:
                raise MetalchatError(
                    f"tensor {part} is {kind.name}; supported: "
                    f"{', '.join(t.name for t in SUPPORTED_TYPES)}",
                    source,
                )
    expected = {p for n, parts in names.items() if n in shapes for p in parts}
    unused = sorted(set(tensors) - expected - {"rope_freqs.weight"})
    if unused:
        raise MetalchatError(f"unexpected tensors: {', '.join(unused[:5])}", source)
    out: dict[str, QTensor] = {}
    report: list[TensorError] = []
    disable = None if progress is None else not progress
    for n in tqdm(list(shapes), desc="gguf tensors", unit="tensor", disable=disable):
        parts = [tensors[p] for p in names[n]]
        if n not in MATRIX_TENSORS:
            target = ("f32", 0)
        elif fmt is None:
            target = max((_NATIVE[_T(t.tensor_type)] for t in parts), key=lambda f: _WIDTH[f[0]])
        else:
            target = quant.tensor_plan(shapes[n], fmt, group_size)
        exact = np.stack([_library_array(t, source) for t in parts]).reshape(shapes[n])
        taken = _take_over(parts, target)
        try:
            if taken is not None:
                t = taken
                t.values = t.values.reshape(shapes[n])
            else:
                if target[0] == "f16" and float(np.abs(exact).max(initial=0.0)) > quant.F16_MAX:
                    target = ("f32", 0)
                t = quant.quantize(exact, *target)
        except MetalchatError as exc:
            raise MetalchatError(f"tensor {n!r}: {exc.message}", source) from None
        out[n] = t
        if t.fmt != "f32":
            report.append(quant.measure(n, exact, t))
    return out, report


@dataclass
class GgufChat:
    """BOS, EOS, end-of-turn, special tokens and chat template of a GGUF file's metadata."""

    bos_id: int  # -1 when absent
    eos_ids: list[int]
    specials: dict[str, int]
    template: str | None
    bos_text: str | None
    eos_text: str | None


def read_chat(reader: gguf.GGUFReader, path: str | Path) -> GgufChat:
    """The tokenizer.ggml.* ids, control tokens (type 3) and user-defined tokens (4), and
    tokenizer.chat_template."""
    source = Path(path)
    pieces = _field(reader, "tokenizer.ggml.tokens", source)
    if not isinstance(pieces, list) or not all(isinstance(p, str) for p in pieces):
        raise MetalchatError("tokenizer.ggml.tokens is not a list of strings", source)
    ids = {
        key: _int_field(reader, f"tokenizer.ggml.{key}_token_id", source, -1)
        for key in ("bos", "eos", "eot", "eom")
    }
    types = _field(reader, "tokenizer.ggml.token_type", source, [])
    if not isinstance(types, list) or (types and len(types) != len(pieces)):
        raise MetalchatError("tokenizer.ggml.token_type does not match the tokens", source)
    specials = {pieces[i]: i for i, kind in enumerate(types) if kind in (3, 4) and pieces[i]}
    for key in ("bos", "eos", "eot", "eom"):
        if 0 <= ids[key] < len(pieces) and pieces[ids[key]]:
            specials.setdefault(pieces[ids[key]], ids[key])
    template = _field(reader, "tokenizer.chat_template", source, None)
    if template is not None and not isinstance(template, str):
        raise MetalchatError("tokenizer.chat_template is not a string", source)

    def text(key: str) -> str | None:
        return pieces[ids[key]] if 0 <= ids[key] < len(pieces) else None

    eos_ids = [ids[k] for k in ("eos", "eot", "eom") if 0 <= ids[k] < len(pieces)]
    return GgufChat(
        ids["bos"] if 0 <= ids["bos"] < len(pieces) else -1,
        list(dict.fromkeys(eos_ids)),
        specials,
        template or None,
        text("bos"),
        text("eos"),
    )


# llama.cpp's tokenizer.ggml.pre names -> the container's pre-tokenizers (tokenizer_json)
GGUF_PRE_TOKENIZERS = {"gpt-2": "gpt2", "default": "gpt2", "smollm": "smollm",
                       "llama-bpe": "llama3", "llama3": "llama3", "qwen2": "qwen2"}  # fmt: skip


def tokenizer_model(reader: gguf.GGUFReader, path: str | Path) -> str:
    """``tokenizer.ggml.model``: "llama" (SentencePiece), "gpt2" (byte-level BPE), ..."""
    kind = _field(reader, "tokenizer.ggml.model", Path(path), "")
    return kind if isinstance(kind, str) else ""


def read_byte_level(reader: gguf.GGUFReader, path: str | Path) -> Any:
    """A byte-level (``tokenizer.ggml.model == "gpt2"``) vocabulary as the container's
    Hugging Face BPE (:class:`metalchat.formats.tokenizer_json.HfBpeTokenizer`, kind 3):
    tokens spelled in GPT-2's byte characters back to bytes, ``tokenizer.ggml.merges`` ("a b",
    earliest first) as id triples, control and user-defined tokens as added tokens, and
    ``tokenizer.ggml.pre`` naming the pre-tokenizer (:data:`GGUF_PRE_TOKENIZERS`)."""
    from metalchat.formats import tokenizer_json

    source = Path(path)
    pre = _field(reader, "tokenizer.ggml.pre", source, "default")
    if pre not in GGUF_PRE_TOKENIZERS:
        raise MetalchatError(
            f"tokenizer.ggml.pre {pre!r} is not one of {', '.join(GGUF_PRE_TOKENIZERS)}", source
        )
    pieces = _field(reader, "tokenizer.ggml.tokens", source)
    merges = _field(reader, "tokenizer.ggml.merges", source)
    types = _field(reader, "tokenizer.ggml.token_type", source, [])
    for key, value in (("tokens", pieces), ("merges", merges)):
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise MetalchatError(f"tokenizer.ggml.{key} is not a list of strings", source)
    if not isinstance(types, list) or (types and len(types) != len(pieces)):
        raise MetalchatError("tokenizer.ggml.token_type does not match the tokens", source)
    chars = tokenizer_json.gpt2_byte_chars()
    added = {i for i, kind in enumerate(types) if kind in (3, 4)}  # control, user-defined
    tokens, specials = [], []
    for i, piece in enumerate(pieces):
        if i in added:
            tokens.append(b"")
            specials.append((i, piece))
        elif all(c in chars for c in piece):
            tokens.append(bytes(chars[c] for c in piece))
        else:
            raise MetalchatError(f"token {i} {piece!r} is not in GPT-2's byte characters", source)
    ids = {p: i for i, p in enumerate(pieces) if i not in added}
    triples = []
    for rank, merge in enumerate(merges):
        left, _, right = merge.partition(" ")
        if not right or left not in ids or right not in ids or left + right not in ids:
            raise MetalchatError(
                f"merge {rank} {merge!r} names no tokens of the vocabulary", source
            )
        triples.append((ids[left], ids[right], ids[left + right]))
    return tokenizer_json.HfBpeTokenizer(GGUF_PRE_TOKENIZERS[pre], 0, tokens, triples, specials, "")
