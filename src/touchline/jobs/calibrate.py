"""The ``touchline calibrate`` job: a video, an image or a folder of images in, files out.

Writes into ``out_dir``:

* ``calibration.json`` — per frame: index, time, status, confidence, cut flag, source of the
  estimate, its painted-line alignment (share of the projected pitch lines on painted lines a
  plain image filter finds; ``null`` when too little is in view to judge) and the image ->
  pitch homography (``null`` when uncalibrated), plus the
  conventions (pitch metres, origin at the top-left corner, image pixels of the input);
* ``homographies.npz`` — ``H`` ``(n, 3, 3)`` (``nan`` where uncalibrated), ``frame``, ``time``,
  ``status``, ``confidence``, ``cut``;
* for a video ``overlay.mp4`` (pitch lines drawn on the frames) and ``topdown.mp4`` (frames
  warped onto the pitch); for images ``overlay/<name>.png`` and ``topdown/<name>.png``.

Every file is written atomically.

>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from touchline.video import write_image
>>> d = Path(tempfile.mkdtemp())
>>> _ = write_image(d / "flat.png", np.full((180, 320, 3), 90, np.uint8))
>>> res = calibrate_path(d / "flat.png", d / "out")
>>> res.frames, res.calibrated, sorted(p.name for p in (d / "out").iterdir())
(1, 0, ['calibration.json', 'homographies.npz', 'overlay', 'topdown'])
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from touchline.calib.calibrator import CalibrationResult, Calibrator, smooth_track
from touchline.errors import DataError
from touchline.types import Calibration
from touchline.utils.files import write_bytes_atomic, write_text_atomic
from touchline.utils.results import JsonResult

__all__ = ["CalibrateResult", "calibrate_path", "calibration_npz", "calibration_records"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CalibrateResult(JsonResult):
    """What :func:`calibrate_path` did: frames, calibrated frames, cuts, statuses and speed."""

    source: str
    out: str
    frames: int
    calibrated: int
    cuts: int
    statuses: dict[str, int]  # frames per calibration status
    seconds: float
    fps: float | None


def calibration_records(
    cals: list[Calibration],
    results: list[CalibrationResult] | None = None,
    times: list[float] | None = None,
    frames: list[int] | None = None,
    names: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Per-frame JSON records of a calibrated sequence."""
    out = []
    for i, c in enumerate(cals):
        rec: dict[str, Any] = {
            "frame": frames[i] if frames else i,
            "status": c.status.value,
            "confidence": round(c.confidence, 4),
            "cut": c.cut,
            "homography": None if c.homography is None else c.homography.tolist(),
        }
        if times:
            rec["time"] = round(times[i], 4)
        if names:
            rec["file"] = names[i]
        if results:
            rec["source"] = results[i].source
            rec["verification"] = round(results[i].verification, 4)
            rec["inliers"] = results[i].inliers
            a = results[i].alignment
            rec["alignment"] = round(a, 4) if np.isfinite(a) else None
        out.append(rec)
    return out


def calibration_npz(cals: list[Calibration], frames: list[int], times: list[float]) -> bytes:
    """The ``homographies.npz`` file of a calibrated sequence, as bytes."""
    H = np.full((len(cals), 3, 3), np.nan)
    for i, c in enumerate(cals):
        if c.homography is not None:
            H[i] = c.homography
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        H=H,
        frame=np.asarray(frames, np.int64),
        time=np.asarray(times, np.float64),
        status=np.asarray([c.status.value for c in cals]),
        confidence=np.asarray([c.confidence for c in cals], np.float64),
        cut=np.asarray([c.cut for c in cals], bool),
    )
    return buf.getvalue()


