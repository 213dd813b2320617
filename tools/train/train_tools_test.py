"""Training tools that need no torch: corpus parsing, the llama2.c tokenizer from
SentencePiece, the command line (help, sampling, and the message when torch is missing)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from metalchat.cli import run
from metalchat.errors import MetalchatError
from metalchat.formats import llama2c
from metalchat.train import cli, corpus, spm

MODELS = Path(__file__).absolute().parents[2] / "models"
SAMPLE = """\
Ge1:1 In the beginning God created the heaven and the earth.
Ge1:2 And the earth was without form, and void.
Ge2:1 Thus the heavens and the earth were finished.
1Jo1:1 That which was from the beginning, which we have heard.
Re22:21 The grace of our Lord Jesus Christ be with you all. Amen.
"""


def test_chapters_and_split() -> None:
    docs = corpus.chapters(SAMPLE)
    assert [d.ref for d in docs] == ["Ge1", "Ge2", "1Jo1", "Re22"]
    assert docs[0].text == (
        "In the beginning God created the heaven and the earth.\n"
        "And the earth was without form, and void."
    )
    many = [corpus.Chapter(str(i), "x") for i in range(1189)]
    train, val = corpus.split(many)
    assert len(val) == 29 and len(train) == 1160 and val[0].ref == "39"
    words = corpus.words("The LORD's house, and Israel.")
    assert words == ["the", "lord's", "house", "and", "israel"]


def test_chapters_rejects_other_text() -> None:
    with pytest.raises(MetalchatError, match="line 2 is not"):
        corpus.chapters("Ge1:1 In the beginning\nnot a verse\n")


def test_read_kjv_checks_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "kjv.txt"
    path.write_text(SAMPLE)
    with pytest.raises(MetalchatError, match="not the pinned KJV text"):
        corpus.read_kjv(path)


def test_llama2c_tokenizer_from_sentencepiece() -> None:
    sentences = corpus.chapters(SAMPLE)[0].text.split("\n") * 20
    model = spm.train_sentencepiece(sentences, 300)
    assert model == spm.train_sentencepiece(sentences, 300)  # deterministic
    tokenizer = spm.llama2c_tokenizer(model)
    assert tokenizer.tokens[:3] == [b"<unk>", b"\n<s>\n", b"\n</s>\n"]
    assert tokenizer.tokens[3 + 0x41] == b"<0x41>"  # byte fallback tokens
    again = llama2c.read_tokenizer(llama2c.serialize_tokenizer(tokenizer.tokens, tokenizer.scores))
    assert again.tokens == tokenizer.tokens
    sp = spm.processor(model)
    text = "And the earth was void.\nZebedee's 7 sons!"
    assert spm.decode_llama2c(tokenizer, sp.encode(text)) == text


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    assert "--config=torch //tools/train" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["llama", "--help"])
    assert "--seed" in capsys.readouterr().out


def test_sample_prints_the_committed_greedy_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cli.main, ["sample", str(MODELS / "tinyllama-kjv"), "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert len(out.split()) >= 5


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed here")
def test_training_without_torch_says_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus, "read_kjv", lambda path: SAMPLE)
    assert run(cli.main, ["llama", "--out", str(tmp_path / "m")]) == 2
    assert "--config=torch" in capsys.readouterr().err


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
