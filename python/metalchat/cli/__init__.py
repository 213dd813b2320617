"""Command-line front ends. Each module has ``main(argv) -> int`` and only parses arguments,
calls the library and prints; ``tools/<name>/<name>.py`` and the console scripts call it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from metalchat.errors import MetalchatError


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a CLI ``main``; a :class:`MetalchatError` becomes one ``error:`` line and status 1."""
    try:
        return main(argv)
    except MetalchatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
