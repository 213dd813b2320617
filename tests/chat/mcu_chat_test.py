"""The chat on the RP2350's QEMU twin (//images:mps2_an521_kernel: mps2-an521 with the RP2350's
core flags, 520 KB of RAM, the demo model linked into read-only flash).

Each test boots the image, types at its CMSDK UART and checks:
- the banner, the bundle found in flash and the placement printed at load (weights in place,
  context capped to fit the 520 KB);
- a greedy turn gives exactly the ids of the chat app's host build //images:chat_host fed the
  same model region (--bundle) and the same input, also on a second turn over the kept KV
  cache;
- 1 core and 2 cores give the same ids (the two-core parallel-for on the twin's two M33s);
- a region of two models shows the menu, and either model chats;
- stories260K (../shared/testdata, skipped without it; with a stand-in 512-token tokenizer,
  so only ids are compared) in the demo image's flash: greedy ids equal to the host build;
- the autorun build answers its prompt on boot, with no input, and prints the tokens/s lines;
- bad input at the prompt (an unknown command, a bad setting, a prompt longer than the
  context) gets one line and the prompt back.

Inputs from the environment (tests/BUILD.bazel): KERNEL (the ELF), MENU_KERNEL (the image with
two models), AUTORUN_KERNEL, REGION (the demo image's model region, for the host build),
CHAT_HOST, QEMU_ARGS.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from qemu import Session, qemu_command

KERNEL = Path(os.environ.get("KERNEL", "mps2_an521.elf"))
AUTORUN_KERNEL = Path(os.environ.get("AUTORUN_KERNEL", "autorun.elf"))
MENU_KERNEL = Path(os.environ.get("MENU_KERNEL", "menu.elf"))
REGION = Path(os.environ.get("REGION", "region.inc"))
CHAT_HOST = Path(os.environ.get("CHAT_HOST", "chat_host"))
EXPORT = Path(os.environ.get("EXPORT", "export"))
TESTDATA = Path(os.environ.get("METALCHAT_TESTDATA", "../shared_testdata"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
QEMU_ARGS = os.environ.get("QEMU_ARGS", "").split()
TIMEOUT = 120.0
SETUP = ["/temp 0", "/len 16", "/ids"]


class Twin:
    def __init__(self, kernel: Path) -> None:
        command = qemu_command("arm", "mps2-an521", kernel, [*QEMU_ARGS, "-icount", "shift=0"])
        self.session = Session(command)

    def until(self, text: str) -> str:
        return self.session.until(text, TIMEOUT)

    def line(self, text: str, until: str = "\n> ") -> str:
        return self.session.line(text, until, TIMEOUT)

    def turn(self, text: str) -> list[int]:
        return ids_of(self.line(text))

    def close(self) -> None:
        if self.session.exited() is None:
            self.session.stop()
        print(self.session.console)


def ids_of(out: str) -> list[int]:
    m = re.search(r"^ids:((?: \d+)*)\r?$", out, re.M)
    assert m, out
    return [int(x) for x in m.group(1).split()]


@pytest.fixture
def twin():
    made: list[Twin] = []

    def boot(kernel: Path = KERNEL) -> Twin:
        made.append(Twin(kernel))
        return made[-1]

    yield boot
    for t in made:
        t.close()


def host_ids(lines: list[str], region: Path = REGION) -> list[list[int]]:
    """The answer ids of every turn of the host build fed the twin's model region."""
    script = "\n".join(lines) + "\n"
    done = subprocess.run(
        [CHAT_HOST, "--bundle", region], input=script.encode(), capture_output=True, timeout=60
    )
    out = done.stdout.decode(errors="replace")
    return [[int(x) for x in m.split()] for m in re.findall(r"^ids:((?: \d+)*)\r?$", out, re.M)]


def start_chat(t: Twin) -> str:
    out = t.until("\n> ")
    for line in SETUP:
        t.line(line)
    return out


def test_boots_from_flash_with_the_planned_placement(twin) -> None:
    t = twin()
    out = start_chat(t)
    assert "metalchat: board=mps2_an521 cpu=cortex-m33 mode=thread-secure cores=2" in out
    assert re.search(r"boot bundle at 0x1[0-9a-f]{7}: tinyllama-kjv, 1\.\d+ MB", out), out
    assert "tinyllama-kjv: weights used in place at 0x1" in out
    assert "context capped to 128 tokens to fit in RAM" in out
    m = re.search(r"ram: (\d+\.\d+) MB free at 0x38", out)
    assert m and float(m.group(1)) < 0.52, out  # the RP2350's SRAM, not the board's 4 MB
    assert "2 cores" in out


