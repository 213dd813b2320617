"""The one exception type every metalchat tool raises for a problem a user can fix."""

from __future__ import annotations

import copy
from pathlib import Path


class MetalchatError(Exception):
    """A problem with an input file or an argument, worded so the user can act on it.

    ``path`` names the file the problem is in (if any); ``str(error)`` is then
    ``"<path>: <message>"``, which is what the command-line tools print after ``error:``.
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
        if self.path is None:
            return self.message
        return f"{self.path}: {self.message}"
