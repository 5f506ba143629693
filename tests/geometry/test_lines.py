"""Homogeneous lines: exact constructions, signed distances, TLS and RANSAC fits, mapping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchline.geometry.camera import PinholeCamera
from touchline.geometry.lines import (
    fit_line,
    intersect_lines,
    line_through,
    map_line,
    normalise_line,
    point_line_distance,
    ransac_line,
)


def same_line(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    """Equal as homogeneous lines (up to scale and sign)."""
    a, b = normalise_line(a), normalise_line(b)
    return bool(np.allclose(a, b, atol=atol) or np.allclose(a, -b, atol=atol))


@pytest.mark.parametrize(
    ("p1", "q1", "p2", "q2", "expected"),
    [
        ((0, 0), (2, 2), (0, 2), (2, 0), (1.0, 1.0)),
        ((0, 0), (1, 0), (5, -3), (5, 7), (5.0, 0.0)),  # horizontal x vertical
        ((-3, 1), (3, 4), (10, 0), (10, 1), (10.0, 7.5)),
        ((0, 0), (1e3, 1), (0, 1), (1e3, 0), (500.0, 0.5)),  # shallow angle
        ((0, 0), (1, 1), (0, 1), (1, 2), None),  # parallel
        ((0, 0), (1, 1), (2, 2), (3, 3), None),  # the same line
    ],
)
def test_intersections(p1, q1, p2, q2, expected) -> None:
    x = intersect_lines(line_through(p1, q1), line_through(p2, q2))
    if expected is None:
        assert x is None
    else:
        assert x is not None
        np.testing.assert_allclose(x, expected, atol=1e-9)


def test_nearly_parallel_lines_have_no_intersection_below_the_tolerance() -> None:
    a = line_through((0, 0), (1, 0))
    b = line_through((0, 1), (1, 1 + 1e-12))
    assert intersect_lines(a, b) is None
    c = line_through((0, 1), (1, 1.001))
    x = intersect_lines(a, c)
    assert x is not None
    np.testing.assert_allclose(x, [-1000.0, 0.0], atol=1e-6)


@pytest.mark.parametrize(
    ("line", "points", "expected"),
    [
        ((0.0, 1.0, -2.0), [(5, 3), (0, 0), (-7, 2)], [1.0, -2.0, 0.0]),  # y = 2
        ((3.0, 4.0, 0.0), [(3, 4), (-3, -4), (4, -3)], [5.0, -5.0, 0.0]),  # unnormalised
        ((-6.0, -8.0, 0.0), [(3, 4)], [-5.0]),  # the sign follows the normal
        ((1.0, 1.0, -2.0), [(0, 0), (2, 2)], [-math.sqrt(2), math.sqrt(2)]),
    ],
)
def test_signed_distances(line, points, expected) -> None:
    np.testing.assert_allclose(point_line_distance(line, points), expected, atol=1e-12)


def test_line_through_passes_through_both_points_and_is_normalised() -> None:
    rng = np.random.default_rng(3)
    for p, q in rng.uniform(-500, 500, (50, 2, 2)):
        line = line_through(p, q)
        assert math.hypot(line[0], line[1]) == pytest.approx(1.0)
        np.testing.assert_allclose(point_line_distance(line, [p, q]), 0.0, atol=1e-9)


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 89.9, 90.0, 135.0])
@pytest.mark.parametrize("offset", [0.0, 250.0])
def test_fit_line_recovers_exact_lines_at_any_angle(angle_deg: float, offset: float) -> None:
    a = math.radians(angle_deg)
    n = np.array([-math.sin(a), math.cos(a)])
    true = np.array([n[0], n[1], -offset])
    t = np.linspace(-50, 80, 12)
    pts = offset * n + t[:, None] * np.array([math.cos(a), math.sin(a)])
    assert same_line(fit_line(pts), true)


def test_fit_line_is_total_least_squares_and_weighted() -> None:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 100, 200)
    pts = np.c_[t, 0.5 * t + 3.0]
    pts += rng.normal(0, 0.5, pts.shape)
    line = fit_line(pts)
    # TLS minimises perpendicular distances: no other line does better on them.
    best = float((point_line_distance(line, pts) ** 2).sum())
    for dl in rng.normal(0, 1e-3, (20, 3)):
        assert (point_line_distance(line + dl, pts) ** 2).sum() >= best - 1e-9
    ends = np.array([[0.0, 3.0], [100.0, 53.0]])  # on the true line
    assert np.abs(point_line_distance(line, ends)).max() < 0.3
    # Zero weights remove a gross outlier exactly.
    clean = np.c_[t[:10], 0.5 * t[:10] + 3.0]
    bad = np.vstack([clean, [[50.0, 400.0]]])
    assert same_line(fit_line(bad, np.r_[np.ones(10), 0.0]), [0.5, -1.0, 3.0])
    assert not same_line(fit_line(bad), [0.5, -1.0, 3.0], atol=1e-3)


def test_fit_line_needs_two_points() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        fit_line([[1.0, 2.0]])
    with pytest.raises(ValueError, match="at least 2"):
        fit_line([[1.0, 2.0], [3.0, 4.0]], weights=[1.0, 0.0])


@pytest.mark.parametrize(
    ("angle_deg", "outlier_share", "noise"),
    [(10.0, 0.3, 0.0), (75.0, 0.4, 0.5), (90.0, 0.5, 0.3), (160.0, 0.2, 1.0)],
)
def test_ransac_line_recovers_a_known_line_among_outliers(
    angle_deg: float, outlier_share: float, noise: float
) -> None:
    rng = np.random.default_rng(int(angle_deg))
    a = math.radians(angle_deg)
    d = np.array([math.cos(a), math.sin(a)])
    origin = np.array([640.0, 360.0])
    n = 100
    pts = origin + rng.uniform(-300, 300, n)[:, None] * d + rng.normal(0, noise, (n, 2))
    bad = rng.random(n) < outlier_share
    pts[bad] = rng.uniform([0, 0], [1280, 720], (int(bad.sum()), 2))
    line, inliers = ransac_line(pts, threshold=3.0 * max(noise, 0.3))
    assert line is not None
    true = np.array([-d[1], d[0], d[1] * origin[0] - d[0] * origin[1]])
    # The refit line is within noise of the truth along the whole 600 px segment.
    ends = origin + np.array([-300.0, 300.0])[:, None] * d
    assert np.abs(point_line_distance(line, ends)).max() < 0.5 + noise
    # Every true inlier is kept; the outliers kept lie on the line by chance.
    assert inliers[~bad].mean() > 0.97
    assert np.all(np.abs(point_line_distance(true, pts[inliers])) < 3.0 * max(noise, 0.3) + 1)


def test_ransac_line_degenerate_inputs() -> None:
    line, inl = ransac_line([[1.0, 1.0]], threshold=1.0)
    assert line is None and inl.tolist() == [False]
    line, inl = ransac_line([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], threshold=1.0)
    assert line is None and not inl.any()
    line, inl = ransac_line([[0.0, 0.0], [2.0, 1.0]], threshold=0.1)
    assert line is not None and inl.all()
    assert same_line(line, line_through((0, 0), (2, 1)))


def test_map_line_is_the_image_of_the_line_under_a_camera_homography() -> None:
    cam = PinholeCamera.look_at(
        (52.5, 108.0, -25.0), (40.0, 30.0, 0.0), focal=1400.0, image_size=(1280, 720)
    )
    H = cam.pitch_to_image
    for p, q in [((0, 0), (105, 0)), ((52.5, 0), (52.5, 68)), ((16.5, 13.84), (16.5, 54.16))]:
        pitch_line = line_through(p, q)
        t = np.linspace(0, 1, 7)[:, None]
        pitch = np.asarray(p) + t * (np.asarray(q) - np.asarray(p))
        px = cam.project(np.c_[pitch, np.zeros(len(pitch))])
        image_line = map_line(pitch_line, H)
        assert math.hypot(image_line[0], image_line[1]) == pytest.approx(1.0)
        np.testing.assert_allclose(point_line_distance(image_line, px), 0.0, atol=1e-8)
    # Several lines at once, and the inverse mapping brings them back.
    lines = np.stack([line_through((0, 0), (105, 0)), line_through((52.5, 0), (52.5, 68))])
    back = map_line(map_line(lines, H), np.linalg.inv(H))
    for a, b in zip(back, lines, strict=True):
        assert same_line(a, b)
