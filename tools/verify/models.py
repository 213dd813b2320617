"""Random test models as containers, for the C engines' parity and bad-input tests.

* :func:`llama_model` / :func:`llama_container`: a random llama2.c-convention Llama and its
  container (``metalchat.export``'s writer, any format).
* :func:`nanochat_container`: a nanochat GPT (upstream state-dict names, one tensor per
  upstream parameter, in :meth:`NanochatConfig.tensor_shapes` order) with its byte-level BPE
  tokenizer section; the container the C nanochat engine reads. Matrices (embeddings,
  projections, MLP, head, value embeddings) take the chosen format, the lambdas and gates
  stay f32.
* :func:`random_bpe`: a byte-level BPE rank table (256 bytes + merges) and nanochat's nine
  special tokens after it.
* :class:`WindowedConfig`: a :class:`NanochatConfig` whose short window is given instead of
  derived (upstream's derivation rounds up to 128, longer than a test prompt).

``make_models.py`` writes the named :data:`SPECS` from a seed at build time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

import metalchat
from metalchat.config import LlamaConfig
from metalchat.export import llama_container as _llama_container
from metalchat.export import llama_manifest
from metalchat.formats import container, llama2c
from metalchat.manifest import pb
from metalchat.quant import quantize_weights
from metalchat.reference.nanochat import NanochatConfig, random_weights
from metalchat.testing import tokenizer_bin

SPECIALS = (
    "<|bos|>",
    "<|user_start|>",
    "<|user_end|>",
    "<|assistant_start|>",
    "<|assistant_end|>",
    "<|python_start|>",
    "<|python_end|>",
    "<|output_start|>",
    "<|output_end|>",
)
# Upstream nanochat's split pattern (GPT-4's with digits in groups of at most two).
SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)


@dataclass(frozen=True)
class WindowedConfig(NanochatConfig):
    """nanochat config with an explicit short window (0 = upstream's derivation)."""

    short: int = 0

    @property
    def short_window(self) -> int:  # type: ignore[override]
        return self.short or super().short_window


def llama_model(config: LlamaConfig, seed: int) -> llama2c.Llama2cModel:
    return llama2c.random_model(config, seed=seed, scale=0.1)


def llama_container(model: llama2c.Llama2cModel, fmt: str = "f32", group_size: int = 0) -> bytes:
    tok_bytes = tokenizer_bin(model.config.vocab_size)
    tok = llama2c.read_tokenizer(tok_bytes, model.config.vocab_size)
    manifest = llama_manifest(model.config, "test-llama", tok)
    weights = dict(model.weights)
    c, _ = _llama_container(
        model.config, weights, tok_bytes, manifest, fmt=fmt, group_size=group_size, progress=False
    )
    return container.serialize(c)


def random_bpe(vocab_size: int, seed: int) -> tuple[list[bytes], list[tuple[int, str]]]:
    """(ranked tokens, specials): 256 single bytes, merges of earlier tokens, 9 specials."""
    n_ranked = vocab_size - len(SPECIALS)
    if n_ranked < 256:
        raise ValueError(f"vocab_size {vocab_size} leaves fewer than 256 ranked tokens")
    rng = np.random.default_rng(seed)
    ranked = [bytes([b]) for b in range(256)]
    seen = set(ranked)
    common = [t for t in ranked if t.isalpha() or t in (b" ", b"e", b"\n")]
    while len(ranked) < n_ranked:
        left = common[rng.integers(len(common))]
        right = (
            ranked[rng.integers(len(ranked))]
            if rng.random() < 0.3
            else common[rng.integers(len(common))]
        )
        token = left + right
        if token not in seen and len(token) <= 8:
            seen.add(token)
            ranked.append(token)
            common.append(token)
    return ranked, [(n_ranked + i, s) for i, s in enumerate(SPECIALS)]


def _is_matrix(name: str, shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and not name.endswith("gate.weight")


def nanochat_container(
    config: NanochatConfig,
    weights: dict[str, np.ndarray],
    ranked: list[bytes],
    specials: list[tuple[int, str]],
    *,
    fmt: str = "f32",
    group_size: int = 0,
    pattern: str = SPLIT_PATTERN,
    name: str = "test-nanochat",
) -> bytes:
    """The container of a nanochat model (see the module doc)."""
    shapes = config.tensor_shapes()
    ordered = {n: np.asarray(weights[n], dtype=np.float32) for n in shapes}
    matrices = [n for n, s in shapes.items() if _is_matrix(n, s)]
    tensors, _ = quantize_weights(ordered, fmt, group_size, matrices, progress=False)
    m = pb.ModelManifest(name=name, architecture=pb.NANOCHAT)
    m.nanochat.CopyFrom(
        pb.NanochatParams(
            n_embd=config.n_embd,
            n_layer=config.n_layer,
            n_head=config.n_head,
            n_kv_head=config.n_kv_head,
            vocab_size=config.vocab_size,
            padded_vocab_size=config.padded_vocab_size,
            sequence_len=config.sequence_len,
            window_pattern=config.window_pattern,
            short_window=min(config.short_window, config.sequence_len),
            softcap=config.softcap,
            rope_theta=config.rope_theta,
            qk_scale=config.qk_scale,
            mlp_ratio=config.mlp_ratio,
            smear_channels=config.smear_channels,
            value_embed_gate_channels=config.value_embed_gate_channels,
            value_embed_scale=config.value_embed_scale,
            value_embed_layers=config.value_embed_layers,
            backout_layer=config.backout_layer,
            norm_eps=config.norm_eps,
            rope_layout=pb.ROPE_HALF_SPLIT,
        )
    )
    bos = dict((text, i) for i, text in specials)["<|bos|>"]
    m.tokenizer.CopyFrom(
        pb.Tokenizer(
            kind=pb.NANOCHAT_BPE,
            vocab_size=config.vocab_size,
            bos_id=bos,
            eos_id=bos,
            special_tokens=[pb.SpecialToken(text=t, id=i) for i, t in specials],
        )
    )
    m.chat_template.kind = pb.CHAT_TEMPLATE_NANOCHAT
    m.provenance.CopyFrom(
        pb.Provenance(tool="metalchat verify", tool_version=metalchat.__version__)
    )
    payload = container.nanochat_tokenizer_payload(ranked, pattern, specials)
    return container.serialize(container.ContainerModel(m, tensors, payload))


# ---------------------------------------------------------------------------------------
# the shapes the parity tests cover

LLAMA_SPECS: dict[str, LlamaConfig] = {
    # multi-head, shared classifier, odd hidden and vocab
    "llama_mha_shared": LlamaConfig(48, 97, 2, 4, 4, 301, 64, shared_classifier=True),
    # GQA (8 heads over 2), separate classifier
    "llama_gqa_wcls": LlamaConfig(64, 172, 3, 8, 2, 333, 48, shared_classifier=False),
    # odd dimensions: 3 heads of 12, one kv head (MQA), one layer
    "llama_odd_mqa": LlamaConfig(36, 75, 1, 3, 1, 259, 40, shared_classifier=False),
}

NANOCHAT_SPECS: dict[str, NanochatConfig] = {
    # short windows (5) much shorter than the 32-token prompt, GQA, value embeddings
    "nanochat_windows_gqa": WindowedConfig(
        sequence_len=64, vocab_size=300, n_layer=4, n_head=4, n_kv_head=2, n_embd=64,
        window_pattern="SSSL", short=5,
    ),
    # odd layer count (value embeddings on layers 0, 2, 4), MHA, "SL" pattern
    "nanochat_mha_odd": WindowedConfig(
        sequence_len=48, vocab_size=333, n_layer=5, n_head=3, n_kv_head=3, n_embd=48,
        window_pattern="SL", short=9,
    ),
    # upstream-derived windows (128 > context: all full), MQA
    "nanochat_mqa_full": NanochatConfig(
        sequence_len=40, vocab_size=290, n_layer=2, n_head=4, n_kv_head=1, n_embd=32,
        window_pattern="L",
    ),
}  # fmt: skip


def nanochat_model(config: NanochatConfig, seed: int) -> dict[str, np.ndarray]:
    return random_weights(config, seed=seed)


def replace(config: NanochatConfig, **changes: object) -> NanochatConfig:
    return dataclasses.replace(config, **changes)
