"""Durations set by users in seconds, turned into frame counts at a source's frame rate.

>>> seconds_to_frames(1.2, 25.0), seconds_to_frames(1.2, 50.0), seconds_to_frames(0.0, 25.0, 1)
(30, 60, 1)
"""

from __future__ import annotations

import math
from typing import Any, overload

__all__ = ["FramesOf", "check_fps", "check_seconds", "seconds_to_frames"]


def check_seconds(owner: str, **durations: float) -> None:
    """Raise a ``ValueError`` naming ``owner.field`` unless every duration is finite and >= 0.

    >>> check_seconds("Cfg", lost_seconds=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: Cfg.lost_seconds must be a finite duration >= 0 (seconds), got -1.0
    """
    for name, value in durations.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(
                f"{owner}.{name} must be a finite duration >= 0 (seconds), got {value!r}"
            )


def check_fps(owner: str, fps: float) -> None:
    """Raise a ``ValueError`` naming ``owner.fps`` unless it is a finite positive rate."""
    try:
        v = float(fps)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{owner}.fps must be a finite positive frame rate, got {fps!r}")


def seconds_to_frames(seconds: float, fps: float, minimum: int = 0) -> int:
    """``seconds`` as a whole number of frames at ``fps`` (nearest, at least ``minimum``)."""
    return max(int(minimum), round(float(seconds) * float(fps)))


class FramesOf:
    """A read-only attribute: a config's ``seconds`` field in frames at the config's ``fps``.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     fps: float = 25.0
    ...     lost_seconds: float = 1.2
    ...     lost_frames = FramesOf("lost_seconds")
    >>> Cfg().lost_frames, Cfg(fps=50.0).lost_frames
    (30, 60)
    """

    def __init__(self, seconds_field: str, minimum: int = 0) -> None:
        self.field, self.minimum = seconds_field, minimum
        at_least = f" (at least {minimum})" if minimum else ""
        self.__doc__ = f"``{seconds_field}`` in frames at ``fps``{at_least}."

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> FramesOf: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> int: ...

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return seconds_to_frames(getattr(obj, self.field), obj.fps, self.minimum)
