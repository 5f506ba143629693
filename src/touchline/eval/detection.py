"""Evaluate a detector on a labelled dataset: a YOLO split folder or a COCO json.

``PATH`` is a YOLO split folder (``images/``, ``labels/`` and a ``data.yaml`` in it or above
it), a COCO json next to its images, or a Pascal VOC folder (``.xml`` files, or ``Annotations/``)
such as Narya's tracking dataset. The detector's classes are folded onto the dataset's
by a class map (dataset class -> detector classes), by default by equal names (and ``football``
/ ``sports ball`` -> ``ball``). The detector runs at a low score threshold so that AP sees the
whole precision-recall curve; precision and recall are reported at its operating threshold.

``fps`` times the detector alone (preprocessing, network and decoding; reading the image file
is excluded), after one untimed warm-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, overload

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.datasets.detection import (
    DetectionSample,
    iter_voc_folder,
    read_coco,
    read_yolo_split,
)
from touchline.detect.base import passes
from touchline.errors import DataError
from touchline.eval.detection_metrics import (
    DEFAULT_BREAKDOWNS,
    Breakdown,
    BucketScore,
    DetectionEvaluator,
)
from touchline.protocols import Detector
from touchline.types import Detections
from touchline.utils.results import JsonResult

__all__ = [
    "DetectionScores",
    "default_class_map",
    "evaluate_detection",
    "fold_classes",
    "read_samples",
]

Progress = Callable[[str, int, int], None]
#: Dataset class names that mean one of our classes under another name.
ALIASES = {"football": "ball", "sports ball": "ball", "soccer ball": "ball", "goalie": "goalkeeper"}


class _Detector(Detector, Protocol):
    """A :class:`touchline.protocols.Detector` whose score threshold evaluation can lower."""

    threshold: float
    class_names: tuple[str, ...]


def read_samples(path: str | Path) -> list[DetectionSample]:
    """Samples of a YOLO split folder, a COCO json or a Pascal VOC folder (image pixels)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such dataset (a YOLO split folder or a COCO json)")
    if p.is_file():
        if p.suffix.lower() != ".json":
            raise DataError(f"{p}: expected a YOLO split folder or a COCO .json file")
        return read_coco(p)
    if (p / "images").is_dir():
        return read_yolo_split(p)
    if (p / "Annotations").is_dir() or any(p.glob("*.xml")):
        return list(iter_voc_folder(p))
    raise DataError(
        f"{p}: not a YOLO split folder (no images/ inside) nor a Pascal VOC folder (no .xml "
        f"files); pass the split, e.g. {p / 'test'}"
    )


def default_class_map(
    dataset_classes: Sequence[str], detector_classes: Sequence[str]
) -> dict[str, list[str]]:
    """Dataset class -> detector classes of the same name (or alias); unmatched are left out.

    >>> default_class_map(["football", "player", "crowd"], ["player", "ball"])
    {'football': ['ball'], 'player': ['player']}
    """
    ours = {c.lower(): c for c in detector_classes}
    out = {}
    for name in dataset_classes:
        key = ALIASES.get(name.lower(), name.lower())
        if key in ours:
            out[name] = [ours[key]]
    return out


@overload
def fold_classes(
    dets: Detections,
    class_map: Mapping[str, Sequence[str]],
    dataset_classes: Sequence[str],
    return_rows: Literal[False] = False,
) -> Detections: ...


@overload
def fold_classes(
    dets: Detections,
    class_map: Mapping[str, Sequence[str]],
    dataset_classes: Sequence[str],
    return_rows: Literal[True],
) -> tuple[Detections, NDArray[np.bool_]]: ...


def fold_classes(
    dets: Detections,
    class_map: Mapping[str, Sequence[str]],
    dataset_classes: Sequence[str],
    return_rows: bool = False,
) -> Detections | tuple[Detections, NDArray[np.bool_]]:
    """Detections relabelled with dataset class ids; detector classes not in the map dropped.

    >>> d = Detections(xyxy=[[0, 0, 1, 1]] * 3, confidence=[1, 1, 1], class_id=[0, 1, 3])
    >>> f = fold_classes(d, {"Player": ["player", "goalkeeper"]}, ["Ball", "Player"])
    >>> f.class_id.tolist(), f.class_names
    ([1, 1], ('Ball', 'Player'))
    """
    lookup = {}
    for ds_name, ours in class_map.items():
        for o in ours:
            lookup[o] = list(dataset_classes).index(ds_name)
    if len(dets) == 0:
        ids = np.empty(0, np.int64)
        keep = np.zeros(0, bool)
    else:
        names = dets.class_name
        ids = np.array([lookup.get(str(n), -1) for n in names], np.int64)
        keep = ids >= 0
    folded = Detections(
        xyxy=dets.xyxy[keep],
        confidence=None if dets.confidence is None else dets.confidence[keep],
        class_id=ids[keep],
        class_names=tuple(dataset_classes),
    )
    return (folded, keep) if return_rows else folded


