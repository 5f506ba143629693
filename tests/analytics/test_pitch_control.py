"""Pitch control (Spearman 2018): sums, agreement with the direct reference, symmetries.

What holds exactly: the normalised output (the default) sums to 1 in every cell (to rounding);
the raw output (``normalise=False``) sums to more than ``1 - model_converge_tol`` in every
converged cell. The vectorised model equals Shaw's per-cell algorithm (the reference) to ~1e-7
(float32 per-player terms); the acceptance bound is 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchline.analytics.pitch_control import (
    PitchControlParams,
    grid_centres,
    pitch_control,
    pitch_control_reference,
)
from touchline.errors import DataError
from touchline.pitch import Pitch

L, W = 105.0, 68.0


def frame(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A plausible moment: two 11-player shapes facing each other, running, ball at an attacker.

    Attackers play left to right; the defending keeper is row 0 of the defence, at the right goal.
    """
    rng = np.random.default_rng(seed)
    shape = np.array(
        [[-40, 0], [-25, -20], [-25, -7], [-25, 7], [-25, 20], [-8, -22], [-8, -5], [-8, 10],
         [10, -18], [12, 0], [10, 18]],
        dtype=float,
    )  # fmt: skip
    centre = np.array([rng.uniform(35, 70), rng.uniform(28, 40)])
    att = centre + shape * [0.9, 1.0] + rng.normal(0, 3, shape.shape)
    dfn = centre + 6 + shape * [-0.8, 0.9] + rng.normal(0, 3, shape.shape)
    dfn[0] = [L - 3 + rng.normal(0, 1), W / 2 + rng.normal(0, 3)]
    att, dfn = np.clip(att, 0.5, [L - 0.5, W - 0.5]), np.clip(dfn, 0.5, [L - 0.5, W - 0.5])
    av = rng.normal([1.5, 0], 2.0, (11, 2))
    dv = rng.normal([-0.5, 0], 2.0, (11, 2))
    ball = att[rng.integers(1, 11)] + rng.normal(0, 0.5, 2)
    return att, av, dfn, dv, ball


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference(seed: int) -> None:
    att, av, dfn, dv, ball = frame(seed)
    for normalise in (True, False):
        kw = {"grid": (12, 8), "defence_gk": 0, "normalise": normalise}
        fast = pitch_control(att, av, dfn, dv, ball, **kw)
        ref = pitch_control_reference(att, av, dfn, dv, ball, **kw)
        assert np.abs(fast.attack - ref.attack).max() < 1e-3
        assert np.abs(fast.defence - ref.defence).max() < 1e-3
        np.testing.assert_array_equal(fast.converged, ref.converged)
        np.testing.assert_array_equal(fast.xs, ref.xs)


def test_matches_reference_uniform_players_no_ball_nan_rows() -> None:
    rng = np.random.default_rng(7)
    att = rng.uniform([0, 0], [L, W], (11, 2))
    dfn = rng.uniform([0, 0], [L, W], (11, 2))
    att[3] = np.nan
    av = rng.normal(0, 3, (11, 2))
    dv = rng.normal(0, 3, (11, 2))
    dv[2] = np.nan  # unknown velocity: standing still
    for ball in (None, [np.nan, np.nan], att[0]):
        kw = {"grid": (10, 7), "attack_gk": 1, "defence_gk": 4, "normalise": False}
        fast = pitch_control(att, av, dfn, dv, ball, **kw)
        ref = pitch_control_reference(att, av, dfn, dv, ball, **kw)
        assert np.abs(fast.attack - ref.attack).max() < 1e-3
        assert np.abs(fast.defence - ref.defence).max() < 1e-3


def test_no_skipping_is_exact() -> None:
    att, av, dfn, dv, ball = frame(4)
    p = PitchControlParams(skip_logit=math.inf)
    kw = {"grid": (9, 6), "defence_gk": 0, "params": p, "normalise": False}
    fast = pitch_control(att, av, dfn, dv, ball, **kw)
    ref = pitch_control_reference(att, av, dfn, dv, ball, **kw)
    assert np.abs(fast.attack - ref.attack).max() < 1e-5


