"""Pitch control: Spearman's (2018) physics-based model, vectorised over the whole grid.

For every cell of a grid over the pitch, the model gives the probability that the attacking
team (in possession) or the defending team would control a ball passed there now. It follows
W. Spearman, "Beyond Expected Goals" (MIT Sloan Sports Analytics Conference 2018), as implemented
by Laurie Shaw in Friends of Tracking's ``Metrica_PitchControl.py``:

* a player reacts for ``reaction_time`` (moving on with their current velocity), then runs
  straight to the cell at ``max_player_speed``: that is their *time to intercept* ``tau_i``;
* the ball travels from ``ball_xy`` to the cell at ``average_ball_speed`` (arrival ``T0``);
* the probability that player ``i`` has reached the cell by time ``T`` is logistic,
  ``1 / (1 + exp(-pi / sqrt(3) / tti_sigma * (T - tau_i)))``;
* from ``T0`` on, control builds up as ``dPPCF_i/dT = (1 - PPCF_att - PPCF_def) * p_i(T) *
  lambda_i``, integrated with explicit Euler steps of ``int_dt`` until ``PPCF_att + PPCF_def >
  1 - model_converge_tol`` or ``max_int_time`` has passed.

Exactly as in Shaw's code, a cell goes wholly (1, 0 or 0, 1) to a team whose fastest player
arrives ``time_to_control`` earlier than both the ball and the fastest opponent, and only the
players whose time to intercept is within ``time_to_control`` of their team's fastest take part
in the integration (the others would contribute less than ~1e-3).

Sums: the raw model stops once ``attack + defence`` exceeds ``1 - model_converge_tol``, so raw
sums are above ``1 - tol`` in converged cells, and can exceed 1: an Euler step overshoots when
``sum(lambda_i p_i) * int_dt > 1``, e.g. near the defending keeper (``lambda_gk * int_dt ~ 0.89``)
with other defenders close by (raw sums up to ~1.9 occur; Shaw's code does the same).
:func:`pitch_control` therefore normalises by default, ``attack / (attack + defence)``, so that
``attack + defence == 1`` per cell (to rounding); ``normalise=False`` gives the raw values,
which :func:`pitch_control_reference` reproduces with a slow, direct per-cell loop.

Speed: the whole grid is handled as ``(cells, players)`` arrays. Decided cells are settled
without integrating; the time loop only runs over the contested cells (and only their relevant
players, packed into as few columns as needed), drops cells as they converge, and needs no
``exp`` inside the loop (``exp(-a (T + dt - tau)) = exp(-a (T - tau)) * exp(-a dt)``). Each
cell's integration also starts where its fastest player has a non-negligible chance of having
arrived (its arrival probability ``exp(-skip_logit)``; the skipped steps add < 1e-5). The
per-player terms are float32 (relative error ~1e-7), the accumulated control float64.

>>> rng = np.random.default_rng(0)
>>> att = rng.uniform([0, 0], [105, 68], size=(11, 2))
>>> dfn = rng.uniform([0, 0], [105, 68], size=(11, 2))
>>> r = pitch_control(att, np.zeros((11, 2)), dfn, np.zeros((11, 2)), att[0])
>>> r.attack.shape, bool(np.allclose(r.attack + r.defence, 1.0))
((32, 50), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch

if TYPE_CHECKING:
    from touchline.tracks import Tracks

__all__ = [
    "PitchControlParams",
    "PitchControlResult",
    "grid_centres",
    "pitch_control",
    "pitch_control_frame",
    "pitch_control_reference",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_KAPPA_DEF = 1.72
"""Spearman's (2018) defensive advantage: defenders control a ball 1.72 times faster."""


