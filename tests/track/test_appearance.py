"""Appearance features: shapes and edge cases, kit similarity under sun and shade, speed, and
the two kits of real DFL frames (labelled boxes of ``detection/dfl/test``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.track.appearance import (
    FEATURE_DIM,
    appearance_features,
    cosine_distance,
    ema_update,
    grass_color,
    normalize_rows,
)
from touchline.track.teams import TeamClassifier

GRASS = (40, 120, 50)  # BGR
SUNNY_GRASS = (110, 200, 150)
WHITE, RED, BLACK = (235, 235, 235), (30, 30, 200), (25, 25, 25)


def _pitch(h: int = 240, w: int = 400, sunny_right: bool = False) -> np.ndarray:
    """A grass frame, optionally with a sunlit right half; mild noise."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = GRASS
    if sunny_right:
        img[:, w // 2 :] = SUNNY_GRASS
    noise = np.random.default_rng(0).normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _player(
    img: np.ndarray, x: int, y: int, shirt: tuple[int, ...], shorts: tuple[int, ...], light=1.0
) -> list[float]:
    """Draw a 16x40 px figure at (x, y) (top-left); return its box with a little margin."""

    def c(col: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(int(min(255, v * light)) for v in col)

    img[y : y + 6, x + 5 : x + 11] = c((90, 120, 170))  # head
    img[y + 6 : y + 20, x + 1 : x + 15] = c(shirt)
    img[y + 20 : y + 28, x + 2 : x + 14] = c(shorts)
    img[y + 28 : y + 40, x + 3 : x + 6] = c((80, 110, 160))  # legs
    img[y + 28 : y + 40, x + 10 : x + 13] = c((80, 110, 160))
    return [x - 2, y - 1, x + 18, y + 41]


# --------------------------------------------------------------------------------------------
# Shapes, edge cases
# --------------------------------------------------------------------------------------------
def test_shapes_and_unit_norm() -> None:
    img = _pitch()
    boxes = [_player(img, 40 + 40 * i, 60, RED, WHITE) for i in range(5)]
    f = appearance_features(img, boxes)
    assert f.shape == (5, FEATURE_DIM) and f.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)
    assert (f >= 0).all()


@pytest.mark.parametrize("empty", [np.zeros((0, 4)), [], np.zeros((0, 4), np.float32)])
def test_empty_input(empty) -> None:
    f = appearance_features(_pitch(), empty)
    assert f.shape == (0, FEATURE_DIM) and f.dtype == np.float32


def test_boxes_outside_tiny_and_degenerate() -> None:
    img = _pitch(120, 200)
    _player(img, 190, 100, RED, WHITE)  # cut by the right and bottom edges
    boxes = np.array(
        [
            [-50, -50, -10, -10],  # fully outside
            [250, 10, 300, 60],  # fully outside (right)
            [188, 99, 208, 141],  # partly outside
            [100, 50, 101, 51],  # 1 px
            [100, 50, 102.5, 54.5],  # a few px
            [100, 50, 100, 50],  # zero area
            [-100, -60, 300, 180],  # larger than the image, covers it
        ],
        np.float32,
    )
    f = appearance_features(img, boxes)
    assert f.shape == (7, FEATURE_DIM) and np.isfinite(f).all()
    norms = np.linalg.norm(f, axis=1)
    assert norms[0] == 0 and norms[1] == 0 and norms[5] == 0
    assert norms[2] == pytest.approx(1.0, abs=1e-5)
    assert norms[6] == pytest.approx(1.0, abs=1e-5)  # its inside part covers the regions
    assert set(np.round(norms[[3, 4]], 4)) <= {0.0, 1.0}
    # A box partly outside is described by its visible part: still closest to its own kit.
    ref = appearance_features(img, [_player(img, 60, 40, RED, WHITE)])
    other = appearance_features(img, [_player(img, 100, 40, WHITE, BLACK)])
    assert cosine_distance(f[2:3], ref)[0, 0] < cosine_distance(f[2:3], other)[0, 0]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="BGR uint8"):
        appearance_features(np.zeros((10, 10), np.uint8), [[0, 0, 5, 5]])
    with pytest.raises(ValueError, match="BGR uint8"):
        appearance_features(np.zeros((10, 10, 3), np.float32), [[0, 0, 5, 5]])
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        appearance_features(np.zeros((10, 10, 3), np.uint8), [[0, 0, 5]])


def test_deterministic_and_independent_of_other_boxes() -> None:
    img = _pitch()
    boxes = np.array([_player(img, 40 + 50 * i, 60, RED, WHITE) for i in range(4)], np.float32)
    a = appearance_features(img, boxes)
    b = appearance_features(img, boxes[::-1])[::-1]
    np.testing.assert_array_equal(a, appearance_features(img, boxes))
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a[1:2], appearance_features(img, boxes[1:2]), atol=1e-6)


