"""Detection metrics (AP, matching, precision/recall) and the dataset evaluation runner."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.datasets.detection import (
    DetectionSample,
    write_coco,
    write_yolo_labels,
    write_yolo_names,
)
from touchline.errors import DataError
from touchline.eval.detection import (
    default_class_map,
    evaluate_detection,
    fold_classes,
    read_samples,
)
from touchline.eval.detection_metrics import (
    IOU_THRESHOLDS,
    CrowdBreakdown,
    DetectionEvaluator,
    RegionBreakdown,
    SizeBreakdown,
    average_precision,
    box_iou,
    match_detections,
    match_ignoring,
)
from touchline.types import Detections


# ---------------------------------------------------------------------------- metrics by hand
def test_box_iou_by_hand():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]])
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30]])
    iou = box_iou(a, b)
    assert iou.shape == (2, 3)
    np.testing.assert_allclose(iou[0], [50 / 150, 1.0, 0.0])
    np.testing.assert_allclose(iou[1], [0.0, 0.0, 0.0])  # degenerate box: no NaN


def test_match_takes_best_unmatched_truth_in_score_order():
    gt = np.array([[0, 0, 10, 10], [8, 0, 18, 10]])
    pred = np.array([[1, 0, 11, 10], [0, 0, 10, 10], [30, 30, 40, 40]])
    tp = match_detections(pred, np.array([0.5, 0.9, 0.8]), gt, np.array([0.5]))
    # the 0.9 box takes gt 0 (IoU 1); the 0.5 box overlaps gt 1 only by 3/17 -> false positive
    assert tp.tolist() == [[False, True, False]]


def test_average_precision_by_hand():
    # ranks: TP, FP, TP with 2 truths -> precision envelope 1 up to recall .5, 2/3 to recall 1
    ap = average_precision(np.array([True, False, True]), np.array([0.9, 0.8, 0.7]), 2)
    assert ap == pytest.approx((51 * 1.0 + 50 * 2 / 3) / 101)
    assert average_precision(np.array([True, True]), np.array([0.9, 0.1]), 2) == 1.0
    assert average_precision(np.array([], bool), np.array([]), 3) == 0.0
    assert np.isnan(average_precision(np.array([False]), np.array([0.5]), 0))


def test_evaluator_precision_recall_at_threshold():
    ev = DetectionEvaluator(("a", "b"), threshold=0.5)
    truth = Detections(xyxy=[[0, 0, 10, 10], [20, 0, 30, 10], [0, 20, 4, 24]], class_id=[0, 0, 1])
    pred = Detections(
        xyxy=[[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60], [0, 20, 4, 24]],
        confidence=[0.9, 0.3, 0.8, 0.6],
        class_id=[0, 0, 0, 1],
    )
    ev.add(pred, truth)
    s = ev.summary()
    assert s["precision"]["a"] == 0.5  # 0.9 TP and 0.8 FP above 0.5
    assert s["recall"]["a"] == 0.5  # the 0.3 TP is below the operating threshold
    assert s["precision"]["b"] == 1.0 and s["recall"]["b"] == 1.0
    assert s["ap50"]["b"] == 1.0
    assert s["n_truth"] == {"a": 2, "b": 1}


def test_evaluator_rejects_bad_ids_and_missing_scores():
    ev = DetectionEvaluator(("a",))
    with pytest.raises(DataError, match="class id 3"):
        ev.add(Detections(xyxy=[[0, 0, 1, 1]], confidence=[1], class_id=[3]), Detections.empty())
    with pytest.raises(DataError, match="confidence"):
        ev.add(Detections(xyxy=[[0, 0, 1, 1]], class_id=[0]), Detections.empty())


def test_class_without_truth_reports_null():
    ev = DetectionEvaluator(("a", "b"))
    ev.add(
        Detections(xyxy=[[0, 0, 1, 1]], confidence=[1], class_id=[0]),
        Detections(xyxy=[[0, 0, 1, 1]], class_id=[0]),
    )
    s = ev.summary()
    assert s["ap50"]["b"] is None and s["recall"]["b"] is None
    json.dumps(s)  # JSON-ready


# ----------------------------------------------------------------- cross-check with pycocotools
def _random_dataset(seed: int, n_images: int = 30, n_classes: int = 2):
    rng = np.random.default_rng(seed)
    gts, preds = [], []
    for _ in range(n_images):
        n = int(rng.integers(0, 12))
        xy = rng.uniform(0, 500, (n, 2))
        wh = rng.uniform(4, 80, (n, 2))
        gt = np.hstack([xy, xy + wh])
        gcls = rng.integers(0, n_classes, n)
        keep = rng.random(n) > 0.15  # misses
        jitter = rng.normal(0, 0.08, (n, 4)) * np.hstack([wh, wh])
        p = (gt + jitter)[keep]
        pcls = gcls[keep].copy()
        flip = rng.random(len(pcls)) < 0.1
        pcls[flip] = rng.integers(0, n_classes, flip.sum())
        nfp = int(rng.integers(0, 5))
        fxy = rng.uniform(0, 500, (nfp, 2))
        fp = np.hstack([fxy, fxy + rng.uniform(4, 80, (nfp, 2))])
        boxes = np.vstack([p, fp])
        boxes = np.hstack(
            [np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])]
        )
        cls = np.concatenate([pcls, rng.integers(0, n_classes, nfp)])
        score = rng.uniform(0.01, 1.0, len(cls))
        gts.append(Detections(xyxy=gt, class_id=gcls))
        preds.append(Detections(xyxy=boxes, confidence=score, class_id=cls))
    return gts, preds


def _cocoeval(gts, preds, names, size=600, area_edges=None):
    """pycocotools' evaluation of the same images (optionally with area ranges
    ``all, small, medium, large`` cut at ``area_edges``)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, dets = [], [], []
    for i, (g, p) in enumerate(zip(gts, preds, strict=True)):
        images.append({"id": i + 1, "width": size, "height": size})
        for b, c in zip(g.xyxy.astype(float), g.class_id, strict=True):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append(
                {"id": len(anns) + 1, "image_id": i + 1, "category_id": int(c) + 1,
                 "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0}
            )  # fmt: skip
        for b, c, s in zip(p.xyxy.astype(float), p.class_id, p.confidence, strict=True):
            dets.append(
                {"image_id": i + 1, "category_id": int(c) + 1,
                 "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": float(s)}
            )  # fmt: skip
    coco = COCO()
    cats = [{"id": k + 1, "name": n} for k, n in enumerate(names)]
    coco.dataset = {"images": images, "annotations": anns, "categories": cats}
    coco.createIndex()
    e = COCOeval(coco, coco.loadRes(dets), "bbox")
    if area_edges is not None:
        a, b = area_edges
        e.params.areaRng = [[0, 1e10], [0, a], [a, b], [b, 1e10]]
        e.params.areaRngLbl = ["all", "small", "medium", "large"]
    e.params.maxDets = [1, 10, 100]
    e.evaluate()
    e.accumulate()
    return e


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ap_matches_pycocotools(reference, seed):
    reference("pycocotools")
    gts, preds = _random_dataset(seed)
    ev = DetectionEvaluator(("c0", "c1"))
    for g, p in zip(gts, preds, strict=True):
        ev.add(p, g)
    e = _cocoeval(gts, preds, ("c0", "c1"))
    prec = e.eval["precision"][:, :, :, 0, 2]  # (T, R, K) for area "all", maxDets 100
    ours = ev.summary()
    for k, name in enumerate(("c0", "c1")):
        ap_t = [prec[t, :, k][prec[t, :, k] > -1].mean() for t in range(len(IOU_THRESHOLDS))]
        assert ours["ap50"][name] == pytest.approx(ap_t[0], abs=1e-4)
        assert ours["ap50_95"][name] == pytest.approx(np.mean(ap_t), abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_size_buckets_match_pycocotools_area_ranges(reference, seed):
    """Ball classes bucket by sqrt(area) / H: COCO's area ranges on the same edges."""
    reference("pycocotools")
    H = 600
    edges = (20 / H, 45 / H)
    gts, preds = _random_dataset(seed)
    ev = DetectionEvaluator(("ball", "football"), breakdowns=[SizeBreakdown(ball_edges=edges)])
    for g, p in zip(gts, preds, strict=True):
        ev.add(p, g, image_size=(H, H))
    e = _cocoeval(gts, preds, ("ball", "football"), H, ((edges[0] * H) ** 2, (edges[1] * H) ** 2))
    ours = ev.breakdown()
    checked = 0
    for k, name in enumerate(("ball", "football")):
        for r, label in enumerate(("small", "medium", "large"), start=1):
            prec = e.eval["precision"][0, :, k, r, 2]  # IoU 0.5, maxDets 100
            bucket = ours[name]["size"][label]
            if bucket.n_truth == 0:
                continue
            assert bucket.ap50 == pytest.approx(prec[prec > -1].mean(), abs=1e-4)
            checked += 1
    assert checked >= 4


# ------------------------------------------------------------- breakdowns: where it fails
def test_match_ignoring_prefers_kept_truth():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 11.0]])
    tp, ig = match_ignoring(np.array([[0, 0, 10, 10.0]]), np.array([0.9]), gt, [True, False])
    assert tp.tolist() == [True] and ig.tolist() == [False]  # the kept box, though IoU lower


