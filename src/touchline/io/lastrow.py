"""LastRow tracking CSVs: one goal play, all players and the ball, in 0..100 pitch units.

The Last Row project (Ricardo Tavares) published goal sequences as long CSVs with the columns
``player, frame, x, y, z, dx, dy, coords, player_num, player_obj, team, num, name, edgecolor,
bgcolor``, 20 frames per second. ``x`` and ``y`` are in the ``"lastrow"`` coordinate system of
:mod:`touchline.pitch` (0..100 along each axis, origin bottom-left, y up). The ball is the one id
without a team (id 0 in every published file); ``team`` is ``"attack"`` (the side that scores)
or ``"defense"``; ``player_num`` is the shirt number when the author knew it.

Mapping to the tracks table (see :mod:`touchline.tracking_meta` for the metadata):

* the ball becomes track 0, class ``"ball"``, team -1;
* attackers become team 0 and defenders team 1, with track ids 1.. in that order (ascending
  LastRow id within each team);
* a team's goalkeeper is the player who stands nearest his own goal in at least half of the
  frames, at a median distance of at most 20 m from it; other players are ``"player"`` (the
  attacking side's goalkeeper is usually not in the file);
* ``attack_direction`` comes from where the ball ends the play (the goal it went into) when
  that is in an outer third of the pitch, else from where the teams stand;
* LastRow's ``z`` has no documented unit, so ``pitch_z`` is left NaN.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from touchline.errors import DataError
from touchline.io._common import BALL_TRACK_ID, build_tracks, existing_file
from touchline.io.meta import infer_attack_direction
from touchline.pitch import Pitch, convert
from touchline.tracking_meta import AttackDirection, PeriodInfo, PlayerInfo, TeamInfo, TrackingMeta
from touchline.tracks import Tracks

__all__ = ["LASTROW_COLUMNS", "LASTROW_TEAMS", "read_lastrow"]

LASTROW_COLUMNS: tuple[str, ...] = ("player", "frame", "x", "y", "team")
"""Columns a LastRow CSV must have (the others are optional)."""

LASTROW_TEAMS: tuple[str, ...] = ("attack", "defense")
"""LastRow ``team`` values, in touchline team order (0 attack, 1 defense)."""

GOALKEEPER_MAX_DISTANCE = 20.0
"""Metres: a goalkeeper's median distance from the centre of his goal is at most this."""

GOALKEEPER_MIN_SHARE = 0.5
"""A goalkeeper is his team's player nearest to its goal in at least this share of frames."""


