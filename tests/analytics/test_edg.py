"""EDG: hand-checked limits, consistency of the map and the series, and the real goal plays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from touchline.analytics.edg import (
    EdgParams,
    edg,
    edg_map,
    edg_series,
    fit_move_scale,
    move_kernel,
)
from touchline.analytics.pitch_control import grid_centres
from touchline.analytics.state import GameStates
from touchline.analytics.value import ValueSurface
from touchline.errors import DataError
from touchline.tracks import Tracks

RAMP = ValueSurface.from_function(lambda x, y: (x / 105.0) ** 3, grid=(50, 32))
ATT = np.array([[88.0, 30.0], [80.0, 45.0], [70.0, 20.0], [55.0, 34.0]])
DEF = np.array([[95.0, 34.0], [85.0, 38.0], [75.0, 28.0], [60.0, 40.0]])


def test_constant_surface_without_defenders_gives_the_discounted_value() -> None:
    flat = ValueSurface(np.full((32, 50), 0.2))
    r = edg(ATT, None, np.zeros((0, 2)), None, ATT[0], flat, params=EdgParams(discount=0.9))
    assert r.value == pytest.approx(0.9 * 0.2, abs=1e-12)
    assert r.contribution.sum() == pytest.approx(r.value)
    assert r.move.sum() == pytest.approx(1.0)


def test_counter_term_without_attackers_is_the_opponents_value() -> None:
    flat = ValueSurface(np.full((32, 50), 0.1))
    p = EdgParams(discount=1.0, counter=0.5)
    r = edg(np.zeros((0, 2)), None, DEF, None, [50.0, 34.0], flat, params=p)
    assert r.value == pytest.approx(-0.5 * 0.1, abs=1e-12)


def test_ball_near_the_opponents_goal_scores_above_midfield_and_own_half() -> None:
    near = edg(ATT, None, DEF, None, [92.0, 34.0], RAMP).value
    mid = edg(ATT, None, DEF, None, [52.5, 34.0], RAMP).value
    own = edg(ATT, None, DEF, None, [20.0, 34.0], RAMP).value
    assert near > mid > own > 0
    # the same state seen by a team attacking left, mirrored, has the same value
    mirror = np.array([105.0, 68.0])
    left = edg(mirror - ATT, None, mirror - DEF, None, mirror - [92.0, 34.0], RAMP, attack="left")
    assert left.value == pytest.approx(near, rel=1e-9)


def test_space_controlled_by_defenders_lowers_edg() -> None:
    open_play = edg(ATT, None, DEF[:1], None, ATT[0], RAMP).value
    crowded = edg(ATT, None, np.vstack([DEF, ATT[0] + np.diag([1.5, 1.5])]), None, ATT[0], RAMP)
    assert crowded.value < open_play


def test_map_matches_single_states() -> None:
    m = edg_map(ATT, None, DEF, None, RAMP, ball_grid=(5, 3))
    bxs, bys = grid_centres((5, 3))
    np.testing.assert_allclose(m.xs, bxs)
    for iy, ix in [(0, 0), (1, 4), (2, 2)]:
        one = edg(ATT, None, DEF, None, [bxs[ix], bys[iy]], RAMP).value
        assert m.value[iy, ix] == pytest.approx(one, rel=1e-12)
    assert m.value[:, -1].mean() > m.value[:, 2].mean() > m.value[:, 0].mean()


def test_move_kernel_and_scale() -> None:
    xs, ys = grid_centres((50, 32))
    t = move_kernel([[10.0, 10.0], [90.0, 50.0]], xs, ys, 8.0)
    assert t.shape == (2, 32, 50)
    np.testing.assert_allclose(t.sum(axis=(1, 2)), 1.0)
    assert np.unravel_index(np.argmax(t[1]), t[1].shape) == (23, 42)
    # mean distance of the 2-D exponential kernel is 2 * scale (on a fine, large grid)
    fx = np.linspace(-200, 200, 801)
    k = move_kernel([0.0, 0.0], fx, fx, 5.0)
    d = np.hypot(fx[None, :], fx[:, None])
    assert float((k * d).sum()) == pytest.approx(10.0, rel=1e-3)
    assert fit_move_scale([4.0, 12.0, np.nan]) == 4.0
    with pytest.raises(DataError):
        fit_move_scale([np.nan])


def test_bad_input_is_named() -> None:
    with pytest.raises(DataError, match="ball"):
        edg(ATT, None, DEF, None, [np.nan, 3.0], RAMP)
    with pytest.raises(DataError, match="attack"):
        edg(ATT, None, DEF, None, [50.0, 3.0], RAMP, attack="up")
    for bad in ({"move_scale": 0.0}, {"discount": 1.5}, {"counter": -1.0}):
        with pytest.raises(DataError):
            EdgParams(**bad)  # type: ignore[arg-type]


def _dribble(n: int = 100) -> Tracks:
    rows = []
    for f in range(n):
        bx = 30.0 + 0.6 * f  # team 0 runs the ball (6 m/s) from its own half to the box
        rows += [
            (f, 0, "ball", -1, bx, 34.0),
            (f, 1, "player", 0, bx - 0.5, 34.0),
            (f, 2, "player", 0, bx - 5, 20.0),
            (f, 3, "goalkeeper", 0, 4.0, 34.0),
            (f, 4, "player", 1, 80.0, 30.0),
            (f, 5, "player", 1, 85.0, 40.0),
            (f, 6, "goalkeeper", 1, 101.0, 34.0),
        ]
    rows.append((n, 0, "ball", -1, 106.5, 34.0))  # in the net: out of play
    for tid, team, x in [(1, 0, 105.0), (2, 0, 95.0), (3, 0, 4.0), (4, 1, 80.0), (5, 1, 85.0)]:
        rows.append((n, tid, "player", team, x, 34.0))
    df = pd.DataFrame(
        rows, columns=["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]
    )
    return Tracks.from_positions(df, fps=10)


def test_series_rises_on_a_run_to_goal_and_marks_out_of_play() -> None:
    s = GameStates.from_tracks(_dribble())
    e = edg_series(s, RAMP, smooth_seconds=0.5)
    assert list(e.columns) == ["frame", "time", "team", "edg", "edg_smooth", "space"]
    assert (e["team"].iloc[:-1] == 0).all()
    assert np.isnan(e["edg"].iloc[-1]) and e["team"].iloc[-1] == -1
    v = e["edg"].to_numpy()[:-1]
    assert v[-20:].mean() > 3 * v[:20].mean()
    assert np.isfinite(e["edg_smooth"].iloc[:-1]).all()
    assert ((e["space"].iloc[:-1] > 0.2) & (e["space"].iloc[:-1] < 0.9)).all()
    # one team in every frame, and a frame subset
    e1 = edg_series(s, RAMP, team=1, frames=[0, 5])
    assert e1["frame"].tolist() == [0, 5] and (e1["team"] == 1).all()
    with pytest.raises(DataError):
        edg_series(s, RAMP, team=2)


@pytest.mark.shared_data
def test_move_scale_from_metrica_passes(shared: Callable[[str], Path]) -> None:
    lengths = []
    for g in (1, 2):
        e = pd.read_csv(shared(f"tracking/metrica_events/Sample_Game_{g}_RawEventsData.csv"))
        p = e[e["Type"] == "PASS"]
        lengths += list(
            np.hypot((p["End X"] - p["Start X"]) * 105, (p["End Y"] - p["Start Y"]) * 68)
        )
    assert len(lengths) == 1763
    assert fit_move_scale(lengths) == pytest.approx(EdgParams().move_scale, abs=0.1)
