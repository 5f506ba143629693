"""`touchline analyze`, `convert` and `trajectories`: the real goal plays and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from touchline.analytics import GameStates, edg_series, goal_events, load_surface
from touchline.cli import app
from touchline.io import read_lastrow, read_tracking
from touchline.jobs import analyze as analyze_run
from touchline.jobs.analyze import analyze_tracks
from touchline.tracks import Tracks

PLAYS = ["tracking/lastrow/LIV_[2]-1_CHE.csv", "tracking/lastrow/Real_vs_Barcelona_Calma.csv"]
runner = CliRunner()


@pytest.mark.shared_data
@pytest.mark.parametrize("rel", PLAYS)
def test_edg_rises_before_each_real_goal(rel: str, shared: Callable[[str], Path]) -> None:
    tracks = read_lastrow(shared(rel))
    states = GameStates.from_tracks(tracks)
    goals = goal_events(states)
    assert len(goals) == 1 and goals[0]["team"] == 0  # LastRow: team 0 is the scoring side
    e = edg_series(states, load_surface("xt"))
    before = e[(e["time"] < goals[0]["time"]) & (e["team"] == 0)]
    t = before["time"]
    first = before["edg"][t <= t.iloc[0] + 2.0].mean()
    last = before["edg"][t >= t.iloc[-1] - 2.0].mean()
    assert last > 3 * first
    # and over the final seconds the smoothed EDG climbs: its last value tops its 2-s-earlier one
    smooth = before["edg_smooth"].to_numpy()
    assert smooth[-1] > smooth[np.searchsorted(t.to_numpy(), t.iloc[-1] - 2.0)]


@pytest.mark.shared_data
@pytest.mark.parametrize("rel", PLAYS)
def test_real_states_near_the_opponents_goal_beat_midfield_states(
    rel: str, shared: Callable[[str], Path]
) -> None:
    states = GameStates.from_tracks(read_lastrow(shared(rel)))
    e = edg_series(states, load_surface("xt"), team=0)
    attack = np.array([states.attack(k, 0) for k in range(len(states))])
    x = states.ball[:, 0]
    toward = np.where(attack == "right", x, states.pitch.length - x)
    near = e["edg"][toward > states.pitch.length - 25.0].mean()
    mid = e["edg"][np.abs(toward - states.pitch.length / 2) < 17.5].mean()
    assert (toward > states.pitch.length - 25.0).sum() >= 20
    assert (np.abs(toward - states.pitch.length / 2) < 17.5).sum() >= 20
    assert near > 2 * mid


def _play(n: int = 60) -> Tracks:
    rows = []
    for f in range(n):
        bx = 60.0 + 0.5 * f
        rows += [
            (f, 0, "ball", -1, bx, 34.0),
            (f, 1, "player", 0, bx - 0.5, 34.0),
            (f, 2, "player", 0, 70.0, 20.0 + 0.1 * f),
            (f, 3, "goalkeeper", 0, 5.0, 34.0),
            (f, 4, "player", 1, 85.0, 30.0),
            (f, 5, "goalkeeper", 1, 102.0, 34.0),
        ]
    df = pd.DataFrame(
        rows, columns=["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]
    )
    return Tracks.from_positions(df, fps=10)


def test_analyze_writes_everything_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analyze_run, "CHUNK", 25)
    out = tmp_path / "a"
    s = analyze_tracks(_play(), out, animate=True, ball_grid=(10, 6))
    assert s.frames == 60 and s.resumed_frames == 0
    for name in s.outputs:
        assert (out / name).stat().st_size > 0, name
    assert {"edg.png", "animation.mp4"} <= set(s.outputs)
    k = s.key_frames[0]
    assert {f"frame_{k}.png", f"edg_map_{k}.png", f"pitch_control_{k}.png"} <= set(s.outputs)
    table = pd.read_csv(out / "edg.csv")
    assert len(table) == 60 and (table["team"] == 0).all()
    assert table["edg"].iloc[-10:].mean() > table["edg"].iloc[:10].mean()
    assert json.loads((out / "summary.json").read_text()) == s.to_json()
    # a killed run: the chunks of the series stay; a rerun reuses them and gives the same table
    (out / "edg.csv").unlink()
    chunks = sorted((out / ".analyze-partial").glob("chunk_*.parquet"))
    assert len(chunks) == 3
    chunks[-1].unlink()
    s2 = analyze_tracks(_play(), out, animate=False, ball_grid=(4, 3))
    assert s2.resumed_frames == 50
    pd.testing.assert_frame_equal(pd.read_csv(out / "edg.csv"), table)
    # other parameters: the checkpoints are not reused
    from touchline.analytics import EdgParams

    s3 = analyze_tracks(
        _play(), out, animate=False, ball_grid=(4, 3), params=EdgParams(move_scale=5.0)
    )
    assert s3.resumed_frames == 0


def test_cli_analyze_convert_and_errors(tmp_path: Path) -> None:
    src = _play().to_parquet(tmp_path / "play.parquet")
    r = runner.invoke(app, ["analyze", str(src), "--out", str(tmp_path / "an"), "--no-animate"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "an" / "edg.csv").is_file() and not (
        tmp_path / "an" / "animation.mp4"
    ).exists()
    r = runner.invoke(app, ["convert", str(src), "--out", str(tmp_path / "play.jsonl")])
    assert r.exit_code == 0, r.output
    back = read_tracking(tmp_path / "play.jsonl")
    assert len(back.frames) == 60
    r = runner.invoke(
        app, ["analyze", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "x")]
    )
    assert r.exit_code == 1 and "nope.parquet" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app, ["analyze", str(src), "--surface", "nosuch", "--out", str(tmp_path / "y")]
    )
    assert r.exit_code == 1 and "nosuch" in r.output


def _frag(tmp_path: Path) -> Path:
    rows = [(f, 7, "player", 0, 10.0 + 0.5 * f, 20.0) for f in range(0, 5)]
    rows += [(f, 7, "player", 0, 10.0 + 0.5 * f, 20.0) for f in range(8, 12)]  # 3-frame gap
    rows += [(f, 9, "player", 0, 10.0 + 0.5 * f, 20.0) for f in range(14, 20)]  # 7's next part
    rows += [(f, 3, "player", 1, 50.0, 30.0) for f in range(0, 20)]
    df = pd.DataFrame(
        rows, columns=["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]
    )
    return Tracks.from_positions(df, fps=10).to_parquet(tmp_path / "t.parquet")


def test_cli_trajectories_hand_checked(tmp_path: Path) -> None:
    src = _frag(tmp_path)

    def run(*args: str) -> Tracks:
        out = tmp_path / "out.parquet"
        r = runner.invoke(app, ["trajectories", *args, "--out", str(out)])
        assert r.exit_code == 0, r.output
        return read_tracking(out)

    t = run("clean", str(src), "--max-gap", "0.3", "--smooth", "none")
    seven = t.df[t.df["track_id"] == 7]
    assert seven["frame"].tolist() == list(range(12))  # gap of 3 filled
    np.testing.assert_allclose(seven["pitch_x"], 10.0 + 0.5 * np.arange(12))
    np.testing.assert_allclose(seven["vx"].dropna(), 5.0, rtol=1e-5)  # 0.5 m a frame at 10 fps
    t = run("clean", str(src), "--max-gap", "0.2", "--smooth", "none")  # 2 frames at 10 fps
    assert len(t.df[t.df["track_id"] == 7]) == 9  # the 3-frame gap is too long
    t = run("remove", str(src), "--id", "3")
    assert 3 not in set(t.df["track_id"])
    t = run("remove", str(src), "--id", "3", "--frames", "5:9")
    assert sorted(set(range(20)) - set(t.df[t.df["track_id"] == 3]["frame"])) == [5, 6, 7, 8, 9]
    t = run("merge", str(src), "--into", "7", "--id", "9")
    assert set(t.df["track_id"]) == {3, 7}
    assert len(t.df[t.df["track_id"] == 7]) == 15
    pos = tmp_path / "pos.csv"
    pd.DataFrame({"frame": [0, 1], "x": [1.0, 2.0], "y": [3.0, 4.0]}).to_csv(pos, index=False)
    t = run("add", str(src), "--id", "42", "--positions", str(pos), "--team", "1")
    new = t.df[t.df["track_id"] == 42]
    assert new["pitch_x"].tolist() == [1.0, 2.0] and (new["team"] == 1).all()
    t = run("combine", str(src), str(src), "--map", "7=7", "--frame-offset", "100")
    assert t.df["frame"].max() == 119 and len(t.df[t.df["track_id"] == 7]) == 18
    r = runner.invoke(app, ["trajectories", "suggest", str(src)])
    assert r.exit_code == 0 and "7" in r.output and "9" in r.output
    r = runner.invoke(app, ["trajectories", "merge", str(src), "--into", "7", "--id", "9",
                            "--frames", "9:3", "--out", str(tmp_path / "o.parquet")])  # fmt: skip
    assert r.exit_code != 0 and "ends before it starts" in r.output
    # A bad positions file is named, with its row, and nothing is written.
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,x,y\n0,1.0,2.0\n1.5,2.0,3.0\n")
    r = runner.invoke(app, ["trajectories", "add", str(src), "--id", "42", "--positions",
                            str(bad), "--out", str(tmp_path / "b.parquet")])  # fmt: skip
    assert r.exit_code != 0 and "bad.csv" in r.output and "row 3" in r.output, r.output
    assert "Traceback" not in r.output and not (tmp_path / "b.parquet").exists()
    bad.write_text("frame,x,y\n0,1.0,north\n")
    r = runner.invoke(app, ["trajectories", "add", str(src), "--id", "42", "--positions",
                            str(bad), "--out", str(tmp_path / "b.parquet")])  # fmt: skip
    assert r.exit_code != 0 and "bad.csv" in r.output and "'north'" in r.output, r.output


def test_analyze_without_a_ball_still_plots_the_players(tmp_path: Path) -> None:
    t = _play(20)
    no_ball = t.with_table(t.df[t.df["class_name"] != "ball"].reset_index(drop=True))
    s = analyze_tracks(no_ball, tmp_path, animate=False)
    assert s.warnings and "no ball" in s.warnings[0]
    assert s.edg_frames == 0 and (tmp_path / f"frame_{s.key_frames[0]}.png").is_file()
    assert np.isnan(pd.read_csv(tmp_path / "edg.csv")["edg"]).all()


def test_missing_key_frame_fails_before_any_work(tmp_path: Path) -> None:
    from touchline.errors import DataError

    with pytest.raises(DataError, match="frame 999 is not in the tracks"):
        analyze_tracks(_play(20), tmp_path, key_frames=[999], animate=False)
    assert not (tmp_path / "edg.csv").exists()
