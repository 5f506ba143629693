"""Game states and possession: hand-checked on small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from touchline.analytics.possession import possession
from touchline.analytics.state import GameStates
from touchline.errors import DataError
from touchline.tracks import Tracks


def _table(rows: list[tuple[int, int, str, int, float, float]], **meta: object) -> Tracks:
    df = pd.DataFrame(
        rows, columns=["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]
    )
    return Tracks.from_positions(df, fps=10, meta=meta or None)


def _play(n: int = 5) -> list[tuple[int, int, str, int, float, float]]:
    rows = []
    for f in range(n):
        rows += [
            (f, 0, "ball", -1, 50.0 + f, 30.0),
            (f, 1, "player", 0, 50.0 + f, 30.5),  # dribbles right at 10 m/s
            (f, 2, "goalkeeper", 0, 5.0, 34.0),
            (f, 3, "player", 1, 70.0, 30.0),
            (f, 4, "goalkeeper", 1, 100.0, 34.0),
        ]
    return rows


def test_states_arrays_hand_checked() -> None:
    s = GameStates.from_tracks(_table(_play()))
    assert s.frames.tolist() == [0, 1, 2, 3, 4]
    assert s.ids.tolist() == [1, 2, 3, 4]
    assert s.team.tolist() == [0, 0, 1, 1]
    assert s.goalkeeper.tolist() == [False, True, False, True]
    np.testing.assert_allclose(s.xy[2, 0], [52.0, 30.5])
    np.testing.assert_allclose(s.ball[4], [54.0, 30.0])
    # central differences inside, the neighbouring value carried to the run's ends
    np.testing.assert_allclose(s.vel[:, 0, 0], 10.0)
    np.testing.assert_allclose(s.vel[:, 2], 0.0)
    np.testing.assert_allclose(s.times, np.arange(5) / 10)
    # team 0's keeper stands at x = 5: team 0 defends the left goal and attacks right
    assert s.direction.tolist() == [1] * 5
    assert s.attack(0, 0) == "right" and s.attack(0, 1) == "left"
    xy, vel, gk = s.side(3, 1)
    np.testing.assert_allclose(xy, [[70.0, 30.0], [100.0, 34.0]])
    assert gk == 1 and vel.shape == (2, 2)
    assert s.index(3) == 3
    with pytest.raises(DataError, match="frame 9"):
        s.index(9)


def test_states_unseen_people_are_nan_and_the_best_ball_wins() -> None:
    rows = _play(3)
    rows = [r for r in rows if not (r[0] == 1 and r[1] == 3)]  # player 3 unseen at frame 1
    rows.append((1, 9, "ball", -1, 10.0, 10.0))  # a second ball candidate
    t = _table(rows)
    df = t.df.copy()
    df["confidence"] = np.where(df["track_id"] == 9, 0.9, 0.5)
    s = GameStates.from_tracks(Tracks(df, fps=10))
    assert np.isnan(s.xy[1, 2]).all()
    assert s.side(1, 1)[0].shape == (1, 2)
    np.testing.assert_allclose(s.ball[1], [10.0, 10.0])


def test_direction_from_meta_per_period_and_inferred() -> None:
    rows = _play(4)
    t = _table(rows)
    df = t.df.copy()
    df["period"] = np.where(df["frame"] < 2, 1, 2)
    s = GameStates.from_tracks(
        Tracks(df, fps=10, meta={"attack_direction": {"1": "left", "2": "right"}})
    )
    assert s.direction.tolist() == [-1, -1, 1, 1]
    with pytest.raises(DataError, match=r"\['attack_direction'\]\['1'\]: expected 'right'"):
        Tracks(df, fps=10, meta={"attack_direction": {"1": "up"}})
    # inferred: keepers swapped -> team 0 attacks left
    swapped = [
        (f, t, c, tm, 105.0 - x if c == "goalkeeper" else x, y) for f, t, c, tm, x, y in rows
    ]
    assert set(GameStates.from_tracks(_table(swapped)).direction.tolist()) == {-1}
    # without keepers: the team standing further left defends the left goal
    outfield = [r for r in rows if r[2] != "goalkeeper"]  # team 0 at 50+, team 1 at 70
    assert set(GameStates.from_tracks(_table(outfield)).direction.tolist()) == {1}


def test_states_errors_name_the_problem() -> None:
    with pytest.raises(DataError, match="empty"):
        GameStates.from_tracks(Tracks.empty())


def test_possession_hysteresis_and_backfill() -> None:
    rows = []
    ball_x = [60, 60, 51, 50.5, 50.5, 59, 69.5, 69.5, 69.5, 69.5]
    for f, bx in enumerate(ball_x):
        rows += [
            (f, 0, "ball", -1, bx, 30.0),
            (f, 1, "player", 0, 50.0, 30.0),
            (f, 3, "player", 1, 70.0, 30.0),
        ]
    s = GameStates.from_tracks(_table(rows))
    p = possession(s, radius=2.0, min_seconds=0.3, max_relative_speed=None)
    # frames 0-1: nobody controls; back-filled with the first team in control (team 0 at 2)
    # frames 6-8: team 1 controls for 3 frames -> takes the ball at frame 8
    assert p.controlled.tolist() == [False, False, True, True, True, False, True, True, True, True]
    assert p.team.tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert p.player.tolist() == [1, 1, 1, 1, 1, 1, 1, 1, 3, 3]
    np.testing.assert_allclose(p.distance[3], 0.5)
    assert p.share() == {0: 0.8, 1: 0.2}
    assert list(p.to_dataframe().columns) == ["frame", "team", "player", "controlled", "distance"]
    with pytest.raises(DataError):
        possession(s, radius=0)
    with pytest.raises(ValueError, match="min_seconds"):
        possession(s, min_seconds=-0.1)


@pytest.mark.parametrize(("fps", "takes_at"), [(25, 8), (50, 11)])
def test_possession_min_seconds_follows_the_frame_rate(fps: int, takes_at: int) -> None:
    """Team 1 controls the ball from frame 6 on: the default 0.12 s is 3 frames at 25 fps (as
    the old ``min_frames=3``) and 6 at 50 fps."""
    rows = []
    for f in range(14):
        bx = 50.5 if f < 6 else 69.5
        rows += [
            (f, 0, "ball", -1, bx, 30.0),
            (f, 1, "player", 0, 50.0, 30.0),
            (f, 3, "player", 1, 70.0, 30.0),
        ]
    df = pd.DataFrame(
        rows, columns=["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]
    )
    s = GameStates.from_tracks(Tracks.from_positions(df, fps=fps))
    p = possession(s, max_relative_speed=None)
    assert p.team.tolist() == [0] * takes_at + [1] * (14 - takes_at)


def test_a_shot_flying_past_a_player_is_not_controlled() -> None:
    rows = []
    for f in range(12):
        # at player 1's feet for 3 frames, then shot at 20 m/s past the defender at x = 70
        bx = 50.2 + 0.1 * f if f < 3 else 58.0 + 2.0 * (f - 3)
        rows += [
            (f, 0, "ball", -1, bx, 30.0),
            (f, 1, "player", 0, 50.0, 30.0),
            (f, 3, "player", 1, 70.0, 30.0),
        ]
    s = GameStates.from_tracks(_table(rows))
    fast = possession(s, min_seconds=0.1)
    assert fast.controlled[:2].all()
    assert not fast.controlled[8:11].any()  # within 2 m of player 3, but at 20 m/s
    assert (fast.team == 0).all()
    loose = possession(s, min_seconds=0.1, max_relative_speed=None)
    assert loose.controlled[9] and loose.team[9] == 1
