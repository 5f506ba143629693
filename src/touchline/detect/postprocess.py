"""Detector-agnostic pre- and post-processing: NMS, letterboxing and tiling.

Example:
    >>> import numpy as np
    >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    >>> nms(boxes, np.array([0.9, 0.8, 0.7]), iou_threshold=0.5).tolist()
    [0, 2]
    >>> img, lb = letterbox(np.zeros((720, 1280, 3), np.uint8), (640, 640))
    >>> img.shape, lb.scale, lb.pad_x, lb.pad_y
    ((640, 640, 3), 0.5, 0, 140)
    >>> lb.to_original(np.array([[50, 190, 150, 290]])).tolist()
    [[100.0, 100.0, 300.0, 300.0]]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from touchline.errors import DataError
from touchline.geometry.boxes import batched_nms, check_iou_threshold, nms
from touchline.types import Detections, as_image_size

__all__ = [
    "Letterbox",
    "batched_nms",
    "letterbox",
    "merge_tiles",
    "nms",
    "tiles",
]


# --------------------------------------------------------------------------------------------
# Letterbox
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letterbox:
    """How :func:`letterbox` placed an image inside the network input.

    A point ``p`` of the original image is at ``p * scale + (pad_x, pad_y)`` in the letterboxed
    image (``scale`` is exact up to the rounding of the resized size to whole pixels, which
    :meth:`to_original` accounts for).

    Attributes:
        scale: resize factor, original pixels to letterboxed pixels.
        pad_x: columns of padding on the left.
        pad_y: rows of padding on the top.
        image_size: the original ``(width, height)``.
    """

    scale: float
    pad_x: int
    pad_y: int
    image_size: tuple[int, int]

    @property
    def resized_size(self) -> tuple[int, int]:
        """``(width, height)`` of the resized image inside the padding."""
        w, h = self.image_size
        return max(1, round(w * self.scale)), max(1, round(h * self.scale))

    def to_original(self, xyxy: npt.ArrayLike) -> np.ndarray:
        """Map ``(n, 4)`` boxes from letterboxed to original pixels, clipped to the image.

        >>> lb = Letterbox(scale=0.5, pad_x=0, pad_y=140, image_size=(1280, 720))
        >>> lb.to_original([[-5, 100, 20, 150]]).tolist()
        [[0.0, 0.0, 40.0, 20.0]]
        """
        boxes = np.asarray(xyxy, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise DataError(f"Letterbox.to_original: expected shape (n, 4), got {boxes.shape}")
        w, h = self.image_size
        rw, rh = self.resized_size
        out = np.empty_like(boxes)
        out[:, 0::2] = (boxes[:, 0::2] - self.pad_x) * (w / rw)
        out[:, 1::2] = (boxes[:, 1::2] - self.pad_y) * (h / rh)
        np.clip(out[:, 0::2], 0, w, out=out[:, 0::2])
        np.clip(out[:, 1::2], 0, h, out=out[:, 1::2])
        return out.astype(np.float32)


def letterbox(
    image: np.ndarray, size: tuple[int, int], pad_value: int = 114
) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` to fit ``size`` keeping its aspect ratio, and pad it centred.

    Same placement as ultralytics' ``LetterBox(auto=False, center=True)``: ``INTER_AREA`` when
    shrinking, ``INTER_LINEAR`` when enlarging, padding split evenly (the odd pixel goes to the
    bottom/right).

    Args:
        image: ``(h, w)`` or ``(h, w, c)`` image.
        size: network input ``(width, height)``.
        pad_value: value of every channel of the padding.

    Returns:
        The ``(height, width[, c])`` letterboxed image and the :class:`Letterbox` to map boxes
        back.

    >>> img, lb = letterbox(np.zeros((100, 50, 3), np.uint8), (64, 64))
    >>> img.shape, lb
    ((64, 64, 3), Letterbox(scale=0.64, pad_x=16, pad_y=0, image_size=(50, 100)))
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        shape = getattr(image, "shape", type(image).__name__)
        raise DataError(f"letterbox: expected a non-empty (h, w[, c]) image, got {shape}")
    tw, th = as_image_size(size, "letterbox size")
    h, w = image.shape[:2]
    scale = min(tw / w, th / h)
    lb0 = Letterbox(scale=scale, pad_x=0, pad_y=0, image_size=(w, h))
    rw, rh = lb0.resized_size
    if (rw, rh) != (w, h):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (rw, rh), interpolation=interp)
    dw, dh = (tw - rw) / 2, (th - rh) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    border = (pad_value,) * 4
    out = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=border)
    if image.ndim == 3 and out.ndim == 2:  # cv2 drops a single channel axis
        out = out[:, :, None]
    return out, dataclasses.replace(lb0, pad_x=left, pad_y=top)


# --------------------------------------------------------------------------------------------
# Tiling
# --------------------------------------------------------------------------------------------


def _tile_starts(length: int, tile: int, overlap: float) -> list[int]:
    if tile >= length:
        return [0]
    max_step = max(1, math.floor(tile * (1.0 - overlap)))
    n = math.ceil((length - tile) / max_step) + 1
    # floor(i * (length - tile) / (n - 1) + 1/2) in exact integer arithmetic: consecutive
    # starts then differ by at most max_step.
    return [(2 * i * (length - tile) + n - 1) // (2 * (n - 1)) for i in range(n)]


def tiles(
    image_size: tuple[int, int], tile: tuple[int, int], overlap: float = 0.2
) -> list[tuple[int, int, int, int]]:
    """Tiles ``(x0, y0, x1, y1)`` covering an image, neighbours overlapping by ``overlap``.

    Tiles are evenly spread, lie inside the image and overlap their neighbours by at least
    ``overlap`` of the tile size along each axis. A tile larger than the image is clamped to it.
    Order: row by row, left to right.

    Args:
        image_size: image ``(width, height)``.
        tile: tile ``(width, height)``.
        overlap: minimum fractional overlap of neighbouring tiles, in ``[0, 1)``.

    >>> tiles((1000, 500), (600, 600), overlap=0.2)
    [(0, 0, 600, 500), (400, 0, 1000, 500)]
    """
    w, h = as_image_size(image_size, "tiles image_size")
    tw, th = as_image_size(tile, "tiles tile")
    if not 0.0 <= overlap < 1.0:
        raise DataError(f"tiles: overlap must be in [0, 1), got {overlap}")
    tw, th = min(tw, w), min(th, h)
    xs = _tile_starts(w, tw, overlap)
    ys = _tile_starts(h, th, overlap)
    return [(x, y, x + tw, y + th) for y in ys for x in xs]


def merge_tiles(
    parts: Sequence[Detections],
    offsets: Sequence[tuple[int, int]],
    iou_threshold: float,
) -> Detections:
    """Detections of tiles, in tile pixels, merged into one set in image pixels.

    Each part's boxes are shifted by its tile's ``(x0, y0)`` offset, the parts concatenated and
    duplicates from the overlaps removed by per-class NMS. Rows come out in descending
    confidence order (parts without ``confidence`` count as score 1, without ``class_id`` as
    one class).

    Raises:
        DataError: ``parts`` and ``offsets`` differ in length, or the parts disagree (see
            :meth:`Detections.merge`).

    >>> a = Detections(xyxy=[[90, 0, 100, 10]], confidence=[0.9], class_id=[0])
    >>> b = Detections(xyxy=[[10, 0, 20, 10]], confidence=[0.8], class_id=[0])
    >>> merge_tiles([a, b], [(0, 0), (80, 0)], iou_threshold=0.5).xyxy
    array([[ 90.,   0., 100.,  10.]], dtype=float32)
    """
    if len(parts) != len(offsets):
        raise DataError(f"merge_tiles: {len(parts)} parts but {len(offsets)} offsets")
    check_iou_threshold(iou_threshold, "merge_tiles")
    shifted = []
    for part, offset in zip(parts, offsets, strict=True):
        try:
            dx, dy = offset
        except (TypeError, ValueError):
            raise DataError(f"merge_tiles: expected (x0, y0) offsets, got {offset!r}") from None
        shift = np.array([dx, dy, dx, dy], dtype=np.float32)
        shifted.append(dataclasses.replace(part, xyxy=part.xyxy + shift))
    merged = Detections.merge(shifted)
    n = len(merged)
    scores = merged.confidence if merged.confidence is not None else np.ones(n, np.float32)
    cls = merged.class_id if merged.class_id is not None else np.zeros(n, np.int64)
    return merged[batched_nms(merged.xyxy, scores, cls, iou_threshold)]
