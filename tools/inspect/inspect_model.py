"""Memory tables and board fit for a model; see ``inspect --help``.

Named inspect_model.py, not inspect.py: a script called inspect.py would shadow the
standard library's ``inspect`` module (its folder comes first on sys.path).

Bazel: ``bazel run //tools/inspect -- path/to/model.bin --board rpi0``
"""

from __future__ import annotations

from metalchat.cli import run
from metalchat.cli.inspect import main

if __name__ == "__main__":
    raise SystemExit(run(main))
