"""Synthetic broadcast views for calibration training (touchline.synth.pitchview)."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.errors import DataError
from touchline.geometry.homography import apply_homography, plausibility
from touchline.pitch import Pitch
from touchline.synth.camera import PinholeCamera, load_broadcast_poses
from touchline.synth.pitchview import (
    ViewAssets,
    ViewStyle,
    load_view_assets,
    render_view,
    sample_view,
    view_line_coverage,
)

SIZE = (640, 360)
PITCH = Pitch()
CLEAN = replace(ViewStyle.clean(), surroundings=False)


def _grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float64)


def _front(H: np.ndarray, pts: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pitch points whose image lies on the camera's side of the horizon."""
    G = np.linalg.inv(H)
    ref = (H @ np.array([size[0] / 2, size[1], 1.0]))[2]
    w = np.c_[pts, np.ones(len(pts))] @ G.T
    return np.sign(w[:, 2]) == np.sign(1.0 / ref)


# ----- basics ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(640, 360), (333, 187), (1280, 720)])
def test_render_without_assets_has_the_requested_shape(size):
    rng = np.random.default_rng(0)
    H = sample_view(rng, size)
    for assets in (None, ViewAssets.empty()):
        img = render_view(H, size, rng, assets)
        assert img.shape == (size[1], size[0], 3)
        assert img.dtype == np.uint8 and img.flags["C_CONTIGUOUS"]
        assert 10 < float(img.mean()) < 245  # not blank


def test_a_seed_reproduces_the_view_and_the_image():
    def make(seed):
        rng = np.random.default_rng(seed)
        H = sample_view(rng, SIZE)
        return H, render_view(H, SIZE, rng)

    (H1, a), (H2, b), (H3, c) = make(5), make(5), make(6)
    assert np.array_equal(H1, H2) and np.array_equal(a, b)
    assert not np.allclose(H1, H3)
    assert float(np.abs(a.astype(int) - c.astype(int)).mean()) > 5


def test_the_scale_of_the_homography_does_not_matter():
    rng = np.random.default_rng(2)
    H = sample_view(rng, SIZE)
    a = render_view(H, SIZE, np.random.default_rng(9))
    b = render_view(-3.0 * H, SIZE, np.random.default_rng(9))
    assert np.array_equal(a, b)


def test_views_differ_widely():
    """Heavy randomisation: grass colour and brightness vary a lot between views."""
    rng = np.random.default_rng(3)
    means = []
    for _ in range(24):
        H = sample_view(rng, (320, 180))
        img = render_view(H, (320, 180), rng)
        means.append(img[120:].reshape(-1, 3).mean(axis=0))  # mostly grass
    m = np.array(means)
    hsv = cv2.cvtColor(np.clip(m, 0, 255).astype(np.uint8)[None], cv2.COLOR_BGR2HSV)[0]
    assert np.ptp(hsv[:, 2]) > 60  # dark to bright
    assert np.ptp(hsv[:, 1]) > 60  # dull to vivid
    assert np.ptp(hsv[:, 0]) > 8  # yellow-green to blue-green


