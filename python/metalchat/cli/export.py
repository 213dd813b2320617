"""``export``: llama2.c and nanochat models to metalchat containers (and InferPi files)."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from metalchat import export, manifest, planner, quant
from metalchat.cli import run
from metalchat.config import MATRIX_TENSORS
from metalchat.errors import MetalchatError
from metalchat.fileio import Outputs, read_bytes, user_path
from metalchat.formats import container, llama2c
from metalchat.manifest import ModelManifest, pb

DESCRIPTION = """\
  llama2c   a llama2.c model (.bin v0/v1/v2) and its tokenizer.bin to a metalchat container
            (.mcm, docs/CONTAINER.md): matrices in --format, norms float32, the quantization
            error report in its manifest; optionally InferPi's model.bin + tokenizer.bin.
  nanochat  a nanochat checkpoint directory (model_<step>.pt + meta_<step>.json) and its
            tokenizer.pkl to a container: matrices in --format (default f32), the BPE
            tokenizer inside.
  hf        a Hugging Face model folder (config.json, model.safetensors or sharded
            model-*.safetensors in bf16/f16/f32, tokenizer.json or tokenizer.model,
            tokenizer_config.json, generation_config.json) to a container: rope_theta, GQA
            and tied embeddings from config.json; BOS, every EOS / end-of-turn id and the
            chat template (rendered with jinja2 into turn strings) from the tokenizer files.
            Architectures: LlamaForCausalLM, MistralForCausalLM (no sliding window).
  gguf      a llama.cpp GGUF file (architecture llama) to a container: hyperparameters and
            the tokenizer from its metadata; F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K
            tensors. Q8_0 and Q4_0 blocks are taken over as q8 / q4 groups of 32 without
            requantizing (unless --format asks otherwise); the other types are dequantized and
            requantized, with the error report.
  --manifest FILE (llama2c, nanochat, hf, gguf): a model manifest (.textproto, the schema in
            metalchat/proto/model_manifest.proto) drives the export: its name, chat_template
            and export { format group_size } give --name, --chat-template, --format and
            --group-size. It is validated first; the checkpoint must match its parameter
            block (and weights_sha256 / tokenizer.sha256 when recorded), else one line names
            the field. A flag given as well must agree with the manifest (conflicts fail).
  quantize  print the per-tensor error report (max and mean absolute error) of a format
            without writing anything.
"""

EPILOG = """\
examples:
  export llama2c stories15M.bin --tokenizer tokenizer.bin --format q8 --group-size 64 -o s15.mcm
  export llama2c model.bin --tokenizer tokenizer.bin --format q4 --group-size 32 \\
      --prune-ffn 0.2 --board rpi0 --manifest-out s15.textproto -o s15.mcm
  export llama2c model.bin --tokenizer tokenizer.bin --format f16 -o m.mcm --inferpi usb/MyModel
  export nanochat models/tinynanochat-kjv -o tinynanochat.mcm
  export llama2c models/tinyllama-kjv/model.bin --tokenizer models/tinyllama-kjv/tokenizer.bin \
      --manifest models/tinyllama-kjv/manifest.textproto --board rp2350 -o kjv.mcm
  export nanochat ~/.cache/nanochat/base_checkpoints/d20 --tokenizer \
      ~/.cache/nanochat/tokenizer/tokenizer.pkl --format q8 --chat-template nanochat -o d20.mcm
  export hf ~/models/SmolLM2-135M-Instruct --format q8 --group-size 64 --board rpi4 -o smol.mcm
  export gguf tinyllama-1.1b-chat.Q4_0.gguf -o tinyllama.mcm
  export quantize stories260K.bin --format q4 --group-size 4
