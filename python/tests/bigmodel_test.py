"""metalchat.bigmodel on a small shape: the layer-by-layer writer gives a container the
reader accepts whole (every CRC) with the seeded, pruned, quantized weights; shards read back
as the file; the layer-by-layer reference equals the whole-model reference."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from metalchat import bigmodel, quant
from metalchat.config import LlamaConfig
from metalchat.formats import container
from metalchat.reference.llama import LlamaReference

CONFIG = LlamaConfig(128, 256, 3, 4, 2, 512, 32, shared_classifier=False)


def test_written_model_reads_back_and_references_agree(tmp_path: Path) -> None:
    path = tmp_path / "big.mcm"
    size = bigmodel.write_model(path, CONFIG, seed=5, group_size=64, prune=0.5)
    assert size == path.stat().st_size
    m = container.read_container(path)  # every CRC and field checked
    got_config = m.llama_config()
    assert got_config == replace(CONFIG, norm_eps=got_config.norm_eps)  # stored as float32
    w1 = m.tensors["w1"]
    assert w1.fmt == "q8" and w1.group_size == 64
    zeros = float(np.mean(w1.values == 0))
    assert zeros >= 0.5  # half of each FFN matrix pruned to zero (and a few rounded to it)
    seeded = bigmodel._draw(5, "wq", 1, (128, 128))
    assert np.array_equal(m.tensors["wq"].values[1], quant.quantize(seeded, "q8", 64).values)

    tokens = [1, 42, 7]
    whole = LlamaReference(m.to_llama2c())
    expected = [whole.forward(t, i) for i, t in enumerate(tokens)][-1]
    got = bigmodel.reference_logits([path], tokens)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    data = path.read_bytes()
    parts = bigmodel.shard(path, 100_000)
    assert not path.exists() and len(parts) == -(-len(data) // 100_000)
    assert b"".join(p.read_bytes() for p in parts) == data
    assert np.array_equal(bigmodel.reference_logits(parts, tokens), got)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
