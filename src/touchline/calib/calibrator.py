"""Pitch calibration of frames and videos: keypoints + direct estimate, fused, checked, tracked.

One frame (:meth:`Calibrator.calibrate`):

1. The shipped network predicts keypoint heatmaps, a pitch-area map, a painted-line map and a
   direct estimate (where four image points land on the pitch).
2. Keypoints -> homography: weighted RANSAC over minimal samples, then a robust non-linear
   refinement weighted by heatmap confidence (:mod:`touchline.geometry.homography`).
3. Candidates (keypoint, direct; over time also the propagated camera) must pass the camera
   plausibility checks and are *verified* against the predicted pitch-area map: the IoU of
   the pitch as the candidate projects it with the area the network sees. The estimates that
   agree are kept; outliers are rejected; a frame whose best candidate does not verify, or
   that shows almost no pitch (close-up, crowd, graphics), is reported uncalibrated.

A video (:meth:`Calibrator.calibrate_frames`, streaming; :meth:`Calibrator.calibrate_video`,
offline) adds the camera's frame-to-frame motion from sparse optical flow on the grass
(:mod:`touchline.calib.motion`): failed frames are propagated, outlier measurements rejected,
camera cuts restart the track, and the offline pass smooths robustly (a median of the
neighbouring estimates carried into each frame by the measured camera motion) and fills
short gaps by interpolation.

>>> import numpy as np
>>> cal = Calibrator().calibrate(np.full((360, 640, 3), (40, 40, 200), np.uint8))
>>> cal.status.value, cal.homography is None
('no_pitch', True)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchline.calib.features import FeatureConfig, extract_features
from touchline.calib.model import KeypointModel, KeypointPrediction
from touchline.calib.solve import CameraCandidate, SolverConfig, solve_frame
from touchline.geometry.homography import (
    apply_homography,
    dlt,
    normalise_homography,
    plausibility,
)
from touchline.pitch import Pitch
from touchline.types import Calibration, CalibrationStatus

__all__ = ["CalibrationResult", "Calibrator", "CalibratorConfig", "view_distance"]

F64 = NDArray[np.float64]
#: Image points (fractions of width and height) that parametrise a view for fusion/smoothing.
_ANCHORS = np.array([[0.05, 0.55], [0.95, 0.55], [0.05, 0.95], [0.95, 0.95]])


@dataclass(frozen=True)
class CalibratorConfig:
    """Thresholds of the calibration pipeline (defaults chosen on the DFL valid split).

    Attributes:
        min_pitch_share: share of the frame the network must see as pitch; below it the frame
            is ``no_pitch``.
        min_verification: verification score (mean of the pitch-area IoU and the line
            agreement, see :meth:`Calibrator.verification`) a candidate needs.
        min_line_agreement: share of the projected pitch lines that must fall on painted lines
            the network sees (valid split: 5th percentile 0.82 for correct estimates).
        min_line_agreement_carried: the same for the camera carried from the previous frames
            by the measured motion, for at most ``max_line_dip`` frames in a row: it is
            continuous with verified frames, so a short dip in agreement (few lines in view)
            does not break the track, while a camera that drifted off does not live on.
        max_line_dip: frames in a row a carried camera may pass on the lower bar.
        min_grass_share: a failed frame with less grass than this (share of the frame) is
            reported ``no_pitch``.
        agree_m: two estimates agree when they place the view within this many metres
            (median over the lower half of the frame).
        use_direct: fall back on the direct estimate when keypoints fail and it verifies.
        max_propagation: frames a camera may be carried by motion alone.
        smooth_window: half-width (frames) of the offline robust smoothing; 0 disables it.
        max_fill: longest run of failed frames the offline pass fills by interpolation.
        min_class_agreement: share of the projected lines that must fall on the network's
            map of the same line (models with per-line maps).
        refit_below: when no camera hypothesis scores this well, each painted line is left
            out in turn and the camera re-fitted (a wrongly recognised line is dropped).
        good_enough: a hypothesis scoring this well (and bending no line) ends the search.
        bent_lines: a fit that leaves a line's pixels further than this many robust loss
            scales (median) also triggers the re-fits without each line, unless it scores
            ``good_enough`` anyway.
        prefetch: frames the video path runs the network and the motion estimate ahead of
            the geometry, in a worker thread (0: all in the caller's thread).
        paint_check: also check cameras against the painted lines a plain image filter finds
            (:mod:`touchline.calib.paint`, independent of the network).
        min_paint_alignment: a camera whose projected lines fall on painted lines for less
            than this share of their length (when enough line is in view to judge) is
            rejected.
        paint_width: width (px) at which the painted-line filter runs.
        features: how features are read off the network's maps.
        solver: how cameras are fitted to them.
    """

    min_pitch_share: float = 0.05
    min_verification: float = 0.55
    min_line_agreement: float = 0.7
    min_line_agreement_carried: float = 0.6
    max_line_dip: int = 5
    min_grass_share: float = 0.1
    agree_m: float = 3.0
    use_direct: bool = True
    max_propagation: int = 250
    smooth_window: int = 2
    max_fill: int = 25
    min_class_agreement: float = 0.5
    refit_below: float = 0.9
    good_enough: float = 0.95
    bent_lines: float = 1.5
    prefetch: int = 1
    paint_check: bool = True
    min_paint_alignment: float = 0.35
    paint_width: int = 640
    features: FeatureConfig = field(default_factory=FeatureConfig)
    solver: SolverConfig = field(default_factory=SolverConfig)


@dataclass(frozen=True)
class _Candidate:
    """A camera hypothesis with how well it explains the network's maps."""

    source: str
    homography: F64
    verification: float  # mean of pitch-area IoU and any-line agreement
    line: float  # share of projected lines on the any-line map
    classes: float  # share of projected lines on their own line's map (nan: no such maps)
    inliers: int
    bent: bool = False  # the fit left some line or circle off its pixels

    def passes(self, cfg: CalibratorConfig) -> bool:
        if self.verification < cfg.min_verification or self.line < cfg.min_line_agreement:
            return False
        return not (np.isfinite(self.classes) and self.classes < cfg.min_class_agreement)

    @property
    def score(self) -> float:
        c = self.classes if np.isfinite(self.classes) else self.line
        return float((self.verification + c) / 2)


@dataclass(frozen=True)
class CalibrationResult:
    """A frame's calibration and how it was reached (for reports and debugging)."""

    calibration: Calibration
    # "keypoints", "homography" (a RANSAC homography that is no camera), "tracked" (the camera
    # carried from the previous frame, re-fitted to this frame), "direct", "propagated",
    # "interpolated" or "none"
    source: str
    verification: float
    inliers: int
    pitch_share: float
    motion: F64 | None = None  # image -> image homography from the previous frame
    prediction: KeypointPrediction | None = field(default=None, repr=False)
    alignment: float = float("nan")  # painted-line alignment of the camera (nan: not judged)


def view_distance(H1: F64, H2: F64, image_size: tuple[int, int]) -> float:
    """Median distance (m) between where two image -> pitch homographies put the lower half of
    the frame (a 5x4 grid); ``inf`` when either sends a point behind the camera."""
    w, h = image_size
    g = np.stack(np.meshgrid(np.linspace(0, w, 5), np.linspace(h * 0.5, h, 4)), -1).reshape(-1, 2)
    d = np.linalg.norm(apply_homography(H1, g) - apply_homography(H2, g), axis=1)
    return float(np.median(d)) if np.all(np.isfinite(d)) else float("inf")


def _anchor_points(H: F64, size: tuple[int, int]) -> F64 | None:
    p = apply_homography(H, _ANCHORS * size)
    return p if np.all(np.isfinite(p)) and np.abs(p).max() < 1e4 else None


def _from_anchors(p: F64, size: tuple[int, int]) -> F64:
    return dlt(_ANCHORS * size, p)


class Calibrator:
    """Camera-to-pitch homographies for frames and videos.

    Args:
        model: a :class:`~touchline.calib.model.KeypointModel` (default: the shipped one).
        config: thresholds, see :class:`CalibratorConfig`.
        pitch: pitch dimensions (default 105 x 68 m).

    Example:
        >>> import numpy as np
        >>> cal = Calibrator()
        >>> frames = [np.zeros((288, 512, 3), np.uint8)] * 3
        >>> [c.status.value for c in cal.calibrate_video(frames)]
        ['no_pitch', 'no_pitch', 'no_pitch']
    """

    def __init__(
        self,
        model: KeypointModel | None = None,
        config: CalibratorConfig | None = None,
        pitch: Pitch | None = None,
    ) -> None:
        self.model = model or KeypointModel()
        self.config = config or CalibratorConfig()
        self.pitch = pitch or Pitch()
        self._cache: dict[object, object] = {}

    # ----- one frame ----------------------------------------------------------------------
    def calibrate(self, image: NDArray[np.uint8]) -> Calibration:
        """Calibrate one BGR frame (no temporal context)."""
        return self.estimate(image).calibration

    def estimate(self, image: NDArray[np.uint8]) -> CalibrationResult:
        """Like :meth:`calibrate`, with the diagnostics."""
        pred = self.model.predict([image])[0]
        return self._no_pitch_check(image, self._single(pred, (), image))

    def _no_pitch_check(
        self, image: NDArray[np.uint8], res: CalibrationResult
    ) -> CalibrationResult:
        """A frame that failed and shows (almost) no grass is ``no_pitch`` rather than ``failed``."""
        from touchline.calib.motion import pitch_share

        if res.calibration.status != CalibrationStatus.FAILED:
            return res
        if pitch_share(image) >= self.config.min_grass_share:
            return res
        cal = replace(res.calibration, status=CalibrationStatus.NO_PITCH)
        return replace(res, calibration=cal)

    def verification(self, pred: KeypointPrediction, H: F64) -> float:
        """How well ``H`` explains what the network sees, in ``[0, 1]``.

        The mean of two agreements: the IoU between the pitch as ``H`` projects it and the
        network's pitch-area map, and the share of the painted lines ``H`` projects into the
        frame that fall on the network's line map (at the input resolution). The area term
        catches views that miss the pitch's outline; the line term catches shifted views of an
        all-grass frame.
        """
        return float(np.mean(self._agreements(pred, H)))

    def _scores(self, pred: KeypointPrediction, H: F64) -> tuple[float, float]:
        a = self._agreements(pred, H)
        return float(np.mean(a)), a[1]

    def _agreements(self, pred: KeypointPrediction, H: F64) -> tuple[float, float]:
        h, w = pred.area.shape
        key = ("cells", h, w, pred.image_size)
        if key not in self._cache:
            cells = np.stack(np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5), -1)
            self._cache[key] = apply_homography(pred.map_to_image, cells.reshape(-1, 2))
        img: F64 = self._cache[key]  # type: ignore[assignment]
        q = np.concatenate([img, np.ones((len(img), 1))], 1) @ H.T
        ref = (H @ np.array([pred.image_size[0] / 2, pred.image_size[1], 1.0]))[2]
        front = np.sign(q[:, 2]) == np.sign(ref)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = q[:, :2] / q[:, 2:3]
        inside = front & self.pitch.contains(np.nan_to_num(p, nan=-1e9))
        seen = pred.area.reshape(-1) > 0.5
        union = (inside | seen).sum()
        area = float((inside & seen).sum() / union) if union else 0.0
        return area, self._line_agreement(pred, H)

    def _line_agreement(self, pred: KeypointPrediction, H: F64) -> float:
        """Share of the template's line samples that ``H`` projects into the frame and that land
        on the network's line map (upsampled to the input resolution, probability > 0.3)."""

        gh, gw = pred.line.shape
        W4, H4 = gw * 4, gh * 4
        S = np.diag([pred.image_size[0] / W4, pred.image_size[1] / H4, 1.0])
        try:
            P = np.linalg.inv(H @ S)  # pitch -> input pixels
        except np.linalg.LinAlgError:
            return 0.0
        pts = self._line_samples
        q = np.concatenate([pts, np.ones((len(pts), 1))], 1) @ P.T
        ref = (H @ S @ np.array([W4 / 2, H4, 1.0]))[2]  # ground in front: same side as this
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = q[:, :2] / q[:, 2:3]
        ok = (q[:, 2] * ref > 0) & np.isfinite(xy).all(1)
        ok &= (xy[:, 0] >= 0) & (xy[:, 0] < W4) & (xy[:, 1] >= 0) & (xy[:, 1] < H4)
        if ok.sum() < 10:
            return 0.0
        up = self._upsampled_line(pred, (W4, H4))
        ij = np.floor(xy[ok]).astype(np.int64)
        return float((up[ij[:, 1], ij[:, 0]] > 0.3).mean())

    def _upsampled_line(self, pred: KeypointPrediction, size: tuple[int, int]) -> np.ndarray:
        """The any-line map at the input resolution (kept for the last prediction seen)."""
        import cv2

        if self._cache.get("line_src") is not pred.line or self._cache.get("line_size") != size:
            self._cache["line_src"] = pred.line  # held, so the identity test cannot be fooled
            self._cache["line_size"] = size
            self._cache["line_up"] = cv2.resize(pred.line, size, interpolation=cv2.INTER_LINEAR)
        return self._cache["line_up"]  # type: ignore[return-value]

    @property
    def _line_samples(self) -> F64:
        if not hasattr(self, "_samples"):
            self._samples = np.concatenate([p for _, p in self.pitch.polylines(step=0.5)])
        return self._samples

    def _class_agreement(self, pred: KeypointPrediction, H: F64) -> float:
        """How well the painted lines ``H`` projects into the frame fall on the network's map
        of that same line: the share of each line's length on its map, averaged over the
        lines in view (``nan`` without per-line maps or with too little in view)."""
        if not len(pred.line_names):
            return float("nan")
        gh, gw = pred.lines.shape[1:]
        S = np.diag([pred.image_size[0] / gw, pred.image_size[1] / gh, 1.0])
        try:
            P = np.linalg.inv(H @ S)  # pitch -> map cells
        except np.linalg.LinAlgError:
            return 0.0
        pts, cls = self._class_samples(pred.line_names)
        q = np.concatenate([pts, np.ones((len(pts), 1))], 1) @ P.T
        ref = (H @ S @ np.array([gw / 2, gh, 1.0]))[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = q[:, :2] / q[:, 2:3]
        ok = (q[:, 2] * ref > 0) & np.isfinite(xy).all(1)
        ok &= (xy[:, 0] >= 0) & (xy[:, 0] < gw) & (xy[:, 1] >= 0) & (xy[:, 1] < gh)
        if ok.sum() < 10:
            return float("nan")
        ij = np.floor(xy[ok]).astype(np.int64)
        c = cls[ok]
        hit = pred.lines[c, ij[:, 1], ij[:, 0]] > 0.2
        # Every line in view counts the same, however long: a wrong circle must not hide
        # behind two right touchlines.
        n = np.bincount(c, minlength=len(pred.line_names))
        h = np.bincount(c, hit, minlength=len(pred.line_names))
        seen = n >= 5
        return float(np.mean(h[seen] / n[seen])) if seen.any() else float("nan")

    def _class_samples(self, names: tuple[str, ...]) -> tuple[F64, NDArray[np.int64]]:
        key = ("class_samples", names)
        if key not in self._cache:
            pts, cls = [], []
            for k, n in enumerate(names):
                e = self.pitch.element(n)
                p = e.sample(0.5)
                pts.append(p)
                cls.append(np.full(len(p), k))
            self._cache[key] = (np.concatenate(pts), np.concatenate(cls))
        return self._cache[key]  # type: ignore[return-value]

    def _paint_check(
        self, image: NDArray[np.uint8] | None, size: tuple[int, int]
    ) -> Callable[[F64], float] | None:
        """The painted-line alignment of a homography in ``image`` (mask computed on first use);
        ``None`` when the check is off or there is no image."""
        if image is None or not self.config.paint_check:
            return None
        from touchline.calib.paint import alignment_score, paint_mask

        mask: list[Any] = []

        def check(H: F64) -> float:
            if not mask:
                pm = paint_mask(image, width=self.config.paint_width)
                mask.append((pm, int(np.count_nonzero(pm.mask))))
            pm, found = mask[0]
            a = alignment_score(pm, H, size)
            # A filter that found much less paint than the camera says is in view (faint or
            # hidden lines) cannot judge it.
            if found < 0.3 * a.visible_length_px:
                return float("nan")
            return float(a.score)

        return check

    def _single(
        self,
        pred: KeypointPrediction,
        inits: Sequence[tuple[str, F64]] = (),
        image: NDArray[np.uint8] | None = None,
    ) -> CalibrationResult:
        cfg = self.config
        size = pred.image_size
        share = float((pred.area > 0.5).mean())
        if share < cfg.min_pitch_share:
            cal = Calibration.uncalibrated(CalibrationStatus.NO_PITCH, size)
            return CalibrationResult(cal, "none", 0.0, 0, share, prediction=pred)
        feats = extract_features(pred, self.pitch, cfg.features)
        starts = list(inits)
        Hd = pred.direct_homography() if cfg.use_direct else None
        if Hd is not None:
            starts.append(("direct", Hd))
        cands: list[_Candidate] = []
        limit = cfg.solver.loss_scale * size[0] * cfg.bent_lines

        def candidate(c: CameraCandidate) -> _Candidate | None:
            source = c.source
            if source == "propagated":
                if c.fit is None:  # nothing in this frame refined it: not a measurement
                    return None
                source = "tracked"  # the carried camera, re-fitted to this frame
            if plausibility(c.homography, size):
                return None
            v, line = self._scores(pred, c.homography)
            cls = self._class_agreement(pred, c.homography)
            return _Candidate(source, c.homography, v, line, cls, c.inliers, _bent(c, limit))

        def enough(c: CameraCandidate) -> bool:
            # Hypotheses are tried in order (carried camera, keypoints, direct estimate):
            # one that explains the maps well, bending no line, makes the rest unnecessary.
            k = candidate(c)
            if k is not None:
                cands.append(k)
            return k is not None and k.score >= cfg.good_enough and not k.bent

        solve_frame(feats, starts, self.pitch, cfg.solver, enough=enough)
        # A wrong line (a mowing stripe taken for a box line, the image border for the near
        # touchline) pulls the whole camera off. When no hypothesis explains the maps well, or
        # the best fit had to bend some line or circle away from its pixels, each line is
        # left out in turn (with the points named after it) and the camera re-fitted from
        # the best one so far: the best explanation wins.
        top = max(cands, key=lambda c: c.score, default=None)
        if (
            top is not None
            and top.score < cfg.good_enough
            and (top.score < cfg.refit_below or top.bent)
            and len(feats.lines) >= 2
        ):
            warm = [(top.source, top.homography)]
            n = len(cands)
            # the least certain lines first: they are the likeliest to be wrong
            for f in sorted(feats.lines, key=lambda f: float(f.weights.mean())):
                solve_frame(
                    feats.without(f.name), [*warm, *starts], self.pitch, cfg.solver, enough=enough
                )
                if any(c.score >= cfg.good_enough and not c.bent for c in cands[n:]):
                    break  # a clean explanation without this line: no need to look further
        n_features = len(feats.image) + 2 * sum(f.line is not None or f.is_arc for f in feats.lines)
        return self._choose(pred, cands, share, n_features, self._paint_check(image, size))

    def _choose(
        self,
        pred: KeypointPrediction,
        cands: list[_Candidate],
        share: float,
        n_features: int = 0,
        paint: Callable[[F64], float] | None = None,
    ) -> CalibrationResult:
        """Keep the candidates that verify; the best verified one wins; confidence from how
        well it explains the network's maps and whether an independent estimate agrees."""
        cfg = self.config
        size = pred.image_size
        good = [c for c in cands if c.passes(cfg)]
        if not good:
            cal = Calibration.uncalibrated(CalibrationStatus.FAILED, size)
            best_v = max((c.verification for c in cands), default=0.0)
            return CalibrationResult(cal, "none", best_v, 0, share, prediction=pred)
        # The best explanation wins; near-ties go to the most direct evidence (keypoints, then
        # the carried camera, then the network's direct estimate). A winner whose pitch lines
        # clearly miss the painted lines an image filter finds (independent of the network)
        # is rejected for the next one.
        order = {"keypoints": 0, "homography": 1, "tracked": 2, "direct": 3}
        ranked = sorted(good, key=lambda c: (-round(c.score / 0.01), order.get(c.source, 4)))
        chosen, align = None, float("nan")
        for c in ranked:
            align = paint(c.homography) if paint is not None else float("nan")
            if not (align < cfg.min_paint_alignment):
                chosen = c
                break
        if chosen is None:
            cal = Calibration.uncalibrated(CalibrationStatus.FAILED, size)
            return CalibrationResult(
                cal, "none", ranked[0].verification, 0, share, prediction=pred, alignment=align
            )
        agree = [
            o
            for o in good
            if o is not chosen
            and o.source != chosen.source
            and view_distance(chosen.homography, o.homography, size) <= cfg.agree_m
        ]
        conf = chosen.score * min(1.0, 0.5 + n_features / 16)
        if np.isfinite(align):  # the painted lines have their say
            conf = 0.5 * conf + 0.5 * min(1.0, align / 0.8)
        if agree:
            conf = min(1.0, conf + 0.1)
        cal = Calibration(chosen.homography, confidence=float(np.clip(conf, 0, 1)), image_size=size)
        return CalibrationResult(
            cal,
            chosen.source,
            chosen.verification,
            chosen.inliers,
            share,
            prediction=pred,
            alignment=align,
        )

    # ----- video --------------------------------------------------------------------------
    def calibrate_frames(
        self, frames: Iterable[NDArray[np.uint8] | object], *, prefetch: int | None = None
    ) -> Iterator[CalibrationResult]:
        """Streaming calibration: one result per frame, in order, with temporal context.

        ``frames`` yields BGR arrays or :class:`touchline.video.Frame` objects. Each frame is
        estimated on its own, then checked against the camera carried from the previous
        frame by the measured image motion: agreeing estimates are blended, an isolated
        disagreeing one is rejected in favour of the propagated camera, failures are filled by
        propagation (status ``propagated``) for up to ``max_propagation`` frames, and a camera
        cut restarts the track (``cut`` flag).

        ``prefetch`` (default :attr:`CalibratorConfig.prefetch`) frames are read ahead and put
        through the network and the motion estimate in a worker thread; pass ``0`` when the
        frames are fed one at a time (an iterator that must not be read ahead).
        """
        from touchline.calib.motion import CutDetector

        cfg = self.config
        cuts = CutDetector()

        def measure(img: NDArray[np.uint8]) -> tuple[KeypointPrediction, bool, Any]:
            # The network and the camera motion of a frame need nothing from the frames
            # before it but the motion's own state: a worker thread runs them one frame
            # ahead of the geometry (onnxruntime and OpenCV release the GIL), in order.
            return self.model.predict([img])[0], bool(cuts.update(img)), cuts.last

        H_prev: F64 | None = None
        conf_prev, age, rejected, dip = 0.0, 0, 0, 0
        first = True
        ahead = cfg.prefetch if prefetch is None else prefetch
        for img, (pred0, cut, check) in _ahead(frames, measure, ahead):
            cut = cut and not first
            first = False
            G = None if check is None else check.motion.G
            carried_init: list[tuple[str, F64]] = []
            if not cut and G is not None and H_prev is not None:
                # The camera carried by the measured motion is one more hypothesis the solver
                # refines against this frame's own features.
                try:
                    carried_init = [("propagated", H_prev @ np.linalg.inv(G))]
                except np.linalg.LinAlgError:
                    carried_init = []
            res = self._no_pitch_check(img, self._single(pred0, carried_init, img))
            size = res.calibration.image_size or (img.shape[1], img.shape[0])
            if cut and G is not None and H_prev is not None and res.calibration.is_valid:
                # The detector saw a weakly tracked motion, not necessarily a new shot: if this
                # frame's own estimate agrees with the camera carried over by that motion, the
                # shot continues.
                assert res.calibration.homography is not None
                try:
                    carried = H_prev @ np.linalg.inv(G)
                    same = view_distance(res.calibration.homography, carried, size) <= cfg.agree_m
                except np.linalg.LinAlgError:
                    same = False
                cut = not same
            if cut:
                G = None
                H_prev, age, rejected, dip = None, 0, 0, 0
            H_prop = None
            if H_prev is not None and G is not None:
                try:
                    H_prop = normalise_homography(H_prev @ np.linalg.inv(G))
                except np.linalg.LinAlgError:
                    H_prop = None
            pred = res.prediction
            out = res
            need = (
                cfg.min_line_agreement_carried if dip < cfg.max_line_dip else cfg.min_line_agreement
            )
            line_prop = 1.0
            if res.calibration.is_valid and H_prop is not None and pred is not None:
                H_meas = res.calibration.homography
                assert H_meas is not None
                d = view_distance(H_meas, H_prop, size)
                v_prop, line_prop = self._scores(pred, H_prop)
                if d <= cfg.agree_m:
                    # Blend: measurements are noisy, propagation drifts slowly.
                    a = 0.5
                    pm, pp = _anchor_points(H_meas, size), _anchor_points(H_prop, size)
                    if pm is not None and pp is not None:
                        Hb = _from_anchors(a * pm + (1 - a) * pp, size)
                        cal = replace(
                            res.calibration,
                            homography=Hb,
                            confidence=min(1.0, res.calibration.confidence + 0.1),
                        )
                        out = replace(res, calibration=cal)
                    rejected = 0
                elif (
                    # A lone direct estimate never overrides a tracked camera that still fits;
                    # a keypoint estimate does unless the tracked one fits clearly better
                    # (after three such frames in a row the measurement wins).
                    age < cfg.max_propagation
                    and v_prop >= cfg.min_verification
                    and line_prop >= need
                    and (
                        res.source == "direct"
                        or (v_prop > res.verification + 0.05 and rejected < 3)
                    )
                ):
                    rejected += 1
                    out = self._propagated(res, H_prop, conf_prev, v_prop)
                else:
                    rejected = 0
            elif not res.calibration.is_valid and H_prop is not None and pred is not None:
                v_prop, line_prop = self._scores(pred, H_prop)
                no_pitch = res.calibration.status == CalibrationStatus.NO_PITCH
                if (
                    not no_pitch
                    and age < cfg.max_propagation
                    and v_prop >= cfg.min_verification
                    and line_prop >= need
                ):
                    out = self._propagated(res, H_prop, conf_prev, v_prop)
            if out.source == "propagated":
                age += 1
                dip = dip + 1 if line_prop < cfg.min_line_agreement else 0
            elif out.calibration.is_valid:
                age, dip = 0, 0
            if out.calibration.is_valid:
                H_prev = out.calibration.homography
                conf_prev = out.calibration.confidence
            elif out.calibration.status == CalibrationStatus.NO_PITCH:
                H_prev = None
            elif H_prev is not None and age < cfg.max_propagation:
                # Not verified on this frame (too few lines in view): keep carrying the
                # camera by the measured motion (when the motion is unknown, where it was),
                # so that it can verify again further on.
                H_prev = H_prop if H_prop is not None else H_prev
                age += 1
            else:
                H_prev = None
            cal = replace(out.calibration, cut=cut)
            yield replace(out, calibration=cal, motion=G)

    def _propagated(
        self, res: CalibrationResult, H: F64, conf: float, v: float
    ) -> CalibrationResult:
        cal = Calibration(
            H,
            confidence=float(np.clip(min(conf * 0.97, v), 0, 1)),
            status=CalibrationStatus.PROPAGATED,
            image_size=res.calibration.image_size,
        )
        return replace(res, calibration=cal, source="propagated", verification=v)

    def calibrate_video(
        self,
        source: str | Path | Iterable[NDArray[np.uint8] | object],
        *,
        results: list[CalibrationResult] | None = None,
    ) -> list[Calibration]:
        """Offline calibration of a whole video (a path or an iterable of frames).

        Runs :meth:`calibrate_frames`, then smooths within each shot (between cuts) and fills
        runs of at most ``max_fill`` failed frames by interpolating between their neighbours
        (status ``interpolated``). Pass a list as ``results`` to receive the per-frame
        diagnostics too.
        """
        if isinstance(source, (str, Path)):
            from touchline.video import VideoReader

            frames: Iterable = VideoReader(source)
        else:
            frames = source
        # Drop the network maps as we go: memory stays small on long videos.
        res = [replace(r, prediction=None) for r in self.calibrate_frames(frames)]
        if results is not None:
            results.extend(res)
        return smooth_track(res, self.config)


def _bent(c: CameraCandidate, limit: float) -> bool:
    """Whether a fitted camera leaves some line or circle off its pixels (median distance
    above ``limit`` px)."""
    if c.fit is None:
        return False
    groups = [*c.fit.line_residuals, *c.fit.conic_residuals]
    return any(len(r) >= 5 and float(np.median(np.abs(r))) > limit for r in groups)


def _ahead(
    frames: Iterable[NDArray[np.uint8] | object],
    work: Callable[[NDArray[np.uint8]], Any],
    ahead: int,
) -> Iterator[tuple[NDArray[np.uint8], Any]]:
    """``(image, work(image))`` for every frame, in order, ``work`` running in one worker
    thread up to ``ahead`` frames ahead of the consumer (``0``: in the caller's thread)."""

    def image_of(item: object) -> NDArray[np.uint8]:
        img = getattr(item, "image", item)
        if not isinstance(img, np.ndarray):
            raise TypeError(f"expected a BGR array or a Frame, got {type(item).__name__}")
        return img

    if ahead <= 0:
        for item in frames:
            img = image_of(item)
            yield img, work(img)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="calib") as pool:
        pending: deque[tuple[NDArray[np.uint8], Any]] = deque()
        try:
            for item in frames:
                img = image_of(item)
                pending.append((img, pool.submit(work, img)))
                if len(pending) > ahead:
                    img0, fut = pending.popleft()
                    yield img0, fut.result()
            while pending:
                img0, fut = pending.popleft()
                yield img0, fut.result()
        finally:
            for _, fut in pending:
                fut.cancel()


