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

from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import run_splits
from touchline.calib.calibrator import Calibrator
from touchline.eval.calibration import evaluate_calibration


def evaluator() -> Callable[[Path], dict[str, Any]]:
    """The shipped calibrator on one split, every frame calibrated on its own."""
    cal = Calibrator()
    return lambda data: evaluate_calibration(data, cal).to_json()


def brief(res: dict[str, Any]) -> dict[str, Any]:
    """The scalar metrics of a split (no per-frame lists)."""
    return {k: v for k, v in res.items() if not isinstance(v, (list, dict))}


def main() -> None:
    run_splits("calib_dfl", __doc__, "calib", "pitch_keypoints/dfl", evaluator, brief)


if __name__ == "__main__":
    main()
