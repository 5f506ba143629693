"""Decode the centre-heatmap outputs of the shipped detector into boxes.

The network predicts, at stride ``s`` of its input, one heatmap per class (already reduced to
its local 3x3 maxima inside the ONNX graph) and, per cell, the sub-cell offset of an object's
centre and its width and height in input pixels. Decoding is a threshold and a gather: no NMS
is needed for centre heatmaps, but :func:`touchline.detect.postprocess.batched_nms` may still
be applied (e.g. when merging tiles).

Example:
    >>> import numpy as np
    >>> peaks = np.zeros((2, 4, 6), np.float32); peaks[1, 2, 3] = 0.9
    >>> box = np.zeros((4, 4, 6), np.float32); box[:, 2, 3] = [0.5, 0.25, 8.0, 16.0]
    >>> xyxy, score, cls = decode_centernet(peaks, box, stride=4, threshold=0.3)
    >>> xyxy.tolist(), score.tolist(), cls.tolist()
    ([[10.0, 1.0, 18.0, 17.0]], [0.8999999761581421], [1])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["decode_centernet"]


def decode_centernet(
    peaks: NDArray[np.float32],
    box: NDArray[np.float32],
    stride: int,
    threshold: float,
    max_dets: int = 300,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """Boxes ``(n, 4)`` xyxy in input pixels, scores ``(n,)`` and class ids ``(n,)``.

    Args:
        peaks: ``(classes, h, w)`` heatmap maxima (zero elsewhere) of one image.
        box: ``(4, h, w)``: centre offset x, y (cells) and width, height (input pixels).
        stride: input pixels per cell.
        threshold: minimum score kept.
        max_dets: keep at most this many (the highest scores).
    """
    c, y, x = np.nonzero(peaks >= threshold)
    score = peaks[c, y, x]
    if len(score) > max_dets:
        keep = np.argpartition(-score, max_dets - 1)[:max_dets]
        c, y, x, score = c[keep], y[keep], x[keep], score[keep]
    order = np.argsort(-score, kind="stable")
    c, y, x, score = c[order], y[order], x[order], score[order]
    b = box[:, y, x]
    cx = (x + b[0]) * stride
    cy = (y + b[1]) * stride
    hw, hh = b[2] / 2, b[3] / 2
    xyxy = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1).astype(np.float32)
    return xyxy.reshape(-1, 4), score.astype(np.float32), c.astype(np.int64)
