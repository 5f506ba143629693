"""Detection metrics: box IoU, COCO-style matching and average precision.

AP follows the COCO protocol: per class, detections of all images are ranked by score; each is
matched greedily (highest score first) to the unmatched ground-truth box of the same image with
the highest IoU at or above the threshold; the precision envelope is sampled at 101 recall
points. ``ap50`` uses IoU 0.5, ``ap50_95`` averages IoU 0.50, 0.55, ..., 0.95. At most
``max_dets`` detections per image and class are kept (the highest scoring).

Breakdowns say where a detector fails: a :class:`Breakdown` puts every box in a bucket (object
size relative to the frame height, image region, crowded or isolated), and the evaluator
reports AP50 and recall per class and bucket with COCO's area-range rule: ground truth outside
the bucket is ignored (a detection matched to it is ignored too), and so is an unmatched
detection outside the bucket. A breakdown that cannot place a detection (``crowded``: it is a
property of the ground truth) reports recall only.

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
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.geometry.boxes import box_iou
from touchline.types import Detections

__all__ = [
    "DEFAULT_BREAKDOWNS",
    "IOU_THRESHOLDS",
    "Breakdown",
    "BucketScore",
    "CrowdBreakdown",
    "DetectionEvaluator",
    "RegionBreakdown",
    "SizeBreakdown",
    "average_precision",
    "box_iou",
    "match_detections",
    "match_ignoring",
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
    kept = np.zeros(m, bool)
    for t, thr in enumerate(thresholds):
        tp[t] = _greedy(iou, order, kept, float(thr))[0]
    return tp


def _greedy(
    iou: NDArray, order: NDArray, gt_ignore: NDArray[np.bool_], threshold: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """COCO's greedy matching of ranked predictions (``order``) on an IoU matrix: each takes
    the unmatched kept truth box of highest IoU at least ``threshold``, else the unmatched
    ignored one; ``(true positive, matched an ignored box)`` per prediction."""
    n, m = iou.shape
    tp, ignored = np.zeros(n, bool), np.zeros(n, bool)
    taken = np.zeros(m, bool)
    passes = (False, True) if gt_ignore.any() else (False,)
    for i in order:
        for ig in passes:
            cand = np.where(taken | (gt_ignore != ig), -1.0, iou[i])
            j = int(np.argmax(cand))
            if cand[j] >= threshold:
                taken[j] = True
                tp[i], ignored[i] = not ig, ig
                break
    return tp, ignored


def match_ignoring(
    pred_xyxy: NDArray,
    pred_score: NDArray,
    gt_xyxy: NDArray,
    gt_ignore: NDArray[np.bool_],
    threshold: float = 0.5,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """COCO matching with ignored ground truth: ``(tp, matched_ignored)`` flags per prediction.

    In descending score order each prediction takes the unmatched kept truth box with the
    highest IoU at or above ``threshold``, else the unmatched ignored one (COCO's ``gtIg``);
    a prediction that took an ignored box is neither a true nor a false positive.

    >>> tp, ig = match_ignoring(np.array([[0, 0, 2, 2], [5, 5, 6, 6]]), np.array([0.9, 0.8]),
    ...                         np.array([[0, 0, 2, 2], [5, 5, 6, 6]]), np.array([False, True]))
    >>> tp.tolist(), ig.tolist()
    ([True, False], [False, True])
    """
    n = len(pred_xyxy)
    if n == 0 or len(gt_xyxy) == 0:
        return np.zeros(n, bool), np.zeros(n, bool)
    order = np.argsort(-np.asarray(pred_score), kind="stable")
    return _greedy(box_iou(pred_xyxy, gt_xyxy), order, np.asarray(gt_ignore, bool), threshold)


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


class Breakdown(Protocol):
    """Buckets of boxes: ``name``, the bucket ``labels`` and :meth:`assign`."""

    name: str
    labels: tuple[str, ...]
    #: whether :meth:`assign` can place predictions (else recall only, from the truth)
    places_predictions: bool

    def assign(
        self, xyxy: NDArray, class_name: str, image_size: tuple[int, int], truth: NDArray
    ) -> NDArray[np.int64]:
        """The bucket index of each box of ``xyxy`` (``truth``: all truth boxes of the image)."""
        ...


_BALL_NAMES = frozenset({"ball", "football", "sports ball"})


@dataclass(frozen=True)
class SizeBreakdown:
    """Object size relative to the frame height: ``sqrt(w * h) / H`` for the ball, box height
    ``/ H`` for people, cut at ``ball_edges`` or ``people_edges`` into small, medium, large.

    On a 1080p wide shot the defaults put a far ball (under about 6.5 px) and a far player
    (under about 43 px tall) in ``small``.

    >>> b = SizeBreakdown()
    >>> b.assign(np.array([[0, 0, 20, 30], [0, 0, 20, 60.0]]), "player", (1920, 1080),
    ...          np.zeros((0, 4))).tolist()
    [0, 1]
    """

    people_edges: tuple[float, float] = (0.04, 0.08)
    ball_edges: tuple[float, float] = (0.006, 0.012)
    name: str = "size"
    labels: tuple[str, ...] = ("small", "medium", "large")
    places_predictions: bool = True

    def assign(
        self, xyxy: NDArray, class_name: str, image_size: tuple[int, int], truth: NDArray
    ) -> NDArray[np.int64]:
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        w, h = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
        if class_name.lower() in _BALL_NAMES:
            size, edges = np.sqrt(np.maximum(w * h, 0.0)), self.ball_edges
        else:
            size, edges = h, self.people_edges
        return np.searchsorted(np.asarray(edges) * image_size[1], size, side="right")


@dataclass(frozen=True)
class RegionBreakdown:
    """Image region of the box centre: the top third (``far``: the far touchline of a wide
    shot), the middle and the bottom third (``near``).

    >>> RegionBreakdown().assign(np.array([[0, 0, 4, 4], [0, 90, 4, 98.0]]), "ball", (100, 100),
    ...                          np.zeros((0, 4))).tolist()
    [0, 2]
    """

    name: str = "region"
    labels: tuple[str, ...] = ("far", "middle", "near")
    places_predictions: bool = True

    def assign(
        self, xyxy: NDArray, class_name: str, image_size: tuple[int, int], truth: NDArray
    ) -> NDArray[np.int64]:
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        cy = (xyxy[:, 1] + xyxy[:, 3]) / 2 / image_size[1]
        return np.clip((cy * 3).astype(np.int64), 0, 2)


@dataclass(frozen=True)
class CrowdBreakdown:
    """Whether a truth box is in a cluster: a person box overlapping another person's box by
    IoU at least ``iou``; a ball covering a person's box by at least ``ball_cover`` of its own
    area (at a player's feet). ``truth`` holds the image's person boxes. Recall only.

    >>> t = np.array([[0, 0, 10, 20], [5, 0, 15, 20], [50, 0, 60, 20.0]])
    >>> CrowdBreakdown().assign(t, "player", (100, 100), t).tolist()
    [1, 1, 0]
    >>> CrowdBreakdown().assign(np.array([[8, 16, 11, 19.0]]), "ball", (100, 100), t).tolist()
    [1]
    """

    iou: float = 0.1
    ball_cover: float = 0.3
    name: str = "crowd"
    labels: tuple[str, ...] = ("isolated", "crowded")
    places_predictions: bool = False

    def assign(
        self, xyxy: NDArray, class_name: str, image_size: tuple[int, int], truth: NDArray
    ) -> NDArray[np.int64]:
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        truth = np.asarray(truth, np.float64).reshape(-1, 4)
        if len(xyxy) == 0 or len(truth) == 0:
            return np.zeros(len(xyxy), np.int64)
        if class_name.lower() in _BALL_NAMES:
            lo = np.maximum(xyxy[:, None, :2], truth[None, :, :2])
            hi = np.minimum(xyxy[:, None, 2:], truth[None, :, 2:])
            inter = np.clip(hi - lo, 0, None).prod(axis=2)
            area = np.maximum((xyxy[:, 2:] - xyxy[:, :2]).prod(axis=1), 1e-9)
            return (inter.max(axis=1) / area >= self.ball_cover).astype(np.int64)
        iou = box_iou(xyxy, truth)
        iou[iou > 1 - 1e-9] = 0.0  # the box itself
        return (iou.max(axis=1) >= self.iou).astype(np.int64)


#: What :func:`touchline.eval.detection.evaluate_detection` reports by default.
DEFAULT_BREAKDOWNS: tuple[Breakdown, ...] = (SizeBreakdown(), RegionBreakdown(), CrowdBreakdown())


@dataclass(frozen=True)
class BucketScore:
    """AP50 and recall (at the operating threshold, IoU 0.5) of one class in one bucket."""

    ap50: float | None
    recall: float | None
    n_truth: int


@dataclass
class _BucketRecords:
    scores: list[NDArray] = field(default_factory=list)
    tp: list[NDArray] = field(default_factory=list)
    n_gt: int = 0
    tp_at: int = 0


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
        breakdowns: report AP50 and recall per bucket of these (see :meth:`breakdown`);
            :meth:`add` then needs the image size.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        threshold: float = 0.3,
        max_dets: int = 100,
        breakdowns: Sequence[Breakdown] = (),
    ) -> None:
        self.class_names = tuple(class_names)
        self.threshold = float(threshold)
        self.max_dets = int(max_dets)
        self.breakdowns = tuple(breakdowns)
        self.images = 0
        self._records = [_ClassRecords() for _ in self.class_names]
        self._buckets = {
            (c, b.name, k): _BucketRecords()
            for c in self.class_names
            for b in self.breakdowns
            for k in range(len(b.labels))
        }

    def add(
        self,
        pred: Detections,
        truth: Detections,
        operating: NDArray[np.bool_] | None = None,
        image_size: tuple[int, int] | None = None,
    ) -> None:
        """Add one image's predictions (with ``confidence`` and ``class_id``) and truth.

        ``operating`` marks the predictions the detector reports at its operating setting (for
        ``precision`` and ``recall``; default: score at least ``threshold``). ``image_size``
        ``(width, height)`` is needed with breakdowns.
        """
        if self.breakdowns and image_size is None:
            raise DataError("DetectionEvaluator.add: breakdowns need the image_size")
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
        ball = np.isin(tc, [i for i, n in enumerate(self.class_names) if n.lower() in _BALL_NAMES])
        people = truth.xyxy[~ball]
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
            if self.breakdowns:
                assert image_size is not None
                self._add_buckets(self.class_names[c], boxes, scores, at, gt, people, image_size)

    def _add_buckets(
        self,
        name: str,
        boxes: NDArray,
        scores: NDArray,
        at: NDArray[np.bool_],
        gt: NDArray,
        people: NDArray,
        image_size: tuple[int, int],
    ) -> None:
        for b in self.breakdowns:
            gb = b.assign(gt, name, image_size, people)
            pb = b.assign(boxes, name, image_size, people) if b.places_predictions else None
            for k in range(len(b.labels)):
                rec = self._buckets[(name, b.name, k)]
                ignore = gb != k
                rec.n_gt += int((~ignore).sum())
                tp_at, _ = match_ignoring(boxes[at], scores[at], gt, ignore)
                rec.tp_at += int(tp_at.sum())
                if pb is None:
                    continue
                tp, matched_ignored = match_ignoring(boxes, scores, gt, ignore)
                keep = ~matched_ignored & (tp | (pb == k))
                rec.scores.append(np.asarray(scores[keep], np.float64))
                rec.tp.append(tp[keep])

    def breakdown(self) -> dict[str, dict[str, dict[str, BucketScore]]]:
        """``class -> breakdown -> bucket ->`` :class:`BucketScore` (AP50 ``None`` for a
        breakdown that cannot place predictions, or a bucket without truth)."""
        out: dict[str, dict[str, dict[str, BucketScore]]] = {}
        for c in self.class_names:
            out[c] = {}
            for b in self.breakdowns:
                out[c][b.name] = {}
                for k, label in enumerate(b.labels):
                    rec = self._buckets[(c, b.name, k)]
                    ap = None
                    if b.places_predictions:
                        scores = np.concatenate(rec.scores) if rec.scores else np.empty(0)
                        tp = np.concatenate(rec.tp) if rec.tp else np.zeros(0, bool)
                        ap = _num(average_precision(tp, scores, rec.n_gt))
                    recall = round(rec.tp_at / rec.n_gt, 4) if rec.n_gt else None
                    out[c][b.name][label] = BucketScore(ap, recall, rec.n_gt)
        return out

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
