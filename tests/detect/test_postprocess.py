"""Tests of detector-agnostic post-processing: NMS, letterbox, tiling and class maps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchline.detect.classmap import invert_class_map, parse_class_map
from touchline.detect.postprocess import (
    Letterbox,
    batched_nms,
    letterbox,
    merge_tiles,
    nms,
    tiles,
)
from touchline.errors import DataError
from touchline.types import Detections


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = w * h
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def brute_nms(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    iou = iou_matrix(boxes, boxes)
    keep: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda k: (-scores[k], k)):
        if all(iou[i, j] <= thr for j in keep):
            keep.append(i)
    return keep


def random_boxes(rng: np.random.Generator, n: int, extent: float = 100.0) -> np.ndarray:
    xy = rng.uniform(0, extent, (n, 2))
    wh = rng.uniform(1, extent / 3, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


# --------------------------------------------------------------------------------------------
# NMS
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 40),
    thr=st.floats(0.05, 0.95),
)
def test_nms_matches_brute_force(seed: int, n: int, thr: float) -> None:
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n)
    scores = rng.random(n)
    kept = nms(boxes, scores, thr)
    assert kept.dtype == np.int64
    assert kept.tolist() == brute_nms(boxes, scores, thr)
    assert np.all(np.diff(scores[kept]) <= 0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 30), thr=st.floats(0.1, 0.9))
def test_batched_nms_is_nms_per_class(seed: int, n: int, thr: float) -> None:
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, extent=50.0) - 20.0  # negative coordinates too
    scores = rng.random(n)
    cls = rng.integers(0, 3, n)
    kept = batched_nms(boxes, scores, cls, thr)
    expected: list[int] = []
    for c in np.unique(cls):
        idx = np.flatnonzero(cls == c)
        expected += [int(idx[k]) for k in brute_nms(boxes[idx], scores[idx], thr)]
    assert sorted(kept.tolist()) == sorted(expected)
    assert np.all(np.diff(scores[kept]) <= 0)


def test_batched_nms_keeps_overlapping_boxes_of_different_classes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]])
    kept = batched_nms(boxes, [0.9, 0.8, 0.7, 0.6], [0, 0, 1, 0], 0.5)
    assert kept.tolist() == [0, 2, 3]
    assert nms(boxes, [0.9, 0.8, 0.7, 0.6], 0.5).tolist() == [0, 3]


def test_nms_edge_cases() -> None:
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []
    assert batched_nms(np.zeros((0, 4)), [], [], 0.5).tolist() == []
    # degenerate (zero-area) boxes never suppress anything
    assert nms([[0, 0, 0, 0], [0, 0, 0, 0]], [0.5, 0.4], 0.1).tolist() == [0, 1]
    with pytest.raises(DataError, match="shape"):
        nms([[0, 0, 1]], [0.5], 0.5)
    with pytest.raises(DataError, match="2 boxes but 1 scores"):
        nms([[0, 0, 1, 1], [0, 0, 1, 1]], [0.5], 0.5)
    with pytest.raises(DataError, match="iou_threshold"):
        nms([[0, 0, 1, 1]], [0.5], 1.5)
    with pytest.raises(DataError, match="class ids"):
        batched_nms([[0, 0, 1, 1]], [0.5], [0, 1], 0.5)


# --------------------------------------------------------------------------------------------
# Letterbox
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_size", "net_size"),
    [
        ((1280, 720), (640, 640)),  # wide, shrink
        ((720, 1280), (640, 640)),  # tall, shrink
        ((500, 500), (640, 640)),  # square, enlarge
        ((333, 97), (640, 384)),  # odd sizes, enlarge
        ((1920, 1080), (960, 544)),  # non-square network input
        ((97, 333), (320, 320)),
    ],
)
def test_letterbox_round_trip(image_size: tuple[int, int], net_size: tuple[int, int]) -> None:
    w, h = image_size
    box = np.array([0.23 * w, 0.31 * h, 0.61 * w, 0.87 * h]).round().astype(int)
    img = np.zeros((h, w, 3), np.uint8)
    img[box[1] : box[3], box[0] : box[2]] = 255
    out, lb = letterbox(img, net_size, pad_value=0)
    assert out.shape == (net_size[1], net_size[0], 3)
    assert out.dtype == np.uint8
    assert lb.image_size == image_size
    ys, xs = np.nonzero(out[:, :, 0] > 127)
    found = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]])
    back = lb.to_original(found)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back[0], box, atol=1.0)
    # the whole letterboxed area maps to the whole image
    rw, rh = lb.resized_size
    full = [[lb.pad_x, lb.pad_y, lb.pad_x + rw, lb.pad_y + rh]]
    np.testing.assert_allclose(lb.to_original(full)[0], [0, 0, w, h], atol=1e-3)


def test_letterbox_padding_is_centred_like_ultralytics() -> None:
    out, lb = letterbox(np.full((720, 1280, 3), 7, np.uint8), (640, 640))
    assert (lb.scale, lb.pad_x, lb.pad_y) == (0.5, 0, 140)
    assert (out[:140] == 114).all() and (out[500:] == 114).all()
    assert (out[140:500] == 7).all()
    out, lb = letterbox(np.zeros((101, 51), np.uint8), (64, 64))  # odd padding
    assert out.shape == (64, 64)
    assert lb.pad_x == (64 - lb.resized_size[0]) // 2


def test_letterbox_to_original_clips_and_validates() -> None:
    lb = Letterbox(scale=0.5, pad_x=0, pad_y=140, image_size=(1280, 720))
    out = lb.to_original([[-10, 0, 700, 700]])
    assert out.tolist() == [[0.0, 0.0, 1280.0, 720.0]]
    assert lb.to_original(np.zeros((0, 4))).shape == (0, 4)
    with pytest.raises(DataError, match="shape"):
        lb.to_original([[1, 2, 3]])


def test_letterbox_rejects_bad_input() -> None:
    with pytest.raises(DataError, match="letterbox"):
        letterbox(np.zeros((0, 5, 3), np.uint8), (64, 64))
    with pytest.raises(DataError, match="size"):
        letterbox(np.zeros((5, 5, 3), np.uint8), (64, 0))


# --------------------------------------------------------------------------------------------
# Tiles
# --------------------------------------------------------------------------------------------


def _axis_intervals(t: list[tuple[int, int, int, int]], axis: int) -> list[tuple[int, int]]:
    return sorted({(b[axis], b[axis + 2]) for b in t})


@settings(max_examples=80, deadline=None)
@given(
    w=st.integers(1, 5000),
    h=st.integers(1, 3000),
    tw=st.integers(16, 1500),
    th=st.integers(16, 1500),
    overlap=st.floats(0.0, 0.9),
)
def test_tiles_cover_with_overlap(w: int, h: int, tw: int, th: int, overlap: float) -> None:
    t = tiles((w, h), (tw, th), overlap)
    cw, ch = min(tw, w), min(th, h)
    for x0, y0, x1, y1 in t:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        assert (x1 - x0, y1 - y0) == (cw, ch)
    for axis, length, size in ((0, w, cw), (1, h, ch)):
        iv = _axis_intervals(t, axis)
        assert iv[0][0] == 0 and iv[-1][1] == length
        for (_, a1), (b0, _) in itertools.pairwise(iv):
            assert a1 - b0 >= overlap * size - 1e-9  # overlap (which also means no gap)
    xs, ys = _axis_intervals(t, 0), _axis_intervals(t, 1)
    assert len(t) == len(xs) * len(ys)


def test_tiles_examples() -> None:
    assert tiles((100, 50), (200, 200)) == [(0, 0, 100, 50)]
    assert tiles((1000, 500), (600, 600), overlap=0.2) == [(0, 0, 600, 500), (400, 0, 1000, 500)]
    t = tiles((3840, 2160), (1280, 720), overlap=0.2)
    assert t[0] == (0, 0, 1280, 720) and t[-1] == (2560, 1440, 3840, 2160)
    with pytest.raises(DataError, match="overlap"):
        tiles((100, 100), (50, 50), overlap=1.0)
    with pytest.raises(DataError, match="tile"):
        tiles((100, 100), (0, 50))


# --------------------------------------------------------------------------------------------
# merge_tiles
# --------------------------------------------------------------------------------------------


def test_merge_tiles_removes_duplicates_across_the_overlap() -> None:
    names = ("player", "ball")
    # a player at x 560..600 in a 1000-wide image, seen by both tiles (0..600 and 400..1000)
    left = Detections(
        xyxy=[[560, 100, 600, 180], [10, 10, 30, 50]],
        confidence=[0.8, 0.9],
        class_id=[0, 0],
        class_names=names,
    )
    right = Detections(
        xyxy=[[158, 101, 201, 181], [160, 100, 200, 180], [500, 300, 510, 310]],
        confidence=[0.85, 0.7, 0.6],
        class_id=[0, 1, 1],
        class_names=names,
    )
    merged = merge_tiles([left, right], [(0, 0), (400, 0)], iou_threshold=0.5)
    assert merged.class_names == names
    assert merged.confidence is not None and merged.class_id is not None
    np.testing.assert_allclose(merged.confidence, [0.9, 0.85, 0.7, 0.6])
    np.testing.assert_allclose(
        merged.xyxy,
        [[10, 10, 30, 50], [558, 101, 601, 181], [560, 100, 600, 180], [900, 300, 910, 310]],
    )
    assert merged.class_id.tolist() == [0, 0, 1, 1]  # the ball overlapping the player is kept


def test_merge_tiles_edge_cases() -> None:
    assert len(merge_tiles([], [], 0.5)) == 0
    plain = Detections(xyxy=[[0, 0, 10, 10]])  # no confidence or class
    merged = merge_tiles([plain, plain], [(0, 0), (1, 0)], 0.5)
    assert len(merged) == 1
    with pytest.raises(DataError, match="2 parts but 1 offsets"):
        merge_tiles([plain, plain], [(0, 0)], 0.5)


# --------------------------------------------------------------------------------------------
# Class maps
# --------------------------------------------------------------------------------------------


def test_parse_class_map() -> None:
    assert parse_class_map([]) == {}
    assert parse_class_map(["player=person,man", " ball = sports ball "]) == {
        "player": ["person", "man"],
        "ball": ["sports ball"],
    }
    assert invert_class_map(parse_class_map(["player=person,man", "ball=sports ball"])) == {
        "person": "player",
        "man": "player",
        "sports ball": "ball",
    }


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (["player"], "expected NAME=a,b,c"),
        (["=person"], "NAME before '=' is empty"),
        (["player="], "empty class name"),
        (["player=a,,b"], "empty class name"),
        (["player=a", "player=b"], "mapped twice"),
        ([3], "expected a string"),
    ],
)
def test_parse_class_map_rejects_malformed(items: list[str], match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        parse_class_map(items)
    assert repr(items[-1]) in str(info.value)


def test_invert_class_map_conflict() -> None:
    with pytest.raises(DataError, match="both"):
        invert_class_map({"a": ["x"], "b": ["x"]})
