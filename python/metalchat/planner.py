"""Memory planner: how many bytes a Llama needs, per layer and in total, and which boards
it fits — the per-layer memory tables of the llama.pi paper, for any shape and format.

Weights are counted per tensor. Norm weights always stay float32; matrices take the
chosen format: F32 4 bytes, F16 2 bytes, Q8 1 byte + a float32 scale per group, Q4 half
a byte + a float32 scale per group. The KV cache holds float32 keys and values for every
layer and position (``2 * n_layers * seq_len * kv_dim * 4``); activations are llama2.c's
run-state buffers (x, xb, xb2, q: dim; hb, hb2: hidden_dim; att: n_heads * seq_len;
logits: vocab) plus, for quantized formats, the int8 copies of x and hb with their scales.

Two ways to run:

* **whole**: every weight resident, plus KV cache and activations;
* **streamed**: only the embedding, final norm and classifier stay resident, and one
  layer at a time is read from storage into a buffer as big as the largest layer
  (llama.pi's layer streaming); KV cache and activations as before.

Board capacities below are the RAM left to the model after a fixed reserve for
firmware/boot code and buffers — assumptions stated in each board's ``note``.

:func:`paper_tables` gives the llama.pi paper's own two tables (Figure 3: every tensor,
layers stacked; Figure 4: one layer) in the paper's convention, which differs from the
plan above in one place: its INT8 column quantizes the RMSNorm weights too. See
docs/PLANNER.md for both conventions and the paper's numbers.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError

MiB = 1024 * 1024
GiB = 1024 * MiB

FORMATS = ("f32", "f16", "q8", "q4")


def tensor_bytes(count: int, fmt: str, group_size: int = 64) -> int:
    """Bytes of ``count`` values in ``fmt`` (quantized: values then one f32 scale per group)."""
    if fmt == "f32":
        return 4 * count
    if fmt == "f16":
        return 2 * count
    if fmt in ("q8", "q4"):
        if group_size <= 0 or count % group_size:
            raise MetalchatError(f"{count} values do not split into groups of {group_size}")
        values = count if fmt == "q8" else (count + 1) // 2
        return values + 4 * (count // group_size)
    raise MetalchatError(f"unknown weight format {fmt!r} (use one of {', '.join(FORMATS)})")


@dataclass(frozen=True)
class Row:
    """One line of a memory table."""

    name: str
    shape: tuple[int, ...]
    bytes: int


@dataclass
class Plan:
    config: LlamaConfig
    fmt: str
    group_size: int
    layer: list[Row]  # one layer's tensors (all layers are the same size)
    globals: list[Row]  # embedding, final norm, classifier
    kv_cache: int
    activations: int

    @property
    def layer_bytes(self) -> int:
        return sum(r.bytes for r in self.layer)

    @property
    def weights_bytes(self) -> int:
        return self.layer_bytes * self.config.n_layers + sum(r.bytes for r in self.globals)

    @property
    def whole_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache + self.activations

    @property
    def streamed_bytes(self) -> int:
        resident = sum(r.bytes for r in self.globals)
        return resident + self.layer_bytes + self.kv_cache + self.activations

    @property
    def runtime_bytes(self) -> int:
        """RAM besides the weights: KV cache and activations."""
        return self.kv_cache + self.activations


def plan(config: LlamaConfig, fmt: str = "f32", group_size: int = 64) -> Plan:
    """The memory plan of ``config`` with matrices in ``fmt``."""
    config.validate()
    if fmt not in FORMATS:
        raise MetalchatError(f"unknown weight format {fmt!r} (use one of {', '.join(FORMATS)})")
    shapes = config.tensor_shapes()

    def row(name: str, shape: tuple[int, ...]) -> Row:
        count = 1
        for extent in shape:
            count *= extent
        norm = name.startswith("rms_")
        return Row(name, shape, tensor_bytes(count, "f32" if norm else fmt, group_size))

    layer = [
        row(name, shapes[name][1:])
        for name in ("rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3")
    ]
    globals_ = [
        row("token_embedding", shapes["token_embedding"]),
        row("rms_final", shapes["rms_final"]),
    ]
    if "wcls" in shapes:
        globals_.append(row("wcls", shapes["wcls"]))
    kv = 2 * config.n_layers * config.seq_len * config.kv_dim * 4
    c = config
    acts = 4 * (4 * c.dim + 2 * c.hidden_dim + c.n_heads * c.seq_len + c.vocab_size)
    if fmt in ("q8", "q4"):
        acts += c.dim + c.hidden_dim + 4 * ((c.dim + c.hidden_dim) // group_size + 2)
    return Plan(config, fmt, group_size, layer, globals_, kv, acts)


@dataclass(frozen=True)
class Board:
    name: str
    ram: int  # bytes the model may use
    note: str
    flash: int = 0  # bytes of memory-mapped flash the weights may be read from in place


BOARDS: tuple[Board, ...] = (
    Board("rpi4", 4 * GiB - 128 * MiB, "Pi 4 Model B 4 GB, 128 MB kept for firmware/GPU/kernel"),
    Board("rpi4-1gb", 1 * GiB - 128 * MiB, "Pi 4 1 GB, 128 MB reserved"),
    Board("rpi4-2gb", 2 * GiB - 128 * MiB, "Pi 4 2 GB, 128 MB reserved"),
    Board("rpi4-8gb", 8 * GiB - 128 * MiB, "Pi 4 8 GB, 128 MB reserved"),
    Board("rpi0", 512 * MiB - 96 * MiB, "Pi Zero 512 MB, 64 MB GPU split + 32 MB kernel/buffers"),
    Board(
        "rp2350",
        8 * MiB + 520 * 1024 - 128 * 1024,
        "RP2350 with 8 MB PSRAM + 520 KB SRAM, 128 KB SRAM kept for code/stack",
        flash=16 * MiB - 1 * MiB,
    ),
)
DEFAULT_BOARD = "rpi4"


def board(name: str) -> Board:
    for candidate in BOARDS:
        if candidate.name == name:
            return candidate
    names = ", ".join(b.name for b in BOARDS)
    raise MetalchatError(f"unknown board {name!r} (known: {names})")


@dataclass
class Fit:
    board: Board
    verdict: str  # "fits", "fits streamed", "fits (weights in flash)", "does not fit"
    needed: int
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict != "does not fit"


def fit(p: Plan, b: Board) -> Fit:
    """Whether plan ``p`` runs on board ``b``, and the smallest way it does."""
    if p.whole_bytes <= b.ram:
        return Fit(b, "fits", p.whole_bytes)
    if b.flash and p.weights_bytes <= b.flash and p.runtime_bytes <= b.ram:
        return Fit(b, "fits (weights in flash)", p.runtime_bytes)
    if p.streamed_bytes <= b.ram:
        return Fit(b, "fits streamed", p.streamed_bytes)
    return Fit(b, "does not fit", p.streamed_bytes)


def human(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def require_fit(p: Plan, board_name: str) -> Fit:
    """Raise :class:`MetalchatError` with the numbers when the model cannot run on the board."""
    result = fit(p, board(board_name))
    if not result.ok:
        raise MetalchatError(
            f"model does not fit {board_name}: {p.fmt} weights {human(p.weights_bytes)}, "
            f"even streamed one layer at a time it needs {human(p.streamed_bytes)} and the "
            f"board has {human(result.board.ram)} for the model; try a smaller format "
            "(q8/q4) or a smaller model"
        )
    return result


def table(p: Plan, boards: list[Board]) -> str:
    """The per-layer memory table and the board verdicts as text."""
    c = p.config
    group = f", group {p.group_size}" if p.fmt in ("q8", "q4") else ""
    lines = [
        f"Llama dim {c.dim}, hidden {c.hidden_dim}, {c.n_layers} layers, {c.n_heads} heads "
        f"({c.n_kv_heads} kv), vocab {c.vocab_size}, seq_len {c.seq_len}; "
        f"weights {p.fmt}{group}",
        "",
        f"{'per layer':<18}{'shape':<16}{'bytes':>14}",
    ]
    for r in p.layer:
        lines.append(f"  {r.name:<16}{'x'.join(map(str, r.shape)):<16}{r.bytes:>14,}")
    lines.append(f"  {'layer total':<32}{p.layer_bytes:>14,}")
    lines.append("global")
    for r in p.globals:
        lines.append(f"  {r.name:<16}{'x'.join(map(str, r.shape)):<16}{r.bytes:>14,}")
    lines += [
        "",
        f"{'weights':<34}{p.weights_bytes:>14,}  {human(p.weights_bytes)}",
        f"{'KV cache (f32)':<34}{p.kv_cache:>14,}  {human(p.kv_cache)}",
        f"{'activations':<34}{p.activations:>14,}  {human(p.activations)}",
        f"{'RAM, whole model':<34}{p.whole_bytes:>14,}  {human(p.whole_bytes)}",
        f"{'RAM, one layer at a time':<34}{p.streamed_bytes:>14,}  {human(p.streamed_bytes)}",
        "",
    ]
    for b in boards:
        f = fit(p, b)
        lines.append(f"{b.name:<10} {human(b.ram):>11} usable  {f.verdict:<24} ({b.note})")
    return "\n".join(lines)


def to_json(p: Plan, boards: list[Board]) -> str:
    return json.dumps(
        {
            "format": p.fmt,
            "group_size": p.group_size,
            "layer": [{"name": r.name, "shape": list(r.shape), "bytes": r.bytes} for r in p.layer],
            "globals": [
                {"name": r.name, "shape": list(r.shape), "bytes": r.bytes} for r in p.globals
            ],
            "weights_bytes": p.weights_bytes,
            "kv_cache_bytes": p.kv_cache,
            "activation_bytes": p.activations,
            "whole_bytes": p.whole_bytes,
            "streamed_bytes": p.streamed_bytes,
            "boards": {b.name: {"ram": b.ram, "verdict": fit(p, b).verdict} for b in boards},
        },
        indent=2,
    )


# The llama.pi paper's tables: M. Ding, "Llama2.pi: Running LLMs on the Bleeding Edge"
# (Stanford CS224N, 2024), Figure 3 (every tensor, layers stacked) and Figure 4 (one layer).
# Its convention: FP32 = 4 bytes a value; INT8 = 1 byte a value + one float32 scale per
# group, applied to *every* tensor, the RMSNorm weights included (its exporter keeps the
# norms float32, which is what plan() counts); totals are the column sums.
PAPER_NAMES = {
    "token_embedding": "token_embedding_table",
    "rms_att": "rms_att_weight",
    "rms_ffn": "rms_ffn_weight",
    "rms_final": "rms_final_weight",
}
PAPER_MODEL_ORDER = (
    "token_embedding",
    "rms_att",
    "wq",
    "wk",
    "wv",
    "wo",
    "rms_ffn",
    "w1",
    "w2",
    "w3",
    "rms_final",
    "wcls",
)
PAPER_LAYER_ORDER = ("rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3")


@dataclass(frozen=True)
class PaperRow:
    """One line of the paper's tables: a tensor and its bytes in FP32 and in INT8."""

    name: str  # the paper's (llama2.c's) name, e.g. "rms_att_weight"
    shape: tuple[int, ...]
    fp32: int
    int8: int


