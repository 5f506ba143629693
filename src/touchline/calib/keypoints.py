"""The pitch keypoints the shipped calibration model predicts, and heatmap decoding.

The model predicts one heatmap per keypoint (the 32 DFL keypoints plus the centre spot and the
two penalty-arc apexes), one map per painted line (:data:`MODEL_LINES`: every straight line, the
centre circle and the penalty arcs, each its own channel, so that lines can be fitted and
intersected), a map of any painted line and a pitch-area map, all at a quarter of the input
resolution. :func:`decode_heatmaps` turns heatmaps into sub-pixel points with scores.

>>> import numpy as np
>>> hm = np.zeros((2, 18, 32), np.float32)
>>> hm[0, 5, 7] = 0.9; hm[0, 5, 8] = 0.9          # a peak between two cells
>>> pts, score = decode_heatmaps(hm, stride=4)
>>> pts[0].round(2), float(score[0].round(2)), bool(np.isnan(pts[1]).all())
(array([32., 22.]), 0.9, True)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from touchline.pitch import DFL_KEYPOINTS

__all__ = ["MODEL_KEYPOINTS", "MODEL_LINES", "decode_heatmaps"]

#: Keypoint channels of the shipped model, in output order.
MODEL_KEYPOINTS: tuple[str, ...] = (
    *DFL_KEYPOINTS,
    "centre_spot",
    "left_penalty_arc_apex",
    "right_penalty_arc_apex",
)

#: Painted-line channels of the shipped model (names of :attr:`touchline.pitch.Pitch.elements`),
#: in output order after the keypoints: the 17 straight lines, the centre circle and the two
#: penalty arcs.
MODEL_LINES: tuple[str, ...] = (
    "top_touchline",
    "bottom_touchline",
    "left_goal_line",
    "right_goal_line",
    "halfway_line",
    "left_penalty_box_top",
    "left_penalty_box_front",
    "left_penalty_box_bottom",
    "left_goal_area_top",
    "left_goal_area_front",
    "left_goal_area_bottom",
    "right_penalty_box_top",
    "right_penalty_box_front",
    "right_penalty_box_bottom",
    "right_goal_area_top",
    "right_goal_area_front",
    "right_goal_area_bottom",
    "centre_circle",
    "left_penalty_arc",
    "right_penalty_arc",
)


def decode_heatmaps(
    heatmaps: NDArray[np.floating], stride: float, threshold: float = 0.1
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One point per heatmap channel: the peak, refined to sub-cell precision.

    Args:
        heatmaps: ``(k, h, w)`` probabilities in ``[0, 1]``.
        stride: input pixels per heatmap cell; cell ``(i, j)`` covers
            ``[j * stride, (j + 1) * stride)`` horizontally.
        threshold: peaks below it give ``nan`` points.

    Returns:
        ``points`` ``(k, 2)`` in input pixels (``nan`` where absent) and ``scores`` ``(k,)``
        (the peak value).
    """
    hm = np.asarray(heatmaps, dtype=np.float32)
    k, h, w = hm.shape
    flat = hm.reshape(k, -1)
    idx = flat.argmax(axis=1)
    score = flat[np.arange(k), idx].astype(np.float64)
    iy, ix = np.divmod(idx, w)
    # Sub-cell offset: a parabola through the log-values of the peak and its two neighbours
    # along each axis (exact for a Gaussian peak; the neighbours of an edge cell mirror it).
    kk = np.arange(k)
    xl = np.where(ix > 0, ix - 1, np.minimum(ix + 1, w - 1))
    xr = np.where(ix < w - 1, ix + 1, np.maximum(ix - 1, 0))
    yu = np.where(iy > 0, iy - 1, np.minimum(iy + 1, h - 1))
    yd = np.where(iy < h - 1, iy + 1, np.maximum(iy - 1, 0))

    def lg(y: NDArray[np.int64], x: NDArray[np.int64]) -> NDArray[np.float32]:
        return np.log(np.clip(hm[kk, y, x], 1e-6, None))

    c = lg(iy, ix)

    def offset(lo: NDArray[np.float32], hi: NDArray[np.float32]) -> NDArray[np.float64]:
        den = lo - 2 * c + hi
        with np.errstate(divide="ignore", invalid="ignore"):
            o = np.where(den < -1e-9, 0.5 * (lo - hi) / den, 0.0)
        return np.clip(o, -0.5, 0.5).astype(np.float64)

    ox = offset(lg(iy, xl), lg(iy, xr))
    oy = offset(lg(yu, ix), lg(yd, ix))
    pts = np.stack([(ix + 0.5 + ox) * stride, (iy + 0.5 + oy) * stride], axis=1)
    pts[score < threshold] = np.nan
    return pts, score
