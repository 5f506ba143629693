"""The shipped people-and-ball detector (ONNX, onnxruntime, CPU).

A frame of any size is resized to the network's input width (960 pixels: a 1920x1080 frame is
halved, a 720p frame enlarged by 4/3), padded to a multiple of 32 and run once; the centre
heatmaps are decoded into :class:`~touchline.types.Detections` in the frame's own pixels, with
classes ``player``, ``goalkeeper``, ``referee`` and ``ball``. For high-resolution frames where
people are small (a wide fixed camera covering the whole pitch), ``tile`` cuts the frame into
overlapping tiles that are each run at the network's scale, and merges them with per-class NMS.

Example:
    >>> import numpy as np
    >>> det = Detector()
    >>> dets = det.detect(np.zeros((720, 1280, 3), np.uint8))
    >>> len(dets), dets.class_names
    (0, ('player', 'goalkeeper', 'referee', 'ball'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.detect.base import BaseDetector
from touchline.detect.centernet import decode_centernet
from touchline.errors import DataError
from touchline.models import load_model
from touchline.types import Detections

__all__ = ["Detector"]

DEFAULT_THRESHOLD = 0.3
#: Longest side (network pixels) a frame is allowed to reach; taller-than-wide images are
#: scaled to fit it instead of to the input width.
_MAX_SIDE = 1920


@dataclass(frozen=True)
class _Prepared:
    blob: NDArray[np.float32]  # (3, h, w) RGB 0..255
    scale: float  # network pixels per frame pixel
    size: tuple[int, int]  # frame (w, h)


class Detector(BaseDetector):
    """Detect players, goalkeepers, referees and the ball.

    Args:
        path: an ONNX file made by ``python -m touchline.train.detect`` (with its ``.json``
            beside it); default the shipped ``detect`` model (checksum verified).
        threshold: minimum score of a reported detection, one for all classes or a mapping
            class name -> score; default the model's per-class thresholds (chosen on the valid
            split for the best F1), else 0.3.
        classes: keep only these class names (default all).
        input_width: network input width (default the model's, 960).
        tile: tile width in frame pixels for high-resolution frames (height in the frame's
            aspect ratio); ``None`` runs the whole frame at once.
        tile_overlap: fractional overlap between neighbouring tiles.
        nms_iou: IoU above which same-class boxes are suppressed (tiles always; the centre
            heatmap rarely needs it on a single image). ``None`` disables.
        max_dets: at most this many detections per image.
        threads: onnxruntime threads (default the CPU cores, at most 4).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        threshold: float | Mapping[str, float] | None = None,
        classes: Sequence[str] | None = None,
        input_width: int | None = None,
        tile: int | None = None,
        tile_overlap: float = 0.15,
        nms_iou: float | None = 0.7,
        max_dets: int = 300,
        threads: int | None = None,
    ) -> None:
        self.session, meta = load_model("detect", path, threads)
        if threshold is None:  # the model's own per-class thresholds (best F1 on valid)
            threshold = meta.get("class_thresholds", DEFAULT_THRESHOLD)
        if isinstance(threshold, Mapping):
            floor, per_class = DEFAULT_THRESHOLD, dict(threshold)
        else:
            floor, per_class = float(threshold), None
        super().__init__(
            threshold=floor,
            class_thresholds=per_class,
            classes=classes,
            tile=tile,
            tile_overlap=tile_overlap,
            nms_iou=nms_iou,
            max_dets=max_dets,
        )
        self.meta: dict[str, Any] = meta
        self.class_names = tuple(meta["classes"])
        self.stride = int(meta["stride"])
        self.input_width = int(input_width or meta["input_width"])
        if self.input_width < 32 or self.input_width % 32:
            raise DataError(f"Detector: input_width must be a multiple of 32, got {input_width}")

    # ---- preprocessing -----------------------------------------------------------------------

    def _prepare(self, image: np.ndarray) -> _Prepared:
        h, w = image.shape[:2]
        scale = min(self.input_width / w, _MAX_SIDE / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        # Bilinear is exact area averaging at 1/2 and costs a fifth of INTER_AREA at 3/4 (the
        # 1280 -> 960 resize of 720p frames); stronger reductions need the area filter.
        interp = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
        resized = image if (nw, nh) == (w, h) else cv2.resize(image, (nw, nh), interpolation=interp)
        pw = max(64, nw + (-nw % 32)) - nw
        ph = max(64, nh + (-nh % 32)) - nh
        if pw or ph:
            resized = cv2.copyMakeBorder(resized, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        blob = cv2.dnn.blobFromImage(resized, 1.0, swapRB=True)[0]
        return _Prepared(blob, scale, (w, h))

    # ---- inference ---------------------------------------------------------------------------

    def _infer(self, images: list[np.ndarray]) -> list[Detections]:
        prepared = [self._prepare(im) for im in images]
        out: list[Detections | None] = [None] * len(prepared)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, p in enumerate(prepared):
            groups.setdefault(p.blob.shape, []).append(i)
        for idx in groups.values():
            batch = np.stack([prepared[i].blob for i in idx])
            peaks, box = self.session.run(None, {"image": batch})
            for k, i in enumerate(idx):
                p = prepared[i]
                xyxy, score, cls = decode_centernet(
                    peaks[k], box[k], self.stride, self.decode_threshold, self.max_dets
                )
                xyxy /= p.scale
                xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, p.size[0])
                xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, p.size[1])
                out[i] = Detections(
                    xyxy=xyxy, confidence=score, class_id=cls, class_names=self.class_names
                )
        return [d for d in out if d is not None]
