"""Expected Discounted Goal (EDG): the discounted expected goals of a game state.

Narya valued a game state with a reinforcement-learning agent trained in Google Research
Football (TensorFlow 1). We compute the same quantity, the expected discounted goals of the team
in possession, from two models we can check separately: Spearman's pitch control
(:mod:`touchline.analytics.pitch_control`) and a value surface ``V`` (EPV, or expected threat
fitted by value iteration: :mod:`touchline.analytics.value`, :mod:`touchline.analytics.xt`).

The model is one Bellman backup of the value surface through pitch control::

    EDG(s) = discount * sum_y T(y | b) * [ PC_A(y) * V_A(y)  -  counter * (1 - PC_A(y)) * V_B(y) ]

* ``b`` is the ball; ``y`` runs over the cells of the pitch-control grid.
* ``T(y | b)`` is where the team in possession A plays the ball next: a distance kernel
  ``exp(-|y - b| / move_scale)`` normalised over the cells (the ball's own cell is "keep the
  ball"). For this 2-D kernel the mean distance of a move is ``2 * move_scale``; the default
  8 m matches the mean pass of the Metrica sample games (16.0 m over 1,763 passes, see
  :func:`fit_move_scale`).
* ``PC_A(y)`` is the probability that A controls a ball played to ``y`` now, with the ball's
  travel time from ``b``: a move into space A controls keeps the possession.
* ``V_A(y)`` is the value of A having the ball at ``y`` (attacking A's direction), that is the
  discounted probability that the possession ends in a goal.
* With ``counter`` > 0, a lost ball costs the value of the opponent's possession there
  (``V_B``, the surface in B's direction): the net EDG of A. The default (0) gives A's own
  expected discounted goals, which is never negative.
* ``discount`` discounts the move by one step (the value surface discounts the later ones).

Assumptions: the next move is chosen by distance alone (not by its value: EDG values the
state, not the best decision); players keep their velocities during the reaction time as in
the pitch-control model; the value surface depends only on where the ball is, not on the
players, which is what pitch control adds. ``edg_map`` evaluates hypothetical ball positions
with the players where they are; ``edg_series`` evaluates every frame of a tracks table with
the team in possession from :func:`touchline.analytics.possession.possession`.

>>> import numpy as np
>>> from touchline.analytics.value import ValueSurface
>>> v = ValueSurface.from_function(lambda x, y: x / 105.0, grid=(50, 32))
>>> att, dfn = [[90.0, 34.0], [80.0, 20.0]], [[60.0, 34.0], [50.0, 40.0]]
>>> near = edg(att, None, dfn, None, [90.0, 34.0], v)
>>> far = edg(att, None, dfn, None, [30.0, 34.0], v)
>>> bool(near.value > far.value > 0)
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from touchline.analytics.pitch_control import (
    PitchControlParams,
    PitchControlResult,
    grid_centres,
    pitch_control,
)
from touchline.analytics.possession import GOAL_HALF_WIDTH
from touchline.analytics.state import GameStates
from touchline.errors import DataError
from touchline.pitch import Pitch

if TYPE_CHECKING:
    from touchline.analytics.possession import Possession
    from touchline.analytics.value import ValueSurface

__all__ = [
    "EdgMap",
    "EdgParams",
    "EdgResult",
    "edg",
    "edg_map",
    "edg_series",
    "fit_move_scale",
    "move_kernel",
    "smooth_edg",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EdgParams:
    """Parameters of the EDG model (see the module docstring).

    Attributes:
        move_scale: length scale of the next-move kernel, m (mean move ``2 * move_scale``).
        discount: discount of the one move EDG looks ahead.
        counter: weight of the opponent's value where the ball would be lost (0: A's own
            expected goals; 1: net of the goals A would concede).
        grid: pitch-control grid ``(nx, ny)``.
        pitch_control: parameters of the pitch-control model.
    """

    move_scale: float = 8.0
    discount: float = 0.95
    counter: float = 0.0
    grid: tuple[int, int] = (50, 32)
    pitch_control: PitchControlParams = field(default_factory=PitchControlParams)

    def __post_init__(self) -> None:
        if not self.move_scale > 0:
            raise DataError(f"EdgParams.move_scale must be > 0, got {self.move_scale}")
        if not 0 < self.discount <= 1:
            raise DataError(f"EdgParams.discount must be in (0, 1], got {self.discount}")
        if self.counter < 0:
            raise DataError(f"EdgParams.counter must be >= 0, got {self.counter}")


@dataclass(frozen=True)
class EdgResult:
    """EDG of one game state.

    Attributes:
        value: the EDG.
        contribution: ``(ny, nx)`` each cell's term of the sum (sums to ``value``).
        move: ``(ny, nx)`` the next-move distribution ``T(y | b)``.
        pitch_control: the pitch control the value used.
    """

    value: float
    contribution: FloatArray
    move: FloatArray
    pitch_control: PitchControlResult


def fit_move_scale(lengths: ArrayLike) -> float:
    """The ``move_scale`` whose kernel has the mean move length of ``lengths`` (m).

    >>> fit_move_scale([10.0, 20.0])
    7.5
    """
    arr = np.asarray(lengths, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        raise DataError("fit_move_scale: no finite move lengths")
    return float(arr.mean() / 2.0)


def move_kernel(
    ball_xy: ArrayLike, xs: FloatArray, ys: FloatArray, move_scale: float
) -> FloatArray:
    """``T(y | b)``: ``(..., ny, nx)`` next-move distributions for ``(..., 2)`` ball positions.

    >>> xs, ys = grid_centres((4, 2))
    >>> t = move_kernel([13.125, 17.0], xs, ys, 8.0)
    >>> round(float(t.sum()), 6), bool(t[0, 0] == t.max())
    (1.0, True)
    """
    b = np.asarray(ball_xy, dtype=np.float64)
    d = np.hypot(xs[None, :] - b[..., None, None, 0], ys[:, None] - b[..., None, None, 1])
    w = np.exp(-d / move_scale)
    return w / w.sum(axis=(-2, -1), keepdims=True)


def _values(
    surface: ValueSurface, xs: FloatArray, ys: FloatArray, attack: str
) -> tuple[FloatArray, FloatArray]:
    """A's and B's value on the grid when A attacks ``attack``."""
    if attack not in ("right", "left"):
        raise DataError(f"attack must be 'right' or 'left', got {attack!r}")
    right, left = surface.on_grid(xs, ys, attack="right"), surface.on_grid(xs, ys, attack="left")
    return (right, left) if attack == "right" else (left, right)


def _combine(
    pc: FloatArray, move: FloatArray, v_a: FloatArray, v_b: FloatArray, p: EdgParams
) -> FloatArray:
    term = pc * v_a
    if p.counter:
        term = term - p.counter * (1.0 - pc) * v_b
    return p.discount * move * term


def edg(
    attack_xy: ArrayLike,
    attack_vel: ArrayLike | None,
    defence_xy: ArrayLike,
    defence_vel: ArrayLike | None,
    ball_xy: ArrayLike,
    surface: ValueSurface,
    *,
    attack: str = "right",
    params: EdgParams | None = None,
    pitch: Pitch | None = None,
    attack_gk: int | None = None,
    defence_gk: int | None = None,
) -> EdgResult:
    """EDG of one state: the attacking team A (in possession) attacks ``attack``.

    Positions in pitch metres (touchline coordinates), velocities in m/s (``None`` or NaN:
    standing still); see :func:`~touchline.analytics.pitch_control.pitch_control`.
    """
    p = params or EdgParams()
    b = np.asarray(ball_xy, dtype=np.float64).reshape(2)
    if not np.isfinite(b).all():
        raise DataError("edg: the ball position is not known")
    pc = pitch_control(
        attack_xy,
        attack_vel,
        defence_xy,
        defence_vel,
        b,
        grid=p.grid,
        pitch=pitch,
        params=p.pitch_control,
        attack_gk=attack_gk,
        defence_gk=defence_gk,
    )
    v_a, v_b = _values(surface, pc.xs, pc.ys, attack)
    move = move_kernel(b, pc.xs, pc.ys, p.move_scale)
    contrib = _combine(np.nan_to_num(pc.attack, nan=0.5), move, v_a, v_b, p)
    return EdgResult(float(contrib.sum()), contrib, move, pc)


@dataclass(frozen=True)
class EdgMap:
    """EDG over hypothetical ball positions: ``value[iy, ix]`` with the ball at ``(xs[ix], ys[iy])``."""

    value: FloatArray
    xs: FloatArray
    ys: FloatArray


def edg_map(
    attack_xy: ArrayLike,
    attack_vel: ArrayLike | None,
    defence_xy: ArrayLike,
    defence_vel: ArrayLike | None,
    surface: ValueSurface,
    *,
    attack: str = "right",
    ball_grid: tuple[int, int] = (25, 16),
    params: EdgParams | None = None,
    pitch: Pitch | None = None,
    attack_gk: int | None = None,
    defence_gk: int | None = None,
) -> EdgMap:
    """EDG with the ball moved to each cell of ``ball_grid``, the players where they are.

    >>> from touchline.analytics.value import ValueSurface
    >>> v = ValueSurface.from_function(lambda x, y: x / 105.0, grid=(50, 32))
    >>> m = edg_map([[80.0, 34.0]], None, [[40.0, 34.0]], None, v, ball_grid=(6, 4))
    >>> m.value.shape, bool(m.value[:, -1].mean() > m.value[:, 0].mean())
    ((4, 6), True)
    """
    p = params or EdgParams()
    pitch = pitch or Pitch()
    bxs, bys = grid_centres(ball_grid, pitch)
    xs, ys = grid_centres(p.grid, pitch)
    v_a, v_b = _values(surface, xs, ys, attack)
    out = np.empty((bys.size, bxs.size))
    for iy, by in enumerate(bys):
        for ix, bx in enumerate(bxs):
            pc = pitch_control(
                attack_xy,
                attack_vel,
                defence_xy,
                defence_vel,
                (bx, by),
                grid=p.grid,
                pitch=pitch,
                params=p.pitch_control,
                attack_gk=attack_gk,
                defence_gk=defence_gk,
            )
            move = move_kernel((bx, by), xs, ys, p.move_scale)
            out[iy, ix] = _combine(np.nan_to_num(pc.attack, nan=0.5), move, v_a, v_b, p).sum()
    return EdgMap(out, bxs, bys)


def edg_series(
    states: GameStates,
    surface: ValueSurface,
    *,
    possession: Possession | None = None,
    team: int | None = None,
    params: EdgParams | None = None,
    smooth_seconds: float = 1.0,
    out_margin: float = 0.5,
    frames: Iterable[int] | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """EDG of the team in possession in every frame (or of ``team`` in every frame).

    Returns a DataFrame ``frame, time, team, edg, edg_smooth, space``: ``team`` is the team whose
    EDG it is (-1 and NaN EDG where unknown: no ball seen, the ball more than ``out_margin``
    metres outside the pitch (out of play) or over a goal line between the posts (in the net),
    or no team in possession);
    ``edg_smooth`` is a centred Savitzky-Golay fit (degree 2, ``smooth_seconds`` wide) within
    each run of frames with the same team; ``space`` is the share of the pitch that team
    controls (mean pitch control over the grid).

    Args:
        states: the game states.
        surface: the value surface.
        possession: per-frame possession (default :func:`~touchline.analytics.possession.possession`).
        team: evaluate this team (0 or 1) in every frame instead of the team in possession.
        params: model parameters.
        smooth_seconds: width of the smoothing window, s (0: none).
        out_margin: how far outside the lines the ball still counts as in play, m.
        frames: evaluate only these frames (others are left out of the result).
        progress: called as ``progress(done, total)`` after each frame.
    """
    from touchline.analytics.possession import possession as find_possession

    p = params or EdgParams()
    if team is not None and team not in (0, 1):
        raise DataError(f"edg_series: team must be 0, 1 or None, got {team!r}")
    rows = np.arange(len(states))
    if frames is not None:
        wanted = np.asarray(list(frames), dtype=np.int64)
        rows = rows[np.isin(states.frames, wanted)]
    if team is None:
        poss = possession if possession is not None else find_possession(states)
        teams = poss.team.astype(np.int64)
    else:
        teams = np.full(len(states), team, np.int64)
    xs, ys = grid_centres(p.grid, states.pitch)
    values = {a: _values(surface, xs, ys, a) for a in ("right", "left")}
    out = np.full(rows.size, np.nan)
    space = np.full(rows.size, np.nan)
    who = np.full(rows.size, -1, np.int64)
    ball = np.nan_to_num(states.ball, nan=-1e9)
    in_goal = ((ball[:, 0] < 0) | (ball[:, 0] > states.pitch.length)) & (
        np.abs(ball[:, 1] - states.pitch.width / 2) <= GOAL_HALF_WIDTH + 0.3
    )
    in_play = states.pitch.contains(ball, margin=out_margin) & ~in_goal
    for j, k in enumerate(rows.tolist()):
        t = int(teams[k])
        b = states.ball[k]
        if t >= 0 and np.isfinite(b).all() and in_play[k]:
            axy, avel, agk = states.side(k, t)
            dxy, dvel, dgk = states.side(k, 1 - t)
            pc = pitch_control(
                axy,
                avel,
                dxy,
                dvel,
                b,
                grid=p.grid,
                pitch=states.pitch,
                params=p.pitch_control,
                attack_gk=agk,
                defence_gk=dgk,
            )
            v_a, v_b = values[states.attack(k, t)]
            move = move_kernel(b, xs, ys, p.move_scale)
            control = np.nan_to_num(pc.attack, nan=0.5)
            out[j] = _combine(control, move, v_a, v_b, p).sum()
            space[j] = control.mean()
            who[j] = t
        if progress is not None:
            progress(j + 1, rows.size)
    series = pd.DataFrame(
        {
            "frame": states.frames[rows],
            "time": states.times[rows],
            "team": who,
            "edg": out,
            "edg_smooth": out,
            "space": space,
        }
    )
    series["edg_smooth"] = smooth_edg(series, smooth_seconds)
    return series


def smooth_edg(series: pd.DataFrame, seconds: float) -> FloatArray:
    """Centred Savitzky-Golay smoothing (degree 2, ``seconds`` wide) of ``series["edg"]``
    within each run of consecutive frames with the same team and finite values.

    >>> s = pd.DataFrame({"frame": range(7), "time": np.arange(7) / 5, "team": 0,
    ...                   "edg": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})
    >>> smooth_edg(s, 1.0).round(2).tolist()  # 5 frames wide at 5 frames/s
    [0.11, 0.54, 0.69, 0.31, 0.69, 0.54, 0.11]
    """
    from touchline.trajectories import savgol

    v = series["edg"].to_numpy(np.float64)
    out = v.copy()
    t = series["time"].to_numpy(np.float64)
    dt = np.diff(t)
    dt = dt[np.isfinite(dt) & (dt > 0)]
    fps = 1.0 / float(np.median(dt)) if dt.size else 25.0
    window = round(seconds * fps) | 1 if seconds > 0 else 0
    if window < 5:
        return out
    who = series["team"].to_numpy(np.int64)
    frame = series["frame"].to_numpy(np.int64)
    breaks = np.flatnonzero((np.diff(who) != 0) | (np.diff(frame) > 1) | ~np.isfinite(np.diff(v)))
    start = 0
    for end in [*(breaks + 1).tolist(), v.size]:
        seg = v[start:end]
        if seg.size >= window and np.isfinite(seg).all() and who[start] >= 0:
            out[start:end] = savgol(seg[:, None], window, 2)[:, 0]
        start = end
    return out
