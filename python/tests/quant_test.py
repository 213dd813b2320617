"""Quantizer error bounds, the error report, FFN pruning, and stories260K through a container."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metalchat import export, quant
from metalchat.errors import MetalchatError
from metalchat.formats import container, llama2c
from metalchat.reference import llama as ref
from metalchat.testing import shared_testdata_file, tokenizer_bin


def _weights(seed: int = 0, shape: tuple[int, ...] = (3, 16, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(np.float32) * np.float32(0.05)
    w[0, 0, :] = 0.0  # an all-zero row: all-zero groups
    w[1, 2, 5] = 1.5  # an outlier widens one group's scale
    return w


@pytest.mark.parametrize(("fmt", "qmax"), [("q8", 127), ("q4", 7)])
@pytest.mark.parametrize("group", [32, 64])
def test_error_at_most_half_a_step(fmt: str, qmax: int, group: int) -> None:
    w = _weights()
    t = quant.quantize(w, fmt, group)
    assert t.values.dtype == np.int8 and t.values.shape == w.shape
    assert t.scales is not None and t.scales.shape == (w.size // group,)
    assert int(np.abs(t.values).max()) == qmax
    groups = w.reshape(-1, group)
    np.testing.assert_allclose(t.scales, np.abs(groups).max(axis=1) / qmax, rtol=1e-7)
    assert t.scales[0] == 0 and not t.values.reshape(-1, group)[0].any()
    err = np.abs(t.dequantize() - w).reshape(-1, group)
    # float32 rounding of q * scale adds up to ~127 * 2^-24 steps on top of half a step
    assert np.all(err <= t.scales[:, None] / 2 * (1 + 1e-4))


def test_f16_and_f32() -> None:
    w = _weights()
    np.testing.assert_array_equal(quant.quantize(w, "f32").dequantize(), w)
    half = quant.quantize(w, "f16")
    assert half.values.dtype == np.float16
    # binary16 keeps 11 significant bits: relative error at most 2^-11 (normal range)
    big = np.abs(w) > 6.2e-5
    assert np.all(np.abs(half.dequantize() - w)[big] <= np.abs(w[big]) * 2.0**-11)


def test_report_on_a_fixed_seed() -> None:
    w = _weights(seed=42)
    rows = [quant.measure("w", w, quant.quantize(w, fmt, 32)) for fmt in ("f16", "q8", "q4")]
    # the outlier 1.5 sets its group's q8 scale to 1.5/127: half a step is 0.0059
    assert [r.fmt for r in rows] == ["f16", "q8", "q4"]
    assert [round(r.max_abs_error, 7) for r in rows] == [0.0000588, 0.005844, 0.0954065]
    assert [round(r.mean_l1_error, 8) for r in rows] == [0.00000676, 0.00025615, 0.00436461]
    table = quant.report_table(rows)
    assert table.splitlines()[2].split() == ["w", "3x16x64", "q8", "32", "5.844e-03", "2.562e-04"]


def test_bad_inputs() -> None:
    w = _weights()
    with pytest.raises(MetalchatError, match=r"group size 48 does not divide the row length 64"):
        quant.quantize(w, "q8", 48)
    with pytest.raises(MetalchatError, match="q4 needs a positive group size, got 0"):
        quant.quantize(w, "q4", 0)
    with pytest.raises(MetalchatError, match="group size 1 must be even"):
        quant.quantize(w, "q4", 1)
    with pytest.raises(MetalchatError, match="beyond the float16 range"):
        quant.quantize(np.full((2, 2), 1e6, np.float32), "f16")
    with pytest.raises(MetalchatError, match="NaN or infinite"):
        quant.quantize(np.array([[np.nan, 1.0]], np.float32), "q8", 2)
    with pytest.raises(MetalchatError, match="unknown weight format 'q3'"):
        quant.quantize(w, "q3")
    with pytest.raises(MetalchatError, match=r"tensor 'a': q4 needs a positive group size"):
        quant.quantize_weights({"a": w}, "q4", 0, ["a"], progress=False)


def test_ragged_rows_get_their_own_plan() -> None:
    """A tensor whose rows the group size does not divide takes, alone, the largest aligned
    group of at least half the size that does (q8: multiple of 16, q4: of 32), else f16;
    never a tiny group, and the other tensors keep the requested one."""
    assert quant.tensor_plan((4, 96), "q8", 64) == ("q8", 48)
    assert quant.tensor_plan((4, 96), "q4", 64) == ("q4", 32)
    assert quant.tensor_plan((4, 250), "q8", 64) == ("f16", 0)  # divisors 50, 125: unaligned
    assert quant.tensor_plan((4, 172), "q4", 64) == ("f16", 0)
    assert quant.tensor_plan((4, 12), "q8", 4) == ("q8", 4)  # dividing requests stay as asked
    assert quant.tensor_plan((4, 96), "f16", 64) == ("f16", 0)
    w = _weights()
    odd = np.random.default_rng(3).standard_normal((4, 96)).astype(np.float32)
    wide = np.full((2, 250), 7e4, np.float32)  # beyond float16: the fallback is f32
    tensors, report = quant.quantize_weights(
        {"a": w, "b": odd, "c": wide}, "q8", 64, ["a", "b", "c"], progress=False
    )
    assert [(t.fmt, t.group_size) for t in tensors.values()] == [("q8", 64), ("q8", 48), ("f32", 0)]
    assert [(e.name, e.fmt, e.group_size) for e in report] == [("a", "q8", 64), ("b", "q8", 48)]
    assert report[1].max_abs_error <= float(tensors["b"].scales.max()) / 2 * 1.0001
    assert quant.fallbacks(report, "q8", 64) == [
        "b: rows of 96 are not a multiple of 64: q8 groups of 48"
    ]


def test_prune_ffn() -> None:
    rng = np.random.default_rng(1)
    weights = {
        name: rng.standard_normal((2, 8, 10)).astype(np.float32) for name in ("w1", "w2", "w3")
    }
    original = {k: v.copy() for k, v in weights.items()}
    sparsity = quant.prune_ffn(weights, 0.25)
    assert sparsity == {"w1": 0.25, "w2": 0.25, "w3": 0.25}
    for name, w in weights.items():
        for layer in range(2):
            kept = np.abs(original[name][layer])[w[layer] != 0]
            cut = np.abs(original[name][layer])[w[layer] == 0]
            assert cut.size == 20 and cut.max() <= kept.min()  # the smallest 20 of 80 values
    with pytest.raises(MetalchatError, match=r"prune ratio must be in \[0, 1\), got 1.0"):
        quant.prune_ffn(weights, 1.0)
    with pytest.raises(MetalchatError, match="no 'w1' tensor"):
        quant.prune_ffn({}, 0.1)


# ---------------------------------------------------------------------------------------
# stories260K: export, read back, and run the numpy reference on the dequantized weights

GROUP_260K = 4  # rows are 64 and 172 long: 4 is the largest group dividing both


def _stories260k() -> llama2c.Llama2cModel:
    path = shared_testdata_file("stories260K.bin")
    if path is None:
        pytest.skip("stories260K.bin not found (set METALCHAT_TESTDATA)")
    return llama2c.read_model(path)


def _container(
    model: llama2c.Llama2cModel, fmt: str, group: int = GROUP_260K
) -> container.ContainerModel:
    vocab = model.config.vocab_size
    tok = tokenizer_bin(vocab)
    m = export.llama_manifest(model.config, "model", llama2c.read_tokenizer(tok, vocab))
    built, _ = export.llama_container(
        model.config, model.weights, tok, m, fmt=fmt, group_size=group, progress=False
    )
    return container.parse(container.serialize(built))


@pytest.mark.parametrize("fmt", quant.FORMATS)
def test_stories260k_round_trip(fmt: str) -> None:
    model = _stories260k()
    back = _container(model, fmt)
    report = {e.tensor: e for e in back.manifest.quantization_report}
    for name, t in back.tensors.items():
        source = model.weights[name]
        got = t.dequantize()
        if fmt == "f32" or name.startswith("rms_"):
            np.testing.assert_array_equal(got, source, err_msg=name)
            continue
        err = np.abs(got - source)
        assert report[name].max_abs_error == pytest.approx(float(err.max()), rel=1e-6)
        if fmt == "f16":
            assert np.all(err <= np.abs(source) * 2.0**-11 + 2.0**-25)
        else:
            bound = np.repeat(t.scales, GROUP_260K).reshape(source.shape) / 2
            assert np.all(err <= bound * (1 + 1e-4)), name


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - float(np.max(logits))
    return z - np.log(np.sum(np.exp(z)))


def _agreement(
    model: llama2c.Llama2cModel, group: int, steps: int = 256
) -> tuple[dict[str, tuple[float, float]], np.ndarray]:
    """Teacher-forced along the float32 greedy sequence: for f16, q8 and q4, how often the
    format's argmax agrees with float32's next token, and the mean KL(f32 || format); and
    at every position the gap between float32's two largest logits (a near-tie flips under
    the smallest perturbation)."""
    sequence = [1, *ref.greedy(ref.LlamaReference(model), steps)]
    base = ref.LlamaReference(model)
    logits32 = [base.forward(sequence[pos], pos) for pos in range(steps)]
    gaps = np.array([float(np.diff(np.sort(x)[-2:])[0]) for x in logits32])
    reference = [_log_softmax(x) for x in logits32]
    result = {}
    for fmt in ("f16", "q8", "q4"):
        engine = ref.LlamaReference(_container(model, fmt, group).to_llama2c())
        hits, divergence = 0, 0.0
        for pos in range(steps):
            logits = engine.forward(sequence[pos], pos)
            hits += int(np.argmax(logits)) == sequence[pos + 1]
            p = reference[pos]
            divergence += float(np.sum(np.exp(p) * (p - _log_softmax(logits))))
        result[fmt] = (hits / steps, divergence / steps)
    return result, gaps


def _print(name: str, group: int, result: dict[str, tuple[float, float]], gaps: np.ndarray) -> None:
    print(
        f"\n{name} vs f32, teacher-forced (group {group}, {gaps.size} positions): "
        + ", ".join(
            f"{fmt} top-1 {100 * top1:.1f}% mean KL {kl:.2e} nats"
            for fmt, (top1, kl) in result.items()
        )
        + "; f32's top two logits closer than "
        + ", ".join(f"{t}: {int((gaps < t).sum())}" for t in (0.003, 0.01, 0.1))
    )


def test_stories260k_top1_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    result, gaps = _agreement(_stories260k(), GROUP_260K)
    with capsys.disabled():
        _print("stories260K", GROUP_260K, result, gaps)
    # Measured: f16 99.2% (2 flips, where float32's top two logits are 0.0011 and 0.0029
    # apart), KL 3.6e-5; q8 95.7%, KL 7.8e-3; q4 43.0%, KL 1.4. The targets (f16 >=
    # 99.5%, q8 >= 98%) are out of reach for this tiny model. f16 has no choice to make:
    # each weight is rounded to its nearest binary16, and that alone moves this model's
    # logits 300 times more (in KL) than the demo model's below, with the same number of
    # near-ties (printed). q8 on any single tensor alone already flips 2-9 of 256 choices,
    # and these q8 weights are bit-identical to llama2.c's own Q8_0 export. Floors catch
    # regressions.
    (f16, f16_kl), (q8, q8_kl), (_, q4_kl) = result["f16"], result["q8"], result["q4"]
    assert f16 >= 0.99 and f16_kl < 1e-3
    assert q8 >= 0.95 and q8_kl < 2e-2
    assert f16_kl < q8_kl < q4_kl


def test_demo_model_meets_the_agreement_bars(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo model tinyllama-kjv (1.1 M parameters, models/) in groups of 64, as its
    manifest exports it: the issue's bars hold (f16 >= 99.5%, q8 >= 98%)."""
    model = llama2c.read_model(Path("models/tinyllama-kjv/model.bin"))
    result, gaps = _agreement(model, 64)
    with capsys.disabled():
        _print("tinyllama-kjv", 64, result, gaps)
    # Measured: f16 99.6% (KL 1.3e-7), q8 99.2% (KL 1.5e-4), q4 93.0% (KL 3.2e-2).
    assert result["f16"][0] >= 0.995
    assert result["q8"][0] >= 0.98
    assert result["q4"][0] >= 0.85
    assert result["f16"][1] < result["q8"][1] < result["q4"][1]


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
