"""The C encoders against sentencepiece with ../shared/testdata's Llama 2 tokenizer (also
TinyLlama's): the llama2.c encoder with llama2-tokenizer.bin, line by line over a corpus of 246
lines (English, punctuation, digits, non-Latin scripts, emoji through byte fallback), and the
Hugging Face BPE encoder (kind 3) with the payload tokenizer_json.read_sentencepiece makes of
llama2-tokenizer.model, over the 12 000 documents of parity_corpus.py (ids and decode round
trips). Each must give exactly the ids sentencepiece gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentencepiece

from metalchat.formats.tokenizer_json import read_sentencepiece
from metalchat.testing import shared_testdata_file

sys.path.insert(0, str(Path(__file__).parent))
import parity_corpus

ENCODE = Path(os.environ.get("ENCODE", "engines/tokenizer/encode"))
CORPUS = Path("engines/tokenizer/testdata/tokenizer_corpus.txt")


def test_c_encoder_matches_sentencepiece(tmp_path: Path) -> None:
    tokenizer_bin = shared_testdata_file("llama2-tokenizer.bin")
    spm_model = shared_testdata_file("llama2-tokenizer.model")
    if tokenizer_bin is None or spm_model is None:
        pytest.skip("llama2-tokenizer.bin/.model not in ../shared/testdata")
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 200
    documents = tmp_path / "corpus.nul"
    documents.write_bytes(b"\0".join(line.encode("utf-8") for line in lines))
    done = subprocess.run(
        [str(ENCODE), str(tokenizer_bin), str(documents)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    ours = [[int(t) for t in row.split()] for row in done.stdout.splitlines()]
    spm = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    assert len(ours) == len(lines)
    mismatches = [line for line, ids in zip(lines, ours, strict=True) if ids != spm.encode(line)]
    print(f"{len(lines) - len(mismatches)} of {len(lines)} lines encode as sentencepiece does")
    assert mismatches == []


def test_hf_payload_matches_sentencepiece(tmp_path: Path) -> None:
    spm_model = shared_testdata_file("llama2-tokenizer.model")
    if spm_model is None:
        pytest.skip("llama2-tokenizer.model not in ../shared/testdata")
    converted = read_sentencepiece(spm_model)
    payload = tmp_path / "payload.bin"
    payload.write_bytes(converted.payload())
    docs = parity_corpus.lines()
    documents = tmp_path / "corpus.nul"
    documents.write_bytes(b"\0".join(d.encode("utf-8") for d in docs))
    decoded = tmp_path / "decoded.nul"
    done = subprocess.run(
        [str(ENCODE), "--hf", str(payload), str(converted.vocab_size), str(documents),
         "--decode", str(decoded)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    ours = [[int(t) for t in row.split()] for row in done.stdout.split("\n")[: len(docs)]]
    spm = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    mismatches = [d for d, ids in zip(docs, ours, strict=True) if ids != spm.encode(d)]
    back = decoded.read_bytes().split(b"\0")
    lost = [d for d, b in zip(docs, back, strict=True) if b != d.encode("utf-8")]
    print(
        f"{len(converted.merges)} merges; {len(docs) - len(mismatches)} of {len(docs)} documents "
        f"encode as sentencepiece does, {len(docs) - len(lost)} decode back exactly"
    )
    assert mismatches == [], repr(mismatches[:3])
    assert lost == [], repr(lost[:3])


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
