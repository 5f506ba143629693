"""Expected threat (xT) fitted from event data by value iteration (Karun Singh, 2018).

Karun Singh's "Introducing Expected Threat" (karun.in/blog/expected-threat.html) values a ball
position by the probability that the team in possession scores from there within the next few
actions. The pitch is cut into cells ``z`` and, from the on-ball actions observed in each cell:

* ``P_shoot(z)``, ``P_move(z)``: the shares of actions in ``z`` that are shots and ball moves
  (passes, carries, dribbles, whether they succeed or not); they add up to 1;
* ``xG(z)``: the goal rate of the shots taken in ``z``;
* ``T(z -> z')``: the share of the moves started in ``z`` that *succeed* and end in ``z'``. A
  failed move ends the possession, which is worth 0 to the attackers, so it only appears through
  ``sum_z' T(z -> z') < 1`` (the rows of ``T`` add up to the cell's move success rate).

Then ``xT`` is the fixed point of ``xT(z) = P_shoot(z) xG(z) + discount P_move(z) sum_z'
T(z -> z') xT(z')``, found by value iteration from ``xT = 0`` until no cell changes by more than
``tol``. ``discount = 1`` (the default) is Singh's formulation; a discount below 1 makes later
goals worth less (and convergence faster). The fixed point is also the solution of the linear
system ``(I - discount diag(P_move) T) xT = P_shoot xG``, which the tests check.

Small samples (two matches give ~50 shots and ~3000 moves, a few per cell near goal): a cell
with a handful of actions would get an all-or-nothing ``xG``, ``P_shoot`` and ``T``. Each cell's
counts therefore get additive (Dirichlet/Beta-prior) pseudo-counts drawn from a prior:

* ``xG(z) = (goals_z + a_g g(z)) / (shots_z + a_g)``: ``xg_prior = a_g`` pseudo-shots at the
  prior goal rate ``g(z)``;
* ``P_shoot(z) = (shots_z + a q(z)) / (N_z + a)``, ``P_move(z) = (moves_z + a (1 - q(z))) /
  (N_z + a)`` and ``P_move(z) T(z -> z') = (successes_z->z' + a (1 - q(z)) U(z -> z')) / (N_z +
  a)``: ``action_prior = a`` pseudo-actions, a share ``q(z)`` of them shots and the rest moves
  with the prior outcomes ``U`` (``N_z``: the cell's shots and moves).

With ``prior_radius = r`` (default 1) the prior is the cell's ``(2r+1) x (2r+1)`` neighbourhood
(itself included): ``q`` and ``g`` are the pooled shot share and goal rate of the block, shrunk
with the same pseudo-counts to the whole sample's rates, and ``U`` is the pooled successful
moves of the block translated to start in the cell (each move keeps its displacement in cells,
clipped to the grid), over the block's moves. With ``prior_radius=None`` the prior is the whole
sample: ``q`` the global shot share, ``g`` the global goal rate, and ``U = 0`` (a pseudo-move
loses the ball). Cells with many actions keep their own rates; a cell nobody played in takes its
neighbours'. ``xg_prior = action_prior = 0`` gives Singh's raw frequencies.

Coordinates are touchline pitch metres (origin top-left, ``y`` down) with every action
normalised so that its team attacks to the right (towards ``x = L``); :func:`events_from_metrica_csv`
and :func:`events_from_kloppy` produce such :class:`Moves` and :class:`Shots` from event data.

>>> moves = Moves([[30.0, 34.0], [30.0, 34.0]], [[95.0, 34.0], [95.0, 34.0]], [True, False])
>>> shots = Shots([[95.0, 34.0], [95.0, 34.0]], [True, False])
>>> m = fit_xt(moves, shots, grid=(2, 1), xg_prior=0, action_prior=0)
>>> m.values.tolist(), m.converged
([[0.25, 0.5]], True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.analytics.value import ValueSurface
from touchline.errors import DataError
from touchline.pitch import Pitch

__all__ = [
    "METRICA_EVENT_FILES",
    "Moves",
    "Shots",
    "XtModel",
    "events_from_kloppy",
    "events_from_metrica_csv",
    "fit_xt",
    "fit_xt_from_files",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

METRICA_EVENT_FILES = (
    "tracking/metrica_events/Sample_Game_1_RawEventsData.csv",
    "tracking/metrica_events/Sample_Game_2_RawEventsData.csv",
)
"""Metrica's two sample games with csv event data, relative to the shared data folder."""


# --------------------------------------------------------------------------------------------
# Moves and shots: aligned arrays, touchline metres, attacking right
# --------------------------------------------------------------------------------------------
def _xy(a: ArrayLike, name: str) -> FloatArray:
    p = np.array(a, dtype=np.float64)
    if p.size == 0:
        return np.zeros((0, 2))
    if p.ndim != 2 or p.shape[1] != 2:
        raise DataError(f"{name} must be an (n, 2) array of (x, y) metres, got shape {p.shape}")
    return p


