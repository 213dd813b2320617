"""The chat on QEMU virt (//images:qemu_virt_kernel) with its models on a USB stick.

The image walks the PCIe bus, starts the qemu-xhci controller, enumerates the usb-storage
device and reads the stick's FAT32 volume over Bulk-Only SCSI (drivers/pcie, xhci, usb,
usb_msc). Each test boots it and types at its console:
- the menu lists the stick's models (folder names longer than 8.3: FAT long names); greedy
  chat turns give exactly the token ids of the chat app's host build (//images:chat_host for
  the Cortex-A72 under QEMU user mode: the same NEON kernels) reading the same stick image as
  a file, on the test stick and the demo stick;
- no stick, no controller, a card reader without a card, a stick with no FAT32 volume, a
  stick whose FAT32 boot sector is broken: one line each, back to the menu, "r" tries again;
- a USB keyboard in the first port: it is passed over and the stick behind it still serves.
Descriptor and protocol faults (stalls, short or oversized descriptors, phase errors) need a
misbehaving device QEMU does not offer: drivers/usb_msc's host tests cover them on a fake stick.

Inputs (tests/BUILD.bazel): KERNEL (the ELF), STICK, DEMO_STICK, CHAT_HOST.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from qemu import Session, qemu_command

from metalchat.testing import write_linux_only_disk

KERNEL = Path(os.environ.get("KERNEL", "qemu_virt.elf"))
STICK = Path(os.environ.get("STICK", "usb_test_stick.img"))
DEMO_STICK = Path(os.environ.get("DEMO_STICK", "usb_stick.img"))
CHAT_HOST = Path(os.environ.get("CHAT_HOST", "chat_host"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
os.environ["TMPDIR"] = str(TMP)  # QEMU's snapshot=on overlay
MACHINE = "virt,virtualization=on,highmem=off"
BOARD_ARGS = ["-cpu", "cortex-a72", "-smp", "4", "-m", "1024", "-nic", "none"]
TIMEOUT = 120.0
MENU_PROMPT = "to power off: "
PARITY = ["/ids", "/temp 0", "/len 24"]


def stick(path: Path, *more: str) -> list[str]:
    """QEMU arguments: an xHCI controller, `more` devices, then the stick in the next port."""
    return [
        "-device", "qemu-xhci", *more,
        "-drive", f"if=none,id=stick,file={path},format=raw,snapshot=on",
        "-device", "usb-storage,drive=stick",
    ]  # fmt: skip


class Chat:
    def __init__(self, *extra: str) -> None:
        command = qemu_command(
            "aarch64", MACHINE, KERNEL, [*BOARD_ARGS, "-icount", "shift=0", *extra]
        )
        self.session = Session(command)

    def until(self, text: str) -> str:
        return self.session.until(text, TIMEOUT)

    def line(self, text: str, until: str) -> str:
        return self.session.line(text, until, TIMEOUT)

    def power_off(self) -> None:
        self.session.send(b"q\r")
        assert self.session.finish(TIMEOUT) == 0

    def close(self) -> None:
        if self.session.exited() is None:
            self.session.stop()
        print(self.session.console)


@pytest.fixture
def chat():
    made: list[Chat] = []

    def boot(*extra: str) -> Chat:
        made.append(Chat(*extra))
        return made[-1]

    yield boot
    for c in made:
        c.close()


def ids_of(out: str) -> list[int]:
    m = re.search(r"^ids:((?: \d+)*)\r?$", out, re.M)
    assert m, out
    return [int(x) for x in m.group(1).split()]


def host_ids(script: str, image: Path) -> list[list[int]]:
    """The answer ids of every turn of the chat app's host build fed `script`, `image` its card."""
    done = subprocess.run(
        [CHAT_HOST, "--card", image], input=script.encode(), capture_output=True, timeout=120
    )
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, out
    return [[int(x) for x in m.split()] for m in re.findall(r"^ids:((?: \d+)*)\r?$", out, re.M)]


def turns(c: Chat, model: str, prompts: list[str]) -> list[list[int]]:
    c.line(model, "\n> ")
    for command in PARITY:
        c.line(command, "\n> ")
    ids = [ids_of(c.line(p, "\n> ")) for p in prompts]
    c.line("/exit", MENU_PROMPT)
    return ids


