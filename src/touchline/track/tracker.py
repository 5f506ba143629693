"""The multi-object tracker: people in pitch metres when calibrated, image space otherwise.

One contract, :meth:`Tracker.update` ``(detections, calibration=None, frame=None) -> tracks``:
detections of one frame in, the same :class:`~touchline.types.Detections` type out with
``tracker_id`` set (and ``data["pitch_xy"]``, ``data["track_confidence"]``, ...).

How a frame is processed:

1. **Camera.** A camera cut (``calibration.cut``, or the cut detector when frames are given)
   invalidates every image-space state; pitch states survive (players do not teleport when the
   director switches cameras). Camera motion between frames (given, measured on the frames, or
   implied by two calibrations) moves every image-space state; without any of these, a global
   shift is voted from the detections themselves (every player moves with the camera).
2. **Prediction.** Each track carries two constant-velocity Kalman filters: its box in the
   image (:class:`~touchline.track.kalman.BoxKalman`) and, when calibrated, its position on the
   pitch in metres (:class:`~touchline.track.kalman.PitchKalman`).
3. **Association** (the ByteTrack idea, in stages): (a) confirmed and recently lost tracks
   against high-confidence detections, by pitch distance (Mahalanobis, gated) when both sides
   have pitch positions, by box IoU otherwise, blended with appearance when available;
   (b) tracks still unmatched that were seen on the previous frame against low-confidence
   detections, by IoU or pitch distance only; (c) re-identification: tracks lost for longer
   (occlusion, leaving and re-entering the view, after a cut) against the remaining
   high-confidence detections, by appearance within a reachable distance; (d) tentative
   tracks against what remains (after re-identification, so that a returning player gets his
   old identity back rather than the tentative one started on the frame he reappeared).
4. **Lifecycle.** Unmatched high-confidence detections start *tentative* tracks, confirmed
   after ``min_hits`` consecutive matches (immediately on the first frame); a confirmed track
   that misses becomes *lost*, is kept ``lost_seconds`` for motion matching and
   ``reid_seconds`` for re-identification, then removed.
5. **Output.** Confirmed tracks matched on this frame (plus, with ``coast_seconds``, confirmed
   tracks missed for at most that long, at their predicted box, flagged
   ``data["predicted"]``). Ball rows are not tracked here: the single-object
   :class:`~touchline.track.ball.BallTracker` sits beside this tracker
   (:class:`~touchline.track.combined.PeopleAndBallTracker` composes the two).

Camera motion and cuts come from the caller (``motion=`` and ``calibration.cut``; the
pipeline's calibrator measures both, :class:`touchline.calib.CameraMotionOnly` does without a
pitch); without them the tracker votes a global image shift from the detections.

Example:
    >>> import numpy as np
    >>> from touchline.types import Detections
    >>> tracker = Tracker()
    >>> for k in range(5):  # two players walking apart
    ...     dets = Detections(
    ...         xyxy=[[100 + 2 * k, 50, 120 + 2 * k, 100], [300 - 2 * k, 60, 320 - 2 * k, 110]],
    ...         confidence=[0.9, 0.8], class_id=[0, 0])
    ...     tracks = tracker.update(dets)
    >>> tracks.tracker_id.tolist(), tracks.xyxy[:, 0].round().tolist()
    ([1, 2], [108.0, 292.0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from touchline.geometry.boxes import box_iou
from touchline.geometry.homography import apply_homography
from touchline.track.appearance import cosine_distance
from touchline.track.association import camera_shift, linear_assignment
from touchline.track.ball import split_ball
from touchline.track.kalman import CHI2_95, BoxKalman, PitchKalman, pitch_measurement_std
from touchline.types import CLASS_NAMES, Calibration, Detections, ObjectClass
from touchline.utils.durations import FramesOf, check_fps, check_seconds

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

__all__ = ["CONFIRMED", "LOST", "TENTATIVE", "Tracker", "TrackerConfig"]

TENTATIVE, CONFIRMED, LOST = 0, 1, 2
"""Track states (``data["track_state"]`` of coasting output uses them too)."""


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of :class:`Tracker`.

    Durations are in seconds; the frame counts the tracker uses follow from ``fps``
    (:attr:`lost_frames`, :attr:`reid_frames`, :attr:`coast_frames`, nearest whole frame), so
    a 50 fps source keeps tracks as long as a 25 fps one.

    Args:
        fps: frame rate of the input; sets the pitch filter's time step and turns the
            durations below into frames.
        high_threshold: detections at or above this score take part in the first stage.
        low_threshold: detections below it are ignored; between the two they can only extend
            tracks seen on the previous frame (second stage).
        new_track_threshold: an unmatched detection starts a track at this score or above.
        match_threshold: largest cost of a first-stage match.
        low_match_threshold: largest cost of a second-stage match.
        tentative_match_threshold: largest cost of a tentative track's match.
        fuse_score: multiply the IoU by the detection score in the first stage (ByteTrack).
        min_hits: consecutive matches that confirm a tentative track.
        lost_seconds: a lost track is matched by motion for this long (seconds; 1.2 s is 30
            frames at 25 fps).
        reid_seconds: ... and by re-identification (appearance) for this long (seconds; 10 s
            is 250 frames at 25 fps).
        coast_seconds: confirmed tracks missed for at most this long are still output at
            their predicted position (``data["predicted"]`` True); 0 outputs measurements only
            (seconds; 0.12 s is 3 frames at 25 fps).
        pitch_gate: gate on the squared Mahalanobis pitch distance (chi-square, 2 dof).
        max_speed: fastest plausible player (m/s), bounds re-identification in metres.
        appearance_weight: weight of the appearance distance in first-stage costs (0 ignores
            appearance); the motion cost gets ``1 - appearance_weight``.
        appearance_gate: pairs whose cosine appearance distance exceeds this are not matched in
            the first stage unless their motion cost is below ``confident_motion``.
        confident_motion: motion cost under which appearance cannot veto a match.
        reid_threshold: largest cosine appearance distance of a re-identification without
            pitch positions.
        reid_team_gate: largest appearance distance of a re-identification on the pitch (the
            nearest reachable detection of the same kit wins).
        feature_momentum: weight of a track's previous appearance in its running mean.
        lost_velocity_decay: per-frame factor on the velocity of a lost track.
        ego_motion: without any camera motion, vote a global shift from the detections.
        output_boxes: ``"measured"`` (the detection boxes) or ``"filtered"`` (Kalman boxes).
        box_std_position: image box filter position noise, as a share of the box size.
        box_std_velocity: image box filter velocity noise, as a share of the box size.
        accel_std: pitch filter acceleration noise (m/s^2).
        kit_min_votes, kit_share: a track's kit is settled after this many confident kit
            sightings (``data["kit"]`` of the detections: 0, 1, or -1 unknown), this share of
            them one kit; a settled track is never matched to a box confidently showing the
            other kit.
        lost_compete: lost tracks compete with the tracks seen on the previous frame for the
            same detections in the first stage (ByteTrack); off, they only take what the
            others left (DeepSORT's cascade, coarsely).
        uncertainty_weight: weight of ``ln(|S| / |R|)`` (the track's position uncertainty
            against the measurement's) added to pitch costs, as in a negative log-likelihood;
            0 gives the plain Mahalanobis distance, which lets lost tracks steal detections.
        border_margin: a box within this many pixels of the image border is cut by it: its
            appearance neither vetoes a match nor updates the track's, and it is
            re-identified by reach alone.
        duplicate_iou: boxes of different classes overlapping this much are one object seen
            twice by the detector (a goalkeeper boxed as goalkeeper and as player): the
            weaker box is dropped and its class score is added to the stronger one's votes.
    """

    fps: float = 25.0
    high_threshold: float = 0.5
    low_threshold: float = 0.1
    new_track_threshold: float = 0.6
    match_threshold: float = 0.9
    low_match_threshold: float = 0.5
    tentative_match_threshold: float = 0.7
    fuse_score: bool = True
    min_hits: int = 2
    lost_seconds: float = 1.2  # seconds
    reid_seconds: float = 10.0  # seconds
    coast_seconds: float = 0.12  # seconds
    pitch_gate: float = 4.0 * CHI2_95[2]
    max_speed: float = 9.0
    appearance_weight: float = 0.3
    appearance_gate: float = 0.35
    confident_motion: float = 0.2
    reid_threshold: float = 0.12
    reid_team_gate: float = 0.3
    feature_momentum: float = 0.9
    lost_velocity_decay: float = 0.95
    ego_motion: bool = True
    output_boxes: Literal["measured", "filtered"] = "measured"
    box_std_position: float = 1.0 / 20.0
    box_std_velocity: float = 1.0 / 160.0
    accel_std: float = 10.0
    duplicate_iou: float = 0.7
    lost_compete: bool = True
    kit_min_votes: int = 5
    kit_share: float = 0.8
    uncertainty_weight: float = 8.0
    border_margin: float = 2.0

    def __post_init__(self) -> None:
        if not 0 <= self.low_threshold <= self.high_threshold <= 1:
            raise ValueError(
                "TrackerConfig: need 0 <= low_threshold <= high_threshold <= 1, got "
                f"{self.low_threshold}, {self.high_threshold}"
            )
        check_fps("TrackerConfig", self.fps)
        check_seconds(
            "TrackerConfig",
            lost_seconds=self.lost_seconds,
            reid_seconds=self.reid_seconds,
            coast_seconds=self.coast_seconds,
        )
        if self.min_hits < 1:
            raise ValueError(f"TrackerConfig.min_hits must be >= 1, got {self.min_hits}")
        if self.output_boxes not in ("measured", "filtered"):
            raise ValueError(f"TrackerConfig.output_boxes: unknown {self.output_boxes!r}")

    # durations in frames at fps
    lost_frames = FramesOf("lost_seconds")
    reid_frames = FramesOf("reid_seconds")
    coast_frames = FramesOf("coast_seconds")


