"""Conics: circles of the pitch, their images under homographies, ellipse fitting, distances.

A conic is a symmetric 3x3 matrix ``C`` with ``[x y 1] C [x y 1]^T = 0``. :func:`normalise_conic`
scales it to unit Frobenius norm with a non-negative trace of the upper-left 2x2 block, so that
the inside of a real ellipse is where ``x^T C x < 0``.

>>> C = circle_conic((52.5, 34.0), 9.15)
>>> sampson_distance(C, [[52.5 + 9.15, 34.0], [52.5 + 10.15, 34.0]]).round(4)
array([0.    , 0.9507])
>>> conic_line_intersection(C, [0.0, 1.0, -34.0]).round(2)  # the line y = 34
array([[61.65, 34.  ],
       [43.35, 34.  ]])
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.geometry.lines import normalise_line

__all__ = [
    "circle_conic",
    "conic_center",
    "conic_line_intersection",
    "fit_conic",
    "is_ellipse",
    "map_conic",
    "normalise_conic",
    "sample_conic",
    "sampson_distance",
    "tangent_at",
]

F64 = NDArray[np.float64]


def _conic(C: ArrayLike) -> F64:
    Cm = np.asarray(C, dtype=np.float64)
    if Cm.shape != (3, 3):
        raise ValueError(f"a conic must be a (3, 3) matrix, got shape {Cm.shape}")
    return (Cm + Cm.T) / 2


def normalise_conic(C: ArrayLike) -> F64:
    """Symmetrise, scale to unit Frobenius norm and make ``trace(C[:2, :2]) >= 0``.

    >>> normalise_conic(np.diag([-2.0, -2.0, 2.0])).round(4) + 0.0
    array([[ 0.5774,  0.    ,  0.    ],
           [ 0.    ,  0.5774,  0.    ],
           [ 0.    ,  0.    , -0.5774]])
    """
    Cm = _conic(C)
    n = float(np.linalg.norm(Cm))
    if n == 0.0 or not math.isfinite(n):
        return Cm
    if Cm[0, 0] + Cm[1, 1] < 0:
        n = -n
    return Cm / n


def circle_conic(center: ArrayLike, radius: float) -> F64:
    """The conic of the circle of ``center`` (2,) and ``radius`` (not normalised).

    >>> circle_conic((1.0, 2.0), 3.0)
    array([[ 1.,  0., -1.],
           [ 0.,  1., -2.],
           [-1., -2., -4.]])
    """
    cx, cy = np.asarray(center, dtype=np.float64).reshape(2)
    return np.array(
        [[1.0, 0.0, -cx], [0.0, 1.0, -cy], [-cx, -cy, cx * cx + cy * cy - radius * radius]]
    )


def map_conic(C: ArrayLike, H: ArrayLike) -> F64:
    """The image ``H^-T C H^-1`` of conic ``C`` under the point homography ``H``, normalised.

    >>> H = np.array([[2.0, 0, 1], [0, 2.0, 0], [0, 0, 1]])  # x -> 2x + 1, y -> 2y
    >>> np.allclose(map_conic(circle_conic((0, 0), 1.0), H),
    ...             normalise_conic(circle_conic((1, 0), 2.0)))
    True
    """
    Hi = np.linalg.inv(np.asarray(H, dtype=np.float64).reshape(3, 3))
    return normalise_conic(Hi.T @ _conic(C) @ Hi)


def _similarity(p: F64, w: F64) -> F64:
    """Hartley normalisation: weighted centroid to the origin, mean distance sqrt(2)."""
    c = (w @ p) / w.sum()
    d = float((w @ np.sqrt(((p - c) ** 2).sum(axis=1))) / w.sum())
    s = math.sqrt(2.0) / d if d > 1e-12 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]], dtype=np.float64)


def fit_conic(points: ArrayLike, weights: ArrayLike | None = None) -> F64:
    """Direct least-squares ellipse through ``n >= 5`` points (Fitzgibbon; Halir-Flusser).

    The points are first normalised (centroid at the origin, mean distance sqrt(2)) for
    conditioning; each point's algebraic residual is scaled by ``sqrt(weight)``. The ellipse
    constraint ``4AC - B² = 1`` holds in normalised coordinates, so the result is always an
    ellipse when one fits; if numerical trouble leaves no ellipse eigenvector, the general
    algebraic conic fit (smallest singular vector) is returned. Raises ``ValueError`` on fewer
    than 5 points (with a positive weight) or on collinear points.

    >>> C = circle_conic((52.5, 34.0), 9.15)
    >>> t = np.linspace(0, np.pi / 2, 12)  # a quarter arc
    >>> pts = np.c_[52.5 + 9.15 * np.cos(t), 34.0 + 9.15 * np.sin(t)]
    >>> np.allclose(fit_conic(pts), normalise_conic(C))
    True
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (len(p),):
        raise ValueError(f"weights must have shape ({len(p)},), got {w.shape}")
    keep = w > 0
    if int(keep.sum()) < 5:
        raise ValueError(f"fit_conic needs at least 5 weighted points, got {int(keep.sum())}")
    p, w = p[keep], w[keep]
    T = _similarity(p, w)
    q = p * T[0, 0] + T[:2, 2]
    x, y = q[:, 0], q[:, 1]
    sw = np.sqrt(w)[:, None]
    D1 = np.stack([x * x, x * y, y * y], axis=1) * sw
    D2 = np.stack([x, y, np.ones_like(x)], axis=1) * sw
    S1, S2, S3 = D1.T @ D1, D1.T @ D2, D2.T @ D2
    if not np.isfinite(S3).all() or np.linalg.cond(S3) > 1e12:
        raise ValueError("fit_conic: the points are collinear (or not finite)")
    Tm = -np.linalg.solve(S3, S2.T)
    M = S1 + S2 @ Tm
    M = np.stack([M[2] / 2, -M[1], M[0] / 2])  # inverse of the constraint matrix times M
    _, vecs = np.linalg.eig(M)
    vecs = np.real(vecs)
    cond = 4 * vecs[0] * vecs[2] - vecs[1] ** 2
    good = np.flatnonzero(cond > 0)
    if len(good):
        D = np.concatenate([D1, D2], axis=1)
        cands = [np.concatenate([vecs[:, k], Tm @ vecs[:, k]]) for k in good]
        # With several candidates (numerical noise), the smallest algebraic residual wins.
        a = min(cands, key=lambda v: float(np.linalg.norm(D @ (v / np.linalg.norm(v)))))
    else:
        _, _, vt = np.linalg.svd(np.concatenate([D1, D2], axis=1))
        a = vt[-1]
    A, B, Cc, Dd, E, F = a
    Cn = np.array([[A, B / 2, Dd / 2], [B / 2, Cc, E / 2], [Dd / 2, E / 2, F]])
    return normalise_conic(T.T @ Cn @ T)


