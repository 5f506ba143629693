"""Pitch geometry as data: dimensions, painted lines and arcs, named keypoints, coordinate systems.

Touchline's own pitch frame ("touchline" coordinates) is metres with the origin at the top-left
corner of the pitch as seen from the main broadcast camera: ``x`` runs along the touchline from
the left goal line (0 .. length), ``y`` runs across from the far (top) touchline (0 .. width).
Every other convention (centre origin as in CDF/SkillCorner/TRACAB, 0..1 as in Metrica, 0..100 as
in LastRow/Opta, ...) is a :class:`CoordinateSystem` and :func:`convert` moves points between them.

Drawing is separate from geometry: :func:`draw_template` and :func:`line_mask` rasterise the
geometry; :meth:`Pitch.polylines` and :meth:`Pitch.line_polygons` give it as arrays for anyone who
wants to project or draw it themselves.

>>> pitch = Pitch()
>>> pitch.keypoint("left_penalty_spot")
array([11., 34.])
>>> convert([[0.0, 0.0]], "touchline", "cdf", pitch=pitch)
array([[-52.5,  34. ]])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError

__all__ = [
    "COORDINATE_SYSTEMS",
    "DFL_KEYPOINTS",
    "Arc",
    "CoordinateSystem",
    "Pitch",
    "PitchDimensions",
    "PitchRaster",
    "Segment",
    "convert",
    "coordinate_system",
    "distance_image_coverage",
    "draw_template",
    "flip_permutation",
    "line_coverage",
    "line_mask",
    "near_far_permutation",
    "nearest_on_element",
    "orient_attack",
    "rotate_permutation",
]

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Dimensions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PitchDimensions:
    """Sizes of a soccer pitch and its markings, in metres (IFAB Laws of the Game defaults).

    Only ``length`` and ``width`` vary between grounds; the markings are fixed by the Laws.

    >>> PitchDimensions(length=100, width=64).penalty_area_width
    40.32
    """

    length: float = 105.0
    width: float = 68.0
    penalty_area_depth: float = 16.5
    penalty_area_width: float = 40.32
    goal_area_depth: float = 5.5
    goal_area_width: float = 18.32
    penalty_spot_distance: float = 11.0
    centre_circle_radius: float = 9.15
    penalty_arc_radius: float = 9.15
    corner_arc_radius: float = 1.0
    goal_width: float = 7.32
    goal_height: float = 2.44
    line_width: float = 0.12
    spot_radius: float = 0.11

    def __post_init__(self) -> None:
        checks = [
            (self.length > 0 and self.width > 0, "length and width must be positive"),
            (
                self.length > 2 * (self.penalty_area_depth + 0.5),
                "length too short for two penalty areas",
            ),
            (self.width > self.penalty_area_width, "width must exceed the penalty-area width"),
            (self.length > 2 * self.centre_circle_radius, "length too short for the centre circle"),
            (self.penalty_area_width > self.goal_area_width > self.goal_width, "markings nest"),
            (self.penalty_area_depth > self.goal_area_depth > 0, "markings nest"),
            (self.penalty_spot_distance < self.penalty_area_depth, "spot inside the box"),
            (
                self.penalty_arc_radius > self.penalty_area_depth - self.penalty_spot_distance,
                "the penalty arc must reach outside the box",
            ),
            (self.line_width > 0, "line width must be positive"),
        ]
        for ok, msg in checks:
            if not ok:
                raise DataError(f"invalid PitchDimensions({self.length} x {self.width}): {msg}")

    @property
    def size(self) -> tuple[float, float]:
        """``(length, width)`` in metres."""
        return (self.length, self.width)


# --------------------------------------------------------------------------------------------
# Painted elements
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    """A straight painted line between two points (pitch metres, line centre)."""

    name: str
    start: tuple[float, float]
    end: tuple[float, float]

    def sample(self, step: float) -> FloatArray:
        """Points along the segment at most ``step`` metres apart, ends included. Shape (k, 2)."""
        a, b = np.asarray(self.start, float), np.asarray(self.end, float)
        n = max(1, math.ceil(float(np.linalg.norm(b - a)) / step))
        t = np.linspace(0.0, 1.0, n + 1)[:, None]
        return a + t * (b - a)


@dataclass(frozen=True)
class Arc:
    """A painted circular arc (pitch metres, line centre).

    Angles are radians in the pitch frame (x right, y down, so angles grow clockwise on screen),
    from ``start`` to ``end`` with ``end > start``. A full circle is ``0 .. 2*pi``; a filled
    spot has ``filled=True``.
    """

    name: str
    center: tuple[float, float]
    radius: float
    start: float
    end: float
    filled: bool = False

    @property
    def closed(self) -> bool:
        """True for a full circle."""
        return self.end - self.start >= 2 * math.pi - 1e-9

    def sample(self, step: float) -> FloatArray:
        """Points along the arc at most ``step`` metres apart, ends included. Shape (k, 2)."""
        n = max(8, math.ceil(self.radius * (self.end - self.start) / step))
        t = np.linspace(self.start, self.end, n + 1)
        c = np.asarray(self.center, float)
        return c + self.radius * np.stack([np.cos(t), np.sin(t)], axis=1)


# The 32 keypoints of ../shared/data/pitch_keypoints/dfl, in label-file order.
DFL_KEYPOINTS: tuple[str, ...] = (
    "corner_top_left",
    "left_goal_line_x_top_penalty_box",
    "left_goal_line_x_top_goal_area",
    "left_goal_line_x_bottom_goal_area",
    "left_goal_line_x_bottom_penalty_box",
    "corner_bottom_left",
    "left_goal_area_top_front",
    "left_goal_area_bottom_front",
    "left_penalty_spot",
    "left_penalty_box_top_front",
    "left_penalty_arc_top",
    "left_penalty_arc_bottom",
    "left_penalty_box_bottom_front",
    "halfway_x_top_touchline",
    "halfway_x_centre_circle_top",
    "halfway_x_centre_circle_bottom",
    "halfway_x_bottom_touchline",
    "right_penalty_box_top_front",
    "right_penalty_arc_top",
    "right_penalty_arc_bottom",
    "right_penalty_box_bottom_front",
    "right_penalty_spot",
    "right_goal_area_top_front",
    "right_goal_area_bottom_front",
    "corner_top_right",
    "right_goal_line_x_top_penalty_box",
    "right_goal_line_x_top_goal_area",
    "right_goal_line_x_bottom_goal_area",
    "right_goal_line_x_bottom_penalty_box",
    "corner_bottom_right",
    "centre_circle_left",
    "centre_circle_right",
)


@dataclass(frozen=True)
class Pitch:
    """A pitch: its dimensions and everything painted on it, in touchline coordinates (metres).

    Args:
        dims: the dimensions; ``Pitch()`` is a 105 x 68 m pitch.

    >>> p = Pitch(PitchDimensions(length=100, width=60))
    >>> p.keypoint("corner_bottom_right")
    array([100.,  60.])
    >>> len(p.keypoints) >= 32
    True
    """

    dims: PitchDimensions = field(default_factory=PitchDimensions)

    @classmethod
    def of_size(cls, length: float = 105.0, width: float = 68.0) -> Pitch:
        """A pitch of the given length and width with standard markings."""
        return cls(PitchDimensions(length=length, width=width))

    @property
    def length(self) -> float:
        return self.dims.length

    @property
    def width(self) -> float:
        return self.dims.width

    # ----- painted lines ---------------------------------------------------------------------
    @cached_property
    def segments(self) -> tuple[Segment, ...]:
        """Every straight painted line (touchlines, goal lines, halfway line, boxes)."""
        d = self.dims
        L, W, cy = d.length, d.width, d.width / 2
        segs = [
            Segment("top_touchline", (0, 0), (L, 0)),
            Segment("bottom_touchline", (0, W), (L, W)),
            Segment("left_goal_line", (0, 0), (0, W)),
            Segment("right_goal_line", (L, 0), (L, W)),
            Segment("halfway_line", (L / 2, 0), (L / 2, W)),
        ]
        for side, x0, sgn in (("left", 0.0, 1.0), ("right", L, -1.0)):
            for box, depth, half in (
                ("penalty_box", d.penalty_area_depth, d.penalty_area_width / 2),
                ("goal_area", d.goal_area_depth, d.goal_area_width / 2),
            ):
                xf = x0 + sgn * depth
                segs += [
                    Segment(f"{side}_{box}_top", (x0, cy - half), (xf, cy - half)),
                    Segment(f"{side}_{box}_front", (xf, cy - half), (xf, cy + half)),
                    Segment(f"{side}_{box}_bottom", (x0, cy + half), (xf, cy + half)),
                ]
        return tuple(segs)

    @cached_property
    def arcs(self) -> tuple[Arc, ...]:
        """Every painted arc: centre circle, penalty arcs, corner arcs, and the three spots."""
        d = self.dims
        L, W, cy = d.length, d.width, d.width / 2
        # Penalty arc: the part of the circle around the spot outside the penalty box.
        a = math.acos((d.penalty_area_depth - d.penalty_spot_distance) / d.penalty_arc_radius)
        r = d.corner_arc_radius
        hp = math.pi / 2
        return (
            Arc("centre_circle", (L / 2, cy), d.centre_circle_radius, 0.0, 2 * math.pi),
            Arc("left_penalty_arc", (d.penalty_spot_distance, cy), d.penalty_arc_radius, -a, a),
            Arc(
                "right_penalty_arc",
                (L - d.penalty_spot_distance, cy),
                d.penalty_arc_radius,
                math.pi - a,
                math.pi + a,
            ),
            Arc("corner_arc_top_left", (0, 0), r, 0.0, hp),
            Arc("corner_arc_top_right", (L, 0), r, hp, math.pi),
            Arc("corner_arc_bottom_right", (L, W), r, math.pi, 3 * hp),
            Arc("corner_arc_bottom_left", (0, W), r, 3 * hp, 2 * math.pi),
            Arc("centre_spot", (L / 2, cy), d.spot_radius, 0.0, 2 * math.pi, filled=True),
            Arc(
                "left_penalty_spot",
                (d.penalty_spot_distance, cy),
                d.spot_radius,
                0.0,
                2 * math.pi,
                filled=True,
            ),
            Arc(
                "right_penalty_spot",
                (L - d.penalty_spot_distance, cy),
                d.spot_radius,
                0.0,
                2 * math.pi,
                filled=True,
            ),
        )

    @property
    def elements(self) -> tuple[Segment | Arc, ...]:
        """Every painted element: the straight lines, then the arcs and spots."""
        return (*self.segments, *self.arcs)

    def polylines(self, step: float = 0.5) -> list[tuple[str, FloatArray]]:
        """Every painted line as ``(name, points (k, 2))`` along its centre, ``step`` metres apart.

        Spots are returned as small closed circles. Use it to project the pitch through a
        homography (sample finely: a straight pitch line stays straight, an arc does not).
        """
        out = [(s.name, s.sample(step)) for s in self.segments]
        out += [(a.name, a.sample(min(step, max(a.radius * 0.3, 1e-3)))) for a in self.arcs]
        return out

    def paint_distance(self, points: ArrayLike) -> FloatArray:
        """Distance (m) from each point to the centre of the nearest painted line, shape (n,).

        A point is painted exactly when its distance is at most ``line_width / 2``. Spots count
        as discs: their distance is ``line_width / 2`` on the rim. This exact, vectorised field is
        what every rasteriser in Touchline samples, so that lines have their true width at any
        scale and under any perspective (see :func:`line_coverage`).

        >>> Pitch().paint_distance([[52.5, 10.0], [52.56, 10.0], [30.0, 30.0]]).round(3)
        array([ 0.   ,  0.06 , 10.266])
        """
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        best = np.full(len(p), np.inf)
        for prim in self.elements:
            np.minimum(best, self._distance_to(prim, p), out=best)
        return best

    def paint_distance_grid(
        self,
        origin: tuple[float, float],
        px_per_m: float,
        shape: tuple[int, int],
        cap: float = 2.0,
    ) -> NDArray[np.float32]:
        """:meth:`paint_distance` at the centres of a raster, capped at ``cap`` metres.

        Args:
            origin: pitch metres of the raster's top-left corner.
            px_per_m: raster pixels per metre.
            shape: ``(height, width)`` in pixels.
            cap: distances beyond it are reported as ``cap`` (each line is only evaluated
                within ``cap`` of its bounding box, which makes large rasters fast).

        >>> f = Pitch().paint_distance_grid((50.0, 30.0), 10.0, (80, 50))
        >>> float(f.min()) < 0.05, float(f.max())
        (True, 2.0)
        """
        h, w = shape
        xs = origin[0] + (np.arange(w) + 0.5) / px_per_m
        ys = origin[1] + (np.arange(h) + 0.5) / px_per_m
        out = np.full((h, w), cap, np.float32)
        for prim in self.elements:
            if isinstance(prim, Segment):
                lo = np.minimum(prim.start, prim.end)
                hi = np.maximum(prim.start, prim.end)
            else:
                lo = np.asarray(prim.center) - prim.radius
                hi = np.asarray(prim.center) + prim.radius
            i0, i1 = np.searchsorted(xs, lo[0] - cap), np.searchsorted(xs, hi[0] + cap)
            j0, j1 = np.searchsorted(ys, lo[1] - cap), np.searchsorted(ys, hi[1] + cap)
            if i0 >= i1 or j0 >= j1:
                continue
            gx, gy = np.meshgrid(xs[i0:i1], ys[j0:j1])
            d = self._distance_to(prim, np.stack([gx.ravel(), gy.ravel()], axis=1))
            block = out[j0:j1, i0:i1]
            np.minimum(block, d.reshape(block.shape).astype(np.float32), out=block)
        return out

    def element(self, name: str) -> Segment | Arc:
        """One painted element by name (``KeyError`` listing the names when unknown).

        >>> Pitch().element("halfway_line").start
        (52.5, 0)
        """
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(f"no painted element {name!r}; known: {[e.name for e in self.elements]}")

    def element_distance(self, name: str, points: ArrayLike) -> FloatArray:
        """Distance (m) from points ``(n, 2)`` to the centre of one painted element, ``(n,)``.

        >>> Pitch().element_distance("centre_circle", [[52.5, 34.0], [52.5, 20.0]]).round(2)
        array([9.15, 4.85])
        """
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return self._distance_to(self.element(name), p)

    def _distance_to(self, prim: Segment | Arc, p: FloatArray) -> FloatArray:
        """Paint distance of points (n, 2) to one painted element."""
        if isinstance(prim, Arc) and prim.filled:
            r = np.hypot(*(p - np.asarray(prim.center, float)).T)
            return np.maximum(r - prim.radius + self.dims.line_width / 2, 0.0)
        q, _ = nearest_on_element(prim, p)
        return np.hypot(*(p - q).T)

    # ----- keypoints -------------------------------------------------------------------------
    @cached_property
    def keypoints(self) -> dict[str, FloatArray]:
        """Named keypoints in metres: the 32 of the DFL labels plus the other line intersections,
        arc end points, arc extreme (tangency) points, spots and goal posts.

        >>> Pitch().keypoints["halfway_x_centre_circle_top"]
        array([52.5 , 24.85])
        """
        d = self.dims
        L, W, cy = d.length, d.width, d.width / 2
        pb, ga = d.penalty_area_width / 2, d.goal_area_width / 2
        cr = d.centre_circle_radius
        arc_dy = math.sqrt(
            d.penalty_arc_radius**2 - (d.penalty_area_depth - d.penalty_spot_distance) ** 2
        )
        kp: dict[str, tuple[float, float]] = {
            "corner_top_left": (0, 0),
            "corner_bottom_left": (0, W),
            "corner_top_right": (L, 0),
            "corner_bottom_right": (L, W),
            "halfway_x_top_touchline": (L / 2, 0),
            "halfway_x_bottom_touchline": (L / 2, W),
            "halfway_x_centre_circle_top": (L / 2, cy - cr),
            "halfway_x_centre_circle_bottom": (L / 2, cy + cr),
            "centre_circle_left": (L / 2 - cr, cy),
            "centre_circle_right": (L / 2 + cr, cy),
            "centre_spot": (L / 2, cy),
        }
        for side, x0, sgn in (("left", 0.0, 1.0), ("right", L, -1.0)):
            xp, xg = x0 + sgn * d.penalty_area_depth, x0 + sgn * d.goal_area_depth
            xs = x0 + sgn * d.penalty_spot_distance
            kp |= {
                f"{side}_goal_line_x_top_penalty_box": (x0, cy - pb),
                f"{side}_goal_line_x_top_goal_area": (x0, cy - ga),
                f"{side}_goal_line_x_bottom_goal_area": (x0, cy + ga),
                f"{side}_goal_line_x_bottom_penalty_box": (x0, cy + pb),
                f"{side}_goal_area_top_front": (xg, cy - ga),
                f"{side}_goal_area_bottom_front": (xg, cy + ga),
                f"{side}_penalty_spot": (xs, cy),
                f"{side}_penalty_box_top_front": (xp, cy - pb),
                f"{side}_penalty_arc_top": (xp, cy - arc_dy),
                f"{side}_penalty_arc_bottom": (xp, cy + arc_dy),
                f"{side}_penalty_box_bottom_front": (xp, cy + pb),
                # Where the penalty box front line crosses the pitch's long axis (a line
                # intersection with the axis through both spots), and the apex of the arc.
                f"{side}_penalty_box_front_centre": (xp, cy),
                f"{side}_penalty_arc_apex": (xs + sgn * d.penalty_arc_radius, cy),
                f"{side}_goal_line_centre": (x0, cy),
                f"{side}_goal_post_top": (x0, cy - d.goal_width / 2),
                f"{side}_goal_post_bottom": (x0, cy + d.goal_width / 2),
            }
        # Corner arcs meet the touchline and the goal line.
        r = d.corner_arc_radius
        for v, y0, sy in (("top", 0.0, 1.0), ("bottom", W, -1.0)):
            for side, x0, sx in (("left", 0.0, 1.0), ("right", L, -1.0)):
                kp[f"corner_arc_{v}_{side}_x_touchline"] = (x0 + sx * r, y0)
                kp[f"corner_arc_{v}_{side}_x_goal_line"] = (x0, y0 + sy * r)
        # Tangency (extreme) points of the centre circle where the tangent is vertical are the
        # halfway-line points above; where it is horizontal they are centre_circle_left/right.
        return {k: np.asarray(v, dtype=np.float64) for k, v in kp.items()}

    def keypoint(self, name: str) -> FloatArray:
        """One keypoint by name, (2,) metres. Unknown names raise ``KeyError`` listing close ones."""
        try:
            return self.keypoints[name].copy()
        except KeyError:
            close = [
                k for k in self.keypoints if any(p in k for p in name.split("_") if len(p) > 3)
            ]
            raise KeyError(f"unknown pitch keypoint {name!r}; similar: {close[:8]}") from None

    def keypoint_array(self, names: Iterable[str] = DFL_KEYPOINTS) -> FloatArray:
        """Keypoints stacked in the order of ``names`` (default: the 32 DFL keypoints), (k, 2)."""
        return np.stack([self.keypoint(n) for n in names])

    def contains(self, points: ArrayLike, margin: float = 0.0) -> NDArray[np.bool_]:
        """Whether points (n, 2) in metres lie on the pitch, extended by ``margin`` metres."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return (
            (p[:, 0] >= -margin)
            & (p[:, 0] <= self.length + margin)
            & (p[:, 1] >= -margin)
            & (p[:, 1] <= self.width + margin)
        )


