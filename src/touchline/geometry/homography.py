"""Homographies from point correspondences: normalised DLT, RANSAC, weighted refinement, checks.

All functions take and return plain numpy arrays. ``src`` and ``dst`` are ``(n, 2)`` arrays and
the returned ``H`` maps ``src`` to ``dst`` (``dst ~ H @ [src, 1]``), normalised so that
``H[2, 2] == 1`` when possible.

>>> import numpy as np
>>> src = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.2]])
>>> H = np.array([[2.0, 0.1, 3], [0.05, 1.5, -1], [0.01, 0.02, 1]])
>>> dst = apply_homography(H, src)
>>> np.allclose(dlt(src, dst), H)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "RansacResult",
    "apply_homography",
    "cv2_matrix",
    "dlt",
    "front_sign",
    "normalise_homography",
    "plausibility",
    "ransac_homography",
    "refine_homography",
]

F64 = NDArray[np.float64]


def apply_homography(H: ArrayLike, points: ArrayLike) -> F64:
    """Map ``(n, 2)`` points through ``H``; points sent to infinity come back as ``nan``.

    >>> apply_homography(np.eye(3) * 2, [[1.0, 2.0]])
    array([[1., 2.]])
    """
    H = np.asarray(H, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    q = p @ H[:, :2].T + H[:, 2]
    w = q[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = q[:, :2] / w
    out[np.abs(w[:, 0]) < 1e-12] = np.nan
    return out


def cv2_matrix(H: ArrayLike) -> F64:
    """A homography between continuous pixel coordinates (pixel (i, j) covers [i, i+1)) as the
    matrix ``cv2.warpPerspective`` expects (pixel centres at integers).

    >>> cv2_matrix(np.eye(3) * 2)
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    """
    T = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    Ti = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    return Ti @ np.asarray(H, dtype=np.float64) @ T


def front_sign(pitch_to_image: ArrayLike, extent: tuple[float, float]) -> float:
    """+1 or -1: the sign of the homogeneous ``w`` of ground points in front of the camera;
    0 when the homography is singular.

    A perspective view: the sign of ``det``; an affine map (no horizon): the sign of ``w``
    over the ``extent = (length, width)`` rectangle of the ground plane.

    >>> front_sign(np.diag([1.0, 1.0, 1.0]), (105.0, 68.0)), front_sign(np.zeros((3, 3)), (1, 1))
    (1.0, 0.0)
    """
    H = np.asarray(pitch_to_image, dtype=np.float64)
    top = float(np.abs(H).max())
    if not math.isfinite(top) or top == 0:
        return 0.0
    h = H / top
    det = float(np.linalg.det(h))
    if not math.isfinite(det) or abs(det) < 1e-14:
        return 0.0
    L, W = extent
    w = np.array([[0, 0, 1], [L, 0, 1], [0, W, 1], [L, W, 1], [L / 2, W / 2, 1]], float) @ h[2]
    if np.ptp(w) <= 1e-7 * np.abs(w).max() and w[-1] != 0:
        return float(np.sign(w[-1]))
    return float(np.sign(det))


def normalise_homography(H: ArrayLike) -> F64:
    """Scale ``H`` so that ``H[2, 2] == 1`` (or the Frobenius norm is 1 when ``H[2, 2]`` ~ 0)."""
    H = np.asarray(H, dtype=np.float64)
    s = H[2, 2] if abs(H[2, 2]) > 1e-12 * np.abs(H).max() else np.linalg.norm(H)
    return H / s


def _similarity(points: F64) -> F64:
    """Hartley normalisation: centroid to the origin, mean distance sqrt(2)."""
    c = points.mean(axis=0)
    d = np.sqrt(((points - c) ** 2).sum(axis=1)).mean()
    s = math.sqrt(2.0) / d if d > 1e-12 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]], dtype=np.float64)


def dlt(src: ArrayLike, dst: ArrayLike, weights: ArrayLike | None = None) -> F64:
    """Normalised (Hartley) direct linear transform from ``n >= 4`` correspondences.

    Each correspondence's two equations are scaled by ``sqrt(weight)``. Raises ``ValueError`` on
    fewer than 4 points; degenerate input (collinear points) returns a singular matrix, which
    :func:`plausibility` rejects.
    """
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(s) < 4 or len(s) != len(d):
        raise ValueError(f"dlt needs at least 4 matching points, got {len(s)} and {len(d)}")
    Ts, Td = _similarity(s), _similarity(d)
    sn = s @ Ts[:2, :2].T + Ts[:2, 2]
    dn = d @ Td[:2, :2].T + Td[:2, 2]
    x, y, u, v = sn[:, 0], sn[:, 1], dn[:, 0], dn[:, 1]
    z, o = np.zeros_like(x), np.ones_like(x)
    A = np.empty((2 * len(s), 9))
    A[0::2] = np.stack([x, y, o, z, z, z, -u * x, -u * y, -u], axis=1)
    A[1::2] = np.stack([z, z, z, x, y, o, -v * x, -v * y, -v], axis=1)
    if weights is not None:
        w = np.sqrt(np.clip(np.asarray(weights, dtype=np.float64).reshape(-1), 0, None))
        A *= np.repeat(w, 2)[:, None]
    _, _, vt = np.linalg.svd(A)
    Hn = vt[-1].reshape(3, 3)
    return normalise_homography(np.linalg.solve(Td, Hn @ Ts))


def _batched_four_point(src4: F64, dst4: F64) -> F64:
    """Exact homographies for a batch of 4-point samples, ``(b, 4, 2)`` each -> ``(b, 3, 3)``.

    Solves the 8x8 systems with ``h33 = 1`` in normalised coordinates (per batch); singular
    samples come back as ``nan``.
    """
    b = len(src4)
    x, y = src4[..., 0], src4[..., 1]
    u, v = dst4[..., 0], dst4[..., 1]
    z, o = np.zeros_like(x), np.ones_like(x)
    A = np.empty((b, 8, 8))
    A[:, 0::2] = np.stack([x, y, o, z, z, z, -u * x, -u * y], axis=2)
    A[:, 1::2] = np.stack([z, z, z, x, y, o, -v * x, -v * y], axis=2)
    rhs = np.empty((b, 8))
    rhs[:, 0::2], rhs[:, 1::2] = u, v
    out = np.full((b, 3, 3), np.nan)
    det = np.linalg.det(A)
    ok = np.abs(det) > 1e-10
    if ok.any():
        h = np.linalg.solve(A[ok], rhs[ok][..., None])[..., 0]
        out[ok] = np.concatenate([h, np.ones((len(h), 1))], axis=1).reshape(-1, 3, 3)
    return out


@dataclass(frozen=True)
class RansacResult:
    """The best homography of a RANSAC run, its inlier mask and the residuals of every point."""

    H: F64 | None
    inliers: NDArray[np.bool_]
    residuals: F64


def ransac_homography(
    src: ArrayLike,
    dst: ArrayLike,
    threshold: float,
    weights: ArrayLike | None = None,
    iterations: int = 300,
    seed: int = 0,
) -> RansacResult:
    """RANSAC over minimal 4-point samples, scored by the summed weight of inliers.

    The residual of a correspondence is the distance in ``dst`` units between ``dst`` and the
    mapped ``src``. Samples are drawn with probability proportional to the weights, all at once
    and solved as one batch. The winner is re-fitted by weighted DLT on its inliers (twice, with
    the inlier set updated in between). ``H`` is ``None`` when fewer than 4 points are given or
    no sample produced 4 inliers.

    >>> rng = np.random.default_rng(1)
    >>> src = rng.uniform(0, 100, (30, 2))
    >>> H = np.array([[1.2, 0.1, 5], [0.0, 0.9, -3], [1e-3, 2e-3, 1]])
    >>> dst = apply_homography(H, src)
    >>> dst[:5] += 40.0  # five gross outliers
    >>> r = ransac_homography(src, dst, threshold=1.0)
    >>> int(r.inliers.sum()), bool(np.allclose(r.H, H, atol=1e-6))
    (25, True)
    """
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    n = len(s)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    empty = RansacResult(None, np.zeros(n, dtype=bool), np.full(n, np.inf))
    if n < 4:
        return empty
    Ts, Td = _similarity(s), _similarity(d)
    sn = s @ Ts[:2, :2].T + Ts[:2, 2]
    dn = d @ Td[:2, :2].T + Td[:2, 2]
    rng = np.random.default_rng(seed)
    p = w / w.sum() if w.sum() > 0 else None
    if n == 4:
        idx = np.arange(4)[None]
    else:
        # Draw 4 distinct indices per sample (Gumbel top-k gives weighted sampling without
        # replacement, vectorised).
        g = rng.gumbel(size=(iterations, n)) + (
            np.log(np.maximum(p, 1e-12)) if p is not None else 0
        )
        idx = np.argsort(-g, axis=1)[:, :4]
    Hn = _batched_four_point(sn[idx], dn[idx])
    valid = np.isfinite(Hn).all(axis=(1, 2))
    if not valid.any():
        return empty
    Hs = np.linalg.inv(Td) @ Hn[valid] @ Ts  # (b, 3, 3) in original units
    q = np.einsum("bij,nj->bni", Hs, np.concatenate([s, np.ones((n, 1))], axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = q[..., :2] / q[..., 2:3]
    res = np.linalg.norm(proj - d[None], axis=2)
    res[~np.isfinite(res)] = np.inf
    score = ((res < threshold) * w[None]).sum(axis=1)
    best = int(np.argmax(score))
    inl = res[best] < threshold
    if inl.sum() < 4:
        return empty
    H = Hs[best]
    for _ in range(2):
        H = dlt(s[inl], d[inl], w[inl])
        r = np.linalg.norm(apply_homography(H, s) - d, axis=1)
        r[~np.isfinite(r)] = np.inf
        new = r < threshold
        if new.sum() < 4:
            break
        inl = new
    r = np.linalg.norm(apply_homography(H, s) - d, axis=1)
    r[~np.isfinite(r)] = np.inf
    return RansacResult(normalise_homography(H), inl, r)


def refine_homography(
    H: ArrayLike,
    src: ArrayLike,
    dst: ArrayLike,
    weights: ArrayLike | None = None,
    loss_scale: float | None = None,
) -> F64:
    """Non-linear refinement of ``H`` (src -> dst) minimising weighted residuals in ``dst`` units.

    Levenberg-Marquardt (scipy) over the 8 free entries; with ``loss_scale`` a robust (soft-L1)
    loss of that scale. Returns the input unchanged when fewer than 4 points are given or the
    optimiser fails.

    >>> src = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [5, 2]], float)
    >>> H = np.array([[1.0, 0.2, 1], [0.1, 1.1, 2], [0.001, 0.002, 1]])
    >>> dst = apply_homography(H, src)
    >>> np.allclose(refine_homography(H + 1e-3, src, dst), H, atol=1e-6)
    True
    """
    from scipy.optimize import least_squares

    H0 = normalise_homography(H)
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(s) < 4:
        return H0
    sw = np.sqrt(
        np.ones(len(s)) if weights is None else np.clip(np.asarray(weights, float), 0, None)
    )

    def residuals(h: F64) -> F64:
        Hh = np.append(h, 1.0).reshape(3, 3)
        r = apply_homography(Hh, s) - d
        r = np.nan_to_num(r, nan=1e6)
        return (r * sw[:, None]).ravel()

    try:
        sol = least_squares(
            residuals,
            H0.ravel()[:8],
            method="lm" if loss_scale is None and 2 * len(s) >= 8 else "trf",
            loss="linear" if loss_scale is None else "soft_l1",
            f_scale=loss_scale or 1.0,
            max_nfev=200,
        )
    except (ValueError, np.linalg.LinAlgError):
        return H0
    if not np.all(np.isfinite(sol.x)):
        return H0
    return np.append(sol.x, 1.0).reshape(3, 3)


def plausibility(
    image_to_pitch: ArrayLike,
    image_size: tuple[int, int],
    pitch_size: tuple[float, float] = (105.0, 68.0),
) -> list[str]:
    """Reasons why ``image_to_pitch`` cannot be a broadcast camera view; empty when plausible.

    Checks: finite and invertible; the bottom of the image lies on the ground in front of the
    camera (the horizon is above it); the pitch is not seen as a mirror image; a camera can be
    recovered (real, sane focal length: 0.2 to 30 image widths; camera 2 to 200 m above the
    ground and within 400 m of the pitch centre); the view overlaps the pitch.

    >>> from touchline.geometry.camera import PinholeCamera
    >>> cam = PinholeCamera.look_at((52.5, 100.0, -25.0), (52.5, 34.0, 0.0), focal=1000.0,
    ...                           image_size=(1280, 720))
    >>> plausibility(np.linalg.inv(cam.pitch_to_image), (1280, 720))
    []
    >>> plausibility(np.diag([1.0, -1.0, 1.0]) @ np.linalg.inv(cam.pitch_to_image), (1280, 720))
    ['mirror image']
    """
    from touchline.errors import DataError
    from touchline.geometry.camera import PinholeCamera

    H = np.asarray(image_to_pitch, dtype=np.float64)
    w, h = image_size
    if not np.all(np.isfinite(H)) or abs(np.linalg.det(H)) < 1e-300:
        return ["not invertible"]
    if np.linalg.cond(H) > 1e14:
        return ["not invertible"]
    reasons: list[str] = []
    bottom = np.array([[0.0, h], [w / 2, h], [w, h], [w / 2, h * 0.75]])
    q = np.concatenate([bottom, np.ones((4, 1))], axis=1) @ H.T
    # The sign of the third coordinate tells which side of the horizon a point is on; the
    # pitch itself must be on the same side as the bottom of the image.
    s_bottom = np.sign(q[:, 2])
    if not (np.all(s_bottom > 0) or np.all(s_bottom < 0)):
        reasons.append("horizon below the bottom of the image")
        return reasons
    # Orientation: the Jacobian of image -> pitch at the bottom centre keeps the handedness of
    # a camera looking down at the pitch from above (no mirror image).
    x0 = np.array([w / 2, h * 0.9])
    eps = 1.0
    step = np.array([[0.0, 0.0], [eps, 0.0], [0.0, eps]])
    p0, px, py = apply_homography(H, x0 + step)
    J = np.stack([px - p0, py - p0], axis=1)
    if np.linalg.det(J) <= 0:
        reasons.append("mirror image")
        return reasons
    try:
        cam = PinholeCamera.from_homography(np.linalg.inv(H), (w, h))
    except (DataError, np.linalg.LinAlgError, ValueError):
        reasons.append("no real focal length")
        return reasons
    f = float(cam.K[0, 0])
    if not 0.2 * w <= f <= 30 * w:
        reasons.append(f"focal length {f / w:.2f} image widths")
    C = np.asarray(cam.C, dtype=np.float64)
    height = -C[2]
    if not 2.0 <= height <= 200.0:
        reasons.append(f"camera height {height:.1f} m")
    centre = np.array([pitch_size[0] / 2, pitch_size[1] / 2])
    if np.hypot(*(C[:2] - centre)) > 400.0:
        reasons.append("camera more than 400 m from the pitch")
    g = np.stack(np.meshgrid(np.linspace(0, w, 9), np.linspace(h * 0.3, h, 6)), -1).reshape(-1, 2)
    pg = apply_homography(H, g)
    m = 5.0
    on = (
        (pg[:, 0] > -m)
        & (pg[:, 0] < pitch_size[0] + m)
        & (pg[:, 1] > -m)
        & (pg[:, 1] < pitch_size[1] + m)
    )
    if not on.any():
        reasons.append("the view does not overlap the pitch")
    return reasons
