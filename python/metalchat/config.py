"""Model hyperparameters shared by the file formats, reference models and planners."""

from __future__ import annotations

import math
from dataclasses import dataclass

from metalchat.errors import MetalchatError


@dataclass(frozen=True)
class LlamaConfig:
    """A llama2.c-style Llama: RMSNorm, interleaved RoPE, GQA, SwiGLU."""

    dim: int
    hidden_dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    seq_len: int
    shared_classifier: bool = True
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_size(self) -> int:
        return self.dim // self.n_heads

    @property
    def kv_dim(self) -> int:
        return self.head_size * self.n_kv_heads

    def validate(self, prefix: str = "") -> None:
        """Raise :class:`MetalchatError` unless the shapes make a well-formed model.

        ``prefix`` (e.g. ``"llama."``) is put before field names in messages.
        """
        for name in (
            "dim",
            "hidden_dim",
            "n_layers",
            "n_heads",
            "n_kv_heads",
            "vocab_size",
            "seq_len",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise MetalchatError(f"{prefix}{name} is {value!r}, expected an integer")
            if value <= 0:
                raise MetalchatError(f"{prefix}{name} must be positive, got {value}")
        if self.dim % self.n_heads:
            raise MetalchatError(
                f"{prefix}n_heads {self.n_heads} does not divide {prefix}dim {self.dim}"
            )
        if self.n_heads % self.n_kv_heads:
            raise MetalchatError(
                f"{prefix}n_kv_heads {self.n_kv_heads} does not divide "
                f"{prefix}n_heads {self.n_heads}"
            )
        if self.head_size % 2:
            raise MetalchatError(
                f"head size {prefix}dim / {prefix}n_heads = {self.head_size} is odd; "
                "RoPE rotates channel pairs, so it must be even"
            )
        for name in ("rope_theta", "norm_eps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise MetalchatError(f"{prefix}{name} is {value!r}, expected a number")
            if not math.isfinite(value):
                raise MetalchatError(f"{prefix}{name} is {value!r}, expected a finite number")
        if not self.rope_theta > 0:
            raise MetalchatError(f"{prefix}rope_theta must be positive, got {self.rope_theta}")
        if not self.norm_eps > 0:
            raise MetalchatError(f"{prefix}norm_eps must be positive, got {self.norm_eps}")

    def tensor_shapes(self, *, freq_cis: bool = False) -> dict[str, tuple[int, ...]]:
        """Weights in llama2.c's names, layers stacked on axis 0, in the legacy (v0) order."""
        layers, dim, hidden, kv = self.n_layers, self.dim, self.hidden_dim, self.kv_dim
        shapes: dict[str, tuple[int, ...]] = {
            "token_embedding": (self.vocab_size, dim),
            "rms_att": (layers, dim),
            "wq": (layers, dim, dim),
            "wk": (layers, kv, dim),
            "wv": (layers, kv, dim),
            "wo": (layers, dim, dim),
            "rms_ffn": (layers, dim),
            "w1": (layers, hidden, dim),
            "w2": (layers, dim, hidden),
            "w3": (layers, hidden, dim),
            "rms_final": (dim,),
        }
        if freq_cis:
            shapes["freq_cis_real"] = (self.seq_len, self.head_size // 2)
            shapes["freq_cis_imag"] = (self.seq_len, self.head_size // 2)
        if not self.shared_classifier:
            shapes["wcls"] = (self.vocab_size, dim)
        return shapes

    def require_bytes(self, present: int, bytes_per_value: float, what: str) -> None:
        """Raise :class:`MetalchatError` unless ``present`` bytes can hold every weight at
        ``bytes_per_value`` (the smallest encoding the file allows): checked before anything
        the size of the model is allocated, so a header claiming huge shapes fails at once."""
        needed = math.ceil(self.parameter_count() * bytes_per_value)
        if needed > present:
            raise MetalchatError(
                f"truncated or corrupt: the shapes ({self.n_layers} layers, dim {self.dim}, "
                f"hidden {self.hidden_dim}, vocab {self.vocab_size}) need at least {needed:,} "
                f"bytes of weights, {what} holds {present:,}"
            )

    def parameter_count(self) -> int:
        """Number of weights (without freq_cis), counting a shared classifier once."""
        total = 0
        for shape in self.tensor_shapes().values():
            count = 1
            for extent in shape:
                count *= extent
            total += count
        return total


NORM_TENSORS = ("rms_att", "rms_ffn", "rms_final")
MATRIX_TENSORS = ("token_embedding", "wq", "wk", "wv", "wo", "w1", "w2", "w3", "wcls")
