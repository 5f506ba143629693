"""Voronoi cells on the pitch: exact tiling, ownership, clipping, degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import Voronoi

from touchline.analytics.voronoi import (
    polygon_area,
    voronoi_areas,
    voronoi_cells,
    voronoi_team_control,
)
from touchline.errors import DataError
from touchline.pitch import Pitch

L, W = 105.0, 68.0


def contains(poly: np.ndarray, p: np.ndarray, eps: float = 1e-9) -> bool:
    """Point in a convex counter-clockwise polygon (boundary included)."""
    a, b = poly, np.roll(poly, -1, axis=0)
    cross = (b[:, 0] - a[:, 0]) * (p[1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (p[0] - a[:, 0])
    return bool((cross >= -eps).all())


def players(seed: int, n: int = 22) -> np.ndarray:
    return np.random.default_rng(seed).uniform([0, 0], [L, W], (n, 2))


@pytest.mark.parametrize("seed", range(5))
def test_cells_tile_the_pitch(seed: int) -> None:
    pts = players(seed)
    cells = voronoi_cells(pts)
    areas = voronoi_areas(pts)
    assert len(cells) == len(pts)
    assert areas.sum() == pytest.approx(L * W, abs=1e-6)
    for c, p, a in zip(cells, pts, areas, strict=True):
        assert contains(c, p)
        assert a > 0
        assert (c >= -1e-9).all() and (c <= [L + 1e-9, W + 1e-9]).all()
        # counter-clockwise (positive signed area) and convex
        x, y = c[:, 0], c[:, 1]
        assert np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0


def test_every_vertex_is_equidistant_from_its_nearest_points() -> None:
    pts = players(11)
    for i, c in enumerate(voronoi_cells(pts)):
        d = np.linalg.norm(c[:, None, :] - pts[None, :, :], axis=2)
        # the owner is (one of) the nearest points of every vertex of its cell
        assert np.all(d[:, i] <= d.min(axis=1) + 1e-9)


def test_matches_scipy_with_mirrored_points() -> None:
    pts = players(3)
    mirrored = np.vstack(
        [pts, pts * [-1, 1], pts * [-1, 1] + [2 * L, 0], pts * [1, -1], pts * [1, -1] + [0, 2 * W]]
    )
    vor = Voronoi(mirrored)
    expected = [
        polygon_area(vor.vertices[vor.regions[vor.point_region[i]]]) for i in range(len(pts))
    ]
    np.testing.assert_allclose(voronoi_areas(pts), expected, atol=1e-6)


def test_clipping_outside_points_nan_and_duplicates() -> None:
    pts = players(1, 10)
    pts = np.vstack([pts, [[-3.0, 30.0], [L + 2, -1.0], [np.nan, 5.0], pts[2], [-50.0, -50.0]]])
    cells = voronoi_cells(pts)
    areas = voronoi_areas(pts)
    assert areas.sum() == pytest.approx(L * W, abs=1e-6)
    assert areas[12] == 0 and cells[12].shape == (0, 2)  # NaN
    assert areas[13] == 0 and cells[13].shape == (0, 2)  # duplicate of point 2
    assert areas[2] > 0
    assert areas[14] == 0  # far outside and dominated
    for c in cells:
        assert (c >= -1e-9).all() and (c <= [L + 1e-9, W + 1e-9]).all()
    assert areas[10] > 0  # just off the pitch still owns the nearby strip


def test_small_and_degenerate_sets() -> None:
    assert voronoi_cells(np.zeros((0, 2))) == []
    assert voronoi_areas([[10.0, 10.0]]).tolist() == [L * W]
    line = [[10.0, 34.0], [30.0, 34.0], [50.0, 34.0]]  # collinear
    assert voronoi_areas(line).tolist() == pytest.approx([20 * W, 20 * W, 65 * W])
    small = Pitch.of_size(100, 60)
    assert voronoi_areas([[20.0, 30.0], [80.0, 30.0]], small).sum() == pytest.approx(6000)
    with pytest.raises(DataError):
        voronoi_cells([1.0, 2.0, 3.0])


def test_team_control() -> None:
    pts = players(4)
    teams = np.repeat([0, 1], 11)
    vc = voronoi_team_control(pts, teams)
    assert vc.owner.shape == (32, 50)
    assert sum(vc.shares.values()) == pytest.approx(1.0)
    # a fine grid approaches the exact cell areas
    fine = voronoi_team_control(pts, teams, grid=(420, 272))
    areas = voronoi_areas(pts)
    assert fine.shares[0] == pytest.approx(areas[:11].sum() / (L * W), abs=5e-3)
    # NaN points are ignored; teams without valid points get 0
    pts2 = np.vstack([pts, [[np.nan, np.nan]]])
    vc2 = voronoi_team_control(pts2, [*teams, 2])
    assert vc2.shares[2] == 0.0
    np.testing.assert_array_equal(vc2.owner, vc.owner)
    empty = voronoi_team_control([[np.nan, 1.0]], [0], grid=(4, 3))
    assert (empty.owner == -1).all() and empty.shares == {0: 0.0}
    with pytest.raises(DataError, match="labels"):
        voronoi_team_control(pts, [0, 1])
