"""Object detection: players, goalkeepers, referees and the ball.

* :class:`Detector` runs the shipped CPU model (ONNX, checksummed) on frames of any size,
  with optional tiling for high-resolution input;
* :class:`YoloOnnxDetector` plugs in any YOLO-style ONNX export (YOLOv5/v8/v10/11 output
  layouts) by path and a class map;
* :func:`load_detector` picks one from a path, as the CLI does.

Both return :class:`touchline.types.Detections` in the input frame's pixels.

>>> import numpy as np
>>> det = load_detector()
>>> det.class_names
('player', 'goalkeeper', 'referee', 'ball')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from touchline.detect.detector import Detector
from touchline.detect.yolo import YoloOnnxDetector
from touchline.errors import DataError

__all__ = ["Detector", "YoloOnnxDetector", "load_detector"]


def _is_ours(path: Path) -> bool:
    meta = path.with_suffix(".json")
    if not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text()).get("kind") == "centernet"
    except (OSError, json.JSONDecodeError):
        return False


def load_detector(
    model: str | Path | None = None,
    *,
    threshold: float | None = None,
    tile: int | None = None,
    classes: Sequence[str] | None = None,
    class_map: Sequence[str] | None = None,
    threads: int | None = None,
) -> Detector | YoloOnnxDetector:
    """The shipped detector, a detector trained by ``touchline.train.detect``, or a YOLO export.

    Args:
        model: ``None`` for the shipped model, else an ONNX path.
        threshold: minimum score (default 0.3 for ours, 0.25 for YOLO exports).
        tile: tile width in pixels for high-resolution frames (shipped-style models).
        classes: keep only these output classes.
        class_map: for a YOLO export, ``OURS=model_a,model_b`` items naming which model classes
            become which output class (others dropped), e.g. ``["player=person",
            "ball=sports ball"]``.
        threads: onnxruntime threads.
    """
    if model is None or _is_ours(Path(model)):
        if class_map:
            raise DataError("--class-map applies to YOLO exports; this model has our classes")
        kw: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
        return Detector(model, tile=tile, classes=classes, threads=threads, **kw)
    from touchline.detect.classmap import invert_class_map, parse_class_map

    mapping = invert_class_map(parse_class_map(class_map)) if class_map else None
    det = YoloOnnxDetector(
        model,
        class_map=mapping,
        threshold=0.25 if threshold is None else threshold,
        threads=threads or 2,
        tile=tile,
    )
    if classes is not None:
        det.keep_classes(classes)
    return det