def calibrate_path(
    source: str | Path,
    out_dir: str | Path,
    *,
    calibrator: Calibrator | None = None,
    overlay: bool = True,
    topdown: bool = True,
    progress: Progress | None = None,
) -> CalibrateResult:
    """Calibrate a video, an image or a folder of images and write the outputs (see module).

    A folder of images is treated as a sequence (consecutive frames, temporal smoothing and
    cut detection apply); a single image is calibrated on its own.
    """
    import cv2

    from touchline.video import VideoReader, VideoWriter, image_names, probe, write_image
    from touchline.viz.overlay import draw_pitch_lines, warp_to_pitch

    src, out = Path(source), Path(out_dir)
    info = probe(src)
    cal = calibrator or Calibrator()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: list[CalibrationResult] = []
    frames: list[int] = []
    times: list[float] = []
    n_total = info.frame_count or 0

    def frames_iter() -> Iterator[Any]:
        for k, fr in enumerate(VideoReader(src)):
            frames.append(fr.index)
            times.append(fr.time)
            if progress:
                progress("calibrate", k + 1, max(n_total, k + 1))
            yield fr

    for r in cal.calibrate_frames(frames_iter()):
        results.append(replace(r, prediction=None))  # keep memory small on long videos
    if not results:
        raise DataError(f"{src}: no frames")
    cals = smooth_track(results, cal.config)
    seconds = time.perf_counter() - t0
    is_video = info.kind == "video"
    file_names = None
    if not is_video:
        file_names = image_names(src)[: len(cals)]
    doc = {
        "source": str(src),
        "kind": info.kind,
        "image_size": [info.width, info.height],
        "convention": "homography maps image pixels (continuous coordinates, pixel (i, j) "
        "covers [i, i+1)) to pitch metres: origin at the top-left corner of the pitch as seen "
        "from the main camera, x along the length (0..105), y across (0..68)",
        "pitch_size": [cal.pitch.length, cal.pitch.width],
        "frames": calibration_records(cals, results, times, frames, file_names),
    }
    write_text_atomic(out / "calibration.json", json.dumps(doc, indent=1) + "\n")
    write_bytes_atomic(out / "homographies.npz", calibration_npz(cals, frames, times))

    if overlay or topdown:
        reader = VideoReader(src)
        if is_video:
            fps = info.fps or 25.0
            ow = VideoWriter(out / "overlay.mp4", fps) if overlay else None
            tw = None
            for k, (fr, c) in enumerate(zip(reader, cals, strict=False)):
                if ow is not None:
                    ow.write(_overlay(fr.image, c, draw_pitch_lines, cv2))
                if topdown:
                    td, _ = warp_to_pitch(fr.image, c, px_per_m=6.0)
                    if tw is None:
                        tw = VideoWriter(out / "topdown.mp4", fps)
                    tw.write(td)
                if progress:
                    progress("render", k + 1, len(cals))
            for w in (ow, tw):
                if w is not None:
                    w.close()
        else:
            assert file_names is not None
            for k, (fr, c) in enumerate(zip(reader, cals, strict=False)):
                stem = Path(file_names[k]).stem
                if overlay:
                    write_image(
                        out / "overlay" / f"{stem}.png",
                        _overlay(fr.image, c, draw_pitch_lines, cv2),
                    )
                if topdown:
                    td, _ = warp_to_pitch(fr.image, c, px_per_m=6.0)
                    write_image(out / "topdown" / f"{stem}.png", td)
                if progress:
                    progress("render", k + 1, len(cals))
    statuses = sorted({c.status.value for c in cals})
    return CalibrateResult(
        source=str(src),
        out=str(out),
        frames=len(cals),
        calibrated=sum(c.is_valid for c in cals),
        cuts=sum(c.cut for c in cals),
        statuses={s: sum(c.status.value == s for c in cals) for s in statuses},
        seconds=round(seconds, 3),
        fps=round(len(cals) / seconds, 2) if seconds > 0 else None,
    )


def _overlay(image: np.ndarray, c: Calibration, draw: Callable, cv2: Any) -> np.ndarray:
    img = draw(image, c, color=(0, 0, 255), thickness=max(1, image.shape[1] // 640))
    label = f"{c.status.value} {c.confidence:.2f}" + (" CUT" if c.cut else "")
    s = max(0.4, image.shape[1] / 1600)
    cv2.putText(
        img, label, (8, int(24 * s * 1.6)), cv2.FONT_HERSHEY_SIMPLEX, s, (0, 0, 0), 3, cv2.LINE_AA
    )
    cv2.putText(
        img,
        label,
        (8, int(24 * s * 1.6)),
        cv2.FONT_HERSHEY_SIMPLEX,
        s,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return img
