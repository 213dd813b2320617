"""./bazelw on hosts it must refuse or cannot set up: one readable line, non-zero exit; and on a
set-up host it hands the command to bazelisk with Debian's Bazel 4.2.3.

Runs a copy of the launcher with fake `uname`, os-release and bazelisk, so nothing is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RUNFILES = Path.cwd()
DEBIAN_12 = 'ID=debian\nVERSION_ID="12"\n'


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    """A copy of the launcher and the files it reads, in a fresh tree."""
    root = tmp_path / "repo"
    (root / "toolchains/host").mkdir(parents=True)
    for name in ["bazelw", ".bazelversion", "toolchains/host/versions.sh"]:
        shutil.copy(RUNFILES / name, root / name)
    return root


def run(
    launcher: Path, *args: str, uname: str = "Linux x86_64", os_release: str = DEBIAN_12
) -> subprocess.CompletedProcess[str]:
    """Runs the launcher copy with a fake host (uname, os-release); it never installs."""
    fake = launcher.parent / "fake-bin"
    fake.mkdir(exist_ok=True)
    system, machine = uname.split()
    (fake / "uname").write_text(f'#!/bin/sh\n[ "$1" = -m ] && echo {machine} || echo {system}\n')
    (fake / "uname").chmod(0o755)
    (launcher.parent / "os-release").write_text(os_release)
    env = {
        "PATH": f"{fake}:/usr/bin:/bin",
        "HOME": str(launcher.parent),
        "XDG_CACHE_HOME": str(launcher.parent / "cache"),
        "METALCHAT_OS_RELEASE": str(launcher.parent / "os-release"),
        "METALCHAT_NO_INSTALL": "1",
    }
    return subprocess.run(
        [str(launcher / "bazelw"), *args], env=env, capture_output=True, text=True, check=False
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("bazelw: error: ")
    return lines[0]


def test_refuses_a_host_that_is_not_x86_64_linux(launcher: Path) -> None:
    line = one_error_line(run(launcher, "build", "//...", uname="Darwin arm64"))
    assert "unsupported host Darwin arm64" in line


def test_refuses_a_linux_that_is_not_debian_12(launcher: Path) -> None:
    line = one_error_line(
        run(launcher, "--setup-only", os_release='ID=ubuntu\nVERSION_ID="22.04"\n')
    )
    assert "unsupported host ubuntu 22.04" in line and "Debian 12" in line


def test_says_what_is_missing_when_told_not_to_install(launcher: Path) -> None:
    line = one_error_line(run(launcher, "--setup-only"))
    assert "prerequisites missing" in line and "METALCHAT_NO_INSTALL=1" in line


def test_a_set_up_host_runs_bazelisk_with_debians_bazel(launcher: Path) -> None:
    versions = launcher / "toolchains/host/versions.sh"
    bazel_real = launcher.parent / "bazel-4"
    bazel_real.write_text("#!/bin/sh\n")
    bazel_real.chmod(0o755)
    versions.write_text(versions.read_text() + f'\nBAZEL_REAL="{bazel_real}"\nHOST_TOOLS=(sh)\n')
    setup = subprocess.run(
        ["bash", "-c", f'source "{versions}"; echo "$BAZELISK_VERSION"'],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    cache = launcher.parent / "cache/metalchat"
    bazelisk = cache / f"bazelisk-{setup.stdout.strip()}/bazelisk"
    bazelisk.parent.mkdir(parents=True)
    bazelisk.write_text('#!/bin/sh\necho "USE_BAZEL_VERSION=$USE_BAZEL_VERSION $*"\n')
    bazelisk.chmod(0o755)
    stamp = subprocess.run(["cksum"], stdin=versions.open("rb"), capture_output=True, check=True)
    (cache / f"host-setup.{stamp.stdout.split()[0].decode()}").touch()

    done = run(launcher, "test", "//...")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"USE_BAZEL_VERSION={bazel_real} test //..."
    assert run(launcher, "--setup-only").stdout == ""


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
