"""Write a tiny random llama2.c model (v0) and a matching tokenizer.bin from a seed.

Test input for the ``model_container`` rule, generated at build time (no committed binaries):
``make_tiny_llama2c.py --seed 7 model.bin tokenizer.bin``
"""

from __future__ import annotations

import argparse

from metalchat.cli import run
from metalchat.config import LlamaConfig
from metalchat.fileio import atomic_write
from metalchat.formats import llama2c
from metalchat.testing import tokenizer_bin

TINY = LlamaConfig(
    dim=64, hidden_dim=128, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=320, seq_len=32
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("model")
    parser.add_argument("tokenizer")
    args = parser.parse_args(argv)
    llama2c.write_model(args.model, llama2c.random_model(TINY, seed=args.seed), 0)
    atomic_write(args.tokenizer, tokenizer_bin(TINY.vocab_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