"""


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not in [0, 1)")
    return value


def _model_options(parser: argparse.ArgumentParser, *, manifest_driven: bool) -> None:
    parser.add_argument("model", type=user_path, help="llama2.c model .bin (v0, v1 or v2)")
    parser.add_argument(
        "--format",
        choices=quant.FORMATS,
        required=not manifest_driven,
        help="matrix format" + (" (required without --manifest)" if manifest_driven else ""),
    )
    parser.add_argument(
        "--group-size",
        type=int,
        default=None if manifest_driven else 64,
        help="q8/q4 values per scale (default 64); a tensor whose rows it does not divide "
        "alone takes a smaller aligned group, else f16 (the report says which)",
    )
    parser.add_argument(
        "--prune-ffn",
        type=_ratio,
        default=0.0,
        metavar="RATIO",
        help="zero this fraction of the smallest weights of each layer's w1/w2/w3",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="export",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    conv = sub.add_parser("llama2c", help="llama2.c .bin + tokenizer.bin to a container")
    _model_options(conv, manifest_driven=True)
    _manifest_option(conv)
    conv.add_argument("--tokenizer", type=user_path, required=True, help="llama2.c tokenizer.bin")
    conv.add_argument("-o", "--output", type=user_path, required=True, help="container (.mcm)")
    conv.add_argument("--name", default=None, help="model name (default: the model file's stem)")
    conv.add_argument(
        "--chat-template", choices=sorted(export.CHAT_TEMPLATES), help="default: none"
    )
    _board_and_manifest_out(conv)
    conv.add_argument(
        "--inferpi",
        type=user_path,
        default=None,
        metavar="OUTDIR",
        help="also write InferPi's model.bin (float16) and tokenizer.bin into OUTDIR",
    )
    conv.add_argument("--quiet", action="store_true", help="print nothing but errors")
    nano = sub.add_parser("nanochat", help="nanochat checkpoint + tokenizer.pkl to a container")
    nano.add_argument(
        "checkpoint", type=user_path, help="folder holding model_<step>.pt, meta_<step>.json"
    )
    nano.add_argument(
        "--tokenizer",
        type=user_path,
        default=None,
        help="tokenizer.pkl or its folder (default: CHECKPOINT/tokenizer.pkl)",
    )
    nano.add_argument("--step", type=int, default=None, help="checkpoint step (default: last)")
    nano.add_argument("--format", choices=quant.FORMATS, help="matrix format (default f32)")
    nano.add_argument("--group-size", type=int, help="q8/q4 values per scale (default 64)")
    _manifest_option(nano)
    nano.add_argument("-o", "--output", type=user_path, required=True, help="container (.mcm)")
    nano.add_argument("--name", default=None, help="model name (default: the folder's name)")
    nano.add_argument(
        "--chat-template",
        choices=sorted(export.CHAT_TEMPLATES),
        help="none (plain continuation, for base models; the default) or nanochat",
    )
    nano.add_argument(
        "--manifest-out", type=user_path, default=None, help="also write the manifest as .textproto"
    )
    nano.add_argument("--quiet", action="store_true", help="print nothing but errors")
    hf = sub.add_parser("hf", help="Hugging Face model folder to a container")
    hf.add_argument("model", type=user_path, help="folder with config.json, safetensors, tokenizer")
    gg = sub.add_parser("gguf", help="llama.cpp GGUF file to a container")
    gg.add_argument("model", type=user_path, help="GGUF file (architecture llama)")
    for sub_parser, chats in ((hf, ["auto", *sorted(export.CHAT_TEMPLATES)]), (gg, None)):
        sub_parser.add_argument(
            "--format",
            choices=quant.FORMATS,
            help="matrix format (hf: default f32; gguf: default each tensor's own type)",
        )
        sub_parser.add_argument(
            "--group-size", type=int, help="q8/q4 values per scale (default 64)"
        )
        _manifest_option(sub_parser)
        sub_parser.add_argument(
            "-o", "--output", type=user_path, required=True, help="container (.mcm)"
        )
        sub_parser.add_argument("--name", default=None, help="model name (default: its name)")
        if chats:
            sub_parser.add_argument(
                "--chat-template",
                choices=chats,
                help="auto (the default): tokenizer_config.json's template as turn strings",
            )
        _board_and_manifest_out(sub_parser)
        sub_parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    gg.set_defaults(chat_template=None)
    quantize = sub.add_parser("quantize", help="print the quantization error report")
    _model_options(quantize, manifest_driven=False)
    return parser


def _board_and_manifest_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--board",
        choices=[b.name for b in planner.BOARDS],
        default=None,
        help="fail unless the model fits this board (the memory planner's check)",
    )
    parser.add_argument(
        "--manifest-out", type=user_path, default=None, help="also write the manifest as .textproto"
    )


def _manifest_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest",
        type=user_path,
        default=None,
        metavar="FILE",
        help="model manifest (.textproto) giving name, chat template, format, group size; "
        "flags given too must agree with it",
    )


def _apply_manifest(args: argparse.Namespace, arch: int) -> ModelManifest | None:
    """Fill ``args`` from ``--manifest`` (refusing conflicting flags), then the defaults."""
    wanted = None
    if args.manifest is not None:
        wanted = manifest.load_manifest(args.manifest)
        if wanted.architecture != arch:
            raise MetalchatError(
                f"architecture is {pb.Architecture.Name(wanted.architecture)}, but "
                f"`export {args.command}` makes {pb.Architecture.Name(arch)} containers",
                args.manifest,
            )
        templates = {kind: key for key, kind in export.CHAT_TEMPLATES.items()}
        if args.command in ("hf", "gguf"):
            templates[pb.CHAT_TEMPLATE_TURNS] = "auto"
        if wanted.chat_template.kind not in templates:
            raise MetalchatError(
                "chat_template.kind CHAT_TEMPLATE_CUSTOM is not supported by export",
                args.manifest,
            )
        options = wanted.export
        values = {
            ("name", "name"): wanted.name,
            ("chat_template", "chat_template.kind"): templates[wanted.chat_template.kind],
            ("format", "export.format"): manifest.format_name(options.format).lower()
            if options.format
            else None,
            ("group_size", "export.group_size"): options.group_size or None,
        }
        for (key, field), value in values.items():
            given = getattr(args, key)
            if value is not None and given is not None and given != value:
                flag = "--" + key.replace("_", "-")
                raise MetalchatError(
                    f"{flag} {given} conflicts with the manifest's {field} {value}",
                    args.manifest,
                )
            setattr(args, key, value if given is None else given)
    if args.format is None:
        if args.command == "llama2c":
            raise MetalchatError("--format is required (or a --manifest with export.format)")
        if args.command != "gguf":  # gguf keeps each tensor's own type by default
            args.format = "f32"
    args.group_size = 64 if args.group_size is None else args.group_size
    default_chat = "auto" if args.command in ("hf", "gguf") else "none"
    args.chat_template = args.chat_template or default_chat
    return wanted


def _check_source(wanted: ModelManifest | None, path: Path, built: ModelManifest) -> None:
    if wanted is not None:
        try:
            manifest.check_source(wanted, built)
        except MetalchatError as exc:
            raise exc.with_path(path) from None


def _load(
    args: argparse.Namespace,
) -> tuple[llama2c.Llama2cModel, dict[str, np.ndarray], dict[str, float]]:
    model = llama2c.read_model(args.model)
    weights = dict(model.weights)
    sparsity = quant.prune_ffn(weights, args.prune_ffn) if args.prune_ffn else {}
    return model, weights, sparsity


def _print_report(
    report: list[quant.TensorError],
    sparsity: dict[str, float],
    fmt: str | None = None,
    group_size: int = 0,
) -> None:
    if report:
        print(quant.report_table(report))
    if fmt:
        for line in quant.fallbacks(report, fmt, group_size):
            print(f"note: {line}")
    if sparsity:
        parts = ", ".join(f"{name} {100 * value:.1f}%" for name, value in sparsity.items())
        print(f"pruned (zeros now): {parts}")


def _outputs(args: argparse.Namespace, inputs: list[Path | None]) -> Outputs:
    """Every output of an export, checked before any work (inputs are never overwritten)."""
    out = Outputs(p for p in inputs if p is not None)
    out.check(args.output)
    if args.manifest_out:
        out.check(args.manifest_out)
    if getattr(args, "inferpi", None):
        if not args.inferpi.is_dir():
            raise MetalchatError("no such folder", args.inferpi)
        out.check(args.inferpi / "model.bin")
        out.check(args.inferpi / "tokenizer.bin")
    return out


def _write_container(
    out: Outputs, args: argparse.Namespace, model_container: container.ContainerModel
) -> bytes:
    """Stage the container (and the --manifest-out manifest describing it); returns its bytes."""
    data = container.checked_bytes(model_container, args.output)
    out.write(args.output, data)
    if args.manifest_out:
        written = container.parse(data, args.output).manifest
        written.weights_file = args.output.name
        written.weights_size = len(data)
        written.weights_sha256 = hashlib.sha256(data).hexdigest()
        out.write(args.manifest_out, manifest.to_text(written).encode("utf-8"))
    return data


def _nanochat(args: argparse.Namespace) -> int:
    wanted = _apply_manifest(args, pb.NANOCHAT)
    tokenizer = args.tokenizer or args.checkpoint / "tokenizer.pkl"
    outputs = _outputs(args, [args.checkpoint, tokenizer, args.manifest])
    model_container, report = export.nanochat_checkpoint_container(
        args.checkpoint,
        args.tokenizer,
        step=args.step,
        name=args.name,
        fmt=args.format,
        group_size=0 if args.format in ("f32", "f16") else args.group_size,
        chat_template=args.chat_template,
        progress=False if args.quiet else None,
    )
    _check_source(wanted, args.manifest, model_container.manifest)
    with outputs:
        data = _write_container(outputs, args, model_container)
    if not args.quiet:
        _print_report(report, {})
        print(
            f"{args.output}: nanochat {args.format} container, "
            f"{len(model_container.tensors)} tensors, {len(data):,} bytes"
        )
    return 0


def _hf_or_gguf(args: argparse.Namespace) -> int:
    wanted = _apply_manifest(args, pb.LLAMA)
    outputs = _outputs(args, [args.model, args.manifest])
    common = dict(name=args.name, fmt=args.format, group_size=args.group_size, board=args.board)
    progress = False if args.quiet else None
    if args.command == "hf":
        convert = export.hf_container(
            args.model, chat=args.chat_template, progress=progress, **common
        )
    else:
        convert = export.gguf_container(args.model, progress=progress, **common)
    model_container, report = convert
    _check_source(wanted, args.manifest, model_container.manifest)
    with outputs:
        data = _write_container(outputs, args, model_container)
    if not args.quiet:
        _print_report(report, {}, args.format, args.group_size)
        m = model_container.manifest
        kind = pb.ChatTemplateKind.Name(m.chat_template.kind)
        turns = f" ({m.chat_template.turns.family})" if m.chat_template.HasField("turns") else ""
        fit = ""
        if args.board:  # checked before converting; the verdict (fits, or streamed) here
            config = model_container.llama_config()
            fmt, group = (args.format, args.group_size) if args.format else ("q8", 32)
            fit = f"; {export.check_fit(config, fmt, group, args.board, m.name)} {args.board}"
        print(
            f"{args.output}: llama container, {len(model_container.tensors)} tensors, "
            f"{len(data):,} bytes, rope_theta {m.llama.rope_theta:g}, chat template "
            f"{kind}{turns}{fit}"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "nanochat":
        return _nanochat(args)
    if args.command in ("hf", "gguf"):
        return _hf_or_gguf(args)
    wanted = _apply_manifest(args, pb.LLAMA) if args.command == "llama2c" else None
    if args.command == "llama2c":
        outputs = _outputs(args, [args.model, args.tokenizer, args.manifest])
    model, weights, sparsity = _load(args)
    config = model.config
    if wanted is not None:  # llama2.c files do not record these; the manifest does
        params = wanted.llama
        config = dataclasses.replace(
            config,
            rope_theta=params.rope_theta or config.rope_theta,
            norm_eps=params.norm_eps or config.norm_eps,
        )
    if args.command == "quantize":
        ordered = {name: weights[name] for name in config.tensor_shapes()}
        try:
            _, report = quant.quantize_weights(
                ordered, args.format, args.group_size, MATRIX_TENSORS
            )
        except MetalchatError as exc:
            raise exc.with_path(args.model) from None
        _print_report(report, sparsity)
        return 0

    name = args.name or args.model.stem
    tokenizer_bytes = read_bytes(args.tokenizer)
    try:
        tokenizer = llama2c.read_tokenizer(tokenizer_bytes, config.vocab_size)
    except MetalchatError as exc:
        raise exc.with_path(args.tokenizer) from None
    sources = [
        export.source_file(args.model, read_bytes(args.model)),
        export.source_file(args.tokenizer, tokenizer_bytes),
    ]
    m = export.llama_manifest(
        config,
        name,
        tokenizer,
        description=f"llama2.c v{model.version} model {args.model.name}",
        chat_template=args.chat_template,
        sources=sources,
    )
    _check_source(wanted, args.manifest, m)
    verdict = None
    if args.board:
        try:
            verdict = export.check_fit(config, args.format, args.group_size, args.board, name)
        except MetalchatError as exc:
            raise exc.with_path(args.model) from None
    try:
        model_container, report = export.llama_container(
            config,
            weights,
            tokenizer_bytes,
            m,
            fmt=args.format,
            group_size=args.group_size,
            progress=False if args.quiet else None,
        )
    except MetalchatError as exc:
        raise exc.with_path(args.model) from None
    with outputs:
        data = _write_container(outputs, args, model_container)
        if args.inferpi:
            outputs.write(args.inferpi / "model.bin", export.inferpi_model(config, weights))
            outputs.write(args.inferpi / "tokenizer.bin", tokenizer_bytes)
    if not args.quiet:
        _print_report(report, sparsity, args.format, args.group_size)
        fit = f"; {verdict} {args.board}" if verdict else ""
        print(
            f"{args.output}: {args.format} container, {len(model_container.tensors)} tensors, "
            f"{len(data):,} bytes{fit}"
        )
    return 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(run(main))
