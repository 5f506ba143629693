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
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from touchline.calib.calibrator import Calibrator
from touchline.datasets.yolo_pose import fit_label_homography, iter_split
from touchline.errors import DataError
from touchline.eval.calibration_metrics import FrameScore, score_frame, summarise
from touchline.utils.files import write_text_atomic

__all__ = ["evaluate_calibration"]


def evaluate_calibration(
    split_dir: str | Path,
    calibrator: Calibrator | None = None,
    *,
    frame_size: tuple[int, int] = (1920, 1080),
    progress: Callable[[str, int, int], None] | None = None,
    per_frame_csv: str | Path | None = None,
) -> dict[str, Any]:
    """Metrics of ``calibrator`` on a labelled split; see the module docstring.

    Returns the summary dict (``iou_whole_mean`` ... ``fps``) with ``per_frame`` records.
    """
    cal = calibrator or Calibrator()
    samples = list(iter_split(split_dir, frame_size))
    pitch = cal.pitch
    scores: list[FrameScore] = []
    rows: list[dict[str, Any]] = []
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
            {
                "image": s.image.name,
                "status": c.status.value,
                "source": res.source,
                "confidence": round(c.confidence, 4),
                "verification": round(res.verification, 4),
                "inliers": res.inliers,
                "labels": int(vis.sum()),
                "iou_whole": sc.iou_whole,
                "iou_part": sc.iou_part,
                "proj_error_m": sc.proj_error_m,
                "reproj_error_px": sc.reproj_error_px,
            }
        )
        if progress:
            progress("evaluate", k + 1, len(samples))
    out: dict[str, Any] = dict(summarise(scores, seconds))
    out |= {
        "data": str(split_dir),
        "frame_size": list(frame_size),
        "sources": {
            s: sum(r["source"] == s for r in rows) for s in sorted({r["source"] for r in rows})
        },
        "per_frame": rows,
    }
    if per_frame_csv is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        write_text_atomic(per_frame_csv, buf.getvalue())
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in out.items()}
