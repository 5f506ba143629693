"""Plug in any YOLO-family detector exported to ONNX (YOLOv5, YOLOv8, YOLO11, YOLOv10, ...).

:class:`YoloOnnxDetector` letterboxes each image to the network input, runs it with onnxruntime
on the CPU and decodes the three common output layouts:

* ``"v8"``: ``(batch, 4 + nc, N)`` rows ``cx, cy, w, h`` then one score per class, no
  objectness (YOLOv8, YOLO11; the transposed ``(batch, N, 4 + nc)`` is recognised too);
* ``"v5"``: ``(batch, N, 5 + nc)`` with ``cx, cy, w, h, objectness`` then class scores;
* ``"end2end"``: ``(batch, N, 6)`` with ``x1, y1, x2, y2, score, class`` (YOLOv10, or exports
  with NMS inside the graph; no NMS is applied).

Boxes are in network-input pixels; scores below ``threshold`` are dropped, per-class NMS is
applied (except end2end) and the boxes are mapped back to the original image. Class names come
from ``class_names``, else the ``names`` metadata ultralytics writes into its exports, else
``class0``, ``class1``, ... A ``class_map`` renames and folds them (``{"person": "player",
"sports ball": "ball"}``); classes it does not mention are dropped.

Example:
    >>> det = YoloOnnxDetector(  # doctest: +SKIP
    ...     "yolo11n.onnx", class_map={"person": "player", "sports ball": "ball"}
    ... )
    >>> det.detect(frame).class_names  # doctest: +SKIP
    ('player', 'ball')
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from touchline.detect.base import BaseDetector
from touchline.detect.image import as_bgr
from touchline.detect.postprocess import Letterbox, batched_nms, letterbox
from touchline.errors import DataError
from touchline.models import load_session
from touchline.types import Detections, as_image_size

__all__ = ["LAYOUTS", "YoloOnnxDetector"]

LAYOUTS: tuple[str, ...] = ("auto", "v8", "v5", "end2end")
"""Accepted values of ``YoloOnnxDetector(layout=...)``."""

_DEFAULT_SIZE = (640, 640)
_MAX_NMS = 30_000  # candidates kept (highest scores) before NMS, as ultralytics
_MAX_BATCH = 16  # images per run of a dynamic-batch model


def _parse_names(text: str, path: Path) -> tuple[str, ...]:
    """The ``names`` metadata: a dict literal ``{0: 'person', ...}`` or a list literal."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise DataError(
            f"{path}: cannot parse the 'names' metadata {text[:200]!r}; pass class_names="
        ) from None
    if isinstance(value, dict) and value:
        if all(isinstance(k, int) and k >= 0 for k in value) and all(
            isinstance(v, str) for v in value.values()
        ):
            return tuple(value.get(i, f"class{i}") for i in range(max(value) + 1))
    elif isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise DataError(
        f"{path}: the 'names' metadata {text[:200]!r} is not a dict of class id to name "
        "or a list of names; pass class_names="
    )


def _meta_imgsz(meta: Mapping[str, str]) -> tuple[int, int] | None:
    """``imgsz`` metadata (ultralytics writes ``[h, w]``) as ``(w, h)``, if readable."""
    try:
        v = ast.literal_eval(meta["imgsz"])
    except (KeyError, ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(v, int):
        v = [v, v]
    if isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(x, int) and x > 0 for x in v):
        return int(v[1]), int(v[0])
    return None


def _resolve_layout(
    shape: tuple[int, int], layout: str, nc: int | None, path: Path
) -> tuple[str, int]:
    """``(kind, nc)`` with kind one of ``v8``, ``v8t`` (transposed), ``v5``, ``end2end``."""
    a, k = shape
    full = f"(batch, {a}, {k})"

    def fail(why: str) -> DataError:
        return DataError(
            f"{path}: output shape {full} {why}; pass layout= ('v8', 'v5' or 'end2end') "
            "and class_names= to say how to read it"
        )

    if layout == "end2end":
        if k < 6:
            raise fail("has fewer than 6 values per row (x1, y1, x2, y2, score, class)")
        if nc is None:
            raise DataError(f"{path}: an end2end model without 'names' metadata needs class_names=")
        return "end2end", nc
    if layout == "v5":
        n = nc if nc is not None else k - 5
        if n < 1 or k != 5 + n:
            raise fail(f"is not a v5 layout (batch, N, 5 + classes) for {n} classes")
        return "v5", n
    if nc is None:  # guess under the v8 assumption: the smaller dimension holds 4 + nc
        nc = min(a, k) - 4
        if nc < 1:
            raise fail("is too small for any YOLO layout")
    if layout == "v8":
        if a == 4 + nc:
            return "v8", nc
        if k == 4 + nc:
            return "v8t", nc
        raise fail(f"is not a v8 layout (batch, 4 + classes, N) for {nc} classes")
    # auto
    if k == 6 and a != nc + 4 and k not in (nc + 4, nc + 5):
        return "end2end", nc
    if a == 4 + nc and k != 4 + nc:
        return "v8", nc
    if k == 5 + nc:
        return "v5", nc
    if k == 4 + nc:
        return "v8t", nc
    raise fail(
        f"matches no YOLO layout for {nc} classes (v8: (batch, {nc + 4}, N), "
        f"v5: (batch, N, {nc + 5}), end2end: (batch, N, 6))"
    )