def test_breakdown_by_hand():
    """A far player missed, a near one found, a clustered pair half found, a ball at a
    player's feet missed: the buckets say so."""
    ev = DetectionEvaluator(
        ("player", "ball"), breakdowns=[SizeBreakdown(), RegionBreakdown(), CrowdBreakdown()]
    )
    truth = Detections(
        xyxy=[
            [100, 50, 110, 75],  # far, small (25 px of 1000)
            [100, 800, 140, 900],  # near, large
            [500, 400, 530, 460],  # middle, medium, crowded with the next
            [515, 400, 545, 460],
            [520, 455, 526, 461],  # ball at the feet of both
        ],
        class_id=[0, 0, 0, 0, 1],
    )
    pred = Detections(
        xyxy=[[100, 800, 140, 900], [500, 400, 530, 460], [300, 30, 310, 55]],
        confidence=[0.9, 0.8, 0.7],
        class_id=[0, 0, 0],
    )
    ev.add(pred, truth, image_size=(1000, 1000))
    b = ev.breakdown()
    assert b["player"]["region"]["far"].recall == 0.0  # the far one missed, a false positive
    assert b["player"]["region"]["far"].ap50 == 0.0
    assert b["player"]["region"]["near"].recall == 1.0 and b["player"]["region"]["near"].ap50 == 1.0
    assert b["player"]["size"]["small"].n_truth == 1 and b["player"]["size"]["large"].recall == 1.0
    assert b["player"]["crowd"]["crowded"].recall == 0.5
    assert b["player"]["crowd"]["isolated"].recall == 0.5
    assert b["player"]["crowd"]["crowded"].ap50 is None  # recall only
    assert b["ball"]["crowd"]["crowded"].n_truth == 1 and b["ball"]["crowd"]["crowded"].recall == 0
    with pytest.raises(DataError, match="image_size"):
        ev.add(pred, truth)


