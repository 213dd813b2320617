"""A numpy nanochat GPT written from upstream ``nanochat/gpt.py`` (karpathy/nanochat).

Per token ``t`` at position ``pos`` (``hd`` = head_dim, ``C`` = n_embd)::

    e[pos] = norm(wte[t])                                        # (C,) "norm after embedding"
    x = e[pos]
    if pos > 0:                                                  # smear
        x += smear_lambda * sigmoid(smear_gate @ e[pos][:24]) * e[pos - 1]
    x0 = x
    for each layer i:
        x = resid_lambdas[i] * x + x0_lambdas[i] * x0
        h = norm(x)
        q, k, v = c_q @ h, c_k @ h, c_v @ h                      # (H, hd) (Hkv, hd) (Hkv, hd)
        if layer i has a value embedding:                        # alternating, last included
            v += 3 * sigmoid(ve_gate @ h[:12])[:, None] * value_embeds[i][t]   # per kv head
        q, k = rope(q), rope(k)                                  # split halves, by -theta
        q, k = 1.2 * norm(q), 1.2 * norm(k)                      # QK-norm per head
        head j attends with kv head j // (H / Hkv) over positions s with
            s <= pos and pos - s <= window[i]: softmax(q . k_s / sqrt(hd)) weights v_s
        x += c_proj @ heads
        x += mlp.c_proj @ relu(mlp.c_fc @ norm(x))^2              # 4C hidden
        if i == n_layer // 2: x_backout = x
    x = norm(x - backout_lambda * x_backout)
    logits = 15 * tanh((lm_head @ x)[:vocab_size] / 15)          # padded rows cropped

``norm`` is RMSNorm without weights, ``x / sqrt(mean(x^2) + eps)``. RoPE with
``inv_freq[i] = 100000^(-2i / hd)`` and angle ``a = pos * inv_freq[i]`` pairs channel ``i``
with ``i + hd/2``: ``y1 = x1 cos a + x2 sin a``, ``y2 = -x1 sin a + x2 cos a`` (a rotation
by ``-a``; upstream keeps this sign for checkpoint compatibility).

How ambiguous points of upstream are read here:

* ``eps``: upstream calls ``F.rms_norm`` without one; torch then uses float32's machine
  epsilon ``2**-23`` (for bf16 activations too: it is the eps of the float32 math type;
  checked with torch 2.13). This reference computes in float32 throughout.
* Windows: ``S`` = ``ceil(ceil(sequence_len / 4) / 128) * 128``, which is what upstream's
  ``-(-long_window // 4 // 128) * 128`` computes (2048 -> 512; its comment's "768" is
  stale), ``L`` = ``sequence_len``; the pattern is tiled over the layers and the last
  layer is always ``L``. A window ``w`` means flash-attention's
  ``(w, 0)``: a query sees itself and the ``w`` positions before it (``w + 1`` keys).
* The smear gate reads the *current* token's normalized embedding, and mixes in the
  previous position's normalized embedding before its own smear (so smear does not chain).
* Backout takes the residual *after* block ``n_layer // 2``; it is always applied.
* RoPE is applied before QK-norm as upstream; the two commute (a rotation keeps the RMS).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metalchat.errors import MetalchatError

F32 = np.float32


@dataclass(frozen=True)
class NanochatConfig:
    """Upstream ``GPTConfig`` plus the constants ``gpt.py`` hard-codes (upstream defaults)."""

    sequence_len: int
    vocab_size: int
    n_layer: int
    n_head: int
    n_kv_head: int
    n_embd: int
    window_pattern: str = "SSSL"
    softcap: float = 15.0
    rope_theta: float = 100000.0
    qk_scale: float = 1.2
    mlp_ratio: int = 4
    smear_channels: int = 24
    value_embed_gate_channels: int = 12
    value_embed_scale: float = 3.0
    norm_eps: float = float(np.finfo(np.float32).eps)
    pad_vocab_to: int = 64

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def kv_dim(self) -> int:
        return self.n_kv_head * self.head_dim

    @property
    def hidden_dim(self) -> int:
        return self.mlp_ratio * self.n_embd

    @property
    def padded_vocab_size(self) -> int:
        return -(-self.vocab_size // self.pad_vocab_to) * self.pad_vocab_to

    @property
    def backout_layer(self) -> int:
        return self.n_layer // 2

    @property
    def short_window(self) -> int:
        return -((-self.sequence_len) // 4 // 128) * 128

    def has_value_embed(self, layer: int) -> bool:
        """Alternating layers, the last one always included (upstream ``has_ve``)."""
        return layer % 2 == (self.n_layer - 1) % 2

    @property
    def value_embed_layers(self) -> list[int]:
        return [i for i in range(self.n_layer) if self.has_value_embed(i)]

    def window_sizes(self) -> list[int]:
        """Per layer, how many earlier positions a query may see (``L`` = sequence_len)."""
        sizes = {"S": self.short_window, "L": self.sequence_len}
        pattern = self.window_pattern.upper()
        windows = [sizes[pattern[i % len(pattern)]] for i in range(self.n_layer)]
        windows[-1] = self.sequence_len
        return windows

    def validate(self) -> None:
        """Raise :class:`MetalchatError` unless the shapes make a well-formed model."""
        for name in ("sequence_len", "vocab_size", "n_layer", "n_head", "n_kv_head", "n_embd"):
            if getattr(self, name) <= 0:
                raise MetalchatError(f"{name} must be positive, got {getattr(self, name)}")
        if self.n_embd % self.n_head:
            raise MetalchatError(f"n_head {self.n_head} does not divide n_embd {self.n_embd}")
        if self.n_head % self.n_kv_head:
            raise MetalchatError(f"n_kv_head {self.n_kv_head} does not divide n_head {self.n_head}")
        if self.head_dim % 2:
            raise MetalchatError(f"head_dim {self.head_dim} is odd; RoPE needs it even")
        if not self.window_pattern or set(self.window_pattern.upper()) - {"S", "L"}:
            raise MetalchatError(
                f"window_pattern {self.window_pattern!r} must be non-empty, of S and L only"
            )
        for name in ("smear_channels", "value_embed_gate_channels"):
            if not 0 < getattr(self, name) <= self.n_embd:
                raise MetalchatError(
                    f"{name} {getattr(self, name)} must be in 1..n_embd ({self.n_embd})"
                )

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Upstream state-dict names and shapes (``model.state_dict()`` of ``GPT``)."""
        c, v, hidden = self.n_embd, self.padded_vocab_size, self.hidden_dim
        shapes: dict[str, tuple[int, ...]] = {
            "resid_lambdas": (self.n_layer,),
            "x0_lambdas": (self.n_layer,),
            "smear_lambda": (1,),
            "backout_lambda": (1,),
            "transformer.wte.weight": (v, c),
        }
        for i in range(self.n_layer):
            p = f"transformer.h.{i}."
            shapes[p + "attn.c_q.weight"] = (self.n_head * self.head_dim, c)
            shapes[p + "attn.c_k.weight"] = (self.kv_dim, c)
            shapes[p + "attn.c_v.weight"] = (self.kv_dim, c)
            shapes[p + "attn.c_proj.weight"] = (c, c)
            if self.has_value_embed(i):
                shapes[p + "attn.ve_gate.weight"] = (self.n_kv_head, self.value_embed_gate_channels)
            shapes[p + "mlp.c_fc.weight"] = (hidden, c)
            shapes[p + "mlp.c_proj.weight"] = (c, hidden)
        shapes["lm_head.weight"] = (v, c)
        shapes["smear_gate.weight"] = (1, self.smear_channels)
        for i in self.value_embed_layers:
            shapes[f"value_embeds.{i}.weight"] = (v, self.kv_dim)
        return shapes