def nearest_on_element(prim: Segment | Arc, points: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Nearest points ``(n, 2)`` on a painted element's centre line (a disc's rim) and the
    element's unit normal there ``(n, 2)``.

    >>> q, n = nearest_on_element(Segment("l", (0, 0), (10, 0)), [[3.0, 2.0], [12.0, 1.0]])
    >>> q.tolist(), n[0].tolist()
    ([[3.0, 0.0], [10.0, 0.0]], [-0.0, 1.0])
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if isinstance(prim, Segment):
        a, b = np.asarray(prim.start, float), np.asarray(prim.end, float)
        ab = b - a
        t = np.clip(((p - a) @ ab) / float(ab @ ab), 0.0, 1.0)
        normal = np.array([-ab[1], ab[0]]) / np.hypot(*ab)
        return a + t[:, None] * ab, np.broadcast_to(normal, p.shape).copy()
    c = np.asarray(prim.center, float)
    v = p - c
    r = np.hypot(v[:, 0], v[:, 1])
    radial = np.where((r > 1e-12)[:, None], v / np.maximum(r, 1e-12)[:, None], [1.0, 0.0])
    nearest = c + radial * prim.radius
    if not prim.closed:
        ang = np.mod(np.arctan2(v[:, 1], v[:, 0]) - prim.start, 2 * math.pi)
        ends = c + prim.radius * np.array(
            [[math.cos(x), math.sin(x)] for x in (prim.start, prim.end)]
        )
        k = np.linalg.norm(p[:, None] - ends[None], axis=2).argmin(1)
        nearest = np.where((ang <= prim.end - prim.start)[:, None], nearest, ends[k])
    return nearest, radial


