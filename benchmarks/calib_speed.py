"""Calibration speed on 720p frames, today's code and model beside the baseline commit's.

Usage::

    python benchmarks/calib_speed.py [--frames 150] [--runs 3] [--no-baseline]

Frames: the real DFL clip ``../shared/data/video/dfl_08fd33_4.mp4`` resized to 1280x720 (decoded
and resized before timing). Reported for each: ``single_frame_fps`` (``Calibrator.calibrate``
per frame: resize to the network input, ONNX inference, features, camera fits, verification),
``model_only_fps`` (the ONNX call alone) and ``video_fps`` (the streaming ``calibrate_frames``
path, which adds camera-motion tracking, cut detection and temporal fusion). ``before`` runs the
code and shipped model of commit ``BASELINE_COMMIT`` in a subprocess on the same frames in the
same run (medians of ``--runs``). The machine's two cores are shared by everything it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import BASELINE_COMMIT, dfl_frames_720p, header, model_header, run_baseline
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "calib_speed.json"

# The measurement, run by today's code here and by the baseline's in a subprocess.
_MEASURE = """
import json, statistics, sys, time
import numpy as np
sys.path.insert(0, "benchmarks")
from _common import dfl_frames_720p
from touchline.calib.calibrator import Calibrator

def measure(n, runs):
    frames = dfl_frames_720p(n)
    cal = Calibrator()
    for f in frames[:5]:
        cal.calibrate(f)
    x = np.stack([cal.model.preprocess(f) for f in frames[:1]])
    single, model, video = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        for f in frames:
            cal.calibrate(f)
        single.append(len(frames) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in frames:
            cal.model.session.run(None, {"image": x})
        model.append(len(frames) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        k = sum(1 for _ in cal.calibrate_frames(frames))
        video.append(k / (time.perf_counter() - t0))
    return {
        "model_input": list(cal.model.input_size),
        "single_frame_fps": round(statistics.median(single), 1),
        "model_only_fps": round(statistics.median(model), 1),
        "video_fps": round(statistics.median(video), 1),
        "all_runs": {"single": single, "model": model, "video": video},
    }
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--no-baseline", action="store_true")
    a = ap.parse_args()
    scope: dict = {}
    exec(_MEASURE, scope)  # the same measurement code as the baseline's subprocess
    dfl_frames_720p(1)  # fail early without the data
    out = header("calib_speed") | {
        "input": "dfl_08fd33_4.mp4 resized to 1280x720",
        "frames": a.frames,
        "runs": a.runs,
        "model": model_header("calib"),
    }
    out["after"] = scope["measure"](a.frames, a.runs)
    print("after", json.dumps({k: v for k, v in out["after"].items() if k != "all_runs"}))
    if not a.no_baseline:
        code = _MEASURE + f"\nprint(json.dumps(measure({a.frames}, {a.runs})))\n"
        out["before"] = run_baseline(code) | {"commit": BASELINE_COMMIT}
        print("before", json.dumps({k: v for k, v in out["before"].items() if k != "all_runs"}))
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine",)}, indent=1)[:2000])
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
