"""Value surfaces: how much a ball position is worth to the team in possession.

A :class:`ValueSurface` is a grid of values over the whole pitch, in touchline coordinates
(metres, origin at the top-left corner, ``x`` along the length ``0 .. L``, ``y`` downwards
``0 .. W``), for a team attacking towards ``x = L`` (to the right). ``values[iy, ix]`` belongs to
the cell centred at ``((ix + 0.5) L / nx, (iy + 0.5) W / ny)``: row ``iy = 0`` is the top
touchline, as in :class:`~touchline.analytics.pitch_control.PitchControlResult` grids.

A team attacking to the left sees the same surface rotated by 180 degrees: its value at
``(x, y)`` is the stored value at ``(L - x, W - y)``, so each team's left wing stays on its left
(a left-right mirror alone, as in Shaw's ``np.fliplr``, would swap a team's wings).
Both value grids shipped in ``../shared/data/value`` are exactly symmetric about the long axis,
so a plain left-right mirror would give the same numbers; the rotation is the convention because
it is how a team's view of the pitch turns at half time.

Two published surfaces can be loaded (the files are never copied into the project):

* :func:`load_epv`: Laurie Shaw's Expected Possession Value grid (Friends of Tracking,
  ``EPV_grid.csv``, 32 x 50 cells over his 106 x 68 m pitch);
* :func:`load_xt`: Karun Singh's expected-threat grid (8 x 12 cells).

>>> s = ValueSurface(np.array([[0.0, 1.0], [2.0, 3.0]]), name="toy")
>>> s.at([[26.25, 17.0], [78.75, 51.0]]).tolist()
[0.0, 3.0]
>>> s.at([[26.25, 17.0]], attack="left").tolist()
[3.0]
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch

__all__ = [
    "EPV_FILE",
    "SURFACES",
    "XT_FILE",
    "Attack",
    "ValueSurface",
    "load_epv",
    "load_surface",
    "load_xt",
]

FloatArray = NDArray[np.float64]
Attack = Literal["right", "left"]
"""Attacking direction of the team in possession: towards ``x = L`` ("right") or ``x = 0``."""

EPV_FILE = "value/epv_grid_32x50.csv"
"""Laurie Shaw's EPV grid, relative to the shared data folder."""
XT_FILE = "value/xt_grid_8x12.json"
"""Karun Singh's xT grid, relative to the shared data folder."""


def _points(xy: ArrayLike) -> FloatArray:
    """``(n, 2)`` float points; a single ``(2,)`` point becomes ``(1, 2)``."""
    p = np.asarray(xy, dtype=np.float64)
    if p.size == 0:
        return np.zeros((0, 2))
    if p.ndim == 1 and p.shape == (2,):
        return p[None, :]
    if p.ndim != 2 or p.shape[1] != 2:
        raise DataError(f"points must be an (n, 2) array of (x, y) metres, got shape {p.shape}")
    return p


def _check_attack(attack: str) -> None:
    if attack not in ("right", "left"):
        raise DataError(f"attack must be 'right' or 'left', got {attack!r}")


