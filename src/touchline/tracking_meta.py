"""The typed metadata of a tracks table: :class:`TrackingMeta`, what ``Tracks.meta`` holds.

Every importer of :mod:`touchline.io` (LastRow, the kloppy providers, CDF) fills the same
fields, so analytics reads one layout whatever the source. On disk (Parquet metadata, the CSV
sidecar) it is the JSON of :meth:`TrackingMeta.to_dict` (integer keys written as strings):

=====================  ============================================================================
key                    value
=====================  ============================================================================
``source``             where the data came from: ``"lastrow"``, ``"cdf"``, the kloppy provider
                       (``"skillcorner"``, ``"tracab"``, ...) or the video a pipeline tracked
``files``              names of the files read (base names), possibly empty
``match_id``           the provider's match id, or ``None``
``time_origin``        ISO 8601 UTC instant of ``time == 0`` (``"2019-11-09T17:30:00Z"``), or
                       ``None`` when the source has no wall-clock time
``teams``              ``{"0": team, "1": team}``; a team is ``{"name", "provider_id", "ground",
                       "color"}`` with ``ground`` ``"home"``, ``"away"`` or ``None``
``players``            ``{"<track_id>": {"name", "jersey", "team", "provider_id", "position"}}``
                       for every person track (not the ball); ``position`` is a kloppy
                       ``PositionType`` name (``"Goalkeeper"``, ``"LeftBack"``) or ``None``
``periods``            ``[{"id", "start_time", "end_time", "start_frame", "end_frame"}]``: times
                       in seconds on the ``time`` column's clock, frames the first and last frame
                       of the period present in the table (``None`` when it has none)
``attack_direction``   ``{"<period id>": "right" | "left" | None}``: which way team 0 attacks in
                       that period in touchline coordinates; ``"right"`` is towards ``x = length``
=====================  ============================================================================

Any other key (``"tool"``, ``"seed"``, ...) is kept in :attr:`TrackingMeta.extra`. A table
with no more than a ``source`` and extras (what the video pipeline writes) is stored as just
those keys; otherwise all the keys above are written.

>>> meta = TrackingMeta.from_dict({"source": "clip.mp4", "attack_direction": {"1": "left"}})
>>> meta.attack_direction[1] is AttackDirection.LEFT, meta.attack_direction[1].sign
(True, -1)
>>> TrackingMeta.from_dict({"source": "clip.mp4", "tool": "x"}).to_dict()
{'source': 'clip.mp4', 'tool': 'x'}
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from touchline.errors import DataError

__all__ = [
    "META_KEYS",
    "AttackDirection",
    "PeriodInfo",
    "PlayerInfo",
    "TeamInfo",
    "TrackingMeta",
]

META_KEYS: tuple[str, ...] = (
    "source",
    "files",
    "match_id",
    "time_origin",
    "teams",
    "players",
    "periods",
    "attack_direction",
)
"""The keys every importer writes into ``Tracks.meta``, in order."""

_GROUNDS = ("home", "away")
_ALIASES = {"left_to_right": "right", "right_to_left": "left", "1": "right", "-1": "left"}


class AttackDirection(StrEnum):
    """Which way team 0 attacks: ``RIGHT`` towards ``x = length``, ``LEFT`` towards ``x = 0``.

    Also parses any case, ``"left_to_right"``/``"right_to_left"`` and ``"1"``/``"-1"``:

    >>> AttackDirection("Left_To_Right"), AttackDirection("-1").sign
    (<AttackDirection.RIGHT: 'right'>, -1)
    """

    RIGHT = "right"
    LEFT = "left"

    @classmethod
    def _missing_(cls, value: object) -> AttackDirection | None:
        key = str(value).lower()
        name = key if key in ("right", "left") else _ALIASES.get(key)
        return None if name is None else cls(name)

    @property
    def sign(self) -> int:
        """+1 for ``RIGHT``, -1 for ``LEFT`` (the sign of team 0's attacking x)."""
        return 1 if self is AttackDirection.RIGHT else -1


@dataclass(frozen=True)
class TeamInfo:
    """One team: its display name, the provider's id, home/away, and a colour if known."""

    name: str
    provider_id: str | None = None
    ground: Literal["home", "away"] | None = None
    color: str | None = None


@dataclass(frozen=True)
class PlayerInfo:
    """One person track: team (0, 1, or -1 for referees), name, shirt number, provider id."""

    team: int
    name: str | None = None
    jersey: int | None = None
    provider_id: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class PeriodInfo:
    """One match period: id (1 first half, 2 second half, 3-4 extra time, 5 shootout),
    start/end in seconds on the table's ``time`` clock, first/last frame present."""

    id: int
    start_time: float | None = None
    end_time: float | None = None
    start_frame: int | None = None
    end_frame: int | None = None


@dataclass(frozen=True)
class TrackingMeta:
    """The metadata of a tracks table (see the module doc); shared, so do not modify it in
    place (use :func:`dataclasses.replace`).

    ``extra`` holds the other keys (JSON values, normalised by a JSON round trip: no NaN).

    >>> meta = TrackingMeta(source="lastrow", teams={0: TeamInfo("attack")},
    ...     players={1: PlayerInfo(team=0, jersey=9)}, periods=(PeriodInfo(1, 0.0, 9.7, 0, 194),),
    ...     attack_direction={1: AttackDirection.LEFT})
    >>> d = meta.to_dict()
    >>> d["players"]["1"]["jersey"], d["attack_direction"]
    (9, {'1': 'left'})
    >>> TrackingMeta.from_dict(d) == meta
    True
    """

    source: str | None = None
    files: tuple[str, ...] = ()
    match_id: str | None = None
    time_origin: str | None = None
    teams: dict[int, TeamInfo] = field(default_factory=dict)
    players: dict[int, PlayerInfo] = field(default_factory=dict)
    periods: tuple[PeriodInfo, ...] = ()
    attack_direction: dict[int, AttackDirection | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        directions = {
            int(k): _direction(v, f"TrackingMeta.attack_direction[{k!r}]")
            for k, v in self.attack_direction.items()
        }
        object.__setattr__(self, "attack_direction", directions)
        object.__setattr__(self, "extra", _extra(self.extra, "Tracks.meta"))

    @classmethod
    def of(cls, meta: TrackingMeta | Mapping[str, Any] | None) -> TrackingMeta:
        """``meta`` itself, parsed from a dict (:meth:`from_dict`), or empty for ``None``.

        >>> TrackingMeta.of(None) == TrackingMeta()
        True
        """
        if isinstance(meta, TrackingMeta):
            return meta
        return cls() if meta is None else cls.from_dict(meta)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in files (integer keys become strings; see the module doc)."""
        full = {
            "source": self.source,
            "files": list(self.files),
            "match_id": self.match_id,
            "time_origin": self.time_origin,
            "teams": {str(k): asdict(t) for k, t in sorted(self.teams.items())},
            "players": {
                str(k): {  # not asdict: the file's key order differs from the fields'
                    "name": p.name,
                    "jersey": p.jersey,
                    "team": p.team,
                    "provider_id": p.provider_id,
                    "position": p.position,
                }
                for k, p in sorted(self.players.items())
            },
            "periods": [asdict(p) for p in self.periods],
            "attack_direction": {
                str(k): None if v is None else v.value
                for k, v in sorted(self.attack_direction.items())
            },
        }
        if all(full[k] in (None, [], {}) for k in META_KEYS[1:]):  # only a source: keep it short
            full = {} if self.source is None else {"source": self.source}
        out: dict[str, Any] = full | json.loads(json.dumps(self.extra))
        return out

    @classmethod
    def from_dict(cls, meta: Mapping[str, Any], *, where: str = "Tracks.meta") -> TrackingMeta:
        """Parse the JSON form; absent keys take their defaults, others go to ``extra``.

        Raises:
            DataError: a key holds a value of the wrong kind (the key is named).

        >>> TrackingMeta.from_dict({"players": {"7": {"team": 2}}})
        Traceback (most recent call last):
        ...
        touchline.errors.DataError: Tracks.meta['players']['7']['team']: expected -1, 0 or 1, got 2
        """
        if not isinstance(meta, Mapping):
            raise DataError(f"{where}: expected a dict, got {type(meta).__name__}")
        if not all(isinstance(k, str) for k in meta):
            raise DataError(f"{where}: keys must be strings")
        teams = {
            _int_key(k, f"{where}['teams']"): _team(v, f"{where}['teams'][{k!r}]")
            for k, v in _mapping(meta.get("teams"), f"{where}['teams']").items()
        }
        players = {
            _int_key(k, f"{where}['players']"): _player(v, f"{where}['players'][{k!r}]")
            for k, v in _mapping(meta.get("players"), f"{where}['players']").items()
        }
        raw_periods = meta.get("periods") or []
        if not isinstance(raw_periods, Sequence) or isinstance(raw_periods, str):
            raise DataError(f"{where}['periods']: expected a list, got {raw_periods!r}")
        periods = tuple(_period(p, f"{where}['periods'][{i}]") for i, p in enumerate(raw_periods))
        direction = {
            _int_key(k, f"{where}['attack_direction']"): _direction(
                v, f"{where}['attack_direction'][{k!r}]"
            )
            for k, v in _mapping(
                meta.get("attack_direction"), f"{where}['attack_direction']"
            ).items()
        }
        files = meta.get("files") or []
        if isinstance(files, str) or not isinstance(files, Sequence):
            raise DataError(f"{where}['files']: expected a list of names, got {files!r}")
        return cls(
            source=_opt_str(meta.get("source")),
            files=tuple(str(f) for f in files),
            match_id=_opt_str(meta.get("match_id")),
            time_origin=_opt_str(meta.get("time_origin")),
            teams=teams,
            players=players,
            periods=periods,
            attack_direction=direction,
            extra=_extra({k: v for k, v in meta.items() if k not in META_KEYS}, where),
        )

    def period(self, period_id: int) -> PeriodInfo | None:
        """The period with this id, or ``None``."""
        return next((p for p in self.periods if p.id == period_id), None)


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------


def _extra(value: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The extra keys, normalised by a JSON round trip (tuples become lists; no NaN)."""
    if not all(isinstance(k, str) for k in value):
        raise DataError(f"{where}: keys must be strings")
    if clash := sorted(set(value) & set(META_KEYS)):
        raise DataError(f"{where}: extra keys {clash} are fields of TrackingMeta")
    try:
        out: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as e:
        raise DataError(f"{where}: not JSON-serialisable without NaN ({e})") from None
    return out


def _mapping(value: Any, where: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DataError(f"{where}: expected a dict, got {type(value).__name__}")
    return value


def _int_key(key: Any, where: str) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise DataError(f"{where}: key {key!r} is not an integer") from None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not _number(value) or not float(value).is_integer():
        raise DataError(f"{where}: expected an integer or null, got {value!r}")
    return int(value)


def _opt_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if not _number(value) or not math.isfinite(value):
        raise DataError(f"{where}: expected a finite number or null, got {value!r}")
    return float(value)


def _team(value: Any, where: str) -> TeamInfo:
    d = _mapping(value, where)
    ground = d.get("ground")
    if ground is not None and ground not in _GROUNDS:
        raise DataError(f"{where}['ground']: expected 'home', 'away' or null, got {ground!r}")
    return TeamInfo(
        name=str(d.get("name") or ""),
        provider_id=_opt_str(d.get("provider_id")),
        ground=ground,
        color=_opt_str(d.get("color")),
    )


def _player(value: Any, where: str) -> PlayerInfo:
    d = _mapping(value, where)
    team = _opt_int(d.get("team", -1), f"{where}['team']")
    if team not in (-1, 0, 1):
        raise DataError(f"{where}['team']: expected -1, 0 or 1, got {team!r}")
    jersey = d.get("jersey")
    if isinstance(jersey, str) and jersey.strip().isdigit():  # "10" from some providers
        jersey = int(jersey)
    return PlayerInfo(
        team=team,
        name=_opt_str(d.get("name")),
        jersey=_opt_int(jersey, f"{where}['jersey']"),
        provider_id=_opt_str(d.get("provider_id")),
        position=_opt_str(d.get("position")),
    )


def _period(value: Any, where: str) -> PeriodInfo:
    d = _mapping(value, where)
    pid = _opt_int(d.get("id"), f"{where}['id']")
    if pid is None:
        raise DataError(f"{where}: a period needs an integer 'id'")
    return PeriodInfo(
        id=pid,
        start_time=_opt_float(d.get("start_time"), f"{where}['start_time']"),
        end_time=_opt_float(d.get("end_time"), f"{where}['end_time']"),
        start_frame=_opt_int(d.get("start_frame"), f"{where}['start_frame']"),
        end_frame=_opt_int(d.get("end_frame"), f"{where}['end_frame']"),
    )


def _direction(value: Any, where: str) -> AttackDirection | None:
    if value is None:
        return None
    try:
        return AttackDirection(value)
    except ValueError:
        raise DataError(f"{where}: expected 'right', 'left' or null, got {value!r}") from None
