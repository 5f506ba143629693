"""What happens on the pitch: actors (players, goalkeepers, referees, ball) and their motion.

A :class:`Scene` is a time series of pitch positions for a fixed cast of actors. It comes from
the simple game model in :mod:`touchline.synth.game` or from real tracking data read by
:mod:`touchline.io` (:func:`scene_from_tracks`, and :func:`scene_from_lastrow` for Last Row
CSVs).

>>> import numpy as np
>>> from touchline.types import ObjectClass
>>> s = Scene(fps=25.0, actors=[Actor(1, ObjectClass.BALL, -1, 0, KITS["ball"])],
...           xy=np.zeros((3, 1, 2)), z=np.zeros((3, 1)))
>>> s.n_frames, s.duration
(3, 0.12)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.io import read_lastrow, read_tracking
from touchline.pitch import Pitch
from touchline.tracks import Tracks
from touchline.types import ObjectClass

__all__ = [
    "KITS",
    "MAX_GAP",
    "TEAM_KITS",
    "Actor",
    "Kit",
    "Scene",
    "referee_motion",
    "scene_from_lastrow",
    "scene_from_tracks",
]

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class Kit:
    """Colours (BGR) of a figure: shirt, shorts, socks, plus skin and hair."""

    shirt: BGR
    shorts: BGR
    socks: BGR
    skin: BGR = (140, 170, 215)
    hair: BGR = (30, 35, 45)


# Contrasting team kits (BGR) and the kits of goalkeepers, referees and the ball.
TEAM_KITS: tuple[Kit, ...] = (
    Kit((40, 40, 200), (245, 245, 245), (40, 40, 200)),  # red / white
    Kit((245, 245, 245), (40, 40, 40), (245, 245, 245)),  # white / black
    Kit((170, 90, 20), (245, 245, 245), (170, 90, 20)),  # blue / white
    Kit((30, 200, 240), (150, 60, 20), (30, 200, 240)),  # yellow / blue
    Kit((60, 30, 120), (110, 40, 20), (60, 30, 120)),  # maroon / navy
    Kit((40, 40, 40), (40, 40, 40), (40, 40, 40)),  # black
    Kit((220, 180, 120), (60, 40, 20), (220, 180, 120)),  # sky blue / navy
    Kit((0, 140, 255), (20, 20, 20), (0, 140, 255)),  # orange / black
)
KITS: dict[str, Kit] = {
    "goalkeeper_a": Kit((60, 220, 60), (30, 30, 30), (60, 220, 60)),
    "goalkeeper_b": Kit((200, 60, 200), (30, 30, 30), (200, 60, 200)),
    "goalkeeper_c": Kit((30, 220, 240), (30, 30, 30), (30, 220, 240)),
    "referee": Kit((30, 30, 30), (25, 25, 25), (30, 30, 30)),
    "referee_alt": Kit((60, 230, 240), (25, 25, 25), (25, 25, 25)),
    "ball": Kit((250, 250, 250), (250, 250, 250), (250, 250, 250)),
}


@dataclass(frozen=True)
class Actor:
    """One person or the ball.

    Args:
        id: identity, unique and >= 1 (MOT convention).
        role: player, goalkeeper, referee or ball.
        team: 0 or 1 for team members, -1 otherwise.
        number: shirt number (0 when none).
        kit: colours.
        height: standing height in metres (the ball's diameter for the ball).
    """

    id: int
    role: ObjectClass
    team: int
    number: int
    kit: Kit
    height: float = 1.8


@dataclass
class Scene:
    """Pitch positions of a fixed cast over time.

    Args:
        fps: frames per second.
        actors: the cast, one column of ``xy`` each.
        xy: (T, N, 2) touchline metres; NaN while an actor is absent.
        z: (T, N) height above the ground in metres (non-zero only for a ball in the air).
        pitch: the pitch the positions live on.
        source: where the motion comes from (for the ground-truth metadata).
    """

    fps: float
    actors: list[Actor]
    xy: NDArray[np.float64]
    z: NDArray[np.float64]
    pitch: Pitch = field(default_factory=Pitch)
    source: str = "game-model"

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float64)
        self.z = np.asarray(self.z, dtype=np.float64)
        n = len(self.actors)
        if self.xy.ndim != 3 or self.xy.shape[1:] != (n, 2):
            raise DataError(f"scene xy must be (T, {n}, 2) for {n} actors, got {self.xy.shape}")
        if self.z.shape != self.xy.shape[:2]:
            raise DataError(f"scene z must be {self.xy.shape[:2]}, got {self.z.shape}")
        if self.fps <= 0:
            raise DataError(f"scene fps must be positive, got {self.fps}")
        ids = [a.id for a in self.actors]
        if len(set(ids)) != len(ids) or min(ids, default=1) < 1:
            raise DataError("actor ids must be unique and >= 1")

    @property
    def n_frames(self) -> int:
        return int(self.xy.shape[0])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def ball_index(self) -> int | None:
        for i, a in enumerate(self.actors):
            if a.role == ObjectClass.BALL:
                return i
        return None

    def velocity(self) -> NDArray[np.float64]:
        """(T, N, 2) velocities in m/s (central differences; zero for a single frame)."""
        if self.n_frames < 2:
            return np.zeros_like(self.xy)
        return np.gradient(self.xy, 1.0 / self.fps, axis=0)

    def velocity_at(self, k: int) -> NDArray[np.float64]:
        """(N, 2) velocities in m/s at frame ``k``, equal to ``velocity()[k]`` but O(N)."""
        T = self.n_frames
        if T < 2:
            return np.zeros_like(self.xy[k])
        if k == 0:
            return (self.xy[1] - self.xy[0]) * self.fps
        if k == T - 1:
            return (self.xy[-1] - self.xy[-2]) * self.fps
        return (self.xy[k + 1] - self.xy[k - 1]) * (self.fps / 2)

    def truncated(self, n_frames: int) -> Scene:
        """The first ``n_frames`` frames."""
        return Scene(
            self.fps, self.actors, self.xy[:n_frames], self.z[:n_frames], self.pitch, self.source
        )


# --------------------------------------------------------------------------------------------
# Officials
# --------------------------------------------------------------------------------------------
def _smooth_follow(
    target: NDArray[np.float64], fps: float, max_speed: float, lag: float
) -> NDArray[np.float64]:
    """Follow a (T, 2) target with a first-order lag and a speed cap."""
    out = np.empty_like(target)
    pos = target[0].copy()
    dt = 1.0 / fps
    for i in range(len(target)):
        step = (target[i] - pos) * min(1.0, dt / lag)
        n = float(np.hypot(*step))
        if n > max_speed * dt:
            step *= max_speed * dt / n
        pos = pos + step
        out[i] = pos
    return out


def referee_motion(
    ball: NDArray[np.float64],
    fps: float,
    pitch: Pitch,
    *,
    first_id: int = 900,
    kit: Kit | None = None,
) -> tuple[NDArray[np.float64], list[Actor]]:
    """The referee and two assistants following a ball trajectory (T, 2).

    The referee keeps a diagonal offset from the ball; the assistants walk the touchlines,
    each in one half, level with play. Returns positions (T, 3, 2) and the three actors
    (ids ``first_id`` .. ``first_id + 2``).
    """
    L, W = pitch.length, pitch.width
    b = np.where(np.isnan(ball), np.array([L / 2, W / 2]), ball)
    # The referee keeps play between himself and the far assistant: behind and goal-side.
    side = np.tanh((b[:, :1] - L / 2) / 20.0)
    ref_target = b + np.hstack([-6.0 - 4.0 * side, 8.0 - 2.0 * np.abs(side)])
    ref_target[:, 0] = np.clip(ref_target[:, 0], 3, L - 3)
    ref_target[:, 1] = np.clip(ref_target[:, 1], 3, W - 3)
    ref = _smooth_follow(ref_target, fps, 6.5, 0.8)
    ar1 = np.stack([np.clip(b[:, 0] + 6, L / 2, L - 1), np.full(len(b), -1.2)], axis=1)
    ar2 = np.stack([np.clip(b[:, 0] - 6, 1, L / 2), np.full(len(b), W + 1.2)], axis=1)
    ar1 = _smooth_follow(ar1, fps, 6.0, 0.5)
    ar2 = _smooth_follow(ar2, fps, 6.0, 0.5)
    kit = kit or KITS["referee"]
    actors = [
        Actor(first_id + i, ObjectClass.REFEREE, -1, 0, kit, h)
        for i, h in enumerate((1.82, 1.78, 1.80))
    ]
    return np.stack([ref, ar1, ar2], axis=1), actors


# --------------------------------------------------------------------------------------------
# Real tracking data
# --------------------------------------------------------------------------------------------
MAX_GAP = 1.0
"""Seconds: a track is not interpolated across a hole in its data longer than this."""

_TIME_TOL = 1e-6
"""Seconds: times this close are the same instant (clocks differ by float rounding)."""


def _resample(
    times: NDArray[np.float64],
    values: NDArray[np.float64],
    new_times: NDArray[np.float64],
    *,
    max_gap: float = np.inf,
    segment: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Linear interpolation of (T, ...) values at new times; NaN outside the data.

    ``times`` must be increasing. NaN values are skipped. A new time between two samples (of
    a column's non-NaN ones) more than ``max_gap`` apart, or in different ``segment`` s (one id
    per sample, e.g. the match period), is NaN; a new time within a microsecond of a sample's
    is its value.

    >>> t = np.array([0.0, 1.0, 5.0])
    >>> _resample(t, np.array([0.0, 10.0, 50.0]), np.array([0.5, 3.0, 5.0, 6.0]), max_gap=2.0)
    array([ 5., nan, 50., nan])
    """
    flat = values.reshape(len(values), -1)
    out = np.full((len(new_times), flat.shape[1]), np.nan)
    seg = np.zeros(len(times), np.int64) if segment is None else np.asarray(segment)
    for j in range(flat.shape[1]):
        ok = ~np.isnan(flat[:, j])
        if not ok.any():
            continue
        t, v, s = times[ok], flat[ok, j], seg[ok]
        col = np.interp(new_times, t, v, left=np.nan, right=np.nan)
        # The last sample at or before each new time, allowing for rounding in the clocks.
        i = np.searchsorted(t, new_times + _TIME_TOL, side="right") - 1
        ii = np.maximum(i, 0)
        exact = (i >= 0) & (np.abs(t[ii] - new_times) <= _TIME_TOL)
        col[exact] = v[ii[exact]]
        if len(t) > 1:
            k = np.minimum(ii, len(t) - 2)
            between = (i >= 0) & (i < len(t) - 1)
            keep = exact | (between & (t[k + 1] - t[k] <= max_gap) & (s[k + 1] == s[k]))
        else:
            keep = exact
        col[~keep] = np.nan
        out[:, j] = col
    return out.reshape((len(new_times), *values.shape[1:]))


def _color_bgr(name: str) -> BGR | None:
    """A matplotlib colour (``"red"``, ``"#c8102e"``) as BGR, ``None`` when not one."""
    try:
        from matplotlib.colors import to_rgb

        r, g, b = to_rgb(name.strip())
    except (ValueError, ImportError, AttributeError):
        return None
    return (round(b * 255), round(g * 255), round(r * 255))


def _distance(a: BGR, b: BGR) -> float:
    return float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))


