"""Label-free detection checks on real broadcasts without boxes: people per wide shot, ball found.

Usage::

    python benchmarks/detect_consistency.py [--out benchmarks/results] [--frames 250] [--model M.onnx]

``--model`` puts another detector (an ONNX file with its ``.json``) in place of the shipped one,
to compare a training candidate with the baseline the same way.

No boxes exist for these sequences, so this measures what must hold on any broadcast: in a
wide shot (calibrated, at least ``WIDE_SHARE`` of the pitch in view) the 22 players, 3 referees
and the ball are mostly on screen, and the ball should be located in nearly every live frame.
Sequences (read in place from ``../shared/data``, 512x512 folders un-squashed to 910x512):
the DFL clip ``video/dfl_08fd33_4.mp4``, ``frames/leicester_liverpool_512`` (never used in any
training), ``frames/india_thailand_512`` and ``frames/chelsea_arsenal_512`` (used only as
unlabelled calibration pseudo-labels, never for the detector).

Each sequence runs through :class:`touchline.jobs.pipeline.FootballTracker` (the shipped
detector, calibration, person and ball trackers) frame by frame. Per sequence:

* ``wide_frames``: frames calibrated with at least ``WIDE_SHARE`` of the pitch area in view (the
  share of a 1 m grid of the 105 x 68 m pitch that projects inside the image);
* ``people_per_wide_frame``: detections of people (player, goalkeeper, referee at the model's
  thresholds) per wide frame: mean, 10th/50th/90th percentile, against 25 on the pitch; and
  ``people_per_visible_pitch``: the same per 1000 m2 of pitch in view (25 people spread over
  7140 m2 would be 3.5; players crowd near the ball, which the camera follows, so expect more);
* ``ball``: share of wide frames where the detector reports a ball at its own threshold, and
  where the ball tracker gives a position, measured or predicted (``detected`` / ``predicted``
  / ``unknown``, the states it reports per frame).

Each sequence is run twice in the same process: with the shipped detector (``shipped``) and
with the one shipped at ``DETECT_BASELINE_COMMIT`` (``before``, see ``_common.py``).

Stills: wide frames where the shipped detector's pipeline has no ball position, up to four per
sequence (``detect_consistency/<sequence>_<frame>.png``), to open and check.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import DETECT_BASELINE_COMMIT, baseline_model, header, model_header
from touchline.data import shared_file
from touchline.detect import Detector
from touchline.jobs.pipeline import FootballTracker
from touchline.models import sha256
from touchline.pitch import Pitch
from touchline.types import Calibration
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader, write_image

SEQUENCES = {
    "dfl_08fd33_4": ("video/dfl_08fd33_4.mp4", None, 25.0),
    "leicester_liverpool": ("frames/leicester_liverpool_512", (910, 512), 25.0),
    "india_thailand": ("frames/india_thailand_512", (910, 512), 25.0),
    "chelsea_arsenal": ("frames/chelsea_arsenal_512", (910, 512), 25.0),
}
WIDE_SHARE = 0.15
PEOPLE = ("player", "goalkeeper", "referee")
_PITCH = Pitch()
_GRID = np.stack(
    np.meshgrid(np.arange(0.5, _PITCH.length, 1.0), np.arange(0.5, _PITCH.width, 1.0)), -1
).reshape(-1, 2)


def visible_share(cal: Calibration, size: tuple[int, int]) -> float:
    """Share of the pitch area whose image falls inside the frame (0 when uncalibrated)."""
    if not cal.is_valid:
        return 0.0
    xy = cal.pitch_to_image(_GRID)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < size[0]) & (xy[:, 1] >= 0) & (xy[:, 1] < size[1])
    return float(inside.mean())


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def run(
    name: str,
    src: Path,
    unsquash: tuple[int, int] | None,
    fps: float,
    a: Any,
    model: Path | None,
    stills: bool,
) -> dict:
    tracker = FootballTracker(fps=fps, detector=Detector(model, threads=1))
    rows = []
    misses = []
    for fr in VideoReader(src, stop=a.frames):
        img = fr.image
        if unsquash is not None:
            img = cv2.resize(img, unsquash, interpolation=cv2.INTER_CUBIC)
        ft = tracker.step(img, frame=fr.index)
        size = (img.shape[1], img.shape[0])
        share = visible_share(ft.calibration, size)
        dets = ft.measurement.detections
        names = dets.class_name if len(dets) else np.empty(0, str)
        people = int(np.isin(names, PEOPLE).sum())
        detected_ball = bool((names == "ball").any())
        tracks = ft.tracks
        tnames = tracks.class_name if len(tracks) else np.empty(0, str)
        ball_rows = np.flatnonzero(tnames == "ball")
        if len(ball_rows) == 0:
            state = "unknown"
        elif bool(tracks.data["predicted"][ball_rows[0]]):
            state = "predicted"
        else:
            state = "detected"
        rows.append((fr.index, share, people, detected_ball, state))
        miss = share >= WIDE_SHARE and state == "unknown"
        if stills and miss and len(misses) < 4 and fr.index % 5 == 0:
            misses.append(fr.index)
            write_image(a.out / "detect_consistency" / f"{name}_{fr.index:05d}.png", img)
    wide = [r for r in rows if r[1] >= WIDE_SHARE]
    people = [float(r[2]) for r in wide]
    density = [r[2] / (r[1] * _PITCH.length * _PITCH.width / 1000) for r in wide]
    n = max(len(wide), 1)
    states = [r[4] for r in wide]
    return {
        "frames": len(rows),
        "calibrated_frames": sum(r[1] > 0 for r in rows),
        "wide_frames": len(wide),
        "visible_pitch_share_median": pct([r[1] for r in wide], 50),
        "people_per_wide_frame": {
            "mean": round(float(np.mean(people)), 2) if people else None,
            "p10": pct(people, 10),
            "p50": pct(people, 50),
            "p90": pct(people, 90),
            "on_the_pitch": 25,
        },
        "people_per_visible_pitch": {"per_1000_m2_median": pct(density, 50), "uniform": 3.5},
        "ball": {
            "detected_share": round(sum(r[3] for r in wide) / n, 3),
            "tracked_share": round(sum(s != "unknown" for s in states) / n, 3),
            "states": {s: states.count(s) for s in ("detected", "predicted", "unknown")},
        },
        "stills_without_ball": [f"detect_consistency/{name}_{i:05d}.png" for i in misses],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--frames", type=int, default=None, help="at most this many per sequence")
    ap.add_argument("--model", type=Path, default=None, help="a candidate detector ONNX")
    a = ap.parse_args()
    out: dict[str, Any] = header("detect_consistency") | {
        "model": (
            model_header("detect")
            if a.model is None
            else {"file": str(a.model), "sha256": sha256(a.model)}
        ),
        "wide_share": WIDE_SHARE,
        "sequences": {},
    }
    out["before"] = {"commit": DETECT_BASELINE_COMMIT}
    before = baseline_model("detect", DETECT_BASELINE_COMMIT)
    for name, (rel, unsquash, fps) in SEQUENCES.items():
        src = shared_file(rel)
        if src is None:
            out["sequences"][name] = {"skipped": f"../shared/data/{rel} missing"}
            continue
        out["sequences"][name] = r = {
            "source": rel,
            "shipped": run(name, src, unsquash, fps, a, a.model, True),
            "before": run(name, src, unsquash, fps, a, before, False),
        }
        for k in ("shipped", "before"):
            print(name, k, json.dumps({x: r[k][x] for x in ("people_per_wide_frame", "ball")}))
    write_json_atomic(a.out / "detect_consistency.json", out)


if __name__ == "__main__":
    main()
