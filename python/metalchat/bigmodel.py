"""Seeded Llama models bigger than memory: written to a container layer by layer and run by a
numpy reference layer by layer, neither ever holding the whole model.

For the llama.pi experiment (``bazel run //tools/bench:rpi0_7b``): a Llama-2-7B-shaped model
(:func:`llama2_7b`) with random weights, int8 in groups of 64 with half of each FFN matrix's
weights pruned to zero (:func:`metalchat.quant.prune_ffn`, :func:`metalchat.quant.quantize`),
about 7.2 GB. Every tensor slice is drawn from its own generator, seeded by (seed, tensor,
layer), so the reference regenerates nothing: it reads the container's int8 values back and
dequantizes one layer at a time.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from metalchat import manifest as mf
from metalchat import quant
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.export import llama_manifest
from metalchat.fileio import shard_path
from metalchat.formats import container, llama2c
from metalchat.formats.container import TensorSlot
from metalchat.manifest import pb
from metalchat.reference.llama import F32, apply_rope, rmsnorm, rope_tables, silu, softmax
from metalchat.testing import tokenizer_bin

# The container's tensors in the order written; a tensor's index here seeds its generators.
ORDER = (
    "token_embedding",
    "rms_att",
    "rms_ffn",
    "rms_final",
    *(["wq", "wk", "wv", "wo", "w1", "w2", "w3"]),
    "wcls",
)
MATRICES = ("wq", "wk", "wv", "wo", "w1", "w2", "w3")
STD = 0.02  # weights ~ N(0, STD^2), as GPT-2/Llama initialisations


def llama2_7b(seq_len: int = 4096) -> LlamaConfig:
    """Llama-2-7B's shape: dim 4096, hidden 11008, 32 layers, 32 heads (no GQA), vocab 32000,
    separate output head."""
    return LlamaConfig(4096, 11008, 32, 32, 32, 32000, seq_len, shared_classifier=False)


def _draw(seed: int, name: str, layer: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng([seed, ORDER.index(name), layer])
    if name.startswith("rms"):
        return (1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(STD)


def _write(f: BinaryIO, offset: int, data: np.ndarray) -> None:
    os.pwrite(f.fileno(), np.ascontiguousarray(data).tobytes(), offset)


def _put(f: BinaryIO, slot: TensorSlot, first_row: int, t: quant.QTensor) -> None:
    """Rows from first_row of a stacked tensor: values and scales at their place."""
    cols = slot.shape[-1]
    if slot.fmt == "q8":
        _write(f, slot.offset + first_row * cols, t.values.astype(np.int8))
        assert t.scales is not None
        _write(
            f,
            slot.scales_offset + first_row * (cols // slot.group_size) * 4,
            t.scales.astype("<f4"),
        )
    else:
        _write(f, slot.offset + first_row * cols * 4, t.values.astype("<f4"))


def write_model(
    path: str | Path,
    config: LlamaConfig,
    seed: int,
    *,
    group_size: int = 64,
    prune: float = 0.5,
    log: bool = False,
) -> int:
    """The seeded model as a container at ``path``: matrices q8 (``group_size``), norms f32,
    each layer's w1/w2/w3 pruned by ``prune`` first. Returns the file's size."""
    shapes = config.tensor_shapes()
    tensors = [
        (
            n,
            "f32" if n.startswith("rms") else "q8",
            shapes[n],
            0 if n.startswith("rms") else group_size,
        )
        for n in ORDER
        if n in shapes
    ]
    tok_bytes = tokenizer_bin(config.vocab_size)
    tok = llama2c.read_tokenizer(tok_bytes, config.vocab_size)
    manifest = llama_manifest(
        config,
        "llama2-7b-shaped",
        tok,
        description=f"random weights, seed {seed}, q8 g{group_size}, FFN pruned {prune:.0%}",
    )

    def fill(f: BinaryIO, slots: dict[str, TensorSlot]) -> None:
        for name in ("token_embedding", "wcls", "rms_final"):
            if name in slots:
                w = _draw(seed, name, 0, shapes[name])
                t = (
                    quant.QTensor("f32", w)
                    if name == "rms_final"
                    else quant.quantize(w, "q8", group_size)
                )
                _put(f, slots[name], 0, t)
        for layer in range(config.n_layers):
            for name in ("rms_att", "rms_ffn"):
                _put(
                    f,
                    slots[name],
                    layer,
                    quant.QTensor("f32", _draw(seed, name, layer, shapes[name][1:])),
                )
            drawn = {n: _draw(seed, n, layer, shapes[n][1:]) for n in MATRICES}
            if prune:
                ffn = {n: drawn[n][None] for n in quant.FFN_TENSORS}
                quant.prune_ffn(ffn, prune)
                drawn.update({n: ffn[n][0] for n in quant.FFN_TENSORS})
            for name in MATRICES:
                rows = shapes[name][1]
                _put(f, slots[name], layer * rows, quant.quantize(drawn[name], "q8", group_size))
            if log:
                print(f"layer {layer + 1}/{config.n_layers} written", flush=True)

    return container.write_large(path, manifest, tok_bytes, tensors, fill)


def shard(path: str | Path, shard_bytes: int) -> list[Path]:
    """Splits ``path`` into ``<path>.000``, ``.001``, ... of ``shard_bytes`` each (the last
    shorter), which readers concatenate (FAT32 holds at most 4 GiB - 1 per file); removes
    ``path``. Returns the shards."""
    src = Path(path)
    size = src.stat().st_size
    out = []
    with open(src, "rb") as f:
        for i, start in enumerate(range(0, size, shard_bytes)):
            part = shard_path(src, i)
            with open(part, "wb") as g:
                left = min(shard_bytes, size - start)
                while left:
                    block = f.read(min(left, 64 << 20))
                    g.write(block)
                    left -= len(block)
            out.append(part)
    src.unlink()
    return out


class ShardedFile:
    """A container read from its shards (or one file) as one byte range, by memory maps."""

    def __init__(self, parts: Sequence[Path]) -> None:
        self.maps = [np.memmap(p, dtype=np.uint8, mode="r") for p in parts]
        self.starts = np.cumsum([0] + [len(m) for m in self.maps])

    def read(self, offset: int, size: int) -> bytes:
        out = bytearray()
        while size:
            i = int(np.searchsorted(self.starts, offset, side="right")) - 1
            at = offset - int(self.starts[i])
            part = bytes(self.maps[i][at : at + min(size, len(self.maps[i]) - at)])
            out += part
            offset += len(part)
            size -= len(part)
        return bytes(out)


def _matrix(src: ShardedFile, entry: object, first_row: int, rows: int) -> np.ndarray:
    """Rows of a q8 (or f32) stacked tensor, dequantized to float32."""
    shape = tuple(int(d) for d in entry.shape)  # type: ignore[attr-defined]
    cols = shape[-1]
    if entry.format == container.FORMAT_CODES["f32"]:  # type: ignore[attr-defined]
        raw = src.read(entry.offset + first_row * cols * 4, rows * cols * 4)  # type: ignore[attr-defined]
        return np.frombuffer(raw, "<f4").reshape(rows, cols)
    g = entry.group_size  # type: ignore[attr-defined]
    q = np.frombuffer(src.read(entry.offset + first_row * cols, rows * cols), np.int8)  # type: ignore[attr-defined]
    s = np.frombuffer(
        src.read(
            entry.scales_offset + first_row * cols // g * 4,  # type: ignore[attr-defined]
            rows * cols // g * 4,
        ),
        "<f4",
    )
    return (q.reshape(-1, g).astype(np.float32) * s[:, None]).reshape(rows, cols)


def read_manifest(src: ShardedFile) -> tuple[LlamaConfig, dict[str, object]]:
    """The config and the manifest's tensors (by name) of a container, from its header and
    manifest section only (docs/CONTAINER.md)."""
    header = src.read(0, container.HEADER_SIZE)
    offset, size, _, kind = struct.unpack_from("<QQII", header, 40 + 24 * 3)
    if header[:4] != container.MAGIC or kind != 4:
        raise MetalchatError("not a metalchat container (or its section table is damaged)")
    m = pb.ModelManifest.FromString(src.read(offset, size))
    return mf.llama_config(m.llama), {t.name: t for t in m.tensors}


def reference_logits(parts: Sequence[Path], tokens: Sequence[int]) -> np.ndarray:
    """The logits after ``tokens`` (positions 0..n-1) of the container in ``parts``: the
    float32 reference (metalchat.reference.llama's steps) run layer by layer, each layer's
    matrices dequantized once for every position, so one layer is in memory at a time."""
    src = ShardedFile(parts)
    c, entries = read_manifest(src)
    n, hs, heads, kv_heads = len(tokens), c.head_size, c.n_heads, c.n_kv_heads
    group = heads // kv_heads
    cos, sin = (table[:n] for table in rope_tables(replace(c, seq_len=n)))
    scale = F32(1.0) / np.sqrt(F32(hs))
    xs = [_matrix(src, entries["token_embedding"], t, 1)[0].copy() for t in tokens]

    def w(name: str, layer: int) -> np.ndarray:
        e = entries[name]
        rows = int(e.shape[1])  # type: ignore[attr-defined]
        return _matrix(src, e, layer * rows, rows)

    for layer in range(c.n_layers):
        att = _matrix(src, entries["rms_att"], layer, 1)[0]
        ffn = _matrix(src, entries["rms_ffn"], layer, 1)[0]
        wq, wk, wv, wo = (w(name, layer) for name in ("wq", "wk", "wv", "wo"))
        keys = np.zeros((n, kv_heads, hs), F32)
        values = np.zeros((n, kv_heads, hs), F32)
        for pos in range(n):
            h = rmsnorm(xs[pos], att, c.norm_eps)
            q = apply_rope((wq @ h).reshape(heads, hs), cos[pos], sin[pos])
            keys[pos] = apply_rope((wk @ h).reshape(kv_heads, hs), cos[pos], sin[pos])
            values[pos] = (wv @ h).reshape(kv_heads, hs)
            qg = q.reshape(kv_heads, group, hs)
            scores = np.einsum("kgd,tkd->kgt", qg, keys[: pos + 1]) * scale
            attn = softmax(scores.astype(F32), axis=-1)
            out = np.einsum("kgt,tkd->kgd", attn, values[: pos + 1]).reshape(c.dim).astype(F32)
            xs[pos] = xs[pos] + wo @ out
        del wq, wk, wv, wo
        w1, w2, w3 = (w(name, layer) for name in ("w1", "w2", "w3"))
        for pos in range(n):
            h = rmsnorm(xs[pos], ffn, c.norm_eps)
            xs[pos] = xs[pos] + w2 @ (silu(w1 @ h) * (w3 @ h))
        del w1, w2, w3
    final = _matrix(src, entries["rms_final"], 0, 1)[0]
    last = rmsnorm(xs[-1], final, c.norm_eps)
    cls = entries["token_embedding" if c.shared_classifier else "wcls"]
    logits = np.zeros(c.vocab_size, F32)
    for start in range(0, c.vocab_size, 4096):
        rows = min(4096, c.vocab_size - start)
        logits[start : start + rows] = _matrix(src, cls, start, rows) @ last
    return logits
