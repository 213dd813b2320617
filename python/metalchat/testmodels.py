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


# ---------------------------------------------------------------------------------------
# Hugging Face folders and chat templates (export hf / export gguf inputs made in tests)

# Jinja chat templates in the four turn styles people run (written for these tests: each
# renders its family's published turn format, with tokenizer_config's bos_token/eos_token).
CHAT_TEMPLATES = {
    "chatml": (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + "
        "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}"
        "{{ '<|im_start|>assistant\\n' }}{% endif %}"
    ),
    "llama3": (
        "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + "
        "'<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
        "{% endif %}"
    ),
    "gemma": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
        "{% set head = messages[0]['content'] + '\\n\\n' %}{% set chat = messages[1:] %}"
        "{% else %}{% set head = '' %}{% set chat = messages %}{% endif %}"
        "{% for m in chat %}{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
        "{{ '<start_of_turn>' + role + '\\n' + (head if loop.first else '') + "
        "m['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
    ),
    "mistral": (
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}"
        "{{ '[INST] ' + m['content'] + ' [/INST]' }}{% elif m['role'] == 'assistant' %}"
        "{{ m['content'] + eos_token }}{% else %}"
        "{{ raise_exception('only user and assistant messages') }}{% endif %}{% endfor %}"
    ),
}
# The special tokens each family's template uses (added after <unk>, <s>, </s>).
CHAT_SPECIALS = {
    "chatml": ["<|im_start|>", "<|im_end|>"],
    "llama3": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    "gemma": ["<start_of_turn>", "<end_of_turn>"],
    "mistral": [],
}


# A small Llama config.json for the export tests: rope_theta 500000 (Llama 3's, which the
# llama2.c route loses), GQA 4/2, an FFN width of 96 (not a multiple of 64: ragged groups).
HF_LLAMA_CONFIG: dict[str, object] = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
    "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "vocab_size": 320, "max_position_embeddings": 64,
    "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": False,
    "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
}  # fmt: skip


def sentencepiece_tokenizer_json(
    pieces: list[str], specials: int, merges: list[object]
) -> dict[str, object]:
    """A SentencePiece-style BPE tokenizer.json (byte fallback, "▁" for a space) of ``pieces``
    (ids in order), the first ``specials`` of them special tokens."""
    added = [{"id": i, "content": p, "special": True} for i, p in enumerate(pieces[:specials])]
    return {
        "added_tokens": added,
        "normalizer": {
            "type": "Sequence",
            "normalizers": [{"type": "Prepend", "prepend": "\u2581"}],
        },
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {
            "type": "BPE",
            "byte_fallback": True,
            "vocab": {p: i for i, p in enumerate(pieces)},
            "merges": merges,
        },
    }


def hf_tokenizer_json(vocab_size: int, specials: list[str]) -> dict[str, object]:
    """A :func:`sentencepiece_tokenizer_json` of ``vocab_size`` tokens: <unk>, <s>, </s>,
    ``specials``, the 256 byte-fallback tokens, "▁" and filler pieces (no merges)."""
    pieces = ["<unk>", "<s>", "</s>", *specials] + [f"<0x{b:02X}>" for b in range(256)]
    pieces.append("\u2581")
    fillers = (a + b for a, b in itertools.product("abcdefghijklmnopqrstuvwxyz", repeat=2))
    pieces += list(itertools.islice(fillers, max(0, vocab_size - len(pieces))))
    if len(pieces) != vocab_size:
        raise MetalchatError(f"a tokenizer needs at least {len(pieces)} tokens")
    return sentencepiece_tokenizer_json(pieces, 3 + len(specials), [])


def byte_level_tokenizer_json(vocab_size: int, specials: list[str]) -> dict[str, object]:
    """A SmolLM-style byte-level BPE tokenizer.json of ``vocab_size`` tokens: ``specials``
    first (as SmolLM2's <|endoftext|>, <|im_start|>, <|im_end|>), the 256 bytes in GPT-2's
    byte characters, then merges learned greedily (most frequent adjacent pair, ties by the
    pair itself) on :data:`WORDS` with a leading space; Digits (one a chunk) then ByteLevel."""
    from metalchat.formats.tokenizer_json import gpt2_byte_chars

    by_byte = {b: c for c, b in gpt2_byte_chars().items()}
    pieces = [*specials] + [by_byte[b] for b in range(256)]
    words = [[by_byte[b] for b in f" {w}".encode()] for w in WORDS]
    merges: list[str] = []
    while len(pieces) < vocab_size:
        counts: dict[tuple[str, str], int] = {}
        for word in words:
            for pair in itertools.pairwise(word):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            raise MetalchatError(f"the word list makes only {len(pieces)} tokens")
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append(f"{best[0]} {best[1]}")
        pieces.append(best[0] + best[1])
        for k, word in enumerate(words):
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            words[k] = out
    added = [{"id": i, "content": t, "special": True} for i, t in enumerate(specials)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}
    byte_level["use_regex"] = True
    return {
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level],
        },
        "decoder": dict(byte_level),
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": False, "vocab": {p: i for i, p in enumerate(pieces)}, "merges": merges,
        },
    }  # fmt: skip


