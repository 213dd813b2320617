"""The C llama2.c encoder against sentencepiece, line by line over a corpus of 246 lines
(English, punctuation, digits, non-Latin scripts, emoji through byte fallback):
//engines/tokenizer:encode with ../shared/testdata/llama2-tokenizer.bin must give exactly the
ids sentencepiece gives with llama2-tokenizer.model, the model that file was converted from.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sentencepiece

from metalchat.testing import shared_testdata_file

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


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
