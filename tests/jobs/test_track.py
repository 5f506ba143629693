"""The end-to-end tracking job: FootballTracker, `touchline track`, resume, finishing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from touchline.calib import CameraMotionOnly
from touchline.cli import app
from touchline.errors import TouchlineError
from touchline.eval.tracking_e2e import SimulatedDetector, evaluate_tracks
from touchline.jobs.pipeline import FootballTracker
from touchline.jobs.track import PARTIAL, track_video
from touchline.synth import GroundTruth, SynthConfig, synthesize
from touchline.track.finish import FinishConfig, finish_tracks
from touchline.tracks import read_tracks


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clip")
    synthesize(SynthConfig(seconds=1.6, size=(640, 360), seed=5, camera="builtin"), out)
    return out


def test_football_tracker_on_a_synthetic_clip(clip: Path) -> None:
    gt = GroundTruth.read(clip)
    ft = FootballTracker(detector=SimulatedDetector(gt, seed=2))
    tracks = ft(clip / "clip.mp4")
    df = tracks.df
    assert len(tracks.frames) == len(gt)
    people = df[df["class_id"] != 3]
    # Every row has a pitch position (the synthetic camera always sees the pitch).
    assert np.isfinite(people[["pitch_x", "pitch_y"]].to_numpy()).all()
    s = evaluate_tracks(tracks, gt)
    assert s.idf1 > 0.8
    assert s.pitch_error_median_m < 1.0
    # Frames in: the same object tracked twice gives the same table.
    again = FootballTracker(detector=SimulatedDetector(gt, seed=2))(clip / "clip.mp4")
    pd.testing.assert_frame_equal(again.df, df)


def _cli_table(video: Path, out: Path, *extra: str) -> pd.DataFrame:
    res = CliRunner().invoke(
        app, ["track", str(video), "--out", str(out), "--no-annotated", "--no-radar", *extra]
    )
    assert res.exit_code == 0, res.output
    return read_tracks(out / "tracks.parquet").df


@pytest.mark.slow
def test_python_api_gives_the_table_the_cli_writes_synthetic(clip: Path, tmp_path: Path) -> None:
    video = clip / "clip.mp4"
    cli = _cli_table(video, tmp_path / "cli", "--max-gap", "0.2", "--smooth", "0.2")
    py = FootballTracker(finish=FinishConfig(max_gap=0.2, smooth=0.2))(video)
    pd.testing.assert_frame_equal(py.df, cli)
    # The table is finished: one team per track, no coasting rows of people.
    people = py.df[py.df["class_id"] != 3]
    assert (people.groupby("track_id")["team"].nunique() == 1).all()
    assert not people["predicted"].any()
    assert py.meta.source == str(video)


@pytest.mark.slow
def test_python_api_gives_the_table_the_cli_writes_dfl(shared, tmp_path: Path) -> None:
    video = shared("video/dfl_08fd33_4.mp4")
    cli = _cli_table(video, tmp_path / "cli")
    py = FootballTracker()(video)
    pd.testing.assert_frame_equal(py.df, cli)
    assert len(py.frames) == 169


def test_finish_settings_are_seconds() -> None:
    assert FinishConfig().frames(25.0) == (10, 5, 7)
    assert FinishConfig().frames(50.0) == (20, 10, 15)
    assert FinishConfig(smooth=0.0).frames(25.0)[2] == 0
    with pytest.raises(ValueError, match="max_gap"):
        FinishConfig(max_gap=-1.0)


def test_cli_track_rejects_a_negative_duration(clip: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["track", str(clip / "clip.mp4"), "--out", str(tmp_path / "o"), "--smooth", "-1"]
    )
    assert res.exit_code != 0
    assert "smooth" in res.output and "Traceback" not in res.output


def test_track_video_writes_everything(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    ft = FootballTracker(finish=FinishConfig(min_duration=0.12))
    summary = track_video(clip / "clip.mp4", out, tracker=ft)
    files = set(summary.files)
    expected = {"tracks.parquet", "tracks.csv", "tracks.csv.meta.json", "annotated.mp4"}
    assert expected | {"radar.mp4", "homographies.npz", "summary.json"} <= files | {"summary.json"}
    assert json.loads((out / "summary.json").read_text()) == summary.to_json()
    assert not (out / PARTIAL).exists()
    t = read_tracks(out / "tracks.parquet")
    c = read_tracks(out / "tracks.csv")
    assert len(t) == len(c) == summary.rows
    assert {"interpolated", "predicted"} <= set(t.df.columns)
    assert summary.frames == 40
    assert summary.tracks > 5


def _kill_at(clip: Path, out: Path, frame: int) -> None:
    """A run killed on ``frame`` (the first pass), with checkpoints every 10 frames."""

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "track" and done == frame:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        track_video(clip / "clip.mp4", out, checkpoint_every=10, progress=progress)


@pytest.mark.slow
def test_a_killed_run_resumes(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _kill_at(clip, out, 23)
    chunks = sorted(p.name for p in (out / PARTIAL).glob("chunk_*.npz"))
    assert chunks == ["chunk_00000000.npz", "chunk_00000010.npz"]
    assert not (out / "tracks.parquet").exists()
    resumed = track_video(clip / "clip.mp4", out, checkpoint_every=10)
    assert resumed.resumed_frames == 20
    assert resumed.frames == 40
    fresh = track_video(clip / "clip.mp4", tmp_path / "fresh", checkpoint_every=10)
    a = read_tracks(out / "tracks.parquet").df
    b = read_tracks(tmp_path / "fresh" / "tracks.parquet").df
    # The replayed frames are identical (but for gaps filled towards later frames, the
    # smoothing window reaching 3 frames ahead, and teams voted over the whole clip);
    # afterwards the calibrator restarts from one frame of context, so positions may differ
    # slightly, not the tracking.
    head_a = a[(a["frame"] < 17) & ~a["interpolated"]]
    head_b = b[(b["frame"] < 17) & ~b["interpolated"]]
    pd.testing.assert_frame_equal(
        head_a.drop(columns=["team"]).reset_index(drop=True),
        head_b.drop(columns=["team"]).reset_index(drop=True),
    )
    assert abs(len(a) - len(b)) <= 0.05 * len(b)
    assert resumed.tracks == fresh.tracks


def test_a_stale_checkpoint_is_ignored(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    (out / PARTIAL).mkdir(parents=True)
    (out / PARTIAL / "meta.json").write_text('{"fingerprint": "other", "chunks": ["x.npz"]}')
    summary = track_video(clip / "clip.mp4", out, max_frames=8, annotate=False, radar=False)
    assert summary.resumed_frames == 0 and summary.frames == 8


def test_finish_tracks_teams_and_short_tracks() -> None:
    rows = []
    for f in range(6):
        rows.append({"frame": f, "track_id": 1, "team": f % 2})  # flickering team
    rows.append({"frame": 2, "track_id": 9, "team": 0})  # a one-frame track
    rows.append({"frame": 4, "track_id": 0, "team": -1})  # the ball stays
    df = pd.DataFrame(rows)
    for c in ("x1", "y1", "x2", "y2", "foot_x", "foot_y", "pitch_x", "pitch_y", "time"):
        df[c] = 1.0
    df["confidence"] = 0.9
    out = finish_tracks(df, teams={1: 1}, min_frames=2)
    assert sorted(out["track_id"].unique().tolist()) == [0, 1]
    assert (out.loc[out["track_id"] == 1, "team"] == 1).all()
    assert not out["interpolated"].any()


def test_cli_track(clip: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        ["track", str(clip / "clip.mp4"), "--out", str(tmp_path / "o"), "--max-frames", "10",
         "--no-annotated", "--no-radar"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "tracks.parquet").exists()
    assert not (tmp_path / "o" / "annotated.mp4").exists()


def test_cli_track_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    res = CliRunner().invoke(app, ["track", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "broken.mp4" in res.output and "Traceback" not in res.output


def test_track_video_no_frames(tmp_path: Path) -> None:
    with pytest.raises(TouchlineError, match="missing"):
        track_video(tmp_path / "missing.mp4", tmp_path / "o")


def test_finish_tracks_roles_make_keepers_of_player_tracks() -> None:
    df = pd.DataFrame(
        {"frame": [0, 0, 0], "track_id": [1, 2, 3], "class_id": [0, 0, 2],
         "class_name": ["player", "player", "referee"], "team": [0, 1, -1]}
    )  # fmt: skip
    for c in ("x1", "y1", "x2", "y2", "foot_x", "foot_y", "pitch_x", "pitch_y", "time"):
        df[c] = 1.0
    out = finish_tracks(df, roles={1: 1, 2: 0, 3: 1}, min_frames=1, smooth=0)
    assert out["class_id"].tolist() == [1, 0, 2]  # a referee is never made a keeper
    assert out["class_name"].tolist() == ["goalkeeper", "player", "referee"]


def test_a_checkpoint_of_other_measurements_is_not_reused(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _kill_at(clip, out, 13)
    assert (out / PARTIAL / "chunk_00000000.npz").exists()
    # Without calibration the saved (calibrated) measurements do not apply: start afresh.
    summary = track_video(
        clip / "clip.mp4", out, tracker=FootballTracker(calibrator=CameraMotionOnly()), checkpoint_every=10,
        annotate=False, radar=False,
    )  # fmt: skip
    assert summary.resumed_frames == 0 and summary.calibrated_frames == 0


def test_predicted_flags_stay_with_their_rows_when_the_table_is_sorted() -> None:
    # The tracker lists the ball (id 0) last; the table sorts it first. The flags of the
    # coasted rows must move with them.
    from touchline.tracks import TracksBuilder
    from touchline.types import Detections

    b = TracksBuilder()
    for f in range(3):
        d = Detections(
            xyxy=np.array([[0, 0, 2, 4], [5, 0, 7, 4], [9, 9, 10, 10]], float),
            confidence=np.array([0.9, np.nan, 0.8]),
            class_id=np.array([0, 0, 3]),
            tracker_id=np.array([4, 7, 0]),
        )
        b.add(f, f / 25, d, extra={"predicted": np.array([False, True, False])})
    df = b.build().df
    assert df["track_id"].tolist()[:3] == [0, 4, 7]
    assert (df["predicted"] == df["confidence"].isna()).all()
    with pytest.raises(TouchlineError, match="extra columns differ"):
        b.add(3, 0.12, d)


def test_finish_tracks_drops_coasting_rows_and_interpolates_from_both_ends() -> None:
    # Player 1 is seen on frames 0-2 and 6-8; the tracker coasted him on 3-4 (running on
    # at his old speed, wrongly) and lost him on 5. Player 2 is coasted on 8, after his last
    # sighting. The ball's predicted row (frame 4) is interpolated from both ends like a player's.
    rows = []
    for f in range(9):
        seen = f <= 2 or f >= 6
        if f != 5:
            x = float(f) if seen else float(f) + 3.0
            rows.append({"frame": f, "track_id": 1, "pitch_x": x, "predicted": not seen})
        rows.append({"frame": f, "track_id": 2, "pitch_x": 50.0, "predicted": f == 8})
        rows.append({"frame": f, "track_id": 0, "pitch_x": 60.0, "predicted": f == 4})
    df = pd.DataFrame(rows).assign(team=-1, confidence=0.9)
    for c in ("x1", "y1", "x2", "y2", "foot_x", "foot_y", "pitch_y", "time"):
        df[c] = 1.0
    out = finish_tracks(df, min_frames=1, smooth=0)
    one = out[out["track_id"] == 1]
    assert one["frame"].tolist() == list(range(9))
    np.testing.assert_allclose(one["pitch_x"], np.arange(9.0))  # interpolated, not coasted
    assert one["interpolated"].tolist() == [False] * 3 + [True] * 3 + [False] * 3
    assert out[out["track_id"] == 2]["frame"].max() == 7
    ball = out[out["track_id"] == 0]
    assert len(ball) == 9 and ball["interpolated"].tolist() == [False] * 4 + [True] + [False] * 4
    kept = finish_tracks(df, min_frames=1, smooth=0, drop_predicted=False)
    assert kept[kept["track_id"] == 2]["frame"].max() == 8
