"""Fetch the training corpus (the King James Bible from Debian); see ``fetch_corpus --help``.

Bazel: ``bazel run //tools/train:fetch_corpus`` writes ~/.cache/metalchat/corpus/kjv.txt.
"""

from __future__ import annotations

from metalchat.cli import run
from metalchat.train.cli import fetch_main

if __name__ == "__main__":
    raise SystemExit(run(fetch_main))
