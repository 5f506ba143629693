"""Calibration speed on 720p frames: network + keypoints + homography, per frame.

Usage::

    python benchmarks/calib_speed.py [--frames 150] [--out benchmarks/results/calib_speed.json]

Frames: the real DFL clip ``../shared/data/video/dfl_08fd33_4.mp4`` resized to 1280x720 (decoded
and resized before timing). Reported: ``single_frame_fps`` (``Calibrator.calibrate`` per frame:
resize to the network input, ONNX inference, decoding, RANSAC, refinement, plausibility and
verification), ``model_only_fps`` (the ONNX call alone), and ``video_fps`` (the streaming
``calibrate_frames`` path, which adds camera-motion tracking, cut detection and fusion).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from _common import dfl_frames_720p, header
from touchline.calib.calibrator import Calibrator
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "calib_speed.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    frames = dfl_frames_720p(a.frames)
    cal = Calibrator()
    for f in frames[:5]:  # warm-up
        cal.calibrate(f)
    single, model, video = [], [], []
    x = np.stack([cal.model.preprocess(f) for f in frames[:1]])
    for _ in range(a.runs):
        t0 = time.perf_counter()
        for f in frames:
            cal.calibrate(f)
        single.append(len(frames) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in frames:
            cal.model.session.run(None, {"image": x})
        model.append(len(frames) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        n = sum(1 for _ in cal.calibrate_frames(frames))
        video.append(n / (time.perf_counter() - t0))
    out = header("calib_speed") | {
        "input": "dfl_08fd33_4.mp4 resized to 1280x720",
        "frames": len(frames),
        "runs": a.runs,
        "model_input": list(cal.model.input_size),
        "single_frame_fps": round(statistics.median(single), 1),
        "model_only_fps": round(statistics.median(model), 1),
        "video_fps": round(statistics.median(video), 1),
        "all_runs": {"single": single, "model": model, "video": video},
    }
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
