"""Selection config in the Lightly Worker's own JSON shape: parse, validate, write back.

A selection config says how many samples to select and which objectives to pursue::

    {
      "n_samples": 100,
      "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {"input": {"type": "SCORES", "task": "pose", "score": "object_frequency"},
         "strategy": {"type": "WEIGHTS", "strength": 0.5}},
        {"input": {"type": "METADATA", "key": "video_name"},
         "strategy": {"type": "BALANCE", "target": {"a.mp4": 0.5, "b.mp4": 0.5}}}
      ]
    }

Exactly one of ``n_samples`` (a positive integer, or ``-1``: no count limit, stop on a stopping
condition or when the candidates run out) and ``proportion_samples`` (a share of the input in
``(0, 1]``) must be given. Every entry pairs an ``input`` with a ``strategy``; the pairs Lightly
allows are (see :data:`ALLOWED_STRATEGIES`):

=================================  ==========================================
input                              strategies
=================================  ==========================================
EMBEDDINGS                         DIVERSITY, SIMILARITY, TYPICALITY
SCORES (``task``, ``score``)       WEIGHTS, THRESHOLD
METADATA (``key``)                 WEIGHTS, THRESHOLD, BALANCE
PREDICTIONS ``CATEGORY_COUNT``     WEIGHTS, THRESHOLD
PREDICTIONS ``CLASS_DISTRIBUTION`` BALANCE
RANDOM (``random_seed``)           WEIGHTS, THRESHOLD
=================================  ==========================================

Strategy options: DIVERSITY ``stopping_condition_minimum_distance``; WEIGHTS
``stopping_condition_max_sum``; THRESHOLD ``threshold`` and ``operation`` (``SMALLER``,
``SMALLER_EQUAL``, ``BIGGER``, ``BIGGER_EQUAL``); BALANCE ``target`` (class -> share, shares in
``[0, 1]`` summing to at most 1, the remainder being the target of all other classes together)
or ``distribution`` ``UNIFORM`` / ``INPUT``; TYPICALITY ``num_nearest_neighbors`` and
``stopping_condition_minimum_typicality``; every strategy ``strength`` (default 1, ``|s| <=
1e9``; negative prefers the opposite, 0 switches the objective off; THRESHOLD ignores it).

Sequence selection (Lightly's ``selected_sequence_length``, a Worker option) is accepted at the
top level, or read from ``worker_config`` when the file holds both
``{"worker_config": ..., "selection_config": ...}``: each video is cut into runs of that many
frames, and ``n_samples`` must be a multiple of it.

Lightly's camelCase spellings (``nSamples``, ``proportionSamples``, ``datasetId``, ``tagName``,
``randomSeed``, ``numNearestNeighbors``, ...) are accepted; :meth:`SelectionConfig.to_dict`
writes snake_case. Every error names the file and the key path:

>>> cfg = SelectionConfig.from_dict(
...     {"n_samples": 10, "strategies": [
...         {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]})
>>> cfg.n_samples, cfg.strategies[0].strategy.type
(10, <StrategyType.DIVERSITY: 'DIVERSITY'>)
>>> SelectionConfig.from_dict(cfg.to_dict()) == cfg
True
>>> SelectionConfig.from_dict(
...     {"n_samples": 10, "strategies": [
...         {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERISTY"}}]},
...     source="selection.json")
Traceback (most recent call last):
...
touchline.select.config.SelectionConfigError: selection.json: strategies[0].strategy.type: unknown 'DIVERISTY'; expected one of DIVERSITY, WEIGHTS, THRESHOLD, BALANCE, SIMILARITY, TYPICALITY (did you mean 'DIVERSITY'?)
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from touchline.errors import DataError

__all__ = [
    "ALLOWED_STRATEGIES",
    "KNOWN_SCORES",
    "BalanceDistribution",
    "InputType",
    "PredictionsName",
    "SelectionConfig",
    "SelectionConfigError",
    "SelectionEntry",
    "SelectionInput",
    "SelectionStrategy",
    "StrategyType",
    "ThresholdOperation",
    "allowed_strategies",
    "load_selection_config",
]


class InputType(StrEnum):
    """What an objective is computed on."""

    EMBEDDINGS = "EMBEDDINGS"
    SCORES = "SCORES"
    METADATA = "METADATA"
    PREDICTIONS = "PREDICTIONS"
    RANDOM = "RANDOM"


class StrategyType(StrEnum):
    """What an objective asks of its input."""

    DIVERSITY = "DIVERSITY"
    WEIGHTS = "WEIGHTS"
    THRESHOLD = "THRESHOLD"
    BALANCE = "BALANCE"
    SIMILARITY = "SIMILARITY"
    TYPICALITY = "TYPICALITY"


class PredictionsName(StrEnum):
    """Which quantity of a prediction task a PREDICTIONS input uses."""

    CLASS_DISTRIBUTION = "CLASS_DISTRIBUTION"
    CATEGORY_COUNT = "CATEGORY_COUNT"


class ThresholdOperation(StrEnum):
    """How a THRESHOLD strategy compares a value with its threshold (value OP threshold)."""

    SMALLER = "SMALLER"
    SMALLER_EQUAL = "SMALLER_EQUAL"
    BIGGER = "BIGGER"
    BIGGER_EQUAL = "BIGGER_EQUAL"


class BalanceDistribution(StrEnum):
    """The distribution a BALANCE strategy aims at: its ``target``, uniform, or the input's."""

    TARGET = "TARGET"
    UNIFORM = "UNIFORM"
    INPUT = "INPUT"


