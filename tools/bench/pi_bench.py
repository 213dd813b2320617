"""Guest instructions per generated token of a Pi chat image in QEMU (-icount).

    bazel run //tools/bench:rpi4 [-- --tokens 32 --prompt "Once upon a time" --cores 1,4]
    bazel run //tools/bench:rpi0 [-- --tokens 32]

Boots //images:rpi4_kernel in QEMU raspi4b with //tools/bench:rpi4_bench_sdcard (rpi0: the Pi
Zero's image, its ELF, in raspi0 with //tools/bench:rpi0_bench_sdcard), and for every model on
the card and every core count: greedy (/temp 0), /len N, the fixed prompt, after a /reset (so
every run decodes the same positions). Prints one row per run.

What is measured and how: `-icount shift=0` makes QEMU's virtual clock advance exactly 1 ns per
guest instruction executed, the vCPUs taking turns on one host thread (so the clock is the
sum over all cores). The chat times the answer with `board_time_us`, the BCM system timer,
which QEMU derives from that virtual clock (1 MHz: 1 us = 1000 instructions), from the first
sampled token to the last (prefill excluded), and prints `Generation: N tokens in X ms
(Y tokens/sec)`, after `Prompt: P tokens in X ms (Y tokens/sec)` for the prompt's prefill (fed
in blocks: each weight read once per block), the time to the first token. Y = N * 1e6 / us
to two decimals, so instructions per token = 1e9 / Y (to
+-0.005/Y relative), a finer figure than X (whole milliseconds). With 4 cores the figure is the
instructions of all four cores together (work plus the parallel-for's handshakes; cores idle in
`wfe` yield at once and add few), not a latency. Nothing here is wall time.

Weight bytes per token are computed from the model files: decoding reads every matrix once per
token (the classifier included; the token embedding only one row unless it is the shared
classifier), plus the float32 norm vectors.

The predicted tokens/s for a real board are models, not measurements: memory-bound
B / bytes_per_token with B = --bandwidth-gbs, and compute-bound
cores * f * IPC / instructions_per_token with f = --ghz and IPC = --ipc (perfect scaling of the
summed instructions over the cores). Defaults: the Pi 4 (1.8 GHz Cortex-A72); the rpi0 target
passes the Pi Zero's (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qemu import QemuError, Session, qemu_command

from metalchat.fileio import runfile_or_user_path
from metalchat.formats import container, llama2c

MENU_PROMPT = "to power off: "
CHAT_PROMPT = "\n> "
GENERATION = re.compile(r"Generation: (\d+) tokens in (\d+) ms \(([\d.]+) tokens/sec\)")
PROMPT = re.compile(r"Prompt: (\d+) tokens in (\d+) ms \(([\d.]+) tokens/sec\)")
MENU_LINE = re.compile(r"^\s*(\d+)\. (\S+) \[", re.M)
FORMAT_BYTES = {"f32": 4.0, "f16": 2.0, "q8": 1.0, "q4": 0.5}


@dataclass(frozen=True)
class Weights:
    """What decoding one token reads of a model file."""

    fmt: str
    bytes_per_token: int


@dataclass(frozen=True)
class Row:
    model: str
    fmt: str
    cores: int
    tokens: int
    ms: int
    tokens_per_s: float
    ids: str
    weights: Weights
    prompt_tokens: int
    prompt_tokens_per_s: float

    @property
    def instructions_per_token(self) -> float:
        return 1e9 / self.tokens_per_s

    @property
    def instructions_per_prompt_token(self) -> float:
        return 1e9 / self.prompt_tokens_per_s if self.prompt_tokens_per_s > 0 else math.inf


def _tensor_bytes(fmt: str, count: int, group_size: int) -> int:
    scales = 4 * (count // group_size) if fmt in ("q8", "q4") and group_size else 0
    return int(FORMAT_BYTES[fmt] * count) + scales


def container_weights(path: Path) -> Weights:
    """Bytes read per token from a container's own tensor table (formats as stored)."""
    model = container.read_container(path)
    shared = model.llama_config().shared_classifier
    total = 0
    largest = max(model.tensors.values(), key=lambda t: math.prod(t.shape))
    for name, t in model.tensors.items():
        count = math.prod(t.shape)
        full = _tensor_bytes(t.fmt, count, t.group_size)
        if name == "token_embedding":
            row = full // t.shape[0]
            total += row + (full if shared else 0)
        else:
            total += full
    return Weights(largest.fmt, total)


def llama2c_weights(path: Path) -> Weights:
    """Bytes read per token from a llama2.c file: f32 (v0/v1) or int8 groups (v2)."""
    c, version, group = llama2c.read_config(path)
    fmt = "q8" if version == 2 else "f32"
    kv_dim = c.dim * c.n_kv_heads // c.n_heads
    layer = 2 * c.dim * c.dim + 2 * c.dim * kv_dim + 3 * c.dim * c.hidden_dim
    matrices = c.n_layers * layer + c.vocab_size * c.dim  # + the classifier
    norms = 4 * (2 * c.n_layers + 1) * c.dim
    row = _tensor_bytes(fmt, c.dim, group)
    label = f"{fmt} (llama2.c v{version})"
    return Weights(label, _tensor_bytes(fmt, matrices, group) + norms + row)


def model_weights(path: Path) -> Weights:
    if path.is_dir():
        path = path / "model.mcm" if (path / "model.mcm").exists() else path / "model.bin"
    if path.read_bytes()[:4] == b"MCHC":
        return container_weights(path)
    return llama2c_weights(path)