@dataclass(frozen=True, eq=False)
class ValueSurface:
    """A value per cell of a regular grid over the pitch, for a team attacking to the right.

    Attributes:
        values: ``(ny, nx)`` finite values; ``values[iy, ix]`` is the cell centred at
            ``((ix + 0.5) L / nx, (iy + 0.5) W / ny)`` in touchline coordinates (row 0 is the
            top touchline, ``y`` grows downwards). Stored as a read-only float64 copy.
        pitch: the pitch the grid spans (default 105 x 68 m); the cells stretch to its size.
        name: a short label, e.g. ``"EPV"`` or ``"xT"``.
        source: where the values come from (a file, a fit).

    >>> s = ValueSurface(np.arange(6.0).reshape(2, 3))
    >>> s.shape, s.xs.tolist(), s.ys.tolist()
    ((2, 3), [17.5, 52.5, 87.5], [17.0, 51.0])
    """

    values: FloatArray
    pitch: Pitch = field(default_factory=Pitch)
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        try:
            v = np.array(self.values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"ValueSurface values must be numeric: {exc}") from None
        if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
            raise DataError(f"ValueSurface values must be a non-empty (ny, nx) grid, got {v.shape}")
        if not np.isfinite(v).all():
            bad = np.argwhere(~np.isfinite(v))[0]
            raise DataError(
                f"ValueSurface values must be finite, got {v[tuple(bad)]} at [iy, ix] = "
                f"{bad.tolist()}"
            )
        v.setflags(write=False)
        object.__setattr__(self, "values", v)

    @classmethod
    def from_function(
        cls,
        fn: Callable[[FloatArray, FloatArray], ArrayLike],
        *,
        grid: tuple[int, int] = (50, 32),
        pitch: Pitch | None = None,
        name: str = "",
    ) -> ValueSurface:
        """A surface from ``fn(x, y)`` evaluated at the centres of an ``(nx, ny)`` grid.

        >>> s = ValueSurface.from_function(lambda x, y: x / 105.0, grid=(3, 1))
        >>> s.values.round(3).tolist()
        [[0.167, 0.5, 0.833]]
        """
        pitch = pitch or Pitch()
        nx, ny = (int(g) for g in grid)
        xs = (np.arange(nx) + 0.5) * pitch.length / nx
        ys = (np.arange(ny) + 0.5) * pitch.width / ny
        mx, my = np.meshgrid(xs, ys)
        values = np.broadcast_to(np.asarray(fn(mx, my), dtype=np.float64), mx.shape)
        return cls(values, pitch, name, "function")

    # ----- geometry ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``: rows across the width, columns along the length."""
        ny, nx = self.values.shape
        return (int(ny), int(nx))

    @property
    def cell_size(self) -> tuple[float, float]:
        """``(dx, dy)``: cell length and width, metres."""
        ny, nx = self.shape
        return (self.pitch.length / nx, self.pitch.width / ny)

    @property
    def xs(self) -> FloatArray:
        """``(nx,)`` cell-centre x coordinates, metres."""
        dx = self.cell_size[0]
        return (np.arange(self.shape[1], dtype=np.float64) + 0.5) * dx

    @property
    def ys(self) -> FloatArray:
        """``(ny,)`` cell-centre y coordinates, metres (top to bottom)."""
        dy = self.cell_size[1]
        return (np.arange(self.shape[0], dtype=np.float64) + 0.5) * dy

    def _oriented(self, p: FloatArray, attack: str) -> FloatArray:
        _check_attack(attack)
        if attack == "left":
            return np.stack([self.pitch.length - p[:, 0], self.pitch.width - p[:, 1]], axis=1)
        return p

    # ----- lookups -------------------------------------------------------------------------
    def at(
        self,
        xy: ArrayLike,
        attack: Attack = "right",
        *,
        method: Literal["bilinear", "nearest"] = "bilinear",
    ) -> FloatArray:
        """The value at ``(n, 2)`` pitch points for a team attacking ``attack``, shape ``(n,)``.

        ``bilinear`` interpolates between the four surrounding cell centres (a point at a cell
        centre gets exactly that cell's value; within half a cell of the pitch edge the value is
        held flat); ``nearest`` returns the value of the cell containing the point. Points off
        the pitch are clamped to it; a point with a NaN coordinate gets NaN. For
        ``attack="left"`` the value at ``(x, y)`` is the stored value at ``(L - x, W - y)``
        (rotation by 180 degrees).

        >>> s = ValueSurface(np.array([[0.0, 1.0]]))  # two cells, 52.5 m long
        >>> s.at([[26.25, 0.0], [52.5, 30.0], [200.0, 5.0], [52.5, 30.0]]).tolist()
        [0.0, 0.5, 1.0, 0.5]
        >>> s.at([[30.0, 34.0]], method="nearest").tolist(), s.at([[30.0, 34.0]], "left").tolist()
        ([0.0], [0.9285714285714286])
        """
        if method not in ("bilinear", "nearest"):
            raise DataError(f"method must be 'bilinear' or 'nearest', got {method!r}")
        p = self._oriented(_points(xy), attack)
        ok = np.asarray(np.isfinite(p).all(axis=1), dtype=bool)
        p = np.where(ok[:, None], p, 0.0)
        ny, nx = self.shape
        dx, dy = self.cell_size
        v = self.values
        if method == "nearest":
            ix = np.clip(np.floor(p[:, 0] / dx), 0, nx - 1).astype(np.intp)
            iy = np.clip(np.floor(p[:, 1] / dy), 0, ny - 1).astype(np.intp)
            out = v[iy, ix]
        else:
            fx = np.clip(p[:, 0] / dx - 0.5, 0.0, nx - 1.0)
            fy = np.clip(p[:, 1] / dy - 0.5, 0.0, ny - 1.0)
            ix0 = np.minimum(np.floor(fx).astype(np.intp), max(nx - 2, 0))
            iy0 = np.minimum(np.floor(fy).astype(np.intp), max(ny - 2, 0))
            ix1, iy1 = np.minimum(ix0 + 1, nx - 1), np.minimum(iy0 + 1, ny - 1)
            tx, ty = fx - ix0, fy - iy0
            top = v[iy0, ix0] * (1.0 - tx) + v[iy0, ix1] * tx
            bottom = v[iy1, ix0] * (1.0 - tx) + v[iy1, ix1] * tx
            out = top * (1.0 - ty) + bottom * ty
        return np.where(ok, out, np.nan)

    def on_grid(
        self,
        xs: ArrayLike,
        ys: ArrayLike,
        attack: Attack = "right",
        *,
        method: Literal["bilinear", "nearest"] = "bilinear",
    ) -> FloatArray:
        """The surface resampled at the points of a grid, ``(len(ys), len(xs))``.

        ``out[iy, ix]`` is :meth:`at` ``(xs[ix], ys[iy])``: with pitch control's cell centres
        (:func:`~touchline.analytics.pitch_control.grid_centres`) it lines up cell by cell with
        a :class:`~touchline.analytics.pitch_control.PitchControlResult`.

        >>> s = ValueSurface(np.array([[0.0, 1.0], [2.0, 3.0]]))
        >>> s.on_grid([26.25, 78.75], [17.0, 51.0]).tolist()
        [[0.0, 1.0], [2.0, 3.0]]
        """
        gx = np.asarray(xs, dtype=np.float64).reshape(-1)
        gy = np.asarray(ys, dtype=np.float64).reshape(-1)
        mx, my = np.meshgrid(gx, gy)
        pts = np.stack([mx.ravel(), my.ravel()], axis=1)
        return self.at(pts, attack, method=method).reshape(gy.size, gx.size)

    def flipped(self) -> ValueSurface:
        """The surface rotated by 180 degrees: the values seen by a team attacking left.

        ``s.flipped().at(p)`` equals ``s.at(p, attack="left")``; flipping twice gives the
        original values. Name and source are kept.

        >>> ValueSurface(np.array([[0.0, 1.0], [2.0, 3.0]])).flipped().values.tolist()
        [[3.0, 2.0], [1.0, 0.0]]
        """
        return ValueSurface(self.values[::-1, ::-1], self.pitch, self.name, self.source)

    def move_value(
        self,
        start: ArrayLike,
        end: ArrayLike,
        success: ArrayLike | None = None,
        attack: Attack = "right",
        *,
        method: Literal["bilinear", "nearest"] = "bilinear",
    ) -> FloatArray:
        """Value added by ``(n, 2)`` ball moves: ``value(end) - value(start)``, shape ``(n,)``.

        A failed move (``success`` False) loses the ball and scores ``-value(start)``, as in
        Karun Singh's rating of actions by expected threat.

        >>> s = ValueSurface(np.array([[0.0, 1.0]]))
        >>> s.move_value([[26.25, 34.0]] * 2, [[78.75, 34.0]] * 2, [True, False]).tolist()
        [1.0, -0.0]
        """
        a = self.at(start, attack, method=method)
        b = self.at(end, attack, method=method)
        if a.shape != b.shape:
            raise DataError(f"start {a.shape} and end {b.shape} must hold the same points")
        if success is None:
            return b - a
        ok = np.asarray(success, dtype=bool).reshape(-1)
        if ok.shape != a.shape:
            raise DataError(f"success must have one flag per move, {a.shape}, got {ok.shape}")
        return np.where(ok, b - a, -a)


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------
def _resolve(path: str | Path | None, relative: str, what: str) -> Path:
    if path is None:
        from touchline.data import shared_file

        found = shared_file(relative)
        if found is None:
            raise DataError(
                f"{what}: ../shared/data/{relative} not found (set $TOUCHLINE_SHARED_DATA or "
                "pass path=...)"
            )
        return found
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what}: file not found: {p}")
    return p