def is_ellipse(C: ArrayLike, tol: float = 1e-12) -> bool:
    """Whether ``C`` is a real, non-degenerate ellipse (circles included).

    Scale-free tests: the quadratic part is definite (axis ratio within ``1 / sqrt(tol)``),
    and the value at the centre has the opposite sign (a real curve) and does not vanish (the
    squared semi-axes exceed ``tol * (1 + |centre|²)``).

    >>> is_ellipse(circle_conic((0, 0), 2.0)), is_ellipse(np.diag([1.0, -1.0, -1.0]))
    (True, False)
    >>> is_ellipse(np.diag([1.0, 1.0, 1.0]))  # x² + y² + 1 = 0 has no real point
    False
    """
    Cm = normalise_conic(C)
    if not np.all(np.isfinite(Cm)):
        return False
    A = Cm[:2, :2]
    det2 = float(A[0, 0] * A[1, 1] - A[0, 1] ** 2)
    if det2 <= tol * float((A * A).sum()):
        return False
    centre = np.linalg.solve(A, -Cm[:2, 2])
    k = float(Cm[2, 2] + Cm[:2, 2] @ centre)
    tr = float(A[0, 0] + A[1, 1])
    return k * tr < 0 and abs(k) > tol * abs(tr) * (1.0 + float(centre @ centre))


def sampson_distance(C: ArrayLike, points: ArrayLike) -> F64:
    """First-order geometric distances ``(n,)`` of points ``(n, 2)`` to a conic, signed.

    ``x^T C x / |grad|`` with ``grad = 2 (C x)[:2]``: in the points' units, exact to first order
    near the curve; negative where ``x^T C x < 0`` (inside an ellipse after
    :func:`normalise_conic`). Points where the gradient vanishes (an ellipse's centre) get a
    large finite value.

    >>> sampson_distance(circle_conic((0, 0), 10.0), [[10.0, 0.0], [0.0, 9.0]]).round(3)
    array([ 0.   , -1.056])
    """
    Cm = normalise_conic(C)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x = np.concatenate([p, np.ones((len(p), 1))], axis=1)
    Cx = x @ Cm
    e = (Cx * x).sum(axis=1)
    g = 2.0 * np.hypot(Cx[:, 0], Cx[:, 1])
    return e / np.maximum(g, 1e-300)


