"""Calibration on unlabelled real footage, before and after: share calibrated, label-free
alignment, and stills to look at.

Usage::

    python benchmarks/calib_stills.py [--out benchmarks/results] [--no-baseline]

Sequences (read in place from ``../shared/data``): the DFL clip ``video/dfl_08fd33_4.mp4`` and
the frame folders ``frames/leicester_liverpool_512``, ``frames/india_thailand_512`` and
``frames/chelsea_arsenal_512`` (other leagues and broadcasters, 512x512 squashed from 16:9;
Chelsea-Arsenal is a low, close camera). Each is calibrated as a video, exactly as
``touchline calibrate`` does (temporal fusion, cut detection, offline smoothing), by today's
code and model ("after") and by those of commit ``BASELINE_COMMIT`` ("before").

The label-free **alignment** of a calibrated frame is
:func:`touchline.calib.paint.alignment_score`: the share of the template's line length that the
camera projects into the frame (on grass) and that lands within 3 px (at 1280 px width) of a
painted-line pixel found by a simple image filter (:func:`touchline.calib.paint.paint_mask`,
no network). ``nan`` when too little line is in view to judge.

Stills (``calib_stills/``): the frame with the projected pitch lines (red) and status, and the
top-down warp with the template's lines; per sequence the four calibrated frames with the
lowest alignment (``<seq>_worst.png``), and for Chelsea-Arsenal contact sheets of 20 random
calibrated and 20 random failed frames (``chelsea_arsenal_random_calibrated.png``,
``chelsea_arsenal_random_failed.png``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import BASELINE_COMMIT, header, model_header, run_baseline
from touchline.calib.calibrator import Calibrator
from touchline.calib.paint import alignment_score, paint_mask
from touchline.data import shared_file
from touchline.jobs.calibrate import calibrate_path
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
CALIBRATED = ("ok", "propagated", "interpolated")

_BASELINE = """
import json, tempfile
from pathlib import Path
from touchline.calib.run import calibrate_path  # the baseline commit's layout
with tempfile.TemporaryDirectory() as tmp:
    calibrate_path(Path(SRC), tmp, overlay=False, topdown=False)
    doc = json.loads((Path(tmp) / "calibration.json").read_text())
