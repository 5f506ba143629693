"""Calibration on broadcasts unlike the training frames: three World Cup 2022 matches.

Usage::

    python benchmarks/calib_wc2022.py [--loo-dir benchmarks/models] [--out benchmarks/results]

Frames: ``../shared/data/pitch_keypoints/wc2022/{japan_spain,canada_morocco,argentina_france}``
(three broadcasters and stadiums; labels in the DFL 32-point convention) and the DFL test split.
Each frame is calibrated on its own (``Calibrator.estimate``, as ``touchline eval calibration``
does) and scored with :mod:`touchline.eval.calibration_metrics` on a 105 x 68 m pitch: IoU
whole (failures count 0), completeness (share of frames calibrated), keypoint projection error
(m). Frames whose labels do not define a homography (fewer than 4 points, or three of four on
one line) count for completeness but have no IoU.

The ground truth of the IoU is the homography fitted to the labels (normalised DLT, as in the
issue). Labels clicked on a few nearby points leave its far side uncertain, so every summary
also gives the IoU against the 7-parameter camera fitted to the same labels
(``camera_gt_iou_whole_mean``), and ``ground_truth_agreement`` gives the IoU between the two
ground truths: the ceiling any prediction can reach on these labels.

``label_noise_ceiling`` measures that ceiling directly. The labels' click noise is estimated
per match from the residuals of their own homography fit (each frame with more than four points
gives ``sigma^2 = sum(e^2) / (2n - 8)``; the median over frames, in pixels of the 1920x1080
frame, so that a few grossly misplaced labels do not set it); then each frame's
labelled points are re-drawn from the camera fitted to its labels plus Gaussian noise of that
sigma (``NOISE_DRAWS`` times, seeded), the homography is re-fitted to them as the ground truth is,
and the *true* camera is scored against it. ``perfect_predictor_iou_whole_mean`` is what an
exact calibration would score against labels as noisy as these.

Rows:

* ``shipped``: the shipped model. ``argentina_france`` was never used for training or model
  selection (the cross-broadcaster test); ``japan_spain`` and ``canada_morocco`` are in its
  training data (reported, not a test).
* ``leave_one_out``: ``calib_loo_<match>.onnx`` in ``--loo-dir``, trained exactly like the
  shipped model but without that match, scored on it.
* ``before``: the code and shipped model of commit ``BASELINE_COMMIT`` (``_common.py``) on the
  same frames, scored by today's metrics.

It also writes ``calib_wc2022_reliability.png`` (and ``..._camera_gt.png``): on frames no model
saw in training (the test match with the shipped model, each left-out match with its model),
mean IoU and the share of bad frames (IoU < 0.8) per confidence bin.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import BASELINE_COMMIT, header, model_header, run_baseline, shared_root
from touchline.calib.calibrator import Calibrator
from touchline.calib.model import KeypointModel
from touchline.datasets.yolo_pose import fit_label_homography, iter_split
from touchline.eval.calibration_metrics import score_frame, summarise
from touchline.geometry.camera import camera_from_homography
from touchline.geometry.camera_fit import PointObs, fit_camera
from touchline.geometry.homography import apply_homography, dlt
from touchline.models import sha256
from touchline.pitch import Pitch
from touchline.utils.files import write_json_atomic

MATCHES = ("japan_spain", "canada_morocco", "argentina_france")
HERE = Path(__file__).resolve().parent
FRAME = (1920, 1080)
NOISE_DRAWS = 20

# Run in the baseline's process: per-frame homographies of its calibrator on a split.
_BASELINE = """
import json, sys, cv2
from touchline.calib.calibrator import Calibrator
from touchline.datasets.yolo_pose import iter_split
cal = Calibrator()
out = {}
for s in iter_split(sys.argv[1] if len(sys.argv) > 1 else SPLIT):
    c = cal.estimate(cv2.imread(str(s.image))).calibration
    h = c.rescaled((1920, 1080)).homography if c.is_valid else None
    out[s.image.name] = [None if h is None else h.tolist(), c.confidence, c.status.value]
