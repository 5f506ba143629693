"""Detector speed: 720p frames end to end, and tiled 3072x1728 frames.

Usage::

    python benchmarks/detect_speed.py [--frames 150] [--out benchmarks/results/detect_speed.json]

Frames: the real DFL clip ``../shared/data/video/dfl_08fd33_4.mp4`` resized to 1280x720, decoded
and resized before timing (decode excluded). ``end_to_end_fps`` times ``Detector.detect`` per
frame: resize to the 960-pixel network input, padding, colour conversion, ONNX inference,
decoding of the heatmaps into boxes and NMS (pre- and post-processing included).
``model_only_fps`` is the ONNX call alone, ``batch4_fps`` runs four frames per call.
``tiled_fps`` runs the 3072x1728 SoccerTrack clip ``video/soccertrack_left_camera.mp4`` with
``tile=1536`` (six overlapping tiles per frame). Everything on this machine's CPU cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _common import dfl_frames_720p, header
from touchline.data import shared_file
from touchline.detect import Detector
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "detect_speed.json"


def _fps(fn, n: int, runs: int) -> tuple[float, list[float]]:
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - t0))
    return round(statistics.median(rates), 1), rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    frames = dfl_frames_720p(a.frames)
    det = Detector()
    for f in frames[:5]:  # warm-up
        det.detect(f)
    e2e, e2e_runs = _fps(lambda: [det.detect(f) for f in frames], len(frames), a.runs)
    blob = det._prepare(frames[0]).blob[None]
    model, model_runs = _fps(
        lambda: [det.session.run(None, {"image": blob}) for _ in frames], len(frames), a.runs
    )
    batches = [frames[i : i + 4] for i in range(0, len(frames), 4)]
    b4, b4_runs = _fps(lambda: [det.detect_batch(b) for b in batches], len(frames), a.runs)
    boxes = statistics.mean(len(det.detect(f)) for f in frames)
    out = header("detect_speed") | {
        "input": "dfl_08fd33_4.mp4 resized to 1280x720",
        "frames": len(frames),
        "runs": a.runs,
        "network_input": [det.input_width, 544],
        "boxes_per_frame": round(boxes, 1),
        "end_to_end_fps": e2e,
        "model_only_fps": model,
        "batch4_fps": b4,
        "all_runs": {"end_to_end": e2e_runs, "model": model_runs, "batch4": b4_runs},
    }
    wide = shared_file("video/soccertrack_left_camera.mp4")
    if wide is not None:
        big = [f.image for f in VideoReader(wide, stop=20)]
        tiled = Detector(tile=1536)
        tiled.detect(big[0])
        fps, _ = _fps(lambda: [tiled.detect(f) for f in big], len(big), a.runs)
        out["tiled"] = {
            "input": f"soccertrack_left_camera.mp4 {big[0].shape[1]}x{big[0].shape[0]}",
            "tile": 1536,
            "tiles_per_frame": len(tiled._pieces(big[0])),
            "fps": fps,
            "boxes_per_frame": round(statistics.mean(len(tiled.detect(f)) for f in big), 1),
        }
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "all_runs")}, indent=1))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
