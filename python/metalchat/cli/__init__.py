"""Command-line front ends. Each module has ``main(argv) -> int`` and only parses arguments,
calls the library and prints; ``tools/<name>/<name>.py`` and the console scripts call it."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence

from metalchat.errors import MetalchatError

EXIT_BAD_INPUT = 2  # as argparse's usage errors: the input or the arguments are at fault
EXIT_BUG = 70  # EX_SOFTWARE: an exception metalchat did not expect


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a CLI ``main``: a :class:`MetalchatError` (bad input, bad arguments) or an OS error
    (a full disk, no permission) becomes one ``error:`` line and status 2; any other
    exception is a bug in metalchat: its traceback, a line saying so, and status 70."""
    try:
        return main(argv)
    except MetalchatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {MetalchatError(exc.strerror or str(exc), exc.filename)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception:  # the last resort: say it is a bug
        traceback.print_exc()
        print(
            "error: this is a bug in metalchat, not a problem with your input; please report "
            "it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_BUG