_LEFT_RIGHT = {"left": "right", "right": "left"}
_NEAR_FAR = {"top": "bottom", "bottom": "top"}
_ROTATE = _LEFT_RIGHT | _NEAR_FAR


def _mirror_name(name: str, swap: dict[str, str] = _LEFT_RIGHT) -> str:
    """The keypoint name under a left-right mirror of the pitch (or another word swap)."""
    return "_".join(swap.get(part, part) for part in name.split("_"))


def _name_permutation(names: Iterable[str], swap: dict[str, str], what: str) -> NDArray[np.int64]:
    names = list(names)
    index = {n: i for i, n in enumerate(names)}
    try:
        return np.array([index[_mirror_name(n, swap)] for n in names], dtype=np.int64)
    except KeyError as e:
        raise DataError(f"keypoint {e.args[0]!r} ({what}) is missing from the list") from None


def rotate_permutation(names: Iterable[str] = DFL_KEYPOINTS) -> NDArray[np.int64]:
    """Index permutation of keypoints under a 180-degree rotation of the pitch.

    Labels made from the other touchline (far and near swapped, left and right swapped) become
    labels in the usual convention with ``labels[rotate_permutation()]``.

    >>> DFL_KEYPOINTS[rotate_permutation()[0]]
    'corner_bottom_right'
    """
    return _name_permutation(names, _ROTATE, "the rotated image")


