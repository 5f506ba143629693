"""The tracks table: the canonical long table of tracking output, one row per (frame, track).

Its columns are :data:`TRACK_COLUMNS` (name, dtype, unit, description), in that order; extra
columns are allowed and kept after them. Rows are sorted by ``frame`` then ``track_id`` and a
track appears at most once per frame. Coordinates follow the conventions of
:mod:`touchline.types` (image pixels, pitch metres, seconds). Everything here is re-exported from
:mod:`touchline.types`.

Files:
    * **Parquet** (``.parquet``, ``.pq``): the table plus its metadata (``fps``, ``image_size``,
      ``pitch_size``, ``meta``, schema version) as JSON under the key ``b"touchline"`` of the
      Parquet key-value metadata. Every column, extras included, round-trips exactly.
    * **CSV** (``.csv``, ``.csv.gz``): a plain CSV with the canonical header that any tool
      reads (NaN written as an empty field, floats with the shortest repr that round-trips).
      The metadata goes to a JSON sidecar ``<file name>.meta.json`` beside it (for example
      ``tracks.csv.meta.json``), always written, so that a stale sidecar of an earlier run can
      never be mistaken for the current one. Reading a CSV without a sidecar gives the default
      metadata. Canonical columns round-trip exactly; extra columns get the dtypes pandas infers.

Both writers are atomic: the file either appears whole or not at all.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from touchline.types import Calibration, Detections
    >>> builder = TracksBuilder()
    >>> dets = Detections(xyxy=[[100, 0, 120, 50]], class_id=[0], tracker_id=[7])
    >>> builder.add(0, 0.0, dets, Calibration(np.diag([0.1, 0.1, 1.0])))
    >>> tracks = builder.build(fps=25.0)
    >>> tracks.df[["frame", "track_id", "class_name", "pitch_x", "pitch_y"]]
       frame  track_id class_name  pitch_x  pitch_y
    0      0         7     player     11.0      5.0
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tracks.parquet"
    >>> read_tracks(tracks.to_parquet(path)) == tracks
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from touchline.errors import DataError
from touchline.tracking_meta import TrackingMeta
from touchline.types import (
    CLASS_NAMES,
    DEFAULT_PITCH_SIZE,
    Calibration,
    Detections,
    as_image_size,
)
from touchline.utils.files import atomic_path, write_json_atomic

__all__ = [
    "PARQUET_METADATA_KEY",
    "TRACKS_SCHEMA_VERSION",
    "TRACK_COLUMNS",
    "TRACK_COLUMN_NAMES",
    "Column",
    "Tracks",
    "TracksBuilder",
    "csv_meta_path",
    "read_tracks",
]

TRACKS_SCHEMA_VERSION = 1
"""Version of the tracks table layout written into file metadata."""

PARQUET_METADATA_KEY = b"touchline"
"""Parquet key-value metadata key holding the table metadata as JSON."""

UNKNOWN_CLASS_NAME = "unknown"
"""``class_name`` of rows whose detections had no ``class_id`` (their ``class_id`` is -1)."""


@dataclass(frozen=True)
class Column:
    """One column of the tracks table.

    Attributes:
        name: column name.
        dtype: pandas dtype name (``"int64"``, ``"float32"``, ``"string"``, ...).
        unit: ``"px"``, ``"m"``, ``"s"`` or ``""`` for unitless.
        description: what the column holds.

    >>> TRACK_COLUMNS[0]
    Column(name='frame', dtype='int64', unit='', description='source frame index (0-based)')
    """

    name: str
    dtype: str
    unit: str
    description: str


TRACK_COLUMNS: tuple[Column, ...] = (
    Column("frame", "int64", "", "source frame index (0-based)"),
    Column("time", "float64", "s", "time of the frame from the start of the source"),
    Column("track_id", "int64", "", "track identity, stable across frames"),
    Column("class_id", "int16", "", "object class id (ObjectClass), -1 when unknown"),
    Column("class_name", "string", "", "object class name"),
    Column("team", "int8", "", "-1 unknown or not a team member, 0 and 1 the two teams"),
    Column("x1", "float32", "px", "box left edge"),
    Column("y1", "float32", "px", "box top edge"),
    Column("x2", "float32", "px", "box right edge"),
    Column("y2", "float32", "px", "box bottom edge"),
    Column(
        "foot_x", "float32", "px", "image foot point x (bottom-centre; box centre for the ball)"
    ),
    Column(
        "foot_y", "float32", "px", "image foot point y (bottom-centre; box centre for the ball)"
    ),
    Column("pitch_x", "float32", "m", "pitch x of the foot point; NaN when not calibrated"),
    Column("pitch_y", "float32", "m", "pitch y of the foot point; NaN when not calibrated"),
    Column("confidence", "float32", "", "detection score, NaN when unknown"),
    Column("track_confidence", "float32", "", "tracker confidence, NaN when unknown"),
    Column(
        "calib_confidence", "float32", "", "frame calibration confidence, NaN when uncalibrated"
    ),
)
"""The canonical columns of the tracks table, in order."""

TRACK_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in TRACK_COLUMNS)

_FLOAT_COLUMNS = tuple(c.name for c in TRACK_COLUMNS if c.dtype.startswith("float"))


# --------------------------------------------------------------------------------------------
# Coercion and metadata validation
# --------------------------------------------------------------------------------------------


def _numeric(series: pd.Series, col: Column) -> np.ndarray:
    """Series as a numpy int or float64 array, or a DataError naming the column."""
    s = series
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        if len(s) == 0:
            return np.empty(0, dtype=np.float64)
        try:
            s = pd.to_numeric(s, errors="raise")
        except (TypeError, ValueError) as e:
            raise DataError(
                f"column {col.name!r}: expected {col.dtype}, got values that are not numbers ({e})"
            ) from None
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iub":
        return s.to_numpy()
    if s.dtype.kind in "iu" and not s.isna().any():  # nullable integer extension dtypes
        return s.to_numpy(dtype=np.int64)
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _coerce(series: pd.Series, col: Column) -> np.ndarray | pd.Series:
    """One canonical column converted to its dtype (DataError when it cannot be)."""
    if col.dtype == "string":
        out = series.astype(pd.StringDtype())
        if out.isna().any():
            i = int(np.flatnonzero(out.isna().to_numpy())[0])
            raise DataError(f"column {col.name!r}: missing value at row {i}")
        return out.reset_index(drop=True)
    values = _numeric(series, col)
    dtype = np.dtype(col.dtype)
    if dtype.kind == "f":
        with np.errstate(over="ignore"):
            return values.astype(dtype)
    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.round(values))
        if not whole.all():
            i = int(np.flatnonzero(~whole)[0])
            raise DataError(
                f"column {col.name!r}: expected {col.dtype}, got {values[i].item()!r} at row {i}"
            )
    info = np.iinfo(dtype)
    if values.size and (values.min() < info.min or values.max() > info.max):
        i = int(np.flatnonzero((values < info.min) | (values > info.max))[0])
        raise DataError(
            f"column {col.name!r}: value {values[i].item()!r} at row {i} does not fit in {col.dtype}"
        )
    return values.astype(dtype)


def _check_fps(fps: Any) -> float | None:
    if fps is None:
        return None
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise DataError(f"Tracks.fps: expected a number or None, got {fps!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise DataError(f"Tracks.fps: expected a positive frame rate, got {fps!r}")
    return value


def _check_pitch_size(pitch_size: Any) -> tuple[float, float]:
    try:
        length, width = (float(v) for v in pitch_size)
    except (TypeError, ValueError):
        raise DataError(
            f"Tracks.pitch_size: expected (length, width), got {pitch_size!r}"
        ) from None
    if not all(math.isfinite(v) and v > 0 for v in (length, width)):
        raise DataError(f"Tracks.pitch_size: expected positive metres, got {pitch_size!r}")
    return length, width


def _metadata_kwargs(d: Any, source: str) -> dict[str, Any]:
    """Tracks keyword arguments from a stored metadata dict."""
    if not isinstance(d, dict):
        raise DataError(f"{source}: metadata must be a JSON object, got {type(d).__name__}")
    version = d.get("schema_version", TRACKS_SCHEMA_VERSION)
    if not isinstance(version, int) or version > TRACKS_SCHEMA_VERSION:
        raise DataError(
            f"{source}: tracks schema version {version!r} is not supported "
            f"(this touchline reads versions up to {TRACKS_SCHEMA_VERSION})"
        )
    image_size = d.get("image_size")
    return {
        "fps": d.get("fps"),
        "image_size": None if image_size is None else tuple(image_size),
        "pitch_size": tuple(d.get("pitch_size", DEFAULT_PITCH_SIZE)),
        "meta": d.get("meta"),
    }


# --------------------------------------------------------------------------------------------
# Tracks
# --------------------------------------------------------------------------------------------


class Tracks:
    """A validated tracks table (pandas DataFrame) plus its metadata.

    Args:
        df: a DataFrame with at least the :data:`TRACK_COLUMNS`; values are coerced to the
            canonical dtypes, extra columns are kept after the canonical ones, and rows are
            sorted by ``frame`` then ``track_id``. The DataFrame given is not modified.
        fps: frame rate of the source video, or ``None`` when unknown.
        image_size: ``(width, height)`` of the source images in pixels, or ``None``.
        pitch_size: ``(length, width)`` of the pitch in metres.
        meta: a :class:`~touchline.tracking_meta.TrackingMeta`, or its JSON form (a dict,
            parsed; keys it does not know, like ``"tool"``, go to ``meta.extra``).

    Raises:
        DataError: missing columns (all are listed), a value that cannot be converted to its
            column's dtype, a ``team`` outside ``{-1, 0, 1}``, a duplicate ``(frame,
            track_id)`` (one is named), or invalid metadata.

    Example:
        >>> t = Tracks.empty(fps=25.0)
        >>> len(t), t.fps, t.pitch_size
        (0, 25.0, (105.0, 68.0))
        >>> df = t.to_dataframe().drop(columns=["team", "time"])
        >>> Tracks(df)
        Traceback (most recent call last):
        ...
        touchline.errors.DataError: Tracks: missing columns ['time', 'team']; expected [...
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        fps: float | None = None,
        image_size: tuple[int, int] | None = None,
        pitch_size: tuple[float, float] = DEFAULT_PITCH_SIZE,
        meta: TrackingMeta | Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"Tracks: expected a pandas DataFrame, got {type(df).__name__}")
        if df.columns.duplicated().any():
            dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
            raise DataError(f"Tracks: duplicate column names {dup}")
        missing = [c for c in TRACK_COLUMN_NAMES if c not in df.columns]
        if missing:
            raise DataError(
                f"Tracks: missing columns {missing}; expected {list(TRACK_COLUMN_NAMES)} "
                "(extra columns are allowed)"
            )
        src = df.reset_index(drop=True)
        extras = [c for c in src.columns if c not in TRACK_COLUMN_NAMES]
        columns: dict[Any, Any] = {c.name: _coerce(src[c.name], c) for c in TRACK_COLUMNS}
        columns.update({c: src[c] for c in extras})
        out = pd.DataFrame(columns, index=pd.RangeIndex(len(src)))

        team = columns["team"]
        bad_team = (team < -1) | (team > 1)
        if bad_team.any():
            i = int(np.flatnonzero(bad_team)[0])
            raise DataError(
                f"column 'team': expected -1 (unknown), 0 or 1, got {int(team[i])} at row {i}"
            )
        frame, track = columns["frame"], columns["track_id"]
        order = np.lexsort((track, frame))
        if len(order) and not np.array_equal(order, np.arange(len(order))):
            out = out.take(order).reset_index(drop=True)
            frame, track = frame[order], track[order]
        dup = (frame[1:] == frame[:-1]) & (track[1:] == track[:-1])
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise DataError(
                f"Tracks: duplicate (frame, track_id) = ({int(frame[i])}, {int(track[i])}); a "
                f"track appears at most once per frame ({int(dup.sum())} duplicate rows in all)"
            )
        self._df = out
        self._frame = frame
        self._fps = _check_fps(fps)
        self._image_size = (
            None if image_size is None else as_image_size(image_size, "Tracks.image_size")
        )
        self._pitch_size = _check_pitch_size(pitch_size)
        self._meta = TrackingMeta.of(meta)

    # ---- metadata and access ----------------------------------------------------------------

    @property
    def df(self) -> pd.DataFrame:
        """The validated DataFrame itself (do not modify it; see :meth:`to_dataframe`)."""
        return self._df

    def to_dataframe(self) -> pd.DataFrame:
        """A copy of the table that is safe to modify."""
        return self._df.copy()

    @property
    def fps(self) -> float | None:
        """Frame rate of the source video, or ``None``."""
        return self._fps

    @property
    def image_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the source images in pixels, or ``None``."""
        return self._image_size

    @property
    def pitch_size(self) -> tuple[float, float]:
        """``(length, width)`` of the pitch in metres."""
        return self._pitch_size

    @property
    def meta(self) -> TrackingMeta:
        """The metadata (shared with derived tables: do not modify it in place).

        >>> Tracks.empty(meta={"source": "clip.mp4", "tool": "x"}).meta.extra
        {'tool': 'x'}
        """
        return self._meta

    def __len__(self) -> int:
        return len(self._df)

    @property
    def frames(self) -> np.ndarray:
        """Sorted unique frame indices (int64) that have at least one row."""
        return np.unique(self._frame)

    @property
    def track_ids(self) -> np.ndarray:
        """Sorted unique track ids (int64)."""
        return np.unique(self._df["track_id"].to_numpy())

    def frame(self, index: int, class_names: tuple[str, ...] = CLASS_NAMES) -> Detections:
        """The rows of one frame as :class:`Detections`.

        Args:
            index: the source frame index; a frame without rows gives zero detections.
            class_names: the ``class_names`` of the returned detections.

        Returns:
            Detections with ``confidence``, ``class_id``, ``tracker_id`` and ``data`` entries
            ``"team"`` ``(n,)`` int8, ``"pitch_xy"`` ``(n, 2)`` float64 metres and
            ``"track_confidence"`` ``(n,)`` float32; unknown values are NaN.

        Raises:
            DataError: a row of that frame has a box that is not finite or inverted.

        >>> dets = Detections(xyxy=[[0, 0, 2, 4]], tracker_id=[3], data={"team": [1]})
        >>> Tracks.from_frames([(5, 0.2, dets)]).frame(5).data["team"]
        array([1], dtype=int8)
        """
        lo = int(np.searchsorted(self._frame, index, side="left"))
        hi = int(np.searchsorted(self._frame, index, side="right"))
        rows = self._df.iloc[lo:hi]
        return Detections(
            xyxy=rows[["x1", "y1", "x2", "y2"]].to_numpy(dtype=np.float32),
            confidence=rows["confidence"].to_numpy(),
            class_id=rows["class_id"].to_numpy(dtype=np.int64),
            tracker_id=rows["track_id"].to_numpy(),
            data={
                "team": rows["team"].to_numpy(),
                "pitch_xy": rows[["pitch_x", "pitch_y"]].to_numpy(dtype=np.float64),
                "track_confidence": rows["track_confidence"].to_numpy(),
            },
            class_names=tuple(class_names),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tracks):
            return NotImplemented
        return (
            self._metadata() == other._metadata()
            and list(self._df.columns) == list(other._df.columns)
            and bool(self._df.equals(other._df))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Tracks(rows={len(self)}, frames={len(self.frames)}, tracks={len(self.track_ids)}, "
            f"fps={self._fps}, image_size={self._image_size})"
        )

    def row_periods(self) -> np.ndarray:
        """The match period of every row (int64): the ``period`` column where it is complete,
        else from the frame ranges of ``meta.periods``, else 1.

        >>> Tracks.empty().row_periods().tolist()
        []
        """
        df = self._df
        if "period" in df.columns:
            values = pd.to_numeric(df["period"], errors="coerce").to_numpy(np.float64)
            if np.isfinite(values).all():
                return values.astype(np.int64)
        out = np.ones(len(df), np.int64)
        frame = df["frame"].to_numpy(np.int64)
        for p in self._meta.periods:
            if p.start_frame is not None and p.end_frame is not None:
                out[(frame >= p.start_frame) & (frame <= p.end_frame)] = p.id
        return out

    def with_table(self, df: pd.DataFrame) -> Tracks:
        """A new table holding ``df`` with this one's ``fps``, sizes and ``meta``.

        >>> t = Tracks.empty(fps=25.0)
        >>> t.with_table(t.df.copy()).fps
        25.0
        """
        return Tracks(
            df,
            fps=self.fps,
            image_size=self.image_size,
            pitch_size=self.pitch_size,
            meta=self.meta,
        )

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def empty(
        cls,
        *,
        fps: float | None = None,
        image_size: tuple[int, int] | None = None,
        pitch_size: tuple[float, float] = DEFAULT_PITCH_SIZE,
        meta: TrackingMeta | Mapping[str, Any] | None = None,
    ) -> Tracks:
        """A table with no rows and the canonical dtypes.

        >>> Tracks.empty().df.dtypes["class_id"]
        dtype('int16')
        """
        df = pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in TRACK_COLUMNS})
        return cls(df, fps=fps, image_size=image_size, pitch_size=pitch_size, meta=meta)

    @classmethod
    def from_positions(
        cls,
        df: pd.DataFrame,
        *,
        fps: float | None = None,
        image_size: tuple[int, int] | None = None,
        pitch_size: tuple[float, float] = DEFAULT_PITCH_SIZE,
        meta: TrackingMeta | Mapping[str, Any] | None = None,
    ) -> Tracks:
        """A table from pitch positions alone (provider tracking data, hand-made plays).

        ``df`` needs ``frame``, ``track_id``, ``pitch_x`` and ``pitch_y``; the other canonical
        columns are filled when absent: ``time`` from ``fps`` (else NaN), ``class_id`` from
        ``class_name`` (else -1), ``class_name`` from ``class_id``, ``team`` -1, image columns
        and confidences NaN. Extra columns are kept.

        >>> t = Tracks.from_positions(pd.DataFrame({"frame": [0, 1], "track_id": 7,
        ...     "class_name": "player", "pitch_x": [1.0, 2.0], "pitch_y": 3.0}), fps=10)
        >>> t.df[["time", "class_id", "team"]].values.tolist()
        [[0.0, 0.0, -1.0], [0.1, 0.0, -1.0]]
        """
        need = [c for c in ("frame", "track_id", "pitch_x", "pitch_y") if c not in df.columns]
        if need:
            raise DataError(f"Tracks.from_positions: missing columns {need}")
        out = df.copy()
        n = len(out)
        if "time" not in out.columns:
            frames = out["frame"].to_numpy(np.float64)
            out["time"] = frames / fps if fps else np.full(n, np.nan)
        names = {name: k for k, name in enumerate(CLASS_NAMES)}
        if "class_id" not in out.columns:
            if "class_name" in out.columns:
                out["class_id"] = [names.get(str(v).lower(), -1) for v in out["class_name"]]
            else:
                out["class_id"] = -1
        if "class_name" not in out.columns:
            ids = out["class_id"].to_numpy(np.int64)
            out["class_name"] = [
                CLASS_NAMES[i] if 0 <= i < len(CLASS_NAMES) else UNKNOWN_CLASS_NAME for i in ids
            ]
        if "team" not in out.columns:
            out["team"] = -1
        for col in TRACK_COLUMNS:
            if col.name not in out.columns:
                out[col.name] = np.nan
        ordered = [*TRACK_COLUMN_NAMES, *(c for c in out.columns if c not in TRACK_COLUMN_NAMES)]
        return cls(out[ordered], fps=fps, image_size=image_size, pitch_size=pitch_size, meta=meta)

    @classmethod
    def from_frames(
        cls,
        items: Iterable[tuple[Any, ...]],
        *,
        fps: float | None = None,
        image_size: tuple[int, int] | None = None,
        pitch_size: tuple[float, float] = DEFAULT_PITCH_SIZE,
        meta: TrackingMeta | Mapping[str, Any] | None = None,
    ) -> Tracks:
        """Build from ``(frame, time, detections)`` or ``(frame, time, detections,
        calibration)`` tuples; see :meth:`TracksBuilder.add`.

        >>> dets = Detections(xyxy=[[0, 0, 2, 4], [5, 5, 6, 6]], tracker_id=[2, 1])
        >>> Tracks.from_frames([(0, 0.0, dets), (1, 0.04, Detections.empty())]).df["track_id"].tolist()
        [1, 2]
        """
        builder = TracksBuilder()
        for item in items:
            builder.add(*item)
        return builder.build(fps=fps, image_size=image_size, pitch_size=pitch_size, meta=meta)

    # ---- files ------------------------------------------------------------------------------

    def _metadata(self) -> dict[str, Any]:
        return {
            "schema_version": TRACKS_SCHEMA_VERSION,
            "fps": self._fps,
            "image_size": None if self._image_size is None else list(self._image_size),
            "pitch_size": list(self._pitch_size),
            "meta": self._meta.to_dict(),
        }

    def to_parquet(self, path: str | Path) -> Path:
        """Write a Parquet file (metadata under the key ``b"touchline"``), atomically.

        Returns:
            The path written.

        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
        >>> Tracks.read(Tracks.empty(fps=50.0).to_parquet(p)).fps
        50.0
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        try:
            table = pa.Table.from_pandas(self._df, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise DataError(f"{path}: cannot convert the tracks table to Arrow ({e})") from e
        metadata = dict(table.schema.metadata or {})
        metadata[PARQUET_METADATA_KEY] = json.dumps(self._metadata()).encode("utf-8")
        table = table.replace_schema_metadata(metadata)
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path

    def to_csv(self, path: str | Path) -> Path:
        """Write a plain CSV (gzip-compressed for ``.gz``) and its ``.meta.json`` sidecar.

        The sidecar (see :func:`csv_meta_path`) is written first, then the CSV, each
        atomically. Text may hold any character but a carriage return.

        Raises:
            DataError: a text column holds a carriage return (use Parquet).

        Returns:
            The path of the CSV.

        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> Tracks.empty(image_size=(1280, 720)).to_csv(p).read_text().split(",")[:3]
        ['frame', 'time', 'track_id']
        >>> csv_meta_path(p).name, Tracks.read(p).image_size
        ('t.csv.meta.json', (1280, 720))
        """
        path = Path(path)
        bad = [name for name in self._df.columns if _has_carriage_return(self._df[name])]
        if bad:
            raise DataError(
                f"{path}: column {bad[0]!r} holds a carriage return, which CSV cannot store "
                "portably; write Parquet instead"
            )
        write_json_atomic(csv_meta_path(path), self._metadata())
        compression = "gzip" if path.name.lower().endswith(".gz") else None
        with atomic_path(path) as tmp:
            self._df.to_csv(tmp, index=False, compression=compression, lineterminator="\n")
        return path

    def write(self, path: str | Path) -> Path:
        """Write Parquet or CSV according to the suffix (as :func:`read_tracks` reads)."""
        fmt = _format_of(Path(path))
        return self.to_parquet(path) if fmt == "parquet" else self.to_csv(path)

    @classmethod
    def read(cls, path: str | Path) -> Tracks:
        """Same as :func:`read_tracks`."""
        return read_tracks(path)


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


class TracksBuilder:
    """Accumulate tracked :class:`Detections` frame by frame, then :meth:`build` the table.

    Adding a frame only appends a few arrays to lists; the table is assembled once in
    :meth:`build`.

    Example:
        >>> b = TracksBuilder()
        >>> b.add(0, 0.0, Detections(xyxy=[[0, 0, 2, 4]], tracker_id=[1], confidence=[0.9]))
        >>> b.add(1, 0.04, Detections.empty())
        >>> len(b), len(b.build())
        (1, 1)
    """

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in TRACK_COLUMN_NAMES}
        self._rows = 0

    def __len__(self) -> int:
        """Number of rows added so far."""
        return self._rows

    def add(
        self,
        frame: int,
        time: float,
        detections: Detections,
        calibration: Calibration | None = None,
        extra: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Add the tracked detections of one frame.

        Args:
            frame: source frame index.
            time: time of the frame in seconds.
            detections: tracked detections; ``tracker_id`` is required (unless empty).
                ``class_id`` ``None`` gives class -1 / ``"unknown"``; ``data["team"]`` gives
                the team (else -1), ``data["track_confidence"]`` the track confidence (else NaN)
                and ``data["pitch_xy"]`` the pitch position (e.g. a tracker's filtered one;
                rows that are NaN there are projected through ``calibration``).
                Other ``data`` entries and embeddings are not stored.
            calibration: the frame's calibration, used to compute ``pitch_x``/``pitch_y`` from
                the foot points (where ``data["pitch_xy"]`` does not give them) and
                ``calib_confidence`` (NaN when ``None`` or not valid).
            extra: more columns, one value per row (e.g. ``{"predicted": ...}``); every frame
                must give the same names. They stay with their rows when the table is sorted.

        Raises:
            DataError: no ``tracker_id``, a class id outside ``class_names``, or a ``data``
                entry with the wrong shape.
        """
        if not isinstance(detections, Detections):
            raise TypeError(f"TracksBuilder.add: expected Detections, got {type(detections)}")
        n = len(detections)
        if n == 0:
            return
        where = f"TracksBuilder.add (frame {frame})"
        if detections.tracker_id is None:
            raise DataError(f"{where}: detections have no tracker_id; run a tracker first")
        if not isinstance(frame, int | np.integer) or isinstance(frame, bool):
            raise DataError(f"{where}: frame must be an integer, got {frame!r}")
        nan = np.full(n, np.nan, dtype=np.float32)
        data = detections.data

        if detections.class_id is None:
            class_id = np.full(n, -1, dtype=np.int64)
            class_name = np.full(n, UNKNOWN_CLASS_NAME, dtype=object)
        else:
            class_id = detections.class_id
            class_name = detections.class_name.astype(object)
        team = _data_column(data, "team", n, where)
        track_conf = _data_column(data, "track_confidence", n, where)
        feet = detections.foot_points
        pitch = np.full((n, 2), np.nan)
        if "pitch_xy" in data:
            pitch = np.asarray(data["pitch_xy"], dtype=np.float64)
            if pitch.shape != (n, 2):
                raise DataError(
                    f"{where}: data['pitch_xy'] expected shape ({n}, 2), got {pitch.shape}"
                )
        if calibration is not None:
            missing = ~np.isfinite(pitch).all(axis=1)
            if missing.any():
                pitch = pitch.copy()
                pitch[missing] = calibration.image_to_pitch(feet[missing].astype(np.float64))
        calib_conf = (
            calibration.confidence if calibration is not None and calibration.is_valid else np.nan
        )

        columns: dict[str, np.ndarray] = {
            "frame": np.full(n, frame, dtype=np.int64),
            "time": np.full(n, time, dtype=np.float64),
            "track_id": detections.tracker_id,
            "class_id": class_id,
            "class_name": class_name,
            "team": np.full(n, -1, dtype=np.int64) if team is None else team,
            "x1": detections.xyxy[:, 0],
            "y1": detections.xyxy[:, 1],
            "x2": detections.xyxy[:, 2],
            "y2": detections.xyxy[:, 3],
            "foot_x": feet[:, 0],
            "foot_y": feet[:, 1],
            "pitch_x": pitch[:, 0].astype(np.float32),
            "pitch_y": pitch[:, 1].astype(np.float32),
            "confidence": nan if detections.confidence is None else detections.confidence,
            "track_confidence": nan if track_conf is None else track_conf,
            "calib_confidence": np.full(n, calib_conf, dtype=np.float32),
        }
        for name, values in (extra or {}).items():
            if name in columns:
                raise DataError(f"{where}: extra column {name!r} is a standard column")
            values = np.asarray(values)
            if values.shape != (n,):
                raise DataError(
                    f"{where}: extra[{name!r}] expected shape ({n},), got {values.shape}"
                )
            columns[name] = values
        differ = set(columns) ^ set(self._parts)
        if self._rows and differ:
            raise DataError(
                f"{where}: extra columns differ from earlier frames' ({sorted(differ)})"
            )
        for name, values in columns.items():
            self._parts.setdefault(name, []).append(values)
        self._rows += n

    def build(
        self,
        *,
        fps: float | None = None,
        image_size: tuple[int, int] | None = None,
        pitch_size: tuple[float, float] = DEFAULT_PITCH_SIZE,
        meta: TrackingMeta | Mapping[str, Any] | None = None,
    ) -> Tracks:
        """Assemble the :class:`Tracks` (the builder can keep accumulating afterwards).

        Raises:
            DataError: as :class:`Tracks` (e.g. a track added twice for the same frame).
        """
        kwargs: dict[str, Any] = {
            "fps": fps,
            "image_size": image_size,
            "pitch_size": pitch_size,
            "meta": meta,
        }
        if self._rows == 0:
            return Tracks.empty(**kwargs)
        df = pd.DataFrame({name: np.concatenate(parts) for name, parts in self._parts.items()})
        return Tracks(df, **kwargs)


def _has_carriage_return(column: pd.Series) -> bool:
    if column.dtype.kind not in "OUS" and not isinstance(column.dtype, pd.StringDtype):
        return False
    return bool(column.astype(str).str.contains("\r", regex=False).any())


def _data_column(data: Mapping[str, np.ndarray], key: str, n: int, where: str) -> np.ndarray | None:
    if key not in data:
        return None
    values = data[key]
    if values.shape != (n,):
        raise DataError(f"{where}: data[{key!r}] expected shape ({n},), got {values.shape}")
    return values


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def csv_meta_path(path: str | Path) -> Path:
    """The metadata sidecar of a tracks CSV: the file name plus ``.meta.json``.

    >>> csv_meta_path("out/tracks.csv.gz")
    PosixPath('out/tracks.csv.gz.meta.json')
    """
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise DataError(
        f"{path}: unsupported tracks file suffix; expected .parquet, .pq, .csv or .csv.gz"
    )


def read_tracks(path: str | Path) -> Tracks:
    """Read a tracks table written by :meth:`Tracks.to_parquet` or :meth:`Tracks.to_csv`.

    The format is chosen by the suffix (``.parquet``/``.pq``, ``.csv``, ``.csv.gz``); the
    metadata is restored (from the Parquet metadata or the CSV sidecar when present).

    Raises:
        DataError: naming the file and the problem: unsupported suffix, missing file, not a
            readable Parquet/CSV file, missing columns, values that cannot be converted to
            their column's dtype, or invalid metadata.

    >>> read_tracks("no/such/tracks.parquet")
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: no/such/tracks.parquet: no such file
    """
    path = Path(path)
    fmt = _format_of(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if fmt == "parquet":
        df, kwargs = _read_parquet(path)
    else:
        df, kwargs = _read_csv(path)
    try:
        return Tracks(df, **kwargs)
    except DataError as e:
        raise DataError(f"{path}: {e}") from e


def _read_parquet(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        df = table.to_pandas()
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{path}: not a readable Parquet file ({e})") from e
    raw = (table.schema.metadata or {}).get(PARQUET_METADATA_KEY)
    kwargs: dict[str, Any] = {}
    if raw is not None:
        try:
            stored = json.loads(raw)
        except ValueError as e:
            raise DataError(f"{path}: invalid touchline metadata ({e})") from e
        kwargs = _metadata_kwargs(stored, str(path))
    return df, kwargs


def _read_csv(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    compression = "gzip" if path.name.lower().endswith(".gz") else None
    options: dict[str, Any] = {}
    if int(pd.__version__.split(".")[0]) < 3:
        options["float_precision"] = "round_trip"  # pandas 3's default parser is exact
    try:
        header = pd.read_csv(path, nrows=0, compression=compression).columns
        # Only empty fields are missing values (so a class name like "NA" survives), and
        # class names stay strings even when they look like numbers.
        df = pd.read_csv(
            path,
            compression=compression,
            keep_default_na=False,
            na_values={c: [""] for c in header if c != "class_name"},
            dtype={"class_name": str} if "class_name" in header else None,
            **options,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as e:
        raise DataError(f"{path}: not a readable CSV file ({e})") from e
    except ValueError as e:  # a dtype conversion the parser refused
        raise DataError(f"{path}: {e}") from e
    kwargs: dict[str, Any] = {}
    sidecar = csv_meta_path(path)
    if sidecar.is_file():
        try:
            stored = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"{sidecar}: invalid metadata sidecar ({e})") from e
        kwargs = _metadata_kwargs(stored, str(sidecar))
    return df, kwargs
