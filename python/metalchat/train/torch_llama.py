"""A torch Llama in llama2.c's shape, equal to :mod:`metalchat.reference.llama`.

Same math as the numpy reference (RMSNorm with weights and eps 1e-5, RoPE on adjacent
channel pairs with base 10000, grouped-query attention, SwiGLU), computed for a whole batch
of sequences with a causal mask. :meth:`TorchLlama.llama2c_weights` returns the weights
under llama2.c's names, layers stacked on axis 0, ready for
:func:`metalchat.formats.llama2c.write_model`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from metalchat.config import LlamaConfig
from metalchat.reference.llama import rope_tables


def rmsnorm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent pairs of ``x`` (B, T, heads, hs) by (T, hs/2) angles."""
    even, odd = x[..., 0::2], x[..., 1::2]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.stack((even * c - odd * s, even * s + odd * c), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, c: LlamaConfig) -> None:
        super().__init__()
        self.rms_att = nn.Parameter(torch.ones(c.dim))
        self.wq = nn.Linear(c.dim, c.dim, bias=False)
        self.wk = nn.Linear(c.dim, c.kv_dim, bias=False)
        self.wv = nn.Linear(c.dim, c.kv_dim, bias=False)
        self.wo = nn.Linear(c.dim, c.dim, bias=False)
        self.rms_ffn = nn.Parameter(torch.ones(c.dim))
        self.w1 = nn.Linear(c.dim, c.hidden_dim, bias=False)
        self.w2 = nn.Linear(c.hidden_dim, c.dim, bias=False)
        self.w3 = nn.Linear(c.dim, c.hidden_dim, bias=False)
        self.c = c

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        c = self.c
        B, T, _ = x.shape
        h = rmsnorm(x, self.rms_att, c.norm_eps)
        q = rope(self.wq(h).view(B, T, c.n_heads, c.head_size), cos, sin)
        k = rope(self.wk(h).view(B, T, c.n_kv_heads, c.head_size), cos, sin)
        v = self.wv(h).view(B, T, c.n_kv_heads, c.head_size)
        group = c.n_heads // c.n_kv_heads  # query head j uses kv head j // group
        k = k[:, :, :, None].expand(-1, -1, -1, group, -1).flatten(2, 3)
        v = v[:, :, :, None].expand(-1, -1, -1, group, -1).flatten(2, 3)
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        )  # (B, heads, T, hs)
        x = x + self.wo(out.transpose(1, 2).reshape(B, T, c.dim))
        h = rmsnorm(x, self.rms_ffn, c.norm_eps)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class TorchLlama(nn.Module):
    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.dim)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.rms_final = nn.Parameter(torch.ones(config.dim))
        if not config.shared_classifier:
            self.wcls = nn.Linear(config.dim, config.vocab_size, bias=False)
        cos, sin = rope_tables(config)
        self.register_buffer("cos", torch.from_numpy(cos), persistent=False)
        self.register_buffer("sin", torch.from_numpy(sin), persistent=False)

    def init_weights(self) -> None:
        """GPT-2-style init: normal(0, 0.02), residual projections scaled by the depth."""
        for name, p in self.named_parameters():
            if name.endswith(("rms_att", "rms_ffn", "rms_final")):
                nn.init.ones_(p)
            elif name.endswith(("wo.weight", "w2.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.config.n_layers))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab) for token ids (B, T) from position 0."""
        T = idx.shape[1]
        x = self.token_embedding(idx)
        for layer in self.layers:
            x = layer(x, self.cos[:T], self.sin[:T])
        x = rmsnorm(x, self.rms_final, self.config.norm_eps)
        head = self.token_embedding.weight if self.config.shared_classifier else self.wcls.weight
        return x @ head.T

    def llama2c_weights(self) -> dict[str, np.ndarray]:
        """float32 weights by llama2.c name, layers stacked on axis 0."""

        def stack(get) -> np.ndarray:
            return np.stack([get(layer).detach().float().numpy() for layer in self.layers])

        w = {
            "token_embedding": self.token_embedding.weight.detach().float().numpy(),
            "rms_att": stack(lambda b: b.rms_att),
            "wq": stack(lambda b: b.wq.weight),
            "wk": stack(lambda b: b.wk.weight),
            "wv": stack(lambda b: b.wv.weight),
            "wo": stack(lambda b: b.wo.weight),
            "rms_ffn": stack(lambda b: b.rms_ffn),
            "w1": stack(lambda b: b.w1.weight),
            "w2": stack(lambda b: b.w2.weight),
            "w3": stack(lambda b: b.w3.weight),
            "rms_final": self.rms_final.detach().float().numpy(),
        }
        if not self.config.shared_classifier:
            w["wcls"] = self.wcls.weight.detach().float().numpy()
        return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}

    @torch.no_grad()
    def load_llama2c_weights(self, weights: dict[str, np.ndarray]) -> None:
        """The inverse of :meth:`llama2c_weights`."""

        def t(name: str, i: int | None = None) -> torch.Tensor:
            value = weights[name] if i is None else weights[name][i]
            return torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))

        self.token_embedding.weight.copy_(t("token_embedding"))
        for i, layer in enumerate(self.layers):
            layer.rms_att.copy_(t("rms_att", i))
            layer.rms_ffn.copy_(t("rms_ffn", i))
            for name in ("wq", "wk", "wv", "wo", "w1", "w2", "w3"):
                getattr(layer, name).weight.copy_(t(name, i))
        self.rms_final.copy_(t("rms_final"))
        if not self.config.shared_classifier:
            self.wcls.weight.copy_(t("wcls"))
