"""Tests of touchline.eval.calibration_metrics: IoU part / whole, keypoint errors, summaries."""

from __future__ import annotations

import itertools
import json
import math

import cv2
import numpy as np
import pytest

from touchline.eval.calibration_metrics import (
    SUMMARY_KEYS,
    FrameScore,
    iou_part,
    iou_whole,
    projection_error_m,
    reprojection_error_px,
    score_frame,
    summarise,
)
from touchline.geometry.homography import apply_homography, dlt
from touchline.synth.camera import PinholeCamera

W, H = 1280, 720
SIZE = (W, H)
L, WID = 105.0, 68.0
CORNERS = np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=np.float64)
# Fixed, non-symmetric directions in which the four image corners are pushed (pixels per unit).
DIRS = np.array([[1.0, 0.5], [-0.7, 1.0], [0.3, -1.0], [-1.0, -0.2]])


def camera(target=(52.5, 34.0, 0.0), focal=1.2, position=(52.5, 110.0, -25.0)) -> PinholeCamera:
    return PinholeCamera.look_at(position, target, focal=focal * W, image_size=SIZE)


def broadcast() -> np.ndarray:
    """image -> pitch of a typical main camera: 25 m up, 42 m behind the near touchline."""
    return camera().image_to_pitch


def left_half() -> np.ndarray:
    """A tight view of the left half of the pitch."""
    return camera(target=(20.0, 34.0, 0.0), focal=2.5).image_to_pitch


def perturbed(H_gt: np.ndarray, pixels: float) -> np.ndarray:
    """A homography refitted after pushing the image corners by ``pixels`` (fixed directions)."""
    return dlt(CORNERS + pixels * DIRS, apply_homography(H_gt, CORNERS))


def shift(dx: float, dy: float = 0.0) -> np.ndarray:
    """Translation of the pitch frame by (dx, dy) metres."""
    return np.array([[1.0, 0, dx], [0, 1.0, dy], [0, 0, 1.0]])


def whole_pitch_view(image_size=SIZE) -> np.ndarray:
    """An affine 'overhead' homography whose image is exactly the template."""
    w, h = image_size
    return np.diag([L / w, WID / h, 1.0])


# ----- independent slow references ------------------------------------------------------------
def iou_part_cv2(H_pred: np.ndarray, H_gt: np.ndarray, px_per_m: float = 10.0) -> float:
    """SCCvSD-style: warp an all-white image onto a fine template raster with each homography.

    cv2 puts pixel centres at integers while touchline's pixel i covers [i, i + 1): ``T`` moves
    cv2 source coordinates to ours and ``S`` maps metres to template raster indices.
    """
    white = np.full((H, W), 255, np.uint8)
    S = np.array([[px_per_m, 0, -0.5], [0, px_per_m, -0.5], [0, 0, 1]])
    T = np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1]])
    dsize = (round(L * px_per_m), round(WID * px_per_m))
    masks = [
        cv2.warpPerspective(
            white, S @ h @ T, dsize, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
        )
        > 0
        for h in (H_pred, H_gt)
    ]
    return float((masks[0] & masks[1]).sum() / (masks[0] | masks[1]).sum())


def iou_whole_polygon(H_pred: np.ndarray, H_gt: np.ndarray) -> float:
    """Exact IoU of the template and the quadrilateral M(T), valid when M(T) is bounded."""
    rect = np.array([[0, 0], [L, 0], [L, WID], [0, WID]], dtype=np.float64)
    quad = apply_homography(H_gt @ np.linalg.inv(H_pred), rect)
    a, b = rect.astype(np.float32), quad.astype(np.float32)
    inter = cv2.intersectConvexConvex(a, b)[0]
    return inter / (L * WID + cv2.contourArea(b) - inter)


def visible_fraction_by_projection(cam: PinholeCamera, step: float = 0.1) -> float:
    """Fraction of the template seen by ``cam``, by projecting a dense grid of pitch points."""
    xs, ys = np.meshgrid(np.arange(step / 2, L, step), np.arange(step / 2, WID, step))
    pts = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1)
    uv = cam.project(pts)  # nan behind the camera
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < W) & (uv[:, 1] >= 0) & (uv[:, 1] < H)
    return float(inside.mean())


