"""A simple, plausible game of football to animate synthetic clips.

Two 4-4-2 teams keep their shape and slide with the ball (the team in possession stretches and
pushes up, the other compacts and drops); the carrier dribbles towards goal and, after a short
hold or under pressure, passes (along the ground or lofted) to the most open forward-placed
team-mate; the nearest opponent presses, others can intercept passes along the ground; close to
goal the carrier shoots and the goalkeeper saves and restarts. Players accelerate and run at
human speeds. Deterministic for a seed.

>>> scene = simulate_match(seconds=1.0, fps=10.0, seed=3)
>>> scene.xy.shape
(10, 26, 2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from touchline.pitch import Pitch
from touchline.synth.scene import KITS, TEAM_KITS, Actor, Kit, Scene, referee_motion
from touchline.types import ObjectClass

__all__ = ["GameParams", "pick_kits", "simulate_match"]

# 4-4-2: (depth as a fraction of the pitch from the own goal, lateral fraction of the width).
_FORMATION = np.array(
    [
        (0.17, 0.14),
        (0.15, 0.38),
        (0.15, 0.62),
        (0.17, 0.86),
        (0.38, 0.12),
        (0.36, 0.38),
        (0.36, 0.62),
        (0.38, 0.88),
        (0.55, 0.36),
        (0.56, 0.64),
    ]
)


@dataclass(frozen=True)
class GameParams:
    """Physical and tactical constants of the game model (SI units)."""

    sprint: float = 7.5  # m/s
    jog: float = 4.5
    dribble: float = 5.0
    accel: float = 4.5  # m/s^2
    reaction: float = 0.7  # s, time constant of steering towards a target
    hold_min: float = 0.6  # s before a carrier may pass
    hold_max: float = 2.4
    tackle_radius: float = 1.3  # m
    tackle_rate: float = 0.9  # per second while within the radius
    intercept_radius: float = 1.4
    shot_range: float = 24.0  # m from goal
    team_offset: float = 3.0  # m, amplitude of each player's personal drift


@dataclass
class _Flight:
    """The ball between two players: from where, to where and whom, how long, how high."""

    start: NDArray[np.float64]
    end: NDArray[np.float64]
    to_player: int
    duration: float
    apex: float = 0.0
    lofted: bool = False
    t: float = 0.0


def pick_kits(rng: np.random.Generator) -> tuple[Kit, Kit, Kit, Kit, Kit]:
    """Two contrasting team kits, their goalkeepers' kits, and the referees' kit."""
    i, j = rng.choice(len(TEAM_KITS), size=2, replace=False)
    a, b = TEAM_KITS[int(i)], TEAM_KITS[int(j)]
    gks = [KITS["goalkeeper_a"], KITS["goalkeeper_b"], KITS["goalkeeper_c"]]
    ref = KITS["referee"]
    if sum(a.shirt) < 200 or sum(b.shirt) < 200:  # a dark team: referees in yellow
        ref = KITS["referee_alt"]
        gks = [k for k in gks if k != KITS["goalkeeper_c"]]
    return a, b, gks[0], gks[1], ref


def simulate_match(
    seconds: float = 10.0,
    fps: float = 25.0,
    seed: int = 0,
    pitch: Pitch | None = None,
    params: GameParams | None = None,
) -> Scene:
    """Simulate ``seconds`` of play: 22 players (2 goalkeepers), 3 referees and the ball.

    Returns a :class:`Scene` with actor ids 1..22 for players (team 0 then team 1, goalkeepers
    first), 23 for the ball and 24..26 for the referees.
    """
    pitch = pitch or Pitch()
    prm = params or GameParams()
    rng = np.random.default_rng(seed)
    L, W = pitch.length, pitch.width
    T = max(1, round(seconds * fps))
    dt = 1.0 / fps
    n = 22
    team = np.array([0] * 11 + [1] * 11)
    is_gk = np.zeros(n, bool)
    is_gk[[0, 11]] = True
    attack_dir = np.where(team == 0, 1.0, -1.0)  # team 0 attacks towards x = L
    own_goal = np.where(team == 0, 0.0, L)
    base = np.zeros((n, 2))
    base[1:11] = _FORMATION
    base[12:22] = _FORMATION
    # Personal drift: smoothed noise, a few metres, slow (a few seconds).
    drift = gaussian_filter1d(rng.normal(size=(T + 1, n, 2)), sigma=2.5 * fps, axis=0, mode="wrap")
    drift *= prm.team_offset / (drift.std() + 1e-9)

    def to_x(u: NDArray[np.float64]) -> NDArray[np.float64]:
        return own_goal + attack_dir * u

    # Kick-off-like start: shape for a ball on the centre spot, jittered.
    ball = np.array([L / 2, W / 2])
    pos = np.zeros((n, 2))
    pos[:, 0] = to_x(base[:, 0] * L * 0.5 + 0.42 * (L / 2) * 0.5)
    pos[:, 1] = W * (0.08 + 0.84 * base[:, 1])
    pos[is_gk, 0] = np.where(team[is_gk] == 0, 4.0, L - 4.0)
    pos[is_gk, 1] = W / 2
    pos += rng.normal(scale=1.5, size=pos.shape)
    vel = np.zeros((n, 2))
    carrier = int(rng.choice(np.arange(9, 11)) + (11 if rng.random() < 0.5 else 0))
    pos[carrier] = ball - np.array([attack_dir[carrier] * 0.6, 0.0])
    hold = float(rng.uniform(prm.hold_min, prm.hold_max))
    flight: _Flight | None = None
    heading = rng.uniform(-0.6, 0.6)

    xy = np.zeros((T, n + 1, 2))
    z = np.zeros((T, n + 1))
    for k in range(T):
        poss_team = team[carrier] if flight is None else team[flight.to_player]
        # ---- team shape targets ---------------------------------------------------------
        u_ball = np.where(team == 0, ball[0], L - ball[0])
        attacking = team == poss_team
        u = base[:, 0] * L * 0.55 + 0.42 * u_ball + np.where(attacking, 6.0, -4.0)
        u = np.clip(u, 5.0, L - 5.0)
        spread = np.where(attacking, 0.85, 0.62)
        y = W / 2 + (base[:, 1] - 0.5) * W * spread + 0.3 * (ball[1] - W / 2)
        target = np.stack([to_x(u), y], axis=1) + drift[k]
        vmax = np.full(n, prm.jog)
        # Goalkeepers: on the line between ball and goal centre, a few metres out.
        for g in (0, 11):
            goal = np.array([own_goal[g], W / 2])
            d = ball - goal
            reach = min(12.0, 0.15 * float(np.hypot(*d)) + 1.0)
            target[g] = goal + d / (np.hypot(*d) + 1e-9) * reach
            target[g, 1] = np.clip(target[g, 1], W / 2 - 8, W / 2 + 8)
            vmax[g] = 5.0
        # Pressing: the nearest two opponents of the ball close it down / cover.
        opp = np.flatnonzero((team != poss_team) & ~is_gk)
        dist_ball = np.hypot(*(pos[opp] - ball).T)
        order = opp[np.argsort(dist_ball)]
        target[order[0]] = ball + (np.array([own_goal[order[0]], W / 2]) - ball) * 0.05
        vmax[order[0]] = prm.sprint
        target[order[1]] = 0.6 * ball + 0.4 * target[order[1]]
        vmax[order[1]] = prm.jog + 1.0
        # ---- ball ----------------------------------------------------------------------
        if flight is None:
            # Carrier dribbles towards goal, weaving.
            heading += rng.normal(scale=0.35) * math.sqrt(dt) - 0.4 * heading * dt
            goal_dir = np.array([attack_dir[carrier], 0.0])
            to_goal = np.array([L if team[carrier] == 0 else 0.0, W / 2]) - pos[carrier]
            goal_dir = 0.6 * goal_dir + 0.4 * to_goal / (np.hypot(*to_goal) + 1e-9)
            c, s = math.cos(heading), math.sin(heading)
            dvec = np.array([c * goal_dir[0] - s * goal_dir[1], s * goal_dir[0] + c * goal_dir[1]])
            target[carrier] = pos[carrier] + dvec * 8.0
            vmax[carrier] = prm.dribble
            if is_gk[carrier]:
                target[carrier] = pos[carrier]
            facing = (
                vel[carrier] / (np.hypot(*vel[carrier]) + 1e-9)
                if np.hypot(*vel[carrier]) > 0.3
                else dvec
            )
            feet = pos[carrier] + facing * 0.55
            step = feet - ball
            reach = 14.0 * dt  # the ball is played to the new carrier's feet, not teleported
            gap = float(np.hypot(*step))
            ball = feet if gap <= reach else ball + step * (reach / gap)
            ball_z = 0.0
            hold -= dt
            # Tackle: an opponent within reach may win the ball.
            if (
                not is_gk[carrier]
                and dist_ball.min() < prm.tackle_radius
                and rng.random() < prm.tackle_rate * dt
            ):
                carrier = int(order[0])
                hold = float(rng.uniform(prm.hold_min, prm.hold_max))
            elif hold <= 0:
                flight = _decide(
                    carrier, pos, vel, team, is_gk, own_goal, attack_dir, ball, pitch, prm, rng
                )
        if flight is not None:
            flight.t += dt
            s = min(1.0, flight.t / flight.duration)
            ease = s if flight.lofted else 1 - (1 - s) ** 1.35  # ground passes slow down
            ball = flight.start + (flight.end - flight.start) * ease
            ball_z = 4.0 * flight.apex * s * (1 - s)
            rp = flight.to_player
            target[rp] = flight.end
            vmax[rp] = prm.sprint
            if s >= 1.0:
                gap = float(np.hypot(*(pos[rp] - ball)))
                if gap > 1.0:
                    # The receiver is not there yet: the ball rolls on towards him.
                    flight = _Flight(ball.copy(), pos[rp] + vel[rp] * 0.3, rp, max(gap / 8.0, 0.12))
                else:
                    carrier = rp
                    hold = float(rng.uniform(prm.hold_min, prm.hold_max)) + (
                        1.2 if is_gk[carrier] else 0.0
                    )
                    heading = rng.uniform(-0.5, 0.5)
                    flight = None
                    ball_z = 0.0
        ball = np.clip(ball, [0.3, 0.3], [L - 0.3, W - 0.3])
        # ---- movement ------------------------------------------------------------------
        target[:, 0] = np.clip(target[:, 0], 0.5, L - 0.5)
        target[:, 1] = np.clip(target[:, 1], 0.5, W - 0.5)
        desired = (target - pos) / prm.reaction
        sp = np.hypot(desired[:, 0], desired[:, 1])
        desired *= (np.minimum(sp, vmax) / np.maximum(sp, 1e-9))[:, None]
        # Separation: keep about 1.4 m apart.
        diff = pos[:, None, :] - pos[None, :, :]
        dist = np.hypot(diff[..., 0], diff[..., 1]) + np.eye(n) * 1e3
        push = np.where(dist < 1.4, (1.4 - dist) / 1.4, 0.0)
        desired += 3.0 * (push[..., None] * diff / dist[..., None]).sum(axis=1)
        dv = desired - vel
        dvn = np.hypot(dv[:, 0], dv[:, 1])
        dv *= (np.minimum(dvn, prm.accel * dt) / np.maximum(dvn, 1e-9))[:, None]
        vel = vel + dv
        vn = np.hypot(vel[:, 0], vel[:, 1])
        vel *= (np.minimum(vn, prm.sprint) / np.maximum(vn, 1e-9))[:, None]
        pos = pos + vel * dt
        pos[:, 0] = np.clip(pos[:, 0], 0.3, L - 0.3)
        pos[:, 1] = np.clip(pos[:, 1], 0.3, W - 0.3)
        xy[k, :n] = pos
        xy[k, n] = ball
        z[k, n] = ball_z

    kit_a, kit_b, gk_a, gk_b, ref_kit = pick_kits(rng)
    heights = rng.normal(1.81, 0.06, size=n).clip(1.65, 1.98)
    actors: list[Actor] = []
    for i in range(n):
        t = int(team[i])
        kit = (gk_a if t == 0 else gk_b) if is_gk[i] else (kit_a if t == 0 else kit_b)
        role = ObjectClass.GOALKEEPER if is_gk[i] else ObjectClass.PLAYER
        actors.append(
            Actor(i + 1, role, t, 1 if is_gk[i] else (i % 11) + 1, kit, float(heights[i]))
        )
    actors.append(Actor(n + 1, ObjectClass.BALL, -1, 0, KITS["ball"], 0.22))
    ref_xy, refs = referee_motion(xy[:, n], fps, pitch, first_id=n + 2, kit=ref_kit)
    return Scene(
        fps=fps,
        actors=actors + refs,
        xy=np.concatenate([xy, ref_xy], axis=1),
        z=np.concatenate([z, np.zeros((T, len(refs)))], axis=1),
        pitch=pitch,
        source=f"game-model:seed={seed}",
    )


def _decide(
    carrier: int,
    pos: NDArray[np.float64],
    vel: NDArray[np.float64],
    team: NDArray[np.int64],
    is_gk: NDArray[np.bool_],
    own_goal: NDArray[np.float64],
    attack_dir: NDArray[np.float64],
    ball: NDArray[np.float64],
    pitch: Pitch,
    prm: GameParams,
    rng: np.random.Generator,
) -> _Flight:
    """The carrier's next action: a shot at goal or a pass (possibly intercepted)."""
    L, W = pitch.length, pitch.width
    t = team[carrier]
    goal = np.array([L if t == 0 else 0.0, W / 2])
    mates = np.flatnonzero((team == t) & (np.arange(len(team)) != carrier))
    opps = np.flatnonzero(team != t)
    if np.hypot(*(goal - ball)) < prm.shot_range and rng.random() < 0.5:
        aim = goal + np.array([0.0, rng.uniform(-3.2, 3.2)])
        gk = int(opps[is_gk[opps]][0])
        shot_len = float(np.hypot(*(aim - ball)))
        end = pos[gk] * 0.7 + aim * 0.3
        return _Flight(
            ball.copy(), end, gk, shot_len / 24.0, apex=rng.uniform(0.3, 2.0), lofted=True
        )
    # Pass: prefer open, forward team-mates at a sensible distance.
    rel = pos[mates] - ball
    d = np.hypot(rel[:, 0], rel[:, 1])
    forward = rel[:, 0] * attack_dir[carrier]
    openness = np.min(
        np.hypot(*(pos[mates][:, None, :] - pos[opps][None, :, :]).transpose(2, 0, 1)), axis=1
    )
    score = (
        0.05 * forward
        + 0.25 * np.minimum(openness, 8.0)
        - 0.06 * np.maximum(d - 28.0, 0)
        - 2.0 * (d < 6)
        - 3.0 * is_gk[mates]
        + rng.gumbel(size=len(mates)) * 0.6
    )
    rp = int(mates[int(np.argmax(score))])
    dist = float(d[mates == rp][0])
    lofted = dist > 30 and rng.random() < 0.7
    speed = float(np.clip(8.0 + 0.45 * dist, 9.0, 24.0)) * (0.75 if lofted else 1.0)
    duration = dist / speed
    dest = pos[rp] + vel[rp] * duration * 0.8
    dest = np.clip(dest, [1.0, 1.0], [L - 1.0, W - 1.0])
    flight = _Flight(
        ball.copy(),
        dest,
        rp,
        max(duration, 0.2),
        apex=min(12.0, 0.11 * dist) if lofted else 0.0,
        lofted=lofted,
    )
    if not lofted:
        # Interception by an outfield opponent close to the pass line.
        seg = dest - ball
        seg_len2 = float(seg @ seg) + 1e-9
        cand = opps[~is_gk[opps]]
        tt = np.clip(((pos[cand] - ball) @ seg) / seg_len2, 0.0, 1.0)
        near = np.hypot(*(pos[cand] - (ball + tt[:, None] * seg)).T)
        ok = (tt > 0.15) & (tt < 0.9) & (near < prm.intercept_radius)
        if ok.any() and rng.random() < 0.6:
            i = int(np.flatnonzero(ok)[np.argmin(tt[ok])])
            cut = ball + tt[i] * seg
            flight.end, flight.to_player = cut, int(cand[i])
            flight.duration = max(float(duration * tt[i]), 0.15)
    return flight
