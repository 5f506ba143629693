"""Value surfaces: lookups (bilinear, nearest, mirrored), resampling, EPV and xT loaders.

Hand-checkable facts: bilinear interpolation returns the grid value at every cell centre and
reproduces a surface that is linear in (x, y) exactly between the outer cell centres; a team
attacking left sees the surface rotated by 180 degrees. Shaw's EPV file stores the bottom
touchline first (his y points up), so its rows are reversed on loading.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from touchline.analytics.pitch_control import grid_centres
from touchline.analytics.value import ValueSurface, load_epv, load_xt
from touchline.data import ENV_VAR
from touchline.errors import DataError
from touchline.pitch import Pitch

L, W = 105.0, 68.0


def random_surface(shape: tuple[int, int], seed: int = 0, pitch: Pitch | None = None):
    rng = np.random.default_rng(seed)
    return ValueSurface(rng.uniform(0, 1, shape), pitch or Pitch(), "random")


# --------------------------------------------------------------------------------------------
# ValueSurface
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (4, 1), (8, 12), (32, 50)])
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_cell_centres_give_the_grid_values(shape, method):
    s = random_surface(shape, pitch=Pitch.of_size(100, 60))
    gx, gy = np.meshgrid(s.xs, s.ys)
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    np.testing.assert_allclose(s.at(pts, method=method), s.values.ravel(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(s.on_grid(s.xs, s.ys, method=method), s.values, atol=1e-15)


def test_bilinear_is_exact_on_a_linear_surface():
    s0 = ValueSurface(np.zeros((6, 10)))
    gx, gy = np.meshgrid(s0.xs, s0.ys)
    s = ValueSurface(0.01 * gx - 0.02 * gy + 3.0)
    rng = np.random.default_rng(1)
    pts = rng.uniform([s.xs[0], s.ys[0]], [s.xs[-1], s.ys[-1]], size=(200, 2))
    np.testing.assert_allclose(s.at(pts), 0.01 * pts[:, 0] - 0.02 * pts[:, 1] + 3.0, atol=1e-12)


def test_hand_checked_lookups():
    # 2 x 2 cells of 52.5 x 34 m: centres at x 26.25 / 78.75, y 17 / 51.
    s = ValueSurface(np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert s.at([[52.5, 34.0]]).tolist() == [1.5]  # the middle of the four centres
    assert s.at([[52.5, 17.0]]).tolist() == [0.5]
    assert s.at([[26.25, 34.0]]).tolist() == [1.0]
    assert s.at([[1.0, 1.0]]).tolist() == [0.0]  # held flat within half a cell of the edge
    assert s.at([[52.4, 33.9]], method="nearest").tolist() == [0.0]
    assert s.at([[52.6, 34.1]], method="nearest").tolist() == [3.0]
    assert s.at([52.5, 34.0]).shape == (1,)  # one point
    assert s.at(np.zeros((0, 2))).shape == (0,)


def test_points_off_the_pitch_are_clamped_and_nan_gives_nan():
    s = random_surface((5, 7))
    out = s.at([[-10.0, -3.0], [300.0, 90.0], [-1.0, 90.0], [np.nan, 3.0]])
    np.testing.assert_array_equal(out[:3], [s.values[0, 0], s.values[-1, -1], s.values[-1, 0]])
    assert np.isnan(out[3])
    near = s.at([[-10.0, -3.0], [300.0, 90.0]], method="nearest")
    np.testing.assert_array_equal(near, [s.values[0, 0], s.values[-1, -1]])


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_attacking_left_is_the_surface_rotated_by_180_degrees(method):
    s = random_surface((8, 12), seed=3)
    rng = np.random.default_rng(4)
    pts = rng.uniform([0, 0], [L, W], size=(100, 2))
    left = s.at(pts, "left", method=method)
    np.testing.assert_allclose(left, s.at(np.c_[L - pts[:, 0], W - pts[:, 1]], method=method))
    np.testing.assert_allclose(left, s.flipped().at(pts, method=method))
    np.testing.assert_array_equal(s.flipped().flipped().values, s.values)
    # The top-left cell of a left-attacking team is the bottom-right cell of the grid.
    assert s.at([[s.xs[0], s.ys[0]]], "left")[0] == s.values[-1, -1]
    np.testing.assert_allclose(s.on_grid(s.xs, s.ys, "left"), s.values[::-1, ::-1])


def test_on_grid_lines_up_with_pitch_control_cells():
    s = random_surface((32, 50), seed=5)
    xs, ys = grid_centres((50, 32))
    np.testing.assert_allclose(s.on_grid(xs, ys), s.values, atol=1e-15)
    xs2, ys2 = grid_centres((16, 12))
    out = s.on_grid(xs2, ys2, "left")
    assert out.shape == (12, 16)
    assert out[2, 7] == pytest.approx(s.at([[xs2[7], ys2[2]]], "left")[0])


def test_move_value():
    s = ValueSurface(np.array([[0.0, 1.0]]))
    start = [[26.25, 34.0], [26.25, 34.0], [78.75, 10.0]]
    end = [[78.75, 34.0], [78.75, 34.0], [26.25, 10.0]]
    assert s.move_value(start, end).tolist() == [1.0, 1.0, -1.0]
    assert s.move_value(start, end, [True, False, True]).tolist() == [1.0, -0.0, -1.0]
    assert s.move_value(start, end, attack="left").tolist() == [-1.0, -1.0, 1.0]


def test_values_are_stored_read_only():
    raw = np.ones((2, 3))
    s = ValueSurface(raw)
    raw[0, 0] = 5.0
    assert s.values[0, 0] == 1.0
    with pytest.raises(ValueError):
        s.values[0, 0] = 2.0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ValueSurface(np.ones(4)), r"\(ny, nx\) grid, got \(4,\)"),
        (lambda: ValueSurface(np.ones((0, 3))), r"non-empty"),
        (
            lambda: ValueSurface(np.array([[1.0, np.nan]])),
            r"finite, got nan at \[iy, ix\] = \[0, 1\]",
        ),
        (lambda: ValueSurface([["a", "b"]]), r"numeric"),
        (lambda: ValueSurface(np.ones((2, 2))).at([[1.0, 2.0]], "up"), r"'right' or 'left'"),
        (lambda: ValueSurface(np.ones((2, 2))).at([[1.0, 2.0]], method="cubic"), r"bilinear"),
        (lambda: ValueSurface(np.ones((2, 2))).at(np.ones((3, 3))), r"\(n, 2\).*\(3, 3\)"),
        (
            lambda: ValueSurface(np.ones((2, 2))).move_value([[1, 2]], [[1, 2]], [True, False]),
            r"one flag per move",
        ),
    ],
)
def test_surface_errors(make, match):
    with pytest.raises(DataError, match=match):
        make()


# --------------------------------------------------------------------------------------------
# Loaders on files written by the tests
# --------------------------------------------------------------------------------------------
def test_epv_rows_are_reversed_and_xt_rows_kept(tmp_path: Path):
    grid = np.arange(32 * 50, dtype=float).reshape(32, 50) / 10000.0  # rows all different
    f = tmp_path / "epv.csv"
    np.savetxt(f, grid, delimiter=",", fmt="%.4f")
    s = load_epv(f)
    assert s.shape == (32, 50) and s.name == "EPV" and s.source == str(f)
    np.testing.assert_allclose(s.values, grid[::-1])  # file row 0 = bottom touchline
    # The bottom-left corner of the pitch reads the file's first value.
    assert s.at([[0.0, W]], method="nearest")[0] == pytest.approx(grid[0, 0])
    # Shaw's 106 m grid is stretched to the pitch: column 49 ends on the goal line.
    short = load_epv(f, pitch=Pitch.of_size(100, 60))
    assert short.cell_size == pytest.approx((2.0, 60 / 32))

    xt = np.tile(np.linspace(0.01, 0.3, 12), (8, 1)) + np.arange(8)[:, None] * 1e-3
    g = tmp_path / "xt.json"
    g.write_text(json.dumps(xt.tolist()))
    t = load_xt(g)
    assert t.shape == (8, 12) and t.name == "xT"
    np.testing.assert_allclose(t.values, xt)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("loader", "name", "text", "match"),
    [
        (load_epv, "short.csv", "0.1,0.2\n0.3,0.4\n", r"expected a 32 x 50 EPV grid.*got 2 x 2"),
        (load_epv, "word.csv", "0.1,abc\n0.3,0.4\n", r"not a comma-separated grid"),
        (load_epv, "ragged.csv", "0.1,0.2\n0.3\n", r"not a comma-separated grid"),
        (load_epv, "empty.csv", "", r"no EPV values \(empty file\)"),
        (load_xt, "short.json", "[[0.1, 0.2], [0.3, 0.4]]", r"expected a 8 x 12 xT grid"),
        (load_xt, "bad.json", "[[0.1, 0.2], [0.3", r"not valid JSON"),
        (load_xt, "ragged.json", "[[0.1, 0.2], [0.3]]", r"equally long lists"),
        (load_xt, "dict.json", '{"xT": [[0.1]]}', r"equally long lists"),
        (load_xt, "word.json", '[[0.1, "x"]]', r"not a number"),
        (load_xt, "empty.json", "[]", r"equally long lists"),
        (load_xt, "flat.json", "[0.1, 0.2]", r"equally long lists"),
    ],
)
def test_loader_errors_name_the_file(tmp_path, loader, name, text, match):
    f = _write(tmp_path / name, text)
    with pytest.raises(DataError, match=match) as err:
        loader(f)
    assert str(f) in str(err.value)


@pytest.mark.parametrize("loader", [load_epv, load_xt])
@pytest.mark.parametrize(("bad", "match"), [(np.nan, r"is nan"), (1.5, r"\[0, 1\]")])
def test_loader_rejects_nan_and_non_probabilities(tmp_path, loader, bad, match):
    shape = (32, 50) if loader is load_epv else (8, 12)
    grid = np.full(shape, 0.1)
    grid[3, 4] = bad
    if loader is load_epv:
        f = tmp_path / "g.csv"
        np.savetxt(f, grid, delimiter=",")
    else:
        f = _write(tmp_path / "g.json", json.dumps(grid.tolist()))  # NaN is written as NaN
    with pytest.raises(DataError, match=match) as err:
        loader(f)
    assert str(f) in str(err.value)


def test_missing_files(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"file not found: .*nope\.csv"):
        load_epv(tmp_path / "nope.csv")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no_shared_data_here"))
    with pytest.raises(DataError, match=r"value/epv_grid_32x50\.csv not found"):
        load_epv()
    with pytest.raises(DataError, match=r"value/xt_grid_8x12\.json not found"):
        load_xt()


# --------------------------------------------------------------------------------------------
# The shared EPV and xT grids
# --------------------------------------------------------------------------------------------
def test_shared_epv(shared: Callable[[str], Path]):
    path = shared("value/epv_grid_32x50.csv")
    s = load_epv(path)
    assert s.shape == (32, 50)
    np.testing.assert_array_equal(load_epv().values, s.values)  # path=None finds it
    raw = np.loadtxt(path, delimiter=",")
    np.testing.assert_array_equal(s.values, raw[::-1])
    iy, ix = np.unravel_index(np.argmax(s.values), s.shape)
    assert ix == 49 and iy in (15, 16)  # at the opponents' goal (right), centred
    assert s.values.max() == pytest.approx(0.5714)
    goal_mouth, own_goal = s.at([[L - 1.0, W / 2], [1.0, W / 2]])
    assert goal_mouth > 0.5 > 0.01 > own_goal
    # Attacking left, the same danger is at x = 0.
    assert s.at([[1.0, W / 2]], "left")[0] == pytest.approx(goal_mouth)


def test_shared_xt(shared: Callable[[str], Path]):
    path = shared("value/xt_grid_8x12.json")
    s = load_xt(path)
    assert s.shape == (8, 12)
    np.testing.assert_array_equal(load_xt().values, s.values)
    np.testing.assert_array_equal(s.values, s.values[::-1])  # symmetric about the long axis
    iy, ix = np.unravel_index(np.argmax(s.values), s.shape)
    assert ix == 11 and iy in (3, 4)
    assert s.values.max() == pytest.approx(0.25745362)
    # Left to right, every row increases towards the opponents' goal, bar tiny dips.
    assert (s.values[:, -1] > s.values[:, 0]).all()
    assert s.at([[L - 2.0, W / 2]])[0] > 0.2 > 0.01 > s.at([[2.0, W / 2]])[0]