# ----- IoU: identity and analytic values ------------------------------------------------------
VIEWS = {
    "broadcast": broadcast,
    "left_half": left_half,
    "wide": lambda: camera(focal=0.5).image_to_pitch,
}


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("resolution", [None, 0.25])
def test_identical_homographies_give_one(name: str, resolution: float | None) -> None:
    G = VIEWS[name]()
    assert iou_whole(G, G, resolution=resolution, image_size=SIZE) == pytest.approx(1.0, abs=1e-9)
    assert iou_part(G, G, SIZE, resolution=resolution) == pytest.approx(1.0, abs=1e-9)
    # The scale of a homography is irrelevant.
    assert iou_whole(-3.0 * G, G, image_size=SIZE) == pytest.approx(1.0, abs=1e-9)
    assert iou_part(-3.0 * G, G, SIZE) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("resolution", [None, 0.25])
@pytest.mark.parametrize(
    ("dx", "dy", "expected"),
    [(1.0, 0.0, 104 * 68 / (106 * 68)), (-1.0, 0.0, 104 / 106), (0.0, 1.0, 105 * 67 / (105 * 69))],
)
def test_iou_whole_of_a_shifted_pitch_frame(
    dx: float, dy: float, expected: float, resolution: float | None
) -> None:
    G = broadcast()
    P = shift(dx, dy) @ G  # the prediction reads every pixel 1 m off
    assert iou_whole(P, G, resolution=resolution, image_size=SIZE) == pytest.approx(
        expected, abs=1e-9
    )
    assert iou_whole(P, G, resolution=resolution) == pytest.approx(expected, abs=1e-9)


def test_iou_whole_of_a_scaled_pitch() -> None:
    G = np.eye(3)
    # The prediction reads the pitch at half its size: M(T) = [0, 52.5] x [0, 34], inside T.
    assert iou_whole(np.diag([2.0, 2.0, 1.0]), G) == pytest.approx(0.25, abs=1e-12)
    # ... or at double its size: M(T) = [0, 210] x [0, 136] contains T.
    assert iou_whole(np.diag([0.5, 0.5, 1.0]), G) == pytest.approx(0.25, abs=1e-12)


@pytest.mark.parametrize("resolution", [None, 0.25])
@pytest.mark.parametrize(
    ("image_size", "x0", "expected"),
    [
        ((1050, 680), 0.0, 104 / 105),  # the image is exactly the pitch
        ((525, 680), 0.0, 51.5 / 53.5),  # the left half
        ((525, 680), -10.0, 42.5 / 43.5),  # [-10, 42.5] m: partly beyond the goal line
    ],
)
def test_iou_part_of_a_shifted_affine_view(
    image_size: tuple[int, int], x0: float, expected: float, resolution: float | None
) -> None:
    G = np.array([[0.1, 0, x0], [0, 0.1, 0], [0, 0, 1]])  # 10 px / m
    P = shift(1.0) @ G
    assert iou_part(P, G, image_size, resolution=resolution) == pytest.approx(expected, abs=1e-9)


# ----- IoU: camera views, perturbations, cross-checks -----------------------------------------
@pytest.mark.parametrize("name", ["broadcast", "left_half"])
def test_iou_decreases_as_the_perturbation_grows(name: str) -> None:
    G = VIEWS[name]()
    wholes, parts = [], []
    for pixels in (1.0, 4.0, 16.0, 64.0):
        P = perturbed(G, pixels)
        wholes.append(iou_whole(P, G, image_size=SIZE))
        parts.append(iou_part(P, G, SIZE))
    assert all(0.0 < v < 1.0 for v in wholes + parts)
    assert all(a > b for a, b in itertools.pairwise(wholes)), wholes
    assert all(a > b for a, b in itertools.pairwise(parts)), parts
    assert wholes[-1] < 0.9  # 64 px at the corners is a visibly wrong calibration


