"""Every Python tool as `bazel run` starts it, and what no command may do to the user's files.

Under `bazel run` a tool runs inside its runfiles tree and `BUILD_WORKING_DIRECTORY` names the
folder the user typed the command in: each tool below is started from another folder with
that variable set to a temporary subfolder and given relative paths, which must land there.
Then the output rules of metalchat.fileio: an output never replaces an input of the same
command (even through another name), a device node or a folder; a failed command leaves
nothing behind; each refusal is one `error:` line and exit status 2.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import sdcard as sdcard_tool  # tools/sdcard/sdcard.py
import verify  # tools/verify/verify.py

from metalchat import fileio
from metalchat.cli import export, inspect, run, testmodels, uf2
from metalchat.config import LlamaConfig
from metalchat.elf import build_elf32
from metalchat.errors import MetalchatError
from metalchat.formats import container, llama2c
from metalchat.testing import tokenizer_bin
from metalchat.train import cli as train_cli

CONFIG = LlamaConfig(32, 64, 1, 4, 2, 300, 16)


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A subfolder the user "typed the command in"; the process runs elsewhere, as under
    `bazel run` (where the current folder is the runfiles tree)."""
    user = tmp_path / "work" / "sub"
    user.mkdir(parents=True)
    elsewhere = tmp_path / "runfiles"
    elsewhere.mkdir()
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(user))
    monkeypatch.chdir(elsewhere)
    yield user
    assert not list(elsewhere.iterdir()), "a tool wrote into the runfiles folder"


def _model(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    model, tok = folder / "model.bin", folder / "tokenizer.bin"
    llama2c.write_model(model, llama2c.random_model(CONFIG, seed=3), 0)
    tok.write_bytes(tokenizer_bin(CONFIG.vocab_size))
    return model, tok


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


# ---------------------------------------------------------------------------------------
# relative paths under `bazel run`


def test_export_and_inspect_from_a_subfolder(user_dir: Path) -> None:
    _model(user_dir / "models" / "m")
    (user_dir / "pi").mkdir()
    argv = ["llama2c", "models/m/model.bin", "--tokenizer", "models/m/tokenizer.bin",
            "--format", "q8", "--group-size", "32", "-o", "m.mcm", "--manifest-out", "m.txtpb",
            "--inferpi", "pi", "--quiet"]  # fmt: skip
    assert run(export.main, argv) == 0
    assert container.read_container(user_dir / "m.mcm").manifest.name == "model"
    assert (user_dir / "m.txtpb").is_file() and (user_dir / "pi/model.bin").is_file()
    assert run(inspect.main, ["models/m/model.bin", "--board", "rp2350"]) == 0


def test_uf2_testmodels_sdcard_from_a_subfolder(user_dir: Path) -> None:
    (user_dir / "k.elf").write_bytes(build_elf32([(0x10000000, b"code" * 64)], entry=0x10000001))
    assert run(uf2.main, ["convert", "k.elf", "-o", "k.uf2"]) == 0
    assert run(uf2.main, ["check", "k.uf2"]) == 0
    assert run(uf2.main, ["unpack", "k.uf2", "-o", "k.raw"]) == 0
    assert (user_dir / "k.raw").read_bytes().startswith(b"code")
    argv = ["llama2c", "--dim", "32", "--hidden-dim", "64", "--layers", "1", "--heads", "4",
            "--kv-heads", "2", "--vocab", "300", "--seq-len", "16", "t/model.bin",
            "t/tokenizer.bin"]  # fmt: skip
    assert run(testmodels.main, argv) == 0
    argv = ["bundle", "-o", "b.bin", "--model", "t/model.bin", "--tokenizer", "t/tokenizer.bin"]
    assert run(sdcard_tool.main, argv) == 0
    assert (user_dir / "b.bin").read_bytes()[:4] == b"MCRB"
    argv = ["card", "-o", "card.img", "--file", "t/model.bin=t/model.bin", "--size-mib", "64"]
    assert run(sdcard_tool.main, argv) == 0
    assert (user_dir / "card.img").stat().st_size == 64 << 20


def test_verify_and_train_take_paths_from_the_subfolder(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # both fail on a missing file; the line names it in the user's folder
    assert run(verify.main, ["missing.mcm", "--engine-cli", "/nonexistent"]) == 2
    assert _one_line(capsys) == f"error: {user_dir / 'missing.mcm'}: no such file"
    assert run(train_cli.main, ["words", "--corpus", "kjv.txt", "--out", "w.txt"]) == 2
    assert str(user_dir / "kjv.txt") in _one_line(capsys)


def test_paths_of_the_target_or_the_user(user_dir: Path) -> None:
    """QEMU, bench and verify get paths from their BUILD args (in the runfiles tree, the
    current folder) and from the user: a runfile that exists wins, else the user's folder."""
    runfile = Path("kernel8.img")
    runfile.write_bytes(b"k")
    assert fileio.runfile_or_user_path("kernel8.img") == runfile
    assert fileio.runfile_or_user_path("mine.img") == user_dir / "mine.img"
    assert fileio.user_path("kernel8.img") == user_dir / "kernel8.img"
    assert fileio.user_path("/abs/k.img") == Path("/abs/k.img")
    runfile.unlink()


# ---------------------------------------------------------------------------------------
# outputs never destroy anything


def test_output_onto_an_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, tok = _model(tmp_path)
    before = model.read_bytes(), tok.read_bytes()
    base = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "q4",
            "--group-size", "32"]  # fmt: skip
    assert run(export.main, [*base, "-o", str(model)]) == 2
    assert _one_line(capsys) == (
        f"error: {model}: is an input of this command; refusing to overwrite it"
    )
    assert run(export.main, [*base, "-o", str(tmp_path / "m.mcm"), "--manifest-out", str(tok)]) == 2
    assert "refusing to overwrite it" in _one_line(capsys)
    (tmp_path / "alias.bin").hardlink_to(model)  # another name, the same file
    assert run(export.main, [*base, "-o", str(tmp_path / "alias.bin")]) == 2
    assert _one_line(capsys).endswith(f"(the same file as {model}); refusing to overwrite it")
    # --inferpi onto the folder the model.bin comes from
    assert run(export.main, [*base, "-o", str(tmp_path / "m.mcm"), "--inferpi", str(tmp_path)]) == 2
    assert f"{model}: is an input of this command" in _one_line(capsys)
    assert (model.read_bytes(), tok.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.bin", "model.bin", "tokenizer.bin"]
    # the same for the uf2 tool
    elf = tmp_path / "k.elf"
    elf.write_bytes(build_elf32([(0x10000000, b"code" * 64)], entry=0x10000001))
    assert run(uf2.main, ["convert", str(elf), "-o", str(elf)]) == 2
    assert "is an input of this command" in _one_line(capsys)


def test_bad_output_paths_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, tok = _model(tmp_path)
    base = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "f16"]
    cases = {
        "": f"error: {fileio.EMPTY_PATH}",
        str(tmp_path): f"error: {tmp_path}: is a folder; give the output a file name",
        "/dev/full": "error: /dev/full: is not a regular file (a device, pipe or socket); "
        "refusing to replace it",
        str(tmp_path / "no" / "m.mcm"): f"error: {tmp_path / 'no'}: no such folder",
    }
    for out, line in cases.items():
        assert run(export.main, [*base, "-o", out]) == 2
        assert _one_line(capsys) == line
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_inferpi_into_a_missing_folder_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, tok = _model(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    argv = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "f32",
            "-o", str(out / "m.mcm"), "--inferpi", "/nonexistent"]  # fmt: skip
    assert run(export.main, argv) == 2
    assert _one_line(capsys) == "error: /nonexistent: no such folder"
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, tok = _model(tmp_path / "in")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    argv = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "f32",
            "-o", str(ro / "m.mcm")]  # fmt: skip
    assert run(export.main, argv) == 2
    assert _one_line(capsys) == f"error: {ro}: cannot write here: Permission denied"


