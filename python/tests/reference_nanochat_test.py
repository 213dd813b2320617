"""The numpy nanochat GPT: cache vs full sequence, windows, softcap, vocab padding, and one
tiny case computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metalchat.errors import MetalchatError
from metalchat.reference import nanochat as nc

SMALL = nc.NanochatConfig(
    sequence_len=260, vocab_size=70, n_layer=3, n_head=4, n_kv_head=2, n_embd=32
)


def test_shapes_windows_and_names() -> None:
    assert SMALL.padded_vocab_size == 128
    assert SMALL.short_window == 128  # 260 // 4 = 65, rounded up to 128
    assert SMALL.window_sizes() == [128, 128, 260]  # "SSSL" tiled, last layer always full
    upstream = nc.NanochatConfig(2048, 32768, 12, 6, 6, 768)
    assert upstream.short_window == 512  # upstream's code; its comment says 768
    assert upstream.window_sizes() == [512, 512, 512, 2048] * 3
    assert nc.NanochatConfig(513, 10, 1, 1, 1, 24).short_window == 256  # ceil(513 / 4) = 129
    assert nc.NanochatConfig(64, 10, 3, 1, 1, 24, window_pattern="L").window_sizes() == [64] * 3
    assert nc.NanochatConfig(64, 10, 4, 1, 1, 24).value_embed_layers == [1, 3]
    assert SMALL.value_embed_layers == [0, 2]  # alternating, the last layer included
    assert SMALL.backout_layer == 1
    shapes = SMALL.tensor_shapes()
    assert shapes["transformer.h.0.attn.ve_gate.weight"] == (2, 12)  # (n_kv_head, 12)
    assert "transformer.h.1.attn.ve_gate.weight" not in shapes
    assert shapes["smear_gate.weight"] == (1, 24)
    assert shapes["value_embeds.2.weight"] == (128, 16)  # (padded vocab, kv_dim)
    assert shapes["transformer.h.0.attn.c_k.weight"] == (16, 32)
    assert shapes["transformer.h.0.mlp.c_fc.weight"] == (128, 32)
    assert shapes["lm_head.weight"] == shapes["transformer.wte.weight"] == (128, 32)
    assert {"resid_lambdas", "x0_lambdas", "smear_lambda", "backout_lambda"} <= set(shapes)
    assert len(shapes) == 5 + 3 * 6 + 2 + 1 + 1 + 2


def test_cache_matches_full_sequence_past_the_window() -> None:
    model = nc.NanochatReference(SMALL, nc.random_weights(SMALL, seed=1))
    tokens = np.random.default_rng(2).integers(0, SMALL.vocab_size, 150).tolist()
    full = model.forward_sequence(tokens)
    assert full.shape == (150, 70)
    step = np.stack([model.forward(t, pos) for pos, t in enumerate(tokens)])
    np.testing.assert_allclose(step, full, atol=2e-5)
    # rewinding reuses the cache from that position on
    np.testing.assert_allclose(model.forward(tokens[5], 5), full[5], atol=2e-5)


def test_window_masking_changes_late_positions_only() -> None:
    weights = nc.random_weights(SMALL, seed=3)
    tokens = np.random.default_rng(4).integers(0, SMALL.vocab_size, 140).tolist()
    windowed = nc.NanochatReference(SMALL, weights).forward_sequence(tokens)
    full_cfg = nc.NanochatConfig(**{**SMALL.__dict__, "window_pattern": "L"})
    full = nc.NanochatReference(full_cfg, weights).forward_sequence(tokens)
    # a query at position p sees p + 1 keys; the short window (128) allows 129
    np.testing.assert_allclose(windowed[:129], full[:129], atol=1e-5)
    assert np.abs(windowed[129:] - full[129:]).max() > 1e-3


def test_softcap_bounds_and_vocab_cropping() -> None:
    weights = nc.random_weights(SMALL, seed=5)
    weights["lm_head.weight"] = weights["lm_head.weight"] * 1000
    model = nc.NanochatReference(SMALL, weights)
    logits = model.forward(3, 0)
    assert logits.shape == (70,)
    assert np.all(np.abs(logits) <= 15.0) and np.abs(logits).max() > 14.9
    # the padded rows 70..127 never reach the logits
    weights["lm_head.weight"][70:] = 1e6
    np.testing.assert_array_equal(nc.NanochatReference(SMALL, weights).forward(3, 0), logits)
    with pytest.raises(MetalchatError, match=r"token 70 is outside the vocabulary \(0\.\.69\)"):
        model.forward(70, 1)
    with pytest.raises(MetalchatError, match="position 5 skips ahead"):
        model.forward(1, 5)


def test_weights_are_checked() -> None:
    weights = nc.random_weights(SMALL)
    del weights["value_embeds.0.weight"]
    with pytest.raises(MetalchatError, match=r"'value_embeds\.0\.weight' is missing"):
        nc.NanochatReference(SMALL, weights)
    weights = nc.random_weights(SMALL)
    weights["transformer.h.1.attn.ve_gate.weight"] = np.zeros((2, 12), np.float32)
    with pytest.raises(MetalchatError, match=r"unexpected tensors.*h\.1\.attn\.ve_gate"):
        nc.NanochatReference(SMALL, weights)
    with pytest.raises(MetalchatError, match=r"smear_channels 24 must be in 1\.\.n_embd"):
        nc.NanochatConfig(16, 10, 1, 2, 2, 8).validate()


def test_rope_turns_by_minus_theta() -> None:
    x = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)  # channel 0 pairs with channel 2
    out = nc.apply_rope(x, np.array([0.0, 1.0], np.float32), np.array([1.0, 0.0], np.float32))
    np.testing.assert_allclose(out, [[0.0, 0.0, -1.0, 0.0]], atol=1e-7)


# --- one tiny model, by hand ----------------------------------------------------------


def _hand_logits(cfg: nc.NanochatConfig, w: dict[str, np.ndarray], tokens: list[int]) -> list:
    """Float64 scalar loops, written from the spec, rotating with complex numbers."""
    hd, H, Hkv = cfg.head_dim, cfg.n_head, cfg.n_kv_head
    g = {k: v.astype(np.float64).tolist() for k, v in w.items()}
    eps = cfg.norm_eps

    def rms(v: list[float]) -> list[float]:
        s = math.sqrt(sum(a * a for a in v) / len(v) + eps)
        return [a / s for a in v]

    def mat(m: list[list[float]], v: list[float]) -> list[float]:
        return [sum(r[j] * v[j] for j in range(len(v))) for r in m]

    def sig(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    def rot(v: list[float], pos: int) -> list[float]:
        half = hd // 2
        out = [0.0] * hd
        for i in range(half):
            z = complex(v[i], v[i + half]) * complex(
                math.cos(pos * cfg.rope_theta ** (-2 * i / hd)),
                -math.sin(pos * cfg.rope_theta ** (-2 * i / hd)),
            )
            out[i], out[i + half] = z.real, z.imag
        return out

    emb = [rms(g["transformer.wte.weight"][t]) for t in tokens]
    keys: list[list[list[float]]] = []
    vals: list[list[list[float]]] = []
    results = []
    for pos, tok in enumerate(tokens):
        x = list(emb[pos])
        if pos:
            gate = g["smear_lambda"][0] * sig(
                sum(
                    a * b
                    for a, b in zip(
                        g["smear_gate.weight"][0], emb[pos][: cfg.smear_channels], strict=True
                    )
                )
            )
            x = [a + gate * b for a, b in zip(x, emb[pos - 1], strict=True)]
        x0 = list(x)
        x = [g["resid_lambdas"][0] * a + g["x0_lambdas"][0] * b for a, b in zip(x, x0, strict=True)]
        h = rms(x)
        p = "transformer.h.0."
        q = mat(g[p + "attn.c_q.weight"], h)
        k = mat(g[p + "attn.c_k.weight"], h)
        v = mat(g[p + "attn.c_v.weight"], h)
        ve = g["value_embeds.0.weight"][tok]
        gates = mat(g[p + "attn.ve_gate.weight"], h[: cfg.value_embed_gate_channels])
        for kv in range(Hkv):
            for d in range(hd):
                v[kv * hd + d] += 3.0 * sig(gates[kv]) * ve[kv * hd + d]
        qh = [[1.2 * a for a in rms(rot(q[j * hd : (j + 1) * hd], pos))] for j in range(H)]
        keys.append(
            [[1.2 * a for a in rms(rot(k[j * hd : (j + 1) * hd], pos))] for j in range(Hkv)]
        )
        vals.append([v[j * hd : (j + 1) * hd] for j in range(Hkv)])
        heads: list[float] = []
        for j in range(H):
            kv = j // (H // Hkv)
            s = [
                sum(a * b for a, b in zip(qh[j], keys[t][kv], strict=True)) / math.sqrt(hd)
                for t in range(pos + 1)
            ]
            m = max(s)
            e = [math.exp(a - m) for a in s]
            heads += [
                sum(e[t] * vals[t][kv][d] for t in range(pos + 1)) / sum(e) for d in range(hd)
            ]
        x = [a + b for a, b in zip(x, mat(g[p + "attn.c_proj.weight"], heads), strict=True)]
        hidden = [max(a, 0.0) ** 2 for a in mat(g[p + "mlp.c_fc.weight"], rms(x))]
        x = [a + b for a, b in zip(x, mat(g[p + "mlp.c_proj.weight"], hidden), strict=True)]
        x = rms([a - g["backout_lambda"][0] * a for a in x])  # backout layer 0 = this layer
        logits = mat(g["lm_head.weight"], x)[: cfg.vocab_size]
        results.append([15.0 * math.tanh(a / 15.0) for a in logits])
    return results


def test_tiny_model_by_hand() -> None:
    cfg = nc.NanochatConfig(
        sequence_len=4, vocab_size=5, n_layer=1, n_head=2, n_kv_head=1, n_embd=8,
        smear_channels=8, value_embed_gate_channels=4, rope_theta=3.0,
    )  # fmt: skip
    weights = nc.random_weights(cfg, seed=7)
    weights["lm_head.weight"] *= 8  # logits large enough that softcap bends them
    tokens = [1, 4, 4, 0]
    expected = np.array(_hand_logits(cfg, weights, tokens))
    model = nc.NanochatReference(cfg, weights)
    got = np.stack([model.forward(t, pos) for pos, t in enumerate(tokens)])
    np.testing.assert_allclose(got, expected, atol=2e-5)
    np.testing.assert_allclose(model.forward_sequence(tokens), expected, atol=2e-5)
    assert np.abs(expected).max() > 5


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
