"""Samples to select from, with every array aligned with them: :class:`SamplePool`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, TypeVar

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.select.config import InputType, PredictionsName, SelectionInput
from touchline.select.predictions import FramePredictions, ObjectPrediction, Task
from touchline.select.scores import compute_scores
from touchline.select.strategies import aggregate_sequences, sequence_groups
from touchline.select.types import Sample

__all__ = ["Crop", "SamplePool", "metadata_columns"]

#: An object-level sample: the index of its frame and the object.
Crop: TypeAlias = tuple[int, ObjectPrediction]
Predictions: TypeAlias = Mapping[str, Mapping[str, FramePredictions]]
_K = TypeVar("_K")


def metadata_columns(samples: Sequence[Sample]) -> dict[str, NDArray[Any]]:
    """Every metadata key of the samples as an ``(n,)`` object array (``None``: missing)."""
    keys = sorted({k for s in samples for k in s.metadata})
    return {k: np.array([s.metadata.get(k) for s in samples], dtype=object) for k in keys}


@dataclass(frozen=True)
class SamplePool:
    """The samples to select from and every array aligned with them (checked once, here).

    Attributes:
        samples: one per row (of a sequence: its first frame).
        embeddings: ``(n, d)`` unit embeddings.
        task_embeddings: task -> ``(n, d)`` mean embedding of the task's object crops.
        scores: ``"task/score"`` -> ``(n,)`` active-learning scores.
        metadata: key -> ``(n,)`` metadata values.
        inputs: the resolved input of each selection-config entry but RANDOM (:meth:`resolve`).
        class_names: the column names of the ``(n, C)`` class masses among ``inputs``.
        objects: object level: the :data:`Crop` of each sample.
        groups: sequences: ``(n, L)`` indices of each row's frames in the pool it aggregates.

    >>> frames = [Sample(f"v-{k}-mp4.png", "v.mp4", "v.mp4", k) for k in range(4)]
    >>> pool = SamplePool(frames, np.eye(4, dtype=np.float32), scores={"t/s": np.arange(4.0)})
    >>> runs = pool.sequences(2)
    >>> len(runs), runs.scores["t/s"].tolist(), runs.expand([1]).tolist()
    (2, [0.5, 2.5], [2, 3])
    >>> SamplePool(frames, np.eye(4, dtype=np.float32), scores={"t/s": np.zeros(3)})
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: SamplePool: scores 't/s' has 3 rows, expected one per sample (4)
    """

    samples: list[Sample]
    embeddings: NDArray[np.float32]
    task_embeddings: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    scores: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    metadata: dict[str, NDArray[Any]] = field(default_factory=dict)
    inputs: dict[SelectionInput, NDArray[Any]] = field(default_factory=dict)
    class_names: dict[SelectionInput, list[str]] = field(default_factory=dict)
    objects: list[Crop] | None = None
    groups: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        n = len(self.samples)
        if np.ndim(self.embeddings) != 2:
            raise DataError(
                f"SamplePool: embeddings must be (n, d), got {np.shape(self.embeddings)}"
            )
        rows: dict[str, Sized] = {"embeddings": self.embeddings}
        rows |= {f"task embeddings {k!r}": v for k, v in self.task_embeddings.items()}
        rows |= {f"scores {k!r}": v for k, v in self.scores.items()}
        rows |= {f"metadata {k!r}": v for k, v in self.metadata.items()}
        rows |= {f"input {k.describe()}": v for k, v in self.inputs.items()}
        rows |= {
            k: v for k, v in (("objects", self.objects), ("groups", self.groups)) if v is not None
        }
        for what, v in rows.items():
            if len(v) != n:
                raise DataError(
                    f"SamplePool: {what} has {len(v)} rows, expected one per sample ({n})"
                )
        for k, names in self.class_names.items():
            if k not in self.inputs or np.shape(self.inputs[k])[1:] != (len(names),):
                raise DataError(f"SamplePool: {len(names)} class names for input {k.describe()}")

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def file_names(self) -> list[str]:
        """Lightly's file name of each sample."""
        return [s.file_name for s in self.samples]

    def resolve(
        self, inputs: Sequence[SelectionInput], tasks: Mapping[str, Task], predictions: Predictions
    ) -> SamplePool:
        """This pool with the scores and the resolved values of these selection-config inputs:
        embeddings ``(n, d)``, scores and counts ``(n,)``, metadata ``(n,)`` (numbers as floats),
        CLASS_DISTRIBUTION ``(n, C)`` (with its ``class_names``)."""
        scores = dict(self.scores)
        for inp in inputs:
            name = f"{inp.task}/{inp.score}"
            if inp.type is InputType.SCORES and inp.task and inp.score and name not in scores:
                scores[name] = self._score(inp.task, inp.score, tasks, predictions)
        values: dict[SelectionInput, NDArray[Any]] = {}
        names: dict[SelectionInput, list[str]] = {}
        for inp in inputs:
            if inp.type is InputType.EMBEDDINGS:
                values[inp] = self.task_embeddings.get(inp.task or "", self.embeddings)
            elif inp.type is InputType.SCORES:
                values[inp] = scores[f"{inp.task}/{inp.score}"]
            elif inp.type is InputType.METADATA:
                values[inp] = self._metadata(str(inp.key))
            elif inp.type is InputType.PREDICTIONS:
                values[inp], cats = self._predictions(inp, tasks, predictions)
                if inp.name is PredictionsName.CLASS_DISTRIBUTION:
                    names[inp] = cats
        return replace(self, scores=scores, inputs=values, class_names=names)

    def sequences(self, length: int) -> SamplePool:
        """Runs of ``length`` consecutive frames of a video as rows (:func:`sequence_groups`),
        every array aggregated over them (:func:`aggregate_sequences`)."""
        if self.objects is not None:
            raise DataError("selected_sequence_length applies to frames, not to object_level")
        videos = np.array([s.video or s.source for s in self.samples])
        index = np.array([k if s.frame is None else s.frame for k, s in enumerate(self.samples)])
        groups = sequence_groups(videos, index, length)
        if not len(groups):
            raise DataError(f"no run of {length} consecutive frames in the input")
        first = [self.samples[i] for i in groups[:, 0].tolist()]
        return self._map(lambda v: aggregate_sequences(v, groups), first, None, groups)

    def subset(self, rows: Sequence[int] | NDArray[np.int64]) -> SamplePool:
        """The pool of these rows, in this order."""
        r = np.asarray(rows, dtype=np.int64)
        samples = [self.samples[i] for i in r.tolist()]
        objects = None if self.objects is None else [self.objects[i] for i in r.tolist()]
        groups = None if self.groups is None else self.groups[r]
        return self._map(lambda v: np.asarray(v)[r], samples, objects, groups)

    def expand(self, rows: Sequence[int] | NDArray[np.int64]) -> NDArray[np.int64]:
        """The indices of these rows' frames in the pool this one aggregates (in order)."""
        r = np.asarray(rows, dtype=np.int64)
        return r if self.groups is None else self.groups[r].reshape(-1)

    def _map(
        self,
        f: Callable[[NDArray[Any]], NDArray[Any]],
        samples: list[Sample],
        objects: list[Crop] | None,
        groups: NDArray[np.int64] | None,
    ) -> SamplePool:
        def each(d: Mapping[_K, NDArray[Any]]) -> dict[_K, NDArray[Any]]:
            return {k: f(v) for k, v in d.items()}

        return SamplePool(samples, f(self.embeddings), each(self.task_embeddings), each(self.scores),
                          each(self.metadata), each(self.inputs), dict(self.class_names), objects,
                          groups)  # fmt: skip

    def _score(
        self, task: str, score: str, tasks: Mapping[str, Task], predictions: Predictions
    ) -> NDArray[np.float64]:
        if self.objects is not None:
            if score != "objectness_least_confidence":
                raise DataError(
                    f"object_level: score {score!r} is a frame score; objects have "
                    "'objectness_least_confidence' (1 - the object's score)"
                )
            return np.array([1.0 - float(o.score) for _, o in self.objects])
        got = compute_scores(tasks[task], predictions[task], self.samples, names=[score])
        return np.asarray(got[score], dtype=np.float64)

    def _metadata(self, key: str) -> NDArray[Any]:
        """Metadata values; numbers (and ``None``) as floats (NaN), others unchanged."""
        if key not in self.metadata:
            raise DataError(
                f"selection config: METADATA key {key!r} is not in the metadata of any "
                f"sample (keys: {sorted(self.metadata)})"
            )
        values = self.metadata[key]
        if values.dtype != object:
            return values
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            return np.array([np.nan if v is None else float(v) for v in values])
        return values

    def _predictions(
        self, inp: SelectionInput, tasks: Mapping[str, Task], predictions: Predictions
    ) -> tuple[NDArray[np.float64], list[str]]:
        """PREDICTIONS: CLASS_DISTRIBUTION ``(n, C)``, or CATEGORY_COUNT ``(n,)``; the names."""
        if self.objects is not None:
            raise DataError("object_level: PREDICTIONS inputs apply to frames")
        task, preds = tasks[str(inp.task)], predictions[str(inp.task)]
        names = [c.name for c in task.categories]
        col = {c.id: j for j, c in enumerate(task.categories)}
        counts = np.zeros((len(self), len(names)))
        for k, s in enumerate(self.samples):
            for o in preds[s.file_name].objects if s.file_name in preds else ():
                counts[k, col[o.category_id]] += 1
        if inp.name is PredictionsName.CLASS_DISTRIBUTION:
            tot = counts.sum(axis=1, keepdims=True)
            return np.divide(counts, tot, out=np.zeros_like(counts), where=tot > 0), names
        wanted = list(inp.categories) if inp.categories else names
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            raise DataError(
                f"selection config: CATEGORY_COUNT categories {unknown} are not in task "
                f"{inp.task!r} (categories: {names})"
            )
        return counts[:, [names.index(w) for w in wanted]].sum(axis=1), names
