"""Detection metrics: box IoU, COCO-style matching and average precision.

AP follows the COCO protocol: per class, detections of all images are ranked by score; each is
matched greedily (highest score first) to the unmatched ground-truth box of the same image with
the highest IoU at or above the threshold; the precision envelope is sampled at 101 recall
points. ``ap50`` uses IoU 0.5, ``ap50_95`` averages IoU 0.50, 0.55, ..., 0.95. At most
``max_dets`` detections per image and class are kept (the highest scoring).

Example:
    >>> import numpy as np
    >>> from touchline.types import Detections
    >>> ev = DetectionEvaluator(("player", "ball"))
    >>> truth = Detections(xyxy=[[0, 0, 10, 20], [50, 50, 54, 54]], class_id=[0, 1])
    >>> pred = Detections(
    ...     xyxy=[[1, 0, 10, 20], [80, 80, 84, 84]], confidence=[0.9, 0.8], class_id=[0, 1]
    ... )
    >>> ev.add(pred, truth)
    >>> s = ev.summary()
    >>> s["ap50"]["player"], s["ap50"]["ball"], s["recall"]["ball"]
    (1.0, 0.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.geometry.boxes import box_iou
from touchline.types import Detections

__all__ = [
    "IOU_THRESHOLDS",
    "DetectionEvaluator",
    "average_precision",
    "box_iou",
    "match_detections",
]

#: COCO's ten IoU thresholds 0.50:0.05:0.95.
IOU_THRESHOLDS: NDArray[np.float64] = np.linspace(0.5, 0.95, 10)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def match_detections(
    pred_xyxy: NDArray,
    pred_score: NDArray,
    gt_xyxy: NDArray,
    thresholds: NDArray = IOU_THRESHOLDS,
) -> NDArray[np.bool_]:
    """True-positive flags ``(len(thresholds), n_pred)`` for one image and one class.

    Predictions are taken in descending score order (stable); each takes the unmatched
    ground-truth box with the highest IoU if that IoU is at least the threshold (COCO).

    >>> match_detections(np.array([[0, 0, 2, 2], [0, 0, 2, 2]]), np.array([0.5, 0.9]),
    ...                  np.array([[0, 0, 2, 2]]), np.array([0.5]))
    array([[False,  True]])
    """
    n, m = len(pred_xyxy), len(gt_xyxy)
    tp = np.zeros((len(thresholds), n), bool)
    if n == 0 or m == 0:
        return tp
    iou = box_iou(pred_xyxy, gt_xyxy)
    order = np.argsort(-np.asarray(pred_score), kind="stable")
    for t, thr in enumerate(thresholds):
        taken = np.zeros(m, bool)
        for i in order:
            cand = np.where(taken, -1.0, iou[i])
            j = int(np.argmax(cand))
            if cand[j] >= thr:
                taken[j] = True
                tp[t, i] = True
    return tp


def average_precision(tp: NDArray[np.bool_], score: NDArray, n_gt: int) -> float:
    """COCO 101-point interpolated AP of ranked detections (``nan`` when ``n_gt == 0``).

    >>> average_precision(np.array([True, False, True]), np.array([0.9, 0.8, 0.7]), 2)
    0.8349...
    """
    if n_gt == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    order = np.argsort(-np.asarray(score), kind="mergesort")
    hits = np.asarray(tp, bool)[order]
    ctp = np.cumsum(hits)
    cfp = np.cumsum(~hits)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, _RECALL_POINTS, side="left")
    sampled = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


@dataclass
class _ClassRecords:
    scores: list[NDArray] = field(default_factory=list)
    tp: list[NDArray] = field(default_factory=list)
    n_gt: int = 0
    # at the operating threshold:
    tp_at: int = 0
    n_pred_at: int = 0


class DetectionEvaluator:
    """Accumulate predictions and ground truth image by image; report AP, precision, recall.

    Args:
        class_names: the dataset's classes; ``class_id`` of both predictions and truth index
            into them (fold the detector's classes onto them first, see
            :func:`touchline.eval.detection.fold_classes`).
        threshold: the operating score threshold for ``precision`` and ``recall`` (matched at
            IoU 0.5), unless :meth:`add` is given the operating rows.
        max_dets: detections kept per image and class (highest scores), as COCO's 100.
    """

    def __init__(
        self, class_names: Sequence[str], threshold: float = 0.3, max_dets: int = 100
    ) -> None:
        self.class_names = tuple(class_names)
        self.threshold = float(threshold)
        self.max_dets = int(max_dets)
        self.images = 0
        self._records = [_ClassRecords() for _ in self.class_names]

    def add(
        self, pred: Detections, truth: Detections, operating: NDArray[np.bool_] | None = None
    ) -> None:
        """Add one image's predictions (with ``confidence`` and ``class_id``) and truth.

        ``operating`` marks the predictions the detector reports at its operating setting (for
        ``precision`` and ``recall``; default: score at least ``threshold``).
        """
        if len(pred) and (pred.confidence is None or pred.class_id is None):
            raise DataError("DetectionEvaluator.add: predictions need confidence and class_id")
        if len(truth) and truth.class_id is None:
            raise DataError("DetectionEvaluator.add: ground truth needs class_id")
        nc = len(self.class_names)
        pc = pred.class_id if len(pred) else np.empty(0, np.int64)
        tc = truth.class_id if len(truth) else np.empty(0, np.int64)
        assert pc is not None and tc is not None
        for ids, what in ((pc, "prediction"), (tc, "ground-truth")):
            bad = (ids < 0) | (ids >= nc)
            if bad.any():
                raise DataError(
                    f"DetectionEvaluator.add: {what} class id {int(ids[bad][0])} is not one of "
                    f"the {nc} dataset classes {list(self.class_names)}"
                )
        self.images += 1
        conf_all = pred.confidence if len(pred) else np.empty(0, np.float32)
        assert conf_all is not None
        op = conf_all >= self.threshold if operating is None else np.asarray(operating, bool)
        if op.shape != (len(pred),):
            raise DataError(f"DetectionEvaluator.add: operating mask of shape {op.shape}")
        for c, rec in enumerate(self._records):
            gt = truth.xyxy[tc == c]
            sel = pc == c
            boxes, scores, at = pred.xyxy[sel], conf_all[sel], op[sel]
            if len(scores) > self.max_dets:
                keep = np.argsort(-scores, kind="stable")[: self.max_dets]
                boxes, scores, at = boxes[keep], scores[keep], at[keep]
            tp = match_detections(boxes, scores, gt)
            rec.scores.append(np.asarray(scores, np.float64))
            rec.tp.append(tp)
            rec.n_gt += len(gt)
            rec.n_pred_at += int(at.sum())
            rec.tp_at += int(match_detections(boxes[at], scores[at], gt, np.array([0.5])).sum())

    def summary(self) -> dict[str, dict[str, float | None]]:
        """``ap50``, ``ap50_95``, ``precision``, ``recall`` and ``n_truth``, keyed by class.

        Classes without ground truth report ``None`` for AP and recall (JSON ``null``).
        """
        out: dict[str, dict[str, float | None]] = {
            k: {} for k in ("ap50", "ap50_95", "precision", "recall", "n_truth")
        }
        for name, rec in zip(self.class_names, self._records, strict=True):
            scores = np.concatenate(rec.scores) if rec.scores else np.empty(0)
            tp = np.concatenate(rec.tp, axis=1) if rec.tp else np.zeros((len(IOU_THRESHOLDS), 0))
            aps = [average_precision(tp[t], scores, rec.n_gt) for t in range(len(IOU_THRESHOLDS))]
            out["ap50"][name] = _num(aps[0])
            out["ap50_95"][name] = _num(float(np.mean(aps)))
            out["precision"][name] = round(rec.tp_at / rec.n_pred_at, 4) if rec.n_pred_at else None
            out["recall"][name] = round(rec.tp_at / rec.n_gt, 4) if rec.n_gt else None
            out["n_truth"][name] = rec.n_gt
        return out


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)
