"""``FootballTracker``: the one video-to-tracks pipeline (detect, calibrate, track, teams, finish).

``FootballTracker()(video)`` in Python gives exactly the table ``touchline track`` writes (the
CLI job :func:`touchline.jobs.track.track_video` drives the same object, adding checkpoints and
rendering). The stages are composed here, each behind its own contract: a detector
(``detect(image) -> Detections``), a calibrator (``calibrate_frames``), the person
:class:`~touchline.track.Tracker` (``update``/``reset``), the
:class:`~touchline.track.teams.TeamAssigner` and the table finisher
(:func:`~touchline.track.finish.finish_tracks` with :class:`~touchline.track.finish.FinishConfig`).

Each frame goes through two halves:

* :meth:`FootballTracker.measure` — the expensive, per-frame work: detection (the shipped
  model), calibration (the shipped keypoint model with temporal fusion and cut detection, which
  also measures the camera motion) and appearance features of every box. Its result, a
  :class:`Measurement`, is small and can be stored, which is how long runs resume.
* :meth:`FootballTracker.track` — the cheap, stateful part: the :class:`Tracker` (pitch metres
  when calibrated) and the :class:`TeamAssigner`.

At the end of a clip the table is finished: every track gets its final team vote and role,
coasting rows are dropped, short gaps inside a shot are interpolated, short tracks dropped and
positions smoothed (``finish=None`` keeps the raw per-frame table).

Example:
    >>> import numpy as np
    >>> from touchline.synth import SynthConfig, synthesize
    >>> import tempfile
    >>> clip = synthesize(SynthConfig(seconds=0.6, size=(480, 270), seed=3), tempfile.mkdtemp())
    >>> tracks = FootballTracker()(clip.video)
    >>> len(tracks.frames), tracks.df["track_id"].nunique() > 5, tracks.meta.source == str(clip.video)
    (15, True, True)
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchline import calib
from touchline.protocols import Calibrator, Detector, Tracker
from touchline.track.appearance import appearance_features
from touchline.track.combined import PeopleAndBallTracker
from touchline.track.finish import FinishConfig, finish_tracks
from touchline.track.teams import TeamAssigner, TeamConfig
from touchline.track.tracker import Tracker as TrackerImpl
from touchline.track.tracker import TrackerConfig
from touchline.tracks import Tracks, TracksBuilder
from touchline.types import Calibration, Detections

__all__ = ["FootballTracker", "FrameTracks", "Measurement", "TrackCollector"]

F64 = NDArray[np.float64]

KIT_LOG_ODDS = 3.0
"""A player box shows a kit confidently when the team classifier's log-odds pass this."""


@dataclass(frozen=True, eq=False)
class Measurement:
    """What one frame measured: detections (with appearance ``embedding``), calibration and
    camera motion from the previous frame (``None`` when unknown)."""

    detections: Detections
    calibration: Calibration
    motion: F64 | None


@dataclass(frozen=True, eq=False)
class FrameTracks:
    """The tracks of one frame and what they were made from.

    Attributes:
        frame: frame index in the source.
        time: seconds from the start of the source.
        tracks: tracked :class:`Detections` (``tracker_id``, ``data["team"]``,
            ``data["pitch_xy"]``, ...).
        measurement: the frame's :class:`Measurement`.
    """

    frame: int
    time: float
    tracks: Detections
    measurement: Measurement

    @property
    def calibration(self) -> Calibration:
        return self.measurement.calibration