def _team_kit(team: int, color: object) -> Kit:
    """A team's kit: the shirt (and socks) in the team's colour, shorts from the default kit
    whose shirt is nearest to it (white shorts for red or blue shirts); the default kit
    ``TEAM_KITS[team]`` without a usable colour."""
    shirt = _color_bgr(color) if isinstance(color, str) else None
    if shirt is None:
        return TEAM_KITS[team]
    nearest = min(TEAM_KITS, key=lambda k: _distance(k.shirt, shirt))
    return Kit(shirt, nearest.shorts, shirt)


def _official_kits(teams: tuple[Kit, Kit]) -> tuple[Kit, Kit, Kit]:
    """Goalkeeper kits of teams 0 and 1 and the referees' kit, as ``game.pick_kits`` chooses
    them (yellow referees when a team is dark), preferring goalkeeper kits unlike both teams."""
    gks = [KITS["goalkeeper_a"], KITS["goalkeeper_b"], KITS["goalkeeper_c"]]
    ref = KITS["referee"]
    if any(sum(k.shirt) < 200 for k in teams):
        ref = KITS["referee_alt"]
        gks.remove(KITS["goalkeeper_c"])
    unlike = [g for g in gks if all(_distance(g.shirt, k.shirt) > 120 for k in teams)]
    gks = unlike + [g for g in gks if g not in unlike]
    return gks[0], gks[1], ref