@dataclass(frozen=True)
class PitchControlParams:
    """Parameters of Spearman's pitch-control model (Spearman 2018; Shaw's defaults).

    Attributes:
        max_player_speed: top running speed of every player, m/s (5).
        reaction_time: time a player keeps moving with their current velocity before running
            to the target, s (0.7).
        tti_sigma: spread of the logistic arrival-time distribution, s (0.45); the logistic
            scale is ``sqrt(3) * tti_sigma / pi``.
        lambda_att: control rate of an attacker who has reached the ball, 1/s (4.3).
        lambda_def: control rate of a defender, 1/s (``4.3 * 1.72``: Spearman's
            ``kappa_def = 1.72`` defensive advantage; Shaw's code uses ``kappa_def = 1``).
        lambda_gk: control rate of the defending goalkeeper, 1/s (``3 * lambda_def``: anything
            near the keeper is most likely claimed by the keeper).
        lambda_gk_att: control rate of the attacking goalkeeper, 1/s; ``None`` (default) means
            ``lambda_att``, as in Shaw's code where only the defending keeper is special.
        average_ball_speed: ball speed of a pass, m/s (15).
        int_dt: time step of the Euler integration, s (0.04).
        max_int_time: longest integration after the ball's arrival, s (10).
        model_converge_tol: integration stops when ``attack + defence > 1 - tol`` (0.01).
        skip_logit: (vectorised code only) a cell's integration starts once its fastest
            player's arrival logit reaches ``-skip_logit`` (default 16: probability ~1e-7; the
            skipped steps change the result by < 1e-5). ``math.inf`` skips nothing.

    >>> p = PitchControlParams()
    >>> round(p.lambda_def, 3), round(p.time_to_control_att, 3), round(p.time_to_control_def, 3)
    (7.396, 3.32, 2.648)
    """

    max_player_speed: float = 5.0
    reaction_time: float = 0.7
    tti_sigma: float = 0.45
    lambda_att: float = 4.3
    lambda_def: float = 4.3 * _KAPPA_DEF
    lambda_gk: float = 3.0 * 4.3 * _KAPPA_DEF
    lambda_gk_att: float | None = None
    average_ball_speed: float = 15.0
    int_dt: float = 0.04
    max_int_time: float = 10.0
    model_converge_tol: float = 0.01
    skip_logit: float = field(default=16.0, compare=False)

    def __post_init__(self) -> None:
        positive = {
            "max_player_speed": self.max_player_speed,
            "tti_sigma": self.tti_sigma,
            "lambda_att": self.lambda_att,
            "lambda_def": self.lambda_def,
            "lambda_gk": self.lambda_gk,
            "average_ball_speed": self.average_ball_speed,
            "int_dt": self.int_dt,
            "max_int_time": self.max_int_time,
            "model_converge_tol": self.model_converge_tol,
            "skip_logit": self.skip_logit,
        }
        if self.lambda_gk_att is not None:
            positive["lambda_gk_att"] = self.lambda_gk_att
        for name, value in positive.items():
            if not value > 0:
                raise DataError(f"PitchControlParams.{name} must be positive, got {value!r}")
        if not self.reaction_time >= 0:
            raise DataError(
                f"PitchControlParams.reaction_time must be >= 0, got {self.reaction_time!r}"
            )

    @property
    def logistic_rate(self) -> float:
        """``pi / sqrt(3) / tti_sigma``: slope of the logistic arrival probability, 1/s."""
        return math.pi / math.sqrt(3.0) / self.tti_sigma

    @property
    def time_to_control_att(self) -> float:
        """``3 log(10) (sqrt(3) sigma / pi + 1 / lambda_att)``: time for an attacker to be
        ~99.9% sure of reaching and controlling the ball, s; a lead this large decides a cell,
        and attackers this much slower than their team's fastest are left out."""
        return 3 * math.log(10) * (math.sqrt(3) * self.tti_sigma / math.pi + 1 / self.lambda_att)

    @property
    def time_to_control_def(self) -> float:
        """As :attr:`time_to_control_att` with ``lambda_def``, s."""
        return 3 * math.log(10) * (math.sqrt(3) * self.tti_sigma / math.pi + 1 / self.lambda_def)


