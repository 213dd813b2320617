"""Every Python reader fuzzed with hypothesis: malformed input raises MetalchatError, nothing else.

Each test starts from a valid file (made here from a seed) and feeds the reader variants of
it: bytes overwritten (often with extreme 32-bit values near the header), inserted, deleted,
the file cut short; JSON files also get values of every JSON type put anywhere in their
structure. A reader may accept a variant or refuse it with :class:`MetalchatError`; any other
exception (TypeError, MemoryError, RecursionError, a numpy error, ...) fails the test with
the smallest input that shows it. Bounded and deterministic: ``EXAMPLES`` examples per test,
derandomized (the same inputs on every run), no example database; the two environment
variables below make longer or fresh runs.
``bazel test //python:fuzz_<reader>_test`` runs one reader (``METALCHAT_FUZZ_READER``);
docs/PYTHON.md lists them.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save

from metalchat import export, manifest, testmodels, uf2
from metalchat.config import LlamaConfig
from metalchat.elf import build_elf32
from metalchat.errors import MetalchatError
from metalchat.formats import (
    chat_template,
    container,
    gguf_llama,
    hf_llama,
    llama2c,
    nanochat_ckpt,
    tokenizer_json,
)
from metalchat.testing import tiktoken_pickle, tokenizer_bin, write_pt

# METALCHAT_FUZZ_EXAMPLES=20000 for a longer run; METALCHAT_FUZZ_RANDOM=1 for new inputs
EXAMPLES = int(os.environ.get("METALCHAT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("METALCHAT_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONFIG = LlamaConfig(16, 32, 2, 4, 2, 40, 8)
# 32-bit values that break size arithmetic: zero, negative, the int32/uint32 edges
EXTREMES = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 0xFFFF)


def _only_metalchat_errors(read: Callable[..., Any], *args: Any) -> None:
    try:
        read(*args)
    except MetalchatError as exc:
        assert "\n" not in str(exc), "an error message must be one line"


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with up to 8 edits, then maybe cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 8))):
        end = max(len(data) - 1, 0)
        pos = draw(st.one_of(st.integers(0, min(end, 300)), st.integers(0, end)))
        kind = draw(st.sampled_from(("byte", "int32", "insert", "delete")))
        if kind == "byte" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "int32" and len(data) >= 4:
            pos = min(pos & ~3, len(data) - 4)
            data[pos : pos + 4] = struct.pack("<I", draw(st.sampled_from(EXTREMES)))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(max_size=16))
        else:
            del data[pos : pos + draw(st.integers(1, 64))]
    if data and draw(st.integers(0, 3)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_variant(draw: st.DrawFn, seed: dict[str, Any]) -> dict[str, Any]:
    """``seed`` (deep-copied) with up to 4 values anywhere in it replaced by any JSON."""
    value = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(1, 4))):
        node: Any = value
        while True:  # walk down to a random place, replace what is there
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if not isinstance(child, dict | list) or not child or draw(st.booleans()):
                node[key] = draw(JSON)
                break
            node = child
    return value


def _encode_json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _tmp_file(name: str, data: bytes) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / name
    path.write_bytes(data)
    return folder, path


def _read_file(name: str, data: bytes, *readers: Callable[[Path], Any]) -> None:
    """``data`` as a file called ``name``, given to each reader."""
    folder, path = _tmp_file(name, data)
    with folder:
        for read in readers:
            _only_metalchat_errors(read, path)


# ---------------------------------------------------------------------------------------
# llama2.c model.bin and tokenizer.bin

LLAMA2C_SEEDS = [
    llama2c.serialize_model(llama2c.random_model(CONFIG, seed=1), version, group_size=16)
    for version in (0, 1, 2)
]


@FUZZ
@given(st.sampled_from(LLAMA2C_SEEDS).flatmap(mutated))
def test_llama2c_model(data: bytes) -> None:
    _only_metalchat_errors(llama2c.read_model, data)
    _read_file("model.bin", data, llama2c.read_config)


@FUZZ
@given(mutated(tokenizer_bin(CONFIG.vocab_size)))
def test_llama2c_tokenizer(data: bytes) -> None:
    _only_metalchat_errors(llama2c.read_tokenizer, data, CONFIG.vocab_size)
    _only_metalchat_errors(llama2c.read_tokenizer, data)


# ---------------------------------------------------------------------------------------
# Hugging Face: safetensors + config.json, tokenizer.json

HF_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": CONFIG.dim,
    "intermediate_size": CONFIG.hidden_dim,
    "num_hidden_layers": CONFIG.n_layers,
    "num_attention_heads": CONFIG.n_heads,
    "num_key_value_heads": CONFIG.n_kv_heads,
    "vocab_size": CONFIG.vocab_size,
    "max_position_embeddings": CONFIG.seq_len,
    "rms_norm_eps": 1e-5,
    "rope_scaling": None,
    "tie_word_embeddings": True,
}


def _safetensors_seed() -> bytes:
    model = llama2c.random_model(CONFIG, seed=2)
    names = hf_llama._GLOBAL_TENSORS  # llama2c -> HF
    tensors = {names[n]: model.weights[n] for n in ("token_embedding", "rms_final")}
    for name, suffix in hf_llama._LAYER_TENSORS.items():
        for layer in range(CONFIG.n_layers):
            tensors[f"model.layers.{layer}.{suffix}"] = np.ascontiguousarray(
                model.weights[name][layer]
            )
    return save(tensors)


def _read_hf(config: bytes, weights: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_bytes(config)
        (Path(tmp) / "model.safetensors").write_bytes(weights)
        _only_metalchat_errors(hf_llama.read_model, Path(tmp))


SAFETENSORS_SEED = _safetensors_seed()


def test_hf_seed_reads() -> None:
    """The seeds are valid files (else the fuzzing would prove little)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_bytes(_encode_json(HF_CONFIG))
        (Path(tmp) / "model.safetensors").write_bytes(SAFETENSORS_SEED)
        assert hf_llama.read_model(Path(tmp)).config == CONFIG


