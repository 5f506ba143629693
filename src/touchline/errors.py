"""One exception root for everything Touchline raises on purpose.

Every message names the file, key or shape that is wrong and what was expected, so that a user
never has to read a traceback from inside a library.

>>> from touchline.errors import TouchlineError, VideoError
>>> issubclass(VideoError, TouchlineError)
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DataError",
    "DependencyError",
    "TouchlineError",
    "VideoError",
]


class TouchlineError(Exception):
    """Base class of every error Touchline raises deliberately."""


class VideoError(TouchlineError):
    """A video or image source cannot be opened, decoded or written.

    Args:
        path: the file or folder at fault.
        problem: what is wrong with it, in plain words.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DataError(TouchlineError):
    """A data file or an in-memory table/array does not have the expected content or shape."""


class DependencyError(TouchlineError):
    """A dependency is missing; the message names the extra to install (``extra=None``: a core
    dependency, reinstall touchline)."""

    def __init__(self, package: str, extra: str | None) -> None:
        self.package = package
        self.extra = extra
        fix = f"pip install 'touchline[{extra}]'" if extra else "reinstall touchline"
        super().__init__(f"this feature needs the '{package}' package: {fix}")
