"""The data model every stage shares: detections and camera calibration.

One currency type per stage: detectors, trackers and annotators exchange :class:`Detections`
(aligned arrays, like ``supervision.Detections``); calibrators produce one :class:`Calibration`
per frame; the tracking output is the long :class:`~touchline.tracks.Tracks` table of
:mod:`touchline.tracks`, built on these types.

Conventions:
    * **Image coordinates** are pixels, origin at the top-left corner of the image, x to the
      right, y down. They are continuous: pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``, so
      resizing an image by a factor ``s`` multiplies every coordinate by ``s``. Boxes are
      ``xyxy = (x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``.
    * **Pitch coordinates** are metres, origin at the top-left corner of the pitch as seen from
      the main broadcast camera: x along the touchline from the left goal line (``0..length``),
      y across the pitch from the far (top) touchline (``0..width``). The default pitch is
      105 x 68 m (:data:`DEFAULT_PITCH_SIZE`).
    * **Times** are in seconds; frame indices are 0-based indices into the source video.

Example:
    >>> import numpy as np
    >>> dets = Detections(xyxy=[[10, 20, 30, 60]], class_id=[ObjectClass.PLAYER])
    >>> dets.foot_points
    array([[20., 60.]], dtype=float32)
    >>> cal = Calibration(np.diag([0.1, 0.1, 1.0]))  # 10 px per metre, no perspective
    >>> dets.to_pitch(cal)
    array([[2., 6.]])
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from touchline.errors import DataError
from touchline.geometry.homography import apply_homography

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_PITCH_SIZE",
    "Calibration",
    "CalibrationStatus",
    "Detections",
    "ObjectClass",
    "as_image_size",
]

DEFAULT_PITCH_SIZE: tuple[float, float] = (105.0, 68.0)
"""Default pitch (length, width) in metres."""


class ObjectClass(IntEnum):
    """The object classes Touchline detects; the value is the ``class_id``.

    >>> ObjectClass.BALL, int(ObjectClass.BALL), CLASS_NAMES[ObjectClass.BALL]
    (<ObjectClass.BALL: 3>, 3, 'ball')
    """

    PLAYER = 0
    GOALKEEPER = 1
    REFEREE = 2
    BALL = 3


CLASS_NAMES: tuple[str, ...] = ("player", "goalkeeper", "referee", "ball")
"""Name of each :class:`ObjectClass`, indexed by ``class_id``."""

_BALL_NAME = "ball"


# --------------------------------------------------------------------------------------------
# Array helpers
# --------------------------------------------------------------------------------------------


def _as_float_array(value: Any, name: str, dtype: type[np.floating[Any]]) -> np.ndarray:
    """``np.asarray(value, dtype)`` with a :class:`DataError` naming ``name`` on failure."""
    try:
        with np.errstate(over="ignore"):  # float64 -> float32 overflow becomes inf, caught later
            return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name}: cannot convert to {np.dtype(dtype).name} ({e})") from None


def _as_int_array(value: Any, name: str) -> np.ndarray:
    """Integer-valued input (ints, or floats holding whole numbers) as int64."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not whole.all():
            bad = arr.reshape(-1)[~whole.reshape(-1)][0].item()
            raise DataError(f"{name}: expected whole numbers, got {bad!r}")
        return arr.astype(np.int64)
    raise DataError(f"{name}: expected integers, got dtype {arr.dtype}")


def _as_points(points: npt.ArrayLike, name: str) -> np.ndarray:
    """Points as a float64 ``(n, 2)`` array (an empty input gives shape ``(0, 2)``)."""
    pts = _as_float_array(points, name, np.float64)
    if pts.size == 0:
        return pts.reshape(0, 2)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise DataError(f"{name}: expected shape (n, 2), got {pts.shape}")
    return pts


