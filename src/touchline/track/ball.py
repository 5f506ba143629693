"""The ball as its own single object: online tracking and offline gap filling.

:class:`BallTracker` takes each frame's ball candidates (detections of class
:attr:`~touchline.types.ObjectClass.BALL`, several per frame: the ball plus false positives on
heads, socks, boots, the penalty spot, line crossings) and returns at most one row, the ball,
always under the same ``tracker_id`` (:data:`BALL_TRACK_ID`, 0, which the player tracker never
uses: its ids start at 1). :func:`interpolate_ball` fills short gaps of the ball track in a
tracks table afterwards.

Design (why image space): the ball is tracked in image pixels, always, with a constant-velocity
Kalman filter on its box centre. A ball in the air projects to the wrong pitch point (a lob 5 m
high lands metres behind its true position on the pitch plane), so a pitch-space filter would see
impossible jumps; the ball's image position is what the detector measures and is exact. The
calibration is still used where it is right:

* **camera motion**: each frame the filter state (position, velocity, covariance) is moved into
  the current frame's pixels by the ``motion`` homography (previous -> current pixels) when given,
  else by ``P_cur @ H_prev`` built from two successive valid calibrations (the camera motion
  induced on the pitch plane); without either, the camera is assumed still;
* **scale**: speeds are physical (``max_speed`` m/s at ``fps``) and converted to pixels per frame
  with the local scale of the calibration at the ball (the largest singular value of the
  pitch -> image Jacobian); uncalibrated, a jump limit of ``max_jump_rel`` of the image width per
  frame is used, or, with the image size unknown, the ball's own box size (0.22 m).

Candidate choice: with a track, a candidate is admissible when it is within the speed limit of
the last measured position (a larger jump is rejected, whatever its score) and either it is
within one frame of top speed of the prediction (a kick) or it scores at least
``acquire_score``; the admissible candidate of least
``mahalanobis / gate_sigma + score_weight * (1 - score)`` is taken. A measurement that
surprises the filter (Mahalanobis distance beyond ``gate_sigma``) resets the velocity rather
than bending it: one false positive next to the ball cannot launch the prediction. Without
a track, a candidate starts one when it scores at least ``acquire_score`` or ends a chain of
consecutive candidates lasting ``confirm_seconds``, each within the speed limit of the previous
one. A challenger (a chain outside the track scoring ``acquire_score`` on average and more than
the track's confidence) takes the track over after ``switch_seconds`` without a strong
measurement of the track, ``switch_far_seconds`` when the ball could not have reached it from
the track. Durations are set in seconds and counted in frames at ``BallConfig.fps``.

Out of view: when the predicted centre of an unmeasured ball leaves the image (plus
``view_margin``) the track ends (state :attr:`BallTrackState.OUT_OF_VIEW`), and the ball must be
acquired again. A camera cut (``calibration.cut``) resets the tracker.

Example:
    >>> import numpy as np
    >>> from touchline.types import Detections
    >>> tracker = BallTracker(BallConfig(image_size=(1280, 720)))
    >>> for k in range(3):  # the ball rolls right; a weak false positive sits at (900, 100)
    ...     ball = [600 + 8 * k, 400, 610 + 8 * k, 410]
    ...     dets = Detections(xyxy=[ball, [895, 95, 905, 105]], confidence=[0.8, 0.3],
    ...                       class_id=[3, 3])
    ...     out = tracker.update(dets)
    >>> out.xyxy, out.tracker_id, out.data["predicted"]
    (array([[616., 400., 626., 410.]], dtype=float32), array([0]), array([False]))
    >>> tracker.state, tracker.last_status.tolist()
    (<BallTrackState.TRACKING: 'tracking'>, ['chosen', 'jump'])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from touchline.errors import DataError
from touchline.geometry.homography import apply_homography
from touchline.types import Calibration, Detections, ObjectClass
from touchline.utils.durations import FramesOf, check_fps, check_seconds

__all__ = [
    "BALL_DIAMETER",
    "BALL_TRACK_ID",
    "BallConfig",
    "BallStats",
    "BallTrackState",
    "BallTracker",
    "interpolate_ball",
    "merge_ball",
    "split_ball",
]

BALL_TRACK_ID = 0
"""``tracker_id`` of the ball: 0, below the player tracker's ids (which start at 1)."""

BALL_DIAMETER = 0.22
"""Diameter of a size-5 football in metres (the scale fallback of an uncalibrated frame)."""

_BALL_NAME = "ball"


class BallTrackState(StrEnum):
    """What the :class:`BallTracker` knows after a frame."""

    SEARCHING = "searching"
    """No track: waiting for a candidate that is strong enough or confirmed."""
    TRACKING = "tracking"
    """A track, measured this frame or coasting (missed for at most ``missed_seconds``)."""
    OUT_OF_VIEW = "out_of_view"
    """The prediction left the image; no track until the ball is acquired again."""


