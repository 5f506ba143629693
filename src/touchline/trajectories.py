"""Trajectory operations on the tracks table (:mod:`touchline.tracks`).

Every operation is a pure function: it takes a :class:`~touchline.tracks.Tracks` or a tracks
DataFrame (only the columns it needs are required), never modifies it, and returns a new table
of the same type (a ``Tracks`` keeps its ``fps``, ``image_size``, ``pitch_size`` and ``meta``).
Errors in the data raise :class:`~touchline.errors.DataError` naming the ids and frames.

Editing:
    * :func:`remove_positions` -- drop a track's rows at a frame, a range or a set of frames.
    * :func:`remove_tracks` -- drop whole tracks.
    * :func:`add_track` -- add a new entity with its pitch trajectory.
    * :func:`add_positions` -- add pitch positions to an existing track.
    * :func:`merge_tracks` -- relabel one track as another, optionally over a frame range.
    * :func:`combine_runs` -- merge two tracking runs with an id mapping and a frame offset.

Formats:
    * :func:`per_id_frames` -- one DataFrame per track id.
    * :func:`wide_positions` / :func:`from_wide` -- frames x (track_id, x/y) positions and back.

Filling and smoothing (neither crosses a camera cut):
    * :func:`interpolate_gaps` -- the gap filler: linear interpolation of gaps up to
      ``max_gap`` missing frames; longer gaps stay empty.
    * :func:`smooth_tracks` -- Savitzky-Golay smoothing (:func:`savgol`) along each track.
    * :func:`rts_smooth` -- constant-velocity Kalman filter + Rauch-Tung-Striebel smoother.

Kinematics and linking:
    * :func:`kinematics` -- velocity, speed and acceleration with physical caps.
    * :func:`suggest_merges` -- candidate pairs of fragments that belong to one player.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from typing import Any, Literal, TypeVar, overload

import numpy as np
import pandas as pd

from touchline.errors import DataError
from touchline.tracks import UNKNOWN_CLASS_NAME, Tracks
from touchline.types import CLASS_NAMES

__all__ = [
    "KINEMATIC_COLUMNS",
    "MERGE_COLUMNS",
    "SMOOTHED_COLUMNS",
    "TracksLike",
    "add_positions",
    "add_track",
    "combine_runs",
    "from_wide",
    "interpolate_gaps",
    "kinematics",
    "merge_tracks",
    "per_id_frames",
    "remove_positions",
    "remove_tracks",
    "rts_smooth",
    "savgol",
    "smooth_tracks",
    "suggest_merges",
    "wide_positions",
]

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


# --------------------------------------------------------------------------------------------
# Shared helpers of the trajectory operations
# --------------------------------------------------------------------------------------------

TracksLike = TypeVar("TracksLike", Tracks, pd.DataFrame)
"""A :class:`~touchline.tracks.Tracks` or a plain tracks DataFrame; operations return the type
they are given (a ``Tracks`` keeps its ``fps``, ``image_size``, ``pitch_size`` and ``meta``)."""

_POSITION_COLUMNS = ("pitch_x", "pitch_y")


def _table(tracks: Tracks | pd.DataFrame, who: str) -> pd.DataFrame:
    if isinstance(tracks, Tracks):
        return tracks.df
    if isinstance(tracks, pd.DataFrame):
        return tracks
    raise TypeError(f"{who}: expected a Tracks or a pandas DataFrame, got {type(tracks).__name__}")


def _like(tracks: TracksLike, out: pd.DataFrame) -> TracksLike:
    """``out`` as the type of ``tracks`` (a Tracks keeps its metadata)."""
    if isinstance(tracks, Tracks):
        return tracks.with_table(out)
    return out


def _need(df: pd.DataFrame, columns: Iterable[str], who: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{who}: missing columns {missing}")


def _frame_list(frames: int | Iterable[int] | None, who: str) -> np.ndarray:
    """Frames given as an int, a range or an iterable, as a sorted unique int64 array."""
    if frames is None:
        return np.empty(0, np.int64)
    if isinstance(frames, int | np.integer):
        return np.asarray([int(frames)], np.int64)
    values = np.asarray(list(frames))
    if values.size == 0:
        return np.empty(0, np.int64)
    if values.dtype.kind not in "iu" and (
        values.dtype.kind != "f" or not np.all(values == np.round(values))
    ):
        raise DataError(f"{who}: frames must be integers, got {values.tolist()[:5]}")
    return np.unique(values.astype(np.int64))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by frame then track_id (stable), with a fresh index."""
    order = np.lexsort((df["track_id"].to_numpy(), df["frame"].to_numpy()))
    return df.take(order).reset_index(drop=True)


