"""The training loop shared by both demo models (torch, CPU, deterministic).

Batches are random windows of ``seq_len + 1`` tokens from the training stream (offsets from
numpy's PCG64 seeded with ``seed``); the loss is the mean next-token cross-entropy. AdamW
(betas 0.9/0.95; weight decay on matrices only), linear warmup then cosine decay to
``min_lr``, gradient clipping at 1.0. Validation loss is the mean over non-overlapping
windows of the validation stream. ``torch.use_deterministic_algorithms(True)`` and a fixed
thread count make a rerun on the same machine give the same weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from metalchat.errors import MetalchatError
from metalchat.train.settings import TrainConfig

__all__ = ["TrainConfig", "TrainResult", "evaluate", "setup_torch", "train"]


@dataclass
class TrainResult:
    val_loss: float
    train_loss: float  # mean over the last 50 steps
    seconds: float
    history: list[tuple[int, float]] = field(default_factory=list)  # (step, val_loss)


def setup_torch(seed: int, threads: int) -> None:
    """Fixed seed, thread count and deterministic kernels."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))


def _windows(ids: np.ndarray, starts: np.ndarray, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    chunk = np.stack([ids[s : s + T + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(chunk[:, :-1]), torch.from_numpy(chunk[:, 1:])


def loss_of(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def evaluate(model: torch.nn.Module, ids: np.ndarray, cfg: TrainConfig) -> float:
    """Mean loss over up to ``eval_windows`` non-overlapping windows of ``ids``."""
    T = cfg.seq_len
    starts = np.arange(0, len(ids) - T - 1, T)[: cfg.eval_windows]
    if len(starts) == 0:
        raise MetalchatError(f"the validation text has fewer than {T + 1} tokens")
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(starts), cfg.batch_size):
        x, y = _windows(ids, starts[i : i + cfg.batch_size], T)
        total += float(loss_of(model, x, y)) * len(x)
    model.train(was_training)
    return total / len(starts)


def train(
    model: torch.nn.Module,
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    cfg: TrainConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train ``model`` (its weights already initialised) in place."""
    T = cfg.seq_len
    if len(train_ids) <= T + 1:
        raise MetalchatError(f"the training text has {len(train_ids)} tokens, need > {T + 1}")
    decay = [p for p in model.parameters() if p.ndim >= 2]
    other = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": other, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
        betas=(0.9, 0.95),
        eps=1e-8,
    )
    rng = np.random.default_rng(cfg.seed)
    history: list[tuple[int, float]] = []
    recent: list[float] = []
    start = time.monotonic()
    model.train()
    bar = tqdm(range(cfg.steps), disable=not progress, unit="step", dynamic_ncols=True)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        x, y = _windows(train_ids, rng.integers(0, len(train_ids) - T - 1, cfg.batch_size), T)
        loss = loss_of(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        recent = [*recent[-49:], float(loss.detach())]
        bar.set_postfix(loss=f"{recent[-1]:.3f}")
        if cfg.eval_every and (step + 1) % cfg.eval_every == 0 and step + 1 < cfg.steps:
            history.append((step + 1, evaluate(model, val_ids, cfg)))
            log(f"step {step + 1}: val loss {history[-1][1]:.4f}")
    val = evaluate(model, val_ids, cfg)
    history.append((cfg.steps, val))
    return TrainResult(val, sum(recent) / max(1, len(recent)), time.monotonic() - start, history)