def read_lastrow(
    path: str | os.PathLike[str],
    *,
    fps: float = 20.0,
    pitch: tuple[float, float] = (105.0, 68.0),
) -> Tracks:
    """Read a LastRow tracking CSV into a tracks table in touchline metres.

    Args:
        path: the CSV (e.g. ``LIV_[2]-1_CHE.csv``).
        fps: frame rate of the play (LastRow files are 20 fps).
        pitch: ``(length, width)`` of the pitch in metres the 0..100 units are scaled to.

    Returns:
        Tracks with ``time = frame / fps``, one period, the columns ``period`` and ``pitch_z``
        and the metadata of :mod:`touchline.tracking_meta` (``source`` ``"lastrow"``, ``match_id`` the
        file stem, teams ``"attack"``/``"defense"``, ``players[..]["provider_id"]`` the LastRow
        id, ``jersey`` from ``player_num``).

    Raises:
        DataError: naming the file: missing file, not a CSV, missing columns, no ball (an id
            without a team) or several, unknown team values, an id twice in a frame.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "goal.csv"
    >>> _ = p.write_text("player,frame,x,y,team\\n0,0,60,50,\\n7,0,60,50,attack\\n"
    ...     "3,0,98,50,defense\\n0,1,100.5,50,\\n7,1,61,50,attack\\n3,1,99,50,defense\\n")
    >>> t = read_lastrow(p)
    >>> t.df[["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]]
       frame  track_id  class_name  team  pitch_x  pitch_y
    0      0         0        ball    -1    63.00     34.0
    1      0         1      player     0    63.00     34.0
    2      0         2  goalkeeper     1   102.90     34.0
    3      1         0        ball    -1   105.52     34.0
    4      1         1      player     0    64.05     34.0
    5      1         2  goalkeeper     1   103.95     34.0
    >>> t.meta.attack_direction[1].value, t.meta.players[2].provider_id
    ('right', '3')
    """
    path = existing_file(path, "LastRow CSV")
    try:
        fps = float(fps)
        if not fps > 0:
            raise ValueError
    except (TypeError, ValueError):
        raise DataError(f"{path}: fps must be a positive number, got {fps!r}") from None
    try:
        geometry = Pitch.of_size(float(pitch[0]), float(pitch[1]))
    except (TypeError, ValueError, IndexError, DataError) as e:
        raise DataError(
            f"{path}: pitch must be (length, width) of a real pitch in metres, got {pitch!r} ({e})"
        ) from None
    df = _read_csv(path)

    player = df["player"].to_numpy(np.int64)
    frame = df["frame"].to_numpy(np.int64)
    team_text = df["team"]
    no_team = team_text.isna().to_numpy() | (team_text.astype(str).str.strip() == "").to_numpy()
    ball_ids = np.unique(player[no_team])
    if ball_ids.size != 1:
        found = "none" if ball_ids.size == 0 else f"ids {ball_ids.tolist()}"
        raise DataError(
            f"{path}: expected exactly one ball id (the rows without a team), found {found}"
        )
    labels = team_text.astype(str).str.strip().str.lower().to_numpy()
    bad = sorted({str(v) for v in labels[~no_team]} - set(LASTROW_TEAMS))
    if bad:
        raise DataError(
            f"{path}: column 'team': expected {list(LASTROW_TEAMS)} or empty (ball), got {bad}"
        )
    key = pd.DataFrame({"player": player, "frame": frame})
    dup = key.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"{path}: player {player[i]} appears twice in frame {frame[i]} "
            f"({int(dup.sum())} duplicate rows in all)"
        )

    # Track ids: ball 0, attackers 1.., then defenders, ascending LastRow id within a team.
    team = np.where(no_team, -1, (labels == LASTROW_TEAMS[1]).astype(np.int64))
    ids_by_team = [np.unique(player[team == k]) for k in (0, 1)]
    provider_ids = np.concatenate(ids_by_team)
    track_of = {int(pid): k + 1 for k, pid in enumerate(provider_ids)}
    track_of[int(ball_ids[0])] = BALL_TRACK_ID
    track_id = np.array([track_of[int(p)] for p in player], dtype=np.int64)

    xy = convert(
        df[["x", "y"]].to_numpy(np.float64), "lastrow", "touchline", pitch=geometry
    ).astype(np.float64)
    is_ball = track_id == BALL_TRACK_ID
    direction = _attack_direction(frame, xy, is_ball, team, geometry)
    goalkeepers = _goalkeepers(frame, xy, track_id, team, direction, geometry)

    class_name = np.where(is_ball, "ball", "player").astype(object)
    class_name[np.isin(track_id, list(goalkeepers))] = "goalkeeper"

    players = {
        track_of[int(pid)]: PlayerInfo(
            team=k,
            name=_first_text(df, "name", player == pid),
            jersey=_first_int(df, "player_num", player == pid),
            provider_id=str(int(pid)),
            position="Goalkeeper" if track_of[int(pid)] in goalkeepers else None,
        )
        for k, ids in enumerate(ids_by_team)
        for pid in ids
    }
    teams = {
        k: TeamInfo(
            name=name,
            provider_id=name,
            color=_first_text(df, "bgcolor", team == k),
        )
        for k, name in enumerate(LASTROW_TEAMS)
    }
    meta = TrackingMeta(
        source="lastrow",
        files=(path.name,),
        match_id=path.stem,
        teams=teams,
        players=players,
        periods=(
            PeriodInfo(
                id=1,
                start_time=float(frame.min()) / fps,
                end_time=float(frame.max()) / fps,
                start_frame=int(frame.min()),
                end_frame=int(frame.max()),
            ),
        ),
        attack_direction={1: direction},
    )
    return build_tracks(
        frame=frame,
        time=frame / fps,
        track_id=track_id,
        class_name=class_name,
        team=team,
        pitch_x=xy[:, 0],
        pitch_y=xy[:, 1],
        period=np.ones(len(frame), np.int8),
        fps=fps,
        pitch_size=geometry.dims.size,
        meta=meta,
    )


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as e:
        raise DataError(f"{path}: not a readable CSV file ({e})") from None
    missing = [c for c in LASTROW_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: missing columns {missing}; a LastRow CSV has {list(LASTROW_COLUMNS)} "
            f"(found {list(df.columns)[:15]})"
        )
    for name in ("player", "frame"):
        values = pd.to_numeric(df[name], errors="coerce")
        if values.isna().any() or not (values == values.round()).all():
            i = int(np.flatnonzero((values.isna() | (values != values.round())).to_numpy())[0])
            raise DataError(
                f"{path}: column {name!r}: expected integers, got {df[name].iloc[i]!r} at row {i}"
            )
        df[name] = values.astype(np.int64)
    for name in ("x", "y"):
        values = pd.to_numeric(df[name], errors="coerce")
        bad = values.isna() & df[name].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{path}: column {name!r}: expected numbers, got {df[name].iloc[i]!r} at row {i}"
            )
        df[name] = values.astype(np.float64)
    if df.empty:
        raise DataError(f"{path}: the LastRow CSV has no rows")
    return df


