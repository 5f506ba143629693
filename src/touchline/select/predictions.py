"""Model predictions in the Lightly Worker's prediction format: read, validate, write.

The layout (Lightly's ``.lightly/predictions`` folder; ``predictions_dir`` below is that folder)::

    predictions_dir/
        tasks.json                   ["pitch_keypoints", "players"]
        pitch_keypoints/
            schema.json              {"task_type": "keypoint-detection", "categories": [...]}
            match-053-mp4.json       one file per video frame ...
            seq_a/000123.json        ... and per image (sub-folders kept)
        players/
            ...

**Names.** A sample's prediction file is its Lightly ``file_name`` with the extension replaced
by ``.json`` (:func:`prediction_file_name`): ``{video}-{frame:0N}-{ext}.json`` for frame ``frame``
of video ``{video}.{ext}`` (``N`` digits, see :func:`touchline.select.types.video_frame_name`;
a video in a sub-folder keeps it: ``sub/match-053-mp4.json``), and the image's relative path
without its extension for an image (``seq_a/000123.json`` for ``seq_a/000123.jpg``).

**Files.** ``{"file_name": <the sample's file_name>, "predictions": [<object>, ...]}`` where an
object is ``{"category_id": int, "score": float, "bbox": [x, y, w, h], "probabilities": [...]}``
for ``object-detection`` and ``{"category_id": int, "keypoints": [x1, y1, s1, ..., xk, yk, sk],
"score": float, "bbox": [...] (optional), "probabilities": [...] (optional)}`` for
``keypoint-detection``. Coordinates are pixels from the top-left image corner; ``s`` is the
keypoint's confidence; ``probabilities`` follow the order of the schema's category ids.

**Choices where Lightly's docs are silent** (documented here, tested):

* a sample without a prediction file has no objects (``FramePredictions.missing`` is True);
  pass ``require_all=True`` to make that an error instead;
* a keypoint object without ``bbox`` gets the box of its visible keypoints (``s > 0``) grown by
  :data:`BBOX_MARGIN` of its size on each side (at least 1 px; :func:`infer_bbox`),
  ``bbox_inferred=True``; no
  visible keypoint: no box. Inferred boxes are not written back;
* unknown keys in a prediction file are ignored (files written by other tools may carry
  more), except a near miss of a known key (a typo such as ``"bboxes"`` would drop data
  silently) and a prediction key of another task type (``keypoints`` in an object-detection
  task), which are errors; ``probabilities`` must have one value per category, each in [0, 1],
  summing to 1 within 0.01 (a one-category task gives ``[p]``);
* files that are not JSON, or whose name matches no input sample, are errors; hidden files
  are ignored.

Sources: https://docs.lightly.ai/docs/prediction-format and the Lightly repository's
``docs/source/docker/advanced/datasource_predictions.rst``.

>>> import shutil, tempfile, pathlib
>>> from touchline.select.types import Sample
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> task = Task("players", "object-detection", (Category(0, "player"), Category(1, "ball")))
>>> _ = write_tasks(d, [task])
>>> frame = FramePredictions("clip-3-mp4.png", (ObjectPrediction(0, 0.9, bbox=[10, 20, 30, 60]),))
>>> write_prediction(d, task, frame)
'.../players/clip-3-mp4.json'
>>> samples = [Sample(f"clip-{k}-mp4.png", "clip.mp4", "clip.mp4", k) for k in range(5)]
>>> preds = read_predictions(d, read_tasks(d)[0], samples)
>>> preds["clip-3-mp4.png"] == frame, preds["clip-0-mp4.png"].missing
(True, True)
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import json
import math
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeGuard

import numpy as np
import numpy.typing as npt

from touchline.errors import DataError
from touchline.select.inputs import _is_video_frame, _open_root, _read_json, _Root
from touchline.select.types import Sample, parse_video_frame_name

__all__ = [
    "BBOX_MARGIN",
    "SUPPORTED_TASK_TYPES",
    "TASK_TYPES",
    "Category",
    "FramePredictions",
    "ObjectPrediction",
    "Task",
    "infer_bbox",
    "prediction_file_name",
    "read_predictions",
    "read_task",
    "read_tasks",
    "write_prediction",
    "write_predictions",
    "write_tasks",
]

TASK_TYPES = (
    "classification",
    "object-detection",
    "keypoint-detection",
    "semantic-segmentation",
    "instance-segmentation",
)
"""Every ``task_type`` Lightly defines (a schema with another type is an error)."""

SUPPORTED_TASK_TYPES = ("object-detection", "keypoint-detection")
"""Task types whose prediction files Touchline reads and writes."""

BBOX_MARGIN = 0.1
"""Margin added on each side of a box inferred from keypoints, as a fraction of its size."""

_PROBABILITY_SUM_TOLERANCE = 0.01
_OBJECT_KEYS = {
    "object-detection": ({"category_id", "bbox", "score"}, {"probabilities"}),
    "keypoint-detection": ({"category_id", "keypoints", "score"}, {"bbox", "probabilities"}),
}


# ------------------------------------------------------------------------------------ tasks


@dataclass(frozen=True)
class Category:
    """One category of a task's schema (COCO style).

    Attributes:
        id: the ``category_id`` predictions use.
        name: its name.
        keypoints: names of its keypoints in prediction order (keypoint tasks), or ``None``
            when the schema does not give them (then any multiple of 3 values is accepted).
        skeleton: pairs of 1-based keypoint indices joined by an edge (COCO), or ``None``.
    """

    id: int
    name: str
    keypoints: tuple[str, ...] | None = None
    skeleton: tuple[tuple[int, int], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The schema's JSON object for this category.

        >>> Category(0, "pitch", ("corner", "spot")).to_json()
        {'id': 0, 'name': 'pitch', 'keypoints': ['corner', 'spot']}
        """
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.keypoints is not None:
            out["keypoints"] = list(self.keypoints)
        if self.skeleton is not None:
            out["skeleton"] = [list(edge) for edge in self.skeleton]
        return out