@pytest.mark.parametrize(
    ("name", "pixels"),
    [("broadcast", 0.0), ("broadcast", 8.0), ("broadcast", 40.0), ("left_half", 20.0)],
)
def test_iou_part_matches_a_cv2_warp_reference(name: str, pixels: float) -> None:
    G = VIEWS[name]()
    P = perturbed(G, pixels) if pixels else shift(1.5, -0.5) @ G
    ref = iou_part_cv2(P, G)
    assert iou_part(P, G, SIZE) == pytest.approx(ref, abs=0.01)
    assert iou_part(P, G, SIZE, resolution=0.25) == pytest.approx(ref, abs=0.01)


@pytest.mark.parametrize(("name", "pixels"), [("broadcast", 8.0), ("left_half", 30.0)])
def test_iou_whole_matches_a_polygon_reference(name: str, pixels: float) -> None:
    G = VIEWS[name]()
    P = perturbed(G, pixels)
    ref = iou_whole_polygon(P, G)
    assert 0.5 < ref < 0.999
    assert iou_whole(P, G, image_size=SIZE) == pytest.approx(ref, abs=1e-4)
    assert iou_whole(P, G, image_size=SIZE, resolution=0.25) == pytest.approx(ref, abs=0.01)


def test_iou_part_of_a_view_that_sees_only_half_the_pitch() -> None:
    G = left_half()
    # Against a view of the whole template, IoU part is the visible fraction of the pitch ...
    fraction = iou_part(whole_pitch_view(), G, SIZE)
    assert 0.05 < fraction < 0.5
    assert fraction == pytest.approx(
        visible_fraction_by_projection(camera((20, 34, 0), 2.5)), abs=0.01
    )
    # ... and the region lies in the left half: against a view of exactly that half it doubles.
    left = np.diag([52.5 / W, WID / H, 1.0])
    assert iou_part(left, G, SIZE) == pytest.approx(2 * fraction, abs=1e-9)
    # A 1 m shift costs a narrow view more in IoU part than in IoU whole (104 / 106).
    P = shift(1.0) @ G
    assert iou_whole(P, G, image_size=SIZE) == pytest.approx(104 / 106, abs=1e-9)
    assert iou_part(P, G, SIZE) < 104 / 106 - 0.01


def test_pitch_behind_the_camera_is_not_seen() -> None:
    # A camera above the centre spot looking at the far touchline: the near half of the pitch is
    # behind it, and a naive warp would map part of it into the image as a mirror image.
    cam = camera(target=(52.5, 0.0, 0.0), focal=0.6, position=(52.5, 34.0, -15.0))
    G = cam.image_to_pitch
    expected = visible_fraction_by_projection(cam)
    assert 0.05 < expected < 0.5
    assert iou_part(whole_pitch_view(), G, SIZE) == pytest.approx(expected, abs=0.01)
    assert iou_part(G, G, SIZE) == pytest.approx(1.0)
    # A view seeing none of the pitch makes IoU part undefined when compared with itself.
    away = camera(target=(52.5, 300.0, 0.0), focal=3.0).image_to_pitch
    assert math.isnan(iou_part(away, away, SIZE))
    assert iou_part(away, broadcast(), SIZE) == 0.0


def test_iou_whole_is_zero_when_the_round_trip_reaches_the_horizon() -> None:
    # The ground truth sees the horizon (row ~250); the prediction aims lower, so it images the
    # far touchline above that row: those template points land beyond the GT horizon (outside)
    # and the ones just below it are sent infinitely far away, so M(T) is unbounded.
    G = camera(target=(52.5, -100.0, -10.0)).image_to_pitch
    P = broadcast()
    assert iou_whole(P, G, image_size=SIZE) == 0.0
    assert iou_whole(P, G, image_size=SIZE, resolution=0.25) < 1e-3
    # The other way round the round trip stays bounded.
    assert 0.0 < iou_whole(G, P, image_size=SIZE) < 0.2