@dataclass(frozen=True)
class PitchControlResult:
    """Pitch control over a grid: ``attack[iy, ix]`` at cell centre ``(xs[ix], ys[iy])``.

    Attributes:
        attack: ``(ny, nx)`` probability that the attacking team controls the cell.
        defence: ``(ny, nx)`` the same for the defending team.
        xs: ``(nx,)`` cell-centre x coordinates, m.
        ys: ``(ny,)`` cell-centre y coordinates, m.
        converged: ``(ny, nx)`` whether the integration converged within ``max_int_time``
            (False only for cells no player can reach in time, or when no player is known).
    """

    attack: FloatArray
    defence: FloatArray
    xs: FloatArray
    ys: FloatArray
    converged: BoolArray


def grid_centres(
    grid: tuple[int, int], pitch: Pitch | None = None
) -> tuple[FloatArray, FloatArray]:
    """Cell centres ``xs (nx,)`` and ``ys (ny,)`` of an ``(nx, ny)`` grid over the pitch.

    >>> xs, ys = grid_centres((4, 2))
    >>> xs.tolist(), ys.tolist()
    ([13.125, 39.375, 65.625, 91.875], [17.0, 51.0])
    """
    nx, ny = (int(g) for g in grid)
    if nx < 1 or ny < 1:
        raise DataError(f"grid must be two positive cell counts (nx, ny), got {grid!r}")
    pitch = pitch or Pitch()
    xs = (np.arange(nx, dtype=np.float64) + 0.5) * float(pitch.length / nx)
    ys = (np.arange(ny, dtype=np.float64) + 0.5) * float(pitch.width / ny)
    return xs, ys


def _players(xy: ArrayLike, vel: ArrayLike | None, name: str) -> tuple[FloatArray, FloatArray]:
    """``(n, 2)`` positions and velocities; NaN velocities become 0 (NaN positions are kept)."""
    p = np.asarray(xy, dtype=np.float64).reshape(-1, 2) if np.size(xy) else np.zeros((0, 2))
    if vel is None:
        v = np.zeros_like(p)
    else:
        v = np.asarray(vel, dtype=np.float64)
        v = v.reshape(-1, 2) if v.size else np.zeros((0, 2))
    if v.shape != p.shape:
        raise DataError(f"{name}: velocities {v.shape} do not match positions {p.shape}")
    return p, np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)


def _rates(n: int, gk: int | None, rate: float, gk_rate: float, name: str) -> FloatArray:
    lam = np.full(n, rate)
    if gk is not None:
        if not -n <= int(gk) < n:
            raise DataError(f"{name}: goalkeeper index {gk} out of range for {n} players")
        lam[int(gk)] = gk_rate
    return lam