@dataclass(frozen=True)
class Task:
    """A prediction task: a sub-folder of ``predictions_dir`` with its ``schema.json``.

    Attributes:
        name: the task (and folder) name, as listed in ``tasks.json``.
        type: Lightly's ``task_type`` (one of :data:`TASK_TYPES`).
        categories: the schema's categories; ``probabilities`` follow their order.
    """

    name: str
    type: str
    categories: tuple[Category, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise DataError(f"a task name must be a non-empty folder name, got {self.name!r}")
        if self.type not in TASK_TYPES:
            raise DataError(
                f"task {self.name!r}: unknown task_type {self.type!r} "
                f"(Lightly's types: {', '.join(TASK_TYPES)})"
            )
        ids = [c.id for c in self.categories]
        if len(set(ids)) != len(ids):
            raise DataError(f"task {self.name!r}: category ids must be unique, got {ids}")

    def category(self, category_id: int) -> Category | None:
        """The category with this id, or ``None``.

        >>> Task("t", "object-detection", (Category(3, "ball"),)).category(3).name
        'ball'
        """
        return next((c for c in self.categories if c.id == category_id), None)

    def to_schema(self) -> dict[str, Any]:
        """The task's ``schema.json`` content.

        >>> Task("t", "object-detection", (Category(0, "ball"),)).to_schema()
        {'task_type': 'object-detection', 'categories': [{'id': 0, 'name': 'ball'}]}
        """
        return {"task_type": self.type, "categories": [c.to_json() for c in self.categories]}

    @classmethod
    def from_schema(cls, name: str, schema: Any, *, where: str = "schema.json") -> Task:
        """Build a task from its parsed ``schema.json`` (``where`` names the file in errors).

        The task type is read from ``task_type`` (or the older ``task_description``).

        >>> schema = {"task_type": "keypoint-detection",
        ...           "categories": [{"id": 0, "name": "pitch", "keypoints": ["a", "b"]}]}
        >>> Task.from_schema("kp", schema).categories[0].keypoints
        ('a', 'b')
        """
        if not isinstance(schema, dict):
            raise DataError(f"{where}: must be a JSON object, got {type(schema).__name__}")
        task_type = schema.get("task_type", schema.get("task_description"))
        if task_type is None:
            raise DataError(f"{where}: missing key 'task_type' (one of {', '.join(TASK_TYPES)})")
        if task_type not in TASK_TYPES:
            raise DataError(
                f"{where}: unknown task_type {task_type!r} (one of {', '.join(TASK_TYPES)})"
            )
        raw = schema.get("categories")
        if not isinstance(raw, list):
            raise DataError(f"{where}: 'categories' must be a list of {{'id', 'name'}} objects")
        categories = tuple(_category(c, f"{where}: categories[{i}]") for i, c in enumerate(raw))
        try:
            return cls(name, task_type, categories)
        except DataError as e:
            raise DataError(f"{where}: {e}") from e


def _category(raw: Any, where: str) -> Category:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: must be an object with 'id' and 'name'")
    cid, name = raw.get("id"), raw.get("name")
    if not _is_int(cid):
        raise DataError(f"{where}: 'id' must be an integer, got {cid!r}")
    if not isinstance(name, str):
        raise DataError(f"{where}: 'name' must be a string, got {name!r}")
    names = raw.get("keypoints")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise DataError(f"{where}: 'keypoints' must be a list of keypoint names")
    edges = raw.get("skeleton")
    skeleton = None
    if edges is not None:
        if not (
            isinstance(edges, list)
            and all(isinstance(e, list) and len(e) == 2 and all(map(_is_int, e)) for e in edges)
        ):
            raise DataError(f"{where}: 'skeleton' must be a list of [i, j] keypoint index pairs")
        skeleton = tuple((int(a), int(b)) for a, b in edges)
    return Category(int(cid), name, None if names is None else tuple(names), skeleton)


def _required_json(root: _Root, rel: str, needed: str) -> Any:
    """The JSON of ``rel`` in ``root``; DataError ``missing: {needed}`` when it is not there."""
    if not root.is_file(rel):
        raise DataError(f"{root.where(rel)}: missing: {needed}")
    return _read_json(root, rel)


def read_task(predictions_dir: str | os.PathLike[str], name: str) -> Task:
    """Read one task's ``schema.json``.

    Raises:
        DataError: the schema is missing or malformed (the message names the file).

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_tasks(d, [Task("balls", "object-detection", (Category(0, "ball"),))])
    >>> read_task(d, "balls").type
    'object-detection'
    >>> shutil.rmtree(d)
    """
    root = _open_root(predictions_dir)
    rel = f"{name}/schema.json"
    raw = _required_json(
        root,
        rel,
        "every task listed in tasks.json needs a schema.json with 'task_type' and 'categories'",
    )
    return Task.from_schema(name, raw, where=root.where(rel))


def read_tasks(predictions_dir: str | os.PathLike[str]) -> list[Task]:
    """Read ``tasks.json`` and the ``schema.json`` of every task it lists, in its order.

    Raises:
        DataError: a file is missing or malformed, or a task is listed twice.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_tasks(d, [Task("a", "object-detection"), Task("b", "keypoint-detection")])
    >>> [(t.name, t.type) for t in read_tasks(d)]
    [('a', 'object-detection'), ('b', 'keypoint-detection')]
    >>> shutil.rmtree(d)
    """
    root = _open_root(predictions_dir)
    names = _required_json(
        root,
        "tasks.json",
        'the predictions folder needs a tasks.json listing its task folders, e.g. ["my_task"]',
    )
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise DataError(f"{root.where('tasks.json')}: must be a JSON list of task names")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"{root.where('tasks.json')}: tasks listed twice: {duplicates}")
    return [read_task(predictions_dir, n) for n in names]


