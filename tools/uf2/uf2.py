"""UF2 images for the RP2040/RP2350 boot ROM; see ``uf2 --help``.

Bazel: ``bazel run //tools/uf2 -- check path/to/image.uf2``
"""

from __future__ import annotations

from metalchat.cli import run
from metalchat.cli.uf2 import main

if __name__ == "__main__":
    raise SystemExit(run(main))
