"""The person tracker and the ball tracker side by side, behind one ``update``/``reset``.

Ball rows (class ``"ball"``) go to the :class:`~touchline.track.ball.BallTracker`, every other
row to the :class:`~touchline.track.tracker.Tracker`; the ball gets the camera motion the person
tracker used and its row comes last in the output (``tracker_id`` 0).

>>> from touchline.types import Detections
>>> both = PeopleAndBallTracker()
>>> out = both.update(Detections(xyxy=[[0, 0, 10, 20], [40, 40, 44, 44]], confidence=[0.9, 0.9],
...                              class_id=[0, 3]))
>>> out.tracker_id.tolist(), out.class_id.tolist()
([1, 0], [0, 3])
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from touchline.track.ball import BallConfig, BallTracker, merge_ball, split_ball
from touchline.track.tracker import Tracker
from touchline.types import Calibration, Detections

__all__ = ["PeopleAndBallTracker"]


class PeopleAndBallTracker:
    """A :class:`Tracker` for people and a :class:`BallTracker` for the ball, composed.

    Args:
        people: the person tracker (default settings).
        ball: the ball tracker (default: at the person tracker's fps, outputting a predicted
            ball, ``data["predicted"]``, for as long as its track survives unmeasured). A plain
            :class:`Tracker` alone drops ball rows.
    """

    def __init__(self, people: Tracker | None = None, ball: BallTracker | None = None) -> None:
        self.people = people or Tracker()
        if ball is None:  # live output: the ball predicted while its track lives
            cfg = BallConfig(fps=self.people.config.fps)
            ball = BallTracker(replace(cfg, coast_seconds=cfg.missed_seconds))
        self.ball = ball
        self.reset()

    def reset(self) -> None:
        """Start a new clip."""
        self.people.reset()
        self.ball.reset()
        self._ball_seen = False

    def update(
        self,
        detections: Detections,
        calibration: Calibration | None = None,
        frame: NDArray[np.uint8] | None = None,
        *,
        motion: NDArray[np.float64] | None = None,
    ) -> Detections:
        """Track one frame (as :meth:`Tracker.update`); the ball row, if any, comes last."""
        others, balls = split_ball(detections)
        out = self.people.update(others, calibration, frame, motion=motion)
        if balls is None:
            return out
        # The ball tracker starts with the first ball; from then on it counts every frame.
        self._ball_seen = self._ball_seen or len(balls) > 0
        if not self._ball_seen:
            return out
        ball = self.ball.update(balls, calibration, motion=self.people.last_motion)
        return merge_ball(out, ball, calibration)
