"""Calibration overlays on real broadcast footage: three PNG stills per sequence + a summary.

Usage::

    python benchmarks/calib_stills.py [--out benchmarks/results]

Sequences (read in place from ``../shared/data``): the DFL clip ``video/dfl_08fd33_4.mp4`` and
the frame folders ``frames/leicester_liverpool_512``, ``frames/india_thailand_512`` and
``frames/chelsea_arsenal_512`` (other leagues and broadcasters, 512x512 squashed from 16:9).
Each sequence is calibrated as a video (``touchline calibrate``: temporal fusion, cut detection,
offline smoothing). Stills at 10 %, 50 % and 90 % of the sequence show the projected pitch lines
(red) on the frame, with the status and confidence, and the top-down warp beside it. The JSON
records per-sequence completeness, statuses, cuts and speed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import cv2
import numpy as np

from _common import header
from touchline.calib.calibrator import Calibrator
from touchline.calib.run import calibrate_path
from touchline.data import shared_file
from touchline.types import Calibration
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader, write_image
from touchline.viz.overlay import draw_pitch_lines, warp_to_pitch

SEQUENCES = {
    "dfl_08fd33_4": "video/dfl_08fd33_4.mp4",
    "leicester_liverpool": "frames/leicester_liverpool_512",
    "india_thailand": "frames/india_thailand_512",
    "chelsea_arsenal": "frames/chelsea_arsenal_512",
}


def still(image: np.ndarray, cal: Calibration, width: int = 640) -> np.ndarray:
    """Overlay (left) and top-down view (right, with the template's lines in red: the warped
    painted lines should lie under them), the frame shown at 16:9."""
    frame = cv2.resize(image, (width, width * 9 // 16), interpolation=cv2.INTER_AREA)
    c = cal.rescaled((frame.shape[1], frame.shape[0])) if cal.homography is not None else cal
    ov = draw_pitch_lines(frame, c, color=(0, 0, 255), thickness=1)
    label = f"{cal.status.value} conf {cal.confidence:.2f}"
    cv2.putText(ov, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(ov, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    td, raster = warp_to_pitch(frame, c, px_per_m=4.0, margin=3.0)
    if c.homography is not None:  # the template's lines over the warped frame: they should
        td = draw_pitch_lines(td, raster.pitch_to_raster, color=(0, 0, 255), thickness=1)
    td = cv2.resize(td, (int(td.shape[1] * ov.shape[0] / td.shape[0]), ov.shape[0]))
    return np.concatenate([ov, td], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    a = ap.parse_args()
    stills_dir = a.out / "calib_stills"
    cal = Calibrator()
    summary = header("calib_stills") | {"sequences": {}}
    for name, rel in SEQUENCES.items():
        src = shared_file(rel)
        if src is None:
            summary["sequences"][name] = {"skipped": f"../shared/data/{rel} missing"}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            s = calibrate_path(src, tmp, calibrator=cal, overlay=False, topdown=False)
            doc = json.loads((Path(tmp) / "calibration.json").read_text())
        recs = doc["frames"]
        n = len(recs)
        picks = sorted({int(n * f) for f in (0.1, 0.5, 0.9)})
        frames = {
            f.index: f.image
            for f in VideoReader(src)
            if f.index in {recs[i]["frame"] for i in picks}
        }
        for i in picks:
            r = recs[i]
            c = (
                Calibration(
                    r["homography"],
                    r["confidence"],
                    r["status"],
                    image_size=tuple(doc["image_size"]),
                )
                if r["homography"] is not None
                else Calibration.uncalibrated(r["status"], tuple(doc["image_size"]))
            )
            write_image(stills_dir / f"{name}_{r['frame']:04d}.png", still(frames[r["frame"]], c))
        summary["sequences"][name] = s | {
            "stills": [f"calib_stills/{name}_{recs[i]['frame']:04d}.png" for i in picks]
        }
        print(name, json.dumps(s))
    write_json_atomic(a.out / "calib_stills.json", summary)


if __name__ == "__main__":
    main()
