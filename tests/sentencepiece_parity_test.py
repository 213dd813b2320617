"""The C llama2.c encoder against sentencepiece, line by line over a corpus of 246 lines
(English, punctuation, digits, non-Latin scripts, emoji through byte fallback):
//tools/engine_cli --encode with ../shared/testdata/llama2-tokenizer.bin must give exactly the
ids sentencepiece gives with llama2-tokenizer.model, the model that file was converted from.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sentencepiece

from metalchat.config import LlamaConfig
from metalchat.formats import llama2c
from metalchat.testing import shared_testdata_file

ENGINE_CLI = Path(os.environ["ENGINE_CLI"])
CORPUS = Path(os.environ["TOKENIZER_CORPUS"])


def test_c_encoder_matches_sentencepiece(tmp_path: Path) -> None:
    tokenizer_bin = shared_testdata_file("llama2-tokenizer.bin")
    spm_model = shared_testdata_file("llama2-tokenizer.model")
    if tokenizer_bin is None or spm_model is None:
        pytest.skip("llama2-tokenizer.bin/.model not in ../shared/testdata")
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 200
    # engine_cli encodes with a model's tokenizer: a tiny random model with the right vocab
    model = tmp_path / "model.bin"
    config = LlamaConfig(dim=8, hidden_dim=16, n_layers=1, n_heads=2, n_kv_heads=2,
                         vocab_size=32000, seq_len=16)  # fmt: skip
    llama2c.write_model(model, llama2c.random_model(config), version=0)
    documents = tmp_path / "corpus.nul"
    documents.write_bytes(b"\0".join(line.encode("utf-8") for line in lines))
    done = subprocess.run(
        [str(ENGINE_CLI), str(model), "-z", str(tokenizer_bin), "--encode", str(documents)],
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