def _flags(a: ArrayLike, n: int, name: str) -> BoolArray:
    f = np.array(a, dtype=bool).reshape(-1) if np.size(a) else np.zeros(0, dtype=bool)
    if f.shape != (n,):
        raise DataError(f"{name} must have one flag per row, expected ({n},), got {f.shape}")
    return f


def _data(data: Mapping[str, ArrayLike], n: int, owner: str) -> dict[str, np.ndarray]:
    out = {}
    for key, value in data.items():
        v = np.asarray(value)
        if v.ndim < 1 or len(v) != n:
            raise DataError(f"{owner}.data[{key!r}] must have {n} rows, got shape {v.shape}")
        out[key] = v
    return out


def _merge_data(parts: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {}
    keys = set(parts[0])
    for p in parts[1:]:
        keys &= set(p)
    return {k: np.concatenate([p[k] for p in parts]) for k in sorted(keys)}


class _Rows:
    """Row-aligned arrays (the fields named by ``_columns``, in constructor order) and ``data``:
    what :class:`Moves` and :class:`Shots` share (row count, selection, concatenation)."""

    _columns: ClassVar[tuple[str, ...]]
    data: dict[str, np.ndarray]

    if TYPE_CHECKING:

        def __init__(self, *fields: Any) -> None: ...

        @classmethod
        def empty(cls) -> Self: ...

    def __len__(self) -> int:
        return len(getattr(self, self._columns[0]))

    def __getitem__(self, index: Any) -> Self:
        """Rows selected by a mask, slice or index array, every field sliced alike."""
        idx = np.arange(len(self))[index]
        columns = [getattr(self, c)[idx] for c in self._columns]
        return type(self)(*columns, {k: v[idx] for k, v in self.data.items()})

    @classmethod
    def merge(cls, parts: Iterable[Self]) -> Self:
        """All rows of ``parts`` in order; ``data`` keeps the keys every part has."""
        ps = list(parts)
        if not ps:
            return cls.empty()
        columns = [np.concatenate([getattr(p, c) for p in ps]) for c in cls._columns]
        return cls(*columns, _merge_data([p.data for p in ps]))


@dataclass(frozen=True, eq=False)
class Moves(_Rows):
    """Ball moves (passes, carries, dribbles): where each started and ended, and if it succeeded.

    Attributes:
        start: ``(n, 2)`` start points, touchline metres, the moving team attacking right.
        end: ``(n, 2)`` end points (for a failed move, where the ball went or was lost).
        success: ``(n,)`` True when the team kept the ball.
        data: per-row extras, each of length ``n`` (e.g. ``team``, ``period``, ``kind``).

    >>> m = Moves([[10.0, 5.0], [20.0, 5.0]], [[30.0, 5.0], [25.0, 9.0]], [True, False],
    ...           data={"kind": ["pass", "carry"]})
    >>> len(m), m[m.success].data["kind"].tolist(), len(Moves.merge([m, m]))
    (2, ['pass'], 4)
    """

    _columns: ClassVar[tuple[str, ...]] = ("start", "end", "success")

    start: FloatArray
    end: FloatArray
    success: BoolArray
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        start, end = _xy(self.start, "Moves.start"), _xy(self.end, "Moves.end")
        if start.shape != end.shape:
            raise DataError(f"Moves.end {end.shape} must match Moves.start {start.shape}")
        n = len(start)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "success", _flags(self.success, n, "Moves.success"))
        object.__setattr__(self, "data", _data(self.data, n, "Moves"))

    @classmethod
    def empty(cls) -> Moves:
        """No moves."""
        return cls(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, dtype=bool))


