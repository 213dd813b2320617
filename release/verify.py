"""Checks a release folder or tar: every file against SHA256SUMS, and PROVENANCE.json against
a checkout (default: the one `bazel run` is called from). One line says what differs.

    bazel run //release:verify -- bazel-bin/release/metalchat-0.1.0.tar
    bazel run //release:verify -- DIR_OR_TAR [--checkout REPO] [--commit SHA]

Exit status 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from metalchat.cli import run
from metalchat.errors import MetalchatError
from metalchat.fileio import read_bytes
from release import artifacts


def _user_path(path: Path) -> Path:
    """``path`` as the user meant it: relative to where they ran `bazel run`."""
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY", ".")) / path


def checkout_commit(checkout: Path) -> str:
    """The checkout's commit as the build records it (release/workspace_status.sh)."""
    script = checkout / "release" / "workspace_status.sh"
    try:
        output = subprocess.run(
            [str(script)], cwd=checkout, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise MetalchatError(f"cannot run {script}: {exc}", checkout) from None
    return output.split()[-1] if output.split() else "unknown"


def _more(count: int) -> str:
    return f" (and {count} more difference{'s' if count > 1 else ''})" if count else ""


def sums_problems(files: Mapping[str, bytes]) -> list[str]:
    """What differs between the files and their SHA256SUMS, one phrase each."""
    if artifacts.SUMS not in files:
        return [f"no {artifacts.SUMS}"]
    listed = artifacts.parse_sums(files[artifacts.SUMS])
    problems = [
        f"{name}: listed in {artifacts.SUMS}, missing" for name in sorted(set(listed) - set(files))
    ]
    problems += [
        f"{name}: not listed in {artifacts.SUMS}"
        for name in sorted(set(files) - set(listed) - {artifacts.SUMS})
    ]
    for name, digest in sorted(listed.items()):
        actual = artifacts.sha256_bytes(files[name]) if name in files else digest
        if actual != digest:
            problems.append(
                f"{name}: sha256 {actual[:16]}..., {artifacts.SUMS} says {digest[:16]}..."
            )
    return problems


def provenance_problems(files: Mapping[str, bytes], checkout: Path, commit: str) -> list[str]:
    """What differs between the release's provenance and the checkout's, one phrase each."""
    if artifacts.PROVENANCE not in files:
        return [f"no {artifacts.PROVENANCE}"]
    try:
        recorded = json.loads(files[artifacts.PROVENANCE])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [f"{artifacts.PROVENANCE} is not JSON ({exc})"]
    pinned = {
        name: read_bytes(checkout / name)
        for name in (artifacts.VERSION_FILE, *artifacts.PINNED_FILES)
    }
    expected = artifacts.provenance(commit, pinned)
    problems = []
    for key in sorted(set(recorded) | set(expected)):
        if recorded.get(key) != expected.get(key):
            problems.append(
                f"provenance {key}: release {recorded.get(key)!r}, checkout {expected.get(key)!r}"
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("release", type=Path, help="a release folder or its .tar")
    parser.add_argument(
        "--checkout", type=Path, help="the repository to compare with (default: the workspace)"
    )
    parser.add_argument(
        "--commit", help="the commit to expect (default: the checkout's, as the build records it)"
    )
    args = parser.parse_args(argv)
    release = _user_path(args.release)
    if args.checkout is not None:
        checkout = _user_path(args.checkout)
    else:
        checkout = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."))
    files = artifacts.read_release(release)
    commit = args.commit or checkout_commit(checkout)
    problems = sums_problems(files) + provenance_problems(files, checkout, commit)
    if problems:
        print(f"verify: {args.release}: {problems[0]}{_more(len(problems) - 1)}")
        return 1
    print(
        f"verify: {args.release}: OK, {len(files) - 1} files match {artifacts.SUMS},"
        f" provenance matches {checkout} at {commit}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
