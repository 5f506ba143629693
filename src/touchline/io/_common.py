"""Helpers shared by the importers: building a tracks table from aligned arrays, file checks."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from touchline.errors import DataError
from touchline.tracking_meta import TrackingMeta
from touchline.tracks import TRACK_COLUMNS, Tracks
from touchline.types import CLASS_NAMES

EXTRA_COLUMNS: tuple[str, ...] = ("period", "pitch_z")
"""Extra columns every importer adds after the canonical ones."""

BALL_TRACK_ID = 0
_CLASS_ID = {name: k for k, name in enumerate(CLASS_NAMES)}


def utc_iso(when: datetime) -> str:
    """ISO 8601 text of an instant in UTC with a ``Z`` (naive times are taken as UTC).

    >>> from datetime import timedelta, timezone
    >>> utc_iso(datetime(2019, 11, 9, 18, 30, tzinfo=timezone(timedelta(hours=1))))
    '2019-11-09T17:30:00Z'
    """
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat() + "Z"


def existing_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``Path(path)`` when it is an existing file, else a DataError naming it."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such {what}")
    if not p.is_file():
        raise DataError(f"{p}: expected a {what}, found a directory")
    return p


def build_tracks(
    *,
    frame: ArrayLike,
    time: ArrayLike,
    track_id: ArrayLike,
    class_name: ArrayLike,
    team: ArrayLike,
    pitch_x: ArrayLike,
    pitch_y: ArrayLike,
    period: ArrayLike,
    pitch_z: ArrayLike | None = None,
    fps: float | None,
    pitch_size: tuple[float, float],
    meta: TrackingMeta,
) -> Tracks:
    """A tracks table from aligned per-row arrays of pitch positions (no image columns).

    ``class_name`` holds names of :data:`~touchline.types.CLASS_NAMES`; ``class_id`` follows
    from it. Image columns and confidences are NaN; ``period`` and ``pitch_z`` (NaN when
    ``None``) are added after the canonical columns.
    """
    names = np.asarray(class_name, dtype=object)
    n = len(names)
    nan32 = np.full(n, np.nan, dtype=np.float32)
    uniq, inverse = np.unique(names.astype(str), return_inverse=True)
    class_id = np.array([_CLASS_ID.get(str(u), -1) for u in uniq], dtype=np.int16)[inverse]
    columns: dict[str, Any] = {
        "frame": np.asarray(frame, dtype=np.int64),
        "time": np.asarray(time, dtype=np.float64),
        "track_id": np.asarray(track_id, dtype=np.int64),
        "class_id": class_id,
        "class_name": pd.array(names.astype(str), dtype="string"),
        "team": np.asarray(team, dtype=np.int8),
        "x1": nan32,
        "y1": nan32,
        "x2": nan32,
        "y2": nan32,
        "foot_x": nan32,
        "foot_y": nan32,
        "pitch_x": np.asarray(pitch_x, dtype=np.float32),
        "pitch_y": np.asarray(pitch_y, dtype=np.float32),
        "confidence": nan32,
        "track_confidence": nan32,
        "calib_confidence": nan32,
        "period": np.asarray(period, dtype=np.int8),
        "pitch_z": nan32 if pitch_z is None else np.asarray(pitch_z, dtype=np.float32),
    }
    for name, values in columns.items():
        if len(values) != n:
            raise DataError(f"build_tracks: column {name!r} has {len(values)} rows, expected {n}")
    assert [c.name for c in TRACK_COLUMNS] == list(columns)[: len(TRACK_COLUMNS)]
    return Tracks(pd.DataFrame(columns), fps=fps, pitch_size=pitch_size, meta=meta)


def period_of_rows(tracks: Tracks) -> np.ndarray:
    """The match period of every row: :meth:`touchline.tracks.Tracks.row_periods`."""
    return tracks.row_periods()
