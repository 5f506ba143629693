"""Calibration accuracy on the labelled DFL frames (``touchline eval calibration``).

Usage::

    python benchmarks/calib_dfl.py [--splits test valid] [--out benchmarks/results/calib_dfl.json]

For each split of ``../shared/data/pitch_keypoints/dfl`` it runs exactly what
``touchline eval calibration --data SPLIT --json OUT`` runs (the shipped model, every frame
calibrated on its own) and records the metrics: IoU whole / part on the 105 x 68 m template,
keypoint projection error (m) and reprojection error (px at 1920x1080), completeness, and
frames per second of the calibrator (model + homography; image decoding excluded). ``test`` is
only used for these final numbers; model selection used ``valid``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import header, model_header, shared_root
from touchline.calib.calibrator import Calibrator
from touchline.eval.calibration import evaluate_calibration
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "calib_dfl.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--splits", nargs="+", default=["test", "valid"])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    root = shared_root()
    cal = Calibrator()
    out = header("calib_dfl") | {
        "model": model_header("calib"),
        "splits": {},
    }
    for split in a.splits:
        res = evaluate_calibration(root / "pitch_keypoints" / "dfl" / split, cal).to_json()
        out["splits"][split] = res
        brief = {k: v for k, v in res.items() if not isinstance(v, (list, dict))}
        print(split, json.dumps(brief))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
