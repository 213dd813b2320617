"""GGUF import: files written with gguf.GGUFWriter, read back (F32/F16 exactly, Q8_0/Q4_0
within their quantization bounds), the q/k layout, the tokenizer, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest
from safetensors.numpy import save_file

from metalchat.errors import MetalchatError
from metalchat.formats import gguf_llama, hf_llama

T = gguf.GGMLQuantizationType
DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 64, 96, 2, 4, 2, 40, 16
HF_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": DIM,
    "intermediate_size": HIDDEN,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "num_key_value_heads": KV_HEADS,
    "vocab_size": VOCAB,
    "max_position_embeddings": SEQ,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500.0,
}
HF_TO_GGUF = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.down_proj": "ffn_down",
    "mlp.up_proj": "ffn_up",
}


def _hf_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    kv = DIM // HEADS * KV_HEADS
    shapes = {
        "model.embed_tokens.weight": (VOCAB, DIM),
        "model.norm.weight": (DIM,),
        "lm_head.weight": (VOCAB, DIM),
    }
    for i in range(LAYERS):
        shapes |= {
            f"model.layers.{i}.input_layernorm.weight": (DIM,),
            f"model.layers.{i}.self_attn.q_proj.weight": (DIM, DIM),
            f"model.layers.{i}.self_attn.k_proj.weight": (kv, DIM),
            f"model.layers.{i}.self_attn.v_proj.weight": (kv, DIM),
            f"model.layers.{i}.self_attn.o_proj.weight": (DIM, DIM),
            f"model.layers.{i}.post_attention_layernorm.weight": (DIM,),
            f"model.layers.{i}.mlp.gate_proj.weight": (HIDDEN, DIM),
            f"model.layers.{i}.mlp.down_proj.weight": (DIM, HIDDEN),
            f"model.layers.{i}.mlp.up_proj.weight": (HIDDEN, DIM),
        }
    return {n: (0.3 * rng.standard_normal(s)).astype(np.float32) for n, s in shapes.items()}


def _gguf_tensors(hf: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """HF names -> GGUF names, q/k permuted as llama.cpp's convert_hf_to_gguf.py does."""
    out = {
        "token_embd.weight": hf["model.embed_tokens.weight"],
        "output_norm.weight": hf["model.norm.weight"],
        "output.weight": hf["lm_head.weight"],
    }
    for i in range(LAYERS):
        for hf_part, gguf_part in HF_TO_GGUF.items():
            w = hf[f"model.layers.{i}.{hf_part}.weight"]
            if gguf_part in ("attn_q", "attn_k"):
                w = hf_llama.hf_to_interleaved(w, HEADS if gguf_part == "attn_q" else KV_HEADS)
            out[f"blk.{i}.{gguf_part}.weight"] = w
    return out


PIECES = ["<unk>", "<s>", "</s>", "<0x0A>", "\u2581", "a", "\u2581a", "\u00e9"] + [
    f"p{i}" for i in range(VOCAB - 8)
]