def _check_grid(
    grid: FloatArray, path: Path, shape: tuple[int, int] | None, what: str
) -> FloatArray:
    if grid.size == 0:
        raise DataError(f"{path}: no {what} values (empty file)")
    if grid.ndim != 2:
        raise DataError(f"{path}: {what} must be a 2-D grid of numbers, got shape {grid.shape}")
    if shape is not None and grid.shape != tuple(shape):
        raise DataError(
            f"{path}: expected a {shape[0]} x {shape[1]} {what} grid (rows x columns), got "
            f"{grid.shape[0]} x {grid.shape[1]}"
        )
    bad = ~np.isfinite(grid)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{path}: {what} value at row {r}, column {c} is {grid[r, c]}")
    if grid.min() < 0 or grid.max() > 1:
        raise DataError(
            f"{path}: {what} values are probabilities in [0, 1], got range "
            f"[{grid.min():g}, {grid.max():g}]"
        )
    return grid


def load_epv(
    path: str | Path | None = None,
    *,
    pitch: Pitch | None = None,
    shape: tuple[int, int] | None = (32, 50),
) -> ValueSurface:
    """Laurie Shaw's Expected Possession Value grid as a :class:`ValueSurface`.

    The file (``EPV_grid.csv`` of LaurieOnTracking, ``../shared/data/value/epv_grid_32x50.csv``)
    has 32 rows of 50 comma-separated values for a team attacking left to right. In Shaw's
    ``Metrica_EPV.get_EPV_at_location`` row ``iy`` holds ``y`` in ``[-W/2 + iy dy, ...)`` of
    his centred Metrica coordinates, whose ``y`` points UP (``Metrica_IO.to_metric_coordinates``
    negates Metrica's downward ``y``): the file's first row is the BOTTOM touchline. The rows are
    therefore reversed so that ``values[0]`` is the top touchline as everywhere in Touchline.
    (The shared file is exactly symmetric about the long axis, so there the reversal changes no
    number; it matters for any other grid written by Shaw's code.)

    Along the length the grid spans Shaw's 106 m pitch from goal line to goal line; it is
    stretched to ``pitch.length`` (column ``ix`` covers ``[ix, ix + 1] * L / 50``) rather than
    cropped, so goal lines stay on goal lines (cells become 2.1 m instead of 2.12 m on 105 m).

    Args:
        path: the CSV file; ``None`` finds the shared copy (:class:`DataError` when absent).
        pitch: the pitch to stretch the grid over (default 105 x 68 m).
        shape: the expected ``(rows, columns)``; ``None`` accepts any grid.

    Raises:
        DataError: the file is missing, not a rectangular grid of numbers, has the wrong shape,
            or holds NaN/inf or values outside ``[0, 1]``; the message names the file.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "epv.csv")
    >>> _ = open(f, "w").write("0.1,0.2,0.3\\n0.4,0.5,0.6\\n")   # first row = bottom touchline
    >>> load_epv(f, shape=(2, 3)).values.tolist()
    [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3]]
    """
    p = _resolve(path, EPV_FILE, "EPV grid")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": checked
            grid = np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a comma-separated grid of numbers ({exc})") from None
    grid = _check_grid(grid, p, shape, "EPV")
    return ValueSurface(grid[::-1], pitch or Pitch(), "EPV", str(p))


