"""Tracking data in and out: provider files, kloppy datasets, the Common Data Format.

Every reader returns a :class:`~touchline.tracks.Tracks` table in touchline metres (origin at the
top-left corner, x along the length 0..105, y down 0..68) whose ``meta`` (a :class:`~touchline.tracking_meta.TrackingMeta`) has the same
keys whatever the source (documented in :mod:`touchline.tracking_meta`):

=====================  ============================================================================
``source``             ``"lastrow"``, ``"cdf"`` or the kloppy provider (``"skillcorner"``, ...)
``files``              names of the files read
``match_id``           the provider's match id or ``None``
``time_origin``        ISO 8601 UTC instant of ``time == 0``, or ``None``
``teams``              ``{"0": {"name", "provider_id", "ground", "color"}, "1": {...}}``
``players``            ``{"<track_id>": {"name", "jersey", "team", "provider_id", "position"}}``
``periods``            ``[{"id", "start_time", "end_time", "start_frame", "end_frame"}]``
``attack_direction``   ``{"<period>": "right" | "left" | None}``: where team 0 attacks
                       (``"right"`` = towards ``x = length``)
=====================  ============================================================================

Track 0 is the ball; team 0 is the home (LastRow: attacking) team, team 1 the away (defending)
one; the extra columns ``period`` and ``pitch_z`` (ball height, m) follow the canonical ones.

Readers: :func:`read_tracking` (sniffs the format), :func:`read_lastrow`, :func:`read_cdf`,
:func:`load_tracking` (any kloppy provider), :func:`from_kloppy`. Writers:
:func:`write_tracking` (by suffix), :func:`write_cdf`, :func:`to_kloppy`.
:func:`validate_cdf` checks CDF files against the published schemas.
"""

from __future__ import annotations

import os
from pathlib import Path

from touchline.errors import DataError
from touchline.io.cdf import CdfFiles, cdf_meta_path, read_cdf, validate_cdf, write_cdf
from touchline.io.kloppy_io import KLOPPY_PROVIDERS, from_kloppy, load_tracking, to_kloppy
from touchline.io.lastrow import LASTROW_COLUMNS, read_lastrow
from touchline.io.meta import infer_attack_direction
from touchline.tracking_meta import META_KEYS, AttackDirection, TrackingMeta
from touchline.tracks import Tracks, read_tracks

__all__ = [
    "KLOPPY_PROVIDERS",
    "META_KEYS",
    "AttackDirection",
    "CdfFiles",
    "TrackingMeta",
    "cdf_meta_path",
    "from_kloppy",
    "infer_attack_direction",
    "load_tracking",
    "read_cdf",
    "read_lastrow",
    "read_tracking",
    "to_kloppy",
    "validate_cdf",
    "write_cdf",
    "write_tracking",
]

FORMATS: tuple[str, ...] = ("touchline", "lastrow", "cdf")
"""Formats :func:`read_tracking` reads from a single path."""


def read_tracking(path: str | os.PathLike[str], provider: str | None = None) -> Tracks:
    """Read a tracking file whatever its format: a touchline table, LastRow CSV, or CDF.

    Args:
        path: a touchline ``.parquet``/``.pq``/``.csv``/``.csv.gz`` table, a LastRow
            ``.csv``, a CDF tracking ``.jsonl`` (or a folder holding one).
        provider: ``"touchline"``, ``"lastrow"`` or ``"cdf"`` to skip sniffing. Providers
            read through kloppy need several files: use :func:`load_tracking`.

    Raises:
        DataError: missing file, unknown format or provider, or the reader's own errors.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> read_tracking(Tracks.empty(fps=25.0).to_parquet(p)).fps
    25.0
    >>> read_tracking(p.with_name("x.txt"))
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: .../x.txt: no such file or folder
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    fmt = _sniff(p) if provider is None else str(provider).strip().lower()
    if fmt == "touchline":
        return read_tracks(p)
    if fmt == "lastrow":
        return read_lastrow(p)
    if fmt == "cdf":
        return read_cdf(p)
    if fmt in KLOPPY_PROVIDERS:
        raise DataError(
            f"{p}: {fmt} tracking needs several files; use touchline.io.load_tracking({fmt!r}, "
            f"{', '.join(f'{a}=...' for a in KLOPPY_PROVIDERS[fmt].files)})"
        )
    raise DataError(f"{p}: unknown tracking format {provider!r}; expected one of {list(FORMATS)}")


def _sniff(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir() or name.endswith(".jsonl"):
        return "cdf"
    if name.endswith((".parquet", ".pq", ".csv.gz")):
        return "touchline"
    if name.endswith(".csv"):
        try:
            with path.open("r", encoding="utf-8", errors="replace") as fh:
                header = {c.strip().strip('"') for c in fh.readline().split(",")}
        except OSError as e:
            raise DataError(f"{path}: cannot read ({e})") from None
        if {"frame", "track_id", "pitch_x"} <= header:
            return "touchline"
        if set(LASTROW_COLUMNS) <= header:
            return "lastrow"
        raise DataError(
            f"{path}: a CSV that is neither a touchline tracks table (frame, track_id, pitch_x, "
            f"...) nor a LastRow file ({', '.join(LASTROW_COLUMNS)}, ...)"
        )
    raise DataError(
        f"{path}: cannot tell the tracking format from the name; expected .parquet, .pq, .csv, "
        ".csv.gz or .jsonl (CDF), or pass provider="
    )


def write_tracking(tracks: Tracks, path: str | os.PathLike[str]) -> Path:
    """Write a tracks table in the format its suffix names, atomically.

    ``.parquet``/``.pq`` and ``.csv``/``.csv.gz`` write the touchline table (with its metadata);
    ``.jsonl`` writes CDF tracking data with its meta JSON beside it (:func:`cdf_meta_path`).

    Returns:
        The path written.

    Raises:
        DataError: an unsupported suffix, or the writer's own errors.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> read_tracking(write_tracking(Tracks.empty(fps=25.0), p)) == Tracks.empty(fps=25.0)
    True
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".jsonl"):
        return write_cdf(tracks, p.parent, tracking_name=p.name).tracking
    if name.endswith((".parquet", ".pq", ".csv", ".csv.gz")):
        return tracks.write(p)
    raise DataError(
        f"{p}: unsupported suffix; expected .parquet, .pq, .csv, .csv.gz or .jsonl (CDF)"
    )