def _teams(
    attack_xy: ArrayLike,
    attack_vel: ArrayLike | None,
    defence_xy: ArrayLike,
    defence_vel: ArrayLike | None,
    attack_gk: int | None,
    defence_gk: int | None,
    p: PitchControlParams,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Positions, velocities and control rates of the attack, then of the defence (each
    keeper at its own rate; rows with a NaN position are kept)."""
    apos, avel = _players(attack_xy, attack_vel, "attack")
    dpos, dvel = _players(defence_xy, defence_vel, "defence")
    gk_att = p.lambda_att if p.lambda_gk_att is None else p.lambda_gk_att
    alam = _rates(len(apos), attack_gk, p.lambda_att, gk_att, "attack")
    dlam = _rates(len(dpos), defence_gk, p.lambda_def, p.lambda_gk, "defence")
    return apos, avel, alam, dpos, dvel, dlam


def _ball(ball_xy: ArrayLike | None) -> FloatArray | None:
    if ball_xy is None:
        return None
    b = np.asarray(ball_xy, dtype=np.float64).reshape(-1)
    if b.shape != (2,):
        raise DataError(f"ball_xy must be a point (x, y), got shape {np.shape(ball_xy)}")
    return None if not np.isfinite(b).all() else b


def pitch_control(
    attack_xy: ArrayLike,
    attack_vel: ArrayLike | None,
    defence_xy: ArrayLike,
    defence_vel: ArrayLike | None,
    ball_xy: ArrayLike | None,
    *,
    grid: tuple[int, int] = (50, 32),
    pitch: Pitch | None = None,
    params: PitchControlParams | None = None,
    attack_gk: int | None = None,
    defence_gk: int | None = None,
    normalise: bool = True,
) -> PitchControlResult:
    """Spearman's pitch control of every cell of an ``(nx, ny)`` grid, vectorised.

    Args:
        attack_xy: ``(n_att, 2)`` positions of the team in possession, m (pitch coordinates).
            Rows with a NaN coordinate are ignored.
        attack_vel: ``(n_att, 2)`` velocities, m/s; ``None`` or NaN rows mean standing still.
        defence_xy, defence_vel: the same for the defending team.
        ball_xy: ball position; ``None`` or NaN means the ball arrives instantly everywhere.
        grid: ``(nx, ny)`` cell counts along the length and across the width (50 x 32 as Shaw).
        pitch: pitch geometry (default 105 x 68 m).
        params: model parameters (default :class:`PitchControlParams`).
        attack_gk, defence_gk: row index of each team's goalkeeper, if known (the defending
            keeper controls at ``lambda_gk``; the attacking one at ``lambda_gk_att``).
        normalise: divide by ``attack + defence`` so both sum to 1 per cell (default); False
            gives the raw model (sums in ``(1 - model_converge_tol, 1]`` where converged).

    Returns:
        A :class:`PitchControlResult` with ``(ny, nx)`` arrays; all NaN when neither team has a
        player with a known position.

    >>> r = pitch_control([[52.5, 34.0]], None, [[10.0, 10.0]], None, [52.5, 34.0], grid=(5, 4))
    >>> round(float(r.attack[1, 2]), 3), round(float(r.defence[0, 0]), 3)
    (1.0, 1.0)
    """
    p = params or PitchControlParams()
    xs, ys = grid_centres(grid, pitch)
    nx, ny = xs.size, ys.size
    apos, avel, alam, dpos, dvel, dlam = _teams(
        attack_xy, attack_vel, defence_xy, defence_vel, attack_gk, defence_gk, p
    )
    aok, dok = np.isfinite(apos).all(axis=1), np.isfinite(dpos).all(axis=1)
    apos, avel, alam = apos[aok], avel[aok], alam[aok]
    dpos, dvel, dlam = dpos[dok], dvel[dok], dlam[dok]
    ball = _ball(ball_xy)
    shape = (ny, nx)
    if len(apos) + len(dpos) == 0:
        nan = np.full(shape, np.nan)
        return PitchControlResult(nan, nan.copy(), xs, ys, np.zeros(shape, dtype=bool))

    cx = np.broadcast_to(xs[None, :], shape).ravel()
    cy = np.broadcast_to(ys[:, None], shape).ravel()
    ncell = cx.size

    def tti(pos: FloatArray, vel: FloatArray) -> FloatArray:
        r = pos + vel * p.reaction_time
        dx, dy = cx[:, None] - r[None, :, 0], cy[:, None] - r[None, :, 1]
        d = np.sqrt(dx * dx + dy * dy)
        return p.reaction_time + d / p.max_player_speed

    tti_a, tti_d = tti(apos, avel), tti(dpos, dvel)
    tau_a = tti_a.min(axis=1) if len(apos) else np.full(ncell, np.inf)
    tau_d = tti_d.min(axis=1) if len(dpos) else np.full(ncell, np.inf)
    t0 = (
        np.zeros(ncell)
        if ball is None
        else np.hypot(cx - ball[0], cy - ball[1]) / p.average_ball_speed
    )
    ttc_a, ttc_d = p.time_to_control_att, p.time_to_control_def
    with np.errstate(invalid="ignore"):
        def_wins = tau_a - np.maximum(t0, tau_d) >= ttc_d
        att_wins = ~def_wins & (tau_d - np.maximum(t0, tau_a) >= ttc_a)
    att = att_wins.astype(np.float64)
    dfn = def_wins.astype(np.float64)
    converged = att_wins | def_wins
    idx = np.flatnonzero(~converged)
    if idx.size:
        a_res, d_res, c_res = _integrate(
            tti_a[idx], alam, tau_a[idx], tti_d[idx], dlam, tau_d[idx], t0[idx], p
        )
        att[idx], dfn[idx], converged[idx] = a_res, d_res, c_res
    if normalise:
        tot = att + dfn
        with np.errstate(invalid="ignore", divide="ignore"):
            att = np.where(tot > 0, att / tot, 0.5)
        dfn = 1.0 - att
    return PitchControlResult(
        att.reshape(shape), dfn.reshape(shape), xs, ys, converged.reshape(shape)
    )


def _pack(
    tti: FloatArray, lam: FloatArray, tau: FloatArray, ttc: float
) -> tuple[FloatArray, FloatArray]:
    """The relevant players of each cell, in as few columns as needed.

    Returns ``(tti, lam)`` of shape ``(cells, k)``; ``lam`` is 0 in padding columns.
    """
    if tti.shape[1] == 0:
        return tti, np.zeros_like(tti)
    k = int(np.count_nonzero(tti - tau[:, None] < ttc, axis=1).max())
    if k < tti.shape[1]:  # the relevant players are the k fastest of each cell
        order = np.argpartition(tti, k - 1, axis=1)[:, :k]
        t = np.take_along_axis(tti, order, axis=1)
        lam_k = lam[order]
    else:
        t, lam_k = tti, np.broadcast_to(lam, tti.shape)
    lam_k = np.where(t - tau[:, None] < ttc, lam_k, 0.0)
    return t, lam_k


def _integrate(
    tti_a: FloatArray,
    lam_a: FloatArray,
    tau_a: FloatArray,
    tti_d: FloatArray,
    lam_d: FloatArray,
    tau_d: FloatArray,
    t0: FloatArray,
    p: PitchControlParams,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Euler integration of Spearman's ODE for the contested cells, all at once."""
    ta, la = _pack(tti_a, lam_a, tau_a, p.time_to_control_att)
    td, ld = _pack(tti_d, lam_d, tau_d, p.time_to_control_def)
    ka = ta.shape[1]
    tti = np.concatenate([ta, td], axis=1)
    lam = np.concatenate([la, ld], axis=1) * p.int_dt
    n = t0.size
    dt, rate = p.int_dt, p.logistic_rate
    # Steps the reference takes at most: len(np.arange(t0 - dt, t0 + max_int_time, dt)) - 1.
    start = t0 - dt
    n_max = np.ceil(((t0 + p.max_int_time) - start) / dt).astype(np.int64) - 1
    # Skip the steps before the fastest player could plausibly be there.
    tau = np.minimum(tau_a, tau_d)
    lead = tau - p.skip_logit / rate - t0
    k0 = np.where(np.isfinite(lead), np.maximum(0.0, np.floor(lead / dt)), 0.0).astype(np.int64)
    k0 = np.minimum(k0, n_max)
    t_first = start + (k0 + 1) * dt  # time of each cell's first step
    # e = exp(-rate (T - tti)) and p_i = 1 / (1 + e); e shrinks by exp(-rate dt) per step, so
    # the time loop needs no exp. The per-player terms are float32 (relative error ~1e-7), the
    # accumulated control float64. Columns of ``sel``: attack, defence, total.
    e = np.exp(np.minimum(-rate * (t_first[:, None] - tti), 80.0)).astype(np.float32)
    decay = np.float32(math.exp(-rate * dt))
    sel = np.zeros((tti.shape[1], 3), dtype=np.float32)
    sel[:ka, 0] = 1.0
    sel[ka:, 1] = 1.0
    sel[:, 2] = 1.0
    out = np.zeros((n, 2))  # (attack, defence)
    done = np.zeros(n, dtype=bool)
    tol = p.model_converge_tol
    left = n_max - k0  # steps left for each cell
    act = np.flatnonzero(left > 0)
    state = np.zeros((act.size, 2))
    rem = np.ones(act.size)  # 1 - attack - defence
    e_act, l_act, left_act = e[act], lam[act].astype(np.float32), left[act]
    left_min = int(left_act.min()) if act.size else 0
    left_max = int(left_act.max()) if act.size else 0
    buf = np.empty_like(e_act)
    it = 0
    # A cell stops changing once converged (its remainder is masked to 0), so convergence is
    # only looked at when the finished cells are dropped, every ``compact_every`` steps.
    compact_every = 6
    while act.size:
        np.add(e_act, 1.0, out=buf)
        np.divide(l_act, buf, out=buf)  # lambda_i dt p_i(T)
        live = rem > tol
        if it >= left_min:
            live &= left_act > it
        s = np.multiply(buf @ sel, (rem * live)[:, None])  # control gained this step
        state += s[:, :2]
        rem -= s[:, 2]
        e_act *= decay
        it += 1
        if it % compact_every == 0 or it >= left_max:
            conv = rem <= tol
            fin = conv | (left_act <= it)
            if fin.any():
                ids = act[fin]
                out[ids] = state[fin]
                done[ids] = conv[fin]
                keep = ~fin
                act, state, rem = act[keep], state[keep], rem[keep]
                e_act, l_act, left_act = e_act[keep], l_act[keep], left_act[keep]
                buf = buf[: act.size]
    att, dfn = out[:, 0], out[:, 1]
    return att, dfn, done