def _xyxy_to_cxcywh(b: NDArray) -> F64:
    b = np.asarray(b, np.float64)
    wh = b[:, 2:] - b[:, :2]
    return np.concatenate([b[:, :2] + wh / 2, np.maximum(wh, 1e-3)], axis=1)


def _cxcywh_to_xyxy(b: F64) -> F64:
    half = np.abs(b[:, 2:4]) / 2
    return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)


@dataclass
class _Store:
    """Struct of arrays: one row per live track."""

    n_classes: int
    ids: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    state: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    hits: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    missed: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    box_mean: F64 = field(default_factory=lambda: np.zeros((0, 8)))
    box_cov: F64 = field(default_factory=lambda: np.zeros((0, 8, 8)))
    box_ok: B = field(default_factory=lambda: np.zeros(0, bool))
    pitch_mean: F64 = field(default_factory=lambda: np.zeros((0, 4)))
    pitch_cov: F64 = field(default_factory=lambda: np.zeros((0, 4, 4)))
    pitch_ok: B = field(default_factory=lambda: np.zeros(0, bool))
    feature: F64 | None = None
    feature_ok: B = field(default_factory=lambda: np.zeros(0, bool))
    votes: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    score: F64 = field(default_factory=lambda: np.zeros(0))
    meas_box: F64 = field(default_factory=lambda: np.zeros((0, 4)))
    kit_votes: F64 = field(default_factory=lambda: np.zeros((0, 2)))

    def __post_init__(self) -> None:
        self.votes = np.zeros((0, self.n_classes))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    _FIELDS = (
        "ids",
        "state",
        "hits",
        "missed",
        "box_mean",
        "box_cov",
        "box_ok",
        "pitch_mean",
        "pitch_cov",
        "pitch_ok",
        "feature_ok",
        "votes",
        "score",
        "meas_box",
        "kit_votes",
    )

    det_feature: F64 | None = None

    def widen(self, n_classes: int) -> None:
        """Make room for class ids up to ``n_classes - 1`` in the votes."""
        if n_classes > self.n_classes:
            pad = np.zeros((len(self), n_classes - self.n_classes))
            self.votes = np.concatenate([self.votes, pad], axis=1)
            self.n_classes = n_classes

    def ensure_features(self, dim: int) -> None:
        """Appearance arrays for tracks born before features were available."""
        if self.feature is None:
            self.feature = np.zeros((len(self), dim))
            self.feature_ok = np.zeros(len(self), bool)
        if self.det_feature is None:
            self.det_feature = np.zeros((len(self), dim))

    def keep(self, mask: B) -> None:
        for name in self._FIELDS:
            setattr(self, name, getattr(self, name)[mask])
        if self.feature is not None:
            self.feature = self.feature[mask]
        if self.det_feature is not None:
            self.det_feature = self.det_feature[mask]

    def extend(self, other: _Store) -> None:
        for name in self._FIELDS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        if other.feature is not None or self.feature is not None:
            d = (other.feature if other.feature is not None else self.feature).shape[1]  # type: ignore[union-attr]
            mine = (
                self.feature if self.feature is not None else np.zeros((len(self) - len(other), d))
            )
            theirs = other.feature if other.feature is not None else np.zeros((len(other), d))
            if mine.shape[1] != d or theirs.shape[1] != d:
                raise ValueError("appearance embeddings changed dimension between frames")
            self.feature = np.concatenate([mine, theirs])
            mine = self.det_feature if self.det_feature is not None else np.zeros_like(mine)
            theirs = other.det_feature if other.det_feature is not None else np.zeros_like(theirs)
            self.det_feature = np.concatenate([mine, theirs])


FeatureFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class _Frame:
    """This frame's detections as the tracker uses them (one row per detection)."""

    boxes: F64  # (n, 4) cx, cy, w, h
    xyxy: F64  # (n, 4)
    score: F64  # (n,)
    xy: F64  # (n, 2) pitch metres (zeros where not pitch_ok)
    std: F64  # (n,) pitch measurement standard deviation (m)
    pitch_ok: B  # (n,)
    feats: F64 | None  # (n, d) unit appearance vectors
    feat_ok: B  # (n,) the box is whole (not cut by the image border): its appearance counts
    votes: F64  # (n, n_classes) class scores
    kit: I64  # (n,) confident kit (team) of the box, -1 unknown


class Tracker:
    """Online multi-object tracker of players, goalkeepers and referees (plus the ball).

    Args:
        config: settings (:class:`TrackerConfig`); keyword overrides are applied on top, e.g.
            ``Tracker(fps=50)``.
        features: ``(image, xyxy) -> (n, d)`` unit appearance vectors used when frames are
            given; default: :func:`touchline.track.appearance.appearance_features`. Detections
            that already carry ``embedding`` are used as they are.

    Attributes:
        frame_index: frames processed since the last :meth:`reset` (the first is 1).
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        *,
        features: FeatureFn | None = None,
        **overrides: Any,
    ) -> None:
        config = config or TrackerConfig()
        self.config = replace(config, **overrides) if overrides else config
        self._features = features
        cfg = self.config
        self.box_kf = BoxKalman(cfg.box_std_position, cfg.box_std_velocity)
        self.pitch_kf = PitchKalman(fps=cfg.fps, accel_std=cfg.accel_std)
        self.reset()

    # ---- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every track; ids restart at 1."""
        self.frame_index = 0
        self._next_id = 1
        self._class_names: tuple[str, ...] = CLASS_NAMES
        self._tracks = _Store(len(CLASS_NAMES))
        self._prev_calibration: Calibration | None = None
        self._image_size: tuple[int, int] | None = None
        self.last_motion: F64 | None = None
        self.last_cut = False
        self._last_shift: F64 | None = None

    @property
    def n_tracks(self) -> int:
        """Live tracks (tentative, confirmed and lost)."""
        return len(self._tracks)

    # ---- the contract ------------------------------------------------------------------------
    def update(
        self,
        detections: Detections,
        calibration: Calibration | None = None,
        frame: np.ndarray | None = None,
        *,
        motion: NDArray | None = None,
    ) -> Detections:
        """Track one frame; returns the tracked detections (``tracker_id`` set).

        Args:
            detections: this frame's detections (``confidence`` missing means 1).
            calibration: this frame's calibration; when valid, players are tracked in metres
                and the output carries ``data["pitch_xy"]``. Its ``cut`` flag resets the
                image-space states.
            frame: this frame's BGR image, for appearance features.
            motion: 3x3 homography from the previous frame's pixels to this frame's (e.g.
                ``CalibrationResult.motion``), when already known.

        Returns:
            :class:`Detections` of the confirmed tracks on this frame, with ``tracker_id``,
            ``class_id`` (the track's majority class), ``confidence`` (the detection score),
            ``data["pitch_xy"]`` (filtered, metres; NaN when this frame is uncalibrated),
            ``data["track_confidence"]``, ``data["predicted"]`` and ``embedding`` when
            appearance was used. Sorted by ``tracker_id``. Ball rows of the input are left
            out (see :class:`~touchline.track.combined.PeopleAndBallTracker`).
        """
        if not isinstance(detections, Detections):
            raise TypeError(f"Tracker.update: expected Detections, got {type(detections).__name__}")
        cfg = self.config
        if motion is not None:
            motion = np.asarray(motion, np.float64)
            if motion.shape != (3, 3) or not np.isfinite(motion).all():
                raise ValueError(
                    f"Tracker.update: motion must be a finite 3x3 matrix, got {motion!r}"
                )
        self.frame_index += 1
        self._class_names = detections.class_names
        self._tracks.widen(len(detections.class_names))
        if frame is not None:
            frame = np.asarray(frame)
            self._image_size = (int(frame.shape[1]), int(frame.shape[0]))
        elif calibration is not None and calibration.image_size is not None:
            self._image_size = calibration.image_size

        dets = self._dedupe(split_ball(detections)[0])
        calibrated = calibration is not None and calibration.is_valid
        cut, motion = self._camera(calibration, motion)
        self.last_cut, self.last_motion = cut, motion
        if cut:
            self._on_cut()

        t = self._tracks
        t.box_mean, t.box_cov = self.box_kf.predict(t.box_mean, t.box_cov)
        if t.pitch_ok.any():
            t.pitch_mean, t.pitch_cov = self.pitch_kf.predict(t.pitch_mean, t.pitch_cov)
        lost = t.missed > 0
        if lost.any():
            t.box_mean[lost, 4:6] *= cfg.lost_velocity_decay
            t.pitch_mean[lost, 2:] *= cfg.lost_velocity_decay

        n = len(dets)
        score = (
            np.ones(n) if dets.confidence is None else np.nan_to_num(dets.confidence, nan=1.0)
        ).astype(np.float64)
        boxes = _xyxy_to_cxcywh(dets.xyxy)
        if motion is not None:
            self._apply_motion(np.asarray(motion, np.float64))
        elif cfg.ego_motion and n and len(t):
            self._ego_motion(boxes, score)

        self._pred_xyxy = _cxcywh_to_xyxy(t.box_mean)
        feats = self._appearance(dets, frame)
        if calibrated:
            assert calibration is not None and calibration.homography is not None
            feet = dets.foot_points.astype(np.float64)
            det_xy = calibration.image_to_pitch(feet)
            det_std = pitch_measurement_std(calibration.homography, feet, boxes[:, 3])
            det_pitch_ok = np.isfinite(det_xy).all(axis=1)
        else:
            det_xy, det_std, det_pitch_ok = np.zeros((n, 2)), np.ones(n), np.zeros(n, bool)
        kit = np.asarray(dets.data.get("kit", np.full(n, -1)), np.int64).reshape(n)
        f = _Frame(
            boxes, _cxcywh_to_xyxy(boxes), score, det_xy, det_std, det_pitch_ok, feats,
            self._whole(dets.xyxy), self._class_votes, kit,
        )  # fmt: skip
        matches = self._associate(f)
        self._apply_matches(matches, f)
        matched_dets = np.zeros(n, bool)
        if len(matches):
            matched_dets[matches[:, 1]] = True
        self._start_tracks(~matched_dets & (score >= cfg.new_track_threshold), f)
        self._prune()
        if calibrated:
            self._prev_calibration = calibration
        elif calibration is not None:
            self._prev_calibration = None
        return self._output(calibrated)

    def __call__(
        self,
        detections: Detections,
        calibration: Calibration | None = None,
        frame: np.ndarray | None = None,
        **kwargs: Any,
    ) -> Detections:
        """Alias of :meth:`update`."""
        return self.update(detections, calibration, frame, **kwargs)

    # ---- camera --------------------------------------------------------------------------------
    def _camera(
        self, calibration: Calibration | None, motion: NDArray | None
    ) -> tuple[bool, F64 | None]:
        cut = bool(calibration is not None and calibration.cut)
        G = None if motion is None else np.asarray(motion, np.float64)
        if G is None and not cut:
            from touchline.calib.motion import calibration_motion

            G = calibration_motion(self._prev_calibration, calibration)
        if G is not None and (G.shape != (3, 3) or not np.isfinite(G).all()):
            G = None  # a degenerate camera change (e.g. two calibrations far apart)
        return cut, G

    def _on_cut(self) -> None:
        self._last_shift = None
        t = self._tracks
        t.box_ok[:] = False
        confirmed = t.state != TENTATIVE
        t.keep(confirmed)
        t.state[:] = LOST
        t.missed = np.maximum(t.missed, 1)
        # The camera changed; the players kept moving but we do not know how fast any more.
        t.pitch_cov[:, 2, 2] += self.pitch_kf.init_speed_std**2
        t.pitch_cov[:, 3, 3] += self.pitch_kf.init_speed_std**2
        self._prev_calibration = None

    def _apply_motion(self, G: F64) -> None:
        t = self._tracks
        if not len(t):
            return
        m = t.box_mean
        corners = _cxcywh_to_xyxy(m)
        c = apply_homography(G, m[:, :2])
        tl = apply_homography(G, corners[:, :2])
        br = apply_homography(G, corners[:, 2:])
        wh = np.abs(br - tl)
        scale = np.sqrt(np.maximum(wh[:, 0] * wh[:, 1], 1e-9) / np.maximum(m[:, 2] * m[:, 3], 1e-9))
        ok = np.isfinite(c).all(1) & np.isfinite(wh).all(1) & (scale > 0.5) & (scale < 2.0)
        m[ok, :2] = c[ok]
        m[ok, 2:4] = wh[ok]
        m[ok, 4:] *= scale[ok, None]
        t.box_cov[ok] *= (scale[ok] ** 2)[:, None, None]

    def _ego_motion(self, boxes: F64, score: F64) -> None:
        """Vote a global image shift from tracks seen on the previous frame.

        Camera pans are smooth: when too few tracks vote, the last shift carries on, fading.
        """
        t = self._tracks
        seen = (t.missed == 0) & t.box_ok & (t.state == CONFIRMED)
        high = score >= self.config.high_threshold
        shift = None
        if seen.sum() >= 3 and high.sum() >= 3:
            # The 16 most established tracks are plenty of voters.
            seen = np.flatnonzero(seen)
            if seen.size > 16:
                seen = seen[np.argsort(-t.hits[seen], kind="stable")[:16]]
            m = t.box_mean[seen]
            shift = camera_shift(
                m[:, :2], boxes[high, :2], m[:, 2], max_shift=2.0 * float(m[:, 3].mean())
            )
        if shift is None:
            if self._last_shift is None:
                return
            shift = self._last_shift * self.config.lost_velocity_decay
        self._last_shift = shift
        t.box_mean[t.box_ok, :2] += shift

    # ---- features ----------------------------------------------------------------------------
    def _whole(self, xyxy: np.ndarray) -> B:
        """Boxes not cut by the image border (a cut box shows part of the player: its
        appearance is not his)."""
        n = len(xyxy)
        if self._image_size is None or n == 0:
            return np.ones(n, bool)
        w, h = self._image_size
        m = self.config.border_margin
        return (xyxy[:, 0] > m) & (xyxy[:, 1] > m) & (xyxy[:, 2] < w - m) & (xyxy[:, 3] < h - m)

    def _appearance(self, dets: Detections, frame: np.ndarray | None) -> F64 | None:
        if dets.embedding is not None and dets.embedding.shape[1] > 0:
            e = dets.embedding.astype(np.float64)
            norm = np.linalg.norm(e, axis=1, keepdims=True)
            return e / np.maximum(norm, 1e-12)
        if frame is None or (self.config.appearance_weight <= 0 and self.config.reid_frames <= 0):
            return None
        fn = self._features
        if fn is None:
            from touchline.track.appearance import appearance_features

            fn = self._features = appearance_features
        return np.asarray(fn(frame, dets.xyxy), np.float64)

    # ---- association -------------------------------------------------------------------------
    def _motion_cost(
        self, rows: I64, cols: I64, f: _Frame, *, fuse: bool, pitch_scale: float = 1.0
    ) -> F64:
        """``(len(rows), len(cols))`` motion costs in [0, 1], ``inf`` where gated out."""
        t = self._tracks
        score, det_xy, det_std, det_pitch_ok = f.score, f.xy, f.std, f.pitch_ok
        cost = np.full((rows.size, cols.size), np.inf)
        if rows.size == 0 or cols.size == 0:
            return cost
        box_rows = t.box_ok[rows]
        if box_rows.any():
            iou = box_iou(self._pred_xyxy[rows[box_rows]], f.xyxy[cols])
            sim = iou * score[cols][None, :] if fuse else iou
            c = 1.0 - sim
            c[iou <= 0] = np.inf
            cost[box_rows] = c
        pitch_rows = t.pitch_ok[rows]
        pc = det_pitch_ok[cols]
        if pitch_rows.any() and pc.any():
            r = rows[pitch_rows]
            R = self.pitch_kf.measurement_noise(det_std[cols][pc])
            d2 = _gating(t.pitch_mean[r], t.pitch_cov[r], det_xy[cols][pc], R)
            gate = self.config.pitch_gate * pitch_scale
            # The negative log-likelihood, not the Mahalanobis distance alone: a track lost for
            # a while is uncertain, so every detection looks close to it; ln(|S| / |R|) makes
            # it pay for that uncertainty, and a track seen on the last frame keeps its player.
            P = t.pitch_cov[r][:, None, :2, :2]
            rr = det_std[cols][pc][None, :] ** 2
            det_s = (P[..., 0, 0] + rr) * (P[..., 1, 1] + rr) - P[..., 0, 1] * P[..., 1, 0]
            penalty = np.log(np.maximum(det_s, 1e-12) / rr**2)
            # Relative to the most certain candidate of each detection: the best-known track
            # pays nothing, so the penalty ranks tracks without pushing costs over thresholds.
            penalty -= penalty.min(axis=0, keepdims=True)
            c = (d2 + self.config.uncertainty_weight * penalty) / gate
            c[d2 > gate] = np.inf
            sub = np.full((r.size, cols.size), np.inf)
            sub[:, pc] = c
            cost[pitch_rows] = sub
        cost[self._kit_conflict(rows, cols, f)] = np.inf
        return cost

    def _kit_conflict(self, rows: I64, cols: I64, f: _Frame) -> B:
        """Pairs whose kits disagree: the track has a settled kit (``kit_min_votes``
        confident sightings, ``kit_share`` of them one kit) and the box confidently shows the
        other one (``data["kit"]``, e.g. from the team classifier). Players of different teams
        never swap identities, however close they come."""
        det_kit = f.kit[cols]
        if not (det_kit >= 0).any():
            return np.zeros((rows.size, cols.size), bool)
        t = self._tracks
        kv = t.kit_votes[rows]
        total = kv.sum(axis=1)
        settled = (total >= self.config.kit_min_votes) & (
            kv.max(axis=1) >= self.config.kit_share * np.maximum(total, 1e-9)
        )
        track_kit = np.where(settled, np.argmax(kv, axis=1), -1)
        return (
            (track_kit[:, None] >= 0)
            & (det_kit[None, :] >= 0)
            & (track_kit[:, None] != det_kit[None, :])
        )

    def _blend_appearance(self, cost: F64, rows: I64, cols: I64, feats: F64 | None, f_ok: B) -> F64:
        cfg = self.config
        t = self._tracks
        if feats is None or t.feature is None or cfg.appearance_weight <= 0:
            return cost
        app = cosine_distance(t.feature[rows], feats[cols])
        has = t.feature_ok[rows][:, None] & f_ok[cols][None, :]
        app[~has] = 0.0
        w = cfg.appearance_weight
        blended = (1 - w) * cost + w * np.minimum(app, 1.0)
        veto = (app > cfg.appearance_gate) & (cost > cfg.confident_motion) & has
        blended[veto] = np.inf
        return np.where(np.isfinite(cost), blended, np.inf)

    def _associate(self, f: _Frame) -> I64:
        """Matches ``(k, 2)`` of ``[track row, detection index]`` over all stages."""
        cfg = self.config
        t = self._tracks
        score, feats = f.score, f.feats
        n = score.shape[0]
        high = np.flatnonzero(score >= cfg.high_threshold)
        low = np.flatnonzero((score >= cfg.low_threshold) & (score < cfg.high_threshold))
        motion_ok = t.box_ok | t.pitch_ok
        confirmed = np.flatnonzero(
            (t.state != TENTATIVE) & (t.missed <= cfg.lost_frames) & motion_ok
        )
        out: list[I64] = []

        # (a) confirmed + recently lost vs high. With lost_compete off, the tracks seen on
        # the previous frame choose first and lost ones take what is left (a lost track's
        # wide uncertainty would otherwise make it cheap to match to anyone nearby).
        pools = [confirmed]
        if not cfg.lost_compete:
            seen = t.missed[confirmed] == 0
            pools = [confirmed[seen], confirmed[~seen]]
        rest_high = high
        rest_tracks_parts = []
        for pool in pools:
            cost = self._motion_cost(pool, rest_high, f, fuse=cfg.fuse_score)
            cost = self._blend_appearance(cost, pool, rest_high, feats, f.feat_ok)
            m, un_t, un_d = linear_assignment(cost, cfg.match_threshold)
            out.append(np.stack([pool[m[:, 0]], rest_high[m[:, 1]]], axis=1))
            rest_tracks_parts.append(pool[un_t])
            rest_high = rest_high[un_d]
        rest_tracks = np.concatenate(rest_tracks_parts)

        # (b) tracks seen last frame vs low-confidence detections (motion only)
        recent = rest_tracks[t.missed[rest_tracks] == 0]
        cost = self._motion_cost(recent, low, f, fuse=False)
        m, _, _ = linear_assignment(cost, cfg.low_match_threshold)
        out.append(np.stack([recent[m[:, 0]], low[m[:, 1]]], axis=1))
        matched_b = set(recent[m[:, 0]].tolist())

        # (c) re-identification of lost tracks by appearance within a reachable distance,
        # before tentative tracks: a player coming back takes his old identity rather than
        # the new one a tentative track started for him on the frame he reappeared
        if feats is not None and t.feature is not None and rest_high.size:
            cand = np.flatnonzero(
                (t.state != TENTATIVE)
                & (t.missed > 0)
                & t.feature_ok
                & (t.missed <= cfg.reid_frames)
            )
            cand = np.array([c for c in cand.tolist() if c not in matched_b], np.int64)
            if cand.size:
                cost = self._reid_cost(cand, rest_high, f)
                m, _, un_d = linear_assignment(cost, 1.0)
                out.append(np.stack([cand[m[:, 0]], rest_high[m[:, 1]]], axis=1))
                rest_high = rest_high[un_d]

        # (d) tentative vs remaining high
        tentative = np.flatnonzero(t.state == TENTATIVE)
        cost = self._motion_cost(tentative, rest_high, f, fuse=cfg.fuse_score)
        m, _, un_d = linear_assignment(cost, cfg.tentative_match_threshold)
        out.append(np.stack([tentative[m[:, 0]], rest_high[m[:, 1]]], axis=1))
        rest_high = rest_high[un_d]
        res = np.concatenate(out, axis=0) if out else np.zeros((0, 2), np.int64)
        assert res.size == 0 or res[:, 1].max() < n
        return res.astype(np.int64)

    def _reid_cost(self, rows: I64, cols: I64, f: _Frame) -> F64:
        """Re-identification costs in [0, 1] (``inf`` where impossible).

        On the pitch, the nearest reachable detection of the same kit wins: the cost is the
        distance over the reach (``max_speed`` times the time lost, plus calibration slack) and
        the appearance only has to pass ``reid_team_gate`` (kits tell teams apart, not
        team-mates). Without pitch positions, appearance alone decides, within
        ``reid_threshold``.
        """
        t = self._tracks
        cfg = self.config
        assert t.feature is not None and f.feats is not None
        feats, det_xy, det_pitch_ok = f.feats, f.xy, f.pitch_ok
        app = cosine_distance(t.feature[rows], feats[cols]).astype(np.float64)
        whole = np.broadcast_to(f.feat_ok[cols][None, :], app.shape)
        cost: F64 = app / cfg.reid_threshold
        cost[(app > cfg.reid_threshold) | ~whole] = np.inf
        on_pitch = t.pitch_ok[rows][:, None] & det_pitch_ok[cols][None, :]
        if on_pitch.any():
            # A box cut by the border (a player entering the view) is judged by reach alone.
            reach = cfg.max_speed * t.missed[rows] / cfg.fps + 3.0
            d = np.linalg.norm(t.pitch_mean[rows, None, :2] - det_xy[None, cols], axis=2)
            pc = np.where(d <= reach[:, None], d / reach[:, None], np.inf)
            pc[(app > cfg.reid_team_gate) & whole] = np.inf
            cost = np.where(on_pitch, pc, cost)
        # Same class family (a referee does not become a player).
        cls_t = np.argmax(t.votes[rows], axis=1)
        ref = int(ObjectClass.REFEREE)
        cost[(cls_t == ref)[:, None] != (self._det_class[cols] == ref)[None, :]] = np.inf
        cost[self._kit_conflict(rows, cols, f)] = np.inf
        return cost

    # ---- updates -----------------------------------------------------------------------------
    def _apply_matches(self, matches: I64, f: _Frame) -> None:
        boxes, score, det_xy, det_std, det_pitch_ok = f.boxes, f.score, f.xy, f.std, f.pitch_ok
        feats, class_votes = f.feats, f.votes
        t = self._tracks
        cfg = self.config
        matched = np.zeros(len(t), bool)
        if len(matches):
            r, d = matches[:, 0], matches[:, 1]
            matched[r] = True
            # Boxes: update valid filters, re-initialise the others (after a cut).
            ok = t.box_ok[r]
            if ok.any():
                m, P = self.box_kf.update(t.box_mean[r[ok]], t.box_cov[r[ok]], boxes[d[ok]])
                t.box_mean[r[ok]], t.box_cov[r[ok]] = m, P
            if (~ok).any():
                m, P = self.box_kf.initiate(boxes[d[~ok]])
                t.box_mean[r[~ok]], t.box_cov[r[~ok]] = m, P
                t.box_ok[r[~ok]] = True
            # Pitch: same, where the detection has a pitch position.
            dp = det_pitch_ok[d]
            upd = dp & t.pitch_ok[r]
            if upd.any():
                m, P = self.pitch_kf.update(
                    t.pitch_mean[r[upd]], t.pitch_cov[r[upd]], det_xy[d[upd]], det_std[d[upd]]
                )
                t.pitch_mean[r[upd]], t.pitch_cov[r[upd]] = m, P
            new = dp & ~t.pitch_ok[r]
            if new.any():
                m, P = self.pitch_kf.initiate(det_xy[d[new]], det_std[d[new]])
                t.pitch_mean[r[new]], t.pitch_cov[r[new]] = m, P
                t.pitch_ok[r[new]] = True
            if feats is not None:
                t.ensure_features(feats.shape[1])
                assert t.feature is not None
                a = cfg.feature_momentum
                w = f.feat_ok[d]  # cut boxes leave the appearance as it was
                rw, dw = r[w], d[w]
                f_old = t.feature[rw]
                f_new = np.where(
                    t.feature_ok[rw][:, None], a * f_old + (1 - a) * feats[dw], feats[dw]
                )
                f_new /= np.maximum(np.linalg.norm(f_new, axis=1, keepdims=True), 1e-12)
                t.feature[rw] = f_new
                t.feature_ok[rw] = True
            t.votes[r] += class_votes[d]
            k = f.kit[d]
            t.kit_votes[r[k >= 0], k[k >= 0]] += 1.0
            if feats is not None and t.det_feature is not None:
                t.det_feature[r] = feats[d]
            t.score[r] = score[d]
            t.meas_box[r] = f.xyxy[d]
            t.hits[r] += 1
            t.missed[r] = 0
            promote = (t.state[r] == TENTATIVE) & (t.hits[r] >= cfg.min_hits)
            t.state[r[promote]] = CONFIRMED
            t.state[r[t.state[r] == LOST]] = CONFIRMED
        # Unmatched
        um = ~matched
        t.missed[um] += 1
        t.state[um & (t.state == CONFIRMED)] = LOST

    def _start_tracks(self, mask: B, f: _Frame) -> None:
        boxes, score, det_xy, det_std, det_pitch_ok = f.boxes, f.score, f.xy, f.std, f.pitch_ok
        feats, class_votes = f.feats, f.votes
        idx = np.flatnonzero(mask)
        k = idx.size
        if k == 0:
            return
        t = self._tracks
        new = _Store(t.n_classes)
        new.ids = np.arange(self._next_id, self._next_id + k, dtype=np.int64)
        self._next_id += k
        first = self.frame_index == 1
        new.state = np.full(k, CONFIRMED if first or self.config.min_hits <= 1 else TENTATIVE)
        new.hits = np.ones(k, np.int64)
        new.missed = np.zeros(k, np.int64)
        new.box_mean, new.box_cov = self.box_kf.initiate(boxes[idx])
        new.box_ok = np.ones(k, bool)
        pm, pc = self.pitch_kf.initiate(det_xy[idx], det_std[idx])
        new.pitch_mean, new.pitch_cov = pm, pc
        new.pitch_ok = det_pitch_ok[idx].copy()
        if feats is not None:
            new.feature = feats[idx].copy()
            new.det_feature = feats[idx].copy()
            new.feature_ok = f.feat_ok[idx].copy()
        else:
            new.feature_ok = np.zeros(k, bool)
        new.votes = class_votes[idx].copy()
        new.kit_votes = np.zeros((k, 2))
        kit = f.kit[idx]
        new.kit_votes[np.flatnonzero(kit >= 0), kit[kit >= 0]] = 1.0
        new.score = score[idx].copy()
        new.meas_box = f.xyxy[idx]
        t.extend(new)

    def _prune(self) -> None:
        t = self._tracks
        cfg = self.config
        keep = ~((t.state == TENTATIVE) & (t.missed > 0))
        horizon = cfg.reid_frames if t.feature is not None else cfg.lost_frames
        keep &= t.missed <= max(horizon, cfg.lost_frames)
        t.keep(keep)

    # ---- output ------------------------------------------------------------------------------
    def _output(self, calibrated: bool) -> Detections:
        cfg = self.config
        t = self._tracks
        rows = np.flatnonzero((t.state == CONFIRMED) & (t.missed == 0))
        coast = (
            np.flatnonzero((t.state == LOST) & (t.missed <= cfg.coast_frames) & t.box_ok)
            if cfg.coast_frames > 0
            else np.zeros(0, np.int64)
        )
        order = np.concatenate([rows, coast])
        predicted = np.concatenate([np.zeros(rows.size, bool), np.ones(coast.size, bool)])
        ids = t.ids[order]
        sort = np.argsort(ids, kind="stable")
        order, predicted, ids = order[sort], predicted[sort], ids[sort]
        k = order.size
        filtered = _cxcywh_to_xyxy(t.box_mean[order]).astype(np.float32)
        xyxy = filtered
        conf = np.where(predicted, np.nan, t.score[order]).astype(np.float32)
        if cfg.output_boxes == "measured":
            xyxy = np.where(predicted[:, None], filtered, t.meas_box[order]).astype(np.float32)
        # Without a calibration on this frame nobody's position is measured: no guess is output.
        has_pitch = t.pitch_ok[order, None] & calibrated
        pitch = np.where(has_pitch, t.pitch_mean[order, :2], np.nan)
        class_id = np.argmax(t.votes[order], axis=1) if k else np.zeros(0, np.int64)
        track_conf = np.clip(t.hits[order] / (t.hits[order] + 3.0), 0, 1) * np.where(
            predicted, 0.5, 1.0
        )
        emb = None
        if t.det_feature is not None:
            emb = np.where(predicted[:, None], 0.0, t.det_feature[order]).astype(np.float32)
        return Detections(
            xyxy=np.clip(xyxy, -1e6, 1e6),
            confidence=conf,
            class_id=class_id,
            tracker_id=ids,
            embedding=emb,
            data={
                "pitch_xy": pitch,
                "track_confidence": track_conf.astype(np.float32),
                "predicted": predicted,
            },
            class_names=self._class_names,
        )

    # ---- classes -----------------------------------------------------------------------------
    def _dedupe(self, dets: Detections) -> Detections:
        """Merge cross-class duplicate boxes; sets the per-row class votes."""
        n = len(dets)
        nc = self._tracks.n_classes
        cid = dets.class_id if dets.class_id is not None else np.zeros(n, np.int64)
        cid = np.clip(cid, 0, nc - 1)
        score = (
            np.ones(n) if dets.confidence is None else np.nan_to_num(dets.confidence, nan=1.0)
        ).astype(np.float64)
        votes = np.zeros((n, nc))
        votes[np.arange(n), cid] = score
        if n > 1 and cid.min() != cid.max():
            iou = box_iou(dets.xyxy, dets.xyxy)
            np.fill_diagonal(iou, 0.0)
            dup = (iou >= self.config.duplicate_iou) & (cid[:, None] != cid[None, :])
            if dup.any():
                keep = np.ones(n, bool)
                for i in np.argsort(-score, kind="stable"):
                    if not keep[i]:
                        continue
                    weaker = np.flatnonzero(dup[i] & keep & (score <= score[i]))
                    weaker = weaker[weaker != i]
                    if weaker.size:
                        votes[i] += votes[weaker].sum(axis=0)
                        keep[weaker] = False
                dets, votes, cid = dets[keep], votes[keep], cid[keep]
        self._class_votes = votes
        self._det_class = cid
        return dets


def _gating(means: F64, covs: F64, z: F64, R: F64) -> F64:
    from touchline.track.kalman import gating_distance

    return gating_distance(means, covs, z, R, np.eye(2, 4))
