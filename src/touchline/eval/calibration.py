"""``touchline eval calibration``: score a calibrator on labelled frames (YOLO-pose split).

For every image of ``SPLIT/images`` the calibrator predicts a homography (each frame on its
own: the split is a set of stills, not a sequence). The ground truth is the homography fitted
(normalised DLT) to the frame's labelled keypoints in the original frame (labels are stretched
from ``frame_size``, 1920x1080 for the DFL data); frames with fewer than 4 usable labels are
counted but not scored for IoU. Metrics are those of
:mod:`touchline.eval.calibration_metrics` on the 105 x 68 m template; ``fps`` counts the
calibrator only (model + homography), not image decoding nor one untimed warm-up call.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from touchline.calib.calibrator import Calibrator
from touchline.datasets.yolo_pose import fit_label_homography, iter_split
from touchline.errors import DataError
from touchline.eval.calibration_metrics import FrameScore, score_frame, summarise
from touchline.utils.files import write_text_atomic
from touchline.utils.results import JsonResult

__all__ = ["CalibrationScores", "FrameRecord", "evaluate_calibration"]


@dataclass(frozen=True)
class FrameRecord(JsonResult):
    """One frame's calibration and scores (a row of ``per_frame`` and of the CSV)."""

    image: str
    status: str
    source: str
    confidence: float
    verification: float
    inliers: int
    labels: int
    iou_whole: float
    iou_part: float
    proj_error_m: float
    reproj_error_px: float


@dataclass(frozen=True)
class CalibrationScores(JsonResult):
    """What :func:`evaluate_calibration` measured: the
    :func:`~touchline.eval.calibration_metrics.summarise` keys, then the run and its frames."""

    iou_whole_mean: float
    iou_whole_median: float
    iou_part_mean: float
    iou_part_median: float
    proj_error_m_median: float
    reproj_error_px_median: float
    completeness: float
    frames: int
    fps: float
    scored_frames: int
    calibrated_frames: int
    keypoints: int
    iou_whole_p10: float
    iou_part_p10: float
    proj_error_m_p90: float
    reproj_error_px_p90: float
    data: str
    frame_size: tuple[int, int]
    sources: dict[str, int]  # frames per calibration source
    per_frame: list[FrameRecord]


def evaluate_calibration(
    split_dir: str | Path,
    calibrator: Calibrator | None = None,
    *,
    frame_size: tuple[int, int] = (1920, 1080),
    progress: Callable[[str, int, int], None] | None = None,
    per_frame_csv: str | Path | None = None,
) -> CalibrationScores:
    """Metrics of ``calibrator`` on a labelled split; see the module docstring."""
    cal = calibrator or Calibrator()
    samples = list(iter_split(split_dir, frame_size))
    pitch = cal.pitch
    scores: list[FrameScore] = []
    rows: list[FrameRecord] = []
    seconds = 0.0
    for k, s in enumerate(samples):
        img: np.ndarray | None = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if img is None:
            raise DataError(f"{s.image}: cannot decode image")
        if k == 0:
            cal.estimate(img)  # warm-up (onnxruntime's first call allocates), not timed
        t0 = time.perf_counter()
        res = cal.estimate(img)
        seconds += time.perf_counter() - t0
        c = res.calibration
        H_pred = None
        if c.is_valid:
            H_pred = c.rescaled(frame_size).homography
        H_gt = fit_label_homography(s.label, pitch)
        vis = s.label.visible
        sc = score_frame(
            H_pred,
            H_gt,
            s.label.points[vis],
            s.label.pitch_points(pitch)[vis],
            frame_size,
            (pitch.length, pitch.width),
        )
        scores.append(sc)
        rows.append(
            FrameRecord(
                image=s.image.name,
                status=c.status.value,
                source=res.source,
                confidence=round(c.confidence, 4),
                verification=round(res.verification, 4),
                inliers=res.inliers,
                labels=int(vis.sum()),
                iou_whole=sc.iou_whole,
                iou_part=sc.iou_part,
                proj_error_m=sc.proj_error_m,
                reproj_error_px=sc.reproj_error_px,
            )
        )
        if progress:
            progress("evaluate", k + 1, len(samples))
    if per_frame_csv is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0].to_json()))
        w.writeheader()
        w.writerows(r.to_json() for r in rows)
        write_text_atomic(per_frame_csv, buf.getvalue())
    sources = sorted({r.source for r in rows})
    return CalibrationScores(
        **summarise(scores, seconds),  # type: ignore[arg-type]  # keys = the first fields
        data=str(split_dir),
        frame_size=frame_size,
        sources={src: sum(r.source == src for r in rows) for src in sources},
        per_frame=rows,
    )
