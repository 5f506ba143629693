"""Wall-clock time of ``touchline synth --seconds 10 --size 1280x720`` on this machine.

Usage::

    python benchmarks/synth_speed.py [--out benchmarks/results/synth_speed.json] [--runs 3]

Each run is the real command line in a fresh process (imports, texture set-up, camera poses,
rendering, H.264 encoding and every ground-truth file included), timed from start to exit.
It runs with the built-in camera, and with the real broadcast camera poses of
``../shared/data/calibration/broadcast_camera_homographies.npz`` when present. The target is
under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import header
from touchline.data import shared_file
from touchline.synth.clip import POSES_FILE
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "synth_speed.json"
TARGET_SECONDS = 60.0


def run_synth(camera: str, seed: int, runs: int) -> dict[str, Any]:
    """Time ``runs`` fresh ``touchline synth`` processes; report the median."""
    rows = []
    for r in range(runs):
        with tempfile.TemporaryDirectory(prefix="touchline-synth-bench-") as tmp:
            cmd = [sys.executable, "-m", "touchline.cli", "synth", "--out", tmp,
                   "--seconds", "10", "--size", "1280x720", "--camera", camera,
                   "--seed", str(seed + r)]  # fmt: skip
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - t0
            if proc.returncode != 0:
                raise SystemExit(f"synth failed ({proc.returncode}): {proc.stderr}")
            manifest = json.loads((Path(tmp) / "manifest.json").read_text())
            size = (Path(tmp) / "clip.mp4").stat().st_size
        rows.append(
            {
                "seconds": round(seconds, 2),
                "frames": manifest["frames"],
                "camera_pose": manifest["camera_pose"],
                "mp4_bytes": size,
            }
        )
    med = statistics.median(r["seconds"] for r in rows)
    frames = rows[0]["frames"]
    return {
        "camera": camera,
        "command": "touchline synth --out DIR --seconds 10 --size 1280x720 "
        f"--camera {camera} --seed N",
        "median_seconds": med,
        "frames": frames,
        "frames_per_second": round(frames / med, 1),
        "under_target": med < TARGET_SECONDS,
        "runs": rows,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    parser.add_argument("--runs", type=int, default=3, help="runs per camera setting (median)")
    args = parser.parse_args(argv)
    cases = [run_synth("builtin", 0, args.runs)]
    if shared_file(POSES_FILE):
        cases.append(run_synth("auto", 100, args.runs))
    else:
        cases.append({"camera": "auto", "skipped": f"../shared/data/{POSES_FILE} not found"})
    result = {
        **header("synth_speed"),
        "target_seconds": TARGET_SECONDS,
        "notes": "wall clock of a fresh `touchline synth` process, 10 s of 1280x720 at 25 fps "
        "(250 frames), including start-up, rendering, H.264 encoding and ground-truth files",
        "cases": cases,
    }
    print(json.dumps(result, indent=2))
    write_json_atomic(args.out, result)
    return result


if __name__ == "__main__":
    main()
