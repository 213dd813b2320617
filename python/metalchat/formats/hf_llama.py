"""Hugging Face Llama checkpoints (safetensors) into llama2.c-shaped models and tokenizers.

A model directory holds ``config.json``, the weights as ``model.safetensors`` or as shards
listed in ``model.safetensors.index.json`` (``{"weight_map": {tensor: shard file}}``), and
a tokenizer as ``tokenizer.json`` (see :mod:`metalchat.formats.tokenizer_json`) or
``tokenizer.model`` (SentencePiece).

safetensors
    u64 little-endian header length ``N``; ``N`` bytes of JSON ``{name: {"dtype", "shape",
    "data_offsets": [begin, end]}, "__metadata__": {...}}``; then the data, offsets counted
    from the byte after the header. F32, F16 and BF16 are read (BF16 as float32's upper
    16 bits).

Architectures are a table (:data:`ARCHITECTURES`): each transformers class the C engines run
today maps to an engine and the config.json values that must hold for that engine to compute
the same function; a new architecture is a new entry. Today: ``LlamaForCausalLM`` (Llama 1-3
without RoPE scaling, TinyLlama, SmolLM2) and ``MistralForCausalLM`` without a sliding window
shorter than the context (the same network). Any other class is refused with one line naming
these.

Names map to llama2.c's as ``model.embed_tokens`` -> token_embedding,
``layers.i.input_layernorm`` -> rms_att, ``self_attn.{q,k,v,o}_proj`` -> wq/wk/wv/wo,
``post_attention_layernorm`` -> rms_ffn, ``mlp.gate_proj/down_proj/up_proj`` -> w1/w2/w3,
``model.norm`` -> rms_final, ``lm_head`` -> wcls (absent when ``tie_word_embeddings``).

RoPE layout: Hugging Face pairs channel ``i`` of a head with ``i + head_size/2``; llama2.c
pairs ``2i`` with ``2i + 1``. The conversion script that made HF Llama checkpoints from
Meta's permuted the rows of q_proj and k_proj so that HF's rotation equals Meta's; its
inverse (llama2.c ``export.py``'s ``permute_reverse``) is, per head, row
``half * head_size/2 + i`` -> row ``2i + half``. k_proj is permuted per *kv* head.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import parse_json_object, read_bytes, read_json_object
from metalchat.formats import tokenizer_json
from metalchat.formats.llama2c import Llama2cModel, Llama2cTokenizer


@dataclass(frozen=True)
class HfArchitecture:
    """How one transformers architecture imports: the engine that runs it and what it needs.

    ``requires`` maps a config.json key to a predicate on its value (None when absent) and
    the reason shown when it fails, e.g. Mistral's sliding window.
    """

    engine: str
    summary: str
    requires: tuple[tuple[str, Callable[[Any, dict[str, Any]], bool], str], ...] = ()


def _no_shorter_window(value: Any, hf: dict[str, Any]) -> bool:
    limit = hf.get("max_position_embeddings")
    return value is None or (_is_int(value) and _is_int(limit) and value >= limit)


ARCHITECTURES: dict[str, HfArchitecture] = {
    "LlamaForCausalLM": HfArchitecture("llama", "RMSNorm, RoPE, GQA, SwiGLU, no biases"),
    "MistralForCausalLM": HfArchitecture(
        "llama",
        "as Llama; sliding_window null or at least max_position_embeddings",
        (("sliding_window", _no_shorter_window, "a sliding window shorter than the context"),),
    ),
}
_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}
_MAX_HEADER = 100 << 20  # the safetensors format's own limit
_LAYER_TENSORS = {
    "rms_att": "input_layernorm.weight",
    "wq": "self_attn.q_proj.weight",
    "wk": "self_attn.k_proj.weight",
    "wv": "self_attn.v_proj.weight",
    "wo": "self_attn.o_proj.weight",
    "rms_ffn": "post_attention_layernorm.weight",
    "w1": "mlp.gate_proj.weight",
    "w2": "mlp.down_proj.weight",
    "w3": "mlp.up_proj.weight",
}
_GLOBAL_TENSORS = {
    "token_embedding": "model.embed_tokens.weight",
    "rms_final": "model.norm.weight",
    "wcls": "lm_head.weight",
}


# ---------------------------------------------------------------------------------------
# safetensors


class SafetensorsFile:
    """The header of one safetensors file; :meth:`read` loads a tensor as float32."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(0)
                head = handle.read(8)
                if len(head) < 8:
                    raise MetalchatError(
                        f"truncated: {size} bytes, a safetensors file starts with an 8-byte "
                        "header length",
                        self.path,
                    )
                (length,) = struct.unpack("<Q", head)
                if length > min(size - 8, _MAX_HEADER):
                    raise MetalchatError(
                        f"not a safetensors file, or truncated: the header length is {length} "
                        f"bytes, the file has {size}",
                        self.path,
                    )
                header_bytes = handle.read(length)
        except FileNotFoundError:
            raise MetalchatError("no such file", self.path) from None
        except OSError as exc:
            raise MetalchatError(f"cannot read: {exc.strerror}", self.path) from None
        header = parse_json_object(header_bytes, self.path, "corrupt safetensors header")
        header.pop("__metadata__", None)
        self.data_start = 8 + length
        self.data_size = size - self.data_start
        self.entries: dict[str, tuple[np.dtype, tuple[int, ...], int]] = {}
        for name, entry in header.items():
            self.entries[name] = self._check(name, entry)

    def _check(self, name: str, entry: Any) -> tuple[np.dtype, tuple[int, ...], int]:
        try:
            dtype_name, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            if not (
                isinstance(dtype_name, str)
                and isinstance(shape, list)
                and all(_is_int(n) for n in (*shape, begin, end))
            ):
                raise TypeError
            shape = tuple(shape)
        except (KeyError, TypeError, ValueError):
            raise MetalchatError(
                f"corrupt safetensors header: entry {name!r} needs a dtype string, a shape and "
                "data_offsets of integers",
                self.path,
            ) from None
        if dtype_name not in _DTYPES:
            raise MetalchatError(
                f"tensor {name!r} has dtype {dtype_name}; only F32, F16 and BF16 are supported",
                self.path,
            )
        dtype = _DTYPES[dtype_name]
        if min(shape, default=1) < 0 or end - begin != math.prod(shape) * dtype.itemsize:
            raise MetalchatError(
                f"corrupt safetensors header: tensor {name!r} of shape {list(shape)} "
                f"({dtype_name}) has data_offsets [{begin}, {end}]",
                self.path,
            )
        if not 0 <= begin <= end <= self.data_size:
            raise MetalchatError(
                f"truncated: tensor {name!r} needs data bytes {begin}..{end}, the file holds "
                f"{self.data_size} after its header",
                self.path,
            )
        return dtype, shape, begin

    def read(self, name: str) -> np.ndarray:
        dtype, shape, begin = self.entries[name]
        count = math.prod(shape)
        with open(self.path, "rb") as handle:
            handle.seek(self.data_start + begin)
            raw = handle.read(count * dtype.itemsize)
        array = np.frombuffer(raw, dtype=dtype).reshape(shape)
        if dtype == _DTYPES["BF16"]:
            return (array.astype(np.uint32) << np.uint32(16)).view(np.float32)
        return array.astype(np.float32)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def open_weights(directory: Path) -> dict[str, SafetensorsFile]:
    """Tensor name -> the safetensors file holding it (one file, or the index's shards)."""
    single, index = directory / "model.safetensors", directory / "model.safetensors.index.json"
    if single.is_file():
        st = SafetensorsFile(single)
        return dict.fromkeys(st.entries, st)
    if not index.is_file():
        raise MetalchatError(
            "no model.safetensors or model.safetensors.index.json (PyTorch .bin weights are "
            "not read: convert them to safetensors)",
            directory,
        )
    weight_map = read_json_object(index).get("weight_map")
    if not isinstance(weight_map, dict):
        raise MetalchatError("not a JSON object with a weight_map object", index)
    shards: dict[str, SafetensorsFile] = {}
    files: dict[str, SafetensorsFile] = {}
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or not shard or Path(shard).name != shard:
            raise MetalchatError(
                f"weight_map puts {name!r} in {shard!r}, which is not a file name in this folder",
                index,
            )
        if shard not in shards:
            shards[shard] = SafetensorsFile(directory / str(shard))
        if name not in shards[shard].entries:
            raise MetalchatError(
                f"the index puts {name!r} in this shard, but it is not there", directory / shard
            )
        files[name] = shards[shard]
    return files