def test_iou_whole_ignores_the_pitch_behind_the_predicted_camera() -> None:
    G = broadcast()
    # M = G inv(P) sends the template line y = 34 to infinity, but the template beyond y ~ 26
    # is behind the camera of P (its image is the mirror image through the GT camera centre), so
    # the part that counts is bounded: a finite, poor IoU on which both computations agree.
    M = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, -1 / 34, 1.0]])
    P = np.linalg.inv(M) @ G
    exact = iou_whole(P, G, image_size=SIZE)
    assert 0.1 < exact < 0.3
    assert iou_whole(P, G, image_size=SIZE, resolution=0.25) == pytest.approx(exact, abs=0.01)
    # A milder projective error, M2(x, y) = (x, y) / (1 - y / 400), stretches the template over
    # a region containing it: IoU = |T| / |M2(T)| with |M2(T)| = ∫∫ (1 - y / 400)^-3 dx dy.
    M2 = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, -1 / 400, 1.0]])
    P2 = np.linalg.inv(M2) @ G
    area = L * 200.0 * ((1 - WID / 400) ** -2 - 1)
    assert iou_whole(P2, G, image_size=SIZE) == pytest.approx(L * WID / area, abs=1e-9)
    assert iou_whole(P2, G, resolution=0.25) == pytest.approx(L * WID / area, abs=1e-4)


def test_invalid_homographies() -> None:
    G = broadcast()
    bad = np.full((3, 3), np.nan)
    assert iou_whole(bad, G) == 0.0
    assert iou_part(np.zeros((3, 3)), G, SIZE) == 0.0
    with pytest.raises(ValueError):
        iou_whole(G, bad)
    with pytest.raises(ValueError):
        iou_part(G, np.zeros((3, 3)), SIZE)


# ----- keypoint errors ------------------------------------------------------------------------
def _keypoints(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pitch = np.array([[30.0, 20.0], [52.5, 34.0], [70.0, 60.0], [45.0, 50.0]])
    return apply_homography(np.linalg.inv(G), pitch), pitch


def test_projection_error_m() -> None:
    G = broadcast()
    img, pitch = _keypoints(G)
    np.testing.assert_allclose(projection_error_m(G, img, pitch), 0.0, atol=1e-8)
    np.testing.assert_allclose(projection_error_m(shift(1.0) @ G, img, pitch), 1.0, atol=1e-8)
    np.testing.assert_allclose(projection_error_m(shift(3.0, 4.0) @ G, img, pitch), 5.0)
    # Missing labels are nan; a point sent to infinity and a non-finite H are inf.
    img2 = img.copy()
    img2[1] = np.nan
    err = projection_error_m(G, img2, pitch)
    assert math.isnan(err[1]) and np.isfinite(err[[0, 2, 3]]).all()
    H_inf = np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, -5.0]])  # x = 5 goes to infinity
    assert projection_error_m(H_inf, [[5.0, 1.0]], [[0.0, 0.0]])[0] == math.inf
    assert np.isinf(projection_error_m(np.full((3, 3), np.nan), img, pitch)).all()
    with pytest.raises(ValueError):
        projection_error_m(G, img, pitch[:2])


def test_reprojection_error_px() -> None:
    G = broadcast()
    img, pitch = _keypoints(G)
    np.testing.assert_allclose(reprojection_error_px(G, img, pitch), 0.0, atol=1e-6)
    A = np.diag([0.1, 0.1, 1.0])  # 10 px per metre
    a_img = np.array([[100.0, 100.0], [500.0, 300.0]])
    a_pitch = apply_homography(A, a_img)
    np.testing.assert_allclose(reprojection_error_px(shift(1.0) @ A, a_img, a_pitch), 10.0)
    # A true point behind the predicted camera is an infinite error when image_size is known.
    behind = np.array([[52.5, 120.0]])  # beyond the camera at y = 110
    on_img = np.array([[640.0, 700.0]])
    assert np.isfinite(reprojection_error_px(G, on_img, behind)[0])
    assert reprojection_error_px(G, on_img, behind, image_size=SIZE)[0] == math.inf
    assert reprojection_error_px(np.zeros((3, 3)), on_img, behind)[0] == math.inf


