"""Trajectory operations on the tracks table (:mod:`touchline.tracks`).

So far: :func:`interpolate_gaps`, linear filling of short gaps inside tracks, and
:func:`smooth_tracks`, Savitzky-Golay smoothing of boxes and positions along each track; neither
crosses a camera cut.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from touchline.errors import DataError

__all__ = ["SMOOTHED_COLUMNS", "interpolate_gaps", "savgol", "smooth_tracks"]

SMOOTHED_COLUMNS = ("pitch_x", "pitch_y")
"""Columns :func:`smooth_tracks` smooths by default: pitch positions. Boxes are left alone
(their width follows the running stride; smoothing it costs more overlap than it gains)."""

_BOX_COLUMNS = ("x1", "y1", "x2", "y2", "foot_x", "foot_y")


def interpolate_gaps(
    df: pd.DataFrame,
    *,
    max_gap: int,
    track_ids: Iterable[int] | None = None,
    cut_frames: Iterable[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Fill short gaps of tracks by linear interpolation.

    For each pair of consecutive rows of a track at frames ``f0 < f1`` with
    ``1 <= f1 - f0 - 1 <= max_gap`` missing frames between them and no cut in ``(f0, f1]``, one
    row per missing frame is added: box, foot point and ``time`` linear in the frame index,
    ``pitch_x``/``pitch_y`` linear when both ends have them (else NaN), ``calib_confidence`` the
    smaller of the ends' when the pitch position is interpolated (else NaN), ``confidence`` and
    ``track_confidence`` NaN, the other columns copied from the row at ``f0`` (boolean extra
    columns False). Longer gaps stay empty.

    Args:
        df: a tracks table (:data:`~touchline.tracks.TRACK_COLUMNS`, e.g. ``Tracks.df``); not
            modified.
        max_gap: longest gap filled, in missing frames (0 fills nothing).
        track_ids: the tracks to fill (default: all).
        cut_frames: frames whose calibration has ``cut`` set (a cut happened right before
            them); a gap is never bridged across a cut.

    Returns:
        A new DataFrame: the rows of ``df`` plus the filled rows, sorted by ``frame`` then
        ``track_id`` with a fresh index, and a boolean column ``interpolated`` (True for the
        filled rows; an existing ``interpolated`` column is kept for the other rows).

    Raises:
        ValueError: ``max_gap`` is negative.
        DataError: a column the interpolation needs is missing, or a track appears twice in a
            frame.

    Example:
        >>> from touchline.tracks import TracksBuilder
        >>> from touchline.types import Detections
        >>> b = TracksBuilder()
        >>> for frame, x in ((0, 100.0), (3, 130.0)):
        ...     b.add(frame, frame / 25, Detections(xyxy=[[x, 50, x + 10, 60]], class_id=[3],
        ...                                        tracker_id=[0], confidence=[0.9]))
        >>> out = interpolate_gaps(b.build().df, max_gap=2)
        >>> out[["frame", "time", "x1", "foot_x", "confidence", "interpolated"]]
           frame  time     x1  foot_x  confidence  interpolated
        0      0  0.00  100.0   105.0         0.9         False
        1      1  0.04  110.0   115.0         NaN          True
        2      2  0.08  120.0   125.0         NaN          True
        3      3  0.12  130.0   135.0         0.9         False
    """
    if isinstance(max_gap, bool) or int(max_gap) != max_gap or max_gap < 0:
        raise ValueError(f"interpolate_gaps: max_gap must be an integer >= 0, got {max_gap!r}")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"interpolate_gaps: expected a pandas DataFrame, got {type(df).__name__}")
    needed = ("frame", "time", "track_id", *_BOX_COLUMNS, "pitch_x", "pitch_y")
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(f"interpolate_gaps: missing columns {missing}")

    out = df.copy()
    interpolated = (
        out["interpolated"].fillna(False).astype(bool)
        if "interpolated" in out.columns
        else pd.Series(False, index=out.index)
    )
    out["interpolated"] = interpolated.to_numpy(dtype=bool)
    cuts = np.unique(np.asarray([] if cut_frames is None else list(cut_frames), dtype=np.int64))
    tid = out["track_id"].to_numpy()
    wanted = None if track_ids is None else np.unique(np.asarray(list(track_ids), np.int64))
    order = np.lexsort((out["frame"].to_numpy(), tid))
    tid_sorted = tid[order]
    bounds = np.flatnonzero(np.diff(tid_sorted)) + 1
    new_rows: list[pd.DataFrame] = []
    for rows in np.split(order, bounds):
        if rows.size < 2 or (wanted is not None and tid[rows[0]] not in wanted):
            continue
        track = out.iloc[rows]
        frames = track["frame"].to_numpy(dtype=np.int64)
        if (np.diff(frames) == 0).any():
            f = int(frames[1:][np.diff(frames) == 0][0])
            raise DataError(
                f"interpolate_gaps: track {int(tid[rows[0]])} appears twice in frame {f}"
            )
        for a in np.flatnonzero((np.diff(frames) > 1) & (np.diff(frames) <= max_gap + 1)):
            f0, f1 = int(frames[a]), int(frames[a + 1])
            if ((cuts > f0) & (cuts <= f1)).any():
                continue
            new_rows.append(_fill(track.iloc[a], track.iloc[a + 1], f0, f1, out))
    if new_rows:
        out = pd.concat([out, *new_rows], ignore_index=True)
        for col in df.columns:  # concat may upcast (e.g. int16 -> float): restore
            if col in out.columns and out[col].dtype != df[col].dtype:
                with contextlib.suppress(TypeError, ValueError):
                    out[col] = out[col].astype(df[col].dtype)
        out["interpolated"] = out["interpolated"].astype(bool)
    order = np.lexsort((np.arange(len(out)), out["track_id"].to_numpy(), out["frame"].to_numpy()))
    return out.take(order).reset_index(drop=True)


