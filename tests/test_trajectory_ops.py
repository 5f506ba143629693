"""Trajectory operations: editing, formats, RTS smoothing, kinematics, fragment linking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from touchline.errors import DataError
from touchline.tracks import TRACK_COLUMNS, Tracks
from touchline.trajectories import (
    KINEMATIC_COLUMNS,
    MERGE_COLUMNS,
    add_positions,
    add_track,
    combine_runs,
    from_wide,
    kinematics,
    merge_tracks,
    per_id_frames,
    remove_positions,
    remove_tracks,
    rts_smooth,
    suggest_merges,
    wide_positions,
)

META: dict[str, Any] = {"fps": 25.0, "image_size": (1280, 720), "pitch_size": (100.0, 64.0)}


def _df(frame: list[int], track_id: list[int], x: list[float], y: list[float] | None = None,
        **extra: Any) -> pd.DataFrame:  # fmt: skip
    """A full canonical tracks DataFrame, times frame / 25."""
    n = len(frame)
    data: dict[str, Any] = {c.name: np.zeros(n) for c in TRACK_COLUMNS}
    data.update(
        frame=frame, time=np.asarray(frame) / 25, track_id=track_id, class_id=0,
        class_name="player", team=-1, pitch_x=x, pitch_y=[0.0] * n if y is None else y,
        confidence=0.9,
    )  # fmt: skip
    data.update(extra)
    return pd.DataFrame(data)


def _tracks(df: pd.DataFrame) -> Tracks:
    return Tracks(df, meta={"match": "m1"}, **META)


def _same_meta(out: Tracks) -> None:
    assert isinstance(out, Tracks)
    assert (out.fps, out.image_size, out.pitch_size, out.meta.to_dict()) == (
        25.0, (1280, 720), (100.0, 64.0), {"match": "m1"},
    )  # fmt: skip


def _pairs(table: Tracks | pd.DataFrame) -> list[tuple[int, int]]:
    df = table.df if isinstance(table, Tracks) else table
    return list(zip(df["frame"].tolist(), df["track_id"].tolist(), strict=True))


BASE = _df([0, 0, 1, 1, 2, 3], [1, 2, 1, 2, 1, 1], [0.0, 50.0, 1.0, 51.0, 2.0, 3.0])


# ---- remove ---------------------------------------------------------------------------------


def test_remove_positions_int_range_iterable_and_ignored_frames() -> None:
    before = BASE.copy()
    assert _pairs(remove_positions(BASE, 1, 2)) == [(0, 1), (0, 2), (1, 1), (1, 2), (3, 1)]
    assert _pairs(remove_positions(BASE, 1, range(1, 3))) == [(0, 1), (0, 2), (1, 2), (3, 1)]
    assert _pairs(remove_positions(BASE, 2, [1, 7])) == [(0, 1), (0, 2), (1, 1), (2, 1), (3, 1)]
    out = remove_positions(BASE, 1, np.array([0, 3]))
    assert out["pitch_x"].tolist() == [50.0, 1.0, 51.0, 2.0]
    assert out.index.equals(pd.RangeIndex(4))
    pd.testing.assert_frame_equal(BASE, before)  # input not modified
    with pytest.raises(DataError, match="track 9 is not in the table"):
        remove_positions(BASE, 9, 0)
    assert len(remove_positions(BASE, 9, 0, missing_ok=True)) == 6


def test_remove_tracks_and_tracks_metadata() -> None:
    t = _tracks(BASE)
    out = remove_tracks(t, 1)
    _same_meta(out)
    assert _pairs(out) == [(0, 2), (1, 2)]
    assert len(t) == 6
    assert _pairs(remove_tracks(BASE, [1, 2])) == []
    with pytest.raises(DataError, match=r"tracks \[7, 8\] are not in the table"):
        remove_tracks(BASE, [2, 7, 8])
    assert _pairs(remove_tracks(BASE, [2, 7], missing_ok=True)) == [(0, 1), (1, 1), (2, 1), (3, 1)]
    _same_meta(remove_positions(t, 2, [0]))


# ---- add ------------------------------------------------------------------------------------


def test_add_track_values_times_and_errors() -> None:
    t = _tracks(BASE)
    out = add_track(t, 5, [1, 4], [[10.0, 20.0], [11.0, 21.0]], class_id=3, team=1)
    _same_meta(out)
    new = out.df[out.df["track_id"] == 5]
    assert new["frame"].tolist() == [1, 4]
    assert new["time"].tolist() == [0.04, 0.16]  # frame 1 exists: its time; frame 4: 3/25 + 1/25
    assert new["pitch_x"].tolist() == [10.0, 11.0]
    assert new["pitch_y"].tolist() == [20.0, 21.0]
    assert new["class_name"].tolist() == ["ball", "ball"]
    assert new["team"].tolist() == [1, 1]
    assert new[["x1", "confidence"]].isna().all().all()
    assert _pairs(out)[-3:] == [(2, 1), (3, 1), (4, 5)]
    assert len(t) == 6
    # An explicit time, and an id that exists elsewhere but not in those frames.
    out2 = add_track(BASE, 2, [3], [[1.0, 2.0]], time=9.5)
    assert out2.loc[(out2["frame"] == 3) & (out2["track_id"] == 2), "time"].item() == 9.5
    with pytest.raises(DataError, match=r"track 2 already has rows at frames \[0, 1\]"):
        add_track(BASE, 2, [0, 1, 5], np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"shape \(2, 2\)"):
        add_track(BASE, 5, [0, 1], [1.0, 2.0])
    with pytest.raises(DataError, match="repeat"):
        add_track(BASE, 5, [0, 0], np.zeros((2, 2)))


def test_add_positions_copies_class_and_team_from_nearest_row() -> None:
    df = _df([0, 4], [3, 3], [0.0, 4.0], class_id=[0, 1], class_name=["player", "goalkeeper"],
             team=[0, 1])  # fmt: skip
    before = df.copy()
    out = add_positions(df, 3, [1, 2, 3, 6], [[1, 0], [2, 0], [3, 0], [6, 0]])
    pd.testing.assert_frame_equal(df, before)
    assert out["frame"].tolist() == [0, 1, 2, 3, 4, 6]
    assert out["pitch_x"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 6.0]
    assert out["team"].tolist() == [0, 0, 0, 1, 1, 1]  # frame 2 ties: the earlier row
    assert out["class_name"].tolist() == ["player"] * 3 + ["goalkeeper"] * 3
    assert out["time"].round(9).tolist() == [0.0, 0.04, 0.08, 0.12, 0.16, 0.24]
    assert out["class_id"].dtype == df["class_id"].dtype
    _same_meta(add_positions(_tracks(BASE), 2, [2], [[52.0, 0.0]]))
    with pytest.raises(DataError, match="track 8 is not in the table"):
        add_positions(df, 8, [1], [[0.0, 0.0]])
    with pytest.raises(DataError, match=r"track 3 already has rows at frames \[4\]"):
        add_positions(df, 3, [3, 4], np.zeros((2, 2)))


# ---- merge ----------------------------------------------------------------------------------


def test_merge_tracks_whole_range_and_conflicts() -> None:
    df = _df([0, 1, 2, 2, 3], [1, 1, 1, 7, 7], [0.0, 1.0, 2.0, 2.5, 3.0])
    before = df.copy()
    with pytest.raises(DataError, match=r"tracks 1 and 7 are both present at frames \[2\]"):
        merge_tracks(df, 1, 7)
    keep = merge_tracks(df, 1, 7, conflict="keep")
    assert _pairs(keep) == [(0, 1), (1, 1), (2, 1), (3, 1)]
    assert keep["pitch_x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    merged = merge_tracks(df, 1, 7, conflict="merge")
    assert merged["pitch_x"].tolist() == [0.0, 1.0, 2.5, 3.0]
    ranged = merge_tracks(df, 1, 7, frames=range(3, 10))
    assert _pairs(ranged) == [(0, 1), (1, 1), (2, 1), (2, 7), (3, 1)]
    pd.testing.assert_frame_equal(df, before)
    _same_meta(merge_tracks(_tracks(df), 1, 7, frames=[3]))
    with pytest.raises(DataError, match="track 7 has no rows at the given frames"):
        merge_tracks(df, 1, 7, frames=[0, 1])
    with pytest.raises(DataError, match="into itself"):
        merge_tracks(df, 1, 1)
    with pytest.raises(ValueError, match="conflict"):
        merge_tracks(df, 1, 7, conflict="both")  # type: ignore[arg-type]


def test_combine_runs_ids_frames_times() -> None:
    a = _tracks(_df([0, 1], [1, 4], [0.0, 1.0]))
    b = _df([0, 0, 1], [1, 2, 2], [5.0, 6.0, 7.0], flag=[True, False, True])
    before = b.copy()
    out = combine_runs(a, b, id_map={1: 4}, frame_offset=10)
    _same_meta(out)
    assert _pairs(out) == [(0, 1), (1, 4), (10, 4), (10, 7), (11, 7)]  # 2 -> 2 + (4 + 1)
    assert out.df["time"].round(9).tolist() == [0.0, 0.04, 0.4, 0.4, 0.44]
    assert out.df["flag"].tolist() == [False, False, True, False, True]
    pd.testing.assert_frame_equal(b, before)
    plain = combine_runs(a.df, b, id_offset=100, time_offset=1.0)
    assert isinstance(plain, pd.DataFrame)
    assert _pairs(plain) == [(0, 1), (0, 101), (0, 102), (1, 4), (1, 102)]
    assert plain["time"].round(9).tolist() == [0.0, 1.0, 1.0, 0.04, 1.04]
    with pytest.raises(DataError, match=r"\(1, 4\)"):
        combine_runs(a, b, id_map={2: 4}, frame_offset=0)
    no_time = b.drop(columns="time")
    with pytest.raises(DataError, match="time_offset"):
        combine_runs(no_time.assign(time=np.nan).iloc[:1], b.iloc[:1].assign(time=np.nan),
                     frame_offset=3)  # fmt: skip


# ---- formats --------------------------------------------------------------------------------


def test_per_id_frames_and_wide_round_trip() -> None:
    t = _tracks(BASE)
    per = per_id_frames(t)
    assert list(per) == [1, 2]
    assert per[1]["frame"].tolist() == [0, 1, 2, 3]
    assert per[2]["pitch_x"].tolist() == [50.0, 51.0]
    assert Tracks(pd.concat(per.values()), **META, meta={"match": "m1"}) == t
    wide = wide_positions(t)
    assert wide.index.tolist() == [0, 1, 2, 3]
    assert wide.columns.tolist() == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]
    assert wide[(2, "x")].tolist()[:2] == [50.0, 51.0]
    assert np.isnan(wide.loc[3, (2, "x")])
    assert from_wide(wide, t) == t
    long = from_wide(wide)
    assert _pairs(long) == _pairs(t)
    assert list(long.columns) == ["frame", "track_id", "pitch_x", "pitch_y"]
    # Edits: a moved position, a new cell of track 2 and a new track 9.
    edited = wide.copy()
    edited.loc[0, (1, "x")] = -1.0
    edited.loc[2, (2, "x")], edited.loc[2, (2, "y")] = 52.0, 0.0
    edited[(9, "x")] = [np.nan, np.nan, np.nan, 30.0]
    edited[(9, "y")] = [np.nan, np.nan, np.nan, 40.0]
    out = from_wide(edited, t)
    _same_meta(out)
    assert _pairs(out) == [(0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 9)]
    assert out.df["pitch_x"].tolist() == [-1.0, 50.0, 1.0, 51.0, 2.0, 52.0, 3.0, 30.0]
    assert out.df["class_id"].tolist()[-1] == -1
    assert out.df["class_name"].tolist()[-1] == "unknown"
    with pytest.raises(DataError, match="MultiIndex"):
        from_wide(pd.DataFrame({"x": [1.0]}))


# ---- RTS smoother ---------------------------------------------------------------------------


def test_rts_smooth_keeps_constant_velocity_paths_exactly() -> None:
    f = np.arange(30)
    x = 10.0 + 0.3 * f  # 7.5 m/s at 25 fps
    y = 20.0 - 0.1 * f
    a = _df(list(f), [1] * 30, list(x), list(y))
    b = _df([3, 4, 5, 9], [2] * 4, [1.0, 2.0, 3.0, 9.0], [0.0, 0.0, np.nan, 0.0])
    df = pd.concat([a, b], ignore_index=True).sample(frac=1.0, random_state=2)
    before = df.copy()
    out = rts_smooth(df, accel_std=2.0, measurement_std=0.3, fps=25.0)
    pd.testing.assert_frame_equal(df, before)
    assert out.index.equals(df.index)
    got = out.set_index(["track_id", "frame"]).sort_index()
    np.testing.assert_allclose(got.loc[1, "pitch_x"].to_numpy(), x, atol=1e-6)
    np.testing.assert_allclose(got.loc[1, "pitch_y"].to_numpy(), y, atol=1e-6)
    # Track 2: run 3-4 (line through both points), NaN row 5 kept, lone row 9 kept.
    np.testing.assert_allclose(got.loc[2, "pitch_x"].to_numpy(), [1.0, 2.0, 3.0, 9.0], atol=1e-6)
    assert np.isnan(got.loc[(2, 5), "pitch_y"])
    assert out["pitch_x"].dtype == np.float64 and out["x1"].equals(df["x1"])


def test_rts_smooth_reduces_noise_and_keeps_tracks_metadata() -> None:
    rng = np.random.default_rng(0)
    f = np.arange(200)
    truth = 5.0 + 0.2 * f  # 5 m/s
    noisy = truth + rng.normal(0.0, 0.5, f.size)
    t = _tracks(_df(list(f), [4] * 200, list(noisy), list(30.0 + rng.normal(0, 0.5, 200))))
    out = rts_smooth(t, accel_std=1.0, measurement_std=0.5)  # fps from Tracks
    _same_meta(out)
    err_before = np.abs(noisy - truth).mean()
    err_after = np.abs(out.df["pitch_x"].to_numpy(np.float64) - truth).mean()
    assert err_after < 0.4 * err_before
    assert np.abs(out.df["pitch_y"].to_numpy(np.float64) - 30.0).mean() < 0.2
    # A cut splits the run: a jump at the cut survives.
    jump = _df(list(range(20)), [1] * 20, [0.0] * 10 + [10.0] * 10)
    sm = rts_smooth(jump, fps=25.0, cut_frames=[10])["pitch_x"].to_numpy()
    np.testing.assert_allclose(sm, [0.0] * 10 + [10.0] * 10, atol=1e-6)
    with pytest.raises(DataError, match="frame rate"):
        rts_smooth(jump.drop(columns="time"))


# ---- kinematics -----------------------------------------------------------------------------


def test_kinematics_on_a_known_motion() -> None:
    # x = 2 t^2, y = 3 t: v = (4t, 3), a = (4, 0); uneven times (a dropped camera frame).
    t = np.array([0.0, 0.1, 0.2, 0.35, 0.5, 0.6])
    df = pd.DataFrame({"frame": range(6), "time": t, "track_id": 1, "pitch_x": 2 * t**2,
                       "pitch_y": 3 * t})  # fmt: skip
    out = kinematics(df)
    assert list(out.columns[-6:]) == list(KINEMATIC_COLUMNS)
    np.testing.assert_allclose(out["vx"][1:5], 4 * t[1:5], atol=1e-12)
    np.testing.assert_allclose(out["vy"][1:5], 3.0, atol=1e-12)
    np.testing.assert_allclose(out["speed"][1:5], np.hypot(4 * t[1:5], 3), atol=1e-12)
    np.testing.assert_allclose(out["ax"][1:5], 4.0, atol=1e-9)
    np.testing.assert_allclose(out["acceleration"][1:5], 4.0, atol=1e-9)
    assert out.loc[[0, 5], list(KINEMATIC_COLUMNS)].isna().all().all()
    assert "vx" not in df.columns
    # Savitzky-Golay derivatives at 10 fps: exact for a quadratic, NaN on the half-window edges.
    f = np.arange(9)
    sg = kinematics(pd.DataFrame({"frame": f, "track_id": 2, "pitch_x": 2 * (f / 10) ** 2,
                                  "pitch_y": 0.0}), fps=10.0, window=5)  # fmt: skip
    np.testing.assert_allclose(sg["vx"][2:7], 4 * f[2:7] / 10, atol=1e-12)
    np.testing.assert_allclose(sg["ax"][2:7], 4.0, atol=1e-9)
    assert sg["vx"][[0, 1, 7, 8]].isna().all()


def test_kinematics_caps_runs_and_tracks() -> None:
    # 25 fps; track 1 moves 0.2 m per frame (5 m/s) then jumps 2 m in one frame (50 m/s).
    df = _df([0, 1, 2, 3, 4, 5, 7, 8, 9], [1] * 6 + [2] * 3,
             [0.0, 0.2, 0.4, 0.6, 2.6, 2.8, 0.0, 0.0, 0.0])  # fmt: skip
    out = kinematics(_tracks(df))
    _same_meta(out)
    k = out.df
    np.testing.assert_allclose(k["vx"][1:3], 5.0)
    np.testing.assert_allclose(k["ax"][1:3], 0.0, atol=1e-4)  # float32 positions
    assert k["speed"][[3, 4]].isna().all()  # (2.6 - 0.4) / 0.08 = 27.5 m/s > 12
    assert k["acceleration"][[3, 4]].isna().all()  # 1.8 / 0.04^2 = 1125 m/s^2 > 10
    np.testing.assert_allclose(k["speed"][7], 0.0)
    uncapped = kinematics(df, max_speed=None, max_accel=None)
    np.testing.assert_allclose(uncapped["vx"][3], 27.5)
    np.testing.assert_allclose(uncapped["ax"][3], 1125.0)
    # A missing frame ends a run: track 1 split at frame 3.
    split = kinematics(df.drop(index=3))
    assert split.loc[[2, 4], "vx"].isna().all()
    with pytest.raises(ValueError, match="window"):
        kinematics(df, window=4)


# ---- suggest_merges -------------------------------------------------------------------------


def test_suggest_merges_finds_the_planted_pair_only() -> None:
    # 25 fps. Track 1 ends at frame 10 at (20, 30); track 2 starts at frame 35 (1 s later) at
    # (24, 33): 5 m in 1 s. Track 3 starts at frame 20 100 m away (impossible); track 4 is of
    # the other team; track 5 starts 3 s later; track 6 overlaps track 1.
    rows = [
        (list(range(0, 11)), 1, 20.0, 30.0, 0),
        (list(range(35, 40)), 2, 24.0, 33.0, 0),
        (list(range(20, 25)), 3, 90.0, 30.0, 0),
        (list(range(30, 33)), 4, 21.0, 30.0, 1),
        (list(range(86, 90)), 5, 20.0, 30.0, 0),
        (list(range(5, 15)), 6, 20.0, 31.0, 0),
    ]
    df = pd.concat(
        [_df(f, [i] * len(f), [x] * len(f), [y] * len(f), team=team) for f, i, x, y, team in rows],
        ignore_index=True,
    )
    out = suggest_merges(_tracks(df))
    assert list(out.columns) == list(MERGE_COLUMNS)
    pairs = list(zip(out["end_id"], out["start_id"], strict=True))
    assert (1, 2) in pairs
    assert not {(1, 3), (1, 4), (1, 5), (1, 6)} & set(pairs)
    row = out[(out["end_id"] == 1) & (out["start_id"] == 2)].iloc[0]
    assert (row["end_frame"], row["start_frame"]) == (10, 35)
    assert row["gap_s"] == pytest.approx(1.0)
    assert row["distance_m"] == pytest.approx(5.0)
    assert row["required_speed"] == pytest.approx(5.0)
    assert row["cost"] == pytest.approx((5.0 / 9.0 + 1.0 / 2.0) / 2)
    assert out["cost"].is_monotonic_increasing
    # Teams ignored: track 4 (1 m in 0.8 s) becomes a candidate, and the best one.
    loose = suggest_merges(df, same_team=False)
    assert (loose["end_id"].iloc[0], loose["start_id"].iloc[0]) == (1, 4)
    assert loose.iloc[0]["cost"] == pytest.approx((1.25 / 9 + 0.8 / 2) / 2)
    assert len(suggest_merges(df.iloc[:0])) == 0


def _textbook_rts(z: np.ndarray, dt: float, q: float, r: float) -> np.ndarray:
    """Per-run reference: plain Kalman filter + RTS smoother, one axis."""
    F = np.array([[1.0, dt], [0.0, 1.0]])
    Q = q * np.array([[dt**4 / 4, dt**3 / 2], [dt**3 / 2, dt**2]])
    H = np.array([[1.0, 0.0]])
    x, P = np.array([z[0], 0.0]), np.diag([1e10, 1e10])
    xs_f, Ps_f, xs_p, Ps_p = [], [], [], []
    for k, zk in enumerate(z):
        if k:
            x, P = F @ x, F @ P @ F.T + Q
        xs_p.append(x)
        Ps_p.append(P)
        K = P @ H.T / (H @ P @ H.T + r)
        x = x + (K * (zk - x[0])).ravel()
        P = (np.eye(2) - K @ H) @ P @ (np.eye(2) - K @ H).T + K @ K.T * r
        xs_f.append(x)
        Ps_f.append(P)
    out = [xs_f[-1]]
    for k in range(len(z) - 2, -1, -1):
        C = Ps_f[k] @ F.T @ np.linalg.inv(Ps_p[k + 1])
        out.insert(0, xs_f[k] + C @ (out[0] - xs_p[k + 1]))
    return np.array([o[0] for o in out])


def test_rts_smooth_matches_a_textbook_smoother_on_every_run() -> None:
    rng = np.random.default_rng(5)
    frames = [list(range(0, 40)), list(range(3, 8)) + list(range(10, 30)), list(range(50, 53))]
    parts = [
        _df(
            f, [i] * len(f), list(rng.normal(0, 1, len(f)).cumsum()), list(rng.normal(0, 1, len(f)))
        )
        for i, f in enumerate(frames)
    ]
    df = pd.concat(parts, ignore_index=True)
    df["pitch_x"] = df["pitch_x"].astype(np.float64)
    out = rts_smooth(df, accel_std=1.5, measurement_std=0.4, fps=10.0)
    runs = [(0, 0, 40), (1, 3, 8), (1, 10, 30), (2, 50, 53)]
    for tid, lo, hi in runs:
        sel = (df["track_id"] == tid) & df["frame"].between(lo, hi - 1)
        for col in ("pitch_x", "pitch_y"):
            want = _textbook_rts(df.loc[sel, col].to_numpy(np.float64), 0.1, 1.5**2, 0.4**2)
            np.testing.assert_allclose(out.loc[sel, col].to_numpy(), want, atol=1e-6)
