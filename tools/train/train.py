"""Train, sample and describe the demo models in models/; see ``train --help``.

Bazel: ``bazel run --config=torch //tools/train -- llama --out models/tinyllama-kjv``
(``sample`` and ``words`` run without ``--config=torch``).
"""

from __future__ import annotations

from metalchat.cli import run
from metalchat.train.cli import main

if __name__ == "__main__":
    raise SystemExit(run(main))