class Console:
    """The booted chat image: type a line, read up to a marker."""

    def __init__(self, args: argparse.Namespace) -> None:
        card = args.card.resolve()
        extra = ["-icount", "shift=0", "-drive", f"file={card},if=sd,format=raw,snapshot=on"]
        echo = args.echo
        out = (lambda b: (sys.stderr.buffer.write(b), sys.stderr.buffer.flush())) if echo else None
        command = qemu_command(args.system, args.machine, args.kernel.resolve(), extra)
        self.session = Session(command, out)
        self.timeout_s = args.timeout

    def until(self, text: str) -> str:
        return self.session.until(text, self.timeout_s)

    def line(self, text: str, until: str = CHAT_PROMPT) -> str:
        return self.session.line(text, until, self.timeout_s)


def bench(args: argparse.Namespace, weights: dict[str, Weights]) -> list[Row]:
    con = Console(args)
    rows: list[Row] = []
    try:
        menu = con.until(MENU_PROMPT)
        numbers = {name: n for n, name in MENU_LINE.findall(menu)}
        for name, w in weights.items():
            if name not in numbers:
                raise QemuError(f"{name} is not in the card's menu:\n{menu}")
            con.line(numbers[name])
            for command in ["/ids", "/temp 0", f"/len {args.tokens}"]:
                con.line(command)
            for cores in args.cores:
                con.line("/reset")
                con.line(f"/cores {cores}")
                out = con.line(args.prompt)
                m = GENERATION.search(out)
                p = PROMPT.search(out)
                ids = re.search(r"^ids:(.*?)\r?$", out, re.M)
                if not m or not p or not ids:
                    raise QemuError(f"no Prompt/Generation/ids line in:\n{out}")
                n, ms, rate = int(m.group(1)), int(m.group(2)), float(m.group(3))
                row = Row(name, w.fmt, cores, n, ms, rate, ids.group(1).strip(), w,
                          int(p.group(1)), float(p.group(3)))  # fmt: skip
                rows.append(row)
                print(f"  {name} cores={cores}: {p.group(0)}; {m.group(0)}", file=sys.stderr,
                      flush=True)  # fmt: skip
            con.line("/exit", MENU_PROMPT)
        con.session.send(b"q\r")
        con.session.finish(args.timeout)
    finally:
        if con.session.exited() is None:
            con.session.stop()
    return rows


def table(rows: list[Row], args: argparse.Namespace) -> str:
    head = [
        "model", "format", "cores", "prompt", "instr/prompt token", "tokens", "guest instr/token",
        "weight bytes/token",
        "instr/weight byte", f"pred. tok/s mem ({args.bandwidth_gbs:g} GB/s)",
        f"pred. tok/s cpu ({args.ghz:g} GHz, IPC {args.ipc:g})",
    ]  # fmt: skip
    lines = [head]
    for r in rows:
        ipt = r.instructions_per_token
        b = r.weights.bytes_per_token
        lines.append([
            r.model, r.fmt, str(r.cores), str(r.prompt_tokens),
            f"{r.instructions_per_prompt_token / 1e6:,.2f} M", str(r.tokens), f"{ipt / 1e6:,.2f} M",
            f"{b / 1e6:,.2f} MB",
            f"{ipt / b:.2f}", f"{args.bandwidth_gbs * 1e9 / b:,.1f}",
            f"{r.cores * args.ghz * 1e9 * args.ipc / ipt:,.1f}",
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    text.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # paths: the target's own (runfiles) or the user's (from the folder bazel run started in)
    parser.add_argument(
        "--kernel", type=runfile_or_user_path, required=True, help="the chat image (rpi0: its ELF)"
    )
    parser.add_argument("--system", default="aarch64", help="qemu-system-SYSTEM (rpi0: arm)")
    parser.add_argument("--machine", default="raspi4b", help="QEMU machine (rpi0: raspi0)")
    parser.add_argument("--card", type=runfile_or_user_path, required=True, help="SD card image")
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="a card folder's name and its model file (or folder) here, for the weight bytes",
    )
    parser.add_argument("--tokens", type=int, default=32, help="/len: tokens per answer")
    parser.add_argument("--prompt", default="Once upon a time")
    parser.add_argument("--cores", default="1,4", help="comma-separated /cores values")
    parser.add_argument("--bandwidth-gbs", type=float, default=3.9, help="predicted: board GB/s")
    parser.add_argument("--ghz", type=float, default=1.8, help="predicted: board clock")
    parser.add_argument("--ipc", type=float, default=1.0, help="predicted: instructions/cycle")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per console wait")
    parser.add_argument("--echo", action="store_true", help="copy the console to stderr")
    args = parser.parse_args()
    args.cores = [int(c) for c in args.cores.split(",")]
    weights = {}
    for spec in args.model:
        name, _, path = spec.partition("=")
        weights[name] = model_weights(runfile_or_user_path(path))
    # QEMU's snapshot=on overlay goes to TMPDIR.
    os.environ.setdefault("TMPDIR", tempfile.gettempdir())
    print(
        f"QEMU {args.machine} -icount shift=0; greedy, prompt {args.prompt!r}, /len {args.tokens}, "
        "after /reset; instructions summed over the cores in use",
        file=sys.stderr,
    )
    try:
        rows = bench(args, weights)
    except QemuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(table(rows, args))
    for name in weights:
        ids = {r.ids for r in rows if r.model == name}
        same = "same token ids on every core count" if len(ids) == 1 else "IDS DIFFER"
        print(f"{name}: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