# --------------------------------------------------------------------------- class folding
def test_default_class_map_and_fold():
    assert default_class_map(
        ["Football", "player", "Goalie", "crowd"], ["player", "goalkeeper", "ball"]
    ) == {
        "Football": ["ball"],
        "player": ["player"],
        "Goalie": ["goalkeeper"],
    }
    d = Detections(xyxy=np.zeros((4, 4)), confidence=[1, 1, 1, 1], class_id=[0, 1, 2, 3])
    f = fold_classes(
        d, {"Person": ["player", "goalkeeper", "referee"], "Ball": ["ball"]}, ["Ball", "Person"]
    )
    assert f.class_id.tolist() == [1, 1, 1, 0]


# ------------------------------------------------------------------------------- the runner
class _Oracle:
    """A 'detector' that returns known boxes for each image (looked up by image content)."""

    class_names = ("player", "goalkeeper", "referee", "ball")

    def __init__(self, boxes: dict[int, Detections]):
        self.boxes = boxes
        self.threshold = 0.3
        self.seen_thresholds: list[float] = []
        self.sizes: list[tuple[int, int]] = []

    def detect(self, image):
        self.seen_thresholds.append(self.threshold)
        self.sizes.append((image.shape[1], image.shape[0]))
        key = int(image[0, 0, 0])
        return self.boxes.get(key, Detections.empty(self.class_names))


