"""Tracking data of every provider kloppy reads, to and from the tracks table.

kloppy (https://kloppy.pysport.org) parses SkillCorner, TRACAB, Metrica (CSV and EPTS), Sportec,
PFF, Signality, Hawk-Eye, Second Spectrum and Stats Perform tracking into one domain model
(``TrackingDataset`` of ``Frame`` s with ``PlayerData`` and ``Point`` s, plus ``Metadata`` with
``Team`` s, ``Player`` s, periods, a coordinate system and an orientation). This module maps that
model to the tracks table and back:

* :func:`load_tracking` calls the provider's kloppy loader (asking for the provider's own
  coordinates, which spares kloppy a per-point conversion) and then :func:`from_kloppy`;
* :func:`from_kloppy` converts any ``TrackingDataset``: coordinates go through kloppy's metric
  model (metres about the pitch centre, from the dataset's coordinate system and pitch size)
  and then :func:`touchline.pitch.convert` to touchline metres, vectorised; a coordinate system
  whose mapping to metres is not affine (kloppy's zone-wise stretch of standardized pitches) is
  first transformed by kloppy itself;
* :func:`to_kloppy` builds a ``TrackingDataset`` in metric, centre-origin, y-up coordinates
  (the CDF convention) from a tracks table.

Track ids are stable: the ball is 0, then the home team's players in kloppy's metadata order
(then any the frames hold that the metadata does not list, such as SkillCorner's anonymous
tracks), then the away team's (team 0 = home, 1 = away), then referees (team -1, class
``"referee"``). Goalkeepers come from the players' starting
position or position history. ``time`` is the period's start offset plus the frame's timestamp;
``frame`` is kloppy's ``frame_id``; ``attack_direction`` follows the dataset's orientation
(inferred from where the teams stand when kloppy does not know it).
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from touchline.errors import DataError, DependencyError
from touchline.io._common import BALL_TRACK_ID, build_tracks, period_of_rows, utc_iso
from touchline.io.meta import infer_attack_direction
from touchline.pitch import Pitch, convert
from touchline.tracking_meta import AttackDirection, PeriodInfo, PlayerInfo, TeamInfo, TrackingMeta
from touchline.tracks import Tracks

__all__ = ["KLOPPY_PROVIDERS", "from_kloppy", "load_tracking", "to_kloppy"]


@dataclass(frozen=True)
class _Loader:
    """How to call one provider's kloppy loader."""

    module: str
    function: str
    files: tuple[str, ...]
    native: str | None  # kloppy coordinate system of the raw data (no conversion while loading)


KLOPPY_PROVIDERS: dict[str, _Loader] = {
    "skillcorner": _Loader("kloppy.skillcorner", "load", ("meta_data", "raw_data"), "skillcorner"),
    "tracab": _Loader("kloppy.tracab", "load", ("meta_data", "raw_data"), "tracab"),
    "metrica": _Loader("kloppy.metrica", "load_tracking_csv", ("home_data", "away_data"), None),
    "metrica_csv": _Loader("kloppy.metrica", "load_tracking_csv", ("home_data", "away_data"), None),
    "metrica_epts": _Loader(
        "kloppy.metrica", "load_tracking_epts", ("meta_data", "raw_data"), None
    ),
    "sportec": _Loader("kloppy.sportec", "load_tracking", ("meta_data", "raw_data"), "sportec"),
    "pff": _Loader(
        "kloppy.pff", "load_tracking", ("meta_data", "roster_meta_data", "raw_data"), "pff"
    ),
    "signality": _Loader(
        "kloppy.signality",
        "load",
        ("meta_data", "raw_data_feeds", "venue_information"),
        "signality",
    ),
    "hawkeye": _Loader(
        "kloppy.hawkeye", "load", ("ball_feeds", "player_centroid_feeds", "meta_data"), "hawkeye"
    ),
    "secondspectrum": _Loader(
        "kloppy.secondspectrum",
        "load",
        ("meta_data", "raw_data", "additional_meta_data"),
        "secondspectrum",
    ),
    "statsperform": _Loader(
        "kloppy.statsperform", "load_tracking", ("ma1_data", "ma25_data"), "sportvu"
    ),
}
"""Provider name -> kloppy module, loader function and its file arguments."""

_ALIASES = {"second_spectrum": "secondspectrum", "stats_perform": "statsperform", "dfl": "sportec"}