def write_tasks(predictions_dir: str | os.PathLike[str], tasks: Sequence[Task]) -> list[str]:
    """Write ``tasks.json`` and each task's ``schema.json`` (atomically on a local disk).

    Returns:
        The written files, ``tasks.json`` first.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [pathlib.Path(p).name for p in write_tasks(d, [Task("t", "object-detection")])]
    ['tasks.json', 'schema.json']
    >>> shutil.rmtree(d)
    """
    root = _open_root(predictions_dir)
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise DataError(f"task names must be unique, got {names}")
    written = [root.write_bytes("tasks.json", _dumps(names, indent=2))]
    for task in tasks:
        written.append(root.write_bytes(f"{task.name}/schema.json", _dumps(task.to_schema(), 2)))
    return written


def _dumps(obj: Any, indent: int | None = None) -> bytes:
    return (json.dumps(obj, indent=indent, allow_nan=False) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------ predictions


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _array(value: Any, shape: tuple[int, ...] | None, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise DataError(f"{what} must be numbers, got {value!r}") from e
    if shape is not None and array.shape != shape:
        raise DataError(f"{what} must have shape {shape}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{what} must be finite numbers, got {array.tolist()}")
    return array


def infer_bbox(
    keypoints: npt.ArrayLike, margin: float = BBOX_MARGIN, min_pad: float = 1.0
) -> np.ndarray | None:
    """Box ``[x, y, w, h]`` (pixels) around the visible keypoints (``s > 0``), or ``None``.

    The min/max box is grown by ``margin`` times its width (height) on the left and right (top
    and bottom), and by at least ``min_pad`` pixels, so a single visible keypoint gives a
    2x2 px box by default.

    Args:
        keypoints: ``(k, 3)`` array of ``x, y, s`` rows.
        margin: fraction of the box size added on each side (``>= 0``).
        min_pad: smallest padding on each side, in pixels (``>= 0``).

    >>> infer_bbox(np.array([[10, 20, 0.9], [30, 60, 0.5], [500, 500, 0.0]]))
    array([ 8., 16., 24., 48.])
    >>> infer_bbox(np.array([[10, 20, 0.0]])) is None
    True
    """
    if margin < 0 or min_pad < 0:
        raise ValueError(f"margin and min_pad must be >= 0, got {margin} and {min_pad}")
    points = np.asarray(keypoints, dtype=np.float64).reshape(-1, 3)
    visible = points[points[:, 2] > 0, :2]
    if len(visible) == 0:
        return None
    lo, hi = visible.min(axis=0), visible.max(axis=0)
    pad = np.maximum((hi - lo) * margin, min_pad)
    lo, hi = lo - pad, hi + pad
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])