def _restore_dtypes(out: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    for col in like.columns:  # concat may upcast (e.g. int16 -> float): restore when possible
        if col in out.columns and out[col].dtype != like[col].dtype:
            with contextlib.suppress(TypeError, ValueError):
                out[col] = out[col].astype(like[col].dtype)
    return out


def _short(values: Iterable[Any], limit: int = 10) -> str:
    items = [int(v) for v in values]
    text = ", ".join(str(v) for v in items[:limit])
    return f"[{text}, ...] ({len(items)} in all)" if len(items) > limit else f"[{text}]"


def _frame_times(
    df: pd.DataFrame, frames: np.ndarray, fps: float | None, time: Any = None
) -> np.ndarray:
    """Times of ``frames``: ``time`` if given, else the time of rows already at those frames,
    else ``frame / fps`` anchored on the nearest frame with a known time (NaN without fps)."""
    n = len(frames)
    if time is not None:
        values = np.broadcast_to(np.asarray(time, np.float64), (n,)).copy()
        return values
    out = np.full(n, np.nan)
    if "time" not in df.columns or not len(df):
        return out if fps is None else frames / fps
    known = df.drop_duplicates("frame")[["frame", "time"]].dropna()
    kf = known["frame"].to_numpy(np.int64)
    kt = known["time"].to_numpy(np.float64)
    order = np.argsort(kf)
    kf, kt = kf[order], kt[order]
    if fps is None and len(kf) >= 2:
        step = np.diff(kt) / np.diff(kf)
        fps = float(1.0 / np.median(step)) if np.median(step) > 0 else None
    if not len(kf):
        return out if fps is None else frames / fps
    i = np.clip(np.searchsorted(kf, frames), 0, len(kf) - 1)
    j = np.clip(i - 1, 0, len(kf) - 1)
    near = np.where(np.abs(kf[j] - frames) < np.abs(kf[i] - frames), j, i)
    exact = kf[near] == frames
    out[exact] = kt[near][exact]
    if fps is not None:
        out[~exact] = kt[near][~exact] + (frames[~exact] - kf[near][~exact]) / fps
    return out


def _append_rows(df: pd.DataFrame, new: dict[str, Any], n: int) -> pd.DataFrame:
    """``df`` plus ``n`` rows with the values of ``new`` (other columns: False for booleans,
    NaN otherwise), sorted by frame then track_id with a fresh index."""
    columns: dict[str, Any] = {}
    for col in df.columns:
        if col in new:
            columns[col] = np.broadcast_to(np.asarray(new[col]), (n,)).copy()
        elif df[col].dtype == bool:
            columns[col] = np.zeros(n, bool)
        else:
            columns[col] = np.full(n, np.nan)
    rows = pd.DataFrame(columns, index=pd.RangeIndex(n))
    out = pd.concat([df, rows], ignore_index=True) if len(df) else rows
    return _sorted(_restore_dtypes(out, df))


def _class_names(class_id: np.ndarray) -> np.ndarray:
    names = np.asarray([*CLASS_NAMES, UNKNOWN_CLASS_NAME], dtype=object)
    ids = np.asarray(class_id, np.int64)
    return names[np.where((ids >= 0) & (ids < len(CLASS_NAMES)), ids, len(CLASS_NAMES))]


def _time_axis(df: pd.DataFrame, fps: float | None, tracks: Any, who: str) -> np.ndarray:
    """Seconds of each row: ``frame / fps`` when ``fps`` is given, else the ``time`` column,
    else ``frame / Tracks.fps``."""
    frame = df["frame"].to_numpy(np.float64)
    if fps is not None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"{who}: fps must be positive, got {fps!r}")
        return frame / fps
    if "time" in df.columns:
        t = df["time"].to_numpy(np.float64)
        if np.isfinite(t).all():
            return t
    if isinstance(tracks, Tracks) and tracks.fps is not None:
        return frame / tracks.fps
    raise DataError(f"{who}: no usable time: give fps, or a table with a finite 'time' column")