def load_xt(
    path: str | Path | None = None,
    *,
    pitch: Pitch | None = None,
    shape: tuple[int, int] | None = (8, 12),
) -> ValueSurface:
    """Karun Singh's expected-threat (xT) grid as a :class:`ValueSurface`.

    The file (``../shared/data/value/xt_grid_8x12.json``) is a JSON list of 8 rows of 12
    values for a team attacking left to right; rows run across the width and columns along the
    length. The published grid is symmetric about the long axis (row ``i`` equals row
    ``7 - i``), so which touchline its first row belongs to cannot matter; it is read as the
    top one (``values[0]``), unchanged.

    Args:
        path: the JSON file; ``None`` finds the shared copy (:class:`DataError` when absent).
        pitch: the pitch to stretch the grid over (default 105 x 68 m).
        shape: the expected ``(rows, columns)``; ``None`` accepts any grid.

    Raises:
        DataError: the file is missing, not JSON, not a rectangular list of number lists, has
            the wrong shape, or holds NaN/inf or values outside ``[0, 1]``; the message names
            the file.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "xt.json")
    >>> _ = open(f, "w").write("[[0.01, 0.02, 0.3], [0.01, 0.02, 0.3]]")
    >>> s = load_xt(f, shape=None)
    >>> s.shape, s.at([[104.0, 34.0]]).tolist()
    ((2, 3), [0.3])
    """
    p = _resolve(path, XT_FILE, "xT grid")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not valid JSON ({exc})") from None
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(r, list) for r in raw)
        or len({len(r) for r in raw}) != 1
    ):
        raise DataError(f"{p}: xT must be a JSON list of equally long lists of numbers")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for r in raw for v in r):
        raise DataError(f"{p}: xT grid holds a value that is not a number")
    grid = _check_grid(np.asarray(raw, dtype=np.float64), p, shape, "xT")
    return ValueSurface(grid, pitch or Pitch(), "xT", str(p))


