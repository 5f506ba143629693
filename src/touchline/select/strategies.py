"""Greedy frame selection on resolved arrays: k-center diversity, weights, thresholds, balance,
similarity and typicality, combined as in the Lightly Worker.

Every input arrives already resolved to one array per objective, aligned on the same ``n``
samples: embeddings ``(n, d)`` (float32, unit length), scalars ``(n,)`` (SCORES, numeric
METADATA, CATEGORY_COUNT, RANDOM), categories ``(n,)`` (strings or ints: categorical METADATA)
or class masses ``(n, C)`` (PREDICTIONS CLASS_DISTRIBUTION).

**Algorithm.** THRESHOLD objectives filter first. The others are combined in one greedy pass:
at every step each remaining candidate gets, from each objective ``s``, a positive objective
value ``o_s``, and the candidate with the largest product ``prod_s o_s ** strength_s`` is
picked (ties: the lowest index). The product is evaluated as the sum of
``strength_s * log(max(o_s, 1e-12))``, so a zero objective ranks a candidate last under a
positive strength and first under a negative one without overflowing, and strength 0 removes
the objective. Objective values, per candidate ``i``:

* **DIVERSITY** (k-center greedy): ``min_j ||e_i - e_j||`` over the selected ``j``, updated
  incrementally (one ``(n, d)`` matrix-vector product per pick, no ``n x n`` matrix). Before
  the first pick it is 1 for everyone (so another objective, or the lowest index, chooses the
  first sample). ``min_distance`` (Lightly's ``stopping_condition_minimum_distance``) removes
  candidates closer than that to a selected sample; the selection stops when none is left.
* **WEIGHTS**: the value itself when all values are >= 0 (scaled by the maximum, which a
  product ignores: ratios are kept), else min-max scaled to ``[0, 1]``; NaN counts as 0.
  ``max_sum`` stops the selection once the selected raw values sum to it.
* **BALANCE**: with ``c_k`` the selected count (or class mass) of class ``k``, ``M = sum c``,
  target shares ``t_k`` (the classes of the target plus one pooled "other" class holding the
  remaining share ``1 - sum(target)``), let ``D(c) = sum_k (c_k - t_k M)**2``, the squared
  distance, in samples, of the selection from its target. The objective of a candidate is
  ``exp(-(D_after - D_best) / 2)`` where ``D_after`` is ``D`` after adding it and ``D_best``
  the smallest ``D_after`` among the candidates: 1 for the candidates that move the selection
  closest to the target, and a factor ``e`` less per sample of extra imbalance (for one-hot
  classes, ``log o = need_k - max need`` with ``need_k = t_k (M + 1) - c_k``). The penalty
  grows with the size of the imbalance, so the target is reached unless the pool lacks samples
  of a class or a strength makes other objectives much stronger.
* **SIMILARITY**: ``(1 + max_q cos(e_i, q)) / 2`` over the query embeddings, in ``[0, 1]``.
* **TYPICALITY**: ``1 / mean distance to the k nearest neighbours`` (the density of TypiClust),
  divided by its maximum (so in ``(0, 1]``). Above ``max_reference`` samples the neighbours are
  searched among a seeded random subset of that size, with ``k`` scaled by the subset's share.
  ``min_typicality`` drops candidates below it.

Resume: ``select(n, objectives, preselected=first_picks)`` replays the given picks (in order,
recomputing the same state) and continues; the result equals that of the uninterrupted run.

>>> rng = np.random.default_rng(0)
>>> emb = rng.normal(size=(200, 8)).astype(np.float32)
>>> emb /= np.linalg.norm(emb, axis=1, keepdims=True)
>>> score = rng.uniform(size=200)
>>> video = np.repeat(["a.mp4", "b.mp4"], [150, 50])
>>> res = select(20, [Diversity(emb), Weights(score),
...                   Balance(video, target={"a.mp4": 0.5, "b.mp4": 0.5})])
>>> len(res.indices), res.stop_reason, int((video[res.indices] == "b.mp4").sum())
(20, 'n_samples', 10)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt

from touchline.errors import DataError
from touchline.select.config import (
    BalanceDistribution,
    InputType,
    SelectionEntry,
    StrategyType,
    ThresholdOperation,
)

__all__ = [
    "EPS",
    "Balance",
    "Diversity",
    "Objective",
    "Scorer",
    "SelectionResult",
    "Similarity",
    "StopReason",
    "Strategy",
    "Threshold",
    "Typicality",
    "Weights",
    "aggregate_sequences",
    "balance_shares",
    "k_center_greedy",
    "objective_from_entry",
    "random_values",
    "select",
    "sequence_groups",
    "similarity_objective",
    "threshold_mask",
    "typicality_objective",
    "weights_objective",
]

#: Floor of an objective value before its logarithm (a zero objective becomes 1e-12).
EPS = 1e-12
_LOG_EPS = math.log(EPS)

StopReason: TypeAlias = Literal[
    "n_samples", "exhausted", "min_distance", "min_typicality", "max_sum"
]
Progress: TypeAlias = Callable[[int, int | None, int], None]


# ----------------------------------------------------------------------------------------
# the contract of an objective


class Scorer:
    """One objective during a greedy pass. As is, fixed values ``o``: ``static`` is
    ``strength * log o`` (in every step's score), ``allowed`` the candidates a stopping
    condition keeps, ``budget`` ``(raw values, max sum)``. DIVERSITY and BALANCE override the
    step methods; ``phase`` orders their step scores (DIVERSITY first).
    """

    phase = 0
    static: np.ndarray | float = 0.0
    allowed: np.ndarray | None = None

    def __init__(
        self,
        o: np.ndarray,
        strength: float,
        allowed: np.ndarray | None = None,
        budget: tuple[np.ndarray, float] | None = None,
    ) -> None:
        self.o, self.allowed, self.budget, self.total = o, allowed, budget, 0.0
        self.static = strength * np.log(np.maximum(o, EPS)) if strength else 0.0

    def restrict(self, eligible: np.ndarray) -> None:
        """Drop candidates from ``eligible`` (in place) before a step."""

    def add_score(self, score: np.ndarray, eligible: np.ndarray) -> None:
        """Add this step's ``strength * log o`` to ``score``."""

    def value(self, idx: int) -> float:
        """The objective value ``o`` of candidate ``idx`` at this step."""
        return float(self.o[idx])

    def update(self, idx: int) -> bool:
        """Record the pick ``idx``; ``True`` when a stopping condition is reached."""
        if self.budget is None:
            return False
        self.total += float(self.budget[0][idx])
        return self.total >= self.budget[1]


@runtime_checkable
class Strategy(Protocol):
    """What :func:`select` needs of an objective; the six objective types implement it.

    ``rows()`` is the number of samples (``None``: not one row per sample), ``keep()`` a
    filter's mask of the samples it keeps (``None``: not a filter), and ``fit(candidates,
    seed)`` validates the input and returns the objective's :class:`Scorer` for one greedy
    pass over the ``candidates`` mask (``None``: a pure filter).

    >>> w = Weights([0.5, 1.0])
    >>> isinstance(w, Strategy), w.rows(), w.keep(), w.fit(np.ones(2, bool)).value(0)
    (True, 2, None, 0.5)
    """

    @property
    def name(self) -> str: ...

    def rows(self) -> int | None: ...

    def keep(self) -> np.ndarray | None: ...

    def fit(self, candidates: np.ndarray, seed: int = 0) -> Scorer | None: ...


class _Objective:
    name: str

    def keep(self) -> np.ndarray | None:
        return None


# ----------------------------------------------------------------------------------------
# objectives


@dataclass(frozen=True, eq=False)
class Diversity(_Objective):
    """DIVERSITY (k-center greedy) on embeddings ``(n, d)``.

    Attributes:
        embeddings: ``(n, d)`` floats (unit length for Lightly's 0..2 distance scale).
        strength: exponent in the product of objectives.
        min_distance: keep selected samples at least this far apart (stopping condition).
        name: how messages name the input.
    """

    embeddings: npt.ArrayLike
    strength: float = 1.0
    min_distance: float | None = None
    name: str = "EMBEDDINGS"

    def rows(self) -> int | None:
        return _rows(self.embeddings)

    def fit(self, candidates: np.ndarray, seed: int = 0) -> Scorer:
        strength = _strength(self.strength, self.name)
        e = _matrix(self.embeddings, self.name)
        if (m := self.min_distance) is not None and not m >= 0:
            raise DataError(f"{self.name}: min_distance must be >= 0, got {m}")
        return _DiversityState(e, strength, m)


@dataclass(frozen=True, eq=False)
class Weights(_Objective):
    """WEIGHTS on scalars ``(n,)``: prefer high values.

    Attributes:
        values: ``(n,)`` numbers (NaN: missing, treated as 0).
        strength: exponent in the product (negative: prefer low values).
        max_sum: stop once the selected values sum to this (Lightly's
            ``stopping_condition_max_sum``).
        name: how messages name the input.
    """

    values: npt.ArrayLike
    strength: float = 1.0
    max_sum: float | None = None
    name: str = "WEIGHTS"

    def rows(self) -> int | None:
        return _rows(self.values)

    def fit(self, candidates: np.ndarray, seed: int = 0) -> Scorer:
        strength = _strength(self.strength, self.name)
        w = weights_objective(_named(self.values, self.name))
        if self.max_sum is None:
            return Scorer(w, strength)
        raw = np.nan_to_num(_numeric(self.values, self.name), nan=0.0)
        return Scorer(w, strength, budget=(raw, float(self.max_sum)))


@dataclass(frozen=True, eq=False)
class Threshold:
    """THRESHOLD on scalars ``(n,)``: keep samples with ``value OP threshold`` (a filter).

    Attributes:
        values: ``(n,)`` numbers (NaN never passes).
        threshold: the value compared with.
        operation: ``SMALLER``, ``SMALLER_EQUAL``, ``BIGGER`` or ``BIGGER_EQUAL``.
        name: how messages name the input.
    """

    values: npt.ArrayLike
    threshold: float
    operation: ThresholdOperation | str
    name: str = "THRESHOLD"

    def rows(self) -> int | None:
        return _rows(self.values)

    def keep(self) -> np.ndarray:
        return threshold_mask(_named(self.values, self.name), self.threshold, self.operation)

    def fit(self, candidates: np.ndarray, seed: int = 0) -> None:
        return None


@dataclass(frozen=True, eq=False)
class Balance(_Objective):
    """BALANCE on categories ``(n,)`` or class masses ``(n, C)``.

    Attributes:
        values: ``(n,)`` categories (compared by their string form, so a target key ``"3"``
            matches the integer 3), or ``(n, C)`` non-negative class masses (e.g. the summed
            class probabilities of a frame's detections).
        target: class -> share; the shares sum to at most 1, the rest is the target of all
            other classes together. Every class named must occur (categories) or be a column
            (class masses).
        distribution: ``TARGET`` (use ``target``), ``UNIFORM`` (equal shares of the classes
            among the candidates) or ``INPUT`` (the candidates' own shares).
        strength: exponent in the product.
        class_names: names of the ``C`` columns of class masses (default ``"0"..``).
        name: how messages name the input (e.g. ``"METADATA 'video_name'"``).
    """

    values: npt.ArrayLike
    target: Mapping[str, float] | None = None
    distribution: BalanceDistribution | str = BalanceDistribution.TARGET
    strength: float = 1.0
    class_names: Sequence[str] | None = None
    name: str = "BALANCE"

    def rows(self) -> int | None:
        return _rows(self.values)

    def fit(self, candidates: np.ndarray | None, seed: int = 0) -> _BalanceState:
        strength = _strength(self.strength, self.name)
        name = self.name
        try:
            dist = BalanceDistribution(str(self.distribution))
        except ValueError:
            names = ", ".join(e.value for e in BalanceDistribution)
            raise DataError(
                f"{name}: unknown BALANCE distribution {self.distribution!r}; expected {names}"
            ) from None
        v = np.asarray(self.values)
        if v.ndim == 2:
            if not np.issubdtype(v.dtype, np.number) or v.dtype == bool:
                raise DataError(f"{name}: class masses must be numbers, got {v.dtype}")
            m = v.astype(np.float64)
            if not np.isfinite(m).all() or (m < 0).any():
                raise DataError(f"{name}: class masses must be finite and >= 0")
            cols = (
                [str(c) for c in self.class_names]
                if self.class_names is not None
                else [str(i) for i in range(m.shape[1])]
            )
            if len(cols) != m.shape[1]:
                raise DataError(f"{name}: {len(cols)} class names for {m.shape[1]} columns")
            pool = m if candidates is None else m[candidates]
            present = {c: float(pool[:, j].sum()) for j, c in enumerate(cols)}
            labels, t = _shares(name, dist, self.target, cols, present, masses=True)
            groups = np.zeros((m.shape[0], len(labels)), dtype=np.float64)
            index = {c: i for i, c in enumerate(labels)}
            for j, c in enumerate(cols):
                groups[:, index.get(c, len(labels) - 1)] += m[:, j]
            return _BalanceState(labels, t, None, groups, strength)
        if v.ndim != 1:
            raise DataError(
                f"{name}: expected (n,) categories or (n, C) class masses, got shape {v.shape}"
            )
        strings = v.astype(str)
        uniq, inv = np.unique(strings, return_inverse=True)
        pool_inv = inv if candidates is None else inv[candidates]
        counts = np.bincount(pool_inv, minlength=len(uniq))
        present = {str(u): float(c) for u, c in zip(uniq, counts, strict=True)}
        every = {str(u) for u in uniq}
        if self.target is not None:
            missing = [k for k in self.target if str(k) not in every]
            if missing:
                seen = ", ".join(repr(str(u)) for u in uniq[:8]) + (
                    ", ..." if len(uniq) > 8 else ""
                )
                hint = (
                    "; no sample has a value: is the key missing from the metadata?"
                    if every <= {"None", "nan", ""}
                    else ""
                )
                raise DataError(
                    f"{name}: BALANCE target names {', '.join(map(repr, missing))}, which never "
                    f"occur{'s' if len(missing) == 1 else ''} in the input (values seen: {seen})"
                    + hint
                )
        labels, t = _shares(name, dist, self.target, [str(u) for u in uniq], present, masses=False)
        index = {c: i for i, c in enumerate(labels)}
        other = len(labels) - 1
        lut = np.array([index.get(str(u), other) for u in uniq], dtype=np.int64)
        return _BalanceState(labels, t, lut[inv], None, strength)


@dataclass(frozen=True, eq=False)
class Similarity(_Objective):
    """SIMILARITY: prefer samples close to any of the query embeddings ``(q, d)``.

    Attributes:
        embeddings: ``(n, d)`` floats.
        query: ``(q, d)`` floats (the query images).
        strength: exponent in the product.
        name: how messages name the input.
    """

    embeddings: npt.ArrayLike
    query: npt.ArrayLike
    strength: float = 1.0
    name: str = "EMBEDDINGS"

    def rows(self) -> int | None:
        return _rows(self.embeddings)

    def fit(self, candidates: np.ndarray, seed: int = 0) -> Scorer:
        strength = _strength(self.strength, self.name)
        return Scorer(_wrap(self.name, similarity_objective, self.embeddings, self.query), strength)


@dataclass(frozen=True, eq=False)
class Typicality(_Objective):
    """TYPICALITY: prefer samples in dense regions of the embedding space.

    Attributes:
        embeddings: ``(n, d)`` floats.
        num_nearest_neighbors: ``k`` of the density estimate (>= 1).
        min_typicality: drop candidates whose typicality (relative to the maximum) is lower.
        strength: exponent in the product.
        max_reference: neighbours are searched among at most this many samples (a seeded
            random subset above it).
        name: how messages name the input.
    """

    embeddings: npt.ArrayLike
    num_nearest_neighbors: int = 20
    min_typicality: float | None = None
    strength: float = 1.0
    max_reference: int = 10_000
    name: str = "EMBEDDINGS"

    def rows(self) -> int | None:
        return _rows(self.embeddings)

    def fit(self, candidates: np.ndarray, seed: int = 0) -> Scorer:
        strength = _strength(self.strength, self.name)
        k, ref = self.num_nearest_neighbors, self.max_reference
        t = _wrap(self.name, typicality_objective, self.embeddings, k, max_reference=ref, seed=seed)
        m = self.min_typicality
        return Scorer(t, strength, allowed=None if m is None else t >= m)


Objective: TypeAlias = Diversity | Weights | Threshold | Balance | Similarity | Typicality


@dataclass(frozen=True, eq=False)
class SelectionResult:
    """What :func:`select` picked and why it stopped.

    Attributes:
        indices: ``(m,)`` int64 sample indices in pick order (``preselected`` first).
        log_objective: ``(m,)`` the combined objective of each pick at its step,
            ``sum_s strength_s * log(max(o_s, EPS))``.
        objective_values: ``(m, s)`` each non-THRESHOLD objective's value ``o_s`` for the
            pick at its step (DIVERSITY: the distance to the nearest earlier pick, NaN for the
            first pick).
        names: the names of the ``s`` columns.
        stop_reason: ``n_samples`` (reached ``n``), ``exhausted`` (no candidate left),
            ``min_distance``, ``min_typicality`` or ``max_sum`` (a stopping condition).
        n_candidates: samples passing the THRESHOLD filters.
    """

    indices: np.ndarray
    log_objective: np.ndarray
    objective_values: np.ndarray
    names: tuple[str, ...]
    stop_reason: StopReason
    n_candidates: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN written as ``None``).

        >>> r = select(2, [Weights([0.1, 0.9, 0.5])])
        >>> r.to_dict()["indices"], r.to_dict()["stop_reason"]
        ([1, 2], 'n_samples')
        """

        def clean(a: np.ndarray) -> list[Any]:
            return [
                None if isinstance(x, float) and not math.isfinite(x) else x for x in a.tolist()
            ]

        return {
            "indices": self.indices.tolist(),
            "log_objective": clean(self.log_objective),
            "objective_values": {
                n: clean(self.objective_values[:, j]) for j, n in enumerate(self.names)
            },
            "stop_reason": self.stop_reason,
            "n_candidates": self.n_candidates,
        }


# ----------------------------------------------------------------------------------------
# static objectives (pure functions)


def threshold_mask(
    values: npt.ArrayLike, threshold: float, operation: ThresholdOperation | str
) -> np.ndarray:
    """``values OP threshold`` as a boolean mask (NaN never passes).

    >>> threshold_mask([1.0, 2.0, 3.0, float("nan")], 2, "BIGGER_EQUAL").tolist()
    [False, True, True, False]
    """
    v = _numeric(values, "THRESHOLD input")
    try:
        op = ThresholdOperation(str(operation))
    except ValueError:
        names = ", ".join(e.value for e in ThresholdOperation)
        raise DataError(
            f"unknown THRESHOLD operation {operation!r}; expected one of {names}"
        ) from None
    with np.errstate(invalid="ignore"):
        if op is ThresholdOperation.SMALLER:
            return v < threshold
        if op is ThresholdOperation.SMALLER_EQUAL:
            return v <= threshold
        if op is ThresholdOperation.BIGGER:
            return v > threshold
        return v >= threshold


def weights_objective(values: npt.ArrayLike) -> np.ndarray:
    """WEIGHTS objective: non-negative values scaled by their maximum (ratios kept), values
    with negatives min-max scaled to ``[0, 1]``; NaN -> 0; all equal -> 1.

    >>> weights_objective([1.0, 4.0, 2.0]).tolist()
    [0.25, 1.0, 0.5]
    >>> weights_objective([-1.0, 1.0, 0.0]).tolist()
    [0.0, 1.0, 0.5]
    """
    v = _numeric(values, "WEIGHTS input")
    ok = np.isfinite(v)
    out = np.zeros(v.shape, dtype=np.float64)
    if not ok.any():
        return out
    lo, hi = float(v[ok].min()), float(v[ok].max())
    if lo >= 0.0:
        out[ok] = v[ok] / hi if hi > 0 else 1.0
    else:
        out[ok] = (v[ok] - lo) / (hi - lo)
    return out


def similarity_objective(
    embeddings: npt.ArrayLike, query: npt.ArrayLike, *, chunk_elements: int = 1 << 24
) -> np.ndarray:
    """SIMILARITY objective ``(1 + max_q cos(e, q)) / 2`` in ``[0, 1]``, computed in chunks.

    >>> similarity_objective([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], [[1.0, 0.0]]).tolist()
    [1.0, 0.5, 0.0]
    """
    e = _unit(_matrix(embeddings, "SIMILARITY embeddings"))
    q = _unit(_matrix(query, "SIMILARITY query"))
    if q.shape[0] == 0:
        raise DataError("SIMILARITY query: no query embeddings")
    if q.shape[1] != e.shape[1]:
        raise DataError(
            f"SIMILARITY query: {q.shape[1]}-d embeddings, the samples have {e.shape[1]}-d"
        )
    out = np.empty(e.shape[0], dtype=np.float64)
    rows = max(1, chunk_elements // max(q.shape[0], 1))
    for s in range(0, e.shape[0], rows):
        out[s : s + rows] = (e[s : s + rows] @ q.T).max(axis=1)
    return np.clip((1.0 + out) / 2.0, 0.0, 1.0)


def typicality_objective(
    embeddings: npt.ArrayLike,
    num_nearest_neighbors: int = 20,
    *,
    max_reference: int = 10_000,
    seed: int = 0,
    chunk_elements: int = 1 << 23,
) -> np.ndarray:
    """TYPICALITY objective: ``1 / mean distance to the k nearest other samples``, divided by
    its maximum. Above ``max_reference`` samples the neighbours come from a seeded subset of
    that size and ``k`` is scaled by ``max_reference / n`` (at least 1). Memory is bounded by
    ``chunk_elements`` distances at a time.

    >>> e = np.array([[0.0], [0.1], [0.2], [5.0]])
    >>> typicality_objective(e, 2).round(3).tolist()
    [0.667, 1.0, 0.667, 0.021]
    """
    e = _matrix(embeddings, "TYPICALITY embeddings")
    n = e.shape[0]
    if n < 2:
        return np.ones(n, dtype=np.float64)
    k = int(num_nearest_neighbors)
    if k < 1:
        raise DataError(f"TYPICALITY: num_nearest_neighbors must be >= 1, got {k}")
    if n > max_reference:
        ref_idx = np.sort(np.random.default_rng(seed).choice(n, size=max_reference, replace=False))
        k = max(1, round(k * max_reference / n))
    else:
        ref_idx = np.arange(n)
    ref = e[ref_idx]
    pos = np.full(n, -1, dtype=np.int64)
    pos[ref_idx] = np.arange(len(ref_idx))
    k = min(k, len(ref_idx) - 1)
    sq = np.einsum("ij,ij->i", e, e)
    rsq = sq[ref_idx]
    mean_d = np.empty(n, dtype=np.float64)
    rows = max(1, chunk_elements // len(ref_idx))
    for s in range(0, n, rows):
        blk = slice(s, min(s + rows, n))
        d2 = sq[blk, None] + rsq[None, :] - 2 * (e[blk] @ ref.T)
        np.maximum(d2, 0, out=d2)
        p = pos[blk]
        own = np.nonzero(p >= 0)[0]
        d2[own, p[own]] = np.inf  # a sample is not its own neighbour
        if k <= 16:  # k passes of argmin beat a partition by far for small k
            r = np.arange(d2.shape[0])
            acc = np.zeros(d2.shape[0], dtype=np.float64)
            for _ in range(k):
                j = np.argmin(d2, axis=1)
                acc += np.sqrt(d2[r, j].astype(np.float64))
                d2[r, j] = np.inf
            mean_d[blk] = acc / k
        else:
            near = np.partition(d2, k - 1, axis=1)[:, :k].astype(np.float64)
            mean_d[blk] = np.sqrt(near).mean(axis=1)
    t = 1.0 / np.maximum(mean_d, EPS)
    return t / t.max()


def random_values(n: int, seed: int | None = 0) -> np.ndarray:
    """The RANDOM input: ``n`` seeded uniform values in ``(0, 1]``.

    >>> random_values(3, seed=1).round(3).tolist()
    [0.488, 0.05, 0.856]
    """
    return 1.0 - np.random.default_rng(seed).random(int(n))


def balance_shares(
    values: npt.ArrayLike,
    target: Mapping[str, float] | None = None,
    distribution: BalanceDistribution | str = BalanceDistribution.TARGET,
    *,
    candidates: npt.ArrayLike | None = None,
    name: str = "BALANCE",
) -> dict[str, float]:
    """The class shares a BALANCE objective aims at (``"*other*"``: all other classes).

    Raises a :class:`DataError` naming the input when a target class never occurs.

    >>> balance_shares(["a", "a", "b", "c"], {"a": 0.5})
    {'a': 0.5, '*other*': 0.5}
    >>> balance_shares(["a", "a", "b", "c"], distribution="INPUT")
    {'a': 0.5, 'b': 0.25, 'c': 0.25}
    """
    state = Balance(values, target=target, distribution=distribution, name=name).fit(
        None if candidates is None else np.asarray(candidates, dtype=bool)
    )
    out = dict(zip(state.labels, state.t.tolist(), strict=True))
    if out.get("*other*") == 0.0:
        del out["*other*"]
    return out


# ----------------------------------------------------------------------------------------
# the greedy selection


def k_center_greedy(
    emb: npt.ArrayLike,
    k: int,
    *,
    initial: Sequence[int] | np.ndarray | None = None,
    min_distance: float | None = None,
) -> np.ndarray:
    """k-center greedy: repeatedly pick the sample farthest from everything picked so far.

    Without ``initial`` the first pick is sample 0. Returns the ``<= k`` new picks (not
    ``initial``) in order; ``min_distance`` stops early when every remaining sample is closer
    than that to a pick. O(n d) time per pick and O(n) extra memory.

    >>> pts = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [5.0, 5.0]])
    >>> k_center_greedy(pts, 3).tolist()
    [0, 3, 2]
    >>> k_center_greedy(pts, 3, initial=[2]).tolist()
    [0, 3, 1]
    >>> k_center_greedy(pts, 4, min_distance=1.0).tolist()
    [0, 3, 2]
    """
    init = np.asarray([] if initial is None else initial, dtype=np.int64)
    res = select(len(init) + int(k), [Diversity(emb, min_distance=min_distance)], preselected=init)
    return res.indices[len(init) :]


def select(
    n: int | None,
    objectives: Sequence[Strategy],
    *,
    preselected: Sequence[int] | np.ndarray | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> SelectionResult:
    """Pick up to ``n`` samples greedily (see the module docstring for the objectives).

    Args:
        n: total number of samples in the selection, ``preselected`` included (``None``: no
            count limit; stop on a stopping condition or when no candidate is left).
        objectives: at least one objective (any :class:`Strategy`), all with the same rows.
        preselected: picks already made, in order (e.g. by an interrupted run): they are
            replayed first, so the result equals the uninterrupted run's.
        seed: seed of the typicality reference subset.
        progress: called after every pick as ``progress(picked_so_far, n, index)``; save
            ``index`` to resume later with ``preselected``.

    Returns:
        A :class:`SelectionResult`.

    >>> r = select(2, [Weights([0.2, 0.9, 0.4, 0.8]),
    ...                Threshold([1, 1, 0, 1], 1, "BIGGER_EQUAL")])
    >>> r.indices.tolist(), r.n_candidates
    ([1, 3], 3)
    >>> select(4, [Weights([0.2, 0.9, 0.4, 0.8])], preselected=[1, 3]).indices.tolist()
    [1, 3, 2, 0]
    """
    if not objectives:
        raise DataError("select: give at least one objective")
    size = _common_size(objectives)
    pre = _preselected(preselected, size)
    if n is not None and n < 0:
        raise DataError(f"select: n must be >= 0 or None, got {n}")
    limit = size if n is None else min(int(n), size)

    candidates = np.ones(size, dtype=bool)
    for obj in objectives:
        if (keep := obj.keep()) is not None:
            candidates &= keep
    fitted = [(o.name, sc) for o in objectives if (sc := o.fit(candidates, seed)) is not None]
    scorers = [sc for _, sc in fitted]
    static = np.zeros(size, dtype=np.float64)
    typ_ok = np.ones(size, dtype=bool)
    for sc in scorers:
        static += sc.static
        if sc.allowed is not None:
            typ_ok &= sc.allowed
    steps = sorted(scorers, key=lambda sc: sc.phase)  # the order the scores are summed in

    chosen = np.zeros(size, dtype=bool)
    picks: list[int] = []
    logs: list[float] = []
    values: list[list[float]] = []
    reason: StopReason = "n_samples"
    step = 0
    while True:
        forced = step < len(pre)
        if not forced and len(picks) >= limit:
            reason = "n_samples" if n is not None and len(picks) >= n else "exhausted"
            break
        base = candidates & ~chosen
        eligible = base & typ_ok
        after_typ = bool(eligible.any())
        for sc in steps:
            sc.restrict(eligible)
        if not forced and not eligible.any():
            reason = (
                "exhausted"
                if not base.any()
                else ("min_typicality" if not after_typ else "min_distance")
            )
            break
        score = static.copy()
        live = eligible if eligible.any() else base
        for sc in steps:
            sc.add_score(score, live)
        if forced:
            idx = int(pre[step])
        else:
            score[~eligible] = -np.inf
            idx = int(np.argmax(score))
        logs.append(float(score[idx]))
        values.append([sc.value(idx) for sc in scorers])
        picks.append(idx)
        chosen[idx] = True
        stop = False
        for sc in scorers:
            stop |= sc.update(idx)
        step += 1
        if progress is not None:
            progress(len(picks), n, idx)
        if stop and not (step < len(pre)):
            reason = "max_sum"
            break

    return SelectionResult(
        indices=np.asarray(picks, dtype=np.int64),
        log_objective=np.asarray(logs, dtype=np.float64),
        objective_values=np.asarray(values, dtype=np.float64).reshape(len(picks), len(scorers)),
        names=tuple(name for name, _ in fitted),
        stop_reason=reason,
        n_candidates=int(candidates.sum()),
    )


class _DiversityState(Scorer):
    """Nearest-pick squared distances of every sample, updated one pick at a time."""

    phase = 1

    def __init__(self, e: np.ndarray, strength: float, min_distance: float | None) -> None:
        self.e = e
        self.sq = np.einsum("ij,ij->i", e, e).astype(np.float64)
        self.strength = strength
        self.min_d2 = None if min_distance is None else float(min_distance) ** 2
        self.d2 = np.full(e.shape[0], np.inf)
        self.any = False

    def restrict(self, eligible: np.ndarray) -> None:
        if self.any and self.min_d2 is not None:
            eligible &= self.d2 >= self.min_d2

    def add_score(self, score: np.ndarray, eligible: np.ndarray) -> None:
        if self.any and self.strength:
            score += (0.5 * self.strength) * np.log(np.maximum(self.d2, EPS * EPS))

    def value(self, idx: int) -> float:
        return math.sqrt(self.d2[idx]) if self.any else math.nan

    def update(self, idx: int) -> bool:
        dots = (self.e @ self.e[idx]).astype(np.float64, copy=False)
        d2 = self.sq + self.sq[idx] - 2.0 * dots
        np.maximum(d2, 0.0, out=d2)
        np.minimum(self.d2, d2, out=self.d2)
        self.any = True
        return False


class _BalanceState(Scorer):
    """Selected class counts and the squared-distance-to-target objective."""

    phase = 2

    def __init__(
        self,
        labels: list[str],
        t: np.ndarray,
        codes: np.ndarray | None,
        masses: np.ndarray | None,
        strength: float,
    ) -> None:
        self.labels = labels
        self.t = t
        self.codes = codes  # (n,) group of each sample (one-hot classes)
        self.masses = masses  # (n, G) class masses (distributions)
        self.strength = strength
        self.c = np.zeros(len(labels), dtype=np.float64)
        self.last_log: np.ndarray | None = None
        if masses is not None:
            tot = masses.sum(axis=1)
            self.u = masses - tot[:, None] * t[None, :]
            self.uu = np.einsum("ij,ij->i", self.u, self.u)

    def _log_objective(self, eligible: np.ndarray) -> np.ndarray:
        """log o_i = -(D_after(i) - min over eligible) / 2, for every sample."""
        mass = self.c.sum()
        if self.codes is not None:
            e = self.c - self.t * (mass + 1.0)
            d_group = 2.0 * e + 1.0  # D_after(g) - sum(e**2)
            d = d_group[self.codes]
        else:
            e = self.c - self.t * mass
            d = 2.0 * (self.u @ e) + self.uu
        best = d[eligible].min() if eligible.any() else 0.0
        return -0.5 * (d - best)

    def add_score(self, score: np.ndarray, eligible: np.ndarray) -> None:
        self.last_log = self._log_objective(eligible)
        if self.strength:
            score += self.strength * np.maximum(self.last_log, _LOG_EPS)

    def value(self, idx: int) -> float:
        return math.exp(float(self.last_log[idx])) if self.last_log is not None else math.nan

    def update(self, idx: int) -> bool:
        if self.codes is not None:
            self.c[self.codes[idx]] += 1.0
        else:
            assert self.masses is not None
            self.c += self.masses[idx]
        return False

    def shares(self) -> dict[str, float]:
        tot = self.c.sum()
        return {
            k: (float(v / tot) if tot else 0.0) for k, v in zip(self.labels, self.c, strict=True)
        }


def _shares(
    name: str,
    dist: BalanceDistribution,
    target: Mapping[str, float] | None,
    classes: list[str],
    present: dict[str, float],
    *,
    masses: bool,
) -> tuple[list[str], np.ndarray]:
    """(labels, shares): the targeted classes then ``*other*`` (only when it has a share)."""
    if dist is BalanceDistribution.TARGET:
        if not target:
            raise DataError(f"{name}: BALANCE with distribution TARGET needs a target")
        tgt = {str(k): float(v) for k, v in target.items()}
        if masses:
            missing = [k for k in tgt if k not in present]
            if missing:
                raise DataError(
                    f"{name}: BALANCE target names {', '.join(map(repr, missing))}, not a class of "
                    f"the predictions ({', '.join(classes[:8])}{', ...' if len(classes) > 8 else ''})"
                )
        bad = {k: v for k, v in tgt.items() if not 0.0 <= v <= 1.0}
        total = sum(tgt.values())
        if bad or total > 1.0 + 1e-6:
            raise DataError(
                f"{name}: BALANCE target shares must be in [0, 1] and sum to <= 1, got {tgt}"
            )
        labels = list(tgt)
        shares = [tgt[k] for k in labels]
        labels.append("*other*")
        shares.append(max(0.0, 1.0 - total))
        return labels, np.asarray(shares, dtype=np.float64)
    present_pos = {k: v for k, v in present.items() if v > 0}
    if not present_pos:
        return ["*other*"], np.ones(1)
    if dist is BalanceDistribution.UNIFORM:
        shares_d = {k: 1.0 / len(present_pos) for k in present_pos}
    else:
        tot = sum(present_pos.values())
        shares_d = {k: v / tot for k, v in present_pos.items()}
    labels = [*shares_d, "*other*"]
    return labels, np.asarray([*shares_d.values(), 0.0], dtype=np.float64)


# ----------------------------------------------------------------------------------------
# config -> objective


def objective_from_entry(
    entry: SelectionEntry,
    values: npt.ArrayLike | None,
    *,
    query: npt.ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    size: int | None = None,
    seed: int = 0,
) -> Objective:
    """The objective of a config entry, given its resolved input array.

    Args:
        entry: a parsed :class:`~touchline.select.config.SelectionEntry`.
        values: the resolved input (see the module docstring); for a RANDOM input ``None``
            draws :func:`random_values` (``size`` values, the input's ``random_seed`` or
            ``seed``).
        query: SIMILARITY's query embeddings.
        class_names: the columns of CLASS_DISTRIBUTION class masses.
        size: number of samples (RANDOM input only).
        seed: fallback seed of a RANDOM input.

    >>> from touchline.select.config import SelectionConfig
    >>> cfg = SelectionConfig.from_dict({"n_samples": 1, "strategies": [
    ...     {"input": {"type": "METADATA", "key": "video_name"},
    ...      "strategy": {"type": "BALANCE", "target": {"a": 1.0}}}]})
    >>> objective_from_entry(cfg.strategies[0], ["a", "b"]).name
    "METADATA 'video_name'"
    """
    s = entry.strategy
    name = entry.input.describe()
    if values is None:
        if entry.input.type is not InputType.RANDOM or size is None:
            raise DataError(f"{name}: no input values given")
        rs = entry.input.random_seed
        values = random_values(size, seed if rs is None else rs)
    t = s.type
    if t is StrategyType.DIVERSITY:
        return Diversity(values, s.strength, s.stopping_condition_minimum_distance, name)
    if t is StrategyType.WEIGHTS:
        return Weights(values, s.strength, s.stopping_condition_max_sum, name)
    if t is StrategyType.THRESHOLD:
        assert s.threshold is not None and s.operation is not None
        return Threshold(values, s.threshold, s.operation, name)
    if t is StrategyType.BALANCE:
        return Balance(
            values,
            s.target,
            s.distribution or BalanceDistribution.TARGET,
            s.strength,
            class_names,
            name,
        )
    if t is StrategyType.SIMILARITY:
        if query is None:
            raise DataError(
                f"{name}: SIMILARITY needs the query embeddings (tag {entry.input.tag_name!r})"
            )
        return Similarity(values, query, s.strength, name)
    k = s.num_nearest_neighbors if s.num_nearest_neighbors is not None else 20
    return Typicality(values, k, s.stopping_condition_minimum_typicality, s.strength, name=name)


# ----------------------------------------------------------------------------------------
# sequences


def sequence_groups(videos: npt.ArrayLike, frames: npt.ArrayLike, length: int) -> np.ndarray:
    """Sample indices of sequences ``(n_seq, length)``: each video's samples in frame order,
    cut into consecutive runs of ``length`` (a shorter tail is dropped), videos in order of
    first appearance.

    >>> sequence_groups(["a", "a", "a", "b", "b"], [2, 0, 1, 0, 1], 2).tolist()
    [[1, 2], [3, 4]]
    """
    v = np.asarray(videos).astype(str)
    f = np.asarray(frames)
    if v.shape != f.shape or v.ndim != 1:
        raise DataError(f"sequence_groups: videos {v.shape} and frames {f.shape} must be (n,)")
    if length < 1:
        raise DataError(f"sequence_groups: length must be >= 1, got {length}")
    _, first, inv = np.unique(v, return_index=True, return_inverse=True)
    video_rank = np.argsort(np.argsort(first))[inv]
    order = np.lexsort((f, video_rank))
    out: list[np.ndarray] = []
    starts = np.flatnonzero(np.r_[True, np.diff(video_rank[order]) != 0])
    ends = np.r_[starts[1:], len(order)]
    for a, b in zip(starts, ends, strict=True):
        run = order[a:b]
        m = (len(run) // length) * length
        if m:
            out.append(run[:m].reshape(-1, length))
    if not out:
        return np.zeros((0, length), dtype=np.int64)
    return np.concatenate(out).astype(np.int64)


def aggregate_sequences(values: npt.ArrayLike, groups: np.ndarray) -> np.ndarray:
    """One value per sequence: the mean of numeric rows (embeddings, scores), the first
    element otherwise (categories such as the video name).

    >>> g = np.array([[0, 1], [2, 3]])
    >>> aggregate_sequences([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [0.0, 0.0]], g).tolist()
    [[0.5, 0.5], [1.0, 1.0]]
    >>> aggregate_sequences(["a", "a", "b", "b"], g).tolist()
    ['a', 'b']
    """
    v = np.asarray(values)
    g = np.asarray(groups, dtype=np.int64)
    if np.issubdtype(v.dtype, np.number) and v.dtype != bool:
        return v[g].mean(axis=1)
    return v[g[:, 0]]


# ----------------------------------------------------------------------------------------
# helpers


def _rows(values: npt.ArrayLike) -> int | None:
    return int(np.shape(values)[0]) if np.ndim(values) else None


def _common_size(objectives: Sequence[Strategy]) -> int:
    sizes = {o.name: o.rows() for o in objectives}
    distinct = set(sizes.values())
    if None in distinct or len(distinct) != 1:
        detail = ", ".join(f"{k}: {'a scalar' if v is None else v}" for k, v in sizes.items())
        raise DataError(f"select: every input needs one row per sample; got {detail}")
    size = distinct.pop()
    assert size is not None
    return size


def _preselected(pre: Sequence[int] | np.ndarray | None, size: int) -> np.ndarray:
    p = np.asarray([] if pre is None else pre)
    if p.size == 0:
        return np.zeros(0, dtype=np.int64)
    if p.ndim != 1 or not np.issubdtype(p.dtype, np.integer):
        raise DataError(f"preselected: expected a list of sample indices, got {p.dtype} {p.shape}")
    if p.min() < 0 or p.max() >= size:
        raise DataError(f"preselected: indices must be in [0, {size}), got {p.min()}..{p.max()}")
    if len(np.unique(p)) != len(p):
        raise DataError("preselected: repeated indices")
    return p.astype(np.int64)


def _strength(s: float, name: str) -> float:
    s = float(s)
    if not math.isfinite(s) or abs(s) > 1e9:
        raise DataError(f"{name}: strength must be finite with |strength| <= 1e9, got {s}")
    return s


def _named(values: npt.ArrayLike, name: str) -> np.ndarray:
    v = np.asarray(values)
    if v.ndim != 1:
        raise DataError(f"{name}: expected one number per sample (n,), got shape {v.shape}")
    if not (np.issubdtype(v.dtype, np.number) or v.dtype == bool):
        example = v.flat[0] if v.size else ""
        raise DataError(
            f"{name}: WEIGHTS/THRESHOLD need numbers, got {v.dtype} values like {example!r}"
        )
    return v


def _numeric(values: npt.ArrayLike, name: str) -> np.ndarray:
    return _named(values, name).astype(np.float64, copy=False)


def _matrix(values: npt.ArrayLike, name: str) -> np.ndarray:
    e = np.asarray(values)
    if e.ndim != 2:
        raise DataError(f"{name}: expected embeddings (n, d), got shape {e.shape}")
    if not np.issubdtype(e.dtype, np.floating):
        if not np.issubdtype(e.dtype, np.number):
            raise DataError(f"{name}: embeddings must be numbers, got {e.dtype}")
        e = e.astype(np.float32)
    if e.size and not np.isfinite(e).all():
        raise DataError(f"{name}: embeddings contain NaN or infinity")
    return e


def _unit(e: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(e, axis=1, keepdims=True)
    return np.divide(e, norm, out=np.zeros_like(e), where=norm > 0)


def _wrap(name: str, fn: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> np.ndarray:
    """``fn(*args, **kwargs)`` with DataError messages prefixed by the input's name."""
    try:
        return fn(*args, **kwargs)
    except DataError as e:
        msg = str(e)
        raise DataError(msg if msg.startswith(name) else f"{name}: {msg}") from None