def test_unwritable_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal as above when running as root, where only the OS can say no: the
    temporary file cannot be created (EACCES, as in a read-only folder)."""
    model, tok = _model(tmp_path / "in")

    def mkstemp(**kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", mkstemp)
    argv = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "f32",
            "-o", str(tmp_path / "m.mcm")]  # fmt: skip
    assert run(export.main, argv) == 2
    assert _one_line(capsys) == f"error: {tmp_path}: cannot write here: Permission denied"
    assert not (tmp_path / "m.mcm").exists()


def test_full_disk_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC in the middle of the second output: neither output appears, no temporary file
    stays, the old first output is untouched."""
    model, tok = _model(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.mcm").write_bytes(b"old")
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    argv = ["llama2c", str(model), "--tokenizer", str(tok), "--format", "f32", "--quiet",
            "-o", str(out / "m.mcm"), "--manifest-out", str(out / "m.txtpb")]  # fmt: skip
    assert run(export.main, argv) == 2
    assert _one_line(capsys) == f"error: {out / 'm.txtpb'}: cannot write: No space left on device"
    assert sorted(p.name for p in out.iterdir()) == ["m.mcm"]
    assert (out / "m.mcm").read_bytes() == b"old"


def test_symlinked_output_is_written_through(tmp_path: Path) -> None:
    target, link = tmp_path / "real.bin", tmp_path / "link.bin"
    target.write_bytes(b"old")
    link.symlink_to(target)
    fileio.atomic_write(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_inferpi_ncht_model_on_a_card_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sdcard tool's fit check on InferPi's GPT-2 model.bin ("NCHT"): what it is and what
    to do instead, not a header field complaint."""
    model = tmp_path / "model.bin"
    model.write_bytes(struct.pack("<I", 0x4E434854) + bytes(60))  # bytes 54 48 43 4E
    argv = ["card", "-o", str(tmp_path / "card.img"), "--file", f"gpt2/model.bin={model}",
            "--board", "rpi4"]  # fmt: skip
    assert run(sdcard_tool.main, argv) == 2
    assert _one_line(capsys) == f"error: {model}: " + llama2c.INFERPI_GPT2_MESSAGE
    assert "InferPi's GPT-2 (nanochat) model.bin" in llama2c.INFERPI_GPT2_MESSAGE
    assert not (tmp_path / "card.img").exists()


def test_error_lines_escape_control_characters() -> None:
    """Text from a file or a path in a message: one line, no raw escape sequence (found by
    //python:fuzz_hf_config_test: architectures "\\n" split the error line)."""
    error = MetalchatError("architectures '\n\x1b]0;PWNED\x07' \x9b2J é", "a\tb")
    assert str(error) == "a\\tb: architectures '\\n\\x1b]0;PWNED\\x07' \\x9b2J é"


def test_a_bug_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a MetalchatError: the traceback stays, with a line saying it is metalchat's bug."""

    def broken(argv: object) -> int:
        raise ZeroDivisionError("division by zero")

    assert run(broken) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err
    assert err.rstrip().endswith(
        "error: this is a bug in metalchat, not a problem with your input; please report it "
        "with the traceback above"
    )


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
