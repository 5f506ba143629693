"""Common Data Format (CDF) tracking export and import, and validation against its schemas.

The CDF (Anzer et al. 2025, https://cdf.football) stores tracking data as JSON Lines, one JSON
object per frame (``frame_id``, ``timestamp`` in UTC, ``period``, ``match.id``, ``teams.home``
/ ``teams.away`` with their players' ``id``, ``x``, ``y``, the ``ball``'s ``x``, ``y``, ``z``),
plus a meta data JSON (competition, season, match with periods and whistles, team sheets,
venue with the pitch size, data-vendor meta). Coordinates are metres with the origin at the
centre of the pitch and y up (the ``"cdf"`` system of :mod:`touchline.pitch`), with a
standardized playing direction: the home team attacks towards +x in every period; each
period's ``left_team_id`` / ``right_team_id`` record the actual sides.

Written here, for version :data:`CDF_VERSION` (the newest schema of the
``common-data-format-validator`` package, whose default validators use it):

* team 0 is the home team, team 1 the away team; referees go to ``officials``; rows of
  people without a team are not written;
* ``frame_id`` is the frame index minus the table's first frame (CDF frame ids start at 0);
  ``timestamp`` is ``time_origin + time`` (``meta["time_origin"]``, else the ``start`` given,
  else 1970-01-01T00:00:00Z); ``kickoff_time`` is that origin;
* player ids are the provider ids of ``meta["players"]`` when every player has a distinct
  one, else the track ids; players without a known shirt number get ``jersey_number`` -1
  (the field is required); ``is_starter`` is true for players in the first frame;
* people whose position is unknown (NaN) in a frame are left out of it; the ball is written
  with null coordinates when it is not seen (the schema allows it; the validator's coordinate
  check reports such nulls).

:func:`read_cdf` reads such files back (the meta JSON is optional), undoing the standardized
direction with ``left_team_id`` / ``right_team_id``. CDF has no goalkeeper role in its tracking
or meta data, so everyone reads back as ``"player"``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from touchline.errors import DataError
from touchline.io._common import (
    BALL_TRACK_ID,
    build_tracks,
    existing_file,
    period_of_rows,
    utc_iso,
)
from touchline.io.meta import infer_attack_direction
from touchline.pitch import Pitch, convert
from touchline.tracking_meta import AttackDirection, PeriodInfo, PlayerInfo, TeamInfo, TrackingMeta
from touchline.tracks import Tracks
from touchline.utils.files import atomic_path

__all__ = [
    "CDF_PERIODS",
    "CDF_VERSION",
    "CdfFiles",
    "cdf_meta_path",
    "read_cdf",
    "validate_cdf",
    "write_cdf",
]

CDF_VERSION = "0.3.2"
"""The CDF schema version written (the validator package's default in its 0.1.1 release)."""

CDF_PERIODS: dict[int, str] = {
    1: "first_half",
    2: "second_half",
    3: "first_half_extratime",
    4: "second_half_extratime",
    5: "shootout",
}
"""kloppy / touchline period ids and their CDF names."""

_PERIOD_IDS = {name: k for k, name in CDF_PERIODS.items()}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")
_UNKNOWN_ID = "unknown"
_R, _L = AttackDirection.RIGHT, AttackDirection.LEFT


@dataclass(frozen=True)
class CdfFiles:
    """The two files of a CDF tracking export."""

    tracking: Path
    meta: Path


def cdf_meta_path(tracking: str | os.PathLike[str]) -> Path:
    """The meta JSON written beside a CDF tracking file: ``meta.json`` for ``tracking.jsonl``,
    else ``<stem>.meta.json``.

    >>> cdf_meta_path("out/tracking.jsonl").name, cdf_meta_path("out/match.jsonl").name
    ('meta.json', 'match.meta.json')
    """
    p = Path(tracking)
    stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.stem
    return p.with_name("meta.json" if stem == "tracking" else f"{stem}.meta.json")


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_cdf(
    tracks: Tracks,
    out_dir: str | os.PathLike[str],
    *,
    match_id: str | None = None,
    competition_id: str | None = None,
    season_id: str | None = None,
    venue_id: str | None = None,
    start: datetime | str | None = None,
    tracking_name: str = "tracking.jsonl",
    meta_name: str | None = None,
) -> CdfFiles:
    """Write a tracks table as CDF tracking JSON Lines plus its meta JSON, each atomically.

    Args:
        tracks: the table (touchline metres); teams 0/1 become home/away.
        out_dir: the folder to write into (created if needed).
        match_id: the match id (default ``meta["match_id"]``, else ``"unknown"``).
        competition_id, season_id, venue_id: ids the meta data requires (default
            ``"unknown"``).
        start: the UTC instant of ``time == 0`` when the metadata has no ``time_origin``.
        tracking_name: file name of the tracking data.
        meta_name: file name of the meta data (default :func:`cdf_meta_path`).

    Returns:
        The paths written.

    Raises:
        DataError: no fps, times that are not finite, a period whose attacking direction is
            unknown and cannot be inferred (no team rows), a period id CDF does not name.

    >>> import kloppy, pathlib, tempfile
    >>> from touchline.io import load_tracking
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> t = load_tracking("tracab", meta_data=files / "tracab_meta.xml",
    ...                   raw_data=files / "tracab_raw.dat")
    >>> out = write_cdf(t, tempfile.mkdtemp(), match_id="m1")
    >>> frame = json.loads(out.tracking.read_text().splitlines()[0])
    >>> frame["frame_id"], frame["period"], frame["ball"]
    (0, 'first_half', {'x': -27.1, 'y': -37.22, 'z': 0.11})
    >>> validate_cdf(out.tracking.parent)
    []
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: expected a folder for the CDF files, found a file")
    tracking_path = out / tracking_name
    meta_path = out / meta_name if meta_name else cdf_meta_path(tracking_path)
    meta = tracks.meta
    df = tracks.df
    if tracks.fps is None:
        raise DataError(f"{tracking_path}: the tracks table has no fps; CDF records it")
    length, width = tracks.pitch_size
    period = period_of_rows(tracks)
    unknown_periods = sorted({int(p) for p in np.unique(period)} - set(CDF_PERIODS))
    if unknown_periods:
        raise DataError(
            f"{tracking_path}: periods {unknown_periods} have no CDF name (known {CDF_PERIODS})"
        )
    time = df["time"].to_numpy(np.float64)
    if not np.isfinite(time).all():
        raise DataError(f"{tracking_path}: the tracks table has rows without a finite time")
    origin = _origin(meta.time_origin, start, tracking_path)

    # Which way the home team attacks in each period; rotate periods it attacks left.
    direction = dict(meta.attack_direction)
    present = sorted({int(p) for p in np.unique(period)})
    missing = [p for p in present if direction.get(p) is None and p != 5]
    if missing:
        inferred = infer_attack_direction(df.assign(period=period), length)
        for p in missing:
            direction[p] = inferred.get(p)
        still = [p for p in missing if direction.get(p) is None]
        if still:
            raise DataError(
                f"{tracking_path}: which way the teams attack in periods {still} is unknown "
                "and cannot be inferred (no team rows); set meta.attack_direction"
            )
    flip = np.isin(period, [p for p, d in direction.items() if d is AttackDirection.LEFT])
    xy = convert(
        df[["pitch_x", "pitch_y"]].to_numpy(np.float64),
        "touchline",
        "cdf",
        pitch=Pitch.of_size(length, width),
    )
    xy[flip] *= -1.0

    names = df["class_name"].astype(str).to_numpy()
    team = df["team"].to_numpy(np.int64)
    track = df["track_id"].to_numpy(np.int64)
    frame = df["frame"].to_numpy(np.int64)
    is_ball = names == "ball"
    is_official = names == "referee"
    is_person = ~is_ball & ~is_official & (team >= 0)
    dropped = int((~is_ball & ~is_official & (team < 0)).sum())
    if dropped:
        warnings.warn(
            f"write_cdf: {dropped} rows of people without a team are not written "
            "(CDF lists players under the home or the away team)",
            stacklevel=2,
        )

    # Ids: provider ids when every player has a distinct one, else track ids.
    team_of = {t: p.team for t, p in meta.players.items() if p.team in (0, 1)}
    team_of.update(zip(track[is_person].tolist(), team[is_person].tolist(), strict=True))
    person_ids = sorted(team_of)
    provider = [meta.players.get(t, PlayerInfo(team=-1)).provider_id for t in person_ids]
    use_provider = None not in provider and len(set(provider)) == len(provider)
    cdf_id = {
        t: (str(pid) if use_provider else str(t))
        for t, pid in zip(person_ids, provider, strict=True)
    }
    row_id = np.array([cdf_id.get(int(t), str(int(t))) for t in track], dtype=object)
    team_ids = [_team_id(meta, k) for k in (0, 1)]

    # Frames.
    first_frame = int(frame.min()) if len(frame) else 0
    order = np.lexsort((track, frame))
    bounds = np.flatnonzero(np.diff(frame[order])) + 1
    x3 = np.round(xy[:, 0], 3)
    y3 = np.round(xy[:, 1], 3)
    z = df["pitch_z"].to_numpy(np.float64) if "pitch_z" in df.columns else np.full(len(df), np.nan)
    conf = df["confidence"].to_numpy(np.float64)
    has_officials = bool(is_official.any())
    lines: list[str] = []
    frame_rows: list[np.ndarray] = np.split(order, bounds) if order.size else []
    frame_times = np.array([time[r[0]] for r in frame_rows])
    stamps = _utc_strings(origin, frame_times)
    for rows, stamp in zip(frame_rows, stamps, strict=True):
        r0 = int(rows[0])
        sides: list[list[dict[str, Any]]] = [[], []]
        officials = []
        ball_rows = []
        for r in rows.tolist():
            if is_ball[r]:
                ball_rows.append(r)
                continue
            if not (math.isfinite(x3[r]) and math.isfinite(y3[r])):
                continue
            entry = {"id": row_id[r], "x": float(x3[r]), "y": float(y3[r])}
            if is_person[r]:
                sides[team[r]].append(entry)
            elif is_official[r]:
                officials.append(entry)
        ball: dict[str, Any] = {"x": None, "y": None, "z": None}
        if ball_rows:
            b = max(ball_rows, key=lambda r: -1.0 if math.isnan(conf[r]) else conf[r])
            if math.isfinite(x3[b]) and math.isfinite(y3[b]):
                bz = float(z[b])
                ball = {
                    "x": float(x3[b]),
                    "y": float(y3[b]),
                    "z": round(bz, 3) if math.isfinite(bz) else None,
                }
        record: dict[str, Any] = {
            "frame_id": int(frame[r0]) - first_frame,
            "timestamp": stamp,
            "period": CDF_PERIODS[int(period[r0])],
            "match": {"id": _match_id(match_id, meta)},
            "teams": {
                "home": {"id": team_ids[0], "players": sides[0]},
                "away": {"id": team_ids[1], "players": sides[1]},
            },
            "ball": ball,
        }
        if has_officials:
            record["officials"] = officials
        lines.append(json.dumps(record, separators=(",", ":"), allow_nan=False))

    first_rows = frame_rows[0] if frame_rows else np.empty(0, np.int64)
    starters = {int(track[r]) for r in first_rows if is_person[r]}
    meta_json = _meta_json(
        tracks,
        meta,
        period=period,
        frame=frame,
        time=time,
        first_frame=first_frame,
        origin=origin,
        direction=direction,
        team_ids=team_ids,
        team_of=team_of,
        cdf_id=cdf_id,
        starters=starters,
        match_id=_match_id(match_id, meta),
        competition_id=competition_id or _UNKNOWN_ID,
        season_id=season_id or _UNKNOWN_ID,
        venue_id=venue_id or _UNKNOWN_ID,
    )
    with atomic_path(meta_path) as tmp:
        tmp.write_text(json.dumps(meta_json, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    with atomic_path(tracking_path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
    return CdfFiles(tracking=tracking_path, meta=meta_path)


def _origin(time_origin: str | None, start: datetime | str | None, where: Path) -> datetime:
    value: Any = time_origin if time_origin is not None else start
    if value is None:
        return _EPOCH
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{where}: time origin {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise DataError(f"{where}: start must be a datetime or ISO 8601 text, got {value!r}")
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _utc_strings(origin: datetime, seconds: np.ndarray) -> list[str]:
    """RFC 3339 UTC timestamps (microseconds, ``Z``) of ``origin + seconds``."""
    base = np.datetime64(origin.replace(tzinfo=None), "us")
    micros = np.round(np.asarray(seconds, np.float64) * 1e6).astype(np.int64)
    stamps = base + micros.astype("timedelta64[us]")
    return [s + "Z" for s in np.datetime_as_string(stamps, unit="us")]


def _utc_string(origin: datetime, seconds: float) -> str:
    return _utc_strings(origin, np.array([seconds]))[0]


def _match_id(match_id: str | None, meta: TrackingMeta) -> str:
    return str(match_id or meta.match_id or _UNKNOWN_ID)


def _team_id(meta: TrackingMeta, k: int) -> str:
    info = meta.teams.get(k)
    return str(info.provider_id) if info and info.provider_id else ("home", "away")[k]


def _meta_json(
    tracks: Tracks,
    meta: TrackingMeta,
    *,
    period: np.ndarray,
    frame: np.ndarray,
    time: np.ndarray,
    first_frame: int,
    origin: datetime,
    direction: Mapping[int, AttackDirection | None],
    team_ids: list[str],
    team_of: Mapping[int, int],
    cdf_id: Mapping[int, str],
    starters: set[int],
    match_id: str,
    competition_id: str,
    season_id: str,
    venue_id: str,
) -> dict[str, Any]:
    present = {int(p) for p in np.unique(period)}
    ids = sorted(present | {p.id for p in meta.periods if p.id in CDF_PERIODS})
    periods: list[dict[str, Any]] = []
    whistles: list[dict[str, Any]] = []
    for pid in ids:
        info = meta.period(pid) or PeriodInfo(id=pid)
        rows = period == pid
        # The metadata's period times (the whistles), else the first and last frame's.
        start, end = info.start_time, info.end_time
        if rows.any():
            start = float(time[rows].min()) if start is None else start
            end = float(time[rows].max()) if end is None else end
        entry: dict[str, Any] = {"period": CDF_PERIODS[pid]}
        if pid != 5:
            entry["play_direction"] = "left_right"
        if start is not None:
            entry["start_time"] = _utc_string(origin, float(start))
        if end is not None:
            entry["end_time"] = _utc_string(origin, float(end))
        if rows.any():
            entry["frame_id_start"] = int(frame[rows].min()) - first_frame
            entry["frame_id_end"] = int(frame[rows].max()) - first_frame
        d = direction.get(pid)
        if d is not None:
            left, right = (0, 1) if d is AttackDirection.RIGHT else (1, 0)
            entry["left_team_id"] = team_ids[left]
            entry["right_team_id"] = team_ids[right]
        periods.append(entry)
        for sub, when in (("start", start), ("end", end)):
            if when is not None:
                whistles.append(
                    {
                        "type": CDF_PERIODS[pid],
                        "sub_type": sub,
                        "time": _utc_string(origin, float(when)),
                    }
                )

    def team(k: int) -> dict[str, Any]:
        info = meta.teams.get(k)
        players = []
        for t in sorted(tid for tid, side in team_of.items() if side == k):
            p = meta.players.get(t, PlayerInfo(team=k))
            entry: dict[str, Any] = {
                "id": cdf_id[t],
                "team_id": team_ids[k],
                "jersey_number": p.jersey if p.jersey is not None else -1,
                "is_starter": t in starters,
            }
            if p.name:
                first, _, last = p.name.partition(" ")
                if last:
                    entry["first_name"] = first
                entry["last_name"] = last or first
            players.append(entry)
        out: dict[str, Any] = {"id": team_ids[k], "players": players}
        if info and info.name:
            out["name"] = info.name
        if info and info.color and re.fullmatch(r"#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})", info.color):
            out["jersey_colour"] = info.color
        return out

    from touchline import __version__

    fps = tracks.fps or 0.0
    return {
        "competition": {"id": competition_id},
        "season": {"id": season_id},
        "match": {
            "id": match_id,
            "kickoff_time": _utc_string(origin, 0.0),
            "periods": periods,
            "whistles": whistles,
        },
        "teams": {"home": team(0), "away": team(1)},
        "venue": {
            "id": venue_id,
            "pitch_length": float(tracks.pitch_size[0]),
            "pitch_width": float(tracks.pitch_size[1]),
        },
        "meta": {
            "video": None,
            "tracking": {
                "version": _UNKNOWN_ID,
                "name": meta.source or _UNKNOWN_ID,
                "fps": round(fps),
                "collection_timing": "post_match",
            },
            "event": None,
            "landmarks": None,
            "meta": {"version": __version__, "name": "touchline"},
            "ball": None,
            "cdf": {"version": CDF_VERSION},
        },
    }


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _find_files(path: Path) -> tuple[Path, Path | None]:
    """The tracking JSONL and its meta JSON (or ``None``) of a CDF folder or tracking file."""
    if path.is_dir():
        candidates = sorted(path.glob("*.jsonl"))
        if not candidates:
            raise DataError(f"{path}: no CDF tracking file (*.jsonl) in this folder")
        named = [c for c in candidates if c.name == "tracking.jsonl"]
        if len(candidates) > 1 and not named:
            raise DataError(
                f"{path}: several .jsonl files {[c.name for c in candidates]}; give the tracking "
                "file itself"
            )
        tracking = named[0] if named else candidates[0]
    else:
        tracking = existing_file(path, "CDF tracking file")
    for meta in (cdf_meta_path(tracking), tracking.with_name("meta.json")):
        if meta.is_file():
            return tracking, meta
    return tracking, None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None


def read_cdf(
    path: str | os.PathLike[str],
    *,
    meta_path: str | os.PathLike[str] | None = None,
    standardized: bool = False,
) -> Tracks:
    """Read CDF tracking JSON Lines (and its meta JSON when present) into a tracks table.

    Args:
        path: the tracking ``.jsonl`` file, or a folder holding it (``tracking.jsonl`` or a
            single ``.jsonl``).
        meta_path: the meta JSON (default :func:`cdf_meta_path` of the tracking file, else
            ``meta.json`` beside it; without one, the pitch is 105 x 68 and players have no
            names).
        standardized: keep CDF's standardized direction (home attacks right in every
            period) instead of restoring the actual sides from ``left_team_id``.

    Returns:
        Tracks with ``frame`` the CDF ``frame_id``, ``time`` in seconds from the meta data's
        ``kickoff_time`` (else from the first frame), the ball as track 0, players 1.. (home
        team first, in the order of the meta data), officials after them, the ``period`` and
        ``pitch_z`` columns and the metadata of :mod:`touchline.tracking_meta`.

    Raises:
        DataError: naming the file and line: missing file, a line that is not JSON or lacks a
            required field, a timestamp that is not a time, an unknown period.

    >>> import kloppy, pathlib, tempfile
    >>> from touchline.io import load_tracking
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> t = load_tracking("metrica", home_data=files / "metrica_home.csv",
    ...                   away_data=files / "metrica_away.csv")
    >>> back = read_cdf(write_cdf(t, tempfile.mkdtemp()).tracking)
    >>> len(back) == len(t), float((back.df.pitch_x - t.df.pitch_x).abs().max()) < 0.001
    (True, True)
    """
    tracking, found_meta = _find_files(Path(path))
    if meta_path is not None:
        found_meta = existing_file(meta_path, "CDF meta file")
    meta_doc = _load_json(found_meta) if found_meta is not None else {}
    if not isinstance(meta_doc, dict):
        raise DataError(f"{found_meta}: expected a JSON object, got {type(meta_doc).__name__}")
    where_meta = str(found_meta)

    venue = _obj(meta_doc.get("venue") or meta_doc.get("stadium"), f"{where_meta}: venue")
    length = _number(venue.get("pitch_length"), 105.0)
    width = _number(venue.get("pitch_width"), 68.0)
    match = _obj(meta_doc.get("match"), f"{where_meta}: match")
    kickoff = _parse_utc(match.get("kickoff_time"), f"{where_meta}: match.kickoff_time")

    # Players of the meta data in order: home, then away.
    track_of: dict[str, int] = {}
    players: dict[int, PlayerInfo] = {}
    teams: dict[int, TeamInfo] = {}
    doc_teams = _obj(meta_doc.get("teams"), f"{where_meta}: teams")
    for k, ground in enumerate(("home", "away")):
        team_doc = _obj(doc_teams.get(ground), f"{where_meta}: teams.{ground}")
        if team_doc:
            teams[k] = TeamInfo(
                name=str(team_doc.get("name") or team_doc.get("id") or ground),
                provider_id=None if team_doc.get("id") is None else str(team_doc["id"]),
                ground="home" if k == 0 else "away",
                color=team_doc.get("jersey_colour"),
            )
        for p in _list(team_doc.get("players"), f"{where_meta}: teams.{ground}.players"):
            p = _obj(p, f"{where_meta}: teams.{ground}.players")
            player_id = str(p.get("id"))
            if player_id in track_of:
                continue
            track_of[player_id] = len(track_of) + 1
            name = " ".join(str(p[k2]) for k2 in ("first_name", "last_name") if p.get(k2))
            jersey = p.get("jersey_number")
            players[track_of[player_id]] = PlayerInfo(
                team=k,
                name=name or None,
                jersey=jersey if isinstance(jersey, int) and jersey >= 0 else None,
                provider_id=player_id,
            )

    frames, rows = _read_lines(tracking)
    n = len(frames.frame_id)
    # Times and team ids.
    stamps = pd.to_datetime(
        pd.Series(frames.timestamp), utc=True, errors="coerce", format="ISO8601"
    )
    if stamps.isna().any():
        i = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise DataError(
            f"{tracking}: line {i + 1}: timestamp {frames.timestamp[i]!r} is not a UTC time"
        )
    base = pd.Timestamp(kickoff) if kickoff is not None else (stamps.iloc[0] if n else None)
    seconds = (
        ((stamps - base).dt.total_seconds()).to_numpy(np.float64) if n else np.empty(0, np.float64)
    )
    for k, tid in enumerate(frames.team_ids):
        if k not in teams and tid is not None:
            teams[k] = TeamInfo(name=tid, provider_id=tid, ground=("home", "away")[k])

    # Person and official ids not in the meta data get the next track ids.
    person_track = np.empty(len(rows.ids), np.int64)
    for i, (person_id, person_side) in enumerate(zip(rows.ids, rows.side.tolist(), strict=True)):
        t = track_of.get(person_id)
        if t is None:
            t = track_of[person_id] = len(track_of) + 1
            players[t] = PlayerInfo(team=max(person_side, -1), provider_id=person_id)
        person_track[i] = t

    # Periods and attack direction. The file's coordinates have the home team attacking as
    # play_direction says (left_right when standardized); left_team_id gives the actual side.
    period_ids = np.array([_PERIOD_IDS[p] for p in frames.period], np.int64)
    file_direction: dict[int, AttackDirection | None] = {}
    actual: dict[int, AttackDirection | None] = {}
    meta_periods: list[PeriodInfo] = []
    home_id = teams[0].provider_id if 0 in teams else None
    for entry in _list(match.get("periods"), f"{where_meta}: match.periods"):
        entry = _obj(entry, f"{where_meta}: match.periods")
        pid = _PERIOD_IDS.get(str(entry.get("period")))
        if pid is None:
            raise DataError(f"{where_meta}: unknown period {entry.get('period')!r}")
        here: AttackDirection | None = None
        if pid != 5:
            here = _L if entry.get("play_direction") == "right_left" else _R
        left = entry.get("left_team_id")
        file_direction[pid] = here
        actual[pid] = here
        if here is not None and left is not None and home_id is not None:
            actual[pid] = _R if str(left) == home_id else _L
        t0 = _parse_utc(entry.get("start_time"), f"{where_meta}: period {pid} start_time")
        t1 = _parse_utc(entry.get("end_time"), f"{where_meta}: period {pid} end_time")
        meta_periods.append(
            PeriodInfo(
                id=pid,
                start_time=None if t0 is None or base is None else (t0 - base).total_seconds(),
                end_time=None if t1 is None or base is None else (t1 - base).total_seconds(),
            )
        )
    for pid in np.unique(period_ids).tolist():
        if pid not in file_direction:
            file_direction[pid] = actual[pid] = _R if pid != 5 else None
            meta_periods.append(PeriodInfo(id=pid))
    meta_periods.sort(key=lambda p: p.id)
    if standardized:
        direction, flip_periods = file_direction, []
    else:
        direction = actual
        flip_periods = [p for p in actual if actual[p] != file_direction[p]]

    # Rows: people then ball.
    ball = frames.ball
    has_ball = np.isfinite(ball[:, :2]).all(axis=1)
    bi = np.flatnonzero(has_ball)
    fi = rows.frame_index
    xy_cdf = np.concatenate([rows.xy, ball[bi, :2]])
    row_frame = np.concatenate([fi, bi])
    row_period = period_ids[row_frame]
    flip = np.isin(row_period, flip_periods)
    xy_cdf[flip] *= -1.0
    xy = convert(xy_cdf, "cdf", "touchline", pitch=Pitch.of_size(length, width))
    n_b = bi.size
    track = np.concatenate([person_track, np.full(n_b, BALL_TRACK_ID)])
    side = np.concatenate([rows.side, np.full(n_b, -1)])
    class_name = np.where(side >= 0, "player", "referee").astype(object)
    class_name[len(person_track) :] = "ball"

    frame_ids = np.asarray(frames.frame_id, np.int64)
    periods = tuple(
        PeriodInfo(
            id=p.id,
            start_time=p.start_time,
            end_time=p.end_time,
            start_frame=int(frame_ids[period_ids == p.id].min())
            if (period_ids == p.id).any()
            else None,
            end_frame=int(frame_ids[period_ids == p.id].max())
            if (period_ids == p.id).any()
            else None,
        )
        for p in meta_periods
    )
    doc_meta = _obj(meta_doc.get("meta"), f"{where_meta}: meta")
    tracking_meta = _obj(doc_meta.get("tracking"), f"{where_meta}: meta.tracking")
    fps = _fps(frame_ids, seconds, tracking_meta.get("fps"))
    meta = TrackingMeta(
        source="cdf",
        files=tuple(f.name for f in (tracking, found_meta) if f is not None),
        match_id=str(match.get("id")) if match.get("id") is not None else frames.match_id,
        time_origin=None if base is None else utc_iso(base.to_pydatetime()),
        teams=teams,
        players=players,
        periods=periods,
        attack_direction=direction,
    )
    try:
        return build_tracks(
            frame=frame_ids[row_frame],
            time=seconds[row_frame],
            track_id=track,
            class_name=class_name,
            team=side,
            pitch_x=xy[:, 0],
            pitch_y=xy[:, 1],
            period=row_period,
            pitch_z=np.concatenate([np.full(len(person_track), np.nan), ball[bi, 2]]),
            fps=fps,
            pitch_size=(length, width),
            meta=meta,
        )
    except DataError as e:
        raise DataError(f"{tracking}: {e}") from None


def _obj(value: Any, where: str) -> dict[str, Any]:
    """A JSON object of the meta data ({} when absent); DataError naming it otherwise."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(f"{where}: expected a JSON array, got {type(value).__name__}")
    return value


