"""Model manifest schema and validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from metalchat import manifest as mf
from metalchat.errors import MetalchatError
from metalchat.manifest import pb
from metalchat.testing import shared_testdata_file

FIXTURE = "stories260K.textproto"


def fixture_text() -> str:
    return (resources.files("metalchat") / "testdata" / FIXTURE).read_text()


def fixture() -> Any:
    return mf.parse_manifest(fixture_text(), FIXTURE)


def test_fixture_parses_and_validates() -> None:
    manifest = fixture()
    mf.validate(manifest)
    assert manifest.architecture == pb.LLAMA
    assert manifest.WhichOneof("params") == "llama"
    p = manifest.llama
    assert (p.dim, p.hidden_dim, p.n_layers, p.n_heads, p.n_kv_heads, p.vocab_size, p.seq_len) == (
        64,
        172,
        5,
        8,
        4,
        512,
        512,
    )
    assert [t.name for t in manifest.tensors][:3] == ["token_embedding", "rms_att", "wq"]
    wk = next(t for t in manifest.tensors if t.name == "wk")
    assert list(wk.shape) == [5, 32, 64]  # kv_dim = 64 / 8 * 4
    assert manifest.tokenizer.kind == pb.LLAMA2C_BPE


def test_load_manifest_from_file(tmp_path: Path) -> None:
    path = tmp_path / "m.textproto"
    path.write_text(fixture_text())
    assert mf.load_manifest(path).name == "stories260K"
    path.write_text(fixture_text().replace("n_heads: 8", "n_heads: 7"))
    with pytest.raises(MetalchatError, match=rf"^{path}: llama.n_heads 7 does not divide"):
        mf.load_manifest(path)
    path.write_text("name: 'x'\nbogus_field: 3\n")
    with pytest.raises(MetalchatError, match=r"not a valid ModelManifest text proto.*bogus_field"):
        mf.load_manifest(path)


def test_round_trip_text() -> None:
    manifest = fixture()
    again = mf.parse_manifest(mf.to_text(manifest))
    assert again == manifest


def test_weights_match_real_file() -> None:
    weights = shared_testdata_file("stories260K.bin")
    if weights is None:
        pytest.skip("stories260K.bin not found (set METALCHAT_TESTDATA)")
    mf.verify_weights(fixture(), weights)


def test_verify_weights_detects_corruption() -> None:
    manifest = fixture()
    blob = bytearray(manifest.weights_size)
    manifest.weights_sha256 = ""
    for tensor in manifest.tensors:
        tensor.crc32 = 0
    manifest.tensors[2].crc32 = 0x12345678
    crc_message = r"tensor 'wq' CRC-32 0x[0-9a-f]{8} differs from the manifest's 0x12345678"
    with pytest.raises(MetalchatError, match=crc_message):
        mf.verify_weights(manifest, bytes(blob))
    with pytest.raises(MetalchatError, match="is 10 bytes, the manifest says weights_size"):
        mf.verify_weights(manifest, bytes(10))


def _tensor(m: Any, name: str) -> Any:
    return next(t for t in m.tensors if t.name == name)


def _quantize_wq(m: Any, group: int, fmt: int = pb.Q8) -> None:
    t = _tensor(m, "wq")
    t.format = fmt
    t.group_size = group
    n = 5 * 64 * 64
    t.size = (n if fmt == pb.Q8 else n // 2) + 4 * (n // group)


INVALID: list[tuple[str, Callable[[Any], None], str]] = [
    ("no name", lambda m: setattr(m, "name", ""), r"^name is empty"),
    (
        "no architecture",
        lambda m: setattr(m, "architecture", pb.ARCHITECTURE_UNSPECIFIED),
        r"architecture is not set",
    ),
    (
        "wrong params block",
        lambda m: setattr(m, "architecture", pb.NANOCHAT),
        r"architecture is NANOCHAT, so the `nanochat` parameter block is required, not `llama`",
    ),
    ("zero dim", lambda m: setattr(m.llama, "dim", 0), r"llama.dim must be positive, got 0"),
    ("zero layers", lambda m: setattr(m.llama, "n_layers", 0), r"llama.n_layers must be positive"),
    (
        "heads do not divide dim",
        lambda m: setattr(m.llama, "n_heads", 7),
        r"llama.n_heads 7 does not divide llama.dim 64",
    ),
    (
        "kv heads do not divide heads",
        lambda m: setattr(m.llama, "n_kv_heads", 3),
        r"llama.n_kv_heads 3 does not divide llama.n_heads 8",
    ),
    (
        "odd head size",
        lambda m: (setattr(m.llama, "n_heads", 64), setattr(m.llama, "n_kv_heads", 64)),
        r"head size llama.dim / llama.n_heads = 1 is odd",
    ),
    (
        "rope layout",
        lambda m: setattr(m.llama, "rope_layout", pb.ROPE_LAYOUT_UNSPECIFIED),
        r"llama.rope_layout is not set",
    ),
    (
        "duplicate tensor",
        lambda m: setattr(m.tensors[1], "name", "token_embedding"),
        r"tensors\[1\]: tensor name 'token_embedding' is already used by tensors\[0\]",
    ),
    (
        "empty tensor name",
        lambda m: setattr(m.tensors[1], "name", ""),
        r"tensors\[1\]\.name is empty",
    ),
    (
        "unknown format",
        lambda m: setattr(m.tensors[0], "format", pb.TENSOR_FORMAT_UNSPECIFIED),
        r"tensor 'token_embedding': format TENSOR_FORMAT_UNSPECIFIED "
        r"is not one of F32, F16, Q8, Q4",
    ),
    (
        "group does not divide row",
        lambda m: _quantize_wq(m, 48),
        r"tensor 'wq': group_size 48 does not divide the row length 64",
    ),
    (
        "q8 without group",
        lambda m: setattr(_tensor(m, "wq"), "format", pb.Q8),
        r"tensor 'wq': Q8 needs group_size",
    ),
    (
        "group on f32",
        lambda m: setattr(_tensor(m, "wq"), "group_size", 64),
        r"tensor 'wq': group_size 64 is set, but F32 is not a grouped format",
    ),
    (
        "wrong size",
        lambda m: setattr(_tensor(m, "wq"), "size", 100),
        r"tensor 'wq': size is 100 bytes, but \[5, 64, 64\] in F32 takes 81920",
    ),
    (
        "wrong shape",
        lambda m: _tensor(m, "wk").shape.__setitem__(1, 64),
        r"tensor 'wk': shape \[5, 64, 64\] does not match the parameters, which give \[5, 32, 64\]",
    ),
    (
        "unknown tensor",
        lambda m: setattr(_tensor(m, "wq"), "name", "attn_q"),
        r"tensor 'attn_q' is not a Llama tensor",
    ),
    ("missing tensor", lambda m: m.tensors.__delitem__(9), r"^Llama tensors missing: w3$"),
    (
        "overlap",
        lambda m: setattr(m.tensors[1], "offset", 100),
        r"tensor 'rms_att' \(bytes 100..\) overlaps tensor 'token_embedding'",
    ),
    (
        "past end",
        lambda m: setattr(m, "weights_size", 1000),
        r"ends at byte 1056540, past weights_size 1000",
    ),
    (
        "bad sha",
        lambda m: setattr(m, "weights_sha256", "abc"),
        r"weights_sha256 'abc' is not a sha256",
    ),
    (
        "no tokenizer kind",
        lambda m: setattr(m.tokenizer, "kind", pb.TOKENIZER_KIND_UNSPECIFIED),
        r"tokenizer.kind is not set",
    ),
    (
        "tokenizer vocab",
        lambda m: setattr(m.tokenizer, "vocab_size", 32000),
        r"tokenizer.vocab_size 32000 differs from the model's vocab_size 512",
    ),
    (
        "eos outside vocab",
        lambda m: setattr(m.tokenizer, "eos_id", 512),
        r"tokenizer.eos_id 512 is outside the vocabulary \(0..511\)",
    ),
    (
        "special outside vocab",
        lambda m: m.tokenizer.special_tokens.add(text="<x>", id=600),
        r"special token '<x>' id 600 is outside the vocabulary",
    ),
    (
        "custom template without text",
        lambda m: setattr(m.chat_template, "kind", pb.CHAT_TEMPLATE_CUSTOM),
        r"CHAT_TEMPLATE_CUSTOM but chat_template.text is empty",
    ),
    ("no template", lambda m: m.ClearField("chat_template"), r"chat_template.kind is not set"),
    (
        "report on f32",
        lambda m: m.quantization_report.add(tensor="wq", max_abs_error=0.01),
        r"quantization_report entry for 'wq', but that tensor is F32",
    ),
    (
        "report unknown",
        lambda m: m.quantization_report.add(tensor="nope"),
        r"quantization_report names tensor 'nope', which is not in tensors",
    ),
    (
        "report negative",
        lambda m: (_quantize_wq(m, 64), m.quantization_report.add(tensor="wq", max_abs_error=-1)),
        r"quantization_report\['wq'\].max_abs_error is -1.0",
    ),
    ("q4 odd group", lambda m: _quantize_wq(m, 1, pb.Q4), r"group_size 1 must be even"),
    (
        "export q8 without group",
        lambda m: m.export.CopyFrom(pb.ExportOptions(format=pb.Q8)),
        r"export.format Q8 needs export.group_size",
    ),
    (
        "export f16 with group",
        lambda m: m.export.CopyFrom(pb.ExportOptions(format=pb.F16, group_size=32)),
        r"export.group_size 32 is set, but F16 is not a grouped format",
    ),
    (
        "export unset format",
        lambda m: m.export.CopyFrom(pb.ExportOptions(group_size=32)),
        r"export.format TENSOR_FORMAT_UNSPECIFIED is not one of",
    ),
]


@pytest.mark.parametrize(
    "mutate, message", [(m, msg) for _, m, msg in INVALID], ids=[name for name, _, _ in INVALID]
)
def test_invalid_variants(mutate: Callable[[Any], None], message: str) -> None:
    manifest = fixture()
    mutate(manifest)
    with pytest.raises(MetalchatError, match=message):
        mf.validate(manifest)


def test_quantized_tensor_and_report_validate() -> None:
    manifest = fixture()
    _quantize_wq(manifest, 64)
    # later tensors keep their offsets: the smaller wq leaves a gap, which is allowed
    manifest.quantization_report.add(tensor="wq", max_abs_error=0.007, mean_l1_error=0.001)
    mf.validate(manifest)
    assert mf.tensor_nbytes([5, 64, 64], pb.Q8, 64) == 20480 + 4 * 320
    assert mf.tensor_nbytes([5, 64, 64], pb.Q4, 64) == 10240 + 4 * 320


def _nanochat() -> Any:
    m = pb.ModelManifest(name="d4", architecture=pb.NANOCHAT)
    n = m.nanochat
    n.n_embd, n.n_layer, n.n_head, n.n_kv_head = 256, 4, 2, 2
    n.vocab_size, n.padded_vocab_size, n.sequence_len = 8000, 8000, 1024
    n.window_pattern, n.softcap, n.rope_theta, n.qk_scale = "SSSL", 15.0, 100000.0, 1.2
    n.mlp_ratio, n.smear_channels, n.value_embed_gate_channels = 4, 24, 12
    n.value_embed_scale = 3.0
    n.value_embed_layers.extend([1, 3])
    n.rope_layout = pb.ROPE_HALF_SPLIT
    m.tokenizer.kind, m.tokenizer.vocab_size = pb.NANOCHAT_BPE, 8000
    m.tokenizer.special_tokens.add(text="<|bos|>", id=7999)
    m.chat_template.kind = pb.CHAT_TEMPLATE_NANOCHAT
    return m


def test_nanochat_manifest() -> None:
    m = _nanochat()
    mf.validate(m)
    m.nanochat.padded_vocab_size = 8001
    with pytest.raises(MetalchatError, match="padded_vocab_size 8001 must be a multiple of 64"):
        mf.validate(m)
    m = _nanochat()
    m.nanochat.window_pattern = "SSXL"
    with pytest.raises(MetalchatError, match="window_pattern 'SSXL'"):
        mf.validate(m)
    m = _nanochat()
    m.nanochat.value_embed_layers.append(4)
    with pytest.raises(MetalchatError, match="value_embed_layers has layer 4, but the model has 4"):
        mf.validate(m)
    m = _nanochat()
    m.tokenizer.special_tokens.add(text="<|bos|>", id=1)
    with pytest.raises(MetalchatError, match=re.escape("lists '<|bos|>' twice")):
        mf.validate(m)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))


def test_check_source_names_the_field() -> None:
    wanted, built = fixture(), fixture()
    mf.check_source(wanted, built)
    built.llama.n_layers += 1
    with pytest.raises(MetalchatError, match=r"^llama.n_layers 5 differs from the checkpoint's 6$"):
        mf.check_source(wanted, built)
