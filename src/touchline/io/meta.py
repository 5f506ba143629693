"""The tracking metadata every importer of :mod:`touchline.io` writes into ``Tracks.meta``.

Every importer (LastRow, the kloppy providers, CDF) fills the same keys, so analytics reads one
layout whatever the source. :class:`TrackingMeta` is the typed view of it; ``Tracks.meta`` holds
its :meth:`~TrackingMeta.to_dict` (JSON: integer keys are written as strings).

=====================  ============================================================================
key                    value
=====================  ============================================================================
``source``             where the data came from: ``"lastrow"``, ``"cdf"`` or the kloppy provider
                       (``"skillcorner"``, ``"tracab"``, ``"metrica"``, ``"pff"``, ...)
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

Conventions of the tables the importers build: track 0 is the ball (class ``"ball"``, team -1);
team 0 is the home team (the attacking side for LastRow) and team 1 the away (defending) side;
``pitch_x``/``pitch_y`` are touchline metres; image columns are NaN. Two extra columns follow the
canonical ones: ``period`` (int8, the match period) and ``pitch_z`` (float32 metres, the ball's
height; NaN for people and when unknown).

>>> meta = TrackingMeta(source="lastrow", teams={0: TeamInfo("attack"), 1: TeamInfo("defense")},
...     players={1: PlayerInfo(team=0, jersey=9)}, periods=(PeriodInfo(1, 0.0, 9.7, 0, 194),),
...     attack_direction={1: "left"})
>>> d = meta.to_dict()
>>> d["players"]["1"]["jersey"], d["attack_direction"]
(9, {'1': 'left'})
>>> TrackingMeta.from_dict(d) == meta
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from touchline.errors import DataError

__all__ = [
    "DIRECTIONS",
    "META_KEYS",
    "PeriodInfo",
    "PlayerInfo",
    "TeamInfo",
    "TrackingMeta",
    "infer_attack_direction",
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

Direction = Literal["right", "left"]
DIRECTIONS: tuple[str, ...] = ("right", "left")
"""Values of ``attack_direction``: ``"right"`` is towards ``x = length`` (touchline metres)."""

_GROUNDS = ("home", "away")


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
    """The typed form of the ``Tracks.meta`` written by the importers (see the module doc)."""

    source: str
    files: tuple[str, ...] = ()
    match_id: str | None = None
    time_origin: str | None = None
    teams: dict[int, TeamInfo] = field(default_factory=dict)
    players: dict[int, PlayerInfo] = field(default_factory=dict)
    periods: tuple[PeriodInfo, ...] = ()
    attack_direction: dict[int, Direction | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in ``Tracks.meta`` (integer keys become strings)."""
        return {
            "source": self.source,
            "files": list(self.files),
            "match_id": self.match_id,
            "time_origin": self.time_origin,
            "teams": {
                str(k): {
                    "name": t.name,
                    "provider_id": t.provider_id,
                    "ground": t.ground,
                    "color": t.color,
                }
                for k, t in sorted(self.teams.items())
            },
            "players": {
                str(k): {
                    "name": p.name,
                    "jersey": p.jersey,
                    "team": p.team,
                    "provider_id": p.provider_id,
                    "position": p.position,
                }
                for k, p in sorted(self.players.items())
            },
            "periods": [
                {
                    "id": p.id,
                    "start_time": p.start_time,
                    "end_time": p.end_time,
                    "start_frame": p.start_frame,
                    "end_frame": p.end_frame,
                }
                for p in self.periods
            ],
            "attack_direction": {str(k): v for k, v in sorted(self.attack_direction.items())},
        }

    @classmethod
    def from_dict(cls, meta: Mapping[str, Any], *, where: str = "Tracks.meta") -> TrackingMeta:
        """Parse ``Tracks.meta``; absent keys take their defaults, other keys are ignored.

        Raises:
            DataError: a key holds a value of the wrong kind (the key is named).
        """
        if not isinstance(meta, Mapping):
            raise DataError(f"{where}: expected a dict, got {type(meta).__name__}")
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
        direction: dict[int, Direction | None] = {}
        for k, v in _mapping(meta.get("attack_direction"), f"{where}['attack_direction']").items():
            direction[_int_key(k, f"{where}['attack_direction']")] = _direction(
                v, f"{where}['attack_direction'][{k!r}]"
            )
        files = meta.get("files") or []
        if isinstance(files, str) or not isinstance(files, Sequence):
            raise DataError(f"{where}['files']: expected a list of names, got {files!r}")
        return cls(
            source=str(meta.get("source") or "unknown"),
            files=tuple(str(f) for f in files),
            match_id=_opt_str(meta.get("match_id")),
            time_origin=_opt_str(meta.get("time_origin")),
            teams=teams,
            players=players,
            periods=periods,
            attack_direction=direction,
        )

    def period(self, period_id: int) -> PeriodInfo | None:
        """The period with this id, or ``None``."""
        return next((p for p in self.periods if p.id == period_id), None)


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------


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


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DataError(f"{where}: expected an integer or null, got {value!r}")
    if not float(value).is_integer():
        raise DataError(f"{where}: expected an integer or null, got {value!r}")
    return int(value)


