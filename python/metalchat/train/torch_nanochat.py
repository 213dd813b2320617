"""A torch nanochat GPT equal to :mod:`metalchat.reference.nanochat` (upstream ``gpt.py``).

Parameters carry upstream's state-dict names (``transformer.wte.weight``,
``transformer.h.<i>.attn.c_q.weight``, ``value_embeds.<i>.weight``, ``resid_lambdas``, ...;
see :meth:`metalchat.reference.nanochat.NanochatConfig.tensor_shapes`), so
``torch.save(model.state_dict())`` is a checkpoint upstream's ``build_model`` and
:func:`metalchat.formats.nanochat_ckpt.read_checkpoint` load. The forward pass follows the
numpy reference step by step (its module doc has the math); attention uses a boolean mask per
layer for the sliding windows. Computed in float32.

Initialisation (this project's choice, not upstream's exact one): embeddings N(0, 1), input
matrices uniform with std ``1/sqrt(n_embd)``, output projections zero, ``lm_head``
N(0, 0.001), gates zero, ``resid_lambdas`` 1, ``x0_lambdas`` 0.1, ``smear_lambda`` 0,
``backout_lambda`` 0.2.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from metalchat.reference.nanochat import NanochatConfig, rope_tables


def norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm without weights over the last axis."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Upstream's rotation of (B, T, heads, hd): channel i with i + hd/2, by -angle."""
    d = x.shape[-1] // 2
    x1, x2 = x[..., :d], x[..., d:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat((x1 * c + x2 * s, x2 * c - x1 * s), dim=-1)


class Attention(nn.Module):
    def __init__(self, config: NanochatConfig, layer: int) -> None:
        super().__init__()
        c = config
        self.c, self.layer = c, layer
        self.c_q = nn.Linear(c.n_embd, c.n_head * c.head_dim, bias=False)
        self.c_k = nn.Linear(c.n_embd, c.kv_dim, bias=False)
        self.c_v = nn.Linear(c.n_embd, c.kv_dim, bias=False)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=False)
        self.ve_gate = (
            nn.Linear(c.value_embed_gate_channels, c.n_kv_head, bias=False)
            if c.has_value_embed(layer)
            else None
        )

    def forward(
        self,
        h: torch.Tensor,
        ve: torch.Tensor | None,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        c = self.c
        B, T, _ = h.shape
        q = self.c_q(h).view(B, T, c.n_head, c.head_dim)
        k = self.c_k(h).view(B, T, c.n_kv_head, c.head_dim)
        v = self.c_v(h).view(B, T, c.n_kv_head, c.head_dim)
        if self.ve_gate is not None and ve is not None:
            gate = c.value_embed_scale * torch.sigmoid(
                self.ve_gate(h[..., : c.value_embed_gate_channels])
            )  # (B, T, Hkv)
            v = v + gate[..., None] * ve.view(B, T, c.n_kv_head, c.head_dim)
        q = c.qk_scale * norm(rope(q, cos, sin), c.norm_eps)
        k = c.qk_scale * norm(rope(k, cos, sin), c.norm_eps)
        group = c.n_head // c.n_kv_head  # query head j uses kv head j // group
        k = k[:, :, :, None].expand(-1, -1, -1, group, -1).flatten(2, 3)
        v = v[:, :, :, None].expand(-1, -1, -1, group, -1).flatten(2, 3)
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask
        )  # (B, H, T, hd)
        return self.c_proj(out.transpose(1, 2).reshape(B, T, c.n_embd))


class MLP(nn.Module):
    def __init__(self, config: NanochatConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, config.hidden_dim, bias=False)
        self.c_proj = nn.Linear(config.hidden_dim, config.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.relu(self.c_fc(x)).square())


class Block(nn.Module):
    def __init__(self, config: NanochatConfig, layer: int) -> None:
        super().__init__()
        self.attn = Attention(config, layer)
        self.mlp = MLP(config)


class TorchNanochat(nn.Module):
    def __init__(self, config: NanochatConfig) -> None:
        super().__init__()
        config.validate()
        c = config
        self.config = c
        pv = c.padded_vocab_size
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(pv, c.n_embd),
                "h": nn.ModuleList(Block(c, i) for i in range(c.n_layer)),
            }
        )
        self.lm_head = nn.Linear(c.n_embd, pv, bias=False)
        self.resid_lambdas = nn.Parameter(torch.ones(c.n_layer))
        self.x0_lambdas = nn.Parameter(torch.zeros(c.n_layer))
        self.smear_lambda = nn.Parameter(torch.zeros(1))
        self.backout_lambda = nn.Parameter(torch.zeros(1))
        self.smear_gate = nn.Linear(c.smear_channels, 1, bias=False)
        self.value_embeds = nn.ModuleDict(
            {str(i): nn.Embedding(pv, c.kv_dim) for i in c.value_embed_layers}
        )
        cos, sin = rope_tables(c.head_dim, c.sequence_len, c.rope_theta)
        self.register_buffer("cos", torch.from_numpy(cos), persistent=False)
        self.register_buffer("sin", torch.from_numpy(sin), persistent=False)
        offset = torch.arange(c.sequence_len)[:, None] - torch.arange(c.sequence_len)[None, :]
        masks = torch.stack([(offset >= 0) & (offset <= w) for w in c.window_sizes()])
        self.register_buffer("masks", masks, persistent=False)  # (layer, T, T)

    def init_weights(self) -> None:
        """See the module doc."""
        bound = math.sqrt(3.0 / self.config.n_embd)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name == "transformer.wte.weight":
                    nn.init.normal_(p, 0.0, 1.0)
                elif name == "lm_head.weight":
                    nn.init.normal_(p, 0.0, 0.001)
                elif name.endswith("c_proj.weight") or name.endswith("gate.weight"):
                    nn.init.zeros_(p)
                elif name.endswith(".weight"):
                    nn.init.uniform_(p, -bound, bound)
            self.resid_lambdas.fill_(1.0)
            self.x0_lambdas.fill_(0.1)
            self.smear_lambda.fill_(0.0)
            self.backout_lambda.fill_(0.2)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab_size) for token ids (B, T) from position 0."""
        c = self.config
        T = idx.shape[1]
        e = norm(self.transformer["wte"](idx), c.norm_eps)
        gate = self.smear_lambda * torch.sigmoid(self.smear_gate(e[:, 1:, : c.smear_channels]))
        x = torch.cat((e[:, :1], e[:, 1:] + gate * e[:, :-1]), dim=1)
        x0 = x
        x_backout = x
        cos, sin = self.cos[:T], self.sin[:T]
        for i, block in enumerate(self.transformer["h"]):
            x = self.resid_lambdas[i] * x + self.x0_lambdas[i] * x0
            ve = self.value_embeds[str(i)](idx) if str(i) in self.value_embeds else None
            x = x + block.attn(norm(x, c.norm_eps), ve, cos, sin, self.masks[i, :T, :T])
            x = x + block.mlp(norm(x, c.norm_eps))
            if i == c.backout_layer:
                x_backout = x
        x = norm(x - self.backout_lambda * x_backout, c.norm_eps)
        logits = self.lm_head(x)[..., : c.vocab_size]
        return c.softcap * torch.tanh(logits / c.softcap)

    def numpy_weights(self) -> dict[str, np.ndarray]:
        """The state dict as float32 numpy arrays (what the numpy reference takes)."""
        return {k: v.detach().float().numpy().copy() for k, v in self.state_dict().items()}

    @torch.no_grad()
    def load_numpy_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.load_state_dict(
            {k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in weights.items()}
        )
