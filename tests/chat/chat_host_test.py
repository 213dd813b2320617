"""The chat app on the host's fake board (//images:chat_host), fed crafted cards and input:
what a careless user or an attacker can put on a card or type reaches the console as one
readable line, never as raw control bytes, and Ctrl-C stops an answer.

- a card with 300 folders and then 20 models: every model is listed, 16 a page (n/p), and one
  line counts the folders without a model;
- a folder name and tokenizer pieces holding terminal escape sequences are shown escaped;
- /temp with 45 nines prints the temperature it set;
- Ctrl-C (0x03) during an answer stops it (stats line, back to the prompt); "1" Ctrl-C Enter
  at the menu loads nothing;
- model files that no engine takes say why: corrupt container, truncated model.bin, InferPi's
  NCHT.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from metalchat import sdcard
from metalchat.config import LlamaConfig
from metalchat.formats import llama2c
from metalchat.testmodels import llama2c_files

CHAT_HOST = Path(os.environ.get("CHAT_HOST", "chat_host"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
CONFIG = LlamaConfig(16, 32, 1, 2, 2, 300, 64, shared_classifier=True)
CARD_SIZE = 64 << 20
TITLE = b"\x1b]0;PWNED\x07"  # sets the terminal's title


def _model() -> tuple[bytes, bytes]:
    return llama2c_files(CONFIG, seed=3)


def _card(name: str, files: dict[str, bytes], dirs: list[str] | None = None) -> Path:
    path = TMP / name
    sdcard.write_volume(path, CARD_SIZE, files, dirs or [])
    return path


def _chat(card: Path, typed: bytes) -> bytes:
    done = subprocess.run(
        [str(CHAT_HOST), "--card", str(card)], input=typed, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _no_raw_controls(out: bytes) -> None:
    raw = {b for b in out if b < 0x20 and b not in b"\r\n\t"} | ({0x7F} & set(out))
    assert not raw, f"raw control bytes {sorted(raw)} reached the console"


def test_every_model_is_listed_a_page_at_a_time() -> None:
    model, tok = _model()
    empty = [f"empty{i:03d}" for i in range(300)]
    files = {}
    for i in range(20):
        files[f"m{i:02d}/model.bin"] = model
        files[f"m{i:02d}/tokenizer.bin"] = tok
    out = _chat(_card("many.img", files, empty), b"n\rn\rp\r1\x03\rq\r").decode()
    assert (
        "card: 300 folders without a model (a model is a folder with model.bin and "
        "tokenizer.bin, or with model.mcm (or its shards model.mcm.000, .001, ...))" in out
    )
    assert "1. m00 [llama]" in out and "16. m15 [llama]" in out
    assert "(models 1-16 of 20, page 1 of 2)" in out
    assert "17. m16 [llama]" in out and "20. m19 [llama]" in out
    assert "(models 17-20 of 20, page 2 of 2)" in out
    # shown, n, n (wraps round), p
    assert out.count("(models 1-16 of 20, page 1 of 2)") == 2
    assert out.count("(models 17-20 of 20, page 2 of 2)") == 2
    assert "loaded" not in out  # "1" Ctrl-C Enter is an empty line, not model 1


def test_escape_sequences_from_the_card_are_shown_escaped() -> None:
    model, _ = _model()
    pieces = [TITLE, b"\n<s>\n", b"\n</s>\n"] + [TITLE] * (CONFIG.vocab_size - 3)
    tok = llama2c.serialize_tokenizer(pieces, [-float(i) for i in range(len(pieces))])
    # mtools refuses ESC in a name: the folder is "evilQ-red", then its long name's Q (the
    # first five UCS-2 characters sit together in the first LFN entry) becomes ESC.
    files = {"evilQ-red/model.bin": model, "evilQ-red/tokenizer.bin": tok}
    card = _card("evil.img", files)
    image = card.read_bytes()
    assert image.count("evilQ".encode("utf-16-le")) == 1
    card.write_bytes(image.replace("evilQ".encode("utf-16-le"), "evil\x1b".encode("utf-16-le")))
    out = _chat(card, b"1\r/temp 0\r/len 4\rhi\r/exit\rq\r")
    _no_raw_controls(out)
    assert b"1. evil\\x1b-red [llama]" in out
    assert b"\\x1b]0;PWNED\\x07" in out  # the answer's pieces


def test_temperature_is_clamped_to_what_it_takes() -> None:
    model, tok = _model()
    card = _card("temp.img", {"m/model.bin": model, "m/tokenizer.bin": tok})
    out = _chat(card, b"1\r/temp " + b"9" * 45 + b"\r/temp 0.5\r/len 1000\r/exit\rq\r").decode()
    assert "[temperature 100.00, the highest]" in out
    assert "[temperature 0.50]" in out
    assert "[answers of at most 256 tokens, the most]" in out


def test_ctrl_c_stops_an_answer() -> None:
    model, tok = _model()
    card = _card("ctrlc.img", {"m/model.bin": model, "m/tokenizer.bin": tok})
    # The whole input is waiting when the answer starts: the first check between tokens sees
    # the Ctrl-C; the bytes after it are the next lines.
    out = _chat(card, b"1\r/temp 0\rOnce\r\x03/ids\rupon\r/exit\rq\r").decode()
    assert "[stopped (Ctrl-C): the context keeps the answer so far]" in out
    assert "Generation: 0 tokens" in out
    assert "[token ids on]" in out  # typed after the Ctrl-C, read as the next line
    assert out.count("Generation: ") == 2
    assert "Generation: 0 tokens" not in out.split("[token ids on]")[1]


def _explained(name: str, model: bytes, label: str = "llama") -> str:
    files = {f"{name}/model.bin": model, f"{name}/tokenizer.bin": _model()[1]}
    out = _chat(_card(name + ".img", files), b"1\rq\r").decode()
    assert f"1. {name} [{label}]" in out
    return next(line for line in out.splitlines() if line.startswith(name + ": "))


def test_model_files_no_engine_takes_say_why() -> None:
    model, _ = _model()
    line = _explained("short", model[:-100])
    assert line.startswith("short: llama: truncated: the header (no magic) needs ")
    assert f"the file has {len(model) - 100}" in line
    # InferPi's magic, in the byte order of every reader here (container.h)
    ncht = (0x4E434854).to_bytes(4, "little") + bytes(60)
    assert _explained("ncht", ncht, "InferPi nanochat") == (
        "ncht: an InferPi nanochat model.bin (magic NCHT: InferPi's GPT-2 format), which no "
        "engine reads: export the nanochat checkpoint to a container instead"
    )
    junk = _explained("junk", b"\xff" * 64)
    assert junk == "junk: no engine recognises the model file (first bytes ff ff ff ff, 64 bytes)"


if __name__ == "__main__":
    import pytest

    raise SystemExit(pytest.main([__file__, "-q"]))
