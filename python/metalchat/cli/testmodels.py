"""``testmodels``: write random test models from a seed (``metalchat.testmodels``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from metalchat import testmodels
from metalchat.cli import run
from metalchat.config import LlamaConfig
from metalchat.fileio import Outputs, atomic_write, user_path

DESCRIPTION = """\
Write random test models from a seed: build-time test data, never committed. The same
arguments give the same bytes.

  spec      one of the named shapes the engine tests cover, as a container (f32, f16, q8,
            q4), InferPi's fp16 model.bin (inferpi), llama2.c's own file (v0, v1, v2) or a
            tokenizer fuzz seed (tokseed).
  llama2c   a llama2.c model.bin and tokenizer.bin of any shape (default: the chat card's
            stand-in shape); --words gives a tokenizer of word pieces whose greedy answers
            are words, --chat-txt the model folder's chat.txt.
"""

EPILOG = f"""\
specs: {", ".join([*testmodels.LLAMA_SPECS, *testmodels.NANOCHAT_SPECS])}

examples:
  testmodels spec llama_gqa_wcls q8 --group-size 4 --seed 1 -o llama_gqa_wcls_q8.mcm
  testmodels llama2c --seed 15 --dim 288 --hidden-dim 768 --layers 6 --heads 6 --kv-heads 6 \\
      --vocab 32000 --seq-len 256 model.bin tokenizer.bin
  testmodels llama2c --seed 1 --words --chat-txt tiny/chat.txt tiny/model.bin tiny/tokenizer.bin
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="testmodels",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    spec = commands.add_parser("spec", help="a named test model shape in one format")
    spec.add_argument("name", help="a spec name (listed below --help)")
    spec.add_argument(
        "format",
        choices=("f32", "f16", "q8", "q4", *testmodels.FILE_FORMATS),
        help="container format, or inferpi / v0 / v1 / v2 / tokseed",
    )
    spec.add_argument("--group-size", type=int, default=0, help="q8/q4/v2 groups (v2: 0 = 64)")
    spec.add_argument("--seed", type=int, default=1)
    spec.add_argument("-o", "--output", type=user_path, required=True, help="file to write")

    l2c = commands.add_parser("llama2c", help="a llama2.c model.bin + tokenizer.bin")
    l2c.add_argument("--seed", type=int, default=0)
    l2c.add_argument("--version", type=int, choices=(0, 1, 2), default=0)
    l2c.add_argument("--group-size", type=int, default=32, help="v2 (int8) groups")
    l2c.add_argument("--dim", type=int, default=64)
    l2c.add_argument("--hidden-dim", type=int, default=172)
    l2c.add_argument("--layers", type=int, default=4)
    l2c.add_argument("--heads", type=int, default=8)
    l2c.add_argument("--kv-heads", type=int, default=4)
    l2c.add_argument("--vocab", type=int, default=512)
    l2c.add_argument("--seq-len", type=int, default=512)
    l2c.add_argument(
        "--words",
        action="store_true",
        help="word-piece tokenizer, byte tokens scaled down: greedy answers are words",
    )
    l2c.add_argument("--chat-txt", type=user_path, help="also write a model folder's chat.txt here")
    l2c.add_argument("--template", choices=("plain", "alpaca"), default="plain")
    l2c.add_argument("model", type=user_path, help="model.bin to write")
    l2c.add_argument("tokenizer", type=user_path, help="tokenizer.bin to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "spec":
        data = testmodels.spec_model(args.name, args.format, args.group_size, args.seed)
        atomic_write(args.output, data)
        return 0
    if args.command == "llama2c":
        config = LlamaConfig(
            dim=args.dim, hidden_dim=args.hidden_dim, n_layers=args.layers, n_heads=args.heads,
            n_kv_heads=args.kv_heads, vocab_size=args.vocab, seq_len=args.seq_len,
        )  # fmt: skip
        model, tokenizer = testmodels.llama2c_files(
            config, args.seed, version=args.version, group_size=args.group_size, words=args.words
        )
        outputs = [(args.model, model), (args.tokenizer, tokenizer)]
        if args.chat_txt is not None:
            outputs.append((args.chat_txt, f"template={args.template}\n".encode()))
        for path, _ in outputs:
            path.parent.mkdir(parents=True, exist_ok=True)
        with Outputs() as out:
            for path, data in outputs:
                out.write(path, data)
        return 0
    raise AssertionError(args.command)


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(run(main))