print(json.dumps(out))
"""


def predict(split: Path, cal: Calibrator) -> dict[str, tuple[Any, float, str, str]]:
    out = {}
    for s in iter_split(split, FRAME):
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        res = cal.estimate(img)
        c = res.calibration
        H = c.rescaled(FRAME).homography if c.is_valid else None
        out[s.image.name] = (H, c.confidence, c.status.value, res.source)
    return out


def camera_ground_truth(label: Any, pitch: Pitch) -> np.ndarray | None:
    """The 7-parameter broadcast camera fitted to a frame's labels (robust loss), as an
    image -> pitch homography; ``None`` where the labels define no homography."""
    H = fit_label_homography(label, pitch)
    if H is None:
        return None
    cam = camera_from_homography(np.linalg.inv(H), FRAME)
    if cam is None:
        return H
    v = label.visible
    fit = fit_camera(cam, points=PointObs(label.pitch_points(pitch)[v], label.points[v]))
    return fit.camera.image_to_pitch


def score(split: Path, preds: dict[str, Any]) -> dict[str, Any]:
    """Per-frame scores against the labels' homography (the issue's ground truth), and the
    IoU against the camera fitted to the same labels (a second, physically constrained
    ground truth: the two disagree by the labels' own extrapolation noise)."""
    pitch = Pitch()
    scores, scores_cam, rows = [], [], []
    for s in iter_split(split, FRAME):
        H, conf, status, *rest = preds[s.image.name]
        H = None if H is None else np.asarray(H, float)
        vis = s.label.visible
        args = (s.label.points[vis], s.label.pitch_points(pitch)[vis], FRAME)
        sc = score_frame(H, fit_label_homography(s.label, pitch), *args)
        scores.append(sc)
        scores_cam.append(score_frame(H, camera_ground_truth(s.label, pitch), *args))
        rows.append(
            {
                "image": s.image.name,
                "status": status,
                "source": rest[0] if rest else None,
                "confidence": round(float(conf), 4),
                "labels": int(vis.sum()),
                "iou_whole": sc.iou_whole,
                "proj_error_m": sc.proj_error_m,
            }
        )
    summary = summarise(scores, 1.0)
    summary.pop("fps")
    cam = summarise(scores_cam, 1.0)
    summary["camera_gt_iou_whole_mean"] = cam["iou_whole_mean"]
    summary["camera_gt_iou_whole_median"] = cam["iou_whole_median"]
    for r, c in zip(rows, scores_cam, strict=True):
        r["iou_whole_camera_gt"] = c.iou_whole
    return {"summary": summary, "per_frame": rows}


def ground_truth_agreement(split: Path) -> dict[str, float]:
    """IoU whole between the two ground truths of each frame: the ceiling of the metric."""
    pitch = Pitch()
    ious = []
    for s in iter_split(split, FRAME):
        H = fit_label_homography(s.label, pitch)
        Hc = camera_ground_truth(s.label, pitch)
        if H is not None and Hc is not None:
            ious.append(score_frame(Hc, H, np.zeros((0, 2)), np.zeros((0, 2)), FRAME).iou_whole)
    a = np.array(ious)
    return {"mean": float(a.mean()), "median": float(np.median(a)), "frames": len(a)}


def label_noise_ceiling(split: Path, seed: int = 0) -> dict[str, float]:
    """The click noise of a split's labels and the IoU whole an exact calibration would score
    against labels that noisy (see the module docstring)."""
    pitch = Pitch()
    frames = []
    sigmas = []
    for s in iter_split(split, FRAME):
        H = fit_label_homography(s.label, pitch)
        if H is None:
            continue
        v = s.label.visible
        img, pit = s.label.points[v], s.label.pitch_points(pitch)[v]
        if len(pit) > 4:
            e2 = float(((apply_homography(np.linalg.inv(H), pit) - img) ** 2).sum())
            sigmas.append(np.sqrt(e2 / (2 * len(pit) - 8)))
        Hc = camera_ground_truth(s.label, pitch)
        if Hc is not None:
            frames.append((Hc, pit))
    sigma = float(np.median(sigmas))
    rng = np.random.default_rng(seed)
    none = np.zeros((0, 2))
    ious = []
    for Hc, pit in frames:
        exact = apply_homography(np.linalg.inv(Hc), pit)
        for _ in range(NOISE_DRAWS):
            noisy = dlt(exact + rng.normal(0.0, sigma, exact.shape), pit)
            ious.append(score_frame(Hc, noisy, none, none, FRAME).iou_whole)
    a = np.array(ious, float)
    return {
        "label_noise_px": round(sigma, 2),
        "perfect_predictor_iou_whole_mean": round(float(np.nanmean(a)), 3),
        "perfect_predictor_iou_whole_median": round(float(np.nanmedian(a)), 3),
        "frames": len(frames),
        "draws": NOISE_DRAWS,
    }


def brief(r: dict[str, Any]) -> dict[str, Any]:
    s = r["summary"]
    keys = (
        "iou_whole_mean",
        "iou_whole_median",
        "completeness",
        "proj_error_m_median",
        "camera_gt_iou_whole_mean",
    )
    return {k: round(float(s[k]), 3) for k in keys} | {
        "frames": s["frames"],
        "scored_frames": s["scored_frames"],
    }


def reliability(
    rows: list[dict[str, Any]], path: Path, key: str = "iou_whole"
) -> list[dict[str, Any]]:
    """Mean IoU (``key``: against either ground truth) and share of bad frames per confidence
    bin (calibrated, scored frames)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]
    table = []
    for lo, hi in itertools.pairwise(edges):
        sel = [
            r
            for r in rows
            if r[key] == r[key] and r["status"] != "failed" and lo <= r["confidence"] < hi
        ]
        iou = np.array([r[key] for r in sel])
        table.append(
            {
                "confidence": [lo, min(hi, 1.0)],
                "frames": len(sel),
                "iou_whole_mean": float(iou.mean()) if len(iou) else None,
                "share_iou_below_0.8": float((iou < 0.8).mean()) if len(iou) else None,
            }
        )
    fig, ax = plt.subplots(figsize=(6, 4))
    mids = [np.mean(t["confidence"]) for t in table if t["frames"]]
    ax.bar(
        mids,
        [t["iou_whole_mean"] for t in table if t["frames"]],
        width=0.08,
        label="mean IoU whole",
    )
    ax.plot(
        mids,
        [t["share_iou_below_0.8"] for t in table if t["frames"]],
        "o-",
        color="C3",
        label="share with IoU < 0.8",
    )
    for t, m in zip([t for t in table if t["frames"]], mids, strict=True):
        ax.annotate(str(t["frames"]), (m, 0.02), ha="center", fontsize=8)
    ax.set_xlabel("confidence")
    ax.set_ylim(0, 1.05)
    gt = "labels' homography" if key == "iou_whole" else "camera fitted to the labels"
    ax.set_title(f"Frames unseen in training; IoU against the {gt}", fontsize=10)
    ax.legend(loc="center left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loo-dir", type=Path, default=HERE / "models")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--no-baseline", action="store_true")
    a = ap.parse_args()
    root = shared_root()
    wc = root / "pitch_keypoints" / "wc2022"
    splits = {m: wc / m for m in MATCHES} | {"dfl_test": root / "pitch_keypoints/dfl/test"}
    out: dict[str, Any] = header("calib_wc2022") | {"model": model_header("calib")}
    out["ground_truth_agreement"] = {name: ground_truth_agreement(p) for name, p in splits.items()}
    print("ground truths agree", json.dumps(out["ground_truth_agreement"]), flush=True)
    out["label_noise_ceiling"] = {name: label_noise_ceiling(p) for name, p in splits.items()}
    print("label-noise ceiling", json.dumps(out["label_noise_ceiling"]), flush=True)
    cal = Calibrator()
    out["shipped"] = {name: score(p, predict(p, cal)) for name, p in splits.items()}
    for name in splits:
        print("shipped", name, json.dumps(brief(out["shipped"][name])), flush=True)
    out["leave_one_out"] = {}
    for m in ("japan_spain", "canada_morocco"):
        f = a.loo_dir / f"calib_loo_{m}.onnx"
        if not f.is_file():
            out["leave_one_out"][m] = {"missing": str(f)}
            continue
        loo = Calibrator(KeypointModel(f))
        r = score(splits[m], predict(splits[m], loo))
        out["leave_one_out"][m] = r | {"model": f.name, "sha256": sha256(f)}
        print("leave-one-out", m, json.dumps(brief(r)), flush=True)
    if not a.no_baseline:
        out["before"] = {"commit": BASELINE_COMMIT}
        for name, p in splits.items():
            preds = run_baseline(_BASELINE.replace("SPLIT", repr(str(p))))
            out["before"][name] = score(p, {k: tuple(v) for k, v in preds.items()})
            print("before", name, json.dumps(brief(out["before"][name])), flush=True)
    unseen = list(out["shipped"]["argentina_france"]["per_frame"])
    for m in ("japan_spain", "canada_morocco"):
        unseen += out["leave_one_out"][m].get("per_frame", [])
    a.out.mkdir(parents=True, exist_ok=True)
    out["reliability"] = reliability(unseen, a.out / "calib_wc2022_reliability.png")
    out["reliability_camera_gt"] = reliability(
        unseen, a.out / "calib_wc2022_reliability_camera_gt.png", "iou_whole_camera_gt"
    )
    out["summary"] = {
        row: {
            name: brief(r) for name, r in out[row].items() if isinstance(r, dict) and "summary" in r
        }
        for row in ("shipped", "leave_one_out", "before")
        if row in out
    }
    print(json.dumps(out["summary"], indent=1))
    write_json_atomic(a.out / "calib_wc2022.json", out)


if __name__ == "__main__":
    main()