@dataclass(frozen=True, eq=False)
class Shots(_Rows):
    """Shots: where each was taken from and whether it was a goal.

    Attributes:
        xy: ``(n, 2)`` shot locations, touchline metres, the shooting team attacking right.
        goal: ``(n,)`` True for a goal.
        data: per-row extras, each of length ``n``.

    >>> s = Shots([[94.0, 34.0], [80.0, 20.0]], [True, False])
    >>> len(s), s[s.goal].xy.tolist(), len(Shots.merge([s, Shots.empty()]))
    (2, [[94.0, 34.0]], 2)
    """

    _columns: ClassVar[tuple[str, ...]] = ("xy", "goal")

    xy: FloatArray
    goal: BoolArray
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xy = _xy(self.xy, "Shots.xy")
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "goal", _flags(self.goal, len(xy), "Shots.goal"))
        object.__setattr__(self, "data", _data(self.data, len(xy), "Shots"))

    @classmethod
    def empty(cls) -> Shots:
        """No shots."""
        return cls(np.zeros((0, 2)), np.zeros(0, dtype=bool))


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class XtModel:
    """A fitted expected-threat model: the surface and every ingredient of its fixed point.

    Grids are ``(ny, nx)`` with row 0 at the top touchline (as :class:`ValueSurface`); the
    transition matrix indexes cells as ``iy * nx + ix`` (row-major, ``values.ravel()``).

    Attributes:
        surface: the xT values as a :class:`ValueSurface` (``name="xT"``).
        p_shoot, p_move: ``(ny, nx)`` smoothed shot and move shares (they add up to 1 where the
            cell had actions or a prior).
        xg: ``(ny, nx)`` smoothed goal rate of shots.
        transition: ``(ny*nx, ny*nx)`` ``T[z, z']``, successful moves ``z -> z'`` over all moves
            from ``z`` (rows add up to the move success rate; 0 for cells without moves).
        shot_count, goal_count, move_count, success_count: ``(ny, nx)`` raw counts per cell.
        discount: the discount factor used.
        iterations: value-iteration sweeps done.
        converged: whether the last sweep changed no cell by more than ``tol``.
        residual: the largest change in the last sweep.
    """

    surface: ValueSurface
    p_shoot: FloatArray
    p_move: FloatArray
    xg: FloatArray
    transition: FloatArray
    shot_count: IntArray
    goal_count: IntArray
    move_count: IntArray
    success_count: IntArray
    discount: float
    iterations: int
    converged: bool
    residual: float

    @property
    def values(self) -> FloatArray:
        """``(ny, nx)`` xT per cell (``surface.values``)."""
        return self.surface.values

    @property
    def grid(self) -> tuple[int, int]:
        """``(nx, ny)`` cell counts along the length and across the width."""
        ny, nx = self.surface.shape
        return (nx, ny)


def _cells(xy: FloatArray, nx: int, ny: int, pitch: Pitch) -> IntArray:
    """Flat cell index ``iy * nx + ix`` of each point; points off the pitch go to the edge."""
    ix = np.clip(np.floor(xy[:, 0] * (nx / pitch.length)), 0, nx - 1).astype(np.int64)
    iy = np.clip(np.floor(xy[:, 1] * (ny / pitch.width)), 0, ny - 1).astype(np.int64)
    return iy * nx + ix


def _box_sum(a: FloatArray, r: int) -> FloatArray:
    """Sum of ``a`` (ny, nx) over each cell's ``(2r+1) x (2r+1)`` block (zero outside)."""
    ny, nx = a.shape
    p = np.pad(a, r)
    c = p.cumsum(axis=0).cumsum(axis=1)
    c = np.pad(c, ((1, 0), (1, 0)))
    k = 2 * r + 1
    return c[k : k + ny, k : k + nx] - c[:ny, k : k + nx] - c[k : k + ny, :nx] + c[:ny, :nx]


def _pooled_transitions(
    s_ix: IntArray, s_iy: IntArray, e_ix: IntArray, e_iy: IntArray, nx: int, ny: int, r: int
) -> FloatArray:
    """Successful moves of each cell's neighbourhood, translated to start in that cell.

    A move ``(sx, sy) -> (ex, ey)`` started ``(ox, oy)`` cells away from cell ``z`` counts for
    ``z`` as ``z -> (ex - ox, ey - oy)`` (clipped to the grid): its displacement is kept.
    Returns ``(n, n)`` counts.
    """
    n = nx * ny
    out = np.zeros(n * n)
    for oy in range(-r, r + 1):
        for ox in range(-r, r + 1):
            vx, vy = s_ix - ox, s_iy - oy
            ok = (vx >= 0) & (vx < nx) & (vy >= 0) & (vy < ny)
            wx = np.clip(e_ix[ok] - ox, 0, nx - 1)
            wy = np.clip(e_iy[ok] - oy, 0, ny - 1)
            out += np.bincount((vy[ok] * nx + vx[ok]) * n + wy * nx + wx, minlength=n * n)
    return out.reshape(n, n)


