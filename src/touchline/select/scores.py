"""Active-learning scores of frames from their predictions (the Lightly Worker's scorers).

A score is one number per sample; high values mark samples worth labelling. Every score is in
[0, 1]. Per frame (a frame without predicted objects: no prediction file, or an empty one):

* ``object_frequency`` (object- and keypoint-detection): objects counted per category, 1 for
  the first and ``frequency_penalty`` for each further one, then mapped linearly from
  [fewest, most] over the samples to [``min_score``, 1]. No object: count 0, i.e.
  ``min_score`` when other frames have objects; every frame scores 1 when all counts are equal;
* ``objectness_least_confidence`` (object- and keypoint-detection): 1 - the mean object
  ``score``. No object: 0;
* ``mean_uncertainty`` (keypoint-detection): 1 - the mean keypoint confidence ``s`` over every
  keypoint of every object. No keypoint: 0;
* ``uncertainty_least_confidence`` (object- and keypoint-detection): the max over objects of
  ``(1 - max p) / (1 - 1/C)``. No object with probabilities: 0;
* ``uncertainty_margin`` (object- and keypoint-detection): the max over objects of
  ``1 - (p_first - p_second)`` (the two largest). No object with probabilities: 0;
* ``uncertainty_entropy`` (object- and keypoint-detection): the max over objects of
  ``-sum p log p / log C``. No object with probabilities: 0.

``p`` is an object's ``probabilities`` (``C`` categories; a one-category task's ``[p]`` means
``[p, 1 - p]``). The three ``uncertainty_*`` scores are 0 for a one-hot ``p`` and 1 for a
uniform one (Lightly rescales them so); objects without probabilities do not count, and they
are only computed when some object has probabilities. Defaults ``frequency_penalty=0.25``,
``min_score=0.9`` are Lightly's.

Sources: https://docs.lightly.ai/docs/active-learning-scorers (classification, object
detection and keypoint detection scores); the Lightly repository's
``docs/source/getting_started/active_learning.rst`` and ``lightly/active_learning/scorers/``
(``detection.py``: the object-frequency penalty and rescaling, the max over boxes and 0 for
frames without boxes; ``classification.py``: the rescaling of the uncertainty scores to [0, 1]).
Where the docs are silent (keypoint confidences of objects with ``s = 0``, which count; the
empty-frame value of ``mean_uncertainty``, 0 like Lightly's other "1 - mean confidence" score),
the choice is the one stated here.

>>> from touchline.select.predictions import Category, FramePredictions, ObjectPrediction, Task
>>> from touchline.select.types import Sample
>>> task = Task("players", "object-detection", (Category(0, "player"), Category(1, "ball")))
>>> samples = [Sample("a.jpg", "a.jpg"), Sample("b.jpg", "b.jpg")]
>>> box = [0, 0, 10, 10]
>>> preds = {"a.jpg": FramePredictions("a.jpg", (ObjectPrediction(0, 0.6, bbox=box),
...                                               ObjectPrediction(1, 0.8, bbox=box)))}
>>> {k: v.round(3).tolist() for k, v in compute_scores(task, preds, samples).items()}
{'object_frequency': [1.0, 0.9], 'objectness_least_confidence': [0.3, 0.0]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from touchline.errors import DataError
from touchline.select.predictions import FramePredictions, Task
from touchline.select.types import Sample

__all__ = [
    "DEFAULT_FREQUENCY_PENALTY",
    "DEFAULT_MIN_SCORE",
    "SCORES",
    "ScoreInfo",
    "available_scores",
    "compute_scores",
    "mean_uncertainty",
    "object_frequency",
    "objectness_least_confidence",
    "score",
    "uncertainty_entropy",
    "uncertainty_least_confidence",
    "uncertainty_margin",
]

DEFAULT_FREQUENCY_PENALTY = 0.25
"""Weight of each further object of a category already counted in a frame (Lightly's)."""

DEFAULT_MIN_SCORE = 0.9
"""Lowest ``object_frequency`` (the frames with the fewest objects), Lightly's default."""

_DETECTION_TYPES = ("object-detection", "keypoint-detection")
_DOCS = "https://docs.lightly.ai/docs/active-learning-scorers"


# --------------------------------------------------------------- per-object uncertainties


def _probability_rows(probabilities: np.ndarray) -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] == 0:
        raise DataError(f"probabilities must have shape (n, C) with C >= 1, got shape {p.shape}")
    if p.shape[1] == 1:  # one category: p is the probability of that category vs. the rest
        p = np.concatenate([p, 1.0 - p], axis=1)
    return p


