"""Random test models from a seed, for Bazel rules; see ``testmodels --help``.

Bazel: ``bazel run //python:testmodels -- spec llama_odd_mqa f32 -o /tmp/m.mcm``
"""

from __future__ import annotations

from metalchat.cli import run
from metalchat.cli.testmodels import main

if __name__ == "__main__":
    raise SystemExit(run(main))