# --------------------------------------------------------------------------------------------
# What the features see
# --------------------------------------------------------------------------------------------
def test_same_kit_closer_than_other_kits_in_sun_and_shade() -> None:
    """Kits under sun and shade: the same kit stays nearer than any other kit."""
    img = _pitch(200, 480, sunny_right=True)
    kits = {"red": (RED, WHITE), "white": (WHITE, BLACK), "black": (BLACK, BLACK)}
    boxes, names = [], []
    for j, (name, (shirt, shorts)) in enumerate(kits.items()):
        boxes.append(_player(img, 20 + 60 * j, 40, shirt, shorts, light=0.7))  # shade
        boxes.append(_player(img, 260 + 60 * j, 110, shirt, shorts, light=1.25))  # sun
        names += [name, name]
    d = cosine_distance(*(2 * [appearance_features(img, boxes)]))
    same = np.equal.outer(names, names)
    np.fill_diagonal(same, False)
    other = ~np.equal.outer(names, names)
    for i in range(len(names)):
        assert d[i, same[i]].max() < d[i, other[i]].min(), names[i]


def test_grass_margin_does_not_matter() -> None:
    """A loose box (more grass around the player) describes the same kit."""
    img = _pitch()
    tight = _player(img, 100, 60, RED, WHITE)
    loose = [tight[0] - 6, tight[1] - 4, tight[2] + 6, tight[3] + 4]
    white = _player(img, 200, 60, WHITE, BLACK)
    f = appearance_features(img, [tight, loose, white])
    d = cosine_distance(f, f)
    assert d[0, 1] < 0.1 < d[0, 2]


def test_grass_color() -> None:
    g = grass_color(_pitch(sunny_right=True))
    assert g is not None
    lo, hi = g.l_range
    assert lo < hi  # shade and sun both within the grass lightness range
    assert grass_color(np.full((50, 80, 3), 128, np.uint8)) is None
    # Without grass the features still work (no grass weighting).
    img = np.full((100, 100, 3), 90, np.uint8)
    img[20:80, 40:60] = RED
    f = appearance_features(img, [[35, 10, 65, 90]])
    assert np.linalg.norm(f) == pytest.approx(1.0, abs=1e-5)
    # A precomputed grass colour gives the same features as the frame's own estimate.
    img = _pitch()
    boxes = [_player(img, 60, 60, RED, WHITE)]
    np.testing.assert_array_equal(
        appearance_features(img, boxes), appearance_features(img, boxes, grass=grass_color(img))
    )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def test_cosine_distance_and_normalize() -> None:
    a = np.array([[1.0, 0.0], [0.0, 0.0]])
    d = cosine_distance(a, [[3.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(d, [[0.0, 1.0], [1.0, 1.0]])
    assert cosine_distance(np.zeros((0, 2)), a).shape == (0, 2)
    with pytest.raises(ValueError):
        cosine_distance(a, np.ones((1, 3)))
    np.testing.assert_allclose(normalize_rows([[0.0, 5.0]]), [[0.0, 1.0]])
    with pytest.raises(ValueError):
        normalize_rows([1.0, 2.0])


def test_ema_update() -> None:
    old = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    new = np.array([[0.0, 1.0], [0.0, 0.0]], np.float32)  # the second row has no pixels
    out = ema_update(old, new, alpha=0.2)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    assert out[0, 0] > out[0, 1] > 0
    np.testing.assert_array_equal(out[1], old[1])
    np.testing.assert_array_equal(ema_update(old, new, alpha=0.0), old)
    with pytest.raises(ValueError):
        ema_update(old, new, alpha=1.5)
    with pytest.raises(ValueError):
        ema_update(old, new[:1], alpha=0.5)


# --------------------------------------------------------------------------------------------
# Real frames
# --------------------------------------------------------------------------------------------
def _silhouette(d: np.ndarray, labels: np.ndarray) -> np.ndarray:
    out = np.zeros(len(labels))
    for i in range(len(labels)):
        same = labels == labels[i]
        same[i] = False
        if same.any() and (labels != labels[i]).any():
            a, b = d[i, same].mean(), d[i, labels != labels[i]].mean()
            out[i] = (b - a) / max(a, b)
    return out


@pytest.mark.shared_data
def test_dfl_stills_two_kits(shared: Callable[[str], Path]) -> None:
    """On every labelled DFL test frame the players form two well-separated, balanced kits."""
    from touchline.datasets.detection import read_yolo_split

    samples = read_yolo_split(shared("detection/dfl/test"))
    sils, shares = [], []
    for s in samples:
        dets = s.detections
        players = np.array([dets.class_names[c] == "player" for c in dets.class_id])
        if players.sum() < 10:
            continue
        img = cv2.imread(str(s.image))
        f = appearance_features(img, dets.xyxy[players])
        labels = TeamClassifier().fit(f).predict(f)
        sils.append(_silhouette(cosine_distance(f, f), labels).mean())
        shares.append(np.bincount(labels, minlength=2).min() / labels.size)
    sils_a, shares_a = np.array(sils), np.array(shares)
    print(
        f"DFL test: {len(sils)} frames, silhouette mean {sils_a.mean():.3f} min "
        f"{sils_a.min():.3f}; smaller kit share min {shares_a.min():.2f}"
    )
    assert len(sils) >= 20
    assert sils_a.mean() > 0.75 and sils_a.min() > 0.4
    assert shares_a.min() >= 0.4  # ~10 v 10 outfield players on every frame