_S = StrategyType
#: Lightly's input/strategy compatibility table; keys are (input type, predictions name).
ALLOWED_STRATEGIES: dict[tuple[InputType, PredictionsName | None], frozenset[StrategyType]] = {
    (InputType.EMBEDDINGS, None): frozenset({_S.DIVERSITY, _S.SIMILARITY, _S.TYPICALITY}),
    (InputType.SCORES, None): frozenset({_S.WEIGHTS, _S.THRESHOLD}),
    (InputType.METADATA, None): frozenset({_S.WEIGHTS, _S.THRESHOLD, _S.BALANCE}),
    (InputType.PREDICTIONS, PredictionsName.CATEGORY_COUNT): frozenset({_S.WEIGHTS, _S.THRESHOLD}),
    (InputType.PREDICTIONS, PredictionsName.CLASS_DISTRIBUTION): frozenset({_S.BALANCE}),
    (InputType.RANDOM, None): frozenset({_S.WEIGHTS, _S.THRESHOLD}),
}

#: Lightly's active-learning scorers (classification, object and keypoint detection,
#: segmentation). Pass ``known_scores=`` to accept others.
KNOWN_SCORES: tuple[str, ...] = (
    "uncertainty_least_confidence",
    "uncertainty_margin",
    "uncertainty_entropy",
    "objectness_least_confidence",
    "object_frequency",
)

_MAX_STRENGTH = 1e9

# camelCase spellings of the Lightly API -> snake_case
_ALIASES = {
    "nSamples": "n_samples",
    "proportionSamples": "proportion_samples",
    "selectedSequenceLength": "selected_sequence_length",
    "datasetId": "dataset_id",
    "tagName": "tag_name",
    "randomSeed": "random_seed",
    "numNearestNeighbors": "num_nearest_neighbors",
    "stoppingConditionMinimumTypicality": "stopping_condition_minimum_typicality",
    "stoppingConditionMaxSum": "stopping_condition_max_sum",
    "stoppingConditionMinimumDistance": "stopping_condition_minimum_distance",
}
# Lightly options that exist but that touchline does not implement
_UNSUPPORTED = {
    "lightly_path_regex",
    "lightlyPathRegex",
    "auto_tasks",
    "autoTasks",
    "target_range",
    "targetRange",
}

_TOP_FIELDS = ("n_samples", "proportion_samples", "strategies", "selected_sequence_length")
_INPUT_FIELDS = (
    "type",
    "task",
    "score",
    "key",
    "name",
    "categories",
    "dataset_id",
    "tag_name",
    "random_seed",
)
_STRATEGY_FIELDS = (
    "type",
    "strength",
    "stopping_condition_minimum_distance",
    "stopping_condition_max_sum",
    "threshold",
    "operation",
    "target",
    "distribution",
    "num_nearest_neighbors",
    "stopping_condition_minimum_typicality",
)
_INPUT_USES: dict[InputType, frozenset[str]] = {
    InputType.EMBEDDINGS: frozenset({"task", "dataset_id", "tag_name"}),
    InputType.SCORES: frozenset({"task", "score"}),
    InputType.METADATA: frozenset({"key"}),
    InputType.PREDICTIONS: frozenset({"task", "name", "categories"}),
    InputType.RANDOM: frozenset({"random_seed"}),
}
_INPUT_NEEDS: dict[InputType, tuple[str, ...]] = {
    InputType.EMBEDDINGS: (),
    InputType.SCORES: ("task", "score"),
    InputType.METADATA: ("key",),
    InputType.PREDICTIONS: ("task", "name"),
    InputType.RANDOM: (),
}
_STRATEGY_USES: dict[StrategyType, frozenset[str]] = {
    StrategyType.DIVERSITY: frozenset({"strength", "stopping_condition_minimum_distance"}),
    StrategyType.WEIGHTS: frozenset({"strength", "stopping_condition_max_sum"}),
    StrategyType.THRESHOLD: frozenset({"strength", "threshold", "operation"}),
    StrategyType.BALANCE: frozenset({"strength", "target", "distribution"}),
    StrategyType.SIMILARITY: frozenset({"strength"}),
    StrategyType.TYPICALITY: frozenset(
        {"strength", "num_nearest_neighbors", "stopping_condition_minimum_typicality"}
    ),
}


