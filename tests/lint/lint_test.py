"""Format and lint check of the whole source tree: buildifier, ruff, clang-format.

Runs on the workspace itself (found through the WORKSPACE runfile), so it sees every file; the
test is tagged `external` so Bazel never serves a cached pass. To fix what it reports:
    bazel run //tests/lint:fix

Configuration: .buildifier.json (buildifier's default warnings less the `native-*` ones, since
Bazel 4.2.3's rules are native), ruff.toml, .clang-format.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"}
C_SUFFIXES = {".c", ".h"}
BAZEL_NAMES = {"BUILD", "BUILD.bazel", "WORKSPACE", "MODULE.bazel"}


def workspace_root(workspace_runfile: Path) -> Path:
    """The source tree: the real location of the WORKSPACE file given as a runfile."""
    return workspace_runfile.resolve().parent


def source_files(root: Path) -> Iterator[Path]:
    """Every file of the tree, skipping Bazel's output links and tool caches."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.startswith("bazel-")
        )
        for name in sorted(filenames):
            yield Path(dirpath, name)


def run(name: str, command: list[str], cwd: Path) -> bool:
    """Runs one checker; prints its findings; True when it found nothing."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    ok = done.returncode == 0
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not ok:
        print((done.stdout + done.stderr).rstrip())
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", type=Path, required=True, help="the WORKSPACE runfile")
    parser.add_argument("--buildifier", type=Path, required=True)
    parser.add_argument("--fix", action="store_true", help="rewrite files instead of checking")
    args = parser.parse_args()

    root = workspace_root(args.workspace)
    files = [p.relative_to(root) for p in source_files(root)]
    bazel = [str(p) for p in files if p.name in BAZEL_NAMES or p.suffix == ".bzl"]
    python = [str(p) for p in files if p.suffix == ".py"]
    c = [str(p) for p in files if p.suffix in C_SUFFIXES]
    venv_bin = Path(sys.executable).parent
    buildifier = str(args.buildifier.resolve())
    if args.fix:
        checks = {
            "buildifier": [buildifier, "-config=.buildifier.json", "-lint=fix", *bazel],
            "ruff format": [str(venv_bin / "ruff"), "format", *python],
            "ruff check": [str(venv_bin / "ruff"), "check", "--fix", *python],
            "clang-format": [str(venv_bin / "clang-format"), "-i", *c],
        }
    else:
        checks = {
            "buildifier": [buildifier, "-config=.buildifier.json", "-mode=check", *bazel],
            "ruff format": [str(venv_bin / "ruff"), "format", "--check", *python],
            "ruff check": [str(venv_bin / "ruff"), "check", *python],
            "clang-format": [str(venv_bin / "clang-format"), "--dry-run", "-Werror", *c],
        }
    print(f"{len(bazel)} Bazel files, {len(python)} Python files, {len(c)} C files under {root}")
    results = [run(name, command, root) for name, command in checks.items()]
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