def near_far_permutation(names: Iterable[str] = DFL_KEYPOINTS) -> NDArray[np.int64]:
    """Index permutation of keypoints under a near/far (top/bottom) mirror of the pitch.

    Fixes labels whose far and near touchline points were swapped:
    ``labels[near_far_permutation()]``.

    >>> DFL_KEYPOINTS[near_far_permutation()[0]]
    'corner_bottom_left'
    """
    return _name_permutation(names, _NEAR_FAR, "the near/far mirror")


def flip_permutation(names: Iterable[str] = DFL_KEYPOINTS) -> NDArray[np.int64]:
    """Index permutation of keypoints under a horizontal image flip (pitch mirrored left-right).

    ``flipped_labels = labels[flip_permutation()]`` after mirroring x. Raises ``DataError`` when a
    keypoint's mirror image is not in ``names``.

    >>> perm = flip_permutation()
    >>> DFL_KEYPOINTS[perm[0]]
    'corner_top_right'
    """
    return _name_permutation(names, _LEFT_RIGHT, "a mirror image")


# --------------------------------------------------------------------------------------------
# Coordinate systems
# --------------------------------------------------------------------------------------------
Origin = Literal["top_left", "bottom_left", "center"]


@dataclass(frozen=True)
class CoordinateSystem:
    """A pitch coordinate convention, as an axis-aligned affine map of touchline coordinates.

    Args:
        name: short identifier.
        origin: where (0, 0) lies: ``top_left``, ``bottom_left`` or ``center`` of the pitch.
        y_up: True when y grows towards the top touchline (mathematical axes).
        scale: units per metre (1 metres, 100 centimetres, 1.0936 yards) for metric systems, or
            ``None`` for systems normalised to a fixed extent.
        extent: ``(x_size, y_size)`` of the whole pitch for normalised systems (Metrica (1, 1),
            LastRow/Opta (100, 100), StatsBomb (120, 80)).

    >>> cs = coordinate_system("metrica")
    >>> cs.bounds(Pitch())
    (0.0, 1.0, 0.0, 1.0)
    """

    name: str
    origin: Origin
    y_up: bool
    scale: float | None = 1.0
    extent: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if (self.scale is None) == (self.extent is None):
            raise DataError(f"coordinate system {self.name!r}: give exactly one of scale, extent")
        if self.origin not in ("top_left", "bottom_left", "center"):
            raise DataError(f"coordinate system {self.name!r}: unknown origin {self.origin!r}")

    def size(self, pitch: Pitch) -> tuple[float, float]:
        """The pitch's length and width in this system's units."""
        if self.extent is not None:
            return (float(self.extent[0]), float(self.extent[1]))
        assert self.scale is not None
        return (pitch.length * self.scale, pitch.width * self.scale)

    def bounds(self, pitch: Pitch) -> tuple[float, float, float, float]:
        """``(x_left_goal_line, x_right_goal_line, y_top_touchline, y_bottom_touchline)``."""
        lx, ly = self.size(pitch)
        x0, x1 = (-lx / 2, lx / 2) if self.origin == "center" else (0.0, lx)
        if self.origin == "center":
            top, bottom = (ly / 2, -ly / 2) if self.y_up else (-ly / 2, ly / 2)
        elif self.origin == "top_left":
            top, bottom = (0.0, -ly) if self.y_up else (0.0, ly)
        else:  # bottom_left
            top, bottom = (ly, 0.0) if self.y_up else (-ly, 0.0)
        return (float(x0), float(x1), float(top), float(bottom))

    def to_touchline_matrix(self, pitch: Pitch) -> FloatArray:
        """3x3 affine matrix taking this system's points to touchline metres."""
        x0, x1, top, bottom = self.bounds(pitch)
        sx = pitch.length / (x1 - x0)
        sy = pitch.width / (bottom - top)
        return np.array([[sx, 0, -sx * x0], [0, sy, -sy * top], [0, 0, 1]], dtype=np.float64)