@dataclass
class PaperTables:
    group_size: int
    model: list[PaperRow]  # Figure 3
    layer: list[PaperRow]  # Figure 4

    @staticmethod
    def totals(rows: list[PaperRow]) -> tuple[int, int]:
        return sum(r.fp32 for r in rows), sum(r.int8 for r in rows)


def paper_tables(config: LlamaConfig, group_size: int = 64) -> PaperTables:
    """Figure 3 and Figure 4 of the llama.pi paper for ``config``, in the paper's convention."""
    config.validate()
    shapes = config.tensor_shapes()

    def row(name: str, shape: tuple[int, ...]) -> PaperRow:
        count = 1
        for extent in shape:
            count *= extent
        return PaperRow(
            PAPER_NAMES.get(name, name),
            shape,
            tensor_bytes(count, "f32"),
            tensor_bytes(count, "q8", group_size),
        )

    model = [row(n, shapes[n]) for n in PAPER_MODEL_ORDER if n in shapes]
    layer = [row(n, shapes[n][1:]) for n in PAPER_LAYER_ORDER]
    return PaperTables(group_size, model, layer)


def paper_text(t: PaperTables) -> str:
    """The paper's two tables as text, computed for the model at hand."""
    lines: list[str] = []
    for title, rows in (
        ("Figure 3 (llama.pi): every tensor, layers stacked", t.model),
        ("Figure 4 (llama.pi): one transformer layer", t.layer),
    ):
        lines += [title, f"{'tensor':<24}{'shape':<20}{'FP32 (bytes)':>16}{'INT8 (bytes)':>16}"]
        for r in rows:
            shape = "x".join(map(str, r.shape))
            lines.append(f"{r.name:<24}{shape:<20}{r.fp32:>16,}{r.int8:>16,}")
        fp32, int8 = t.totals(rows)
        lines += [f"{'total':<44}{fp32:>16,}{int8:>16,}", ""]
    lines.append(
        f"INT8: 1 byte a value + a float32 scale per {t.group_size} values, norms included "
        "(the paper's convention; see docs/PLANNER.md)"
    )
    return "\n".join(lines)