def _source_clock(
    tracks: Tracks, where: str, default_step: float
) -> tuple[NDArray[np.float64], NDArray[np.int64], float]:
    """Each row's time on the clock of the scene, its period's index, and the source frame step.

    Times come from the ``time`` column (``frame / fps`` when a row has none). Periods (the
    ``period`` column) are played back to back in id order, each starting one frame step after
    the previous one ends; the first starts at 0.
    """
    df = tracks.df
    time = df["time"].to_numpy(np.float64)
    if not np.isfinite(time).all():
        if not tracks.fps:
            raise DataError(
                f"{where}: rows without a time, and no fps to derive it from the frame number"
            )
        time = df["frame"].to_numpy(np.float64) / tracks.fps
    if "period" in df.columns:
        period = pd.to_numeric(df["period"], errors="coerce").fillna(1).to_numpy(np.int64)
    else:
        period = np.ones(len(df), np.int64)
    if tracks.fps:
        step = 1.0 / tracks.fps
    else:
        steps = [np.diff(np.unique(time[period == p])) for p in np.unique(period)]
        diffs = np.concatenate(steps)
        step = float(np.median(diffs)) if diffs.size else default_step
    clock = np.empty(len(df))
    segment = np.empty(len(df), np.int64)
    start = 0.0
    for k, p in enumerate(np.unique(period)):
        rows = period == p
        t = time[rows]
        clock[rows] = t - t.min() + start
        segment[rows] = k
        start += float(t.max() - t.min()) + step
    return clock, segment, step