def _make_yolo(tmp_path: Path) -> tuple[Path, dict[int, Detections]]:
    split = tmp_path / "ds" / "test"
    write_yolo_names(tmp_path / "ds" / "data.yaml", ["football", "player"])
    answers = {}
    for i in range(3):
        img = np.full((64, 128, 3), 10 * (i + 1), np.uint8)
        (split / "images").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(split / "images" / f"f{i}.png"), img)
        truth = Detections(
            xyxy=[[10, 10, 20, 40], [50, 20, 54, 24]],
            class_id=[1, 0],
            class_names=("football", "player"),
        )
        write_yolo_labels(split / "labels" / f"f{i}.txt", truth, (128, 64))
        answers[10 * (i + 1)] = Detections(
            xyxy=[[10, 10, 20, 40], [50, 20, 54, 24]], confidence=[0.9, 0.6], class_id=[0, 3]
        )
    return split, answers


def test_evaluate_yolo_split_perfect_detector(tmp_path):
    split, answers = _make_yolo(tmp_path)
    det = _Oracle(answers)
    res = evaluate_detection(split, det)
    assert res.images == 3
    assert res.ap50 == {"football": 1.0, "player": 1.0}
    assert res.ap50_95 == {"football": 1.0, "player": 1.0}
    assert res.precision["player"] == 1.0 and res.recall["football"] == 1.0
    assert res.class_map == {"football": ["ball"], "player": ["player"]}
    assert res.fps > 0
    assert det.threshold == 0.3 and set(det.seen_thresholds) == {0.01}  # restored
    for cls in ("player", "football"):
        for buckets in res.breakdown[cls].values():
            assert sum(b.n_truth for b in buckets.values()) == 3
            assert {b.recall for b in buckets.values() if b.n_truth} == {1.0}
    assert json.loads(json.dumps(res.to_json()))["breakdown"]["player"]["crowd"]["isolated"] == {
        "ap50": None,
        "recall": 1.0,
        "n_truth": 3,
    }


def test_evaluate_with_class_map_and_frame_size(tmp_path):
    split, answers = _make_yolo(tmp_path)
    # boxes scaled by 2 in x: the images are resized to 256x64 first
    scaled = {
        k: Detections(xyxy=v.xyxy * [2, 1, 2, 1], confidence=v.confidence, class_id=v.class_id)
        for k, v in answers.items()
    }
    det = _Oracle(scaled)
    res = evaluate_detection(
        split, det, class_map={"player": ["player", "goalkeeper"]}, frame_size=(256, 64)
    )
    assert set(det.sizes) == {(256, 64)}
    assert res.ap50["player"] == 1.0
    assert res.ap50["football"] == 0.0  # unmapped: no predictions
    assert res.unmapped_classes == ["football"]


def test_evaluate_coco_json(tmp_path):
    split, answers = _make_yolo(tmp_path)
    samples = read_samples(split)
    out = tmp_path / "coco" / "ann.json"
    (tmp_path / "coco").mkdir()
    for s in samples:
        (tmp_path / "coco" / s.image.name).write_bytes(s.image.read_bytes())
    write_coco(
        out,
        [
            DetectionSample(tmp_path / "coco" / s.image.name, s.image_size, s.detections)
            for s in samples
        ],
    )
    res = evaluate_detection(out, _Oracle(answers))
    assert res.images == 3 and res.ap50["player"] == 1.0


def test_evaluate_bad_inputs(tmp_path):
    split, answers = _make_yolo(tmp_path)
    with pytest.raises(DataError, match="no such dataset"):
        evaluate_detection(tmp_path / "missing", _Oracle(answers))
    with pytest.raises(DataError, match="not a YOLO split"):
        evaluate_detection(tmp_path / "ds", _Oracle(answers))
    with pytest.raises(DataError, match="not a dataset class"):
        evaluate_detection(split, _Oracle(answers), class_map={"Nope": ["player"]})
    with pytest.raises(DataError, match="not a detector class"):
        evaluate_detection(split, _Oracle(answers), class_map={"player": ["umpire"]})
    with pytest.raises(DataError, match="mapped twice"):
        evaluate_detection(
            split, _Oracle(answers), class_map={"player": ["player"], "football": ["player"]}
        )


def test_evaluate_voc_folder(tmp_path):
    from touchline.datasets.detection import write_voc

    split, answers = _make_yolo(tmp_path)
    voc = tmp_path / "voc"
    for s in read_samples(split):
        img = voc / s.image.name
        voc.mkdir(exist_ok=True)
        img.write_bytes(s.image.read_bytes())
        write_voc(voc / (s.image.stem + ".xml"), DetectionSample(img, s.image_size, s.detections))
    res = evaluate_detection(voc, _Oracle(answers))
    assert res.images == 3 and res.ap50 == {"football": 1.0, "player": 1.0}
