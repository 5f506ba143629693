"""Greedy selection: k-center parity with a brute-force reference and its 2-approximation,
thresholds, weights, balance, similarity, typicality, strength, stopping conditions, resume."""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.select.config import SelectionConfig
from touchline.select.strategies import (
    Balance,
    Diversity,
    SelectionResult,
    Similarity,
    Threshold,
    Typicality,
    Weights,
    aggregate_sequences,
    balance_shares,
    k_center_greedy,
    objective_from_entry,
    random_values,
    select,
    sequence_groups,
    similarity_objective,
    threshold_mask,
    typicality_objective,
    weights_objective,
)


def unit(rng: np.random.Generator, n: int, d: int, dtype: type = np.float64) -> np.ndarray:
    e = rng.normal(size=(n, d))
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(dtype)


def clustered(seed: int, n: int, d: int = 16, k: int = 6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    e = centres[rng.integers(0, k, n)] + 0.4 * rng.normal(size=(n, d))
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


def distances(x: np.ndarray) -> np.ndarray:
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))


def brute_force_k_center(
    x: np.ndarray, k: int, initial: list[int] | None = None, min_distance: float | None = None
) -> list[int]:
    """Greedy k-center on the full distance matrix; ties go to the lowest index."""
    dist = distances(x)
    chosen = list(initial or [])
    new: list[int] = []
    while len(new) < k and len(chosen) < len(x):
        if not chosen:
            pick = 0
        else:
            nearest = dist[:, chosen].min(axis=1)
            nearest[chosen] = -np.inf
            pick = int(np.argmax(nearest))
            if min_distance is not None and nearest[pick] < min_distance:
                break
        chosen.append(pick)
        new.append(pick)
    return new


def radius(x: np.ndarray, centres: list[int] | np.ndarray) -> float:
    return float(distances(x)[:, list(centres)].min(axis=1).max())


# ---------------------------------------------------------------------------------------
# k-center greedy


@pytest.mark.parametrize("seed", range(12))
def test_k_center_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(5, 60)), int(rng.integers(1, 9))
    x = rng.normal(size=(n, d))
    k = int(rng.integers(1, n + 1))
    assert k_center_greedy(x, k).tolist() == brute_force_k_center(x, k)
    init = rng.choice(n, size=min(3, n - 1), replace=False).tolist()
    k2 = min(k, n - len(init))
    assert k_center_greedy(x, k2, initial=init).tolist() == brute_force_k_center(x, k2, init)


@pytest.mark.parametrize("seed", range(6))
def test_k_center_matches_brute_force_with_ties_and_min_distance(seed: int) -> None:
    # integer grid points: many exactly equal distances, so tie-breaking must agree too
    rng = np.random.default_rng(100 + seed)
    x = rng.integers(0, 4, size=(30, 2)).astype(np.float64)
    assert k_center_greedy(x, 12).tolist() == brute_force_k_center(x, 12)
    for md in (1.0, 1.5, 2.0):
        assert k_center_greedy(x, 30, min_distance=md).tolist() == brute_force_k_center(
            x, 30, min_distance=md
        )