@dataclass(frozen=True, eq=False, init=False)
class ObjectPrediction:
    """One predicted object (a box, or a keypoint instance with an optional box).

    Values are validated and converted to float arrays on construction.

    Attributes:
        category_id: the schema's category id.
        score: the object's confidence, in [0, 1].
        bbox: ``(4,)`` ``[x, y, w, h]`` in pixels from the top-left corner (``w, h >= 0``), or
            ``None``; inferred from the visible keypoints when not given (see
            :func:`infer_bbox`).
        keypoints: ``(k, 3)`` rows ``x, y, s`` (pixels, confidence ``s >= 0``; a flat
            ``[x1, y1, s1, ...]`` list is accepted), or ``None``.
        probabilities: ``(C,)`` one probability per category in schema order, or ``None``.
        bbox_inferred: the box was computed from the keypoints (it is not written back).

    Raises:
        DataError: a value has the wrong shape, is not finite, or is out of range; the message
            gives the expected and the received shape or value.

    >>> p = ObjectPrediction(0, 0.8, keypoints=[10, 20, 0.9, 30, 60, 0.5])
    >>> p.keypoints.shape, p.bbox.tolist(), p.bbox_inferred
    ((2, 3), [8.0, 16.0, 24.0, 48.0], True)
    """

    category_id: int
    score: float
    bbox: np.ndarray | None
    keypoints: np.ndarray | None
    probabilities: np.ndarray | None
    bbox_inferred: bool

    def __init__(
        self,
        category_id: int,
        score: float,
        *,
        bbox: npt.ArrayLike | None = None,
        keypoints: npt.ArrayLike | None = None,
        probabilities: npt.ArrayLike | None = None,
        bbox_inferred: bool = False,
    ) -> None:
        set_ = partial(object.__setattr__, self)
        if not _is_int(category_id):
            raise DataError(f"category_id must be an integer, got {category_id!r}")
        if not _is_number(score) or not 0.0 <= score <= 1.0:
            raise DataError(f"score must be a number in [0, 1], got {score!r}")
        set_("category_id", int(category_id))
        set_("score", float(score))
        keypoints_ = None
        if keypoints is not None:
            flat = _array(keypoints, None, "keypoints").reshape(-1)
            if flat.size % 3:
                raise DataError(
                    f"keypoints must be [x1, y1, s1, ..., xk, yk, sk] (a multiple of 3 values), "
                    f"got {flat.size} values"
                )
            keypoints_ = flat.reshape(-1, 3)
            if np.any(keypoints_[:, 2] < 0):
                raise DataError(
                    f"keypoint confidences s must be >= 0, got {keypoints_[:, 2].tolist()}"
                )
        set_("keypoints", keypoints_)
        box, inferred = None, False
        if bbox is not None:
            box = _array(bbox, (4,), "bbox [x, y, w, h]")
            if box[2] < 0 or box[3] < 0:
                raise DataError(
                    f"bbox [x, y, w, h] must have w >= 0 and h >= 0, got {box.tolist()}"
                )
            inferred = bool(bbox_inferred)
        elif keypoints_ is not None:
            box = infer_bbox(keypoints_)
            inferred = box is not None
        set_("bbox", box)
        set_("bbox_inferred", inferred)
        p = None
        if probabilities is not None:
            p = _array(probabilities, None, "probabilities").reshape(-1)
            if p.size == 0 or np.any((p < 0) | (p > 1)):
                raise DataError(f"probabilities must be values in [0, 1], got {p.tolist()}")
            if p.size > 1 and abs(float(p.sum()) - 1.0) > _PROBABILITY_SUM_TOLERANCE:
                raise DataError(f"probabilities must sum to 1, got {p.tolist()} (sum {p.sum():g})")
        set_("probabilities", p)

    @property
    def num_keypoints(self) -> int:
        """Number of keypoints (0 without keypoints)."""
        return 0 if self.keypoints is None else len(self.keypoints)

    def to_json(self) -> dict[str, Any]:
        """The object as in a Lightly prediction file (inferred boxes are left out).

        >>> ObjectPrediction(1, 0.5, bbox=[1, 2, 3, 4]).to_json()
        {'category_id': 1, 'bbox': [1.0, 2.0, 3.0, 4.0], 'score': 0.5}
        """
        out: dict[str, Any] = {"category_id": self.category_id}
        if self.keypoints is not None:
            out["keypoints"] = self.keypoints.reshape(-1).tolist()
        if self.bbox is not None and not self.bbox_inferred:
            out["bbox"] = self.bbox.tolist()
        out["score"] = self.score
        if self.probabilities is not None:
            out["probabilities"] = self.probabilities.tolist()
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectPrediction):
            return NotImplemented
        return (
            self.category_id == other.category_id
            and self.score == other.score
            and self.bbox_inferred == other.bbox_inferred
            and all(
                _same(getattr(self, name), getattr(other, name))
                for name in ("bbox", "keypoints", "probabilities")
            )
        )

    def __repr__(self) -> str:
        parts = [f"category_id={self.category_id}", f"score={self.score:g}"]
        if self.bbox is not None:
            inferred = " (inferred)" if self.bbox_inferred else ""
            parts.append(f"bbox={[round(v, 2) for v in self.bbox.tolist()]}{inferred}")
        if self.keypoints is not None:
            parts.append(f"keypoints={self.num_keypoints}")
        if self.probabilities is not None:
            parts.append(f"probabilities={[round(v, 3) for v in self.probabilities.tolist()]}")
        return f"ObjectPrediction({', '.join(parts)})"


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b))