class YoloOnnxDetector(BaseDetector):
    """A YOLO-family ONNX detector behind the :class:`~touchline.types.Detections` interface.

    ``detect(image)`` and ``detect_batch(images)`` (one run per batch when the model's batch
    dimension is dynamic, else image by image) come from
    :class:`~touchline.detect.base.BaseDetector`, with its tiling and class filter.

    Args:
        path: the ``.onnx`` file.
        class_map: model class name to output name; model classes not in it are dropped.
            Several model classes may share an output name (folded, then NMS together).
        class_names: the model's class names, by class id (default: the ``names`` metadata of
            ultralytics exports, else ``class0``, ``class1``, ...).
        input_size: network input ``(width, height)`` for models with a dynamic input shape
            (rounded up to a multiple of 32; default the ``imgsz`` metadata, else 640x640).
            A model with a fixed input shape always uses it.
        threshold: minimum score of a reported detection.
        iou_threshold: IoU above which boxes of the same output class are suppressed.
        layout: ``"auto"``, ``"v8"``, ``"v5"`` or ``"end2end"`` (see the module docs).
        max_dets: at most this many detections per image (highest scores).
        threads: onnxruntime intra-op threads.
        classes: report only these output class names (default all).
        tile: tile width in frame pixels for high-resolution frames (``None``: whole frames).
        tile_overlap: fractional overlap between neighbouring tiles.

    Raises:
        DataError: a missing file, a file onnxruntime cannot load, a model whose input is not
            one ``(batch, 3, height, width)`` image, an output shape no layout explains, a
            ``class_map`` naming classes the model does not have, or a bad argument.

    Example:
        >>> det = YoloOnnxDetector("yolov8n.onnx", class_map={"person": "player"})  # doctest: +SKIP
        >>> det.detect(np.zeros((720, 1280, 3), np.uint8)).class_names  # doctest: +SKIP
        ('player',)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        class_map: Mapping[str, str] | None = None,
        class_names: Sequence[str] | None = None,
        input_size: tuple[int, int] | None = None,
        threshold: float = 0.25,
        iou_threshold: float = 0.45,
        layout: str = "auto",
        max_dets: int = 300,
        threads: int = 2,
        classes: Sequence[str] | None = None,
        tile: int | None = None,
        tile_overlap: float = 0.15,
    ) -> None:
        self.path = Path(path)
        where = f"YoloOnnxDetector({self.path})"
        if layout not in LAYOUTS:
            raise DataError(f"{where}: layout must be one of {LAYOUTS}, got {layout!r}")
        if not 0.0 <= threshold <= 1.0:
            raise DataError(f"{where}: threshold must be in [0, 1], got {threshold}")
        if not 0.0 <= iou_threshold <= 1.0:
            raise DataError(f"{where}: iou_threshold must be in [0, 1], got {iou_threshold}")
        if isinstance(max_dets, bool) or not isinstance(max_dets, int) or max_dets < 1:
            raise DataError(f"{where}: max_dets must be a positive integer, got {max_dets!r}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise DataError(f"{where}: threads must be a positive integer, got {threads!r}")
        super().__init__(
            threshold=threshold,
            classes=classes,
            tile=tile,
            tile_overlap=tile_overlap,
            nms_iou=iou_threshold,
            max_dets=max_dets,
        )
        self.iou_threshold = float(iou_threshold)

        self._session = load_session(self.path, threads)
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            input_names = [i.name for i in inputs]
            raise DataError(f"{self.path}: expected one image input, the model has {input_names}")
        inp = inputs[0]
        shape = list(inp.shape)
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise DataError(
                f"{self.path}: expected an input of shape (batch, 3, height, width), "
                f"got {inp.name!r} {shape}"
            )
        if inp.type not in ("tensor(float)", "tensor(float16)"):
            raise DataError(f"{self.path}: expected a float image input, got {inp.type}")
        self._input_name: str = inp.name
        self._dtype = np.float16 if inp.type == "tensor(float16)" else np.float32
        batch = shape[0]
        self._batch: int | None = batch if isinstance(batch, int) and batch > 0 else None
        meta: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)
        self.input_size = self._input_size(shape[3], shape[2], input_size, meta)

        names: tuple[str, ...] | None = None
        if class_names is not None:
            names = (class_names,) if isinstance(class_names, str) else tuple(class_names)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise DataError(f"{where}: class_names must be non-empty strings, got {names!r}")
        elif "names" in meta:
            names = _parse_names(meta["names"], self.path)

        out_shape = self._output_shape()
        self._kind, nc = _resolve_layout(
            out_shape, layout, None if names is None else len(names), self.path
        )
        self.layout = "v8" if self._kind == "v8t" else self._kind
        if self._kind == "end2end":  # NMS is inside the model (the base still merges tiles)
            self.nms_iou = None
        self.model_class_names: tuple[str, ...] = (
            names if names is not None else tuple(f"class{i}" for i in range(nc))
        )
        self.class_names, self._lut = self._class_lookup(class_map)

    # ---- set-up ------------------------------------------------------------------------------

    def _input_size(
        self, w: Any, h: Any, input_size: Any, meta: Mapping[str, str]
    ) -> tuple[int, int]:
        static_w = isinstance(w, int) and w > 0
        static_h = isinstance(h, int) and h > 0
        asked = None
        if input_size is not None:
            asked = as_image_size(input_size, f"YoloOnnxDetector({self.path}) input_size")
        if static_w and static_h:
            if asked is not None and asked != (w, h):
                raise DataError(
                    f"{self.path}: the model has a fixed {w}x{h} input; "
                    f"input_size={asked} cannot be used"
                )
            return int(w), int(h)
        size = asked or _meta_imgsz(meta) or _DEFAULT_SIZE
        size = (-(-size[0] // 32) * 32, -(-size[1] // 32) * 32)
        return (int(w) if static_w else size[0]), (int(h) if static_h else size[1])

    def _output_shape(self) -> tuple[int, int]:
        """The two trailing output dimensions, running a blank image if they are dynamic."""
        shape = list(self._session.get_outputs()[0].shape)
        if len(shape) in (2, 3) and all(isinstance(d, int) and d > 0 for d in shape[-2:]):
            return int(shape[-2]), int(shape[-1])
        w, h = self.input_size
        blank = np.zeros((self._batch or 1, 3, h, w), self._dtype)
        out = self._raw_run(blank)
        return int(out.shape[1]), int(out.shape[2])

    def _class_lookup(
        self, class_map: Mapping[str, str] | None
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """Output class names and model class id -> output class id (-1: dropped)."""
        model_names = self.model_class_names
        if class_map is None:
            return model_names, np.arange(len(model_names), dtype=np.int64)
        if not isinstance(class_map, Mapping):
            raise DataError(
                f"{self.path}: class_map must map model class names to output names, "
                f"got {type(class_map).__name__}"
            )
        unknown = [k for k in class_map if k not in model_names]
        if unknown:
            raise DataError(
                f"{self.path}: class_map names {unknown} are not classes of the model; "
                f"its classes are {list(model_names)}"
            )
        bad = [v for v in class_map.values() if not isinstance(v, str) or not v]
        if bad:
            raise DataError(f"{self.path}: class_map output names must be strings, got {bad}")
        out_names = tuple(dict.fromkeys(class_map.values()))
        lut = np.array(
            [out_names.index(class_map[n]) if n in class_map else -1 for n in model_names],
            dtype=np.int64,
        )
        return out_names, lut

    # ---- inference ---------------------------------------------------------------------------

    def _raw_run(self, blob: np.ndarray) -> np.ndarray:
        try:
            out = self._session.run(None, {self._input_name: blob})[0]
        except Exception as e:  # onnxruntime raises its own exception types
            raise DataError(f"{self.path}: inference failed ({e})") from None
        out = np.asarray(out, dtype=np.float32)
        if out.ndim == 2 and blob.shape[0] == 1:
            out = out[None]
        if out.ndim != 3 or out.shape[0] != blob.shape[0]:
            raise DataError(
                f"{self.path}: expected an output of shape (batch={blob.shape[0]}, a, b), "
                f"got {out.shape}"
            )
        return out

    def _run(self, blobs: list[np.ndarray]) -> list[np.ndarray]:
        """Raw outputs ``(a, b)`` of each ``(3, h, w)`` blob, batched as the model allows."""
        step = self._batch or _MAX_BATCH
        outs: list[np.ndarray] = []
        for start in range(0, len(blobs), step):
            chunk = blobs[start : start + step]
            batch = np.stack(chunk)
            if self._batch is not None and len(chunk) < self._batch:  # fixed batch: pad it
                pad = np.zeros((self._batch - len(chunk), *batch.shape[1:]), batch.dtype)
                batch = np.concatenate([batch, pad])
            outs.extend(self._raw_run(batch)[: len(chunk)])
        return outs

    def _preprocess(self, image: np.ndarray, where: str) -> tuple[np.ndarray, Letterbox]:
        boxed, lb = letterbox(as_bgr(image, where), self.input_size)
        blob = boxed[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) * np.float32(1 / 255)
        return np.ascontiguousarray(blob, dtype=self._dtype), lb

    def _decode(self, pred: np.ndarray, lb: Letterbox) -> Detections:
        nc = len(self.model_class_names)
        kind = self._kind
        expected = {"v8": (0, 4 + nc), "v8t": (1, 4 + nc), "v5": (1, 5 + nc)}.get(kind)
        if (pred.shape[expected[0]] != expected[1]) if expected else pred.shape[1] < 6:
            raise DataError(
                f"{self.path}: output of shape {pred.shape} does not match the {self.layout} "
                f"layout for {nc} classes found at load time"
            )
        rows = pred.T if kind == "v8" else pred
        if kind == "end2end":
            conf = rows[:, 4]
            keep = conf >= self.decode_threshold
            rows, conf = rows[keep], conf[keep]
            cid = np.rint(rows[:, 5]).astype(np.int64)
            bad = (cid < 0) | (cid >= nc)
            if bad.any():
                raise DataError(
                    f"{self.path}: class id {int(cid[bad][0])} is outside the model's "
                    f"{nc} classes; pass class_names="
                )
            xyxy = rows[:, :4]
        else:
            scores = rows[:, 4 : 4 + nc] if kind != "v5" else rows[:, 5 : 5 + nc] * rows[:, 4:5]
            best = scores.max(axis=1)
            keep = best >= self.decode_threshold
            rows, scores = rows[keep], scores[keep]
            cid = scores.argmax(axis=1)
            conf = scores[np.arange(len(cid)), cid]
            cx, cy, half_w, half_h = rows[:, 0], rows[:, 1], rows[:, 2] / 2, rows[:, 3] / 2
            xyxy = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
        out_cls = self._lut[cid]
        ok = (out_cls >= 0) & np.isfinite(xyxy).all(axis=1)
        xyxy, conf, out_cls = xyxy[ok], conf[ok], out_cls[ok]
        xyxy = np.concatenate(
            [np.minimum(xyxy[:, :2], xyxy[:, 2:]), np.maximum(xyxy[:, :2], xyxy[:, 2:])], axis=1
        )
        order = np.argsort(-conf, kind="stable")
        if kind != "end2end":
            order = order[:_MAX_NMS]
            order = order[batched_nms(xyxy[order], conf[order], out_cls[order], self.iou_threshold)]
        order = order[: self.max_dets]
        return Detections(
            xyxy=lb.to_original(xyxy[order]),
            confidence=conf[order],
            class_id=out_cls[order],
            class_names=self.class_names,
        )

    def _infer(self, images: list[np.ndarray]) -> list[Detections]:
        """Detections of BGR ``uint8`` images, in their pixels (one run per batch if allowed)."""
        prepared = [self._preprocess(img, f"image {i}") for i, img in enumerate(images)]
        outs = self._run([blob for blob, _ in prepared])
        return [self._decode(out, lb) for out, (_, lb) in zip(outs, prepared, strict=True)]

    def __repr__(self) -> str:
        return (
            f"YoloOnnxDetector({str(self.path)!r}, layout={self.layout!r}, "
            f"input_size={self.input_size}, class_names={self.class_names})"
        )