def paper_json(t: PaperTables) -> str:
    def rows(rs: list[PaperRow]) -> list[dict[str, object]]:
        return [
            {"name": r.name, "shape": list(r.shape), "fp32": r.fp32, "int8": r.int8} for r in rs
        ]

    return json.dumps(
        {
            "group_size": t.group_size,
            "figure3": {"rows": rows(t.model), "totals": list(t.totals(t.model))},
            "figure4": {"rows": rows(t.layer), "totals": list(t.totals(t.layer))},
        },
        indent=2,
    )


# Microcontroller placement (the RP2350 and its QEMU twin): the model's bytes stay in
# memory-mapped flash and are used in place (XIP), or — when they fit beside the KV cache and
# activations — are copied into SRAM at load, which is faster than the flash they lie in. The
# KV cache and activations always live in SRAM, and the context is the longest the session
# layer would choose (engines/session: the model's own, or 4096, 2048, ... 64 tokens) that fits
# what is left; below 64 tokens the model is refused. The unit copied is the whole model: the
# engines map tensors in place from one block, so a tensor-by-tensor split is not made.

KiB = 1024
CONTEXT_CAPS = (4096, 2048, 1024, 512, 256, 128, 64)  # engines/session/session.c kContextCaps
SRAM_CONTEXT = 128  # a model is copied to SRAM only if this context (or its own) still fits
CHAT_SCRATCH = 16 * KiB  # the chat's prompt tokens and the sampler's buffers in the arena


