"""llama2.c model (.bin v0/v1/v2) and tokenizer.bin reading and writing."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import llama2c
from metalchat.testing import shared_testdata_file

TINY = LlamaConfig(
    dim=16, hidden_dim=40, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=32, seq_len=8
)


def _assert_same_weights(a: llama2c.Llama2cModel, b: llama2c.Llama2cModel) -> None:
    for name in a.config.tensor_shapes():
        np.testing.assert_array_equal(a.weights[name], b.weights[name], err_msg=name)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("version", [0, 1])
def test_float_round_trip(version: int, shared: bool) -> None:
    config = LlamaConfig(**{**TINY.__dict__, "shared_classifier": shared})
    model = llama2c.random_model(config, seed=version)
    data = llama2c.serialize_model(model, version)
    back = llama2c.read_model(data)
    assert back.version == version
    assert back.config == config
    _assert_same_weights(model, back)
    assert llama2c.serialize_model(back, version) == data


def test_v0_layout_by_hand() -> None:
    model = llama2c.random_model(TINY, seed=3)
    data = llama2c.serialize_model(model, 0)
    assert struct.unpack_from("<7i", data) == (16, 40, 2, 4, 2, 32, 8)
    # token_embedding first, right after the 28-byte header
    emb = np.frombuffer(data, "<f4", count=32 * 16, offset=28)
    np.testing.assert_array_equal(emb, model.weights["token_embedding"].ravel())
    unshared = llama2c.serialize_model(
        llama2c.random_model(LlamaConfig(**{**TINY.__dict__, "shared_classifier": False})), 0
    )
    assert struct.unpack_from("<7i", unshared)[5] == -32  # negative vocab: separate wcls
    freq = 2 * 8 * 2 * 4  # two (seq_len, head_size / 2) float32 tables
    assert len(data) == 28 + 4 * TINY.parameter_count() + freq


def test_v1_header_by_hand() -> None:
    data = llama2c.serialize_model(llama2c.random_model(TINY), 1)
    assert data[:4] == b"24ka"  # uint32 0x616b3432 little-endian
    assert struct.unpack_from("<i7iB", data, 4) == (1, 16, 40, 2, 4, 2, 32, 8, 1)
    assert data[37:256] == bytes(219)
    # v1 puts the norms first: rms_att (2 x 16 floats) at byte 256
    model = llama2c.read_model(data)
    first = np.frombuffer(data, "<f4", count=32, offset=256)
    np.testing.assert_array_equal(first, model.weights["rms_att"].ravel())
    assert len(data) == 256 + 4 * TINY.parameter_count()


def test_v2_round_trip_and_layout() -> None:
    model = llama2c.random_model(TINY, seed=5)
    data = llama2c.serialize_model(model, 2, group_size=8)
    assert struct.unpack_from("<i", data, 4)[0] == 2
    assert struct.unpack_from("<i", data, 37)[0] == 8
    back = llama2c.read_model(data)
    assert back.version == 2 and back.group_size == 8
    for name in ("wq", "w2", "token_embedding"):
        original = model.weights[name]
        q = back.quantized[name]
        assert q.q.dtype == np.int8 and q.q.shape == original.shape
        # Q8_0: error at most half a quantization step per group
        step = np.repeat(q.scales, 8).reshape(original.shape)
        assert np.all(np.abs(back.weights[name] - original) <= step / 2 + 1e-7)
    np.testing.assert_array_equal(back.weights["rms_att"], model.weights["rms_att"])
    # norms (fp32) then int8 values then scales
    norms = 4 * (2 * 16 + 2 * 16 + 16)
    matrices = TINY.parameter_count() - (2 * 16 + 2 * 16 + 16)
    assert len(data) == 256 + norms + matrices + 4 * (matrices // 8)
    # re-serializing the quantized tensors is byte-identical
    assert llama2c.serialize_model(back, 2, group_size=8) == data


def test_quantize_q8_matches_llama2c_rule() -> None:
    w = np.array([[0.5, -1.27, 0.0, 0.01], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    q = llama2c.quantize_q8(w, 4)
    np.testing.assert_allclose(q.scales, [0.01, 0.0], rtol=1e-6)
    assert q.q.tolist() == [[50, -127, 0, 1], [0, 0, 0, 0]]


def test_v2_group_backoff() -> None:
    data = llama2c.serialize_model(llama2c.random_model(TINY), 2, group_size=64)
    assert struct.unpack_from("<i", data, 37)[0] == 16  # halved until it divides dim 16


def test_truncated_and_bad_files(tmp_path: Path) -> None:
    data = llama2c.serialize_model(llama2c.random_model(TINY), 1)
    with pytest.raises(MetalchatError, match=r"truncated: w3 needs bytes"):
        llama2c.read_model(data[:-200])
    with pytest.raises(MetalchatError, match="truncated: the 256-byte header"):
        llama2c.read_model(data[:100])
    with pytest.raises(MetalchatError, match="8 unexpected bytes after the last tensor"):
        llama2c.read_model(data + bytes(8))
    bad_version = data[:4] + struct.pack("<i", 7) + data[8:]
    with pytest.raises(MetalchatError, match="version 7 is not supported"):
        llama2c.read_model(bad_version)
    path = tmp_path / "junk.bin"
    path.write_bytes(b"hello world, this is not a model at all......")
    with pytest.raises(MetalchatError, match=rf"^{path}: not a llama2.c model: header"):
        llama2c.read_model(path)
    bad_flag = bytearray(data)
    bad_flag[36] = 5
    with pytest.raises(MetalchatError, match="shared_classifier byte is 5"):
        llama2c.read_model(bytes(bad_flag))


def test_write_model_atomically(tmp_path: Path) -> None:
    model = llama2c.random_model(TINY)
    out = tmp_path / "m.bin"
    llama2c.write_model(out, model, 1)
    assert llama2c.read_model(out).config == TINY
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]


def test_stories260k() -> None:
    path = shared_testdata_file("stories260K.bin")
    if path is None:
        pytest.skip("stories260K.bin not found (set METALCHAT_TESTDATA)")
    model = llama2c.read_model(path)
    assert model.version == 0
    assert model.config == LlamaConfig(64, 172, 5, 8, 4, 512, 512, shared_classifier=True)
    assert model.weights["wk"].shape == (5, 32, 64)
    assert llama2c.serialize_model(model, 0) == path.read_bytes()
    # our freq_cis tables match the file's to float32 rounding
    cos, sin = llama2c.freq_cis(model.config)
    np.testing.assert_allclose(cos, model.weights["freq_cis_real"], atol=2e-4)
    np.testing.assert_allclose(sin, model.weights["freq_cis_imag"], atol=2e-4)
    for version in (1, 2):
        again = llama2c.read_model(llama2c.serialize_model(model, version))
        assert again.config == model.config


# --- tokenizer.bin -----------------------------------------------------------------------


def test_tokenizer_round_trip_and_bytes() -> None:
    tokens = [b"<unk>", b"\n<s>\n", b"", b" the", b"\xe2\x96\x81"]
    scores = [0.0, 0.0, -1.5, -2.25, 3.0]
    data = llama2c.serialize_tokenizer(tokens, scores)
    assert data[:4] == struct.pack("<i", 5)
    assert data[4:17] == struct.pack("<fi", 0.0, 5) + b"<unk>"
    tok = llama2c.read_tokenizer(data, vocab_size=5)
    assert tok.tokens == tokens and tok.scores == scores and tok.max_token_length == 5
    assert llama2c.read_tokenizer(data).vocab_size == 5


def test_tokenizer_errors() -> None:
    data = llama2c.serialize_tokenizer([b"ab", b"cde"], [1.0, 2.0])
    with pytest.raises(MetalchatError, match="truncated: token 1 needs 3 bytes"):
        llama2c.read_tokenizer(data[:-1])
    with pytest.raises(MetalchatError, match="truncated: token 2 of 3 needs its score"):
        llama2c.read_tokenizer(data, vocab_size=3)
    with pytest.raises(MetalchatError, match="unexpected bytes after token 0"):
        llama2c.read_tokenizer(data, vocab_size=1)
    too_long = r"token 0 has length 2, outside 0\.\.max_token_length 1"
    with pytest.raises(MetalchatError, match=too_long):
        llama2c.read_tokenizer(struct.pack("<i", 1) + data[4:])
    with pytest.raises(MetalchatError, match="max_token_length 1 is shorter"):
        llama2c.serialize_tokenizer([b"ab"], [0.0], max_token_length=1)


def test_llama2_tokenizer_file() -> None:
    path = shared_testdata_file("llama2-tokenizer.bin")
    if path is None:
        pytest.skip("llama2-tokenizer.bin not found (set METALCHAT_TESTDATA)")
    tok = llama2c.read_tokenizer(path, vocab_size=32000)
    assert tok.vocab_size == 32000
    assert tok.tokens[:3] == [b"<unk>", b"\n<s>\n", b"\n</s>\n"]
    assert llama2c.serialize_tokenizer(tok.tokens, tok.scores, tok.max_token_length) == (
        path.read_bytes()
    )


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