_R, _L = AttackDirection.RIGHT, AttackDirection.LEFT
_PERIOD_DIRECTIONS: dict[str, dict[int, AttackDirection]] = {
    # kloppy orientation -> which way the home team (team 0) attacks in each period.
    "HOME_AWAY": {1: _R, 2: _L, 3: _R, 4: _L},
    "AWAY_HOME": {1: _L, 2: _R, 3: _L, 4: _R},
    "STATIC_HOME_AWAY": {1: _R, 2: _R, 3: _R, 4: _R},
    "STATIC_AWAY_HOME": {1: _L, 2: _L, 3: _L, 4: _L},
}


def _kloppy(module: str = "kloppy") -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if getattr(e, "name", None) and not str(e.name).startswith("kloppy"):
            raise
        raise DependencyError("kloppy", None) from e


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_tracking(provider: str, **files_and_options: Any) -> Tracks:
    """Load a provider's tracking files with kloppy and convert them (see :func:`from_kloppy`).

    Args:
        provider: one of :data:`KLOPPY_PROVIDERS` (``"skillcorner"``, ``"tracab"``,
            ``"metrica"`` (CSV), ``"metrica_epts"``, ``"sportec"``, ``"pff"``, ``"signality"``,
            ``"hawkeye"``, ``"secondspectrum"``, ``"statsperform"``).
        **files_and_options: the keyword arguments of the provider's kloppy loader, e.g.
            ``meta_data=..., raw_data=..., limit=100`` for SkillCorner, TRACAB or Sportec, and
            optionally ``pitch=(length, width)`` (passed to :func:`from_kloppy`). Without
            ``coordinates``, the data is read in the provider's own coordinate system.

    Raises:
        DataError: unknown provider, a file that does not exist, unknown or missing arguments,
            or kloppy failing to parse the files (the message names them and kloppy's error).

    >>> import kloppy, pathlib
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> t = load_tracking("metrica", home_data=files / "metrica_home.csv",
    ...                   away_data=files / "metrica_away.csv")
    >>> t.meta.source, len(t.frames), t.meta.to_dict()["attack_direction"]
    ('metrica', 6, {'1': 'right', '2': 'left'})
    >>> load_tracking("nosuch", raw_data="x")
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: unknown tracking provider 'nosuch'; known: [...]
    """
    key = _ALIASES.get(str(provider).strip().lower(), str(provider).strip().lower())
    loader = KLOPPY_PROVIDERS.get(key)
    if loader is None:
        raise DataError(
            f"unknown tracking provider {provider!r}; known: {sorted(KLOPPY_PROVIDERS)}"
        )
    options = dict(files_and_options)
    pitch = options.pop("pitch", None)
    files = _check_files(key, loader, options)
    function: Callable[..., Any] = getattr(_kloppy(loader.module), loader.function)
    params = inspect.signature(function).parameters
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise DataError(
            f"{key}: unknown arguments {unknown} for kloppy {loader.module}.{loader.function}; "
            f"it takes {list(params)} (and touchline's pitch=)"
        )
    missing = [
        name
        for name, p in params.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and name not in options
    ]
    if missing:
        raise DataError(f"{key}: missing arguments {missing} (the provider's files)")
    if options.get("coordinates") is None and loader.native is not None:
        native = str(options.get("tracking_system") or loader.native)
        options["coordinates"] = native
    where = ", ".join(str(f) for f in files) or key
    try:
        dataset = function(**options)
    except DataError:
        raise
    except Exception as e:  # kloppy and its parsers raise many kinds; report one line
        message = " ".join(str(e).split())[:300]
        raise DataError(
            f"{where}: kloppy {loader.module}.{loader.function} cannot read the {key} tracking "
            f"data ({type(e).__name__}: {message})"
        ) from None
    return _from_kloppy(dataset, pitch=pitch, files=tuple(Path(f).name for f in files))


def _check_files(provider: str, loader: _Loader, options: Mapping[str, Any]) -> list[Path]:
    """The file arguments given as paths; DataError for one that does not exist."""
    found: list[Path] = []
    for name in loader.files:
        value = options.get(name)
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, str | os.PathLike):
                p = Path(v)
                if not p.exists():
                    raise DataError(f"{p}: no such file ({provider} {name})")
                found.append(p)
    return found


# --------------------------------------------------------------------------------------------
# kloppy -> tracks
# --------------------------------------------------------------------------------------------


