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
    # streamed: two buffers of the biggest stage (a layer's FFN half, just above the shared
    # classifier's 512x64), the norms
    assert p.stage_bytes == 4 * 3 * 172 * 64 > 4 * 512 * 64
    norms = 4 * (2 * 5 * 64 + 64)
    assert p.streamed_bytes == 2 * p.stage_bytes + norms + p.kv_cache + p.activations
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
    # 7.2 GB of weights: streamed in two buffers of the biggest stage (the FFN half of a layer,
    # 144 MB) beside the norms, KV cache and activations; the 2 GiB KV cache of the full
    # context leaves room
    assert rpi4.verdict == "fits streamed" and rpi4.context == 2048
    assert q8.stage_bytes == 3 * (4096 * 11008 + 4 * 4096 * 11008 // 64) == 143_720_448
    assert q8.streamed_per_token == 32 * (q8.layer_bytes - 2 * 4 * 4096) + 32000 * 4096 * 17 // 16
    assert "s/token at least" in rpi4.details[0]
    # 6.67 GiB of weights + 2 GiB KV cache > 7.88 GiB; with a 1024 context it fits whole
    assert planner.fit(q8, planner.board("rpi4-8gb")).verdict == "fits streamed"
    ctx1k = LlamaConfig(**{**LLAMA2_7B.__dict__, "seq_len": 1024})
    assert planner.fit(planner.plan(ctx1k, "q8"), planner.board("rpi4-8gb")).verdict == "fits"
    # the Pi Zero: streamed with the context capped to 128 (the session caps it the same way),
    # 280.8 s/token of SD reads at 25 MB/s
    rpi0 = planner.fit(q8, planner.board("rpi0"))
    assert (
        rpi0.verdict == "fits streamed (context 128)" and rpi0.needed <= planner.board("rpi0").ram
    )
    assert round(rpi0.seconds_per_token, 1) == 280.8
    f32 = planner.plan(LLAMA2_7B, "f32")
    assert planner.fit(f32, planner.board("rpi0")).verdict == "does not fit"
    with pytest.raises(MetalchatError, match="model does not fit rpi0: f32 weights"):
        planner.require_fit(f32, "rpi0")


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


# The llama.pi paper's tables for Llama2-7B exactly as printed (M. Ding, "Llama2.pi: Running
# LLMs on the Bleeding Edge", Stanford CS224N 2024, paper.pdf in github.com/mattyding/llama.pi,
# pages 4-5): tensor -> (FP32 bytes, INT8 bytes). See docs/PLANNER.md.
PAPER_FIGURE_3 = {
    "token_embedding_table": (524_288_000, 139_264_000),
    "rms_att_weight": (524_288, 139_264),
    "wq": (2_147_483_648, 671_088_640),
    "wk": (2_147_483_648, 671_088_640),
    "wv": (2_147_483_648, 671_088_640),
    "wo": (2_147_483_648, 671_088_640),
    "rms_ffn_weight": (524_288, 139_264),
    "w1": (5_771_362_304, 1_533_018_112),
    "w2": (5_771_362_304, 1_533_018_112),
    "w3": (5_771_362_304, 1_533_018_112),
    "rms_final_weight": (16_384, 4_352),
    "wcls": (524_288_000, 139_264_000),
}
PAPER_FIGURE_3_TOTAL = (26_953_646_080, 7_562_219_776)
PAPER_FIGURE_4 = {
    "rms_att_weight": (16_384, 4_352),
    "wq": (67_108_864, 17_825_792),
    "wk": (67_108_864, 17_825_792),
    "wv": (67_108_864, 17_825_792),
    "wo": (67_108_864, 17_825_792),
    "rms_ffn_weight": (16_384, 4_352),
    "w1": (180_355_072, 47_906_816),
    "w2": (180_355_072, 47_906_816),
    "w3": (180_355_072, 47_906_816),
}
PAPER_FIGURE_4_TOTAL = (809_533_440, 215_032_320)
# The printed cells no single convention gives (docs/PLANNER.md, "Errata"): the four INT8
# attention rows of Figure 3 (1.25 bytes a value where every other INT8 cell, Figure 4's
# own wq..wo included, is 1 + 4/64), and Figure 3's FP32 total (rms_final_weight left out).
PAPER_ATTENTION = ("wq", "wk", "wv", "wo")


def _cells(rows: list[planner.PaperRow]) -> dict[str, tuple[int, int]]:
    return {r.name: (r.fp32, r.int8) for r in rows}


def test_paper_figure_4_exact() -> None:
    t = planner.paper_tables(LLAMA2_7B, 64)
    assert _cells(t.layer) == PAPER_FIGURE_4
    assert list(_cells(t.layer)) == list(PAPER_FIGURE_4)  # same rows, same order
    assert t.totals(t.layer) == PAPER_FIGURE_4_TOTAL


def test_paper_figure_3_exact_but_errata() -> None:
    t = planner.paper_tables(LLAMA2_7B, 64)
    ours = _cells(t.model)
    assert list(ours) == list(PAPER_FIGURE_3)
    # every FP32 cell, and every INT8 cell but the four attention matrices, exactly
    assert {n: c[0] for n, c in ours.items()} == {n: c[0] for n, c in PAPER_FIGURE_3.items()}
    for name, (_, int8) in PAPER_FIGURE_3.items():
        if name not in PAPER_ATTENTION:
            assert ours[name][1] == int8, name
    # the attention matrices: 32 layers of Figure 4's 17,825,792, not the printed 671,088,640
    # (which is 1.25 bytes a value: 2,147,483,648 / 4 * 5 / 4)
    for name in PAPER_ATTENTION:
        assert ours[name][1] == 32 * PAPER_FIGURE_4[name][1] == 570_425_344
        assert PAPER_FIGURE_3[name][1] == 5 * (PAPER_FIGURE_3[name][0] // 4) // 4
    fp32, int8 = t.totals(t.model)
    assert (fp32, int8) == (26_953_662_464, 7_159_566_592)
    # printed FP32 total = the rows' sum without rms_final_weight; printed INT8 total = the
    # sum of the printed rows (so it carries the attention slip, and does count rms_final)
    assert PAPER_FIGURE_3_TOTAL[0] == fp32 - ours["rms_final_weight"][0]
    assert PAPER_FIGURE_3_TOTAL[1] == sum(c[1] for c in PAPER_FIGURE_3.values())
    assert PAPER_FIGURE_3_TOTAL[1] == int8 + 4 * (671_088_640 - 570_425_344)
    # Figure 3 FP32 total over layers = Figure 4 FP32 total x 32 + the global tensors
    assert fp32 == 32 * PAPER_FIGURE_4_TOTAL[0] + 2 * 524_288_000 + 16_384


def test_paper_prose_numbers() -> None:
    t = planner.paper_tables(LLAMA2_7B, 64)
    fp32, int8 = t.totals(t.model)
    assert round(fp32 / 1e9) == 27  # "at least 27 GB": decimal gigabytes
    # "just over 7.5 GB" is the printed total (7.56 GB), so it carries the attention slip;
    # the consistent total is 7.16 GB
    assert round(PAPER_FIGURE_3_TOTAL[1] / 1e9, 2) == 7.56 and round(int8 / 1e9, 2) == 7.16
    largest = max(r.int8 for r in t.layer)  # "the largest weight ... at 45 MB"
    assert largest == 47_906_816 and largest // planner.MiB == 45  # MiB, rounded down


def test_planner_defaults_against_the_paper() -> None:
    """plan() agrees with Figure 4 except the INT8 norms, which it keeps float32 (as the
    paper's exporter does)."""
    paper = planner.paper_tables(LLAMA2_7B, 64)
    f32 = planner.plan(LLAMA2_7B, "f32")
    assert [r.bytes for r in f32.layer] == [r.fp32 for r in paper.layer]
    assert f32.layer_bytes == PAPER_FIGURE_4_TOTAL[0]
    q8 = planner.plan(LLAMA2_7B, "q8", 64)
    for mine, theirs in zip(q8.layer, paper.layer, strict=True):
        norm = mine.name.startswith("rms_")
        assert mine.bytes == (theirs.fp32 if norm else theirs.int8), mine.name
    assert q8.layer_bytes == PAPER_FIGURE_4_TOTAL[1] + 2 * (16_384 - 4_352) == 215_056_384
    # whole-model weights: Figure 3's consistent INT8 total with float32 norms
    assert q8.weights_bytes == 7_159_566_592 + (2 * 32 + 1) * (16_384 - 4_352)
    assert f32.weights_bytes == 26_953_662_464


def test_paper_text_and_json() -> None:
    t = planner.paper_tables(LLAMA2_7B, 64)
    text = planner.paper_text(t)
    assert "215,032,320" in text and "809,533,440" in text and "7,159,566,592" in text
    assert '"figure4"' in planner.paper_json(t)
    with pytest.raises(MetalchatError, match="do not split into groups of 48"):
        planner.paper_tables(STORIES260K, 48)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
