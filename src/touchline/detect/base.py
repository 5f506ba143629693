"""What every detector shares: input checks, tiling, batching, class filter, NMS, caps.

A detector subclasses :class:`BaseDetector` and implements :meth:`BaseDetector._infer`, which
turns a list of BGR images into one :class:`~touchline.types.Detections` each, in the image's
pixels. The base class checks the inputs, cuts high-resolution frames into overlapping tiles
(``tile``), runs every piece of a batch in one call, shifts tile boxes back into the frame,
keeps the requested classes, applies per-class NMS and the cap on the number of boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from touchline.detect.image import as_bgr
from touchline.detect.postprocess import batched_nms, tiles
from touchline.errors import DataError
from touchline.types import Detections

__all__ = ["BaseDetector", "passes"]


def passes(
    dets: Detections, threshold: float, class_thresholds: Mapping[str, float] | None
) -> NDArray[np.bool_]:
    """Rows whose score reaches their class's threshold (``threshold`` for unlisted classes).

    >>> d = Detections(xyxy=np.zeros((2, 4)), confidence=[0.4, 0.4], class_id=[0, 3])
    >>> passes(d, 0.3, {"ball": 0.5}).tolist()
    [True, False]
    """
    if len(dets) == 0 or dets.confidence is None:
        return np.ones(len(dets), bool)
    floor = np.full(len(dets), threshold, np.float32)
    if class_thresholds and dets.class_id is not None:
        names = dets.class_name
        for k, v in class_thresholds.items():
            floor[names == k] = v
    return np.asarray(dets.confidence >= floor)


class BaseDetector:
    """Shared post-processing; subclasses set ``class_names`` and implement ``_infer``.

    Args:
        threshold: minimum score of a reported detection.
        class_thresholds: per-class minimum scores (class name -> score) that replace
            ``threshold`` for those classes. ``_infer`` must decode down to
            :attr:`decode_threshold`.
        classes: keep only these class names (default all).
        tile: tile width in frame pixels for high-resolution frames (tile height follows
            16:9); ``None`` runs each frame whole.
        tile_overlap: fractional overlap between neighbouring tiles.
        tile_full: with tiles, also run the whole frame once (objects larger than the overlap,
            close to a wide camera, are whole only there), as SAHI does.
        nms_iou: per-class NMS IoU threshold (``None``: only when merging tiles, at 0.6).
        max_dets: at most this many detections per frame (highest scores).
    """

    class_names: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        threshold: float,
        class_thresholds: Mapping[str, float] | None = None,
        classes: Sequence[str] | None = None,
        tile: int | None = None,
        tile_overlap: float = 0.15,
        tile_full: bool = True,
        nms_iou: float | None = None,
        max_dets: int = 300,
    ) -> None:
        name = type(self).__name__
        if not 0.0 <= threshold <= 1.0:
            raise DataError(f"{name}: threshold must be in [0, 1], got {threshold}")
        for k, v in (class_thresholds or {}).items():
            if not 0.0 <= v <= 1.0:
                raise DataError(f"{name}: threshold of {k!r} must be in [0, 1], got {v}")
        if tile is not None and tile < 64:
            raise DataError(f"{name}: tile must be at least 64 pixels, got {tile}")
        if not 0.0 <= tile_overlap < 0.9:
            raise DataError(f"{name}: tile_overlap must be in [0, 0.9), got {tile_overlap}")
        if max_dets < 1:
            raise DataError(f"{name}: max_dets must be at least 1, got {max_dets}")
        self.threshold = float(threshold)
        self.class_thresholds = None if class_thresholds is None else dict(class_thresholds)
        self.tile, self.tile_overlap, self.tile_full = tile, float(tile_overlap), tile_full
        self.nms_iou, self.max_dets = nms_iou, int(max_dets)
        self._classes = None if classes is None else tuple(classes)
        self._keep: NDArray[np.int64] | None = None

    @property
    def decode_threshold(self) -> float:
        """The lowest score any class may be reported at (what ``_infer`` decodes down to)."""
        return min([self.threshold, *(self.class_thresholds or {}).values()])

    def keep_classes(self, classes: Sequence[str] | None) -> None:
        """Report only these class names (``None``: all)."""
        self._classes = None if classes is None else tuple(classes)
        self._keep = None

    def _keep_ids(self) -> NDArray[np.int64] | None:
        if self._classes is None:
            return None
        if self._keep is None:
            unknown = [c for c in self._classes if c not in self.class_names]
            if unknown:
                raise DataError(
                    f"{type(self).__name__}: unknown classes {unknown}; known {self.class_names}"
                )
            self._keep = np.array([self.class_names.index(c) for c in self._classes], np.int64)
        return self._keep

    # ---- to implement ------------------------------------------------------------------------

    def _infer(self, images: list[np.ndarray]) -> list[Detections]:
        """Detections (score >= ``threshold``) of BGR uint8 images, in their pixels."""
        raise NotImplementedError

    # ---- shared ------------------------------------------------------------------------------

    def _pieces(self, image: np.ndarray) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
        """Tiles (or the whole image) with their windows ``(x0, y0, x1, y1)`` in the frame."""
        h, w = image.shape[:2]
        th = max(32, round(self.tile * 9 / 16)) if self.tile is not None else 0
        if self.tile is None or (w <= self.tile and h <= th):
            return [(image, (0, 0, w, h))]
        pieces = [
            (image[y0:y1, x0:x1], (x0, y0, x1, y1))
            for x0, y0, x1, y1 in tiles((w, h), (self.tile, th), self.tile_overlap)
        ]
        if self.tile_full:  # large objects near the camera are whole only in the full view
            pieces.append((image, (0, 0, w, h)))
        return pieces

    def _empty(self) -> Detections:
        return Detections(
            xyxy=np.empty((0, 4), np.float32),
            confidence=np.empty(0, np.float32),
            class_id=np.empty(0, np.int64),
            class_names=self.class_names,
        )

    def _finish(
        self,
        parts: list[Detections],
        windows: list[tuple[int, int, int, int]],
        frame_size: tuple[int, int],
    ) -> Detections:
        tiled = len(parts) > 1
        fw, fh = frame_size
        shifted = []
        for d, (x0, y0, x1, y1) in zip(parts, windows, strict=True):
            if len(d) == 0:
                continue
            if tiled:  # a box cut by an inner tile edge is whole in a neighbouring tile
                b = d.xyxy
                cut = (
                    ((b[:, 0] <= 1) & (x0 > 0))
                    | ((b[:, 1] <= 1) & (y0 > 0))
                    | ((b[:, 2] >= x1 - x0 - 1) & (x1 < fw))
                    | ((b[:, 3] >= y1 - y0 - 1) & (y1 < fh))
                )
                d = d[~cut]
            if (x0, y0) != (0, 0):
                d = Detections(
                    xyxy=d.xyxy + np.array([x0, y0, x0, y0], np.float32),
                    confidence=d.confidence,
                    class_id=d.class_id,
                    class_names=self.class_names,
                )
            shifted.append(d)
        if not shifted:
            return self._empty()
        dets = shifted[0] if len(shifted) == 1 else Detections.merge(shifted)
        dets = dets[passes(dets, self.threshold, self.class_thresholds)]
        keep = self._keep_ids()
        if keep is not None:
            assert dets.class_id is not None
            dets = dets[np.isin(dets.class_id, keep)]
        if (self.nms_iou is not None or tiled) and len(dets) > 1:
            assert dets.confidence is not None and dets.class_id is not None
            iou = self.nms_iou if self.nms_iou is not None else 0.6
            dets = dets[batched_nms(dets.xyxy, dets.confidence, dets.class_id, iou)]
        assert dets.confidence is not None
        order = np.argsort(-dets.confidence, kind="stable")[: self.max_dets]
        return dets[order]

    def detect(self, image: np.ndarray) -> Detections:
        """Detections of one BGR (or grayscale) frame in its pixels, highest score first.

        Raises:
            DataError: an empty image or one that is not an image array.
        """
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detections of several frames (run together where the model allows)."""
        pieces: list[np.ndarray] = []
        owners: list[tuple[int, tuple[int, int, int, int]]] = []
        sizes = []
        for n, image in enumerate(images):
            img = as_bgr(image, f"image {n}" if len(images) > 1 else "image")
            sizes.append((img.shape[1], img.shape[0]))
            for piece, window in self._pieces(img):
                pieces.append(piece)
                owners.append((n, window))
        results = self._infer(pieces) if pieces else []
        out = []
        for n in range(len(images)):
            mine = [i for i, (o, _) in enumerate(owners) if o == n]
            out.append(
                self._finish([results[i] for i in mine], [owners[i][1] for i in mine], sizes[n])
            )
        return out

    def __call__(self, images: Iterable[np.ndarray]) -> list[Detections]:
        """Detect a sequence of frames (see :meth:`detect_batch`)."""
        return self.detect_batch(list(images))
