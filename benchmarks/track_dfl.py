"""`touchline track` on the real DFL clip: overall speed, counts, and PNG stills.

Usage::

    python benchmarks/track_dfl.py [--out benchmarks/results] [--runs 1]

Runs exactly what ``touchline track ../shared/data/video/dfl_08fd33_4.mp4 --out DIR`` runs
(detection, calibration, tracking, teams, the tracks table, both videos) and times the whole
job: ``fps`` is frames over wall-clock seconds from the first decoded frame to the last written
file, videos included. Writes ``track_dfl.json`` (the job's summary per run, the best and
median fps) and PNG stills of ``annotated.mp4`` and ``radar.mp4`` at 10 %, 50 % and 90 % of the
clip into ``track_dfl/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _common import header, model_header
from touchline.data import shared_file
from touchline.jobs.pipeline import FootballTracker
from touchline.jobs.track import track_video
from touchline.utils.files import write_json_atomic
from touchline.video import probe, read_frame, write_image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    src = shared_file("video/dfl_08fd33_4.mp4")
    info = probe(src)
    runs, walls = [], []
    work = Path(tempfile.mkdtemp(prefix="track_dfl_"))
    try:
        for r in range(a.runs):
            out = work / f"run{r}"
            t0 = time.perf_counter()
            summary = track_video(src, out, tracker=FootballTracker(fps=info.fps or 25.0))
            walls.append(time.perf_counter() - t0)
            runs.append(summary)
        stills = a.out / "track_dfl"
        stills.mkdir(parents=True, exist_ok=True)
        n = runs[-1].frames
        written = []
        for k in (n // 10, n // 2, (9 * n) // 10):
            for video in ("annotated", "radar"):
                img = read_frame(out / f"{video}.mp4", k)
                written.append(write_image(stills / f"{video}_{k:04d}.png", img).name)
        fps = [s.frames / w for s, w in zip(runs, walls, strict=True)]
        result = header("track_dfl") | {
            "source": str(src),
            "frames": n,
            "image_size": [info.width, info.height],
            "models": {"detect": model_header("detect"), "calib": model_header("calib")},
            "fps_best": round(max(fps), 2),
            "fps_median": round(statistics.median(fps), 2),
            "fps_all": [round(f, 2) for f in fps],
            "summary": runs[-1].to_json(),
            "stills": written,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json_atomic(a.out / "track_dfl.json", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