@FUZZ
@given(mutated(SAFETENSORS_SEED))
def test_safetensors(weights: bytes) -> None:
    _read_hf(_encode_json(HF_CONFIG), weights)


@FUZZ
@given(st.one_of(json_variant(HF_CONFIG).map(_encode_json), mutated(_encode_json(HF_CONFIG))))
def test_hf_config(config: bytes) -> None:
    _read_hf(config, SAFETENSORS_SEED)


TOKENIZER_JSON = {
    "added_tokens": [{"id": 0, "content": "<unk>"}, {"id": 1, "content": "<s>"}],
    "pre_tokenizer": None,
    "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}]},
    "model": {
        "type": "BPE",
        "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3, "b": 4, "ab": 5, "\u2581": 6},
        "merges": ["a b"],
    },
}

BYTE_LEVEL_JSON = {
    "added_tokens": [{"id": 5, "content": "<|endoftext|>"}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
    "decoder": {"type": "ByteLevel"},
    "model": {
        "type": "BPE",
        "ignore_merges": False,
        "vocab": {"a": 0, "b": 1, "\u0120": 2, "ab": 3, "\u0120ab": 4, "<|endoftext|>": 5},
        "merges": ["a b", "\u0120 ab"],
    },
}


@FUZZ
@given(
    st.one_of(
        json_variant(TOKENIZER_JSON).map(_encode_json),
        mutated(_encode_json(TOKENIZER_JSON)),
        json_variant(BYTE_LEVEL_JSON).map(_encode_json),
        mutated(_encode_json(BYTE_LEVEL_JSON)),
    )
)
def test_tokenizer_json(data: bytes) -> None:
    _read_file("tokenizer.json", data, tokenizer_json.read_tokenizer)
    _read_file("tokenizer.json", data, tokenizer_json.read_bpe)  # as the kind-3 payload


# ---------------------------------------------------------------------------------------
# GGUF


def _gguf_seed() -> bytes:
    model = llama2c.random_model(CONFIG, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_context_length(CONFIG.seq_len)
        writer.add_embedding_length(CONFIG.dim)
        writer.add_block_count(CONFIG.n_layers)
        writer.add_feed_forward_length(CONFIG.hidden_dim)
        writer.add_head_count(CONFIG.n_heads)
        writer.add_head_count_kv(CONFIG.n_kv_heads)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_tokenizer_model("llama")
        writer.add_token_list([f"t{i}" for i in range(CONFIG.vocab_size)])
        writer.add_token_scores([-float(i) for i in range(CONFIG.vocab_size)])
        names = gguf_llama._GLOBAL_TENSORS  # llama2c -> GGUF
        for name in ("token_embedding", "rms_final"):
            writer.add_tensor(f"{names[name]}.weight", model.weights[name])
        for name, gguf_name in gguf_llama._LAYER_TENSORS.items():
            for layer in range(CONFIG.n_layers):
                weight = np.ascontiguousarray(model.weights[name][layer])
                writer.add_tensor(f"blk.{layer}.{gguf_name}.weight", weight)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path.read_bytes()


GGUF_SEED = _gguf_seed()


def test_seeds_are_valid() -> None:
    folder, path = _tmp_file("m.gguf", GGUF_SEED)
    with folder:
        assert gguf_llama.read_model(path).config.dim == CONFIG.dim
        assert gguf_llama.read_tokenizer(path).vocab_size == CONFIG.vocab_size
        path.write_bytes(_pt_seed())
        assert nanochat_ckpt.read_torch_state_dict(path)["i"].tolist() == [0, 1, 2]
        path.write_bytes(tiktoken_pickle(TIKTOKEN_STATE))
        assert nanochat_ckpt.read_tokenizer(path).vocab_size == 258
        path.write_bytes(_encode_json(TOKENIZER_JSON))
        assert tokenizer_json.read_tokenizer(path).vocab_size == 7
        path.write_bytes(MANIFEST_SEED)
        assert manifest.load_manifest(path).name
    assert uf2.check_uf2(UF2_SEED).blocks == 3
    for seed in LLAMA2C_SEEDS:
        assert llama2c.read_model(seed).config == CONFIG


@FUZZ
@given(mutated(GGUF_SEED))
def test_gguf(data: bytes) -> None:
    _read_file(
        "m.gguf",
        data,
        gguf_llama.read_model,
        gguf_llama.read_tokenizer,
        lambda path: export.gguf_container(path, progress=False),
    )


CHATML = testmodels.CHAT_TEMPLATES["chatml"]


@FUZZ
@given(st.one_of(mutated(CHATML.encode()), st.text(max_size=64)))
def test_chat_template(template: bytes | str) -> None:
    """A chat template is code from the model's files: any text renders or fails in one line."""
    text = template.decode("utf-8", "replace") if isinstance(template, bytes) else template
    specials = {"<|im_start|>": 3, "<|im_end|>": 4}
    _only_metalchat_errors(
        lambda: chat_template.render_turns(
            text, bos="<s>", eos="<|im_end|>", specials=specials, eos_ids=[2]
        )
    )


# ---------------------------------------------------------------------------------------
# nanochat: the torch zip and the tokenizer pickle


def _pt_seed() -> bytes:
    rng = np.random.default_rng(4)
    tensors = {
        "w": rng.standard_normal((4, 6)).astype(np.float32),
        "t": rng.standard_normal((6, 4)).astype(np.float32).T,
        "i": np.arange(3, dtype=np.int64),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model_000001.pt"
        write_pt(path, tensors, bf16=("w",))
        return path.read_bytes()


@FUZZ
@given(mutated(_pt_seed()))
def test_nanochat_zip(data: bytes) -> None:
    _read_file("model_000001.pt", data, nanochat_ckpt.read_torch_state_dict)


TIKTOKEN_STATE = {
    "name": "fuzz",
    "pat_str": r"\s+|\S+",
    "mergeable_ranks": {**{bytes([i]): i for i in range(256)}, b"ab": 256},
    "special_tokens": {"<|bos|>": 257},
}


@FUZZ
@given(mutated(tiktoken_pickle(TIKTOKEN_STATE)))
def test_nanochat_pickle(data: bytes) -> None:
    _read_file("tokenizer.pkl", data, nanochat_ckpt.read_tokenizer)


# ---------------------------------------------------------------------------------------
# manifest textproto, container, UF2

MANIFEST_SEED = (Path(manifest.__file__).parent / "testdata" / "stories260K.textproto").read_bytes()


@FUZZ
@given(mutated(MANIFEST_SEED))
def test_manifest(data: bytes) -> None:
    _read_file("m.textproto", data, manifest.load_manifest)


@FUZZ
@given(
    st.sampled_from(
        [
            testmodels.spec_model("llama_odd_mqa", "q8", 3),
            testmodels.spec_model("nanochat_mqa_full", "f16"),
        ]
    ).flatmap(mutated)
)
def test_container(data: bytes) -> None:
    _only_metalchat_errors(container.parse, data)


UF2_SEED = uf2.convert(build_elf32([(0x10000000, bytes(range(256)) * 3)], entry=0x10000001))


@FUZZ
@given(mutated(UF2_SEED))
def test_uf2(data: bytes) -> None:
    _only_metalchat_errors(uf2.check_uf2, data)

    def unpack() -> None:
        uf2.to_binary(uf2.parse_uf2(data))

    _only_metalchat_errors(unpack)


if __name__ == "__main__":
    reader = os.environ.get("METALCHAT_FUZZ_READER")  # one reader per Bazel target
    only = ["-k", f"test_{reader} or test_seeds_are_valid"] if reader else []
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider", *only]))
