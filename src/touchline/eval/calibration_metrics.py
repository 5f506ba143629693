"""Per-frame calibration metrics: a predicted homography against a ground-truth one.

Conventions (the rest of touchline's): a homography ``H`` maps image pixels to pitch metres. The
pitch frame has its origin at the top-left corner, ``x`` in ``[0, 105]`` along the touchline and
``y`` in ``[0, 68]`` across; the *template* is that rectangle. Image coordinates are continuous:
pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``, so a ``(w, h)`` image is ``[0, w] x [0, h]``.

Metrics:

* :func:`iou_part` - the World Cup 2014 "IoU part" (Homayounfar et al. 2017; Chen & Little 2019,
  ``lood339/SCCvSD`` ``python/util/iou_util.py``): the image projected onto the template by each
  homography, clipped to the template, and the IoU of the two regions.
* :func:`iou_whole` - the "IoU whole" (Jiang et al. 2020; Sha et al. 2020; Nie et al. 2021): the
  whole template sent into the image by the prediction and back onto the pitch by the ground truth,
  compared with the template.
* :func:`projection_error_m` / :func:`reprojection_error_px` - per-keypoint errors in metres on
  the pitch and in pixels in the image.
* :func:`score_frame` / :func:`summarise` - all of them for a frame, and the summary of a run.

Every region the IoUs compare is the template cut by a few half-planes (the part of the pitch
in front of a camera, the back-projection of the image rectangle), i.e. a convex polygon, so the
areas are computed exactly by polygon clipping - a frame costs well under a millisecond. With a
``resolution`` (metres) they are instead counted on the cell centres of a regular grid over the
template (vectorised numpy, a few milliseconds at 0.25 m), which mimics the rasterising reference
implementations and serves as an independent check.

Points on the far side of a camera: a homography cannot tell a ground point in front of the camera
from its mirror image behind it, so both IoUs fix the orientation of each homography from one image
point known to show the ground - the bottom centre of the image ``(w / 2, h)`` when ``image_size``
is given, else the pitch centre is taken to be in front of the camera - and treat every pitch point
behind the camera, and every image point above the horizon, as outside its region.

>>> import numpy as np
>>> H = np.diag([0.1, 0.1, 1.0])  # a 1050 x 680 image that shows exactly the pitch, 10 px / m
>>> shifted = np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]]) @ H  # one metre off in x
>>> round(iou_part(shifted, H, (1050, 680)), 4), round(104 / 105, 4)
(0.9905, 0.9905)
>>> round(iou_whole(shifted, H), 4), round(104 / 106, 4)
(0.9811, 0.9811)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.geometry.homography import apply_homography

__all__ = [
    "FrameScore",
    "iou_part",
    "iou_whole",
    "projection_error_m",
    "reprojection_error_px",
    "score_frame",
    "summarise",
]

F64 = NDArray[np.float64]

PITCH_SIZE: tuple[float, float] = (105.0, 68.0)
"""Template size in metres (length, width)."""

SUMMARY_KEYS: tuple[str, ...] = (
    "iou_whole_mean",
    "iou_whole_median",
    "iou_part_mean",
    "iou_part_median",
    "proj_error_m_median",
    "reproj_error_px_median",
    "completeness",
    "frames",
    "fps",
)
"""The keys every :func:`summarise` result has (it adds a few more, see there)."""


# --------------------------------------------------------------------------------------------
# helpers: regions of the pitch plane as intersections of half-planes
# --------------------------------------------------------------------------------------------
# A half-plane is a row (a, b, c) meaning a * x + b * y + c > 0 on pitch points (x, y). Every
# region the IoUs need is the template cut by a few of them (the back-projection of the image
# rectangle is convex, and so is the part of the pitch in front of a camera), so areas can be
# computed exactly by polygon clipping, or approximately by counting grid cells.


def _matrix(H: ArrayLike) -> F64 | None:
    """``H`` as a float (3, 3) matrix scaled to max-abs 1, or ``None`` if not finite/invertible."""
    M = np.asarray(H, dtype=np.float64)
    if M.shape != (3, 3) or not np.all(np.isfinite(M)):
        return None
    scale = np.abs(M).max()
    if scale == 0 or abs(np.linalg.det(M / scale)) < 1e-15:
        return None
    return M / scale


def _matrices(H_pred: ArrayLike, H_gt: ArrayLike) -> tuple[F64 | None, F64]:
    """Both homographies through :func:`_matrix`; ``ValueError`` when ``H_gt`` is not one."""
    G = _matrix(H_gt)
    if G is None:
        raise ValueError("H_gt is not a finite invertible 3x3 matrix")
    return _matrix(H_pred), G


def _key(pitch_size: ArrayLike) -> tuple[float, float]:
    a, b = np.asarray(pitch_size, dtype=np.float64).reshape(2)
    if not (a > 0 and b > 0):
        raise ValueError(f"bad pitch_size {pitch_size!r}")
    return float(a), float(b)


def _ground_sign(
    H: F64, image_size: tuple[int, int] | None, pitch_size: tuple[float, float]
) -> float:
    """+1 or -1: the sign of the third homogeneous coordinate of ``H @ [u, v, 1]`` on the ground.

    For an image->pitch ``H`` of a real camera, ``(H @ [u, v, 1])[2]`` has one sign for pixels whose
    ray meets the ground in front of the camera and the other above the horizon; equivalently a
    pitch point ``p`` is in front of the camera iff ``(inv(H) @ [p, 1])[2]`` has that sign. The
    reference is the bottom centre of the image (``image_size`` given), else the pitch centre.
    """
    if image_size is not None:
        w, h = image_size
        s = H[2, 0] * (w / 2) + H[2, 1] * h + H[2, 2]
    else:
        Hi = np.linalg.inv(H)
        s = Hi[2, 0] * pitch_size[0] / 2 + Hi[2, 1] * pitch_size[1] / 2 + Hi[2, 2]
    return -1.0 if s < 0 else 1.0


def _rect(length: float, width: float) -> F64:
    return np.array([[0.0, 0.0], [length, 0.0], [length, width], [0.0, width]])


def _rect_rows(length: float, width: float) -> F64:
    """Half-planes of the template ``[0, length] x [0, width]``."""
    return np.array([[1.0, 0, 0], [-1.0, 0, length], [0, 1.0, 0], [0, -1.0, width]])


def _view_rows(H: F64, image_size: tuple[int, int], pitch_size: tuple[float, float]) -> F64:
    """Half-planes of the pitch points seen by the camera of image->pitch ``H``.

    With ``(u, v, t) = s * inv(H) @ [p, 1]`` (``s`` the ground sign), ``p`` is in front of the
    camera iff ``t > 0`` and then inside the image iff ``0 < u < w t`` and ``0 < v < h t`` (the
    last four imply ``t > 0``; the row is kept for clarity).
    """
    w, h = image_size
    R = np.linalg.inv(H) * _ground_sign(H, image_size, pitch_size)
    return np.stack([R[2], R[0], w * R[2] - R[0], R[1], h * R[2] - R[1]])


def _clip(poly: F64, row: F64) -> F64:
    """Sutherland-Hodgman: the part of convex polygon ``poly`` (n, 2) where ``row`` is >= 0."""
    if len(poly) == 0:
        return poly
    d = poly @ row[:2] + row[2]
    keep = d >= 0
    if keep.all():
        return poly
    if not keep.any():
        return poly[:0]
    out: list[F64] = []
    n = len(poly)
    for i in range(n):
        j = (i + 1) % n
        if keep[i]:
            out.append(poly[i])
        if keep[i] != keep[j]:
            t = d[i] / (d[i] - d[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _clip_all(poly: F64, rows: F64) -> F64:
    for row in rows:
        poly = _clip(poly, row)
    return poly


def _area(poly: F64) -> float:
    """Shoelace area (unsigned) of a simple polygon."""
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


@functools.lru_cache(maxsize=8)
def _grid(pitch_size: tuple[float, float], resolution: float) -> tuple[F64, F64, float]:
    """Cell-centre coordinates ``x`` (nx,) and ``y`` (ny,) of a grid over the template, and the
    cell area; the cell size is adjusted so that whole cells span each side exactly."""
    if not resolution > 0:
        raise ValueError(f"resolution must be positive, got {resolution}")
    length, width = pitch_size
    nx = max(1, round(length / resolution))
    ny = max(1, round(width / resolution))
    dx, dy = length / nx, width / ny
    x = (np.arange(nx, dtype=np.float64) + 0.5) * dx
    y = (np.arange(ny, dtype=np.float64) + 0.5) * dy
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y, dx * dy


def _linear(row: F64, x: F64, y: F64) -> F64:
    """``row . [x, y, 1]`` on the (ny, nx) grid, by broadcasting (one full-size addition)."""
    return (row[0] * x + row[2])[None, :] + (row[1] * y)[:, None]


def _grid_mask(rows: F64, x: F64, y: F64) -> NDArray[np.bool_]:
    mask = _linear(rows[0], x, y) > 0
    for row in rows[1:]:
        mask &= _linear(row, x, y) > 0
    return mask


def _iou(intersection: float, union: float) -> float:
    if not union > 0:
        return math.nan
    return float(min(max(intersection / union, 0.0), 1.0))


# --------------------------------------------------------------------------------------------
# IoU
# --------------------------------------------------------------------------------------------
def iou_part(
    H_pred: ArrayLike,
    H_gt: ArrayLike,
    image_size: tuple[int, int],
    pitch_size: tuple[float, float] = PITCH_SIZE,
    resolution: float | None = None,
) -> float:
    """The "IoU part": IoU on the template of the image regions seen by the two homographies.

    Definition (World Cup 2014 protocol of Homayounfar et al. 2017, as implemented by Chen & Little
    2019, ``lood339/SCCvSD`` ``IouUtil.iou_on_template_uot``, which warps an all-white image onto
    a one-cell-per-yard template with each homography and counts the non-zero template pixels):
    with ``I = [0, w] x [0, h]`` the full image rectangle and ``T`` the template,
    ``R_pred = H_pred(I) ∩ T``, ``R_gt = H_gt(I) ∩ T`` and the result is
    ``|R_pred ∩ R_gt| / |R_pred ∪ R_gt|``.

    Choices: the image region is the whole image rectangle (no grass or occlusion mask); template
    points behind a camera (its image above the horizon) are not seen - the warp-based references
    have no such test, which only matters when the pitch reaches behind the camera. Areas are exact
    (convex polygon clipping) unless ``resolution`` (metres) is given, when they are counted on
    the centres of a grid of that spacing, as a rasterising reference would. Returns ``nan`` when
    neither homography sees any of the template (undefined) and ``0.0`` when ``H_pred`` is not a
    finite invertible matrix; raises ``ValueError`` when ``H_gt`` is not.

    >>> H = np.diag([0.1, 0.1, 1.0])  # 1050 x 680 image <-> the whole pitch
    >>> iou_part(H, H, (1050, 680))
    1.0
    >>> half = np.diag([0.1, 0.1, 1.0])  # a 525 x 680 image: the left half
    >>> shifted = np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]]) @ half
    >>> round(iou_part(shifted, half, (525, 680)), 6) == round(51.5 / 53.5, 6)
    True
    >>> round(iou_part(shifted, half, (525, 680), resolution=0.25), 6) == round(51.5 / 53.5, 6)
    True
    """
    P, G = _matrices(H_pred, H_gt)
    if P is None:
        return 0.0
    size = (int(image_size[0]), int(image_size[1]))
    length, width = key = _key(pitch_size)
    rows_p, rows_g = _view_rows(P, size, key), _view_rows(G, size, key)
    if resolution is None:
        T = _rect(length, width)
        a = _area(_clip_all(T, rows_p))
        b = _area(_clip_all(T, rows_g))
        both = _area(_clip_all(T, np.concatenate([rows_p, rows_g])))
        return _iou(both, a + b - both)
    x, y, _ = _grid(key, float(resolution))
    mp, mg = _grid_mask(rows_p, x, y), _grid_mask(rows_g, x, y)
    return _iou(float(np.count_nonzero(mp & mg)), float(np.count_nonzero(mp | mg)))


def iou_whole(
    H_pred: ArrayLike,
    H_gt: ArrayLike,
    pitch_size: tuple[float, float] = PITCH_SIZE,
    resolution: float | None = None,
    image_size: tuple[int, int] | None = None,
) -> float:
    """The "IoU whole": the template against its round trip through the two homographies.

    Definition: ``M = H_gt @ inv(H_pred)`` sends the template ``T`` into the image with the
    predicted camera and back onto the pitch with the ground-truth one; the result is
    ``|T ∩ M(T)| / |T ∪ M(T)|`` on the pitch plane, with ``M(T)`` *not* clipped to the template
    (a prediction that spreads the pitch too wide is penalised through the union). A point belongs
    to ``M(T)`` only if it comes from a template point in front of the predicted camera whose image
    lies below the ground-truth horizon (points behind a camera or beyond its horizon count as
    outside). When ``M(T)`` reaches the ground-truth horizon its area is unbounded and the IoU
    is 0.

    Computation: the template points that survive both conditions form a convex polygon ``C``
    (the template cut by two half-planes); ``M(C)`` is the convex polygon of its mapped vertices,
    and both areas are exact. With ``resolution`` (metres) they are instead counted on a grid of
    cell centres: ``|T ∩ M(T)|`` by testing ``inv(M)`` of every cell of ``T``, and ``|M(T)|`` as
    the sum over the cells of ``C`` of ``|det J_M| = |det M| / |w|^3`` (``w`` the third homogeneous
    coordinate of ``M @ [p, 1]``), so no canvas around the template is needed. ``image_size``
    (optional) only fixes which side of each horizon is the ground (see the module docstring);
    without it the pitch centre is assumed to be in front of both cameras.

    Sources: Jiang et al. 2020 (``vcg-uvic/sportsfield_release``, ``utils/metrics.py``
    ``get_model_whole_iou_rasterization``) rasterise the round trip ``inv(gt) @ pred`` on a canvas
    four times the size of their normalised template/frame (so anything beyond it is clipped, and,
    with their frame->template homographies, the composite is applied to normalised *frame*
    coordinates); Chu et al. 2022 (KpSFR, ``calc_iou_whole_with_poly``) intersect the image
    rectangle with its corners sent through the ground truth and back through the prediction, in
    the image. This function follows the definition the papers state (IoU over the whole
    template, on the pitch plane), so its numbers can differ from those codes for strongly
    perspective views; all agree on a shift of the pitch frame.

    Returns ``0.0`` when ``H_pred`` is not a finite invertible matrix; raises ``ValueError`` when
    ``H_gt`` is not.

    >>> H = np.eye(3)
    >>> iou_whole(H, H)
    1.0
    >>> shifted = np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]])
    >>> round(iou_whole(shifted, H), 6) == round(104 * 68 / (106 * 68), 6)
    True
    >>> round(iou_whole(np.diag([2.0, 2.0, 1.0]), H), 6)  # pitch predicted at half its size
    0.25
    >>> round(iou_whole(np.diag([2.0, 2.0, 1.0]), H, resolution=0.25), 6)
    0.25
    """
    P, G = _matrices(H_pred, H_gt)
    if P is None:
        return 0.0
    length, width = key = _key(pitch_size)
    size = None if image_size is None else (int(image_size[0]), int(image_size[1]))
    s_gt = _ground_sign(G, size, key)
    s_pred = _ground_sign(P, size, key)
    Gi, Pi = np.linalg.inv(G), np.linalg.inv(P)
    M = G @ Pi  # pitch -> (predicted) image -> pitch
    N = P @ Gi  # its inverse
    sigma = s_gt * s_pred
    # C: template points in front of the predicted camera (third coordinate of Pi p has the
    # predicted ground sign) whose image is below the GT horizon (then the third coordinate of
    # M p has sign s_gt * s_pred).
    rows_c = np.stack([s_pred * Pi[2], sigma * M[2]])
    area_t = length * width
    if resolution is None:
        C = _clip_all(_rect(length, width), rows_c)
        if len(C) < 3:
            return 0.0
        w = (C @ M[2, :2] + M[2, 2]) * sigma
        scale = abs(M[2, 0]) * length + abs(M[2, 1]) * width + abs(M[2, 2])
        if w.min() <= 1e-12 * scale:  # C touches the GT horizon: M(C) is unbounded
            return 0.0
        MC = (C @ M[:2, :2].T + M[:2, 2]) / (C @ M[2, :2] + M[2, 2])[:, None]
        area_m = _area(MC)
        both = _area(_clip_all(MC, _rect_rows(length, width)))
        return _iou(both, area_t + area_m - both)

    x, y, cell = _grid(key, float(resolution))
    # T ∩ M(T): q in T whose preimage N q is in C and in T. With b = N [q, 1]: q in front of the
    # GT camera (Gi q has sign s_gt), b_3 has sign sigma, and 0 < b_1 / b_3 < length, etc.
    rows_q = np.stack(
        [
            s_gt * Gi[2],
            sigma * N[2],
            sigma * N[0],
            sigma * (length * N[2] - N[0]),
            sigma * N[1],
            sigma * (width * N[2] - N[1]),
        ]
    )
    both = np.count_nonzero(_grid_mask(rows_q, x, y)) * cell
    valid = _grid_mask(rows_c, x, y)
    with np.errstate(divide="ignore", over="ignore"):
        w3 = np.abs(_linear(M[2], x, y)[valid])
        area_m = float(np.sum(abs(np.linalg.det(M)) / w3**3)) * cell
    if not math.isfinite(area_m):
        return 0.0
    return _iou(both, area_t + area_m - both)


# --------------------------------------------------------------------------------------------
# keypoint errors
# --------------------------------------------------------------------------------------------
def _points(image_points: ArrayLike, pitch_points: ArrayLike) -> tuple[F64, F64]:
    ip = np.asarray(image_points, dtype=np.float64).reshape(-1, 2)
    pp = np.asarray(pitch_points, dtype=np.float64).reshape(-1, 2)
    if len(ip) != len(pp):
        raise ValueError(f"{len(ip)} image points but {len(pp)} pitch points")
    return ip, pp


def _distances(pred: F64, true: F64, labelled: NDArray[np.bool_]) -> F64:
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.hypot(pred[:, 0] - true[:, 0], pred[:, 1] - true[:, 1])
    d[labelled & ~np.isfinite(d)] = np.inf
    d[~labelled] = np.nan
    return d


def projection_error_m(H_pred: ArrayLike, image_points: ArrayLike, pitch_points: ArrayLike) -> F64:
    """Per keypoint: metres between ``apply_homography(H_pred, image_points)`` and the truth.

    ``nan`` where a label (image or pitch point) is missing (non-finite); ``inf`` where the
    prediction sends a labelled point to infinity or ``H_pred`` is not finite, so medians stay
    meaningful (an infinite error is a very bad one, not a missing one).

    >>> H = np.diag([0.1, 0.1, 1.0])
    >>> projection_error_m(H, [[100.0, 100.0], [np.nan, 0.0]], [[10.0, 11.0], [0.0, 0.0]])
    array([ 1., nan])
    """
    ip, pp = _points(image_points, pitch_points)
    labelled = np.all(np.isfinite(ip), axis=1) & np.all(np.isfinite(pp), axis=1)
    H = np.asarray(H_pred, dtype=np.float64)
    if H.shape != (3, 3) or not np.all(np.isfinite(H)):
        return _distances(np.full_like(ip, np.nan), pp, labelled)
    with np.errstate(over="ignore", invalid="ignore"):
        pred = apply_homography(H, ip)
    return _distances(pred, pp, labelled)


def reprojection_error_px(
    H_pred: ArrayLike,
    image_points: ArrayLike,
    pitch_points: ArrayLike,
    image_size: tuple[int, int] | None = None,
) -> F64:
    """Per keypoint: pixels between the true pitch points projected by ``inv(H_pred)`` and labels.

    ``nan`` where a label is missing; ``inf`` where the projection is not finite or ``H_pred`` is
    not invertible, and - when ``image_size`` is given - where the true pitch point lies behind
    the predicted camera (its projection would be a mirror image).

    >>> H = np.diag([0.1, 0.1, 1.0])  # 10 px per metre
    >>> reprojection_error_px(H, [[100.0, 100.0]], [[10.0, 10.5]])
    array([5.])
    """
    ip, pp = _points(image_points, pitch_points)
    labelled = np.all(np.isfinite(ip), axis=1) & np.all(np.isfinite(pp), axis=1)
    H = _matrix(H_pred)
    if H is None:
        return _distances(np.full_like(ip, np.nan), pp, labelled)
    Hi = np.linalg.inv(H)
    with np.errstate(over="ignore", invalid="ignore"):
        pred = apply_homography(Hi, pp)
    if image_size is not None:
        size = (int(image_size[0]), int(image_size[1]))
        t = pp @ Hi[2, :2] + Hi[2, 2]
        pred[~(t * _ground_sign(H, size, PITCH_SIZE) > 0)] = np.nan
    return _distances(pred, ip, labelled)


# --------------------------------------------------------------------------------------------
# frames and runs
# --------------------------------------------------------------------------------------------
def _empty() -> F64:
    return np.zeros(0, dtype=np.float64)


def _median(values: F64) -> float:
    v = values[~np.isnan(values)]
    return float(np.median(v)) if len(v) else math.nan


@dataclass(frozen=True, eq=False)
class FrameScore:
    """The metrics of one frame (see :func:`score_frame`).

    Args:
        iou_whole, iou_part: the IoUs; ``nan`` when the frame has no ground-truth homography,
            ``0.0`` when it has one but no prediction.
        proj_error_m, reproj_error_px: medians over the frame's labelled keypoints of
            :func:`projection_error_m` / :func:`reprojection_error_px` (``nan`` when there is
            no prediction or no label).
        calibrated: a homography was predicted.
        scored: a ground-truth homography exists (the IoUs are defined).
        proj_errors_m, reproj_errors_px: the per-keypoint errors behind the medians (labelled
            keypoints only, so no ``nan``; empty when not calibrated).
    """

    iou_whole: float
    iou_part: float
    proj_error_m: float
    reproj_error_px: float
    calibrated: bool
    scored: bool
    proj_errors_m: F64 = field(default_factory=_empty, repr=False)
    reproj_errors_px: F64 = field(default_factory=_empty, repr=False)


def score_frame(
    H_pred: ArrayLike | None,
    H_gt: ArrayLike | None,
    image_points: ArrayLike,
    pitch_points: ArrayLike,
    image_size: tuple[int, int],
    pitch_size: tuple[float, float] = PITCH_SIZE,
    resolution: float | None = None,
) -> FrameScore:
    """Score one frame: both IoUs against ``H_gt`` and the keypoint errors against the labels.

    ``H_gt`` is ``None`` (or not a finite invertible matrix) when the frame's labels do not
    define a ground-truth homography (fewer than 4 points, or not 4 in general position): the
    IoUs are then ``nan`` and the frame is not *scored*.
    ``H_pred`` is ``None`` when the system gave up on the frame (not *calibrated*): with a
    ground truth its IoUs are ``0.0``, so a method cannot raise its mean IoU by abstaining, and
    it counts against completeness in :func:`summarise`. Keypoint errors are computed whenever
    there is a prediction and at least one labelled keypoint (also on frames without ``H_gt``).
    ``image_size`` also fixes the ground side of each horizon (see the module docstring);
    ``resolution`` is passed to the IoUs (``None``: exact areas). A prediction that is not a
    finite invertible matrix counts as calibrated but scores IoU 0 and infinite keypoint errors.

    >>> H = np.diag([0.1, 0.1, 1.0])
    >>> img = [[100.0, 100.0], [900.0, 600.0]]
    >>> s = score_frame(H, H, img, [[10.0, 10.0], [90.0, 60.0]], (1050, 680))
    >>> s.iou_whole, s.iou_part, s.proj_error_m, s.calibrated
    (1.0, 1.0, 0.0, True)
    >>> score_frame(None, H, img, [[10.0, 10.0], [90.0, 60.0]], (1050, 680)).iou_part
    0.0
    """
    size = (int(image_size[0]), int(image_size[1]))
    ip, pp = _points(image_points, pitch_points)
    if H_gt is not None and _matrix(H_gt) is None:
        H_gt = None  # labels that do not define an invertible homography cannot score a frame
    iw = ipart = math.nan  # no ground truth: the IoUs are undefined
    if H_gt is not None and H_pred is None:
        iw = ipart = 0.0
    elif H_gt is not None and H_pred is not None:
        iw = iou_whole(H_pred, H_gt, pitch_size, resolution, image_size=size)
        ipart = iou_part(H_pred, H_gt, size, pitch_size, resolution)
    proj, reproj = _empty(), _empty()
    if H_pred is not None:
        labelled = np.all(np.isfinite(ip), axis=1) & np.all(np.isfinite(pp), axis=1)
        proj = projection_error_m(H_pred, ip[labelled], pp[labelled])
        reproj = reprojection_error_px(H_pred, ip[labelled], pp[labelled], image_size=size)
    return FrameScore(
        iou_whole=float(iw),
        iou_part=float(ipart),
        proj_error_m=_median(proj),
        reproj_error_px=_median(reproj),
        calibrated=H_pred is not None,
        scored=H_gt is not None,
        proj_errors_m=proj,
        reproj_errors_px=reproj,
    )


def _stat(values: ArrayLike, fn: str, q: float = 50.0) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if not len(v):
        return math.nan
    if fn == "mean":
        return float(np.mean(v))
    # Linear-interpolated percentile (numpy's default) that keeps inf errors as inf: numpy's
    # own interpolation turns ``inf - inf`` into nan.
    v = np.sort(v)
    pos = q / 100.0 * (len(v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    t = pos - lo
    if t == 0 or v[lo] == v[hi]:
        return float(v[lo])
    if math.isinf(v[hi]):
        return math.inf
    return float(v[lo] + (v[hi] - v[lo]) * t)


def summarise(scores: Sequence[FrameScore], seconds: float) -> dict[str, float | int]:
    """Summary of a run over ``scores`` (one per frame) that took ``seconds`` of wall time.

    Keys (always present, see :data:`SUMMARY_KEYS`):

    * ``iou_whole_mean``, ``iou_whole_median``, ``iou_part_mean``, ``iou_part_median`` - over the
      *scored* frames (those with a ground-truth homography), uncalibrated ones counting 0;
      undefined (``nan``) IoUs are left out.
    * ``proj_error_m_median``, ``reproj_error_px_median`` - median of all labelled keypoints of
      all calibrated frames *pooled* (not a median of per-frame medians); ``inf`` errors count.
    * ``completeness`` - calibrated frames / all frames.
    * ``frames`` - number of frames; ``fps`` - ``frames / seconds`` (``nan`` if ``seconds <= 0``).

    Extra keys: ``scored_frames``, ``calibrated_frames``, ``keypoints`` (pooled count),
    ``iou_whole_p10``, ``iou_part_p10`` (10th percentiles: the bad tail), ``proj_error_m_p90``
    and ``reproj_error_px_p90``. Statistics of nothing are ``nan``.

    >>> H = np.diag([0.1, 0.1, 1.0])
    >>> img, pitch = [[100.0, 100.0]], [[10.0, 10.0]]
    >>> scores = [score_frame(H, H, img, pitch, (1050, 680)), score_frame(None, H, img, pitch,
    ...           (1050, 680)), score_frame(None, None, img, pitch, (1050, 680))]
    >>> out = summarise(scores, seconds=1.5)
    >>> out["iou_whole_mean"], out["completeness"], out["frames"], out["fps"]
    (0.5, 0.3333333333333333, 3, 2.0)
    """
    frames = len(scores)
    scored = [s for s in scores if s.scored]
    calibrated = [s for s in scores if s.calibrated]
    iw = np.array([s.iou_whole for s in scored], dtype=np.float64)
    ipart = np.array([s.iou_part for s in scored], dtype=np.float64)
    proj = np.concatenate([_empty()] + [s.proj_errors_m for s in calibrated])
    reproj = np.concatenate([_empty()] + [s.reproj_errors_px for s in calibrated])
    return {
        "iou_whole_mean": _stat(iw, "mean"),
        "iou_whole_median": _stat(iw, "pct"),
        "iou_part_mean": _stat(ipart, "mean"),
        "iou_part_median": _stat(ipart, "pct"),
        "proj_error_m_median": _stat(proj, "pct"),
        "reproj_error_px_median": _stat(reproj, "pct"),
        "completeness": len(calibrated) / frames if frames else math.nan,
        "frames": frames,
        "fps": frames / seconds if seconds > 0 else math.nan,
        "scored_frames": len(scored),
        "calibrated_frames": len(calibrated),
        "keypoints": int(np.count_nonzero(~np.isnan(proj))),
        "iou_whole_p10": _stat(iw, "pct", 10.0),
        "iou_part_p10": _stat(ipart, "pct", 10.0),
        "proj_error_m_p90": _stat(proj, "pct", 90.0),
        "reproj_error_px_p90": _stat(reproj, "pct", 90.0),
    }
