"""The ``uf2`` command line: convert, check, unpack, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from metalchat.cli import run
from metalchat.cli.uf2 import main
from metalchat.elf import build_elf32


def _run(*argv: str) -> int:
    return run(main, list(argv))


def test_convert_check_unpack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elf = tmp_path / "kernel.elf"
    code = bytes(range(256)) + b"end!"
    elf.write_bytes(build_elf32([(0x10000000, code)], entry=0x10000001))
    out = tmp_path / "kernel.uf2"
    assert _run("convert", str(elf), "-o", str(out)) == 0
    assert out.stat().st_size == 1024
    assert "2 blocks, family rp2350-arm-s, 0x10000000-0x10000200" in capsys.readouterr().out

    assert _run("check", str(out), "--family", "rp2350-arm-s") == 0
    text = capsys.readouterr().out
    assert "valid UF2: 2 blocks" in text and "flash" in text

    assert _run("info", str(out), "--json") == 0
    assert '"family": "rp2350-arm-s"' in capsys.readouterr().out

    binary = tmp_path / "kernel.bin"
    assert _run("unpack", str(out), "-o", str(binary)) == 0
    assert binary.read_bytes()[: len(code)] == code
    assert "load address 0x10000000" in capsys.readouterr().out


def test_raw_binary_with_base(tmp_path: Path) -> None:
    raw = tmp_path / "model.bin"
    raw.write_bytes(b"\xab" * 1000)
    out = tmp_path / "model.uf2"
    assert (
        _run("convert", str(raw), "--base", "0x10100000", "--family", "absolute", "-o", str(out))
        == 0
    )
    assert _run("check", str(out), "--family", "absolute") == 0


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.uf2"
    bad.write_bytes(b"\x00" * 700)
    assert _run("check", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {bad}: file is 700 bytes, not a multiple of 512")

    raw = tmp_path / "x.bin"
    raw.write_bytes(b"1234")
    assert _run("convert", str(raw), "-o", str(tmp_path / "x.uf2")) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {raw}: not an ELF file") and "--base" in err
    assert not (tmp_path / "x.uf2").exists()

    assert _run("check", str(tmp_path / "missing.uf2")) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.uf2'}: no such file\n"


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "uf2 check" in text and "RP2350-E10" in text


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