COORDINATE_SYSTEMS: dict[str, CoordinateSystem] = {
    cs.name: cs
    for cs in (
        # Ours: metres, top-left origin, y down (image-like, as in the DFL keypoint labels).
        CoordinateSystem("touchline", "top_left", y_up=False, scale=1.0),
        # Common Data Format / SkillCorner / kloppy metric: metres, centre origin, y up.
        CoordinateSystem("cdf", "center", y_up=True, scale=1.0),
        CoordinateSystem("skillcorner", "center", y_up=True, scale=1.0),
        # TRACAB: centimetres, centre origin, y up.
        CoordinateSystem("tracab", "center", y_up=True, scale=100.0),
        # Metrica: 0..1, top-left origin, y down.
        CoordinateSystem("metrica", "top_left", y_up=False, scale=None, extent=(1.0, 1.0)),
        # LastRow and Opta: 0..100, bottom-left origin, y up.
        CoordinateSystem("lastrow", "bottom_left", y_up=True, scale=None, extent=(100.0, 100.0)),
        CoordinateSystem("opta", "bottom_left", y_up=True, scale=None, extent=(100.0, 100.0)),
        # StatsBomb: 120 x 80, top-left origin, y down.
        CoordinateSystem("statsbomb", "top_left", y_up=False, scale=None, extent=(120.0, 80.0)),
        # World Cup 2014 registration template: 115 x 74 "yards", top-left, y down.
        CoordinateSystem("wc14", "top_left", y_up=False, scale=None, extent=(115.0, 74.0)),
    )
}