def from_kloppy(dataset: Any, *, pitch: tuple[float, float] | None = None) -> Tracks:
    """Convert a kloppy ``TrackingDataset`` (any provider) to a tracks table.

    Args:
        dataset: the kloppy tracking dataset.
        pitch: ``(length, width)`` in metres; default the dataset's pitch size (105 x 68 when
            it has none). Normalised coordinates are scaled to it; metric ones keep their metres
            and are only re-centred on it.

    Returns:
        Tracks in touchline metres with ``fps`` the dataset's frame rate, the extra columns
        ``period`` and ``pitch_z`` (the ball height in metres) and the metadata of
        :mod:`touchline.tracking_meta`. Objects without coordinates in a frame get no row.

    Raises:
        DataError: not a tracking dataset, a pitch size that cannot be known, an orientation
            kloppy cannot resolve.

    >>> import kloppy, pathlib
    >>> from kloppy import metrica
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> ds = metrica.load_tracking_csv(home_data=files / "metrica_home.csv",
    ...                                away_data=files / "metrica_away.csv")
    >>> t = from_kloppy(ds)
    >>> t.df[["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]].head(3)
       frame  track_id class_name  team  pitch_x  pitch_y
    0      1         0       ball    -1  47.7456  41.6779
    1      1         1     player     0   0.0861  35.1982
    2      1         2     player     0  34.2804  23.5810
    >>> t.meta.teams[0].name, t.meta.players[1].jersey
    ('Home', 11)
    """
    return _from_kloppy(dataset, pitch=pitch, files=())


