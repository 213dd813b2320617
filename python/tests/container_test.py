"""The .mcm container: round trips, the layout by hand, and every kind of corruption."""

from __future__ import annotations

import contextlib
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metalchat import export, quant
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import container, llama2c
from metalchat.manifest import pb
from metalchat.testing import tokenizer_bin

TINY = LlamaConfig(
    dim=64, hidden_dim=96, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=300, seq_len=16
)
GROUP = 32


def _model(
    fmt: str, config: LlamaConfig = TINY, seed: int = 0
) -> tuple[dict[str, np.ndarray], container.ContainerModel]:
    weights = llama2c.random_model(config, seed=seed).weights
    tok = tokenizer_bin(config.vocab_size)
    m = export.llama_manifest(config, "tiny", llama2c.read_tokenizer(tok, config.vocab_size))
    model, _ = export.llama_container(
        config, weights, tok, m, fmt=fmt, group_size=GROUP, progress=False
    )
    return weights, model


_CACHE: dict[str, bytes] = {}


def _bytes(fmt: str = "q8") -> bytes:
    if fmt not in _CACHE:
        _CACHE[fmt] = container.serialize(_model(fmt)[1])
    return _CACHE[fmt]


def _sections(data: bytes | bytearray) -> list[tuple[int, int, int, int]]:
    return [struct.unpack_from("<QQII", data, 40 + 24 * i) for i in range(4)]


def _reseal(data: bytearray) -> bytes:
    """Recompute the section and header CRCs after an edit, so deeper checks are reached."""
    for index, (offset, size, _, _) in enumerate(_sections(data)):
        struct.pack_into("<I", data, 40 + 24 * index + 16, zlib.crc32(data[offset : offset + size]))
    struct.pack_into("<I", data, 12, 0)
    struct.pack_into("<I", data, 12, zlib.crc32(data[:256]))
    return bytes(data)


def _entry_offset(data: bytes | bytearray, index: int) -> int:
    return _sections(data)[0][0] + 128 * index


@pytest.mark.parametrize("fmt", quant.FORMATS)
@pytest.mark.parametrize("shared", [True, False])
def test_round_trip(fmt: str, shared: bool) -> None:
    config = LlamaConfig(**{**TINY.__dict__, "shared_classifier": shared})
    weights, model = _model(fmt, config, seed=3)
    data = container.serialize(model)
    back = container.parse(data)
    assert list(back.tensors) == list(config.tensor_shapes())
    assert back.tokenizer == model.tokenizer
    assert back.llama_config() == LlamaConfig(
        **{**config.__dict__, "norm_eps": float(np.float32(1e-5))}
    )
    for name, t in model.tensors.items():
        got = back.tensors[name]
        assert got.fmt == ("f32" if name.startswith("rms_") else fmt)
        np.testing.assert_array_equal(got.values, t.values, err_msg=name)
        if t.scales is not None:
            np.testing.assert_array_equal(got.scales, t.scales, err_msg=name)
        if fmt == "f32":
            np.testing.assert_array_equal(got.dequantize(), weights[name])
    assert container.serialize(back) == data  # deterministic, nothing lost
    assert [e.tensor for e in back.manifest.quantization_report] == (
        [] if fmt == "f32" else [n for n in model.tensors if not n.startswith("rms_")]
    )


