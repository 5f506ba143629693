"""Detection overlays on real footage: PNG stills per sequence + a summary of box counts.

Usage::

    python benchmarks/detect_stills.py [--out benchmarks/results]

Sequences (read in place from ``../shared/data``): the DFL clip ``video/dfl_08fd33_4.mp4``
(1920x1080; frames of this match are in the training set, but these video frames are not), the
frame folder ``frames/leicester_liverpool_512`` (another league and broadcaster, never seen in
training; 512x512 squashed from 16:9, so un-squashed to 910x512 first) and the 3072x1728 wide
SoccerTrack camera ``video/soccertrack_left_camera.mp4`` run with ``tile=1536``. Stills at 10 %,
50 % and 90 % of each sequence (one for SoccerTrack) show every box at the default threshold,
coloured by class (player, goalkeeper, referee, ball) with its score. The JSON gives, per
sequence, the mean number of boxes per frame for each class.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import cv2
import numpy as np

from _common import header
from touchline.data import shared_file
from touchline.detect import Detector
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader, write_image
from touchline.viz.overlay import BoxAnnotator, LabelAnnotator

SEQUENCES = {
    "dfl_08fd33_4": ("video/dfl_08fd33_4.mp4", None, None),
    "leicester_liverpool": ("frames/leicester_liverpool_512", (910, 512), None),
    "soccertrack_left": ("video/soccertrack_left_camera.mp4", None, 1536),
}


def draw(image: np.ndarray, dets, width: int) -> np.ndarray:
    boxes = BoxAnnotator(color_by="class").annotate(image, dets)
    out = LabelAnnotator(color_by="class", show_confidence=True, label_ball=True).annotate(
        boxes, dets
    )
    if out.shape[1] > width:
        out = cv2.resize(
            out, (width, round(out.shape[0] * width / out.shape[1])), interpolation=cv2.INTER_AREA
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    a = ap.parse_args()
    stills_dir = a.out / "detect_stills"
    summary = header("detect_stills") | {"sequences": {}}
    for name, (rel, unsquash, tile) in SEQUENCES.items():
        src = shared_file(rel)
        if src is None:
            summary["sequences"][name] = {"skipped": f"../shared/data/{rel} missing"}
            continue
        det = Detector(tile=tile)
        stop = 40 if tile else None
        frames = list(VideoReader(src, stop=stop))
        n = len(frames)
        picks = sorted({int(n * f) for f in ((0.5,) if tile else (0.1, 0.5, 0.9))})
        counts: dict[str, list[int]] = {c: [] for c in det.class_names}
        for i, fr in enumerate(frames):
            img = (
                fr.image
                if unsquash is None
                else cv2.resize(fr.image, unsquash, interpolation=cv2.INTER_CUBIC)
            )
            d = det.detect(img)
            names = d.class_name if len(d) else np.empty(0, str)
            for c in det.class_names:
                counts[c].append(int((names == c).sum()))
            if i in picks:
                write_image(
                    stills_dir / f"{name}_{fr.index:05d}.png",
                    draw(img, d, 1280),
                )
        summary["sequences"][name] = {
            "source": rel,
            "frames": n,
            "tile": tile,
            "mean_boxes_per_frame": {c: round(statistics.mean(v), 2) for c, v in counts.items()},
            "frames_with_ball": round(float(np.mean(np.array(counts["ball"]) > 0)), 3),
            "stills": [f"detect_stills/{name}_{frames[i].index:05d}.png" for i in picks],
        }
        print(name, json.dumps(summary["sequences"][name]))
    write_json_atomic(a.out / "detect_stills.json", summary)


if __name__ == "__main__":
    main()
