"""``export nanochat`` and the nanochat_container rule on the committed demo checkpoint.

The C engine's greedy ids from BOS must be the numpy reference's (models/tinynanochat-kjv/
greedy.json: prompt = ``<|bos|>``, the BOS the container's tokenizer names too).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from metalchat.cli import run
from metalchat.cli.export import main
from metalchat.formats import container, nanochat_ckpt
from metalchat.manifest import pb

_FILES = os.environ.get("NANOCHAT_FILES", "models/tinynanochat-kjv/model_000800.pt").split()
CKPT = next(Path(f) for f in _FILES if f.endswith("model_000800.pt")).parent
RULE_MCM = Path(os.environ.get("NANOCHAT_MCM", "models/tinynanochat-kjv_card/model.mcm"))
ENGINE_CLI = os.environ.get("ENGINE_CLI", "tools/engine_cli/engine_cli")


def _export(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "model.mcm"
    assert (
        main(
            ["nanochat", str(CKPT), "--name", "tinynanochat-kjv", "-o", str(out), "--quiet", *extra]
        )
        == 0
    )
    return out


def test_export_round_trips(tmp_path: Path) -> None:
    out = _export(tmp_path)
    model = container.read_container(out)
    ckpt = nanochat_ckpt.read_checkpoint(CKPT)
    tok = nanochat_ckpt.read_tokenizer(CKPT / "tokenizer.pkl")
    m = model.manifest
    assert m.architecture == pb.NANOCHAT
    assert m.nanochat.n_layer == ckpt.config.n_layer == 4
    assert m.nanochat.window_pattern == "SSSL"
    assert m.tokenizer.kind == pb.NANOCHAT_BPE
    assert m.tokenizer.bos_id == m.tokenizer.eos_id == tok.special_tokens["<|bos|>"] == 1015
    assert m.chat_template.kind == pb.CHAT_TEMPLATE_NONE  # a base model: plain continuation
    assert [s.path for s in m.provenance.sources] == [
        "model_000800.pt",
        "meta_000800.json",
        "tokenizer.pkl",
    ]
    assert list(model.tensors) == list(ckpt.config.tensor_shapes())
    for name, t in model.tensors.items():
        np.testing.assert_array_equal(t.dequantize(), ckpt.weights[name], err_msg=name)
    ranked = sorted(tok.ranks, key=tok.ranks.__getitem__)
    specials = sorted((i, s) for s, i in tok.special_tokens.items())
    assert model.tokenizer == container.nanochat_tokenizer_payload(ranked, tok.pattern, specials)
    # the rule's output is the CLI's, byte for byte (no timestamps or paths)
    assert out.read_bytes() == RULE_MCM.read_bytes()


def test_export_q8(tmp_path: Path) -> None:
    model = container.read_container(_export(tmp_path, "--format", "q8", "--group-size", "32"))
    assert model.tensors["transformer.wte.weight"].fmt == "q8"
    assert model.tensors["resid_lambdas"].fmt == "f32"
    assert len(model.manifest.quantization_report) > 0


def test_manifest_drives_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (CKPT / "manifest.textproto").read_text()
    # the committed manifest (what the rule used) gives the rule's bytes
    out = tmp_path / "m.mcm"
    argv = ["nanochat", str(CKPT), "--manifest", str(CKPT / "manifest.textproto"), "-o", str(out)]
    assert run(main, [*argv, "--quiet"]) == 0
    assert out.read_bytes() == RULE_MCM.read_bytes()
    # a manifest whose dims disagree with the checkpoint: one line naming the field
    wrong = tmp_path / "wrong.textproto"
    wrong.write_text(text.replace("n_embd: 128", "n_embd: 256"))
    argv = ["nanochat", str(CKPT), "--manifest", str(wrong), "-o", str(tmp_path / "x.mcm")]
    assert run(main, [*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {wrong}: nanochat.n_embd 256 differs from the checkpoint's 128\n"
    assert not (tmp_path / "x.mcm").exists()


def test_engine_greedy_matches_reference() -> None:
    expected = json.loads((CKPT / "greedy.json").read_text())
    assert expected["prompt"] == [1015]
    run = subprocess.run(
        [ENGINE_CLI, str(RULE_MCM), "-t", "0", "-n", str(expected["steps"] + 1), "--ids"],
        check=True,
        capture_output=True,
        text=True,
    )
    ids = [int(x) for x in run.stdout.split()]
    if ids and ids[0] == 1015:  # the BOS prompt, when printed
        ids = ids[1:]
    assert ids[: expected["steps"]] == expected["ids"]


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