def _arrays_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and values, NaN equal to NaN."""
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fciub":
        return bool(np.array_equal(a, b, equal_nan=True))
    if b.dtype.kind in "fc" and a.dtype.kind in "iub":
        return bool(np.array_equal(b, a, equal_nan=True))
    return bool(np.array_equal(a, b))


def _optional_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _arrays_equal(a, b)


def as_image_size(value: Any, name: str) -> tuple[int, int]:
    """Validate an image ``(width, height)`` in pixels: two positive integers."""
    try:
        w, h = value
    except (TypeError, ValueError):
        raise DataError(f"{name}: expected (width, height), got {value!r}") from None
    for v in (w, h):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v <= 0:
            raise DataError(f"{name}: expected positive integer (width, height), got {value!r}")
    return int(w), int(h)


# --------------------------------------------------------------------------------------------
# Detections
# --------------------------------------------------------------------------------------------

_BOX_KEYS = ("x1", "y1", "x2", "y2")
_OPTIONAL_FIELDS = ("confidence", "class_id", "tracker_id", "embedding")
_COLUMNS = (*_BOX_KEYS, "confidence", "class_id", "class_name", "tracker_id", "embedding")
_COLUMN_DTYPES: dict[str, Any] = {
    "xyxy": np.float32, **dict.fromkeys(_BOX_KEYS, np.float32), "confidence": np.float32,
    "class_id": np.int64, "class_name": object, "tracker_id": np.int64, "embedding": np.float32,
}  # fmt: skip


@dataclass(eq=False)
class Detections:
    """Aligned per-object arrays for one image: boxes plus optional scores, classes, ids.

    Every field is ``None`` or has one row per detection, so numpy-style indexing slices them
    all together. Inputs are coerced (lists, float64, ...) to the dtypes below; arrays that
    already have the right dtype are not copied.

    Attributes:
        xyxy: ``(n, 4)`` float32 boxes ``(x1, y1, x2, y2)`` in image pixels; finite, with
            ``x1 <= x2`` and ``y1 <= y2``.
        confidence: ``(n,)`` float32 detection scores (NaN allowed: unknown), or ``None``.
        class_id: ``(n,)`` int64 ids into ``class_names``, or ``None``.
        tracker_id: ``(n,)`` int64 track identities, or ``None``.
        embedding: ``(n, d)`` float32 appearance embeddings, or ``None``.
        data: per-row extras, each an array with ``n`` rows, e.g. ``"team"`` ``(n,)`` int,
            ``"pitch_xy"`` ``(n, 2)`` metres, ``"track_confidence"`` ``(n,)`` float.
        class_names: ``class_id -> name`` lookup (metadata, not per row).

    Raises:
        DataError: a field has the wrong shape (the message gives the field, the expected and
            the received shape) or a box is not finite or has ``x2 < x1`` / ``y2 < y1``.

    Example:
        >>> dets = Detections(
        ...     xyxy=[[0, 0, 10, 20], [5, 5, 9, 9]], confidence=[0.9, 0.4], class_id=[0, 3]
        ... )
        >>> len(dets), dets.xyxy.dtype, dets.class_id.dtype
        (2, dtype('float32'), dtype('int64'))
        >>> dets[dets.confidence > 0.5].class_name
        array(['player'], dtype='<U10')
        >>> Detections(xyxy=[[0, 0, 10]])
        Traceback (most recent call last):
        ...
        touchline.errors.DataError: Detections.xyxy: expected shape (n, 4), got (1, 3)
    """

    xyxy: np.ndarray
    confidence: np.ndarray | None = None
    class_id: np.ndarray | None = None
    tracker_id: np.ndarray | None = None
    embedding: np.ndarray | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)
    class_names: tuple[str, ...] = CLASS_NAMES

    def __post_init__(self) -> None:
        xyxy = _as_float_array(self.xyxy, "Detections.xyxy", np.float32)
        if xyxy.size == 0 and xyxy.ndim <= 1:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise DataError(f"Detections.xyxy: expected shape (n, 4), got {xyxy.shape}")
        finite = np.isfinite(xyxy).all(axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise DataError(
                f"Detections.xyxy: row {i} is not finite {xyxy[i].tolist()}; boxes must be "
                "finite pixel coordinates (drop or impute missing boxes first)"
            )
        inverted = (xyxy[:, 2] < xyxy[:, 0]) | (xyxy[:, 3] < xyxy[:, 1])
        if inverted.any():
            i = int(np.flatnonzero(inverted)[0])
            raise DataError(
                f"Detections.xyxy: row {i} has x2 < x1 or y2 < y1 {xyxy[i].tolist()}; "
                "expected (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2"
            )
        self.xyxy = xyxy
        n = xyxy.shape[0]

        if self.confidence is not None:
            conf = _as_float_array(self.confidence, "Detections.confidence", np.float32)
            self.confidence = self._check_rows(conf, "confidence", n, ndim=1)
        if self.class_id is not None:
            cid = _as_int_array(self.class_id, "Detections.class_id")
            self.class_id = self._check_rows(cid, "class_id", n, ndim=1)
        if self.tracker_id is not None:
            tid = _as_int_array(self.tracker_id, "Detections.tracker_id")
            self.tracker_id = self._check_rows(tid, "tracker_id", n, ndim=1)
        if self.embedding is not None:
            emb = _as_float_array(self.embedding, "Detections.embedding", np.float32)
            if emb.size == 0 and emb.ndim == 1 and n == 0:
                emb = emb.reshape(0, 0)
            self.embedding = self._check_rows(emb, "embedding", n, ndim=2)

        if not isinstance(self.data, Mapping):
            raise DataError(f"Detections.data: expected a dict, got {type(self.data).__name__}")
        data: dict[str, np.ndarray] = {}
        for key, value in self.data.items():
            if not isinstance(key, str):
                raise DataError(f"Detections.data: keys must be strings, got {key!r}")
            arr = np.asarray(value)
            if arr.ndim == 0 or arr.shape[0] != n:
                raise DataError(
                    f"Detections.data[{key!r}]: expected shape ({n}, ...), got {arr.shape}"
                )
            data[key] = arr
        self.data = data

        names = tuple(self.class_names)
        if not all(isinstance(c, str) for c in names):
            raise DataError(f"Detections.class_names: expected strings, got {names!r}")
        self.class_names = names

    @staticmethod
    def _check_rows(arr: np.ndarray, name: str, n: int, *, ndim: int) -> np.ndarray:
        if arr.ndim != ndim or arr.shape[0] != n:
            expected = f"({n},)" if ndim == 1 else f"({n}, d)"
            raise DataError(f"Detections.{name}: expected shape {expected}, got {arr.shape}")
        return arr

    # ---- container protocol -----------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: int | slice | npt.ArrayLike) -> Detections:
        """Select rows; every field (and every ``data`` entry) is sliced alike.

        Args:
            index: an ``int`` (gives a length-1 :class:`Detections`, like supervision), a
                ``slice``, a boolean mask of length ``n`` or an array of integer indices.

        Raises:
            IndexError: an integer out of range or a mask of the wrong length.
            TypeError: an index of another kind.

        Example:
            >>> dets = Detections(xyxy=np.zeros((3, 4)), tracker_id=[7, 8, 9])
            >>> dets[-1].tracker_id, dets[1:].tracker_id, dets[[2, 0]].tracker_id
            (array([9]), array([8, 9]), array([9, 7]))
        """
        n = len(self)
        idx: slice | np.ndarray
        if isinstance(index, bool | np.bool_):
            raise TypeError("Detections index: a single bool is ambiguous; use a boolean mask")
        if isinstance(index, int | np.integer):
            i = int(index)
            if not -n <= i < n:
                raise IndexError(f"Detections index {i} is out of range for length {n}")
            idx = np.array([i], dtype=np.intp)
        elif isinstance(index, slice):
            idx = index
        else:
            idx = np.asarray(index)
            if idx.ndim != 1:
                raise IndexError(f"Detections index: expected a 1-D index, got shape {idx.shape}")
            if idx.dtype.kind == "b":
                if idx.shape[0] != n:
                    raise IndexError(
                        f"Detections index: boolean mask of length {idx.shape[0]} "
                        f"for Detections of length {n}"
                    )
            elif idx.size == 0:
                idx = idx.astype(np.intp)
            elif idx.dtype.kind not in "iu":
                raise TypeError(f"Detections index: unsupported index dtype {idx.dtype}")
        return Detections(
            xyxy=self.xyxy[idx],
            confidence=None if self.confidence is None else self.confidence[idx],
            class_id=None if self.class_id is None else self.class_id[idx],
            tracker_id=None if self.tracker_id is None else self.tracker_id[idx],
            embedding=None if self.embedding is None else self.embedding[idx],
            data={k: v[idx] for k, v in self.data.items()},
            class_names=self.class_names,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Detections):
            return NotImplemented
        return (
            self.class_names == other.class_names
            and _arrays_equal(self.xyxy, other.xyxy)
            and all(_optional_equal(getattr(self, f), getattr(other, f)) for f in _OPTIONAL_FIELDS)
            and self.data.keys() == other.data.keys()
            and all(_arrays_equal(v, other.data[k]) for k, v in self.data.items())
        )

    __hash__ = None  # type: ignore[assignment]

    # ---- constructors -----------------------------------------------------------------------

    @classmethod
    def empty(cls, class_names: Sequence[str] = CLASS_NAMES) -> Detections:
        """Zero detections: ``xyxy`` of shape ``(0, 4)``, optional fields ``None``.

        >>> Detections.empty().xyxy.shape
        (0, 4)
        """
        return cls(xyxy=np.empty((0, 4), dtype=np.float32), class_names=tuple(class_names))

    @classmethod
    def merge(cls, detections_list: Iterable[Detections]) -> Detections:
        """Concatenate several :class:`Detections` row-wise.

        Zero-length items are skipped when checking that the items agree (as in supervision),
        so :meth:`empty` can seed an accumulation.

        Args:
            detections_list: the items; an empty list gives :meth:`empty`.

        Raises:
            DataError: an optional field is ``None`` in some items and set in others (the
                message names the field), the ``data`` keys or ``class_names`` differ, or the
                trailing shapes of a field do not match.

        Example:
            >>> a = Detections(xyxy=[[0, 0, 1, 1]], confidence=[0.5])
            >>> b = Detections(xyxy=[[2, 2, 3, 3]], confidence=[0.7])
            >>> Detections.merge([a, Detections.empty(), b]).confidence
            array([0.5, 0.7], dtype=float32)
        """
        items = list(detections_list)
        for i, d in enumerate(items):
            if not isinstance(d, Detections):
                raise TypeError(f"Detections.merge: item {i} is a {type(d).__name__}")
        if not items:
            return cls.empty()
        kept = [d for d in items if len(d) > 0] or items[:1]
        names = kept[0].class_names
        for d in kept:
            if d.class_names != names:
                raise DataError(
                    f"Detections.merge: class_names differ: {names!r} and {d.class_names!r}"
                )
        fields: dict[str, np.ndarray | None] = {}
        for name in _OPTIONAL_FIELDS:
            values = [getattr(d, name) for d in kept]
            missing = [i for i, v in enumerate(values) if v is None]
            if missing and len(missing) < len(values):
                raise DataError(
                    f"Detections.merge: field {name!r} is None in item(s) {missing} "
                    "but set in others"
                )
            fields[name] = None if missing else _concatenate(values, name)
        keys = list(kept[0].data)
        for d in kept[1:]:
            if set(d.data) != set(keys):
                raise DataError(
                    f"Detections.merge: data keys differ: {sorted(keys)} and {sorted(d.data)}"
                )
        data = {k: _concatenate([d.data[k] for d in kept], f"data[{k!r}]") for k in keys}
        return cls(
            xyxy=np.concatenate([d.xyxy for d in kept]),
            data=data,
            class_names=names,
            **fields,
        )

    @classmethod
    def from_xywh(cls, xywh: npt.ArrayLike, **kwargs: Any) -> Detections:
        """Build from ``(n, 4)`` boxes ``(x, y, width, height)`` with ``(x, y)`` the top-left.

        Args:
            xywh: boxes in pixels.
            **kwargs: the other :class:`Detections` fields.

        >>> Detections.from_xywh([[10, 20, 4, 6]]).xyxy
        array([[10., 20., 14., 26.]], dtype=float32)
        """
        b = _boxes(xywh, "Detections.from_xywh")
        xyxy = np.column_stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]])
        return cls(xyxy=xyxy, **kwargs)

    @classmethod
    def from_cxcywh(cls, cxcywh: npt.ArrayLike, **kwargs: Any) -> Detections:
        """Build from ``(n, 4)`` boxes ``(centre x, centre y, width, height)`` in pixels.

        >>> Detections.from_cxcywh([[10, 20, 4, 6]]).xyxy
        array([[ 8., 17., 12., 23.]], dtype=float32)
        """
        b = _boxes(cxcywh, "Detections.from_cxcywh")
        half_w, half_h = b[:, 2] / 2, b[:, 3] / 2
        xyxy = np.column_stack(
            [b[:, 0] - half_w, b[:, 1] - half_h, b[:, 0] + half_w, b[:, 1] + half_h]
        )
        return cls(xyxy=xyxy, **kwargs)

    # ---- geometry ---------------------------------------------------------------------------

    @property
    def wh(self) -> np.ndarray:
        """``(n, 2)`` float32 box width and height in pixels."""
        return self.xyxy[:, 2:] - self.xyxy[:, :2]

    @property
    def area(self) -> np.ndarray:
        """``(n,)`` float32 box areas in square pixels.

        >>> Detections(xyxy=[[0, 0, 2, 3]]).area
        array([6.], dtype=float32)
        """
        wh = self.wh
        return wh[:, 0] * wh[:, 1]

    @property
    def centers(self) -> np.ndarray:
        """``(n, 2)`` float32 box centres in pixels."""
        return (self.xyxy[:, :2] + self.xyxy[:, 2:]) / np.float32(2)

    @property
    def foot_points(self) -> np.ndarray:
        """``(n, 2)`` float32 image points where each object touches the ground, in pixels.

        The bottom-centre of the box, except for the ball (``class_id`` of ``"ball"`` in
        ``class_names``, i.e. :attr:`ObjectClass.BALL` by default) whose box centre is used.

        >>> Detections(xyxy=[[0, 0, 2, 4], [0, 0, 2, 4]], class_id=[0, 3]).foot_points
        array([[1., 4.], [1., 2.]], dtype=float32)
        """
        feet = self.centers
        feet[:, 1] = self.xyxy[:, 3]
        if self.class_id is not None and _BALL_NAME in self.class_names:
            ball = self.class_id == self.class_names.index(_BALL_NAME)
            feet[ball, 1] = (self.xyxy[ball, 1] + self.xyxy[ball, 3]) / np.float32(2)
        return feet

    @property
    def class_name(self) -> np.ndarray:
        """``(n,)`` str array of class names looked up in ``class_names``.

        Raises:
            DataError: ``class_id`` is ``None`` or holds an id outside ``class_names``.

        >>> Detections(xyxy=[[0, 0, 1, 1]], class_id=[7]).class_name
        Traceback (most recent call last):
        ...
        touchline.errors.DataError: Detections.class_name: class id 7 (row 0) is not in class_names ...
        """
        if self.class_id is None:
            raise DataError("Detections.class_name: class_id is None")
        names = np.array(self.class_names, dtype=np.str_)
        bad = (self.class_id < 0) | (self.class_id >= len(names))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"Detections.class_name: class id {int(self.class_id[i])} (row {i}) is not in "
                f"class_names (ids 0..{len(names) - 1}: {self.class_names!r})"
            )
        return names[self.class_id]

    def to_pitch(self, calibration: Calibration) -> np.ndarray:
        """Pitch position of each :attr:`foot_points`, in metres.

        Args:
            calibration: the calibration of the image these detections come from.

        Returns:
            ``(n, 2)`` float64 pitch ``(x, y)``; rows are NaN when the calibration is not valid
            or a point maps to infinity.

        >>> cal = Calibration(np.diag([0.1, 0.1, 1.0]))
        >>> Detections(xyxy=[[100, 0, 120, 50]]).to_pitch(cal)
        array([[11., 5.]])
        """
        return calibration.image_to_pitch(self.foot_points.astype(np.float64))

    # ---- columns and records ----------------------------------------------------------------

    def to_columns(
        self, keys: Sequence[str] | None = None, fill: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        """Named columns, one row per detection, with the fields' dtypes: the one table layout
        of :meth:`to_records`, ``detections.parquet`` and the track job's checkpoints.

        Args:
            keys: the columns, in order: ``xyxy`` ``(n, 4)``, ``x1``..``y2``, a field,
                ``class_name`` (``None`` for an id outside ``class_names``) or a ``data`` key.
                Default: ``x1 y1 x2 y2 confidence class_id class_name tracker_id embedding``
                and the ``data`` entries (a DataError if one has one of those names).
            fill: a value for each column whose field is ``None``; without one it is left out.

        >>> Detections(xyxy=[[0, 0, 2, 4]], class_id=[3]).to_columns(["y2", "class_name"])
        {'y2': array([4.], dtype=float32), 'class_name': array(['ball'], dtype=object)}
        """
        if keys is None:
            clash = sorted(set(_COLUMN_DTYPES) & set(self.data))
            if clash:
                raise DataError(f"Detections.to_columns: data keys {clash} clash with field names")
            keys = [*_COLUMNS, *self.data]
        n, fill = len(self), fill or {}
        cols: dict[str, np.ndarray] = {}
        for key in keys:
            col = self._column(key)
            if col is None and key in fill:
                col = np.full((n, *np.shape(fill[key])), fill[key], _COLUMN_DTYPES.get(key))
            if col is not None:
                cols[key] = col
        return cols

    def _column(self, key: str) -> np.ndarray | None:
        if key == "xyxy":
            return self.xyxy
        if key in _BOX_KEYS:
            return self.xyxy[:, _BOX_KEYS.index(key)]
        if key == "class_name":
            if self.class_id is None:
                return None
            names = np.array([*self.class_names, None], dtype=object)
            known = (self.class_id >= 0) & (self.class_id < len(self.class_names))
            return names[np.where(known, self.class_id, -1)]
        return getattr(self, key) if key in _OPTIONAL_FIELDS else self.data.get(key)

    @classmethod
    def concat_columns(
        cls, items: Iterable[Detections], keys: Sequence[str], fill: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        """:meth:`to_columns` of several items, concatenated (empty items are skipped); a
        column ``None`` without ``fill`` in some items but not all is a :class:`DataError`.

        >>> a = Detections(xyxy=[[0, 0, 1, 1]], confidence=[0.5])
        >>> Detections.concat_columns([a, a[:0], Detections(a.xyxy)], ["confidence"], {"confidence": 1})
        {'confidence': array([0.5, 1. ], dtype=float32)}
        """
        parts = [d.to_columns(keys, fill) for d in items if len(d)]
        parts = parts or [cls.empty().to_columns(keys, fill)]
        where = "Detections.concat_columns"
        cols: dict[str, np.ndarray] = {}
        for key in (k for k in keys if any(k in p for p in parts)):
            if not all(key in p for p in parts):
                raise DataError(f"{where}: column {key!r} is None in some items, with no fill")
            cols[key] = _concatenate([p[key] for p in parts], key, where)
        return cols

    @classmethod
    def from_columns(
        cls, columns: Mapping[str, Any], class_names: Sequence[str] = CLASS_NAMES
    ) -> Detections:
        """Inverse of :meth:`to_columns` (the columns may also be lists, or a DataFrame):
        boxes from ``xyxy`` or ``x1 y1 x2 y2``, ``class_id`` or else ``class_name`` looked up
        in ``class_names``, and the columns that name no field as ``data``.

        >>> dets = Detections(xyxy=[[0, 0, 2, 4]], class_id=[1], data={"team": [0]})
        >>> Detections.from_columns(dets.to_columns()) == dets
        True
        """
        names, where = tuple(class_names), "Detections.from_columns"
        if "xyxy" in columns:
            xyxy = columns["xyxy"]
        else:
            missing = [k for k in _BOX_KEYS if k not in columns]
            if missing:
                raise DataError(f"{where}: missing box keys {missing}")
            xyxy = _as_float_array([columns[k] for k in _BOX_KEYS], where, np.float64).T
        class_id = columns.get("class_id")
        if class_id is None and "class_name" in columns:
            class_id = []
            for i, name in enumerate(columns["class_name"]):
                if name not in names:
                    raise DataError(
                        f"{where}: row {i} has class_name {name!r}, not in class_names {names!r}"
                    )
                class_id.append(names.index(name))
        return cls(
            xyxy=xyxy,
            confidence=columns.get("confidence"),
            class_id=class_id,
            tracker_id=columns.get("tracker_id"),
            embedding=columns.get("embedding"),
            data={k: np.asarray(v) for k, v in columns.items() if k not in _COLUMN_DTYPES},
            class_names=names,
        )

    def to_records(self, *, include_embedding: bool = False) -> list[dict[str, Any]]:
        """One JSON-ready dict per detection (plain ``float``, ``int``, ``str``, lists).

        Keys: ``x1 y1 x2 y2``, then ``confidence``, ``class_id`` + ``class_name`` (``None`` for
        an id outside ``class_names``), ``tracker_id`` when set, ``embedding`` (a list) when
        asked for, and one key per ``data`` entry (multi-column entries become lists).

        Raises:
            DataError: a ``data`` key collides with one of the keys above.

        >>> Detections(xyxy=[[0, 0, 2, 4]], class_id=[3], data={"team": [-1]}).to_records()
        [{'x1': 0.0, 'y1': 0.0, 'x2': 2.0, 'y2': 4.0, 'class_id': 3, 'class_name': 'ball', 'team': -1}]
        """
        cols = self.to_columns()
        lists = {k: v.tolist() for k, v in cols.items() if include_embedding or k != "embedding"}
        return [dict(zip(lists, row, strict=True)) for row in zip(*lists.values(), strict=True)]

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], class_names: Sequence[str] = CLASS_NAMES
    ) -> Detections:
        """Inverse of :meth:`to_records`, through :meth:`from_columns`.

        ``None`` (JSON null) reads back as NaN in float fields and in ``data``. Every record
        must have the same keys; no records give :meth:`empty`.

        Raises:
            DataError: records with different keys, a missing box key, an unknown class name.

        >>> dets = Detections(xyxy=[[0, 0, 2, 4]], confidence=[0.5], data={"team": [1]})
        >>> Detections.from_records(dets.to_records()) == dets
        True
        """
        recs = list(records)
        if not recs:
            return cls.empty(class_names=class_names)
        keys = set(recs[0])
        for i, r in enumerate(recs):
            if set(r) != keys:
                raise DataError(
                    f"Detections.from_records: record {i} has keys {sorted(r)}, "
                    f"record 0 has {sorted(keys)}"
                )
        columns = {k: [np.nan if r[k] is None else r[k] for r in recs] for k in recs[0]}
        return cls.from_columns(columns, class_names)


def _boxes(value: npt.ArrayLike, name: str) -> np.ndarray:
    b = _as_float_array(value, name, np.float64)
    if b.size == 0:
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise DataError(f"{name}: expected shape (n, 4), got {b.shape}")
    return b


def _concatenate(arrays: Sequence[Any], name: str, where: str = "Detections.merge") -> np.ndarray:
    try:
        return np.concatenate(arrays)
    except ValueError as e:
        raise DataError(f"{where}: cannot concatenate {name} ({e})") from None


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


class CalibrationStatus(StrEnum):
    """Where a frame's :class:`Calibration` comes from (the value is what files store).

    Whether a camera cut happened before the frame is a separate flag,
    :attr:`Calibration.cut`: it is independent of the outcome (the first frame after a cut
    can be ``OK``, ``FAILED`` or ``NO_PITCH``).

    >>> CalibrationStatus("propagated") is CalibrationStatus.PROPAGATED
    True
    """

    OK = "ok"
    """Estimated on this frame."""
    PROPAGATED = "propagated"
    """Carried from neighbouring frames by camera motion."""
    INTERPOLATED = "interpolated"
    """Interpolated between calibrated frames."""
    FAILED = "failed"
    """Tried, but no trustworthy estimate."""
    NO_PITCH = "no_pitch"
    """The frame shows no pitch (close-up, crowd, graphics)."""


_VALID_STATUSES = frozenset(
    {CalibrationStatus.OK, CalibrationStatus.PROPAGATED, CalibrationStatus.INTERPOLATED}
)
_MAX_CONDITION = 1e12
"""Largest accepted condition number of a homography (real broadcast ones are ~1e4..1e7)."""
_CALIBRATION_KEYS = ("homography", "confidence", "status", "image_size", "cut")


def _as_status(value: Any) -> CalibrationStatus:
    try:
        return CalibrationStatus(value)
    except ValueError:
        allowed = [s.value for s in CalibrationStatus]
        raise DataError(f"Calibration.status: expected one of {allowed}, got {value!r}") from None


def _normalised_homography(value: Any, name: str) -> np.ndarray:
    """A finite, invertible 3x3 float64 copy scaled so that ``H[2, 2] == 1`` when possible."""
    h = np.array(_as_float_array(value, name, np.float64), dtype=np.float64, copy=True)
    if h.shape != (3, 3):
        raise DataError(f"{name}: expected shape (3, 3), got {h.shape}")
    if not np.isfinite(h).all():
        raise DataError(f"{name}: contains non-finite values {h.tolist()}")
    s = np.linalg.svd(h, compute_uv=False)
    if s[-1] <= 0 or s[0] / s[-1] > _MAX_CONDITION:
        cond = math.inf if s[-1] <= 0 else s[0] / s[-1]
        raise DataError(
            f"{name}: singular or ill-conditioned (condition number {cond:.3g} > "
            f"{_MAX_CONDITION:.0e}), not an invertible homography"
        )
    if abs(h[2, 2]) > 1e-12 * np.abs(h).max():
        h /= h[2, 2]
    h.setflags(write=False)
    return h


@dataclass(frozen=True, eq=False)
class Calibration:
    """The camera-to-pitch mapping of one frame: a homography plus how far to trust it.

    Attributes:
        homography: ``(3, 3)`` float64 read-only matrix mapping image pixels to pitch metres
            (see the module conventions), scaled so that ``H[2, 2] == 1`` when possible, or
            ``None``. It must be finite and invertible (condition number at most 1e12).
        confidence: trust in the estimate, in ``[0, 1]``.
        status: a :class:`CalibrationStatus` (its string value is accepted).
        image_size: ``(width, height)`` in pixels of the image the homography is expressed in,
            or ``None`` when unknown.
        cut: ``True`` when a camera cut happened right before this frame.

    Raises:
        DataError: a bad homography, confidence, status or image size, or a valid status
            (``ok``, ``propagated``, ``interpolated``) without a homography.

    Example:
        >>> cal = Calibration([[0.2, 0, 0], [0, 0.2, 0], [0, 0, 2]], image_size=(1280, 720))
        >>> cal.homography
        array([[0.1, 0. , 0. ], [0. , 0.1, 0. ], [0. , 0. , 1. ]])
        >>> cal.image_to_pitch([[100.0, 200.0]])
        array([[10., 20.]])
        >>> Calibration.uncalibrated().image_to_pitch([[100.0, 200.0]])
        array([[nan, nan]])
    """

    homography: np.ndarray | None
    confidence: float = 1.0
    status: CalibrationStatus = CalibrationStatus.OK
    image_size: tuple[int, int] | None = None
    cut: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "status", _as_status(self.status))
        if self.homography is not None:
            set_(
                self,
                "homography",
                _normalised_homography(self.homography, "Calibration.homography"),
            )
        elif self.status in _VALID_STATUSES:
            raise DataError(
                f"Calibration: status {self.status.value!r} needs a homography; "
                "use Calibration.uncalibrated() for a frame without one"
            )
        try:
            conf = float(self.confidence)
        except (TypeError, ValueError):
            raise DataError(
                f"Calibration.confidence: expected a number, got {self.confidence!r}"
            ) from None
        if not 0.0 <= conf <= 1.0:
            raise DataError(f"Calibration.confidence: expected a value in [0, 1], got {conf!r}")
        set_(self, "confidence", conf)
        if self.image_size is not None:
            set_(self, "image_size", as_image_size(self.image_size, "Calibration.image_size"))
        set_(self, "cut", bool(self.cut))

    @classmethod
    def uncalibrated(
        cls,
        status: CalibrationStatus | str = CalibrationStatus.FAILED,
        image_size: tuple[int, int] | None = None,
        *,
        cut: bool = False,
    ) -> Calibration:
        """A calibration without homography (confidence 0) for a frame that has none.

        >>> Calibration.uncalibrated("no_pitch").is_valid
        False
        """
        return cls(None, confidence=0.0, status=_as_status(status), image_size=image_size, cut=cut)

    @classmethod
    def from_pitch_to_image(
        cls,
        homography: npt.ArrayLike,
        confidence: float = 1.0,
        status: CalibrationStatus | str = CalibrationStatus.OK,
        image_size: tuple[int, int] | None = None,
        *,
        cut: bool = False,
    ) -> Calibration:
        """Build from a homography mapping pitch metres to image pixels (it is inverted).

        >>> cal = Calibration.from_pitch_to_image(np.diag([10.0, 10.0, 1.0]))
        >>> cal.homography
        array([[0.1, 0. , 0. ], [0. , 0.1, 0. ], [0. , 0. , 1. ]])
        """
        h = _normalised_homography(homography, "Calibration.from_pitch_to_image")
        return cls(
            np.linalg.inv(h),
            confidence=confidence,
            status=_as_status(status),
            image_size=image_size,
            cut=cut,
        )

    @property
    def is_valid(self) -> bool:
        """``True`` when there is a homography and the status is ``ok``, ``propagated`` or
        ``interpolated``; only then do the mappings give numbers rather than NaN."""
        return self.homography is not None and self.status in _VALID_STATUSES

    @cached_property
    def pitch_to_image_matrix(self) -> np.ndarray | None:
        """``(3, 3)`` float64 read-only inverse homography (pitch metres -> image pixels),
        scaled so that ``[2, 2] == 1`` when possible; ``None`` without a homography."""
        if self.homography is None:
            return None
        inv = np.linalg.inv(self.homography)
        if abs(inv[2, 2]) > 1e-12 * np.abs(inv).max():
            inv /= inv[2, 2]
        inv.setflags(write=False)
        return inv

    def image_to_pitch(self, points: npt.ArrayLike) -> np.ndarray:
        """Map image pixels to pitch metres.

        Args:
            points: ``(n, 2)`` image ``(x, y)`` in pixels.

        Returns:
            ``(n, 2)`` float64 pitch ``(x, y)`` in metres; NaN rows for points that map to
            infinity (``|w| < 1e-12``) and everywhere when the calibration is not valid.

        >>> Calibration(np.diag([0.1, 0.1, 1.0])).image_to_pitch(np.empty((0, 2))).shape
        (0, 2)
        """
        pts = _as_points(points, "Calibration.image_to_pitch")
        if not self.is_valid or self.homography is None:
            return np.full(pts.shape, np.nan)
        return apply_homography(self.homography, pts)

    def pitch_to_image(self, points: npt.ArrayLike) -> np.ndarray:
        """Map pitch metres to image pixels (inverse of :meth:`image_to_pitch`).

        Args:
            points: ``(n, 2)`` pitch ``(x, y)`` in metres.

        Returns:
            ``(n, 2)`` float64 image ``(x, y)`` in pixels; NaN as in :meth:`image_to_pitch`.

        >>> Calibration(np.diag([0.1, 0.1, 1.0])).pitch_to_image([[52.5, 34.0]])
        array([[525., 340.]])
        """
        pts = _as_points(points, "Calibration.pitch_to_image")
        matrix = self.pitch_to_image_matrix
        if not self.is_valid or matrix is None:
            return np.full(pts.shape, np.nan)
        return apply_homography(matrix, pts)

    def rescaled(self, new_image_size: tuple[int, int]) -> Calibration:
        """The same calibration for the image resized to ``new_image_size`` (width, height).

        A point ``p`` of the original image is ``(p.x * sx, p.y * sy)`` in the resized one with
        ``sx = new_w / w`` and ``sy = new_h / h``; the new homography is
        ``H @ diag(1 / sx, 1 / sy, 1)``.

        Raises:
            DataError: :attr:`image_size` is unknown or ``new_image_size`` is not valid.

        >>> cal = Calibration(np.diag([0.1, 0.1, 1.0]), image_size=(1920, 1080))
        >>> cal.rescaled((960, 540)).image_to_pitch([[50.0, 100.0]])
        array([[10., 20.]])
        """
        if self.image_size is None:
            raise DataError("Calibration.rescaled: image_size is unknown, cannot rescale")
        new_w, new_h = as_image_size(new_image_size, "Calibration.rescaled")
        w, h = self.image_size
        homography = None
        if self.homography is not None:
            homography = self.homography @ np.diag([w / new_w, h / new_h, 1.0])
        return dataclasses.replace(self, homography=homography, image_size=(new_w, new_h))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (homography as nested lists or ``None``, status as its string).

        Floats are written as Python floats, so ``json`` round-trips them exactly.

        >>> Calibration.uncalibrated(image_size=(640, 360)).to_dict()
        {'homography': None, 'confidence': 0.0, 'status': 'failed', 'image_size': [640, 360], 'cut': False}
        """
        return {
            "homography": None if self.homography is None else self.homography.tolist(),
            "confidence": self.confidence,
            "status": self.status.value,
            "image_size": None if self.image_size is None else list(self.image_size),
            "cut": self.cut,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict` (``image_size`` and ``cut`` may be absent).

        Raises:
            DataError: not a mapping, a missing or unknown key, or an invalid value.

        >>> cal = Calibration(np.diag([0.1, 0.1, 1.0]), confidence=0.8, cut=True)
        >>> Calibration.from_dict(cal.to_dict()) == cal
        True
        """
        if not isinstance(d, Mapping):
            raise DataError(f"Calibration.from_dict: expected a dict, got {type(d).__name__}")
        missing = [k for k in ("homography", "confidence", "status") if k not in d]
        if missing:
            raise DataError(f"Calibration.from_dict: missing keys {missing}")
        unknown = sorted(set(d) - set(_CALIBRATION_KEYS))
        if unknown:
            raise DataError(
                f"Calibration.from_dict: unknown keys {unknown}; expected {list(_CALIBRATION_KEYS)}"
            )
        image_size = d.get("image_size")
        return cls(
            d["homography"],
            confidence=d["confidence"],
            status=d["status"],
            image_size=None if image_size is None else tuple(image_size),
            cut=d.get("cut", False),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calibration):
            return NotImplemented
        return (
            _optional_equal(self.homography, other.homography)
            and self.confidence == other.confidence
            and self.status == other.status
            and self.image_size == other.image_size
            and self.cut == other.cut
        )

    __hash__ = None  # type: ignore[assignment]