@pytest.mark.parametrize("seed", [0, 3])
def test_sums_to_one(seed: int) -> None:
    att, av, dfn, dv, ball = frame(seed)
    r = pitch_control(att, av, dfn, dv, ball, defence_gk=0)
    assert r.attack.shape == r.defence.shape == (32, 50)
    assert r.converged.all()
    np.testing.assert_allclose(r.attack + r.defence, 1.0, atol=1e-12)
    assert ((r.attack >= 0) & (r.attack <= 1)).all()
    raw = pitch_control(att, av, dfn, dv, ball, defence_gk=0, normalise=False)
    tol = PitchControlParams().model_converge_tol
    assert (raw.attack + raw.defence > 1 - tol).all()
    assert (raw.attack >= 0).all() and (raw.defence >= 0).all()


def test_grid_centres_and_shape() -> None:
    xs, ys = grid_centres((50, 32))
    assert xs[0] == pytest.approx(1.05) and xs[-1] == pytest.approx(L - 1.05)
    assert ys[0] == pytest.approx(1.0625) and ys[-1] == pytest.approx(W - 1.0625)
    r = pitch_control(
        [[50, 30]], None, [[60, 30]], None, None, grid=(7, 3), pitch=Pitch.of_size(100, 60)
    )
    assert r.attack.shape == (3, 7)
    assert r.xs[-1] == pytest.approx(100 - 100 / 14)


def test_mirror_symmetry() -> None:
    att, av, dfn, dv, ball = frame(5)
    flip = np.array([-1.0, 1.0])

    def mx(p: np.ndarray) -> np.ndarray:
        return np.array([L, 0.0]) + p * flip

    base = pitch_control(att, av, dfn, dv, ball, defence_gk=0)
    m = pitch_control(mx(att), av * flip, mx(dfn), dv * flip, mx(ball), defence_gk=0)
    np.testing.assert_allclose(m.attack, base.attack[:, ::-1], atol=1e-5)
    # across the width too
    my = pitch_control(
        att * [1, -1] + [0, W], av * [1, -1], dfn * [1, -1] + [0, W], dv * [1, -1],
        ball * [1, -1] + [0, W], defence_gk=0,
    )  # fmt: skip
    np.testing.assert_allclose(my.attack, base.attack[::-1, :], atol=1e-5)


def test_swapping_teams_with_equal_parameters_is_complementary() -> None:
    att, av, dfn, dv, ball = frame(6)
    p = PitchControlParams(lambda_def=4.3, lambda_gk=4.3)
    a = pitch_control(att, av, dfn, dv, ball, params=p)
    b = pitch_control(dfn, dv, att, av, ball, params=p)
    np.testing.assert_allclose(a.attack, b.defence, atol=1e-5)
    np.testing.assert_allclose(a.defence, b.attack, atol=1e-5)


def test_defensive_advantage() -> None:
    """Equidistant players: the defender wins (kappa_def = 1.72); the keeper even more so."""
    att, dfn = [[40.0, 34.0]], [[60.0, 34.0]]
    r = pitch_control(att, None, dfn, None, None, grid=(21, 1))  # cell 10 centre is x = 52.5
    assert r.defence[0, 10] > 0.6
    gk = pitch_control(att, None, dfn, None, None, grid=(21, 1), defence_gk=0)
    assert gk.defence[0, 10] > r.defence[0, 10]


