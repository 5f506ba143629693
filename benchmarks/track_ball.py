"""Ball tracking on real footage: candidate counts, tracker decisions, speed, and PNG stills.

Usage::

    python benchmarks/track_ball.py [--out benchmarks/results] [--frames 250]

Reads the real DFL clip ``../shared/data/video/dfl_08fd33_4.mp4`` (848x478, 169 frames) and runs
the shipped detector on every frame with the ball threshold lowered to ``--ball-threshold``
(default 0.15, against the model's own 0.5) so that the tracker sees false positives to reject.
Camera motion comes from :class:`touchline.calib.motion.CameraMotion` and the calibration from
the shipped calibrator (``calibrate_video``: temporal fusion and smoothing). The same
candidates then go through :class:`touchline.track.ball.BallTracker` in three modes:

* ``calibrated``: calibration per frame (speed limit from the calibration scale) + the measured
  camera motion;
* ``uncalibrated_motion``: no calibration (speed limit relative to the image width) + motion;
* ``uncalibrated``: neither (the camera is assumed still);

and once more in ``calibrated`` mode with only the candidates above the model's own threshold.
The JSON (``track_ball.json``) gives per mode the tracker counters, the frames with a tracked
ball and the mean / p95 time of one ``update``. Three stills (``track_ball/*.png``, the frame
upscaled 2x with a 4x inset around the ball) show the frames where the tracker most overruled
the detector's ranking (a rejected candidate scoring most above the tracked ball): the tracked
ball circled in green, the other candidates marked (red cross = rejected jump, orange = gated /
out-scored), each with its score.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import header, model_header, shared_root
from touchline.calib.calibrator import Calibrator
from touchline.calib.motion import CameraMotion
from touchline.detect import Detector
from touchline.track.ball import BallConfig, BallTracker
from touchline.types import Calibration, Detections
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader, write_image

CLIP = "video/dfl_08fd33_4.mp4"
MODES = ("calibrated", "uncalibrated_motion", "uncalibrated")

_COLOURS = {
    "jump": (0, 0, 255),
    "gated": (0, 140, 255),
    "outscored": (0, 200, 255),
    "pending": (170, 170, 170),
    "low_score": (120, 120, 120),
}


def run_tracker(
    candidates: list[Detections],
    calibrations: list[Calibration] | None,
    motions: list[np.ndarray | None] | None,
    image_size: tuple[int, int],
) -> tuple[BallTracker, list[Detections], list[np.ndarray], list[float]]:
    tracker = BallTracker(BallConfig(image_size=image_size))
    outputs, statuses, times = [], [], []
    for k, dets in enumerate(candidates):
        cal = None if calibrations is None else calibrations[k]
        motion = None if motions is None else motions[k]
        t0 = time.perf_counter()
        out = tracker.update(dets, cal, motion)
        times.append((time.perf_counter() - t0) * 1000)
        outputs.append(out)
        statuses.append(tracker.last_status)
    return tracker, outputs, statuses, times


def summary(
    tracker: BallTracker,
    candidates: list[Detections],
    outputs: list[Detections],
    statuses: list[np.ndarray],
    times: list[float],
) -> dict[str, Any]:
    s = tracker.stats
    top = 0  # frames whose tracked ball is the best-scoring ball candidate
    for dets, status in zip(candidates, statuses, strict=True):
        chosen = np.flatnonzero(status == "chosen")
        if len(chosen) and dets.confidence is not None and dets.class_id is not None:
            balls = dets.confidence[dets.class_id == 3]
            top += int(dets.confidence[chosen[0]] >= balls.max())
    tracked = sum(len(o) > 0 for o in outputs)
    return {
        "frames_tracked": tracked,
        "tracked_share": round(tracked / max(len(outputs), 1), 3),
        "tracked_is_top_candidate": top,
        "acquisitions": s.acquisitions,
        "reacquisitions": s.reacquisitions,
        "switches": s.switches,
        "jumps_rejected": s.jumps_rejected,
        "gated": int(sum((st == "gated").sum() for st in statuses)),
        "out_of_view": s.out_of_view,
        "lost": s.lost,
        "resets": s.resets,
        "ms_per_update_mean": round(statistics.mean(times), 4),
        "ms_per_update_p95": round(float(np.percentile(times, 95)), 4),
    }


def _label(image: np.ndarray, text: str, at: tuple[int, int], colour: tuple[int, ...]) -> None:
    """``text`` on a dark box at ``at`` (top-left), clipped to the image."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5
    (w, h), base = cv2.getTextSize(text, font, scale, 1)
    x = int(np.clip(at[0], 0, image.shape[1] - w - 4))
    y = int(np.clip(at[1], h + 4, image.shape[0] - base - 2))
    cv2.rectangle(image, (x - 2, y - h - 3), (x + w + 2, y + base + 1), (30, 30, 30), -1)
    cv2.putText(image, text, (x, y), font, scale, colour, 1, cv2.LINE_AA)


