"""``uf2``: write, check and unpack UF2 images for the RP2040/RP2350 boot ROM."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from metalchat import uf2
from metalchat.cli import run
from metalchat.errors import MetalchatError
from metalchat.fileio import Outputs, atomic_write, read_bytes, user_path

DESCRIPTION = """\
Make and check UF2 files, the format the RP2040/RP2350 boot ROM accepts when a file is
copied onto its USB drive (hold BOOTSEL while plugging the board in).

  convert   ELF32 (its PT_LOAD segments, at their physical/load addresses) or a raw binary
            plus --base, to UF2: 256-byte payloads in 512-byte blocks, family ID set.
  check     validate a UF2 file against the spec and the boot ROM's rules, print a summary.
  unpack    write the bytes a UF2 file would load back out as a raw binary.
  families  list the known family IDs.
"""

EPILOG = """\
examples:
  uf2 convert bazel-bin/images/rp2350_kernel.elf -o kernel.uf2
  uf2 convert model.bin --base 0x10100000 --family absolute -o model.uf2
  uf2 check kernel.uf2 --family rp2350-arm-s
  uf2 check kernel.uf2 --json
  uf2 unpack kernel.uf2 -o kernel.bin

RP2350-E10: A2-silicon boot ROMs fail drag-and-drop when flash holds a partition table;
picotool's --abs-block workaround is available as --e10-block. metalchat images carry no
partition table, so it is off by default (it also erases the last flash sector).
"""


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (use e.g. 0x10000000)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uf2",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    conv = sub.add_parser(
        "convert",
        help="ELF or raw binary to UF2",
        description="Convert an ELF32 file or a raw binary to UF2.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    conv.add_argument(
        "input", type=user_path, help="ELF32 file, or raw binary (then --base is needed)"
    )
    conv.add_argument("-o", "--output", type=user_path, required=True, help="UF2 file to write")
    conv.add_argument(
        "--base",
        type=_int,
        default=None,
        help="load address of a raw binary, e.g. 0x10000000 (start of flash)",
    )
    conv.add_argument(
        "--family",
        default=uf2.DEFAULT_FAMILY,
        help=f"family name or number (default {uf2.DEFAULT_FAMILY}); see 'uf2 families'",
    )
    conv.add_argument(
        "--e10-block",
        nargs="?",
        type=_int,
        const=uf2.DEFAULT_ABS_BLOCK_ADDRESS,
        default=None,
        metavar="ADDR",
        help="prepend the RP2350-E10 workaround block (default address "
        f"{uf2.DEFAULT_ABS_BLOCK_ADDRESS:#010x}, the last page of 16 MB flash)",
    )

    check = sub.add_parser(
        "check",
        aliases=["info"],
        help="validate a UF2 file and summarise it",
        description="Validate a UF2 file and print what it writes where. "
        "Exit status 1 and one 'error:' line if it is malformed.",
    )
    check.add_argument("input", type=user_path, help="UF2 file")
    check.add_argument(
        "--family", default=None, help="also require blocks of this family (name or number)"
    )
    check.add_argument("--json", action="store_true", help="print the summary as JSON")

    unpack = sub.add_parser(
        "unpack",
        help="UF2 back to a raw binary",
        description="Write the memory image a UF2 file loads as a raw "
        "binary; prints its base address.",
    )
    unpack.add_argument("input", type=user_path, help="UF2 file")
    unpack.add_argument(
        "-o", "--output", type=user_path, required=True, help="binary file to write"
    )
    unpack.add_argument("--family", default=None, help="which family's blocks (if several)")
    unpack.add_argument("--fill", type=_int, default=0, help="byte for gaps (default 0)")

    sub.add_parser("families", help="list known family IDs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "families":
        for family in uf2.FAMILIES:
            print(f"{family.name:<14} {family.family_id:#010x}  {family.description}")
        return 0
    if args.command in ("convert", "unpack"):
        Outputs([args.input]).check(args.output)  # fail before any work
    data = read_bytes(args.input)
    if args.command == "convert":
        out = uf2.convert(
            data, base=args.base, family=args.family, abs_block=args.e10_block, path=args.input
        )
        summary = uf2.check_uf2(out, args.output)  # never write a file we would reject
        atomic_write(args.output, out, [args.input])
        fam = summary.families[0]
        spans = ", ".join(f"{a:#010x}-{b:#010x}" for a, b in fam.ranges)
        print(f"{args.output}: {summary.blocks} blocks, family {fam.name}, {spans}")
        return 0
    if args.command in ("check", "info"):
        summary = uf2.check_uf2(data, args.input, expected_family=args.family)
        if args.json:
            print(summary.to_json())
        else:
            print(f"{args.input}: {summary.describe()}")
        return 0
    if args.command == "unpack":
        if not 0 <= args.fill <= 0xFF:
            raise MetalchatError(f"--fill {args.fill:#x} is not a byte value")
        blocks = uf2.parse_uf2(data, args.input)
        uf2.check_blocks(blocks, args.input)
        try:
            base, image = uf2.to_binary(blocks, family=args.family, fill=args.fill)
        except MetalchatError as exc:
            raise exc.with_path(args.input) from None
        atomic_write(args.output, image, [args.input])
        print(f"{args.output}: {len(image)} bytes, load address {base:#010x}")
        return 0
    raise AssertionError(args.command)


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(run(main))
