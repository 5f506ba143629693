"""Per-frame cost of the small stages the tracking pipeline runs beside the models.

Usage::

    python benchmarks/stage_speed.py [--frames 60] [--runs 3]
        [--out benchmarks/results/stage_speed.json]

Measured on the real DFL clip (``../shared/data/video/dfl_08fd33_4.mp4``):

* ``appearance_features``: the colour descriptor of 25 boxes of DFL player size (10x23 px) on
  the clip's 848x478 frames, per call;
* ``CameraMotion.update`` and ``CutDetector.update`` on the first ``--frames`` frames enlarged
  to 1280x720, per frame.

Each is the best of ``--runs`` repeats (one thread of Python; OpenCV as configured).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from _common import dfl_frames_720p, header, shared_root
from touchline.calib.motion import CameraMotion, CutDetector
from touchline.track.appearance import appearance_features
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader

DEFAULT_OUT = Path(__file__).parent / "results" / "stage_speed.json"


def best_ms(step: Callable[[], Any], calls: int, runs: int) -> float:
    """The best over ``runs`` of the mean time of one of ``calls`` calls, in ms."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(calls):
            step()
        times.append((time.perf_counter() - t) / calls)
    return round(1e3 * min(times), 3)


def per_frame_ms(make: Callable[[], Any], frames: list[np.ndarray], runs: int) -> float:
    times = []
    for _ in range(runs):
        obj = make()
        t = time.perf_counter()
        for img in frames:
            obj.update(img)
        times.append((time.perf_counter() - t) / len(frames))
    return round(1e3 * min(times), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    clip = shared_root() / "video" / "dfl_08fd33_4.mp4"
    frames = [f.image for f in VideoReader(clip, stop=a.frames)]
    rng = np.random.default_rng(1)
    h, w = frames[0].shape[:2]
    xy = rng.uniform([0, 100], [w - 28, h - 38], (25, 2))
    boxes = np.hstack([xy, xy + np.array([10.0, 23.0])]).astype(np.float32)
    k = iter(range(10**9))
    appearance = best_ms(
        lambda: appearance_features(frames[next(k) % len(frames)], boxes), 50, a.runs
    )
    big = dfl_frames_720p(a.frames)
    motion = per_frame_ms(CameraMotion, big, a.runs)
    cuts = per_frame_ms(CutDetector, big, a.runs)
    out = header("stage_speed") | {
        "source": str(clip.name),
        "appearance_features_ms": {"boxes": 25, "frame": [w, h], "ms_per_call": appearance},
        "camera_motion_720p_ms_per_frame": motion,
        "cut_detector_720p_ms_per_frame": cuts,
        "frames": len(big),
    }
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
