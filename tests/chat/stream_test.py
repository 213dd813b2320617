"""Weight streaming: a model 2-4x bigger than an artificial RAM cap gives the same greedy ids
streamed layer by layer from storage as read whole, and the memory it reports stays under the
cap.

The model: a Llama container (int8, groups of 32, 16 layers, random weights from a seed)
written by metalchat.testmodels at test time. The card holds it three times: `resident/`,
`streamed/`, whose chat.txt says `ram_cap=<a third of the model's size>`, and `sharded/` (the
same cap, the file in three shards `model.mcm.000`..`.002`).

- host (CHAT_HOST, ENGINE_CLI set): the chat app's host build (//images:chat_host) answers the
  same ids from both folders and prints its RAM peak under the cap; //tools/engine_cli with
  --ram-cap (the model streamed through platforms/host's threaded reader) gives the ids and
  logits of the uncapped run, bit for bit, and reports its peak under the cap.
- board (KERNEL, MACHINE, SYSTEM set): the same card in QEMU (raspi4b, raspi3b, raspi0), both
  folders on the board: the same ids, the RAM peak under the cap.
Each half skips, saying so, when its inputs are not given (tests/BUILD.bazel gives them).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from metalchat import sdcard, testmodels
from metalchat.config import LlamaConfig

TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
os.environ["TMPDIR"] = str(TMP)
CHAT_HOST = os.environ.get("CHAT_HOST")
ENGINE_CLI = os.environ.get("ENGINE_CLI")
KERNEL = os.environ.get("KERNEL")
MACHINE = os.environ.get("MACHINE", "raspi4b")
SYSTEM = os.environ.get("SYSTEM", "aarch64")  # qemu-system-<SYSTEM>
CONFIG = LlamaConfig(64, 256, 16, 4, 1, 512, 64, shared_classifier=False)
MENU_PROMPT = "to power off: "
SETTINGS = ["/ids", "/temp 0", "/len 12"]
PROMPTS = ["Once upon a time", "and then"]


@pytest.fixture(scope="module")
def model() -> tuple[Path, int]:
    """(model.mcm, the RAM cap): the cap a third of the file."""
    path = TMP / "stream_model.mcm"
    weights = testmodels.llama_model(CONFIG, seed=7)
    path.write_bytes(testmodels.llama_container(weights, "q8", 32))
    cap = path.stat().st_size // 3
    return path, cap


@pytest.fixture(scope="module")
def card(model: tuple[Path, int]) -> Path:
    path, cap = model
    chat_txt = TMP / "chat.txt"
    chat_txt.write_text(f"template=plain\nram_cap={cap}\n")
    files = {"resident/model.mcm": path, "streamed/model.mcm": path, "streamed/chat.txt": chat_txt}
    data = path.read_bytes()
    step = len(data) // 3 + 1
    for i in range(3):  # shards as `export --shard-bytes` writes them
        part = TMP / f"shard.mcm.{i:03d}"
        part.write_bytes(data[i * step : (i + 1) * step])
        files[f"sharded/model.mcm.{i:03d}"] = part
    files["sharded/chat.txt"] = chat_txt
    out = TMP / "stream_card.img"
    sdcard.write_card(out, files)
    return out


def script(menu_numbers: dict[str, str]) -> list[str]:
    lines = []
    for name in ("streamed", "sharded", "resident"):
        lines += [menu_numbers[name], *SETTINGS, *PROMPTS, "/exit"]
    return lines


def turns(out: str) -> list[list[int]]:
    return [[int(x) for x in m.split()] for m in re.findall(r"^ids:((?: \d+)*)\r?$", out, re.M)]


def check_chat(out: str, cap: int, size: int) -> None:
    """Three folders' turns (one file and shards under the cap, then whole): the same ids."""
    assert 2 * cap <= size <= 4 * cap, (size, cap)  # the model is 2-4x the cap
    assert re.search(r"streamed: RAM capped at [\d.]+ MB \(chat.txt\)", out), out
    assert re.search(r"^streamed: [\d.]+ MB, more than 3/4 .* streamed from the card", out, re.M)
    assert re.search(r"^sharded: [\d.]+ MB in 3 shards, more than 3/4 .* streamed", out, re.M)
    ids = turns(out)
    assert len(ids) == 6 and all(ids), out
    assert ids[:2] == ids[2:4] == ids[4:]  # streamed == resident, turn by turn (KV cache kept)
    peaks = [(int(p), int(c)) for p, c in re.findall(r"^RAM peak: (\d+) of (\d+) bytes", out, re.M)]
    assert len(peaks) == 4, out  # a line after each streamed turn, none for the resident ones
    for peak, of in peaks:
        assert of == cap and peak <= cap, (peak, cap)
    print(f"model {size} B, cap {cap} B, RAM peaks {[p for p, _ in peaks]}, ids {ids[:2]}")