def test_lone_attacker_controls_nearby_cells() -> None:
    rng = np.random.default_rng(3)
    dfn = rng.uniform([70, 5], [100, 63], (11, 2))
    r = pitch_control([[20.0, 20.0]], [[0.0, 0.0]], dfn, np.zeros((11, 2)), [25.0, 25.0])
    ix, iy = int(20 // (L / 50)), int(20 // (W / 32))
    assert r.attack[iy, ix] > 0.99
    near = np.hypot(r.xs[None, :] - 20, r.ys[:, None] - 20) < 12
    assert r.attack[near].min() > 0.99
    assert r.defence[:, -5:].min() > 0.99


def test_moving_player_gains_cells_ahead() -> None:
    att, dfn = [[50.0, 34.0]], [[55.0, 34.0]]
    still = pitch_control(att, None, dfn, None, None)
    running = pitch_control(att, [[6.0, 0.0]], dfn, None, None)
    assert running.attack[:, 30:].mean() > still.attack[:, 30:].mean() + 0.05


def test_nan_players_are_ignored() -> None:
    att, av, dfn, dv, ball = frame(8)
    base = pitch_control(att, av, dfn, dv, ball, grid=(20, 12))
    att2 = np.vstack([att, [np.nan, 3.0]])
    av2 = np.vstack([av, [1.0, 1.0]])
    r = pitch_control(att2, av2, dfn, dv, ball, grid=(20, 12))
    np.testing.assert_array_equal(r.attack, base.attack)
    empty_def = pitch_control(att, av, np.full((3, 2), np.nan), None, ball, grid=(20, 12))
    np.testing.assert_array_equal(empty_def.attack, 1.0)
    none = pitch_control(np.zeros((0, 2)), None, [[np.nan, np.nan]], None, ball, grid=(4, 3))
    assert np.isnan(none.attack).all() and not none.converged.any()


def test_invalid_inputs() -> None:
    with pytest.raises(DataError, match="velocities"):
        pitch_control([[1, 2], [3, 4]], [[0, 0]], [[5, 5]], None, None)
    with pytest.raises(DataError, match="goalkeeper"):
        pitch_control([[1, 2]], None, [[5, 5]], None, None, defence_gk=3)
    with pytest.raises(DataError, match="ball_xy"):
        pitch_control([[1, 2]], None, [[5, 5]], None, [1, 2, 3])
    with pytest.raises(DataError, match="grid"):
        pitch_control([[1, 2]], None, [[5, 5]], None, None, grid=(0, 3))
    with pytest.raises(DataError, match="tti_sigma"):
        PitchControlParams(tti_sigma=0)


def test_params_defaults() -> None:
    p = PitchControlParams()
    assert p.lambda_def == pytest.approx(4.3 * 1.72)
    assert p.lambda_gk == pytest.approx(3 * 4.3 * 1.72)
    assert p.time_to_control_att == pytest.approx(
        3 * math.log(10) * (math.sqrt(3) * 0.45 / math.pi + 1 / 4.3)
    )


def test_pitch_control_frame_from_tracks() -> None:
    import pandas as pd

    from touchline.analytics.pitch_control import pitch_control_frame
    from touchline.tracks import TRACK_COLUMN_NAMES, Tracks

    att, av, dfn, dv, ball = frame(9)
    dt = 0.04
    rows = []
    for f in (0, 1):
        for team, (xy, v) in enumerate([(att, av), (dfn, dv)]):
            pos = xy - v * dt * (1 - f)  # frame 1 is the moment; frame 0 one step earlier
            for k, (x, y) in enumerate(pos):
                cls = 1 if (team == 1 and k == 0) else 0
                rows.append(
                    {"frame": f, "time": f * dt, "track_id": 100 * team + k, "class_id": cls,
                     "team": team, "pitch_x": x, "pitch_y": y, "confidence": 0.9}
                )  # fmt: skip
        rows.append(
            {"frame": f, "time": f * dt, "track_id": 999, "class_id": 3, "team": -1,
             "pitch_x": ball[0], "pitch_y": ball[1], "confidence": 0.8}
        )  # fmt: skip
    df = pd.DataFrame(rows)
    for c in TRACK_COLUMN_NAMES:
        if c not in df:
            df[c] = "player" if c == "class_name" else 0.0
    tracks = Tracks(df)
    r = pitch_control_frame(tracks, 1, attacking_team=0, grid=(20, 12))
    # positions are float32 in the table, so compare with a tolerance
    direct = pitch_control(att, av, dfn, dv, ball, grid=(20, 12), defence_gk=0)
    assert np.abs(r.attack - direct.attack).max() < 1e-3
    swapped = pitch_control_frame(tracks, 1, attacking_team=1, grid=(20, 12))
    assert swapped.attack.mean() != pytest.approx(r.attack.mean())
    with pytest.raises(DataError, match="attacking_team"):
        pitch_control_frame(tracks, 1, attacking_team=2)