def pitch_control_frame(
    tracks: Tracks,
    frame: int,
    attacking_team: int,
    *,
    grid: tuple[int, int] = (50, 32),
    params: PitchControlParams | None = None,
    max_velocity_gap: float = 1.0,
    normalise: bool = True,
) -> PitchControlResult:
    """Pitch control at one frame of a tracks table, ``attacking_team`` (0 or 1) in possession.

    Players are the rows of the frame with ``team`` 0 or 1 and class player or goalkeeper
    (a goalkeeper row marks its team's keeper); the ball is the frame's most confident ball
    row (none: the ball arrives instantly everywhere). Velocities come from ``vx``/``vy``
    columns when the table has them, else from the displacement since the track's previous
    row (at most ``max_velocity_gap`` seconds earlier; otherwise the player stands still).
    The pitch is the table's ``pitch_size``.

    >>> import pandas as pd
    >>> from touchline.tracks import TRACK_COLUMN_NAMES, Tracks
    >>> rows = pd.DataFrame({c: [0, 0] for c in TRACK_COLUMN_NAMES})
    >>> rows = rows.assign(track_id=[1, 2], team=[0, 1], class_name="player", pitch_x=[20.0, 90.0], pitch_y=34.0)
    >>> r = pitch_control_frame(Tracks(rows), 0, attacking_team=0, grid=(10, 4))
    >>> float(r.attack[1, 1]), float(r.attack[1, 9])
    (1.0, 0.0)
    """
    from touchline.types import ObjectClass

    if attacking_team not in (0, 1):
        raise DataError(f"attacking_team must be 0 or 1, got {attacking_team!r}")
    df = tracks.df
    at = df[df["frame"] == frame]
    cls = at["class_id"].to_numpy()
    is_player = np.isin(cls, [int(ObjectClass.PLAYER), int(ObjectClass.GOALKEEPER)])
    balls = at[cls == int(ObjectClass.BALL)]
    ball: FloatArray | None = None
    if len(balls):
        conf = np.nan_to_num(balls["confidence"].to_numpy(dtype=np.float64), nan=-1.0)
        b = balls.iloc[int(np.argmax(conf))]
        ball = np.array([b["pitch_x"], b["pitch_y"]], dtype=np.float64)
    sides = []
    for team in (attacking_team, 1 - attacking_team):
        rows = at[is_player & (at["team"].to_numpy() == team)]
        xy = rows[["pitch_x", "pitch_y"]].to_numpy(dtype=np.float64)
        if {"vx", "vy"} <= set(df.columns):
            vel = rows[["vx", "vy"]].to_numpy(dtype=np.float64)
        else:
            vel = np.zeros_like(xy)
            before = df[(df["frame"] < frame) & df["track_id"].isin(rows["track_id"])]
            last = before.groupby("track_id").last()
            t_now = rows["time"].to_numpy(dtype=np.float64)
            for k, tid in enumerate(rows["track_id"].to_numpy()):
                if tid in last.index:
                    prev = last.loc[tid]
                    gap = t_now[k] - float(prev["time"])
                    if 0 < gap <= max_velocity_gap:
                        vel[k] = (xy[k] - [prev["pitch_x"], prev["pitch_y"]]) / gap
        gk = np.flatnonzero(rows["class_id"].to_numpy() == int(ObjectClass.GOALKEEPER))
        sides.append((xy, vel, int(gk[0]) if gk.size else None))
    (axy, avel, agk), (dxy, dvel, dgk) = sides
    return pitch_control(
        axy,
        avel,
        dxy,
        dvel,
        ball,
        grid=grid,
        pitch=Pitch.of_size(*tracks.pitch_size),
        params=params,
        attack_gk=agk,
        defence_gk=dgk,
        normalise=normalise,
    )