def _runs(
    frame: np.ndarray,
    tid: np.ndarray,
    ok: np.ndarray | None = None,
    cut_frames: Iterable[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row order by (track_id, frame) and, in that order, a run label per row: a run is a
    stretch of consecutive frames of one track (rows with ``ok`` False are labelled -1 and end
    runs; a frame in ``cut_frames`` starts a new run)."""
    order = np.lexsort((frame, tid))
    f, t = frame[order], tid[order]
    good = np.ones(len(f), bool) if ok is None else ok[order]
    cuts = np.unique(np.asarray([] if cut_frames is None else list(cut_frames), np.int64))
    new = np.ones(len(f), bool)
    new[1:] = (t[1:] != t[:-1]) | (f[1:] != f[:-1] + 1) | ~good[:-1] | np.isin(f[1:], cuts)
    label = np.cumsum(new) - 1
    label[~good] = -1
    return order, label


# --------------------------------------------------------------------------------------------
# Editing: remove, add, merge, combine
# --------------------------------------------------------------------------------------------


def remove_positions(
    tracks: TracksLike, track_id: int, frames: int | Iterable[int], *, missing_ok: bool = False
) -> TracksLike:
    """Drop the rows of track ``track_id`` at ``frames`` (an int, a range or an iterable).

    Frames where the track has no row are ignored. Returns the same type as ``tracks`` (rows
    sorted by frame then track_id, fresh index); the input is not modified.

    Raises:
        DataError: the track has no row at all (unless ``missing_ok``).

    >>> df = pd.DataFrame({"frame": [0, 0, 1, 2], "track_id": [1, 2, 1, 1],
    ...                    "pitch_x": [0.0, 5.0, 1.0, 2.0], "pitch_y": 0.0})
    >>> remove_positions(df, 1, range(1, 3))
       frame  track_id  pitch_x  pitch_y
    0      0         1      0.0      0.0
    1      0         2      5.0      0.0
    """
    who = "remove_positions"
    df = _table(tracks, who)
    _need(df, ("frame", "track_id"), who)
    mine = df["track_id"].to_numpy() == track_id
    if not mine.any() and not missing_ok:
        raise DataError(f"{who}: track {track_id} is not in the table")
    drop = mine & np.isin(df["frame"].to_numpy(), _frame_list(frames, who))
    return _like(tracks, _sorted(df[~drop]))


def remove_tracks(
    tracks: TracksLike, ids: int | Iterable[int], *, missing_ok: bool = False
) -> TracksLike:
    """Drop every row of the tracks ``ids`` (an int or an iterable).

    Raises:
        DataError: an id has no row (all such ids are named), unless ``missing_ok``.

    >>> df = pd.DataFrame({"frame": [0, 0, 1], "track_id": [1, 2, 3], "pitch_x": 0.0,
    ...                    "pitch_y": 0.0})
    >>> remove_tracks(df, [1, 3])["track_id"].tolist()
    [2]
    """
    who = "remove_tracks"
    df = _table(tracks, who)
    _need(df, ("frame", "track_id"), who)
    wanted = _frame_list(ids, who)
    tid = df["track_id"].to_numpy()
    unknown = np.setdiff1d(wanted, tid)
    if unknown.size and not missing_ok:
        raise DataError(f"{who}: tracks {_short(unknown)} are not in the table")
    return _like(tracks, _sorted(df[~np.isin(tid, wanted)]))


def _positions(pitch_xy: Any, n: int, who: str) -> np.ndarray:
    xy = np.asarray(pitch_xy, np.float64)
    if xy.shape != (n, 2):
        raise DataError(f"{who}: pitch_xy must have shape ({n}, 2) for {n} frames, got {xy.shape}")
    return xy


def _new_frames(frames: int | Iterable[int], who: str) -> np.ndarray:
    f = np.asarray([frames] if isinstance(frames, int | np.integer) else list(frames), np.int64)
    if f.ndim != 1 or f.size == 0:
        raise DataError(f"{who}: give at least one frame")
    if np.unique(f).size != f.size:
        s = np.sort(f)
        raise DataError(f"{who}: frames repeat: {_short(np.unique(s[1:][np.diff(s) == 0]))}")
    return f


def _new_rows(
    tracks: Tracks | pd.DataFrame, frames: int | Iterable[int], pitch_xy: Any, who: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The table, the new frames and their pitch positions, checked (adding positions)."""
    df = _table(tracks, who)
    _need(df, ("frame", "track_id", *_POSITION_COLUMNS), who)
    f = _new_frames(frames, who)
    return df, f, _positions(pitch_xy, len(f), who)


def _check_free(track_id: int, own: np.ndarray, f: np.ndarray, who: str) -> None:
    """DataError when the track, with rows at frames ``own``, already has one in ``f``."""
    clash = np.intersect1d(own, f)
    if clash.size:
        raise DataError(f"{who}: track {track_id} already has rows at frames {_short(clash)}")


def add_track(
    tracks: TracksLike,
    track_id: int,
    frames: int | Iterable[int],
    pitch_xy: Any,
    *,
    class_id: int = 0,
    team: int = -1,
    time: Any = None,
) -> TracksLike:
    """Add an entity ``track_id`` with pitch positions ``pitch_xy`` (``(n, 2)`` metres) at
    ``frames``.

    The new rows get ``class_id`` (and its ``class_name``), ``team``, ``time`` (default: the
    time of rows already at that frame, else ``frame / fps`` from the nearest frame with a
    known time, with the ``fps`` of a ``Tracks`` or estimated from the table), NaN boxes and
    confidences, False in boolean extra columns.

    Raises:
        DataError: the id already has a row in one of ``frames`` (they are named), repeated
            frames, or ``pitch_xy`` of the wrong shape.

    >>> df = pd.DataFrame({"frame": [0, 1], "time": [0.0, 0.04], "track_id": [1, 1],
    ...                    "pitch_x": [1.0, 2.0], "pitch_y": [3.0, 3.0]})
    >>> add_track(df, 9, [1, 2], [[50.0, 30.0], [50.5, 30.0]])
       frame  time  track_id  pitch_x  pitch_y
    0      0  0.00         1      1.0      3.0
    1      1  0.04         1      2.0      3.0
    2      1  0.04         9     50.0     30.0
    3      2  0.08         9     50.5     30.0
    """
    who = "add_track"
    df, f, xy = _new_rows(tracks, frames, pitch_xy, who)
    mine = df["track_id"].to_numpy() == track_id
    _check_free(track_id, df["frame"].to_numpy()[mine], f, who)
    fps = tracks.fps if isinstance(tracks, Tracks) else None
    new = {
        "frame": f,
        "track_id": np.full(len(f), track_id, np.int64),
        "time": _frame_times(df, f, fps, time),
        "class_id": np.full(len(f), class_id),
        "class_name": _class_names(np.full(len(f), class_id)),
        "team": np.full(len(f), team),
        "pitch_x": xy[:, 0],
        "pitch_y": xy[:, 1],
    }
    return _like(tracks, _append_rows(df, new, len(f)))


def add_positions(
    tracks: TracksLike, track_id: int, frames: int | Iterable[int], pitch_xy: Any
) -> TracksLike:
    """Add pitch positions ``pitch_xy`` (``(n, 2)`` metres) to the existing track ``track_id``
    at ``frames``.

    Each new row copies ``class_id``, ``class_name`` and ``team`` from the track's row nearest
    in frames (earlier on a tie); ``time`` as in :func:`add_track`; boxes and confidences NaN.

    Raises:
        DataError: the track does not exist, already has a row at one of ``frames`` (they are
            named), repeated frames, or ``pitch_xy`` of the wrong shape.

    >>> df = pd.DataFrame({"frame": [0, 1], "track_id": [4, 4], "team": [1, 1],
    ...                    "pitch_x": [1.0, 2.0], "pitch_y": [3.0, 3.0]})
    >>> add_positions(df, 4, [2, 3], [[3.0, 3.0], [4.0, 3.0]])
       frame  track_id  team  pitch_x  pitch_y
    0      0         4     1      1.0      3.0
    1      1         4     1      2.0      3.0
    2      2         4     1      3.0      3.0
    3      3         4     1      4.0      3.0
    """
    who = "add_positions"
    df, f, xy = _new_rows(tracks, frames, pitch_xy, who)
    mine = np.flatnonzero(df["track_id"].to_numpy() == track_id)
    if not mine.size:
        raise DataError(f"{who}: track {track_id} is not in the table (use add_track)")
    own = df["frame"].to_numpy(np.int64)[mine]
    _check_free(track_id, own, f, who)
    order = np.argsort(own, kind="stable")
    own, mine = own[order], mine[order]
    i = np.clip(np.searchsorted(own, f), 0, len(own) - 1)
    j = np.clip(i - 1, 0, len(own) - 1)
    near = mine[np.where(np.abs(own[j] - f) <= np.abs(own[i] - f), j, i)]
    fps = tracks.fps if isinstance(tracks, Tracks) else None
    new: dict[str, Any] = {
        "frame": f,
        "track_id": np.full(len(f), track_id, np.int64),
        "time": _frame_times(df, f, fps),
        "pitch_x": xy[:, 0],
        "pitch_y": xy[:, 1],
    }
    for col in ("class_id", "class_name", "team"):
        if col in df.columns:
            new[col] = df[col].to_numpy()[near]
    return _like(tracks, _append_rows(df, new, len(f)))


def merge_tracks(
    tracks: TracksLike,
    keep: int,
    merge: int,
    frames: int | Iterable[int] | None = None,
    *,
    conflict: Literal["error", "keep", "merge"] = "error",
) -> TracksLike:
    """Relabel the rows of track ``merge`` (only those at ``frames`` when given) as ``keep``.

    Where both tracks have a row in a frame, ``conflict`` decides: ``"error"`` raises,
    ``"keep"`` drops the row of ``merge``, ``"merge"`` drops the row of ``keep``.

    Raises:
        DataError: ``keep == merge``, ``merge`` has no row (at ``frames``), or both tracks are
            present in some frames with ``conflict="error"`` (the frames are named).

    >>> df = pd.DataFrame({"frame": [0, 1, 2, 3], "track_id": [1, 1, 5, 5],
    ...                    "pitch_x": [0.0, 1.0, 2.0, 3.0], "pitch_y": 0.0})
    >>> merge_tracks(df, 1, 5)["track_id"].tolist()
    [1, 1, 1, 1]
    >>> merge_tracks(df, 1, 5, frames=[2])["track_id"].tolist()
    [1, 1, 1, 5]
    """
    who = "merge_tracks"
    if conflict not in ("error", "keep", "merge"):
        raise ValueError(f"{who}: conflict must be 'error', 'keep' or 'merge', got {conflict!r}")
    df = _table(tracks, who)
    _need(df, ("frame", "track_id"), who)
    if keep == merge:
        raise DataError(f"{who}: cannot merge track {keep} into itself")
    tid = df["track_id"].to_numpy()
    frame = df["frame"].to_numpy()
    moving = tid == merge
    if frames is not None:
        moving &= np.isin(frame, _frame_list(frames, who))
    if not moving.any():
        where = "" if frames is None else " at the given frames"
        raise DataError(f"{who}: track {merge} has no rows{where}")
    kept = tid == keep
    both = np.intersect1d(frame[moving], frame[kept])
    drop = np.zeros(len(df), bool)
    if both.size:
        if conflict == "error":
            raise DataError(
                f"{who}: tracks {keep} and {merge} are both present at frames {_short(both)}; "
                "pass conflict='keep' or 'merge' to choose, or merge a frame range"
            )
        drop = (moving if conflict == "keep" else kept) & np.isin(frame, both)
    out = df.copy()
    new_id = np.where(moving & ~drop, keep, tid)
    out["track_id"] = new_id.astype(df["track_id"].dtype)
    return _like(tracks, _sorted(out[~drop]))


def combine_runs(
    a: TracksLike,
    b: Tracks | pd.DataFrame,
    *,
    id_map: dict[int, int] | None = None,
    frame_offset: int = 0,
    id_offset: int | None = None,
    time_offset: float | None = None,
) -> TracksLike:
    """Merge two tracking runs: ``b``'s rows shifted by ``frame_offset`` frames and
    relabelled, added to ``a``.

    An id of ``b`` found in ``id_map`` becomes ``id_map[id]``; any other id ``i`` becomes
    ``i + id_offset`` (default ``id_offset``: ``a``'s largest id + 1, 0 when ``a`` is empty).
    ``b``'s ``time`` is shifted by ``time_offset`` (default ``frame_offset / fps``, the fps of
    ``a`` or ``b`` when they are ``Tracks``, else estimated from ``a``'s or ``b``'s times).
    Columns missing on one side are NaN (False when boolean). The result has ``a``'s type and
    metadata.

    Raises:
        DataError: a (frame, track_id) pair is in both runs after relabelling (some are named),
            or ``frame_offset`` is non-zero and no fps is known (pass ``time_offset``).

    >>> a = pd.DataFrame({"frame": [0, 1], "time": [0.0, 0.04], "track_id": [1, 3],
    ...                   "pitch_x": 0.0, "pitch_y": 0.0})
    >>> b = pd.DataFrame({"frame": [0, 0], "time": [0.0, 0.0], "track_id": [1, 2],
    ...                   "pitch_x": 1.0, "pitch_y": 1.0})
    >>> combine_runs(a, b, id_map={1: 3}, frame_offset=2)
       frame  time  track_id  pitch_x  pitch_y
    0      0  0.00         1      0.0      0.0
    1      1  0.04         3      0.0      0.0
    2      2  0.08         3      1.0      1.0
    3      2  0.08         6      1.0      1.0
    """
    who = "combine_runs"
    da, db = _table(a, who), _table(b, who)
    for d in (da, db):
        _need(d, ("frame", "track_id"), who)
    ids_a = da["track_id"].to_numpy(np.int64)
    offset = (int(ids_a.max()) + 1 if ids_a.size else 0) if id_offset is None else int(id_offset)
    ids_b = db["track_id"].to_numpy(np.int64)
    mapping = {int(k): int(v) for k, v in (id_map or {}).items()}
    keys = np.asarray(list(mapping), np.int64)
    mapped = np.isin(ids_b, keys)
    new_ids = ids_b + offset
    if keys.size:
        values = np.asarray([mapping[int(k)] for k in keys], np.int64)
        order = np.argsort(keys)
        new_ids[mapped] = values[order][np.searchsorted(keys[order], ids_b[mapped])]
    shifted = db.copy()
    shifted["frame"] = db["frame"].to_numpy(np.int64) + int(frame_offset)
    shifted["track_id"] = new_ids
    if "time" in db.columns:
        if time_offset is None and frame_offset != 0:
            fps = next((t.fps for t in (a, b) if isinstance(t, Tracks) and t.fps), None)
            for d in (da, db):
                if fps is None:
                    fps = _estimate_fps(d)
            if fps is None:
                raise DataError(
                    f"{who}: cannot shift b's time by {frame_offset} frames without a frame "
                    "rate; pass time_offset"
                )
            time_offset = frame_offset / fps
        shifted["time"] = db["time"].to_numpy(np.float64) + (time_offset or 0.0)
    for col in da.columns:  # missing boolean columns are False, not NaN
        if col not in shifted.columns and da[col].dtype == bool:
            shifted[col] = False
    for col in shifted.columns:
        if col not in da.columns and shifted[col].dtype == bool:
            da = da.assign(**{col: False})
    out = pd.concat([da, shifted], ignore_index=True) if len(da) else shifted
    out = _sorted(_restore_dtypes(out, _table(a, who)))
    f, t = out["frame"].to_numpy(), out["track_id"].to_numpy()
    dup = (f[1:] == f[:-1]) & (t[1:] == t[:-1])
    if dup.any():
        pairs = [
            f"({int(x)}, {int(y)})" for x, y in zip(f[1:][dup][:5], t[1:][dup][:5], strict=True)
        ]
        raise DataError(
            f"{who}: {int(dup.sum())} (frame, track_id) pairs are in both runs after "
            f"relabelling, e.g. {', '.join(pairs)}; check id_map, id_offset and frame_offset"
        )
    return _like(a, out)


def _estimate_fps(df: pd.DataFrame) -> float | None:
    """Frame rate from the ``time`` and ``frame`` columns (median seconds per frame)."""
    if "time" not in df.columns or len(df) < 2:
        return None
    known = df.drop_duplicates("frame")[["frame", "time"]].dropna().sort_values("frame")
    if len(known) < 2:
        return None
    step = float(np.median(np.diff(known["time"].to_numpy()) / np.diff(known["frame"].to_numpy())))
    return 1.0 / step if step > 0 else None


# --------------------------------------------------------------------------------------------
# Formats: per id, wide
# --------------------------------------------------------------------------------------------


def per_id_frames(tracks: Tracks | pd.DataFrame) -> dict[int, pd.DataFrame]:
    """The rows of each track, sorted by frame with a fresh index, keyed by track id (in
    increasing order). ``pd.concat(d.values())`` gives the long table back.

    >>> df = pd.DataFrame({"frame": [0, 0, 1], "track_id": [2, 1, 2], "pitch_x": [1.0, 2.0, 3.0]})
    >>> {k: v["pitch_x"].tolist() for k, v in per_id_frames(df).items()}
    {1: [2.0], 2: [1.0, 3.0]}
    """
    df = _table(tracks, "per_id_frames")
    _need(df, ("frame", "track_id"), "per_id_frames")
    tid = df["track_id"].to_numpy()
    order = np.lexsort((df["frame"].to_numpy(), tid))
    sorted_df = df.take(order)
    cuts = np.flatnonzero(np.diff(tid[order])) + 1
    starts = np.r_[0, cuts] if len(df) else np.empty(0, np.int64)
    ends = np.r_[cuts, len(df)] if len(df) else np.empty(0, np.int64)
    return {
        int(tid[order][s]): sorted_df.iloc[s:e].reset_index(drop=True)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    }


def wide_positions(tracks: Tracks | pd.DataFrame) -> pd.DataFrame:
    """Pitch positions as a wide table: index ``frame`` (the frames with rows), columns a
    MultiIndex ``(track_id, "x" | "y")``; NaN where a track has no row.

    >>> df = pd.DataFrame({"frame": [0, 0, 1], "track_id": [2, 1, 2],
    ...                    "pitch_x": [1.0, 2.0, 3.0], "pitch_y": [4.0, 5.0, 6.0]})
    >>> wide_positions(df)
    track_id    1         2
                x    y    x    y
    frame
    0         2.0  5.0  1.0  4.0
    1         NaN  NaN  3.0  6.0
    """
    df = _table(tracks, "wide_positions")
    _need(df, ("frame", "track_id", *_POSITION_COLUMNS), "wide_positions")
    long = pd.DataFrame(
        {
            "frame": df["frame"].to_numpy(np.int64),
            "track_id": df["track_id"].to_numpy(np.int64),
            "x": df["pitch_x"].to_numpy(np.float64),
            "y": df["pitch_y"].to_numpy(np.float64),
        }
    )
    wide = long.pivot(index="frame", columns="track_id", values=["x", "y"])
    wide = wide.swaplevel(0, 1, axis=1).sort_index(axis=1)
    wide.columns = wide.columns.set_names(["track_id", None])
    return wide


@overload
def from_wide(wide: pd.DataFrame, like: None = None) -> pd.DataFrame: ...
@overload
def from_wide(wide: pd.DataFrame, like: TracksLike) -> TracksLike: ...
def from_wide(wide: pd.DataFrame, like: Tracks | pd.DataFrame | None = None) -> Any:
    """The long table of a wide position table (:func:`wide_positions`).

    Without ``like``: a DataFrame with columns ``frame, track_id, pitch_x, pitch_y``, one row
    per (frame, track) whose x or y is not NaN. With ``like`` (a table of the same type is
    returned): ``like``'s rows with their pitch positions replaced by the wide table's where it
    has the (frame, track) cell, plus rows for the other non-NaN cells, which get ``class_id``,
    ``class_name`` and ``team`` as in :func:`add_positions` when the track exists in ``like``
    (-1 / ``"unknown"`` / -1 otherwise) and ``time`` as in :func:`add_track`. So
    ``from_wide(wide_positions(t), t) == t``.

    >>> wide = pd.DataFrame({(3, "x"): [1.0, np.nan], (3, "y"): [2.0, np.nan]},
    ...                     index=pd.Index([0, 1], name="frame"))
    >>> from_wide(wide)
       frame  track_id  pitch_x  pitch_y
    0      0         3      1.0      2.0
    """
    who = "from_wide"
    if not isinstance(wide.columns, pd.MultiIndex) or wide.columns.nlevels != 2:
        raise DataError(f"{who}: expected MultiIndex columns (track_id, 'x' | 'y')")
    if not set(wide.columns.get_level_values(1)) <= {"x", "y"}:
        raise DataError(f"{who}: the second column level must be 'x' or 'y'")
    ids = sorted({int(i) for i in wide.columns.get_level_values(0)})
    frames = np.asarray(wide.index, np.int64)
    full = wide.reindex(columns=pd.MultiIndex.from_product([ids, ["x", "y"]]))
    values = full.to_numpy(np.float64).reshape(len(frames), len(ids), 2)
    present = np.isfinite(values).any(axis=2)
    fi, ti = np.nonzero(present)
    long = pd.DataFrame(
        {
            "frame": frames[fi],
            "track_id": np.asarray(ids, np.int64)[ti],
            "pitch_x": values[fi, ti, 0],
            "pitch_y": values[fi, ti, 1],
        }
    )
    if like is None:
        return _sorted(long)
    df = _table(like, who)
    _need(df, ("frame", "track_id", *_POSITION_COLUMNS), who)
    out = df.copy()
    # Update the positions of like's rows that have a cell in the wide table.
    f_pos = pd.Index(frames).get_indexer(df["frame"].to_numpy())
    t_pos = pd.Index(ids).get_indexer(df["track_id"].to_numpy())
    has = (f_pos >= 0) & (t_pos >= 0)
    for k, col in enumerate(_POSITION_COLUMNS):
        v = out[col].to_numpy(np.float64).copy()
        v[has] = values[f_pos[has], t_pos[has], k]
        out[col] = v.astype(df[col].dtype)
    existing = pd.MultiIndex.from_arrays([df["frame"].to_numpy(), df["track_id"].to_numpy()])
    new = long[~pd.MultiIndex.from_arrays([long["frame"], long["track_id"]]).isin(existing)]
    table: Any = _like(like, _sorted(out))
    for tid_value, group in new.groupby("track_id", sort=True):
        f, xy = group["frame"].to_numpy(), group[["pitch_x", "pitch_y"]].to_numpy()
        if (out["track_id"].to_numpy() == tid_value).any():
            table = add_positions(table, int(tid_value), f, xy)
        else:
            table = add_track(table, int(tid_value), f, xy, class_id=-1)
    return table


# --------------------------------------------------------------------------------------------
# Smoothing and kinematics
# --------------------------------------------------------------------------------------------


def _rts_gains(n: int, dt: float, q: float, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Kalman gains ``K[k]`` (n, 2) and RTS gains ``C[k]`` (n, 2, 2) of a constant-velocity
    model for step ``k`` of a run (they depend on ``k`` only; the recursion stops once it has
    converged and repeats the steady state)."""
    F = np.array([[1.0, dt], [0.0, 1.0]])
    Q = q * np.array([[dt**4 / 4, dt**3 / 2], [dt**3 / 2, dt**2]])
    P_pred = np.diag([1e10, 1e10])  # effectively diffuse prior on position and velocity
    K = np.empty((n, 2))
    P_filt = np.empty((n, 2, 2))
    P_next = np.empty((n, 2, 2))
    k_done = n
    for k in range(n):
        S = P_pred[0, 0] + r
        K[k] = P_pred[:, 0] / S
        P_filt[k] = P_pred - np.outer(K[k], P_pred[0, :])
        P_filt[k, 0, :] = P_filt[k, :, 0] = P_pred[0, :] * r / S  # without cancellation
        P_next[k] = F @ P_filt[k] @ F.T + Q
        if k > 2 and np.allclose(P_next[k], P_next[k - 1], rtol=1e-13, atol=0.0):
            k_done = k + 1
            break
        P_pred = P_next[k]
    K[k_done:] = K[k_done - 1]
    P_filt[k_done:] = P_filt[k_done - 1]
    P_next[k_done:] = P_next[k_done - 1]
    C = P_filt @ F.T @ np.linalg.inv(P_next)
    return K, C


def rts_smooth(
    tracks: TracksLike,
    *,
    accel_std: float = 3.0,
    measurement_std: float = 0.5,
    fps: float | None = None,
    cut_frames: Iterable[int] | np.ndarray | None = None,
) -> TracksLike:
    """Kalman filter and Rauch-Tung-Striebel smoother of ``pitch_x``/``pitch_y`` along each
    track: constant velocity with white-noise acceleration (std ``accel_std`` m/s²), position
    measurements with std ``measurement_std`` m, and an uninformative prior.

    Each run of consecutive frames of a track with finite pitch positions (a missing frame, a
    NaN position or a frame of ``cut_frames`` ends a run) is smoothed on its own; runs of one
    row and NaN rows are left as they are. The time step is ``1 / fps`` (``fps``: the argument,
    else ``Tracks.fps``, else estimated from ``time``). Row order, index and other columns are
    kept. All runs are filtered together, one step of the recursion per position in the run.

    Raises:
        DataError: no frame rate is known.

    >>> df = pd.DataFrame({"frame": range(5), "track_id": 1,
    ...                    "pitch_x": [0.0, 1.0, 2.0, 3.0, 4.0], "pitch_y": 5.0})
    >>> rts_smooth(df, fps=25.0)["pitch_x"].round(6).tolist()  # constant velocity: kept
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    who = "rts_smooth"
    df = _table(tracks, who)
    _need(df, ("frame", "track_id", *_POSITION_COLUMNS), who)
    if not (accel_std > 0 and measurement_std > 0):
        raise ValueError(f"{who}: accel_std and measurement_std must be > 0")
    if fps is None:
        fps = tracks.fps if isinstance(tracks, Tracks) else None
    if fps is None:
        fps = _estimate_fps(df)
    if fps is None or not fps > 0:
        raise DataError(f"{who}: no frame rate: pass fps or a table with times")
    out = df.copy()
    if not len(df):
        return _like(tracks, out)
    z_all = np.stack([df[c].to_numpy(np.float64) for c in _POSITION_COLUMNS], axis=1)
    ok = np.isfinite(z_all).all(axis=1)
    order, label = _runs(
        df["frame"].to_numpy(np.int64), df["track_id"].to_numpy(np.int64), ok, cut_frames
    )
    keep = label >= 0
    rows, lab = order[keep], label[keep]  # rows of finite positions, grouped by run
    if not rows.size:
        return _like(tracks, out)
    _, start, length = np.unique(lab, return_index=True, return_counts=True)
    pos = np.arange(len(rows)) - np.repeat(start, length)
    last = np.repeat(length - 1, length)
    z = z_all[rows]  # (m, 2)
    m = len(rows)
    K, C = _rts_gains(int(length.max()), 1.0 / fps, accel_std**2, measurement_std**2)
    F = np.array([[1.0, 1.0 / fps], [0.0, 1.0]])
    by_pos = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[by_pos], np.arange(int(length.max()) + 1))
    xf = np.zeros((m, 2, 2))  # (row, axis, [position, velocity])
    xp = np.zeros((m, 2, 2))
    for k in range(int(length.max())):
        idx = by_pos[bounds[k] : bounds[k + 1]]
        if k == 0:
            xp[idx, :, 0] = z[idx]
        else:
            xp[idx] = xf[idx - 1] @ F.T
        xf[idx] = xp[idx] + K[k] * (z[idx] - xp[idx, :, 0])[:, :, None]
    xs = xf.copy()
    for k in range(int(length.max()) - 2, -1, -1):
        idx = by_pos[bounds[k] : bounds[k + 1]]
        idx = idx[pos[idx] < last[idx]]
        xs[idx] = xf[idx] + (xs[idx + 1] - xp[idx + 1]) @ C[k].T
    smooth = np.repeat(length > 1, length)
    target = rows[smooth]
    for j, col in enumerate(_POSITION_COLUMNS):
        v = df[col].to_numpy(np.float64).copy()
        v[target] = xs[smooth, j, 0]
        out[col] = v.astype(df[col].dtype)
    return _like(tracks, out)


KINEMATIC_COLUMNS = ("vx", "vy", "speed", "ax", "ay", "acceleration")
"""Columns added by :func:`kinematics` (m/s and m/s²)."""


def kinematics(
    tracks: TracksLike,
    *,
    fps: float | None = None,
    max_speed: float | None = 12.0,
    max_accel: float | None = 10.0,
    window: int | None = None,
    order: int = 2,
    cut_frames: Iterable[int] | np.ndarray | None = None,
) -> TracksLike:
    """Add velocity ``vx, vy, speed`` (m/s) and acceleration ``ax, ay, acceleration`` (m/s²)
    from the pitch positions of each track.

    Derivatives are taken within runs of consecutive frames of a track (a missing frame or a
    frame of ``cut_frames`` ends a run); NaN positions give NaN. Times are ``frame / fps`` when
    ``fps`` is given, else the ``time`` column, else ``frame / Tracks.fps``.

    * ``window=None``: central differences on the (possibly uneven) times, exact for a
      quadratic motion; the first and last row of a run get NaN.
    * ``window`` odd: derivatives of the Savitzky-Golay polynomial of degree ``order`` fitted
      over ``window`` frames (uniform time step: the run's mean); the first and last
      ``window // 2`` rows of a run, and runs shorter than ``window``, get NaN.

    Physical caps: where ``speed > max_speed`` the velocity columns are NaN, where
    ``acceleration > max_accel`` the acceleration columns are NaN (``None``: no cap); such
    values come from identity switches or calibration jumps, not from players.

    >>> t = np.arange(5) / 10
    >>> df = pd.DataFrame({"frame": range(5), "time": t, "track_id": 1,
    ...                    "pitch_x": 2 * t**2, "pitch_y": 0.0})
    >>> kinematics(df)[["vx", "speed", "ax"]].round(6)
        vx  speed   ax
    0  NaN    NaN  NaN
    1  0.4    0.4  4.0
    2  0.8    0.8  4.0
    3  1.2    1.2  4.0
    4  NaN    NaN  NaN
    """
    who = "kinematics"
    df = _table(tracks, who)
    _need(df, ("frame", "track_id", *_POSITION_COLUMNS), who)
    if window is not None and (window % 2 == 0 or order < 2 or window <= order):
        raise ValueError(f"{who}: window must be odd and > order >= 2, got {window}, {order}")
    n = len(df)
    t = _time_axis(df, fps, tracks, who) if n else np.empty(0)
    p = np.stack([df[c].to_numpy(np.float64) for c in _POSITION_COLUMNS], axis=1)
    vel = np.full((n, 2), np.nan)
    acc = np.full((n, 2), np.nan)
    if n:
        order_idx, label = _runs(
            df["frame"].to_numpy(np.int64), df["track_id"].to_numpy(np.int64), None, cut_frames
        )
        ts, ps = t[order_idx], p[order_idx]
        if window is None:
            inner = np.flatnonzero((label[1:-1] == label[:-2]) & (label[1:-1] == label[2:])) + 1
            h1 = (ts[inner] - ts[inner - 1])[:, None]
            h2 = (ts[inner + 1] - ts[inner])[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                d1 = (ps[inner] - ps[inner - 1]) / h1
                d2 = (ps[inner + 1] - ps[inner]) / h2
                v = (d1 * h2 + d2 * h1) / (h1 + h2)
                a = 2 * (d2 - d1) / (h1 + h2)
            vel[order_idx[inner]] = v
            acc[order_idx[inner]] = a
        else:
            half = window // 2
            x = np.arange(-half, half + 1, dtype=np.float64)
            fit = np.linalg.pinv(np.vander(x, order + 1, increasing=True))
            from numpy.lib.stride_tricks import sliding_window_view

            _, start, length = np.unique(label, return_index=True, return_counts=True)
            for s, ln in zip(start.tolist(), length.tolist(), strict=True):
                if ln < window:
                    continue
                dt = (ts[s + ln - 1] - ts[s]) / (ln - 1)
                win = sliding_window_view(ps[s : s + ln], window, axis=0)  # (ln-w+1, 2, w)
                rows = order_idx[s + half : s + ln - half]
                with np.errstate(divide="ignore", invalid="ignore"):
                    vel[rows] = win @ fit[1] / dt
                    acc[rows] = win @ fit[2] * 2 / dt**2
    speed = np.hypot(vel[:, 0], vel[:, 1])
    accel = np.hypot(acc[:, 0], acc[:, 1])
    if max_speed is not None:
        bad = speed > max_speed
        vel[bad] = np.nan
        speed[bad] = np.nan
    if max_accel is not None:
        bad = accel > max_accel
        acc[bad] = np.nan
        accel[bad] = np.nan
    out = df.copy()
    for col, values in zip(
        KINEMATIC_COLUMNS, (vel[:, 0], vel[:, 1], speed, acc[:, 0], acc[:, 1], accel), strict=True
    ):
        out[col] = values
    return _like(tracks, out)


# --------------------------------------------------------------------------------------------
# Fragment linking
# --------------------------------------------------------------------------------------------

MERGE_COLUMNS = (
    "end_id",
    "start_id",
    "end_frame",
    "start_frame",
    "gap_s",
    "distance_m",
    "required_speed",
    "cost",
)
"""Columns of the table :func:`suggest_merges` returns."""


def _majority(group_ids: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Most common value >= 0 per group (smallest on a tie), -1 when a group has none."""
    out = np.full(n_groups, -1, np.int64)
    known = values >= 0
    if not known.any():
        return out
    pairs = pd.DataFrame({"g": group_ids[known], "v": values[known]})
    counts = pairs.value_counts().reset_index(name="n")
    counts = counts.sort_values(["g", "n", "v"], ascending=[True, False, True])
    best = counts.drop_duplicates("g")
    out[best["g"].to_numpy()] = best["v"].to_numpy()
    return out


def suggest_merges(
    tracks: Tracks | pd.DataFrame,
    *,
    max_gap_s: float = 2.0,
    max_speed: float = 9.0,
    same_team: bool = True,
    fps: float | None = None,
) -> pd.DataFrame:
    """Candidate pairs of fragments of one player: track ``end_id`` ends, track ``start_id``
    starts after it.

    A pair qualifies when ``start_id``'s first frame comes after ``end_id``'s last frame (so
    the two are never present together), within ``max_gap_s`` seconds, and the distance from
    ``end_id``'s last to ``start_id``'s first pitch position is covered at no more than
    ``max_speed`` m/s (rows with NaN positions there give no pair); the tracks' classes (and
    teams when ``same_team``) must match when both are known (the most common value >= 0 of
    each track). Times as in :func:`kinematics`.

    Returns:
        A DataFrame with :data:`MERGE_COLUMNS`, sorted by ``cost`` = the mean of
        ``required_speed / max_speed`` and ``gap_s / max_gap_s`` (in [0, 1], lower is more
        likely), then ``end_id``, ``start_id``. Nothing is merged: pass the pairs you accept to
        :func:`merge_tracks`.

    >>> df = pd.DataFrame({"frame": [0, 1, 26, 27], "time": [0.0, 0.04, 1.04, 1.08],
    ...                    "track_id": [1, 1, 2, 2], "pitch_x": [10.0, 10.0, 14.0, 14.0],
    ...                    "pitch_y": 5.0})
    >>> suggest_merges(df)[["end_id", "start_id", "gap_s", "distance_m", "cost"]].round(3)
       end_id  start_id  gap_s  distance_m   cost
    0       1         2    1.0         4.0  0.472
    """
    who = "suggest_merges"
    df = _table(tracks, who)
    _need(df, ("frame", "track_id", *_POSITION_COLUMNS), who)
    if not (max_gap_s > 0 and max_speed > 0):
        raise ValueError(f"{who}: max_gap_s and max_speed must be > 0")
    empty = pd.DataFrame(
        {
            c: pd.Series(dtype="int64" if c.endswith(("id", "frame")) else "float64")
            for c in MERGE_COLUMNS
        }
    )
    if not len(df):
        return empty
    t_all = _time_axis(df, fps, tracks, who)
    tid = df["track_id"].to_numpy(np.int64)
    frame = df["frame"].to_numpy(np.int64)
    order = np.lexsort((frame, tid))
    ids, start, count = np.unique(tid[order], return_index=True, return_counts=True)
    first, last = order[start], order[start + count - 1]
    group = np.repeat(np.arange(len(ids)), count)
    cls = (
        _majority(group, df["class_id"].to_numpy(np.int64)[order], len(ids))
        if "class_id" in df
        else np.full(len(ids), -1)
    )
    team = (
        _majority(group, df["team"].to_numpy(np.int64)[order], len(ids))
        if "team" in df
        else np.full(len(ids), -1)
    )
    xy = np.stack([df[c].to_numpy(np.float64) for c in _POSITION_COLUMNS], axis=1)
    # Candidate b's for each a by start time: start frame > a's end frame, start time within the gap.
    by_start = np.argsort(frame[first], kind="stable")
    s_frame, s_time = frame[first][by_start], t_all[first][by_start]
    lo = np.searchsorted(s_frame, frame[last], side="right")
    hi = np.maximum(lo, np.searchsorted(s_time, t_all[last] + max_gap_s, side="right"))
    n_pairs = hi - lo
    ia = np.repeat(np.arange(len(ids)), n_pairs)
    ib = by_start[
        np.arange(n_pairs.sum())
        - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
        + np.repeat(lo, n_pairs)
    ]
    gap = t_all[first][ib] - t_all[last][ia]
    dist = np.hypot(*(xy[first][ib] - xy[last][ia]).T)
    with np.errstate(divide="ignore", invalid="ignore"):
        need = dist / gap
    good = (gap > 0) & (gap <= max_gap_s) & (need <= max_speed)
    good &= (cls[ia] < 0) | (cls[ib] < 0) | (cls[ia] == cls[ib])
    if same_team:
        good &= (team[ia] < 0) | (team[ib] < 0) | (team[ia] == team[ib])
    ia, ib, gap, dist, need = ia[good], ib[good], gap[good], dist[good], need[good]
    out = pd.DataFrame(
        {
            "end_id": ids[ia],
            "start_id": ids[ib],
            "end_frame": frame[last][ia],
            "start_frame": frame[first][ib],
            "gap_s": gap,
            "distance_m": dist,
            "required_speed": need,
            "cost": (need / max_speed + gap / max_gap_s) / 2,
        }
    )
    if not len(out):
        return empty
    return out.sort_values(["cost", "end_id", "start_id"], kind="stable").reset_index(drop=True)