def _write_gguf(
    path: Path, tensors: dict[str, np.ndarray], qtype: T = T.F32, *, arch: str = "llama",
    tokenizer: str = "llama", block_count: int = LAYERS,
) -> None:  # fmt: skip
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_context_length(SEQ)
    writer.add_embedding_length(DIM)
    writer.add_block_count(block_count)
    writer.add_feed_forward_length(HIDDEN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(500.0)
    writer.add_tokenizer_model(tokenizer)
    writer.add_token_list(PIECES)
    writer.add_token_scores([-float(i) for i in range(VOCAB)])
    writer.add_token_types([2, 3, 3, 6] + [1] * (VOCAB - 4))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    for name, array in tensors.items():
        if array.ndim == 1 or qtype == T.F32:  # norms stay F32, as llama.cpp keeps them
            writer.add_tensor(name, array.astype(np.float32))
        elif qtype == T.F16:
            writer.add_tensor(name, array.astype(np.float16))
        else:
            data = gguf.quants.quantize(array, qtype)
            writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_f32_gguf_equals_hf_import(tmp_path: Path) -> None:
    hf = _hf_weights()
    (tmp_path / "config.json").write_text(json.dumps(HF_CONFIG))
    save_file(hf, str(tmp_path / "model.safetensors"))
    _write_gguf(tmp_path / "m.gguf", _gguf_tensors(hf))
    from_gguf = gguf_llama.read_model(tmp_path / "m.gguf")
    from_hf = hf_llama.read_model(tmp_path)  # its RoPE layout is checked against HF's math
    assert from_gguf.config == from_hf.config
    assert from_gguf.config.rope_theta == 500.0 and not from_gguf.config.shared_classifier
    for name, value in from_hf.weights.items():
        np.testing.assert_array_equal(from_gguf.weights[name], value, err_msg=name)


def test_f16_exact_and_quantized_within_bounds(tmp_path: Path) -> None:
    tensors = _gguf_tensors(_hf_weights(1))
    _write_gguf(tmp_path / "f16.gguf", tensors, T.F16)
    model = gguf_llama.read_model(tmp_path / "f16.gguf")
    expected = tensors["blk.1.ffn_down.weight"].astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(model.weights["w2"][1], expected)
    np.testing.assert_array_equal(model.weights["rms_att"][0], tensors["blk.0.attn_norm.weight"])

    for qtype, steps in ((T.Q8_0, 127), (T.Q4_0, 8)):
        _write_gguf(tmp_path / f"{qtype.name}.gguf", tensors, qtype)
        model = gguf_llama.read_model(tmp_path / f"{qtype.name}.gguf")
        for name, gguf_name in (("wq", "blk.0.attn_q.weight"), ("w2", "blk.1.ffn_down.weight")):
            source = tensors[gguf_name]
            got = model.weights[name][int(gguf_name[4])]
            blocks = source.reshape(-1, 32)
            step = np.abs(blocks).max(axis=1, keepdims=True) / steps  # the block's scale d
            # Q8_0 rounds to the nearest step; Q4_0 can be off by a whole step at +max/8*8;
            # both store d as float16 (relative error 2**-11, times |q| <= 127)
            bound = step * (0.57 if qtype == T.Q8_0 else 1.01)
            assert np.all(np.abs(got.reshape(-1, 32) - blocks) <= bound), (qtype.name, name)
            reference = gguf.quants.dequantize(gguf.quants.quantize(source, qtype), qtype)
            np.testing.assert_array_equal(got, reference)


def test_dequantize_block_layouts_by_hand() -> None:
    d = np.array([0.5], "<f2").view(np.uint8)
    q8 = np.concatenate([d, np.arange(-16, 16, dtype=np.int8).view(np.uint8)])
    np.testing.assert_array_equal(gguf_llama.dequantize_q8_0(q8), np.arange(-16, 16) * 0.5)
    nibbles = np.arange(16, dtype=np.uint8)
    q4 = np.concatenate([d, nibbles | ((15 - nibbles) << 4)])  # low: 0..15, high: 15..0
    expected = np.concatenate([np.arange(16) - 8, 15 - np.arange(16) - 8]) * 0.5
    np.testing.assert_array_equal(gguf_llama.dequantize_q4_0(q4), expected)


def test_tokenizer(tmp_path: Path) -> None:
    _write_gguf(tmp_path / "m.gguf", _gguf_tensors(_hf_weights()))
    tok = gguf_llama.read_tokenizer(tmp_path / "m.gguf")
    assert tok.vocab_size == VOCAB
    assert tok.tokens[:8] == [
        b"<unk>",
        b"\n<s>\n",
        b"\n</s>\n",
        b"<0x0A>",
        b" ",
        b"a",
        b" a",
        b"\xc3\xa9",
    ]
    assert tok.scores[:3] == [0.0, -1.0, -2.0] and tok.max_token_length == 6


def test_errors(tmp_path: Path) -> None:
    tensors = _gguf_tensors(_hf_weights())
    path = tmp_path / "m.gguf"
    _write_gguf(path, tensors)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])
    with pytest.raises(MetalchatError, match=rf"^{path}: truncated or not a GGUF file"):
        gguf_llama.read_model(path)
    path.write_bytes(data[:100])
    with pytest.raises(MetalchatError, match="truncated or not a GGUF file"):
        gguf_llama.read_model(path)
    path.write_bytes(b"GGML" + data[4:])
    with pytest.raises(MetalchatError, match="truncated or not a GGUF file"):
        gguf_llama.read_model(path)

    _write_gguf(path, tensors, arch="qwen2", tokenizer="gpt2")
    with pytest.raises(
        MetalchatError, match=r"general\.architecture is 'qwen2'; export gguf reads 'llama'$"
    ):
        gguf_llama.read_model(path)
    with pytest.raises(MetalchatError, match=r"tokenizer\.ggml\.model is 'gpt2'"):
        gguf_llama.read_tokenizer(path)

    missing = dict(tensors)
    del missing["blk.1.ffn_up.weight"]
    _write_gguf(path, missing)
    with pytest.raises(MetalchatError, match=r"tensor blk\.1\.ffn_up\.weight is missing"):
        gguf_llama.read_model(path)

    _write_gguf(path, tensors, T.Q4_1)
    with pytest.raises(
        MetalchatError, match="is Q4_1; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K"
    ):
        gguf_llama.read_model(path)
    with pytest.raises(MetalchatError, match="no such file"):
        gguf_llama.read_model(tmp_path / "absent.gguf")


def test_huge_block_count_fails_before_allocating(tmp_path: Path) -> None:
    """A block_count of 2**31 - 1 in a small file: one line with the bytes it would need,
    not a MemoryError."""
    path = tmp_path / "m.gguf"
    _write_gguf(path, _gguf_tensors(_hf_weights()), block_count=2**31 - 1)
    size = path.stat().st_size
    with pytest.raises(MetalchatError) as info:
        gguf_llama.read_model(path)
    assert str(info.value).startswith(
        f"{path}: truncated or corrupt: the shapes (2147483647 layers, dim {DIM}, hidden "
        f"{HIDDEN}, vocab {VOCAB}) need at least "
    ) and str(info.value).endswith(f"bytes of weights, the file holds {size:,}")


def test_token_not_utf8_is_one_line(tmp_path: Path) -> None:
    """Found by //python:fuzz_gguf_test: a token that is not UTF-8 raised UnicodeDecodeError."""
    path = tmp_path / "m.gguf"
    _write_gguf(path, _gguf_tensors(_hf_weights()))
    data = path.read_bytes()
    at = data.index(b"<unk>")
    path.write_bytes(data[:at] + b"\x80unk>" + data[at + 5 :])
    with pytest.raises(MetalchatError) as info:
        gguf_llama.read_tokenizer(path)
    assert str(info.value).startswith(f"{path}: metadata tokenizer.ggml.tokens is malformed: ")
    assert "utf-8" in str(info.value) and "\n" not in str(info.value)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