# ---------------------------------------------------------------------------------------
# config and weights


def _int(hf: dict[str, Any], key: str, default: int | None = None) -> int:
    value = hf.get(key)
    if value is None:
        if default is None:
            raise MetalchatError(f"config.json lacks {key!r}")
        return default
    if not _is_int(value):
        raise MetalchatError(f"{key} is {value!r}, expected an integer")
    return int(value)


def _float(hf: dict[str, Any], key: str, default: float) -> float:
    value = hf.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MetalchatError(f"{key} is {value!r}, expected a finite number")
    return float(value)


def _bool(hf: dict[str, Any], key: str) -> bool:
    value = hf.get(key, False)
    if not isinstance(value, bool):
        raise MetalchatError(f"{key} is {value!r}, expected true or false")
    return value


def config_from_hf(hf: dict[str, Any], path: str | Path | None = None) -> LlamaConfig:
    """A :class:`LlamaConfig` from a Hugging Face ``config.json`` of a Llama model."""
    architectures = hf.get("architectures") or []
    if not (
        isinstance(architectures, list)
        and len(architectures) == 1
        and isinstance(architectures[0], str)
        and architectures[0] in ARCHITECTURES
    ):
        raise MetalchatError(
            f"architectures {architectures} is not supported: export hf reads "
            f"{', '.join(ARCHITECTURES)}",
            path,
        )
    arch = ARCHITECTURES[architectures[0]]
    for key, ok, reason in arch.requires:
        if not ok(hf.get(key), hf):
            raise MetalchatError(
                f"{architectures[0]} with {key} {hf.get(key)!r} ({reason}) is not supported",
                path,
            )
    # transformers >= 5 writes rope_parameters (with rope_theta); older ones rope_scaling
    key = "rope_parameters" if hf.get("rope_parameters") else "rope_scaling"
    rope = hf.get(key) or {}
    if not isinstance(rope, dict):
        raise MetalchatError(f"{key} is {rope!r}, expected an object (or null)", path)
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        raise MetalchatError(f"RoPE scaling {rope} is not supported by llama2.c", path)
    for flag in ("attention_bias", "mlp_bias"):
        if hf.get(flag):
            raise MetalchatError(f"{flag} is true; llama2.c models have no biases", path)
    if hf.get("hidden_act", "silu") != "silu":
        raise MetalchatError(f"hidden_act {hf['hidden_act']!r} is not silu", path)
    try:
        heads = _int(hf, "num_attention_heads")
        config = LlamaConfig(
            dim=_int(hf, "hidden_size"),
            hidden_dim=_int(hf, "intermediate_size"),
            n_layers=_int(hf, "num_hidden_layers"),
            n_heads=heads,
            n_kv_heads=_int(hf, "num_key_value_heads", heads),
            vocab_size=_int(hf, "vocab_size"),
            seq_len=_int(hf, "max_position_embeddings"),
            shared_classifier=_bool(hf, "tie_word_embeddings"),
            rope_theta=_float(rope, "rope_theta", _float(hf, "rope_theta", 10000.0)),
            norm_eps=_float(hf, "rms_norm_eps", 1e-6),
        )
    except MetalchatError as exc:
        raise exc.with_path(path) from None
    head_dim = hf.get("head_dim")
    if head_dim is not None and head_dim != config.dim // heads:
        raise MetalchatError(
            f"head_dim {head_dim} differs from hidden_size / num_attention_heads; "
            "llama2.c derives it",
            path,
        )
    try:
        config.validate()
    except MetalchatError as exc:
        raise exc.with_path(path) from None
    return config