# ----- frames and summaries -------------------------------------------------------------------
def test_score_frame_with_and_without_homographies() -> None:
    G = broadcast()
    img, pitch = _keypoints(G)
    good = score_frame(G, G, img, pitch, SIZE)
    assert isinstance(good, FrameScore)
    assert good.calibrated and good.scored
    assert good.iou_whole == pytest.approx(1.0) and good.iou_part == pytest.approx(1.0)
    assert good.proj_error_m == pytest.approx(0.0, abs=1e-8)
    assert good.reproj_error_px == pytest.approx(0.0, abs=1e-6)
    assert len(good.proj_errors_m) == 4

    off = score_frame(shift(1.0) @ G, G, img, pitch, SIZE)
    assert off.iou_whole == pytest.approx(104 / 106)
    assert off.proj_error_m == pytest.approx(1.0)

    missed = score_frame(None, G, img, pitch, SIZE)  # uncalibrated frame with ground truth
    assert (missed.iou_whole, missed.iou_part) == (0.0, 0.0)
    assert not missed.calibrated and missed.scored
    assert math.isnan(missed.proj_error_m) and len(missed.proj_errors_m) == 0

    unlabelled = score_frame(G, None, img[:3], pitch[:3], SIZE)  # < 4 labels: no ground truth
    assert math.isnan(unlabelled.iou_whole) and math.isnan(unlabelled.iou_part)
    assert unlabelled.calibrated and not unlabelled.scored
    assert unlabelled.proj_error_m == pytest.approx(0.0, abs=1e-8)

    neither = score_frame(None, None, np.zeros((0, 2)), np.zeros((0, 2)), SIZE)
    assert math.isnan(neither.iou_whole) and not neither.calibrated and not neither.scored


def test_summarise_keys_and_values() -> None:
    G = broadcast()
    img, pitch = _keypoints(G)
    one = np.array([[640.0, 500.0]])
    scores = [
        score_frame(G, G, img[:3], pitch[:3], SIZE),  # three perfect keypoints
        score_frame(shift(1.0) @ G, G, one, apply_homography(G, one), SIZE),  # one 1 m error
        score_frame(None, G, img, pitch, SIZE),  # uncalibrated, counts 0
        score_frame(G, None, img[:2], pitch[:2], SIZE),  # not scored, two perfect keypoints
    ]
    out = summarise(scores, seconds=2.0)
    assert set(SUMMARY_KEYS) <= set(out)
    assert set(SUMMARY_KEYS) == {
        "iou_whole_mean",
        "iou_whole_median",
        "iou_part_mean",
        "iou_part_median",
        "proj_error_m_median",
        "reproj_error_px_median",
        "completeness",
        "frames",
        "fps",
    }
    assert out["frames"] == 4 and out["scored_frames"] == 3 and out["calibrated_frames"] == 3
    assert out["completeness"] == pytest.approx(0.75)
    assert out["fps"] == pytest.approx(2.0)
    assert out["iou_whole_mean"] == pytest.approx((1.0 + 104 / 106 + 0.0) / 3)
    assert out["iou_whole_median"] == pytest.approx(104 / 106)
    assert out["iou_part_median"] < 1.0
    # Pooled over the 6 keypoints of calibrated frames (five zeros, one 1 m): median 0, whereas
    # a median of per-frame medians would be 0 as well but a mean of them 1/3.
    assert out["keypoints"] == 6
    assert out["proj_error_m_median"] == pytest.approx(0.0, abs=1e-8)
    assert out["proj_error_m_p90"] == pytest.approx(0.5, abs=1e-6)
    json.dumps(out)  # plain Python numbers

    empty = summarise([], seconds=0.0)
    assert set(SUMMARY_KEYS) <= set(empty)
    assert empty["frames"] == 0 and math.isnan(empty["iou_whole_mean"])
    assert math.isnan(empty["fps"]) and math.isnan(empty["completeness"])


def test_summarise_keeps_infinite_errors() -> None:
    G = broadcast()
    one = np.array([[640.0, 500.0]])
    H_inf = np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, -640.0]])  # pixel x = 640 -> infinity
    scores = [
        score_frame(H_inf, G, one, apply_homography(G, one), SIZE),
        score_frame(H_inf, G, one, apply_homography(G, one), SIZE),
    ]
    out = summarise(scores, seconds=1.0)
    assert out["proj_error_m_median"] == math.inf
    assert out["iou_whole_mean"] >= 0.0