@dataclass(frozen=True)
class FramePredictions:
    """The predicted objects of one sample (a video frame or an image) for one task.

    Attributes:
        file_name: the sample's Lightly ``file_name``.
        objects: its predicted objects (possibly none).
        missing: True when the sample had no prediction file (then ``objects`` is empty).

    >>> f = FramePredictions("a.jpg", (ObjectPrediction(0, 0.9, bbox=[0, 0, 1, 1]),))
    >>> len(f), f.scores.tolist(), f.category_ids.tolist()
    (1, [0.9], [0])
    """

    file_name: str
    objects: tuple[ObjectPrediction, ...] = ()
    missing: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "objects", tuple(self.objects))
        for obj in self.objects:
            if not isinstance(obj, ObjectPrediction):
                raise DataError(
                    f"{self.file_name}: objects must be ObjectPrediction, got {type(obj).__name__}"
                )

    def __len__(self) -> int:
        return len(self.objects)

    @property
    def scores(self) -> np.ndarray:
        """``(n,)`` object scores."""
        return np.array([o.score for o in self.objects], dtype=np.float64)

    @property
    def category_ids(self) -> np.ndarray:
        """``(n,)`` object category ids."""
        return np.array([o.category_id for o in self.objects], dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        """The content of the frame's Lightly prediction file.

        >>> FramePredictions("seq/1.jpg").to_json()
        {'file_name': 'seq/1.jpg', 'predictions': []}
        """
        return {"file_name": self.file_name, "predictions": [o.to_json() for o in self.objects]}


def prediction_file_name(file_name: str) -> str:
    """Relative path of the prediction (or metadata) file of the sample named ``file_name``.

    >>> prediction_file_name("sub/match-053-mp4.png"), prediction_file_name("seq_a/000123.jpg")
    ('sub/match-053-mp4.json', 'seq_a/000123.json')
    """
    return posixpath.splitext(file_name)[0] + ".json"


def _check_task(task: Task, categories_needed: bool = True) -> None:
    if task.type not in SUPPORTED_TASK_TYPES:
        raise DataError(
            f"task {task.name!r}: task_type {task.type!r} is not supported "
            f"(supported: {', '.join(SUPPORTED_TASK_TYPES)})"
        )
    if categories_needed and not task.categories:
        raise DataError(f"task {task.name!r}: the schema has no categories")


def _reject_suspicious_keys(
    raw: dict[str, Any], allowed: set[str], known: set[str], what: str, where: str
) -> None:
    """Unknown keys are ignored, but not a known key of another kind nor a near miss."""
    import difflib

    for key in sorted(set(raw) - allowed):
        near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75)
        if key in known or near:
            hint = f"; did you mean {near[0]!r}?" if near and key not in known else ""
            raise DataError(
                f"{where}: unknown key {key!r} ({what} have: {', '.join(sorted(allowed))}){hint}"
            )