SURFACES = ("xt", "epv", "xt-grid")
"""Names :func:`load_surface` knows: the shipped ``xt`` (fitted by us, inside the package),
and the shared ``epv`` (Shaw's EPV) and ``xt-grid`` (Singh's xT) grids."""


def load_surface(name_or_path: str | Path = "xt", *, pitch: Pitch | None = None) -> ValueSurface:
    """A value surface by name (:data:`SURFACES`) or from a file.

    * ``"xt"``: the expected-threat surface shipped in the package, fitted by value iteration
      on the Metrica sample games (``python -m touchline.train.xt``; checksum verified);
    * ``"epv"``, ``"xt-grid"``: :func:`load_epv` and :func:`load_xt` on the shared data;
    * a ``.csv`` path: an EPV-style grid (:func:`load_epv` conventions, any shape);
    * a ``.json`` path: a list of rows (:func:`load_xt` conventions) or an object with
      ``values`` (row 0 at the top touchline, the format of the shipped surface).

    >>> s = load_surface("xt")
    >>> s.name, s.shape, bool(s.at([[100.0, 34.0]])[0] > s.at([[20.0, 34.0]])[0])
    ('xT', (12, 16), True)
    """
    key = str(name_or_path)
    if key == "xt":
        from touchline.models import model_info, verify

        path = verify("xt")
        return _surface_document(path, model_info("xt").meta, pitch)
    if key == "epv":
        return load_epv(pitch=pitch)
    if key == "xt-grid":
        return load_xt(pitch=pitch)
    p = Path(key)
    if not p.is_file():
        raise DataError(f"value surface {key!r}: not one of {SURFACES} and no such file")
    if p.suffix.lower() == ".csv":
        return load_epv(p, pitch=pitch, shape=None)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{p}: not valid JSON ({exc})") from None
    if isinstance(raw, dict):
        return _surface_document(p, raw, pitch)
    return load_xt(p, pitch=pitch, shape=None)


def _surface_document(path: Path, doc: dict, pitch: Pitch | None) -> ValueSurface:
    if not isinstance(doc.get("values"), list):
        raise DataError(f"{path}: a value-surface object needs 'values' (a list of rows)")
    try:
        grid = np.asarray(doc["values"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: 'values' is not a grid of numbers ({exc})") from None
    grid = _check_grid(grid, path, None, "value")
    return ValueSurface(grid, pitch or Pitch(), str(doc.get("name", path.stem)), str(path))
