"""The one exception type every metalchat tool raises for a problem a user can fix."""

from __future__ import annotations

import copy
from pathlib import Path

# Control characters (C0, DEL, C1) shown escaped, so that a message quoting a file's text
# or a path stays one line and cannot send escape sequences to the terminal.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


class MetalchatError(Exception):
    """A problem with an input file or an argument, worded so the user can act on it.

    ``path`` names the file the problem is in (if any); ``str(error)`` is then
    ``"<path>: <message>"``, which is what the command-line tools print after ``error:``:
    always one line, control characters shown escaped (``\\n``, ``\\x1b``).
    """

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)

    def with_path(self, path: str | Path) -> MetalchatError:
        """Return the same error attributed to ``path`` (keeps an existing path)."""
        if self.path is not None:
            return self
        error = copy.copy(self)
        error.path = str(path)
        return error

    def __str__(self) -> str:
        text = self.message if self.path is None else f"{self.path}: {self.message}"
        return text.translate(_ESCAPES)
