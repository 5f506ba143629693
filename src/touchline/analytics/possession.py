"""Possession from ball and player positions.

A player *controls* the ball in a frame when they are the nearest person to it, within
``radius`` metres, and the ball moves with them (relative speed at most ``max_relative_speed``:
a shot or a pass flying past a player is not controlled by them). The team in possession
changes only when the other team controls the ball for ``min_seconds`` of consecutive frames (a
touch in a duel does not flip it; seconds are counted in frames at the states' rate, read from
their ``times``), and stays with the last team in control while the ball travels (passes,
shots, loose balls). Frames before the first control take the first team in control; frames
without a seen ball keep the current team. The possessor is the controlling player, else the
last one.

Assumptions: positions are on the ground (a ball in the air over a player counts as
controlled); tracking gaps of the ball are not filled here (fill them first with
:func:`touchline.trajectories.interpolate_gaps`).

>>> import numpy as np
>>> from touchline.analytics.state import GameStates
>>> from touchline.pitch import Pitch
>>> xy = np.array([[[50.0, 30], [60, 30]]] * 4)
>>> ball = np.array([[50.5, 30], [55, 30], [59.5, 30], [59.5, 30]])
>>> s = GameStates(np.arange(4), np.arange(4) / 10, np.array([3, 4]), np.array([0, 1], np.int8),
...     np.zeros(2, bool), xy, np.zeros_like(xy), ball, np.ones(4, np.int8), np.ones(4, np.int64),
...     Pitch())
>>> p = possession(s, min_seconds=0.2, max_relative_speed=None)  # 2 frames at 10 fps
>>> p.team.tolist(), p.player.tolist()
([0, 0, 0, 1], [3, 3, 3, 4])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from touchline.analytics.state import GameStates
from touchline.errors import DataError
from touchline.utils.durations import check_seconds, seconds_to_frames

__all__ = ["GOAL_HALF_WIDTH", "Possession", "goal_events", "possession"]


@dataclass(frozen=True)
class Possession:
    """Per-frame possession (rows match :attr:`GameStates.frames`).

    Attributes:
        frames: ``(F,)`` frame indices.
        team: ``(F,)`` team in possession, 0 or 1; -1 before any control is seen.
        player: ``(F,)`` track id of the possessor (the controller, else the last one); -1
            when unknown.
        controlled: ``(F,)`` whether some player controls the ball in that frame.
        distance: ``(F,)`` distance from the ball to the nearest person, m (NaN: no ball).
    """

    frames: NDArray[np.int64]
    team: NDArray[np.int8]
    player: NDArray[np.int64]
    controlled: NDArray[np.bool_]
    distance: NDArray[np.float64]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per frame: ``frame, team, player, controlled, distance``."""
        return pd.DataFrame(
            {
                "frame": self.frames,
                "team": self.team,
                "player": self.player,
                "controlled": self.controlled,
                "distance": self.distance,
            }
        )

    def share(self) -> dict[int, float]:
        """Share of the frames with a known possessing team, per team.

        >>> Possession(np.arange(4), np.array([0, 0, 1, -1], np.int8), np.full(4, -1),
        ...     np.ones(4, bool), np.zeros(4)).share()
        {0: 0.6667, 1: 0.3333}
        """
        known = self.team >= 0
        n = max(int(known.sum()), 1)
        return {t: round(float((self.team == t).sum()) / n, 4) for t in (0, 1)}


def _states_fps(states: GameStates, default: float = 25.0) -> float:
    """States per second: one over the median step of ``states.times`` (``default`` when
    fewer than two states have increasing finite times).

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> round(_states_fps(SimpleNamespace(times=np.arange(5) / 50.0)), 6)
    50.0
    >>> _states_fps(SimpleNamespace(times=np.zeros(1)))
    25.0
    """
    dt = np.diff(np.asarray(states.times, np.float64))
    dt = dt[np.isfinite(dt) & (dt > 0)]
    return float(1.0 / np.median(dt)) if dt.size else float(default)