@dataclass(frozen=True)
class BallConfig:
    """Settings of :class:`BallTracker`.

    Durations (``*_seconds``) are in seconds; the tracker counts them in frames at ``fps``
    (nearest whole frame: :attr:`confirm_frames`, :attr:`switch_frames`,
    :attr:`switch_far_frames`, :attr:`missed_frames`, :attr:`coast_frames`), so the defaults
    give the same times at any frame rate (at 25 fps: 2, 3, 6, 10 and 0 frames).

    Attributes:
        ball_id: ``tracker_id`` of the ball rows (default 0, which never collides with the
            player tracker's ids, 1 and up).
        min_score: candidates scoring below this are ignored.
        acquire_score: a single candidate scoring at least this starts a track (and is
            admissible far from the prediction, within the speed limit).
        confirm_seconds: a chain of consecutive candidates this long (seconds, at least one
            frame), each within the speed limit of the previous one, starts a track whatever
            their scores.
        switch_seconds: a chain of consecutive consistent candidates outside the track,
            scoring ``acquire_score`` on average and more than the track's confidence, takes
            the track over after this long (seconds, at least one frame) without a strong
            measurement of the track (``>= acquire_score``), when the ball could have reached
            it from the track's last measurement.
        switch_far_seconds: the same for a chain beyond the speed limit of the track (one of
            them is a false positive: the track is kept longer); seconds, at least one frame.
        max_speed: fastest plausible ball, in m/s (a hard shot is 30-35 m/s).
        fps: frame rate of the input, used to turn ``max_speed`` into a distance per frame and
            the durations into frames.
        max_jump_rel: uncalibrated speed limit, a fraction of the image width per frame
            (0.04: 40 m/s at 25 fps on a 40 m wide view).
        gate_sigma: Mahalanobis distance to the prediction beyond which a measurement is a
            surprise (the velocity is reset, not updated); also the distance unit of the choice
            cost.
        score_weight: weight of ``1 - score`` against the distance in the choice cost.
        velocity_noise: process noise, the standard deviation of the ball's velocity change in
            one frame, in m/s.
        measurement_noise: standard deviation of a measured centre, a fraction of the ball's
            box size (at least 0.5 px).
        missed_seconds: how long (seconds) a track survives without a measurement before it
            is dropped.
        coast_seconds: output a predicted ball (``data["predicted"]`` True, ``confidence``
            NaN, its growing ``position_sigma``) for up to this long (seconds) without a
            measurement; 0 outputs measured balls only (the pipeline's tracker,
            :class:`~touchline.track.combined.PeopleAndBallTracker`, predicts while the track
            lives).
        view_margin: the track ends when its prediction is farther outside the image than this
            fraction of the image width.
        image_size: ``(width, height)`` of the frames; default the calibrations' ``image_size``.
            Unknown, the out-of-view test is skipped.
        size_smoothing: weight of a new box size in the running box size.
        confidence_smoothing: weight of a new score in the track confidence.
        miss_decay: factor applied to the track confidence per missed frame.

    Raises:
        ValueError: a value out of range.

    >>> BallConfig().ball_id, BallConfig(coast_seconds=0.12).coast_frames
    (0, 3)
    >>> BallConfig().missed_frames, BallConfig(fps=50.0).missed_frames
    (10, 20)
    """

    ball_id: int = BALL_TRACK_ID
    min_score: float = 0.1
    acquire_score: float = 0.5
    confirm_seconds: float = 0.08  # seconds
    switch_seconds: float = 0.12  # seconds
    switch_far_seconds: float = 0.24  # seconds
    max_speed: float = 40.0
    fps: float = 25.0
    max_jump_rel: float = 0.04
    gate_sigma: float = 4.0
    score_weight: float = 2.0
    velocity_noise: float = 1.5
    measurement_noise: float = 0.2
    missed_seconds: float = 0.4  # seconds
    coast_seconds: float = 0.0  # seconds
    view_margin: float = 0.02
    image_size: tuple[int, int] | None = None
    size_smoothing: float = 0.3
    confidence_smoothing: float = 0.3
    miss_decay: float = 0.8

    def __post_init__(self) -> None:
        positive = ("max_speed", "fps", "max_jump_rel", "gate_sigma", "measurement_noise")
        for name in positive:
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"BallConfig.{name} must be positive, got {getattr(self, name)}")
        unit = ("min_score", "acquire_score", "size_smoothing", "confidence_smoothing")
        for name in (*unit, "miss_decay"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"BallConfig.{name} must be in [0, 1], got {getattr(self, name)}")
        check_fps("BallConfig", self.fps)
        check_seconds(
            "BallConfig",
            confirm_seconds=self.confirm_seconds,
            switch_seconds=self.switch_seconds,
            switch_far_seconds=self.switch_far_seconds,
            missed_seconds=self.missed_seconds,
            coast_seconds=self.coast_seconds,
        )
        for name in ("score_weight", "velocity_noise", "view_margin"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"BallConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.image_size is not None:
            w, h = self.image_size
            if int(w) <= 0 or int(h) <= 0:
                raise ValueError(f"BallConfig.image_size must be positive, got {self.image_size}")

    # durations in frames at fps
    confirm_frames = FramesOf("confirm_seconds", 1)
    switch_frames = FramesOf("switch_seconds", 1)
    switch_far_frames = FramesOf("switch_far_seconds", 1)
    missed_frames = FramesOf("missed_seconds")
    coast_frames = FramesOf("coast_seconds")


@dataclass
class BallStats:
    """Counters of a :class:`BallTracker` since it was made (a cut does not clear them).

    Attributes:
        frames: frames given to :meth:`BallTracker.update`.
        frames_with_candidates: frames with at least one candidate above ``min_score``.
        frames_measured: frames whose output is a measured ball.
        frames_coasted: frames whose output is a predicted ball (``coast_seconds > 0``).
        acquisitions: tracks started (first acquisitions, re-acquisitions and switches).
        reacquisitions: tracks started after an earlier track of the same shot ended.
        switches: tracks taken over by a strong challenger.
        jumps_rejected: candidates rejected as beyond the speed limit of the track.
        out_of_view: tracks ended because the prediction left the image.
        lost: tracks ended after ``missed_seconds`` without a measurement.
        resets: camera cuts.
    """

    frames: int = 0
    frames_with_candidates: int = 0
    frames_measured: int = 0
    frames_coasted: int = 0
    acquisitions: int = 0
    reacquisitions: int = 0
    switches: int = 0
    jumps_rejected: int = 0
    out_of_view: int = 0
    lost: int = 0
    resets: int = 0


@dataclass
class _Track:
    x: np.ndarray  # (4,) centre x, y in px, velocity in px/frame
    P: np.ndarray  # (4, 4) covariance
    size: np.ndarray  # (2,) running box width, height in px
    last: np.ndarray  # (2,) last measured centre (moved with the camera)
    confidence: float
    missed: int = 0


@dataclass
class _Chain:
    """Consecutive candidates outside the track (for acquisition and take-over)."""

    pos: np.ndarray  # (2,) centre (moved with the camera)
    vel: np.ndarray | None  # (2,) px/frame from the previous link
    count: int  # consecutive frames
    run: int  # of which the last ones without a strong measurement of the track
    total: float  # sum of the scores


@dataclass
class _Candidates:
    rows: np.ndarray  # (k,) indices into the input detections
    boxes: np.ndarray  # (k, 4) float64
    centres: np.ndarray  # (k, 2)
    sizes: np.ndarray  # (k,) mean of width and height, >= 1 px
    scores: np.ndarray  # (k,) for the choice (unknown -> 1)
    confidence: np.ndarray  # (k,) as given (NaN when unknown)


_F = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)
"""Constant-velocity transition of the state (x, y, vx, vy), one frame."""
_G = np.array([0.5, 0.5, 1.0, 1.0])
_Q = np.outer(_G, _G) * np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
"""Process noise of a unit velocity change per frame (independent in x and y)."""