def _number(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def _parse_utc(value: Any, where: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except ValueError:
        raise DataError(f"{where}: {value!r} is not a time") from None
    return stamp.tz_convert("UTC") if stamp.tzinfo is not None else stamp.tz_localize("UTC")


def _fps(frame_ids: np.ndarray, seconds: np.ndarray, declared: Any) -> float | None:
    """The frame rate from frame ids and times (exact for 29.97), else the declared one."""
    if frame_ids.size > 1:
        df = np.diff(frame_ids).astype(np.float64)
        dt = np.diff(seconds)
        ok = (df > 0) & (dt > 0)
        if ok.any():
            rate = float(np.median(df[ok] / dt[ok]))
            return round(rate, 3)
    if isinstance(declared, int | float) and not isinstance(declared, bool) and declared > 0:
        return float(declared)
    return None


@dataclass
class _Frames:
    frame_id: list[int]
    timestamp: list[str]
    period: list[str]
    ball: np.ndarray
    team_ids: list[str | None]
    match_id: str | None


@dataclass
class _Rows:
    frame_index: np.ndarray
    ids: list[str]
    side: np.ndarray
    xy: np.ndarray


def _read_lines(path: Path) -> tuple[_Frames, _Rows]:
    frame_id: list[int] = []
    timestamp: list[str] = []
    period: list[str] = []
    ball: list[tuple[float, float, float]] = []
    team_ids: list[str | None] = [None, None]
    match_id: str | None = None
    r_frame: list[int] = []
    r_id: list[str] = []
    r_side: list[int] = []
    r_x: list[float] = []
    r_y: list[float] = []
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    with fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}: line {n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
            try:
                fid, stamp, name = obj["frame_id"], obj["timestamp"], obj["period"]
                teams, b = obj["teams"], obj["ball"]
            except KeyError as e:
                raise DataError(f"{where}: missing required field {e.args[0]!r}") from None
            if not isinstance(fid, int) or isinstance(fid, bool):
                raise DataError(f"{where}: frame_id must be an integer, got {fid!r}")
            if name not in _PERIOD_IDS:
                raise DataError(f"{where}: unknown period {name!r}; expected {list(_PERIOD_IDS)}")
            if not isinstance(b, dict):
                raise DataError(f"{where}: 'ball' must be an object")
            i = len(frame_id)
            frame_id.append(fid)
            timestamp.append(str(stamp))
            period.append(name)
            ball.append((_coord(b.get("x")), _coord(b.get("y")), _coord(b.get("z"))))
            if match_id is None and isinstance(obj.get("match"), dict):
                match_id = _opt_text(obj["match"].get("id"))
            groups: list[tuple[int, Any]] = []
            if not isinstance(teams, dict):
                raise DataError(f"{where}: 'teams' must be an object")
            for k, side in enumerate(("home", "away")):
                team = teams.get(side)
                if not isinstance(team, dict):
                    raise DataError(f"{where}: missing required field 'teams.{side}'")
                if team_ids[k] is None:
                    team_ids[k] = _opt_text(team.get("id"))
                groups.append((k, team.get("players") or []))
            groups.append((-1, obj.get("officials") or []))
            for k, people in groups:
                for p in people:
                    if not isinstance(p, dict) or "id" not in p:
                        raise DataError(f"{where}: a player or official without an 'id'")
                    x, y = _coord(p.get("x")), _coord(p.get("y"))
                    if math.isnan(x) or math.isnan(y):
                        continue
                    r_frame.append(i)
                    r_id.append(str(p["id"]))
                    r_side.append(k)
                    r_x.append(x)
                    r_y.append(y)
    frames = _Frames(
        frame_id=frame_id,
        timestamp=timestamp,
        period=period,
        ball=np.asarray(ball, np.float64).reshape(-1, 3),
        team_ids=team_ids,
        match_id=match_id,
    )
    rows = _Rows(
        frame_index=np.asarray(r_frame, np.int64),
        ids=r_id,
        side=np.asarray(r_side, np.int64),
        xy=np.stack([np.asarray(r_x, np.float64), np.asarray(r_y, np.float64)], axis=1),
    )
    return frames, rows


def _coord(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _opt_text(value: Any) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def validate_cdf(path_or_dir: str | os.PathLike[str], *, limit: int | None = None) -> list[str]:
    """Check CDF tracking and meta files against the published schemas.

    Uses the ``cdf`` package (``common-data-format-validator``: its ``TrackingSchemaValidator``
    and ``MetaSchemaValidator``, schema :data:`CDF_VERSION`) when it is installed, else a
    built-in check of the required fields, their types and the frame sequence.

    Args:
        path_or_dir: a folder (its ``.jsonl`` tracking files and meta JSON), a tracking
            ``.jsonl`` (its meta JSON beside it is checked too), or a meta ``.json``.
        limit: check only the first ``limit`` lines of each tracking file (default all; the
            frame id sequence is only checked on whole files).

    Returns:
        The problems found, each naming the file (empty when the files are valid).

    Raises:
        DataError: the path does not exist or holds no CDF file.

    >>> import kloppy, pathlib, tempfile
    >>> from touchline.io import load_tracking
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> t = load_tracking("tracab", meta_data=files / "tracab_meta.xml",
    ...                   raw_data=files / "tracab_raw.dat")
    >>> out = write_cdf(t, tempfile.mkdtemp())
    >>> validate_cdf(out.tracking)
    []
    >>> doc = json.loads(out.meta.read_text())
    >>> del doc["venue"]
    >>> _ = out.meta.write_text(json.dumps(doc))
    >>> validate_cdf(out.meta)
    ["meta.json/root: 'venue' is a required property"]
    """
    tracking, metas = _files_to_validate(Path(path_or_dir))
    package = _cdf_package()
    problems: list[str] = []
    for path in tracking:
        problems += (
            _validate_with_package(package, "tracking", path, limit)
            if package is not None
            else _builtin_tracking(path, limit)
        )
    for path in metas:
        problems += (
            _validate_with_package(package, "meta", path, None)
            if package is not None
            else _builtin_meta(path)
        )
    return problems


def _cdf_package() -> Any:
    """The ``cdf`` validator package, or ``None`` when it is not installed."""
    try:
        module = importlib.import_module("cdf")
        module.TrackingSchemaValidator  # noqa: B018 - an unrelated package named cdf
    except (ImportError, AttributeError):
        return None
    return module


def _files_to_validate(path: Path) -> tuple[list[Path], list[Path]]:
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        tracking = sorted(path.glob("*.jsonl"))
        metas = sorted(p for p in path.glob("*.json") if p.name.endswith("meta.json"))
        if not tracking and not metas:
            raise DataError(f"{path}: no CDF files (*.jsonl tracking, *meta.json) in this folder")
        return tracking, metas
    if path.suffix == ".jsonl":
        _, meta = _find_files(path)
        return [path], [] if meta is None else [meta]
    if path.suffix == ".json":
        return [], [path]
    raise DataError(f"{path}: not a CDF file (expected .jsonl tracking or .json meta data)")


def _validate_with_package(package: Any, kind: str, path: Path, limit: int | None) -> list[str]:
    validator_cls = (
        package.TrackingSchemaValidator if kind == "tracking" else package.MetaSchemaValidator
    )
    messages: list[str] = []
    sink = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sink):
        warnings.simplefilter("always")
        try:
            validator = validator_cls()
            if kind == "tracking":
                validator.validate_schema(path, mode="soft", limit=limit)
            else:
                validator.validate_schema(path, mode="soft")
        except Exception as e:  # malformed JSON and the like surface as exceptions
            messages.append(f"{path.name}: cannot be validated ({type(e).__name__}: {e})")
    for w in caught:
        if issubclass(w.category, DeprecationWarning):
            continue
        text = str(w.message)
        messages.append(text if text.startswith(path.name) else f"{path.name}: {text}")
    return messages


# Built-in check: the required fields of the CDF tracking and meta schemas (v0.3.2).
_Check = Callable[[Any], bool]


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_number_or_null(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


def _is_utc(v: Any) -> bool:
    return isinstance(v, str) and bool(_UTC_RE.match(v))


def _is_period(v: Any) -> bool:
    return v in _PERIOD_IDS


def _is_object_or_null(v: Any) -> bool:
    return v is None or isinstance(v, dict)


_STR, _INT, _BOOL, _NUM_OR_NULL = _is_str, _is_int, _is_bool, _is_number_or_null
_UTC, _PERIOD, _OBJ_OR_NULL = _is_utc, _is_period, _is_object_or_null

_TRACKING_TEAM = {"id": _STR, "players": [{"id": _STR, "x": _NUM_OR_NULL, "y": _NUM_OR_NULL}]}
_TRACKING_SPEC: dict[str, Any] = {
    "frame_id": _INT,
    "timestamp": _UTC,
    "period": _PERIOD,
    "match": {"id": _STR},
    "teams": {"home": _TRACKING_TEAM, "away": _TRACKING_TEAM},
    "ball": {"x": _NUM_OR_NULL, "y": _NUM_OR_NULL, "z": _NUM_OR_NULL},
}
_META_TEAM = {
    "id": _STR,
    "players": [{"id": _STR, "team_id": _STR, "jersey_number": _INT, "is_starter": _BOOL}],
}
_META_SPEC: dict[str, Any] = {
    "competition": {"id": _STR},
    "season": {"id": _STR},
    "match": {
        "id": _STR,
        "kickoff_time": _UTC,
        "periods": [{"period": _PERIOD}],
        "whistles": [{"type": _STR, "sub_type": _STR, "time": _UTC}],
    },
    "teams": {"home": _META_TEAM, "away": _META_TEAM},
    "venue": {"id": _STR},
    "meta": {
        k: _OBJ_OR_NULL for k in ("video", "tracking", "event", "landmarks", "meta", "ball", "cdf")
    },
}
_META_TRACKING = {"version": _STR, "name": _STR, "fps": _INT, "collection_timing": _STR}


def _check(value: Any, spec: Any, where: str, out: list[str]) -> None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            out.append(f"{where}: expected an object")
            return
        for key, sub in spec.items():
            if key not in value:
                out.append(f"{where}: {key!r} is a required property")
            else:
                _check(value[key], sub, f"{where}.{key}", out)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            out.append(f"{where}: expected an array")
            return
        for i, item in enumerate(value):
            _check(item, spec[0], f"{where}.{i}", out)
    elif not spec(value):
        out.append(f"{where}: invalid value {value!r}")


def _builtin_tracking(path: Path, limit: int | None) -> list[str]:
    out: list[str] = []
    previous: int | None = None
    try:
        fh = path.open("rb")
    except OSError as e:
        return [f"{path.name}: cannot read ({e})"]
    with fh:
        for n, raw in enumerate(fh, start=1):
            if limit is not None and n > limit:
                break
            where = f"{path.name}/line_{n}"
            if raw.endswith(b"\r\n"):
                out.append(f"{where}: uses '\\r\\n' line endings; CDF requires '\\n'")
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                out.append(f"{where}: not valid JSON ({e})")
                continue
            _check(obj, _TRACKING_SPEC, where, out)
            fid = obj.get("frame_id") if isinstance(obj, dict) else None
            if limit is None and isinstance(fid, int) and not isinstance(fid, bool):
                if previous is None and fid != 0:
                    out.append(f"{where}: frame_id must start at 0, got {fid}")
                elif previous is not None and fid <= previous:
                    out.append(f"{where}: frame_id must increase ({fid} after {previous})")
                previous = fid
    return out


def _builtin_meta(path: Path) -> list[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return [f"{path.name}: not valid JSON ({e})"]
    out: list[str] = []
    _check(doc, _META_SPEC, path.name, out)
    if isinstance(doc, dict):
        match = doc.get("match")
        periods = match.get("periods") if isinstance(match, dict) else None
        for i, p in enumerate(periods if isinstance(periods, list) else []):
            if (
                isinstance(p, dict)
                and p.get("period") != "shootout"
                and p.get("play_direction") not in ("left_right", "right_left")
            ):
                out.append(
                    f"{path.name}.match.periods.{i}: 'play_direction' must be "
                    "'left_right' or 'right_left'"
                )
        meta = doc.get("meta")
        tracking = meta.get("tracking") if isinstance(meta, dict) else None
        if isinstance(tracking, dict):
            _check(tracking, _META_TRACKING, f"{path.name}.meta.tracking", out)
    return out
