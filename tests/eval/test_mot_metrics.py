"""Tests of touchline.eval.mot_metrics: hand-checked cases and cross-checks with motmetrics/TrackEval."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.eval.mot_metrics import (
    HOTA_ALPHAS,
    MotFrame,
    clear_mot,
    evaluate_mot,
    hota,
    idf1,
    mot_frames,
    read_mot,
)

BOX = np.array([[0.0, 0.0, 10.0, 10.0]])
FAR = np.array([[50.0, 50.0, 60.0, 60.0]])
NONE = np.zeros((0, 4))


def test_perfect_tracking_scores_one() -> None:
    boxes = np.array([[0.0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]])
    frames = [MotFrame(t, [3, -1, 10**9], boxes + t, [8, 9, 7], boxes + t) for t in range(5)]
    s = evaluate_mot(frames)
    for key in ("mota", "motp", "idf1", "idp", "idr", "hota", "deta", "assa", "loca"):
        assert s[key] == pytest.approx(1.0), key
    assert (s["idsw"], s["fp"], s["fn"], s["num_gt"], s["num_matches"]) == (0, 0, 0, 15, 15)
    json.dumps(s, allow_nan=False)


def test_one_id_switch() -> None:
    frames = [MotFrame(t, [1], BOX, [1 if t < 2 else 2], BOX) for t in range(4)]
    cm = clear_mot(frames)
    assert (cm["IDSW"], cm["FP"], cm["FN"]) == (1, 0, 0)
    assert cm["MOTA"] == pytest.approx(0.75)
    ident = idf1(frames)
    assert (ident["IDTP"], ident["IDFP"], ident["IDFN"]) == (2, 2, 2)
    assert ident["IDF1"] == pytest.approx(0.5)
    h = hota(frames)
    # Every alpha: TP=4, DetA=1; each gt/tracker pair has 2 matches, Jaccard 2/(4+2-2) = 0.5.
    assert h["DetA"] == pytest.approx(1.0)
    assert h["AssA"] == pytest.approx(0.5)
    assert h["HOTA"] == pytest.approx(math.sqrt(0.5))


def test_continuity_keeps_previous_match_over_better_iou() -> None:
    # gt 1 matched to tracker 5; next frame tracker 6 overlaps better but 5 is still >= 0.5.
    near = np.array([[0.0, 0.0, 10.0, 6.0]])  # IoU 0.6 with BOX
    f0 = MotFrame(0, [1], BOX, [5], BOX)
    f1 = MotFrame(1, [1], BOX, [5, 6], np.vstack([near, BOX]))
    cm = clear_mot([f0, f1])
    assert (cm["IDSW"], cm["FP"], cm["num_matches"]) == (0, 1, 2)
    assert cm["MOTP"] == pytest.approx(0.8)


def test_all_missed_and_only_predictions() -> None:
    missed = [MotFrame(t, [1, 2], np.vstack([BOX, FAR]), [], NONE) for t in range(3)]
    s = evaluate_mot(missed)
    assert (s["fn"], s["fp"], s["idsw"], s["mota"], s["motp"]) == (6, 0, 0, 0.0, None)
    assert (s["hota"], s["deta"], s["assa"], s["idf1"], s["idr"]) == (0.0, 0.0, 0.0, 0.0, 0.0)
    only_pred = [MotFrame(t, [], NONE, [4], BOX) for t in range(2)]
    s = evaluate_mot(only_pred)
    assert (s["fp"], s["fn"], s["mota"], s["idf1"], s["hota"]) == (2, 0, None, 0.0, 0.0)
    s = evaluate_mot([])
    assert (s["num_gt"], s["hota"], s["mota"], s["num_frames"]) == (0, 0.0, None, 0)
    json.dumps(s, allow_nan=False)


def test_mixed_empty_frames() -> None:
    frames = [
        MotFrame(0, [], NONE, [], NONE),
        MotFrame(1, [1], BOX, [], NONE),
        MotFrame(2, [], NONE, [2], FAR),
        MotFrame(3, [1], BOX, [2], BOX),
        MotFrame(4, [1], BOX, [2], FAR),
    ]
    s = evaluate_mot(frames)
    assert (s["fn"], s["fp"], s["idsw"], s["num_matches"]) == (2, 2, 0, 1)
    assert s["mota"] == pytest.approx(1 - 4 / 3)
    assert s["idtp"] == 1 and s["idf1"] == pytest.approx(2 / 6)


def test_hota_hand_computed_localisation() -> None:
    # IoU 0.5 matches count for alpha 0.05..0.50 (10 of 19 thresholds) only.
    half = np.array([[0.0, 0.0, 10.0, 5.0]])
    h = hota([MotFrame(t, [1], BOX, [1], half) for t in range(2)])
    assert h["HOTA"] == pytest.approx(10 / 19)
    assert h["DetA"] == pytest.approx(10 / 19)
    assert h["AssA"] == pytest.approx(10 / 19)
    assert h["LocA"] == pytest.approx((10 * 0.5 + 9 * 1.0) / 19)
    np.testing.assert_array_equal(h["HOTA_TP"], [2] * 10 + [0] * 9)
    np.testing.assert_allclose(h["alpha"], HOTA_ALPHAS)


def test_motframe_validation() -> None:
    with pytest.raises(DataError, match="shape"):
        MotFrame(0, [1, 2], BOX, [], NONE)
    with pytest.raises(DataError, match="duplicate"):
        MotFrame(0, [1, 1], np.vstack([BOX, FAR]), [], NONE)


def test_read_mot(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("2,7,1,2,3,4,1,1,1\n1, 7, 0, 0, 5, 5, 1, 1, 1\n1,8,0,0,1,1,0,1,1\n\n")
    table = read_mot(gt)
    assert sorted(table) == [1, 2]
    np.testing.assert_array_equal(table[1][0], [7])
    np.testing.assert_allclose(table[2][1], [[1, 2, 4, 6]])
    assert len(read_mot(gt, gt=False)[1][0]) == 2
    frames = mot_frames(table, {3: table[2]})
    assert [f.frame for f in frames] == [1, 2, 3]
    bad = tmp_path / "bad.txt"
    bad.write_text("1,1,0,0,1,1\n1,2,0,x,1,1\n")
    with pytest.raises(DataError, match=r"bad\.txt:2"):
        read_mot(bad)
    bad.write_text("1,1,0,0,1,1\n1,1,0,0,1,1\n")
    with pytest.raises(DataError, match=r"bad\.txt:2: id 1 appears twice"):
        read_mot(bad)
    bad.write_text("1,1,0,0\n")
    with pytest.raises(DataError, match=r"bad\.txt:1: expected at least 6"):
        read_mot(bad)
    with pytest.raises(DataError, match="missing"):
        read_mot(tmp_path / "missing.txt")


def _degraded_sequence(gt_path: Path, seed: int) -> list[MotFrame]:
    """100 real ground-truth frames and a degraded tracker output derived from them."""
    table = read_mot(gt_path)
    rng = np.random.default_rng(seed)
    frames = []
    swaps: dict[int, int] = {}
    for frame in sorted(table)[:100]:
        ids, xyxy = table[frame]
        wh = xyxy[:, 2:] - xyxy[:, :2]
        pr = xyxy + rng.normal(0.0, 0.08, xyxy.shape) * np.hstack([wh, wh])
        keep = rng.random(len(ids)) > 0.1
        if rng.random() < 0.05 and len(ids) >= 2:  # swap two ids from here on
            a, b = rng.choice(ids, 2, replace=False).tolist()
            swaps[a], swaps[b] = swaps.get(b, b), swaps.get(a, a)
        pr_ids = np.array([swaps.get(int(i), int(i)) * 13 + 1000 for i in ids], np.int64)
        n_fp = int(rng.integers(0, 3))
        fp_xy = rng.uniform(0, 1200, (n_fp, 2))
        fp = np.hstack([fp_xy, fp_xy + rng.uniform(20, 90, (n_fp, 2))])
        fp_ids = -1 - rng.choice(50, n_fp, replace=False)
        frames.append(
            MotFrame(
                frame,
                ids,
                xyxy,
                np.concatenate([pr_ids[keep], fp_ids]),
                np.vstack([pr[keep], fp]),
            )
        )
    return frames


def _first_sequence_gt(shared) -> Path:  # type: ignore[no-untyped-def]
    root = shared("mot/sportsmot_football_train")
    seq = sorted(p for p in root.iterdir() if (p / "gt" / "gt.txt").exists())[0]
    return seq / "gt" / "gt.txt"


def _xywh(xyxy: np.ndarray) -> np.ndarray:
    return np.hstack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])


@pytest.mark.shared_data
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_motmetrics(shared, reference, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    mm = reference("motmetrics")
    # motmetrics 1.4.0 calls np.asfarray, which numpy 2 removed.
    monkeypatch.setattr(np, "asfarray", lambda a: np.asarray(a, float), raising=False)
    frames = _degraded_sequence(_first_sequence_gt(shared), seed)
    acc = mm.MOTAccumulator(auto_id=False)
    for f in frames:
        dist = mm.distances.iou_matrix(_xywh(f.gt_xyxy), _xywh(f.pr_xyxy), max_iou=0.5)
        acc.update(f.gt_ids, f.pr_ids, dist, frameid=f.frame)
    names = ["mota", "motp", "idf1", "idp", "idr", "num_switches", "num_false_positives"]
    names += ["num_misses", "idtp", "idfp", "idfn", "num_matches"]
    ref = mm.metrics.create().compute(acc, metrics=names, name="x").loc["x"]
    cm, ident = clear_mot(frames), idf1(frames)
    assert cm["IDSW"] > 0 and cm["FP"] > 0 and cm["FN"] > 0
    assert cm["MOTA"] == pytest.approx(ref["mota"], abs=1e-6)
    assert cm["MOTP"] == pytest.approx(1.0 - ref["motp"], abs=1e-6)
    assert cm["IDSW"] == ref["num_switches"]
    assert cm["FP"] == ref["num_false_positives"]
    assert cm["FN"] == ref["num_misses"]
    assert cm["num_matches"] == ref["num_matches"] + ref["num_switches"]
    assert ident["IDF1"] == pytest.approx(ref["idf1"], abs=1e-6)
    assert ident["IDP"] == pytest.approx(ref["idp"], abs=1e-6)
    assert ident["IDR"] == pytest.approx(ref["idr"], abs=1e-6)
    assert (ident["IDTP"], ident["IDFP"], ident["IDFN"]) == (
        ref["idtp"],
        ref["idfp"],
        ref["idfn"],
    )


@pytest.mark.shared_data
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_trackeval_hota(shared, reference, trackeval_data, seed: int) -> None:  # type: ignore[no-untyped-def]
    trackeval = reference("trackeval")
    frames = _degraded_sequence(_first_sequence_gt(shared), seed)
    ref = trackeval.metrics.HOTA().eval_sequence(trackeval_data(frames))
    ours = hota(frames)
    for key in ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr"):
        np.testing.assert_allclose(ours[f"{key}_alpha"], ref[key], atol=1e-6, err_msg=key)
        assert ours[key] == pytest.approx(float(np.mean(ref[key])), abs=1e-6)
    np.testing.assert_array_equal(ours["HOTA_TP"], ref["HOTA_TP"])
    assert 0.3 < ours["HOTA"] < 1.0
