"""Run the shipped pitch keypoint model (ONNX, onnxruntime, CPU) on BGR frames.

>>> import numpy as np
>>> model = KeypointModel()
>>> out = model.predict([np.zeros((720, 1280, 3), np.uint8)])[0]
>>> out.points.shape, out.image_size
((35, 2), (1280, 720))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.calib.keypoints import decode_heatmaps
from touchline.errors import DataError
from touchline.geometry.homography import dlt
from touchline.models import load_model

__all__ = ["KeypointModel", "KeypointPrediction"]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class KeypointPrediction:
    """The model's output for one frame, in the frame's own pixels.

    Attributes:
        points: ``(k, 2)`` keypoint positions (``nan`` below the detection threshold).
        scores: ``(k,)`` peak heatmap values.
        names: keypoint names, in the order of ``points``.
        line: painted-line probability map at the heatmap resolution ``(h, w)``.
        area: pitch-area probability map at the heatmap resolution.
        direct: ``(4, 2)`` regressed pitch positions (metres) of ``direct_image_points``.
        direct_image_points: ``(4, 2)`` the image points of the direct estimate, in pixels.
        image_size: ``(width, height)`` of the frame.
        lines: ``(l, h, w)`` probability map of each painted line of ``line_names`` (models
            that predict lines one by one; empty otherwise).
        line_names: names of the painted elements of ``lines`` (see
            :data:`touchline.calib.keypoints.MODEL_LINES`).
    """

    points: F64
    scores: F64
    names: tuple[str, ...]
    line: NDArray[np.float32]
    area: NDArray[np.float32]
    direct: F64
    direct_image_points: F64
    image_size: tuple[int, int]
    lines: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 1, 1), np.float32))
    line_names: tuple[str, ...] = ()

    @property
    def map_to_image(self) -> F64:
        """3x3 scaling from heatmap cells (continuous coordinates) to frame pixels."""
        h, w = self.line.shape
        W, H = self.image_size
        return np.diag([W / w, H / h, 1.0])

    def direct_homography(self) -> F64 | None:
        """Image -> pitch homography of the direct estimate (``None`` if degenerate)."""
        if not np.all(np.isfinite(self.direct)):
            return None
        try:
            H = dlt(self.direct_image_points, self.direct)
        except (ValueError, np.linalg.LinAlgError):
            return None
        return H if np.all(np.isfinite(H)) else None


class KeypointModel:
    """The shipped calibration network, or any ONNX file with the same inputs and outputs.

    Args:
        path: an ONNX file; default the shipped ``calib`` model (checksum verified).
        threshold: heatmap peaks below it are not reported as keypoints.
        threads: onnxruntime intra-op threads (default: the CPU cores, at most 4).
    """

    def __init__(
        self, path: str | Path | None = None, threshold: float = 0.2, threads: int | None = None
    ) -> None:
        self.session, meta = load_model("calib", path, threads)
        self.meta = meta
        w, h = meta["input_size"]
        self.input_size: tuple[int, int] = (int(w), int(h))
        self.stride = float(meta["stride"])
        self.names: tuple[str, ...] = tuple(meta["keypoints"])
        self.line_names: tuple[str, ...] = tuple(meta.get("lines", ()))
        extra = list(meta.get("extra_maps", ["line", "area"]))
        if extra != ["line", "area"]:
            raise DataError(f"calibration model: extra maps {extra}, expected ['line', 'area']")
        self.direct_points = np.asarray(meta["direct_points"], dtype=np.float64)
        self.direct_scale = np.asarray(meta["direct_scale"], dtype=np.float64)
        self.threshold = threshold

    def preprocess(self, image: np.ndarray) -> NDArray[np.float32]:
        """BGR frame of any size -> ``(3, h, w)`` float32 RGB at the model's input size."""
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.ndim != 3 or image.shape[2] not in (3, 4):
            raise DataError(f"expected an HxWx3 BGR image, got shape {image.shape}")
        if image.shape[2] == 4:
            image = image[..., :3]
        if image.shape[0] < 8 or image.shape[1] < 8:
            raise DataError(f"image too small to calibrate: {image.shape[1]}x{image.shape[0]}")
        w, h = self.input_size
        interp = cv2.INTER_AREA if image.shape[1] > w else cv2.INTER_LINEAR
        x = cv2.resize(image, (w, h), interpolation=interp)
        return np.ascontiguousarray(x[..., ::-1].transpose(2, 0, 1), dtype=np.float32)

    def predict(self, images: Sequence[NDArray[np.uint8]]) -> list[KeypointPrediction]:
        """Predict a batch of BGR frames (they may have different sizes)."""
        if len(images) == 0:
            return []
        batch = np.stack([self.preprocess(im) for im in images])
        maps, direct = self.session.run(None, {"image": batch})
        out = []
        w, h = self.input_size
        k = len(self.names)
        nl = len(self.line_names)
        if maps.shape[1] != k + nl + 2:
            raise DataError(
                f"calibration model: {maps.shape[1]} output maps, expected {k} keypoints + "
                f"{nl} lines + 2"
            )
        for im, m, d in zip(images, maps, direct, strict=True):
            H_img, W_img = im.shape[:2]
            pts, scores = decode_heatmaps(m[:k], self.stride, self.threshold)
            pts = pts * (W_img / w, H_img / h)
            out.append(
                KeypointPrediction(
                    points=pts,
                    scores=scores,
                    names=self.names,
                    line=m[k + nl],
                    area=m[k + nl + 1],
                    direct=d.reshape(4, 2).astype(np.float64) * self.direct_scale,
                    direct_image_points=self.direct_points * (W_img, H_img),
                    image_size=(W_img, H_img),
                    lines=m[k : k + nl],
                    line_names=self.line_names,
                )
            )
        return out
