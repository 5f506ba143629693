"""Typed job results that turn into JSON-ready data (the ``summary.json`` of a job).

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Size(JsonResult):
...     shape: tuple[int, int]
...     counts: dict[str, int]
>>> Size((3, 4), {"a": 1}).to_json()
{'shape': [3, 4], 'counts': {'a': 1}}
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

__all__ = ["JsonResult", "json_ready"]


def json_ready(obj: Any) -> Any:
    """``obj`` with dataclasses as dicts (field order) and tuples as lists, recursively."""
    if isinstance(obj, JsonResult):
        return obj.to_json()  # its own layout, when it has one
    if is_dataclass(obj) and not isinstance(obj, type):
        return _fields(obj)
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    return obj


class JsonResult:
    """Mixin of a result dataclass: :meth:`to_json` gives its fields as JSON-ready data."""

    def to_json(self) -> dict[str, Any]:
        """The fields as a dict (nested dataclasses as dicts, tuples as lists; a nested result
        in the layout of its own ``to_json``)."""
        return _fields(self)


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: json_ready(getattr(obj, f.name)) for f in fields(obj)}