def conic_line_intersection(C: ArrayLike, line: ArrayLike, tol: float = 1e-10) -> F64:
    """Intersections ``(k, 2)``, ``k`` in {0, 1, 2}, of a conic and a line.

    ``k = 1`` when the line is tangent (the discriminant is within ``tol`` of zero, relative)
    or parallel to an asymptotic direction. Points are ordered along the line direction
    ``(-b, a)``.

    >>> conic_line_intersection(circle_conic((0, 0), 1.0), [1.0, 0.0, -1.0])  # tangent x = 1
    array([[1., 0.]])
    >>> conic_line_intersection(circle_conic((0, 0), 1.0), [1.0, 0.0, -2.0]).shape
    (0, 2)
    """
    Cm = _conic(C)
    lv = normalise_line(np.asarray(line, dtype=np.float64).reshape(3))
    a, b, c = lv
    if math.hypot(a, b) < 0.5:  # the line at infinity
        return np.zeros((0, 2))
    p0 = np.array([-a * c, -b * c, 1.0])  # the foot of the perpendicular from the origin
    d = np.array([-b, a, 0.0])
    qa = float(d @ Cm @ d)
    qb = float(p0 @ Cm @ d)  # half the linear coefficient
    qc = float(p0 @ Cm @ p0)
    scale = max(abs(qa), abs(qb), abs(qc), 1e-300)
    qa, qb, qc = qa / scale, qb / scale, qc / scale
    if abs(qa) <= tol:
        if abs(qb) <= tol:
            return np.zeros((0, 2))
        ts = [-qc / (2 * qb)]
    else:
        disc = qb * qb - qa * qc
        if disc < -tol * max(qb * qb, abs(qa * qc), 1e-300):
            return np.zeros((0, 2))
        if disc <= tol * max(qb * qb, abs(qa * qc)):
            ts = [-qb / qa]
        else:
            r = math.sqrt(disc)
            # Numerically stable roots: no cancellation between qb and r.
            q = -(qb + math.copysign(r, qb))
            ts = sorted([q / qa, qc / q])
    return np.array([[p0[0] + t * d[0], p0[1] + t * d[1]] for t in ts])


def tangent_at(C: ArrayLike, point: ArrayLike) -> F64:
    """The polar line ``C [x, y, 1]`` of a point, normalised: the tangent when it lies on ``C``.

    >>> tangent_at(circle_conic((0, 0), 1.0), (0.0, 1.0))
    array([ 0.,  1., -1.])
    """
    x = np.append(np.asarray(point, dtype=np.float64).reshape(2), 1.0)
    return normalise_line(_conic(C) @ x)


def conic_center(C: ArrayLike) -> F64:
    """The ``(2,)`` centre of a central conic (ellipse, hyperbola): ``pole`` of the line at
    infinity. Raises ``ValueError`` for parabolas (no centre).

    >>> conic_center(circle_conic((3.0, -1.0), 2.0))
    array([ 3., -1.])
    """
    Cm = normalise_conic(C)
    A = Cm[:2, :2]
    if abs(float(np.linalg.det(A))) < 1e-14:
        raise ValueError("the conic has no centre (parabola or degenerate)")
    return np.asarray(np.linalg.solve(A, -Cm[:2, 2]), dtype=np.float64)


def sample_conic(C: ArrayLike, n: int, start: float = 0.0, stop: float = 2 * math.pi) -> F64:
    """``n`` points ``(n, 2)`` on an ellipse, at parameter angles from ``start`` to ``stop``.

    The parameter is the angle of the ellipse's affine circle (not the polar angle seen from
    the centre); ``stop`` is excluded for a full turn. Raises ``ValueError`` when ``C`` is not
    a real ellipse.

    >>> pts = sample_conic(circle_conic((5.0, 5.0), 2.0), 4)
    >>> bool(np.abs(sampson_distance(circle_conic((5.0, 5.0), 2.0), pts)).max() < 1e-12)
    True
    """
    Cm = normalise_conic(C)
    if not is_ellipse(Cm):
        raise ValueError("sample_conic needs a real ellipse")
    centre = conic_center(Cm)
    A = Cm[:2, :2]
    k = float(Cm[2, 2] + Cm[:2, 2] @ centre)  # value at the centre (< 0)
    vals, vecs = np.linalg.eigh(A)
    axes = np.sqrt(-k / vals)
    full = abs(abs(stop - start) - 2 * math.pi) < 1e-12
    t = np.linspace(start, stop, n, endpoint=not full)
    uv = np.stack([np.cos(t) * axes[0], np.sin(t) * axes[1]], axis=1)
    return centre + uv @ vecs.T