def _fill(left: pd.Series, right: pd.Series, f0: int, f1: int, like: pd.DataFrame) -> pd.DataFrame:
    """Rows for the frames strictly between ``f0`` and ``f1``."""
    frames = np.arange(f0 + 1, f1)
    t = (frames - f0) / (f1 - f0)
    n = len(frames)
    columns: dict[str, Any] = {}
    for col in like.columns:
        value = left[col]
        if like[col].dtype == bool:
            value = False
        columns[col] = [value] * n
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n))

    def lerp(col: str) -> np.ndarray:
        a, b = float(left[col]), float(right[col])
        return np.asarray(a + (b - a) * t)

    frame["frame"] = frames
    frame["time"] = lerp("time")
    for col in _BOX_COLUMNS:
        frame[col] = lerp(col)
    pitch_known = all(
        math.isfinite(float(s[c])) for s in (left, right) for c in ("pitch_x", "pitch_y")
    )
    for col in ("pitch_x", "pitch_y"):
        frame[col] = lerp(col) if pitch_known else np.nan
    if "calib_confidence" in like.columns:
        conf = min(float(left["calib_confidence"]), float(right["calib_confidence"]))
        frame["calib_confidence"] = conf if pitch_known else np.nan
    for col in ("confidence", "track_confidence"):
        if col in like.columns:
            frame[col] = np.nan
    frame["interpolated"] = True
    return frame