def uncertainty_least_confidence(probabilities: np.ndarray) -> np.ndarray:
    """``(1 - max p) / (1 - 1/C)`` per row of an ``(n, C)`` probability array, in [0, 1].

    >>> uncertainty_least_confidence(np.array([[1.0, 0, 0], [0.5, 0.3, 0.2], [1/3, 1/3, 1/3]]))
    array([0.  , 0.75, 1.  ])
    """
    p = _probability_rows(probabilities)
    c = p.shape[1]
    return np.clip((1.0 - p.max(axis=1)) / (1.0 - 1.0 / c), 0.0, 1.0)


def uncertainty_margin(probabilities: np.ndarray) -> np.ndarray:
    """``1 - (largest p - second largest p)`` per row of an ``(n, C)`` array, in [0, 1].

    >>> uncertainty_margin(np.array([[1.0, 0, 0], [0.5, 0.3, 0.2]]))
    array([0. , 0.8])
    """
    p = np.sort(_probability_rows(probabilities), axis=1)
    return np.clip(1.0 - (p[:, -1] - p[:, -2]), 0.0, 1.0)


def uncertainty_entropy(probabilities: np.ndarray) -> np.ndarray:
    """Entropy ``-sum p log p`` divided by ``log C`` (its maximum), per row, in [0, 1].

    >>> uncertainty_entropy(np.array([[1.0, 0], [0.5, 0.5], [0.25, 0.75]])).round(4)
    array([0.    , 1.    , 0.8113])
    """
    p = _probability_rows(probabilities)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return np.clip(-(p * logs).sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0) + 0.0  # no -0.0


# -------------------------------------------------------------------------- frame scores


