"""The committed demo models (models/): they load through the project's readers, their
manifests validate and match the files, and greedy generation with the numpy reference
models reproduces greedy.json and is made of words of the training text.

The word check is meant to separate a trained model from an untrained one: the same
tokenizer with random weights (the control below) generates a far smaller share of corpus
words.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from metalchat import manifest
from metalchat.formats import llama2c, nanochat_ckpt
from metalchat.reference import llama as ref_llama
from metalchat.reference.nanochat import NanochatReference, random_weights
from metalchat.train import demo, spm

# Under Bazel this is the runfiles tree (the files are data deps); else the source tree.
MODELS = Path(__file__).absolute().parents[2] / "models"
LLAMA = MODELS / "tinyllama-kjv"
NANOCHAT = MODELS / "tinynanochat-kjv"
MIN_WORD_SHARE = 0.8
MIN_WORDS = 25


@pytest.fixture(scope="module")
def vocabulary() -> set[str]:
    words = demo.read_word_list(MODELS / "kjv-words.txt")
    assert 10_000 < len(words) < 20_000  # the KJV has about 12,800 distinct words
    return words


def _greedy_record(folder: Path) -> dict:
    return json.loads((folder / "greedy.json").read_text())


def test_llama_manifest_matches_files() -> None:
    m = manifest.load_manifest(LLAMA / "manifest.textproto")
    manifest.verify_weights(m, LLAMA / "model.bin")
    config, version, _ = llama2c.read_config(LLAMA / "model.bin")
    described = manifest.llama_config(m.llama)  # float fields went through float32
    assert version == 0 and config == replace(described, norm_eps=config.norm_eps)
    assert described.norm_eps == pytest.approx(config.norm_eps)
    tokenizer_bytes = (LLAMA / "tokenizer.bin").read_bytes()
    assert m.tokenizer.sha256 == hashlib.sha256(tokenizer_bytes).hexdigest()
    assert (LLAMA / "model.bin").stat().st_size < 8 << 20


def test_llama_greedy(vocabulary: set[str]) -> None:
    greedy = demo.llama_greedy(LLAMA)
    record = _greedy_record(LLAMA)
    assert greedy.ids == record["ids"] and greedy.text == record["text"]
    share, count = demo.word_fraction(greedy.text, vocabulary)
    assert count >= MIN_WORDS, greedy.text
    assert share >= MIN_WORD_SHARE, (share, greedy.text)


def test_llama_tokenizer_round_trip() -> None:
    """tokenizer.bin holds the SentencePiece model's pieces: decoding its encoding of a
    verse gives the verse back."""
    pytest.importorskip("sentencepiece", reason="sentencepiece is in the default lock")
    sp = spm.processor((LLAMA / "tokenizer.model").read_bytes())
    tokenizer = llama2c.read_tokenizer(LLAMA / "tokenizer.bin", 1024)
    verse = "In the beginning God created the heaven and the earth.\nAnd it was so."
    assert spm.decode_llama2c(tokenizer, sp.encode(verse)) == verse


def test_nanochat_checkpoint_and_manifest() -> None:
    m = manifest.load_manifest(NANOCHAT / "manifest.textproto")
    manifest.verify_weights(m, NANOCHAT / m.weights_file)
    checkpoint = nanochat_ckpt.read_checkpoint(NANOCHAT)
    assert checkpoint.config.vocab_size == m.nanochat.vocab_size == m.tokenizer.vocab_size
    tokenizer = nanochat_ckpt.read_tokenizer(NANOCHAT / "tokenizer.pkl")
    assert tokenizer.vocab_size == checkpoint.config.vocab_size
    assert tokenizer.token_id("<|bos|>") == m.tokenizer.bos_id == len(tokenizer.ranks)
    assert (NANOCHAT / m.weights_file).stat().st_size < 8 << 20


def test_nanochat_greedy(vocabulary: set[str]) -> None:
    greedy = demo.nanochat_greedy(NANOCHAT)
    record = _greedy_record(NANOCHAT)
    assert greedy.ids == record["ids"] and greedy.text == record["text"]
    share, count = demo.word_fraction(greedy.text, vocabulary)
    assert count >= MIN_WORDS, greedy.text
    assert share >= MIN_WORD_SHARE, (share, greedy.text)


def test_untrained_models_fail_the_word_check(vocabulary: set[str]) -> None:
    """The control: random weights with the same tokenizers fall well short of the bar."""
    model = llama2c.read_model(LLAMA / "model.bin")
    tokenizer = llama2c.read_tokenizer(LLAMA / "tokenizer.bin", 1024)
    rng = np.random.default_rng(0)
    shares = []
    for seed in range(3):
        rand = llama2c.random_model(model.config, seed=seed, scale=0.5)
        ref = ref_llama.LlamaReference(rand)
        first = int(rng.integers(300, 1024))  # past the byte tokens: a random first piece
        ids = ref_llama.generate(ref, [spm.BOS_ID, first], demo.GREEDY_STEPS, stop_token=None)
        shares.append(demo.word_fraction(spm.decode_llama2c(tokenizer, [first, *ids]), vocabulary))
    checkpoint = nanochat_ckpt.read_checkpoint(NANOCHAT)
    nano = nanochat_ckpt.read_tokenizer(NANOCHAT / "tokenizer.pkl")
    table = nano.tokens()
    for seed in range(3):
        ref = NanochatReference(checkpoint.config, random_weights(checkpoint.config, seed))
        first = int(rng.integers(256, len(nano.ranks)))
        ids = demo.nanochat_generate(ref, [first], demo.GREEDY_STEPS, None)
        text = b"".join(table[i] for i in [first, *ids]).decode("utf-8", errors="replace")
        shares.append(demo.word_fraction(text, vocabulary))
    assert all(share < MIN_WORD_SHARE - 0.2 for share, _ in shares), shares


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
