"""End-to-end tracking on synthetic clips, where identities and pitch positions are exact.

Usage::

    python benchmarks/track_synth.py [--out benchmarks/results] [--seeds 11 12 13]
                                     [--seconds 12] [--size 960x540]

Each seed renders a clip with :mod:`touchline.synth` (the game model, real broadcast camera
poses from ``../shared/data`` when present) and runs the job of ``touchline track`` on it
(calibration from the pixels by the shipped model, tracking in pitch metres, appearance
re-identification, teams, gap filling) twice:

* ``simulated``: detections are the true boxes degraded by the documented, seeded
  :class:`~touchline.eval.tracking.NoiseModel` (10 % misses, 30 % of them in 3-10-frame
  bursts, 5 % box jitter, about one false positive per frame, noisy scores). Its levels are
  those the shipped detector shows on the labelled DFL test frames (7.4 % misses, 1.7 false
  positives per frame, centre error 5.7 % of the width and 3.0 % of the height; measured by
  ``runs``-free code in this script, see ``detector_noise``). This isolates everything after
  detection from the domain gap between our renderer and real footage.
* ``detector``: the whole pipeline, as ``touchline track`` runs it: the shipped detector on
  the rendered pixels. The detector was trained on the real DFL frames and on synthetic
  frames from other seeds (1000-1059, see ``src/touchline/models/README.md``); these clips'
  seeds (11-13) are never rendered for training.
* ``exact``: the true boxes, exactly (no misses, no jitter): what calibration, tracking and
  teams lose on their own.
* ``oracle``: no tracker at all: the simulated detections of ``simulated`` with their true
  identities (false positives dropped) and the true camera. What any tracker fed these
  detections could reach without filling misses or smoothing: the ceiling the detection noise
  puts on the box HOTA.

Scores (:func:`touchline.eval.tracking_e2e.evaluate_tracks`): HOTA, DetA, AssA, IDF1, MOTA on
players, goalkeepers and referees; pitch-position error in metres of every tracked box matched
to a true one (IoU >= 0.5); team accuracy; ball found. Writes ``track_synth.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from _common import header, model_header
from touchline.data import shared_file
from touchline.detect import Detector
from touchline.eval.detection import read_samples
from touchline.eval.tracking import NoiseModel
from touchline.eval.tracking_e2e import SimulatedDetector, evaluate_tracks
from touchline.geometry.boxes import box_iou
from touchline.jobs.pipeline import FootballTracker
from touchline.jobs.track import track_video
from touchline.synth import GroundTruth, SynthConfig, synthesize
from touchline.tracks import TracksBuilder, read_tracks
from touchline.types import Detections
from touchline.utils.files import write_json_atomic

MODES = ("detector", "simulated", "exact")
KEYS = ("hota", "deta", "assa", "idf1", "mota", "idsw", "pitch_hota", "pitch_deta",
        "pitch_assa", "pitch_idf1", "pitch_error_median_m",
        "pitch_error_p90_m", "team_accuracy", "referee_no_team", "ball_found")  # fmt: skip


def detector_noise() -> dict[str, float]:
    """The shipped detector's errors on the labelled DFL test frames (people, IoU >= 0.3)."""
    det = Detector()
    dcx, dcy, dw, dh, n_gt, n_miss, n_fp = [], [], [], [], 0, 0, 0
    samples = read_samples(shared_file("detection/dfl/test"))
    for s in samples:
        img = cv2.resize(cv2.imread(str(s.image)), (1920, 1080))
        d = det.detect(img)
        sx, sy = 1920 / s.image_size[0], 1080 / s.image_size[1]
        assert s.detections.class_id is not None and d.class_id is not None
        g = s.detections.xyxy[s.detections.class_id != 3] * [sx, sy, sx, sy]
        p = d.xyxy[d.class_id != 3]
        iou = box_iou(g, p)
        r, c = linear_sum_assignment(-iou)
        ok = iou[r, c] >= 0.3
        r, c = r[ok], c[ok]
        n_gt += len(g)
        n_miss += len(g) - len(r)
        n_fp += len(p) - len(c)
        gw, gh = g[r, 2] - g[r, 0], g[r, 3] - g[r, 1]
        dcx += list((p[c, 0] + p[c, 2] - g[r, 0] - g[r, 2]) / 2 / gw)
        dcy += list((p[c, 1] + p[c, 3] - g[r, 1] - g[r, 3]) / 2 / gh)
        dw += list(np.log((p[c, 2] - p[c, 0]) / gw))
        dh += list(np.log((p[c, 3] - p[c, 1]) / gh))
    return {
        "frames": len(samples),
        "miss_rate": round(n_miss / n_gt, 4),
        "fp_per_frame": round(n_fp / len(samples), 3),
        "centre_sigma_x": round(float(np.std(dcx)), 4),
        "centre_sigma_y": round(float(np.std(dcy)), 4),
        "log_width_sigma": round(float(np.std(dw)), 4),
        "log_height_sigma": round(float(np.std(dh)), 4),
    }


