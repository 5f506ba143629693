"""Expected threat by value iteration, and the event readers that feed it.

Hand-checked world (1 x 3 cells along the length, no priors, discount 1):

* right cell: 2 shots (1 goal), 2 moves (1 succeeds, back to the middle): P_shoot = P_move =
  1/2, xG = 1/2, T(right -> middle) = 1/2;
* middle cell: 1 shot (no goal), 3 successful moves (2 to the right, 1 to the left): P_shoot =
  1/4, xG = 0, P_move = 3/4, T(middle -> right) = 2/3, T(middle -> left) = 1/3;
* left cell: 2 moves (1 succeeds, to the middle): P_move = 1, T(left -> middle) = 1/2.

So x0 = x1 / 2, x1 = 3/4 (2/3 x2 + 1/3 x0) and x2 = 1/4 + 1/4 x1, whence
xT = (1/12, 1/6, 7/24).
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from touchline.analytics.value import ValueSurface
from touchline.analytics.xt import (
    METRICA_EVENT_FILES,
    Moves,
    Shots,
    XtModel,
    events_from_kloppy,
    events_from_metrica_csv,
    fit_xt,
    fit_xt_from_files,
)
from touchline.errors import DataError
from touchline.pitch import Pitch

L, W = 105.0, 68.0
LEFT, MID, RIGHT = 17.5, 52.5, 87.5  # cell centres of a 3 x 1 grid
Y = 34.0


def hand_world() -> tuple[Moves, Shots]:
    moves = [
        (RIGHT, MID, True),
        (RIGHT, RIGHT, False),
        (MID, RIGHT, True),
        (MID, RIGHT, True),
        (MID, LEFT, True),
        (LEFT, MID, True),
        (LEFT, LEFT, False),
    ]
    start = [[a, Y] for a, _, _ in moves]
    end = [[b, Y] for _, b, _ in moves]
    shots = Shots([[RIGHT, Y], [RIGHT, Y], [MID, Y]], [True, False, False])
    return Moves(start, end, [ok for *_, ok in moves]), shots


HAND_P_SHOOT = np.array([0.0, 0.25, 0.5])
HAND_P_MOVE = np.array([1.0, 0.75, 0.5])
HAND_XG = np.array([0.0, 0.0, 0.5])
HAND_T = np.array([[0.0, 0.5, 0.0], [1 / 3, 0.0, 2 / 3], [0.0, 0.5, 0.0]])


def raw_fit(moves: Moves, shots: Shots, **kw) -> XtModel:
    return fit_xt(moves, shots, xg_prior=0, action_prior=0, tol=1e-15, **kw)


# --------------------------------------------------------------------------------------------
# Value iteration on hand-built worlds
# --------------------------------------------------------------------------------------------
def test_hand_world_ingredients_and_fixed_point():
    m = raw_fit(*hand_world(), grid=(3, 1))
    np.testing.assert_allclose(m.p_shoot[0], HAND_P_SHOOT, atol=1e-15)
    np.testing.assert_allclose(m.p_move[0], HAND_P_MOVE, atol=1e-15)
    np.testing.assert_allclose(m.xg[0], HAND_XG, atol=1e-15)
    np.testing.assert_allclose(m.transition, HAND_T, atol=1e-15)
    assert m.move_count.tolist() == [[2, 3, 2]] and m.success_count.tolist() == [[1, 3, 1]]
    assert m.shot_count.tolist() == [[0, 1, 2]] and m.goal_count.tolist() == [[0, 0, 1]]
    assert m.converged and m.residual <= 1e-15
    np.testing.assert_allclose(m.values[0], [1 / 12, 1 / 6, 7 / 24], rtol=0, atol=1e-12)
    assert isinstance(m.surface, ValueSurface) and m.surface.name == "xT"
    assert m.grid == (3, 1)


@pytest.mark.parametrize("discount", [1.0, 0.9, 0.5, 0.0])
def test_fixed_point_solves_the_linear_system(discount):
    m = raw_fit(*hand_world(), grid=(3, 1), discount=discount)
    a = np.eye(3) - discount * HAND_P_MOVE[:, None] * HAND_T
    expected = np.linalg.solve(a, HAND_P_SHOOT * HAND_XG)
    np.testing.assert_allclose(m.values[0], expected, rtol=0, atol=1e-9)


def test_discount_zero_is_just_shooting():
    m = raw_fit(*hand_world(), grid=(3, 1), discount=0.0)
    np.testing.assert_array_equal(m.values[0], HAND_P_SHOOT * HAND_XG)
    assert m.values[0].tolist() == [0.0, 0.0, 0.25]
    assert m.iterations == 2 and m.converged  # the second sweep changes nothing


def test_smoothed_fit_is_the_fixed_point_of_its_own_ingredients():
    rng = np.random.default_rng(0)
    start = rng.uniform([0, 0], [L, W], (400, 2))
    end = np.clip(start + rng.normal([8, 0], 15, (400, 2)), [0, 0], [L, W])
    shots = rng.uniform([70, 10], [L, W - 10], (30, 2))
    moves = Moves(start, end, rng.uniform(size=400) < 0.8)
    shots_ = Shots(shots, rng.uniform(size=30) < 0.2)
    for radius in (None, 1, 2):
        m = fit_xt(moves, shots_, grid=(8, 6), discount=0.95, prior_radius=radius, tol=1e-14)
        np.testing.assert_allclose(m.p_shoot + m.p_move, 1.0, atol=1e-12)
        assert (m.transition.sum(axis=1) <= 1 + 1e-12).all()
        a = np.eye(48) - 0.95 * m.p_move.ravel()[:, None] * m.transition
        x = np.linalg.solve(a, (m.p_shoot * m.xg).ravel())
        np.testing.assert_allclose(m.values.ravel(), x, rtol=0, atol=1e-9)


def test_global_prior_by_hand():
    # 3 shots in all, 1 goal: global rate 1/3; 3 moves: global shot share 1/2.
    moves = Moves([[MID, Y]] * 3, [[MID, Y]] * 3, [True] * 3)
    shots = Shots([[RIGHT, Y], [RIGHT, Y], [MID, Y]], [True, False, False])
    m = fit_xt(moves, shots, grid=(3, 1), xg_prior=2, action_prior=1, prior_radius=None)
    # middle: 1 shot, no goal -> xG (0 + 2/3) / (1 + 2); 1 shot + 3 moves + 1 pseudo-action.
    assert m.xg[0, 1] == pytest.approx((2 / 3) / 3)
    assert m.p_shoot[0, 1] == pytest.approx((1 + 0.5) / 5)
    assert m.p_move[0, 1] == pytest.approx((3 + 0.5) / 5)
    assert m.transition[1, 1] == pytest.approx(3 / 3.5)  # the pseudo-move loses the ball
    # left: nobody played there: the global rates, no transitions.
    assert (m.xg[0, 0], m.p_shoot[0, 0]) == pytest.approx((1 / 3, 0.5))
    assert m.transition[0].sum() == 0


def test_neighbourhood_prior_by_hand():
    # One successful move left -> middle; no shots. With radius 1 the middle cell borrows it
    # as middle -> right (same displacement), the left cell pools it with itself.
    moves = Moves([[LEFT, Y]], [[MID, Y]], [True])
    m = fit_xt(moves, Shots.empty(), grid=(3, 1), xg_prior=0, action_prior=1, prior_radius=1)
    np.testing.assert_allclose(m.transition, [[0, 1, 0], [0, 0, 1], [0, 0, 0]], atol=1e-15)
    np.testing.assert_allclose(m.p_move[0], [1, 1, 1])
    np.testing.assert_allclose(m.values, 0.0)


def test_convergence_is_reported():
    m = raw_fit(*hand_world(), grid=(3, 1), max_iter=3)
    assert not m.converged and m.iterations == 3 and m.residual > 1e-6
    m = raw_fit(*hand_world(), grid=(3, 1), max_iter=10_000)
    assert m.converged and 10 < m.iterations < 200


def test_empty_inputs_round_trip():
    m = fit_xt(Moves.empty(), Shots.empty())
    assert m.values.shape == (12, 16) and not m.values.any() and m.converged
    assert len(Moves.merge([])) == 0 and len(Shots.merge([])) == 0


def test_nan_rows_and_off_pitch_points():
    moves = Moves(
        [[np.nan, 1.0], [MID, Y], [200.0, -5.0]], [[1, 1], [np.nan, Y], [1, 1]], [1, 1, 1]
    )
    shots = Shots([[np.nan, Y], [120.0, Y]], [True, True])
    m = raw_fit(moves, shots, grid=(3, 1))
    # NaN start ignored; NaN end = failed; off-pitch points go to the edge cell.
    assert m.move_count.tolist() == [[0, 1, 1]] and m.success_count.tolist() == [[0, 0, 1]]
    assert m.shot_count.tolist() == [[0, 0, 1]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grid": (0, 3)}, r"positive cell counts"),
        ({"discount": 1.5}, r"discount must be in \[0, 1\]"),
        ({"xg_prior": -1}, r">= 0"),
        ({"action_prior": -0.5}, r">= 0"),
        ({"prior_radius": 0}, r"prior_radius"),
        ({"max_iter": 0}, r"max_iter"),
        ({"tol": 0.0}, r"tol"),
    ],
)
def test_fit_argument_errors(kwargs, match):
    with pytest.raises(DataError, match=match):
        fit_xt(*hand_world(), **kwargs)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Moves(np.zeros((3, 2)), np.zeros((2, 2)), [True] * 3), r"must match"),
        (lambda: Moves(np.zeros((3, 3)), np.zeros((3, 3)), [True] * 3), r"\(n, 2\)"),
        (lambda: Moves(np.zeros((2, 2)), np.zeros((2, 2)), [True]), r"expected \(2,\), got \(1,\)"),
        (lambda: Moves(np.zeros((2, 2)), np.zeros((2, 2)), [1, 1], {"k": [1]}), r"data\['k'\]"),
        (lambda: Shots(np.zeros((2, 2)), [True] * 3), r"one flag per row"),
    ],
)
def test_moves_and_shots_errors(make, match):
    with pytest.raises(DataError, match=match):
        make()


def test_moves_index_and_merge_keep_data():
    m = Moves(
        [[1, 2], [3, 4], [5, 6]], [[2, 2], [4, 4], [6, 6]], [1, 0, 1], {"kind": ["a", "b", "c"]}
    )
    sub = m[np.array([True, False, True])]
    assert sub.start.tolist() == [[1, 2], [5, 6]] and sub.data["kind"].tolist() == ["a", "c"]
    both = Moves.merge([m, m[1:]])
    assert len(both) == 5 and both.data["kind"].tolist() == ["a", "b", "c", "b", "c"]
    assert "kind" not in Moves.merge([m, Moves.empty()]).data  # only keys every part has


# --------------------------------------------------------------------------------------------
# Metrica csv reader on files written by the tests
# --------------------------------------------------------------------------------------------
HEADER = (
    "Team,Type,Subtype,Period,Start Frame,Start Time [s],End Frame,End Time [s],From,To,"
    "Start X,Start Y,End X,End Y"
)


def metrica_csv(tmp_path: Path, rows: list[str], name: str = "events.csv") -> Path:
    f = tmp_path / name
    f.write_text("\n".join([HEADER, *rows]) + "\n")
    return f


def row(team, typ, sub, period, t0, t1, who, to, sx, sy, ex="NaN", ey="NaN") -> str:
    return f"{team},{typ},{sub},{period},0,{t0},0,{t1},{who},{to},{sx},{sy},{ex},{ey}"


def test_metrica_reader_directions_rotation_and_kinds(tmp_path):
    rows = [
        # period 1: Home shoots at x = 0.9 (attacks right), Away at 0.15 (attacks left)
        row("Home", "PASS", "", 1, 1.0, 2.0, "H1", "H2", 0.5, 0.5, 0.6, 0.2),
        row("Home", "PASS", "", 1, 4.0, 5.0, "H2", "H3", 0.7, 0.25, 0.8, 0.4),  # carry before
        row("Home", "SHOT", "HEAD-ON TARGET-GOAL", 1, 6.0, 6.5, "H3", "", 0.9, 0.4, 1.0, 0.5),
        row("Away", "BALL LOST", "THEFT", 1, 10.0, 10.0, "A1", "", 0.3, 0.1),
        row("Away", "SHOT", "ON TARGET-SAVED", 1, 12.0, 12.5, "A2", "", 0.15, 0.5, 0.0, 0.5),
        # period 2: ends swapped
        row("Home", "BALL OUT", "", 2, 50.0, 51.0, "H1", "", 0.4, 0.3, 0.2, -0.02),
        row("Home", "SHOT", "OFF TARGET-OUT", 2, 55.0, 56.0, "H4", "", 0.12, 0.6, -0.01, 0.4),
        row("Away", "SHOT", "BLOCKED", 2, 60.0, 60.1, "A2", "", 0.8, 0.5, 0.81, 0.5),
    ]
    moves, shots = events_from_metrica_csv(metrica_csv(tmp_path, rows))
    assert shots.data["attack"].tolist() == ["right", "left", "left", "right"]
    assert shots.goal.tolist() == [True, False, False, False]
    np.testing.assert_allclose(
        shots.xy, [[94.5, 27.2], [L - 15.75, W - 34.0], [L - 12.6, W - 40.8], [84.0, 34.0]]
    )
    assert (shots.xy[:, 0] > L / 2).all()
    # Two carries: reception -> next pass, and reception -> shot (10.5 m, 1 s).
    assert moves.data["kind"].tolist() == ["pass", "carry", "pass", "carry", "lost", "out"]
    assert moves.success.tolist() == [True, True, True, True, False, False]
    np.testing.assert_allclose(moves.end[3], shots.xy[0])
    # The carry: from the first pass's end (0.6, 0.2) to the second pass's start (0.7, 0.25).
    np.testing.assert_allclose(moves.start[1], [63.0, 13.6])
    np.testing.assert_allclose(moves.end[1], [73.5, 17.0])
    # Away attacks left in period 1: rotated; a loss without end point ends where it started.
    np.testing.assert_allclose(moves.start[4], [L - 31.5, W - 6.8])
    np.testing.assert_allclose(moves.end[4], moves.start[4])
    np.testing.assert_allclose(moves.end[5], [L - 21.0, W + 1.36])  # out of play, rotated
    assert moves.data["period"].tolist() == [1, 1, 1, 1, 1, 2]
    assert moves.data["team"].tolist() == ["Home"] * 4 + ["Away", "Home"]


def test_metrica_carries_need_length_and_time(tmp_path):
    rows = [
        row("Home", "PASS", "", 1, 1.0, 2.0, "H1", "H2", 0.5, 0.5, 0.6, 0.5),
        row("Home", "PASS", "", 1, 3.0, 4.0, "H2", "H3", 0.61, 0.5, 0.7, 0.5),  # 1.05 m: none
        row("Home", "PASS", "", 1, 30.0, 31.0, "H3", "H1", 0.8, 0.5, 0.5, 0.5),  # 26 s: none
        row("Home", "RECOVERY", "", 1, 40.0, 40.0, "H5", "", 0.3, 0.5),
        row("Home", "PASS", "", 1, 42.0, 43.0, "H5", "H1", 0.4, 0.5, 0.5, 0.5),  # carry
        row("Home", "SHOT", "ON TARGET-GOAL", 1, 50.0, 51.0, "H9", "", 0.9, 0.5, 1.0, 0.5),
    ]
    moves, _ = events_from_metrica_csv(metrica_csv(tmp_path, rows))
    assert moves.data["kind"].tolist() == ["pass", "pass", "pass", "carry", "pass"]
    np.testing.assert_allclose(moves.start[3], [31.5, 34.0])
    moves, _ = events_from_metrica_csv(metrica_csv(tmp_path, rows), carries=False)
    assert "carry" not in moves.data["kind"].tolist()
    moves, _ = events_from_metrica_csv(metrica_csv(tmp_path, rows), min_carry_length=0.5)
    assert moves.data["kind"].tolist().count("carry") == 2


def test_metrica_period_without_shots_uses_pass_progression(tmp_path):
    rows = [
        row("Home", "SHOT", "OFF TARGET-OUT", 1, 1.0, 2.0, "H1", "", 0.9, 0.5, 1.0, 0.5),
        row("Home", "PASS", "", 2, 10.0, 11.0, "H1", "H2", 0.6, 0.5, 0.3, 0.5),  # forward = left
        row("Away", "PASS", "", 2, 20.0, 21.0, "A1", "A2", 0.5, 0.5, 0.6, 0.5),
    ]
    moves, shots = events_from_metrica_csv(metrica_csv(tmp_path, rows))
    assert moves.data["attack"].tolist() == ["left", "right"]
    assert shots.data["attack"].tolist() == ["right"]
    np.testing.assert_allclose(moves.end[0], [L - 31.5, 34.0])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Team,Type\nHome,PASS\n", r"missing columns \['Subtype'"),
        (
            HEADER + "\n" + row("Home", "PASS", "", 1, 0, 1, "H1", "H2", 0.5, 0.5, 0.5, 0.3),
            r"cannot tell which way Home attacks in period 1",
        ),
        (
            HEADER + "\n" + row("Home", "PASS", "", 1, 0, 1, "H1", "H2", "a", 0.5, 0.6, 0.5),
            r"coordinates must be numbers",
        ),
    ],
)
def test_metrica_reader_errors_name_the_file(tmp_path, text, match):
    f = tmp_path / "bad_events.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=match) as err:
        events_from_metrica_csv(f)
    assert str(f) in str(err.value)
    with pytest.raises(DataError, match=r"file not found: .*nope\.csv"):
        events_from_metrica_csv(tmp_path / "nope.csv")


def test_fit_from_files_without_shared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHLINE_SHARED_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataError, match=r"Sample_Game_1_RawEventsData\.csv not found"):
        fit_xt_from_files()
    with pytest.raises(DataError, match=r"at least one"):
        fit_xt_from_files([])


# --------------------------------------------------------------------------------------------
# Real data: Metrica's two sample games
# --------------------------------------------------------------------------------------------
@functools.cache
def _metrica_fit(paths: tuple[Path, ...], discount: float = 1.0) -> XtModel:
    return fit_xt_from_files(list(paths), discount=discount)


@pytest.fixture
def metrica_paths(shared: Callable[[str], Path]) -> tuple[Path, ...]:
    return tuple(shared(f) for f in METRICA_EVENT_FILES)


def test_metrica_events_are_normalised_to_attack_right(metrica_paths):
    for path in metrica_paths:
        moves, shots = events_from_metrica_csv(path)
        assert len(shots) == 24 and (shots.xy[:, 0] > L / 2).all()
        # Each team swaps ends at half time, and the two teams attack opposite ways.
        att = dict(
            zip(
                zip(shots.data["team"], shots.data["period"], strict=True),
                shots.data["attack"],
                strict=True,
            )
        )
        assert att[("Home", 1)] != att[("Home", 2)] and att[("Away", 1)] != att[("Away", 2)]
        assert att[("Home", 1)] != att[("Away", 1)]
        assert {"pass", "carry", "lost", "out"} <= set(moves.data["kind"].tolist())
        assert 0.7 < moves.success.mean() < 0.9


def test_metrica_xt_is_sane(metrica_paths):
    m = _metrica_fit(metrica_paths)
    assert m.converged and m.values.shape == (12, 16)
    assert int(m.shot_count.sum()) == 48 and int(m.goal_count.sum()) == 8
    v = m.values
    own, middle, final = v[:, :5].mean(), v[:, 5:11].mean(), v[:, 11:].mean()
    assert final > 2 * middle > 4 * own > 0
    s = m.surface
    front, corners = (
        s.at([[L - 8.0, W / 2]])[0],
        s.at([[L - 1, 1], [L - 1, W - 1], [1, 1], [1, W - 1]]),
    )
    assert front > 0.2 and (front > 3 * corners).all()
    iy, ix = np.unravel_index(np.argmax(v), v.shape)
    assert ix >= 14 and 4 <= iy <= 7  # just in front of the opponents' goal
    assert s.at([[8.0, W / 2]], "left")[0] == pytest.approx(front)
    assert fit_xt_from_files().values.tolist() == v.tolist()  # paths=None: the same two games


def test_metrica_discount_lowers_values(metrica_paths):
    full, short = _metrica_fit(metrica_paths), _metrica_fit(metrica_paths, 0.8)
    assert (short.values <= full.values + 1e-15).all()
    assert short.iterations < full.iterations


# --------------------------------------------------------------------------------------------
# kloppy event datasets (the sample files kloppy ships)
# --------------------------------------------------------------------------------------------
def _kloppy_files() -> pathlib.Path:
    kloppy = pytest.importorskip("kloppy")
    files = pathlib.Path(kloppy.__file__).parent / "tests" / "files"
    if not (files / "statsbomb_event.json").exists():
        pytest.skip("kloppy's sample files are not installed")
    return files


def test_kloppy_statsbomb():
    from kloppy import statsbomb

    files = _kloppy_files()
    ds = statsbomb.load(
        event_data=str(files / "statsbomb_event.json"),
        lineup_data=str(files / "statsbomb_lineup.json"),
    )
    moves, shots = events_from_kloppy(ds)
    assert len(shots) == 28 and int(shots.goal.sum()) == 3  # the own goal is skipped
    assert (shots.xy[:, 0] > L / 2).all()
    assert {"pass", "carry"} <= set(moves.data["kind"].tolist())
    assert 0.85 < moves.success.mean() < 0.95
    assert ((moves.start >= 0) & (moves.start <= [L, W])).all()


def test_kloppy_metrica_with_a_wrong_declared_orientation():
    from kloppy import metrica

    files = _kloppy_files()
    ds = metrica.load_event(
        event_data=str(files / "metrica_events.json"),
        meta_data=str(files / "epts_metrica_metadata.xml"),
    )
    moves, shots = events_from_kloppy(ds, pitch=Pitch.of_size(100, 64))
    assert len(shots) == 20 and int(shots.goal.sum()) == 2
    assert (shots.xy[:, 0] > 50).all()  # kloppy alone would put them all at the left goal
    m = fit_xt(moves, shots, grid=(12, 8), pitch=Pitch.of_size(100, 64))
    assert m.values[:, -3:].mean() > m.values[:, :3].mean()


def test_kloppy_needs_a_dataset():
    with pytest.raises(DataError, match=r"kloppy EventDataset, got list"):
        events_from_kloppy([])
