"""Model containers -> the model region linked into an MCU image's flash (rp2350, mps2_an521).

    flash.py --target rp2350-pico2 --model NAME=PATH [--model ...] [--bin R.inc --asm R.S]

For every model the memory planner (metalchat.planner.place) decides where its weights go
(in place from flash, or copied to SRAM at load) and how long a context fits the SRAM that is
left; the plan is printed. The models that fit become one bundle each (apps/chat/bundle.h,
placement flag set when they go to SRAM), written one after another, 64-byte aligned, to
--bin; --asm is the assembly that links it into the `.models` section. Exit status 1 with one
line when a model or the region does not fit the target.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from metalchat import planner, sdcard
from metalchat.errors import MetalchatError
from metalchat.formats import container
from metalchat.manifest import llama_config

ALIGN = 64


def _model_arg(value: str) -> tuple[str, Path]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=PATH")
    return name, Path(path)


def region(
    target: planner.McuTarget, models: list[tuple[str, Path]]
) -> tuple[bytes, list[planner.Placement]]:
    """The region's bytes and each model's placement; MetalchatError when one does not fit."""
    placements: list[planner.Placement] = []
    out = bytearray()
    for name, path in models:
        data = path.read_bytes()
        model = container.parse(data, path)
        manifest = model.manifest
        if manifest.WhichOneof("params") != "llama":
            raise MetalchatError(f"{name}: the planner places Llama models only")
        fmts = {t.fmt for n, t in model.tensors.items() if t.values.ndim >= 2}
        fmt = max(fmts, key=planner.FORMATS.index) if fmts else "f32"
        group = max((t.group_size for t in model.tensors.values()), default=0) or 64
        placed = planner.place(
            name,
            llama_config(manifest.llama),
            fmt,
            group,
            len(data),
            len(model.tokenizer),
            target,
        )
        placements.append(placed)
        bundle = sdcard.bundle_bytes(
            data, b"", name, "engine", copy_to_ram=placed.weights_in == "SRAM"
        )
        out += bundle + bytes(-len(bundle) % ALIGN)
    planner.check_flash(target, len(out))
    return bytes(out), placements


def asm(bin_path: str, target: planner.McuTarget) -> str:
    return (
        "// The model region (tools/flash): bundles linked into flash, found by the app through\n"
        "// board_model_region() between the linker script's __models_start and __models_end;\n"
        "// __flash_bytes, the board variant's flash size, is what the linker script checks.\n"
        "    .global __flash_bytes\n"
        f"    .equ __flash_bytes, {target.flash}\n"
        '    .section .models, "a"\n'
        f"    .balign {ALIGN}\n"
        f'    .incbin "{bin_path}"\n'
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flash", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target", required=True, choices=[t.name for t in planner.MCU_TARGETS], help="board"
    )
    parser.add_argument(
        "--model", type=_model_arg, action="append", required=True, help="NAME=container.mcm"
    )
    parser.add_argument("--bin", type=Path, help="write the region here")
    parser.add_argument("--asm", type=Path, help="write the assembly that links it here")
    parser.add_argument("--asm-path", help="the region's path as the assembler sees it")
    args = parser.parse_args(argv)
    target = planner.mcu_target(args.target)
    try:
        data, placements = region(target, args.model)
    except (MetalchatError, OSError) as e:
        print(f"flash: {e}", file=sys.stderr)
        return 1
    print(planner.placement_text(target, placements, len(data)))
    if args.bin:
        args.bin.write_bytes(data)
    if args.asm:
        args.asm.write_text(asm(args.asm_path or str(args.bin), target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