def _check_class_map(
    class_map: Mapping[str, Sequence[str]], dataset: Sequence[str], detector: Sequence[str]
) -> None:
    seen: dict[str, str] = {}
    for ds_name, ours in class_map.items():
        if ds_name not in dataset:
            raise DataError(
                f"--class-map: {ds_name!r} is not a dataset class; have {list(dataset)}"
            )
        for o in ours:
            if o not in detector:
                raise DataError(
                    f"--class-map: {o!r} is not a detector class; have {list(detector)}"
                )
            if o in seen:
                raise DataError(
                    f"--class-map: detector class {o!r} is mapped twice "
                    f"({seen[o]!r} and {ds_name!r})"
                )
            seen[o] = ds_name


@dataclass(frozen=True)
class DetectionScores(JsonResult):
    """What :func:`evaluate_detection` measured; the per-class maps are keyed by dataset class
    (``None``: no ground truth, or no prediction for precision)."""

    data: str
    images: int
    classes: list[str]
    class_map: Mapping[str, Sequence[str]]  # dataset class -> detector classes
    unmapped_classes: list[str]
    ap50: dict[str, float | None]
    ap50_95: dict[str, float | None]
    precision: dict[str, float | None]
    recall: dict[str, float | None]
    n_truth: dict[str, int]
    threshold: float | dict[str, float]  # operating threshold, or ``default`` and per class
    frame_size: tuple[int, int] | None
    fps: float | None
    #: dataset class -> breakdown (size, region, crowd) -> bucket -> AP50, recall, truth count
    breakdown: dict[str, dict[str, dict[str, BucketScore]]]


def evaluate_detection(
    data: str | Path,
    detector: _Detector,
    *,
    class_map: Mapping[str, Sequence[str]] | None = None,
    frame_size: tuple[int, int] | None = None,
    ap_threshold: float = 0.01,
    progress: Progress | None = None,
    breakdowns: Sequence[Breakdown] = DEFAULT_BREAKDOWNS,
) -> DetectionScores:
    """AP50, AP50-95, precision, recall per dataset class, image count and detector fps.

    Args:
        data: a YOLO split folder or a COCO json.
        detector: anything with ``detect(image) -> Detections``, ``threshold`` and
            ``class_names`` (e.g. :class:`touchline.detect.Detector` or
            :class:`touchline.detect.YoloOnnxDetector`).
        class_map: dataset class -> detector classes (default :func:`default_class_map`).
        frame_size: ``(width, height)`` the images are resized to before detection, for
            datasets whose images were stretched (the DFL images: 1280x1280 from 1920x1080).
        ap_threshold: score threshold while collecting detections for AP.
        breakdowns: where it fails: AP50 and recall per class and bucket (default object size
            relative to the frame height, image region, crowded or isolated; see
            :mod:`touchline.eval.detection_metrics`).
    """
    samples = read_samples(data)
    if not samples:
        raise DataError(f"{data}: the dataset has no images")
    dataset_classes = samples[0].detections.class_names
    cmap = (
        dict(class_map)
        if class_map is not None
        else default_class_map(dataset_classes, detector.class_names)
    )
    _check_class_map(cmap, dataset_classes, detector.class_names)
    operating = float(detector.threshold)
    per_class = getattr(detector, "class_thresholds", None)
    ev = DetectionEvaluator(dataset_classes, threshold=operating, breakdowns=breakdowns)
    seconds = 0.0
    detector.threshold = min(operating, ap_threshold)
    if per_class is not None:
        detector.class_thresholds = None  # type: ignore[attr-defined]
    try:
        for k, s in enumerate(samples):
            img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
            if img is None:
                raise DataError(f"{s.image}: cannot read the image")
            truth = s.detections
            h, w = img.shape[:2]
            if frame_size is not None and (w, h) != tuple(frame_size):
                img = cv2.resize(img, tuple(frame_size), interpolation=cv2.INTER_LINEAR)
            fx, fy = img.shape[1] / s.image_size[0], img.shape[0] / s.image_size[1]
            truth = Detections(
                xyxy=truth.xyxy * np.array([fx, fy, fx, fy], np.float32),
                class_id=truth.class_id,
                class_names=truth.class_names,
            )
            if k == 0:
                detector.detect(img)  # warm-up, untimed
            t0 = time.perf_counter()
            pred = detector.detect(img)
            seconds += time.perf_counter() - t0
            at = passes(pred, operating, per_class)
            folded, kept = fold_classes(pred, cmap, dataset_classes, return_rows=True)
            ev.add(folded, truth, operating=at[kept], image_size=(img.shape[1], img.shape[0]))
            if progress:
                progress("evaluate", k + 1, len(samples))
    finally:
        detector.threshold = operating
        if per_class is not None:
            detector.class_thresholds = per_class  # type: ignore[attr-defined]
    return DetectionScores(
        data=str(data),
        images=ev.images,
        classes=list(dataset_classes),
        class_map=cmap,
        unmapped_classes=[c for c in dataset_classes if c not in cmap],
        **ev.summary(),  # type: ignore[arg-type]  # ap50 ... n_truth (counts: ints)
        threshold=operating if per_class is None else {"default": operating, **per_class},
        frame_size=frame_size or None,
        fps=round(len(samples) / seconds, 2) if seconds > 0 else None,
        breakdown=ev.breakdown(),
    )
