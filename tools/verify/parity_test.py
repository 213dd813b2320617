"""The host C engines against the numpy references (metalchat.reference), on the random
models of engines/testdata: max |dlogit| / max |logit| at every position of a 32-token prompt
must be at most 1e-4 for f32 and f16 weights. q8/q4 engines also quantize activations to int8
(as llama2.c's runq.c does), so their bound is 0.1; the figures are printed either way."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import verify

from metalchat import testmodels
from metalchat.export import inferpi_model
from metalchat.formats import container, llama2c
from metalchat.reference.llama import LlamaReference
from metalchat.reference.nanochat import NanochatReference

ENGINE_CLI = Path(os.environ.get("ENGINE_CLI", "tools/engine_cli/engine_cli"))
HERE = Path("engines/testdata")
CONTAINERS = sorted(p.stem for p in HERE.glob("*.mcm"))


def test_all_models_present() -> None:
    assert len(CONTAINERS) >= 12, CONTAINERS


@pytest.mark.parametrize("name", CONTAINERS)
def test_engine_matches_reference(name: str) -> None:
    quantized = name.endswith(("_q8", "_q4"))
    result = verify.compare(
        HERE / f"{name}.mcm",
        ENGINE_CLI,
        prompt_len=32,
        seed=3,
        tolerance=0.1 if quantized else 1e-4,
    )
    print(f"{name}: worst max|dlogit|/max|logit| over 32 positions = {result.worst:.3e}")
    assert len(result.per_position) == 32
    assert result.ok, result.per_position


@pytest.mark.parametrize("name", CONTAINERS)
def test_threads_give_the_same_logits(name: str) -> None:
    """engine_cli --threads splits matrix rows and attention heads over a pthread pool; each
    output is still computed by one thread in the same order, so the logits are bit-equal."""
    model = container.parse((HERE / f"{name}.mcm").read_bytes())
    vocab = model.manifest.tokenizer.vocab_size
    ids = [int(i) for i in np.random.default_rng(5).integers(0, vocab, 16)]
    one = verify.engine_logits(ENGINE_CLI, HERE / f"{name}.mcm", ids, vocab)
    three = verify.engine_logits(ENGINE_CLI, HERE / f"{name}.mcm", ids, vocab, threads=3)
    np.testing.assert_array_equal(three, one)


def test_inferpi_fp16_matches_reference_with_f16_weights() -> None:
    config = testmodels.LLAMA_SPECS["llama_odd_mqa"]
    model = testmodels.llama_model(config, 1)
    path = HERE / "llama_odd_mqa_inferpi.bin"
    assert path.read_bytes() == inferpi_model(config, model.weights)
    rounded = {k: v.astype(np.float16).astype(np.float32) for k, v in model.weights.items()}
    ref = LlamaReference(llama2c.Llama2cModel(config, rounded))
    ids = [int(i) for i in np.random.default_rng(4).integers(0, config.vocab_size, 32)]
    want = np.stack([ref.forward(t, p) for p, t in enumerate(ids)])
    got = verify.engine_logits(ENGINE_CLI, path, ids, config.vocab_size)
    worst = float((np.abs(got - want).max(axis=1) / np.abs(want).max(axis=1)).max())
    print(f"llama_odd_mqa_inferpi: worst {worst:.3e}")
    assert worst <= 1e-4


def test_windows_value_embeddings_and_smear_change_the_logits() -> None:
    """The nanochat parity would be vacuous if windows, value embeddings or smear did not
    matter on these models: switching each off moves the reference's logits by far more
    than the tolerance."""
    model = container.parse((HERE / "nanochat_windows_gqa_f32.mcm").read_bytes())
    ref = verify.nanochat_reference(model)
    ids = list(range(5, 37))
    base = np.stack([ref.forward(t, p) for p, t in enumerate(ids)])

    def run(config: testmodels.NanochatConfig, weights: dict[str, np.ndarray]) -> np.ndarray:
        r = NanochatReference(config, weights)
        return np.stack([r.forward(t, p) for p, t in enumerate(ids)])

    full = dataclasses.replace(ref.config, window_pattern="L")
    assert np.abs(run(full, ref.w) - base).max() > 1e-2
    no_ve = {k: (v * 0 if k.startswith("value_embeds") else v) for k, v in ref.w.items()}
    assert np.abs(run(ref.config, no_ve) - base).max() > 1e-2
    no_smear = {**ref.w, "smear_lambda": ref.w["smear_lambda"] * 0}
    assert np.abs(run(ref.config, no_smear) - base).max() > 1e-2


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
