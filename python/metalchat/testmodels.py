"""Random test models from a seed: build-time test data for the engines, benches and cards.

Nothing here is committed; Bazel rules write these files at build time (engines/testdata,
tools/bench, tools/export, tools/sdcard) through ``metalchat.cli.testmodels``.

* :data:`LLAMA_SPECS` / :data:`NANOCHAT_SPECS`: the named shapes the engines' parity and
  bad-input tests cover; :func:`spec_model` writes one in any container format, as InferPi's
  fp16 ``model.bin``, as llama2.c's own files, or as a tokenizer fuzz seed.
* :func:`llama_model` / :func:`llama_container`: a random llama2.c-convention Llama and its
  container (``metalchat.export``'s writer, any format).
* :func:`nanochat_container`: a nanochat GPT with its byte-level BPE tokenizer section, the
  container the C nanochat engine reads (``metalchat.export.nanochat_container``'s writer, any
  format; nanochat's chat template).
* :func:`random_bpe`: a byte-level BPE rank table (256 bytes + merges) and nanochat's nine
  special tokens after it.
* :class:`WindowedConfig`: a :class:`NanochatConfig` whose short window is given instead of
  derived (upstream's derivation rounds up to 128, longer than a test prompt).
* :func:`llama2c_files`: a llama2.c ``model.bin`` + ``tokenizer.bin`` of any shape: benchmark
  stand-ins, export inputs, and (``words=True``) the chat card's stand-in models, whose
  greedy answers are (random) words.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.export import inferpi_model, llama_manifest, nanochat_manifest
from metalchat.export import llama_container as _llama_container
from metalchat.export import nanochat_container as _nanochat_container
from metalchat.formats import container, llama2c
from metalchat.reference.nanochat import NanochatConfig, random_weights
from metalchat.testing import tokenizer_bin
from metalchat.train.bpe import SPECIAL_TOKENS as SPECIALS
from metalchat.train.bpe import SPLIT_PATTERN


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
    # the smallest model llama2.c's tokenizer allows (a few KB): fuzz seeds that run fast
    "llama_tiny": LlamaConfig(8, 12, 1, 2, 1, 259, 32),
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
    # the smallest vocabulary random_bpe allows, one layer of width 8: a fast fuzz seed
    "nanochat_tiny": NanochatConfig(
        sequence_len=32, vocab_size=265, n_layer=1, n_head=2, n_kv_head=1, n_embd=8,
        window_pattern="L", smear_channels=8, value_embed_gate_channels=8,
    ),
}  # fmt: skip


def nanochat_model(config: NanochatConfig, seed: int) -> dict[str, np.ndarray]:
    return random_weights(config, seed=seed)


def replace(config: NanochatConfig, **changes: object) -> NanochatConfig:
    return dataclasses.replace(config, **changes)


# ---------------------------------------------------------------------------------------
# one named spec as a file

# Formats of spec_model besides the container ones (f32, f16, q8, q4).
FILE_FORMATS = ("inferpi", "tokseed", "v0", "v1", "v2")


def spec_model(name: str, fmt: str, group_size: int = 0, seed: int = 1) -> bytes:
    """The file of spec ``name`` (a key of :data:`LLAMA_SPECS` or :data:`NANOCHAT_SPECS`).

    ``fmt`` is a container format (f32, f16, q8, q4; ``group_size`` for q8/q4), ``inferpi``
    (Llama only: InferPi's fp16 ``model.bin``), ``v0``/``v1``/``v2`` (Llama only: llama2.c's
    own files; v2 in groups of ``group_size``, 64 if 0) or ``tokseed``: a seed for
    //engines/fuzz:fuzz_tokenizer (kind byte, u16 vocabulary, then the model's tokenizer:
    llama2.c tokenizer.bin for a Llama spec, the BPE payload for nanochat).
    """
    if name not in LLAMA_SPECS and name not in NANOCHAT_SPECS:
        known = ", ".join([*LLAMA_SPECS, *NANOCHAT_SPECS])
        raise MetalchatError(f"no test model spec {name!r} (known: {known})")
    if fmt == "tokseed":
        if name in LLAMA_SPECS:
            vocab = LLAMA_SPECS[name].vocab_size
            return bytes([0]) + vocab.to_bytes(2, "little") + tokenizer_bin(vocab)
        vocab = NANOCHAT_SPECS[name].vocab_size
        ranked, specials = random_bpe(vocab, seed)
        payload = container.nanochat_tokenizer_payload(ranked, SPLIT_PATTERN, specials)
        return bytes([1]) + vocab.to_bytes(2, "little") + payload
    if name in LLAMA_SPECS:
        config = LLAMA_SPECS[name]
        model = llama_model(config, seed)
        if fmt == "inferpi":
            return inferpi_model(config, model.weights)
        if fmt in ("v0", "v1", "v2"):
            return llama2c.serialize_model(model, int(fmt[1]), group_size=group_size or 64)
        return llama_container(model, fmt, group_size)
    if fmt in FILE_FORMATS:
        raise MetalchatError(f"format {fmt} is for Llama specs only, not {name}")
    nano = NANOCHAT_SPECS[name]
    ranked, specials = random_bpe(nano.vocab_size, seed)
    weights = nanochat_model(nano, seed)
    return nanochat_container(nano, weights, ranked, specials, fmt=fmt, group_size=group_size)


# ---------------------------------------------------------------------------------------
# llama2.c model folders of any shape

WORDS = [
    "the", "a", "and", "to", "of", "in", "was", "he", "she", "it", "they", "little", "big",
    "one", "day", "time", "upon", "once", "there", "said", "happy", "sad", "dog", "cat", "bird",
    "tree", "sun", "play", "went", "saw", "with", "for", "on", "his", "her", "very", "friend",
    "mom", "dad", "ball", "park", "home", "night",
]  # fmt: skip
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
# words=True scales the embedding rows of <unk> and the byte tokens (the classifier too, it is
# shared) by this, so word pieces win the argmax.
BYTE_TOKEN_SCALE = 0.05


def word_pieces(vocab_size: int) -> list[bytes]:
    """llama2.c's specials and byte tokens, then " word" pieces, then " syllable" fillers."""
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    pieces += [f" {w}".encode() for w in WORDS]
    syllables = (c + v for c, v in itertools.product(CONSONANTS, VOWELS))
    pairs = (a + b for a, b in itertools.product(list(syllables), repeat=2))
    pieces += [f" {p}".encode() for p in itertools.islice(pairs, max(0, vocab_size - len(pieces)))]
    return pieces[:vocab_size]


def llama2c_files(
    config: LlamaConfig,
    seed: int,
    *,
    version: int = 0,
    group_size: int = 32,
    words: bool = False,
) -> tuple[bytes, bytes]:
    """(model.bin, tokenizer.bin): random weights from ``seed`` as llama2.c file ``version``
    (v2: int8 in groups of ``group_size``).

    The tokenizer is :func:`metalchat.testing.tokenizer_bin` (specials, byte tokens, ``t<i>``
    fillers: any prompt encodes), or with ``words`` :func:`word_pieces`, the byte tokens'
    embedding rows scaled down by :data:`BYTE_TOKEN_SCALE` so that answers are words.
    """
    config.validate()
    model = llama_model(config, seed)
    if words:
        model.weights["token_embedding"][[0, *range(3, 259)]] *= BYTE_TOKEN_SCALE
        pieces = word_pieces(config.vocab_size)
        tokenizer = llama2c.serialize_tokenizer(pieces, [-float(i) for i in range(len(pieces))])
    else:
        tokenizer = tokenizer_bin(config.vocab_size)
    return llama2c.serialize_model(model, version, group_size=group_size), tokenizer
