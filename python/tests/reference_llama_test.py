"""The numpy reference Llama: math checks, and greedy parity with llama2.c's run.c."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import llama2c
from metalchat.reference import llama as ref
from metalchat.testing import shared_testdata_file

TINY = LlamaConfig(
    dim=16, hidden_dim=24, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=20, seq_len=12
)


def test_rmsnorm_and_silu() -> None:
    x = np.array([3.0, 4.0], dtype=np.float32)
    out = ref.rmsnorm(x, np.array([1.0, 2.0], dtype=np.float32), 0.0)
    rms = np.sqrt((9 + 16) / 2)
    np.testing.assert_allclose(out, [3 / rms, 8 / rms], rtol=1e-6)
    np.testing.assert_allclose(
        ref.silu(np.array([0.0, 1.0], np.float32)), [0.0, 1 / (1 + np.exp(-1))], rtol=1e-6
    )


def test_rope_rotates_adjacent_pairs() -> None:
    x = np.array([[1.0, 0.0, 0.0, 1.0]], dtype=np.float32)
    cos = np.array([0.0, 1.0], np.float32)
    sin = np.array([1.0, 0.0], np.float32)
    # pair (0,1) turns by 90 degrees, pair (2,3) by 0
    np.testing.assert_allclose(ref.apply_rope(x, cos, sin), [[0.0, 1.0, 0.0, 1.0]], atol=1e-7)
    c, s = ref.rope_tables(LlamaConfig(8, 8, 1, 2, 2, 4, 3))
    assert c.shape == (3, 2)
    # position 2, pair 1 of head size 4: angle 2 * 10000^(-2/4) = 0.02
    np.testing.assert_allclose([c[2, 1], s[2, 1]], [np.cos(0.02), np.sin(0.02)], rtol=1e-6)


def _naive_logits(model: llama2c.Llama2cModel, tokens: list[int]) -> np.ndarray:
    """Full-sequence causal attention in float64, without a cache: logits at the last token."""
    c = model.config
    w = {k: v.astype(np.float64) for k, v in model.weights.items()}
    hs, group = c.head_size, c.n_heads // c.n_kv_heads
    T = len(tokens)
    x = w["token_embedding"][tokens]  # (T, dim)
    pos = np.arange(T)[:, None]
    inv = 1.0 / (c.rope_theta ** (np.arange(0, hs, 2) / hs))
    ang = pos * inv[None, :]  # (T, hs/2)

    def rot(m: np.ndarray) -> np.ndarray:  # (T, heads, hs)
        e, o = m[..., 0::2], m[..., 1::2]
        cs, sn = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        out = np.empty_like(m)
        out[..., 0::2] = e * cs - o * sn
        out[..., 1::2] = e * sn + o * cs
        return out

    def norm(v: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g * v / np.sqrt((v * v).mean(-1, keepdims=True) + c.norm_eps)

    for layer in range(c.n_layers):
        h = norm(x, w["rms_att"][layer])
        q = rot((h @ w["wq"][layer].T).reshape(T, c.n_heads, hs))
        k = rot((h @ w["wk"][layer].T).reshape(T, c.n_kv_heads, hs))
        v = (h @ w["wv"][layer].T).reshape(T, c.n_kv_heads, hs)
        k = np.repeat(k, group, axis=1)
        v = np.repeat(v, group, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(hs)
        s = s + np.triu(np.full((T, T), -np.inf), 1)[None]
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", a, v).reshape(T, c.dim)
        x = x + o @ w["wo"][layer].T
        h = norm(x, w["rms_ffn"][layer])
        g = h @ w["w1"][layer].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ w["w3"][layer].T)) @ w["w2"][layer].T
    x = norm(x, w["rms_final"])
    cls = w["token_embedding"] if c.shared_classifier else w["wcls"]
    return x[-1] @ cls.T


@pytest.mark.parametrize("shared", [True, False])
def test_kv_cache_matches_full_attention(shared: bool) -> None:
    config = LlamaConfig(**{**TINY.__dict__, "shared_classifier": shared})
    model = llama2c.random_model(config, seed=11, scale=0.3)
    engine = ref.LlamaReference(model)
    tokens = [1, 5, 7, 3, 19, 0, 2]
    for pos, token in enumerate(tokens):
        logits = engine.forward(token, pos)
        expected = _naive_logits(model, tokens[: pos + 1])
        np.testing.assert_allclose(logits, expected, rtol=2e-4, atol=2e-5)


def test_forward_checks_arguments() -> None:
    engine = ref.LlamaReference(llama2c.random_model(TINY))
    with pytest.raises(MetalchatError, match="token 20 is outside the vocabulary"):
        engine.forward(20, 0)
    with pytest.raises(MetalchatError, match="position 3 skips ahead"):
        engine.forward(1, 3)
    with pytest.raises(MetalchatError, match="position 12 is outside the context"):
        engine.forward(1, 12)


def test_stories260k_greedy_matches_run_c() -> None:
    weights = shared_testdata_file("stories260K.bin")
    reference = shared_testdata_file("stories260K.llama2c_reference.json")
    if weights is None or reference is None:
        pytest.skip("stories260K.bin / its reference json not found (set METALCHAT_TESTDATA)")
    runs = json.loads(reference.read_text())["runs"]
    expected = next(r["ids"] for r in runs if r["temperature"] == 0.0)
    engine = ref.LlamaReference(llama2c.read_model(weights))
    got = ref.greedy(engine, steps=256)  # run.c -n 256: 256 positions, 256 ids
    assert len(expected) == 256
    assert got == expected  # all 256, not just a prefix


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