def possession(
    states: GameStates,
    *,
    radius: float = 2.0,
    min_seconds: float = 0.12,
    max_relative_speed: float | None = 7.0,
) -> Possession:
    """Team and player in possession in every frame (see the module docstring).

    Args:
        states: the game states.
        radius: control distance, m.
        min_seconds: how long (seconds) the other team must control the ball, in consecutive
            frames, to take it; counted in frames at the rate of ``states.times`` (nearest
            whole frame, at least one: 0.12 s is 3 frames at 25 fps).
        max_relative_speed: fastest ball, relative to the player, they can control, m/s
            (``None``: no limit). The ball's velocity is its central difference over time; a
            player's unknown velocity counts as standing still.
    """
    if radius <= 0:
        raise DataError(f"possession: radius must be > 0, got {radius}")
    check_seconds("possession", min_seconds=min_seconds)
    min_frames = seconds_to_frames(min_seconds, _states_fps(states), 1)
    n_f = len(states)
    d = np.linalg.norm(states.xy - states.ball[:, None, :], axis=2)  # (F, P)
    d = np.where(np.isfinite(d), d, np.inf)
    if d.shape[1]:
        nearest = np.argmin(d, axis=1)
        dmin = d[np.arange(n_f), nearest]
    else:
        nearest = np.zeros(n_f, np.int64)
        dmin = np.full(n_f, np.inf)
    controlled = dmin <= radius
    if max_relative_speed is not None and d.shape[1] and n_f >= 3:
        ball_vel = np.gradient(states.ball, states.times, axis=0)
        rel = ball_vel - np.nan_to_num(states.vel[np.arange(n_f), nearest])
        speed = np.hypot(rel[:, 0], rel[:, 1])
        controlled &= ~(speed > max_relative_speed)  # NaN (unknown) speed does not veto
    ctrl_team = np.where(controlled, states.team[nearest] if d.shape[1] else -1, -1)
    ctrl_player = np.where(controlled, states.ids[nearest] if d.shape[1] else -1, -1)

    team = np.full(n_f, -1, np.int8)
    player = np.full(n_f, -1, np.int64)
    current, holder, streak_team, streak = -1, -1, -1, 0
    for k in range(n_f):
        t = int(ctrl_team[k])
        if t >= 0:
            if t == current:
                holder, streak = int(ctrl_player[k]), 0
            else:
                streak = streak + 1 if t == streak_team else 1
                streak_team = t
                if current < 0 or streak >= min_frames:
                    current, holder, streak = t, int(ctrl_player[k]), 0
        team[k], player[k] = current, holder
    first = np.flatnonzero(team >= 0)
    if first.size:
        team[: first[0]] = team[first[0]]
        player[: first[0]] = player[first[0]]
    distance = np.where(np.isfinite(dmin), dmin, np.nan)
    return Possession(states.frames.copy(), team, player, controlled, distance)


GOAL_HALF_WIDTH = 7.32 / 2
"""Half the distance between the posts, m."""


def goal_events(states: GameStates, *, margin: float = 0.3) -> list[dict[str, Any]]:
    """Goals: frames where the ball crosses a goal line between the posts.

    A goal is the first frame with the ball beyond a goal line (``x < 0`` or ``x > length``)
    within ``GOAL_HALF_WIDTH + margin`` of the pitch's long axis, after a frame with the ball in
    the pitch. The scoring team is the one attacking that goal (:attr:`GameStates.direction`).

    >>> import numpy as np
    >>> from touchline.pitch import Pitch
    >>> ball = np.array([[100.0, 34.0], [104.0, 34.5], [105.6, 34.5]])
    >>> s = GameStates(np.arange(3), np.arange(3) / 10, np.zeros(0, np.int64), np.zeros(0, np.int8),
    ...     np.zeros(0, bool), np.zeros((3, 0, 2)), np.zeros((3, 0, 2)), ball, np.ones(3, np.int8),
    ...     np.ones(3, np.int64), Pitch())
    >>> goal_events(s)
    [{'frame': 2, 'time': 0.2, 'team': 0, 'goal': 'right', 'label': 'goal'}]
    """
    b = states.ball
    length, width = states.pitch.length, states.pitch.width
    with np.errstate(invalid="ignore"):
        inside = (b[:, 0] >= 0) & (b[:, 0] <= length)
        mouth = np.abs(b[:, 1] - width / 2) <= GOAL_HALF_WIDTH + margin
        right = (b[:, 0] > length) & mouth
        left = (b[:, 0] < 0) & mouth
    events: list[dict[str, Any]] = []
    was_inside = False
    for k in range(len(states)):
        if inside[k]:
            was_inside = True
            continue
        if was_inside and (right[k] or left[k]):
            side = "right" if right[k] else "left"
            team = 0 if (int(states.direction[k]) > 0) == (side == "right") else 1
            events.append(
                {
                    "frame": int(states.frames[k]),
                    "time": round(float(states.times[k]), 3),
                    "team": team,
                    "goal": side,
                    "label": "goal",
                }
            )
        if np.isfinite(b[k]).all():
            was_inside = False
    return events
