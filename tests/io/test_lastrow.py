"""touchline.io.lastrow: LastRow goal plays (shared data) and hand-made CSVs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from touchline.errors import DataError
from touchline.io import META_KEYS, read_lastrow
from touchline.tracks import TRACK_COLUMN_NAMES

LIV = "tracking/lastrow/LIV_[2]-1_CHE.csv"
RMA = "tracking/lastrow/Real_vs_Barcelona_Calma.csv"

Shared = Callable[[str], Path]


@pytest.mark.shared_data
def test_liv_first_rows_by_hand(shared: Shared) -> None:
    t = read_lastrow(shared(LIV))
    df = t.df
    # Raw file, frame 0: ball (id 0) at x=42.9861923950178, y=97.73381458889156 (0..100, y up);
    # player 12 at x=36.69747..., y=88.80955... Touchline: x * 1.05, (100 - y) * 0.68.
    ball = df[(df.frame == 0) & (df.track_id == 0)].iloc[0]
    assert ball.pitch_x == pytest.approx(42.9861923950178 * 1.05, abs=1e-4)
    assert ball.pitch_y == pytest.approx((100 - 97.73381458889156) * 0.68, abs=1e-4)
    assert (ball.pitch_x, ball.pitch_y) == pytest.approx((45.13550, 1.54101), abs=1e-4)
    raw = pd.read_csv(shared(LIV))
    p12 = raw[(raw.player == 12) & (raw.frame == 0)].iloc[0]
    row = df[(df.frame == 0) & (df.track_id == 1)].iloc[0]  # LastRow 12: first attacker
    assert row.pitch_x == pytest.approx(p12.x * 1.05, abs=1e-4)
    assert row.pitch_y == pytest.approx((100 - p12.y) * 0.68, abs=1e-4)
    assert t.meta.to_dict()["players"]["1"] == {
        "name": None,
        "jersey": 10,
        "team": 0,
        "provider_id": "12",
        "position": None,
    }


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "frames", "attackers", "defenders", "keeper", "direction"),
    [
        # The ball ends the LIV play at x = -0.68 (into the left goal): Liverpool attack left;
        # Chelsea's 14238 stands nearest his goal in 153 of the 195 frames.
        (LIV, 195, 10, 10, "14238", "left"),
        # The ball ends at x = 100.68: the attack goes right; 34150 is the keeper.
        (RMA, 289, 10, 11, "34150", "right"),
    ],
)
def test_plays(
    shared: Shared,
    name: str,
    frames: int,
    attackers: int,
    defenders: int,
    keeper: str,
    direction: str,
) -> None:
    t = read_lastrow(shared(name))
    df = t.df
    assert list(df.columns) == [*TRACK_COLUMN_NAMES, "period", "pitch_z"]
    assert t.fps == 20.0 and t.pitch_size == (105.0, 68.0)
    assert len(t.frames) == frames and len(df) == frames * (1 + attackers + defenders)
    np.testing.assert_allclose(df["time"], df["frame"] / 20.0)
    assert (df["period"] == 1).all() and df["pitch_z"].isna().all()

    ball = df[df.track_id == 0]
    assert len(ball) == frames
    assert set(ball.class_name) == {"ball"} and set(ball.team) == {-1}
    people = df[df.track_id != 0].drop_duplicates("track_id")
    assert (people.team == 0).sum() == attackers and (people.team == 1).sum() == defenders
    # Attackers take the ids right after the ball, defenders after them.
    assert sorted(people[people.team == 0].track_id) == list(range(1, attackers + 1))

    meta = t.meta.to_dict()  # the JSON layout written to files
    assert tuple(meta) == META_KEYS
    assert meta["source"] == "lastrow" and meta["files"] == [Path(name).name]
    assert meta["match_id"] == Path(name).stem
    assert [meta["teams"][k]["name"] for k in ("0", "1")] == ["attack", "defense"]
    assert meta["attack_direction"] == {"1": direction}
    assert meta["periods"] == [
        {
            "id": 1,
            "start_time": 0.0,
            "end_time": (frames - 1) / 20.0,
            "start_frame": 0,
            "end_frame": frames - 1,
        }
    ]
    gk = people[people.class_name == "goalkeeper"]
    assert len(gk) == 1 and int(gk.team.iloc[0]) == 1
    gk_id = str(int(gk.track_id.iloc[0]))
    assert meta["players"][gk_id]["provider_id"] == keeper
    assert meta["players"][gk_id]["position"] == "Goalkeeper"
    assert {p["provider_id"] for p in meta["players"].values()} == set(
        map(str, pd.read_csv(shared(name)).query("player != 0").player.unique())
    )
    # The ball ends inside the goal it was played into.
    last = ball[ball.frame == ball.frame.max()].iloc[0]
    assert (last.pitch_x < 0) if direction == "left" else (last.pitch_x > 105)


@pytest.mark.shared_data
def test_pitch_size_scales_units(shared: Shared) -> None:
    a = read_lastrow(shared(LIV))
    b = read_lastrow(shared(LIV), pitch=(100.0, 64.0), fps=25.0)
    assert b.pitch_size == (100.0, 64.0) and b.fps == 25.0
    np.testing.assert_allclose(b.df.pitch_x, a.df.pitch_x * 100 / 105, atol=1e-4)
    np.testing.assert_allclose(b.df.pitch_y, a.df.pitch_y * 64 / 68, atol=1e-4)
    np.testing.assert_allclose(b.df.time, b.df.frame / 25.0)


def _write(tmp_path: Path, text: str, name: str = "play.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = (
    "player,frame,x,y,team,player_num\n"
    "0,0,50,50,,\n5,0,40,50,attack,9\n8,0,3,50,defense,\n"
    "0,1,10,50,,\n5,1,30,50,attack,9\n8,1,2,52,defense,\n"
)


def test_small_play(tmp_path: Path) -> None:
    t = read_lastrow(_write(tmp_path, GOOD))
    df = t.df
    assert df[["frame", "track_id", "team"]].values.tolist() == [
        [0, 0, -1],
        [0, 1, 0],
        [0, 2, 1],
        [1, 0, -1],
        [1, 1, 0],
        [1, 2, 1],
    ]
    assert list(df.class_name) == ["ball", "player", "goalkeeper"] * 2
    np.testing.assert_allclose(df.pitch_x, [52.5, 42.0, 3.15, 10.5, 31.5, 2.1], atol=1e-5)
    assert t.meta.attack_direction == {1: "left"}
    assert t.meta.players[1].jersey == 9 and t.meta.players[2].jersey is None


def test_no_goalkeeper_when_far_from_goal(tmp_path: Path) -> None:
    text = GOOD.replace("8,0,3,50,defense", "8,0,40,50,defense").replace(
        "8,1,2,52,defense", "8,1,41,52,defense"
    )
    t = read_lastrow(_write(tmp_path, text))
    assert "goalkeeper" not in set(t.df.class_name)


def test_direction_from_teams_when_ball_ends_midfield(tmp_path: Path) -> None:
    text = GOOD.replace("0,1,10,50,,", "0,1,45,50,,")
    # Ball ends at 47 m: the defenders (mean x 2.6 m) defend the left goal.
    assert read_lastrow(_write(tmp_path, text)).meta.attack_direction == {1: "left"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frame,x,y,team\n0,1,2,attack\n", "missing columns ['player']"),
        ("player,frame,x,y,team\n5,0,1,2,attack\n", "exactly one ball id"),
        ("player,frame,x,y,team\n0,0,1,2,\n1,0,1,2,\n", "found ids [0, 1]"),
        ("player,frame,x,y,team\n0,0,1,2,\n5,0,1,2,home\n", "got ['home']"),
        ("player,frame,x,y,team\n0,0,1,2,\n0,0,1,2,\n", "player 0 appears twice in frame 0"),
        ("player,frame,x,y,team\n0,0,a,2,\n", "column 'x': expected numbers, got 'a'"),
        ("player,frame,x,y,team\n0,0.5,1,2,\n", "column 'frame': expected integers"),
        ("player,frame,x,y,team\n", "has no rows"),
        ("", "not a readable CSV"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(DataError, match=r"play\.csv") as err:
        read_lastrow(p)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"fps": 0}, "fps must be a positive"), ({"pitch": (10, 5)}, "pitch must be")],
)
def test_bad_options(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_lastrow(_write(tmp_path, GOOD), **kwargs)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv: no such LastRow CSV"):
        read_lastrow(tmp_path / "nope.csv")