def _shots(res: list[CalibrationResult]) -> list[range]:
    starts = [0] + [i for i, r in enumerate(res) if i > 0 and r.calibration.cut]
    ends = [*starts[1:], len(res)]
    return [range(a, b) for a, b in zip(starts, ends, strict=True) if b > a]


def smooth_track(res: list[CalibrationResult], config: CalibratorConfig) -> list[Calibration]:
    """The offline pass of :meth:`Calibrator.calibrate_video` (see there)."""
    cals = [r.calibration for r in res]
    out = list(cals)
    for shot in _shots(res):
        idx = list(shot)
        if not idx:
            continue
        size = cals[idx[0]].image_size
        if size is None:
            continue
        # Motion from frame i-1 to i inside the shot (None when unknown).
        motions = {i: res[i].motion for i in idx[1:]}
        anchors: dict[int, F64] = {}
        for i in idx:
            c = cals[i]
            if c.is_valid and c.status != CalibrationStatus.PROPAGATED:
                assert c.homography is not None
                a = _anchor_points(c.homography, size)
                if a is not None:
                    anchors[i] = a
        k = config.smooth_window
        for i in idx:
            c = cals[i]
            if not c.is_valid or k <= 0:
                continue
            cands = []
            for j in range(max(idx[0], i - k), min(idx[-1], i + k) + 1):
                if j not in anchors:
                    continue
                G = _chain(motions, j, i)
                if G is None:
                    continue
                hj = cals[j].homography
                assert hj is not None
                Hj_in_i = hj @ np.linalg.inv(G)
                a = _anchor_points(Hj_in_i, size)
                if a is not None:
                    cands.append(a)
            if len(cands) >= 3:
                Hs = _from_anchors(np.median(np.stack(cands), axis=0), size)
                out[i] = replace(c, homography=Hs)
        # Fill short gaps between valid frames by interpolating anchor points.
        valid = [i for i in idx if out[i].is_valid]
        for i0, i1 in itertools.pairwise(valid):
            gap = i1 - i0 - 1
            if gap <= 0 or gap > config.max_fill:
                continue
            if any(out[i].status == CalibrationStatus.NO_PITCH for i in range(i0 + 1, i1)):
                continue
            ha, hb = out[i0].homography, out[i1].homography
            assert ha is not None and hb is not None
            pa, pb = _anchor_points(ha, size), _anchor_points(hb, size)
            if pa is None or pb is None:
                continue
            for i in range(i0 + 1, i1):
                t = (i - i0) / (i1 - i0)
                Hi = _from_anchors((1 - t) * pa + t * pb, size)
                conf = min(out[i0].confidence, out[i1].confidence) * 0.8
                out[i] = Calibration(
                    Hi,
                    confidence=conf,
                    status=CalibrationStatus.INTERPOLATED,
                    image_size=size,
                    cut=out[i].cut,
                )
    return out


def _chain(motions: dict[int, F64 | None], j: int, i: int) -> F64 | None:
    """Image motion from frame j to frame i (composition of consecutive motions)."""
    G = np.eye(3)
    if j <= i:
        for t in range(j + 1, i + 1):
            m = motions.get(t)
            if m is None:
                return None
            G = m @ G
    else:
        for t in range(j, i, -1):  # undo the motion into frame j first, then j-1, ...
            m = motions.get(t)
            if m is None:
                return None
            G = np.linalg.inv(m) @ G
    return G
