"""Detection accuracy on the labelled DFL frames (``touchline eval detection``).

Usage::

    python benchmarks/detect_dfl.py [--splits test valid] [--out benchmarks/results/detect_dfl.json]

For each split of ``../shared/data/detection/dfl`` it runs exactly what
``touchline eval detection --data SPLIT --json OUT`` runs: the shipped detector on every image,
the 1280x1280 images stretched back to 1920x1080 (``--frame-size auto`` reads the Roboflow
note), dataset classes matched by name (``football`` = our ``ball``). Recorded: AP50 and
AP50-95 per class (COCO protocol, cross-checked against pycocotools in the tests), precision and
recall at the default threshold, and frames per second of the detector (preprocessing, network
and decoding on 1920x1080 frames; reading the JPEG excluded), and ``breakdown``: AP50 and recall
per object size, image region and crowded/isolated (where it fails). ``before`` is the same
for the detector shipped at ``DETECT_BASELINE_COMMIT`` (``_common.py``), in the same run.
``test`` is only used for these final numbers; model selection used ``valid``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import DETECT_BASELINE_COMMIT, baseline_model, run_splits
from touchline.datasets.detection import stretched_frame_size
from touchline.detect import Detector
from touchline.eval.detection import evaluate_detection, read_samples

KEYS = ("images", "ap50", "ap50_95", "precision", "recall", "fps")


def evaluator() -> Callable[[Path], dict[str, Any]]:
    """The shipped detector on one split, boxes scored at the stretched-back frame size, and
    the detector shipped at ``DETECT_BASELINE_COMMIT`` on the same frames (``before``)."""
    det = Detector()
    before = Detector(baseline_model("detect", DETECT_BASELINE_COMMIT))

    def evaluate(data: Path) -> dict[str, Any]:
        size = stretched_frame_size(data, read_samples(data))
        old = evaluate_detection(data, before, frame_size=size).to_json()
        return evaluate_detection(data, det, frame_size=size).to_json() | {
            "before": {"commit": DETECT_BASELINE_COMMIT} | old
        }

    return evaluate


def brief(res: dict[str, Any]) -> dict[str, Any]:
    """The headline metrics of a split (and of the baseline on it)."""
    out = {k: res[k] for k in KEYS}
    if "before" in res:
        out["before"] = {k: res["before"][k] for k in ("ap50", "recall")}
    return out


def main() -> None:
    run_splits("detect_dfl", __doc__, "detect", "detection/dfl", evaluator, brief)


if __name__ == "__main__":
    main()
