"""Memory planner: per-layer tables and board verdicts, checked by hand arithmetic."""

from __future__ import annotations

import pytest

from metalchat import planner
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError

STORIES260K = LlamaConfig(64, 172, 5, 8, 4, 512, 512)
LLAMA2_7B = LlamaConfig(4096, 11008, 32, 32, 32, 32000, 2048, shared_classifier=False)


def test_stories260k_f32_by_hand() -> None:
    p = planner.plan(STORIES260K, "f32")
    # one layer: 2 norms of 64, wq/wo 64x64, wk/wv 32x64, w1/w2/w3 172x64, 4 bytes each
    assert p.layer_bytes == 4 * (2 * 64 + 2 * 64 * 64 + 2 * 32 * 64 + 3 * 172 * 64)
    # same bytes as the tensors of stories260K.bin, minus its 28-byte header and freq_cis
    assert p.weights_bytes == 1056540 - 28 - 2 * 512 * 4 * 4
    assert p.kv_cache == 2 * 5 * 512 * 32 * 4
    assert p.streamed_bytes == 4 * (512 * 64 + 64) + p.layer_bytes + p.kv_cache + p.activations
    assert planner.fit(p, planner.board("rp2350")).verdict == "fits"


def test_q8_group_overhead() -> None:
    p = planner.plan(STORIES260K, "q8", 64)
    wq = next(r for r in p.layer if r.name == "wq")
    assert wq.bytes == 64 * 64 + 4 * (64 * 64 // 64)
    rms = next(r for r in p.layer if r.name == "rms_att")
    assert rms.bytes == 4 * 64  # norms stay float32
    q4 = planner.plan(STORIES260K, "q4", 64)
    assert next(r for r in q4.layer if r.name == "wq").bytes == 64 * 64 // 2 + 4 * 64


def test_llama2_7b_verdicts() -> None:
    f32 = planner.plan(LLAMA2_7B, "f32")
    assert f32.weights_bytes == 4 * 6_738_415_616  # Llama 2 7B parameter count
    q8 = planner.plan(LLAMA2_7B, "q8", 64)
    rpi4 = planner.fit(q8, planner.board("rpi4"))
    assert rpi4.verdict == "fits streamed"  # 7.2 GB of weights, about 2.5 GB streamed
    # 6.67 GiB of weights + 2 GiB KV cache > 7.88 GiB; with a 1024 context it fits whole
    assert planner.fit(q8, planner.board("rpi4-8gb")).verdict == "fits streamed"
    ctx1k = LlamaConfig(**{**LLAMA2_7B.__dict__, "seq_len": 1024})
    assert planner.fit(planner.plan(ctx1k, "q8"), planner.board("rpi4-8gb")).verdict == "fits"
    assert planner.fit(q8, planner.board("rpi0")).verdict == "does not fit"  # 2 GiB KV cache
    with pytest.raises(MetalchatError, match="model does not fit rpi0: q8 weights"):
        planner.require_fit(q8, "rpi0")
    short = LlamaConfig(**{**LLAMA2_7B.__dict__, "seq_len": 128})
    # even with a 128 context: embedding + classifier (2 x 139 MB) + one layer (215 MB)
    # + KV cache (128 MiB) = 599 MiB streamed, over the Pi Zero's 416 MiB
    short_plan = planner.plan(short, "q8")
    assert planner.human(short_plan.streamed_bytes) == "599.03 MiB"
    assert planner.fit(short_plan, planner.board("rpi0")).verdict == "does not fit"


def test_rp2350_weights_in_flash() -> None:
    # ~3.4M parameters: 13.6 MB f32 does not fit 8 MB PSRAM but does fit 15 MB of flash
    config = LlamaConfig(288, 768, 3, 6, 6, 512, 256)
    p = planner.plan(config, "f32")
    assert p.whole_bytes > planner.board("rp2350").ram
    assert planner.fit(p, planner.board("rp2350")).verdict == "fits (weights in flash)"


def test_errors() -> None:
    with pytest.raises(MetalchatError, match="unknown weight format 'q3'"):
        planner.plan(STORIES260K, "q3")
    with pytest.raises(MetalchatError, match="unknown board 'rpi5'"):
        planner.board("rpi5")
    with pytest.raises(MetalchatError, match="do not split into groups of 48"):
        planner.plan(STORIES260K, "q8", 48)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
