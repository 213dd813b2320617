"""The Raspberry Pi chat image (//images:<board>_kernel: rpi4 in QEMU raspi4b, rpi3 in raspi3b,
rpi0 in raspi0), with SD cards.

Each test boots the image (QEMU's card slot: -drive if=sd), types at its console and checks:
- the menu lists the card's models with their engines; a chat turn at temperature 0 gives
  exactly the token ids of the same engine code off the board: //tools/engine_cli (greedy,
  same prompt text after the template) and the chat app's host build //images:chat_host
  (same input, including a second turn on the kept KV cache); /exit, the other model. Both
  are built for the board's core under Linux and run in QEMU user mode (tests:engine_cli_aarch64,
  tests:chat_host_aarch64 for the Cortex-A72; the _armv6 ones for the Pi Zero's ARM1176): the
  NEON and VFP kernels add floats in another order than the x86 host's, so only the same
  kernels can be asked for the same bits (the Pi 3's Cortex-A53 runs the same NEON kernels);
- 1 core and 4 cores give the same ids (boards with 4 cores);
- bad cards (truncated model, wrong magic, tokenizer of another vocabulary, empty card, no
  FAT32 partition, no card): one clear line each, back to the menu, the good model still works;
- over-long prompts and a full KV cache behave as docs/RPI4.md says;
- a RAM bundle placed by the loader (-device loader, like config.txt's initramfs) skips the menu;
- the firmware keepalive: readings at boot, more polls while the chat waits, /status.

The board comes from the environment (tests/BUILD.bazel): BOARD, CPU, MACHINE, SYSTEM (QEMU's
qemu-system-SYSTEM), PRIVILEGE and CORES (as its banner reports them), CARD_ON (the slot the
card is read from, and how), USB_LINE (the line of its USB path in QEMU, or none), NO_CARD (its
message when no slot has a card); and the input files: KERNEL, CARD, DEMO_CARD,
CHAT_HOST, ENGINE_CLI (the QEMU user-mode wrappers), and the two stand-in model folders
TINY_STORIES / TINY_INSTRUCT.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from qemu import Session, qemu_command

from metalchat import sdcard
from metalchat.testing import tokenizer_bin, write_linux_only_disk

BOARD = os.environ.get("BOARD", "rpi4")
CPU = os.environ.get("CPU", "cortex-a72")
MACHINE = os.environ.get("MACHINE", "raspi4b")
SYSTEM = os.environ.get("SYSTEM", "aarch64")
PRIVILEGE = os.environ.get("PRIVILEGE", "el=2")
CORES = int(os.environ.get("CORES", "4"))
CARD_ON = os.environ.get("CARD_ON", "EMMC")  # the slot and how it reads (rpi0: its DMA channel)
NO_CARD = os.environ.get("NO_CARD", "no SD card (EMMC2 and EMMC tried)")
# the line of the board's USB path in QEMU (none: the board has no USB path, one card kind)
USB_LINE = os.environ.get("USB_LINE", "")
KERNEL = Path(os.environ.get("KERNEL", "kernel8.img"))
CARD = Path(os.environ.get("CARD", "test_sdcard.img"))
DEMO_CARD = Path(os.environ.get("DEMO_CARD", "sdcard.img"))  # the product's card
CHAT_HOST = Path(os.environ.get("CHAT_HOST", "chat_host"))
ENGINE_CLI = Path(os.environ.get("ENGINE_CLI", "engine_cli"))
STORIES = Path(os.environ.get("TINY_STORIES", "tiny-stories"))
INSTRUCT = Path(os.environ.get("TINY_INSTRUCT", "tiny-instruct"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
os.environ["TMPDIR"] = str(TMP)  # QEMU's snapshot=on overlay (the sandbox's /var/tmp is read-only)
TIMEOUT = 120.0
MENU_PROMPT = "to power off: "
ALPACA = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{}\n\n### Response:"
)
ANSWER_LEN = 24  # /len in the parity turns: enough to compare, short enough for 4 QEMU cores


class Chat:
    """The chat image booted in QEMU with `extra` arguments; type lines, read answers."""

    def __init__(self, *extra: str, icount: bool = True) -> None:
        # -icount as //images:<board>_qemu: a fast multi-core parallel-for; without it the guest's
        # clock is the host's (the keepalive test waits on it)
        accel = ["-icount", "shift=0"] if icount else []
        self.session = Session(qemu_command(SYSTEM, MACHINE, KERNEL, [*accel, *extra]))

    def until(self, text: str) -> str:
        return self.session.until(text, TIMEOUT)

    def line(self, text: str, until: str) -> str:
        return self.session.line(text, until, TIMEOUT)

    def turn(self, text: str) -> list[int]:
        """One chat turn with /ids on: the generated ids."""
        out = self.line(text, "\n> ")
        return ids_of(out)

    def power_off(self) -> None:
        self.session.send(b"q\r")
        assert self.session.finish(TIMEOUT) == 0
        print(self.session.console)

    def close(self) -> None:
        if self.session.exited() is None:
            self.session.stop()
        print(self.session.console)


def ids_of(out: str, label: str = "ids") -> list[int]:
    m = re.search(rf"^{label}:((?: \d+)*)\r?$", out, re.M)
    assert m, out
    return [int(x) for x in m.group(1).split()]


def card_drive(path: Path) -> list[str]:
    return ["-drive", f"file={path},if=sd,format=raw,snapshot=on"]


@pytest.fixture
def chat(request):
    made: list[Chat] = []

    def boot(*extra: str, icount: bool = True) -> Chat:
        made.append(Chat(*extra, icount=icount))
        return made[-1]

    yield boot
    for c in made:
        c.close()


def host_ids(script: str, card: Path = CARD) -> list[list[int]]:
    """The answer ids of every turn of the chat app's host build (for the A72) fed `script`."""
    done = subprocess.run(
        [CHAT_HOST, "--card", card], input=script.encode(), capture_output=True, timeout=60
    )
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, out
    return [[int(x) for x in m.split()] for m in re.findall(r"^ids:((?: \d+)*)\r?$", out, re.M)]