def test_layout_by_hand() -> None:
    data = _bytes("q4")
    magic, version, header_size, _, file_size, arch, fmt, group, count = struct.unpack_from(
        "<4sIIIQIIII", data
    )
    assert (magic, version, header_size, file_size, arch) == (b"MCHC", 1, 256, len(data), 1)
    assert (fmt, group, count) == (pb.Q4, GROUP, 11)  # the largest tensor, token_embedding
    sections = _sections(data)
    assert sections[0][0] == 256 and sections[0][1] == 11 * 128
    assert [s[3] for s in sections] == [1, 2, 3, 4]
    assert all(s[0] % 64 == 0 for s in sections)
    assert struct.unpack_from("<7IffII", data, 136) == (
        64,
        96,
        2,
        4,
        2,
        300,
        16,
        10000.0,
        pytest.approx(1e-5),
        1,
        1,
    )
    # tensor table entry 2 is wq (2, 64, 64) in Q4 with groups of 32
    raw = struct.unpack_from("<48sIIII4QQQQQ", data, 256 + 2 * 128)
    assert raw[0].rstrip(b"\0") == b"wq" and raw[1:5] == (pb.Q4, 32, 3, 0)
    assert raw[5:9] == (2, 64, 64, 0)
    voff, vsize, soff, ssize = raw[9:]
    assert vsize == 2 * 64 * 64 // 2 and ssize == 4 * 2 * 64 * 64 // 32
    assert voff % 64 == 0 and soff % 64 == 0 and soff >= voff + vsize
    wq = container.parse(data).tensors["wq"]
    byte0 = data[voff]
    assert (byte0 & 0xF) == (int(wq.values.flat[0]) & 0xF)  # low nibble: value 0
    assert (byte0 >> 4) == (int(wq.values.flat[1]) & 0xF)  # high nibble: value 1
    assert struct.unpack_from("<f", data, soff)[0] == wq.scales[0]
    # tokenizer section: 32-byte header, then tokenizer.bin unchanged
    tok_off = sections[1][0]
    assert struct.unpack_from("<5I", data, tok_off)[:4] == (1, 300, 1, 2)
    assert data[tok_off + 32 : tok_off + sections[1][1]] == tokenizer_bin(300)


def test_nanochat_tokenizer_payload_framing() -> None:
    payload = container.nanochat_tokenizer_payload([b"a", b"bc"], r"\w+", [(5, "<|bos|>")])
    container._check_nanochat_payload(payload, 6)
    with pytest.raises(MetalchatError, match="special token 0 has id 5 >= 5"):
        container._check_nanochat_payload(payload, 5)
    with pytest.raises(MetalchatError, match="1 unexpected bytes after the special tokens"):
        container._check_nanochat_payload(payload + b"x", 6)
    with pytest.raises(MetalchatError, match="tokenizer: truncated at"):
        container._check_nanochat_payload(payload[:3], 6)


@pytest.mark.parametrize("cut", [0, 1, 100, 255, 256, 257, 1000, 5000, -65, -1])
def test_truncated(cut: int) -> None:
    data = _bytes()
    size = cut % len(data)
    with pytest.raises(MetalchatError, match=r"^truncated: "):
        container.parse(data[:size])


def test_trailing_bytes() -> None:
    with pytest.raises(MetalchatError, match="3 unexpected bytes after the"):
        container.parse(_bytes() + b"abc")


@pytest.mark.parametrize(
    ("magic", "message"),
    [
        (b"GGUF", "a GGUF file"),
        (b"THCN", "InferPi nanochat"),
        (b"24ka", "llama2.c v1/v2"),
        (b"MCHD", "not a metalchat container"),
    ],
)
def test_wrong_magic(magic: bytes, message: str) -> None:
    with pytest.raises(MetalchatError, match=message):
        container.parse(magic + _bytes()[4:])


def test_wrong_version() -> None:
    data = bytearray(_bytes())
    struct.pack_into("<I", data, 4, 2)
    with pytest.raises(
        MetalchatError, match=r"format version 2 is not supported \(this reader: 1\)"
    ):
        container.parse(_reseal(data))


def test_bad_header_crc() -> None:
    data = bytearray(_bytes())
    data[140] ^= 1  # hidden_dim
    with pytest.raises(MetalchatError, match="header is corrupted: CRC-32"):
        container.parse(bytes(data))


