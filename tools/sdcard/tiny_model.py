"""Write a tiny random llama2.c model folder from a seed: model.bin, tokenizer.bin, chat.txt.

Stand-ins for the demo models (models/<name>/) so the Pi 4 card works before they land: the
weights are random, the tokenizer has llama2.c's <unk> <s> </s>, the 256 byte tokens and
word-like pieces, so any prompt encodes and the answers are (random) words: the embedding
rows of <unk> and the byte tokens (the classifier too, it is shared) are scaled down so word
pieces win the argmax.

    tiny_model.py --seed 1 --version 0 --template plain OUT_DIR
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from pathlib import Path

from metalchat.cli import run
from metalchat.config import LlamaConfig
from metalchat.fileio import atomic_write
from metalchat.formats import llama2c

WORDS = [
    "the", "a", "and", "to", "of", "in", "was", "he", "she", "it", "they", "little", "big",
    "one", "day", "time", "upon", "once", "there", "said", "happy", "sad", "dog", "cat", "bird",
    "tree", "sun", "play", "went", "saw", "with", "for", "on", "his", "her", "very", "friend",
    "mom", "dad", "ball", "park", "home", "night",
]  # fmt: skip
CONSONANTS = "bdfgklmnprstvz"
BYTE_TOKEN_SCALE = 0.05
VOWELS = "aeiou"


def tokenizer_pieces(vocab_size: int) -> list[bytes]:
    """llama2.c's specials and byte tokens, then " word" pieces, then " syllable" fillers."""
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    pieces += [f" {w}".encode() for w in WORDS]
    syllables = (c + v for c, v in itertools.product(CONSONANTS, VOWELS))
    pairs = (a + b for a, b in itertools.product(list(syllables), repeat=2))
    pieces += [f" {p}".encode() for p in itertools.islice(pairs, max(0, vocab_size - len(pieces)))]
    return pieces[:vocab_size]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--version", type=int, choices=(0, 1, 2), default=0)
    parser.add_argument("--group-size", type=int, default=32, help="v2 (int8) groups")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--hidden-dim", type=int, default=172)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=512)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--template", choices=("plain", "alpaca"), default="plain")
    parser.add_argument("out", type=Path, help="folder to write (created)")
    args = parser.parse_args(argv)
    config = LlamaConfig(
        dim=args.dim, hidden_dim=args.hidden_dim, n_layers=args.layers, n_heads=args.heads,
        n_kv_heads=args.kv_heads, vocab_size=args.vocab, seq_len=args.seq_len,
    )  # fmt: skip
    config.validate()
    args.out.mkdir(parents=True, exist_ok=True)
    model = llama2c.random_model(config, seed=args.seed)
    model.weights["token_embedding"][[0, *range(3, 259)]] *= BYTE_TOKEN_SCALE
    llama2c.write_model(args.out / "model.bin", model, args.version, group_size=args.group_size)
    pieces = tokenizer_pieces(args.vocab)
    scores = [-float(i) for i in range(len(pieces))]
    atomic_write(args.out / "tokenizer.bin", llama2c.serialize_tokenizer(pieces, scores))
    atomic_write(args.out / "chat.txt", f"template={args.template}\n".encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
