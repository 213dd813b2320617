"""Training settings (no torch here, so ``train --help`` works without the extra)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 800
    batch_size: int = 16
    seq_len: int = 256
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 1337
    threads: int = 1  # one thread: the same weights on any machine, and robust on a busy one
    eval_every: int = 0  # 0: only at the end
    eval_windows: int = 64


class TrainDefaults:
    """The settings the committed demo models were trained with."""

    llama = TrainConfig()
    nanochat = TrainConfig()
