"""Selection config in Lightly's JSON shape: parsing, round trips and one clear error per
bad case, naming the file and the key path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from touchline.errors import DataError
from touchline.select.config import (
    ALLOWED_STRATEGIES,
    KNOWN_SCORES,
    BalanceDistribution,
    InputType,
    PredictionsName,
    SelectionConfig,
    SelectionConfigError,
    SelectionEntry,
    SelectionInput,
    SelectionStrategy,
    StrategyType,
    ThresholdOperation,
    allowed_strategies,
    load_selection_config,
)

T = "volleyball_pose"
SPORTS: dict[str, Any] = {
    "n_samples": 100,
    "strategies": [
        {"input": {"type": "EMBEDDINGS", "task": T}, "strategy": {"type": "DIVERSITY"}},
        {
            "input": {"type": "SCORES", "task": T, "score": "object_frequency"},
            "strategy": {"type": "WEIGHTS"},
        },
        {
            "input": {"type": "SCORES", "task": T, "score": "objectness_least_confidence"},
            "strategy": {"type": "WEIGHTS"},
        },
        {
            "input": {"type": "METADATA", "key": "video_name"},
            "strategy": {
                "type": "BALANCE",
                "target": {"a.mp4": 0.34, "b.mp4": 0.33, "c.mp4": 0.33},
            },
        },
    ],
}

EVERYTHING: dict[str, Any] = {
    "proportion_samples": 0.2,
    "selected_sequence_length": 1,
    "strategies": [
        {
            "input": {"type": "EMBEDDINGS"},
            "strategy": {
                "type": "DIVERSITY",
                "stopping_condition_minimum_distance": 0.2,
                "strength": 0.6,
            },
        },
        {
            "input": {"type": "SCORES", "task": "det", "score": "uncertainty_entropy"},
            "strategy": {"type": "WEIGHTS", "strength": -1.5, "stopping_condition_max_sum": 40},
        },
        {
            "input": {"type": "METADATA", "key": "lightly.sharpness"},
            "strategy": {"type": "THRESHOLD", "threshold": 20, "operation": "BIGGER_EQUAL"},
        },
        {
            "input": {
                "type": "PREDICTIONS",
                "task": "det",
                "name": "CATEGORY_COUNT",
                "categories": ["bus", "car"],
            },
            "strategy": {"type": "THRESHOLD", "threshold": 2, "operation": "SMALLER"},
        },
        {
            "input": {"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION"},
            "strategy": {"type": "BALANCE", "target": {"bus": 0.2, "car": 0.4}},
        },
        {
            "input": {"type": "RANDOM", "random_seed": 42},
            "strategy": {"type": "WEIGHTS", "strength": 0.1},
        },
        {
            "input": {
                "type": "EMBEDDINGS",
                "dataset_id": "0123456789abcdef01234567",
                "tag_name": "queries",
            },
            "strategy": {"type": "SIMILARITY"},
        },
        {
            "input": {"type": "EMBEDDINGS"},
            "strategy": {
                "type": "TYPICALITY",
                "num_nearest_neighbors": 10,
                "stopping_condition_minimum_typicality": 0.3,
            },
        },
        {
            "input": {"type": "METADATA", "key": "weather"},
            "strategy": {"type": "BALANCE", "distribution": "UNIFORM"},
        },
    ],
}


def test_the_sports_tutorial_config_parses() -> None:
    cfg = SelectionConfig.from_dict(SPORTS)
    assert cfg.n_samples == 100 and cfg.proportion_samples is None
    assert [e.strategy.type for e in cfg.strategies] == [
        StrategyType.DIVERSITY,
        StrategyType.WEIGHTS,
        StrategyType.WEIGHTS,
        StrategyType.BALANCE,
    ]
    assert cfg.strategies[0].input == SelectionInput(InputType.EMBEDDINGS, task=T)
    assert cfg.strategies[3].strategy.target == {"a.mp4": 0.34, "b.mp4": 0.33, "c.mp4": 0.33}
    assert all(e.strategy.strength == 1.0 for e in cfg.strategies)
    assert cfg.samples_to_select(5000) == 100 and cfg.samples_to_select(40) == 40


@pytest.mark.parametrize("data", [SPORTS, EVERYTHING], ids=["sports", "everything"])
def test_round_trips(data: dict[str, Any], tmp_path: Path) -> None:
    cfg = SelectionConfig.from_dict(data)
    again = SelectionConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.to_dict() == cfg.to_dict()
    path = cfg.to_json(tmp_path / "selection.json")
    assert SelectionConfig.from_json(path) == cfg
    assert load_selection_config(path) == cfg and load_selection_config(cfg.to_dict()) == cfg
    # what to_dict writes is the input plus the default strength, nothing else
    out = cfg.to_dict()
    for a, b in zip(data["strategies"], out["strategies"], strict=True):
        assert b["input"] == a["input"]
        assert {
            k: v for k, v in b["strategy"].items() if k not in ("strength", "distribution")
        } == {k: v for k, v in a["strategy"].items() if k not in ("strength", "distribution")}


def test_everything_is_typed() -> None:
    cfg = SelectionConfig.from_dict(EVERYTHING)
    s = [e.strategy for e in cfg.strategies]
    i = [e.input for e in cfg.strategies]
    assert s[0].stopping_condition_minimum_distance == 0.2 and s[0].strength == 0.6
    assert s[1].strength == -1.5 and s[1].stopping_condition_max_sum == 40
    assert s[2].operation is ThresholdOperation.BIGGER_EQUAL and s[2].threshold == 20
    assert i[3].name is PredictionsName.CATEGORY_COUNT and i[3].categories == ("bus", "car")
    assert s[4].distribution is BalanceDistribution.TARGET
    assert i[5].random_seed == 42
    assert i[6].tag_name == "queries"
    assert s[7].num_nearest_neighbors == 10 and s[7].stopping_condition_minimum_typicality == 0.3
    assert s[8].distribution is BalanceDistribution.UNIFORM and s[8].target is None
    assert [e.describe() for e in cfg.thresholds()] == [
        "THRESHOLD of METADATA 'lightly.sharpness'",
        "THRESHOLD of PREDICTIONS det/CATEGORY_COUNT",
    ]
    assert cfg.samples_to_select(1001) == 200


def test_camel_case_and_wrapped_forms() -> None:
    camel = {
        "nSamples": 20,
        "strategies": [
            {"input": {"type": "RANDOM", "randomSeed": 1}, "strategy": {"type": "WEIGHTS"}},
            {
                "input": {"type": "EMBEDDINGS"},
                "strategy": {"type": "TYPICALITY", "numNearestNeighbors": 4},
            },
        ],
    }
    cfg = SelectionConfig.from_dict(camel)
    assert cfg.n_samples == 20 and cfg.strategies[0].input.random_seed == 1
    assert "nSamples" not in cfg.to_dict() and cfg.to_dict()["n_samples"] == 20
    wrapped = {
        "worker_config": {"selected_sequence_length": 10, "enable_training": False},
        "selection_config": {"n_samples": 200, "strategies": SPORTS["strategies"]},
    }
    seq = SelectionConfig.from_dict(wrapped)
    assert seq.selected_sequence_length == 10 and seq.n_samples == 200
    assert SelectionConfig.from_dict(seq.to_dict()) == seq


def test_samples_to_select() -> None:
    base: dict[str, Any] = {"strategies": SPORTS["strategies"][:1]}
    assert SelectionConfig.from_dict({**base, "n_samples": -1}).samples_to_select(77) == 77
    assert (
        SelectionConfig.from_dict({**base, "proportion_samples": 0.1}).samples_to_select(1234)
        == 123
    )
    seq = SelectionConfig.from_dict(
        {**base, "proportion_samples": 0.1, "selected_sequence_length": 10}
    )
    assert seq.samples_to_select(1234) == 130  # rounded up to whole sequences
    assert (
        SelectionConfig.from_dict(
            {**base, "n_samples": 30, "selected_sequence_length": 10}
        ).samples_to_select(25)
        == 20
    )


def test_allowed_strategies_is_lightlys_table() -> None:
    e = {
        "EMBEDDINGS": {"DIVERSITY", "SIMILARITY", "TYPICALITY"},
        "SCORES": {"WEIGHTS", "THRESHOLD"},
        "METADATA": {"WEIGHTS", "THRESHOLD", "BALANCE"},
        "RANDOM": {"WEIGHTS", "THRESHOLD"},
    }
    for t, want in e.items():
        assert {s.value for s in allowed_strategies(SelectionInput(InputType(t)))} == want
    cc = SelectionInput(InputType.PREDICTIONS, name=PredictionsName.CATEGORY_COUNT)
    cd = SelectionInput(InputType.PREDICTIONS, name=PredictionsName.CLASS_DISTRIBUTION)
    assert {s.value for s in allowed_strategies(cc)} == {"WEIGHTS", "THRESHOLD"}
    assert {s.value for s in allowed_strategies(cd)} == {"BALANCE"}
    assert len(ALLOWED_STRATEGIES) == 6


def mutate(path: str, value: Any) -> dict[str, Any]:
    """SPORTS with ``path`` (dotted, [i] for lists) set to ``value`` (``...``: deleted)."""
    data = copy.deepcopy(SPORTS)
    node: Any = data
    keys: list[Any] = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        keys.append(int(part) if part.isdigit() else part)
    for k in keys[:-1]:
        node = node[k]
    if value is ...:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


BAD: list[tuple[str, Any, str, str]] = [
    # (where, new value, expected key path, expected words)
    (
        "strategies[2].strategy.type",
        "DIVERISTY",
        "strategies[2].strategy.type",
        "unknown 'DIVERISTY'; expected one of DIVERSITY, WEIGHTS, THRESHOLD, BALANCE, SIMILARITY, "
        "TYPICALITY (did you mean 'DIVERSITY'?)",
    ),
    (
        "strategies[1].input.type",
        "SCORE",
        "strategies[1].input.type",
        "unknown 'SCORE'; expected one of EMBEDDINGS",
    ),
    (
        "strategies[0].strategy.type",
        "diversity",
        "strategies[0].strategy.type",
        "(write 'DIVERSITY')",
    ),
    (
        "strategies[1].input.score",
        "objectness",
        "strategies[1].input.score",
        "unknown score 'objectness'",
    ),
    ("strategies[1].input.score", ..., "strategies[1].input", "a SCORES input needs 'score'"),
    ("strategies[3].input.key", ..., "strategies[3].input", "a METADATA input needs 'key'"),
    (
        "strategies[0].strategy.type",
        "WEIGHTS",
        "strategies[0].strategy.type",
        "WEIGHTS cannot be applied to a EMBEDDINGS input; EMBEDDINGS allows DIVERSITY, SIMILARITY, TYPICALITY",
    ),
    (
        "strategies[1].strategy.type",
        "SIMILARITY",
        "strategies[1].strategy.type",
        "SIMILARITY cannot be applied to a SCORES input; SCORES allows WEIGHTS, THRESHOLD",
    ),
    (
        "strategies[1].strategy.type",
        "THRESHOLD",
        "strategies[1].strategy",
        "THRESHOLD needs 'threshold'",
    ),
    ("strategies[3].strategy.target", ..., "strategies[3].strategy", "BALANCE needs a 'target'"),
    (
        "strategies[3].strategy.target",
        {"a.mp4": 0.7, "b.mp4": 0.7},
        "strategies[3].strategy.target",
        "shares sum to 1.4 > 1",
    ),
    (
        "strategies[3].strategy.target",
        {"a.mp4": -0.1},
        "strategies[3].strategy.target.a.mp4",
        "must be >= 0",
    ),
    (
        "strategies[3].strategy.target",
        {},
        "strategies[3].strategy.target",
        "expected a non-empty object",
    ),
    (
        "strategies[3].strategy.target",
        {"a.mp4": "half"},
        "strategies[3].strategy.target.a.mp4",
        "expected a number, got string 'half'",
    ),
    (
        "strategies[3].strategy.distribution",
        "UNIFORM",
        "strategies[3].strategy.target",
        "not used with distribution UNIFORM",
    ),
    (
        "strategies[0].strategy.strenght",
        2,
        "strategies[0].strategy.strenght",
        "unknown field; expected one of type, strength, stopping_condition_minimum_distance, stopping_condition_max_sum, threshold, operation, target, distribution, num_nearest_neighbors, stopping_condition_minimum_typicality (did you mean 'strength'?)",
    ),
    (
        "strategies[0].strategy.threshold",
        2,
        "strategies[0].strategy.threshold",
        "not used by DIVERSITY (only THRESHOLD)",
    ),
    (
        "strategies[0].strategy.strength",
        1e10,
        "strategies[0].strategy.strength",
        "must be <= 1e+09",
    ),
    (
        "strategies[0].strategy.strength",
        "high",
        "strategies[0].strategy.strength",
        "expected a number, got string 'high'",
    ),
    (
        "strategies[0].strategy.stopping_condition_minimum_distance",
        -0.1,
        "strategies[0].strategy.stopping_condition_minimum_distance",
        "must be >= 0",
    ),
    (
        "strategies[3].input.score",
        "object_frequency",
        "strategies[3].input.score",
        "not used by a METADATA input (only SCORES)",
    ),
    (
        "strategies[0].input.tag_name",
        3,
        "strategies[0].input.tag_name",
        "expected a non-empty string, got number 3",
    ),
    (
        "strategies[0].extra",
        {},
        "strategies[0].extra",
        "unknown field; expected one of input, strategy",
    ),
    ("strategies[0].strategy", ..., "strategies[0]", "missing 'strategy'"),
    ("strategies", [], "strategies", "expected a non-empty list"),
    ("strategies", ..., "", "missing 'strategies'"),
    ("n_samples", 0, "n_samples", "must be positive (or -1: no count limit), got 0"),
    ("n_samples", -2, "n_samples", "must be >= -1"),
    ("n_samples", 1.5, "n_samples", "expected an integer, got number 1.5"),
    ("n_samples", True, "n_samples", "expected an integer, got boolean true"),
    ("n_samples", ..., "", "give exactly one of n_samples and proportion_samples (neither given)"),
    ("proportion_samples", 0.5, "", "(both given)"),
    (
        "selected_sequence_length",
        7,
        "n_samples",
        "100 is not a multiple of selected_sequence_length 7",
    ),
    ("selected_sequence_length", 0, "selected_sequence_length", "must be >= 1"),
    (
        "lightly_path_regex",
        "x",
        "lightly_path_regex",
        "a Lightly option touchline does not support",
    ),
    (
        "nsamples",
        3,
        "nsamples",
        "unknown field; expected one of n_samples, proportion_samples, strategies, selected_sequence_length (did you mean 'n_samples'?)",
    ),
]


@pytest.mark.parametrize(
    ("where", "value", "path", "words"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD]
)
def test_bad_configs_name_the_file_and_key(
    where: str, value: Any, path: str, words: str, tmp_path: Path
) -> None:
    data = mutate(where, value)
    with pytest.raises(SelectionConfigError) as info:
        SelectionConfig.from_dict(data, source="selection.json")
    err = info.value
    assert err.path == path, str(err)
    assert words in err.problem, str(err)
    assert str(err).startswith(f"selection.json: {path}: " if path else "selection.json: ")
    assert isinstance(err, DataError)
    # the same error, with the file's path, when read from a file
    file = tmp_path / "selection.json"
    file.write_text(json.dumps(data))
    with pytest.raises(SelectionConfigError, match="^" + str(file).replace("\\", "\\\\")):
        SelectionConfig.from_json(file)


@pytest.mark.parametrize(
    ("strategy", "path", "words"),
    [
        (
            {"type": "THRESHOLD", "threshold": 1, "operation": "BIGGER_THAN"},
            ".operation",
            "unknown 'BIGGER_THAN'; expected one of SMALLER, SMALLER_EQUAL, BIGGER, BIGGER_EQUAL",
        ),
        (
            {"type": "THRESHOLD", "threshold": 1, "operation": "bigger_equal"},
            ".operation",
            "(write 'BIGGER_EQUAL')",
        ),
        ({"type": "THRESHOLD", "threshold": 1}, "", "THRESHOLD needs 'operation'"),
        (
            {"type": "THRESHOLD", "threshold": None, "operation": "BIGGER"},
            "",
            "THRESHOLD needs 'threshold'",
        ),
        (
            {"type": "THRESHOLD", "threshold": float("nan"), "operation": "BIGGER"},
            ".threshold",
            "must be finite",
        ),
        (
            {"type": "BALANCE", "target": {"x": 1}},
            ".type",
            "BALANCE cannot be applied to a SCORES input",
        ),
    ],
)
def test_threshold_errors(strategy: dict[str, Any], path: str, words: str) -> None:
    data = {
        "n_samples": 5,
        "strategies": [
            {
                "input": {"type": "SCORES", "task": "t", "score": "uncertainty_margin"},
                "strategy": strategy,
            }
        ],
    }
    with pytest.raises(SelectionConfigError) as info:
        SelectionConfig.from_dict(data)
    assert info.value.path == "strategies[0].strategy" + path
    assert words in info.value.problem


@pytest.mark.parametrize(
    ("inp", "strategy", "path", "words"),
    [
        (
            {"type": "PREDICTIONS", "task": "d", "name": "CLASS_DISTRIBUTION"},
            {"type": "WEIGHTS"},
            "strategies[0].strategy.type",
            "PREDICTIONS CLASS_DISTRIBUTION allows BALANCE",
        ),
        (
            {"type": "PREDICTIONS", "task": "d", "name": "CATEGORY_COUNT"},
            {"type": "BALANCE", "target": {"a": 1}},
            "strategies[0].strategy.type",
            "PREDICTIONS CATEGORY_COUNT allows WEIGHTS, THRESHOLD",
        ),
        (
            {"type": "PREDICTIONS", "task": "d", "name": "COUNTS"},
            {"type": "WEIGHTS"},
            "strategies[0].input.name",
            "unknown 'COUNTS'",
        ),
        (
            {"type": "PREDICTIONS", "task": "d", "name": "CLASS_DISTRIBUTION", "categories": ["a"]},
            {"type": "BALANCE", "target": {"a": 1}},
            "strategies[0].input.categories",
            "only used with name CATEGORY_COUNT",
        ),
        (
            {
                "type": "PREDICTIONS",
                "task": "d",
                "name": "CATEGORY_COUNT",
                "categories": ["a", "a"],
            },
            {"type": "WEIGHTS"},
            "strategies[0].input.categories",
            "repeated class names ['a']",
        ),
        (
            {"type": "PREDICTIONS", "name": "CATEGORY_COUNT"},
            {"type": "WEIGHTS"},
            "strategies[0].input",
            "a PREDICTIONS input needs 'task'",
        ),
        (
            {"type": "EMBEDDINGS"},
            {"type": "SIMILARITY"},
            "strategies[0].input",
            "SIMILARITY needs the query images",
        ),
        (
            {"type": "EMBEDDINGS"},
            {"type": "TYPICALITY", "num_nearest_neighbors": 1},
            "strategies[0].strategy.num_nearest_neighbors",
            "must be >= 2",
        ),
        (
            {"type": "EMBEDDINGS"},
            {"type": "TYPICALITY", "stopping_condition_minimum_typicality": 0},
            "strategies[0].strategy.stopping_condition_minimum_typicality",
            "must be > 0",
        ),
        (
            {"type": "RANDOM", "random_seed": -1},
            {"type": "WEIGHTS"},
            "strategies[0].input.random_seed",
            "must be >= 0",
        ),
        (
            {"type": "RANDOM", "key": "x"},
            {"type": "WEIGHTS"},
            "strategies[0].input.key",
            "not used by a RANDOM input (only METADATA)",
        ),
        (
            {"type": "METADATA", "key": "w"},
            {"type": "WEIGHTS", "target_range": {}},
            "strategies[0].strategy.target_range",
            "does not support",
        ),
        (
            {"type": "METADATA", "key": "w"},
            {"type": "WEIGHTS", "strength": 1, "stopping_condition_max_sum": -1},
            "strategies[0].strategy.stopping_condition_max_sum",
            "must be >= 0",
        ),
        (
            {"type": "METADATA", "key": "w"},
            {"type": "BALANCE", "distribution": "TARGET"},
            "strategies[0].strategy",
            "BALANCE needs a 'target'",
        ),
        (
            {"type": "METADATA", "key": "w"},
            "DIVERSITY",
            "strategies[0].strategy",
            "expected an object",
        ),
        (
            {"type": "METADATA", "key": ""},
            {"type": "WEIGHTS"},
            "strategies[0].input.key",
            "expected a non-empty string",
        ),
    ],
)
def test_input_strategy_errors(inp: Any, strategy: Any, path: str, words: str) -> None:
    with pytest.raises(SelectionConfigError) as info:
        SelectionConfig.from_dict(
            {"n_samples": 2, "strategies": [{"input": inp, "strategy": strategy}]}
        )
    assert info.value.path == path, str(info.value)
    assert words in info.value.problem, str(info.value)


def test_known_scores_can_be_extended() -> None:
    data = mutate("strategies[1].input.score", "keypoint_entropy")
    with pytest.raises(SelectionConfigError, match="unknown score 'keypoint_entropy'"):
        SelectionConfig.from_dict(data)
    assert (
        SelectionConfig.from_dict(data, known_scores=None).strategies[1].input.score
        == "keypoint_entropy"
    )
    assert (
        SelectionConfig.from_dict(data, known_scores=[*KNOWN_SCORES, "keypoint_entropy"]).n_samples
        == 100
    )


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(SelectionConfigError, match=r"nope\.json: file not found"):
        SelectionConfig.from_json(missing)
    commented = tmp_path / "commented.json"
    commented.write_text(
        '{\n  "n_samples": 10,\n  "strategies": [{"input": {"type": "EMBEDDINGS"}, # diverse\n'
    )
    with pytest.raises(
        SelectionConfigError,
        match=r"commented\.json: invalid JSON at line 3 .*JSON has no comments",
    ):
        SelectionConfig.from_json(commented)
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    with pytest.raises(SelectionConfigError, match=r"list\.json: expected an object"):
        SelectionConfig.from_json(not_object)
    with pytest.raises(SelectionConfigError, match="disagrees with worker_config"):
        SelectionConfig.from_dict(
            {
                "worker_config": {"selected_sequence_length": 10},
                "selection_config": {
                    "n_samples": 20,
                    "selected_sequence_length": 5,
                    "strategies": SPORTS["strategies"],
                },
            }
        )


def test_configs_built_in_code_are_validated() -> None:
    div = SelectionEntry(
        SelectionInput(InputType.EMBEDDINGS), SelectionStrategy(StrategyType.DIVERSITY)
    )
    bad = SelectionEntry(
        SelectionInput(InputType.EMBEDDINGS), SelectionStrategy(StrategyType.WEIGHTS)
    )
    with pytest.raises(
        SelectionConfigError, match="exactly one of n_samples and proportion_samples"
    ):
        SelectionConfig((div,))
    with pytest.raises(
        SelectionConfigError, match=r"strategies\[0\]\.strategy\.type: WEIGHTS cannot be applied"
    ):
        SelectionConfig((bad,), n_samples=3)
    with pytest.raises(SelectionConfigError, match="not a multiple"):
        SelectionConfig((div,), n_samples=3, selected_sequence_length=2)