def cli_answer(folder: Path, prompt: str, n_prompt: int, n: int) -> list[int]:
    """The first `n` ids //tools/engine_cli samples at temperature 0 after `prompt`.

    engine_cli --ids prints, for every position, the token that comes next: the prompt's own
    tokens after BOS (n_prompt - 1 of them), then the generated ones."""
    done = subprocess.run(
        [ENGINE_CLI, folder / "model.bin", "-z", folder / "tokenizer.bin", "-t", "0", "--ids",
         "-i", prompt, "-n", str(n_prompt + n)],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    return [int(x) for x in done.stdout.split()][n_prompt - 1 : n_prompt - 1 + n]


def chat_turns(c: Chat, model: str, settings: list[str], prompts: list[str]) -> list[str]:
    """Chooses `model` at the menu, applies `settings`, runs `prompts`; the turns' output."""
    c.line(model, "\n> ")
    for command in settings:
        c.line(command, "\n> ")
    outs = [c.line(p, "\n> ") for p in prompts]
    c.line("/exit", MENU_PROMPT)
    return outs


PARITY = ["/ids", "/temp 0", f"/len {ANSWER_LEN}"]


def test_menu_chat_and_parity_with_host(chat) -> None:
    stories = ["2", *PARITY, "Once upon a time", "and then", "/exit"]
    instruct = ["1", *PARITY, "Name a colour.", "/exit"]
    script = "\r".join([*stories, *instruct, "q", ""])
    expected = host_ids(script)
    assert len(expected) == 3 and all(expected), expected

    c = chat(*card_drive(CARD))
    menu = c.until(MENU_PROMPT)
    banner = rf"^metalchat: board={BOARD} cpu={CPU} {PRIVILEGE} cores={CORES} build=[0-9a-f]{{16}}"
    assert re.search(banner, menu, re.M)
    assert "1. tiny-instruct [llama]" in menu and "2. tiny-stories [llama]" in menu
    assert f'card on {CARD_ON}: FAT32 volume "METALCHAT"' in menu, menu
    if USB_LINE:  # two kinds of storage: one line for the missing USB stick, SD models marked
        assert menu.count(USB_LINE) == 1 and "1. tiny-instruct [llama] (sd)" in menu, menu
    else:
        assert "USB" not in menu and "(sd)" not in menu, menu
    first, second = chat_turns(c, "2", PARITY, ["Once upon a time", "and then"])
    third = chat_turns(c, "1", PARITY, ["Name a colour."])[0]
    c.power_off()
    console = c.session.console
    assert re.search(r"loaded tiny-stories: [\d.]+ MB in \d+ ms \([\d.]+ MB/s\)", console)
    assert "tiny-stories: engine llama" in console and "template alpaca" in console
    assert re.search(r"Generation: \d+ tokens in \d+ ms \([\d.]+ tokens/sec\)", first)

    board = [ids_of(first), ids_of(second), ids_of(third)]
    assert board == expected  # the same app on the host, turn by turn (KV cache kept)
    # Second turn: prefill continues the context, no BOS.
    assert ids_of(second, "prompt ids")[0] != 1 and ids_of(first, "prompt ids")[0] == 1
    for out, folder, prompt in [
        (first, STORIES, "Once upon a time"),
        (third, INSTRUCT, ALPACA.format("Name a colour.")),
    ]:
        n_prompt = len(ids_of(out, "prompt ids"))
        answer = ids_of(out)
        assert answer == cli_answer(folder, prompt, n_prompt, len(answer))


def test_ctrl_c_stops_an_answer(chat) -> None:
    """Ctrl-C (0x03) typed while an answer streams stops it between tokens: the stats line,
    the prompt again, and the conversation goes on from where it stopped."""
    settings = ["2", "/temp 0", "/len 256"]
    full = host_ids("\r".join([*settings, "/ids", "Once upon a time", "/exit", "q", ""]))
    assert len(full[0]) == 256, full  # greedy, this answer runs to /len: there is time to stop it
    c = chat(*card_drive(CARD))
    c.until(MENU_PROMPT)
    for line in settings:
        c.line(line, "\n> ")
    c.line("Once upon a time", "Once upon a time\r\n")
    c.until(" ")  # the first word of the answer is out
    c.session.send(b"\x03")
    out = c.until("\n> ")
    assert "[stopped (Ctrl-C): the context keeps the answer so far]" in out
    n = int(re.search(r"Generation: (\d+) tokens", out).group(1))
    assert 0 < n < 256
    after = c.line("and then", "\n> ")
    assert re.search(r"Generation: \d+ tokens", after) and "[stopped" not in after
    c.line("/exit", MENU_PROMPT)
    c.line("1\x03", MENU_PROMPT)  # "1" then Ctrl-C: the line is cleared, nothing is loaded
    c.power_off()
    assert "loaded tiny-instruct" not in c.session.console


def test_demo_models_on_the_product_card(chat) -> None:
    """//images:<board>_sdcard: both demo models listed with their engines, one greedy turn each,
    the same ids as the host build of the app on the same card."""
    llama = ["1", *PARITY, "In the beginning", "/exit"]
    nanochat = ["2", *PARITY, "And the LORD", "/exit"]
    expected = host_ids("\r".join([*llama, *nanochat, "q", ""]), DEMO_CARD)
    assert len(expected) == 2 and all(expected), expected
    c = chat(*card_drive(DEMO_CARD))
    menu = c.until(MENU_PROMPT)
    assert "1. tinyllama-kjv [llama]" in menu and "2. tinynanochat-kjv [nanochat]" in menu
    first = chat_turns(c, "1", PARITY, ["In the beginning"])[0]
    second = chat_turns(c, "2", PARITY, ["And the LORD"])[0]
    c.power_off()
    assert [ids_of(first), ids_of(second)] == expected


@pytest.mark.skipif(CORES < 4, reason="the board has one core")
def test_one_and_four_cores_agree(chat) -> None:
    c = chat(*card_drive(CARD))
    c.until(MENU_PROMPT)
    outs = chat_turns(
        c, "2", PARITY, ["/cores 1", "Once upon a time", "/reset", "/cores 4", "Once upon a time"]
    )
    c.power_off()
    assert "[1 cores]" in outs[0] and "[4 cores]" in outs[3]
    assert ids_of(outs[1]) == ids_of(outs[4]) and len(ids_of(outs[1])) == ANSWER_LEN


def _bad_card(tmp: Path) -> Path:
    stories = {f: STORIES / f for f in ("model.bin", "tokenizer.bin", "chat.txt")}
    model = (STORIES / "model.bin").read_bytes()
    (tmp / "short.bin").write_bytes(model[: len(model) // 2])
    (tmp / "magic.bin").write_bytes(b"\x00\xffJUNK" + model[6:])
    files = {f"good/{f}": p for f, p in stories.items()}
    files |= {
        "truncated/model.bin": tmp / "short.bin",
        "truncated/tokenizer.bin": stories["tokenizer.bin"],
    }
    files |= {
        "badmagic/model.bin": tmp / "magic.bin",
        "badmagic/tokenizer.bin": stories["tokenizer.bin"],
    }
    (tmp / "tok300.bin").write_bytes(tokenizer_bin(300))  # another model's vocabulary
    files |= {
        "mismatch/model.bin": stories["model.bin"],
        "mismatch/tokenizer.bin": tmp / "tok300.bin",
    }
    card = tmp / "bad.img"
    sdcard.write_card(card, files)
    return card


def test_bad_models_each_one_line_then_the_good_one_works(chat, tmp_path: Path) -> None:
    c = chat(*card_drive(_bad_card(tmp_path)))
    menu = c.until(MENU_PROMPT)
    # the Pi 4 marks where each model lies (SD card, USB stick): "(sd)"
    names = dict(re.findall(r"^(\d+)\. (\S+) \[llama\](?: \(sd\))?\r?$", menu, re.M))
    number = {name: n for n, name in names.items()}
    assert set(number) == {"good", "truncated", "badmagic", "mismatch"}
    expect = {
        # a v0 model.bin cut short: the sizes its header needs against the bytes present
        "truncated": "truncated: llama: truncated: the header (no magic) needs 874780 bytes",
        "badmagic": "badmagic: no engine recognises the model file (first bytes 00 ff 4a 55",
        "mismatch": "mismatch: tokenizer.bin has 300 tokens but the model's vocabulary has 512",
    }
    for name, message in expect.items():
        out = c.line(number[name], MENU_PROMPT)
        assert message in out, out
        assert len([ln for ln in out.splitlines() if ln.startswith(name + ":")]) == 1, out
    out = chat_turns(c, number["good"], ["/temp 0", "/len 4"], ["Once upon a time"])[0]
    assert "Generation: 4 tokens" in out
    c.power_off()


def test_cards_without_models(chat, tmp_path: Path) -> None:
    readme = tmp_path / "readme.txt"
    readme.write_bytes(b"no models here\n")
    empty = tmp_path / "empty.img"
    sdcard.write_card(empty, {"readme.txt": readme})
    c = chat(*card_drive(empty))
    out = c.until(MENU_PROMPT)
    assert (
        "card: no models (a model is a folder with model.bin and tokenizer.bin, or with model.mcm "
        "(or its shards model.mcm.000, .001, ...))" in out
    )
    c.power_off()

    linux = write_linux_only_disk(tmp_path / "linux.img")  # no FAT32 partition
    c = chat(*card_drive(linux))
    out = c.until(MENU_PROMPT)
    assert "(FAT_ERR_NO_PARTITION)" in out, out
    c.power_off()

    c = chat()
    out = c.until(MENU_PROMPT)
    assert f"card: {NO_CARD}" in out
    assert c.line("r", MENU_PROMPT).count("card: no SD card") == 1  # retry, same answer
    c.power_off()


def test_context_limits(chat) -> None:
    c = chat(*card_drive(CARD))
    c.until(MENU_PROMPT)
    too_long = "x" * 600  # a byte token each: more than the 384-token context
    outs = chat_turns(
        c, "1", ["/cores 1", "/temp 0"],
        [too_long, "Tell a story.", "Another.", "/reset", "Tell a story."],
    )  # fmt: skip
    c.power_off()
    assert re.search(r"\[the prompt is \d+ tokens, the context holds 384: shorten it\]", outs[0])
    assert "[context full (384 tokens): /reset to start a new conversation]" in outs[1]
    assert re.search(r"\[the context has 0 of 384 tokens left, the prompt needs \d+", outs[2])
    assert "[conversation cleared]" in outs[3]
    assert outs[4].count("Generation: ") == 1 and "context full" in outs[4]


HEALTH = re.compile(
    r"^board: (\d+\.\d\d) C, ARM (\d+) of (\d+) MHz, (.+), firmware polls: (\d+)\r?$", re.M
)


def test_firmware_keepalive(chat) -> None:
    """The board polls the firmware (temperature, throttling, ARM clock) at boot and then at
    most once a second (of the guest's clock, here the host's) while the chat waits for input;
    /status shows the last readings."""
    c = chat(*card_drive(CARD), icount=False)
    boot = HEALTH.search(c.until(MENU_PROMPT))
    assert boot, c.session.console
    # QEMU's firmware answers 25 C, no throttling, and one rate for the clock and its maximum.
    assert boot.group(1, 4, 5) == ("25.00", "not throttled", "1")
    assert boot.group(2) == boot.group(3) and int(boot.group(2)) > 0
    c.line("1", "\n> ")
    polls = [1]
    deadline = time.monotonic() + TIMEOUT
    while polls[-1] < 3 and time.monotonic() < deadline:
        time.sleep(1)  # the guest spins in its input loop meanwhile, calling the keepalive
        status = HEALTH.search(c.line("/status", "\n> "))
        assert status, c.session.console
        polls.append(int(status.group(5)))
    c.line("/exit", MENU_PROMPT)
    c.power_off()
    assert polls[-1] >= 3, polls
    assert polls == sorted(polls)


def test_ram_bundle_skips_the_menu(chat, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.bin"
    bundle.write_bytes(
        sdcard.bundle_bytes(
            (STORIES / "model.bin").read_bytes(), (STORIES / "tokenizer.bin").read_bytes(),
            "stories-in-ram",
        )
    )  # fmt: skip
    loader = f"loader,file={bundle},addr=0x{sdcard.RPI4_BUNDLE_ADDR:x},force-raw=on"
    c = chat("-device", loader, *card_drive(CARD))
    out = c.until("\n> ")
    assert "boot bundle at 0x8000000: stories-in-ram" in out
    assert "Chat with stories-in-ram" in out and MENU_PROMPT not in out
    for command in PARITY:
        c.line(command, "\n> ")
    first = c.turn("Once upon a time")
    menu = c.line("/exit", MENU_PROMPT)
    assert "1. stories-in-ram [llama] (in memory)" in menu and "3. tiny-stories [llama]" in menu
    c.power_off()
    assert first == host_ids("\r".join(["2", *PARITY, "Once upon a time", ""]))[0]


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
