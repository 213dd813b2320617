"""Write a random llama2.c model folder from a seed: model.bin (v0, fp32) and tokenizer.bin.

The benchmark's stand-in for a model shape (no trained weights needed to count instructions):
    make_random_llama.py --seed 15 --dim 288 --hidden-dim 768 --layers 6 --heads 6 \\
        --vocab 32000 --seq-len 256 OUT_DIR
The tokenizer is metalchat.testing's (specials, byte tokens, fillers): any prompt encodes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from metalchat.cli import run
from metalchat.config import LlamaConfig
from metalchat.fileio import atomic_write
from metalchat.formats import llama2c
from metalchat.testing import tokenizer_bin


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--hidden-dim", type=int, required=True)
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--heads", type=int, required=True)
    parser.add_argument("--kv-heads", type=int, default=0, help="default: --heads")
    parser.add_argument("--vocab", type=int, required=True)
    parser.add_argument("--seq-len", type=int, required=True)
    parser.add_argument("out", type=Path, help="folder to write (created)")
    args = parser.parse_args(argv)
    config = LlamaConfig(
        dim=args.dim, hidden_dim=args.hidden_dim, n_layers=args.layers, n_heads=args.heads,
        n_kv_heads=args.kv_heads or args.heads, vocab_size=args.vocab, seq_len=args.seq_len,
    )  # fmt: skip
    config.validate()
    args.out.mkdir(parents=True, exist_ok=True)
    llama2c.write_model(args.out / "model.bin", llama2c.random_model(config, seed=args.seed), 0)
    atomic_write(args.out / "tokenizer.bin", tokenizer_bin(args.vocab))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
