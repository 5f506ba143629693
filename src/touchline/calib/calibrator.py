"""Pitch calibration of frames and videos: keypoints + direct estimate, fused, checked, tracked.

One frame (:meth:`Calibrator.calibrate`):

1. The shipped network predicts keypoint heatmaps, a pitch-area map, a painted-line map and a
   direct estimate (where four image points land on the pitch).
2. Keypoints -> homography: weighted RANSAC over minimal samples, then a robust non-linear
   refinement weighted by heatmap confidence (:mod:`touchline.calib.homography`).
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from touchline.calib.homography import (
    apply_homography,
    dlt,
    normalise_homography,
    plausibility,
    ransac_homography,
    refine_homography,
)
from touchline.calib.model import KeypointModel, KeypointPrediction
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
        keypoint_threshold: heatmap peaks below it are ignored.
        ransac_threshold: RANSAC inlier distance as a fraction of the image width.
        min_inliers: keypoint inliers needed for a keypoint estimate.
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
    """

    keypoint_threshold: float = 0.25
    ransac_threshold: float = 0.008
    min_inliers: int = 5
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


@dataclass(frozen=True)
class CalibrationResult:
    """A frame's calibration and how it was reached (for reports and debugging)."""

    calibration: Calibration
    source: str  # "keypoints", "direct", "propagated", "interpolated" or "none"
    verification: float
    inliers: int
    pitch_share: float
    motion: F64 | None = None  # image -> image homography from the previous frame
    prediction: KeypointPrediction | None = field(default=None, repr=False)


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
        self._kp = self.pitch.keypoint_array(self.model.names)

    # ----- one frame ----------------------------------------------------------------------
    def calibrate(self, image: NDArray[np.uint8]) -> Calibration:
        """Calibrate one BGR frame (no temporal context)."""
        return self.estimate(image).calibration

    def estimate(self, image: NDArray[np.uint8]) -> CalibrationResult:
        """Like :meth:`calibrate`, with the diagnostics."""
        return self._no_pitch_check(image, self._single(self.model.predict([image])[0]))

    def estimate_batch(self, images: list[NDArray[np.uint8]]) -> list[CalibrationResult]:
        """Independent estimates for a batch of frames (one network call)."""
        preds = self.model.predict(images)
        return [
            self._no_pitch_check(im, self._single(p)) for im, p in zip(images, preds, strict=True)
        ]

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
        cells = np.stack(np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5), -1).reshape(-1, 2)
        img = apply_homography(pred.map_to_image, cells)
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
        import cv2

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
        up = cv2.resize(pred.line, (W4, H4), interpolation=cv2.INTER_LINEAR)
        ij = np.floor(xy[ok]).astype(np.int64)
        return float((up[ij[:, 1], ij[:, 0]] > 0.3).mean())

    @property
    def _line_samples(self) -> F64:
        if not hasattr(self, "_samples"):
            self._samples = np.concatenate([p for _, p in self.pitch.polylines(step=0.5)])
        return self._samples

    def _keypoint_estimate(self, pred: KeypointPrediction) -> tuple[F64 | None, int]:
        cfg = self.config
        ok = np.isfinite(pred.points).all(1) & (pred.scores >= cfg.keypoint_threshold)
        if ok.sum() < max(4, cfg.min_inliers):
            return None, int(ok.sum())
        src, dst, wts = self._kp[ok], pred.points[ok], pred.scores[ok]
        thr = cfg.ransac_threshold * pred.image_size[0]
        r = ransac_homography(src, dst, thr, wts, iterations=200)
        if r.H is None or r.inliers.sum() < cfg.min_inliers:
            return None, int(r.inliers.sum())
        inl = r.inliers
        P = refine_homography(r.H, src[inl], dst[inl], wts[inl], loss_scale=thr / 2)
        try:
            return normalise_homography(np.linalg.inv(P)), int(inl.sum())
        except np.linalg.LinAlgError:
            return None, 0

    def _single(self, pred: KeypointPrediction) -> CalibrationResult:
        cfg = self.config
        size = pred.image_size
        share = float((pred.area > 0.5).mean())
        if share < cfg.min_pitch_share:
            cal = Calibration.uncalibrated(CalibrationStatus.NO_PITCH, size)
            return CalibrationResult(cal, "none", 0.0, 0, share, prediction=pred)
        cands: list[tuple[str, F64, float, float, int]] = []
        Hk, n_in = self._keypoint_estimate(pred)
        if Hk is not None and not plausibility(Hk, size):
            cands.append(("keypoints", Hk, *self._scores(pred, Hk), n_in))
        Hd = pred.direct_homography() if cfg.use_direct else None
        if Hd is not None and not plausibility(Hd, size):
            cands.append(("direct", Hd, *self._scores(pred, Hd), 0))
        return self._choose(pred, cands, share)

    def _choose(
        self,
        pred: KeypointPrediction,
        cands: list[tuple[str, F64, float, float, int]],
        share: float,
    ) -> CalibrationResult:
        """Fusion: keep the candidates that verify; prefer keypoints; confidence from agreement."""
        cfg = self.config
        size = pred.image_size
        good = [c for c in cands if c[2] >= cfg.min_verification and c[3] >= cfg.min_line_agreement]
        if not good:
            cal = Calibration.uncalibrated(CalibrationStatus.FAILED, size)
            best_v = max((c[2] for c in cands), default=0.0)
            return CalibrationResult(cal, "none", best_v, 0, share, prediction=pred)
        order = {"keypoints": 0, "propagated": 1, "direct": 2}
        kp = [c for c in good if c[0] == "keypoints"]
        chosen = kp[0] if kp else min(good, key=lambda c: (order.get(c[0], 3), -c[2]))
        name, H, v, _, n_in = chosen
        agree = [o for o in good if o is not chosen and view_distance(H, o[1], size) <= cfg.agree_m]
        # Confidence: verification IoU, scaled down for few inliers or a lone direct estimate,
        # raised when an independent estimate agrees.
        conf = v * (min(1.0, 0.5 + n_in / 16) if name == "keypoints" else 0.5)
        if agree:
            conf = min(1.0, conf + 0.15)
        cal = Calibration(H, confidence=float(np.clip(conf, 0, 1)), image_size=size)
        return CalibrationResult(cal, name, v, n_in, share, prediction=pred)

    # ----- video --------------------------------------------------------------------------
    def calibrate_frames(
        self, frames: Iterable[NDArray[np.uint8] | object]
    ) -> Iterator[CalibrationResult]:
        """Streaming calibration: one result per frame, in order, with temporal context.

        ``frames`` yields BGR arrays or :class:`touchline.video.Frame` objects. Each frame is
        estimated on its own, then checked against the camera carried from the previous
        frame by the measured image motion: agreeing estimates are blended, an isolated
        disagreeing one is rejected in favour of the propagated camera, failures are filled by
        propagation (status ``propagated``) for up to ``max_propagation`` frames, and a camera
        cut restarts the track (``cut`` flag).
        """
        from touchline.calib.motion import CutDetector

        cfg = self.config
        cuts = CutDetector()
        H_prev: F64 | None = None
        conf_prev, age, rejected, dip = 0.0, 0, 0, 0
        first = True
        for item in frames:
            img = getattr(item, "image", item)
            if not isinstance(img, np.ndarray):
                raise TypeError(f"expected a BGR array or a Frame, got {type(item).__name__}")
            res = self.estimate(img)
            size = res.calibration.image_size or (img.shape[1], img.shape[0])
            cut = bool(cuts.update(img)) and not first
            first = False
            check = cuts.last
            G = None if check is None else check.motion.G
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
