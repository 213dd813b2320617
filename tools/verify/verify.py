"""verify: run a container through the numpy reference and the host C engine, and compare.

    bazel run //tools/verify -- model.mcm [--prompt-len 32] [--seed 0] [--tolerance 1e-4]

Feeds the same prompt (random token ids from a seed, or ``--ids 1,2,3``) to
``metalchat.reference`` (Llama or nanochat, weights dequantized to float32) and to
``//tools/engine_cli --prompt-ids ... --dump-logits`` (the C engine the registry picks for
the file), then reports, per position, ``max |logit_C - logit_ref| / max |logit_ref|`` and
passes when its maximum over the prompt is at most the tolerance (default 1e-4, the bar for
f32 and f16 weights; q8/q4 engines also quantize activations to int8, so their figure is
a measurement of that, to be judged with a looser tolerance).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metalchat.cli import run
from metalchat.errors import MetalchatError
from metalchat.fileio import read_bytes, runfile_or_user_path, user_path
from metalchat.formats import container
from metalchat.reference.llama import LlamaReference
from metalchat.reference.nanochat import NanochatConfig, NanochatReference
from metalchat.testmodels import WindowedConfig


@dataclass
class Agreement:
    engine: str
    per_position: list[float]  # max |delta| / max |logit| at each position
    tolerance: float

    @property
    def worst(self) -> float:
        return max(self.per_position)

    @property
    def ok(self) -> bool:
        return self.worst <= self.tolerance


def nanochat_reference(model: container.ContainerModel) -> NanochatReference:
    p = model.manifest.nanochat
    config = WindowedConfig(
        sequence_len=p.sequence_len,
        vocab_size=p.vocab_size,
        n_layer=p.n_layer,
        n_head=p.n_head,
        n_kv_head=p.n_kv_head,
        n_embd=p.n_embd,
        window_pattern=p.window_pattern,
        softcap=p.softcap,
        rope_theta=p.rope_theta,
        qk_scale=p.qk_scale,
        mlp_ratio=p.mlp_ratio,
        smear_channels=p.smear_channels,
        value_embed_gate_channels=p.value_embed_gate_channels,
        value_embed_scale=p.value_embed_scale,
        norm_eps=p.norm_eps,
        short=p.short_window,
    )
    derived = NanochatConfig.value_embed_layers.fget(config)  # type: ignore[attr-defined]
    if list(p.value_embed_layers) not in ([], derived) or p.backout_layer not in (
        0,
        p.n_layer // 2,
    ):
        raise MetalchatError(
            "the numpy reference derives value_embed_layers and backout_layer as upstream "
            "does; this container sets others"
        )
    weights = {name: t.dequantize() for name, t in model.tensors.items()}
    return NanochatReference(config, weights)


def reference_logits(model: container.ContainerModel, ids: list[int]) -> np.ndarray:
    which = model.manifest.WhichOneof("params")
    ref = LlamaReference(model.to_llama2c()) if which == "llama" else nanochat_reference(model)
    return np.stack([ref.forward(token, pos) for pos, token in enumerate(ids)])


def engine_logits(
    engine_cli: Path, path: Path, ids: list[int], vocab: int, *, threads: int = 1
) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "logits.f32"
        done = subprocess.run(
            [str(engine_cli), str(path), "--prompt-ids", ",".join(map(str, ids)),
             "--dump-logits", str(out), "--threads", str(threads)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise MetalchatError(f"engine_cli failed: {done.stderr.strip()}", path)
        data = np.fromfile(out, dtype=np.float32)
    if data.size != len(ids) * vocab:
        raise MetalchatError(f"engine_cli wrote {data.size} logits, expected {len(ids) * vocab}")
    return data.reshape(len(ids), vocab)


def compare(
    path: Path, engine_cli: Path, ids: list[int] | None = None, *, prompt_len: int = 32,
    seed: int = 0, tolerance: float = 1e-4,
) -> Agreement:  # fmt: skip
    model = container.parse(read_bytes(path), path)
    vocab = model.manifest.tokenizer.vocab_size
    if ids is None:
        ids = [int(i) for i in np.random.default_rng(seed).integers(0, vocab, prompt_len)]
    ref = reference_logits(model, ids)
    got = engine_logits(engine_cli, path, ids, vocab)
    ratios = np.abs(got - ref).max(axis=1) / np.abs(ref).max(axis=1)
    which = model.manifest.WhichOneof("params") or "?"
    return Agreement(which, [float(r) for r in ratios], tolerance)


def _default_engine_cli() -> Path:
    env = os.environ.get("ENGINE_CLI")
    return Path(env) if env else Path("tools/engine_cli/engine_cli")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=user_path, help="a container (.mcm)")
    parser.add_argument(
        "--engine-cli", type=runfile_or_user_path, default=None, help="host engine_cli binary"
    )
    parser.add_argument("--ids", help="comma-separated prompt ids (default: random)")
    parser.add_argument("--prompt-len", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args(argv)
    path: Path = args.model
    ids = [int(x) for x in args.ids.split(",")] if args.ids else None
    result = compare(
        path, args.engine_cli or _default_engine_cli(), ids, prompt_len=args.prompt_len,
        seed=args.seed, tolerance=args.tolerance,
    )  # fmt: skip
    for pos, r in enumerate(result.per_position):
        print(f"position {pos:3d}: max|dlogit|/max|logit| = {r:.3e}")
    verdict = "agree" if result.ok else "DISAGREE"
    print(
        f"{path.name}: {result.engine}, {len(result.per_position)} positions, worst "
        f"{result.worst:.3e} (tolerance {result.tolerance:g}): {verdict}"
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(run(main))