def test_view_assets_check_their_lists():
    crop = (np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), np.float32))
    with pytest.raises(DataError):
        ViewAssets(backgrounds=[np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(DataError):
        ViewAssets(occluders=[crop])
    ok = ViewAssets(occluders=[crop], occluder_classes=[2])
    img = render_view(
        sample_view(np.random.default_rng(0), SIZE), SIZE, np.random.default_rng(1), ok
    )
    assert img.shape == (360, 640, 3)


# ----- the painted lines are the labels ---------------------------------------------------------
def _line_samples(H: np.ndarray, size: tuple[int, int]):
    """Projected line centres (wide enough to be resolved) and points 1 m to either side."""
    w, h = size
    G = np.linalg.inv(H)
    centres, sides = [], []
    for name, pts in PITCH.polylines(step=0.5):
        if "spot" in name or len(pts) < 3:
            continue
        t = np.gradient(pts, axis=0)
        n = np.stack([-t[:, 1], t[:, 0]], 1) / np.linalg.norm(t, axis=1, keepdims=True)
        for sgn in (1.0, -1.0):
            off = pts + sgn * 1.0 * n
            ok = _front(H, pts, size) & _front(H, off, size)
            ok &= PITCH.paint_distance(off) > 0.5
            c = apply_homography(G, pts)
            o = apply_homography(G, off)
            a = apply_homography(G, pts + 0.06 * n)
            b = apply_homography(G, pts - 0.06 * n)
            wide = np.linalg.norm(a - b, axis=1) >= 1.5  # the paint covers a pixel
            inside = (c > 2).all(1) & (c[:, 0] < w - 2) & (c[:, 1] < h - 2)
            inside &= (o > 0).all(1) & (o[:, 0] < w) & (o[:, 1] < h)
            keep = ok & wide & inside
            centres.append(c[keep])
            sides.append(o[keep])
    return np.concatenate(centres), np.concatenate(sides)


@pytest.mark.parametrize("seed", range(8))
def test_painted_lines_are_where_the_homography_puts_them(seed):
    rng = np.random.default_rng(100 + seed)
    H = sample_view(rng, SIZE)
    img = _grey(render_view(H, SIZE, rng, style=CLEAN))
    c, o = _line_samples(H, SIZE)
    assert len(c) >= 30, "view shows too little line to test"
    on = img[c[:, 1].astype(int), c[:, 0].astype(int)]
    off = img[o[:, 1].astype(int), o[:, 0].astype(int)]
    assert np.mean(on > off + 10) >= 0.95, (np.mean(on > off + 10), len(c))


def test_lines_one_metre_off_would_be_caught():
    """The test above fails for lines drawn 1 m away from where the homography says."""
    rng = np.random.default_rng(101)
    H = sample_view(rng, SIZE)
    shifted = np.array([[1.0, 0, 1.0], [0, 1.0, 1.0], [0, 0, 1.0]]) @ H  # pitch + (1, 1) m
    img = _grey(render_view(shifted, SIZE, rng, style=CLEAN))
    c, o = _line_samples(H, SIZE)
    on = img[c[:, 1].astype(int), c[:, 0].astype(int)]
    off = img[o[:, 1].astype(int), o[:, 0].astype(int)]
    assert np.mean(on > off + 10) < 0.6


@pytest.mark.parametrize("roll", [0.0, 2.0])
def test_line_centres_are_subpixel_exact(roll):
    """Coverage and rendered brightness are centred on the projected halfway line (<0.25 px)."""
    cam = PinholeCamera.look_at(
        (52.5, 110.0, -18.0), (54.0, 30.0, 0.0), focal=700.0, image_size=SIZE,
        roll=math.radians(roll),
    )  # fmt: skip
    H = cam.image_to_pitch
    cov = view_line_coverage(H, SIZE)
    img = _grey(render_view(H, SIZE, np.random.default_rng(4), style=CLEAN))
    # The same view without paint (same seed, zero strength): the difference is the paint alone.
    bare = replace(CLEAN, line_strength=(0.0, 0.0))
    img -= _grey(render_view(H, SIZE, np.random.default_rng(4), style=bare))
    G = cam.pitch_to_image
    top, bottom = apply_homography(G, [[52.5, 10.0], [52.5, 60.0]])
    errs_cov, errs_img = [], []
    for row in range(int(top[1]) + 2, int(bottom[1]) - 2, 7):
        y = row + 0.5
        x = top[0] + (y - top[1]) * (bottom[0] - top[0]) / (bottom[1] - top[1])
        lo = int(x) - 6
        cols = np.arange(lo, lo + 13)
        wts = cov[row, cols]
        errs_cov.append(abs((wts * (cols + 0.5)).sum() / wts.sum() - x))
        g = np.clip(img[row, cols], 0, None)
        errs_img.append(abs((g * (cols + 0.5)).sum() / g.sum() - x))
    assert len(errs_cov) > 10
    assert max(errs_cov) < 0.25, max(errs_cov)
    assert max(errs_img) < 0.25, max(errs_img)


def test_line_coverage_fades_instead_of_breaking_up():
    """Far lines are thinner than a pixel: partial coverage along the far touchline, no gaps."""
    cam = PinholeCamera.look_at(
        (52.5, 110.0, -14.0), (52.5, 30.0, 0.0), focal=500.0, image_size=SIZE
    )
    cov = view_line_coverage(cam.image_to_pitch, SIZE)
    xs = np.linspace(30.0, 75.0, 40)
    p = apply_homography(cam.pitch_to_image, np.c_[xs, np.zeros_like(xs)])
    col_max = np.array([cov[int(y) - 2 : int(y) + 3, int(x)].max() for x, y in p])
    assert col_max.min() > 0.02 and col_max.max() < 0.9
    assert col_max.min() > 0.5 * np.median(col_max)  # evenly faint, never broken


def test_lines_render_through_a_non_camera_homography():
    """A top-down (affine) map is no camera: no boards or goals, but the lines are right."""
    s = 640 / 120
    H = np.array([[1 / s, 0, -7.5], [0, 1 / s, -(360 / s - 68) / 2], [0, 0, 1.0]])
    img = _grey(render_view(H, SIZE, np.random.default_rng(0), style=ViewStyle.clean()))
    x = (52.5 + 7.5) * s  # the halfway line, at x = 320.0: it straddles columns 319 and 320
    rows = slice(100, 260)
    bg = (img[rows, 300].mean() + img[rows, 340].mean()) / 2
    excess = img[rows, 319].mean() + img[rows, 320].mean() - 2 * bg  # ~ 0.64 px of paint
    assert x == 320.0 and excess > 30, excess
    assert abs(img[rows, 319].mean() - img[rows, 320].mean()) < 0.3 * excess  # shared equally


# ----- cameras ----------------------------------------------------------------------------------
def _stats(views: list[np.ndarray], size: tuple[int, int]) -> dict[str, float]:
    w, h = size
    L, W = PITCH.length, PITCH.width
    ok, aims, widths, rolls, seen = [], [], [], [], {}
    targets = {
        "left_goal": (0.0, W / 2),
        "right_goal": (L, W / 2),
        "centre": (L / 2, W / 2),
        "corner_tl": (0.0, 0.0),
        "corner_tr": (L, 0.0),
        "corner_bl": (0.0, W),
        "corner_br": (L, W),
        "far_touchline": (L / 2, 0.0),
        "near_touchline": (L / 2, W),
    }
    for H in views:
        ok.append(plausibility(H, size) == [])
        aims.append(apply_homography(H, [[w / 2, h / 2]])[0])
        a, b = apply_homography(H, [[0.0, h / 2], [float(w), h / 2]])
        widths.append(float(np.linalg.norm(a - b)))
        cam = PinholeCamera.from_homography(np.linalg.inv(H), size)
        rolls.append(math.degrees(abs(math.asin(np.clip(cam.R[0, 2], -1, 1)))))
        G = np.linalg.inv(H)
        for k, p in targets.items():
            q = apply_homography(G, [p])[0]
            vis = bool(_front(H, np.array([p]), size)[0]) and 0 <= q[0] < w and 0 <= q[1] < h
            seen[k] = seen.get(k, 0) + vis
    aims_a = np.array(aims)
    return {
        "plausible": float(np.mean(ok)),
        "left_half": float(np.mean(aims_a[:, 0] < L / 2)),
        "right_half": float(np.mean(aims_a[:, 0] > L / 2)),
        "min_width": float(np.min(widths)),
        "max_width": float(np.max(widths)),
        "max_roll": float(np.max(rolls)),
        **{k: v / len(views) for k, v in seen.items()},
    }


def _check_stats(st: dict[str, float]) -> None:
    assert st["plausible"] >= 0.95
    assert st["left_half"] > 0.25 and st["right_half"] > 0.25
    assert st["min_width"] < 20 and st["max_width"] > 60  # close to wide views
    assert st["max_roll"] < 3.0
    for k in ("left_goal", "right_goal", "centre", "far_touchline", "near_touchline"):
        assert st[k] >= 0.05, (k, st[k])
    for k in ("corner_tl", "corner_tr", "corner_bl", "corner_br"):
        assert st[k] >= 0.02, (k, st[k])


def test_sampled_views_are_plausible_and_cover_the_pitch():
    rng = np.random.default_rng(7)
    _check_stats(_stats([sample_view(rng, SIZE) for _ in range(200)], SIZE))


@pytest.mark.shared_data
def test_sampled_views_from_real_broadcast_poses(shared):
    poses = load_broadcast_poses(shared("calibration/broadcast_camera_homographies.npz"))
    rng = np.random.default_rng(8)
    views = [sample_view(rng, (1280, 720), poses) for _ in range(200)]
    _check_stats(_stats(views, (1280, 720)))


# ----- real assets ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _load(root: str) -> tuple[ViewAssets, float, tuple[str, ...]]:
    """The assets, the seconds they took and every image file read meanwhile."""
    read: list[str] = []
    imread = cv2.imread

    def spy(path, *args, **kwargs):
        read.append(str(path))
        return imread(path, *args, **kwargs)

    cv2.imread = spy
    try:
        t0 = time.perf_counter()
        assets = load_view_assets(Path(root))
        secs = time.perf_counter() - t0
    finally:
        cv2.imread = imread
    return assets, secs, tuple(read)


def _shared_root(shared) -> str:
    shared("pitch_keypoints/wc2022/japan_spain/images")
    shared("pitch_keypoints/wc2022/canada_morocco/images")
    shared("detection/dfl/train/images")
    return str(shared("pitch_keypoints/dfl/train/images").parents[3])


@pytest.mark.slow
@pytest.mark.shared_data
def test_assets_load_from_the_shared_training_splits(shared):
    assets, _secs, _ = _load(_shared_root(shared))
    assert 40 <= len(assets.backgrounds) <= 96
    assert len(assets.occluders) >= 500 and len(assets.overlays) >= 1
    assert {0, 2} <= set(assets.occluder_classes)
    for bg in assets.backgrounds:
        assert bg.dtype == np.uint8 and bg.ndim == 3 and bg.shape[0] >= 40
    for crop, alpha in assets.occluders[:200] + assets.overlays:
        assert crop.shape[:2] == alpha.shape and alpha.dtype == np.float32
        assert float(alpha.min()) >= 0.0 and float(alpha.max()) <= 1.0
    sources = assets.background_sources
    assert any("wc2022/japan_spain" in s for s in sources)
    assert any("wc2022/canada_morocco" in s for s in sources)
    assert any("dfl/train" in s for s in sources)


@pytest.mark.shared_data
def test_assets_never_touch_argentina_france_or_held_out_splits(shared):
    assets, _, read = _load(_shared_root(shared))
    assert read, "no image was read"
    for path in (*read, *assets.background_sources):
        p = path.replace("\\", "/")
        assert "argentina_france" not in p
        assert "/test/" not in p and "/valid/" not in p


@pytest.mark.shared_data
def test_assets_exclude_further_sources(shared):
    root = _shared_root(shared)
    assets = load_view_assets(Path(root), exclude=("japan_spain", "detection"), max_backgrounds=6)
    assert assets.backgrounds and not assets.occluders
    assert not any("japan_spain" in s for s in assets.background_sources)


@pytest.mark.shared_data
def test_render_with_real_assets(shared):
    assets, _, _ = _load(_shared_root(shared))
    rng = np.random.default_rng(12)
    for _ in range(6):
        H = sample_view(rng, SIZE)
        img = render_view(H, SIZE, rng, assets)
        assert img.shape == (360, 640, 3) and img.dtype == np.uint8


def test_missing_data_root_is_an_error(tmp_path):
    with pytest.raises(DataError):
        load_view_assets(tmp_path)