# --------------------------------------------------------------------------------------------
# Reference: a slow, direct transcription of Shaw's Metrica_PitchControl.py (tests only)
# --------------------------------------------------------------------------------------------
class _RefPlayer:
    """One player as in Shaw's ``player`` class."""

    def __init__(
        self,
        pos: FloatArray,
        vel: FloatArray,
        lambda_att: float,
        lambda_def: float,
        p: PitchControlParams,
    ) -> None:
        self.position, self.velocity = pos, vel
        self.lambda_att, self.lambda_def = lambda_att, lambda_def
        self.p = p
        self.PPCF = 0.0
        self.time_to_intercept = math.inf

    def simple_time_to_intercept(self, r_final: FloatArray) -> float:
        self.PPCF = 0.0
        r_reaction = self.position + self.velocity * self.p.reaction_time
        dist = float(np.linalg.norm(r_final - r_reaction))
        self.time_to_intercept = self.p.reaction_time + dist / self.p.max_player_speed
        return self.time_to_intercept

    def probability_intercept_ball(self, t: float) -> float:
        x = -math.pi / math.sqrt(3.0) / self.p.tti_sigma * (t - self.time_to_intercept)
        return 1.0 / (1.0 + math.exp(min(x, 700.0)))


def _reference_at_target(
    target: FloatArray,
    attackers: list[_RefPlayer],
    defenders: list[_RefPlayer],
    ball: FloatArray | None,
    p: PitchControlParams,
) -> tuple[float, float, bool]:
    """Shaw's ``calculate_pitch_control_at_target``; also returns whether it converged."""
    ball_travel_time = (
        0.0 if ball is None else float(np.linalg.norm(target - ball)) / p.average_ball_speed
    )
    tau_min_att = min((q.simple_time_to_intercept(target) for q in attackers), default=math.inf)
    tau_min_def = min((q.simple_time_to_intercept(target) for q in defenders), default=math.inf)
    if tau_min_att - max(ball_travel_time, tau_min_def) >= p.time_to_control_def:
        return 0.0, 1.0, True
    if tau_min_def - max(ball_travel_time, tau_min_att) >= p.time_to_control_att:
        return 1.0, 0.0, True
    attackers = [q for q in attackers if q.time_to_intercept - tau_min_att < p.time_to_control_att]
    defenders = [q for q in defenders if q.time_to_intercept - tau_min_def < p.time_to_control_def]
    dT_array = np.arange(ball_travel_time - p.int_dt, ball_travel_time + p.max_int_time, p.int_dt)
    PPCFatt = np.zeros_like(dT_array)
    PPCFdef = np.zeros_like(dT_array)
    ptot = 0.0
    i = 1
    while 1 - ptot > p.model_converge_tol and i < dT_array.size:
        T = dT_array[i]
        for q in attackers:
            dPPCFdT = (
                (1 - PPCFatt[i - 1] - PPCFdef[i - 1])
                * q.probability_intercept_ball(T)
                * q.lambda_att
            )
            q.PPCF += dPPCFdT * p.int_dt
            PPCFatt[i] += q.PPCF
        for q in defenders:
            dPPCFdT = (
                (1 - PPCFatt[i - 1] - PPCFdef[i - 1])
                * q.probability_intercept_ball(T)
                * q.lambda_def
            )
            q.PPCF += dPPCFdT * p.int_dt
            PPCFdef[i] += q.PPCF
        ptot = PPCFdef[i] + PPCFatt[i]
        i += 1
    return float(PPCFatt[i - 1]), float(PPCFdef[i - 1]), bool(1 - ptot <= p.model_converge_tol)