def _opt_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DataError(f"{where}: expected a number or null, got {value!r}")
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
    return PlayerInfo(
        team=team,
        name=_opt_str(d.get("name")),
        jersey=_opt_int(d.get("jersey"), f"{where}['jersey']"),
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


def _direction(value: Any, where: str) -> Direction | None:
    if value is None:
        return None
    text = str(value).lower()
    if text == "right":
        return "right"
    if text == "left":
        return "left"
    raise DataError(f"{where}: expected 'right', 'left' or null, got {value!r}")


# --------------------------------------------------------------------------------------------
# Attack direction from positions
# --------------------------------------------------------------------------------------------


def infer_attack_direction(df: pd.DataFrame, pitch_length: float) -> dict[int, Direction | None]:
    """Which way team 0 attacks in each period, from where the teams stand.

    A team defends the goal its goalkeeper stands nearer to on average; without goalkeepers of
    both teams, the team whose outfield players stand on average nearer the left goal defends
    it. Periods come from the ``period`` column (all period 1 without it).

    Args:
        df: a tracks table (``team``, ``class_name``, ``pitch_x``; ``period`` optional).
        pitch_length: metres.

    Returns:
        ``{period: "right" | "left" | None}`` (``None`` when the period has no team rows).

    >>> df = pd.DataFrame({"team": [0, 1, 0, 1], "class_name": "player",
    ...     "pitch_x": [30.0, 70.0, 80.0, 20.0], "period": [1, 1, 2, 2]})
    >>> infer_attack_direction(df, 105.0)
    {1: 'right', 2: 'left'}
    """
    period = (
        df["period"].to_numpy(np.int64) if "period" in df.columns else np.ones(len(df), np.int64)
    )
    team = df["team"].to_numpy(np.int64)
    x = df["pitch_x"].to_numpy(np.float64)
    gk = (df["class_name"].astype(str) == "goalkeeper").to_numpy()
    finite = np.isfinite(x)
    out: dict[int, Direction | None] = {}
    for p in (int(v) for v in np.unique(period)):
        rows = (period == p) & finite
        value: Direction | None = None
        for subset in (gk, ~gk):
            means = [x[rows & subset & (team == k)] for k in (0, 1)]
            if all(m.size for m in means):
                m0, m1 = (float(m.mean()) for m in means)
                if not math.isclose(m0, m1):
                    value = "right" if m0 < m1 else "left"
                    break
        if value is None:  # one team only: the side of the halfway line it stands on
            for k in (0, 1):
                mine = x[rows & (team == k)]
                if mine.size and not math.isclose(float(mine.mean()), pitch_length / 2):
                    on_left = float(mine.mean()) < pitch_length / 2
                    value = "right" if on_left == (k == 0) else "left"
                    break
        out[p] = value
    return out