@dataclass(frozen=True)
class McuTarget:
    name: str
    flash: int  # bytes of flash
    sram: int  # bytes of SRAM
    code: int  # flash kept for the image's code and constants
    kept: int  # SRAM kept for the image's data, bss and stacks
    psram: int  # bytes of PSRAM (not used by this build: see note)
    note: str


MCU_TARGETS: tuple[McuTarget, ...] = (
    McuTarget(
        "rp2350-pico2",
        4 * MiB,
        520 * KiB,
        256 * KiB,
        64 * KiB,
        0,
        "Raspberry Pi Pico 2: RP2350A, 4 MB QSPI flash, no PSRAM",
    ),
    McuTarget(
        "rp2350-plus2w",
        16 * MiB,
        520 * KiB,
        256 * KiB,
        64 * KiB,
        8 * MiB,
        "Pimoroni Pico Plus 2W: RP2350B, 16 MB flash, 8 MB PSRAM (QMI CS1; this build does "
        "not place anything there yet)",
    ),
    McuTarget(
        "mps2_an521",
        4 * MiB,
        520 * KiB,
        256 * KiB,
        64 * KiB,
        0,
        "the RP2350's QEMU twin: 4 MB SSRAM1 as read-only flash, 520 KB of RAM",
    ),
)


def mcu_target(name: str) -> McuTarget:
    for t in MCU_TARGETS:
        if t.name == name:
            return t
    names = ", ".join(t.name for t in MCU_TARGETS)
    raise MetalchatError(f"unknown target {name!r} (known: {names})")


@dataclass
class Placement:
    """Where one model's weights and state go on an MCU target."""

    name: str
    plan: Plan  # at the chosen context
    model_bytes: int  # the container, as linked into flash
    weights_in: str  # "flash" (in place, XIP) or "SRAM" (copied at load)
    context: int
    tokenizer_bytes: int
    model_context: int  # the model's own seq_len

    @property
    def sram_bytes(self) -> int:
        weights = self.model_bytes if self.weights_in == "SRAM" else 0
        return weights + self.plan.runtime_bytes + self.tokenizer_bytes + CHAT_SCRATCH


