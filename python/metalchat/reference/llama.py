"""A numpy Llama written from the math, matching llama2.c's ``run.c`` conventions.

Per token at position ``pos`` (shapes in comments; ``hs`` = head size)::

    x = token_embedding[token]                                  # (dim,)
    for each layer l:
        h = rmsnorm(x, rms_att[l])
        q, k, v = wq[l] @ h, wk[l] @ h, wv[l] @ h                # (dim,) (kv_dim,) (kv_dim,)
        rotate (q[2i], q[2i+1]) and (k[2i], k[2i+1]) by pos * theta^(-(2i mod hs) / hs)
        cache k, v at pos
        head j attends over positions 0..pos with kv head j // (n_heads / n_kv_heads):
            softmax(q_j . k_t / sqrt(hs)) weights the v_t
        x += wo[l] @ concat(heads)
        h = rmsnorm(x, rms_ffn[l])
        x += w2[l] @ (silu(w1[l] @ h) * (w3[l] @ h))
    logits = classifier @ rmsnorm(x, rms_final)                 # (vocab,)

``rmsnorm(x, w) = w * x / sqrt(mean(x^2) + eps)``; ``silu(z) = z * sigmoid(z)``. RoPE
pairs adjacent channels ("interleaved"), as llama2.c and Meta's Llama do. Everything is
float32; sums are numpy's (pairwise), so logits differ from run.c in the last bits, which
does not change greedy choices in practice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats.llama2c import Llama2cModel

F32 = np.float32


def rmsnorm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """``weight * x / sqrt(mean(x^2) + eps)`` in float32."""
    ms = np.dot(x, x) / F32(x.shape[-1]) + F32(eps)
    return (weight * (x * (F32(1.0) / np.sqrt(ms)))).astype(F32)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(F32)


def silu(x: np.ndarray) -> np.ndarray:
    return (x / (F32(1.0) + np.exp(-x))).astype(F32)


def rope_tables(config: LlamaConfig) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin for every position and channel pair: (seq_len, head_size / 2) each.

    Pair ``i`` (channels 2i, 2i+1 of a head) turns by ``pos * theta^(-2i / head_size)``,
    computed in float32 like run.c's ``powf``/``cosf``/``sinf``.
    """
    hs = config.head_size
    freqs = (
        F32(1.0) / np.power(F32(config.rope_theta), np.arange(0, hs, 2, dtype=F32) / F32(hs))
    ).astype(F32)
    angles = (np.arange(config.seq_len, dtype=F32)[:, None] * freqs[None, :]).astype(F32)
    return np.cos(angles).astype(F32), np.sin(angles).astype(F32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate adjacent pairs of ``x`` (heads, head_size) by the angles of one position."""
    even, odd = x[:, 0::2], x[:, 1::2]
    out = np.empty_like(x)
    out[:, 0::2] = even * cos - odd * sin
    out[:, 1::2] = even * sin + odd * cos
    return out


class LlamaReference:
    """Stateful single-sequence inference with a KV cache: call ``forward`` for pos 0, 1, ..."""

    def __init__(self, model: Llama2cModel) -> None:
        config = model.config
        config.validate()
        self.config = config
        self.w = {
            name: np.asarray(model.weights[name], dtype=F32) for name in config.tensor_shapes()
        }
        self.classifier = np.asarray(model.classifier(), dtype=F32)
        self.cos, self.sin = rope_tables(config)
        kv_shape = (config.n_layers, config.seq_len, config.n_kv_heads, config.head_size)
        self.key_cache = np.zeros(kv_shape, dtype=F32)  # (layer, seq_len, kv_heads, hs)
        self.value_cache = np.zeros(kv_shape, dtype=F32)
        self.next_pos = 0

    def reset(self) -> None:
        """Forget the sequence (the cache is overwritten as positions are reused)."""
        self.next_pos = 0

    def forward(self, token: int, pos: int) -> np.ndarray:
        """Logits (vocab_size,) for ``token`` at ``pos``; positions 0..pos-1 must be cached."""
        c = self.config
        if not 0 <= token < c.vocab_size:
            raise MetalchatError(f"token {token} is outside the vocabulary (0..{c.vocab_size - 1})")
        if not 0 <= pos < c.seq_len:
            raise MetalchatError(f"position {pos} is outside the context (0..{c.seq_len - 1})")
        if pos > self.next_pos:
            raise MetalchatError(
                f"position {pos} skips ahead: positions up to {self.next_pos - 1} are cached"
            )
        hs, heads, kv_heads = c.head_size, c.n_heads, c.n_kv_heads
        group = heads // kv_heads
        cos, sin = self.cos[pos], self.sin[pos]
        scale = F32(1.0) / np.sqrt(F32(hs))
        w = self.w
        x = w["token_embedding"][token].copy()  # (dim,)
        for layer in range(c.n_layers):
            h = rmsnorm(x, w["rms_att"][layer], c.norm_eps)
            q = (w["wq"][layer] @ h).reshape(heads, hs)
            k = (w["wk"][layer] @ h).reshape(kv_heads, hs)
            v = (w["wv"][layer] @ h).reshape(kv_heads, hs)
            q = apply_rope(q, cos, sin)
            self.key_cache[layer, pos] = apply_rope(k, cos, sin)
            self.value_cache[layer, pos] = v
            keys = self.key_cache[layer, : pos + 1]  # (T, kv_heads, hs)
            values = self.value_cache[layer, : pos + 1]
            qg = q.reshape(kv_heads, group, hs)  # query head j uses kv head j // group
            scores = np.einsum("kgd,tkd->kgt", qg, keys) * scale  # (kv_heads, group, T)
            attn = softmax(scores.astype(F32), axis=-1)
            out = np.einsum("kgt,tkd->kgd", attn, values).reshape(c.dim).astype(F32)
            x = x + w["wo"][layer] @ out
            h = rmsnorm(x, w["rms_ffn"][layer], c.norm_eps)
            gate = silu(w["w1"][layer] @ h)
            x = x + w["w2"][layer] @ (gate * (w["w3"][layer] @ h))
        x = rmsnorm(x, w["rms_final"], c.norm_eps)
        self.next_pos = pos + 1
        return (self.classifier @ x).astype(F32)


def generate(
    model: LlamaReference,
    prompt: list[int],
    steps: int,
    *,
    choose: Callable[[np.ndarray], int] | None = None,
    stop_token: int | None = 1,
) -> list[int]:
    """Run llama2.c's generation loop and return the generated ids (prompt excluded).

    ``prompt`` starts with BOS. While inside the prompt the next token is forced; after it,
    ``choose(logits)`` picks one (greedy argmax by default, first index on ties as run.c).
    Stops after ``steps`` positions in total or when ``stop_token`` (BOS, as in run.c) is
    produced.
    """
    if not prompt:
        raise MetalchatError("the prompt must hold at least the BOS token")
    pick = choose if choose is not None else (lambda logits: int(np.argmax(logits)))
    model.reset()
    out: list[int] = []
    token = prompt[0]
    for pos in range(min(steps, model.config.seq_len)):
        logits = model.forward(token, pos)
        if pos < len(prompt) - 1:
            nxt = prompt[pos + 1]
        else:
            nxt = pick(logits)
            if stop_token is not None and nxt == stop_token:
                break
            out.append(nxt)
        token = nxt
    return out


def greedy(model: LlamaReference, steps: int, bos: int = 1) -> list[int]:
    """Greedy ids from BOS, as ``run model.bin -t 0 -n steps`` generates them."""
    return generate(model, [bos], steps)