def _mode(keys: NDArray[np.int64], values: NDArray[np.int64]) -> dict[int, int]:
    """The most frequent value per key (the smallest on a tie)."""
    counts = pd.DataFrame({"k": keys, "v": values}).value_counts().reset_index(name="n")
    counts = counts.sort_values(["k", "n", "v"], ascending=[True, False, True])
    first = counts.drop_duplicates("k")
    return dict(zip(first["k"].tolist(), first["v"].tolist(), strict=True))


def _source_label(tracks: Tracks, path: Path | None) -> str:
    source, files = tracks.meta.source, tracks.meta.files
    if source and files:
        return f"{source}:{'+'.join(files)}"
    return f"tracks:{path.name}" if path is not None else "tracks"


def scene_from_tracks(
    tracks: Tracks | str | os.PathLike[str],
    *,
    fps: float | None = None,
    pitch: Pitch | None = None,
    with_referees: bool = True,
    seconds: float | None = None,
    max_gap: float = MAX_GAP,
) -> Scene:
    """A scene from tracking data: any :mod:`touchline.io` reader's table, or a file it reads.

    Positions (``pitch_x``/``pitch_y``) are interpolated linearly from the table's times
    (``time``, else ``frame / fps``) to ``fps``, starting at the first row's time; an actor is
    NaN (absent) before its first and after its last sample, across holes in its data longer
    than ``max_gap`` seconds (or 1.5 source frames, if longer), and between periods, which play
    back to back (one source frame apart) in period order.

    Actors are the table's tracks: id = ``track_id`` (ids below 1, such as the ball's 0, take
    the next free ids), role and team the most frequent ``class_id`` and ``team`` of the track
    (unknown classes are players), shirt number ``meta.players[id].jersey`` (0 when
    unknown), ball height ``pitch_z`` where finite (else on the ground). Team kits take the
    shirt colour from ``meta.teams[team].color`` when it is a colour name or hex code,
    else the default kits; goalkeepers and referees get kits unlike both teams. A referee and
    two assistants following the ball are added when ``with_referees`` and the table has no
    referee.

    Args:
        tracks: a tracks table, or a path :func:`touchline.io.read_tracking` reads (touchline
            table, LastRow CSV, CDF); for kloppy providers use
            :func:`touchline.io.load_tracking` first.
        fps: frame rate of the scene (default: the table's fps, else 25).
        pitch: the pitch to play on (default: the table's pitch size); positions are scaled
            when its size differs from the table's.
        with_referees: add officials following the ball when the table has none.
        seconds: keep at most this much play (``round(seconds * fps)`` frames), which spares
            resampling a whole match for a short clip.
        max_gap: seconds; see above.

    Raises:
        DataError: the reader's errors (naming the file), an empty table, no finite pitch
            position, no time and no fps.
        ValueError: ``fps``, ``seconds`` or ``max_gap`` not positive.

    >>> import pandas as pd
    >>> t = Tracks.from_positions(pd.DataFrame({"frame": [0, 1, 0, 1], "track_id": [0, 0, 7, 7],
    ...     "class_name": ["ball", "ball", "player", "player"], "team": [-1, -1, 0, 0],
    ...     "pitch_x": [50.0, 52.0, 40.0, 41.0], "pitch_y": 30.0}), fps=10,
    ...     meta={"players": {"7": {"jersey": 9}}, "teams": {"0": {"color": "red"}}})
    >>> s = scene_from_tracks(t, fps=20, with_referees=False)
    >>> s.n_frames, s.xy[1, 1].tolist(), s.xy[1, 0].tolist()  # player, ball: halfway
    (3, [40.5, 30.0], [51.0, 30.0])
    >>> [(a.id, a.role.name, a.number, a.kit.shirt) for a in s.actors]
    [(8, 'BALL', 0, (250, 250, 250)), (7, 'PLAYER', 9, (0, 0, 255))]
    """
    path: Path | None = None
    if not isinstance(tracks, Tracks):
        path = Path(tracks)
        tracks = read_tracking(path)
    where = str(path) if path is not None else "tracks table"
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    fps = float(fps or tracks.fps or 25.0)
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    if not max_gap > 0:
        raise ValueError(f"max_gap must be positive, got {max_gap}")
    df = tracks.df
    if len(df) == 0:
        raise DataError(f"{where}: the tracks table is empty")
    pitch = pitch or Pitch.of_size(*tracks.pitch_size)
    clock, segment, step = _source_clock(tracks, where, 1.0 / fps)
    scale = np.array([pitch.length, pitch.width]) / np.array(tracks.pitch_size, np.float64)
    xy = df[["pitch_x", "pitch_y"]].to_numpy(np.float64) * scale
    if not np.isfinite(xy).all(axis=1).any():
        raise DataError(f"{where}: no row has a pitch position (pitch_x and pitch_y are NaN)")
    z = df["pitch_z"].to_numpy(np.float64) if "pitch_z" in df.columns else np.full(len(df), np.nan)

    n_out = int(np.floor(float(clock.max()) * fps + 1e-6)) + 1
    if seconds is not None:
        n_out = min(n_out, max(1, round(seconds * fps)))
    new_t = np.arange(n_out) / fps
    new_t = np.minimum(new_t, float(clock.max()))  # the last frame may fall 1e-9 s past the data
    gap = max(max_gap, 1.5 * step)

    # Rows that can matter: later ones are past the last frame by more than an interpolation gap.
    # Sorted by track, then time; a time repeated in a track keeps its last row.
    track_id = df["track_id"].to_numpy(np.int64)
    order = np.lexsort((clock, track_id))
    order = order[clock[order] <= new_t[-1] + gap]
    tid_s, t_s = track_id[order], clock[order]
    repeated = (tid_s[:-1] == tid_s[1:]) & (t_s[:-1] == t_s[1:])
    order = order[np.append(~repeated, True)]
    tid_s = track_id[order]
    roles = _mode(tid_s, df["class_id"].to_numpy(np.int64)[order])
    teams = _mode(tid_s, df["team"].to_numpy(np.int64)[order])
    meta_teams = tracks.meta.teams
    team_kits = tuple(
        _team_kit(k, meta_teams[k].color if k in meta_teams else None) for k in (0, 1)
    )
    gk_a, gk_b, ref_kit = _official_kits((team_kits[0], team_kits[1]))
    players = tracks.meta.players

    ids = sorted(roles)
    next_id = max(max(ids), 0) + 1
    actors: list[Actor] = []
    for tid in ids:
        c = roles[tid]
        role = ObjectClass(c) if c in set(ObjectClass) else ObjectClass.PLAYER
        team = teams[tid] if role in (ObjectClass.PLAYER, ObjectClass.GOALKEEPER) else -1
        aid = tid
        if tid < 1:
            aid, next_id = next_id, next_id + 1
        jersey = players[tid].jersey if tid in players else None
        number = jersey if jersey is not None and jersey > 0 else 0
        if role == ObjectClass.BALL:
            kit, height = KITS["ball"], 0.22
        else:
            height = 1.72 + 0.1 * ((aid * 7919) % 10) / 10
            if role == ObjectClass.REFEREE:
                kit = ref_kit
            elif role == ObjectClass.GOALKEEPER:
                kit = gk_b if team == 1 else gk_a
            else:
                kit = team_kits[1 if team == 1 else 0]
        actors.append(Actor(aid, role, team, number, kit, height))

    # Resample each track from its own samples.
    starts = np.searchsorted(tid_s, ids, side="left")
    ends = np.searchsorted(tid_s, ids, side="right")
    xy_all = np.full((n_out, len(ids), 2), np.nan)
    z_all = np.zeros((n_out, len(ids)))
    for a, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        rows = order[lo:hi]
        if rows.size == 0:
            continue
        is_ball = actors[a].role == ObjectClass.BALL
        values = np.column_stack([xy[rows], z[rows]]) if is_ball else xy[rows]
        res = _resample(clock[rows], values, new_t, max_gap=gap, segment=segment[rows])
        xy_all[:, a] = res[:, :2]
        if is_ball:
            z_all[:, a] = np.nan_to_num(np.clip(res[:, 2], 0.0, None), nan=0.0)

    if with_referees and not any(a.role == ObjectClass.REFEREE for a in actors):
        bi = next((i for i, a in enumerate(actors) if a.role == ObjectClass.BALL), None)
        ball = xy_all[:, bi] if bi is not None else np.full((n_out, 2), np.nan)
        first_id = max(a.id for a in actors) + 1
        ref_xy, refs = referee_motion(ball, fps, pitch, first_id=first_id, kit=ref_kit)
        actors += refs
        xy_all = np.concatenate([xy_all, ref_xy], axis=1)
        z_all = np.concatenate([z_all, np.zeros((n_out, len(refs)))], axis=1)
    return Scene(fps, actors, xy_all, z_all, pitch, source=_source_label(tracks, path))