def _jacobians(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(n, 2, 2)`` Jacobians of the homography ``matrix`` at ``(n, 2)`` points."""
    w = points @ matrix[2, :2] + matrix[2, 2]
    w = np.where(np.abs(w) < 1e-12, np.nan, w)
    y = (points @ matrix[:2, :2].T + matrix[:2, 2]) / w[:, None]
    return np.asarray((matrix[:2, :2] - y[:, :, None] * matrix[2, :2]) / w[:, None, None])


def _largest_singular_values(j: np.ndarray) -> np.ndarray:
    """Largest singular value of each ``(n, 2, 2)`` matrix (closed form)."""
    a, b, c, d = j[:, 0, 0], j[:, 0, 1], j[:, 1, 0], j[:, 1, 1]
    frob = a * a + b * b + c * c + d * d
    det = a * d - b * c
    return np.asarray(np.sqrt((frob + np.sqrt(np.maximum(frob * frob - 4 * det * det, 0))) / 2))


class BallTracker:
    """Track the ball, one frame at a time (see the module docstring for the method).

    Args:
        config: the settings; default :class:`BallConfig()`.

    Attributes:
        config: the settings.
        stats: counters (:class:`BallStats`).

    Example:
        >>> from touchline.types import Detections
        >>> tracker = BallTracker()
        >>> weak = Detections(xyxy=[[100, 100, 110, 110]], confidence=[0.3], class_id=[3])
        >>> len(tracker.update(weak)), tracker.last_status.tolist()  # one weak sighting: wait
        (0, ['pending'])
        >>> again = Detections(xyxy=[[103, 100, 113, 110]], confidence=[0.3], class_id=[3])
        >>> out = tracker.update(again)  # the second consistent sighting starts the track
        >>> out.tracker_id, out.class_id, out.confidence
        (array([0]), array([3]), array([0.3], dtype=float32))
    """

    def __init__(self, config: BallConfig | None = None) -> None:
        self.config = config or BallConfig()
        self.stats = BallStats()
        self._image_size: tuple[int, int] | None = self.config.image_size
        self._prev_calibration: Calibration | None = None
        self._track: _Track | None = None
        self._chains: list[_Chain] = []
        self._had_track = False
        self._state = BallTrackState.SEARCHING
        self._status = np.empty(0, dtype=object)

    # ---- public state ---------------------------------------------------------------------

    @property
    def state(self) -> BallTrackState:
        """:class:`BallTrackState` after the last frame."""
        return self._state

    @property
    def prediction(self) -> np.ndarray | None:
        """``(2,)`` centre of the track in the last frame's pixels (measured or predicted), or
        ``None`` without a track."""
        return None if self._track is None else self._track.x[:2].copy()

    @property
    def last_status(self) -> np.ndarray:
        """Per row of the last frame's detections, what happened to it (str array).

        ``"other"`` not a ball, ``"low_score"`` below ``min_score``, ``"chosen"`` the ball,
        ``"jump"`` beyond the speed limit of the track, ``"gated"`` within the speed limit but
        too far from the prediction for its score, ``"outscored"`` admissible but another was
        better, ``"pending"`` no track and not (yet) enough evidence to start one.
        """
        return self._status.copy()

    def reset(self) -> None:
        """Forget the track and the pending candidates (the counters are kept)."""
        self._track = None
        self._chains = []
        self._had_track = False
        self._prev_calibration = None
        self._state = BallTrackState.SEARCHING

    # ---- the frame update -----------------------------------------------------------------

    def update(
        self,
        detections: Detections,
        calibration: Calibration | None = None,
        motion: np.ndarray | None = None,
    ) -> Detections:
        """Process one frame and return its ball: zero or one row.

        Args:
            detections: the frame's detections; with ``class_id`` only the ball rows are
                candidates, without it every row is. Unknown scores (``confidence`` ``None`` or
                NaN) count as 1.
            calibration: the frame's calibration, or ``None``. A valid one gives the speed
                scale and, with the previous frame's, the camera motion; ``cut`` resets.
            motion: optional 3x3 homography mapping the previous frame's pixels to this
                frame's (camera motion); it overrides the motion derived from calibrations.

        Returns:
            :class:`Detections` with ``tracker_id`` ``config.ball_id``, the ball ``class_id``,
            ``confidence`` the detection score (NaN for a predicted ball) and ``data`` entries
            ``"track_confidence"`` (float32), ``"predicted"`` (bool), ``"position_sigma"``
            (float32: the standard deviation in pixels of the centre along its least certain
            direction, from the track's filter: small when measured, growing while predicted)
            and ``"pitch_xy"`` (``(n, 2)`` metres of the box centre on the pitch plane, NaN
            uncalibrated).

        Raises:
            DataError: ``motion`` is not a finite 3x3 matrix.
        """
        cfg = self.config
        self.stats.frames += 1
        if calibration is not None and calibration.image_size is not None and not cfg.image_size:
            self._image_size = calibration.image_size
        valid = calibration if calibration is not None and calibration.is_valid else None
        if calibration is not None and calibration.cut:
            self.reset()
            self.stats.resets += 1
        else:
            matrix = self._camera_motion(motion, valid)
            if matrix is not None:
                self._apply_motion(matrix)
        self._prev_calibration = valid

        cands, status = self._candidates(detections)
        k = len(cands.rows)
        if k:
            self.stats.frames_with_candidates += 1
        chosen = -1  # index into the candidates of the measured ball
        track_strong = False
        out: Detections | None = None

        track = self._track
        if track is not None:
            chosen, surprise = self._associate(track, cands, status, valid)
            if chosen >= 0:  # a strong measurement that fits the motion holds challengers off
                track_strong = bool(cands.scores[chosen] >= cfg.acquire_score) and not surprise
            else:
                track.missed += 1
                track.confidence *= cfg.miss_decay
                if self._outside(track.x[:2]):
                    self._end(BallTrackState.OUT_OF_VIEW)
                    self.stats.out_of_view += 1
                elif track.missed > cfg.missed_frames:
                    self._end(BallTrackState.SEARCHING)
                    self.stats.lost += 1

        free = np.array([i != chosen for i in range(k)], dtype=bool)
        chains = self._link_chains(cands, free, valid, track_strong and self._track is not None)
        if self._track is not None and not track_strong:  # a strong challenger may take over
            challenger = self._challenger(self._track, cands, chains, chosen >= 0, valid)
            if challenger >= 0:
                if chosen >= 0:
                    status[cands.rows[chosen]] = "outscored"
                chosen = challenger
                chain = chains[chosen]
                assert chain is not None
                self._start(cands, chosen, chain, valid)
                self.stats.switches += 1
        elif self._track is None:
            chosen = self._acquire(cands, chains, valid)
        if chosen >= 0:
            chains[chosen] = None
            status[cands.rows[chosen]] = "chosen"
            self._state = BallTrackState.TRACKING
        self._chains = [c for c in chains if c is not None]
        for i in range(k):
            if status[cands.rows[i]] == "unassigned":
                status[cands.rows[i]] = "pending" if self._track is None else "outscored"

        names = detections.class_names
        if chosen >= 0:
            assert self._track is not None
            self.stats.frames_measured += 1
            out = self._output(
                cands.boxes[chosen],
                float(cands.confidence[chosen]),
                self._track.confidence,
                False,
                valid,
                names,
            )
        elif self._track is not None and 0 < self._track.missed <= cfg.coast_frames:
            self.stats.frames_coasted += 1
            t = self._track
            half = t.size / 2
            box = np.concatenate([t.x[:2] - half, t.x[:2] + half])
            out = self._output(box, math.nan, t.confidence, True, valid, names)
        self._status = status
        return out if out is not None else self._empty(names)

    # ---- steps ----------------------------------------------------------------------------

    def _candidates(self, detections: Detections) -> tuple[_Candidates, np.ndarray]:
        if not isinstance(detections, Detections):
            raise TypeError(f"BallTracker.update: expected Detections, got {type(detections)}")
        n = len(detections)
        status = np.full(n, "other", dtype=object)
        is_ball = np.ones(n, dtype=bool)
        if detections.class_id is not None:
            names = detections.class_names
            ball = names.index(_BALL_NAME) if _BALL_NAME in names else int(ObjectClass.BALL)
            is_ball = detections.class_id == ball
        conf = (
            np.full(n, np.nan)
            if detections.confidence is None
            else detections.confidence.astype(np.float64)
        )
        scores = np.where(np.isnan(conf), 1.0, conf)
        status[is_ball] = "low_score"
        keep = is_ball & (scores >= self.config.min_score)
        status[keep] = "unassigned"
        rows = np.flatnonzero(keep)
        boxes = detections.xyxy[rows].astype(np.float64)
        wh = boxes[:, 2:] - boxes[:, :2]
        return (
            _Candidates(
                rows=rows,
                boxes=boxes,
                centres=(boxes[:, :2] + boxes[:, 2:]) / 2,
                sizes=np.maximum(wh.mean(axis=1), 1.0),
                scores=scores[rows],
                confidence=conf[rows],
            ),
            status,
        )

    def _camera_motion(
        self, motion: np.ndarray | None, calibration: Calibration | None
    ) -> np.ndarray | None:
        if motion is not None:
            m = np.asarray(motion, dtype=np.float64)
            if m.shape != (3, 3) or not np.isfinite(m).all():
                raise DataError(f"BallTracker.update: motion must be a finite 3x3 matrix, got {m}")
            return m
        from touchline.calib.motion import calibration_motion

        return calibration_motion(self._prev_calibration, calibration)

    def _apply_motion(self, matrix: np.ndarray) -> None:
        if self._track is not None:
            t = self._track
            pts = apply_homography(matrix, np.stack([t.x[:2], t.last]))
            if not np.isfinite(pts).all():
                self._end(BallTrackState.SEARCHING)
            else:
                j = _jacobians(matrix, t.x[None, :2])[0]
                blocks = np.zeros((4, 4))
                blocks[:2, :2] = j
                blocks[2:, 2:] = j
                t.x = np.concatenate([pts[0], j @ t.x[2:]])
                t.P = blocks @ t.P @ blocks.T
                t.last = pts[1]
        if self._chains:
            old = np.array([c.pos for c in self._chains])
            new = apply_homography(matrix, old)
            jac = _jacobians(matrix, old)
            chains = []
            for c, p, j in zip(self._chains, new, jac, strict=True):
                if np.isfinite(p).all():
                    vel = None if c.vel is None else j @ c.vel
                    chains.append(_Chain(p, vel, c.count, c.run, c.total))
            self._chains = chains

    def _scales(
        self, points: np.ndarray, sizes: np.ndarray, calibration: Calibration | None
    ) -> np.ndarray:
        """Pixels per metre at ``(n, 2)`` image points for balls of box ``sizes`` px."""
        by_size = np.asarray(sizes, dtype=np.float64) / BALL_DIAMETER
        if self._image_size is not None:
            cfg = self.config
            fallback = np.full(len(points), cfg.max_jump_rel * self._image_size[0])
            fallback *= cfg.fps / cfg.max_speed
        else:
            fallback = by_size.copy()
        if calibration is None or len(points) == 0:
            return fallback
        to_image, to_pitch = calibration.pitch_to_image_matrix, calibration.homography
        if to_image is None or to_pitch is None:
            return fallback
        ground = apply_homography(to_pitch, points)
        s = _largest_singular_values(_jacobians(to_image, ground))
        ok = np.isfinite(s) & (s > 0)
        # A ball in the air projects beyond its ground point, where the scale is smaller:
        # never below half the scale the ball's own size gives.
        return np.where(ok, np.maximum(np.where(ok, s, 0.0), 0.5 * by_size), fallback)

    def _speeds(
        self, points: np.ndarray, sizes: np.ndarray, calibration: Calibration | None
    ) -> np.ndarray:
        """Speed limits in pixels per frame at ``(n, 2)`` image points."""
        cfg = self.config
        return cfg.max_speed / cfg.fps * self._scales(points, sizes, calibration)

    def _noise(self, size: float) -> float:
        return max(0.5, self.config.measurement_noise * size)

    def _associate(
        self,
        track: _Track,
        cands: _Candidates,
        status: np.ndarray,
        calibration: Calibration | None,
    ) -> tuple[int, bool]:
        """Predict the track and update it with the best admissible candidate.

        Returns:
            The candidate's index (-1 for none) and whether it surprised the filter.
        """
        cfg = self.config
        size = float(track.size.mean())
        scale = float(self._scales(track.x[None, :2], np.array([size]), calibration)[0])
        q = cfg.velocity_noise / cfg.fps * scale
        track.x = _F @ track.x
        track.P = _F @ track.P @ _F.T + q * q * _Q
        if len(cands.rows) == 0:
            return -1, False
        r = self._noise(size)
        vmax = cfg.max_speed / cfg.fps * scale
        elapsed = track.missed + 1
        radius = vmax * elapsed + size + 3 * r
        jump = np.linalg.norm(cands.centres - track.last, axis=1) > radius
        S = track.P[:2, :2] + r * r * np.eye(2)
        innovation = cands.centres - track.x[:2]
        dm = np.sqrt(np.einsum("ij,jk,ik->i", innovation, np.linalg.inv(S), innovation))
        # A weak candidate must be within one frame of top speed of the prediction (a kick);
        # farther (but within the speed limit) it needs a strong score.
        near = np.linalg.norm(innovation, axis=1) <= vmax + size + 3 * r
        gated = ~near & (cands.scores < cfg.acquire_score)
        ok = ~jump & ~gated
        for i in np.flatnonzero(jump):
            status[cands.rows[i]] = "jump"
        for i in np.flatnonzero(gated & ~jump):
            status[cands.rows[i]] = "gated"
        self.stats.jumps_rejected += int(jump.sum())
        if not ok.any():
            return -1, False
        cost = dm / cfg.gate_sigma + cfg.score_weight * (1.0 - cands.scores)
        best = int(np.flatnonzero(ok)[np.argmin(cost[ok])])

        surprise = bool(dm[best] > cfg.gate_sigma)
        if surprise:
            # A surprise (a kick, a deflection, or a false positive near the ball): take the
            # position, forget the velocity (the next measurement re-estimates it) rather than
            # let one jump set a velocity the prediction would then run away with.
            track.x = np.concatenate([cands.centres[best], np.zeros(2)])
            track.P = np.diag([r * r, r * r, (vmax / 6) ** 2, (vmax / 6) ** 2])
        else:  # Kalman update on the centre
            K = track.P[:, :2] @ np.linalg.inv(S)
            track.x = track.x + K @ innovation[best]
            track.P = track.P - K @ track.P[:2, :]
        speed = float(np.hypot(*track.x[2:]))
        if speed > vmax:
            track.x[2:] *= vmax / speed
        a = cfg.size_smoothing
        box = cands.boxes[best]
        track.size = (1 - a) * track.size + a * (box[2:] - box[:2]).clip(min=1.0)
        track.last = cands.centres[best].copy()
        track.missed = 0
        b = cfg.confidence_smoothing
        track.confidence = float((1 - b) * track.confidence + b * cands.scores[best])
        return best, surprise

    def _link_chains(
        self,
        cands: _Candidates,
        free: np.ndarray,
        calibration: Calibration | None,
        track_strong: bool,
    ) -> list[_Chain | None]:
        """Extend the previous frame's chains with this frame's free candidates (by score)."""
        cfg = self.config
        chains: list[_Chain | None] = [None] * len(cands.rows)
        if not free.any():
            return chains
        radius = self._speeds(cands.centres, cands.sizes, calibration) + cands.sizes
        radius += 3 * np.maximum(0.5, cfg.measurement_noise * cands.sizes)
        if self._chains:
            old = np.array([c.pos for c in self._chains])
            dist = np.linalg.norm(cands.centres[:, None] - old[None], axis=2)
            dist[dist > radius[:, None]] = np.inf
        else:
            dist = np.full((len(cands.rows), 0), np.inf)
        for i in np.argsort(-cands.scores, kind="stable"):
            if not free[i]:
                continue
            c, score = cands.centres[i], float(cands.scores[i])
            link = int(np.argmin(dist[i])) if dist.shape[1] else -1
            if link < 0 or not np.isfinite(dist[i, link]):
                chains[i] = _Chain(c.copy(), None, 1, int(not track_strong), score)
            else:
                dist[:, link] = np.inf
                prev = self._chains[link]
                run = 0 if track_strong else prev.run + 1
                chains[i] = _Chain(c.copy(), c - prev.pos, prev.count + 1, run, prev.total + score)
        return chains

    def _challenger(
        self,
        track: _Track,
        cands: _Candidates,
        chains: list[_Chain | None],
        measured: bool,
        calibration: Calibration | None,
    ) -> int:
        """The candidate whose chain takes the track over, or -1.

        The chain must score ``acquire_score`` on average, more than the track's confidence,
        and have lasted ``switch_seconds`` without a strong measurement of the track when
        the ball could have reached it from the track's last measurement (the track was not
        measured this frame, and the chain is within the speed limit of it), else
        ``switch_far_seconds`` (counted in frames at ``fps``).
        """
        cfg = self.config
        size = float(track.size.mean())
        radius = float(self._speeds(track.last[None], np.array([size]), calibration)[0])
        radius *= track.missed
        radius += size + 3 * self._noise(size)
        best, best_key = -1, (0, 0.0)
        for i, chain in enumerate(chains):
            if chain is None:
                continue
            mean = chain.total / chain.count
            if mean < cfg.acquire_score or mean <= track.confidence:
                continue
            near = not measured and float(np.hypot(*(cands.centres[i] - track.last))) <= radius
            need = cfg.switch_frames if near else cfg.switch_far_frames
            if chain.run >= need and (chain.run, mean) > best_key:
                best, best_key = i, (chain.run, mean)
        return best

    def _acquire(
        self, cands: _Candidates, chains: list[_Chain | None], calibration: Calibration | None
    ) -> int:
        """Start a track on the best strong or confirmed candidate (or return -1)."""
        cfg = self.config
        best, best_score = -1, -math.inf
        for i, chain in enumerate(chains):
            if chain is None:
                continue
            score = float(cands.scores[i])
            if (score >= cfg.acquire_score or chain.count >= cfg.confirm_frames) and (
                score > best_score
            ):
                best, best_score = i, score
        if best >= 0:
            chain = chains[best]
            assert chain is not None
            self._start(cands, best, chain, calibration)
        return best

    def _start(
        self, cands: _Candidates, i: int, chain: _Chain, calibration: Calibration | None
    ) -> None:
        box = cands.boxes[i]
        size = float(cands.sizes[i])
        r = self._noise(size)
        vmax = float(self._speeds(cands.centres[i : i + 1], cands.sizes[i : i + 1], calibration)[0])
        vel = np.zeros(2) if chain.vel is None else chain.vel.copy()
        speed = float(np.hypot(*vel))
        if speed > vmax:
            vel *= vmax / speed
        v_var = (vmax / 3) ** 2 if chain.vel is None else 2 * r * r + (vmax / 10) ** 2
        self._track = _Track(
            x=np.concatenate([cands.centres[i], vel]),
            P=np.diag([r * r, r * r, v_var, v_var]),
            size=(box[2:] - box[:2]).clip(min=1.0),
            last=cands.centres[i].copy(),
            confidence=float(cands.scores[i]),
        )
        self.stats.acquisitions += 1
        if self._had_track:
            self.stats.reacquisitions += 1
        self._had_track = True

    def _outside(self, point: np.ndarray) -> bool:
        if self._image_size is None:
            return False
        w, h = self._image_size
        m = self.config.view_margin * w
        x, y = float(point[0]), float(point[1])
        return not (-m <= x <= w + m and -m <= y <= h + m)

    def _end(self, state: BallTrackState) -> None:
        self._track = None
        self._state = state

    def _output(
        self,
        box: np.ndarray,
        confidence: float,
        track_confidence: float,
        predicted: bool,
        calibration: Calibration | None,
        names: tuple[str, ...],
    ) -> Detections:
        centre = ((box[:2] + box[2:]) / 2)[None]
        pitch = (
            np.full((1, 2), np.nan) if calibration is None else calibration.image_to_pitch(centre)
        )
        assert self._track is not None
        sigma = math.sqrt(max(float(np.linalg.eigvalsh(self._track.P[:2, :2]).max()), 0.0))
        return Detections(
            xyxy=box[None].astype(np.float32),
            confidence=np.array([confidence], dtype=np.float32),
            class_id=np.array([self._ball_class(names)]),
            tracker_id=np.array([self.config.ball_id]),
            data={
                "track_confidence": np.array([track_confidence], dtype=np.float32),
                "predicted": np.array([predicted]),
                "position_sigma": np.array([sigma], dtype=np.float32),
                "pitch_xy": pitch,
            },
            class_names=names,
        )

    def _empty(self, names: tuple[str, ...]) -> Detections:
        return Detections(
            xyxy=np.empty((0, 4), dtype=np.float32),
            confidence=np.empty(0, dtype=np.float32),
            class_id=np.empty(0, dtype=np.int64),
            tracker_id=np.empty(0, dtype=np.int64),
            data={
                "track_confidence": np.empty(0, dtype=np.float32),
                "predicted": np.empty(0, dtype=bool),
                "position_sigma": np.empty(0, dtype=np.float32),
                "pitch_xy": np.empty((0, 2)),
            },
            class_names=names,
        )

    @staticmethod
    def _ball_class(names: tuple[str, ...]) -> int:
        return names.index(_BALL_NAME) if _BALL_NAME in names else int(ObjectClass.BALL)


# --------------------------------------------------------------------------------------------
# Offline gap filling
# --------------------------------------------------------------------------------------------


def split_ball(detections: Detections) -> tuple[Detections, Detections | None]:
    """``(the other rows, the ball rows)``; ``None`` for the ball when the class names have no
    ``"ball"``.

    >>> d = Detections(xyxy=[[0, 0, 10, 20], [5, 5, 7, 7]], class_id=[0, 3])
    >>> [len(x) for x in split_ball(d)]
    [1, 1]
    """
    if detections.class_id is None or "ball" not in detections.class_names:
        return detections, None
    is_ball = detections.class_id == detections.class_names.index("ball")
    if not is_ball.any():
        return detections, detections[is_ball]
    return detections[~is_ball], detections[is_ball]


def merge_ball(tracks: Detections, ball: Detections, calibration: Calibration | None) -> Detections:
    """``tracks`` with the ball rows appended, given the same fields and ``data`` keys
    (``pitch_xy`` from ``calibration``, zeros elsewhere; the ball has no embedding)."""
    if not len(ball):
        return tracks
    n = len(ball)
    data: dict[str, np.ndarray] = {}
    for key, ref in tracks.data.items():
        if key in ball.data:
            data[key] = np.asarray(ball.data[key]).astype(ref.dtype, copy=False)
        elif key == "pitch_xy":
            data[key] = (
                calibration.image_to_pitch(ball.foot_points.astype(np.float64))
                if calibration is not None and calibration.is_valid
                else np.full((n, 2), np.nan)
            )
        else:
            data[key] = np.zeros((n, *ref.shape[1:]), ref.dtype)
    emb = None
    if tracks.embedding is not None:
        emb = np.zeros((n, tracks.embedding.shape[1]), np.float32)
    conformed = Detections(
        xyxy=ball.xyxy,
        confidence=ball.confidence if ball.confidence is not None else np.full(n, np.nan),
        class_id=ball.class_id,
        tracker_id=ball.tracker_id,
        embedding=emb,
        data=data,
        class_names=tracks.class_names,
    )
    return Detections.merge([tracks, conformed])


def interpolate_ball(
    df: pd.DataFrame,
    *,
    max_gap: int,
    ball_id: int = BALL_TRACK_ID,
    cut_frames: Iterable[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Fill short gaps of the ball track of a tracks table by linear interpolation.

    :func:`touchline.trajectories.interpolate_gaps` on the ball's track only (see there).

    Example:
        >>> from touchline.tracks import TracksBuilder
        >>> b = TracksBuilder()
        >>> for frame, x in ((0, 100.0), (2, 120.0)):
        ...     b.add(frame, frame / 25, Detections(xyxy=[[x, 50, x + 10, 60]], class_id=[3],
        ...                                        tracker_id=[0]))
        >>> interpolate_ball(b.build().df, max_gap=2)[["frame", "x1", "interpolated"]].values
        array([[0, 100.0, False], [1, 110.0, True], [2, 120.0, False]], dtype=object)
    """
    from touchline.trajectories import interpolate_gaps

    return interpolate_gaps(df, max_gap=max_gap, track_ids=[ball_id], cut_frames=cut_frames)
