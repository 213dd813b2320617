"""Hugging Face Llama import: safetensors (single, sharded, bf16), the RoPE permutation
(checked against an independent numpy HF forward), tokenizers, and clear errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from metalchat import testmodels
from metalchat.errors import MetalchatError
from metalchat.formats import hf_llama, llama2c, tokenizer_json
from metalchat.reference import llama as ref
from metalchat.testing import shared_testdata_file

HF_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 40,
    "max_position_embeddings": 16,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500.0,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
}


def _hf_weights(config: dict, seed: int = 0) -> dict[str, np.ndarray]:
    return testmodels.hf_weights(config, seed)


def _write_dir(folder: Path, weights: dict[str, np.ndarray], config: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or HF_CONFIG))
    save_file(weights, str(folder / "model.safetensors"))
    return folder


def _write_bf16_safetensors(path: Path, weights: dict[str, np.ndarray]) -> None:
    """safetensors by hand (numpy has no bfloat16): truncated float32 bits as BF16."""
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in weights.items():
        raw = (array.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
        header[name] = {
            "dtype": "BF16",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def _hf_forward(config: dict, w: dict[str, np.ndarray], tokens: list[int]) -> np.ndarray:
    """Hugging Face's Llama in float64: split-halves RoPE (rotate_half), repeat_kv GQA."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    dim, heads = config["hidden_size"], config["num_attention_heads"]
    kv_heads, hs, eps = config["num_key_value_heads"], dim // heads, config["rms_norm_eps"]
    T = len(tokens)
    theta = config.get("rope_theta") or config["rope_parameters"]["rope_theta"]
    inv = 1.0 / theta ** (np.arange(0, hs, 2) / hs)
    angles = np.concatenate([np.outer(np.arange(T), inv)] * 2, axis=1)  # (T, hs)
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]

    def rotate_half(x: np.ndarray) -> np.ndarray:
        return np.concatenate([-x[..., hs // 2 :], x[..., : hs // 2]], axis=-1)

    def rms(x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)

    x = w["model.embed_tokens.weight"][tokens]
    causal = np.tril(np.ones((T, T), dtype=bool))
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(T, heads, hs)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(T, kv_heads, hs)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(T, kv_heads, hs)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = np.repeat(k, heads // kv_heads, axis=1), np.repeat(v, heads // kv_heads, axis=1)
        scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(hs)
        scores = np.where(causal, scores, -np.inf)
        attn = np.exp(scores - scores.max(-1, keepdims=True))
        attn /= attn.sum(-1, keepdims=True)
        out = np.einsum("hts,shd->thd", attn, v).reshape(T, dim)
        x = x + out @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, w["model.norm.weight"])
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


def _reference_logits(model: llama2c.Llama2cModel, tokens: list[int]) -> np.ndarray:
    engine = ref.LlamaReference(model)
    return np.stack([engine.forward(t, pos) for pos, t in enumerate(tokens)])


TOKENS = [1, 5, 9, 33, 2, 17, 17, 8, 39, 0, 21]


def test_import_matches_hf_math(tmp_path: Path) -> None:
    weights = _hf_weights(HF_CONFIG)
    model = hf_llama.read_model(_write_dir(tmp_path, weights))
    assert model.config.dim == 32 and model.config.n_kv_heads == 2
    assert not model.config.shared_classifier and model.config.rope_theta == 500.0
    assert model.config.seq_len == 16 and model.config.norm_eps == 1e-5
    np.testing.assert_array_equal(
        model.weights["w2"][1], weights["model.layers.1.mlp.down_proj.weight"]
    )
    expected = _hf_forward(HF_CONFIG, weights, TOKENS)
    np.testing.assert_allclose(_reference_logits(model, TOKENS), expected, atol=2e-4)
    # without the permutation the rotation pairs the wrong channels and the logits differ
    model.weights["wq"][0] = weights["model.layers.0.self_attn.q_proj.weight"]
    model.weights["wk"][0] = weights["model.layers.0.self_attn.k_proj.weight"]
    assert np.abs(_reference_logits(model, TOKENS) - expected).max() > 1e-2


def test_permutation_rows() -> None:
    w = np.arange(8, dtype=np.float32)[:, None]  # 2 heads of size 4: rows h*4 + half*2 + i
    assert hf_llama.hf_to_interleaved(w, 2)[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_sharded_bf16_tied_and_v5_rope(tmp_path: Path) -> None:
    config = dict(HF_CONFIG, tie_word_embeddings=True)
    del config["rope_theta"]
    config["rope_parameters"] = {"rope_type": "default", "rope_theta": 500.0}
    weights = _hf_weights(config, seed=1)
    names = sorted(weights)
    first, second = names[: len(names) // 2], names[len(names) // 2 :]
    _write_bf16_safetensors(
        tmp_path / "model-00001-of-00002.safetensors", {n: weights[n] for n in first}
    )
    save_file(
        {n: weights[n].astype(np.float16) for n in second},
        str(tmp_path / "model-00002-of-00002.safetensors"),
    )
    weight_map = {n: "model-00001-of-00002.safetensors" for n in first}
    weight_map |= {n: "model-00002-of-00002.safetensors" for n in second}
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map})
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    model = hf_llama.read_model(tmp_path)
    assert model.config.shared_classifier and model.config.rope_theta == 500.0
    rounded = {
        n: ((v.view(np.uint32) >> 16) << 16).view(np.float32)
        if n in first
        else v.astype(np.float16).astype(np.float32)
        for n, v in weights.items()
    }
    np.testing.assert_array_equal(
        model.weights["token_embedding"], rounded["model.embed_tokens.weight"]
    )
    np.testing.assert_allclose(
        _reference_logits(model, TOKENS), _hf_forward(config, rounded, TOKENS), atol=2e-4
    )


def test_errors(tmp_path: Path) -> None:
    weights = _hf_weights(HF_CONFIG)
    folder = _write_dir(tmp_path / "ok", weights)
    data = (folder / "model.safetensors").read_bytes()

    (folder / "model.safetensors").write_bytes(data[:-100])
    with pytest.raises(
        MetalchatError, match=r"model\.safetensors: truncated: tensor '.*' needs data bytes"
    ):
        hf_llama.read_model(folder)
    (folder / "model.safetensors").write_bytes(data[:8] + b"{" * (len(data) - 8))
    with pytest.raises(MetalchatError, match="corrupt safetensors header"):
        hf_llama.read_model(folder)
    (folder / "model.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(MetalchatError, match="truncated: 2 bytes"):
        hf_llama.read_model(folder)

    missing = dict(weights)
    del missing["model.layers.1.mlp.up_proj.weight"]
    with pytest.raises(
        MetalchatError, match=r"tensor 'model\.layers\.1\.mlp\.up_proj\.weight' is missing"
    ):
        hf_llama.read_model(_write_dir(tmp_path / "missing", missing))

    wrong = dict(HF_CONFIG, intermediate_size=40)
    with pytest.raises(
        MetalchatError,
        match=r"gate_proj\.weight' has shape \[48, 32\], config\.json implies \[40, 32\]",
    ):
        hf_llama.read_model(_write_dir(tmp_path / "shape", weights, wrong))

    qwen = dict(HF_CONFIG, architectures=["Qwen2ForCausalLM"])
    with pytest.raises(
        MetalchatError,
        match=r"config\.json: architectures \['Qwen2ForCausalLM'\] is not supported: export "
        r"hf reads LlamaForCausalLM, MistralForCausalLM$",
    ):
        hf_llama.read_model(_write_dir(tmp_path / "qwen", weights, qwen))
    mistral = dict(HF_CONFIG, architectures=["MistralForCausalLM"], sliding_window=8)
    with pytest.raises(MetalchatError, match=r"MistralForCausalLM with sliding_window 8"):
        hf_llama.read_model(_write_dir(tmp_path / "mistral", weights, mistral))

    scaled = dict(HF_CONFIG, rope_scaling={"rope_type": "llama3", "factor": 8.0})
    with pytest.raises(MetalchatError, match=r"RoPE scaling \{.*llama3.*\} is not supported"):
        hf_llama.read_model(_write_dir(tmp_path / "scaled", weights, scaled))

    extra = dict(weights, **{"model.layers.2.mlp.up_proj.weight": weights["model.norm.weight"]})
    with pytest.raises(
        MetalchatError, match=r"unexpected tensors for a 2-layer Llama: model\.layers\.2"
    ):
        hf_llama.read_model(_write_dir(tmp_path / "extra", extra))

    ints = dict(weights, **{"model.embed_tokens.weight": np.zeros((40, 32), np.int8)})
    with pytest.raises(MetalchatError, match="has dtype I8; only F32, F16 and BF16"):
        hf_llama.read_model(_write_dir(tmp_path / "ints", ints))

    (tmp_path / "no_weights").mkdir()
    (tmp_path / "no_weights" / "config.json").write_text(json.dumps(HF_CONFIG))
    with pytest.raises(MetalchatError, match=r"no model\.safetensors or model\.safetensors\.index"):
        hf_llama.read_model(tmp_path / "no_weights")


def _one_line(call: object, *args: object) -> str:
    """The message of the MetalchatError ``call(*args)`` raises (one line)."""
    with pytest.raises(MetalchatError) as info:
        call(*args)  # type: ignore[operator]
    assert "\n" not in str(info.value)
    return str(info.value)


def test_crafted_configs_and_headers(tmp_path: Path) -> None:
    """Each probe of the hardening review: one line naming the field, nothing allocated."""
    weights = _hf_weights(HF_CONFIG)
    config = tmp_path / "c" / "config.json"
    cases = {
        "rope_scaling": ("linear", "rope_scaling is 'linear', expected an object"),
        "rms_norm_eps": ("inf", "rms_norm_eps is 'inf', expected a finite number"),
        "hidden_size": (8.7, "hidden_size is 8.7, expected an integer"),
        "num_hidden_layers": (True, "num_hidden_layers is True, expected an integer"),
        "tie_word_embeddings": (1, "tie_word_embeddings is 1, expected true or false"),
        "architectures": (5, "architectures 5 is not supported"),
    }
    for key, (value, line) in cases.items():
        folder = _write_dir(tmp_path / "c", weights, dict(HF_CONFIG, **{key: value}))
        assert _one_line(hf_llama.read_model, folder).startswith(f"{config}: {line}")
    # hidden 65536 x 100 000 layers over a few KB of weights: refused before any allocation
    huge = dict(HF_CONFIG, hidden_size=65536, num_attention_heads=64, num_key_value_heads=64,
                intermediate_size=65536, num_hidden_layers=100_000)  # fmt: skip
    folder = _write_dir(tmp_path / "huge", weights, huge)
    line = _one_line(hf_llama.read_model, folder)
    assert line.startswith(
        f"{folder}: truncated or corrupt: the shapes (100000 layers, dim 65536, hidden 65536, "
        "vocab 40) need at least "
    )
    data_size = hf_llama.SafetensorsFile(folder / "model.safetensors").data_size
    assert line.endswith(f" bytes of weights, the safetensors data holds {data_size:,}")

    # safetensors data_offsets as floats or strings, shard index of the wrong types
    st = tmp_path / "st" / "model.safetensors"
    for offsets in ([0.0, 4.0], ["0", "4"], [0, True]):
        st.parent.mkdir(exist_ok=True)
        header = json.dumps({"t": {"dtype": "F32", "shape": [1], "data_offsets": offsets}})
        st.write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(4))
        assert _one_line(hf_llama.SafetensorsFile, st) == (
            f"{st}: corrupt safetensors header: entry 't' needs a dtype string, a shape and "
            "data_offsets of integers"
        )
    index = tmp_path / "st" / "model.safetensors.index.json"
    st.unlink()
    for content, line in (
        ([1, 2], "not a JSON object"),
        ({"weight_map": ["a"]}, "not a JSON object with a weight_map object"),
        ({"weight_map": {"t": ["x"]}}, "weight_map puts 't' in ['x'], which is not a file name"),
        ({"weight_map": {"t": "../x"}}, "weight_map puts 't' in '../x', which is not a file"),
    ):
        index.write_text(json.dumps(content))
        assert _one_line(hf_llama.open_weights, index.parent).startswith(f"{index}: {line}")
    index.write_text("[" * 100_000 + "]" * 100_000)
    assert _one_line(hf_llama.open_weights, index.parent) == f"{index}: JSON nested too deeply"


def test_crafted_tokenizer_json(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    good = _llama_style_tokenizer_json([])
    cases = [
        (dict(good, added_tokens=[1, 2]), "added_tokens is not a list of objects"),
        ({**good, "model": dict(good["model"], merges=5)}, "model.merges is int, expected a list"),
        (dict(good, added_tokens=[{"id": True, "content": "x"}]), "vocabulary entry 'x': True"),
    ]
    for data, line in cases:
        path.write_text(json.dumps(data))
        assert _one_line(tokenizer_json.read_tokenizer, path).startswith(f"{path}: {line}")
    path.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    assert _one_line(tokenizer_json.read_tokenizer, path) == f"{path}: JSON nested too deeply"


# --- tokenizers --------------------------------------------------------------------------


def _llama_style_tokenizer_json(merges: list) -> dict:
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    pieces += ["\u2581", "a", "b", "\u2581a", "ab", "\u2581ab", "\u00e9"]
    return testmodels.sentencepiece_tokenizer_json(pieces, 3, merges)


def test_tokenizer_json_conversion(tmp_path: Path) -> None:
    for merges in (
        ["\u2581 a", "a b", "\u2581a b", "\u2581 ab"],
        [["\u2581", "a"], ["a", "b"], ["\u2581a", "b"]],
    ):
        tok = tokenizer_json.convert(_llama_style_tokenizer_json(merges))
        assert tok.vocab_size == 266
        assert tok.tokens[:4] == [b"<unk>", b"\n<s>\n", b"\n</s>\n", b"<0x00>"]
        assert tok.tokens[259:] == [b" ", b"a", b"b", b" a", b"ab", b" ab", "\u00e9".encode()]
        assert tok.scores[262:265] == [-1.0, -2.0, -3.0]  # merge rank order, first merge wins
        assert tok.scores[:262] == [0.0] * 262 and tok.scores[265] == 0.0
    (tmp_path / "tokenizer.json").write_text(json.dumps(_llama_style_tokenizer_json([])))
    (tmp_path / "config.json").write_text(
        json.dumps(dict(HF_CONFIG, bos_token_id=0, eos_token_id=5))
    )
    tok = hf_llama.read_tokenizer(tmp_path)
    assert tok.tokens[0] == b"\n<s>\n" and tok.tokens[5] == b"\n</s>\n" and tok.tokens[1] == b"<s>"
    data = llama2c.serialize_tokenizer(tok.tokens, tok.scores)
    assert llama2c.read_tokenizer(data, vocab_size=266).tokens == tok.tokens


def test_tokenizer_json_refusals(tmp_path: Path) -> None:
    byte_level = _llama_style_tokenizer_json([])
    byte_level["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}]}
    with pytest.raises(MetalchatError, match="byte-level BPE"):
        tokenizer_json.convert(byte_level)
    unigram = {"model": {"type": "Unigram", "vocab": [["a", -1.0]]}}
    with pytest.raises(MetalchatError, match="model type 'Unigram' is not BPE"):
        tokenizer_json.convert(unigram)
    with pytest.raises(MetalchatError, match=r"merge 1 \('b' \+ 'b'\) makes no token"):
        tokenizer_json.convert(_llama_style_tokenizer_json(["b b"]))
    path = tmp_path / "tokenizer.json"
    path.write_text("{")
    with pytest.raises(MetalchatError, match=rf"^{path}: not valid JSON"):
        tokenizer_json.read_tokenizer(path)


def test_sentencepiece_model_matches_llama2c_export() -> None:
    model = shared_testdata_file("llama2-tokenizer.model")
    expected = shared_testdata_file("llama2-tokenizer.bin")
    if model is None or expected is None:
        pytest.skip("llama2-tokenizer.model/.bin not found (set METALCHAT_TESTDATA)")
    pytest.importorskip("sentencepiece", reason="sentencepiece is not installed")
    tok = hf_llama.sentencepiece_tokenizer(model)
    data = llama2c.serialize_tokenizer(tok.tokens, tok.scores, tok.max_token_length)
    assert data == expected.read_bytes()


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
