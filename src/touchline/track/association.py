"""Association: cost matrices and optimal matching between tracks and detections.

Costs are in ``[0, 1]`` where a pair is allowed and ``inf`` where it is gated out; matching is
the Hungarian algorithm on the allowed pairs (``scipy.optimize.linear_sum_assignment``).

Example:
    >>> import numpy as np
    >>> cost = np.array([[0.1, 0.9], [np.inf, 0.3]])
    >>> linear_assignment(cost, 0.5)
    (array([[0, 0],
           [1, 1]]), array([], dtype=int64), array([], dtype=int64))
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

__all__ = ["camera_shift", "linear_assignment"]


def linear_assignment(cost: F64, threshold: float) -> tuple[I64, I64, I64]:
    """Minimum-cost matching keeping pairs with ``cost <= threshold``.

    Returns ``(matches (k, 2) [row, col], unmatched rows, unmatched cols)``.
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        return np.zeros((0, 2), np.int64), np.arange(n), np.arange(m)
    allowed = np.isfinite(cost) & (cost <= threshold)
    if not allowed.any():
        return np.zeros((0, 2), np.int64), np.arange(n), np.arange(m)
    c = np.where(allowed, cost, threshold + 1.0)
    rows, cols = linear_sum_assignment(c)
    ok = allowed[rows, cols]
    matches = np.stack([rows[ok], cols[ok]], axis=1).astype(np.int64)
    free_r = np.ones(n, bool)
    free_r[matches[:, 0]] = False
    free_c = np.ones(m, bool)
    free_c[matches[:, 1]] = False
    un_r, un_c = np.flatnonzero(free_r), np.flatnonzero(free_c)
    return matches, un_r, un_c


def camera_shift(
    predicted: F64, observed: F64, scale: F64, *, max_shift: float, min_votes: int = 3
) -> F64 | None:
    """Global image translation between predicted and observed object centres, or ``None``.

    The camera moves every object by about the same amount, players do not: every pair of a
    prediction and an observation within ``max_shift`` pixels votes for its displacement; the
    grid cell (half the typical object size ``scale``, e.g. box widths) with the most votes
    wins, and the median of its votes is the shift. With fewer than ``min_votes`` objects
    agreeing, there is no estimate.

    >>> pred = np.array([[100.0, 100.0], [300.0, 120.0], [500.0, 90.0], [50.0, 300.0]])
    >>> obs = pred + [12.0, -3.0]
    >>> camera_shift(pred, obs, np.full(4, 20.0), max_shift=60.0).round(1)
    array([12., -3.])
    """
    if predicted.shape[0] < min_votes or observed.shape[0] < min_votes:
        return None
    d = observed[None, :, :] - predicted[:, None, :]  # (n, m, 2)
    near = (np.abs(d) <= max_shift).all(axis=2)
    if near.sum() < min_votes:
        return None
    votes = d[near]
    rows = np.nonzero(near)[0]
    cell = max(float(np.median(scale)) * 0.5, 2.0)
    # Vote on two grids shifted by half a cell, so that a cluster on a cell border is not
    # split. The displacements are bounded by max_shift: a dense histogram (bincount) is
    # cheaper than sorting.
    side = int(np.ceil(2 * max_shift / cell)) + 2
    best_count, member = 0, None
    for offset in (0.0, 0.5):
        k = np.floor((votes + max_shift) / cell + offset).astype(np.int64)
        key = k[:, 0] * side + k[:, 1]
        counts = np.bincount(key, minlength=side * side)
        top = int(np.argmax(counts))
        if counts[top] > best_count:
            best_count, member = int(counts[top]), key == top
    assert member is not None
    # Each prediction votes once: count distinct predicting objects among the members.
    if np.count_nonzero(np.bincount(rows[member])) < min_votes:
        return None
    return np.median(votes[member], axis=0)
