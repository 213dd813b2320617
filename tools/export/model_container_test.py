"""The containers the model_container rule built, each driven by a model manifest: from the
tiny seeded llama2.c model (tiny.textproto) and //models:tinyllama-kjv_q8 (its committed
manifest.textproto)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from metalchat.formats import container, llama2c
from metalchat.manifest import pb

HERE = Path(os.environ.get("TINY_BIN", "tools/export/tiny.bin")).parent
KJV_MCM = Path(os.environ.get("KJV_MCM", "models/tinyllama-kjv_q8.mcm"))


@pytest.mark.parametrize("fmt", ["f32", "q8", "q4"])
def test_rule_output_round_trips(fmt: str) -> None:
    source = llama2c.read_model(HERE / "tiny.bin")
    model = container.read_container(HERE / f"tiny_{fmt}.mcm")
    assert model.manifest.name == f"tiny_{fmt}"
    assert model.llama_config().dim == source.config.dim
    assert [s.path for s in model.manifest.provenance.sources] == ["tiny.bin", "tiny_tokenizer.bin"]
    for name, t in model.tensors.items():
        w = source.weights[name]
        if fmt == "f32" or name.startswith("rms_"):
            np.testing.assert_array_equal(t.dequantize(), w, err_msg=name)
        else:
            assert t.group_size == 32
            bound = np.repeat(t.scales, 32).reshape(w.shape) / 2
            assert np.all(np.abs(t.dequantize() - w) <= bound * (1 + 1e-4)), name


def test_tinyllama_kjv_q8_follows_its_manifest() -> None:
    source = llama2c.read_model(KJV_MCM.parent / "tinyllama-kjv" / "model.bin")
    model = container.read_container(KJV_MCM)
    m = model.manifest
    assert m.name == "tinyllama-kjv" and m.chat_template.kind == pb.CHAT_TEMPLATE_NONE
    assert model.llama_config().dim == source.config.dim == 128
    for name, t in model.tensors.items():
        w = source.weights[name]
        if name.startswith("rms_"):
            np.testing.assert_array_equal(t.dequantize(), w, err_msg=name)
            continue
        assert (t.fmt, t.group_size) == ("q8", 64), name
        bound = np.repeat(t.scales, 64).reshape(w.shape) / 2
        assert np.all(np.abs(t.dequantize() - w) <= bound * (1 + 1e-4)), name


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
