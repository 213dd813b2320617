"""Write SD-card images and RAM bundles for the Raspberry Pi 4 chat image.

    sdcard card -o card.img --file kernel8.img=K --file tiny/model.bin=M ... [--bundle B]
    (--file kernel.img=K instead: the Pi Zero's 32-bit image, and its config.txt)
    sdcard bundle -o bundle.bin --model M --tokenizer T [--chat-txt C] [--name N]
    sdcard add-firmware card.img --firmware ~/firmware/boot -o pi4-card.img

`card` writes config.txt itself (with an `initramfs` line when --bundle puts a RAM bundle on
the card). The Pi firmware is not shipped: add-firmware copies start4.elf, fixup4.dat, the
device tree and overlays/disable-bt.dtbo from the raspberrypi/firmware repository's boot/
folder (docs/RPI4.md). Library: python/metalchat/sdcard.py.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from metalchat import sdcard
from metalchat.cli import run
from metalchat.fileio import Outputs, atomic_write, read_bytes, user_path


def _pair(text: str) -> tuple[str, Path]:
    dest, sep, src = text.partition("=")
    if not sep or not dest or not src:
        raise argparse.ArgumentTypeError(f"expected CARD_PATH=FILE, got {text!r}")
    return dest, user_path(src)


def _card(args: argparse.Namespace) -> int:
    files = dict(args.file)
    Outputs([*files.values(), *([args.bundle] if args.bundle else [])]).check(args.output)
    if args.board:
        for dest, source in files.items():
            if Path(dest).name in ("model.bin", "model.mcm"):
                print(sdcard.require_fits(Path(source), args.board))
    bundle_name = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.bundle:
            bundle_name = args.bundle.name
            files[bundle_name] = args.bundle
        config = Path(tmp) / "config.txt"
        kernel = "kernel.img" if "kernel.img" in files else "kernel8.img"
        config.write_text(sdcard.config_txt(kernel, bundle=bundle_name))
        files.setdefault("config.txt", str(config))
        size = sdcard.write_card(args.output, files, args.size_mib << 20 if args.size_mib else None)
    print(f"{args.output}: {size >> 20} MiB, {len(files)} files")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    chat_txt = read_bytes(args.chat_txt) if args.chat_txt else None
    name = args.name or args.model.resolve().parent.name
    data = sdcard.bundle_bytes(
        read_bytes(args.model), read_bytes(args.tokenizer), name, sdcard.read_template(chat_txt)
    )
    atomic_write(args.output, data, [args.model, args.tokenizer, args.chat_txt or args.model])
    print(f"{args.output}: bundle {name!r}, {len(data)} bytes")
    return 0


def _add_firmware(args: argparse.Namespace) -> int:
    added = sdcard.add_firmware(args.card, args.firmware, args.output)
    print(f"{args.output}: added {', '.join(added)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    card = sub.add_parser("card", help="a FAT32 card image with config.txt and the given files")
    card.add_argument("-o", "--output", required=True, type=user_path)
    card.add_argument(
        "--file", type=_pair, action="append", default=[], help="CARD_PATH=FILE (repeatable)"
    )
    card.add_argument(
        "--bundle", type=user_path, help="a RAM bundle to put on the card and load at boot"
    )
    card.add_argument("--size-mib", type=int, help="card size (power of two, >= 64)")
    card.add_argument(
        "--board",
        help="refuse models that cannot be loaded whole on this board (planner board name)",
    )
    card.set_defaults(run=_card)

    bundle = sub.add_parser("bundle", help="a RAM bundle (model + tokenizer) for initramfs")
    bundle.add_argument("-o", "--output", required=True, type=user_path)
    bundle.add_argument("--model", type=user_path, required=True, help="model.bin")
    bundle.add_argument("--tokenizer", type=user_path, required=True, help="tokenizer.bin")
    bundle.add_argument(
        "--chat-txt", type=user_path, help="the model folder's chat.txt (prompt template)"
    )
    bundle.add_argument("--name", help="name shown at boot (default: the model's folder)")
    bundle.set_defaults(run=_bundle)

    firmware = sub.add_parser("add-firmware", help="copy a card, adding the Pi 4 firmware")
    firmware.add_argument("card", type=user_path)
    firmware.add_argument(
        "--firmware", type=user_path, required=True, help="raspberrypi/firmware's boot/"
    )
    firmware.add_argument("-o", "--output", required=True, type=user_path)
    firmware.set_defaults(run=_add_firmware)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(run(main))
