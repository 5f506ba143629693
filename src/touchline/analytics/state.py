"""Game states: a tracks table as dense per-frame arrays, the input of every analysis of play.

:class:`GameStates` holds, for ``F`` frames and ``P`` people (players and goalkeepers of the
two teams), positions ``xy (F, P, 2)`` and velocities ``vel (F, P, 2)`` in pitch metres (NaN
where a person is not seen), each person's team and goalkeeper flag, the ball ``(F, 2)`` and
which way team 0 attacks in each frame. Built once from a :class:`~touchline.tracks.Tracks`
with vectorised indexing, it lets pitch control, possession and EDG run over a whole match
without per-frame DataFrame filtering.

Attacking direction (``direction[f]``: +1 when team 0 attacks towards ``x = length``, -1
towards ``x = 0``) comes from ``tracks.meta.attack_direction`` (by period, see
:meth:`~touchline.tracks.Tracks.row_periods`) when the importer recorded it; otherwise it is
inferred per period from where each team's goalkeeper (else its outfield players) stands on
average: a team defends the goal it stands nearer to.

>>> import pandas as pd
>>> df = pd.DataFrame({"frame": np.repeat([0, 1, 2], 3), "track_id": [0, 5, 6] * 3,
...     "class_name": ["ball", "player", "player"] * 3, "team": [-1, 0, 1] * 3,
...     "pitch_x": [50., 40., 60., 51., 41., 60., 52., 42., 60.], "pitch_y": 30.0})
>>> s = GameStates.from_tracks(Tracks.from_positions(df, fps=10))
>>> s.xy.shape, s.ball[1].tolist(), s.vel[:, 0].round(1).tolist(), s.direction.tolist()
((3, 2, 2), [51.0, 30.0], [[10.0, 0.0], [10.0, 0.0], [10.0, 0.0]], [1, 1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch
from touchline.tracking_meta import AttackDirection
from touchline.tracks import Tracks
from touchline.types import ObjectClass

__all__ = ["GameStates"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_PEOPLE = (int(ObjectClass.PLAYER), int(ObjectClass.GOALKEEPER))


@dataclass(frozen=True)
class GameStates:
    """Dense per-frame arrays of a tracks table (see the module docstring).

    Attributes:
        frames: ``(F,)`` frame indices, increasing.
        times: ``(F,)`` seconds.
        ids: ``(P,)`` track ids of the people.
        team: ``(P,)`` 0 or 1.
        goalkeeper: ``(P,)`` True for a goalkeeper.
        xy: ``(F, P, 2)`` pitch positions, m (float32); NaN where not seen.
        vel: ``(F, P, 2)`` velocities, m/s (float32); NaN where unknown.
        ball: ``(F, 2)`` ball position, m; NaN where not seen.
        direction: ``(F,)`` +1 when team 0 attacks towards ``x = length``, -1 otherwise.
        period: ``(F,)`` match period (1 when the table has none).
        pitch: the pitch.
    """

    frames: IntArray
    times: FloatArray
    ids: IntArray
    team: NDArray[np.int8]
    goalkeeper: NDArray[np.bool_]
    xy: NDArray[np.float32]
    vel: NDArray[np.float32]
    ball: FloatArray
    direction: NDArray[np.int8]
    period: IntArray
    pitch: Pitch

    def __len__(self) -> int:
        return int(self.frames.size)

    def index(self, frame: int) -> int:
        """Row of ``frame`` in the arrays (DataError when the table has no such frame)."""
        k = int(np.searchsorted(self.frames, frame))
        if k >= self.frames.size or self.frames[k] != frame:
            raise DataError(
                f"frame {frame} is not in the tracks (frames {self.frames[0]}..{self.frames[-1]})"
                if self.frames.size
                else f"frame {frame}: the tracks are empty"
            )
        return k

    def side(self, k: int, team: int) -> tuple[FloatArray, FloatArray, int | None]:
        """Positions, velocities and goalkeeper row of ``team`` at array row ``k`` (seen only)."""
        sel = (self.team == team) & np.isfinite(self.xy[k]).all(axis=1)
        gk = np.flatnonzero(self.goalkeeper[sel])
        return self.xy[k, sel], self.vel[k, sel], int(gk[0]) if gk.size else None

    def attack(self, k: int, team: int) -> str:
        """``"right"`` or ``"left"``: the way ``team`` attacks at array row ``k``."""
        d = int(self.direction[k]) * (1 if team == 0 else -1)
        return "right" if d > 0 else "left"

    @classmethod
    def from_tracks(
        cls, tracks: Tracks, *, max_speed: float | None = 12.0, window: int | None = None
    ) -> GameStates:
        """Build the arrays from a tracks table (pitch positions; boxes are not needed).

        People are rows of class player or goalkeeper with team 0 or 1 (a track's team and
        goalkeeper flag are its majority values); the ball is the most confident ball row of
        each frame. Velocities are the table's ``vx``/``vy`` columns when present, else
        :func:`touchline.trajectories.kinematics` (``window``, ``max_speed``).
        """
        from touchline.trajectories import kinematics

        df = tracks.df
        for col in ("frame", "track_id", "pitch_x", "pitch_y"):
            if col not in df.columns:
                raise DataError(f"game states: the tracks table has no {col!r} column")
        if not len(df):
            raise DataError("game states: the tracks table is empty")
        cls_id = _class_ids(df)
        frames = np.unique(df["frame"].to_numpy(np.int64))
        fi_all = np.searchsorted(frames, df["frame"].to_numpy(np.int64))
        times = np.full(frames.size, np.nan)
        if "time" in df.columns:
            times[fi_all] = df["time"].to_numpy(np.float64)
        if not np.isfinite(times).all():
            fps = tracks.fps or 25.0
            times = np.where(np.isfinite(times), times, frames / fps)
        team_all = df["team"].to_numpy(np.int64) if "team" in df.columns else np.full(len(df), -1)
        people = np.isin(cls_id, _PEOPLE) & np.isin(team_all, (0, 1))
        pdf = df[people]
        if not {"vx", "vy"} <= set(pdf.columns):
            pdf = pdf.assign(time=times[fi_all[people]])  # with the fallback times
            pdf = kinematics(pdf, fps=None, max_speed=max_speed, max_accel=None, window=window)
        ids = np.unique(pdf["track_id"].to_numpy(np.int64))
        pi = np.searchsorted(ids, pdf["track_id"].to_numpy(np.int64))
        fi = fi_all[people]
        n_f, n_p = frames.size, ids.size
        # float32: a broadcast match has hundreds of (partly seen) tracks over ~35k frames
        xy = np.full((n_f, n_p, 2), np.nan, np.float32)
        vel = np.full((n_f, n_p, 2), np.nan, np.float32)
        xy[fi, pi, 0] = pdf["pitch_x"].to_numpy(np.float64)
        xy[fi, pi, 1] = pdf["pitch_y"].to_numpy(np.float64)
        vel[fi, pi, 0] = pdf["vx"].to_numpy(np.float64)
        vel[fi, pi, 1] = pdf["vy"].to_numpy(np.float64)
        # Run ends have no central difference: carry the neighbouring velocity (two frames at
        # most) so the first and last seen frames of a player do not stand still.
        _carry_ends(vel, np.isfinite(xy[..., 0]), frames=2)
        team = _majority(pi, team_all[people], n_p).astype(np.int8)
        gk_votes = np.bincount(
            pi, weights=cls_id[people] == int(ObjectClass.GOALKEEPER), minlength=n_p
        )
        goalkeeper = gk_votes > np.bincount(pi, minlength=n_p) / 2
        ball = np.full((n_f, 2), np.nan)
        is_ball = cls_id == int(ObjectClass.BALL)
        if is_ball.any():
            bdf = df[is_ball]
            conf = (
                bdf["confidence"].to_numpy(np.float64)
                if "confidence" in bdf.columns
                else np.zeros(len(bdf))
            )
            conf = np.nan_to_num(conf, nan=-1.0)
            ok = np.isfinite(bdf[["pitch_x", "pitch_y"]].to_numpy(np.float64)).all(axis=1)
            order = np.lexsort((conf, ok))  # best last: seen, then most confident
            bfi = fi_all[is_ball][order]
            ball[bfi] = bdf[["pitch_x", "pitch_y"]].to_numpy(np.float64)[order]
        period = np.ones(n_f, np.int64)
        period[fi_all] = tracks.row_periods()
        pitch = Pitch.of_size(*tracks.pitch_size)
        people_rows = pdf.assign(
            period=period[fi],
            class_name=np.where(
                cls_id[people] == int(ObjectClass.GOALKEEPER), "goalkeeper", "player"
            ),
        )
        direction = _directions(tracks.meta.attack_direction, period, people_rows, pitch)
        return cls(frames, times, ids, team, goalkeeper, xy, vel, ball, direction, period, pitch)


def _carry_ends(vel: np.ndarray, seen: np.ndarray, frames: int) -> None:
    """In place: unknown velocities of seen people take the value up to ``frames`` earlier,
    else up to ``frames`` later (forward, then backward fill with a limit)."""
    for direction in (1, -1):
        for _ in range(frames):
            todo = seen & ~np.isfinite(vel[..., 0])
            if not todo.any():
                return
            src = np.roll(vel, direction, axis=0)
            if direction == 1:
                src[0] = np.nan
            else:
                src[-1] = np.nan
            vel[todo] = src[todo]


def _class_ids(df: pd.DataFrame) -> IntArray:
    """Class ids from ``class_id``, falling back to ``class_name`` where it is -1 or absent."""
    from touchline.types import CLASS_NAMES

    n = len(df)
    out = df["class_id"].to_numpy(np.int64).copy() if "class_id" in df.columns else np.full(n, -1)
    if "class_name" in df.columns and (out < 0).any():
        names = df["class_name"].astype(str).str.lower().to_numpy()
        for k, name in enumerate(CLASS_NAMES):
            out[(out < 0) & (names == name)] = k
    return out


def _majority(group: IntArray, values: IntArray, n: int) -> IntArray:
    """Most frequent value of ``values`` (0 or 1) per group."""
    ones = np.bincount(group, weights=values == 1, minlength=n)
    total = np.bincount(group, minlength=n)
    return (ones * 2 > total).astype(np.int64)


def _directions(
    given: dict[int, AttackDirection | None], period: IntArray, people: pd.DataFrame, pitch: Pitch
) -> NDArray[np.int8]:
    """+1/-1 per frame: the recorded direction of its period, else inferred, else right."""
    from touchline.io.meta import infer_attack_direction

    out = np.zeros(period.size, np.int8)
    inferred: dict[int, AttackDirection | None] = {}
    for p in (int(v) for v in np.unique(period)):
        value = given.get(p)
        if value is None:
            inferred = inferred or infer_attack_direction(people, pitch.length)
            value = inferred.get(p) or AttackDirection.RIGHT
        out[period == p] = value.sign
    return out
