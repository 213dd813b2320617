"""``inspect``: memory tables for a model and whether it fits each board."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from metalchat import planner
from metalchat.cli import run
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import user_path

DESCRIPTION = """\
Print a model's memory table (bytes per tensor of one layer, the global tensors, KV cache,
activations), the RAM it needs whole and streamed one layer at a time, and for each board
whether it fits, fits streamed, or does not fit.

MODEL is a llama2.c .bin (only its header is read) or a model manifest .textproto.

--paper prints instead the llama.pi paper's two tables (Figure 3: every tensor with layers
stacked; Figure 4: one layer) for this model's shape, in the paper's convention: FP32 and
INT8 bytes per tensor, INT8 with a float32 scale per group and the norms quantized too.
"""

EPILOG = """\
examples:
  inspect stories260K.bin
  inspect llama2-7b.bin --format q8 --group-size 64 --board rpi0
  inspect manifests/stories260K.textproto --board rp2350 --require
  inspect model.bin --json
  inspect llama2-7b.bin --paper
"""

_FORMAT_OF_VERSION = {0: "f32", 1: "f32", 2: "q8"}


def load_config(path: Path) -> tuple[LlamaConfig, str | None, int]:
    """(config, format of the file or None, group size) from a .bin or a manifest."""
    if path.suffix in (".textproto", ".txtpb", ".pbtxt"):
        from metalchat import manifest  # needs the generated protobuf module

        m = manifest.load_manifest(path)
        if m.WhichOneof("params") != "llama":
            raise MetalchatError("only Llama manifests can be planned so far", path)
        groups = {t.group_size for t in m.tensors if t.group_size}
        return manifest.llama_config(m.llama), None, max(groups, default=64)
    from metalchat.formats import llama2c

    config, version, group = llama2c.read_config(path)
    return config, _FORMAT_OF_VERSION[version], group or 64


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspect",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", type=user_path, help="llama2.c .bin or manifest .textproto")
    parser.add_argument(
        "--format",
        choices=planner.FORMATS,
        default=None,
        help="weight format to plan for (default: the file's own)",
    )
    parser.add_argument(
        "--group-size",
        type=int,
        default=None,
        help="quantization group size (default: the file's, else 64)",
    )
    parser.add_argument(
        "--board",
        action="append",
        default=None,
        choices=[b.name for b in planner.BOARDS],
        help="board(s) to report (default: all)",
    )
    parser.add_argument(
        "--require",
        action="store_true",
        help="fail (exit 2) unless the model fits every --board given",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--paper",
        action="store_true",
        help="print the llama.pi paper's Figure 3 and 4 tables for this shape",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config, file_format, group = load_config(args.model)
    fmt = args.format or file_format or "f32"
    group = args.group_size or group
    if args.paper:
        if args.require or args.format:
            raise MetalchatError("--paper takes neither --format nor --require")
        try:
            tables = planner.paper_tables(config, group)
        except MetalchatError as exc:
            raise exc.with_path(args.model) from None
        print(planner.paper_json(tables) if args.json else planner.paper_text(tables))
        return 0
    try:
        p = planner.plan(config, fmt, group)
    except MetalchatError as exc:
        raise exc.with_path(args.model) from None
    names = args.board or [b.name for b in planner.BOARDS]
    boards = [planner.board(n) for n in names]
    print(planner.to_json(p, boards) if args.json else planner.table(p, boards))
    if args.require:
        if not args.board:
            raise MetalchatError("--require needs at least one --board")
        for name in args.board:
            try:
                planner.require_fit(p, name)
            except MetalchatError as exc:
                raise exc.with_path(args.model) from None
    return 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(run(main))
