"""engine_cli as a user meets it: a prompt longer than the context, a context that fills up
while generating, threads, and files that are not models (one readable line, exit 1)."""

from __future__ import annotations

import os
import random
import signal
import struct
import subprocess
from pathlib import Path

ENGINE_CLI = Path(os.environ["ENGINE_CLI"])
MODEL = Path(os.environ["MODEL"])  # a small llama container with its tokenizer inside


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENGINE_CLI), *args], capture_output=True, text=True, check=False, timeout=60
    )


def _last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_a_prompt_longer_than_the_context_runs_nothing() -> None:
    done = _run(str(MODEL), "--max-seq", "8", "-t", "0", "-i", "word " * 50)
    assert done.returncode == 1
    assert done.stdout == ""
    assert _last_line(done.stderr) == "the prompt is 251 tokens and the context holds 8: shorten it"


def test_a_100_kb_prompt_is_refused_after_encoding() -> None:
    # The merges were quadratic: 100 KB took minutes before the refusal (not timed here).
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "away."]
    prompt = " ".join(words[i * 7 % 10] for i in range(25000))[:100000]
    done = _run(str(MODEL), "-t", "0", "-i", prompt)
    assert done.returncode == 1 and done.stdout == ""
    assert _last_line(done.stderr).endswith("tokens and the context holds 48: shorten it")


def test_a_full_context_ends_the_text() -> None:
    done = _run(str(MODEL), "--max-seq", "8", "-n", "64", "-t", "0", "--ids")
    assert done.returncode == 0
    assert len(done.stdout.split()) == 8  # one id per forward pass, and the context holds 8
    assert "[context full: the text stops at its 8 positions]" in done.stderr
    assert "(8 positions in" in _last_line(done.stderr)
    room = _run(str(MODEL), "-n", "8", "-t", "0", "--ids")  # 8 steps in the model's 48
    assert room.returncode == 0 and room.stdout == done.stdout
    assert "context full" not in room.stderr


def test_threads_give_the_same_text() -> None:
    one = _run(str(MODEL), "-n", "40", "-t", "0", "-i", "hello")
    three = _run(str(MODEL), "-n", "40", "-t", "0", "-i", "hello", "--threads", "3")
    assert one.returncode == three.returncode == 0
    assert one.stdout.strip() and three.stdout == one.stdout


