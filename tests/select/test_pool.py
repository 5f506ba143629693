"""The sample pool (one validated set of arrays aligned with the samples) and the Strategy
contract every objective implements."""

from __future__ import annotations

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.select.config import InputType, PredictionsName, SelectionInput
from touchline.select.pool import SamplePool, metadata_columns
from touchline.select.predictions import Category, FramePredictions, ObjectPrediction, Task
from touchline.select.strategies import (
    Balance,
    Diversity,
    Scorer,
    Similarity,
    Strategy,
    Threshold,
    Typicality,
    Weights,
    select,
)
from touchline.select.types import Sample


def frames(n: int = 6) -> list[Sample]:
    return [
        Sample(f"v-{k}-mp4.png", "v.mp4", "v.mp4", k, {"w": "sun" if k < 3 else "rain", "s": k})
        for k in range(n)
    ]


def pool(n: int = 6, **kw: object) -> SamplePool:
    e = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    return SamplePool(frames(n), e, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "named"),
    [
        ({"scores": {"t/s": np.zeros(5)}}, "scores 't/s'"),
        ({"metadata": {"weather": np.zeros(7, object)}}, "metadata 'weather'"),
        ({"task_embeddings": {"people": np.zeros((2, 4), np.float32)}}, "task embeddings 'people'"),
        (
            {"inputs": {SelectionInput(InputType.METADATA, key="k"): np.zeros(3)}},
            "input METADATA 'k'",
        ),
        ({"groups": np.zeros((2, 3), np.int64)}, "groups"),
        ({"objects": []}, "objects"),
    ],
)
def test_mismatched_lengths_name_the_field(kw: dict[str, object], named: str) -> None:
    with pytest.raises(
        DataError, match=rf"SamplePool: {named} has \d+ rows, expected one per sample \(6\)"
    ):
        pool(**kw)


def test_embeddings_and_class_names_are_checked() -> None:
    with pytest.raises(DataError, match=r"embeddings has 5 rows"):
        SamplePool(frames(), np.zeros((5, 4), np.float32))
    with pytest.raises(DataError, match=r"embeddings must be \(n, d\)"):
        SamplePool(frames(), np.zeros(6, np.float32))
    inp = SelectionInput(InputType.PREDICTIONS, task="t", name=PredictionsName.CLASS_DISTRIBUTION)
    with pytest.raises(DataError, match="3 class names for input PREDICTIONS t/CLASS_DISTRIBUTION"):
        pool(inputs={inp: np.zeros((6, 2))}, class_names={inp: ["a", "b", "c"]})


def test_resolve_sequences_subset_and_expand() -> None:
    task = Task("t", "object-detection", (Category(0, "player"), Category(1, "ball")))
    preds = {
        s.file_name: FramePredictions(
            s.file_name,
            tuple(ObjectPrediction(k % 2, 0.5, bbox=[0, 0, 1, 1]) for k in range(i % 3)),
        )
        for i, s in enumerate(frames())
    }
    meta = SelectionInput(InputType.METADATA, key="s")
    dist = SelectionInput(InputType.PREDICTIONS, task="t", name=PredictionsName.CLASS_DISTRIBUTION)
    count = SelectionInput(InputType.PREDICTIONS, task="t", name=PredictionsName.CATEGORY_COUNT)
    rand = SelectionInput(InputType.RANDOM)
    p = pool(metadata=metadata_columns(frames())).resolve([meta, dist, count, rand], {"t": task},
                                                         {"t": preds})  # fmt: skip
    assert p.inputs[meta].dtype == np.float64 and p.inputs[meta].tolist() == [0, 1, 2, 3, 4, 5]
    assert p.inputs[count].tolist() == [0, 1, 2, 0, 1, 2]
    assert p.class_names == {dist: ["player", "ball"]} and rand not in p.inputs
    runs = p.sequences(3)
    assert len(runs) == 2 and runs.groups is not None
    assert runs.inputs[meta].tolist() == [1.0, 4.0] and runs.metadata["w"].tolist() == [
        "sun",
        "rain",
    ]
    assert runs.expand([1, 0]).tolist() == [3, 4, 5, 0, 1, 2]
    sub = p.subset([4, 1])
    assert sub.file_names == ["v-4-mp4.png", "v-1-mp4.png"] and sub.inputs[count].tolist() == [1, 1]
    with pytest.raises(DataError, match="no run of 7 consecutive frames"):
        p.sequences(7)
    with pytest.raises(DataError, match="METADATA key 'nope'"):
        p.resolve([SelectionInput(InputType.METADATA, key="nope")], {}, {})


def test_every_objective_satisfies_the_strategy_protocol() -> None:
    rng = np.random.default_rng(1)
    e = rng.normal(size=(8, 3))
    v = rng.uniform(size=8)
    objectives = [
        Diversity(e),
        Weights(v, max_sum=2.0),
        Threshold(v, 0.2, "BIGGER"),
        Balance(np.repeat(["a", "b"], 4), {"a": 0.5, "b": 0.5}),
        Similarity(e, e[:1]),
        Typicality(e, 2),
    ]
    candidates = np.ones(8, bool)
    for obj in objectives:
        assert isinstance(obj, Strategy)
        assert obj.rows() == 8
        keep = obj.keep()
        scorer = obj.fit(candidates, 0)
        if isinstance(obj, Threshold):
            assert keep is not None and scorer is None
            continue
        assert keep is None and isinstance(scorer, Scorer)
        score = np.zeros(8)
        eligible = candidates.copy()
        scorer.restrict(eligible)
        scorer.add_score(score, eligible)
        assert np.isfinite(score).all()
        assert isinstance(scorer.update(3), bool)
    assert not isinstance(object(), Strategy)

    # select() takes any Strategy: a user-defined one joins the greedy pass
    class Last:
        name = "LAST"

        def rows(self) -> int:
            return 8

        def keep(self) -> None:
            return None

        def fit(self, candidates: np.ndarray, seed: int = 0) -> Scorer:
            return Scorer(np.linspace(0.1, 1.0, 8), 1.0)

    assert isinstance(Last(), Strategy)
    assert select(2, [Last()]).indices.tolist() == [7, 6]
