"""The C encoder of Hugging Face BPE payloads (container tokenizer kind 3) against the
`tokenizers` library, on the 12 000 documents of parity_corpus.py.

Six tokenizer.json files are made here, none downloaded: byte-level BPE with the pre-tokenizers
of GPT-2 (ByteLevel), SmolLM (Digits, ByteLevel), Llama 3 (Split with its regex, ByteLevel,
ignore_merges) and Qwen2 (its Split regex, NFC normalizer), each trained by `tokenizers` on
part of the corpus with that pre-tokenizer; and SentencePiece-style BPE with byte fallback as
TinyLlama's (U+2581 for spaces, a dummy prefix) and Gemma's (no prefix; its Split on " "
after the normalizer), trained the same way
with a small alphabet so that rarer characters go through <0xXX> byte tokens. Each is converted
by metalchat.formats.tokenizer_json.convert_bpe and encoded by //engines/tokenizer:encode
--hf; the ids must equal `tokenizers`' ids for every document, and the C decode of those ids
must give back every document's bytes exactly.

`tokenizers` is in the torch extra: run with --config=torch (CI's torch run); without it the
tests skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from metalchat.formats.tokenizer_json import SPACE, convert_bpe

sys.path.insert(0, str(Path(__file__).parent))
import parity_corpus

ENCODE = Path(os.environ.get("ENCODE", "engines/tokenizer/encode"))
LLAMA3 = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
STYLES = ["gpt2", "smollm", "llama3", "qwen2", "tinyllama", "gemma"]
TRAIN_LINES = 3000


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    pytest.importorskip("tokenizers", reason="tokenizers is in the torch extra only")
    docs = parity_corpus.lines()
    assert len(docs) >= 10000
    return docs


def byte_level(style: str, train: list[str]) -> Any:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(ignore_merges=style == "llama3"))
    byte_level = pre_tokenizers.ByteLevel(
        add_prefix_space=False, use_regex=style in ("gpt2", "smollm")
    )
    if style == "gpt2":
        tok.pre_tokenizer = byte_level
    elif style == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level]
        )
    else:
        split = pre_tokenizers.Split(Regex(LLAMA3 if style == "llama3" else QWEN2), "isolated")
        tok.pre_tokenizer = pre_tokenizers.Sequence([split, byte_level])
    if style == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.decoder = decoders.ByteLevel()
    specials = {
        "gpt2": ["<|endoftext|>"],
        "smollm": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        "llama3": ["<|begin_of_text|>", "<|end_of_text|>"],
        "qwen2": [],  # added after the vocabulary, as Qwen2's are
    }[style]
    trainer = trainers.BpeTrainer(
        vocab_size=1500,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(train, trainer)
    if style == "qwen2":
        tok.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    return tok


def sentencepiece_style(style: str, train: list[str]) -> Any:
    """Trained on words (split before each U+2581), then laid out as a converted SentencePiece
    vocabulary: specials, the 256 <0xXX> tokens, then the pieces; no split when encoding."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    prefix = style == "tinyllama"
    specials = ["<unk>", "<s>", "</s>"] if prefix else ["<pad>", "<eos>", "<bos>", "<unk>"]
    steps = [normalizers.Prepend(SPACE)] if prefix else []
    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Sequence([*steps, normalizers.Replace(" ", SPACE)])
    tok.pre_tokenizer = pre_tokenizers.Split(SPACE, "merged_with_next")
    trainer = trainers.BpeTrainer(
        vocab_size=1500, special_tokens=specials, limit_alphabet=120, show_progress=False
    )
    tok.train_from_iterator(train, trainer)
    data = json.loads(tok.to_str())
    trained = sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])
    order = specials + [f"<0x{b:02X}>" for b in range(256)]
    order += [piece for piece, _ in trained if piece not in set(order)]
    data["model"]["vocab"] = {piece: i for i, piece in enumerate(order)}
    data["added_tokens"] = [
        {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, s in enumerate(specials)
    ]  # fmt: skip
    data["pre_tokenizer"] = None
    if not prefix:  # Gemma's: a Split on " ", which cuts nothing once Replace has run
        data["pre_tokenizer"] = {"type": "Split", "pattern": {"String": " "},
                                 "behavior": "MergedWithPrevious", "invert": False}  # fmt: skip
    steps_out = [
        {"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
        {"type": "ByteFallback"},
        {"type": "Fuse"},
    ]
    if prefix:
        steps_out.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    data["decoder"] = {"type": "Sequence", "decoders": steps_out}
    return Tokenizer.from_str(json.dumps(data))


def make(style: str, train: list[str]) -> Any:
    if style in ("tinyllama", "gemma"):
        return sentencepiece_style(style, train)
    return byte_level(style, train)


def c_encode(
    payload: Path, vocab: int, docs: list[str], tmp: Path
) -> tuple[list[list[int]], bytes]:
    text = tmp / "docs.nul"
    text.write_bytes(b"\0".join(d.encode() for d in docs))
    decoded = tmp / "decoded.nul"
    done = subprocess.run(
        [str(ENCODE), "--hf", str(payload), str(vocab), str(text), "--decode", str(decoded)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    rows = done.stdout.decode().split("\n")[: len(docs)]
    return [[int(x) for x in row.split()] for row in rows], decoded.read_bytes()


@pytest.mark.parametrize("style", STYLES)
def test_c_matches_tokenizers(style: str, corpus: list[str], tmp_path: Path) -> None:
    hf = make(style, corpus[:TRAIN_LINES])
    converted = convert_bpe(json.loads(hf.to_str()))
    payload = tmp_path / "payload.bin"
    payload.write_bytes(converted.payload())
    # every document alone, then the corpus in long stretches (12 documents joined by newlines)
    docs = corpus + ["\n".join(corpus[i : i + 12]) for i in range(0, 1200, 12)]
    ours, decoded = c_encode(payload, converted.vocab_size, docs, tmp_path)
    theirs = [e.ids for e in hf.encode_batch(docs, add_special_tokens=False)]
    mismatches = [(d, o, t) for d, o, t in zip(docs, ours, theirs, strict=True) if o != t]
    lost = [d for d, back in zip(docs, decoded.split(b"\0"), strict=True) if back != d.encode()]
    tokens = sum(len(ids) for ids in ours)
    print(
        f"{style}: {converted.pre_tokenizer}, {len(converted.tokens)} tokens, "
        f"{len(converted.merges)} merges; {len(docs)} documents, {tokens} ids, "
        f"{len(mismatches)} differ from tokenizers, {len(lost)} do not decode back"
    )
    assert not mismatches, repr(mismatches[:3])
    assert not lost, repr(lost[:3])
    if style in ("tinyllama", "gemma"):  # byte fallback was exercised
        assert any(t < 259 and t > 3 for ids in ours for t in ids)


@pytest.mark.parametrize("style", ["gpt2", "smollm", "llama3", "qwen2"])
def test_pre_tokenizer_chunks(style: str, corpus: list[str], tmp_path: Path) -> None:
    """The chunks themselves (a vocabulary may hide a wrong cut: Qwen2's has no token of two
    digits, so cutting digits in pairs would go unseen above)."""
    from metalchat.formats.tokenizer_json import PRE_TOKENIZERS

    hf = byte_level(style, corpus[:200])
    text = tmp_path / "docs.nul"
    docs = corpus + ["\n".join(corpus[i : i + 12]) for i in range(0, 1200, 12)]
    text.write_bytes(b"\0".join(d.encode() for d in docs))
    done = subprocess.run(
        [str(ENCODE), "--split", str(PRE_TOKENIZERS[style]), str(text)],
        capture_output=True,
        check=True,
    )
    rows = done.stdout.decode().split("\n")[: len(docs)]
    differ = []
    for doc, row in zip(docs, rows, strict=True):
        raw, at, ours = doc.encode(), 0, []
        for n in map(int, row.split()):
            ours.append(raw[at : at + n].decode())
            at += n
        theirs = [doc[a:b] for _, (a, b) in hf.pre_tokenizer.pre_tokenize_str(doc)]
        if ours != theirs:
            differ.append((doc, ours, theirs))
    print(f"{style}: {len(docs)} documents, {len(differ)} cut differently")
    assert not differ, repr(differ[:2])


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