def coordinate_system(cs: str | CoordinateSystem) -> CoordinateSystem:
    """Look up a coordinate system by name (see ``COORDINATE_SYSTEMS``) or pass one through."""
    if isinstance(cs, CoordinateSystem):
        return cs
    try:
        return COORDINATE_SYSTEMS[cs]
    except KeyError:
        raise DataError(
            f"unknown coordinate system {cs!r}; known: {sorted(COORDINATE_SYSTEMS)}"
        ) from None


def convert(
    points: ArrayLike,
    source: str | CoordinateSystem,
    target: str | CoordinateSystem,
    *,
    pitch: Pitch | None = None,
    rotate: bool = False,
) -> FloatArray:
    """Convert points between pitch coordinate systems.

    Args:
        points: (..., 2) coordinates in ``source``; NaN stays NaN.
        source, target: system names (see ``COORDINATE_SYSTEMS``) or objects.
        pitch: the pitch the data lives on (needed for metric <-> normalised); default 105 x 68.
        rotate: also rotate 180 degrees about the centre (swap the attacking direction).

    Returns:
        (..., 2) float64 coordinates in ``target``.

    >>> convert([[50.0, 50.0]], "lastrow", "touchline")
    array([[52.5, 34. ]])
    >>> convert([[0.0, 0.0]], "touchline", "touchline", rotate=True)
    array([[105.,  68.]])
    """
    pitch = pitch or Pitch()
    p = np.asarray(points, dtype=np.float64)
    if p.shape[-1:] != (2,):
        raise DataError(f"points must have shape (..., 2), got {p.shape}")
    m = np.linalg.inv(coordinate_system(target).to_touchline_matrix(pitch))
    if rotate:
        m = m @ np.array([[-1, 0, pitch.length], [0, -1, pitch.width], [0, 0, 1]], dtype=float)
    m = m @ coordinate_system(source).to_touchline_matrix(pitch)
    # Every map here is axis-aligned (diagonal), so apply it per axis: a NaN in x stays in x.
    return p * np.array([m[0, 0], m[1, 1]]) + m[:2, 2]