def _first_text(df: pd.DataFrame, column: str, rows: np.ndarray) -> str | None:
    if column not in df.columns:
        return None
    values = df.loc[rows, column].dropna()
    values = values[values.astype(str).str.strip() != ""]
    return None if values.empty else str(values.iloc[0])


def _first_int(df: pd.DataFrame, column: str, rows: np.ndarray) -> int | None:
    if column not in df.columns:
        return None
    values = pd.to_numeric(df.loc[rows, column], errors="coerce").dropna()
    values = values[values == values.round()]
    return None if values.empty else int(values.iloc[0])


def _attack_direction(
    frame: np.ndarray, xy: np.ndarray, is_ball: np.ndarray, team: np.ndarray, pitch: Pitch
) -> AttackDirection | None:
    """Towards the goal the ball ends the play in, else from where the teams stand."""
    ball = xy[is_ball]
    ball_frames = frame[is_ball]
    ok = np.isfinite(ball).all(axis=1)
    if ok.any():
        x_end = float(ball[ok][np.argmax(ball_frames[ok]), 0])
        if x_end < pitch.length / 3:
            return AttackDirection.LEFT
        if x_end > 2 * pitch.length / 3:
            return AttackDirection.RIGHT
    people = ~is_ball
    df = pd.DataFrame(
        {"team": team[people], "class_name": "player", "pitch_x": xy[people, 0]}
    )  # attackers are team 0, so "right" here is the attacking direction
    return infer_attack_direction(df, pitch.length).get(1)


def _goalkeepers(
    frame: np.ndarray,
    xy: np.ndarray,
    track_id: np.ndarray,
    team: np.ndarray,
    direction: AttackDirection | None,
    pitch: Pitch,
) -> set[int]:
    """Track ids of the goalkeepers found (at most one per team); none without a direction."""
    if direction is None:
        return set()
    attacked = np.array(
        [pitch.length if direction is AttackDirection.RIGHT else 0.0, pitch.width / 2]
    )
    own_goal = {0: np.array([pitch.length, pitch.width]) - attacked, 1: attacked}
    out: set[int] = set()
    for k in (0, 1):
        rows = (team == k) & np.isfinite(xy).all(axis=1)
        if not rows.any():
            continue
        dist = np.hypot(*(xy[rows] - own_goal[k]).T)
        table = pd.DataFrame({"frame": frame[rows], "track": track_id[rows], "dist": dist})
        nearest = table.loc[table.groupby("frame")["dist"].idxmin(), "track"]
        counts = nearest.value_counts()
        candidate = int(counts.index[0])
        share = float(counts.iloc[0]) / table["frame"].nunique()
        median = float(table.loc[table["track"] == candidate, "dist"].median())
        if share >= GOALKEEPER_MIN_SHARE and median <= GOALKEEPER_MAX_DISTANCE:
            out.add(candidate)
    return out