def _runtime(config: LlamaConfig, fmt: str, group_size: int, context: int) -> Plan:
    return plan(dataclasses.replace(config, seq_len=context), fmt, group_size)


def place(
    name: str,
    config: LlamaConfig,
    fmt: str,
    group_size: int,
    model_bytes: int,
    tokenizer_payload: int,
    target: McuTarget,
) -> Placement:
    """The placement of one model on ``target``; :class:`MetalchatError` (one line) when even
    a 64-token context does not fit its SRAM."""
    budget = target.sram - target.kept
    # the tokenizer in the arena: its payload, a sorted copy of the vocabulary, an index
    tok = 2 * tokenizer_payload + 16 * config.vocab_size
    contexts = [config.seq_len] + [c for c in CONTEXT_CAPS if c < config.seq_len]

    def fitting(weights: int) -> Placement | None:
        where = "SRAM" if weights else "flash"
        for context in contexts:
            p = _runtime(config, fmt, group_size, context)
            placed = Placement(name, p, model_bytes, where, context, tok, config.seq_len)
            if placed.sram_bytes <= budget:
                return placed
        return None

    in_sram = fitting(model_bytes)
    if in_sram and in_sram.context >= min(config.seq_len, SRAM_CONTEXT):
        return in_sram
    in_flash = fitting(0)
    if in_flash:
        return in_flash
    least = _runtime(config, fmt, group_size, min(contexts[-1], config.seq_len))
    need = least.runtime_bytes + tok + CHAT_SCRATCH
    raise MetalchatError(
        f"{name} does not fit {target.name}: even with a {least.config.seq_len}-token context "
        f"its KV cache, activations and tokenizer need {human(need)} of SRAM and "
        f"{human(budget)} is free ({human(target.kept)} of {human(target.sram)} kept for the "
        "image)"
    )


def check_flash(target: McuTarget, region_bytes: int) -> None:
    """:class:`MetalchatError` (one line) when the model region and the code exceed the flash."""
    if region_bytes + target.code > target.flash:
        raise MetalchatError(
            f"models do not fit {target.name}'s flash: {human(region_bytes)} of models + "
            f"{human(target.code)} kept for code > {human(target.flash)}"
        )


def placement_text(target: McuTarget, placements: list[Placement], region_bytes: int) -> str:
    """The placement plan as printed at build time: per model, per tensor, and the state."""
    budget = target.sram - target.kept
    lines = [
        f"{target.name}: {target.note}",
        f"flash: {human(region_bytes)} of models + {human(target.code)} kept for code, "
        f"of {human(target.flash)}; SRAM for the model: {human(budget)} "
        f"({human(target.kept)} of {human(target.sram)} kept for data and stacks)",
    ]
    for pl in placements:
        p, c = pl.plan, pl.plan.config
        where = "SRAM (copied at load)" if pl.weights_in == "SRAM" else "flash (in place, XIP)"
        lines += [
            "",
            f"{pl.name}: Llama dim {c.dim}, {c.n_layers} layers, vocab {c.vocab_size}, "
            f"{p.fmt} weights; container {human(pl.model_bytes)}",
            f"  {'tensor':<18}{'shape':<16}{'bytes':>12}  where",
        ]
        for r in p.globals[:1] + p.layer + p.globals[1:]:
            stacked = r in p.layer
            shape = ((c.n_layers,) if stacked else ()) + r.shape
            size = r.bytes * (c.n_layers if stacked else 1)
            lines.append(f"  {r.name:<18}{'x'.join(map(str, shape)):<16}{size:>12,}  {where}")
        capped = (
            f" (capped: the model has {pl.model_context})" if pl.context < pl.model_context else ""
        )
        lines += [
            f"  {'KV cache (f32)':<34}{p.kv_cache:>12,}  SRAM, context {pl.context}{capped}",
            f"  {'activations':<34}{p.activations:>12,}  SRAM",
            f"  {'tokenizer + chat scratch':<34}{pl.tokenizer_bytes + CHAT_SCRATCH:>12,}  SRAM",
            f"  {'SRAM used':<34}{pl.sram_bytes:>12,}  of {budget:,}",
        ]
    return "\n".join(lines)