def _safe_div(a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def fit_xt(
    moves: Moves,
    shots: Shots,
    *,
    grid: tuple[int, int] = (16, 12),
    discount: float = 1.0,
    pitch: Pitch | None = None,
    xg_prior: float = 2.0,
    action_prior: float = 2.0,
    prior_radius: int | None = 1,
    max_iter: int = 1000,
    tol: float = 1e-10,
) -> XtModel:
    """Fit Karun Singh's expected threat on an ``(nx, ny)`` grid by value iteration.

    Args:
        moves: ball moves, every team attacking right; moves with a NaN start are ignored, and a
            successful move with a NaN end counts as failed.
        shots: shots, attacking right; shots with a NaN location are ignored.
        grid: ``(nx, ny)`` cells along the length and across the width (Singh: 16 x 12).
        discount: factor in ``[0, 1]`` on the value of the next cell (1: Singh's model).
        pitch: pitch geometry (default 105 x 68 m); points off it count in the edge cells.
        xg_prior: pseudo-shots added to every cell's xG at the prior goal rate (0: none).
        action_prior: pseudo-actions added to every cell's shot share and moves (0: none).
        prior_radius: the priors come from the ``(2r+1) x (2r+1)`` block of cells around each
            cell (itself shrunk to the whole sample); ``None``: from the whole sample only.
        max_iter: most value-iteration sweeps.
        tol: stop once no cell changes by more than this.

    Returns:
        An :class:`XtModel`; ``converged`` is False when ``max_iter`` sweeps were not enough.

    >>> moves = Moves([[10.0, 34.0], [60.0, 34.0]], [[60.0, 34.0], [100.0, 34.0]], [True, True])
    >>> m = fit_xt(moves, Shots([[100.0, 34.0]], [True]), grid=(3, 1), xg_prior=0, action_prior=0)
    >>> m.values.tolist(), m.iterations
    ([[1.0, 1.0, 1.0]], 4)
    """
    nx, ny = (int(g) for g in grid)
    if nx < 1 or ny < 1:
        raise DataError(f"grid must be two positive cell counts (nx, ny), got {grid!r}")
    if not 0.0 <= discount <= 1.0:
        raise DataError(f"discount must be in [0, 1], got {discount!r}")
    if not (xg_prior >= 0 and action_prior >= 0):
        raise DataError(
            f"xg_prior and action_prior must be >= 0, got {xg_prior!r}, {action_prior!r}"
        )
    if prior_radius is not None and int(prior_radius) < 1:
        raise DataError(f"prior_radius must be None or >= 1 cell, got {prior_radius!r}")
    if max_iter < 1 or not tol > 0:
        raise DataError(f"max_iter must be >= 1 and tol > 0, got {max_iter!r}, {tol!r}")
    pitch = pitch or Pitch()
    n, shape = nx * ny, (ny, nx)

    keep = np.isfinite(moves.start).all(axis=1)
    start, end, success = moves.start[keep], moves.end[keep], moves.success[keep]
    success = success & np.isfinite(end).all(axis=1)
    cs = _cells(start, nx, ny, pitch)
    ce = _cells(np.nan_to_num(end), nx, ny, pitch)
    move_count = np.bincount(cs, minlength=n)
    success_count = np.bincount(cs[success], minlength=n)
    trans = np.bincount(cs[success] * n + ce[success], minlength=n * n).reshape(n, n)

    finite = np.isfinite(shots.xy).all(axis=1)
    sc = _cells(shots.xy[finite], nx, ny, pitch)
    shot_count = np.bincount(sc, minlength=n)
    goal_count = np.bincount(sc[shots.goal[finite]], minlength=n)

    # Priors: the whole sample's rates, or those of each cell's neighbourhood shrunk to them.
    n_shots, n_moves, n_goals = int(shot_count.sum()), int(move_count.sum()), int(goal_count.sum())
    shot_share = n_shots / (n_shots + n_moves) if n_shots + n_moves else 0.0
    goal_rate = n_goals / n_shots if n_shots else 0.0
    if prior_radius is None:
        q = np.full(n, shot_share)  # prior shot share
        g = np.full(n, goal_rate)  # prior goal rate
        u = np.zeros((n, n))  # prior move outcomes: a pseudo-move loses the ball
    else:
        r = int(prior_radius)
        nb_s = _box_sum(shot_count.reshape(shape).astype(np.float64), r).ravel()
        nb_g = _box_sum(goal_count.reshape(shape).astype(np.float64), r).ravel()
        nb_t = _pooled_transitions(
            cs[success] % nx, cs[success] // nx, ce[success] % nx, ce[success] // nx, nx, ny, r
        )
        nb_m = _box_sum(move_count.reshape(shape).astype(np.float64), r).ravel()
        q = _safe_div(nb_s + action_prior * shot_share, nb_s + nb_m + action_prior)
        q = np.where(nb_s + nb_m + action_prior > 0, q, shot_share)
        g = _safe_div(nb_g + xg_prior * goal_rate, nb_s + xg_prior)
        g = np.where(nb_s + xg_prior > 0, g, goal_rate)
        u = _safe_div(nb_t, nb_m[:, None])

    actions = (shot_count + move_count + action_prior).astype(np.float64)
    p_shoot = _safe_div(shot_count + action_prior * q, actions)
    p_move = _safe_div(move_count + action_prior * (1.0 - q), actions)
    xg = _safe_div(goal_count + xg_prior * g, (shot_count + xg_prior).astype(np.float64))
    pseudo_moves = (action_prior * (1.0 - q))[:, None]
    transition = _safe_div(trans + pseudo_moves * u, move_count[:, None] + pseudo_moves)

    reward = p_shoot * xg
    step = discount * p_move[:, None] * transition
    value = np.zeros(n)
    converged, residual, it = False, float("inf"), 0
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
        new = reward + step @ value
        residual = float(np.max(np.abs(new - value))) if n else 0.0
        value = new
        if residual <= tol:
            converged = True
            break

    surface = ValueSurface(
        value.reshape(shape), pitch, "xT", f"fit_xt on {n_moves} moves, {n_shots} shots"
    )
    return XtModel(
        surface=surface,
        p_shoot=p_shoot.reshape(shape),
        p_move=p_move.reshape(shape),
        xg=xg.reshape(shape),
        transition=transition,
        shot_count=shot_count.reshape(shape),
        goal_count=goal_count.reshape(shape),
        move_count=move_count.reshape(shape),
        success_count=success_count.reshape(shape),
        discount=float(discount),
        iterations=it,
        converged=converged,
        residual=residual,
    )


# --------------------------------------------------------------------------------------------
# Readers: Metrica csv events, kloppy event datasets
# --------------------------------------------------------------------------------------------
_METRICA_COLUMNS = (
    "Team",
    "Type",
    "Subtype",
    "Period",
    "Start Time [s]",
    "End Time [s]",
    "From",
    "To",
    "Start X",
    "Start Y",
    "End X",
    "End Y",
)
_MOVE_TYPES = {"PASS": "pass", "BALL LOST": "lost", "BALL OUT": "out"}


def _direction_scores(
    team: np.ndarray,
    period: np.ndarray,
    shot_x: FloatArray,
    is_shot: BoolArray,
    pass_dx: FloatArray,
    is_pass: BoolArray,
    centre: float,
    paired: bool,
) -> dict[tuple[Any, Any], float]:
    """Evidence per ``(team, period)`` that the team attacks to the right (> 0) or left (< 0).

    Shots: the summed distance of a team's shots beyond the halfway line; without any shot in
    the period, the summed forward (``dx``) progress of its successful passes. With ``paired``
    (both teams in one frame, as raw provider data) each team's evidence is its own minus the
    others' in the same period (the opponents attack the other way).
    """
    out: dict[tuple[Any, Any], float] = {}
    for p in np.unique(period):
        in_p = period == p
        teams = np.unique(team[in_p])
        shot_ev = {t: float(np.sum(shot_x[in_p & is_shot & (team == t)] - centre)) for t in teams}
        pass_ev = {t: float(np.sum(pass_dx[in_p & is_pass & (team == t)])) for t in teams}
        if paired:  # each team's own evidence against the opponents'
            tot_s, tot_p = sum(shot_ev.values()), sum(pass_ev.values())
            shot_ev = {t: 2 * v - tot_s for t, v in shot_ev.items()}
            pass_ev = {t: 2 * v - tot_p for t, v in pass_ev.items()}
        for t in teams:
            shooters = team == t if not paired else np.ones_like(in_p)
            has_shots = bool(np.any(in_p & is_shot & shooters))
            out[(t, p)] = shot_ev[t] if has_shots else pass_ev[t]
    return out


def events_from_metrica_csv(
    path: str | Path | IO[str],
    *,
    pitch: Pitch | None = None,
    carries: bool = True,
    min_carry_length: float = 3.0,
    max_carry_seconds: float = 10.0,
) -> tuple[Moves, Shots]:
    """Moves and shots from a Metrica Sports raw event csv, every team attacking right.

    Metrica coordinates are 0..1 with the origin at the top-left corner and ``y`` down, so
    ``x * L, y * W`` are touchline metres. Teams swap ends at half time and the file does not
    say who attacks where: in each period the direction is inferred from the shots (a team
    attacks towards the goal its shots are nearer to, compared with the opponents' shots), or,
    in a period without shots, from which way the teams' completed passes progress. Events of a
    team attacking left are rotated by 180 degrees, ``(L - x, W - y)``.

    Rows used:

    * ``PASS``: a successful move, start to end;
    * ``BALL LOST`` and ``BALL OUT``: failed moves (to where the ball went; a loss without an
      end point, e.g. ``THEFT``, ends where it started);
    * ``SHOT``: a shot from its start point; a goal when the subtype has a ``GOAL`` part
      (``ON TARGET-GOAL``, ``HEAD-ON TARGET-GOAL``); ``SAVED``, ``OUT``, ``BLOCKED``,
      ``WOODWORK`` ... are misses;
    * carries (``carries=True``): Metrica has no carry events, so one is added when a player who
      received a pass (or recovered the ball) next plays it himself from at least
      ``min_carry_length`` metres away within ``max_carry_seconds``, with no other on-ball event
      in between; a successful move from the reception to the next action's start.

    ``data`` holds ``team``, ``period``, ``time`` (start, s), ``kind`` (moves: ``pass``,
    ``lost``, ``out``, ``carry``; shots: the subtype) and ``attack`` (the inferred raw
    direction, ``"right"``/``"left"``).

    Args:
        path: the csv file (or an open text stream).
        pitch: pitch geometry the 0..1 coordinates are scaled to (default 105 x 68 m).
        carries: add the implied carries.
        min_carry_length, max_carry_seconds: the shortest and slowest implied carry.

    Raises:
        DataError: unreadable file, missing columns, or a period whose directions cannot be
            inferred; the message names the file.

    >>> import io
    >>> csv = io.StringIO('''Team,Type,Subtype,Period,Start Frame,Start Time [s],End Frame,End Time [s],From,To,Start X,Start Y,End X,End Y
    ... Home,PASS,,1,1,0.04,3,0.12,P1,P2,0.45,0.4,0.3,0.5
    ... Home,SHOT,ON TARGET-GOAL,1,30,1.2,35,1.4,P2,,0.1,0.5,0.0,0.5
    ... Away,BALL LOST,THEFT,1,50,2.0,50,2.0,P9,,0.4,0.2,NaN,NaN''')
    >>> moves, shots = events_from_metrica_csv(csv)
    >>> shots.xy.tolist(), shots.goal.tolist(), shots.data["attack"].tolist()
    ([[94.5, 34.0]], [True], ['left'])
    >>> moves.data["kind"].tolist(), moves.success.tolist(), moves.start[2].tolist()
    (['pass', 'carry', 'lost'], [True, True, False], [42.0, 13.6])
    """
    import pandas as pd

    name = str(path) if isinstance(path, str | Path) else getattr(path, "name", "<stream>")
    pitch = pitch or Pitch()
    L, W = pitch.length, pitch.width
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"Metrica events: file not found: {name}") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{name}: not a readable Metrica event csv ({exc})") from None
    missing = [c for c in _METRICA_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{name}: not a Metrica event csv, missing columns {missing}")

    def text(column: str) -> np.ndarray:
        col = df[column]
        return col.astype(object).where(col.notna(), "").astype(str).str.strip().to_numpy()

    typ, sub = np.char.upper(text("Type").astype(str)), np.char.upper(text("Subtype").astype(str))
    team, who, to = text("Team"), text("From"), text("To")
    period = df["Period"].to_numpy()
    t0 = df["Start Time [s]"].to_numpy(dtype=np.float64)
    t1 = df["End Time [s]"].to_numpy(dtype=np.float64)
    try:
        xy = df[["Start X", "Start Y", "End X", "End Y"]].to_numpy(dtype=np.float64) * [L, W, L, W]
    except ValueError as exc:
        raise DataError(f"{name}: coordinates must be numbers ({exc})") from None
    start, end = xy[:, :2], xy[:, 2:]
    has_start = np.isfinite(start).all(axis=1)

    is_shot = (typ == "SHOT") & has_start
    is_move = np.isin(typ, list(_MOVE_TYPES)) & has_start
    is_pass = (typ == "PASS") & has_start & np.isfinite(end).all(axis=1)
    is_move &= (typ != "PASS") | is_pass
    end = np.where(np.isfinite(end).all(axis=1)[:, None], end, start)

    # Implied carries: consecutive on-ball rows, reception (pass end / recovery) -> next action.
    c_idx, c_from = np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    if carries and len(df):
        chain = np.flatnonzero(
            np.isin(typ, ["PASS", "BALL LOST", "BALL OUT", "SHOT", "RECOVERY", "SET PIECE"])
        )
        prev, cur = chain[:-1], chain[1:]
        received = np.where(
            typ[prev] == "PASS", to[prev], np.where(typ[prev] == "RECOVERY", who[prev], "")
        )
        got = np.where((typ[prev] == "PASS")[:, None], end[prev], start[prev])
        t_got = np.where(typ[prev] == "PASS", t1[prev], t0[prev])
        gap = t0[cur] - t_got
        with np.errstate(invalid="ignore"):
            ok = (
                (received != "")
                & (received == who[cur])
                & (team[prev] == team[cur])
                & (period[prev] == period[cur])
                & (is_move[cur] | is_shot[cur])
                & (gap >= 0)
                & (gap <= max_carry_seconds)
                & (np.hypot(*(start[cur] - got).T) >= min_carry_length)
                & np.isfinite(got).all(axis=1)
            )
        c_idx, c_from = cur[ok], got[ok]

    scores = _direction_scores(
        team, period, start[:, 0], is_shot, end[:, 0] - start[:, 0], is_pass, L / 2, paired=True
    )
    used = is_move | is_shot
    for (t, p), s in scores.items():
        if s == 0 and np.any(used & (team == t) & (period == p)):
            raise DataError(
                f"{name}: cannot tell which way {t} attacks in period {p} (no shots, no passes)"
            )
    right = np.array([scores[(t, p)] > 0 for t, p in zip(team, period, strict=True)], dtype=bool)

    def orient(pts: FloatArray, rows: IntArray) -> FloatArray:
        flip = ~right[rows]
        return np.where(flip[:, None], [L, W] - pts, pts)

    mi = np.flatnonzero(is_move)
    kinds = np.array([_MOVE_TYPES[t] for t in typ[mi]] + ["carry"] * len(c_idx), dtype=object)
    rows = np.concatenate([mi, c_idx])
    m_start = np.concatenate([start[mi], c_from])
    m_end = np.concatenate([end[mi], start[c_idx]])
    m_time = np.concatenate([t0[mi], t0[c_idx] - 1e-6])  # a carry precedes the action it leads to
    order = np.lexsort((m_time, period[rows]))
    rows, kinds = rows[order], kinds[order]
    moves = Moves(
        orient(m_start[order], rows),
        orient(m_end[order], rows),
        np.concatenate([typ[mi] == "PASS", np.ones(len(c_idx), dtype=bool)])[order],
        {
            "team": team[rows],
            "period": period[rows],
            "time": np.concatenate([t0[mi], t0[c_idx]])[order],
            "kind": kinds.astype(str),
            "attack": np.where(right[rows], "right", "left"),
        },
    )
    si = np.flatnonzero(is_shot)
    goal = np.array(["GOAL" in s.split("-") for s in sub[si]], dtype=bool)
    shots = Shots(
        orient(start[si], si),
        goal,
        {
            "team": team[si],
            "period": period[si],
            "time": t0[si],
            "kind": sub[si],
            "attack": np.where(right[si], "right", "left"),
        },
    )
    return moves, shots


def events_from_kloppy(event_dataset: Any, *, pitch: Pitch | None = None) -> tuple[Moves, Shots]:
    """Moves and shots from a kloppy ``EventDataset``, every team attacking right.

    The dataset is duck-typed (``.transform``, ``.events``) and first transformed to kloppy's
    own coordinates (0..1, origin top-left, ``y`` down) with the acting team attacking left to
    right; the provider's declared orientation is not trusted blindly (kloppy's Metrica json
    sample declares the wrong one): per team and period, when its shots (or, without shots, its
    completed passes) point to the left, its events are rotated by 180 degrees.

    Rows used: passes (complete = success; incomplete, out, offside = failed; a pass without a
    result is skipped), carries (complete = success), failed take-ons (a failed move where it
    started; successful ones are followed by a carry), and shots (goal when the result is
    ``GOAL``; own goals are skipped). ``data`` holds ``team`` (team id), ``period`` and ``kind``.

    >>> import kloppy, pathlib
    >>> from kloppy import metrica
    >>> files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    >>> ds = metrica.load_event(event_data=str(files / "metrica_events.json"),
    ...                         meta_data=str(files / "epts_metrica_metadata.xml"))
    >>> moves, shots = events_from_kloppy(ds)
    >>> len(moves), len(shots), int(shots.goal.sum()), bool((shots.xy[:, 0] > 52.5).all())
    (2868, 20, 2, True)
    """
    if not (hasattr(event_dataset, "transform") and hasattr(event_dataset, "events")):
        raise DataError(
            f"events_from_kloppy needs a kloppy EventDataset, got {type(event_dataset).__name__}"
        )
    pitch = pitch or Pitch()
    ds = event_dataset.transform(
        to_orientation="ACTION_EXECUTING_TEAM", to_coordinate_system="kloppy"
    )
    m_rows: list[tuple[float, float, float, float, bool, Any, Any, str]] = []
    s_rows: list[tuple[float, float, bool, Any, Any]] = []
    for e in ds.events:
        kind = getattr(e.event_type, "name", "")
        if kind not in ("PASS", "CARRY", "TAKE_ON", "SHOT"):
            continue
        c = e.coordinates
        if c is None:
            continue
        res = getattr(getattr(e, "result", None), "name", None)
        team = getattr(e.team, "team_id", None)
        period = getattr(e.period, "id", None)
        if kind == "SHOT":
            if res == "OWN_GOAL":
                continue
            s_rows.append((c.x, c.y, res == "GOAL", team, period))
            continue
        if res is None:
            continue
        if kind == "TAKE_ON":
            if res != "COMPLETE":
                m_rows.append((c.x, c.y, c.x, c.y, False, team, period, "take_on"))
            continue
        end = getattr(e, "receiver_coordinates" if kind == "PASS" else "end_coordinates", None)
        ex, ey = (c.x, c.y) if end is None else (end.x, end.y)
        m_rows.append((c.x, c.y, ex, ey, res == "COMPLETE", team, period, kind.lower()))

    def col(rows: list[Any], i: int, dtype: Any = object) -> np.ndarray:
        return np.array([r[i] for r in rows], dtype=dtype)

    L, W = pitch.length, pitch.width
    m_xy = np.array([r[:4] for r in m_rows], dtype=np.float64).reshape(-1, 4) * [L, W, L, W]
    s_xy = np.array([r[:2] for r in s_rows], dtype=np.float64).reshape(-1, 2) * [L, W]
    m_ok = col(m_rows, 4, bool) if m_rows else np.zeros(0, dtype=bool)
    team = np.concatenate([col(m_rows, 5), col(s_rows, 3)])
    period = np.concatenate([col(m_rows, 6), col(s_rows, 4)])
    nm, ns = len(m_rows), len(s_rows)
    kinds = col(m_rows, 7).astype(str) if m_rows else np.zeros(0, dtype=str)
    is_pass = np.concatenate([(kinds == "pass") & m_ok, np.zeros(ns, dtype=bool)])
    is_shot = np.concatenate([np.zeros(nm, dtype=bool), np.ones(ns, dtype=bool)])
    x0 = np.concatenate([m_xy[:, 0], s_xy[:, 0]])
    dx = np.concatenate([m_xy[:, 2] - m_xy[:, 0], np.zeros(ns)])
    team_key = np.array([str(t) for t in team], dtype=object)
    period_key = np.array([-1 if p is None else int(p) for p in period], dtype=np.int64)
    scores = _direction_scores(team_key, period_key, x0, is_shot, dx, is_pass, L / 2, paired=False)
    flip = np.array(
        [scores[(t, p)] < 0 for t, p in zip(team_key, period_key, strict=True)], dtype=bool
    )
    m_flip, s_flip = flip[:nm], flip[nm:]
    m_xy = np.where(m_flip[:, None], [L, W, L, W] - m_xy, m_xy)
    s_xy = np.where(s_flip[:, None], [L, W] - s_xy, s_xy)
    moves = Moves(
        m_xy[:, :2],
        m_xy[:, 2:],
        m_ok,
        {"team": team_key[:nm].astype(str), "period": period_key[:nm], "kind": kinds},
    )
    shots = Shots(
        s_xy,
        col(s_rows, 2, bool) if s_rows else np.zeros(0, dtype=bool),
        {"team": team_key[nm:].astype(str), "period": period_key[nm:]},
    )
    return moves, shots


def fit_xt_from_files(
    paths: Sequence[str | Path | IO[str]] | None = None,
    *,
    grid: tuple[int, int] = (16, 12),
    discount: float = 1.0,
    pitch: Pitch | None = None,
    xg_prior: float = 2.0,
    action_prior: float = 2.0,
    prior_radius: int | None = 1,
    carries: bool = True,
    max_iter: int = 1000,
    tol: float = 1e-10,
) -> XtModel:
    """Expected threat fitted on Metrica event csv files together (:func:`fit_xt`).

    Args:
        paths: Metrica raw event csv files; ``None`` uses both sample games of the shared data
            (``METRICA_EVENT_FILES``), with a :class:`DataError` when they are absent.
        carries: add the implied carries (:func:`events_from_metrica_csv`).
        grid, discount, pitch, xg_prior, action_prior, prior_radius, max_iter, tol: as
            :func:`fit_xt`.

    >>> import io
    >>> csv = '''Team,Type,Subtype,Period,Start Frame,Start Time [s],End Frame,End Time [s],From,To,Start X,Start Y,End X,End Y
    ... Home,PASS,,1,1,0.04,3,0.12,P1,P2,0.3,0.5,0.9,0.5
    ... Home,SHOT,ON TARGET-GOAL,1,30,1.2,35,1.4,P2,,0.9,0.5,1.0,0.5'''
    >>> m = fit_xt_from_files([io.StringIO(csv)], grid=(2, 1), xg_prior=0, action_prior=0)
    >>> m.values.tolist()
    [[1.0, 1.0]]
    """
    if paths is None:
        from touchline.data import shared_file

        found = [shared_file(f) for f in METRICA_EVENT_FILES]
        missing = [f for f, p in zip(METRICA_EVENT_FILES, found, strict=True) if p is None]
        if missing:
            raise DataError(
                f"Metrica sample events: ../shared/data/{missing[0]} not found (set "
                "$TOUCHLINE_SHARED_DATA or pass paths=...)"
            )
        paths = [p for p in found if p is not None]
    if not paths:
        raise DataError("fit_xt_from_files needs at least one event file")
    parts = [events_from_metrica_csv(p, pitch=pitch, carries=carries) for p in paths]
    return fit_xt(
        Moves.merge(m for m, _ in parts),
        Shots.merge(s for _, s in parts),
        grid=grid,
        discount=discount,
        pitch=pitch,
        xg_prior=xg_prior,
        action_prior=action_prior,
        prior_radius=prior_radius,
        max_iter=max_iter,
        tol=tol,
    )