class SelectionConfigError(DataError):
    """A selection config is invalid; the message names the file, the key path and the fix.

    Attributes:
        source: the file (or ``"selection config"`` for an in-memory dict).
        path: the key path, e.g. ``strategies[2].strategy.type`` (empty: the whole config).
        problem: what is wrong, in plain words.
    """

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}" if path else f"{source}: {problem}")


@dataclass(frozen=True)
class SelectionInput:
    """The ``input`` of a strategy entry (Lightly's field names).

    Attributes:
        type: what the objective is computed on.
        task: prediction task (SCORES, PREDICTIONS; EMBEDDINGS of a task: that task's
            embeddings, which for frame selection the caller resolves to frame embeddings).
        score: active-learning scorer of ``task`` (SCORES).
        key: metadata key, e.g. ``"video_name"`` or ``"lightly.sharpness"`` (METADATA).
        name: which prediction quantity (PREDICTIONS).
        categories: the classes counted by ``CATEGORY_COUNT`` (``None``: all classes).
        dataset_id: dataset of the query images (EMBEDDINGS for SIMILARITY).
        tag_name: tag naming the query images (EMBEDDINGS for SIMILARITY).
        random_seed: seed of the RANDOM input (``None``: the selection's seed).
    """

    type: InputType
    task: str | None = None
    score: str | None = None
    key: str | None = None
    name: PredictionsName | None = None
    categories: tuple[str, ...] | None = None
    dataset_id: str | None = None
    tag_name: str | None = None
    random_seed: int | None = None

    def describe(self) -> str:
        """A short human name of the input, for messages and reports.

        >>> SelectionInput(InputType.SCORES, task="pose", score="object_frequency").describe()
        'SCORES pose/object_frequency'
        >>> SelectionInput(InputType.METADATA, key="video_name").describe()
        "METADATA 'video_name'"
        """
        t = self.type
        if t is InputType.SCORES:
            return f"SCORES {self.task}/{self.score}"
        if t is InputType.METADATA:
            return f"METADATA {self.key!r}"
        if t is InputType.PREDICTIONS:
            return f"PREDICTIONS {self.task}/{self.name}"
        if t is InputType.EMBEDDINGS:
            parts = [p for p in (self.task, self.tag_name) if p]
            return "EMBEDDINGS" + (f" {'/'.join(parts)}" if parts else "")
        return "RANDOM" + (f" seed={self.random_seed}" if self.random_seed is not None else "")

    def to_dict(self) -> dict[str, Any]:
        """Lightly's JSON form (snake_case, unset fields left out).

        >>> SelectionInput(InputType.METADATA, key="video_name").to_dict()
        {'type': 'METADATA', 'key': 'video_name'}
        """
        out: dict[str, Any] = {"type": self.type.value}
        for f in _INPUT_FIELDS[1:]:
            v = getattr(self, f)
            if v is not None:
                out[f] = v.value if isinstance(v, StrEnum) else list(v) if f == "categories" else v
        return out


