"""Class maps: fold one set of class names onto another.

On the command line a map is written as ``NAME=a,b,c`` items, read "``a``, ``b`` and ``c`` all
count as ``NAME``". Detectors take the inverse form, ``{"a": "NAME", ...}``.

Example:
    >>> parse_class_map(["player=person", "ball=sports ball"])
    {'player': ['person'], 'ball': ['sports ball']}
    >>> invert_class_map({"player": ["person", "man"], "ball": ["sports ball"]})
    {'person': 'player', 'man': 'player', 'sports ball': 'ball'}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from touchline.errors import DataError

__all__ = ["invert_class_map", "parse_class_map"]


def parse_class_map(items: Sequence[str]) -> dict[str, list[str]]:
    """Parse ``NAME=a,b,c`` strings into ``{NAME: [a, b, c]}`` (whitespace around names stripped).

    Raises:
        DataError: an item without ``=``, an empty name or member, or a ``NAME`` given twice.

    >>> parse_class_map(["player = player, goalkeeper"])
    {'player': ['player', 'goalkeeper']}
    >>> parse_class_map(["player"])
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: class map item 'player': expected NAME=a,b,c
    """
    if isinstance(items, str):
        items = [items]
    out: dict[str, list[str]] = {}
    for item in items:
        if not isinstance(item, str):
            raise DataError(f"class map item {item!r}: expected a string NAME=a,b,c")
        name, sep, rest = item.partition("=")
        name = name.strip()
        members = [m.strip() for m in rest.split(",")]
        if not sep:
            raise DataError(f"class map item {item!r}: expected NAME=a,b,c")
        if not name:
            raise DataError(f"class map item {item!r}: the NAME before '=' is empty")
        if not all(members):
            raise DataError(f"class map item {item!r}: empty class name in the list after '='")
        if name in out:
            raise DataError(f"class map item {item!r}: {name!r} is mapped twice")
        out[name] = members
    return out


def invert_class_map(folds: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """``{NAME: [a, b]}`` to ``{a: NAME, b: NAME}``, the form detectors take.

    Raises:
        DataError: a member folded into two different names.

    >>> invert_class_map({"player": ["person"], "ball": ["person"]})
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: class map: 'person' is mapped to both 'player' and 'ball'
    """
    out: dict[str, str] = {}
    for name, members in folds.items():
        for m in members:
            if out.get(m, name) != name:
                raise DataError(f"class map: {m!r} is mapped to both {out[m]!r} and {name!r}")
            out[m] = name
    return out