def hf_weights(hf: dict[str, object], seed: int) -> dict[str, np.ndarray]:
    """Random float32 weights under transformers' Llama names for config.json ``hf``."""
    rng = np.random.default_rng(seed)
    dim, hidden, layers = (
        int(hf["hidden_size"]),
        int(hf["intermediate_size"]),
        int(hf["num_hidden_layers"]),
    )
    heads = int(hf["num_attention_heads"])
    kv = dim // heads * int(hf.get("num_key_value_heads") or heads)
    vocab = int(hf["vocab_size"])
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (vocab, dim)}
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes |= {
            p + "input_layernorm.weight": (dim,),
            p + "self_attn.q_proj.weight": (dim, dim),
            p + "self_attn.k_proj.weight": (kv, dim),
            p + "self_attn.v_proj.weight": (kv, dim),
            p + "self_attn.o_proj.weight": (dim, dim),
            p + "post_attention_layernorm.weight": (dim,),
            p + "mlp.gate_proj.weight": (hidden, dim),
            p + "mlp.up_proj.weight": (hidden, dim),
            p + "mlp.down_proj.weight": (dim, hidden),
        }
    shapes["model.norm.weight"] = (dim,)
    if not hf.get("tie_word_embeddings"):
        shapes["lm_head.weight"] = (vocab, dim)
    # matrices: rows of norm about 2, so activations stay O(1) and logits far from ties
    return {
        n: (
            1.0 + 0.1 * rng.standard_normal(s)
            if len(s) == 1
            else 2.0 * rng.standard_normal(s) / np.sqrt(s[-1])
        ).astype(np.float32)
        for n, s in shapes.items()
    }


def safetensors_bytes(tensors: dict[str, np.ndarray], dtype: str = "F32") -> bytes:
    """A safetensors file of float32 ``tensors`` stored as F32, F16 or BF16 (rounded to
    nearest even)."""
    import json

    header: dict[str, object] = {}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        w = np.ascontiguousarray(value, dtype=np.float32)
        if dtype == "F16":
            raw = w.astype("<f2").tobytes()
        elif dtype == "BF16":
            bits = w.view(np.uint32).astype(np.uint64)
            raw = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2").tobytes()
        else:
            raw = w.astype("<f4").tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(w.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)