def test_greedy_ids_equal_the_host_build_over_two_turns(twin) -> None:
    turns = ["In the beginning", "And the LORD said"]
    expected = host_ids(SETUP + turns)
    assert len(expected) == 2 and all(len(ids) == 16 for ids in expected), expected
    t = twin()
    start_chat(t)
    assert [t.turn(text) for text in turns] == expected


def test_one_and_two_cores_give_the_same_ids(twin) -> None:
    t = twin()
    start_chat(t)
    two = t.turn("In the beginning")
    assert "[1 cores]" in t.line("/cores 1")
    t.line("/reset")
    one = t.turn("In the beginning")
    assert "[2 cores]" in t.line("/cores 2")
    assert one == two and len(one) == 16


def test_two_models_show_the_menu(twin) -> None:
    t = twin(MENU_KERNEL)
    menu = t.until("to power off: ")
    assert "1. kjv-a [llama] (in memory)" in menu and "2. kjv-b [llama] (in memory)" in menu
    out = t.line("2", "\n> ")
    assert "Chat with kjv-b" in out
    for line in SETUP:
        t.line(line)
    assert len(t.turn("In the beginning")) == 16
    t.line("/exit", "to power off: ")
    t.session.send(b"q\r")
    assert t.session.finish(TIMEOUT) == 0


def test_stories260k_in_flash_gives_the_host_ids(twin) -> None:
    """The demo image with stories260K in its flash instead (the region's bytes replaced in a
    copy of the ELF, as flashing another region would): same code, another model."""
    weights = TESTDATA / "stories260K.bin"
    if not weights.is_file():
        pytest.skip(f"no {weights} (../shared/testdata is not part of the project)")
    import flash

    from metalchat import planner
    from metalchat.testing import tokenizer_bin

    tokenizer = TMP / "tok512.bin"
    tokenizer.write_bytes(tokenizer_bin(512))
    model = TMP / "stories260K.mcm"
    subprocess.run(
        [EXPORT, "llama2c", weights, "--tokenizer", tokenizer, "--format", "f32", "--name",
         "stories260K", "--quiet", "-o", model],
        check=True,
    )  # fmt: skip
    data, placements = flash.region(planner.mcu_target("mps2_an521"), [("stories260K", model)])
    assert placements[0].weights_in == "flash"  # 1 MB of f32: it stays in flash
    demo = REGION.read_bytes()
    assert len(data) <= len(demo), (len(data), len(demo))
    region = TMP / "stories260K_region.bin"
    region.write_bytes(data)
    elf = bytearray(KERNEL.read_bytes())
    at = elf.find(demo[:4096])
    assert at > 0 and elf[at : at + len(demo)] == demo
    elf[at : at + len(demo)] = data + bytes(len(demo) - len(data))
    kernel = TMP / "stories260K.elf"
    kernel.write_bytes(bytes(elf))

    turns = ["Once upon a time", "The end"]
    expected = host_ids(SETUP + turns, region)
    t = twin(kernel)
    out = start_chat(t)
    assert "stories260K: weights used in place" in out, out
    assert [t.turn(text) for text in turns] == expected and len(expected[0]) == 16


def test_autorun_tells_a_story_on_boot(twin) -> None:
    t = twin(AUTORUN_KERNEL)
    out = t.until("Generation:")  # nothing typed
    out += t.until("\n> ")
    assert "> In the beginning\r\n" in out or "> In the beginning\n" in out, out
    m = re.search(r"Generation: (\d+) tokens in \d+ ms \((\d+\.\d+) tokens/sec\)", out)
    assert m and int(m.group(1)) > 0 and float(m.group(2)) > 0, out
    t.line("/temp 0")
    t.line("/ids")
    assert len(t.turn("And the LORD")) > 0  # and then it chats


def test_bad_input_at_the_prompt(twin) -> None:
    t = twin()
    start_chat(t)
    out = t.line("/frobnicate")
    assert out.count("\n") <= 2 and "/help" in out, out
    out = t.line("/temp banana")
    assert "/temp needs a number" in out and out.count("\n") <= 2, out
    out = t.line(" ".join(["a"] * 300))  # more tokens than the 128 of the capped context
    assert "shorten it" in out, out
    assert len(t.turn("In the beginning")) == 16  # and it still chats


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