def hf_to_interleaved(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Reorder q_proj/k_proj rows from HF's split-halves RoPE to llama2.c's adjacent pairs."""
    rows, cols = w.shape
    half = rows // n_heads // 2
    return w.reshape(n_heads, 2, half, cols).transpose(0, 2, 1, 3).reshape(rows, cols)


def read_model(directory: str | Path, *, progress: bool | None = False) -> Llama2cModel:
    """Read a Hugging Face Llama directory into a float32 :class:`Llama2cModel`.

    ``progress`` shows a tqdm bar over the tensors read (None: when stderr is a terminal).
    """
    folder = Path(directory)
    config = config_from_hf(read_json_object(folder / "config.json"), folder / "config.json")
    files = open_weights(folder)
    present = sum(st.data_size for st in {id(st): st for st in files.values()}.values())
    try:  # every value takes at least 2 bytes (F16, BF16): check before allocating
        config.require_bytes(present, 2, "the safetensors data")
    except MetalchatError as exc:
        raise exc.with_path(folder) from None
    shapes = config.tensor_shapes()
    used: set[str] = set()

    def check(hf_name: str, shape: tuple[int, ...]) -> SafetensorsFile:
        if hf_name not in files:
            raise MetalchatError(f"tensor {hf_name!r} is missing from the weights", folder)
        st = files[hf_name]
        if st.entries[hf_name][1] != shape:
            raise MetalchatError(
                f"tensor {hf_name!r} has shape {list(st.entries[hf_name][1])}, config.json "
                f"implies {list(shape)}",
                st.path,
            )
        return st

    for name, hf_name in _GLOBAL_TENSORS.items():
        if name in shapes:
            check(hf_name, shapes[name])
    for name, suffix in _LAYER_TENSORS.items():
        for layer in range(config.n_layers):
            check(f"model.layers.{layer}.{suffix}", shapes[name][1:])

    def load(hf_name: str, shape: tuple[int, ...]) -> np.ndarray:
        used.add(hf_name)
        return check(hf_name, shape).read(hf_name)

    weights: dict[str, np.ndarray] = {}
    bar = tqdm(
        total=len(_LAYER_TENSORS) * config.n_layers + len(_GLOBAL_TENSORS),
        desc="read safetensors",
        unit="tensor",
        disable=None if progress is None else not progress,
    )
    for name, hf_name in _GLOBAL_TENSORS.items():
        if name in shapes:
            weights[name] = load(hf_name, shapes[name])
        bar.update()
    for name, suffix in _LAYER_TENSORS.items():
        stacked = np.empty(shapes[name], dtype=np.float32)
        for layer in range(config.n_layers):
            bar.update()
            value = load(f"model.layers.{layer}.{suffix}", shapes[name][1:])
            if name in ("wq", "wk"):
                value = hf_to_interleaved(
                    value, config.n_heads if name == "wq" else config.n_kv_heads
                )
            stacked[layer] = value
        weights[name] = stacked
    bar.close()
    tied_head = config.shared_classifier and "lm_head.weight" in files
    if tied_head and not np.array_equal(
        load("lm_head.weight", shapes["token_embedding"]), weights["token_embedding"]
    ):
        raise MetalchatError(
            "tie_word_embeddings is true, but lm_head.weight differs from the embedding", folder
        )
    unused = sorted(n for n in set(files) - used if not n.endswith("rotary_emb.inv_freq"))
    if unused:
        raise MetalchatError(
            f"unexpected tensors for a {config.n_layers}-layer Llama: {', '.join(unused[:5])}"
            f"{' ...' if len(unused) > 5 else ''}",
            folder,
        )
    return Llama2cModel(config, weights)


# ---------------------------------------------------------------------------------------
# tokenizers


def sentencepiece_tokenizer(path: str | Path) -> Llama2cTokenizer:
    """``tokenizer.model`` to llama2.c's tokenizer exactly as llama2.c's ``tokenizer.py``:
    pieces with ``▁`` as a space, BOS/EOS as ``\\n<s>\\n``/``\\n</s>\\n``, SentencePiece's
    scores."""
    import sentencepiece  # optional: only this path needs it

    try:
        sp = sentencepiece.SentencePieceProcessor(model_proto=read_bytes(path))
    except (RuntimeError, TypeError) as exc:
        raise MetalchatError(f"not a SentencePiece model: {exc}", path) from None
    tokens, scores = [], []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if i == sp.bos_id():
            piece = "\n<s>\n"
        elif i == sp.eos_id():
            piece = "\n</s>\n"
        tokens.append(piece.replace("\u2581", " ").encode("utf-8"))
        scores.append(float(sp.get_score(i)))
    return Llama2cTokenizer(tokens, scores, max(len(t) for t in tokens))


def read_tokenizer(directory: str | Path) -> Llama2cTokenizer:
    """The llama2.c tokenizer of a Hugging Face directory: tokenizer.json, else tokenizer.model.

    BOS/EOS ids for tokenizer.json come from config.json's ``bos_token_id``/``eos_token_id``.
    """
    folder = Path(directory)
    if (folder / "tokenizer.json").is_file():
        hf = read_json_object(folder / "config.json") if (folder / "config.json").is_file() else {}
        return tokenizer_json.read_tokenizer(
            folder / "tokenizer.json", bos_id=hf.get("bos_token_id"), eos_id=hf.get("eos_token_id")
        )
    if (folder / "tokenizer.model").is_file():
        return sentencepiece_tokenizer(folder / "tokenizer.model")
    raise MetalchatError("no tokenizer.json or tokenizer.model", folder)