class FootballTracker:
    """Soccer broadcast frames in, player/referee/ball tracks with teams and pitch positions out.

    Args:
        detector: a :class:`touchline.protocols.Detector` (default: the shipped model).
        calibrator: a :class:`touchline.protocols.Calibrator` (default: the shipped model in a
            :class:`~touchline.calib.CalibrationStream`; a plain
            :class:`~touchline.calib.Calibrator` is wrapped in one), or
            :class:`~touchline.calib.CameraMotionOnly` to track in image space.
        tracker: a :class:`touchline.protocols.Tracker` (default: a
            :class:`~touchline.track.PeopleAndBallTracker` at ``fps``: the person tracker and
            the ball tracker side by side; the calibrator measures the camera motion and cuts
            and passes them on).
        teams: a :class:`~touchline.track.teams.TeamAssigner` (default settings at ``fps``).
        assign_teams: ``False`` leaves every ``team`` at -1.
        finish: how the table is finished at the end of a clip (durations in seconds); ``None``
            keeps the raw per-frame table.
        fps: frame rate of the frames given as arrays (a video's own rate wins).
        parallel: calibrate in a worker thread while detecting (see :meth:`measure`); the
            default models then run one onnxruntime thread each.

    Call it on a video path or an iterable of frames (BGR arrays or
    :class:`touchline.video.Frame`) to get a :class:`~touchline.tracks.Tracks` table, or use
    :meth:`iter_frames` / :meth:`step` to stream.
    """

    def __init__(
        self,
        *,
        detector: Detector | None = None,
        calibrator: Calibrator | calib.Calibrator | None = None,
        tracker: Tracker | None = None,
        teams: TeamAssigner | None = None,
        assign_teams: bool = True,
        finish: FinishConfig | None = FinishConfig(),  # noqa: B008 (frozen)
        fps: float = 25.0,
        parallel: bool = True,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from touchline.detect import Detector as ShippedDetector

        self.fps = float(fps)
        # In parallel, each model gets one core (two sessions with two threads each fight
        # over two cores: measured 18.8 against 11.3 frames/s on the DFL clip).
        threads = 1 if parallel else None
        self.detector: Detector = detector or ShippedDetector(threads=threads)
        if calibrator is None:
            calibrator = calib.Calibrator(calib.KeypointModel(threads=threads))
        if isinstance(calibrator, calib.Calibrator):
            calibrator = calib.CalibrationStream(calibrator)
        self.calibrator: Calibrator = calibrator
        # The calibrator measures camera motion and cuts: the tracker need not do it again.
        self._own_tracker = tracker is None
        self.tracker: Tracker = tracker or self._default_tracker()
        self._own_teams = teams is None
        self.teams = (teams or TeamAssigner(TeamConfig(fps=self.fps))) if assign_teams else None
        self.finish = finish
        self.image_size: tuple[int, int] | None = None
        self._pool = ThreadPoolExecutor(1, "touchline-calibrate") if parallel else None
        self.reset()

    def set_fps(self, fps: float | None) -> None:
        """The source's frame rate (ignored when unknown); the default tracker and team
        assigner follow it."""
        if not fps or fps <= 0 or fps == self.fps:
            return
        self.fps = float(fps)
        if self._own_tracker:
            self.tracker = self._default_tracker()
        if self._own_teams and self.teams is not None:
            self.teams = TeamAssigner(TeamConfig(fps=self.fps))

    def _default_tracker(self) -> PeopleAndBallTracker:
        return PeopleAndBallTracker(TrackerImpl(TrackerConfig(fps=self.fps)))

    def reset(self) -> None:
        """Start a new clip: forget tracks, teams and the calibration history."""
        self.tracker.reset()
        self.calibrator.reset()
        self.image_size = None
        if self.teams is not None:
            self.teams = type(self.teams)(self.teams.config)
        self._frame = -1
        self.timings: dict[str, float] = {
            "detect": 0.0,
            "calibrate": 0.0,
            "track": 0.0,
            "measure_wall": 0.0,
        }

    # ---- halves ------------------------------------------------------------------------------
    def resync(self, previous: np.ndarray | None = None) -> None:
        """Restart the camera history after frames were replayed from a checkpoint: the
        calibrator sees ``previous`` (the last replayed frame) again, so the next frame gets
        its camera motion and temporal context."""
        self.calibrator.reset()
        if previous is not None:
            self.calibrator.update(previous)

    def _calibrate(self, image: np.ndarray) -> tuple[Calibration, F64 | None, float]:
        t0 = _time.perf_counter()
        step = self.calibrator.update(image)
        return step.calibration, step.motion, _time.perf_counter() - t0

    def measure(self, image: np.ndarray) -> Measurement:
        """Detect, calibrate and describe one BGR frame (the expensive half).

        With ``parallel`` (the default), calibration runs in a worker thread while the detector
        runs: both spend most of their time in onnxruntime and OpenCV, which release the GIL,
        so the two cores are both busy.
        """
        t0 = _time.perf_counter()
        future = self._pool.submit(self._calibrate, image) if self._pool is not None else None
        dets = self.detector.detect(image)
        t_det = _time.perf_counter() - t0
        calibration, motion, t_cal = (
            future.result() if future is not None else self._calibrate(image)
        )
        t2 = _time.perf_counter()
        feats = appearance_features(image, dets.xyxy)
        dets = replace(dets, embedding=feats)
        self.timings["detect"] += t_det + _time.perf_counter() - t2
        self.timings["calibrate"] += t_cal
        self.timings["measure_wall"] += _time.perf_counter() - t0
        return Measurement(dets, calibration, motion)

    def track(self, measurement: Measurement, image: np.ndarray) -> Detections:
        """Track one measured frame and assign teams (the cheap, stateful half)."""
        t0 = _time.perf_counter()
        m = measurement
        dets = self._with_kits(m.detections)
        tracks = self.tracker.update(dets, m.calibration, image, motion=m.motion)
        n = len(tracks)
        team = np.full(n, -1, np.int64)
        if self.teams is not None and n:
            # The tracker's embedding is this frame's detection feature of every row (zero
            # for a coasted row, which does not vote).
            team = self.teams.update(tracks, image, features=tracks.embedding)
        tracks.data["team"] = team
        self.timings["track"] += _time.perf_counter() - t0
        return tracks

    def _with_kits(self, dets: Detections) -> Detections:
        """``data["kit"]``: the team whose kit a player box confidently shows (-1 unknown),
        once the team classifier is fitted; the tracker never swaps players across kits."""
        if self.teams is None or not self.teams.fitted or dets.embedding is None or not len(dets):
            return dets
        clf = self.teams.classifier
        lo = clf.log_odds(dets.embedding)
        kit = np.where(lo > KIT_LOG_ODDS, 1, np.where(lo < -KIT_LOG_ODDS, 0, -1))
        kit[clf.is_outlier(dets.embedding)] = -1
        if dets.class_id is not None:
            kit[dets.class_id != 0] = -1
        return replace(dets, data={**dets.data, "kit": kit.astype(np.int64)})

    def step(
        self,
        image: np.ndarray,
        *,
        frame: int | None = None,
        time: float | None = None,
        measurement: Measurement | None = None,
    ) -> FrameTracks:
        """Process the next frame of the clip; a saved ``measurement`` of it (a resumed run)
        skips the expensive half."""
        self._frame = self._frame + 1 if frame is None else int(frame)
        t = self._frame / self.fps if time is None else float(time)
        self.image_size = (image.shape[1], image.shape[0])
        m = measurement if measurement is not None else self.measure(image)
        return FrameTracks(self._frame, t, self.track(m, image), m)

    # ---- whole clips -------------------------------------------------------------------------
    def iter_frames(self, frames: str | Path | Iterable[Any]) -> Iterator[FrameTracks]:
        """Stream :class:`FrameTracks` over a video path or an iterable of frames."""
        if isinstance(frames, (str, Path)):
            from touchline.video import VideoReader

            reader = VideoReader(frames)
            self.set_fps(reader.info.fps)
            frames = reader
        for item in frames:
            image = getattr(item, "image", item)
            if not isinstance(image, np.ndarray):
                raise TypeError(f"expected a BGR array or a Frame, got {type(item).__name__}")
            yield self.step(
                image, frame=getattr(item, "index", None), time=getattr(item, "time", None)
            )

    def finished(self, collected: TrackCollector, source: str | None = None) -> Tracks:
        """The clip's table: the collected rows finished with :attr:`finish` (final team votes
        and roles of :attr:`teams`, coasting rows dropped, gaps filled, smoothing)."""
        table = collected.builder.build(fps=self.fps, image_size=self.image_size)
        df = table.df
        if "predicted" not in df:  # no rows at all
            df["predicted"] = np.zeros(len(df), bool)
        if self.finish is not None:
            max_gap, min_frames, smooth = self.finish.frames(self.fps)
            df = finish_tracks(
                df,
                teams=self.teams.track_teams() if self.teams is not None else None,
                roles=self.teams.track_roles() if self.teams is not None else None,
                cuts=np.array(collected.cuts, np.int64),
                max_gap=max_gap,
                min_frames=min_frames,
                smooth=smooth,
                drop_predicted=self.finish.drop_predicted,
            )
        meta = {"source": source} if source else {}
        return Tracks(df, fps=self.fps, image_size=self.image_size, meta=meta)

    def __call__(self, frames: str | Path | Iterable[Any]) -> Tracks:
        """Track a whole clip: the finished :class:`~touchline.tracks.Tracks` table (the one
        ``touchline track`` writes for the same video and settings)."""
        self.reset()
        collected = TrackCollector()
        for ft in self.iter_frames(frames):
            collected.add(ft)
        source = frames if isinstance(frames, (str, Path)) else getattr(frames, "path", None)
        return self.finished(collected, str(source) if source is not None else None)


class TrackCollector:
    """The rows, cuts and calibrations of a clip, one :class:`FrameTracks` at a time.

    >>> c = TrackCollector()
    >>> len(c.calibrations), c.n_calibrated
    (0, 0)
    """

    def __init__(self) -> None:
        self.builder = TracksBuilder()
        self.cuts: list[int] = []
        self.calibrations: list[Calibration] = []
        self.frames: list[int] = []
        self.times: list[float] = []

    def add(self, ft: FrameTracks) -> None:
        n = len(ft.tracks)
        predicted = np.asarray(ft.tracks.data.get("predicted", np.zeros(n, bool)), bool)
        self.builder.add(ft.frame, ft.time, ft.tracks, ft.calibration, {"predicted": predicted})
        if ft.calibration.cut:
            self.cuts.append(ft.frame)
        self.calibrations.append(ft.calibration)
        self.frames.append(ft.frame)
        self.times.append(ft.time)

    @property
    def n_calibrated(self) -> int:
        return sum(bool(c.is_valid) for c in self.calibrations)
