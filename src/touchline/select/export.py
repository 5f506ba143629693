"""Outputs of a selection: the selection table, the frames and crops, and labelling-tool imports.

* :func:`write_selection` -- ``selection.json`` and ``selection.csv``: one row per selected
  sample in pick order: file name, video, frame, source, scores and metadata;
* :func:`extract_frames` -- the selected frames as image files under their Lightly names
  (video frames as PNG; image files are copied byte for byte);
* :func:`extract_crops` -- object crops (object-level selection) as PNG, under given names;
* :func:`label_studio_tasks` -- a Label Studio import (tasks with the image URL and, when given,
  the predictions as pre-annotations: rectangles and keypoints, in percent of the image);
* :func:`cvat_xml` -- a "CVAT for images 1.1" annotation file (images with their boxes and
  points) to import into a CVAT task created from the extracted frames.

Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.select.types import Sample
from touchline.utils.files import atomic_path, write_json_atomic, write_text_atomic

__all__ = [
    "PreAnnotation",
    "cvat_xml",
    "extract_crops",
    "extract_frames",
    "label_studio_tasks",
    "selection_rows",
    "write_label_tools",
    "write_selection",
]


@dataclass(frozen=True)
class PreAnnotation:
    """One predicted object to hand to labellers as a starting point.

    Attributes:
        label: category name.
        box: ``(x1, y1, x2, y2)`` in pixels, or ``None``.
        keypoints: ``(k, 3)`` ``x, y, visibility/score`` in pixels, or ``None``.
        keypoint_names: names of the ``k`` keypoints (default ``kp0``, ``kp1``, ...).
        score: the prediction's confidence.
    """

    label: str
    box: tuple[float, float, float, float] | None = None
    keypoints: NDArray[np.float64] | None = None
    keypoint_names: Sequence[str] | None = None
    score: float | None = None


def _value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def selection_rows(
    samples: Sequence[Sample],
    selected: Sequence[int],
    *,
    scores: Mapping[str, NDArray[np.float64]] | None = None,
    metadata: Mapping[str, NDArray[Any]] | None = None,
) -> list[dict[str, Any]]:
    """One dict per selected sample, in pick order.

    >>> s = [Sample("a-0-mp4.png", "a.mp4", "a.mp4", 0), Sample("b.jpg", "b.jpg")]
    >>> selection_rows(s, [1, 0], scores={"w": np.array([0.5, 0.25])})[0]
    {'rank': 0, 'file_name': 'b.jpg', 'video': None, 'frame': None, 'source': 'b.jpg', 'w': 0.25}
    """
    rows = []
    for rank, i in enumerate(int(k) for k in selected):
        if not 0 <= i < len(samples):
            raise DataError(f"selection: index {i} is not a sample (0..{len(samples) - 1})")
        s = samples[i]
        row: dict[str, Any] = {
            "rank": rank,
            "file_name": s.file_name,
            "video": s.video,
            "frame": s.frame,
            "source": s.source,
        }
        for name, values in (scores or {}).items():
            row[name] = _value(values[i])
        for key, values in (metadata or {}).items():
            row[key if key not in row else f"metadata.{key}"] = _value(values[i])
        rows.append(row)
    return rows


def write_selection(
    out: str | Path,
    samples: Sequence[Sample],
    selected: Sequence[int],
    *,
    scores: Mapping[str, NDArray[np.float64]] | None = None,
    metadata: Mapping[str, NDArray[Any]] | None = None,
) -> tuple[Path, Path]:
    """Write ``selection.json`` and ``selection.csv`` into ``out``; returns both paths."""
    rows = selection_rows(samples, selected, scores=scores, metadata=metadata)
    out = Path(out)
    j = write_json_atomic(out / "selection.json", {"selected": rows})
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["rank", "file_name", "video", "frame", "source"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    c = write_text_atomic(out / "selection.csv", buf.getvalue())
    return j, c


def _is_image_file(sample: Sample) -> bool:
    return sample.file_name == Path(sample.source).name or sample.source.endswith(sample.file_name)


def extract_frames(
    frames: Iterable[tuple[Sample, NDArray[np.uint8]]], out: str | Path
) -> list[Path]:
    """Write each ``(sample, BGR image)`` under ``out/<file_name>``; image files that exist on
    disk as themselves are copied unchanged. Returns the paths, in the order given."""
    import cv2

    out = Path(out)
    written = []
    for sample, image in frames:
        target = out / sample.file_name
        src = Path(sample.source)
        if _is_image_file(sample) and src.is_file():
            with atomic_path(target) as tmp:
                shutil.copyfile(src, tmp)
        else:
            with atomic_path(target, suffix=".png") as tmp:
                if not cv2.imwrite(str(tmp), image):
                    raise DataError(f"{target}: could not write the frame")
        written.append(target)
    return written


def extract_crops(
    frames: Iterable[tuple[Sample, NDArray[np.uint8]]],
    crops: Mapping[str, Sequence[tuple[str, tuple[float, float, float, float]]]],
    out: str | Path,
    *,
    margin: float = 0.1,
) -> list[Path]:
    """Write object crops: ``crops[file_name]`` lists ``(crop name, (x1, y1, x2, y2))`` of a
    frame; each box is grown by ``margin`` of its size, clipped to the image, and written as
    ``out/<crop name>`` (PNG). Returns the paths written."""
    import cv2

    out = Path(out)
    written = []
    for sample, image in frames:
        h, w = image.shape[:2]
        for name, (x1, y1, x2, y2) in crops.get(sample.file_name, ()):
            mx, my = margin * (x2 - x1), margin * (y2 - y1)
            a, b = int(max(0, np.floor(x1 - mx))), int(max(0, np.floor(y1 - my)))
            c, d = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
            if c <= a or d <= b:
                continue
            target = out / name
            with atomic_path(target, suffix=".png") as tmp:
                cv2.imwrite(str(tmp), image[b:d, a:c])
            written.append(target)
    return written


def _ls_result(
    rid: str, kind: str, from_name: str, size: tuple[int, int], value: dict[str, Any]
) -> dict[str, Any]:
    """One Label Studio result of the image control (``value`` in percent of ``size``)."""
    w, h = size
    return {
        "id": rid,
        "type": kind,
        "from_name": from_name,
        "to_name": "image",
        "original_width": w,
        "original_height": h,
        "value": value,
    }


def _ls_results(ann: Sequence[PreAnnotation], size: tuple[int, int]) -> list[dict[str, Any]]:
    w, h = size
    results: list[dict[str, Any]] = []
    for k, a in enumerate(ann):
        if a.box is not None:
            x1, y1, x2, y2 = a.box
            box = {
                "x": 100.0 * x1 / w,
                "y": 100.0 * y1 / h,
                "width": 100.0 * (x2 - x1) / w,
                "height": 100.0 * (y2 - y1) / h,
                "rotation": 0,
                "rectanglelabels": [a.label],
            }
            result = _ls_result(f"b{k}", "rectanglelabels", "label", size, box)
            if a.score is not None:
                result["score"] = float(a.score)
            results.append(result)
        if a.keypoints is not None:
            names = list(a.keypoint_names or [f"kp{j}" for j in range(len(a.keypoints))])
            for j, (x, y, v) in enumerate(np.asarray(a.keypoints, dtype=float)):
                if v <= 0:
                    continue
                point = {
                    "x": 100.0 * x / w,
                    "y": 100.0 * y / h,
                    "width": 0.5,
                    "keypointlabels": [names[j]],
                }
                results.append(_ls_result(f"k{k}_{j}", "keypointlabels", "keypoint", size, point))
    return results


def label_studio_tasks(
    file_names: Sequence[str],
    *,
    image_url: str = "/data/local-files/?d=frames/",
    annotations: Mapping[str, Sequence[PreAnnotation]] | None = None,
    sizes: Mapping[str, tuple[int, int]] | None = None,
    model_version: str = "touchline",
) -> list[dict[str, Any]]:
    """Label Studio tasks: ``{"data": {"image": url}}`` per file, with predictions when given.

    ``image_url`` is prefixed to each file name (the default serves ``frames/`` through Label
    Studio's local-file storage). Pre-annotations need each image's ``(width, height)``.

    >>> t = label_studio_tasks(["a.png"], annotations={"a.png": [PreAnnotation("player",
    ...     box=(10, 20, 30, 60))]}, sizes={"a.png": (100, 200)})
    >>> t[0]["data"]["image"], t[0]["predictions"][0]["result"][0]["value"]["height"]
    ('/data/local-files/?d=frames/a.png', 20.0)
    """
    tasks = []
    for name in file_names:
        task: dict[str, Any] = {"data": {"image": f"{image_url}{name}", "file_name": name}}
        ann = (annotations or {}).get(name)
        if ann:
            if not sizes or name not in sizes:
                raise DataError(f"label studio export: no image size for {name!r}")
            task["predictions"] = [
                {"model_version": model_version, "result": _ls_results(ann, sizes[name])}
            ]
        tasks.append(task)
    return tasks


def cvat_xml(
    file_names: Sequence[str],
    sizes: Mapping[str, tuple[int, int]],
    *,
    annotations: Mapping[str, Sequence[PreAnnotation]] | None = None,
    labels: Sequence[str] = (),
) -> str:
    """A "CVAT for images 1.1" annotation document for the selected frames.

    Boxes become ``<box>`` with the object's label, keypoints one ``<points>`` per visible
    keypoint labelled with the keypoint's name (the labels list every name used). Import it into a CVAT task created from the extracted frames.

    >>> x = cvat_xml(["a.png"], {"a.png": (100, 50)},
    ...              annotations={"a.png": [PreAnnotation("ball", box=(1, 2, 3, 4))]})
    >>> '<box label="ball"' in x and 'width="100" height="50"' in x
    True
    """
    names = list(labels)
    for anns in (annotations or {}).values():
        for a in anns:
            kp = (
                []
                if a.keypoints is None
                else list(a.keypoint_names or [f"kp{j}" for j in range(len(a.keypoints))])
            )
            for label in ([a.label] if a.box is not None else []) + kp:
                if label not in names:
                    names.append(label)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<annotations>",
        "  <version>1.1</version>",
        "  <meta><task><labels>",
        *(f"    <label><name>{_xml(n)}</name></label>" for n in names),
        "  </labels></task></meta>",
    ]
    for k, name in enumerate(file_names):
        if name not in sizes:
            raise DataError(f"cvat export: no image size for {name!r}")
        w, h = sizes[name]
        lines.append(f'  <image id="{k}" name={quoteattr(name)} width="{w}" height="{h}">')
        for a in (annotations or {}).get(name, ()):
            if a.box is not None:
                x1, y1, x2, y2 = (float(v) for v in a.box)
                lines.append(
                    f'    <box label={quoteattr(a.label)} occluded="0" source="auto" '
                    f'xtl="{x1:.2f}" ytl="{y1:.2f}" xbr="{x2:.2f}" ybr="{y2:.2f}"></box>'
                )
            if a.keypoints is not None:  # one named point per visible keypoint
                names_k = list(a.keypoint_names or [f"kp{j}" for j in range(len(a.keypoints))])
                for j, (x, y, v) in enumerate(np.asarray(a.keypoints, float)):
                    if v > 0:
                        lines.append(
                            f'    <points label={quoteattr(names_k[j])} occluded="0" '
                            f'source="auto" points="{x:.2f},{y:.2f}"></points>'
                        )
        lines.append("  </image>")
    lines.append("</annotations>")
    return "\n".join(lines) + "\n"


def _xml(text: str) -> str:
    return quoteattr(text)[1:-1]


def write_label_tools(
    out: str | Path,
    file_names: Sequence[str],
    sizes: Mapping[str, tuple[int, int]],
    *,
    annotations: Mapping[str, Sequence[PreAnnotation]] | None = None,
) -> tuple[Path, Path]:
    """Write ``label_studio_tasks.json`` and ``cvat_annotations.xml`` into ``out``."""
    out = Path(out)
    ls = write_text_atomic(
        out / "label_studio_tasks.json",
        json.dumps(label_studio_tasks(file_names, annotations=annotations, sizes=sizes), indent=1)
        + "\n",
    )
    cv = write_text_atomic(
        out / "cvat_annotations.xml", cvat_xml(file_names, sizes, annotations=annotations)
    )
    return ls, cv