STICK_LINE = (
    r"^card on USB port \d+ \((high|super) speed\): QEMU QEMU HARDDISK: "
    r"FAT32 volume \"METALCHAT\"\r?$"
)


def test_menu_from_the_stick_and_parity_with_host(chat) -> None:
    stories = ["2", *PARITY, "Once upon a time", "and then", "/exit"]
    instruct = ["1", *PARITY, "Name a colour.", "/exit"]
    expected = host_ids("\r".join([*stories, *instruct, "q", ""]), STICK)
    assert len(expected) == 3 and all(expected), expected
    c = chat(*stick(STICK))
    menu = c.until(MENU_PROMPT)
    assert re.search(r"^metalchat: board=qemu_virt cpu=cortex-a72 el=2 cores=4 ", menu, re.M)
    assert re.search(STICK_LINE, menu, re.M), menu
    assert "1. tiny-instruct [llama]" in menu and "2. tiny-stories [llama]" in menu
    got = turns(c, "2", ["Once upon a time", "and then"]) + turns(c, "1", ["Name a colour."])
    c.power_off()
    assert re.search(r"loaded tiny-stories: [\d.]+ MB in \d+ ms", c.session.console)
    assert got == expected


def test_demo_stick(chat) -> None:
    llama = ["1", *PARITY, "In the beginning", "/exit"]
    nanochat = ["2", *PARITY, "And the LORD", "/exit"]
    expected = host_ids("\r".join([*llama, *nanochat, "q", ""]), DEMO_STICK)
    assert len(expected) == 2 and all(expected), expected
    c = chat(*stick(DEMO_STICK))
    menu = c.until(MENU_PROMPT)
    assert "1. tinyllama-kjv [llama]" in menu and "2. tinynanochat-kjv [nanochat]" in menu
    got = turns(c, "1", ["In the beginning"]) + turns(c, "2", ["And the LORD"])
    c.power_off()
    assert got == expected


def test_no_stick_and_no_controller(chat) -> None:
    c = chat("-device", "qemu-xhci")
    out = c.until(MENU_PROMPT)
    assert "card: no USB stick (nothing connected to the xHCI ports)" in out, out
    again = c.line("r", MENU_PROMPT)
    assert again.count("card: no USB stick") == 1, again
    c.power_off()

    c = chat()
    out = c.until(MENU_PROMPT)
    assert "card: no USB stick (no xHCI controller on PCIe)" in out, out
    c.power_off()

    # a card reader with no card: TEST UNIT READY fails, REQUEST SENSE says not ready
    c = chat(
        "-device", "qemu-xhci", "-drive", "if=none,id=stick",
        "-device", "usb-storage,drive=stick,removable=on",
    )  # fmt: skip
    out = c.until(MENU_PROMPT)
    assert re.search(r"^card: USB port \d+: SCSI: no medium", out, re.M), out
    c.power_off()


def test_broken_sticks(chat, tmp_path: Path) -> None:
    linux = write_linux_only_disk(tmp_path / "linux.img")  # no FAT32 partition
    c = chat(*stick(linux))
    out = c.until(MENU_PROMPT)
    assert re.search(r"^card on USB port \d+ .*: .*\(FAT_ERR_NO_PARTITION\)\r?$", out, re.M), out
    c.power_off()

    broken = tmp_path / "broken.img"  # the stick's volume with its boot sector's geometry zeroed
    image = bytearray(STICK.read_bytes())
    volume = 2048 * 512
    image[volume + 11 : volume + 17] = bytes(6)  # bytes/sector, sectors/cluster, reserved, FATs
    broken.write_bytes(image)
    c = chat(*stick(broken))
    out = c.until(MENU_PROMPT)
    lines = [ln for ln in out.splitlines() if ln.startswith("card on USB port")]
    assert len(lines) == 1 and "FAT32 volume" not in lines[0] and "(FAT_ERR_" in lines[0], out
    assert "1. " not in out
    c.power_off()


def test_keyboard_before_the_stick(chat) -> None:
    c = chat(*stick(STICK, "-device", "usb-kbd"))
    menu = c.until(MENU_PROMPT)
    assert re.search(STICK_LINE, menu, re.M), menu
    assert "2. tiny-stories [llama]" in menu
    c.power_off()


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