def smooth_tracks(
    df: pd.DataFrame,
    *,
    window: int = 7,
    order: int = 2,
    columns: Iterable[str] = SMOOTHED_COLUMNS,
    cut_frames: Iterable[int] | np.ndarray | None = None,
    exclude_ids: Iterable[int] = (),
) -> pd.DataFrame:
    """Savitzky-Golay smoothing of ``columns`` along each track (a new DataFrame).

    Each run of consecutive frames of a track (a missing frame or a camera cut ends a run) at
    least ``window`` long is filtered with a local polynomial of degree ``order``
    (:func:`savgol`); shorter runs and NaN values are left
    as they are. Rows keep their order and every other column.

    Args:
        df: a tracks table (``frame``, ``track_id`` and ``columns``).
        window: filter length in frames (odd, > ``order``).
        order: polynomial degree.
        columns: the columns to smooth.
        cut_frames: frames starting a new shot.
        exclude_ids: tracks left alone (e.g. the ball, whose flight is not smooth on a bounce).

    >>> df = pd.DataFrame({"frame": range(9), "track_id": 1,
    ...                    "pitch_x": [0.0, 1.2, 1.9, 3.1, 4.0, 4.8, 6.1, 7.0, 7.9]})
    >>> smooth_tracks(df, window=5, columns=["pitch_x"])["pitch_x"].round(2).tolist()
    [0.05, 1.06, 2.05, 3.01, 3.97, 4.93, 5.99, 6.97, 7.93]
    """
    if window % 2 == 0 or window <= order:
        raise ValueError(f"smooth_tracks: window must be odd and > order, got {window}, {order}")
    cols = [c for c in columns if c in df.columns]
    out = df.copy()
    if not len(df) or not cols:
        return out
    cuts = np.unique(np.asarray([] if cut_frames is None else list(cut_frames), np.int64))
    skip = set(int(i) for i in exclude_ids)
    frame = df["frame"].to_numpy(np.int64)
    tid = df["track_id"].to_numpy(np.int64)
    order_idx = np.lexsort((frame, tid))
    f, t = frame[order_idx], tid[order_idx]
    new_run = np.ones(len(f), bool)
    new_run[1:] = (t[1:] != t[:-1]) | (f[1:] != f[:-1] + 1) | np.isin(f[1:], cuts)
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], len(f))
    values = np.stack([out[c].to_numpy(np.float64) for c in cols], axis=1)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if b - a < window or int(t[a]) in skip:
            continue
        rows = order_idx[a:b]
        v = values[rows]
        finite = np.isfinite(v).all(axis=0)
        if finite.any():
            v[:, finite] = savgol(v[:, finite], window, order)
            values[rows] = v
    for j, c in enumerate(cols):
        out[c] = values[:, j].astype(df[c].dtype)
    return out


def savgol(values: np.ndarray, window: int, order: int) -> np.ndarray:
    """Savitzky-Golay filter along axis 0, as ``scipy.signal.savgol_filter(..., mode="interp")``
    (the first and last ``window // 2`` values come from the polynomial fitted to the first and
    last window), without importing ``scipy.signal`` (slow to import).

    >>> v = np.array([0.0, 1.0, 4.0, 9.0, 16.0, 25.0, 36.0])
    >>> savgol(v, 5, 2).round(6).tolist()  # a parabola is kept exactly
    [0.0, 1.0, 4.0, 9.0, 16.0, 25.0, 36.0]
    """
    from numpy.lib.stride_tricks import sliding_window_view

    v = np.asarray(values, np.float64)
    n, half = v.shape[0], window // 2
    if n < window:
        raise ValueError(f"savgol: need at least {window} values, got {n}")
    x = np.arange(-half, half + 1, dtype=np.float64)
    fit = np.linalg.pinv(np.vander(x, order + 1, increasing=True))  # (order + 1, window)
    out = np.empty_like(v)
    out[half : n - half] = sliding_window_view(v, window, axis=0) @ fit[0]
    head = np.vander(x[:half], order + 1, increasing=True)
    tail = np.vander(x[half + 1 :], order + 1, increasing=True)
    out[:half] = head @ np.tensordot(fit, v[:window], axes=(1, 0))
    out[n - half :] = tail @ np.tensordot(fit, v[n - window :], axes=(1, 0))
    return out