def test_files_that_are_not_models(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model" * 10)
    done = _run(str(junk))
    assert done.returncode == 1 and done.stderr == f"{junk}: no engine recognises this file\n"
    done = _run(str(tmp_path / "missing.bin"))
    assert done.returncode == 1 and done.stderr == f"cannot read {tmp_path / 'missing.bin'}\n"
    done = _run(str(MODEL), "--threads", "-1")
    assert done.returncode == 2
    assert (
        done.stderr
        == 'engine_cli: --threads needs a whole number >= 0 (0 = one per CPU), not "-1"\n'
    )


def test_a_damaged_container_says_which_check_failed(tmp_path: Path) -> None:
    data = bytearray(MODEL.read_bytes())
    data[200] ^= 0x01  # a header byte the header CRC-32 covers
    bad = tmp_path / "flipped.mcm"
    bad.write_bytes(bytes(data))
    done = _run(str(bad))
    assert (done.returncode, done.stderr) == (
        1,
        f"{bad}: corrupt container: header CRC-32 mismatch\n",
    )
    short = tmp_path / "short.mcm"
    short.write_bytes(MODEL.read_bytes()[:-64])
    done = _run(str(short))
    assert done.returncode == 1
    want = f"{short}: container: file shorter than the header's file size (EM_ERR_TRUNCATED)\n"
    assert done.stderr == want


def test_every_option_value_is_checked() -> None:
    for args, line in [
        (["-n", "abc"], 'engine_cli: -n needs a whole number >= 0, not "abc"'),
        (["-t", "hot"], 'engine_cli: -t needs a number >= 0 (0 = greedy), not "hot"'),
        (["-t", "nan"], 'engine_cli: -t needs a number >= 0 (0 = greedy), not "nan"'),
        (["-p", "nan"], 'engine_cli: -p needs a number from 0 to 1, not "nan"'),
        (["-p", "1.5"], 'engine_cli: -p needs a number from 0 to 1, not "1.5"'),
        (
            ["--max-seq", "-5"],
            'engine_cli: --max-seq needs a whole number >= 0 (0 = the model\'s), not "-5"',
        ),
        (["-s", "12x"], 'engine_cli: -s needs a whole number >= 0, not "12x"'),
        (
            ["-n", "99999999999999999999"],
            'engine_cli: -n needs a whole number >= 0, not "99999999999999999999"',
        ),
    ]:
        done = _run(str(MODEL), *args)
        assert (done.returncode, done.stderr, done.stdout) == (2, line + "\n", ""), args


def test_prompt_ids_out_of_the_vocabulary() -> None:
    # 4294967301 is 5 modulo 2^32: it used to feed id 5
    for ids in ["4294967301", "1,-3", "1,2x"]:
        done = _run(str(MODEL), "--prompt-ids", ids)
        assert done.returncode == 2, ids
        assert _last_line(done.stderr).startswith(
            "engine_cli: --prompt-ids needs ids from 0 to "
        ), ids
    assert _run(str(MODEL), "--prompt-ids", "1,5,7").returncode == 0


def test_threads_are_capped_at_the_cpus() -> None:
    done = _run(str(MODEL), "-n", "8", "-t", "0", "--ids", "--threads", "100000")
    cpus = os.cpu_count() or 1
    assert done.returncode == 0, done.stderr
    want = f"engine_cli: --threads 100000: this machine has {cpus} CPUs, using {cpus}"
    assert done.stderr.splitlines()[0] == want
    assert done.stdout == _run(str(MODEL), "-n", "8", "-t", "0", "--ids").stdout


def test_control_bytes_in_the_text_are_escaped(tmp_path: Path) -> None:
    # A tokenizer whose every piece would set the terminal's title: the text shows it escaped.
    vocab = _vocab_size()
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"\x1b]0;PWNED\x07"] * (vocab - 3)
    tok = tmp_path / "tok.bin"
    tok.write_bytes(_tokenizer_bin(pieces))
    done = subprocess.run(
        [str(ENGINE_CLI), str(MODEL), "-z", str(tok), "-n", "6", "-t", "0"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert b"\\x1b]0;PWNED\\x07" in done.stdout


def _never_bos_model(path: Path, seq_len: int = 4096) -> None:
    """A tiny llama2.c v0 model.bin (dim 8, one layer, 32 tokens, its own classifier) that
    never samples BOS: the final norm keeps one component x, token i's classifier row is
    (+1 or -1, 0, ...) and BOS's is zero, so some token always scores |x| > 0."""
    dim, hidden, layers, heads, vocab = 8, 8, 1, 1, 32
    rng = random.Random(7)

    def rand(n: int) -> list[float]:
        return [rng.uniform(-1, 1) for _ in range(n)]

    weights = rand(vocab * dim)  # token embedding
    weights += rand(
        layers * dim + layers * dim * dim * 4 + layers * dim
    )  # rms_att, wq..wo, rms_ffn
    weights += rand(layers * hidden * dim * 3)  # w1 w2 w3
    weights += [1.0] + [0.0] * (dim - 1)  # rms_final
    weights += rand(seq_len * dim // heads)  # freq_cis real + imaginary
    for i in range(vocab):  # the classifier
        weights += [0.0 if i == 1 else (1.0 if i % 2 == 0 else -1.0)] + [0.0] * (dim - 1)
    header = struct.pack("<7i", dim, hidden, layers, heads, heads, -vocab, seq_len)
    path.write_bytes(header + struct.pack(f"<{len(weights)}f", *weights))


def test_sigint_stops_the_text(tmp_path: Path) -> None:
    model, tok = tmp_path / "long.bin", tmp_path / "long_tok.bin"
    _never_bos_model(model)
    tok.write_bytes(_tokenizer_bin([b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"x" * 200] * 29))
    # Unread, the pipe fills (64 KB) long before 4096 pieces of 200 bytes are out: the run is
    # still going when the signal comes.
    proc = subprocess.Popen(
        [str(ENGINE_CLI), str(model), "-z", str(tok), "-n", "4096", "-t", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.read(1000)  # text out: the run is under way
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "[stopped (Ctrl-C)]" in err and "achieved tok/s" in err
    assert len(out) < 4000 * 200


def _vocab_size() -> int:
    done = _run(str(MODEL), "-n", "1", "--ids")
    head = done.stderr.split("vocab ")[1]
    return int(head.split(",")[0])


def _tokenizer_bin(pieces: list[bytes]) -> bytes:
    """A llama2.c tokenizer.bin: max piece length, then (score, length, bytes) per piece."""
    out = struct.pack("<i", max(len(p) for p in pieces))
    for i, piece in enumerate(pieces):
        out += struct.pack("<fi", -float(i), len(piece)) + piece
    return out


if __name__ == "__main__":
    import pytest

    raise SystemExit(pytest.main([__file__, "-q"]))
