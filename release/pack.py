"""Build actions of //release (release/defs.bzl); not a user command.

pack.py commit STABLE_STATUS OUT       the source commit from Bazel's stable-status.txt
pack.py xz IN OUT                      xz with the release's fixed settings
pack.py pack --top metalchat-V --dir D --tar T --commit FILE
             --checkout REPO_PATH=FILE ... --file RELEASE_PATH=FILE ...
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path

from metalchat.cli import run
from metalchat.errors import MetalchatError
from metalchat.fileio import read_bytes
from release import artifacts

STATUS_KEY = "STABLE_METALCHAT_COMMIT"


def _pairs(values: Sequence[str], what: str) -> dict[str, Path]:
    pairs: dict[str, Path] = {}
    for value in values:
        name, sep, file = value.partition("=")
        if not sep or not name or not file:
            raise MetalchatError(f"{what} {value!r} is not NAME=FILE")
        if name in pairs:
            raise MetalchatError(f"{what} {name} given twice")
        pairs[name] = Path(file)
    return pairs


def commit(status: Path, out: Path) -> None:
    """Write the commit recorded by release/workspace_status.sh, or "unknown"."""
    value = "unknown"
    for line in read_bytes(status).decode().splitlines():
        key, _, rest = line.partition(" ")
        if key == STATUS_KEY and rest.strip():
            value = rest.strip()
    out.write_text(value + "\n")


def pack(args: argparse.Namespace) -> None:
    """Write the release folder and its tar."""
    checkout = {
        name: read_bytes(file) for name, file in _pairs(args.checkout, "--checkout").items()
    }
    files = {name: read_bytes(file) for name, file in _pairs(args.file, "--file").items()}
    record = artifacts.provenance(read_bytes(args.commit).decode().strip(), checkout)
    if args.top != f"metalchat-{record['version']}":
        raise MetalchatError(f"--top {args.top} does not match version {record['version']}")
    files[artifacts.PROVENANCE] = artifacts.provenance_bytes(record)
    files[artifacts.SUMS] = artifacts.sums_bytes(files)
    shutil.rmtree(args.dir, ignore_errors=True)
    for name, data in files.items():
        target = args.dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    artifacts.write_tar(args.tar, args.top, files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("commit")
    p.add_argument("status", type=Path)
    p.add_argument("out", type=Path)
    p = commands.add_parser("xz")
    p.add_argument("source", type=Path)
    p.add_argument("target", type=Path)
    p = commands.add_parser("pack")
    p.add_argument("--top", required=True)
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--tar", type=Path, required=True)
    p.add_argument("--commit", type=Path, required=True)
    p.add_argument("--checkout", action="append", default=[])
    p.add_argument("--file", action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "commit":
        commit(args.status, args.out)
    elif args.command == "xz":
        artifacts.xz_compress(args.source, args.target)
    else:
        pack(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