def _object_from_json(raw: Any, task: Task, where: str) -> ObjectPrediction:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: must be a JSON object, got {type(raw).__name__}")
    required, optional = _OBJECT_KEYS[task.type]
    every = set().union(*(r | o for r, o in _OBJECT_KEYS.values()))
    _reject_suspicious_keys(raw, required | optional, every, f"{task.type} objects", where)
    missing = sorted(required - set(raw))
    if missing:
        raise DataError(
            f"{where}: missing key {missing[0]!r} (required: {', '.join(sorted(required))})"
        )
    cid = raw["category_id"]
    category = task.category(cid) if _is_int(cid) else None
    if category is None:
        known = ", ".join(f"{c.id} ({c.name})" for c in task.categories)
        raise DataError(f"{where}: unknown category_id {cid!r} (schema categories: {known})")
    try:
        obj = ObjectPrediction(
            cid,
            raw["score"],
            bbox=raw.get("bbox"),
            keypoints=raw.get("keypoints"),
            probabilities=raw.get("probabilities"),
        )
    except DataError as e:
        raise DataError(f"{where}: {e}") from e
    if category.keypoints is not None and obj.num_keypoints != len(category.keypoints):
        raise DataError(
            f"{where}: {obj.num_keypoints} keypoints ({3 * obj.num_keypoints} values) but "
            f"category {cid} ({category.name}) has {len(category.keypoints)} keypoints in the "
            f"schema ({3 * len(category.keypoints)} values expected)"
        )
    if obj.probabilities is not None and len(obj.probabilities) != len(task.categories):
        raise DataError(
            f"{where}: {len(obj.probabilities)} probabilities but the schema has "
            f"{len(task.categories)} categories (one probability per category expected)"
        )
    return obj


def _frame_from_json(raw: Any, task: Task, sample: Sample, where: str) -> FramePredictions:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: must be a JSON object with 'file_name' and 'predictions'")
    frame_keys = {"file_name", "predictions"}
    _reject_suspicious_keys(raw, frame_keys, frame_keys, "prediction files", where)
    for key in ("file_name", "predictions"):
        if key not in raw:
            raise DataError(f"{where}: missing key {key!r}")
    if raw["file_name"] != sample.file_name:
        raise DataError(
            f"{where}: 'file_name' is {raw['file_name']!r} but this file holds the predictions "
            f"of {sample.file_name!r} (the file is named after the sample it describes)"
        )
    objects = raw["predictions"]
    if not isinstance(objects, list):
        raise DataError(f"{where}: 'predictions' must be a list, got {type(objects).__name__}")
    return FramePredictions(
        sample.file_name,
        tuple(
            _object_from_json(o, task, f"{where}: predictions[{i}]") for i, o in enumerate(objects)
        ),
    )


