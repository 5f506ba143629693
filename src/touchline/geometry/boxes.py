"""Axis-aligned boxes ``(x1, y1, x2, y2)``: pairwise IoU and non-maximum suppression.

>>> import numpy as np
>>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
>>> nms(boxes, np.array([0.9, 0.8, 0.7]), iou_threshold=0.5).tolist()
[0, 2]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from touchline.errors import DataError

__all__ = ["batched_nms", "box_iou", "check_iou_threshold", "nms"]


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> NDArray[np.float64]:
    """Pairwise IoU of ``(n, 4)`` and ``(m, 4)`` ``xyxy`` boxes, shape ``(n, m)``; boxes with
    no area overlap nothing.

    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 3, 2], [5, 5, 6, 6]]))
    array([[0.33333333, 0.        ]])
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _boxes_scores(
    xyxy: npt.ArrayLike, scores: npt.ArrayLike, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 4)`` float64 boxes and ``(n,)`` float64 scores, or a :class:`DataError`."""
    boxes = np.asarray(xyxy, dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise DataError(f"{where}: xyxy must have shape (n, 4), got {boxes.shape}")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape[0] != boxes.shape[0]:
        raise DataError(f"{where}: {boxes.shape[0]} boxes but {s.shape[0]} scores")
    return boxes, s


def check_iou_threshold(iou_threshold: float, where: str) -> None:
    if not 0.0 <= iou_threshold <= 1.0:
        raise DataError(f"{where}: iou_threshold must be in [0, 1], got {iou_threshold}")


def nms(xyxy: npt.ArrayLike, scores: npt.ArrayLike, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression, class-agnostic.

    Repeatedly keeps the highest-scoring remaining box and drops every remaining box whose IoU
    with it is greater than ``iou_threshold`` (as ``torchvision.ops.nms``). Ties keep the
    earlier box.

    Args:
        xyxy: ``(n, 4)`` boxes ``(x1, y1, x2, y2)``.
        scores: ``(n,)`` scores.
        iou_threshold: boxes overlapping a kept box by more than this IoU are dropped.

    Returns:
        ``(k,)`` int64 indices of the kept boxes, in descending score order.

    >>> nms([[0, 0, 2, 2], [0, 0, 2, 1]], [0.5, 0.6], iou_threshold=0.4).tolist()
    [1]
    """
    boxes, s = _boxes_scores(xyxy, scores, "nms")
    check_iou_threshold(iou_threshold, "nms")
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[box_iou(boxes[i], boxes[rest])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    xyxy: npt.ArrayLike,
    scores: npt.ArrayLike,
    class_id: npt.ArrayLike,
    iou_threshold: float,
) -> np.ndarray:
    """Per-class :func:`nms`: boxes of different classes never suppress each other.

    Returns:
        ``(k,)`` int64 indices of the kept boxes, in descending score order.

    >>> boxes = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    >>> batched_nms(boxes, [0.9, 0.8, 0.7], [0, 0, 1], iou_threshold=0.5).tolist()
    [0, 2]
    """
    boxes, s = _boxes_scores(xyxy, scores, "batched_nms")
    cls = np.asarray(class_id).reshape(-1)
    if cls.shape[0] != boxes.shape[0]:
        raise DataError(f"batched_nms: {boxes.shape[0]} boxes but {cls.shape[0]} class ids")
    if boxes.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    # Move each class to its own disjoint region of the plane, then one class-agnostic pass.
    _, dense = np.unique(cls, return_inverse=True)
    span = float(boxes.max() - boxes.min()) + 1.0
    shifted = boxes - boxes.min() + (dense.reshape(-1) * span)[:, None]
    return nms(shifted, s, iou_threshold)
