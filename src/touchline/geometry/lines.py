"""Homogeneous 2-D lines: construction, intersection, distances, fitting and mapping.

A line is a 3-vector ``(a, b, c)`` with ``a x + b y + c = 0``; a *normalised* line has
``a² + b² = 1`` so that ``l @ [x, y, 1]`` is the signed Euclidean distance of ``(x, y)`` to it.
Points are ``(n, 2)`` arrays.

>>> l = line_through((0.0, 0.0), (2.0, 2.0))
>>> intersect_lines(l, line_through((0.0, 2.0), (2.0, 0.0)))
array([1., 1.])
>>> point_line_distance(l, [[1.0, 0.0]]).round(4)
array([-0.7071])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "fit_line",
    "intersect_lines",
    "line_through",
    "map_line",
    "normalise_line",
    "point_line_distance",
    "ransac_line",
]

F64 = NDArray[np.float64]


def normalise_line(line: ArrayLike) -> F64:
    """Scale line(s) ``(..., 3)`` to a unit normal ``(a, b)`` (the sign is kept).

    Lines at infinity (``a = b = 0``) are scaled to unit norm instead.

    >>> normalise_line([3.0, 4.0, 10.0])
    array([0.6, 0.8, 2. ])
    """
    lv = np.asarray(line, dtype=np.float64)
    s = np.hypot(lv[..., 0], lv[..., 1])
    full = np.linalg.norm(lv, axis=-1)
    s = np.where(s > 1e-12 * np.maximum(full, 1e-300), s, np.where(full > 0, full, 1.0))
    return lv / s[..., None]


def line_through(p: ArrayLike, q: ArrayLike) -> F64:
    """The normalised line ``p x q`` through two points; its normal ``(a, b)`` is the direction
    ``p -> q`` turned by +90 degrees.

    >>> line_through((0.0, 1.0), (5.0, 1.0))
    array([ 0.,  1., -1.])
    """
    a = np.append(np.asarray(p, dtype=np.float64).reshape(2), 1.0)
    b = np.append(np.asarray(q, dtype=np.float64).reshape(2), 1.0)
    return normalise_line(np.cross(a, b))


def intersect_lines(l1: ArrayLike, l2: ArrayLike, parallel_tol: float = 1e-9) -> F64 | None:
    """The ``(2,)`` intersection of two lines, or ``None`` when they are (nearly) parallel.

    ``parallel_tol`` bounds the sine of the angle between the lines.

    >>> intersect_lines([1.0, 0.0, -3.0], [0.0, 1.0, -4.0])
    array([3., 4.])
    >>> intersect_lines([1.0, 0.0, -3.0], [2.0, 0.0, 1.0]) is None
    True
    """
    a = normalise_line(l1)
    b = normalise_line(l2)
    x = np.cross(a, b)
    if not np.all(np.isfinite(x)) or abs(x[2]) <= parallel_tol:
        return None
    return x[:2] / x[2]


def point_line_distance(line: ArrayLike, points: ArrayLike) -> F64:
    """Signed Euclidean distances ``(n,)`` of points ``(n, 2)`` to a line (normalised inside).

    Positive on the side the normal ``(a, b)`` points to.

    >>> point_line_distance([0.0, 2.0, -2.0], [[5.0, 3.0], [0.0, 0.0]])
    array([ 2., -1.])
    """
    lv = normalise_line(np.asarray(line, dtype=np.float64).reshape(3))
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return p @ lv[:2] + lv[2]


def fit_line(points: ArrayLike, weights: ArrayLike | None = None) -> F64:
    """Weighted total-least-squares line through ``n >= 2`` points, normalised.

    Minimises the weighted sum of squared perpendicular distances. Raises ``ValueError`` on
    fewer than 2 points (or fewer than 2 with a positive weight).

    >>> pts = np.array([[0.0, 1.0], [1.0, 2.1], [2.0, 2.9], [3.0, 4.0]])
    >>> line = fit_line(pts)
    >>> bool(np.abs(point_line_distance(line, pts)).max() < 0.08)
    True
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (len(p),):
        raise ValueError(f"weights must have shape ({len(p)},), got {w.shape}")
    w = np.clip(w, 0.0, None)
    if int((w > 0).sum()) < 2:
        raise ValueError(f"fit_line needs at least 2 weighted points, got {int((w > 0).sum())}")
    c = (w @ p) / w.sum()
    d = p - c
    cov = (d * w[:, None]).T @ d
    _, vecs = np.linalg.eigh(cov)
    n = vecs[:, 0]
    return np.array([n[0], n[1], -(n @ c)])


def ransac_line(
    points: ArrayLike,
    threshold: float,
    weights: ArrayLike | None = None,
    iterations: int = 200,
    seed: int = 0,
) -> tuple[F64 | None, NDArray[np.bool_]]:
    """Robust line: RANSAC over point pairs (all at once), then TLS refits on the inliers.

    Pairs are scored by the summed weight of the points within ``threshold`` of their line.
    Returns ``(line, inliers)``; ``line`` is ``None`` (and no point an inlier) with fewer than 2
    points or when no pair gathers 2 inliers.

    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(0, 100, 40)
    >>> pts = np.c_[t, 0.5 * t + 3]
    >>> pts[:10] = rng.uniform(0, 100, (10, 2))  # outliers
    >>> line, inl = ransac_line(pts, threshold=0.5)
    >>> int(inl[10:].sum()), bool(np.allclose(line / line[2], [0.5 / 3, -1 / 3, 1.0]))
    (30, True)
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(p)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    w = np.clip(w, 0.0, None)
    none = np.zeros(n, dtype=bool)
    if n < 2:
        return None, none
    rng = np.random.default_rng(seed)
    if n == 2:
        pairs = np.array([[0, 1]])
    else:
        i = rng.integers(0, n, iterations)
        j = (i + rng.integers(1, n, iterations)) % n  # j != i
        pairs = np.stack([i, j], axis=1)
    ph = np.concatenate([p, np.ones((n, 1))], axis=1)
    lines = normalise_line(np.cross(ph[pairs[:, 0]], ph[pairs[:, 1]]))  # (k, 3)
    ok = np.hypot(lines[:, 0], lines[:, 1]) > 0.5  # coincident pairs give garbage
    if not ok.any():
        return None, none
    lines = lines[ok]
    inl = np.abs(ph @ lines.T) < threshold  # (n, k)
    score = w @ inl
    best = int(np.argmax(score))
    mask = inl[:, best]
    line = lines[best]
    for _ in range(3):
        if int((mask & (w > 0)).sum()) < 2:
            return None, none
        line = fit_line(p[mask], w[mask])
        new = np.abs(ph @ line) < threshold
        if np.array_equal(new, mask):
            break
        mask = new
    if int(mask.sum()) < 2:
        return None, none
    return line, mask


def map_line(line: ArrayLike, H: ArrayLike) -> F64:
    """The image ``H^-T l`` of line(s) ``(..., 3)`` under the point homography ``H``, normalised.

    >>> H = np.array([[2.0, 0, 1], [0, 2.0, 0], [0, 0, 1]])  # x -> 2x + 1, y -> 2y
    >>> map_line([1.0, 0.0, -1.0], H)  # x = 1 -> x = 3
    array([ 1.,  0., -3.])
    """
    Hm = np.asarray(H, dtype=np.float64).reshape(3, 3)
    lv = np.asarray(line, dtype=np.float64)
    out = np.linalg.solve(Hm.T, lv.reshape(-1, 3).T).T
    return normalise_line(out.reshape(lv.shape))