def _sample_index(samples: Sequence[Sample]) -> dict[str, list[Sample]]:
    index: dict[str, list[Sample]] = {}
    for s in samples:
        index.setdefault(prediction_file_name(s.file_name), []).append(s)
    return index


def _inputs_summary(samples: Sequence[Sample], limit: int = 8) -> str:
    videos: dict[str, int] = {}
    images: list[str] = []
    for s in samples:
        if _is_video_frame(s) and s.video is not None:
            videos[s.video] = videos.get(s.video, 0) + 1
        else:
            images.append(s.file_name)
    parts = []
    if videos:
        listed = [f"{v} ({n} frames)" for v, n in list(videos.items())[:limit]]
        more = f" and {len(videos) - limit} more" if len(videos) > limit else ""
        parts.append(f"videos {', '.join(listed)}{more}")
    if images:
        folders = sorted({posixpath.dirname(f) for f in images})
        where = f"in folders {', '.join(f or '.' for f in folders[:limit])}"
        parts.append(f"{len(images)} images {where} (e.g. {images[0]})")
    return "; ".join(parts) if parts else "no inputs"


def _no_such_sample(where: str, rel: str, samples: Sequence[Sample], what: str) -> DataError:
    """The error for a ``what`` file (prediction, metadata) that matches no input sample."""
    inputs = _inputs_summary(samples)
    parsed = (
        parse_video_frame_name(rel[: -len(".json")] + ".png") if rel.endswith(".json") else None
    )
    if parsed is not None:
        stem, frame, ext = parsed
        video = f"{stem}.{ext}"
        frames = sorted(
            s.frame
            for s in samples
            if s.video == video and _is_video_frame(s) and s.frame is not None
        )
        if not frames:
            return DataError(
                f"{where}: {what} for a frame of video {video!r}, which is not an input "
                f"(inputs: {inputs})"
            )
        if frame > frames[-1]:
            return DataError(
                f"{where}: {what} for a frame that does not exist: video {video!r} has "
                f"{frames[-1] + 1} frames (0..{frames[-1]}), not frame {frame}"
            )
        expected = next(s.file_name for s in samples if s.video == video and s.frame == frame)
        return DataError(
            f"{where}: name does not follow Lightly's frame naming: frame {frame} of {video!r} "
            f"is {prediction_file_name(expected)!r} (frame numbers are zero-padded to a fixed "
            "width per video)"
        )
    return DataError(
        f"{where}: {what} for a file that does not exist: no input image or video frame is "
        f"named {posixpath.splitext(rel)[0]}.<ext> (names are '<image path without extension>"
        f".json' or '<video>-<frame>-<ext>.json'; inputs: {inputs})"
    )


def _match(
    root: _Root, rel: str, index: Mapping[str, list[Sample]], samples: Sequence[Sample], what: str
) -> Sample:
    """The sample a file in the predictions or metadata folder belongs to (or a DataError)."""
    where = root.where(rel)
    if not rel.endswith(".json"):
        raise DataError(
            f"{where}: not a {what} file: {what} files are JSON files named after their sample "
            "('<image path without extension>.json' or '<video>-<frame>-<ext>.json')"
        )
    found = index.get(rel)
    if not found:
        raise _no_such_sample(where, rel, samples, what)
    if len(found) > 1:
        names = ", ".join(s.file_name for s in found)
        raise DataError(f"{where}: ambiguous: inputs {names} all have this {what} file name")
    return found[0]


