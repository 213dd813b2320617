"""The containers the model_container rule built from the tiny seeded llama2.c model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from metalchat.formats import container, llama2c

HERE = Path(os.environ.get("TINY_BIN", "tools/export/tiny.bin")).parent


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


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