def orient_attack(
    points: ArrayLike,
    attacks_right: bool | ArrayLike,
    *,
    system: str | CoordinateSystem = "touchline",
    pitch: Pitch | None = None,
) -> FloatArray:
    """Rotate points so that the team in possession attacks left to right.

    Args:
        points: (n, 2) or (..., 2) in ``system``.
        attacks_right: whether the team already attacks towards the right goal (scalar, or one
            flag per point broadcast over the leading axes).
        system: the coordinate system of the points.

    >>> orient_attack([[10.0, 5.0]], attacks_right=False)
    array([[95., 63.]])
    """
    p = np.asarray(points, dtype=np.float64)
    rotated = convert(p, system, system, pitch=pitch, rotate=True)
    keep = np.asarray(attacks_right, dtype=bool)
    return np.where(keep[..., None] if keep.ndim else keep, p, rotated)


# --------------------------------------------------------------------------------------------
# Rasterising the template
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PitchRaster:
    """How a top-down raster of the pitch maps to metres.

    ``pitch_to_raster`` takes touchline metres to raster pixels (x right, y down).
    """

    width: int
    height: int
    px_per_m: float
    margin: float

    @property
    def pitch_to_raster(self) -> FloatArray:
        s, m = self.px_per_m, self.margin
        return np.array([[s, 0, s * m], [0, s, s * m], [0, 0, 1]], dtype=np.float64)

    @classmethod
    def fit(
        cls,
        pitch: Pitch,
        *,
        width: int | None = None,
        px_per_m: float | None = None,
        margin: float = 0.0,
    ) -> PitchRaster:
        """A raster covering the pitch plus ``margin`` metres, by output width or scale."""
        if (width is None) == (px_per_m is None):
            raise ValueError("give exactly one of width and px_per_m")
        span_x, span_y = pitch.length + 2 * margin, pitch.width + 2 * margin
        if px_per_m is None:
            assert width is not None
            px_per_m = width / span_x
        if px_per_m <= 0:
            raise ValueError(f"px_per_m must be positive, got {px_per_m}")
        return cls(
            width=max(1, round(span_x * px_per_m)),
            height=max(1, round(span_y * px_per_m)),
            px_per_m=float(px_per_m),
            margin=float(margin),
        )


def distance_image_coverage(
    dist: ArrayLike, rows: ArrayLike, cols: ArrayLike, half_width: float
) -> FloatArray:
    """:func:`line_coverage` of pixels ``(rows, cols)`` of an image of paint distances (m).

    A pixel's x and y sides projected across the line are the larger one-sided differences of
    the distance image to its neighbours, so lines keep their true width at any distance under
    perspective and fade, rather than break up, when thinner than a pixel.

    >>> d = np.abs(np.arange(5, dtype=float) - 2) * 0.1   # a vertical line through column 2
    >>> distance_image_coverage(np.tile(d, (3, 1)), [1, 1], [2, 4], 0.06).round(2)
    array([1., 0.])
    """
    D = np.asarray(dist)
    ys, xs = np.asarray(rows, np.intp), np.asarray(cols, np.intp)
    h, w = D.shape
    d = D[ys, xs]
    xm, xp = np.maximum(xs - 1, 0), np.minimum(xs + 1, w - 1)
    ym, yp = np.maximum(ys - 1, 0), np.minimum(ys + 1, h - 1)
    gx = np.maximum(np.abs(D[ys, xp] - d), np.abs(d - D[ys, xm]))
    gy = np.maximum(np.abs(D[yp, xs] - d), np.abs(d - D[ym, xs]))
    return line_coverage(d, gx, half_width, gy)