print(json.dumps([[r["status"], r["confidence"], r["homography"]] for r in doc["frames"]]))
"""


def still(image: np.ndarray, cal: Calibration, width: int = 640, note: str = "") -> np.ndarray:
    """Overlay (left) and top-down view (right, with the template's lines in red: the warped
    painted lines should lie under them), the frame shown at 16:9."""
    frame = cv2.resize(image, (width, width * 9 // 16), interpolation=cv2.INTER_AREA)
    c = cal.rescaled((frame.shape[1], frame.shape[0])) if cal.homography is not None else cal
    ov = draw_pitch_lines(frame, c, color=(0, 0, 255), thickness=1)
    label = f"{cal.status.value} conf {cal.confidence:.2f} {note}".strip()
    cv2.putText(ov, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(ov, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    td, raster = warp_to_pitch(frame, c, px_per_m=4.0, margin=3.0)
    if c.homography is not None:
        td = draw_pitch_lines(td, raster.pitch_to_raster, color=(0, 0, 255), thickness=1)
    td = cv2.resize(td, (int(td.shape[1] * ov.shape[0] / td.shape[0]), ov.shape[0]))
    return np.concatenate([ov, td], axis=1)


def sheet(tiles: list[np.ndarray], cols: int = 2) -> np.ndarray:
    """Tiles (same size) in a grid."""
    h, w = tiles[0].shape[:2]
    rows = (len(tiles) + cols - 1) // cols
    out = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * h : (r + 1) * h, c * w : (c + 1) * w] = t
    return out


def calibration(rec: list[Any], size: tuple[int, int]) -> Calibration:
    status, conf, H = rec
    if H is None:
        return Calibration.uncalibrated(status, size)
    return Calibration(np.asarray(H, float), conf, status, image_size=size)


def summarise(cals: list[Calibration], align: list[float]) -> dict[str, Any]:
    cal = [c.status.value in CALIBRATED for c in cals]
    a = np.array([x for x, ok in zip(align, cal, strict=True) if ok], float)
    judged = a[np.isfinite(a)]
    statuses: dict[str, int] = {}
    for c in cals:
        statuses[c.status.value] = statuses.get(c.status.value, 0) + 1
    return {
        "frames": len(cals),
        "calibrated_share": round(float(np.mean(cal)), 4) if cals else None,
        "statuses": statuses,
        "alignment_judged_frames": len(judged),
        "alignment_mean": round(float(judged.mean()), 4) if len(judged) else None,
        "alignment_median": round(float(np.median(judged)), 4) if len(judged) else None,
        "share_alignment_below_0.5": round(float((judged < 0.5).mean()), 4)
        if len(judged)
        else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--no-baseline", action="store_true")
    a = ap.parse_args()
    stills_dir = a.out / "calib_stills"
    stills_dir.mkdir(parents=True, exist_ok=True)
    for old in stills_dir.glob("*.png"):
        old.unlink()
    cal = Calibrator()
    summary: dict[str, Any] = header("calib_stills") | {
        "model": model_header("calib"),
        "baseline_commit": None if a.no_baseline else BASELINE_COMMIT,
        "sequences": {},
    }
    rng = np.random.default_rng(0)
    for name, rel in SEQUENCES.items():
        src = shared_file(rel)
        if src is None:
            summary["sequences"][name] = {"skipped": f"../shared/data/{rel} missing"}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            s = calibrate_path(src, tmp, calibrator=cal, overlay=False, topdown=False)
            doc = json.loads((Path(tmp) / "calibration.json").read_text())
        size = tuple(doc["image_size"])
        after = [
            calibration([r["status"], r["confidence"], r["homography"]], size)
            for r in doc["frames"]
        ]
        before = None
        if not a.no_baseline:
            recs = run_baseline(_BASELINE.replace("SRC", repr(str(src))))
            before = [calibration(r, size) for r in recs]
        images = [f.image for f in VideoReader(src)]
        al_after, al_before = [], []
        for k, img in enumerate(images):
            pm = paint_mask(img)
            for cals, al in ((after, al_after), (before, al_before)):
                if cals is None:
                    continue
                c = cals[k]
                if c.homography is None:
                    al.append(float("nan"))
                else:
                    al.append(alignment_score(pm, c.homography, c.image_size or size).score)
        entry: dict[str, Any] = {
            "after": summarise(after, al_after) | {"fps": s.fps},
            "seconds": s.seconds,
        }
        if before is not None:
            entry["before"] = summarise(before, al_before)
        # Stills: the four worst-aligned calibrated frames.
        judged = [
            (al_after[k], k)
            for k in range(len(after))
            if after[k].status.value in CALIBRATED and np.isfinite(al_after[k])
        ]
        worst = [k for _, k in sorted(judged)[:4]]
        if worst:
            tiles = [
                still(images[k], after[k], note=f"#{k} align {al_after[k]:.2f}") for k in worst
            ]
            write_image(stills_dir / f"{name}_worst.png", sheet(tiles))
        entry["worst_frames"] = [{"frame": k, "alignment": round(al_after[k], 4)} for k in worst]
        if name == "chelsea_arsenal":
            cal_idx = [k for k in range(len(after)) if after[k].status.value in CALIBRATED]
            fail_idx = [k for k in range(len(after)) if after[k].status.value not in CALIBRATED]
            for what, idx in (("calibrated", cal_idx), ("failed", fail_idx)):
                pick = sorted(rng.choice(idx, min(20, len(idx)), replace=False)) if idx else []
                if pick:
                    tiles = [still(images[k], after[k], width=480, note=f"#{k}") for k in pick]
                    write_image(
                        stills_dir / f"chelsea_arsenal_random_{what}.png", sheet(tiles, cols=4)
                    )
                entry[f"random_{what}"] = [int(k) for k in pick]
        summary["sequences"][name] = entry
        print(name, json.dumps({k: v for k, v in entry.items() if k in ("after", "before")}))
    write_json_atomic(a.out / "calib_stills.json", summary)


if __name__ == "__main__":
    main()
