"""Pseudo-labels for self-training the calibration network on unlabelled real footage.

A model calibrates each unlabelled sequence as a video (temporal fusion, cut detection,
smoothing: :meth:`touchline.calib.calibrator.Calibrator.calibrate_video`); only frames it
calibrates strongly become labels: measured (not propagated or interpolated), high confidence,
and their pitch lines on the painted lines a plain image filter finds
(:func:`touchline.calib.paint.alignment_score`, independent of the network). Every
``stride``-th such frame is kept (neighbouring frames are near copies).

    python -m touchline.train.pseudo --model runs/calib_base/calib.onnx --out runs/pseudo.npz

writes one ``.npz`` with ``images`` (n, 576, 1024, 3) BGR frames shown at 16:9, ``H`` (n, 3, 3)
image -> pitch homographies of those images, and ``source`` names; ``touchline.train.calib``
reads it with ``--pseudo``. Only the sequences of :data:`SEQUENCES` are read; every other
sequence in ``../shared/data`` stays unseen by training.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.calib.calibrator import CalibrationResult, Calibrator
from touchline.calib.model import KeypointModel
from touchline.calib.paint import alignment_score, paint_mask
from touchline.data import shared_data_dir
from touchline.errors import DataError
from touchline.types import CalibrationStatus
from touchline.utils.files import write_bytes_atomic
from touchline.video import VideoReader

__all__ = ["SEQUENCES", "PseudoConfig", "pseudo_labels"]

#: Unlabelled real sequences used for self-training (relative to ``../shared/data``).
SEQUENCES: tuple[str, ...] = (
    "frames/india_thailand_512",
    "frames/chelsea_arsenal_512",
    "video/dfl_08fd33_4.mp4",
)
SIZE = (1024, 576)


@dataclass(frozen=True)
class PseudoConfig:
    """Which frames become labels."""

    min_confidence: float = 0.75
    min_alignment: float = 0.75
    stride: int = 4


def _keep(
    res: CalibrationResult, cal_status: CalibrationStatus, align: float, cfg: PseudoConfig
) -> bool:
    return (
        cal_status == CalibrationStatus.OK
        and res.calibration.status == CalibrationStatus.OK
        and res.calibration.confidence >= cfg.min_confidence
        and np.isfinite(align)
        and align >= cfg.min_alignment
    )


def pseudo_labels(
    root: Path,
    model: Path,
    sequences: Sequence[str] = SEQUENCES,
    config: PseudoConfig | None = None,
    log=print,
) -> tuple[NDArray[np.uint8], NDArray[np.float64], list[str]]:
    """Images (at 1024x576), homographies and source names of the kept frames."""
    cfg = config or PseudoConfig()
    cal = Calibrator(KeypointModel(model))
    images, Hs, names = [], [], []
    for rel in sequences:
        src = root / rel
        if not src.exists():
            raise DataError(f"{src}: missing (pseudo-labels need ../shared/data)")
        frames = [f.image for f in VideoReader(src)]
        results: list[CalibrationResult] = []
        cals = cal.calibrate_video(frames, results=results)
        kept = 0
        candidates = []
        for k, (img, c, r) in enumerate(zip(frames, cals, results, strict=True)):
            if c.homography is None:
                continue
            a = alignment_score(paint_mask(img), c.homography, (img.shape[1], img.shape[0]))
            if _keep(r, c.status, a.score, cfg):
                candidates.append(k)
        for k in candidates[:: cfg.stride]:
            img = frames[k]
            h, w = img.shape[:2]
            H = cals[k].homography
            assert H is not None
            S = np.diag([w / SIZE[0], h / SIZE[1], 1.0])  # cache px -> frame px
            images.append(cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA))
            Hs.append(H @ S)
            names.append(f"{rel}#{k}")
            kept += 1
        log(f"{rel}: {len(frames)} frames, {len(candidates)} strong, {kept} kept")
    if not images:
        raise DataError("no frame was calibrated strongly enough to become a label")
    return np.stack(images), np.stack(Hs), names


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data-root", type=Path, default=None)
    a = ap.parse_args(argv)
    root = a.data_root or shared_data_dir()
    if root is None:
        raise DataError("../shared/data not found (set TOUCHLINE_SHARED_DATA)")
    cv2.setNumThreads(1)
    images, Hs, names = pseudo_labels(root, a.model)
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, H=Hs, source=np.array(names))
    write_bytes_atomic(a.out, buf.getvalue())
    print(f"wrote {a.out}: {len(names)} frames")


if __name__ == "__main__":
    main()
