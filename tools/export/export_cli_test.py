"""The ``export`` command line: containers, InferPi files, manifests, reports, fit checks."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from metalchat import manifest, testmodels
from metalchat.cli import run
from metalchat.cli.export import main
from metalchat.config import LlamaConfig
from metalchat.formats import container, llama2c
from metalchat.testing import shared_testdata_file, tokenizer_bin

CONFIG = LlamaConfig(64, 128, 2, 4, 2, 300, 32, shared_classifier=False)


def _inputs(tmp_path: Path, config: LlamaConfig = CONFIG, version: int = 1) -> tuple[Path, Path]:
    model, tok = tmp_path / "m.bin", tmp_path / "tok.bin"
    llama2c.write_model(model, llama2c.random_model(config, seed=5), version)
    tok.write_bytes(tokenizer_bin(config.vocab_size))
    return model, tok


def test_export_q8_with_manifest_and_inferpi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, tok = _inputs(tmp_path)
    out, text = tmp_path / "m.mcm", tmp_path / "m.textproto"
    (tmp_path / "inferpi").mkdir()
    argv = [
        "llama2c", str(model), "--tokenizer", str(tok), "--format", "q8", "--group-size", "32",
        "-o", str(out), "--manifest-out", str(text), "--inferpi", str(tmp_path / "inferpi"),
        "--board", "rp2350", "--prune-ffn", "0.5",
    ]  # fmt: skip
    assert run(main, argv) == 0
    printed = capsys.readouterr().out
    assert "max abs error" in printed and "wcls" in printed
    assert "pruned (zeros now): w1 50.0%, w2 50.0%, w3 50.0%" in printed
    assert printed.rstrip().endswith("bytes; fits rp2350")
    m = manifest.load_manifest(text)
    manifest.verify_weights(m, out)  # the .textproto describes the container file
    assert m.weights_file == "m.mcm" and len(m.quantization_report) == 9
    back = container.read_container(out)
    assert np.mean(back.tensors["w2"].dequantize() == 0) >= 0.5
    assert (
        back.manifest.provenance.tool_version
        and back.manifest.provenance.sources[0].path == "m.bin"
    )
    # InferPi: llama2.c Config header (negative vocab: unshared classifier), float16 tensors
    data = (tmp_path / "inferpi" / "model.bin").read_bytes()
    assert struct.unpack_from("<7i", data) == (64, 128, 2, 4, 2, -300, 32)
    count = CONFIG.parameter_count() + 2 * 32 * 8  # + freq_cis_real/imag (seq_len, hs/2)
    assert len(data) == 28 + 2 * count
    emb = np.frombuffer(data, "<f2", 300 * 64, 28).reshape(300, 64)
    source = llama2c.read_model(model).weights["token_embedding"]
    np.testing.assert_array_equal(emb, source.astype(np.float16))
    assert (tmp_path / "inferpi" / "tokenizer.bin").read_bytes() == tok.read_bytes()


def test_reproducible(tmp_path: Path) -> None:
    model, tok = _inputs(tmp_path)
    outputs = []
    for name in ("a.mcm", "b.mcm"):
        argv = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "q4",
                "--group-size", "32", "-o", str(tmp_path / name), "--quiet"]  # fmt: skip
        assert run(main, argv) == 0
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_does_not_fit_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = LlamaConfig(512, 1024, 4, 8, 8, 1024, 1024)
    model, tok = _inputs(tmp_path, big, version=0)
    argv = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "f32",
            "-o", str(tmp_path / "m.mcm"), "--board", "rp2350", "--name", "big"]  # fmt: skip
    assert run(main, argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {model}: model big (f32, 42.02 MiB of weights) does not fit rp2350 "
        "(8.38 MiB available): even streamed"
    )
    assert err.count("\n") == 1
    assert not (tmp_path / "m.mcm").exists()


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, tok = _inputs(tmp_path)
    base = ["llama2c", str(model), "--tokenizer", str(tok), "-o", str(tmp_path / "m.mcm")]
    assert run(main, [*base, "--format", "q4", "--group-size", "7"]) == 2
    assert "group size 7 must be even" in capsys.readouterr().err
    (tmp_path / "short.bin").write_bytes(tokenizer_bin(100))
    bad_tok = ["llama2c", str(model), "--tokenizer", str(tmp_path / "short.bin")]
    assert run(main, [*bad_tok, "--format", "f16", "-o", str(tmp_path / "m.mcm")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'short.bin'}: truncated")


def test_quantize_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = _inputs(tmp_path)
    assert run(main, ["quantize", str(model), "--format", "q4", "--group-size", "32"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "tensor",
        "shape",
        "format",
        "group",
        "max",
        "abs",
        "error",
        "mean",
        "L1",
        "error",
    ]
    assert [line.split()[0] for line in lines[1:]] == [
        "token_embedding", "wq", "wk", "wv", "wo", "w1", "w2", "w3", "wcls",
    ]  # fmt: skip


def test_stories260k(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = shared_testdata_file("stories260K.bin")
    if source is None:
        pytest.skip("stories260K.bin not found (set METALCHAT_TESTDATA)")
    tok = tmp_path / "tok512.bin"
    tok.write_bytes(tokenizer_bin(512))
    out = tmp_path / "s.mcm"
    argv = ["llama2c", str(source), "--tokenizer", str(tok), "--format", "f32", "-o", str(out)]
    assert run(main, argv) == 0
    weights = llama2c.read_model(source).weights
    for name, t in container.read_container(out).tensors.items():
        np.testing.assert_array_equal(t.dequantize(), weights[name], err_msg=name)


def _manifest(path: Path, config: LlamaConfig = CONFIG, **export: object) -> Path:
    m = manifest.pb.ModelManifest(name="from-manifest", architecture=manifest.pb.LLAMA)
    m.llama.CopyFrom(
        manifest.pb.LlamaParams(
            dim=config.dim,
            hidden_dim=config.hidden_dim,
            n_layers=config.n_layers,
            n_heads=config.n_heads,
            n_kv_heads=config.n_kv_heads,
            vocab_size=config.vocab_size,
            seq_len=config.seq_len,
            shared_classifier=config.shared_classifier,
            rope_layout=manifest.pb.ROPE_INTERLEAVED,
        )
    )
    m.tokenizer.CopyFrom(
        manifest.pb.Tokenizer(
            kind=manifest.pb.LLAMA2C_BPE, vocab_size=config.vocab_size, bos_id=1, eos_id=2
        )
    )
    m.chat_template.kind = manifest.pb.CHAT_TEMPLATE_LLAMA2
    m.export.CopyFrom(manifest.pb.ExportOptions(**export))
    path.write_text(manifest.to_text(m))
    return path


def test_manifest_drives_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, tok = _inputs(tmp_path)
    spec = _manifest(tmp_path / "m.textproto", format=manifest.pb.Q4, group_size=32)
    out = tmp_path / "m.mcm"
    base = ["llama2c", str(model), "--tokenizer", str(tok), "--manifest", str(spec)]
    # a flag that agrees with the manifest is fine
    assert run(main, [*base, "--format", "q4", "--quiet", "-o", str(out)]) == 0
    back = container.read_container(out)
    assert back.manifest.name == "from-manifest"
    assert back.manifest.chat_template.kind == manifest.pb.CHAT_TEMPLATE_LLAMA2
    weights = llama2c.read_model(model).weights
    for name, t in back.tensors.items():
        if name.startswith("rms_"):
            np.testing.assert_array_equal(t.dequantize(), weights[name], err_msg=name)
        else:
            assert (t.fmt, t.group_size) == ("q4", 32), name
    # one that does not is refused
    assert run(main, [*base, "--format", "q8", "-o", str(tmp_path / "x.mcm")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {spec}: --format q8 conflicts with the manifest's export.format q4\n"
    # the wrong subcommand for the architecture
    nano = ["nanochat", str(tmp_path), "--manifest", str(spec), "-o", str(tmp_path / "x.mcm")]
    assert run(main, nano) == 2
    assert "architecture is LLAMA, but `export nanochat` makes NANOCHAT" in capsys.readouterr().err
    assert not (tmp_path / "x.mcm").exists()


def test_manifest_dims_disagree_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, tok = _inputs(tmp_path)
    wrong = LlamaConfig(64, 256, 2, 4, 2, 300, 32, shared_classifier=False)
    spec = _manifest(tmp_path / "m.textproto", wrong, format=manifest.pb.F32)
    argv = ["llama2c", str(model), "--tokenizer", str(tok), "--manifest", str(spec),
            "-o", str(tmp_path / "m.mcm")]  # fmt: skip
    assert run(main, argv) == 2
    err = capsys.readouterr().err
    assert err == f"error: {spec}: llama.hidden_dim 256 differs from the checkpoint's 128\n"
    assert not (tmp_path / "m.mcm").exists()


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))


# --- export hf / export gguf -------------------------------------------------------------

HF_CONFIG = dict(testmodels.HF_LLAMA_CONFIG, tie_word_embeddings=True)


def test_export_hf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "SmolThing"
    testmodels.write_hf_folder(
        folder, HF_CONFIG, testmodels.hf_weights(HF_CONFIG, 1), dtype="BF16", shards=2,
        family="chatml", generation_eos=[2],
    )  # fmt: skip
    out, text = tmp_path / "m.mcm", tmp_path / "m.textproto"
    argv = ["hf", str(folder), "--format", "q8", "--group-size", "64", "-o", str(out),
            "--manifest-out", str(text), "--board", "rpi4"]  # fmt: skip
    assert run(main, argv) == 0
    printed = capsys.readouterr().out
    assert "note: w2: rows of 96 are not a multiple of 64: q8 groups of 48" in printed
    assert printed.rstrip().endswith(
        "bytes, rope_theta 500000, chat template CHAT_TEMPLATE_TURNS (chatml); fits rpi4"
    )
    m = manifest.load_manifest(text)
    manifest.verify_weights(m, out)
    assert m.name == "SmolThing" and m.llama.rope_theta == 500000.0
    assert m.llama.shared_classifier and list(m.chat_template.turns.stop_ids) == [4, 2]
    # the manifest drives a second export to the same bytes; a conflicting flag is refused
    again = tmp_path / "again.mcm"
    for field in (
        "export",
        "tensors",
        "weights_file",
        "weights_size",
        "weights_sha256",
        "quantization_report",
    ):
        m.ClearField(field)  # the written manifest describes the container, not the source
    m.export.format, m.export.group_size = manifest.pb.Q8, 64
    (tmp_path / "drive.textproto").write_text(manifest.to_text(m))
    drive = ["hf", str(folder), "--manifest", str(tmp_path / "drive.textproto"), "-o", str(again),
             "--quiet"]  # fmt: skip
    assert run(main, drive) == 0
    assert again.read_bytes() == out.read_bytes()
    assert run(main, [*drive, "--format", "q4"]) == 2
    assert "--format q4 conflicts with the manifest's export.format q8" in capsys.readouterr().err


def test_export_hf_refusals_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "qwen"
    config = dict(HF_CONFIG, architectures=["Qwen2ForCausalLM"])
    testmodels.write_hf_folder(folder, config, testmodels.hf_weights(HF_CONFIG, 1))
    assert run(main, ["hf", str(folder), "-o", str(tmp_path / "m.mcm")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {folder / 'config.json'}: architectures ['Qwen2ForCausalLM'] is not supported: "
        "export hf reads LlamaForCausalLM, MistralForCausalLM\n"
    )
    (folder / "config.json").write_text("{")
    assert run(main, ["hf", str(folder), "-o", str(tmp_path / "m.mcm")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "m.mcm").exists()


def test_export_gguf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.Q4_K_M.gguf"
    testmodels.write_llama_gguf(path, {"wq": "Q4_0", "w2": "Q6_K", "wv": "Q4_K"}, dim=256)
    out = tmp_path / "m.mcm"
    assert run(main, ["gguf", str(path), "-o", str(out), "--board", "rpi0"]) == 0
    printed = capsys.readouterr().out
    assert "chat template CHAT_TEMPLATE_TURNS (chatml)" in printed
    back = container.read_container(out)
    assert back.manifest.name == "tiny.Q4_K_M"
    plan = {n: (t.fmt, t.group_size) for n, t in back.tensors.items()}
    assert (plan["wq"], plan["wv"], plan["w2"]) == (("q4", 32), ("q4", 32), ("q8", 32))
    path.write_bytes(path.read_bytes()[:100])
    assert run(main, ["gguf", str(path), "-o", str(tmp_path / "n.mcm")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: truncated or not a GGUF file") and err.count("\n") == 1
