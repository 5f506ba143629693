"""Trajectory operations: gap filling and smoothing along tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.signal import savgol_filter

from touchline.trajectories import interpolate_gaps, savgol, smooth_tracks


@pytest.mark.parametrize(("n", "window", "order"), [(9, 5, 2), (40, 7, 2), (12, 11, 3), (7, 7, 1)])
def test_savgol_matches_scipy(n: int, window: int, order: int) -> None:
    v = np.random.default_rng(n).normal(size=(n, 3))
    expected = savgol_filter(v, window, order, axis=0, mode="interp")
    np.testing.assert_allclose(savgol(v, window, order), expected, atol=1e-12)


def _table(frames: list[int], tid: int, x: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"frame": frames, "track_id": tid, "pitch_x": x, "pitch_y": 0.0, "x1": 1.0})


def test_smooth_tracks_runs_gaps_cuts_and_exclusions() -> None:
    rng = np.random.default_rng(1)
    noisy = list(np.arange(20.0) + rng.normal(0, 0.3, 20))
    a = _table(list(range(20)), 1, noisy)  # one run of 20
    b = _table([*range(5), *range(8, 12)], 2, [5.0] * 4 + [9.0] + [1.0] * 4)  # runs too short
    c = _table(list(range(20)), 3, noisy)  # split by a cut at 10
    d = _table(list(range(20)), 0, noisy)  # excluded (the ball)
    df = pd.concat([a, b, c, d], ignore_index=True).sample(frac=1.0, random_state=0)
    out = smooth_tracks(df, window=7, cut_frames=[10], exclude_ids=[0])
    assert out.index.equals(df.index)  # rows stay where they were
    x = out.set_index(["track_id", "frame"])["pitch_x"]
    truth = np.arange(20.0)
    err_before = np.abs(np.array(noisy) - truth).mean()
    assert np.abs(x.loc[1].sort_index().to_numpy() - truth).mean() < 0.7 * err_before
    assert x.loc[2].sort_index().tolist() == [5.0] * 4 + [9.0] + [1.0] * 4
    # Across the cut, each side is smoothed on its own: a jump at the cut survives.
    jump = _table(list(range(20)), 3, [0.0] * 10 + [10.0] * 10)
    sm = smooth_tracks(jump, window=7, cut_frames=[10])["pitch_x"].to_numpy()
    np.testing.assert_allclose(sm, [0.0] * 10 + [10.0] * 10, atol=1e-9)
    assert x.loc[0].sort_index().tolist() == list(d["pitch_x"])
    assert (out["x1"] == 1.0).all()  # boxes are not smoothed by default


def test_smooth_tracks_rejects_bad_windows() -> None:
    with pytest.raises(ValueError, match="odd"):
        smooth_tracks(_table([0], 1, [0.0]), window=6)


def test_interpolate_gaps_every_track_and_not_across_cuts() -> None:
    df = pd.concat(
        [_table([0, 3], 1, [0.0, 3.0]), _table([0, 4], 2, [0.0, 8.0]), _table([5, 9], 7, [0, 4])],
        ignore_index=True,
    )
    for col in ("time", "y1", "x2", "y2", "foot_x", "foot_y"):
        df[col] = 0.0
    df["time"] = df["frame"] / 25
    out = interpolate_gaps(df, max_gap=3, cut_frames=[7])
    filled = out[out["interpolated"]]
    assert sorted(zip(filled["track_id"], filled["frame"], strict=True)) == [
        (1, 1), (1, 2), (2, 1), (2, 2), (2, 3),
    ]  # fmt: skip
    assert out.loc[(out["track_id"] == 2) & (out["frame"] == 2), "pitch_x"].item() == 4.0
    only_one = interpolate_gaps(df, max_gap=3, track_ids=[1])
    assert set(only_one.loc[only_one["interpolated"], "track_id"]) == {1}
