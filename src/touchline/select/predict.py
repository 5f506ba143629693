"""``touchline predict``: our shipped models' predictions in Lightly's prediction format.

For every frame of the videos and images under a folder (or of one video), write the
predictions of

* ``keypoints`` -- the shipped calibration model: task ``pitch_keypoints``
  (keypoint-detection), one object "pitch" per frame whose keypoints are the 32 named DFL pitch
  keypoints ``[x, y, s]`` (``s`` the heatmap peak, 0 with ``x = y = 0`` where a keypoint is not
  found); the object's score is the mean peak of the found keypoints; a frame where no keypoint
  is found has no object;
* ``detection`` -- the shipped detector: task ``people_ball`` (object-detection), categories
  player, goalkeeper, referee, ball, one object per box (``bbox`` ``[x, y, w, h]`` in pixels,
  ``score``).

The folder written (``OUT/tasks.json``, ``OUT/<task>/schema.json``, one JSON per frame named
after the frame's Lightly file name) is what ``touchline select --predictions OUT`` and the
Lightly Worker read. A frame whose prediction file exists is not predicted again, so a killed
run continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from touchline.errors import DataError
from touchline.select.inputs import discover, iter_frames
from touchline.select.predictions import (
    Category,
    FramePredictions,
    ObjectPrediction,
    Task,
    prediction_file_name,
    write_prediction,
    write_tasks,
)
from touchline.select.types import Sample
from touchline.types import CLASS_NAMES
from touchline.utils.results import JsonResult

__all__ = ["PREDICT_TASKS", "PredictResult", "predict_folder", "task_for"]

PREDICT_TASKS = {"keypoints": "pitch_keypoints", "detection": "people_ball"}
"""``--task`` choices and the Lightly task each writes."""

Progress = Callable[[str, int, int], Any]


@dataclass(frozen=True)
class PredictResult(JsonResult):
    """What :func:`predict_folder` did: frames, frames predicted now, frames already done,
    objects written."""

    task: str
    type: str
    frames: int
    predicted: int
    resumed: int
    objects: int
    out: str


def task_for(kind: str, keypoint_names: Sequence[str] | None = None) -> Task:
    """The Lightly task ``touchline predict --task kind`` writes.

    >>> task_for("detection").categories[3].name
    'ball'
    """
    if kind == "keypoints":
        if keypoint_names is None:
            from touchline.pitch import DFL_KEYPOINTS

            keypoint_names = DFL_KEYPOINTS
        cat = Category(0, "pitch", keypoints=tuple(keypoint_names))
        return Task(PREDICT_TASKS[kind], "keypoint-detection", (cat,))
    if kind == "detection":
        cats = tuple(Category(i, n) for i, n in enumerate(CLASS_NAMES))
        return Task(PREDICT_TASKS[kind], "object-detection", cats)
    raise DataError(f"predict: unknown task {kind!r}; expected one of {sorted(PREDICT_TASKS)}")


def _batches(
    items: Iterable[tuple[Sample, np.ndarray]], size: int
) -> Iterator[list[tuple[Sample, np.ndarray]]]:
    batch: list[tuple[Sample, np.ndarray]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_folder(
    source: str | Path,
    out: str | Path,
    *,
    task: str = "keypoints",
    batch_size: int = 8,
    model: str | Path | None = None,
    progress: Progress | None = None,
) -> PredictResult:
    """Write Lightly predictions of the shipped ``task`` model for every frame under ``source``."""
    kind = task
    task_for(kind)  # an unknown task fails before the source is scanned
    samples = discover(source)
    if not samples:
        raise DataError(f"{source}: no videos or images found")
    out = Path(out)
    if kind == "keypoints":
        from touchline.calib.model import KeypointModel

        kp_model = KeypointModel(model)
        spec = task_for(kind, kp_model.names[:32] if len(kp_model.names) >= 32 else None)
        n_kp = len(spec.categories[0].keypoints or ())
    elif kind == "detection":
        from touchline.detect import load_detector

        det_model = load_detector(model)
        spec = task_for(kind)
    else:
        task_for(kind)  # raises
    _add_task(out, spec)
    todo = [
        s for s in samples if not (out / spec.name / prediction_file_name(s.file_name)).is_file()
    ]
    done_before = len(samples) - len(todo)
    objects = 0
    finished = done_before
    if progress is not None:
        progress("predict", finished, len(samples))
    for batch in _batches(iter_frames(todo), batch_size):
        images = [img for _, img in batch]
        if kind == "keypoints":
            preds = kp_model.predict(images)
            frames = [_keypoint_frame(s, p, n_kp) for (s, _), p in zip(batch, preds, strict=True)]
        else:
            dets = det_model.detect_batch(images)
            frames = [_detection_frame(s, d) for (s, _), d in zip(batch, dets, strict=True)]
        for f in frames:
            write_prediction(out, spec, f)
            objects += len(f.objects)
        finished += len(batch)
        if progress is not None:
            progress("predict", finished, len(samples))
    return PredictResult(
        spec.name, spec.type, len(samples), len(todo), done_before, objects, str(out)
    )


def _add_task(out: Path, spec: Task) -> None:
    """Write ``spec`` into ``out/tasks.json`` beside the tasks already there."""
    from touchline.select.predictions import read_tasks

    tasks = read_tasks(out) if (out / "tasks.json").is_file() else []
    write_tasks(out, [t for t in tasks if t.name != spec.name] + [spec])


def _keypoint_frame(sample: Sample, pred: Any, n_kp: int) -> FramePredictions:
    pts = np.asarray(pred.points, dtype=np.float64)[:n_kp]
    scores = np.asarray(pred.scores, dtype=np.float64)[:n_kp]
    found = np.isfinite(pts).all(axis=1) & np.isfinite(scores) & (scores > 0)
    if not found.any():
        return FramePredictions(sample.file_name)
    kp = np.zeros((n_kp, 3))
    kp[found, :2] = pts[found]
    kp[found, 2] = np.clip(scores[found], 0.0, 1.0)
    obj = ObjectPrediction(0, float(np.clip(scores[found].mean(), 0.0, 1.0)), keypoints=kp)
    return FramePredictions(sample.file_name, (obj,))


def _detection_frame(sample: Sample, det: Any) -> FramePredictions:
    objs = []
    xyxy = np.asarray(det.xyxy, dtype=np.float64)
    conf = np.asarray(det.confidence, dtype=np.float64) if det.confidence is not None else None
    cls = np.asarray(det.class_id, dtype=np.int64) if det.class_id is not None else None
    for k in range(len(xyxy)):
        x1, y1, x2, y2 = xyxy[k]
        if x2 <= x1 or y2 <= y1:
            continue
        score = float(np.clip(conf[k], 0.0, 1.0)) if conf is not None else 1.0
        cid = int(cls[k]) if cls is not None else 0
        objs.append(ObjectPrediction(cid, score, bbox=[x1, y1, x2 - x1, y2 - y1]))
    return FramePredictions(sample.file_name, tuple(objs))