@dataclass(frozen=True)
class SelectionStrategy:
    """The ``strategy`` of an entry (Lightly's field names).

    Attributes:
        type: what the objective asks of its input.
        strength: exponent of this objective in the product of objectives (default 1).
        stopping_condition_minimum_distance: DIVERSITY: no two selected samples closer than
            this (embedding distance; 0..2 for unit embeddings); stops when none is left.
        stopping_condition_max_sum: WEIGHTS: stop once the selected inputs sum to this.
        threshold: THRESHOLD: the value compared with.
        operation: THRESHOLD: keep samples with ``value OP threshold``.
        target: BALANCE: class -> share of the selection.
        distribution: BALANCE: ``TARGET`` (with ``target``), ``UNIFORM`` or ``INPUT``.
        num_nearest_neighbors: TYPICALITY: neighbours of the density estimate (>= 2).
        stopping_condition_minimum_typicality: TYPICALITY: drop samples below this typicality
            (0..1, relative to the most typical sample).
    """

    type: StrategyType
    strength: float = 1.0
    stopping_condition_minimum_distance: float | None = None
    stopping_condition_max_sum: float | None = None
    threshold: float | None = None
    operation: ThresholdOperation | None = None
    target: dict[str, float] | None = None
    distribution: BalanceDistribution | None = None
    num_nearest_neighbors: int | None = None
    stopping_condition_minimum_typicality: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Lightly's JSON form (snake_case, unset fields left out, ``strength`` always written).

        >>> SelectionStrategy(StrategyType.THRESHOLD, threshold=0.5,
        ...                   operation=ThresholdOperation.BIGGER).to_dict()
        {'type': 'THRESHOLD', 'strength': 1.0, 'threshold': 0.5, 'operation': 'BIGGER'}
        """
        out: dict[str, Any] = {"type": self.type.value}
        for f in _STRATEGY_FIELDS[1:]:
            v = getattr(self, f)
            if v is not None:
                out[f] = v.value if isinstance(v, StrEnum) else dict(v) if f == "target" else v
        return out


@dataclass(frozen=True)
class SelectionEntry:
    """One objective: an input and the strategy applied to it."""

    input: SelectionInput
    strategy: SelectionStrategy

    def describe(self) -> str:
        """E.g. ``"DIVERSITY of EMBEDDINGS"``.

        >>> SelectionEntry(SelectionInput(InputType.EMBEDDINGS),
        ...                SelectionStrategy(StrategyType.DIVERSITY)).describe()
        'DIVERSITY of EMBEDDINGS'
        """
        return f"{self.strategy.type.value} of {self.input.describe()}"

    def to_dict(self) -> dict[str, Any]:
        """``{"input": ..., "strategy": ...}``.

        >>> SelectionEntry(SelectionInput(InputType.EMBEDDINGS),
        ...                SelectionStrategy(StrategyType.DIVERSITY)).to_dict()
        {'input': {'type': 'EMBEDDINGS'}, 'strategy': {'type': 'DIVERSITY', 'strength': 1.0}}
        """
        return {"input": self.input.to_dict(), "strategy": self.strategy.to_dict()}


@dataclass(frozen=True)
class SelectionConfig:
    """A validated selection config.

    Attributes:
        strategies: the objectives, in config order (THRESHOLD ones filter first; order
            does not matter otherwise).
        n_samples: how many samples to select (``-1``: no count limit), or ``None``.
        proportion_samples: share of the input to select, or ``None`` (exactly one is set).
        selected_sequence_length: frames per selected sequence (1: single frames).
    """

    strategies: tuple[SelectionEntry, ...]
    n_samples: int | None = None
    proportion_samples: float | None = None
    selected_sequence_length: int = 1
    source: str = field(default="selection config", compare=False, repr=False)

    def __post_init__(self) -> None:
        _validate_config(self)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "selection config",
        known_scores: Sequence[str] | None = KNOWN_SCORES,
    ) -> SelectionConfig:
        """Parse and validate Lightly's JSON form (see the module docstring).

        Args:
            data: the config, or ``{"selection_config": ..., "worker_config": ...}`` (only
                ``worker_config.selected_sequence_length`` is read from the worker config).
            source: how messages name the config (the file name).
            known_scores: the accepted SCORES ``score`` names (``None``: any).

        >>> SelectionConfig.from_dict({"proportion_samples": 0.1, "strategies": [
        ...     {"input": {"type": "RANDOM", "random_seed": 3},
        ...      "strategy": {"type": "WEIGHTS"}}]}).proportion_samples
        0.1
        """
        return _Parser(source, known_scores).config(data)

    @classmethod
    def from_json(
        cls, path: str | Path, *, known_scores: Sequence[str] | None = KNOWN_SCORES
    ) -> SelectionConfig:
        """Read a JSON file; errors name the file.

        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "selection.json"
        >>> _ = p.write_text('{"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"},'
        ...                  ' "strategy": {"type": "TYPICALITY"}}]}')
        >>> SelectionConfig.from_json(p).strategies[0].strategy.type.value
        'TYPICALITY'
        """
        path = Path(path)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SelectionConfigError(source, "", "file not found") from None
        except (OSError, UnicodeDecodeError) as e:
            raise SelectionConfigError(source, "", f"cannot read: {e}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            hint = ""
            line = text.splitlines()[e.lineno - 1] if e.lineno - 1 < len(text.splitlines()) else ""
            if "#" in line or "//" in line:
                hint = " (JSON has no comments: remove the '#'/'//' notes copied from the docs)"
            raise SelectionConfigError(
                source, "", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}{hint}"
            ) from None
        return cls.from_dict(data, source=source, known_scores=known_scores)

    def to_dict(self) -> dict[str, Any]:
        """Lightly's JSON form, snake_case; ``from_dict(c.to_dict()) == c``.

        >>> c = SelectionConfig((SelectionEntry(SelectionInput(InputType.EMBEDDINGS),
        ...                      SelectionStrategy(StrategyType.DIVERSITY)),), n_samples=4)
        >>> c.to_dict()["n_samples"], "selected_sequence_length" in c.to_dict()
        (4, False)
        """
        out: dict[str, Any] = {}
        if self.n_samples is not None:
            out["n_samples"] = self.n_samples
        if self.proportion_samples is not None:
            out["proportion_samples"] = self.proportion_samples
        out["strategies"] = [e.to_dict() for e in self.strategies]
        if self.selected_sequence_length != 1:
            out["selected_sequence_length"] = self.selected_sequence_length
        return out

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (atomically).

        >>> import tempfile, pathlib
        >>> c = SelectionConfig((SelectionEntry(SelectionInput(InputType.EMBEDDINGS),
        ...                      SelectionStrategy(StrategyType.DIVERSITY)),), n_samples=4)
        >>> p = c.to_json(pathlib.Path(tempfile.mkdtemp()) / "s.json")
        >>> SelectionConfig.from_json(p) == c
        True
        """
        from touchline.utils.files import write_json_atomic

        return write_json_atomic(path, self.to_dict())

    def samples_to_select(self, n_available: int) -> int:
        """How many samples (frames) to select out of ``n_available``.

        ``n_samples`` is capped at ``n_available`` (``-1``: all of them); a proportion is
        rounded to the nearest sample. With sequences the count is rounded up to a multiple
        of ``selected_sequence_length`` (as the Lightly Worker does), then capped.

        >>> c = SelectionConfig((SelectionEntry(SelectionInput(InputType.EMBEDDINGS),
        ...     SelectionStrategy(StrategyType.DIVERSITY)),), proportion_samples=0.25)
        >>> c.samples_to_select(10)
        2
        """
        n_available = max(int(n_available), 0)
        if self.n_samples is not None:
            n = n_available if self.n_samples == -1 else self.n_samples
        else:
            n = round((self.proportion_samples or 0.0) * n_available)
        length = self.selected_sequence_length
        n = -(-n // length) * length
        cap = n_available - n_available % length
        return min(n, cap)

    def thresholds(self) -> tuple[SelectionEntry, ...]:
        """The THRESHOLD entries (applied first, as filters).

        >>> c = SelectionConfig((SelectionEntry(SelectionInput(InputType.EMBEDDINGS),
        ...     SelectionStrategy(StrategyType.DIVERSITY)),), n_samples=4)
        >>> c.thresholds()
        ()
        """
        return tuple(e for e in self.strategies if e.strategy.type is StrategyType.THRESHOLD)


def load_selection_config(
    config: str | Path | Mapping[str, Any],
    *,
    known_scores: Sequence[str] | None = KNOWN_SCORES,
) -> SelectionConfig:
    """A config from a JSON file path or an in-memory dict.

    >>> load_selection_config({"n_samples": 3, "strategies": [
    ...     {"input": {"type": "METADATA", "key": "lightly.sharpness"},
    ...      "strategy": {"type": "THRESHOLD", "threshold": 20, "operation": "BIGGER"}}]}
    ...     ).strategies[0].strategy.operation.value
    'BIGGER'
    """
    if isinstance(config, Mapping):
        return SelectionConfig.from_dict(config, known_scores=known_scores)
    return SelectionConfig.from_json(config, known_scores=known_scores)


def allowed_strategies(inp: SelectionInput) -> frozenset[StrategyType]:
    """The strategies Lightly allows on an input (its compatibility table).

    >>> sorted(s.value for s in allowed_strategies(SelectionInput(InputType.SCORES)))
    ['THRESHOLD', 'WEIGHTS']
    """
    name = inp.name if inp.type is InputType.PREDICTIONS else None
    return ALLOWED_STRATEGIES.get((inp.type, name), frozenset())


# ----------------------------------------------------------------------------------------
# parsing


_E = TypeVar("_E", bound=StrEnum)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class _Parser:
    def __init__(self, source: str, known_scores: Sequence[str] | None) -> None:
        self.source = source
        self.known_scores = None if known_scores is None else tuple(known_scores)

    def fail(self, path: str, problem: str) -> SelectionConfigError:
        return SelectionConfigError(self.source, path, problem)

    # -- helpers ------------------------------------------------------------------------

    def mapping(self, v: Any, path: str) -> dict[str, Any]:
        if not isinstance(v, Mapping):
            where = path or "the config"
            raise self.fail(
                path, f"expected an object ({where} must be a JSON object), got {_kind(v)}"
            )
        out: dict[str, Any] = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise self.fail(path, f"keys must be strings, got {k!r}")
            if k in _UNSUPPORTED:
                raise self.fail(_join(path, k), "a Lightly option touchline does not support")
            name = _ALIASES.get(k, k)
            if name in out:
                raise self.fail(_join(path, k), f"given twice (as {name!r} and its alias)")
            if x is not None:  # JSON null = not given (Lightly's to_dict leaves None out)
                out[name] = x
        return out

    def check_fields(self, d: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        for k in d:
            if k not in allowed:
                raise self.fail(
                    _join(path, k),
                    f"unknown field; expected one of {', '.join(allowed)}{_hint(k, allowed)}",
                )

    def enum(self, cls: type[_E], v: Any, path: str) -> _E:
        names = [e.value for e in cls]
        if not isinstance(v, str):
            raise self.fail(path, f"expected one of {', '.join(names)}, got {_kind(v)}")
        try:
            return cls(v)
        except ValueError:
            hint = _hint(v.upper(), names) if v.upper() not in names else f" (write {v.upper()!r})"
            raise self.fail(
                path, f"unknown {v!r}; expected one of {', '.join(names)}{hint}"
            ) from None

    def string(self, v: Any, path: str) -> str:
        if not isinstance(v, str) or not v:
            raise self.fail(path, f"expected a non-empty string, got {_kind(v)}")
        return v

    def integer(self, v: Any, path: str, *, minimum: int) -> int:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.fail(path, f"expected an integer, got {_kind(v)}")
        if v < minimum:
            raise self.fail(path, f"must be >= {minimum}, got {v}")
        return v

    def number(
        self,
        v: Any,
        path: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
    ) -> float:
        if not _is_number(v):
            raise self.fail(path, f"expected a number, got {_kind(v)}")
        if not math.isfinite(v):
            raise self.fail(path, f"must be finite, got {v}")
        if lo is not None and (v <= lo if lo_open else v < lo):
            raise self.fail(path, f"must be {'>' if lo_open else '>='} {lo:g}, got {v}")
        if hi is not None and v > hi:
            raise self.fail(path, f"must be <= {hi:g}, got {v}")
        return v

    # -- the config ---------------------------------------------------------------------

    def config(self, data: Any) -> SelectionConfig:
        top = self.mapping(data, "")
        length_from_worker: int | None = None
        if "selection_config" in top:
            self.check_fields(
                top,
                ("selection_config", "worker_config", "lightly_config", "runs_on", "priority"),
                "",
            )
            worker = self.mapping(top.get("worker_config", {}), "worker_config")
            if "selected_sequence_length" in worker:
                length_from_worker = self.integer(
                    worker["selected_sequence_length"],
                    "worker_config.selected_sequence_length",
                    minimum=1,
                )
            top = self.mapping(top["selection_config"], "selection_config")
            prefix = "selection_config."
        else:
            prefix = ""
        self.check_fields(top, _TOP_FIELDS, prefix.rstrip("."))

        n_samples = proportion = None
        if "n_samples" in top:
            n_samples = self.integer(top["n_samples"], prefix + "n_samples", minimum=-1)
            if n_samples == 0:
                raise self.fail(
                    prefix + "n_samples", "must be positive (or -1: no count limit), got 0"
                )
        if "proportion_samples" in top:
            proportion = self.number(
                top["proportion_samples"],
                prefix + "proportion_samples",
                lo=0.0,
                hi=1.0,
                lo_open=True,
            )
        if (n_samples is None) == (proportion is None):
            what = "both" if n_samples is not None else "neither"
            raise self.fail(
                prefix.rstrip("."),
                f"give exactly one of n_samples and proportion_samples ({what} given)",
            )

        length = 1
        if "selected_sequence_length" in top:
            length = self.integer(
                top["selected_sequence_length"], prefix + "selected_sequence_length", minimum=1
            )
            if length_from_worker is not None and length_from_worker != length:
                raise self.fail(
                    prefix + "selected_sequence_length",
                    f"{length} disagrees with worker_config.selected_sequence_length "
                    f"{length_from_worker}",
                )
        elif length_from_worker is not None:
            length = length_from_worker
        if length > 1 and n_samples is not None and n_samples != -1 and n_samples % length:
            raise self.fail(
                prefix + "n_samples",
                f"{n_samples} is not a multiple of selected_sequence_length {length} "
                f"(n_samples = number of sequences x sequence length, e.g. "
                f"{max(n_samples // length, 1) * length})",
            )

        if "strategies" not in top:
            raise self.fail(
                prefix.rstrip("."), "missing 'strategies' (a list of {input, strategy})"
            )
        raw = top["strategies"]
        if not isinstance(raw, list) or not raw:
            raise self.fail(prefix + "strategies", f"expected a non-empty list, got {_kind(raw)}")
        entries = tuple(self.entry(e, f"{prefix}strategies[{i}]") for i, e in enumerate(raw))
        return SelectionConfig(
            strategies=entries,
            n_samples=n_samples,
            proportion_samples=proportion,
            selected_sequence_length=length,
            source=self.source,
        )

    def entry(self, data: Any, path: str) -> SelectionEntry:
        d = self.mapping(data, path)
        self.check_fields(d, ("input", "strategy"), path)
        for k in ("input", "strategy"):
            if k not in d:
                raise self.fail(path, f"missing {k!r}")
        inp = self.input(d["input"], path + ".input")
        strat = self.strategy(d["strategy"], path + ".strategy")
        allowed = allowed_strategies(inp)
        if strat.type not in allowed:
            what = inp.type.value + (f" {inp.name.value}" if inp.name else "")
            ok = ", ".join(s.value for s in StrategyType if s in allowed)
            raise self.fail(
                path + ".strategy.type",
                f"{strat.type.value} cannot be applied to a {what} input; {what} allows {ok}",
            )
        if strat.type is StrategyType.SIMILARITY and inp.tag_name is None:
            raise self.fail(
                path + ".input",
                "SIMILARITY needs the query images: set tag_name (and dataset_id if they are "
                "in another dataset)",
            )
        return SelectionEntry(inp, strat)

    def input(self, data: Any, path: str) -> SelectionInput:
        d = self.mapping(data, path)
        self.check_fields(d, _INPUT_FIELDS, path)
        if "type" not in d:
            raise self.fail(
                path, f"missing 'type' (one of {', '.join(e.value for e in InputType)})"
            )
        t = self.enum(InputType, d["type"], path + ".type")
        for k in d:
            if k != "type" and k not in _INPUT_USES[t]:
                users = [u.value for u, fs in _INPUT_USES.items() if k in fs]
                raise self.fail(
                    _join(path, k), f"not used by a {t.value} input (only {', '.join(users)})"
                )
        for k in _INPUT_NEEDS[t]:
            if k not in d:
                raise self.fail(path, f"a {t.value} input needs {k!r}")
        kw: dict[str, Any] = {}
        for k in ("task", "key", "dataset_id", "tag_name"):
            if k in d:
                kw[k] = self.string(d[k], _join(path, k))
        if "score" in d:
            score = self.string(d["score"], path + ".score")
            if self.known_scores is not None and score not in self.known_scores:
                raise self.fail(
                    path + ".score",
                    f"unknown score {score!r}; expected one of {', '.join(self.known_scores)}"
                    f"{_hint(score, self.known_scores)}",
                )
            kw["score"] = score
        if "name" in d:
            kw["name"] = self.enum(PredictionsName, d["name"], path + ".name")
        if "categories" in d:
            cats = d["categories"]
            if kw.get("name") is not PredictionsName.CATEGORY_COUNT:
                raise self.fail(path + ".categories", "only used with name CATEGORY_COUNT")
            if not isinstance(cats, list) or not cats:
                raise self.fail(
                    path + ".categories",
                    f"expected a non-empty list of class names, got {_kind(cats)}",
                )
            names = tuple(self.string(c, f"{path}.categories[{i}]") for i, c in enumerate(cats))
            if len(set(names)) != len(names):
                dup = sorted({c for c in names if names.count(c) > 1})
                raise self.fail(path + ".categories", f"repeated class names {dup}")
            kw["categories"] = names
        if "random_seed" in d:
            kw["random_seed"] = self.integer(d["random_seed"], path + ".random_seed", minimum=0)
        return SelectionInput(type=t, **kw)

    def strategy(self, data: Any, path: str) -> SelectionStrategy:
        d = self.mapping(data, path)
        self.check_fields(d, _STRATEGY_FIELDS, path)
        if "type" not in d:
            raise self.fail(
                path, f"missing 'type' (one of {', '.join(e.value for e in StrategyType)})"
            )
        t = self.enum(StrategyType, d["type"], path + ".type")
        for k in d:
            if k != "type" and k not in _STRATEGY_USES[t]:
                users = [u.value for u, fs in _STRATEGY_USES.items() if k in fs]
                raise self.fail(_join(path, k), f"not used by {t.value} (only {', '.join(users)})")
        kw: dict[str, Any] = {}
        if "strength" in d:
            kw["strength"] = self.number(
                d["strength"], path + ".strength", lo=-_MAX_STRENGTH, hi=_MAX_STRENGTH
            )
        if "stopping_condition_minimum_distance" in d:
            kw["stopping_condition_minimum_distance"] = self.number(
                d["stopping_condition_minimum_distance"],
                path + ".stopping_condition_minimum_distance",
                lo=0.0,
            )
        if "stopping_condition_max_sum" in d:
            kw["stopping_condition_max_sum"] = self.number(
                d["stopping_condition_max_sum"], path + ".stopping_condition_max_sum", lo=0.0
            )
        if t is StrategyType.THRESHOLD:
            for k in ("threshold", "operation"):
                if k not in d:
                    ops = ", ".join(e.value for e in ThresholdOperation)
                    raise self.fail(path, f"THRESHOLD needs {k!r} (operation: one of {ops})")
            kw["threshold"] = self.number(d["threshold"], path + ".threshold")
            kw["operation"] = self.enum(ThresholdOperation, d["operation"], path + ".operation")
        if t is StrategyType.BALANCE:
            dist = (
                self.enum(BalanceDistribution, d["distribution"], path + ".distribution")
                if "distribution" in d
                else None
            )
            if "target" in d:
                if dist not in (None, BalanceDistribution.TARGET):
                    raise self.fail(
                        path + ".target", f"not used with distribution {dist}; drop one of them"
                    )
                kw["target"] = self.target(d["target"], path + ".target")
                dist = BalanceDistribution.TARGET
            elif dist in (None, BalanceDistribution.TARGET):
                raise self.fail(
                    path,
                    "BALANCE needs a 'target' (class -> share) or distribution UNIFORM / INPUT",
                )
            kw["distribution"] = dist
        if t is StrategyType.TYPICALITY:
            if "num_nearest_neighbors" in d:
                kw["num_nearest_neighbors"] = self.integer(
                    d["num_nearest_neighbors"], path + ".num_nearest_neighbors", minimum=2
                )
            if "stopping_condition_minimum_typicality" in d:
                kw["stopping_condition_minimum_typicality"] = self.number(
                    d["stopping_condition_minimum_typicality"],
                    path + ".stopping_condition_minimum_typicality",
                    lo=0.0,
                    hi=1.0,
                    lo_open=True,
                )
        return SelectionStrategy(type=t, **kw)

    def target(self, v: Any, path: str) -> dict[str, float]:
        if not isinstance(v, Mapping) or not v:
            raise self.fail(path, f"expected a non-empty object class -> share, got {_kind(v)}")
        out: dict[str, float] = {}
        for k, share in v.items():
            out[str(k)] = self.number(share, f"{path}.{k}", lo=0.0, hi=1.0)
        total = sum(out.values())
        if total > 1.0 + 1e-6:
            raise self.fail(
                path,
                f"shares sum to {total:.4g} > 1; they are fractions of the selection "
                "(a sum below 1 leaves the rest to all other classes)",
            )
        if total <= 0.0:
            raise self.fail(path, "all shares are 0")
        return out


def _validate_config(c: SelectionConfig) -> None:
    """Checks of a config built in code (from_dict has already given precise paths)."""
    src = c.source
    if not c.strategies:
        raise SelectionConfigError(src, "strategies", "expected a non-empty list")
    if (c.n_samples is None) == (c.proportion_samples is None):
        raise SelectionConfigError(src, "", "give exactly one of n_samples and proportion_samples")
    if c.n_samples is not None and (c.n_samples == 0 or c.n_samples < -1):
        raise SelectionConfigError(src, "n_samples", f"must be positive or -1, got {c.n_samples}")
    if c.proportion_samples is not None and not 0.0 < c.proportion_samples <= 1.0:
        raise SelectionConfigError(
            src, "proportion_samples", f"must be in (0, 1], got {c.proportion_samples}"
        )
    length = c.selected_sequence_length
    if length < 1:
        raise SelectionConfigError(src, "selected_sequence_length", f"must be >= 1, got {length}")
    if length > 1 and c.n_samples not in (None, -1) and (c.n_samples or 0) % length:
        raise SelectionConfigError(
            src,
            "n_samples",
            f"{c.n_samples} is not a multiple of selected_sequence_length {length}",
        )
    for i, e in enumerate(c.strategies):
        if e.strategy.type not in allowed_strategies(e.input):
            raise SelectionConfigError(
                src,
                f"strategies[{i}].strategy.type",
                f"{e.strategy.type.value} cannot be applied to a {e.input.type.value} input",
            )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, str):
        return f"string {v!r}"
    if _is_number(v):
        return f"number {v}"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


def _hint(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
