"""The ``touchline detect`` job: a video, an image or a folder of images in, boxes out.

Writes into ``out_dir``:

* ``detections.parquet`` — one row per box: ``frame``, ``time``, ``image`` (file name for image
  inputs, empty for a video), ``x1``, ``y1``, ``x2``, ``y2`` (pixels of the input),
  ``confidence``, ``class_id``, ``class_name`` (the column names of the tracks table);
* ``detections.json`` — the same per frame, plus the source, image size and classes;
* with ``overlay``: ``overlay.mp4`` for a video, ``overlay/<name>.png`` for images.

Every file is written atomically. Long videos are resumable: every ``checkpoint_every``
frames the boxes so far go to ``.detect-partial/``; a rerun on the same file with the same
detector (model, thresholds, classes, tiling) reuses them and detects only the rest (the
overlay is redrawn from them).

>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from touchline.video import write_image
>>> d = Path(tempfile.mkdtemp())
>>> _ = write_image(d / "flat.png", np.full((180, 320, 3), 90, np.uint8))
>>> res = detect_path(d / "flat.png", d / "out")
>>> res.frames, res.detections, sorted(p.name for p in (d / "out").iterdir())
(1, 0, ['detections.json', 'detections.parquet', 'overlay'])
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from touchline.detect.base import BaseDetector
from touchline.detect.detector import Detector
from touchline.errors import DataError
from touchline.types import Detections
from touchline.utils.checkpoint import Checkpoint, file_identity, fingerprint
from touchline.utils.files import write_bytes_atomic, write_text_atomic
from touchline.utils.results import JsonResult

__all__ = ["DetectResult", "detect_path", "detections_table", "read_detections_table"]

Progress = Callable[[str, int, int], None]
COLUMNS = ("frame", "time", "image", "x1", "y1", "x2", "y2", "confidence", "class_id", "class_name")
PARTIAL = ".detect-partial"
_DET_COLUMNS = list(COLUMNS[3:])  # Detections.to_columns, with _FILL for fields that are None
_FILL = {"confidence": np.nan, "class_id": -1, "class_name": "unknown"}


@dataclass(frozen=True)
class DetectResult(JsonResult):
    """What :func:`detect_path` did: frames, boxes (per class name) and speed."""

    source: str
    out: str
    frames: int
    detections: int
    per_class: dict[str, int]
    seconds: float  # decoding and detection; overlay rendering excluded
    fps: float | None


def detections_table(items: list[tuple[int, float, str, Detections]]) -> pd.DataFrame:
    """One row per box from ``(frame, time, image name, detections)`` items.

    >>> d = Detections(xyxy=[[0, 0, 2, 4]], confidence=[0.9], class_id=[3])
    >>> detections_table([(5, 0.2, "", d)])[["frame", "class_name", "confidence"]]
       frame class_name  confidence
    0      5       ball         0.9
    """
    dets = [d for *_, d in items]
    n = [len(d) for d in dets]
    cols = Detections.concat_columns(dets, _DET_COLUMNS, _FILL)
    unknown = (cols["class_id"] >= 0) & pd.isna(cols["class_name"])
    if unknown.any():
        raise DataError(
            f"detector returned class id {int(cols['class_id'][unknown][0])}, which is not one "
            "of its class names"
        )
    return pd.DataFrame(
        {
            "frame": np.repeat(np.array([f for f, *_ in items], np.int64), n),
            "time": np.repeat(np.array([t for _, t, *_ in items], np.float64), n),
            "image": np.repeat(np.array([name for *_, name, _ in items], object), n),
            **cols,
            "class_id": cols["class_id"].astype(np.int16),
        }
    )


def read_detections_table(path: str | Path) -> pd.DataFrame:
    """Read a ``detections.parquet`` written by :func:`detect_path`."""
    p = Path(path)
    try:
        df = pd.read_parquet(p)
    except Exception as e:  # pyarrow raises several types
        raise DataError(f"{p}: cannot read the detections table ({e})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{p}: not a detections table, missing columns {missing}")
    return df


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def detect_path(
    source: str | Path,
    out_dir: str | Path,
    *,
    detector: BaseDetector | None = None,
    overlay: bool = True,
    checkpoint_every: int = 500,
    progress: Progress | None = None,
) -> DetectResult:
    """Detect on a video, an image or a folder of images and write the outputs (see module)."""
    from touchline.video import VideoReader, VideoWriter, image_names, probe, write_image
    from touchline.viz.overlay import BoxAnnotator, LabelAnnotator

    src, out = Path(source), Path(out_dir)
    info = probe(src)
    det = detector or Detector()
    out.mkdir(parents=True, exist_ok=True)
    partial = Checkpoint(out / PARTIAL, fingerprint(file_identity(src), detector_key(det)))
    done = pd.DataFrame(columns=list(COLUMNS))
    done_until = -1
    progress_saved = partial.read_json("progress.json")
    if progress_saved is not None and partial.has("detections.parquet"):
        done = read_detections_table(partial.path("detections.parquet"))
        done_until = int(progress_saved["done_until"])
    is_video = info.kind == "video"
    file_names = [] if is_video else image_names(src)
    boxes_ann, label_ann = (
        BoxAnnotator(color_by="class"),
        LabelAnnotator(color_by="class", show_confidence=True),
    )
    writer = VideoWriter(out / "overlay.mp4", info.fps or 25.0) if overlay and is_video else None
    items: list[tuple[int, float, str, Detections]] = []
    frames: list[dict[str, Any]] = []
    names = det.class_names
    prev_groups = {int(k): g for k, g in done.groupby("frame")[_DET_COLUMNS]} if len(done) else {}
    n_total = info.frame_count or 0
    t0 = time.perf_counter()
    render_seconds = 0.0
    try:
        for k, fr in enumerate(VideoReader(src)):
            name = "" if is_video else file_names[min(k, len(file_names) - 1)]
            if fr.index <= done_until:
                g = prev_groups.get(fr.index)
                d = Detections.empty(names) if g is None else Detections.from_columns(g, names)
            else:
                d = det.detect(fr.image)
            items.append((fr.index, fr.time, name, d))
            frames.append({"frame": fr.index, "time": round(fr.time, 4), "image": name})
            if overlay:
                r0 = time.perf_counter()
                img = label_ann.annotate(boxes_ann.annotate(fr.image, d), d)
                if writer is not None:
                    writer.write(img)
                else:
                    write_image(out / "overlay" / f"{Path(name).stem}.png", img)
                render_seconds += time.perf_counter() - r0
            if is_video and (k + 1) % checkpoint_every == 0 and fr.index > done_until:
                partial.write_bytes("detections.parquet", _parquet_bytes(detections_table(items)))
                partial.write_json("progress.json", {"done_until": fr.index})
            if progress:
                progress("detect", k + 1, max(n_total, k + 1))
    finally:
        if writer is not None:
            writer.close()
    if not items:
        raise DataError(f"{src}: no frames")
    seconds = time.perf_counter() - t0 - render_seconds
    table = detections_table(items)
    write_bytes_atomic(out / "detections.parquet", _parquet_bytes(table))
    per_frame = []
    for (*_, d), rec in zip(items, frames, strict=True):
        rows = zip(*d.to_columns(_DET_COLUMNS, _FILL).values(), strict=True)
        boxes = [[*(round(float(v), 2) for v in b), round(float(s), 4), k] for *b, s, _, k in rows]
        per_frame.append(rec | {"boxes": boxes})
    doc = {
        "source": str(src),
        "kind": info.kind,
        "image_size": [info.width, info.height],
        "classes": list(names),
        "thresholds": _thresholds(det),
        "box_format": "x1, y1, x2, y2 (pixels of the input), confidence, class name",
        "frames": per_frame,
    }
    write_text_atomic(out / "detections.json", json.dumps(doc) + "\n")
    partial.clear()
    counts = table["class_name"].value_counts()
    return DetectResult(
        source=str(src),
        out=str(out),
        frames=len(items),
        detections=len(table),
        per_class={c: int(counts.get(c, 0)) for c in names},
        seconds=round(seconds, 3),
        fps=round(len(items) / seconds, 2) if seconds > 0 else None,
    )


def detector_key(det: Any) -> dict[str, Any]:
    """What a detector's boxes depend on (model, thresholds, classes, tiling), for
    checkpoint keys."""
    return {
        "detector": type(det).__name__,
        "model": fingerprint(getattr(det, "meta", None)),
        "threshold": getattr(det, "threshold", None),
        "class_thresholds": getattr(det, "class_thresholds", None),
        "classes": getattr(det, "classes", None),
        "tile": getattr(det, "tile", None),
    }


def _thresholds(det: BaseDetector) -> dict[str, Any]:
    return {"default": det.threshold, "per_class": det.class_thresholds}
