"""engine_cli as a user meets it: a prompt longer than the context, a context that fills up
while generating, threads, and files that are not models (one readable line, exit 1)."""

from __future__ import annotations

import os
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
    assert done.returncode == 2 and done.stderr.startswith("usage: engine_cli")


if __name__ == "__main__":
    import pytest

    raise SystemExit(pytest.main([__file__, "-q"]))