@dataclass(frozen=True)
class _MetricMap:
    """Affine map from a kloppy coordinate system to metres about the centre, y up."""

    length: float
    width: float
    x_mid: float
    y_mid: float
    x_scale: float  # metres per unit along x
    y_scale: float  # metres per unit along y, signed so that +y_metres is up
    z_scale: float  # metres per unit of the ball's height

    def to_touchline(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        centred = np.stack([(x - self.x_mid) * self.x_scale, (y - self.y_mid) * self.y_scale], 1)
        return convert(centred, "cdf", "touchline", pitch=Pitch.of_size(self.length, self.width))


def _from_kloppy(
    dataset: Any, *, pitch: tuple[float, float] | None, files: tuple[str, ...]
) -> Tracks:
    kd = _kloppy("kloppy.domain")
    if not isinstance(dataset, kd.TrackingDataset):
        raise DataError(
            f"from_kloppy: expected a kloppy TrackingDataset, got {type(dataset).__name__}"
        )
    md = dataset.metadata
    if not md.periods:
        raise DataError("from_kloppy: the dataset's metadata has no periods")
    if md.orientation in (kd.Orientation.BALL_OWNING_TEAM, kd.Orientation.ACTION_EXECUTING_TEAM):
        dataset = _kloppy_transform(dataset, to_orientation=kd.Orientation.HOME_AWAY)
        md = dataset.metadata
    mapping = _metric_map(md.coordinate_system, pitch)
    if mapping is None:  # not affine: let kloppy stretch it onto a metric pitch first
        length, width = _pitch_size(md.coordinate_system, pitch)
        dataset = _kloppy_transform(
            dataset, to_coordinate_system=_metric_system(kd, length, width, centre=False)
        )
        md = dataset.metadata
        mapping = _metric_map(md.coordinate_system, (length, width))
        assert mapping is not None

    # Everyone in the metadata gets a track id: home players first, then away, then the rest.
    teams = _team_order(kd, md.teams)
    people: list[Any] = []
    person_team: list[int] = []
    for k, team in teams:
        for player in team.players:
            people.append(player)
            person_team.append(k)
    index_by_object = {id(p): i for i, p in enumerate(people)}
    index_by_id = {str(p.player_id): i for i, p in enumerate(people)}

    frames = dataset.records
    n = len(frames)
    frame_id = np.empty(n, np.int64)
    period_id = np.empty(n, np.int64)
    stamp = np.empty(n, np.float64)
    ball = np.full((n, 3), np.nan)
    rows_frame: list[int] = []
    rows_person: list[int] = []
    rows_x: list[float] = []
    rows_y: list[float] = []
    for i, f in enumerate(frames):
        frame_id[i] = f.frame_id
        period_id[i] = f.period.id
        stamp[i] = f.timestamp.total_seconds()
        b = f.ball_coordinates
        if b is not None:
            ball[i, 0], ball[i, 1] = b.x, b.y
            z = getattr(b, "z", None)
            if z is not None:
                ball[i, 2] = z
        for player, data in f.players_data.items():
            c = data.coordinates
            if c is None:
                continue
            known = index_by_object.get(id(player))
            if known is None:
                known = index_by_id.get(str(player.player_id))
                if known is None:  # a player the metadata does not list
                    known = len(people)
                    people.append(player)
                    person_team.append(_ground_team(kd, getattr(player.team, "ground", None)))
                    index_by_id[str(player.player_id)] = known
                index_by_object[id(player)] = known
            rows_frame.append(i)
            rows_person.append(known)
            rows_x.append(c.x)
            rows_y.append(c.y)

    if len(np.unique(frame_id)) != n:
        raise DataError(
            "from_kloppy: the dataset's frame ids are not unique across periods "
            f"({n - len(np.unique(frame_id))} repeats); the tracks table needs unique frames"
        )
    offsets, ends, time_origin = _period_offsets(md)
    time = stamp + np.array([offsets.get(int(p), 0.0) for p in period_id])

    # People rows, then ball rows, both dropped where a coordinate is missing.
    fi = np.asarray(rows_frame, np.int64)
    pi = np.asarray(rows_person, np.int64)
    pxy = mapping.to_touchline(np.asarray(rows_x, np.float64), np.asarray(rows_y, np.float64))
    bxy = mapping.to_touchline(ball[:, 0], ball[:, 1])
    keep_p = np.isfinite(pxy).all(axis=1)
    keep_b = np.isfinite(bxy).all(axis=1)
    fi, pi, pxy = fi[keep_p], pi[keep_p], pxy[keep_p]
    bi = np.flatnonzero(keep_b)

    # Track ids: home players first, then away, then people of no team (referees), each in
    # metadata order and then players found only in the frames: ids are contiguous per team.
    rank = sorted(range(len(people)), key=lambda i: ((0, 1, -1).index(person_team[i]), i))
    new_index = np.empty(len(people), np.int64)
    new_index[rank] = np.arange(len(people))
    people = [people[i] for i in rank]
    person_team = [person_team[i] for i in rank]
    pi = new_index[pi]

    person_class = np.array(
        [_person_class(kd, p, t) for p, t in zip(people, person_team, strict=True)], dtype=object
    )
    team_arr = np.asarray(person_team, np.int64)
    n_b = bi.size
    all_frames = np.concatenate([fi, bi])  # the frames that have rows in the table
    row_frame_id, row_period = frame_id[all_frames], period_id[all_frames]
    periods = tuple(
        PeriodInfo(
            id=int(p.id),
            start_time=offsets.get(int(p.id)),
            end_time=ends.get(int(p.id)),
            start_frame=_frame_bound(row_frame_id, row_period, int(p.id), np.min),
            end_frame=_frame_bound(row_frame_id, row_period, int(p.id), np.max),
        )
        for p in md.periods
    )
    direction = _orientation_directions(md.orientation, [p.id for p in periods])
    if any(direction.get(p.id) is None for p in periods if p.id != 5):
        people_rows = pd.DataFrame(
            {
                "team": team_arr[pi],
                "class_name": person_class[pi],
                "pitch_x": pxy[:, 0],
                "period": period_id[fi],
            }
        )
        inferred = infer_attack_direction(people_rows, mapping.length)
        for p in periods:
            if direction.get(p.id) is None and p.id != 5:
                direction[p.id] = inferred.get(p.id)
    meta = TrackingMeta(
        source=str(getattr(md.provider, "value", md.provider) or "kloppy"),
        files=files,
        match_id=None if md.game_id is None else str(md.game_id),
        time_origin=time_origin,
        teams={
            k: TeamInfo(
                name=str(team.name),
                provider_id=str(team.team_id),
                ground="home" if k == 0 else "away",
            )
            for k, team in teams
            if k in (0, 1)
        },
        players={
            i + 1: _player_info(kd, p, t)
            for i, (p, t) in enumerate(zip(people, person_team, strict=True))
        },
        periods=periods,
        attack_direction=direction,
    )
    return build_tracks(
        frame=row_frame_id,
        time=time[all_frames],
        track_id=np.concatenate([pi + 1, np.full(n_b, BALL_TRACK_ID)]),
        class_name=np.concatenate([person_class[pi], np.full(n_b, "ball", dtype=object)]),
        team=np.concatenate([team_arr[pi], np.full(n_b, -1)]),
        pitch_x=np.concatenate([pxy[:, 0], bxy[bi, 0]]),
        pitch_y=np.concatenate([pxy[:, 1], bxy[bi, 1]]),
        period=row_period,
        pitch_z=np.concatenate([np.full(fi.size, np.nan), ball[bi, 2] * mapping.z_scale]),
        fps=float(md.frame_rate) if md.frame_rate else None,
        pitch_size=(mapping.length, mapping.width),
        meta=meta,
    )


def _kloppy_transform(dataset: Any, **kwargs: Any) -> Any:
    try:
        return dataset.transform(**kwargs)
    except Exception as e:
        message = " ".join(str(e).split())[:300]
        raise DataError(
            f"from_kloppy: kloppy cannot transform the dataset ({type(e).__name__}: {message})"
        ) from None


def _pitch_size(cs: Any, pitch: tuple[float, float] | None) -> tuple[float, float]:
    if pitch is not None:
        try:
            length, width = float(pitch[0]), float(pitch[1])
        except (TypeError, ValueError, IndexError):
            raise DataError(f"from_kloppy: pitch must be (length, width), got {pitch!r}") from None
        if not (length > 0 and width > 0):
            raise DataError(f"from_kloppy: pitch must be positive metres, got {pitch!r}")
        return length, width
    dims = cs.pitch_dimensions
    length = dims.pitch_length if dims.pitch_length else 105.0
    width = dims.pitch_width if dims.pitch_width else 68.0
    return float(length), float(width)


def _metric_map(cs: Any, pitch: tuple[float, float] | None) -> _MetricMap | None:
    """The affine map of a kloppy coordinate system to centred metres, or ``None`` when kloppy
    would stretch it zone by zone (then kloppy must transform the data itself)."""
    kd = _kloppy("kloppy.domain")
    dims = cs.pitch_dimensions
    length, width = _pitch_size(cs, pitch)
    own_length = float(dims.pitch_length or length)
    own_width = float(dims.pitch_width or width)
    normed = dims.unit == kd.Unit.NORMED
    unit = 1.0 if normed else float(kd.Unit.METERS.convert(dims.unit, 1.0))  # units per metre
    bounds = []
    for d, size in ((dims.x_dim, own_length), (dims.y_dim, own_width)):
        lo, hi = d.min, d.max
        if lo is None or hi is None:
            if normed:
                raise DataError(
                    "from_kloppy: the dataset's normalised coordinate system has no bounds"
                )
            centred = cs.origin == kd.Origin.CENTER
            lo, hi = (-size * unit / 2, size * unit / 2) if centred else (0.0, size * unit)
        bounds.append((float(lo), float(hi)))
    (x0, x1), (y0, y1) = bounds
    if x1 == x0 or y1 == y0:
        raise DataError(f"from_kloppy: degenerate pitch bounds x {bounds[0]}, y {bounds[1]}")
    known = None not in (dims.x_dim.min, dims.x_dim.max, dims.y_dim.min, dims.y_dim.max)
    if known and not _is_affine(kd, dims, (x0, x1), (y0, y1), own_length, own_width):
        return None  # kloppy maps it zone by zone (a standardized pitch): not affine
    y_up = cs.vertical_orientation == kd.VerticalOrientation.BOTTOM_TO_TOP
    if normed:
        sx, sy = length / (x1 - x0), width / (y1 - y0)
    else:
        sx = sy = 1.0 / unit
    goal_height = getattr(dims, "goal_height", None)
    z_scale = 2.44 / float(goal_height) if goal_height else 1.0 / (1.0 if normed else unit)
    return _MetricMap(
        length=length,
        width=width,
        x_mid=(x0 + x1) / 2,
        y_mid=(y0 + y1) / 2,
        x_scale=sx,
        y_scale=sy if y_up else -sy,
        z_scale=z_scale,
    )


def _is_affine(
    kd: Any,
    dims: Any,
    xb: tuple[float, float],
    yb: tuple[float, float],
    length: float,
    width: float,
) -> bool:
    """Whether kloppy's zone-wise conversion of these dimensions to metres is affine."""
    for t in np.linspace(0.0, 1.0, 23):
        x = xb[0] + t * (xb[1] - xb[0])
        y = yb[0] + t * (yb[1] - yb[0])
        base = dims.to_metric_base(kd.Point(x=x, y=y), pitch_length=length, pitch_width=width)
        if not (
            math.isclose(base.x, t * length, abs_tol=1e-6)
            and math.isclose(base.y, t * width, abs_tol=1e-6)
        ):
            return False
    return True


def _metric_system(kd: Any, length: float, width: float, *, centre: bool) -> Any:
    """A kloppy metric coordinate system: centre origin and y up (CDF), or touchline's."""
    if centre:
        x_dim = kd.Dimension(-length / 2, length / 2)
        y_dim = kd.Dimension(-width / 2, width / 2)
        origin, vertical = kd.Origin.CENTER, kd.VerticalOrientation.BOTTOM_TO_TOP
    else:
        x_dim, y_dim = kd.Dimension(0, length), kd.Dimension(0, width)
        origin, vertical = kd.Origin.TOP_LEFT, kd.VerticalOrientation.TOP_TO_BOTTOM
    dims = kd.MetricPitchDimensions(
        x_dim=x_dim, y_dim=y_dim, pitch_length=length, pitch_width=width, standardized=False
    )
    return kd.CustomCoordinateSystem(
        origin=origin, vertical_orientation=vertical, pitch_dimensions=dims
    )


def _ground_team(kd: Any, ground: Any) -> int:
    if ground == kd.Ground.HOME:
        return 0
    if ground == kd.Ground.AWAY:
        return 1
    return -1


def _team_order(kd: Any, teams: list[Any]) -> list[tuple[int, Any]]:
    """``(team index, Team)``: home 0, away 1, referees -1; metadata order when grounds are
    missing or ambiguous."""
    ks = [_ground_team(kd, getattr(t, "ground", None)) for t in teams]
    players = [k for k in ks if k >= 0]
    if len(players) != len(set(players)) or (len(teams) == 2 and sorted(ks) != [0, 1]):
        ks = list(range(len(teams)))
    order = sorted(range(len(teams)), key=lambda i: (ks[i] < 0, ks[i]))
    return [(ks[i] if ks[i] in (0, 1) else -1, teams[i]) for i in order]


def _as_position(kd: Any, value: Any) -> Any:
    """A kloppy ``PositionType`` from one, or from its name, long name or code (some loaders
    store plain strings); ``None`` when it is none of these."""
    if isinstance(value, kd.PositionType) or value is None:
        return value
    text = str(value).strip().lower().replace("_", " ")
    for p in kd.PositionType:
        if text in (p.name.lower(), str(p.value[0]).lower(), str(p.value[1]).lower()):
            return p
    return None


def _is_goalkeeper(kd: Any, player: Any) -> bool:
    gk = kd.PositionType.Goalkeeper
    positions = [getattr(player, "starting_position", None)]
    items = getattr(getattr(player, "positions", None), "items", None)
    if items:
        positions.extend(items.values())
    found = (_as_position(kd, p) for p in positions)
    return any(p is not None and (p == gk or p.is_subtype_of(gk)) for p in found)


def _person_class(kd: Any, player: Any, team: int) -> str:
    if team < 0 and getattr(getattr(player, "team", None), "ground", None) == kd.Ground.REFEREE:
        return "referee"
    return "goalkeeper" if team >= 0 and _is_goalkeeper(kd, player) else "player"


def _player_info(kd: Any, player: Any, team: int) -> PlayerInfo:
    name = player.name or " ".join(s for s in (player.first_name, player.last_name) if s) or None
    jersey = player.jersey_no
    position = _as_position(kd, getattr(player, "starting_position", None))
    if _is_goalkeeper(kd, player):
        position = kd.PositionType.Goalkeeper
    return PlayerInfo(
        team=team,
        name=None if name is None else str(name),
        jersey=int(jersey) if isinstance(jersey, int | np.integer) and jersey >= 0 else None,
        provider_id=str(player.player_id),
        position=None
        if position is None or position == kd.PositionType.Unknown
        else str(position.name),
    )


def _period_offsets(md: Any) -> tuple[dict[int, float], dict[int, float], str | None]:
    """Each period's start and end in seconds on the table's clock (microsecond precision, as
    kloppy's timestamps), and the UTC instant of 0 s."""
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    first = md.periods[0].start_timestamp
    if isinstance(first, datetime):
        origin = _naive_utc(first)
        for p in md.periods:
            for stamp, out in ((p.start_timestamp, starts), (p.end_timestamp, ends)):
                if isinstance(stamp, datetime):
                    out[int(p.id)] = round((_naive_utc(stamp) - origin).total_seconds(), 6)
        return starts, ends, utc_iso(first)
    for p in md.periods:
        for stamp, out in ((p.start_timestamp, starts), (p.end_timestamp, ends)):
            if isinstance(stamp, timedelta):
                out[int(p.id)] = round(stamp.total_seconds(), 6)
    date = md.date
    return starts, ends, utc_iso(date) if isinstance(date, datetime) else None


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo is not None else when


def _frame_bound(
    frame_id: np.ndarray, period_id: np.ndarray, pid: int, reduce: Callable[..., Any]
) -> int | None:
    rows = period_id == pid
    return int(reduce(frame_id[rows])) if rows.any() else None


def _orientation_directions(
    orientation: Any, period_ids: list[int]
) -> dict[int, AttackDirection | None]:
    table = _PERIOD_DIRECTIONS.get(getattr(orientation, "name", ""), {})
    return {int(p): table.get(int(p)) for p in period_ids}


# --------------------------------------------------------------------------------------------
# tracks -> kloppy
# --------------------------------------------------------------------------------------------


def to_kloppy(tracks: Tracks) -> Any:
    """Build a kloppy ``TrackingDataset`` from a tracks table.

    Coordinates are metres in kloppy's metric pitch dimensions with the origin at the centre and
    y up (the CDF convention), on ``tracks.pitch_size``. Teams 0 and 1 become the home and away
    ``Team`` s, their tracks ``Player`` s (ids, names and shirt numbers from
    ``meta.players``; goalkeepers get ``PositionType.Goalkeeper``), track 0 (class
    ``"ball"``) the ball with its ``pitch_z`` height. Periods and orientation come from the
    metadata (``period`` column, ``meta.periods``, ``meta.attack_direction``); frame
    timestamps are ``time`` minus the period's start. Rows of referees and of people without
    a team are not exported.

    Raises:
        DataError: a table without fps or without finite times.

    >>> import kloppy, pathlib
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> t = load_tracking("metrica", home_data=files / "metrica_home.csv",
    ...                   away_data=files / "metrica_away.csv")
    >>> ds = to_kloppy(t)
    >>> len(ds.frames), ds.metadata.orientation, ds.frames[0].ball_coordinates.x
    (6, home-away, -4.7544)
    >>> from_kloppy(ds).df["pitch_x"].equals(t.df["pitch_x"])
    True
    """
    kd = _kloppy("kloppy.domain")
    df = tracks.df
    meta = tracks.meta
    length, width = tracks.pitch_size
    if tracks.fps is None:
        raise DataError("to_kloppy: the tracks table has no fps (kloppy needs a frame rate)")
    period = period_of_rows(tracks)
    time = df["time"].to_numpy(np.float64)
    if not np.isfinite(time).all():
        raise DataError("to_kloppy: the tracks table has rows without a finite time")
    frame = df["frame"].to_numpy(np.int64)
    track = df["track_id"].to_numpy(np.int64)
    team = df["team"].to_numpy(np.int64)
    names = df["class_name"].astype(str).to_numpy()
    is_ball = names == "ball"
    is_person = ~is_ball & (team >= 0) & (names != "referee")
    xy = convert(
        df[["pitch_x", "pitch_y"]].to_numpy(np.float64),
        "touchline",
        "cdf",
        pitch=Pitch.of_size(length, width),
    )
    z = df["pitch_z"].to_numpy(np.float64) if "pitch_z" in df.columns else np.full(len(df), np.nan)

    # Periods: from the metadata when it gives times, else from the rows.
    period_ids = sorted({int(p) for p in np.unique(period)} | {p.id for p in meta.periods})
    period_ids = period_ids or [1]  # kloppy needs a period, even for an empty table
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    for pid in period_ids:
        info = meta.period(pid)
        rows = period == pid
        start = info.start_time if info is not None else None
        end = info.end_time if info is not None else None
        if start is None:
            start = float(time[rows].min()) if rows.any() else 0.0
        if end is None:
            end = float(time[rows].max()) if rows.any() else start
        starts[pid], ends[pid] = start, end
    origin = _parse_origin(meta.time_origin)
    kperiods = [
        kd.Period(
            id=pid,
            start_timestamp=timedelta(seconds=starts[pid]),
            end_timestamp=timedelta(seconds=ends[pid]),
        )
        for pid in period_ids
    ]
    period_of = {p.id: p for p in kperiods}

    # Teams and players.
    kteams = []
    for k in (0, 1):
        team_info = meta.teams.get(k)
        side = ("home", "away")[k]
        kteams.append(
            kd.Team(
                team_id=team_info.provider_id if team_info and team_info.provider_id else side,
                name=team_info.name if team_info and team_info.name else side,
                ground=kd.Ground.HOME if k == 0 else kd.Ground.AWAY,
            )
        )
    # Every person track of a team, from the rows and from meta["players"], in track-id order.
    team_of = {t: p.team for t, p in meta.players.items() if p.team in (0, 1)}
    team_of.update(zip(track[is_person].tolist(), team[is_person].tolist(), strict=True))
    person_ids = sorted(team_of)
    goalkeepers = set(track[is_person & (names == "goalkeeper")].tolist())
    provider_ids = [meta.players.get(t, PlayerInfo(team=-1)).provider_id for t in person_ids]
    unique_ids = None not in provider_ids and len(set(provider_ids)) == len(provider_ids)
    kplayer: dict[int, Any] = {}
    for t, provider_id in zip(person_ids, provider_ids, strict=True):
        person = meta.players.get(t, PlayerInfo(team=team_of[t]))
        kteam = kteams[team_of[t]]
        player = kd.Player(
            player_id=str(provider_id) if unique_ids else str(t),
            team=kteam,
            jersey_no=person.jersey if person.jersey is not None else -1,
            name=person.name,
            starting=True,
            starting_position=_position(kd, person.position, t in goalkeepers),
        )
        kteam.players.append(player)
        kplayer[t] = player

    # Frames: one per frame of the table.
    order = np.lexsort((track, frame))
    bounds = np.flatnonzero(np.diff(frame[order])) + 1
    orientation = _orientation_of(kd, meta.attack_direction, period_ids)
    frames = []
    for rows in np.split(order, bounds) if order.size else []:
        first = rows[0]
        pid = int(period[first])
        ball_rows = rows[is_ball[rows]]
        ball = None
        if ball_rows.size:
            b = ball_rows[0]
            bz = float(z[b])
            ball = kd.Point3D(
                x=float(xy[b, 0]), y=float(xy[b, 1]), z=bz if math.isfinite(bz) else None
            )
        players_data = {
            kplayer[int(track[r])]: kd.PlayerData(
                coordinates=kd.Point(x=float(xy[r, 0]), y=float(xy[r, 1]))
            )
            for r in rows[is_person[rows]]
        }
        frames.append(
            kd.Frame(
                frame_id=int(frame[first]),
                timestamp=timedelta(seconds=float(time[first]) - starts[pid]),
                period=period_of[pid],
                ball_owning_team=None,
                ball_state=None,
                players_data=players_data,
                other_data={},
                ball_coordinates=ball,
                statistics=[],
            )
        )
    provider = next((p for p in kd.Provider if p.value == meta.source), kd.Provider.OTHER)
    metadata = kd.Metadata(
        periods=kperiods,
        teams=kteams,
        coordinate_system=_metric_system(kd, float(length), float(width), centre=True),
        pitch_dimensions=None,
        orientation=orientation,
        flags=kd.DatasetFlag(0),
        provider=provider,
        frame_rate=float(tracks.fps),
        date=origin,
        game_id=meta.match_id,
    )
    return kd.TrackingDataset(records=frames, metadata=metadata)


def _parse_origin(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"Tracks.meta['time_origin']: not an ISO 8601 time: {text!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _position(kd: Any, name: str | None, goalkeeper: bool) -> Any:
    if goalkeeper:
        return kd.PositionType.Goalkeeper
    if name:
        try:
            return kd.PositionType[name]
        except KeyError:
            pass
    return kd.PositionType.Unknown


def _orientation_of(
    kd: Any, direction: Mapping[int, AttackDirection | None], period_ids: list[int]
) -> Any:
    """The kloppy orientation that gives these per-period directions of the home team."""
    wanted = {p: direction.get(p) for p in period_ids if p != 5}
    if not wanted or any(v is None for v in wanted.values()):
        return kd.Orientation.NOT_SET
    for name in ("HOME_AWAY", "AWAY_HOME", "STATIC_HOME_AWAY", "STATIC_AWAY_HOME"):
        table = _PERIOD_DIRECTIONS[name]
        if all(table.get(p) == v for p, v in wanted.items()):
            return kd.Orientation[name]
    return kd.Orientation.NOT_SET
