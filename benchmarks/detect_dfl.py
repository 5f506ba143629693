"""Detection accuracy on the labelled DFL frames (``touchline eval detection``).

Usage::

    python benchmarks/detect_dfl.py [--splits test valid] [--out benchmarks/results/detect_dfl.json]

For each split of ``../shared/data/detection/dfl`` it runs exactly what
``touchline eval detection --data SPLIT --json OUT`` runs: the shipped detector on every image,
the 1280x1280 images stretched back to 1920x1080 (``--frame-size auto`` reads the Roboflow
note), dataset classes matched by name (``football`` = our ``ball``). Recorded: AP50 and
AP50-95 per class (COCO protocol, cross-checked against pycocotools in the tests), precision and
recall at the default threshold, and frames per second of the detector (preprocessing, network
and decoding on 1920x1080 frames; reading the JPEG excluded). ``test`` is only used for these
final numbers; model selection used ``valid``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import header, model_header, shared_root
from touchline.datasets.detection import stretched_frame_size
from touchline.detect import Detector
from touchline.eval.detection import evaluate_detection, read_samples
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "detect_dfl.json"
KEYS = ("images", "ap50", "ap50_95", "precision", "recall", "fps")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--splits", nargs="+", default=["test", "valid"])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    root = shared_root()
    det = Detector()
    out = header("detect_dfl") | {
        "model": model_header("detect"),
        "splits": {},
    }
    for split in a.splits:
        data = root / "detection" / "dfl" / split
        size = stretched_frame_size(data, read_samples(data))
        res = evaluate_detection(data, det, frame_size=size).to_json()
        out["splits"][split] = res
        print(split, json.dumps({k: res[k] for k in KEYS}))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