def write_hf_folder(
    folder: object,
    hf: dict[str, object],
    weights: dict[str, np.ndarray],
    *,
    dtype: str = "F32",
    shards: int = 1,
    family: str | None = None,
    generation_eos: list[int] | None = None,
    byte_level: bool = False,
) -> None:
    """A Hugging Face model folder: config.json, safetensors (one file or ``shards`` with an
    index), tokenizer.json (:func:`hf_tokenizer_json`, or with ``byte_level``
    :func:`byte_level_tokenizer_json`), and with ``family`` a
    tokenizer_config.json holding that chat template, and generation_config.json."""
    import json
    from pathlib import Path

    path = Path(str(folder))
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(hf))
    names = list(weights)
    if shards == 1:
        (path / "model.safetensors").write_bytes(safetensors_bytes(weights, dtype))
    else:
        weight_map = {}
        for k in range(shards):
            part = names[k::shards]
            file = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
            (path / file).write_bytes(safetensors_bytes({n: weights[n] for n in part}, dtype))
            weight_map |= dict.fromkeys(part, file)
        (path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    specials = CHAT_SPECIALS[family] if family else []
    if byte_level:  # SmolLM2's layout: <|endoftext|> (BOS and EOS), then the chat tokens
        tokenizer = byte_level_tokenizer_json(int(hf["vocab_size"]), ["<|endoftext|>", *specials])
    else:
        tokenizer = hf_tokenizer_json(int(hf["vocab_size"]), specials)
    (path / "tokenizer.json").write_text(json.dumps(tokenizer))
    if family:
        eos = {"chatml": "<|im_end|>", "llama3": "<|eot_id|>", "gemma": "<end_of_turn>"}.get(
            family, "</s>"
        )
        bos = "<|endoftext|>" if byte_level else "<s>"
        config = {"bos_token": bos, "eos_token": eos, "chat_template": CHAT_TEMPLATES[family]}
        (path / "tokenizer_config.json").write_text(json.dumps(config))
    if generation_eos is not None:
        generation = {"bos_token_id": 0 if byte_level else 1, "eos_token_id": generation_eos}
        (path / "generation_config.json").write_text(json.dumps(generation))


def write_llama_gguf(
    path: object,
    types: dict[str, str],
    *,
    dim: int = 64,
    hidden: int = 256,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    vocab: int = 300,
    rope_theta: float = 500000.0,
    family: str | None = "chatml",
    seed: int = 0,
    byte_level: bool = False,
) -> None:
    """A llama GGUF file written by the ``gguf`` package: random tensors, each llama2.c tensor
    kind (``types``: e.g. {"wq": "Q4_0", "w2": "Q6_K"}; default F32 for norms, Q8_0 for
    matrices) in that GGML type, a SentencePiece vocabulary with ``family``'s chat tokens
    (control tokens) and its chat template. F32/F16/BF16/Q8_0/Q4_0 come from
    ``gguf.quants.quantize`` of random rows of norm about 1; Q4_K/Q6_K (which it cannot
    quantize) are random blocks whose float16 scale keeps values in the same range."""
    import gguf

    kinds = gguf.GGMLQuantizationType
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(64)
    writer.add_embedding_length(dim)
    writer.add_feed_forward_length(hidden)
    writer.add_block_count(layers)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(rope_theta)
    specials = CHAT_SPECIALS[family] if family else []
    if byte_level:  # SmolLM2's: <|endoftext|> (BOS, EOS), chat tokens, bytes, merges
        data = byte_level_tokenizer_json(vocab, ["<|endoftext|>", *specials])
        model = data["model"]
        assert isinstance(model, dict)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("smollm")
        writer.add_token_list(list(model["vocab"]))
        writer.add_token_merges(list(model["merges"]))
        writer.add_token_types([3] * (1 + len(specials)) + [1] * (vocab - 1 - len(specials)))
        writer.add_bos_token_id(0)
        writer.add_eos_token_id(2 if family == "chatml" else 0)
    else:
        writer.add_tokenizer_model("llama")
        head = ["<unk>", "<s>", "</s>", *specials]
        pieces = head + [f"<0x{b:02X}>" for b in range(256)]
        pieces += [f"\u2581{chr(97 + i % 26) * (1 + i // 26)}" for i in range(vocab - len(pieces))]
        writer.add_token_list(pieces)
        writer.add_token_scores([-float(i) for i in range(vocab)])
        writer.add_token_types(
            [2] + [3] * (len(head) - 1) + [6] * 256 + [1] * (vocab - len(head) - 256)
        )
        writer.add_bos_token_id(1)
        writer.add_eos_token_id(4 if family in ("chatml", "gemma") else 2)
    if family:
        writer.add_chat_template(CHAT_TEMPLATES[family])
    kv = dim // heads * kv_heads
    shapes = {"token_embd": (vocab, dim), "output_norm": (dim,), "output": (vocab, dim)}
    per_layer = {
        "attn_norm": (dim,), "ffn_norm": (dim,), "attn_q": (dim, dim), "attn_k": (kv, dim),
        "attn_v": (kv, dim), "attn_output": (dim, dim), "ffn_gate": (hidden, dim),
        "ffn_up": (hidden, dim), "ffn_down": (dim, hidden),
    }  # fmt: skip
    ours = {"token_embd": "token_embedding", "output": "wcls", "output_norm": "rms_final"}
    ours |= {"attn_norm": "rms_att", "ffn_norm": "rms_ffn", "attn_q": "wq", "attn_k": "wk"}
    ours |= {"attn_v": "wv", "attn_output": "wo", "ffn_gate": "w1", "ffn_up": "w3"}
    ours |= {"ffn_down": "w2"}
    names = dict(shapes)
    for layer in range(layers):
        names |= {f"blk.{layer}.{k}": s for k, s in per_layer.items()}
    for name, shape in names.items():
        kind = ours[name.split(".")[-1]]
        default = "F32" if len(shape) == 1 else "Q8_0"
        qtype = kinds[types.get(kind, default)]
        # rows of unit norm or so, as trained weights: activations stay O(1) through layers
        x = (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)
        if len(shape) == 1:
            x = 1.0 + 0.3 * x
        if qtype == kinds.F32:
            writer.add_tensor(f"{name}.weight", x)
        elif qtype == kinds.F16:
            writer.add_tensor(f"{name}.weight", x.astype(np.float16))
        elif qtype in (kinds.Q4_K, kinds.Q6_K):
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            raw = rng.integers(0, 256, (shape[0], shape[1] // block, size), dtype=np.uint8)
            # super-block scales that keep values about 1/sqrt(row) (6-bit sub-scales up to
            # 63 times 4-bit codes for Q4_K; int8 sub-scales times 6-bit codes for Q6_K)
            d = 2.0 / np.sqrt(shape[1]) / (63 * 15 if qtype == kinds.Q4_K else 127 * 32)
            scale = np.array([d], dtype="<f2").view(np.uint8)
            if qtype == kinds.Q4_K:  # d and dmin lead the block
                raw[..., 0:2] = scale
                raw[..., 2:4] = scale
            else:  # d ends it
                raw[..., size - 2 :] = scale
            writer.add_tensor(f"{name}.weight", raw.reshape(shape[0], -1), raw_dtype=qtype)
        else:
            writer.add_tensor(f"{name}.weight", gguf.quants.quantize(x, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