def scene_from_lastrow(
    path: str | os.PathLike[str],
    *,
    fps: float = 25.0,
    source_fps: float = 20.0,
    pitch: Pitch | None = None,
    with_referees: bool = True,
) -> Scene:
    """A scene from a Last Row tracking CSV: :func:`touchline.io.read_lastrow` then
    :func:`scene_from_tracks`.

    The 0..100 units are scaled to ``pitch``; the ``source_fps`` (20 Hz) samples are
    interpolated to ``fps``. Attackers are team 0 and defenders team 1, with shirts in their
    ``bgcolor``; the goalkeepers :func:`~touchline.io.read_lastrow` recognises play as
    goalkeepers; shirt numbers come from ``player_num``. Referees are added following the ball.

    Raises:
        DataError: missing file, missing columns or no usable rows (the message names the file).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "goal.csv"
    >>> _ = p.write_text("player,frame,x,y,team,bgcolor\\n0,0,60,50,,\\n7,0,60,50,attack,red\\n"
    ...     "0,1,62,50,,\\n7,1,61,50,attack,red\\n")
    >>> s = scene_from_lastrow(p, fps=40.0, with_referees=False)
    >>> s.n_frames, s.source, [(a.role.name, a.team) for a in s.actors]
    (3, 'lastrow:goal.csv', [('BALL', -1), ('PLAYER', 0)])
    >>> s.xy[1, 0].round(3).tolist()  # halfway: (61, 50) in Last Row units
    [64.05, 34.0]
    """
    pitch = pitch or Pitch()
    tracks = read_lastrow(path, fps=source_fps, pitch=(pitch.length, pitch.width))
    return scene_from_tracks(tracks, fps=fps, pitch=pitch, with_referees=with_referees)
