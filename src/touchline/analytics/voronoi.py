"""Voronoi cells of players, bounded by the pitch, and a grid-based team dominance map.

Each player's cell is the part of the pitch rectangle nearer to them than to any other player.
It is computed by half-plane intersection: the pitch rectangle is clipped (Sutherland–Hodgman)
by the perpendicular bisector with every other player. Unlike ``scipy.spatial.Voronoi`` with
mirrored points, this is exact for every input, needs no unbounded-region handling, and copes
with players standing outside the pitch (their cell is what remains of their region inside it,
possibly empty), with collinear players and with fewer than four players.

Degenerate inputs: a point with a NaN coordinate gets an empty cell and is ignored by the
others; of exactly coincident points the first gets the cell and the later ones an empty cell,
so the cell areas always add up to the pitch area (when at least one point is valid).

>>> cells = voronoi_cells([[30.0, 34.0], [75.0, 34.0]])
>>> [c.round(1).tolist() for c in cells]
[[[0.0, 0.0], [52.5, 0.0], [52.5, 68.0], [0.0, 68.0]], [[52.5, 0.0], [105.0, 0.0], [105.0, 68.0], [52.5, 68.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch

__all__ = [
    "VoronoiControl",
    "polygon_area",
    "voronoi_areas",
    "voronoi_cells",
    "voronoi_team_control",
]

FloatArray = NDArray[np.float64]


def _points(points_xy: ArrayLike) -> FloatArray:
    pts = np.asarray(points_xy, dtype=np.float64)
    if pts.size == 0:
        return np.zeros((0, 2))
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise DataError(f"points must be an (n, 2) array of (x, y), got shape {pts.shape}")
    return pts


def _clip(poly: FloatArray, normal: FloatArray, offset: float) -> FloatArray:
    """The part of convex polygon ``poly`` where ``normal . x <= offset`` (Sutherland–Hodgman)."""
    if len(poly) == 0:
        return poly
    side = poly @ normal - offset
    inside = side <= 0
    if inside.all():
        return poly
    if not inside.any():
        return poly[:0]
    out: list[FloatArray] = []
    n = len(poly)
    for k in range(n):
        cur, nxt = poly[k], poly[(k + 1) % n]
        sc, sn = side[k], side[(k + 1) % n]
        if sc <= 0:
            out.append(cur)
        if (sc <= 0) != (sn <= 0):
            t = sc / (sc - sn)
            out.append(cur + t * (nxt - cur))
    res = np.array(out) if out else poly[:0]
    if len(res) > 1:  # drop consecutive duplicates created by vertices on the line
        keep = np.ones(len(res), dtype=bool)
        keep[1:] = np.any(np.abs(np.diff(res, axis=0)) > 1e-12, axis=1)
        if len(res) > 1 and np.all(np.abs(res[-1] - res[0]) <= 1e-12):
            keep[-1] = False
        res = res[keep]
    return res if len(res) >= 3 else poly[:0]


def polygon_area(poly: ArrayLike) -> float:
    """Area of a simple polygon given as ``(n, 2)`` vertices (shoelace formula).

    >>> polygon_area([[0, 0], [2, 0], [2, 1], [0, 1]])
    2.0
    """
    p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def voronoi_cells(points_xy: ArrayLike, pitch: Pitch | None = None) -> list[FloatArray]:
    """Each point's Voronoi cell clipped to the pitch rectangle, as ``(k, 2)`` polygons.

    Vertices are in pitch metres, in counter-clockwise order for a y-up view (positive shoelace
    area); a point with no area on the pitch (NaN, a later duplicate, or outside the pitch and
    dominated) gets a ``(0, 2)`` array.

    >>> cells = voronoi_cells([[10.0, 10.0], [10.0, 10.0], [np.nan, 0.0]])
    >>> [len(c) for c in cells]
    [4, 0, 0]
    """
    pts = _points(points_xy)
    pitch = pitch or Pitch()
    L, W = pitch.length, pitch.width
    rect = np.array([[0.0, 0.0], [L, 0.0], [L, W], [0.0, W]])
    valid: NDArray[np.bool_] = np.asarray(np.isfinite(pts).all(axis=1))
    idx = np.flatnonzero(valid)
    cells: list[FloatArray] = []
    for i in range(len(pts)):
        if not valid[i]:
            cells.append(np.zeros((0, 2)))
            continue
        pi = pts[i]
        poly = rect
        for j in idx:
            if j == i:
                continue
            pj = pts[j]
            if pj[0] == pi[0] and pj[1] == pi[1]:
                if j < i:  # an earlier duplicate owns the cell
                    poly = poly[:0]
                    break
                continue
            # |x - pi|^2 <= |x - pj|^2  <=>  2 (pj - pi) . x <= |pj|^2 - |pi|^2
            poly = _clip(poly, 2.0 * (pj - pi), float(pj @ pj - pi @ pi))
            if len(poly) == 0:
                break
        cells.append(np.array(poly, dtype=np.float64).reshape(-1, 2))
    return cells


def voronoi_areas(points_xy: ArrayLike, pitch: Pitch | None = None) -> FloatArray:
    """Area in m² of each point's Voronoi cell on the pitch (0 for NaN or duplicate points).

    >>> voronoi_areas([[30.0, 34.0], [75.0, 34.0]]).tolist()
    [3570.0, 3570.0]
    """
    return np.array([polygon_area(c) for c in voronoi_cells(points_xy, pitch)], dtype=np.float64)


@dataclass(frozen=True)
class VoronoiControl:
    """Nearest-team map over a grid.

    Attributes:
        owner: ``(ny, nx)`` team label of the nearest valid point to each cell centre (-1 if
            there is no valid point).
        shares: fraction of the grid cells owned by each team label present in ``teams``.
        xs: ``(nx,)`` cell-centre x coordinates, m.
        ys: ``(ny,)`` cell-centre y coordinates, m.
    """

    owner: NDArray[np.int64]
    shares: dict[int, float]
    xs: FloatArray
    ys: FloatArray


def voronoi_team_control(
    points_xy: ArrayLike,
    teams: ArrayLike | Sequence[int],
    grid: tuple[int, int] = (50, 32),
    pitch: Pitch | None = None,
) -> VoronoiControl:
    """Share of the ``(nx, ny)`` grid cells whose nearest player belongs to each team.

    NaN points are ignored; ties go to the first point.

    >>> vc = voronoi_team_control([[30.0, 34.0], [75.0, 34.0], [80.0, 10.0]], [0, 1, 1], grid=(10, 4))
    >>> vc.shares
    {0: 0.5, 1: 0.5}
    """
    from touchline.analytics.pitch_control import grid_centres

    pts = _points(points_xy)
    labels = np.asarray(teams, dtype=np.int64).reshape(-1)
    if labels.shape[0] != pts.shape[0]:
        raise DataError(f"teams: {labels.shape[0]} labels for {pts.shape[0]} points")
    xs, ys = grid_centres(grid, pitch)
    shape = (ys.size, xs.size)
    valid = np.isfinite(pts).all(axis=1)
    vp, vl = pts[valid], labels[valid]
    present = [int(t) for t in np.unique(labels)]
    if len(vp) == 0:
        owner = np.full(shape, -1, dtype=np.int64)
        return VoronoiControl(owner, dict.fromkeys(present, 0.0), xs, ys)
    dx = xs[None, :, None] - vp[None, None, :, 0]
    dy = ys[:, None, None] - vp[None, None, :, 1]
    nearest = np.argmin(dx * dx + dy * dy, axis=2)
    owner = vl[nearest]
    n = owner.size
    shares = {t: float(np.count_nonzero(owner == t)) / n for t in present}
    return VoronoiControl(owner, shares, xs, ys)
