"""Weight formats, quantization error reports and FFN pruning.

Formats (the layouts are specified in ``docs/CONTAINER.md``):

* ``f32``: float32, as is.
* ``f16``: IEEE binary16, round to nearest even; values beyond ±65504 are an error.
* ``q8``: symmetric int8 in groups of ``group_size`` along the row (the last dimension):
  ``scale = max|w| / 127`` per group, ``q = round(w / scale)`` in [-127, 127].
* ``q4``: the same with ``scale = max|w| / 7`` and ``q`` in [-7, 7], packed two per byte
  in files (low nibble first).

Rounding to the nearest step bounds the error of every value by half its group's scale.

Groups never span rows, so a tensor whose row length the group size does not divide takes
its own plan (:func:`tensor_plan`), alone: the largest group below the requested one that
divides its rows and keeps the boards' fast kernels (a multiple of 16 for q8, of 32 for q4,
and at least half the requested size), else float16 (float32 beyond float16's range). The
other tensors keep the requested group size; a model is never given a tiny group size
because one of its tensors has an odd row length.
The report per tensor is the llama.pi paper's pair: the largest absolute error and the mean
absolute (L1) error of ``dequantize(quantize(w))`` against ``w``.

Pruning (llama.pi): in each layer's ``w1``, ``w2`` and ``w3`` the fraction ``ratio`` of
weights with the smallest magnitude is set to zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from metalchat.errors import MetalchatError

FORMATS = ("f32", "f16", "q8", "q4")
QUANTIZED = ("q8", "q4")
_QMAX = {"q8": 127, "q4": 7}
FFN_TENSORS = ("w1", "w2", "w3")
F16_MAX = float(np.finfo(np.float16).max)


@dataclass
class QTensor:
    """A tensor in one of :data:`FORMATS`.

    ``values`` has the tensor's shape: float32 (f32), float16 (f16), or the int8 codes
    ``q`` (q8 and q4 alike; q4 codes are in [-8, 7]). ``scales`` is float32 with one entry
    per group of ``group_size`` consecutive values (q8/q4 only).
    """

    fmt: str
    values: np.ndarray
    scales: np.ndarray | None = None
    group_size: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.values.shape)

    def dequantize(self) -> np.ndarray:
        """The float32 tensor these values stand for."""
        if self.fmt in QUANTIZED:
            assert self.scales is not None
            groups = self.values.reshape(-1, self.group_size).astype(np.float32)
            return (groups * self.scales[:, None]).reshape(self.values.shape)
        return np.asarray(self.values, dtype=np.float32)


@dataclass(frozen=True)
class TensorError:
    """Reconstruction error of one tensor."""

    name: str
    fmt: str
    shape: tuple[int, ...]
    max_abs_error: float
    mean_l1_error: float
    group_size: int = 0


def check_group_size(shape: tuple[int, ...], fmt: str, group_size: int) -> None:
    """Raise :class:`MetalchatError` unless ``group_size`` suits ``fmt`` and the row length."""
    if fmt not in QUANTIZED:
        return
    row = shape[-1]
    if group_size <= 0:
        raise MetalchatError(f"{fmt} needs a positive group size, got {group_size}")
    if row % group_size:
        divisors = [d for d in range(2, min(row, 256) + 1) if row % d == 0]
        raise MetalchatError(
            f"group size {group_size} does not divide the row length {row} of a "
            f"{'x'.join(map(str, shape))} tensor (groups run along rows; divisors of {row}: "
            f"{', '.join(map(str, divisors)) or 'none'})"
        )
    if fmt == "q4" and group_size % 2:
        raise MetalchatError(
            f"q4 packs two values per byte, so group size {group_size} must be even"
        )


FAST_GROUP_MULTIPLE = {"q8": 16, "q4": 32}  # what the NEON/x86 matvecs need (engines/kernels)


def tensor_plan(shape: tuple[int, ...], fmt: str, group_size: int) -> tuple[str, int]:
    """(format, group size) for one tensor of ``shape`` when ``fmt``/``group_size`` is asked
    for the model: the request itself when the group size divides the row length, else a
    smaller aligned group (at least half the request) that does, else ``("f16", 0)``."""
    if fmt not in QUANTIZED:
        return fmt, 0
    row = shape[-1]
    if group_size > 0 and row % group_size == 0:
        check_group_size(shape, fmt, group_size)  # q4: an even group
        return fmt, group_size
    check_group_size((group_size,), fmt, group_size)  # the request itself must make sense
    step = FAST_GROUP_MULTIPLE[fmt]
    for g in range(group_size - group_size % step, (group_size + 1) // 2 - 1, -step):
        if g > 0 and row % g == 0:
            return fmt, g
    return "f16", 0


def quantize(w: np.ndarray, fmt: str, group_size: int = 0) -> QTensor:
    """``w`` (float32) in format ``fmt``; ``group_size`` for q8/q4."""
    w = np.asarray(w, dtype=np.float32)
    if fmt not in FORMATS:
        raise MetalchatError(f"unknown weight format {fmt!r} (use one of {', '.join(FORMATS)})")
    if not np.all(np.isfinite(w)):
        raise MetalchatError("has NaN or infinite values")
    if fmt == "f32":
        return QTensor("f32", w)
    if fmt == "f16":
        peak = float(np.abs(w).max(initial=0.0))
        if peak > F16_MAX:
            raise MetalchatError(f"max |w| = {peak:g} is beyond the float16 range (±65504)")
        return QTensor("f16", w.astype(np.float16))
    check_group_size(w.shape, fmt, group_size)
    qmax = _QMAX[fmt]
    groups = w.reshape(-1, group_size)
    scales = (np.abs(groups).max(axis=1) / np.float32(qmax)).astype(np.float32)
    safe = np.where(scales == 0, np.float32(1.0), scales)
    q = np.clip(np.rint(groups / safe[:, None]), -qmax, qmax).astype(np.int8)
    return QTensor(fmt, q.reshape(w.shape), scales, group_size)


def measure(name: str, w: np.ndarray, t: QTensor) -> TensorError:
    """Max and mean absolute error of ``t`` against the float32 original ``w``."""
    diff = np.abs(t.dequantize().astype(np.float64) - np.asarray(w, dtype=np.float64))
    return TensorError(name, t.fmt, t.shape, float(diff.max()), float(diff.mean()), t.group_size)


def quantize_weights(
    weights: Mapping[str, np.ndarray],
    fmt: str,
    group_size: int,
    names: Iterable[str],
    *,
    progress: bool | None = None,
) -> tuple[dict[str, QTensor], list[TensorError]]:
    """Every tensor of ``weights`` in order: those in ``names`` in ``fmt``, the rest f32.

    Each tensor in ``names`` follows :func:`tensor_plan` (its own group size, or float16,
    when ``group_size`` does not divide its rows; the report says which). Returns the tensors
    and the error of each one not kept in f32. A problem raises :class:`MetalchatError`
    naming the tensor. ``progress`` shows a tqdm bar on stderr (default: when stderr is a
    terminal).
    """
    chosen = set(names)
    out: dict[str, QTensor] = {}
    report: list[TensorError] = []
    disable = None if progress is None else not progress
    for name, w in tqdm(weights.items(), desc=f"quantize {fmt}", unit="tensor", disable=disable):
        try:
            target, group = (
                tensor_plan(np.shape(w), fmt, group_size) if name in chosen else ("f32", 0)
            )
            if target == "f16" and float(np.abs(w).max(initial=0.0)) > F16_MAX:
                target = "f32"
            out[name] = quantize(w, target, group)
        except MetalchatError as exc:
            raise MetalchatError(f"tensor {name!r}: {exc.message}") from None
        if target != "f32":
            report.append(measure(name, w, out[name]))
    return out, report


def prune_ffn(weights: dict[str, np.ndarray], ratio: float) -> dict[str, float]:
    """Zero the ``ratio`` smallest-magnitude weights of each layer's w1, w2 and w3.

    Changes ``weights`` in place (new arrays) and returns the fraction of zeros now in each.
    Ties at the threshold are broken by position, so exactly ``floor(ratio * n)`` weights of
    each layer matrix are cleared.
    """
    if not 0.0 <= ratio < 1.0:
        raise MetalchatError(f"prune ratio must be in [0, 1), got {ratio}")
    sparsity: dict[str, float] = {}
    for name in FFN_TENSORS:
        if name not in weights:
            raise MetalchatError(f"cannot prune: the model has no {name!r} tensor")
        w = np.array(weights[name], dtype=np.float32)  # (layers, rows, cols)
        per_layer = w.reshape(w.shape[0], -1)
        count = math.floor(ratio * per_layer.shape[1])
        if count:
            smallest = np.argpartition(np.abs(per_layer), count - 1, axis=1)[:, :count]
            np.put_along_axis(per_layer, smallest, np.float32(0.0), axis=1)
        weights[name] = per_layer.reshape(w.shape)
        sparsity[name] = float(np.mean(per_layer == 0))
    return sparsity


def report_table(report: list[TensorError]) -> str:
    """The error report as an aligned text table."""
    head = f"{'tensor':<18}{'shape':<16}{'format':<8}{'group':>6}"
    lines = [f"{head}{'max abs error':>15}{'mean L1 error':>15}"]
    for e in report:
        shape = "x".join(map(str, e.shape))
        group = str(e.group_size) if e.group_size else "-"
        lines.append(
            f"{e.name:<18}{shape:<16}{e.fmt:<8}{group:>6}"
            f"{e.max_abs_error:>15.3e}{e.mean_l1_error:>15.3e}"
        )
    return "\n".join(lines)


def fallbacks(report: list[TensorError], fmt: str, group_size: int) -> list[str]:
    """One line per tensor that did not get ``fmt``/``group_size`` (see :func:`tensor_plan`)."""
    lines = []
    for e in report:
        if fmt in QUANTIZED and (e.fmt, e.group_size) != (fmt, group_size):
            got = f"{e.fmt} groups of {e.group_size}" if e.group_size else e.fmt
            lines.append(
                f"{e.name}: rows of {e.shape[-1]} are not a multiple of {group_size}: {got}"
            )
    return lines
