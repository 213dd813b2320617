"""Random test models as containers, for the C engines' parity and bad-input tests.

* :func:`llama_model` / :func:`llama_container`: a random llama2.c-convention Llama and its
  container (``metalchat.export``'s writer, any format).
* :func:`nanochat_container`: a nanochat GPT with its byte-level BPE tokenizer section, the
  container the C nanochat engine reads (``metalchat.export.nanochat_container``'s writer, any
  format; nanochat's chat template).
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

from metalchat.config import LlamaConfig
from metalchat.export import llama_container as _llama_container
from metalchat.export import llama_manifest, nanochat_manifest
from metalchat.export import nanochat_container as _nanochat_container
from metalchat.formats import container, llama2c
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
    """The container of a nanochat model (``metalchat.export``'s writer, see the module doc)."""
    m = nanochat_manifest(config, name, specials, chat_template="nanochat", tool="metalchat verify")
    c, _ = _nanochat_container(
        config,
        weights,
        ranked,
        specials,
        pattern,
        m,
        fmt=fmt,
        group_size=group_size,
        progress=False,
    )
    return container.serialize(c)


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