def line_coverage(
    distance: ArrayLike,
    pixel_size: ArrayLike,
    half_width: float,
    pixel_size_y: ArrayLike | None = None,
) -> FloatArray:
    """Fraction of a square pixel covered by a straight painted line.

    Across the line, a square pixel's footprint is the sum of its two sides projected on the
    line's normal: a trapezoid of widths ``pixel_size`` and ``pixel_size_y`` (for a top-down
    raster with an axis-aligned line, one pixel and zero). The coverage is the integral of
    that footprint over the strip ``|distance + t| <= half_width``: exact for straight lines.

    Args:
        distance: distance (m) from the pixel centre to the line centre (``paint_distance``).
        pixel_size: the pixel's x side projected across the line, metres (under perspective,
            ``|d distance / d x|``).
        half_width: half the painted line width, metres.
        pixel_size_y: the y side projected across the line (``|d distance / d y|``); 0 when
            omitted (a 1-D box filter).

    Returns:
        coverage in [0, 1], broadcast shape of the inputs. A line thinner than a pixel gets
        partial coverage: it fades with distance instead of breaking up, as on a real camera.

    >>> line_coverage([0.0, 0.06, 0.5], 0.12, 0.06).round(2)
    array([1. , 0.5, 0. ])
    >>> float(line_coverage(0.0, 0.1, 0.03, 0.1).round(3))  # diagonal line, 45 degrees
    0.5
    """
    d = np.abs(np.asarray(distance, dtype=np.float64))
    a = np.abs(np.asarray(pixel_size, dtype=np.float64))
    b = np.zeros_like(a) if pixel_size_y is None else np.abs(np.asarray(pixel_size_y, float))
    a, b = np.maximum(a, b), np.minimum(a, b)
    a = np.maximum(a, 1e-9)
    b = np.maximum(b, a * 1e-4)  # keeps the closed form stable as b -> 0 (a box filter)

    def cdf(t: FloatArray) -> FloatArray:
        # CDF of U(-a/2, a/2) + U(-b/2, b/2), as a second difference of max(0, x)^2.
        r = lambda x: np.square(np.maximum(x, 0.0))  # noqa: E731
        s, m = (a + b) / 2, (a - b) / 2
        return (r(t + s) - r(t + m) - r(t - m) + r(t - s)) / (2 * a * b)

    return np.clip(cdf(half_width - d) - cdf(-half_width - d), 0.0, 1.0)


def _raster_points(raster: PitchRaster) -> FloatArray:
    """Pitch metres of every raster pixel centre, (h*w, 2)."""
    xs = (np.arange(raster.width) + 0.5) / raster.px_per_m - raster.margin
    ys = (np.arange(raster.height) + 0.5) / raster.px_per_m - raster.margin
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _template_coverage(pitch: Pitch, raster: PitchRaster, line_width: float | None) -> FloatArray:
    lw = line_width if line_width is not None else pitch.dims.line_width
    # On a template a line is at least 1.5 px wide: then, wherever it falls on the pixel grid,
    # some pixel is at least 75% covered and the line never vanishes from a mask.
    lw = max(lw, 1.5 / raster.px_per_m)
    drawn = Pitch(replace(pitch.dims, line_width=lw, spot_radius=max(pitch.dims.spot_radius, lw)))
    cap = lw / 2 + 2.0 / raster.px_per_m
    d = drawn.paint_distance_grid(
        (-raster.margin, -raster.margin), raster.px_per_m, (raster.height, raster.width), cap
    )
    return line_coverage(d, 1.0 / raster.px_per_m, lw / 2)


def line_mask(
    pitch: Pitch | None = None,
    *,
    width: int | None = None,
    px_per_m: float | None = None,
    margin: float = 0.0,
    line_width: float | None = None,
) -> tuple[NDArray[np.uint8], PitchRaster]:
    """A top-down binary mask (uint8 0/255) of the painted lines, and its raster geometry.

    A pixel is set when at least half of it is painted. Lines are drawn with their true width
    (``line_width`` metres overrides it); on a template they are at least 1.5 pixels wide.

    >>> mask, raster = line_mask(width=210)
    >>> mask.shape, raster.px_per_m
    ((136, 210), 2.0)
    """
    pitch = pitch or Pitch()
    raster = PitchRaster.fit(pitch, width=width, px_per_m=px_per_m, margin=margin)
    cov = _template_coverage(pitch, raster, line_width)
    return np.where(cov >= 0.5, 255, 0).astype(np.uint8), raster


def draw_template(
    pitch: Pitch | None = None,
    *,
    width: int | None = 1050,
    px_per_m: float | None = None,
    margin: float = 3.0,
    grass: tuple[int, int, int] = (60, 140, 60),
    stripes: tuple[int, int, int] | None = (70, 155, 70),
    stripe_count: int = 18,
    line_color: tuple[int, int, int] = (255, 255, 255),
    line_width: float | None = None,
) -> tuple[NDArray[np.uint8], PitchRaster]:
    """A top-down pitch image (uint8 BGR), anti-aliased, and its raster geometry.

    Args:
        width: output width in pixels (or give ``px_per_m`` instead).
        margin: grass around the pitch, metres.
        grass, stripes: BGR colours; ``stripes=None`` for a flat pitch.
        stripe_count: mowing stripes along the length.
        line_width: painted line width in metres (default: the real 0.12 m, at least 1.5 px).

    >>> img, raster = draw_template(width=555, margin=1.5)
    >>> img.shape
    (365, 555, 3)
    """
    pitch = pitch or Pitch()
    if px_per_m is not None:
        width = None
    raster = PitchRaster.fit(pitch, width=width, px_per_m=px_per_m, margin=margin)
    pts = _raster_points(raster)
    base = np.empty((len(pts), 3), np.float64)
    base[:] = grass
    if stripes is not None and stripe_count > 0:
        band = np.floor(pts[:, 0] / (pitch.length / stripe_count)).astype(np.int64)
        base[band % 2 == 0] = stripes
    cov = _template_coverage(pitch, raster, line_width).reshape(-1, 1)
    img = base * (1 - cov) + np.asarray(line_color, np.float64) * cov
    return np.round(img).reshape(raster.height, raster.width, 3).astype(np.uint8), raster