def run_clip(clip_dir: Path, mode: str, seed: int) -> dict[str, Any]:
    gt = GroundTruth.read(clip_dir)
    noise = NoiseModel.none() if mode == "exact" else NoiseModel()
    detector = None if mode == "detector" else SimulatedDetector(gt, noise=noise, seed=seed)
    out = clip_dir / f"track_{mode}"
    summary = track_video(
        clip_dir / "clip.mp4",
        out,
        tracker=FootballTracker(detector=detector, fps=gt.fps),
        annotate=False,
        radar=False,
        csv=False,
    )
    scores = evaluate_tracks(read_tracks(out / "tracks.parquet"), gt).to_json()
    return {k: scores[k] for k in KEYS} | {"fps": summary.fps, "frames": summary.frames}


def run_oracle(clip_dir: Path, seed: int) -> dict[str, Any]:
    gt = GroundTruth.read(clip_dir)
    det = SimulatedDetector(gt, seed=seed)
    builder = TracksBuilder()
    for k in range(len(gt)):
        d = det.detect(None)
        truth = det.truth
        keep = truth >= 0
        d = Detections(d.xyxy[keep], d.confidence[keep], d.class_id[keep], truth[keep])
        builder.add(k, k / gt.fps, d, gt.calibration(k))
    scores = evaluate_tracks(builder.build(fps=gt.fps), gt).to_json()
    # No teams and no ball in these rows: those scores do not apply.
    return {k: scores[k] for k in KEYS if k not in ("team_accuracy", "ball_found")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--size", default="960x540")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="track_synth_"))
    clips: dict[str, Any] = {}
    for seed in a.seeds:
        d = work / f"seed{seed}"
        synthesize(SynthConfig(seconds=a.seconds, size=(w, h), seed=seed), d)
        clips[str(seed)] = {m: run_clip(d, m, seed) for m in MODES}
        clips[str(seed)]["oracle"] = run_oracle(d, seed)
        print(json.dumps({seed: clips[str(seed)]}))

    def pool(how: Any) -> dict[str, dict[str, float]]:
        return {
            m: {
                k: round(how([c[m][k] for c in clips.values()]), 4)
                for k in KEYS
                if all(c[m].get(k) is not None for c in clips.values())
            }
            for m in (*MODES, "oracle")
        }

    result = header("track_synth") | {
        "clips": {"seeds": a.seeds, "seconds": a.seconds, "size": [w, h]},
        "noise_model": NoiseModel().to_dict(),
        "detector_noise": detector_noise(),
        "models": {"detect": model_header("detect"), "calib": model_header("calib")},
        "mean": pool(statistics.fmean),
        "median": pool(statistics.median),
        "min": pool(min),
        "per_clip": clips,
    }
    write_json_atomic(a.out / "track_synth.json", result)
    print(json.dumps(result["mean"], indent=1))


if __name__ == "__main__":
    main()
