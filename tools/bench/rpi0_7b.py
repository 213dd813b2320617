"""llama.pi's experiment, completed: one forward pass of a Llama-2-7B-shaped model in 512 MB.

    bazel run //tools/bench:rpi0_7b [-- --work DIR --seed 7 --qemu]

The model: Llama-2-7B's shape (dim 4096, 32 layers, 32 heads, hidden 11008, vocab 32000),
random weights from --seed, int8 in groups of 64 with half of each FFN matrix's weights pruned
to zero (metalchat.bigmodel: the package's quantizer and pruner), written layer by layer into
a container in --work (about 7.2 GB; kept and reused by later runs of the same seed).

1. The pass with 512 MB: //tools/engine_cli --ram-cap 536870912 --prompt-ids 1 streams the
   layers through the weight source (one layer ahead, two buffers) and reports its peak memory
   and the weight bytes it read; its logits are compared with metalchat.bigmodel's numpy
   reference of the same container, computed layer by layer (relative L2 error, max abs error,
   same argmax).
2. With --qemu: the same pass on the Pi Zero's chat image in QEMU raspi0 (--machine and
   --kernel for another Pi; chat.txt ram_cap=536870912) from an 8 GiB sparse card image holding the
   model in shards (FAT32 caps a file at 4 GiB): guest instructions of the pass (-icount
   shift=0: 1 ns of guest time per instruction; the chat's "Prompt: N tokens in X ms" line),
   its RAM peak line and /logits. The card's controller is read by PIO in QEMU: about 1 MB/s of
   wall time on a busy 2-core build machine, so 7.2 GB take hours (the run prints its estimate
   first). This step has not been run to its end on the build machine (docs/BENCHMARKS.md).

The predicted Pi Zero seconds per token (printed with their arithmetic): storage, the bytes read
per token over the SD bus at 25 MB/s (50 MHz, 4 bits); CPU, the multiply-accumulates per token
at --macs-per-cycle x 1 GHz (ARM1176: SMLAD does two 16-bit MACs per instruction, a q8 kernel
needs about as many more to unpack and load: about 1 MAC per cycle), or, with --qemu, the guest
instructions at IPC 1. Blocking reads (the Pi Zero's SD driver has no DMA yet) add the two.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from metalchat import bigmodel, sdcard
from metalchat.cli import run
from metalchat.errors import MetalchatError
from metalchat.fileio import runfile_or_user_path

CAP = 512 << 20
SD_BYTES_PER_S = 25e6  # 50 MHz x 4 bits
PI_ZERO_HZ = 1e9
PAPER = (  # llama.pi on a Mac (s/token)
    ("fp32", 210.0),
    ("int8, group 64", 7.52),
    ("int8, layer-streamed (segmented)", 69.8),
)
REPORT = re.compile(
    r"ram cap (\d+) B: (\w+); peak (\d+) B .* weights read (\d+) B in (\d+) batches "
    r"\((\d+) B per token\)"
)


def _model(work: Path, seed: int, layers: int) -> Path:
    config = bigmodel.llama2_7b()
    if layers != config.n_layers:
        config = replace(config, n_layers=layers)
    path = work / f"llama2-7b-shaped-s{seed}-l{layers}.mcm"
    if path.exists():
        print(f"{path}: kept from an earlier run ({path.stat().st_size:,} B)")
        return path
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    partial = path.with_suffix(".partial")
    size = bigmodel.write_model(partial, config, seed, group_size=64, prune=0.5, log=True)
    partial.rename(path)
    print(f"{path}: {size:,} B written in {time.time() - started:.0f} s")
    return path


def _host_pass(engine_cli: Path, model: Path, work: Path) -> tuple[np.ndarray, dict[str, int]]:
    logits = work / "host_logits.bin"
    started = time.time()
    done = subprocess.run(
        [
            str(engine_cli),
            str(model),
            "--ram-cap",
            str(CAP),
            "--prompt-ids",
            "1",
            "--dump-logits",
            str(logits),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise MetalchatError(f"engine_cli failed: {done.stderr.strip()}")
    m = REPORT.search(done.stderr)
    if not m:
        raise MetalchatError(f"engine_cli printed no memory report: {done.stderr.strip()}")
    figures = {
        "cap": int(m.group(1)),
        "streamed": int(m.group(2) == "streamed"),
        "peak": int(m.group(3)),
        "read": int(m.group(4)),
        "per_token": int(m.group(6)),
        "wall_ms": int((time.time() - started) * 1000),
    }
    return np.fromfile(logits, dtype="<f4"), figures


def _compare(got: np.ndarray, want: np.ndarray) -> str:
    rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    worst = float(np.max(np.abs(got - want)))
    same = int(np.argmax(got)) == int(np.argmax(want))
    return (
        f"relative L2 error {rel:.2e}, max abs error {worst:.2e} (logits span "
        f"{float(want.min()):.3f}..{float(want.max()):.3f}), argmax "
        f"{'equal' if same else 'DIFFERENT'} ({int(np.argmax(got))})"
    )


def _qemu_pass(args: argparse.Namespace, model: Path, work: Path) -> dict[str, object]:
    from qemu import Session, qemu_command

    parts = bigmodel.shard(_copy(model, work / "card" / "model.mcm"), 2 << 30)
    chat_txt = work / "card" / "chat.txt"
    chat_txt.write_text(f"template=plain\nram_cap={CAP}\n")
    card = work / "card.img"
    files = {f"llama7b/{p.name}": p for p in parts}
    files["llama7b/chat.txt"] = chat_txt
    sdcard.write_card(card, files, 8 << 30)
    for p in parts:
        p.unlink()
    hours = model.stat().st_size / 1e6 / 3600  # ~1 MB/s of PIO in QEMU, twice (prefill, decode)
    print(f"QEMU {args.machine}: about {2 * hours:.1f} h of wall time to read the model twice")
    session = Session(
        qemu_command(
            "arm" if args.machine in ("raspi0", "raspi1ap") else "aarch64",
            args.machine,
            args.kernel,
            ["-icount", "shift=0", "-drive", f"file={card},if=sd,format=raw,snapshot=on"],
        )
    )
    try:
        at = session.wait_for("to power off: ", 300.0, 0)
        for line, until in (
            ("1", "\n> "),
            ("/temp 0", "\n> "),
            ("/len 1", "\n> "),
            ("/ids", "\n> "),
            ("a", "\n> "),
            ("/logits", "\n> "),
        ):
            session.send(line.encode() + b"\r")
            at = session.wait_for(until, 3600.0 * 24, at)
        console = session.console
    finally:
        session.stop()
    prompt = re.search(r"Prompt: (\d+) tokens in (\d+) ms", console)
    gen = re.search(r"Generation: (\d+) tokens in (\d+) ms", console)
    peak = re.search(r"RAM peak: (\d+) of (\d+) bytes", console)
    words = console[console.index("logits: ") :].split("\n", 1)[1].split()
    logits = np.array(
        [int(w, 16) for w in words[: bigmodel.llama2_7b().vocab_size]], dtype=np.uint32
    ).view(np.float32)
    return {"console": console, "prompt": prompt, "generation": gen, "peak": peak, "logits": logits}


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as f, open(dst, "wb") as g:
        while block := f.read(64 << 20):
            g.write(block)
    return dst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("HOME", "/tmp")) / ".cache/metalchat/rpi0_7b",
        help="where the model (and the card image) are written",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--layers", type=int, default=32, help="fewer layers for a quick check")
    ap.add_argument("--engine-cli", type=Path, required=True)
    ap.add_argument("--qemu", action="store_true", help="also run the pass in QEMU (hours)")
    ap.add_argument("--kernel", type=Path, help="the chat image for --qemu")
    ap.add_argument("--machine", default="raspi0", help="QEMU machine of --kernel")
    ap.add_argument("--macs-per-cycle", type=float, default=1.0)
    args = ap.parse_args(argv)
    engine_cli = runfile_or_user_path(str(args.engine_cli))
    model = _model(args.work, args.seed, args.layers)
    logits, fig = _host_pass(engine_cli, model, args.work)
    config = replace(bigmodel.llama2_7b(), n_layers=args.layers)
    started = time.time()
    want = bigmodel.reference_logits([model], [1])
    ref_s = time.time() - started
    macs = (
        config.n_layers * (4 * config.dim * config.dim + 3 * config.dim * config.hidden_dim)
        + config.vocab_size * config.dim
    )
    sd_s = fig["per_token"] / SD_BYTES_PER_S
    cpu_s = macs / (args.macs_per_cycle * PI_ZERO_HZ)
    print()
    print(
        f"model: {model.stat().st_size:,} B (Llama-2-7B shape, {config.n_layers} layers, "
        f"q8 g64, FFN pruned 50%), seed {args.seed}"
    )
    print(
        f"host pass (engine_cli --ram-cap {fig['cap']}): "
        f"{'streamed' if fig['streamed'] else 'resident'}, peak RAM {fig['peak']:,} B "
        f"({fig['peak'] / (1 << 20):.1f} MiB of {fig['cap'] >> 20} MiB), "
        f"weights read {fig['per_token']:,} B per token, {fig['wall_ms'] / 1000:.1f} s wall"
    )
    print(
        f"logits vs the numpy reference (layer by layer, {ref_s:.0f} s): {_compare(logits, want)}"
    )
    print(f"MACs per token: {macs:,}")
    print(
        f"predicted Pi Zero: SD {fig['per_token']:,} B / 25 MB/s = {sd_s:.0f} s; CPU {macs:,} MACs"
        f" / ({args.macs_per_cycle:g} MAC/cycle x 1 GHz) = {cpu_s:.1f} s; blocking reads: "
        f"{sd_s + cpu_s:.0f} s/token, with DMA overlap max = {max(sd_s, cpu_s):.0f} s/token"
    )
    for what, s in PAPER:
        print(f"  llama.pi on a Mac, {what}: {s} s/token")
    if args.qemu:
        if not args.kernel:
            raise MetalchatError("--qemu needs --kernel")
        q = _qemu_pass(args, model, args.work)
        ms = int(q["prompt"].group(2))  # type: ignore[union-attr]
        print(
            f"QEMU {args.machine}: the prompt's pass {ms * 1_000_000:,} guest instructions; "
            f"{q['peak'].group(0)}; logits vs reference: {_compare(q['logits'], want)}"
        )  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