def random_weights(config: NanochatConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 weights under upstream names, for tests and examples.

    Shaped like upstream's ``init_weights`` (uniform matrices of std ``1/sqrt(n_embd)``,
    the same per-layer lambda ramps) but with every tensor non-zero and the gates and
    lambdas spread out, so that each part of the model changes the logits.
    """
    config.validate()
    rng = np.random.default_rng(seed)
    bound = math.sqrt(3.0 / config.n_embd)
    ramp = np.arange(config.n_layer) / max(config.n_layer - 1, 1)
    fixed = {
        "resid_lambdas": 1.15 - 0.10 * ramp,
        "x0_lambdas": 0.20 - 0.15 * ramp,
        "smear_lambda": np.array([0.5]),
        "backout_lambda": np.array([0.2]),
    }
    weights: dict[str, np.ndarray] = {}
    for name, shape in config.tensor_shapes().items():
        if name in fixed:
            value = fixed[name]
        elif name == "transformer.wte.weight":
            value = 0.8 * rng.standard_normal(shape)
        elif name.endswith("gate.weight"):
            value = rng.uniform(-1.0, 1.0, shape)
        else:
            value = rng.uniform(-bound, bound, shape)
        weights[name] = np.asarray(value, dtype=F32)
    return weights


def check_weights(config: NanochatConfig, weights: dict[str, np.ndarray]) -> None:
    """Raise :class:`MetalchatError` naming the first missing, extra or mis-shaped tensor."""
    shapes = config.tensor_shapes()
    for name, shape in shapes.items():
        if name not in weights:
            raise MetalchatError(f"tensor {name!r} is missing")
        if tuple(weights[name].shape) != shape:
            raise MetalchatError(
                f"tensor {name!r} has shape {tuple(weights[name].shape)}, the config needs {shape}"
            )
    extra = sorted(set(weights) - set(shapes))
    if extra:
        raise MetalchatError(f"unexpected tensors for this config: {', '.join(extra)}")


def norm(x: np.ndarray, eps: float) -> np.ndarray:
    """RMSNorm without weights over the last axis, in float32."""
    ms = np.mean(x * x, axis=-1, keepdims=True) + F32(eps)
    return (x / np.sqrt(ms)).astype(F32)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (F32(1.0) / (F32(1.0) + np.exp(-x))).astype(F32)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(F32)


def rope_tables(head_dim: int, positions: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin (positions, head_dim / 2): angle ``pos * theta^(-2i / head_dim)``."""
    inv = (
        F32(1.0) / (F32(theta) ** (np.arange(0, head_dim, 2, dtype=F32) / F32(head_dim)))
    ).astype(F32)
    angles = np.outer(np.arange(positions, dtype=F32), inv).astype(F32)
    return np.cos(angles).astype(F32), np.sin(angles).astype(F32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate ``x`` (..., heads, head_dim) by ``-angle``, channel i paired with i + hd/2.

    ``cos``/``sin`` broadcast against (..., 1, head_dim / 2).
    """
    d = x.shape[-1] // 2
    x1, x2 = x[..., :d], x[..., d:]
    return np.concatenate([x1 * cos + x2 * sin, x2 * cos - x1 * sin], axis=-1).astype(F32)


class NanochatReference:
    """Single-sequence inference with a KV cache: ``forward(token, pos)`` for pos 0, 1, ...

    ``forward_sequence`` computes all positions at once with explicit masks; the two must
    agree.
    """

    def __init__(self, config: NanochatConfig, weights: dict[str, np.ndarray]) -> None:
        config.validate()
        check_weights(config, weights)
        self.config = config
        self.w = {name: np.asarray(value, dtype=F32) for name, value in weights.items()}
        self.windows = config.window_sizes()
        self.cos, self.sin = rope_tables(config.head_dim, config.sequence_len, config.rope_theta)
        kv_shape = (config.n_layer, config.sequence_len, config.n_kv_head, config.head_dim)
        self.key_cache = np.zeros(kv_shape, dtype=F32)  # (layer, seq, kv_heads, hd)
        self.value_cache = np.zeros(kv_shape, dtype=F32)
        self.embeddings = np.zeros((config.sequence_len, config.n_embd), dtype=F32)
        self.next_pos = 0

    def reset(self) -> None:
        self.next_pos = 0

    # -- pieces shared by both paths (all take a leading "time" axis) ---------------------

    def _embed(self, tokens: np.ndarray) -> np.ndarray:
        return norm(self.w["transformer.wte.weight"][tokens], self.config.norm_eps)

    def _smear_gate(self, e: np.ndarray) -> np.ndarray:
        """(T, 1): smear_lambda * sigmoid(smear_gate @ e[:, :24])."""
        c = self.config
        logit = e[:, : c.smear_channels] @ self.w["smear_gate.weight"].T
        return (self.w["smear_lambda"] * sigmoid(logit)).astype(F32)

    def _qkv(
        self, layer: int, h: np.ndarray, tokens: np.ndarray, cos: np.ndarray, sin: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """q (T, H, hd), k and v (T, Hkv, hd) for normed inputs ``h`` (T, C)."""
        c, w, p = self.config, self.w, f"transformer.h.{layer}.attn."
        T = h.shape[0]
        q = (h @ w[p + "c_q.weight"].T).reshape(T, c.n_head, c.head_dim)
        k = (h @ w[p + "c_k.weight"].T).reshape(T, c.n_kv_head, c.head_dim)
        v = (h @ w[p + "c_v.weight"].T).reshape(T, c.n_kv_head, c.head_dim)
        if c.has_value_embed(layer):
            ve = w[f"value_embeds.{layer}.weight"][tokens].reshape(T, c.n_kv_head, c.head_dim)
            gate_in = h[:, : c.value_embed_gate_channels] @ w[p + "ve_gate.weight"].T
            gate = F32(c.value_embed_scale) * sigmoid(gate_in)  # (T, Hkv)
            v = v + gate[:, :, None] * ve
        q = apply_rope(q, cos[:, None, :], sin[:, None, :])
        k = apply_rope(k, cos[:, None, :], sin[:, None, :])
        q = F32(c.qk_scale) * norm(q, c.norm_eps)
        k = F32(c.qk_scale) * norm(k, c.norm_eps)
        return q.astype(F32), k.astype(F32), v.astype(F32)

    def _attend(
        self, q: np.ndarray, keys: np.ndarray, values: np.ndarray, mask: np.ndarray
    ) -> np.ndarray:
        """q (T, H, hd), keys/values (S, Hkv, hd), mask (T, S) True = visible -> (T, C)."""
        c = self.config
        group = c.n_head // c.n_kv_head
        qg = q.reshape(q.shape[0], c.n_kv_head, group, c.head_dim)  # head j -> kv j // group
        scores = np.einsum("tkgd,skd->tkgs", qg, keys) / np.sqrt(F32(c.head_dim))
        scores = np.where(mask[:, None, None, :], scores, -np.inf).astype(F32)
        out = np.einsum("tkgs,skd->tkgd", softmax(scores), values)
        return out.reshape(q.shape[0], c.n_embd).astype(F32)

    def _block_rest(self, layer: int, x: np.ndarray, attn: np.ndarray) -> np.ndarray:
        """Output projection, residual, and the ReLU^2 MLP."""
        w, p = self.w, f"transformer.h.{layer}."
        x = x + attn @ w[p + "attn.c_proj.weight"].T
        hidden = np.maximum(norm(x, self.config.norm_eps) @ w[p + "mlp.c_fc.weight"].T, F32(0))
        return (x + (hidden * hidden) @ w[p + "mlp.c_proj.weight"].T).astype(F32)

    def _logits(self, x: np.ndarray) -> np.ndarray:
        c = self.config
        logits = (x @ self.w["lm_head.weight"].T)[..., : c.vocab_size]
        return (F32(c.softcap) * np.tanh(logits / F32(c.softcap))).astype(F32)

    def _trunk(
        self, x: np.ndarray, attention: Callable[[int, np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Layers, backout and final norm; ``attention(layer, h)`` returns (T, C)."""
        c, w = self.config, self.w
        x0 = x
        x_backout = x
        for i in range(c.n_layer):
            x = (w["resid_lambdas"][i] * x + w["x0_lambdas"][i] * x0).astype(F32)
            x = self._block_rest(i, x, attention(i, norm(x, c.norm_eps)))
            if i == c.backout_layer:
                x_backout = x
        return norm(x - w["backout_lambda"] * x_backout, c.norm_eps)

    # -- the two entry points -------------------------------------------------------------

    def forward(self, token: int, pos: int) -> np.ndarray:
        """Logits (vocab_size,) for ``token`` at ``pos``; positions 0..pos-1 must be cached."""
        c = self.config
        if not 0 <= token < c.vocab_size:
            raise MetalchatError(f"token {token} is outside the vocabulary (0..{c.vocab_size - 1})")
        if not 0 <= pos < c.sequence_len:
            raise MetalchatError(f"position {pos} is outside the context (0..{c.sequence_len - 1})")
        if pos > self.next_pos:
            raise MetalchatError(
                f"position {pos} skips ahead: positions up to {self.next_pos - 1} are cached"
            )
        tokens = np.array([token])
        e = self._embed(tokens)  # (1, C)
        self.embeddings[pos] = e[0]
        x = e + self._smear_gate(e) * self.embeddings[pos - 1] if pos > 0 else e
        cos, sin = self.cos[pos : pos + 1], self.sin[pos : pos + 1]

        def attention(layer: int, h: np.ndarray) -> np.ndarray:
            q, k, v = self._qkv(layer, h, tokens, cos, sin)
            self.key_cache[layer, pos] = k[0]
            self.value_cache[layer, pos] = v[0]
            start = max(0, pos - self.windows[layer])
            keys = self.key_cache[layer, start : pos + 1]
            values = self.value_cache[layer, start : pos + 1]
            return self._attend(q, keys, values, np.ones((1, pos + 1 - start), dtype=bool))

        x = self._trunk(x.astype(F32), attention)
        self.next_pos = pos + 1
        return self._logits(x[0])

    def forward_sequence(self, tokens: list[int]) -> np.ndarray:
        """Logits (T, vocab_size) for a whole sequence from position 0, without the cache."""
        c = self.config
        T = len(tokens)
        if not 0 < T <= c.sequence_len:
            raise MetalchatError(f"sequence length {T} is outside 1..{c.sequence_len}")
        ids = np.asarray(tokens)
        if ids.min() < 0 or ids.max() >= c.vocab_size:
            raise MetalchatError(f"a token is outside the vocabulary (0..{c.vocab_size - 1})")
        e = self._embed(ids)  # (T, C)
        x = e.copy()
        x[1:] += self._smear_gate(e[1:]) * e[:-1]
        cos, sin = self.cos[:T], self.sin[:T]
        offset = np.arange(T)[:, None] - np.arange(T)[None, :]  # query - key

        def attention(layer: int, h: np.ndarray) -> np.ndarray:
            q, k, v = self._qkv(layer, h, ids, cos, sin)
            mask = (offset >= 0) & (offset <= self.windows[layer])
            return self._attend(q, k, v, mask)

        return self._logits(self._trunk(x, attention))
