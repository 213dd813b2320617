"""Write one random test model container from a seed (build-time test data, never committed).

    make_models.py NAME FORMAT GROUP_SIZE SEED OUT.mcm

NAME is one of ``models.LLAMA_SPECS`` / ``models.NANOCHAT_SPECS``. FORMAT ``inferpi`` (Llama
only) writes InferPi's fp16 ``model.bin`` (``metalchat.export.inferpi_model``) instead;
``tokseed`` writes a seed for //engines/fuzz:fuzz_tokenizer (kind byte, u16 vocabulary, then the
model's tokenizer: llama2.c tokenizer.bin for a Llama spec, the BPE payload for nanochat);
``v0``/``v1``/``v2`` write llama2.c's own model files.
"""

from __future__ import annotations

import sys

import models
from metalchat.cli import run
from metalchat.export import inferpi_model
from metalchat.fileio import atomic_write
from metalchat.formats import container, llama2c
from metalchat.testing import tokenizer_bin


def build(name: str, fmt: str, group_size: int, seed: int) -> bytes:
    if fmt == "tokseed":
        if name in models.LLAMA_SPECS:
            vocab = models.LLAMA_SPECS[name].vocab_size
            return bytes([0]) + vocab.to_bytes(2, "little") + tokenizer_bin(vocab)
        vocab = models.NANOCHAT_SPECS[name].vocab_size
        ranked, specials = models.random_bpe(vocab, seed)
        payload = container.nanochat_tokenizer_payload(ranked, models.SPLIT_PATTERN, specials)
        return bytes([1]) + vocab.to_bytes(2, "little") + payload
    if name in models.LLAMA_SPECS:
        config = models.LLAMA_SPECS[name]
        model = models.llama_model(config, seed)
        if fmt == "inferpi":
            return inferpi_model(config, model.weights)
        if fmt in ("v0", "v1", "v2"):  # llama2.c's own files (v2: group_size)
            return llama2c.serialize_model(model, int(fmt[1]), group_size=group_size or 64)
        return models.llama_container(model, fmt, group_size)
    config = models.NANOCHAT_SPECS[name]
    ranked, specials = models.random_bpe(config.vocab_size, seed)
    weights = models.nanochat_model(config, seed)
    return models.nanochat_container(
        config, weights, ranked, specials, fmt=fmt, group_size=group_size
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    name, fmt, group, seed, out = args
    atomic_write(out, build(name, fmt, int(group), int(seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