def pitch_control_reference(
    attack_xy: ArrayLike,
    attack_vel: ArrayLike | None,
    defence_xy: ArrayLike,
    defence_vel: ArrayLike | None,
    ball_xy: ArrayLike | None,
    *,
    grid: tuple[int, int] = (50, 32),
    pitch: Pitch | None = None,
    params: PitchControlParams | None = None,
    attack_gk: int | None = None,
    defence_gk: int | None = None,
    normalise: bool = True,
) -> PitchControlResult:
    """Slow, direct per-cell pitch control following Shaw's code; for testing only.

    Same arguments and result as :func:`pitch_control` (``params.skip_logit`` is not used:
    every step from the ball's arrival is taken).

    >>> r = pitch_control_reference([[52.5, 34.0]], None, [[10.0, 10.0]], None, None, grid=(5, 4))
    >>> round(float(r.attack[1, 2]), 3), round(float(r.defence[0, 0]), 3)
    (1.0, 1.0)
    """
    p = params or PitchControlParams()
    xs, ys = grid_centres(grid, pitch)
    apos, avel, alam, dpos, dvel, dlam = _teams(
        attack_xy, attack_vel, defence_xy, defence_vel, attack_gk, defence_gk, p
    )
    attackers = [
        _RefPlayer(apos[i], avel[i], float(alam[i]), p.lambda_def, p)
        for i in range(len(apos))
        if np.isfinite(apos[i]).all()
    ]
    defenders = [
        _RefPlayer(dpos[i], dvel[i], p.lambda_att, float(dlam[i]), p)
        for i in range(len(dpos))
        if np.isfinite(dpos[i]).all()
    ]
    ball = _ball(ball_xy)
    shape = (ys.size, xs.size)
    att, dfn = np.full(shape, np.nan), np.full(shape, np.nan)
    conv = np.zeros(shape, dtype=bool)
    if attackers or defenders:
        for iy, y in enumerate(ys):
            for ix, x in enumerate(xs):
                a, d, c = _reference_at_target(np.array([x, y]), attackers, defenders, ball, p)
                if normalise:
                    a = a / (a + d) if a + d > 0 else 0.5
                    d = 1.0 - a
                att[iy, ix], dfn[iy, ix], conv[iy, ix] = a, d, c
    return PitchControlResult(att, dfn, xs, ys, conv)
