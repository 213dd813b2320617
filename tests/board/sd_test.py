"""The SD card path of the AArch64 Broadcom boards in QEMU: //tests/board:<board>_sd_test
(BOARD rpi4 on raspi4b, rpi3 on raspi3b; MACHINE, SD_TEST_IMG) reads a FAT32 card over SDHCI.

Each case builds a card image here (mkfs.fat + mtools through metalchat.sdcard),
boots the image with it and checks the console: the card found on the expected controller, the
root directory listing, and the CRC-32 of /models/stories/model.bin against zlib's.

Where the card goes: `-drive if=sd` puts it on the BCM2835 Arasan EMMC (0xfe300000 on raspi4b,
0x3f300000 on raspi3b), which is where QEMU 10's GPIO model routes the SD bus; on raspi4b
`-device sd-card,bus=/generic-sdhci/sd-bus` puts it on the BCM2711 EMMC2 (0xfe340000), the
Pi 4's real SD slot. QEMU needs the card size to be a power of two; cards up to 2 GiB are SDSC
(byte addresses), larger ones SDHC (blocks).
"""

from __future__ import annotations

import os
import random
import re
import zlib
from pathlib import Path

import pytest
from qemu import boot, qemu_command

from metalchat.sdcard import write_volume

BOARD = os.environ.get("BOARD", "rpi4")
MACHINE = os.environ.get("MACHINE", "raspi4b")
KERNEL = Path(os.environ.get("SD_TEST_IMG", "kernel8.img"))
TMP = Path(os.environ.get("TEST_TMPDIR", "/tmp"))
MIB = 1 << 20
# The board's SD controllers in the order the image tries them (bcm/sd_slots.h); the last one
# is where `-drive if=sd` puts the card in QEMU.
SLOTS = {"rpi4": ["0xfe340000", "0xfe300000"], "rpi3": ["0x3f300000"]}[BOARD]
EMMC = SLOTS[-1]
EMMC2 = "0xfe340000"  # rpi4 only: the Pi 4's SD slot, reachable in QEMU as generic-sdhci


def _run(*extra: str):
    command = qemu_command("aarch64", MACHINE, KERNEL, list(extra))
    print("$", " ".join(command))
    run = boot(command, timeout_s=120)
    print(run.console)
    print("QEMU exit status:", run.exit_code)
    return run


def _card(name: str, size: int, sectors_per_cluster: int = 1) -> tuple[Path, dict[str, bytes]]:
    rng = random.Random(name)
    files = {
        "models/stories/model.bin": rng.randbytes(700_000),  # > 10 SD multi-block reads of 64 KB
        "models/stories/tokenizer.bin": rng.randbytes(4_000),
        "A long file name.txt": b"hello from the card\n",
        "empty.bin": b"",
    }
    path = TMP / f"{name}.img"
    write_volume(path, size, files, sectors_per_cluster=sectors_per_cluster)
    return path, files


def _check_read(console: str, files: dict[str, bytes], controller: str, kind: str) -> None:
    assert re.search(rf"^sd: card at {controller}: {kind}, ", console, re.M), console
    listed = re.findall(r"^ls /: ([df]) (\d+) (.+?)\r?$", console, re.M)
    assert sorted(listed) == sorted(
        [("d", "0", "models"), ("f", "20", "A long file name.txt"), ("f", "0", "empty.bin")]
    )
    model = files["models/stories/model.bin"]
    m = re.search(r"^file /models/stories/model.bin size=(\d+) crc32=([0-9a-f]{8}) ", console, re.M)
    assert m, console
    assert int(m.group(1)) == len(model)
    assert m.group(2) == f"{zlib.crc32(model):08x}"


def test_card_on_qemu_default_slot_sdsc() -> None:
    path, files = _card("sdsc", 64 * MIB)
    run = _run("-drive", f"file={path},if=sd,format=raw")
    assert run.exit_code == 0
    for slot in SLOTS[:-1]:  # probed first, empty in QEMU (rpi4: EMMC2)
        assert f"sd: {slot}: no medium" in run.console
    _check_read(run.console, files, EMMC, "SDSC")


def test_card_on_qemu_default_slot_sdhc() -> None:
    path, files = _card("sdhc-default", 4096 * MIB, sectors_per_cluster=8)  # sparse file
    run = _run("-drive", f"file={path},if=sd,format=raw")
    assert run.exit_code == 0
    _check_read(run.console, files, EMMC, "SDHC")


@pytest.mark.skipif(BOARD != "rpi4", reason="EMMC2 is the Pi 4's")
def test_card_on_emmc2_sdhc() -> None:
    path, files = _card("sdhc", 4096 * MIB, sectors_per_cluster=8)  # sparse file
    run = _run(
        "-drive", f"if=none,id=card,file={path},format=raw",
        "-device", "sd-card,drive=card,bus=/generic-sdhci/sd-bus",
    )  # fmt: skip
    assert run.exit_code == 0
    _check_read(run.console, files, EMMC2, "SDHC")


def test_no_card() -> None:
    run = _run()
    assert run.exit_code == 1
    for slot in SLOTS:
        assert f"sd: {slot}: no medium (no card)" in run.console
    assert "sd: no card found" in run.console


def test_blank_card() -> None:
    path = TMP / "blank.img"
    with open(path, "wb") as f:
        f.truncate(64 * MIB)
    run = _run("-drive", f"file={path},if=sd,format=raw")
    assert run.exit_code == 2
    assert "fat32: FAT_ERR_NO_FILESYSTEM: " in run.console


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
