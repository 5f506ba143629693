"""Pitch geometry: keypoints against the shared README table, conversions, rasters."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchline.errors import DataError
from touchline.pitch import (
    COORDINATE_SYSTEMS,
    DFL_KEYPOINTS,
    Pitch,
    PitchDimensions,
    convert,
    coordinate_system,
    draw_template,
    flip_permutation,
    line_mask,
    orient_attack,
)

_ROW = re.compile(r"^\|\s*(\d+)\s*\|(.+?)\|\s*(\d+)\s*\|(.+?)\|\s*$")
_XY = re.compile(r"\(([^(),]+),\s*([^(),]+)\)\s*$")


def _readme_keypoints(text: str) -> dict[int, tuple[str, str]]:
    """{1-based index: (x expression, y expression)} from the README's keypoint table."""
    section = text.split("## The 32 pitch keypoints", 1)[1]
    out: dict[int, tuple[str, str]] = {}
    for line in section.splitlines():
        m = _ROW.match(line.strip())
        if not m:
            continue
        for idx, desc in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
            xy = _XY.search(desc.strip())
            assert xy, f"no coordinates in README row for keypoint {idx}: {desc!r}"
            out[int(idx)] = (xy.group(1).strip(), xy.group(2).strip())
    return out


def _evaluate(expr: str, length: float, width: float) -> float:
    if not re.fullmatch(r"[0-9LW.+\-*/ ]+", expr):
        raise AssertionError(f"unexpected expression in README: {expr!r}")
    return float(eval(expr, {"__builtins__": {}}, {"L": length, "W": width}))


@pytest.mark.parametrize("size", [(105.0, 68.0), (100.0, 64.0), (120.0, 75.0)])
def test_dfl_keypoints_match_shared_readme(shared, size):
    table = _readme_keypoints(shared("README.md").read_text())
    assert sorted(table) == list(range(1, 33))
    pitch = Pitch.of_size(*size)
    ours = pitch.keypoint_array(DFL_KEYPOINTS)
    for i, (ex, ey) in table.items():
        expected = (_evaluate(ex, *size), _evaluate(ey, *size))
        # The README rounds the penalty-arc ends to 7.31 (exact: sqrt(9.15^2 - 5.5^2) = 7.3125).
        np.testing.assert_allclose(ours[i - 1], expected, atol=0.003, err_msg=f"keypoint {i}")


def test_penalty_arc_ends_lie_on_arc_and_box_front():
    p = Pitch()
    for side in ("left", "right"):
        spot = p.keypoint(f"{side}_penalty_spot")
        for end in ("top", "bottom"):
            q = p.keypoint(f"{side}_penalty_arc_{end}")
            assert math.isclose(np.linalg.norm(q - spot), 9.15, abs_tol=1e-9)
            front_x = 16.5 if side == "left" else 105 - 16.5
            assert q[0] == pytest.approx(front_x)


def test_keypoints_lie_on_painted_lines():
    """Every named keypoint sits on a painted line or arc (or is a spot / goal post)."""
    p = Pitch()
    names = list(p.keypoints)
    d = p.paint_distance(np.stack([p.keypoints[n] for n in names]))
    for name, dist in zip(names, d, strict=True):
        assert dist <= p.dims.line_width / 2 + 1e-9, f"{name} is {dist:.3f} m from painted lines"


@pytest.mark.slow
def test_paint_distance_matches_dense_polylines():
    """The analytic distance agrees with brute force over densely sampled lines."""
    p = Pitch()
    rng = np.random.default_rng(0)
    pts = rng.uniform([-5, -5], [110, 73], size=(400, 2))
    dense = np.concatenate([q for n, q in p.polylines(step=0.005) if "spot" not in n])
    brute = np.min(np.linalg.norm(pts[:, None, :] - dense[None], axis=2), axis=1)
    spots = [a for a in p.arcs if a.filled]
    for a in spots:  # a filled spot: distance to the disc, shifted by half a line width
        r = np.linalg.norm(pts - np.asarray(a.center), axis=1)
        brute = np.minimum(brute, np.maximum(r - a.radius + p.dims.line_width / 2, 0))
    np.testing.assert_allclose(p.paint_distance(pts), brute, atol=0.004)


def test_flip_permutation_mirrors_coordinates():
    p = Pitch()
    kp = p.keypoint_array()
    perm = flip_permutation()
    mirrored = kp.copy()
    mirrored[:, 0] = p.length - mirrored[:, 0]
    np.testing.assert_allclose(mirrored[perm], kp, atol=1e-9)
    assert sorted(perm.tolist()) == list(range(32))
    np.testing.assert_array_equal(perm[perm], np.arange(32))


def test_flip_permutation_missing_mirror():
    with pytest.raises(DataError, match="corner_top_right"):
        flip_permutation(["corner_top_left"])