def test_k_center_two_approximation_on_random_inputs() -> None:
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(150):
        n, d, k = int(rng.integers(4, 11)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        x = rng.normal(size=(n, d)) * rng.uniform(0.1, 10)
        greedy = radius(x, k_center_greedy(x, k))
        optimal = min(radius(x, list(c)) for c in itertools.combinations(range(n), k))
        assert greedy <= 2.0 * optimal + 1e-9
        worst = max(worst, greedy / optimal if optimal > 0 else 1.0)
    assert worst > 1.0  # the bound is exercised, greedy is not simply optimal


def test_k_center_float32_unit_embeddings_agree_with_float64() -> None:
    e = clustered(3, 2000, 32)
    a = k_center_greedy(e, 40)
    b = k_center_greedy(e.astype(np.float64), 40)
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 40


def test_k_center_more_than_available_and_empty() -> None:
    x = np.arange(5, dtype=float)[:, None]
    assert sorted(k_center_greedy(x, 10).tolist()) == [0, 1, 2, 3, 4]
    assert k_center_greedy(np.zeros((0, 3)), 4).tolist() == []
    res = select(3, [Weights(np.zeros(0))])
    assert res.indices.tolist() == [] and res.stop_reason == "exhausted"


def test_selection_memory_stays_linear() -> None:
    e = clustered(1, 20_000, 32)
    w = np.random.default_rng(0).uniform(size=20_000)
    tracemalloc.start()
    select(50, [Diversity(e), Weights(w)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20e6  # an n x n float32 matrix alone would be 1.6 GB


# ---------------------------------------------------------------------------------------
# thresholds and weights


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("SMALLER", [True, False, False, False]),
        ("SMALLER_EQUAL", [True, True, False, False]),
        ("BIGGER", [False, False, True, False]),
        ("BIGGER_EQUAL", [False, True, True, False]),
    ],
)
def test_threshold_operations(op: str, expected: list[bool]) -> None:
    v = [1.0, 2.0, 3.0, math.nan]
    assert threshold_mask(v, 2.0, op).tolist() == expected
    res = select(None, [Threshold(v, 2.0, op), Weights([1.0, 1.0, 1.0, 1.0])])
    assert sorted(res.indices.tolist()) == [i for i, ok in enumerate(expected) if ok]
    assert res.n_candidates == sum(expected)


def test_threshold_filters_before_everything_else() -> None:
    w = np.array([0.9, 0.1, 0.8, 0.7])
    res = select(2, [Weights(w), Threshold([0, 1, 0, 1], 0.5, "BIGGER")])
    assert res.indices.tolist() == [3, 1]
    with pytest.raises(DataError, match="unknown THRESHOLD operation 'BIGGER_THAN'"):
        threshold_mask([1.0], 0.0, "BIGGER_THAN")


def test_weights_prefer_high_scores() -> None:
    w = np.random.default_rng(2).uniform(size=300)
    res = select(20, [Weights(w)])
    assert res.indices.tolist() == np.argsort(-w, kind="stable")[:20].tolist()
    low = select(20, [Weights(w, strength=-1.0)])
    assert low.indices.tolist() == np.argsort(w, kind="stable")[:20].tolist()


def test_weights_normalisation() -> None:
    assert weights_objective([2.0, 4.0, 0.0]).tolist() == [0.5, 1.0, 0.0]
    assert weights_objective([-2.0, 2.0, 0.0]).tolist() == [0.0, 1.0, 0.5]
    assert weights_objective([3.0, 3.0]).tolist() == [1.0, 1.0]
    assert weights_objective([1.0, math.nan]).tolist() == [1.0, 0.0]
    # a zero objective is last under a positive strength, first under a negative one
    assert select(3, [Weights([0.0, 0.5, 1.0])]).indices.tolist() == [2, 1, 0]
    assert select(3, [Weights([0.0, 0.5, 1.0], strength=-2.0)]).indices.tolist() == [0, 1, 2]


def test_max_sum_stops_the_selection() -> None:
    res = select(None, [Weights([1.0, 3.0, 2.0, 5.0], max_sum=8.0)])
    assert res.indices.tolist() == [3, 1] and res.stop_reason == "max_sum"


# ---------------------------------------------------------------------------------------
# combination and strength


def test_product_of_objectives_matches_the_hand_example() -> None:
    # Lightly's example: diversity 21.0 / 20.8 / 20.5, active learning 10.3 / 10.8 / 10.9;
    # products 216.30, 224.64, 223.45 -> sample 2 (index 1)
    div, al = np.array([21.0, 20.8, 20.5]), np.array([10.3, 10.8, 10.9])
    res = select(1, [Weights(div), Weights(al)])
    assert res.indices.tolist() == [1]
    # the combined objective is the product up to the (irrelevant) scale of each objective
    assert math.exp(res.log_objective[0]) == pytest.approx((20.8 / 21.0) * (10.8 / 10.9))
    assert res.objective_values[0].tolist() == pytest.approx([20.8 / 21.0, 10.8 / 10.9])
    # strength is the exponent: 21*10.3^2 < 20.8*10.8^2 < 20.5*10.9^2
    assert select(1, [Weights(div), Weights(al, strength=2.0)]).indices.tolist() == [2]
    # 21^10*10.3 > 20.8^10*10.8, 20.5^10*10.9
    assert select(1, [Weights(div, strength=10.0), Weights(al)]).indices.tolist() == [0]


def test_diversity_times_weights_on_a_line() -> None:
    # first pick: diversity is 1 for all, so the weight decides (index 2);
    # second pick: distance x weight = 0.5*0.6, 1.9*0.2, 0*1, 1.5*0.5 -> index 3
    x = np.array([[0.0], [2.0], [0.5], [2.0 - 0.0]])
    x[3, 0] = -1.0
    w = np.array([0.6, 0.2, 1.0, 0.5])
    res = select(2, [Diversity(x), Weights(w)])
    assert res.indices.tolist() == [2, 3]
    assert res.objective_values[1].tolist() == pytest.approx([1.5, 0.5])
    assert math.isnan(res.objective_values[0, 0])


@pytest.mark.parametrize("zero", ["weights", "balance", "diversity"])
def test_strength_zero_disables_an_objective(zero: str) -> None:
    e = clustered(4, 400)
    rng = np.random.default_rng(4)
    w = rng.uniform(size=400)
    cat = rng.choice(["a", "b", "c"], size=400, p=[0.8, 0.15, 0.05])
    objs = {
        "diversity": Diversity(e),
        "weights": Weights(w),
        "balance": Balance(cat, target={"a": 0.34, "b": 0.33, "c": 0.33}),
    }
    off = {
        "diversity": Diversity(e, strength=0.0),
        "weights": Weights(w, strength=0.0),
        "balance": Balance(cat, target={"a": 0.34, "b": 0.33, "c": 0.33}, strength=0.0),
    }
    with_zero = select(30, [off[k] if k == zero else v for k, v in objs.items()])
    without = select(30, [v for k, v in objs.items() if k != zero])
    assert with_zero.indices.tolist() == without.indices.tolist()


def test_strength_trades_weights_against_diversity() -> None:
    e = clustered(5, 2000)
    w = np.random.default_rng(5).uniform(size=2000)
    mean_w = [
        float(w[select(40, [Diversity(e), Weights(w, strength=s)]).indices].mean())
        for s in (0.0, 1.0, 4.0)
    ]
    assert mean_w[0] < mean_w[1] < mean_w[2]


# ---------------------------------------------------------------------------------------
# balance


def skewed_categories(seed: int, n: int = 3000) -> np.ndarray:
    return np.random.default_rng(seed).choice(["a", "b", "c"], size=n, p=[0.85, 0.12, 0.03])


def test_balance_reaches_equal_shares_on_a_skewed_set() -> None:
    cat = skewed_categories(0)
    target = {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}
    alone = select(90, [Balance(cat, target=target)])
    assert np.unique(cat[alone.indices], return_counts=True)[1].tolist() == [30, 30, 30]
    e = clustered(0, 3000)
    w = np.random.default_rng(1).uniform(size=3000)
    mixed = select(90, [Diversity(e), Weights(w), Balance(cat, target=target, name="key 'cat'")])
    counts = np.unique(cat[mixed.indices], return_counts=True)[1]
    assert counts.max() - counts.min() <= 1
    # every prefix of the pick order stays balanced too (within one sample per class)
    for m in (10, 31, 60):
        c = np.array([(cat[mixed.indices[:m]] == k).sum() for k in "abc"])
        assert c.max() - c.min() <= 1


def test_balance_with_an_unreachable_class_and_a_remainder() -> None:
    cat = np.array(["a"] * 200 + ["b"] * 200 + ["c"] * 5)
    res = select(60, [Balance(cat, target={"a": 0.2, "b": 0.2, "c": 0.6})])
    got = {k: int((cat[res.indices] == k).sum()) for k in "abc"}
    assert got["c"] == 5 and abs(got["a"] - got["b"]) <= 1
    # shares below 1: the remainder goes to all other classes together
    assert balance_shares(cat, {"a": 0.5}) == {"a": 0.5, "*other*": 0.5}
    res = select(40, [Balance(cat, target={"a": 0.5})])
    assert int((cat[res.indices] == "a").sum()) == 20


def test_balance_uniform_input_and_integer_categories() -> None:
    cat = np.array([0] * 60 + [1] * 30 + [2] * 10)
    uni = select(30, [Balance(cat, distribution="UNIFORM")])
    assert np.bincount(cat[uni.indices]).tolist() == [10, 10, 10]
    inp = select(20, [Balance(cat, distribution="INPUT")])
    assert np.bincount(cat[inp.indices]).tolist() == [12, 6, 2]
    tgt = select(20, [Balance(cat, target={"0": 0.5, "2": 0.5})])  # keys match str(value)
    assert np.bincount(cat[tgt.indices], minlength=3).tolist() == [10, 0, 10]


def test_balance_on_class_distributions() -> None:
    # per-frame class masses (e.g. summed detection probabilities): mostly class 0
    rng = np.random.default_rng(3)
    dominant = rng.choice(3, size=600, p=[0.8, 0.15, 0.05])
    alpha = np.full((600, 3), 1.0)
    alpha[np.arange(600), dominant] = 8.0
    masses = np.array([rng.dirichlet(a) for a in alpha]) * rng.integers(1, 4, size=(600, 1))
    res = select(
        50,
        [Balance(masses, target={"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, class_names=["a", "b", "c"])],
    )
    share = masses[res.indices].sum(axis=0) / masses[res.indices].sum()
    assert share.tolist() == pytest.approx([1 / 3] * 3, abs=0.03)
    before = masses.sum(axis=0) / masses.sum()
    assert before[0] > 0.6


def test_balance_target_naming_a_missing_value_names_the_key() -> None:
    cat = np.array(["a.mp4", "b.mp4"] * 5)
    with pytest.raises(
        DataError, match=r"METADATA 'video_name': BALANCE target names 'c.mp4', which never occurs"
    ):
        select(4, [Balance(cat, target={"a.mp4": 0.5, "c.mp4": 0.5}, name="METADATA 'video_name'")])
    with pytest.raises(
        DataError, match=r"METADATA 'video_name': .*is the key missing from the metadata\?"
    ):
        select(4, [Balance([None] * 6, target={"a.mp4": 1.0}, name="METADATA 'video_name'")])
    with pytest.raises(DataError, match="not a class of the predictions"):
        select(4, [Balance(np.ones((10, 2)), target={"x": 1.0}, class_names=["a", "b"])])


# ---------------------------------------------------------------------------------------
# similarity, typicality, stopping conditions


def test_similarity_prefers_samples_close_to_the_query() -> None:
    e = clustered(6, 500)
    q = e[[10]]
    s = similarity_objective(e, q)
    assert s[10] == pytest.approx(1.0) and s.min() >= 0.0
    res = select(5, [Similarity(e, q)])
    assert res.indices[0] == 10
    assert np.all(s[res.indices] >= np.sort(s)[-5] - 1e-12)


def test_typicality_prefers_dense_regions_and_its_subset_estimate() -> None:
    rng = np.random.default_rng(8)
    dense = rng.normal(0, 0.1, size=(300, 4))
    sparse = rng.normal(0, 3.0, size=(30, 4))
    e = np.vstack([dense, sparse])
    res = select(20, [Typicality(e, 10)])
    assert (res.indices < 300).all()
    exact = typicality_objective(e, 10)
    approx = typicality_objective(e, 10, max_reference=100, seed=1)
    assert np.corrcoef(exact, approx)[0, 1] > 0.9
    cut = select(None, [Typicality(e, 10, min_typicality=0.5)])
    assert cut.stop_reason == "min_typicality"
    assert (exact[cut.indices] >= 0.5).all() and len(cut.indices) == int((exact >= 0.5).sum())


def test_min_distance_stops_and_keeps_samples_apart() -> None:
    e = clustered(9, 1500)
    w = np.random.default_rng(9).uniform(size=1500)
    res = select(None, [Diversity(e, min_distance=0.6), Weights(w)])
    assert res.stop_reason == "min_distance"
    d = distances(e[res.indices].astype(np.float64))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 0.6 - 1e-5
    # every other sample is within 0.6 of a pick (else it would have been eligible)
    near = np.sqrt(((e[:, None, :] - e[res.indices][None]) ** 2).sum(-1)).min(axis=1)
    assert near.max() < 0.6 + 1e-5
    capped = select(5, [Diversity(e, min_distance=0.6), Weights(w)])
    assert capped.stop_reason == "n_samples" and len(capped.indices) == 5


# ---------------------------------------------------------------------------------------
# resume


def objectives_for_resume(n: int = 3000) -> list:
    e = clustered(11, n)
    rng = np.random.default_rng(11)
    cat = rng.choice(["a", "b", "c", "d"], size=n, p=[0.5, 0.3, 0.15, 0.05])
    return [
        Diversity(e, min_distance=0.05),
        Weights(rng.gamma(2.0, size=n)),
        Weights(rng.uniform(size=n), strength=0.5),
        Balance(cat, target={"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}),
        Typicality(e, 8, strength=0.3),
        Threshold(rng.uniform(size=n), 0.1, "BIGGER"),
    ]


def same(a: SelectionResult, b: SelectionResult) -> None:
    assert a.indices.tolist() == b.indices.tolist()
    np.testing.assert_array_equal(a.log_objective, b.log_objective)
    np.testing.assert_array_equal(a.objective_values, b.objective_values)
    assert a.stop_reason == b.stop_reason and a.names == b.names


def test_resume_equals_the_uninterrupted_run() -> None:
    objs = objectives_for_resume()
    full = select(60, objs)
    for k in (0, 1, 23, 59, 60):
        same(select(60, objs, preselected=full.indices[:k]), full)


def test_interrupted_run_resumes_from_its_progress_log() -> None:
    objs = objectives_for_resume()
    full = select(50, objs)
    log: list[int] = []

    class Interrupted(Exception):
        pass

    def progress(done: int, total: int | None, index: int) -> None:
        log.append(index)
        if done == 17:
            raise Interrupted

    with pytest.raises(Interrupted):
        select(50, objs, progress=progress)
    assert log == full.indices[:17].tolist()
    seen: list[int] = []
    resumed = select(50, objs, preselected=log, progress=lambda d, t, i: seen.append(d))
    same(resumed, full)
    assert seen == list(range(1, 51))


# ---------------------------------------------------------------------------------------
# errors, config glue, sequences, random


@pytest.mark.parametrize(
    ("objectives", "match"),
    [
        (
            [Weights(["a", "b"], name="METADATA 'video_name'")],
            r"METADATA 'video_name': WEIGHTS/THRESHOLD need numbers",
        ),
        (
            [Weights([1.0, 2.0]), Weights([1.0, 2.0, 3.0], name="s2")],
            "every input needs one row per sample",
        ),
        ([Diversity(np.ones(3))], r"expected embeddings \(n, d\)"),
        ([Diversity(np.array([[np.nan, 0.0]]))], "NaN or infinity"),
        ([Weights([1.0], strength=math.inf)], "strength must be finite"),
        ([Balance([["x"]], target={"x": 1.0})], "class masses must be numbers"),
        ([Balance(["x"], target={"x": 1.0}, distribution="EVEN")], "unknown BALANCE distribution"),
        ([Similarity(np.ones((3, 2)), np.ones((1, 3)))], r"EMBEDDINGS: SIMILARITY query: 3-d"),
    ],
)
def test_bad_inputs_give_clear_errors(objectives: list, match: str) -> None:
    with pytest.raises(DataError, match=match):
        select(2, objectives)


def test_bad_preselected() -> None:
    with pytest.raises(DataError, match=r"preselected: indices must be in \[0, 3\)"):
        select(2, [Weights([1.0, 2.0, 3.0])], preselected=[5])
    with pytest.raises(DataError, match="repeated"):
        select(2, [Weights([1.0, 2.0, 3.0])], preselected=[1, 1])


SPORTS = {
    "n_samples": 100,
    "strategies": [
        {"input": {"type": "EMBEDDINGS", "task": "pose"}, "strategy": {"type": "DIVERSITY"}},
        {
            "input": {"type": "SCORES", "task": "pose", "score": "object_frequency"},
            "strategy": {"type": "WEIGHTS"},
        },
        {
            "input": {"type": "SCORES", "task": "pose", "score": "objectness_least_confidence"},
            "strategy": {"type": "WEIGHTS"},
        },
        {
            "input": {"type": "METADATA", "key": "video_name"},
            "strategy": {
                "type": "BALANCE",
                "target": {"v0.mp4": 0.25, "v1.mp4": 0.25, "v2.mp4": 0.25, "v3.mp4": 0.25},
            },
        },
    ],
}


def test_the_sports_tutorial_config_runs_unchanged() -> None:
    cfg = SelectionConfig.from_dict(SPORTS, source="sports.json")
    n = 4000
    rng = np.random.default_rng(12)
    e = clustered(12, n)
    video = np.array([f"v{i}.mp4" for i in range(4)])[
        rng.choice(4, size=n, p=[0.6, 0.25, 0.1, 0.05])
    ]
    arrays = [e, rng.poisson(4, size=n).astype(float), rng.uniform(size=n), video]
    objs = [objective_from_entry(en, a) for en, a in zip(cfg.strategies, arrays, strict=True)]
    res = select(cfg.samples_to_select(n), objs)
    assert len(res.indices) == 100 and res.stop_reason == "n_samples"
    assert np.unique(video[res.indices], return_counts=True)[1].tolist() == [25, 25, 25, 25]
    assert res.names == (
        "EMBEDDINGS pose",
        "SCORES pose/object_frequency",
        "SCORES pose/objectness_least_confidence",
        "METADATA 'video_name'",
    )


def test_objective_from_entry_for_every_strategy() -> None:
    cfg = SelectionConfig.from_dict(
        {
            "proportion_samples": 0.5,
            "strategies": [
                {"input": {"type": "RANDOM", "random_seed": 5}, "strategy": {"type": "WEIGHTS"}},
                {
                    "input": {"type": "METADATA", "key": "lightly.sharpness"},
                    "strategy": {"type": "THRESHOLD", "threshold": 0.2, "operation": "BIGGER"},
                },
                {
                    "input": {"type": "EMBEDDINGS", "tag_name": "queries"},
                    "strategy": {"type": "SIMILARITY"},
                },
                {
                    "input": {"type": "EMBEDDINGS"},
                    "strategy": {"type": "TYPICALITY", "num_nearest_neighbors": 5, "strength": 0.5},
                },
                {
                    "input": {"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION"},
                    "strategy": {"type": "BALANCE", "distribution": "UNIFORM"},
                },
            ],
        }
    )
    n = 200
    e = clustered(13, n)
    rng = np.random.default_rng(13)
    objs = [
        objective_from_entry(cfg.strategies[0], None, size=n),
        objective_from_entry(cfg.strategies[1], rng.uniform(size=n)),
        objective_from_entry(cfg.strategies[2], e, query=e[:3]),
        objective_from_entry(cfg.strategies[3], e),
        objective_from_entry(
            cfg.strategies[4], rng.dirichlet([1, 1], size=n), class_names=["x", "y"]
        ),
    ]
    assert isinstance(objs[0], Weights) and np.array_equal(objs[0].values, random_values(n, 5))
    assert isinstance(objs[3], Typicality) and objs[3].num_nearest_neighbors == 5
    res = select(cfg.samples_to_select(n), objs)
    assert len(res.indices) == 100
    with pytest.raises(DataError, match="SIMILARITY needs the query embeddings"):
        objective_from_entry(cfg.strategies[2], e)


def test_random_values_are_seeded_and_positive() -> None:
    a, b = random_values(1000, 3), random_values(1000, 3)
    assert np.array_equal(a, b) and a.min() > 0.0 and a.max() <= 1.0
    assert not np.array_equal(a, random_values(1000, 4))


def test_sequence_selection() -> None:
    videos = np.repeat(["a.mp4", "b.mp4", "c.mp4"], [25, 12, 9])
    frames = np.concatenate([np.arange(25)[::-1], np.arange(12), np.arange(9)])
    groups = sequence_groups(videos, frames, 4)
    assert groups.shape == (6 + 3 + 2, 4)
    assert (videos[groups] == videos[groups[:, :1]]).all()  # a sequence stays in one video
    assert (np.diff(frames[groups], axis=1) == 1).all()  # consecutive frames
    rng = np.random.default_rng(14)
    e = rng.normal(size=(len(videos), 8))
    seq_e = aggregate_sequences(e, groups)
    assert seq_e.shape == (11, 8) and np.allclose(seq_e[0], e[groups[0]].mean(axis=0))
    seq_v = aggregate_sequences(videos, groups)
    res = select(6, [Diversity(seq_e), Balance(seq_v, distribution="UNIFORM")])
    picked = groups[res.indices].ravel()
    assert len(picked) == 24 and len(set(picked.tolist())) == 24
    assert sorted(np.unique(videos[picked], return_counts=True)[1].tolist()) == [8, 8, 8]