def menu_numbers(menu: str) -> dict[str, str]:
    # "2. streamed [llama]", with " (sd)" where the board marks where a model lies
    line = r"^(\d+)\. (\S+) \[llama\](?: \(\w+\))?\r?$"
    return {name: n for n, name in re.findall(line, menu, re.M)}


def test_host_chat_streams_under_the_cap(model: tuple[Path, int], card: Path) -> None:
    if not CHAT_HOST:
        pytest.skip("CHAT_HOST not given: the host half runs in //tests:stream_host_test")
    path, cap = model
    first = subprocess.run(
        [CHAT_HOST, "--card", str(card)], input=b"q\r", capture_output=True, timeout=60
    )
    numbers = menu_numbers(first.stdout.decode())
    typed = "\r".join([*script(numbers), "q", ""]).encode()
    done = subprocess.run(
        [CHAT_HOST, "--card", str(card)], input=typed, capture_output=True, timeout=120
    )
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, out
    check_chat(out, cap, path.stat().st_size)


def cli(path: Path, *extra: str) -> tuple[list[int], bytes, str]:
    logits = TMP / "logits.bin"
    done = subprocess.run(
        [
            ENGINE_CLI,
            str(path),
            "-t",
            "0",
            "--ids",
            "-n",
            "40",
            "--dump-logits",
            str(logits),
            *extra,
        ],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return [int(x) for x in done.stdout.split()], logits.read_bytes(), done.stderr.decode()


def test_engine_cli_streams_under_the_cap(model: tuple[Path, int]) -> None:
    if not ENGINE_CLI:
        pytest.skip("ENGINE_CLI not given: the host half runs in //tests:stream_host_test")
    path, cap = model
    ids, logits, _ = cli(path)
    s_ids, s_logits, err = cli(path, "--ram-cap", str(cap))
    assert ids == s_ids and len(ids) == 40
    assert logits == s_logits  # bit for bit
    m = re.search(r"ram cap (\d+) B: streamed; peak (\d+) B .*, under the cap", err)
    assert m and int(m.group(1)) == cap and int(m.group(2)) <= cap, err
    per_token = int(re.search(r"\((\d+) B per token\)", err).group(1))
    assert path.stat().st_size * 0.9 < per_token < path.stat().st_size, err
    # The same through shards of the file (as `export --shard-bytes` writes them).
    data = path.read_bytes()
    base = TMP / "sharded.mcm"
    step = len(data) // 3 + 1
    for i in range(3):
        Path(f"{base}.{i:03d}").write_bytes(data[i * step : (i + 1) * step])
    sh_ids, sh_logits, err = cli(base, "--ram-cap", str(cap))
    assert sh_ids == ids and sh_logits == logits, err
    assert np.isfinite(np.frombuffer(logits, np.float32)).all()


def test_board_chat_streams_under_the_cap(model: tuple[Path, int], card: Path) -> None:
    if not KERNEL:
        pytest.skip("KERNEL not given: the board half runs in //tests:<board>_stream_test")
    from qemu import Session, qemu_command

    path, cap = model
    drive = ["-drive", f"file={card},if=sd,format=raw,snapshot=on"]
    session = Session(qemu_command(SYSTEM, MACHINE, Path(KERNEL), ["-icount", "shift=0", *drive]))
    try:
        at = session.wait_for(MENU_PROMPT, 120.0, 0)
        numbers = menu_numbers(session.console[:at])
        for line in script(numbers):
            session.send(line.encode() + b"\r")
            at = session.wait_for(MENU_PROMPT if line == "/exit" else "\n> ", 300.0, at)
        session.send(b"q\r")
        assert session.finish(120.0) == 0
        check_chat(session.console, cap, path.stat().st_size)
    finally:
        if session.exited() is None:
            session.stop()
        print(session.console)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
