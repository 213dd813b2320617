"""The ``inspect`` command line on llama2.c files."""

from __future__ import annotations

from pathlib import Path

import pytest

from metalchat.cli import run
from metalchat.cli.inspect import main
from metalchat.config import LlamaConfig
from metalchat.formats import llama2c


def _model(tmp_path: Path, config: LlamaConfig, version: int = 0) -> Path:
    path = tmp_path / "m.bin"
    llama2c.write_model(path, llama2c.random_model(config), version)
    return path


def test_table_and_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _model(tmp_path, LlamaConfig(64, 172, 5, 8, 4, 512, 512))
    assert run(main, [str(path), "--board", "rp2350", "--require"]) == 0
    out = capsys.readouterr().out
    assert "layer total" in out and "181,760" in out and "rp2350" in out and "fits" in out


def test_v2_file_plans_q8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _model(tmp_path, LlamaConfig(64, 128, 2, 4, 4, 64, 32), version=2)
    assert run(main, [str(path), "--json"]) == 0
    assert '"format": "q8"' in capsys.readouterr().out


def test_require_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 16 MB of f32 weights plus an 8 MB KV cache: too big for the RP2350 in every mode
    path = _model(tmp_path, LlamaConfig(512, 1024, 4, 8, 8, 1024, 512))
    assert run(main, [str(path), "--board", "rp2350", "--require"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: model does not fit rp2350") and err.count("\n") == 1


def test_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"not a model, clearly not a model")
    assert run(main, [str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: not a llama2.c model")


def test_paper_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # stories260K's shape: one layer has 2 norms of 64, wq/wo 64x64, wk/wv 32x64, w1-3 172x64
    path = _model(tmp_path, LlamaConfig(64, 192, 5, 8, 4, 512, 512))
    assert run(main, [str(path), "--paper"]) == 0
    out = capsys.readouterr().out
    assert "Figure 3" in out and "Figure 4" in out and "rms_att_weight" in out
    fp32 = 4 * (2 * 64 + 2 * 64 * 64 + 2 * 32 * 64 + 3 * 192 * 64)
    assert f"{fp32:,}" in out and f"{fp32 // 4 * 17 // 16:,}" in out
    assert run(main, [str(path), "--paper", "--json"]) == 0
    assert '"figure3"' in capsys.readouterr().out
    assert run(main, [str(path), "--paper", "--require"]) == 2
    assert "--paper takes neither" in capsys.readouterr().err


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