def object_frequency(
    frames: Sequence[FramePredictions],
    *,
    frequency_penalty: float = DEFAULT_FREQUENCY_PENALTY,
    min_score: float = DEFAULT_MIN_SCORE,
) -> np.ndarray:
    """Frames with many objects of many categories score high.

    A frame's count is, per category present, 1 for the first object plus
    ``frequency_penalty`` for every further one; counts are then mapped linearly from
    [fewest, most] over the frames to [``min_score``, 1] (all 1 when every count is equal).

    >>> from touchline.select.predictions import FramePredictions, ObjectPrediction
    >>> obj = lambda c: ObjectPrediction(c, 0.5, bbox=[0, 0, 1, 1])
    >>> frames = [FramePredictions("a", (obj(0), obj(0), obj(0), obj(1))),
    ...           FramePredictions("b", (obj(0),)), FramePredictions("c")]
    >>> object_frequency(frames).round(4)
    array([1.  , 0.94, 0.9 ])
    """
    for name, value in (("frequency_penalty", frequency_penalty), ("min_score", min_score)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    counts = np.zeros(len(frames))
    for i, frame in enumerate(frames):
        _, per_category = np.unique(frame.category_ids, return_counts=True)
        counts[i] = np.sum(1.0 + frequency_penalty * (per_category - 1))
    if len(counts) == 0:
        return counts
    lo, hi = counts.min(), counts.max()
    if hi == lo:
        return np.ones_like(counts)
    return min_score + (counts - lo) / (hi - lo) * (1.0 - min_score)


def objectness_least_confidence(frames: Sequence[FramePredictions]) -> np.ndarray:
    """``1 - mean object score`` per frame; 0 for a frame without objects.

    >>> from touchline.select.predictions import FramePredictions, ObjectPrediction
    >>> frames = [FramePredictions("a", (ObjectPrediction(0, 0.6, bbox=[0, 0, 1, 1]),
    ...                                   ObjectPrediction(0, 0.9, bbox=[0, 0, 1, 1]))),
    ...           FramePredictions("b")]
    >>> objectness_least_confidence(frames).round(4)
    array([0.25, 0.  ])
    """
    return np.array([1.0 - f.scores.mean() if len(f) else 0.0 for f in frames])


def mean_uncertainty(frames: Sequence[FramePredictions]) -> np.ndarray:
    """``1 - mean keypoint confidence`` over every keypoint of every object of a frame.

    Frames without keypoints score 0. Confidences must be in [0, 1].

    Raises:
        DataError: a keypoint confidence is above 1 (the message names the frame).

    >>> from touchline.select.predictions import FramePredictions, ObjectPrediction
    >>> frame = FramePredictions("a", (ObjectPrediction(0, 0.9, keypoints=[1, 1, 0.9, 2, 2, 0.5]),
    ...                                ObjectPrediction(0, 0.8, keypoints=[5, 5, 0.1, 6, 6, 0.0])))
    >>> mean_uncertainty([frame, FramePredictions("b")]).round(4)
    array([0.625, 0.   ])
    """
    out = np.zeros(len(frames))
    for i, frame in enumerate(frames):
        s = [o.keypoints[:, 2] for o in frame.objects if o.keypoints is not None]
        confidences = np.concatenate(s) if s else np.zeros(0)
        if confidences.size == 0:
            continue
        if confidences.max() > 1.0:
            raise DataError(
                f"{frame.file_name}: keypoint confidence {confidences.max():g} is above 1: "
                "mean_uncertainty needs confidences in [0, 1] (COCO visibility flags 0/1/2 are "
                "not confidences)"
            )
        out[i] = 1.0 - confidences.mean()
    return out


def _object_uncertainty(
    per_object: Callable[[np.ndarray], np.ndarray],
) -> Callable[[Sequence[FramePredictions]], np.ndarray]:
    def frame_score(frames: Sequence[FramePredictions]) -> np.ndarray:
        out = np.zeros(len(frames))
        for i, frame in enumerate(frames):
            rows = [o.probabilities for o in frame.objects if o.probabilities is not None]
            widths = {len(r) for r in rows}
            if len(widths) > 1:
                raise DataError(
                    f"{frame.file_name}: objects have probabilities of different lengths "
                    f"{sorted(widths)}"
                )
            if rows:
                out[i] = float(per_object(np.stack(rows)).max())
        return out

    return frame_score


# ------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ScoreInfo:
    """A registered score.

    Attributes:
        name: the score's name (Lightly's).
        task_types: the task types it applies to.
        needs_probabilities: computed from the objects' ``probabilities``.
        description: what it measures, in one line.
        source: the documentation it implements.
        function: ``(frames) -> (n,)`` array, with frames aligned to the samples.
    """

    name: str
    task_types: tuple[str, ...]
    needs_probabilities: bool
    description: str
    source: str
    function: Callable[..., np.ndarray]


SCORES: dict[str, ScoreInfo] = {
    info.name: info
    for info in (
        ScoreInfo(
            "object_frequency",
            _DETECTION_TYPES,
            False,
            "many objects of many categories (rescaled to [min_score, 1])",
            _DOCS,
            object_frequency,
        ),
        ScoreInfo(
            "objectness_least_confidence",
            _DETECTION_TYPES,
            False,
            "1 - mean object score",
            _DOCS,
            objectness_least_confidence,
        ),
        ScoreInfo(
            "mean_uncertainty",
            ("keypoint-detection",),
            False,
            "1 - mean keypoint confidence",
            _DOCS,
            mean_uncertainty,
        ),
        ScoreInfo(
            "uncertainty_least_confidence",
            _DETECTION_TYPES,
            True,
            "max over objects of 1 - the top class probability (rescaled to [0, 1])",
            _DOCS,
            _object_uncertainty(uncertainty_least_confidence),
        ),
        ScoreInfo(
            "uncertainty_margin",
            _DETECTION_TYPES,
            True,
            "max over objects of 1 - (top - second class probability)",
            _DOCS,
            _object_uncertainty(uncertainty_margin),
        ),
        ScoreInfo(
            "uncertainty_entropy",
            _DETECTION_TYPES,
            True,
            "max over objects of the class-probability entropy / log C",
            _DOCS,
            _object_uncertainty(uncertainty_entropy),
        ),
    )
}
"""Every score by name."""


def available_scores(task: Task | str) -> list[str]:
    """Names of the scores that apply to a task (or task type), in registry order.

    >>> available_scores("keypoint-detection")[:3]
    ['object_frequency', 'objectness_least_confidence', 'mean_uncertainty']
    """
    task_type = task.type if isinstance(task, Task) else task
    return [name for name, info in SCORES.items() if task_type in info.task_types]


def _frames(
    frame_predictions: Mapping[str, FramePredictions], samples: Sequence[Sample]
) -> list[FramePredictions]:
    names = {s.file_name for s in samples}
    extra = [name for name in frame_predictions if name not in names]
    if extra:
        raise DataError(
            f"predictions for {len(extra)} file names that are not among the samples "
            f"(first: {extra[0]!r})"
        )
    return [
        frame_predictions[s.file_name]
        if s.file_name in frame_predictions
        else FramePredictions(s.file_name, missing=True)
        for s in samples
    ]


def _check_name(name: str, task: Task) -> ScoreInfo:
    info = SCORES.get(name)
    if info is None:
        raise DataError(f"unknown score {name!r}; known scores: {', '.join(SCORES)}")
    if task.type not in info.task_types:
        raise DataError(
            f"score {name!r} does not apply to task {task.name!r} of type {task.type!r} "
            f"(scores for it: {', '.join(available_scores(task)) or 'none'})"
        )
    return info


def _has_probabilities(frames: Sequence[FramePredictions]) -> bool:
    return any(o.probabilities is not None for f in frames for o in f.objects)


def _run(
    info: ScoreInfo,
    frames: Sequence[FramePredictions],
    frequency_penalty: float,
    min_score: float,
) -> np.ndarray:
    if info.function is object_frequency:
        return object_frequency(frames, frequency_penalty=frequency_penalty, min_score=min_score)
    return np.asarray(info.function(frames), dtype=np.float64)


def score(
    name: str,
    task: Task,
    frame_predictions: Mapping[str, FramePredictions],
    samples: Sequence[Sample],
    *,
    frequency_penalty: float = DEFAULT_FREQUENCY_PENALTY,
    min_score: float = DEFAULT_MIN_SCORE,
) -> np.ndarray:
    """One score for every sample.

    Args:
        name: a key of :data:`SCORES`.
        task: the task the predictions belong to.
        frame_predictions: ``{file_name: FramePredictions}``; samples absent from it have no
            objects.
        samples: the samples, whose order the result follows.
        frequency_penalty: ``object_frequency``'s weight of further objects of a category.
        min_score: ``object_frequency``'s lowest value.

    Returns:
        ``(len(samples),)`` float array.

    Raises:
        DataError: unknown score (the message lists the known ones), a score that does not
            apply to the task type, an ``uncertainty_*`` score without any ``probabilities``,
            predictions for file names that are not samples.

    >>> from touchline.select.predictions import Task
    >>> score("sharpness", Task("t", "object-detection"), {}, [])
    Traceback (most recent call last):
    touchline.errors.DataError: unknown score 'sharpness'; known scores: object_frequency, objectness_least_confidence, mean_uncertainty, uncertainty_least_confidence, uncertainty_margin, uncertainty_entropy
    """
    info = _check_name(name, task)
    frames = _frames(frame_predictions, samples)
    if info.needs_probabilities and not _has_probabilities(frames):
        raise DataError(
            f"score {name!r} needs class probabilities but no prediction of task {task.name!r} "
            "has 'probabilities'"
        )
    return _run(info, frames, frequency_penalty, min_score)


def compute_scores(
    task: Task,
    frame_predictions: Mapping[str, FramePredictions],
    samples: Sequence[Sample],
    *,
    names: Sequence[str] | None = None,
    frequency_penalty: float = DEFAULT_FREQUENCY_PENALTY,
    min_score: float = DEFAULT_MIN_SCORE,
) -> dict[str, np.ndarray]:
    """Several scores for every sample.

    Args:
        task: the task the predictions belong to.
        frame_predictions: ``{file_name: FramePredictions}`` (e.g. from
            :func:`~touchline.select.predictions.read_predictions`).
        samples: the samples, whose order the arrays follow.
        names: the scores to compute; ``None`` for every score of the task type (the
            ``uncertainty_*`` ones only when some object has ``probabilities``).
        frequency_penalty: see :func:`object_frequency`.
        min_score: see :func:`object_frequency`.

    Returns:
        ``{name: (len(samples),) float array}``.

    Raises:
        DataError: as :func:`score`.

    >>> from touchline.select.predictions import Task
    >>> compute_scores(Task("kp", "keypoint-detection"), {}, [])
    {'object_frequency': array([], dtype=float64),
     'objectness_least_confidence': array([], dtype=float64),
     'mean_uncertainty': array([], dtype=float64)}
    """
    frames = _frames(frame_predictions, samples)
    if names is None:
        with_p = _has_probabilities(frames)
        names = [n for n in available_scores(task) if with_p or not SCORES[n].needs_probabilities]
    out: dict[str, np.ndarray] = {}
    for name in names:
        info = _check_name(name, task)
        if info.needs_probabilities and not _has_probabilities(frames):
            raise DataError(
                f"score {name!r} needs class probabilities but no prediction of task "
                f"{task.name!r} has 'probabilities'"
            )
        out[name] = _run(info, frames, frequency_penalty, min_score)
    return out
