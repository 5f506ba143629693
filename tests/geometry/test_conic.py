"""Conics: the centre circle through real-looking broadcast cameras, ellipse fits on arcs,
distances, intersections and tangents, all against exact projections."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchline.geometry.camera import PinholeCamera
from touchline.geometry.conic import (
    circle_conic,
    conic_center,
    conic_line_intersection,
    fit_conic,
    is_ellipse,
    map_conic,
    normalise_conic,
    sample_conic,
    sampson_distance,
    tangent_at,
)
from touchline.geometry.lines import line_through, map_line, normalise_line

SIZE = (1280, 720)
CENTRE, RADIUS = (52.5, 34.0), 9.15
CAMERAS = {
    # Main camera zoomed on the centre circle, a wide high view, a low close one.
    "main": PinholeCamera.look_at((52.5, 108.0, -25.0), (52.5, 34.0, 0.0), focal=2000.0, image_size=SIZE),
    "high": PinholeCamera.look_at((52.5, 130.0, -60.0), (52.5, 34.0, 0.0), focal=900.0, image_size=SIZE),
    "low": PinholeCamera.look_at((45.0, 80.0, -8.0), (52.5, 34.0, 0.0), focal=1100.0, image_size=SIZE),
    "oblique": PinholeCamera.look_at((20.0, 100.0, -18.0), (55.0, 30.0, 0.0), focal=1300.0, image_size=SIZE, roll=0.03),
}  # fmt: skip


def circle_pixels(cam: PinholeCamera, start_deg: float, span_deg: float, n: int) -> np.ndarray:
    """Exact pixels of the centre circle at angles ``start .. start + span`` (degrees)."""
    t = np.radians(np.linspace(start_deg, start_deg + span_deg, n, endpoint=span_deg < 360))
    pitch = np.c_[CENTRE[0] + RADIUS * np.cos(t), CENTRE[1] + RADIUS * np.sin(t), np.zeros(n)]
    return cam.project(pitch)


def same_conic(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    return bool(np.allclose(normalise_conic(a), normalise_conic(b), atol=atol))


def test_circle_conic_and_its_normal_form() -> None:
    C = circle_conic(CENTRE, RADIUS)
    t = np.linspace(0, 2 * np.pi, 13)
    on = np.c_[CENTRE[0] + RADIUS * np.cos(t), CENTRE[1] + RADIUS * np.sin(t)]
    np.testing.assert_allclose(sampson_distance(C, on), 0.0, atol=1e-12)
    # Signed: negative inside; about the true distance near the circle.
    d = sampson_distance(C, [[CENTRE[0] + RADIUS + 0.1, CENTRE[1]], [CENTRE[0], CENTRE[1] - 9.0]])
    assert d[0] == pytest.approx(0.1, rel=0.01) and d[1] == pytest.approx(-0.15, rel=0.01)
    n = normalise_conic(-3.0 * C)
    assert np.linalg.norm(n) == pytest.approx(1.0) and n[0, 0] > 0
    assert same_conic(n, C)
    np.testing.assert_allclose(conic_center(C), CENTRE)
    assert is_ellipse(C)


@pytest.mark.parametrize(
    ("conic", "expected"),
    [
        (np.diag([1.0, 4.0, -1.0]), True),
        (np.diag([1.0, 1.0, 1.0]), False),  # no real point
        (np.diag([1.0, -1.0, -1.0]), False),  # hyperbola
        (np.array([[1.0, 0, 0], [0, 0, -0.5], [0, -0.5, 0]]), False),  # parabola y = x²
        (np.array([[0.0, 0, 0], [0, 1.0, -0.5], [0, -0.5, 0]]), False),  # lines y = 0, y = 1
        (np.diag([1.0, 1.0, 0.0]), False),  # a single point
        (np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, -1.0]]), False),  # two parallel lines
    ],
)
def test_is_ellipse(conic: np.ndarray, expected: bool) -> None:
    assert is_ellipse(conic) is expected
    assert is_ellipse(-7.0 * conic) is expected


@pytest.mark.parametrize("name", list(CAMERAS))
def test_projected_centre_circle_is_an_ellipse_through_the_projected_points(name: str) -> None:
    cam = CAMERAS[name]
    E = map_conic(circle_conic(CENTRE, RADIUS), cam.pitch_to_image)
    assert is_ellipse(E)
    assert np.linalg.norm(E) == pytest.approx(1.0)
    px = circle_pixels(cam, 0, 360, 500)
    assert np.abs(sampson_distance(E, px)).max() < 1e-6
    # The centre of the image ellipse is not the image of the circle's centre (perspective).
    centre_px = cam.project([[CENTRE[0], CENTRE[1], 0.0]])[0]
    assert np.linalg.norm(conic_center(E) - centre_px) > 0.5


@pytest.mark.parametrize("name", list(CAMERAS))
@pytest.mark.parametrize("span", [360.0, 180.0, 90.0])
@pytest.mark.parametrize("start", [0.0, 100.0, 230.0])
def test_fit_conic_recovers_a_projected_circle_from_exact_arcs(
    name: str, span: float, start: float
) -> None:
    cam = CAMERAS[name]
    truth = map_conic(circle_conic(CENTRE, RADIUS), cam.pitch_to_image)
    fitted = fit_conic(circle_pixels(cam, start, span, 25))
    assert is_ellipse(fitted)
    assert same_conic(fitted, truth, atol=1e-8)
    # Dense exact samples of the whole circle (beyond the arc) lie on the fitted ellipse.
    assert np.abs(sampson_distance(fitted, circle_pixels(cam, 0, 360, 720))).max() < 1e-5


@pytest.mark.parametrize("span", [360.0, 180.0, 90.0])
def test_fit_conic_on_noisy_arcs_is_sub_pixel(span: float) -> None:
    cam = CAMERAS["main"]
    worst = 0.0
    for seed, start in enumerate([0.0, 90.0, 180.0, 270.0]):
        rng = np.random.default_rng(seed)
        px = circle_pixels(cam, start, span, 40) + rng.normal(0, 0.5, (40, 2))
        fitted = fit_conic(px)
        assert is_ellipse(fitted)
        dense = circle_pixels(cam, start, span, 400)  # the observed arc, exact
        worst = max(worst, float(np.sqrt(np.mean(sampson_distance(fitted, dense) ** 2))))
    assert worst < 0.75


def test_fit_conic_is_invariant_to_the_coordinate_frame_and_weighted() -> None:
    cam = CAMERAS["oblique"]
    px = circle_pixels(cam, 20, 200, 30)
    fitted = fit_conic(px)
    # Shifting the pixels shifts the ellipse (the normalisation makes the fit frame-free).
    T = np.array([[1.0, 0, 5000.0], [0, 1.0, -3000.0], [0, 0, 1.0]])
    assert same_conic(fit_conic(px + np.array([5000.0, -3000.0])), map_conic(fitted, T), atol=1e-7)
    # A zero weight removes a gross outlier exactly.
    bad = np.vstack([px, [[10.0, 10.0]]])
    truth = map_conic(circle_conic(CENTRE, RADIUS), cam.pitch_to_image)
    assert same_conic(fit_conic(bad, np.r_[np.ones(30), 0.0]), truth, atol=1e-8)
    assert not same_conic(fit_conic(bad), truth, atol=1e-3)


def test_fit_conic_rejects_too_few_or_collinear_points() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        fit_conic(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 5"):
        fit_conic(np.arange(12.0).reshape(6, 2), weights=[1, 1, 1, 1, 0, 0])
    with pytest.raises(ValueError, match="collinear"):
        fit_conic(np.c_[np.arange(8.0), 2 * np.arange(8.0) + 1])


@pytest.mark.parametrize("name", list(CAMERAS))
def test_map_conic_of_the_centre_circle_equals_the_fit_of_its_projected_samples(name: str) -> None:
    cam = CAMERAS[name]
    mapped = map_conic(circle_conic(CENTRE, RADIUS), cam.pitch_to_image)
    assert same_conic(mapped, fit_conic(circle_pixels(cam, 0, 360, 60)), atol=1e-9)
    # And back: the inverse homography maps the image ellipse to the circle.
    assert same_conic(map_conic(mapped, cam.image_to_pitch), circle_conic(CENTRE, RADIUS))


@pytest.mark.parametrize("name", list(CAMERAS))
@pytest.mark.parametrize("angle_deg", [0.0, 37.0, 90.0, 145.0])
def test_a_diameter_line_meets_the_image_ellipse_at_the_projected_diameter_ends(
    name: str, angle_deg: float
) -> None:
    cam = CAMERAS[name]
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    ends = np.array([np.asarray(CENTRE) - RADIUS * u, np.asarray(CENTRE) + RADIUS * u])
    H = cam.pitch_to_image
    image_line = map_line(line_through(ends[0], ends[1]), H)
    hits = conic_line_intersection(map_conic(circle_conic(CENTRE, RADIUS), H), image_line)
    expected = cam.project(np.c_[ends, np.zeros(2)])
    assert hits.shape == (2, 2)
    # Both ends found (in either order), to well below a pixel.
    err = min(np.abs(hits - expected).max(), np.abs(hits[::-1] - expected).max())
    assert err < 1e-6


def test_conic_line_intersection_counts() -> None:
    C = circle_conic((0.0, 0.0), 5.0)
    assert conic_line_intersection(C, [1.0, 0.0, -6.0]).shape == (0, 2)  # misses
    np.testing.assert_allclose(conic_line_intersection(C, [1.0, 0.0, -5.0]), [[5.0, 0.0]])
    hits = conic_line_intersection(C, [3.0, 4.0, 0.0])  # a diameter
    np.testing.assert_allclose(np.linalg.norm(hits, axis=1), 5.0)
    np.testing.assert_allclose(hits[0], -hits[1])
    assert conic_line_intersection(C, [0.0, 0.0, 1.0]).shape == (0, 2)  # the line at infinity
    hyperbola = np.diag([1.0, -1.0, -1.0])  # x² - y² = 1; y = x is an asymptote direction
    np.testing.assert_allclose(
        conic_line_intersection(hyperbola, [1.0, -1.0, 1.0]), [[-1.0, 0.0]], atol=1e-12
    )  # y = x + 1 meets it once


@pytest.mark.parametrize("name", list(CAMERAS))
def test_tangents_are_projective(name: str) -> None:
    """The image of the tangent of the circle at a point is the tangent of the image ellipse
    at the image of the point."""
    cam = CAMERAS[name]
    H = cam.pitch_to_image
    Q = circle_conic(CENTRE, RADIUS)
    E = map_conic(Q, H)
    for t in np.radians([0.0, 75.0, 200.0, 300.0]):
        p = np.array([CENTRE[0] + RADIUS * math.cos(t), CENTRE[1] + RADIUS * math.sin(t)])
        pitch_tangent = tangent_at(Q, p)
        # Perpendicular to the radius, through the point.
        assert abs(pitch_tangent[:2] @ [math.cos(t), math.sin(t)]) == pytest.approx(1.0)
        assert abs(pitch_tangent @ np.r_[p, 1.0]) < 1e-12
        px = cam.project([[p[0], p[1], 0.0]])[0]
        a, b = normalise_line(map_line(pitch_tangent, H)), tangent_at(E, px)
        assert np.allclose(a, b, atol=1e-9) or np.allclose(a, -b, atol=1e-9)


@pytest.mark.parametrize("name", list(CAMERAS))
def test_sample_conic_lies_on_the_ellipse_and_covers_it(name: str) -> None:
    E = map_conic(circle_conic(CENTRE, RADIUS), CAMERAS[name].pitch_to_image)
    pts = sample_conic(E, 64)
    assert pts.shape == (64, 2)
    assert np.abs(sampson_distance(E, pts)).max() < 1e-6
    # A full turn: the samples surround the centre (angles cover all four quadrants).
    ang = np.arctan2(*(pts - conic_center(E)).T[::-1])
    assert np.histogram(ang, bins=4, range=(-np.pi, np.pi))[0].min() > 0
    half = sample_conic(E, 10, 0.0, np.pi)
    np.testing.assert_allclose(half[0], -(half[-1] - conic_center(E)) + conic_center(E))
    with pytest.raises(ValueError, match="ellipse"):
        sample_conic(np.diag([1.0, -1.0, -1.0]), 5)
