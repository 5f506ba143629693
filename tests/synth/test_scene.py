"""Scenes from tracking data: every :mod:`touchline.io` reader drives the synthetic renderer.

The tiny tables here are built by the tests; kloppy's own bundled sample files stand in for a
provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from touchline.errors import DataError
from touchline.io import load_tracking, write_cdf
from touchline.pitch import Pitch
from touchline.synth.clip import SynthConfig, load_scene
from touchline.synth.scene import KITS, TEAM_KITS, scene_from_tracks
from touchline.tracks import Tracks
from touchline.types import ObjectClass


def tiny(
    rows: list[tuple[int, int, str, int, float, float]],
    *,
    fps: float | None = 10.0,
    time: list[float] | None = None,
    period: list[int] | None = None,
    pitch_z: list[float] | None = None,
    meta: dict[str, Any] | None = None,
    pitch_size: tuple[float, float] = (105.0, 68.0),
) -> Tracks:
    """A tracks table from ``(frame, track_id, class_name, team, pitch_x, pitch_y)`` rows."""
    df = pd.DataFrame(
        rows, columns=["frame", "track_id", "class_name", "team", "pitch_x", "pitch_y"]
    )
    if time is not None:
        df["time"] = time
    if period is not None:
        df["period"] = np.asarray(period, np.int8)
    if pitch_z is not None:
        df["pitch_z"] = np.asarray(pitch_z, np.float32)
    df = df.sort_values(["frame", "track_id"], kind="stable").reset_index(drop=True)
    return Tracks.from_positions(df, fps=fps, pitch_size=pitch_size, meta=meta)


def index_of(scene: Any, actor_id: int) -> int:
    return next(i for i, a in enumerate(scene.actors) if a.id == actor_id)


# --------------------------------------------------------------------------------------------
# Resampling
# --------------------------------------------------------------------------------------------
def test_10_fps_table_resampled_to_25_fps_by_hand() -> None:
    # Player 7 at x = 10, 12, 13, 20 (t = 0, 0.1, 0.2, 0.3 s); the ball rises then is unknown.
    xs = [10.0, 12.0, 13.0, 20.0]
    rows = [(f, 7, "player", 0, x, 30.0) for f, x in enumerate(xs)]
    rows += [(f, 0, "ball", -1, 50.0 + f, 34.0) for f in range(4)]
    z = [np.nan] * 4 + [0.0, 1.0, 2.0, np.nan]  # rows of track 7 first, then the ball's
    t = tiny(rows, pitch_z=z)
    s = scene_from_tracks(t, fps=25.0, with_referees=False)
    assert s.fps == 25.0 and s.n_frames == 8  # t = 0, 0.04, ..., 0.28
    p, b = index_of(s, 7), s.ball_index
    assert b is not None
    # Hand-computed linear interpolation at t = 0.04, 0.12, 0.28 s.
    np.testing.assert_allclose(s.xy[[1, 3, 7], p, 0], [10.8, 12.2, 18.6], atol=1e-9)
    np.testing.assert_allclose(s.xy[:, p, 1], 30.0)
    np.testing.assert_allclose(s.xy[[0, 3, 5], b, 0], [50.0, 51.2, 52.0], atol=1e-9)
    # Ball height from pitch_z where known, on the ground after its last known value.
    np.testing.assert_allclose(s.z[[0, 3, 5, 7], b], [0.0, 1.2, 2.0, 0.0], atol=1e-6)
    assert (s.z[:, p] == 0).all()


def test_time_column_wins_over_frame_numbers() -> None:
    # Frames 0, 1, 2 but sampled at 0, 0.5, 1.0 s (a 2 Hz source whose fps is unknown).
    rows = [(f, 1, "player", 0, 10.0 * f, 5.0) for f in range(3)]
    s = scene_from_tracks(tiny(rows, fps=None, time=[0.0, 0.5, 1.0]), fps=4.0)
    assert s.n_frames == 5
    np.testing.assert_allclose(s.xy[:, index_of(s, 1), 0], [0, 5, 10, 15, 20])


def test_no_interpolation_across_holes_or_periods() -> None:
    # Track 1: samples at 0..0.4 s and again from 2.0 s (a 1.6 s hole). Period 2's clock
    # restarts at 0; track 2 only plays in period 2.
    rows, time, period = [], [], []
    for k, tt in enumerate([0.0, 0.1, 0.2, 0.3, 0.4, 2.0, 2.1]):
        rows.append((k, 1, "player", 0, 10.0 + k, 20.0))
        time.append(tt)
        period.append(1)
    for k, tt in enumerate([0.0, 0.1, 0.2]):
        for tid, x in ((1, 80.0), (2, 60.0)):
            rows.append((100 + k, tid, "player", tid - 1, x + k, 20.0))
            time.append(tt)
            period.append(2)
    s = scene_from_tracks(tiny(rows, time=time, period=period), fps=10.0, with_referees=False)
    # Period 1 spans 2.1 s, then one source frame (0.1 s), then period 2's 0.2 s.
    assert s.n_frames == 25
    one, two = index_of(s, 1), index_of(s, 2)
    x1 = s.xy[:, one, 0]
    np.testing.assert_allclose(x1[:5], [10, 11, 12, 13, 14])
    assert np.isnan(x1[5:20]).all()  # the 1.6 s hole (longer than MAX_GAP)
    np.testing.assert_allclose(x1[20:22], [15, 16])
    np.testing.assert_allclose(x1[22:], [80, 81, 82])
    assert np.isnan(s.xy[:22, two]).all()
    np.testing.assert_allclose(s.xy[22:, two, 0], [60, 61, 62])
    # No ghost between the periods: at 20 fps, t = 2.15 s falls between 2.1 s (period 1)
    # and 2.2 s (period 2).
    s20 = scene_from_tracks(tiny(rows, time=time, period=period), fps=20.0)
    x20 = s20.xy[:, index_of(s20, 1), 0]
    np.testing.assert_allclose(x20[[42, 44]], [16, 80])
    assert np.isnan(x20[43])
    # A longer max_gap bridges the hole.
    bridged = scene_from_tracks(
        tiny(rows, time=time, period=period), fps=10.0, with_referees=False, max_gap=2.0
    )
    np.testing.assert_allclose(bridged.xy[5, index_of(bridged, 1), 0], 14 + 0.1 / 1.6)


def test_seconds_keeps_the_start_only() -> None:
    rows = [(f, 1, "player", 0, float(f), 5.0) for f in range(50)]
    full = scene_from_tracks(tiny(rows), fps=25.0)
    short = scene_from_tracks(tiny(rows), fps=25.0, seconds=1.0)
    assert full.n_frames == 123 and short.n_frames == 25
    np.testing.assert_array_equal(short.xy, full.xy[:25])


# --------------------------------------------------------------------------------------------
# Cast, kits, numbers
# --------------------------------------------------------------------------------------------
def test_kits_numbers_and_roles_from_the_metadata() -> None:
    rows = [
        (0, 0, "ball", -1, 50.0, 34.0),
        (0, 3, "player", 0, 40.0, 30.0),
        (0, 4, "goalkeeper", 0, 5.0, 34.0),
        (0, 5, "player", 1, 60.0, 30.0),
        (0, 6, "goalkeeper", 1, 100.0, 34.0),
    ]
    meta = {
        "teams": {
            "0": {"name": "Reds", "color": "red"},
            "1": {"name": "Blues", "color": "#0000ff"},
        },
        "players": {"3": {"jersey": 11}, "4": {"jersey": 1}, "5": {"jersey": None}},
    }
    s = scene_from_tracks(tiny(rows, meta=meta))
    by_id = {a.id: a for a in s.actors}
    assert by_id[3].kit.shirt == by_id[3].kit.socks == (0, 0, 255)  # BGR red
    assert by_id[5].kit.shirt == (255, 0, 0)  # BGR blue
    assert by_id[3].kit.shorts == TEAM_KITS[0].shorts  # white shorts under red shirts
    assert [by_id[i].number for i in (3, 4, 5, 6)] == [11, 1, 0, 0]
    assert by_id[4].role == by_id[6].role == ObjectClass.GOALKEEPER
    gk_shirts = {by_id[4].kit.shirt, by_id[6].kit.shirt}
    assert len(gk_shirts) == 2 and not gk_shirts & {(0, 0, 255), (255, 0, 0)}
    # The ball (track 0) takes the next free id; three officials follow it.
    ball = s.actors[s.ball_index or 0]
    assert ball.id == 7 and ball.kit == KITS["ball"] and ball.team == -1
    refs = [a for a in s.actors if a.role == ObjectClass.REFEREE]
    assert [a.id for a in refs] == [8, 9, 10]


@pytest.mark.parametrize("color", [None, "", "not a colour", 42])
def test_default_kits_without_a_usable_colour(color: object) -> None:
    rows = [(0, 1, "player", 0, 40.0, 30.0), (0, 2, "player", 1, 60.0, 30.0)]
    meta = {"teams": {"0": {"color": color}, "1": {"color": color}}}
    s = scene_from_tracks(tiny(rows, meta=meta))
    assert [a.kit for a in s.actors[:2]] == [TEAM_KITS[0], TEAM_KITS[1]]


def test_referees_in_the_table_are_kept_and_none_added() -> None:
    rows = [(f, 9, "referee", -1, 50.0 + f, 20.0) for f in range(3)]
    rows += [(f, 0, "ball", -1, 50.0, 34.0) for f in range(3)]
    s = scene_from_tracks(tiny(rows))
    assert [a.role for a in s.actors].count(ObjectClass.REFEREE) == 1
    assert s.actors[index_of(s, 9)].kit == KITS["referee"]
    assert scene_from_tracks(tiny(rows[3:]), with_referees=False).actors[0].role == ObjectClass.BALL


def test_positions_scale_to_another_pitch() -> None:
    rows = [(0, 1, "player", 0, 50.0, 32.0), (1, 1, "player", 0, 100.0, 64.0)]
    t = tiny(rows, pitch_size=(100.0, 64.0))
    assert scene_from_tracks(t).pitch.length == 100.0  # the table's pitch by default
    s = scene_from_tracks(t, pitch=Pitch(), fps=10.0)
    np.testing.assert_allclose(s.xy[:, index_of(s, 1)], [[52.5, 34.0], [105.0, 68.0]])


# --------------------------------------------------------------------------------------------
# Every reader
# --------------------------------------------------------------------------------------------
def test_our_own_table_from_a_path(tmp_path: Path) -> None:
    rows = [(f, 1, "player", 0, 10.0 + f, 5.0) for f in range(3)]
    path = tiny(rows).to_parquet(tmp_path / "play.parquet")
    s = scene_from_tracks(path, fps=20.0)
    assert s.source == "tracks:play.parquet" and s.n_frames == 5
    np.testing.assert_allclose(s.xy[:, index_of(s, 1), 0], [10, 10.5, 11, 11.5, 12])


def test_cdf_file_builds_a_scene(tmp_path: Path) -> None:
    rows, z = [], []
    for f in range(5):
        rows += [
            (f, 0, "ball", -1, 50.0 + f, 34.0),
            (f, 1, "player", 0, 30.0 + f, 20.0),
            (f, 2, "player", 1, 70.0 - f, 40.0),
        ]
        z += [0.5 * f, np.nan, np.nan]
    meta = {"players": {"1": {"team": 0, "jersey": 8}, "2": {"team": 1, "jersey": 4}}}
    files = write_cdf(tiny(rows, pitch_z=z, period=[1] * 15, meta=meta), tmp_path)
    s = scene_from_tracks(files.tracking, fps=20.0)
    assert s.source.startswith("cdf:tracking.jsonl")
    assert s.n_frames == 9
    b = s.ball_index
    assert b is not None
    np.testing.assert_allclose(s.xy[::2, b, 0], [50, 51, 52, 53, 54], atol=1e-4)
    np.testing.assert_allclose(s.z[1, b], 0.25, atol=1e-4)  # the ball's height, interpolated
    players = [a for a in s.actors if a.role == ObjectClass.PLAYER]
    assert sorted((a.team, a.number) for a in players) == [(0, 8), (1, 4)]
    assert len(s.actors) == 6  # ball, two players, three officials


def test_kloppy_provider_table_builds_a_scene() -> None:
    kloppy = pytest.importorskip("kloppy")
    files = Path(kloppy.__file__).parent / "tests" / "files"
    t = load_tracking(
        "metrica", home_data=files / "metrica_home.csv", away_data=files / "metrica_away.csv"
    )
    s = scene_from_tracks(t)  # 25 fps, two periods of three frames each
    assert s.fps == 25.0 and s.n_frames == 6
    assert s.source == "metrica:metrica_home.csv+metrica_away.csv"
    df = t.df
    # Frame k of the scene is the k-th frame of the data: periods play back to back.
    frames = sorted(df["frame"].unique())
    for k, frame in enumerate(frames):
        rows = df[df["frame"] == frame]
        for tid, x, y in rows[["track_id", "pitch_x", "pitch_y"]].itertuples(index=False):
            i = s.ball_index if tid == 0 else index_of(s, int(tid))
            assert i is not None
            np.testing.assert_allclose(s.xy[k, i], [x, y], atol=1e-4)
    jerseys = {str(a.id): a.number for a in s.actors if a.role == ObjectClass.PLAYER}
    assert all(t.meta.players[int(k)].jersey == v for k, v in jerseys.items())
    assert [a.role for a in s.actors].count(ObjectClass.REFEREE) == 3


def test_load_scene_reads_any_tracking_file(tmp_path: Path) -> None:
    rows = [(f, 1, "player", 0, 10.0 + f, 5.0) for f in range(30)]
    path = tiny(rows).to_csv(tmp_path / "play.csv")
    scene = load_scene(SynthConfig(seconds=0.4, fps=25.0, tracking=path))
    assert scene.n_frames == 10 and scene.source == "tracks:play.csv"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "kwargs", "error", "message"),
    [
        (lambda p: Tracks.empty(fps=25.0), {}, DataError, "tracks table is empty"),
        (
            lambda p: tiny([(0, 1, "player", 0, np.nan, np.nan)]),
            {},
            DataError,
            "no row has a pitch position",
        ),
        (
            lambda p: tiny([(0, 1, "player", 0, 1.0, 1.0)], fps=None),
            {},
            DataError,
            "no fps",
        ),
        (lambda p: tiny([(0, 1, "player", 0, 1.0, 1.0)]), {"fps": -5}, ValueError, "fps"),
        (lambda p: tiny([(0, 1, "player", 0, 1.0, 1.0)]), {"fps": 0}, ValueError, "fps"),
        (lambda p: tiny([(0, 1, "player", 0, 1.0, 1.0)]), {"seconds": 0}, ValueError, "seconds"),
        (lambda p: tiny([(0, 1, "player", 0, 1.0, 1.0)]), {"max_gap": 0}, ValueError, "max_gap"),
        (lambda p: p / "missing.parquet", {}, DataError, r"missing\.parquet"),
        (
            lambda p: (p / "notes.csv", (p / "notes.csv").write_text("a,b\n1,2\n"))[0],
            {},
            DataError,
            r"notes\.csv",
        ),
    ],
)
def test_errors(
    tmp_path: Path, make: Any, kwargs: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        scene_from_tracks(make(tmp_path), **kwargs)