def read_predictions(
    predictions_dir: str | os.PathLike[str],
    task: Task | str,
    samples: Sequence[Sample],
    *,
    require_all: bool = False,
) -> dict[str, FramePredictions]:
    """Read and validate every prediction file of one task.

    Args:
        predictions_dir: Lightly's ``.lightly/predictions`` folder (local path or fsspec URL).
        task: the task (from :func:`read_tasks`), or its name (its schema is read).
        samples: the input samples (from :func:`~touchline.select.inputs.discover`).
        require_all: make a sample without a prediction file an error (by default it gets
            no objects and ``missing=True``).

    Returns:
        ``{file_name: FramePredictions}`` for every sample, in the order of ``samples``.

    Raises:
        DataError: malformed JSON (file, line and column), a file for a frame or image that is
            not an input (the message lists the inputs), a name that does not follow the
            pattern, ``file_name`` not matching the file's name, an unknown ``category_id``,
            keypoints not a multiple of 3 or not the schema's count, a box of negative size,
            probabilities of the wrong length, an unknown key, an unsupported task type.

    >>> import shutil, tempfile, pathlib
    >>> from touchline.select.types import Sample
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> task = Task("kp", "keypoint-detection", (Category(0, "pitch", ("a", "b")),))
    >>> _ = write_tasks(d, [task])
    >>> _ = (d / "kp" / "x.json").write_text('{"file_name": "x.jpg", "predictions": [{"cat')
    >>> read_predictions(d, "kp", [Sample("x.jpg", "x.jpg")])
    Traceback (most recent call last):
    touchline.errors.DataError: .../kp/x.json: malformed JSON at line 1, column 41: Unterminated string...
    >>> shutil.rmtree(d)
    """
    if isinstance(task, str):
        task = read_task(predictions_dir, task)
    _check_task(task)
    root = _open_root(predictions_dir)
    if not root.is_dir(task.name):
        raise DataError(f"{root.where(task.name)}: the task folder of {task.name!r} is missing")
    index = _sample_index(samples)
    found: dict[str, FramePredictions] = {}
    for rel in root.files(task.name):
        if rel == "schema.json":
            continue
        sample = _match(root, rel, index, samples, "prediction")
        full = f"{task.name}/{rel}"
        found[sample.file_name] = _frame_from_json(
            _read_json(root, full), task, sample, root.where(full)
        )
    missing = [s.file_name for s in samples if s.file_name not in found]
    if require_all and missing:
        first = prediction_file_name(missing[0])
        raise DataError(
            f"{root.where(task.name)}: {len(missing)} of {len(samples)} inputs have no prediction "
            f"file (first: {first}; expected one file per image or video frame)"
        )
    return {
        s.file_name: found[s.file_name]
        if s.file_name in found
        else FramePredictions(s.file_name, missing=True)
        for s in samples
    }


def write_prediction(
    predictions_dir: str | os.PathLike[str], task: Task, frame: FramePredictions
) -> str:
    """Write one sample's prediction file for ``task`` (atomically on a local disk).

    The objects are validated against the task (category ids, keypoint counts,
    probabilities). Boxes inferred from keypoints are not written.

    Returns:
        The written file.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> task = Task("kp", "keypoint-detection", (Category(0, "pitch"),))
    >>> frame = FramePredictions("seq/7.jpg", (ObjectPrediction(0, 0.7, keypoints=[5, 6, 0.9]),))
    >>> path = write_prediction(d, task, frame)
    >>> pathlib.Path(path).relative_to(d).as_posix(), pathlib.Path(path).read_text()
    ('kp/seq/7.json', '{"file_name": "seq/7.jpg", "predictions": [{"category_id": 0, "keypoints": [5.0, 6.0, 0.9], "score": 0.7}]}\\n')
    >>> shutil.rmtree(d)
    """
    _check_task(task)
    rel = f"{task.name}/{prediction_file_name(frame.file_name)}"
    content = frame.to_json()
    for i, obj in enumerate(content["predictions"]):  # the reader's checks, before writing
        _object_from_json(obj, task, f"{rel}: predictions[{i}]")
    return _open_root(predictions_dir).write_bytes(rel, _dumps(content))


def write_predictions(
    predictions_dir: str | os.PathLike[str], task: Task, frames: Iterable[FramePredictions]
) -> list[str]:
    """:func:`write_prediction` for many frames (frames marked ``missing`` are skipped).

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> task = Task("t", "object-detection", (Category(0, "ball"),))
    >>> len(write_predictions(d, task, [FramePredictions("a.jpg"), FramePredictions("b.jpg", missing=True)]))
    1
    >>> shutil.rmtree(d)
    """
    return [write_prediction(predictions_dir, task, f) for f in frames if not f.missing]
