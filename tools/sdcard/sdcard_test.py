"""python/metalchat/sdcard.py: bundle layout, config.txt, reproducible FAT32 cards, firmware."""

from __future__ import annotations

import os
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from metalchat import sdcard, testmodels
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import llama2c


def test_bundle_layout() -> None:
    data = sdcard.bundle_bytes(b"M" * 100, b"T" * 10, "tiny", "alpaca")
    magic, version, size, template, m_at, m_size, t_at, t_size, crc, hcrc = struct.unpack_from(
        "<4sIIIQQQQII", data
    )
    assert (magic, version, size, template) == (b"MCRB", 1, 128, 1)
    assert (m_at, m_size, t_at, t_size) == (128, 100, 256, 10)
    assert data[m_at : m_at + m_size] == b"M" * 100 and data[t_at:] == b"T" * 10
    assert crc == zlib.crc32(b"T" * 10, zlib.crc32(b"M" * 100))
    header = bytearray(data[:128])
    header[52:56] = bytes(4)
    assert hcrc == zlib.crc32(header)
    assert data[56:60] == b"tiny" and data[60:128] == bytes(68)


def test_bundle_refuses_bad_input() -> None:
    with pytest.raises(MetalchatError, match="template"):
        sdcard.bundle_bytes(b"M", b"T", "x", "chatml")
    with pytest.raises(MetalchatError, match="longer"):
        sdcard.bundle_bytes(b"M", b"T", "x" * 64)
    with pytest.raises(MetalchatError, match="non-empty"):
        sdcard.bundle_bytes(b"", b"T", "x")


def test_read_template() -> None:
    assert sdcard.read_template(None) == "plain"
    assert sdcard.read_template(b"template=alpaca\n") == "alpaca"
    with pytest.raises(MetalchatError):
        sdcard.read_template(b"alpaca")


def test_config_txt() -> None:
    lines = sdcard.config_txt().splitlines()
    for line in ["arm_64bit=1", "kernel=kernel8.img", "enable_uart=1", "dtoverlay=disable-bt"]:
        assert line in lines
    assert not any(line.startswith("initramfs") for line in lines)
    assert "initramfs b.bin 0x08000000" in sdcard.config_txt(bundle="b.bin").splitlines()
    zero = sdcard.config_txt("kernel.img").splitlines()
    assert "kernel=kernel.img" in zero and "enable_uart=1" in zero
    assert "arm_64bit=1" not in zero


def test_card_size_is_a_power_of_two() -> None:
    assert sdcard.card_size(0) == 64 << 20
    assert sdcard.card_size(60 << 20) == 128 << 20
    assert sdcard.card_size(500 << 20) == 1 << 30


def _mdir(image: Path, path: str) -> str:
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    target = f"{image}@@{sdcard.PARTITION_LBA * sdcard.SECTOR}"
    return subprocess.run(
        ["mdir", "-b", "-i", target, "::/" + path], capture_output=True, env=env, check=True
    ).stdout.decode()


def test_card_is_reproducible_and_readable(tmp_path: Path) -> None:
    kernel = tmp_path / "k"
    kernel.write_bytes(b"kernel" * 1000)
    model = tmp_path / "m"
    model.write_bytes(bytes(range(256)) * 300)
    files = {"kernel8.img": kernel, "tiny/model.bin": model}
    first = tmp_path / "a.img"
    sdcard.write_card(first, files)
    time.sleep(2.1)  # a later clock and new mtimes must not change a byte
    os.utime(model, (time.time(), time.time()))
    second = tmp_path / "b.img"
    sdcard.write_card(second, files)
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert len(data) == 64 << 20
    assert data[450] == 0x0C and data[510:512] == b"\x55\xaa"
    assert "::/tiny/model.bin" in _mdir(first, "tiny")


def test_add_firmware(tmp_path: Path) -> None:
    kernel = tmp_path / "k"
    kernel.write_bytes(b"k")
    card = tmp_path / "card.img"
    sdcard.write_card(card, {"kernel8.img": kernel})
    firmware = tmp_path / "boot"
    (firmware / "overlays").mkdir(parents=True)
    for name in ["start4.elf", "fixup4.dat", "overlays/disable-bt.dtbo"]:
        (firmware / name).write_bytes(b"fw")
    out = tmp_path / "pi.img"
    added = sdcard.add_firmware(card, firmware, out)
    assert added == ["fixup4.dat", "overlays/disable-bt.dtbo", "start4.elf"]
    listing = _mdir(out, "")
    assert "::/start4.elf" in listing and "::/kernel8.img" in listing
    (firmware / "start4.elf").unlink()
    with pytest.raises(MetalchatError, match=r"start4\.elf"):
        sdcard.add_firmware(card, firmware, out)


def test_fit_check_refuses_a_model_too_big_to_load_whole(tmp_path: Path) -> None:
    small = tmp_path / "small" / "model.bin"
    small.parent.mkdir()
    config = LlamaConfig(dim=64, hidden_dim=172, n_layers=2, n_heads=4, n_kv_heads=4,
                         vocab_size=256, seq_len=64)  # fmt: skip
    llama2c.write_model(small, llama2c.random_model(config), version=0)
    sdcard.require_fits(small, "rpi4")
    # Only the header is read: a Llama-2-7B-shaped header (f32) is 27 GB loaded whole.
    big = tmp_path / "big" / "model.bin"
    big.parent.mkdir()
    big.write_bytes(struct.pack("<7i", 4096, 11008, 32, 32, 32, 32000, 2048))
    with pytest.raises(MetalchatError, match=r"model big \(llama2\.c v0 f32\) needs .* rpi4 has"):
        sdcard.require_fits(big, "rpi4")
    assert sdcard.model_bytes_whole(small)[1] < (4 << 20)


def test_fit_check_accepts_a_streamable_container(tmp_path: Path) -> None:
    # A Llama container whose KV cache at its whole context (2^20 positions: 1 GiB) does not
    # fit a 1 GB Pi 4 loaded whole: the chat streams it with the context capped, and the check
    # says so with the planner's predicted s/token.
    config = LlamaConfig(dim=64, hidden_dim=128, n_layers=2, n_heads=4, n_kv_heads=4,
                         vocab_size=300, seq_len=1 << 20)  # fmt: skip
    path = tmp_path / "long" / "model.mcm"
    path.parent.mkdir()
    path.write_bytes(testmodels.llama_container(testmodels.llama_model(config, seed=2), "q8", 32))
    line = sdcard.require_fits(path, "rpi4-1gb")
    assert "too big to load whole on rpi4-1gb: fits streamed (context 4096)" in line, line
    assert "s/token at least" in line
    assert sdcard.require_fits(path, "rpi4-8gb").startswith("long: fits rpi4-8gb whole")


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
