"""``train``: train, sample and describe the demo models (see ``train --help``).

``tools/train/train.py`` and ``tools/train/fetch_corpus.py`` call :func:`main` and
:func:`fetch_main`. Under ``bazel run`` relative paths are taken from the directory the
command was started in (``BUILD_WORKING_DIRECTORY``), not from the runfiles tree.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from metalchat.errors import MetalchatError
from metalchat.fileio import user_path

DEFAULT_CORPUS = "~/.cache/metalchat/corpus/kjv.txt"
_TORCH_HINT = (
    "torch is not installed in this Python: training needs the torch extra. Under Bazel "
    "add --config=torch (bazel run --config=torch //tools/train -- ...); by hand install "
    "toolchains/python/requirements-torch.lock"
)


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MetalchatError(_TORCH_HINT) from None


def build_parser() -> argparse.ArgumentParser:
    from metalchat.train.settings import TrainDefaults

    parser = argparse.ArgumentParser(
        prog="train",
        description="Train the demo models on the King James Bible (CPU, fixed seed), "
        "or sample the committed ones with the numpy reference.",
        epilog="Examples (from the repository root):\n"
        "  bazel run //tools/train:fetch_corpus\n"
        "  bazel run --config=torch //tools/train -- llama --out models/tinyllama-kjv\n"
        "  bazel run --config=torch //tools/train -- nanochat --out models/tinynanochat-kjv\n"
        "  bazel run //tools/train -- sample models/tinyllama-kjv\n"
        "  bazel run //tools/train -- words --out models/kjv-words.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, default in (("llama", TrainDefaults.llama), ("nanochat", TrainDefaults.nanochat)):
        p = sub.add_parser(
            name,
            help=f"train the {name} demo (needs torch: --config=torch)",
            description=f"Train the {name} demo and write its folder: weights, tokenizer, "
            "manifest.textproto, greedy.json, README.md.",
        )
        p.add_argument("--corpus", default=DEFAULT_CORPUS, help="kjv.txt (default: %(default)s)")
        p.add_argument("--out", required=True, help="output folder, e.g. models/tinyllama-kjv")
        p.add_argument("--steps", type=int, default=default.steps, help="default %(default)s")
        p.add_argument(
            "--batch-size", type=int, default=default.batch_size, help="default %(default)s"
        )
        p.add_argument("--lr", type=float, default=default.lr, help="peak, default %(default)s")
        p.add_argument("--seed", type=int, default=default.seed, help="default %(default)s")
        p.add_argument(
            "--threads",
            type=int,
            default=default.threads,
            help="torch threads, default %(default)s (the result depends on it)",
        )
        p.add_argument(
            "--eval-every", type=int, default=0, help="validation every N steps (0: at the end)"
        )
        p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    p = sub.add_parser("sample", help="greedy text of a committed demo model (numpy, no torch)")
    p.add_argument("folder", help="models/tinyllama-kjv or models/tinynanochat-kjv")
    p.add_argument("--steps", type=int, default=96, help="positions, default %(default)s")
    p = sub.add_parser("words", help="write the corpus word list (models/kjv-words.txt)")
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="kjv.txt (default: %(default)s)")
    p.add_argument("--out", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from metalchat.train import corpus, demo

    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(args_list)
    if args.command == "sample":
        folder = user_path(args.folder)
        if (folder / "model.bin").exists():
            greedy = demo.llama_greedy(folder, args.steps)
        else:
            greedy = demo.nanochat_greedy(folder, args.steps)
        print(greedy.text)
        return 0
    text = corpus.read_kjv(user_path(args.corpus))
    if args.command == "words":
        count = demo.write_word_list(user_path(args.out), corpus.chapters(text))
        print(f"{count} words -> {user_path(args.out)}")
        return 0
    _need_torch()
    from metalchat.train.settings import TrainConfig

    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        min_lr=args.lr / 10,
        seed=args.seed,
        threads=args.threads,
        eval_every=args.eval_every,
    )
    build = demo.build_llama if args.command == "llama" else demo.build_nanochat
    summary = build(text, user_path(args.out), config, args_list, progress=not args.no_progress)
    print(json.dumps(summary, indent=1))
    return 0


def fetch_main(argv: Sequence[str] | None = None) -> int:
    from metalchat.train import corpus

    parser = argparse.ArgumentParser(
        prog="fetch_corpus",
        description="Fetch the training text: Debian 12's bible-kjv-text and bible-kjv 4.38 "
        "(apt-get download, sha256-checked, unpacked with dpkg-deb, nothing installed), "
        "printed by their `bible` program into one verse per line; the result is checked "
        "against its pinned sha256.",
    )
    parser.add_argument("--out", default=DEFAULT_CORPUS, help="default %(default)s")
    parser.add_argument(
        "--deb-dir", help="take the two .deb files from this folder instead of downloading"
    )
    args = parser.parse_args(argv)
    out = user_path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = corpus.fetch_kjv(out, user_path(args.deb_dir) if args.deb_dir else None)
    print(f"{out}: sha256 {digest}")
    return 0


def entry_point() -> None:
    """Console-script entry point of `metalchat-train`."""
    from metalchat.cli import run

    sys.exit(run(main))


def fetch_entry_point() -> None:
    """Console-script entry point of `metalchat-fetch-corpus`."""
    from metalchat.cli import run

    sys.exit(run(fetch_main))
