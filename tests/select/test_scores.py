"""Tests of touchline.select.scores: every score on tiny predictions, checked by hand.

The arithmetic behind each expected number is written next to it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.select.predictions import (
    Category,
    FramePredictions,
    ObjectPrediction,
    Task,
    read_predictions,
    write_predictions,
    write_tasks,
)
from touchline.select.scores import (
    SCORES,
    available_scores,
    compute_scores,
    object_frequency,
    score,
    uncertainty_entropy,
    uncertainty_least_confidence,
    uncertainty_margin,
)
from touchline.select.types import Sample

PLAYERS = Task(
    "players",
    "object-detection",
    (Category(0, "player"), Category(1, "goalkeeper"), Category(2, "ball")),
)
PITCH = Task("pitch", "keypoint-detection", (Category(0, "pitch"),))
BOX = [0.0, 0.0, 10.0, 10.0]


def box(category: int, score_: float, p: list[float] | None = None) -> ObjectPrediction:
    return ObjectPrediction(category, score_, bbox=BOX, probabilities=p)


def kp(score_: float, s: list[float]) -> ObjectPrediction:
    return ObjectPrediction(0, score_, keypoints=[v for c in s for v in (1.0, 2.0, c)])


SAMPLES = [Sample(f"f{k}.jpg", f"/in/f{k}.jpg") for k in range(5)]
THIRD = 1 / 3

DETECTIONS = {
    # two players and a ball; probabilities on the players only
    "f0.jpg": FramePredictions(
        "f0.jpg",
        (box(0, 0.9, [0.8, 0.15, 0.05]), box(0, 0.6, [0.5, 0.3, 0.2]), box(2, 0.3)),
    ),
    "f1.jpg": FramePredictions("f1.jpg", (box(1, 0.5, [THIRD, THIRD, THIRD]),)),  # undecided
    "f2.jpg": FramePredictions("f2.jpg"),  # a prediction file without objects
    "f3.jpg": FramePredictions("f3.jpg", tuple(box(0, 1.0) for _ in range(5))),  # 5 players
    # f4.jpg: no prediction file at all
}

# -(0.8 ln 0.8 + 0.15 ln 0.15 + 0.05 ln 0.05) / ln 3 = (0.178515 + 0.284568 + 0.149787) / 1.098612
ENTROPY_A = 0.557858
# -(0.5 ln 0.5 + 0.3 ln 0.3 + 0.2 ln 0.2) / ln 3 = (0.346574 + 0.361192 + 0.321888) / 1.098612
ENTROPY_B = 0.937231

EXPECTED_DETECTION = {
    # counts: f0 player 1 + 0.25, ball 1 -> 2.25; f1 1; f2 0; f3 1 + 4 * 0.25 = 2; f4 0
    # -> 0.9 + 0.1 * count / 2.25
    "object_frequency": [1.0, 0.9 + 0.1 / 2.25, 0.9, 0.9 + 0.2 / 2.25, 0.9],
    # 1 - mean(0.9, 0.6, 0.3) = 0.4; 1 - 0.5; no objects: 0; 1 - 1.0
    "objectness_least_confidence": [0.4, 0.5, 0.0, 0.0, 0.0],
    # max((1 - 0.8) / (2/3), (1 - 0.5) / (2/3)) = max(0.3, 0.75); uniform: 1
    "uncertainty_least_confidence": [0.75, 1.0, 0.0, 0.0, 0.0],
    # max(1 - (0.8 - 0.15), 1 - (0.5 - 0.3)) = max(0.35, 0.8); uniform: 1 - 0
    "uncertainty_margin": [0.8, 1.0, 0.0, 0.0, 0.0],
    "uncertainty_entropy": [max(ENTROPY_A, ENTROPY_B), 1.0, 0.0, 0.0, 0.0],
}

KEYPOINTS = {
    # keypoint confidences 0.9, 0.5 | 0.1, 0.0 -> mean 0.375
    "f0.jpg": FramePredictions("f0.jpg", (kp(0.8, [0.9, 0.5]), kp(0.6, [0.1, 0.0]))),
    "f1.jpg": FramePredictions("f1.jpg", (kp(0.9, [1.0, 1.0, 1.0]),)),
    "f2.jpg": FramePredictions("f2.jpg"),
    "f3.jpg": FramePredictions("f3.jpg", (kp(0.2, [0.0, 0.0]),)),  # every keypoint invisible
}

EXPECTED_KEYPOINTS = {
    # counts 1.25, 1, 0, 1, 0 -> 0.9 + 0.1 * count / 1.25
    "object_frequency": [1.0, 0.98, 0.9, 0.98, 0.9],
    # 1 - mean(0.8, 0.6); 1 - 0.9; 0; 1 - 0.2; 0
    "objectness_least_confidence": [0.3, 0.1, 0.0, 0.8, 0.0],
    # 1 - 0.375; 1 - 1; no keypoints: 0; 1 - 0; no file: 0
    "mean_uncertainty": [0.625, 0.0, 0.0, 1.0, 0.0],
}


def test_detection_scores_by_hand() -> None:
    got = compute_scores(PLAYERS, DETECTIONS, SAMPLES)
    assert list(got) == list(EXPECTED_DETECTION)
    for name, expected in EXPECTED_DETECTION.items():
        np.testing.assert_allclose(got[name], expected, atol=1e-6, err_msg=name)
        assert got[name].shape == (5,) and got[name].dtype == np.float64
        np.testing.assert_array_equal(score(name, PLAYERS, DETECTIONS, SAMPLES), got[name])


def test_keypoint_scores_by_hand() -> None:
    got = compute_scores(PITCH, KEYPOINTS, SAMPLES)
    assert list(got) == list(EXPECTED_KEYPOINTS)  # no probabilities: no uncertainty_* scores
    for name, expected in EXPECTED_KEYPOINTS.items():
        np.testing.assert_allclose(got[name], expected, atol=1e-12, err_msg=name)


def test_per_object_uncertainties() -> None:
    p = np.array([[1.0, 0.0, 0.0], [0.8, 0.15, 0.05], [THIRD, THIRD, THIRD]])
    np.testing.assert_allclose(uncertainty_least_confidence(p), [0.0, 0.3, 1.0])
    np.testing.assert_allclose(uncertainty_margin(p), [0.0, 0.35, 1.0], atol=1e-12)
    np.testing.assert_allclose(uncertainty_entropy(p), [0.0, ENTROPY_A, 1.0], atol=1e-6)
    # one category: [p] means [p, 1 - p]; H(0.7, 0.3) / ln 2 = 0.881291
    one = np.array([[0.7]])
    np.testing.assert_allclose(uncertainty_least_confidence(one), [(1 - 0.7) / 0.5])
    np.testing.assert_allclose(uncertainty_margin(one), [1 - 0.4])
    expected = -(0.7 * math.log(0.7) + 0.3 * math.log(0.3)) / math.log(2)
    np.testing.assert_allclose(uncertainty_entropy(one), [expected])
    assert abs(expected - 0.881291) < 1e-6
    with pytest.raises(DataError, match=r"shape \(n, C\)"):
        uncertainty_margin(np.zeros(3))


def test_object_frequency_parameters() -> None:
    frames = [DETECTIONS.get(s.file_name, FramePredictions(s.file_name)) for s in SAMPLES]
    # no penalty and min_score 0: plain object counts 3, 1, 0, 5, 0 divided by 5
    np.testing.assert_allclose(
        object_frequency(frames, frequency_penalty=1.0, min_score=0.0), [0.6, 0.2, 0.0, 1.0, 0.0]
    )
    # full penalty: categories present 2, 1, 0, 1, 0
    np.testing.assert_allclose(
        object_frequency(frames, frequency_penalty=0.0, min_score=0.5), [1.0, 0.75, 0.5, 0.75, 0.5]
    )
    same = [FramePredictions("a", (box(0, 0.5),)), FramePredictions("b", (box(1, 0.5),))]
    np.testing.assert_array_equal(object_frequency(same), [1.0, 1.0])  # all equal counts
    np.testing.assert_array_equal(object_frequency([]), np.zeros(0))
    with pytest.raises(ValueError, match="frequency_penalty"):
        object_frequency(frames, frequency_penalty=1.5)
    with pytest.raises(ValueError, match="min_score"):
        compute_scores(PLAYERS, DETECTIONS, SAMPLES, min_score=-0.1)


def test_registry_and_task_types() -> None:
    assert list(SCORES) == [
        "object_frequency",
        "objectness_least_confidence",
        "mean_uncertainty",
        "uncertainty_least_confidence",
        "uncertainty_margin",
        "uncertainty_entropy",
    ]
    assert "mean_uncertainty" not in available_scores(PLAYERS)
    assert available_scores(PITCH) == list(SCORES)
    assert available_scores("classification") == []
    assert all(info.source.startswith("https://docs.lightly.ai/") for info in SCORES.values())
    no_probabilities = {k: v for k, v in DETECTIONS.items() if k in ("f2.jpg", "f3.jpg")}
    assert list(compute_scores(PLAYERS, no_probabilities, SAMPLES)) == [
        "object_frequency",
        "objectness_least_confidence",
    ]
    chosen = compute_scores(PLAYERS, DETECTIONS, SAMPLES, names=["uncertainty_margin"])
    assert list(chosen) == ["uncertainty_margin"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: score("sharpness", PLAYERS, DETECTIONS, SAMPLES),
            r"unknown score 'sharpness'; known scores: object_frequency, objectness_least_confidence, "
            r"mean_uncertainty, uncertainty_least_confidence, uncertainty_margin, uncertainty_entropy",
        ),
        (
            lambda: compute_scores(
                PLAYERS, DETECTIONS, SAMPLES, names=["object_frequency", "blur"]
            ),
            r"unknown score 'blur'",
        ),
        (
            lambda: score("mean_uncertainty", PLAYERS, DETECTIONS, SAMPLES),
            r"score 'mean_uncertainty' does not apply to task 'players' of type 'object-detection' "
            r"\(scores for it: object_frequency, objectness_least_confidence, uncertainty_",
        ),
        (
            lambda: score("uncertainty_entropy", PITCH, KEYPOINTS, SAMPLES),
            r"score 'uncertainty_entropy' needs class probabilities but no prediction of task "
            r"'pitch' has 'probabilities'",
        ),
        (
            lambda: compute_scores(PITCH, KEYPOINTS, SAMPLES, names=["uncertainty_margin"]),
            r"needs class probabilities",
        ),
        (
            lambda: score("object_frequency", PLAYERS, DETECTIONS, SAMPLES[:2]),
            r"predictions for 2 file names that are not among the samples \(first: 'f2\.jpg'\)",
        ),
        (
            lambda: score(
                "mean_uncertainty",
                PITCH,
                {"f1.jpg": FramePredictions("f1.jpg", (kp(0.9, [2.0, 1.0]),))},
                SAMPLES,
            ),
            r"f1\.jpg: keypoint confidence 2 is above 1: mean_uncertainty needs confidences in \[0, 1\]",
        ),
        (
            lambda: score(
                "uncertainty_margin",
                Task(
                    "t",
                    "keypoint-detection",
                    (Category(0, "a"), Category(1, "b"), Category(2, "c")),
                ),
                {
                    "f0.jpg": FramePredictions(
                        "f0.jpg",
                        (
                            ObjectPrediction(0, 0.5, keypoints=[1, 1, 1], probabilities=[0.5, 0.5]),
                            ObjectPrediction(
                                0, 0.5, keypoints=[1, 1, 1], probabilities=[0.2, 0.3, 0.5]
                            ),
                        ),
                    )
                },
                SAMPLES,
            ),
            r"f0\.jpg: objects have probabilities of different lengths \[2, 3\]",
        ),
    ],
)
def test_score_errors(call: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        call()  # type: ignore[operator]


def test_scores_of_predictions_read_from_disk(tmp_path: Path) -> None:
    write_tasks(tmp_path, [PLAYERS])
    write_predictions(tmp_path, PLAYERS, DETECTIONS.values())
    predictions = read_predictions(tmp_path, PLAYERS, SAMPLES)
    assert predictions["f4.jpg"].missing and not predictions["f2.jpg"].missing
    got = compute_scores(PLAYERS, predictions, SAMPLES)
    for name, expected in EXPECTED_DETECTION.items():
        np.testing.assert_allclose(got[name], expected, atol=1e-6, err_msg=name)


def test_zero_samples() -> None:
    got = compute_scores(PLAYERS, {}, [])
    assert {k: v.shape for k, v in got.items()} == {
        "object_frequency": (0,),
        "objectness_least_confidence": (0,),
    }
