"""The model region's fit check (tools/flash, metalchat.planner.place): what does not fit the
board is refused with one line, and what fits gets a printed placement."""

from __future__ import annotations

import os
from pathlib import Path

import flash
import pytest

from metalchat import planner
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError

DEMO = Path(os.environ.get("DEMO", "tinyllama-kjv_q8.mcm"))


def test_demo_model_fits_the_pico2_with_its_placement(capsys) -> None:
    assert flash.main(["--target", "rp2350-pico2", "--model", f"kjv={DEMO}"]) == 0
    out = capsys.readouterr().out
    assert "flash (in place, XIP)" in out and "context 128 (capped: the model has 256)" in out


def test_too_many_models_for_the_pico2_flash_are_refused_in_one_line(capsys) -> None:
    models = [x for i in range(4) for x in ("--model", f"kjv{i}={DEMO}")]
    assert flash.main(["--target", "rp2350-pico2", *models]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "do not fit rp2350-pico2's flash" in err, err
    # the Pico Plus 2W's 16 MB take them
    assert flash.main(["--target", "rp2350-plus2w", *models]) == 0


def test_a_model_whose_state_exceeds_the_sram_is_refused() -> None:
    big = LlamaConfig(
        dim=512, hidden_dim=1376, n_layers=8, n_heads=8, n_kv_heads=8, vocab_size=32000, seq_len=512
    )
    with pytest.raises(MetalchatError, match="does not fit rp2350-pico2: even with a 64-token"):
        planner.place("big", big, "q8", 64, 10 << 20, 400_000, planner.mcu_target("rp2350-pico2"))


STORIES260K = LlamaConfig(
    dim=64, hidden_dim=172, n_layers=5, n_heads=8, n_kv_heads=4, vocab_size=512, seq_len=512
)


def test_stories260k_shape_copied_to_sram_in_q4_kept_in_flash_in_q8() -> None:
    pico2 = planner.mcu_target("rp2350-pico2")
    q4 = planner.place("s260k", STORIES260K, "q4", 4, 160_000, 6_000, pico2)
    assert q4.weights_in == "SRAM" and q4.context == 128
    # q8 and a 128-token context do not fit together: the weights stay in flash and the
    # context is the longest that fits beside the state
    q8 = planner.place("s260k", STORIES260K, "q8", 4, 300_000, 6_000, pico2)
    assert q8.weights_in == "flash" and q8.context == 256


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