@pytest.mark.parametrize(
    ("system", "touchline_xy", "expected"),
    [
        ("cdf", (0, 0), (-52.5, 34)),
        ("cdf", (105, 68), (52.5, -34)),
        ("skillcorner", (52.5, 34), (0, 0)),
        ("tracab", (0, 68), (-5250, -3400)),
        ("metrica", (105, 0), (1, 0)),
        ("metrica", (52.5, 68), (0.5, 1)),
        ("lastrow", (0, 0), (0, 100)),
        ("lastrow", (105, 68), (100, 0)),
        ("opta", (26.25, 51), (25, 25)),
        ("statsbomb", (105, 68), (120, 80)),
        ("wc14", (52.5, 34), (57.5, 37)),
        ("touchline", (12.3, 45.6), (12.3, 45.6)),
    ],
)
def test_known_conversions(system, touchline_xy, expected):
    got = convert([touchline_xy], "touchline", system)
    np.testing.assert_allclose(got[0], expected, atol=1e-9)
    back = convert(got, system, "touchline")
    np.testing.assert_allclose(back[0], touchline_xy, atol=1e-9)


coords = st.floats(min_value=-20, max_value=130, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    pts=st.lists(st.tuples(coords, coords), min_size=1, max_size=20),
    chain=st.lists(st.sampled_from(sorted(COORDINATE_SYSTEMS)), min_size=1, max_size=6),
    length=st.floats(min_value=90, max_value=120),
    width=st.floats(min_value=45, max_value=90),
    rotations=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_conversion_chains_round_trip(pts, chain, length, width, rotations):
    """Random points through a random chain of systems (with 180-degree rotations) and back."""
    pitch = Pitch.of_size(length, width)
    start = np.asarray(pts, dtype=float)
    p, systems = start, ["touchline", *chain]
    for (a, b), rot in zip(itertools.pairwise(systems), rotations, strict=False):
        p = convert(p, a, b, pitch=pitch, rotate=rot)
    n_rot = sum(rotations[: len(chain)])
    back = convert(p, systems[-1], "touchline", pitch=pitch, rotate=n_rot % 2 == 1)
    np.testing.assert_allclose(back, start, atol=1e-7)


def test_convert_keeps_nan_and_shape():
    pts = np.array([[[1.0, 2.0], [np.nan, 3.0]]])
    out = convert(pts, "touchline", "cdf")
    assert out.shape == (1, 2, 2)
    assert np.isnan(out[0, 1, 0]) and not np.isnan(out[0, 1, 1])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (([[0, 0]], "nope", "cdf"), "unknown coordinate system 'nope'"),
        (([0, 0, 0], "cdf", "touchline"), r"shape \(\.\.\., 2\)"),
    ],
)
def test_convert_errors(args, error):
    with pytest.raises(DataError, match=error):
        convert(*args)


def test_orient_attack_per_point_flags():
    pts = np.array([[10.0, 5.0], [10.0, 5.0]])
    out = orient_attack(pts, [True, False])
    np.testing.assert_allclose(out, [[10, 5], [95, 63]])
    out_cdf = orient_attack([[-40.0, 10.0]], False, system="cdf")
    np.testing.assert_allclose(out_cdf, [[40.0, -10.0]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"length": -1}, "positive"),
        ({"length": 30}, "penalty areas"),
        ({"width": 40}, "penalty-area width"),
    ],
)
def test_invalid_dimensions(kwargs, match):
    with pytest.raises(DataError, match=match):
        PitchDimensions(**kwargs)


def test_coordinate_system_lookup():
    assert coordinate_system("cdf").origin == "center"
    cs = COORDINATE_SYSTEMS["metrica"]
    assert coordinate_system(cs) is cs


@pytest.mark.parametrize("px_per_m", [2.0, 5.0, 10.0])
def test_line_mask_has_lines_where_geometry_says(px_per_m):
    pitch = Pitch()
    mask, raster = line_mask(pitch, px_per_m=px_per_m, margin=2.0)
    m = raster.pitch_to_raster
    # Points on the lines are painted, points well between lines are not.
    for name, pts in pitch.polylines(step=1.0):
        if "spot" in name:
            continue
        q = np.floor(pts @ m[:2, :2].T + m[:2, 2]).astype(int)
        q = q[(q[:, 0] < raster.width) & (q[:, 1] < raster.height)]
        assert mask[q[:, 1], q[:, 0]].mean() > 200
    for off in [(30.0, 20.0), (80.0, 50.0), (8.0, 30.0)]:
        x, y = np.floor(np.array(off) @ m[:2, :2].T + m[:2, 2]).astype(int)
        assert mask[y, x] == 0
    # Line area matches the geometry, up to half a pixel of grid quantisation per unit length.
    total = sum(
        np.linalg.norm(np.diff(p, axis=0), axis=1).sum()
        for n, p in pitch.polylines(step=0.05)
        if "spot" not in n
    )
    lw = max(pitch.dims.line_width, 1.5 / px_per_m)
    expected_px = total * lw * px_per_m**2
    slack = 0.5 * total * px_per_m + 100
    assert abs((mask > 0).sum() - expected_px) < slack


def test_draw_template_any_size():
    for w in (64, 333, 1920):
        img, raster = draw_template(width=w, margin=0)
        assert img.shape == (raster.height, w, 3)
        assert img.dtype == np.uint8
        # White line pixels exist along the halfway line.
        x = round(52.5 * raster.px_per_m)
        assert img[:, max(0, x - 1) : x + 2].max() >= 200