def draw(image: np.ndarray, dets: Detections, status: np.ndarray, out: Detections) -> np.ndarray:
    """The frame at 2x with the candidates marked, and a 4x inset around the ball."""
    s = 2
    big = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    scores = dets.confidence if dets.confidence is not None else np.ones(len(dets))
    centres = dets.centers * s
    for i, st in enumerate(status):
        if st in ("other", "chosen"):
            continue
        c = (int(centres[i][0]), int(centres[i][1]))
        colour = _COLOURS.get(str(st), (255, 255, 255))
        cv2.drawMarker(big, c, colour, cv2.MARKER_TILTED_CROSS, 22, 2, cv2.LINE_AA)
        _label(big, f"{st} {scores[i]:.2f}", (c[0] + 12, c[1] - 10), colour)
    if len(out):
        focus = out.centers[0]
        ci = (int(focus[0] * s), int(focus[1] * s))
        cv2.circle(big, ci, 18, (0, 255, 0), 2, cv2.LINE_AA)
        conf, tc = float(out.confidence[0]), float(out.data["track_confidence"][0])
        _label(big, f"ball {conf:.2f} (track {tc:.2f})", (ci[0] + 20, ci[1] + 28), (0, 255, 0))
        # 4x inset of the source frame around the ball, top-left corner.
        r = 40
        h, w = image.shape[:2]
        x0 = int(np.clip(focus[0] - r, 0, w - 2 * r))
        y0 = int(np.clip(focus[1] - r, 0, h - 2 * r))
        crop = cv2.resize(
            image[y0 : y0 + 2 * r, x0 : x0 + 2 * r], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC
        )
        cc = (int((focus[0] - x0) * 4), int((focus[1] - y0) * 4))
        cv2.circle(crop, cc, 26, (0, 255, 0), 2, cv2.LINE_AA)
        cv2.rectangle(crop, (0, 0), (crop.shape[1] - 1, crop.shape[0] - 1), (255, 255, 255), 2)
        big[: crop.shape[0], : crop.shape[1]] = crop
    return big


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--frames", type=int, default=250, help="at most this many frames")
    ap.add_argument("--ball-threshold", type=float, default=0.15)
    a = ap.parse_args()
    clip = shared_root() / CLIP
    frames = list(VideoReader(clip, stop=a.frames))
    h, w = frames[0].image.shape[:2]
    size = (w, h)
    print(f"{len(frames)} frames {w}x{h}")

    base = Detector()
    model_ball = float(base.meta["class_thresholds"]["ball"])
    det = Detector(threshold={**base.meta["class_thresholds"], "ball": a.ball_threshold})
    t0 = time.perf_counter()
    detections = [det.detect(f.image) for f in frames]
    detect_s = time.perf_counter() - t0
    motion_est = CameraMotion()
    motions = [motion_est.update(f.image).G for f in frames]
    t0 = time.perf_counter()
    calibrations = Calibrator().calibrate_video(frames)
    calib_s = time.perf_counter() - t0

    n_ball = [
        int((d.class_id == 3).sum()) if d.class_id is not None else len(d) for d in detections
    ]
    n_strong = [
        int(((d.class_id == 3) & (d.confidence >= model_ball)).sum())
        if d.class_id is not None and d.confidence is not None
        else 0
        for d in detections
    ]
    result: dict[str, Any] = header("track_ball") | {
        "model": model_header("detect"),
        "clip": CLIP,
        "frames": len(frames),
        "image_size": list(size),
        "ball_threshold": a.ball_threshold,
        "model_ball_threshold": model_ball,
        "detect_ms_per_frame": round(detect_s * 1000 / len(frames), 1),
        "calibrate_video_s": round(calib_s, 1),
        "calibrated_frames": sum(c.is_valid for c in calibrations),
        "cuts": sum(c.cut for c in calibrations),
        "motion_frames": sum(m is not None for m in motions),
        "candidates": {
            "frames_with_1plus": sum(n >= 1 for n in n_ball),
            "frames_with_2plus": sum(n >= 2 for n in n_ball),
            "mean_per_frame": round(statistics.mean(n_ball), 2),
            "frames_with_1plus_at_model_threshold": sum(n >= 1 for n in n_strong),
            "frames_with_2plus_at_model_threshold": sum(n >= 2 for n in n_strong),
        },
        "modes": {},
    }
    runs = {
        "calibrated": (detections, calibrations, motions),
        "uncalibrated_motion": (detections, None, motions),
        "uncalibrated": (detections, None, None),
        "calibrated_model_threshold": (
            [
                d[(d.confidence >= model_ball)] if d.confidence is not None else d
                for d in detections
            ],
            calibrations,
            motions,
        ),
    }
    kept: dict[str, tuple[list[Detections], list[np.ndarray]]] = {}
    for name, (cands, cals, mots) in runs.items():
        tracker, outputs, statuses, times = run_tracker(cands, cals, mots, size)
        result["modes"][name] = summary(tracker, cands, outputs, statuses, times)
        kept[name] = (outputs, statuses)
        print(name, json.dumps(result["modes"][name]))

    # Agreement between the modes: same measured box in the same frame.
    ref = kept["calibrated"][0]
    for name in ("uncalibrated_motion", "uncalibrated"):
        other = kept[name][0]
        same = sum(
            len(x) == len(y) and (len(x) == 0 or np.allclose(x.xyxy, y.xyxy))
            for x, y in zip(ref, other, strict=True)
        )
        result["modes"][name]["frames_agreeing_with_calibrated"] = same

    # Stills: the frames where the tracker most overruled the detector's ranking (a rejected
    # candidate scoring most above the tracked ball), at least 20 frames apart.
    outputs, statuses = kept["calibrated"]
    margin: dict[int, float] = {}
    for k, (dets, status) in enumerate(zip(detections, statuses, strict=True)):
        chosen = np.flatnonzero(status == "chosen")
        rejected = np.isin(status, ["jump", "gated", "outscored"])
        if len(chosen) and rejected.any() and dets.confidence is not None:
            margin[k] = float(dets.confidence[rejected].max() - dets.confidence[chosen[0]])
    picks: list[int] = []
    for k in sorted(margin, key=lambda k: -margin[k]):
        if len(picks) < 3 and all(abs(k - j) >= 20 for j in picks):
            picks.append(k)
    stills_dir = a.out / "track_ball"
    stills = []
    for k in sorted(picks):
        image = draw(frames[k].image, detections[k], statuses[k], outputs[k])
        path = write_image(stills_dir / f"dfl_08fd33_4_{frames[k].index:05d}.png", image)
        stills.append(
            {
                "file": f"track_ball/{path.name}",
                "frame": frames[k].index,
                "status": [str(s) for s in statuses[k] if s != "other"],
            }
        )
    result["stills"] = stills
    write_json_atomic(a.out / "track_ball.json", result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "modes")}, indent=1))


if __name__ == "__main__":
    main()