@pytest.mark.parametrize("index", range(4))
def test_bad_section_crc(index: int) -> None:
    data = bytearray(_bytes())
    offset, size, _, _ = _sections(data)[index]
    data[offset + size // 2] ^= 0x40
    name = container.SECTIONS[index]
    with pytest.raises(MetalchatError, match=f"section '{name}' is corrupted: CRC-32 0x"):
        container.parse(bytes(data), "m.mcm")
    with pytest.raises(MetalchatError, match=f"^m.mcm: section '{name}'"):
        container.parse(bytes(data), "m.mcm")


def _edit_entry(field: int, value: int, index: int = 2) -> bytes:
    data = bytearray(_bytes())
    struct.pack_into("<Q", data, _entry_offset(data, index) + field, value)
    return _reseal(data)


def test_tensor_offset_past_the_end() -> None:
    data = _bytes()
    end = _sections(data)[2][0] + _sections(data)[2][1]
    with pytest.raises(MetalchatError, match=r"tensor 2 \('wq'\): values at bytes .* lie outside"):
        container.parse(_edit_entry(96, (end + 63) // 64 * 64))


def test_overlapping_tensors() -> None:
    data = _bytes()
    wk_values = struct.unpack_from("<Q", data, _entry_offset(data, 3) + 96)[0]
    with pytest.raises(MetalchatError, match=r"tensor 'wq' values .* overlaps tensor 'w"):
        container.parse(_edit_entry(96, wk_values))


def test_size_overflow() -> None:
    with pytest.raises(MetalchatError, match=r"values offset .* overflows 64 bits"):
        container.parse(_edit_entry(96, (1 << 64) - 64))
    with pytest.raises(MetalchatError, match=r"shape .* is too large"):
        container.parse(_edit_entry(64, 1 << 40))
    with pytest.raises(MetalchatError, match="values/scales sizes are"):
        container.parse(_edit_entry(104, 12))


def test_misplaced_section() -> None:
    data = bytearray(_bytes())
    struct.pack_into("<Q", data, 40 + 24, _sections(data)[1][0] + 64)
    with pytest.raises(MetalchatError, match=r"section 'tokenizer' starts at .* expected"):
        container.parse(_reseal(data))


def test_header_disagrees_with_manifest() -> None:
    data = bytearray(_bytes())
    struct.pack_into("<f", data, 136 + 28, 500000.0)  # rope_theta
    with pytest.raises(MetalchatError, match=r"header parameters \(bytes 136..256\) differ"):
        container.parse(_reseal(data))


def test_writer_rejects_bad_input() -> None:
    _, model = _model("q8")
    model.tensors["wq"] = quant.quantize(np.zeros((2, 64, 64), np.float32), "q8", 16)
    model.tensors["wq"].values = model.tensors["wq"].values[:, :32]
    with pytest.raises(MetalchatError):
        container.serialize(model)
    _, model = _model("f32")
    model.tensors = {"x" * 48: model.tensors["wq"]}
    with pytest.raises(MetalchatError, match="longer than 47 bytes"):
        container.serialize(model)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_truncation_or_bit_flip_is_caught(draw: st.DataObject) -> None:
    data = bytearray(_bytes(draw.draw(st.sampled_from(quant.FORMATS))))
    if draw.draw(st.booleans()):
        with pytest.raises(MetalchatError, match=r"^truncated: "):
            container.parse(bytes(data[: draw.draw(st.integers(0, len(data) - 1))]))
        return
    position = draw.draw(st.integers(0, len(data) - 1))
    data[position] ^= 1 << draw.draw(st.integers(0, 7))
    with pytest.raises(MetalchatError):  # every byte is covered by a CRC or checked as zero
        container.parse(bytes(data))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_resealed_garbage_raises_only_metalchat_errors(draw: st.DataObject) -> None:
    """Edits with valid CRCs reach the table, tokenizer and manifest parsers."""
    data = bytearray(_bytes(draw.draw(st.sampled_from(quant.FORMATS))))
    sections = _sections(data)
    section = draw.draw(st.sampled_from([0, 0, 1, 3]))
    offset, size, _, _ = sections[section]
    for _ in range(draw.draw(st.integers(1, 4))):
        position = offset + draw.draw(st.integers(0, size - 1))
        data[position] = draw.draw(st.integers(0, 255))
    with contextlib.suppress(MetalchatError):
        container.parse(_reseal(data))


@given(st.binary(max_size=600))
def test_random_bytes(blob: bytes) -> None:
    with pytest.raises(MetalchatError):
        container.parse(blob)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
