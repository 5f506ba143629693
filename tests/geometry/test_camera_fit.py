"""The 7-parameter broadcast camera fitted to points, lines and the centre circle.

Every case is synthetic and exact: true cameras from ``PinholeCamera.look_at``, pitch features
projected through them, an initial camera turned by 2-4 degrees, moved by 3-5 m and zoomed by
10 %, and the fit judged by the reprojection of a 2.5 m grid of the pitch seen by the true
camera.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.geometry.camera import (
    PinholeCamera,
    camera_angles,
    camera_from_angles,
    camera_from_homography,
    camera_from_params,
    camera_to_params,
)
from touchline.geometry.camera_fit import (
    BEHIND_PX,
    CameraFit,
    CameraPrior,
    ConicObs,
    LineObs,
    PointObs,
    _Problem,
    fit_camera,
    fit_camera_multi,
)
from touchline.geometry.conic import circle_conic, map_conic, sampson_distance
from touchline.geometry.lines import line_through, map_line, point_line_distance

SIZE = (1280, 720)
L, W = 105.0, 68.0
BOX, GOAL = 20.16, 9.16  # half widths of the penalty and goal areas


def look_at(position, target, focal, roll=0.0) -> PinholeCamera:
    return PinholeCamera.look_at(position, target, focal=focal, image_size=SIZE, roll=roll)


CAMERAS = {
    "main": look_at((52.5, 108.0, -25.0), (40.0, 30.0, 0.0), 1400.0),
    "low": look_at((45.0, 80.0, -8.0), (35.0, 45.0, 0.0), 1100.0),
    "high": look_at((52.5, 130.0, -60.0), (52.5, 34.0, 0.0), 900.0),
    "centre": look_at((52.5, 108.0, -25.0), (52.5, 34.0, 0.0), 2600.0),  # the centre circle
    "centre_wide": look_at((52.5, 108.0, -25.0), (52.5, 30.0, 0.0), 1500.0),
}
KEYPOINTS = np.array(
    [[0, 0], [L, 0], [0, W], [L, W], [L / 2, 0], [L / 2, W], [L / 2, W / 2],
     [16.5, W / 2 - BOX], [16.5, W / 2 + BOX], [0, W / 2 - BOX], [0, W / 2 + BOX],
     [L - 16.5, W / 2 - BOX], [L - 16.5, W / 2 + BOX], [L, W / 2 - BOX], [L, W / 2 + BOX],
     [5.5, W / 2 - GOAL], [5.5, W / 2 + GOAL], [0, W / 2 - GOAL], [0, W / 2 + GOAL],
     [L - 5.5, W / 2 - GOAL], [L - 5.5, W / 2 + GOAL], [11, W / 2], [L - 11, W / 2],
     [L / 2, W / 2 - 9.15], [L / 2, W / 2 + 9.15], [L / 2 - 9.15, W / 2], [L / 2 + 9.15, W / 2]],
    dtype=float,
)  # fmt: skip
SEGMENTS = {
    "far": ((0, 0), (L, 0)),
    "near": ((0, W), (L, W)),
    "half": ((L / 2, 0), (L / 2, W)),
    "box_front": ((16.5, W / 2 - BOX), (16.5, W / 2 + BOX)),
    "box_far": ((0, W / 2 - BOX), (16.5, W / 2 - BOX)),
    "box_near": ((0, W / 2 + BOX), (16.5, W / 2 + BOX)),
    "goal_front": ((5.5, W / 2 - GOAL), (5.5, W / 2 + GOAL)),
    "right_box_front": ((L - 16.5, W / 2 - BOX), (L - 16.5, W / 2 + BOX)),
}
CENTRE_CIRCLE = circle_conic((L / 2, W / 2), 9.15)
# (pan, tilt) degrees, move (m), zoom: the initial camera of each fit.
PERTURBATIONS = [
    (3.0, -2.0, (3.0, -3.0, 2.0), 0.10),
    (-4.0, 3.0, (-3.0, 2.0, -2.0), -0.10),
    (2.0, 4.0, (2.0, 2.0, 2.0), 0.08),
    (-3.0, -3.0, (-2.0, -3.0, 2.0), -0.10),
]


# --------------------------------------------------------------------------------------------
# Synthetic observations
# --------------------------------------------------------------------------------------------
def inside(px: np.ndarray) -> np.ndarray:
    return np.isfinite(px).all(axis=1) & (px >= 0).all(axis=1) & (px < SIZE).all(axis=1)


def project(cam: PinholeCamera, pitch: np.ndarray) -> np.ndarray:
    return cam.project(np.c_[pitch, np.zeros(len(pitch))])


def points_seen(cam, pitch=KEYPOINTS, noise=0.0, rng=None) -> PointObs:
    px = project(cam, pitch)
    keep = inside(px)
    px = px[keep] + (rng.normal(0, noise, (int(keep.sum()), 2)) if noise else 0.0)
    return PointObs(pitch[keep], px)


def line_seen(cam, name, n=30, noise=0.0, outliers=0.0, rng=None) -> LineObs:
    """``n`` pixels spread along the visible part of a pitch segment (plus noise, and a share
    of them replaced by uniformly random pixels)."""
    p, q = (np.asarray(v, dtype=float) for v in SEGMENTS[name])
    px = project(cam, p + np.linspace(0, 1, 4000)[:, None] * (q - p))
    px = px[inside(px)]
    assert len(px) > 100, f"{name} is not visible"
    px = px[np.linspace(0, len(px) - 1, n).astype(int)]
    if noise:
        px = px + rng.normal(0, noise, px.shape)
    if outliers:
        bad = rng.random(n) < outliers
        px[bad] = rng.uniform((0, 0), SIZE, (int(bad.sum()), 2))
    return LineObs(line_through(p, q), px)


def circle_seen(cam, n=40, noise=0.0, rng=None) -> ConicObs:
    t = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    px = project(cam, np.c_[L / 2 + 9.15 * np.cos(t), W / 2 + 9.15 * np.sin(t)])
    px = px[inside(px)]
    px = px[np.linspace(0, len(px) - 1, n).astype(int)]
    if noise:
        px = px + rng.normal(0, noise, px.shape)
    return ConicObs(CENTRE_CIRCLE, px)


def perturbed(cam: PinholeCamera, dpan, dtilt, move, zoom) -> PinholeCamera:
    pan, tilt, roll = camera_angles(cam)
    return camera_from_angles(
        cam.C + np.asarray(move),
        pan + math.radians(dpan),
        tilt + math.radians(dtilt),
        roll,
        focal=cam.focal * (1 + zoom),
        image_size=cam.image_size,
    )


def grid_errors(truth: PinholeCamera, cam: PinholeCamera) -> np.ndarray:
    """Reprojection errors (px) of a 2.5 m grid of the pitch seen by the true camera."""
    g = np.stack(np.meshgrid(np.arange(0, L + 0.1, 2.5), np.arange(0, W + 0.1, 2.5)), -1)
    g = g.reshape(-1, 2)
    true = project(truth, g)
    keep = inside(true)
    err = np.linalg.norm(project(cam, g[keep]) - true[keep], axis=1)
    assert len(err) > 20 and np.all(np.isfinite(err))
    return err


FOUR_LINES = {
    "main": ("far", "half", "box_front", "box_near"),
    "low": ("far", "half", "box_front", "near"),
    "high": ("far", "near", "half", "box_front"),
}


def observations(
    kind: str, camera: str, noise=0.0, outliers=0.0, seed=0, cam: PinholeCamera | None = None
) -> dict:
    """The observations of a test case, seen by ``CAMERAS[camera]`` (or by ``cam``)."""
    rng = np.random.default_rng(seed)
    cam = cam or CAMERAS[camera]

    def lines(*names: str) -> list[LineObs]:
        return [line_seen(cam, n, noise=noise, outliers=outliers, rng=rng) for n in names]

    if kind == "points":
        return {"points": points_seen(cam, noise=noise, rng=rng)}
    if kind == "four_points":
        pts = points_seen(cam, noise=noise, rng=rng)
        assert len(pts.pitch) >= 6
        pick = np.array([0, 2, len(pts.pitch) - 3, len(pts.pitch) - 1])
        return {"points": PointObs(pts.pitch[pick], pts.image[pick])}
    if kind == "centre_circle":  # the halfway line, the circle and 2 points
        two = np.array([[L / 2, W / 2], [L / 2, W / 2 - 9.15]])
        return {
            "points": points_seen(cam, two, noise=noise, rng=rng),
            "lines": lines("half"),
            "conics": [circle_seen(cam, noise=noise, rng=rng)],
        }
    if kind == "four_lines":
        return {"lines": lines(*FOUR_LINES[camera])}
    if kind == "circle_half_far":  # no points
        return {"lines": lines("half", "far"), "conics": [circle_seen(cam, noise=noise, rng=rng)]}
    if kind == "all":
        return {
            "points": points_seen(cam, noise=noise, rng=rng),
            "lines": lines("far", "half", "box_front", "box_far", "box_near", "goal_front"),
            "conics": [circle_seen(cam, noise=noise, rng=rng)],
        }
    raise AssertionError(kind)


# --------------------------------------------------------------------------------------------
# Parametrisations and round trips
# --------------------------------------------------------------------------------------------
ROUND_TRIP_CAMERAS = [
    *CAMERAS.values(),
    look_at((52.5, 108.0, -25.0), (40.0, 30.0, 0.0), 1400.0, roll=math.radians(2.0)),
    look_at((-20.0, 34.0, -15.0), (20.0, 34.0, 0.0), 1000.0),  # behind the goal, pan 90
    look_at((52.5, -40.0, -30.0), (52.5, 34.0, 0.0), 1200.0),  # the far side, pan 180
]


@pytest.mark.parametrize("cam", ROUND_TRIP_CAMERAS)
def test_params_round_trip(cam: PinholeCamera) -> None:
    x = camera_to_params(cam)
    assert x.shape == (7,)
    assert np.linalg.norm(x[:3]) <= math.pi + 1e-12
    back = camera_from_params(x, cam.image_size)
    np.testing.assert_allclose(back.R, cam.R, atol=1e-12)
    np.testing.assert_allclose(back.C, cam.C)
    np.testing.assert_allclose(back.K, cam.K)
    np.testing.assert_allclose(camera_to_params(back), x, atol=1e-12)


@pytest.mark.parametrize("cam", ROUND_TRIP_CAMERAS)
def test_camera_from_homography_round_trip(cam: PinholeCamera) -> None:
    back = camera_from_homography(cam.pitch_to_image, cam.image_size)
    assert back is not None
    np.testing.assert_allclose(back.K, cam.K, rtol=1e-9)
    np.testing.assert_allclose(back.R, cam.R, atol=1e-9)
    np.testing.assert_allclose(back.C, cam.C, atol=1e-7)


@pytest.mark.parametrize(
    "H",
    [
        np.diag([1.0, -1.0, 1.0]),  # mirror
        np.zeros((3, 3)),
        np.full((3, 3), np.nan),
        np.eye(4),
        np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 0]]),  # singular
    ],
)
def test_camera_from_homography_returns_none_for_non_cameras(H: np.ndarray) -> None:
    assert camera_from_homography(H, SIZE) is None


@pytest.mark.parametrize(
    ("pan", "tilt", "roll"),
    [(0.0, 20.0, 0.0), (-30.0, 10.0, 1.5), (90.0, 45.0, -3.0), (179.0, 5.0, 0.2)],
)
def test_angles_round_trip(pan: float, tilt: float, roll: float) -> None:
    cam = camera_from_angles(
        (50.0, 100.0, -20.0), *np.radians([pan, tilt, roll]), focal=1200.0, image_size=SIZE
    )
    np.testing.assert_allclose(np.degrees(camera_angles(cam)), [pan, tilt, roll], atol=1e-9)


def test_angles_follow_look_at() -> None:
    cam = look_at((52.5, 108.0, -25.0), (52.5, 34.0, 0.0), 1400.0, roll=0.05)
    pan, tilt, roll = camera_angles(cam)
    assert pan == pytest.approx(0.0, abs=1e-12)
    assert tilt == pytest.approx(math.atan2(25.0, 74.0))
    assert roll == pytest.approx(0.05)
    # Pan turns towards +x; looking along +x from behind the left goal is +90.
    assert camera_angles(look_at((52.5, 108.0, -25.0), (80.0, 34.0, 0.0), 1400.0))[0] > 0
    assert math.degrees(camera_angles(ROUND_TRIP_CAMERAS[-2])[0]) == pytest.approx(90.0)


def test_synth_camera_is_the_geometry_camera() -> None:
    from touchline.synth import PinholeCamera as SynthPackageCamera
    from touchline.synth.camera import PinholeCamera as SynthCamera

    assert SynthCamera is PinholeCamera and SynthPackageCamera is PinholeCamera


# --------------------------------------------------------------------------------------------
# Observations
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PointObs(np.zeros((3, 2)), np.zeros((4, 2))), r"shape \(3, 2\), got \(4, 2\)"),
        (lambda: PointObs(np.zeros((3, 3)), np.zeros((3, 2))), r"shape \(n, 2\), got \(3, 3\)"),
        (lambda: PointObs(np.zeros((3, 2)), np.zeros((3, 2)), np.ones(2)), r"\(3,\), got \(2,\)"),
        (lambda: PointObs([[0, 0]], [[np.nan, 1]]), "non-finite"),
        (lambda: PointObs([[0, 0]], [[0, 1]], [-1.0]), "non-negative"),
        (lambda: LineObs(np.zeros(2), np.zeros((3, 2))), r"shape \(3,\), got \(2,\)"),
        (lambda: LineObs([0.0, 0.0, 1.0], np.zeros((3, 2))), "not a finite line"),
        (lambda: LineObs([1.0, 0.0, 1.0], np.zeros(6)), r"shape \(n, 2\), got \(6,\)"),
        (lambda: ConicObs(np.eye(2), np.zeros((3, 2))), r"shape \(3, 3\), got \(2, 2\)"),
        (lambda: ConicObs(np.eye(3), np.zeros((3, 2)), np.ones(5)), r"\(3,\), got \(5,\)"),
    ],
)
def test_observations_are_validated(make, message: str) -> None:
    with pytest.raises(DataError, match=message):
        make()


def test_observations_hold_float_arrays_and_default_weights() -> None:
    obs = PointObs([[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert obs.pitch.dtype == np.float64 and obs.image.dtype == np.float64
    np.testing.assert_array_equal(obs.weight, [1.0, 1.0])
    line = LineObs([1, 0, -3], [[1.0, 2.0]])
    assert line.pitch_line.dtype == np.float64 and line.weight.shape == (1,)


def test_fit_needs_observations() -> None:
    with pytest.raises(DataError, match="at least one"):
        fit_camera(CAMERAS["main"])
    with pytest.raises(DataError, match="at least one"):
        fit_camera(CAMERAS["main"], points=PointObs(np.zeros((0, 2)), np.zeros((0, 2))))


# --------------------------------------------------------------------------------------------
# The residuals and their Jacobian
# --------------------------------------------------------------------------------------------
def test_analytic_jacobian_matches_central_differences() -> None:
    cam = CAMERAS["main"]
    obs = observations("all", "main", noise=1.0, outliers=0.2, seed=4)
    prob = _Problem(SIZE, obs["points"], obs["lines"], obs["conics"], CameraPrior())
    init = perturbed(cam, *PERTURBATIONS[0])
    R, C, f = init.R, init.C, init.focal
    r, J = prob.evaluate(R, C, f)
    assert J is not None and J.shape == (len(r), 7)
    from touchline.geometry.camera import _rotation_matrix

    def residuals(x: np.ndarray) -> np.ndarray:
        return prob.evaluate(_rotation_matrix(x[:3]) @ R, C + x[3:6], f * math.exp(x[6]), False)[0]

    h = 1e-6
    numeric = np.stack(
        [(residuals(h * e) - residuals(-h * e)) / (2 * h) for e in np.eye(7)], axis=1
    )
    scale = np.abs(J).max(axis=0)
    assert np.all(np.abs(J - numeric).max(axis=0) < 1e-4 * scale)
    # The batched residuals (finite-difference path) agree with the single-camera ones.
    np.testing.assert_allclose(prob.residuals(R[None], C[None], np.array([f]))[0], r, atol=1e-9)
    _, Jp = prob.priors(R, C, f)
    num_p = np.stack(
        [
            (
                prob.priors(
                    _rotation_matrix(h * e[:3]) @ R, C + h * e[3:6], f * math.exp(h * e[6])
                )[0]
                - prob.priors(
                    _rotation_matrix(-h * e[:3]) @ R, C - h * e[3:6], f * math.exp(-h * e[6])
                )[0]
            )
            / (2 * h)
            for e in np.eye(7)
        ],
        axis=1,
    )
    np.testing.assert_allclose(Jp, num_p, atol=1e-6)


def test_residuals_are_the_documented_distances() -> None:
    """Line residuals: signed pixel distances to map_line(pitch_line, pitch_to_image); conic
    residuals: the Sampson distance to the mapped conic refined to second order (about the
    exact distance); points: pixel offsets."""
    cam = CAMERAS["main"]
    obs = observations("all", "main", noise=1.5, seed=2)
    fit = fit_camera(cam, **obs, max_iterations=0)
    assert fit.camera is not cam and np.allclose(fit.camera.P, cam.P)
    H = cam.pitch_to_image
    for res, lo in zip(fit.line_residuals, obs["lines"], strict=True):
        expected = point_line_distance(map_line(lo.pitch_line, H), lo.image)
        np.testing.assert_allclose(res, expected, atol=1e-9)
    (res,) = fit.conic_residuals
    px = obs["conics"][0].image
    sampson = sampson_distance(map_conic(CENTRE_CIRCLE, H), px)
    t = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    curve = project(cam, np.c_[L / 2 + 9.15 * np.cos(t), W / 2 + 9.15 * np.sin(t)])
    exact = np.sqrt(((px[:, None] - curve[None]) ** 2).sum(-1)).min(axis=1) * np.sign(sampson)
    assert np.abs(exact).max() > 2.0  # pixels off the curve
    np.testing.assert_allclose(res, exact, rtol=0.005, atol=1e-3)
    np.testing.assert_allclose(res, sampson, rtol=0.05, atol=1e-3)
    np.testing.assert_allclose(
        fit.point_residuals, project(cam, obs["points"].pitch) - obs["points"].image, atol=1e-9
    )
    # The residuals of the true camera: noise only.
    assert 0.8 < fit.rms_px < 2.0 and fit.inlier_share > 0.9


# --------------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------------
CASES = [
    ("main", "points"),
    ("low", "points"),
    ("high", "points"),
    ("main", "four_points"),
    ("high", "four_points"),
    ("centre", "centre_circle"),
    ("main", "four_lines"),
    ("low", "four_lines"),
    ("high", "four_lines"),
    ("centre_wide", "circle_half_far"),
    ("main", "all"),
]


@pytest.mark.parametrize(("camera", "kind"), CASES)
@pytest.mark.parametrize("perturbation", range(len(PERTURBATIONS)))
def test_exact_observations_recover_the_camera(camera: str, kind: str, perturbation: int) -> None:
    truth = CAMERAS[camera]
    init = perturbed(truth, *PERTURBATIONS[perturbation])
    assert grid_errors(truth, init).max() > 30  # the start is far off
    fit = fit_camera(init, **observations(kind, camera))
    assert isinstance(fit, CameraFit) and fit.converged
    assert grid_errors(truth, fit.camera).max() < 0.01
    assert fit.rms_px < 0.01 and fit.inlier_share == 1.0
    np.testing.assert_allclose(fit.camera.C, truth.C, atol=0.01)
    assert fit.camera.focal == pytest.approx(truth.focal, rel=1e-4)
    assert fit.iterations <= 20


NOISY_CASES = [("main", "all"), ("main", "points"), ("high", "four_lines"), ("high", "all")]


@pytest.mark.parametrize(("camera", "kind"), NOISY_CASES)
@pytest.mark.parametrize("perturbation", range(len(PERTURBATIONS)))
def test_noise_and_outlier_pixels(camera: str, kind: str, perturbation: int) -> None:
    """1 px noise everywhere and 20 % of the line pixels replaced by random pixels: the fit
    finds the same minimum as a fit started from the truth, within ~2 px of the truth."""
    truth = CAMERAS[camera]
    obs = observations(kind, camera, noise=1.0, outliers=0.2, seed=20 + perturbation)
    fit = fit_camera(perturbed(truth, *PERTURBATIONS[perturbation]), **obs)
    reference = fit_camera(truth, **obs)
    assert fit.converged
    assert fit.cost <= reference.cost * (1 + 1e-4)
    err = grid_errors(truth, fit.camera)
    assert np.sqrt(np.mean(err**2)) < 2.0 and np.median(err) < 2.0
    if "lines" in obs:
        n_lines = sum(len(o.image) for o in obs["lines"])
        n_obs = n_lines + (len(obs["points"].pitch) if "points" in obs else 0)
        n_obs += sum(len(o.image) for o in obs.get("conics", []))
        assert fit.inlier_share > 1 - 0.3 * n_lines / n_obs  # the random pixels are outliers
    assert 0.5 < fit.rms_px < 2.0


def test_huber_loss_and_numeric_jacobian_find_the_same_camera() -> None:
    truth = CAMERAS["main"]
    obs = observations("all", "main", noise=0.5, seed=3)
    init = perturbed(truth, *PERTURBATIONS[1])
    cauchy = fit_camera(init, **obs)
    numeric = fit_camera(init, **obs, jacobian="numeric")
    huber = fit_camera(init, **obs, loss="huber")
    assert numeric.converged and huber.converged
    assert grid_errors(cauchy.camera, numeric.camera).max() < 0.01
    assert grid_errors(truth, huber.camera).max() < 1.5


def test_weights_remove_gross_outliers_exactly() -> None:
    truth = CAMERAS["main"]
    pts = points_seen(truth)
    image = pts.image.copy()
    image[::3] += 80.0  # a third of the points are wrong ...
    weight = np.ones(len(image))
    weight[::3] = 0.0  # ... and weighted out
    fit = fit_camera(perturbed(truth, *PERTURBATIONS[2]), points=PointObs(pts.pitch, image, weight))
    assert grid_errors(truth, fit.camera).max() < 0.01
    assert fit.inlier_share == 1.0  # of the observations with a positive weight


# --------------------------------------------------------------------------------------------
# Priors
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["points", "four_lines", "all"])
def test_roll_prior_does_not_bias_an_exact_solution(kind: str) -> None:
    truth = look_at((52.5, 108.0, -25.0), (40.0, 30.0, 0.0), 1400.0, roll=math.radians(1.0))
    obs = observations(kind, "main", cam=truth)
    init = perturbed(truth, *PERTURBATIONS[0])
    with_prior = fit_camera(init, **obs)
    without = fit_camera(init, **obs, prior=CameraPrior(roll_sigma=None))
    assert grid_errors(truth, without.camera).max() < 1e-4
    # The prior's pull (3 degrees) moves the image by a small fraction of a pixel (measured:
    # 0.008 px with 13 points, 0.003 px with 4 lines, 0.0005 px with everything).
    assert grid_errors(truth, with_prior.camera).max() < 0.02
    for fit in (with_prior, without):
        assert math.degrees(camera_angles(fit.camera)[2]) == pytest.approx(1.0, abs=1e-3)


def test_priors_keep_an_underdetermined_camera_plausible() -> None:
    """Two points fix 4 of 7 parameters; the priors keep the roll level and the camera between
    3 and 120 m up, starting from a camera 1 m above the ground, rolled by 10 degrees."""
    truth = CAMERAS["main"]
    two = points_seen(truth, np.array([[L / 2, 0.0], [16.5, W / 2 + BOX]]))
    pan, tilt, _ = camera_angles(truth)
    init = camera_from_angles(
        (52.5, 108.0, -1.0), pan, tilt, math.radians(10.0), focal=1400.0, image_size=SIZE
    )
    fit = fit_camera(init, points=two)
    assert fit.rms_px < 0.01
    assert abs(math.degrees(camera_angles(fit.camera)[2])) < 0.5
    assert 2.9 < fit.camera.height < 120.0
    assert 0.3 * SIZE[0] * 0.99 < fit.camera.focal < 20 * SIZE[0]


def test_prior_is_validated() -> None:
    with pytest.raises(DataError, match="height range"):
        CameraPrior(min_height=10.0, max_height=5.0)
    with pytest.raises(DataError, match="roll_sigma"):
        CameraPrior(roll_sigma=0.0)
    with pytest.raises(DataError, match="focal range"):
        CameraPrior(min_focal=0.0)


# --------------------------------------------------------------------------------------------
# Bad starts
# --------------------------------------------------------------------------------------------
def test_a_camera_looking_away_produces_no_nan() -> None:
    away = look_at((52.5, 108.0, -25.0), (52.5, 200.0, 0.0), 1400.0)  # the pitch is behind it
    obs = observations("all", "main")
    assert np.isnan(project(away, obs["points"].pitch)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero or invalid value either
        fit = fit_camera(away, **obs)
    values = [
        fit.camera.K, fit.camera.R, fit.camera.C, fit.point_residuals,
        *fit.line_residuals, *fit.conic_residuals,
        np.array([fit.cost, fit.inlier_share, fit.iterations]),
    ]  # fmt: skip
    assert all(np.all(np.isfinite(v)) for v in values)
    assert np.isfinite(fit.rms_px) or fit.rms_px == math.inf
    # Points still behind the camera carry the constant residual.
    behind = fit.camera.depth(np.c_[obs["points"].pitch, np.zeros(len(obs["points"].pitch))]) <= 0
    assert np.all(fit.point_residuals[behind] == BEHIND_PX)


def test_fit_camera_multi_keeps_the_best_start() -> None:
    truth = CAMERAS["main"]
    obs = observations("all", "main", noise=0.5, seed=7)
    away = look_at((52.5, 108.0, -25.0), (52.5, 200.0, 0.0), 1400.0)
    good = perturbed(truth, *PERTURBATIONS[3])
    best = fit_camera_multi([away, good], **obs)
    alone = fit_camera(good, **obs)
    assert best.cost == pytest.approx(alone.cost)
    assert grid_errors(truth, best.camera).max() < 1.5
    assert fit_camera_multi([good, away], **obs).cost == pytest.approx(alone.cost)
    with pytest.raises(DataError, match="initial camera"):
        fit_camera_multi([], **obs)


def test_fit_camera_multi_breaks_ties_by_inliers(monkeypatch: pytest.MonkeyPatch) -> None:
    import touchline.geometry.camera_fit as camera_fit

    def fake(cost: float, inliers: float) -> CameraFit:
        empty = np.zeros((0, 2))
        return CameraFit(CAMERAS["main"], cost, 1.0, inliers, 3, True, empty, (), ())

    results = iter([fake(10.0, 0.5), fake(10.0 + 1e-12, 0.9), fake(12.0, 1.0), fake(10.0, 0.7)])
    monkeypatch.setattr(camera_fit, "fit_camera", lambda init, **kw: next(results))
    best = fit_camera_multi([CAMERAS["main"]] * 4, points=points_seen(CAMERAS["main"]))
    assert best.inlier_share == 0.9  # the lowest costs tie; the most inliers win
