"""Drawing on broadcast frames: projected pitch lines, top-down warps, boxes and labels.

Everything here follows the conventions of :mod:`touchline.types`: images are BGR ``uint8``
``(H, W, 3)``; image coordinates are continuous pixels (pixel ``(i, j)`` covers
``[i, i + 1) x [j, j + 1)``, its centre is ``(i + 0.5, j + 0.5)``); pitch coordinates are
touchline metres. OpenCV draws integer coordinates at pixel *centres*, so every drawing call
here subtracts 0.5 and passes sub-pixel positions with ``shift``.

Annotators follow supervision's contract, ``annotate(scene, detections) -> scene``, with
keyword-only hyper-parameters stored verbatim.

Which side of a homography is "in front of the camera": a ground point ``p`` is seen when its
homogeneous image coordinate ``w = (H @ [p, 1])[2]`` has the sign of ``det(H)``. For a pinhole
camera ``H ~ K [r1 r2 t]`` and ``det(H) = s^3 det(K) * height``, so with the camera above the
ground (a right-handed pitch frame with ``z`` down, as in :mod:`touchline.synth.camera`) the
sign of ``det(H)`` is the sign of every in-front ``w``, whatever the arbitrary scale ``s`` of
``H``. Affine maps (no horizon, e.g. a top-down view) show the whole plane. A mirrored
homography (an image flipped left-right without mirroring the pitch) is a view from *below* the
ground and shows nothing: flip the pitch too (``x -> length - x``).

Example:
    >>> from touchline.synth.camera import PinholeCamera
    >>> cam = PinholeCamera.look_at((52.5, 105.0, -14.0), (52.5, 34.0, 0.0), focal=900.0,
    ...                             image_size=(1280, 720))
    >>> frame = np.zeros((720, 1280, 3), np.uint8)
    >>> out = draw_pitch_lines(frame, cam.pitch_to_image)
    >>> bool(out.any()), bool(frame.any())
    (True, False)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.geometry.homography import front_sign
from touchline.pitch import Pitch, PitchRaster
from touchline.types import CLASS_NAMES, Calibration, Detections

__all__ = [
    "CLASS_COLORS",
    "TEAM_COLORS",
    "TRACK_COLORS",
    "BoxAnnotator",
    "LabelAnnotator",
    "color_for",
    "colors_for",
    "draw_pitch_lines",
    "project_pitch_lines",
    "warp_to_pitch",
]

FloatArray = NDArray[np.float64]
Color = tuple[int, int, int]
ColorBy = Literal["team", "class", "track"]

_SHIFT = 4  # sub-pixel bits passed to OpenCV drawing functions
_ONE = 1 << _SHIFT

# --------------------------------------------------------------------------------------------
# Palette
# --------------------------------------------------------------------------------------------
TEAM_COLORS: dict[str, Color] = {
    "team_0": (235, 140, 30),  # blue
    "team_1": (50, 40, 225),  # red
    "goalkeeper": (205, 50, 235),  # magenta
    "referee": (0, 220, 255),  # yellow
    "ball": (255, 255, 255),  # white
    "unknown": (165, 165, 165),  # grey
}
"""BGR colours of ``color_by="team"``: the two teams, goalkeepers, referees, the ball and
everything else (players without a team, unknown classes)."""

CLASS_COLORS: dict[str, Color] = {
    "player": (240, 230, 60),  # cyan
    "goalkeeper": TEAM_COLORS["goalkeeper"],
    "referee": TEAM_COLORS["referee"],
    "ball": TEAM_COLORS["ball"],
    "unknown": TEAM_COLORS["unknown"],
}
"""BGR colours of ``color_by="class"``, by class name."""

TRACK_COLORS: tuple[Color, ...] = (
    (180, 119, 31),
    (14, 127, 255),
    (44, 160, 44),
    (40, 39, 214),
    (189, 103, 148),
    (75, 86, 140),
    (194, 119, 227),
    (34, 189, 188),
    (207, 190, 23),
    (232, 199, 174),
    (120, 187, 255),
    (138, 223, 152),
    (150, 152, 255),
    (213, 176, 197),
    (148, 156, 196),
    (210, 182, 247),
    (141, 219, 219),
    (229, 218, 158),
)
"""BGR colours of ``color_by="track"``, indexed by ``tracker_id % len(TRACK_COLORS)``."""

_COLOR_BY = ("team", "class", "track")
_ROLE_NAMES = ("player", "goalkeeper", "referee", "ball")


def _roles(class_id: ArrayLike | None, class_names: Sequence[str], n: int) -> NDArray[np.int64]:
    """Role index per row: 0 player, 1 goalkeeper, 2 referee, 3 ball, -1 unknown."""
    if class_id is None:
        return np.full(n, -1, np.int64)
    cid = np.asarray(class_id, dtype=np.int64).reshape(-1)
    lut = np.array([_ROLE_NAMES.index(c) if c in _ROLE_NAMES else -1 for c in class_names])
    lut = np.append(lut, -1)  # ids outside class_names (and -1) -> unknown
    inside = (cid >= 0) & (cid < len(class_names))
    return lut[np.where(inside, cid, len(class_names))]


def _colors(
    n: int,
    color_by: str,
    *,
    class_id: ArrayLike | None = None,
    team: ArrayLike | None = None,
    tracker_id: ArrayLike | None = None,
    class_names: Sequence[str] = CLASS_NAMES,
) -> NDArray[np.uint8]:
    """Vectorised palette lookup, (n, 3) uint8 BGR."""
    if color_by not in _COLOR_BY:
        raise ValueError(f"color_by must be one of {_COLOR_BY}, got {color_by!r}")
    roles = _roles(class_id, class_names, n)
    if color_by == "track":
        table = np.array([*TRACK_COLORS, TEAM_COLORS["unknown"]], np.uint8)
        if tracker_id is None:
            return np.repeat(table[-1:], n, axis=0)
        tid = np.asarray(tracker_id, dtype=np.int64).reshape(-1)
        idx = np.where(tid >= 0, tid % len(TRACK_COLORS), len(TRACK_COLORS))
        out = table[idx]
        out[roles == 3] = TEAM_COLORS["ball"]
        return out
    if color_by == "class":
        class_keys = ("player", "goalkeeper", "referee", "ball", "unknown")
        table = np.array([CLASS_COLORS[k] for k in class_keys], np.uint8)
        return table[np.where(roles >= 0, roles, 4)]
    # team
    keys = ("team_0", "team_1", "goalkeeper", "referee", "ball", "unknown")
    table = np.array([TEAM_COLORS[k] for k in keys], np.uint8)
    idx = np.full(n, 5, np.int64)
    if team is not None:
        t = np.asarray(team).reshape(-1)
        idx[t == 0] = 0
        idx[t == 1] = 1
    idx[roles == 1] = 2
    idx[roles == 2] = 3
    idx[roles == 3] = 4
    return table[idx]


def colors_for(detections: Detections, color_by: str = "team") -> NDArray[np.uint8]:
    """The palette colour of every detection, ``(n, 3)`` uint8 BGR.

    Args:
        detections: the detections (``data["team"]`` is used by ``color_by="team"``).
        color_by: ``"team"`` (:data:`TEAM_COLORS`: team 0, team 1, goalkeeper, referee, ball,
            unknown), ``"class"`` (:data:`CLASS_COLORS`) or ``"track"`` (:data:`TRACK_COLORS`
            by ``tracker_id``; grey without one; the ball stays white).

    Raises:
        ValueError: an unknown ``color_by``.

    >>> dets = Detections(xyxy=np.zeros((3, 4)), class_id=[0, 0, 3], data={"team": [0, 1, -1]})
    >>> colors_for(dets).tolist()
    [[235, 140, 30], [50, 40, 225], [255, 255, 255]]
    """
    return _colors(
        len(detections),
        color_by,
        class_id=detections.class_id,
        team=detections.data.get("team"),
        tracker_id=detections.tracker_id,
        class_names=detections.class_names,
    )


def color_for(detections: Detections, index: int, color_by: str = "team") -> Color:
    """The BGR colour of detection ``index`` (see :func:`colors_for`).

    >>> dets = Detections(xyxy=np.zeros((2, 4)), class_id=[2, 0], tracker_id=[4, 5])
    >>> color_for(dets, 0), color_for(dets, 1, "track") == TRACK_COLORS[5]
    ((0, 220, 255), True)
    """
    c = colors_for(detections[int(index)], color_by)[0]
    return (int(c[0]), int(c[1]), int(c[2]))


def _as_points(xy: ArrayLike, name: str) -> FloatArray:
    """Pitch positions as a float64 ``(n, 2)`` array (an empty input gives shape ``(0, 2)``)."""
    p = np.asarray(xy, dtype=np.float64)
    if p.size == 0:
        return p.reshape(0, 2)
    if p.ndim != 2 or p.shape[1] != 2:
        raise DataError(f"{name}: expected (n, 2) pitch positions in metres, got shape {p.shape}")
    return p


# --------------------------------------------------------------------------------------------
# Homography helpers
# --------------------------------------------------------------------------------------------
def _as_matrix(value: Any, name: str) -> FloatArray:
    h = np.asarray(value, dtype=np.float64)
    if h.shape != (3, 3):
        raise DataError(f"{name}: expected a (3, 3) homography or a Calibration, got {h.shape}")
    if not np.isfinite(h).all():
        raise DataError(f"{name}: homography has non-finite values {h.tolist()}")
    return h


def _pitch_to_image(value: Any, name: str) -> FloatArray | None:
    """A pitch -> image matrix from a matrix or a Calibration (None when not valid)."""
    if isinstance(value, Calibration):
        m = value.pitch_to_image_matrix
        return None if not value.is_valid or m is None else np.array(m, dtype=np.float64)
    return _as_matrix(value, name)


def _image_to_pitch(value: Any, name: str) -> FloatArray | None:
    """An image -> pitch matrix from a matrix or a Calibration (None when not valid)."""
    if isinstance(value, Calibration):
        h = value.homography
        return None if not value.is_valid or h is None else np.array(h, dtype=np.float64)
    return _as_matrix(value, name)


def _image_size(value: Any, source: Any, name: str) -> tuple[int, int]:
    if value is None and isinstance(source, Calibration):
        value = source.image_size
    if value is None:
        raise DataError(f"{name}: image_size (width, height) is required")
    try:
        w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise DataError(f"{name}: expected image_size (width, height), got {value!r}") from None
    if w <= 0 or h <= 0:
        raise DataError(f"{name}: image_size must be positive, got {value!r}")
    return w, h


@functools.lru_cache(maxsize=16)
def _sampled_lines(pitch: Pitch, step: float) -> tuple[FloatArray, NDArray[np.int64]]:
    """All painted lines as homogeneous points (N, 3) and the index of the first point of every
    segment (S,) (segment i joins points ``a[i]`` and ``a[i] + 1``), in the order of
    :meth:`Pitch.polylines`. A homography keeps straight lines straight, so straight lines are
    just their two ends; arcs are sampled every ``step`` metres as in ``Pitch.polylines``."""
    lines = [np.array([s.start, s.end], dtype=np.float64) for s in pitch.segments]
    lines += [a.sample(min(step, max(a.radius * 0.3, 1e-3))) for a in pitch.arcs]
    lengths = np.array([len(p) for p in lines])
    pts = np.concatenate(lines)
    pts = np.hstack([pts, np.ones((len(pts), 1))])
    keep = np.ones(len(pts), bool)
    keep[np.cumsum(lengths) - 1] = False
    starts = np.flatnonzero(keep)
    pts.setflags(write=False)
    starts.setflags(write=False)
    return pts, starts


def _clip_segments(
    q0: FloatArray, q1: FloatArray, planes: FloatArray, offsets: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Liang-Barsky clipping of homogeneous segments ``q0 + t (q1 - q0)``, t in [0, 1], to the
    region ``q @ planes.T >= offsets``. Returns ``t_lo, t_hi, valid``."""
    f0 = q0 @ planes.T - offsets
    f1 = q1 @ planes.T - offsets
    out0, out1 = f0 < 0, f1 < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = f0 / (f0 - f1)
    t_lo = np.where(out0 & ~out1, tc, 0.0).max(axis=1)
    t_hi = np.where(~out0 & out1, tc, 1.0).min(axis=1)
    valid = ~(out0 & out1).any(axis=1) & (t_hi > t_lo)
    return t_lo, t_hi, valid


def _view_planes(width: int, height: int, extent: float) -> tuple[FloatArray, FloatArray]:
    """Clip planes (on homogeneous image points) of ``w > 0`` and the box around the image that
    extends ``extent`` image sizes beyond each side."""
    x0, x1 = -extent * width, (1 + extent) * width
    y0, y1 = -extent * height, (1 + extent) * height
    planes = np.array(
        [[0, 0, 1], [1, 0, -x0], [-1, 0, x1], [0, 1, -y0], [0, -1, y1]], dtype=np.float64
    )
    return planes, np.zeros(5)


# --------------------------------------------------------------------------------------------
# Pitch lines
# --------------------------------------------------------------------------------------------
def project_pitch_lines(
    pitch_to_image: ArrayLike | Calibration,
    image_size: tuple[int, int] | None = None,
    pitch: Pitch | None = None,
    step: float = 0.25,
    *,
    extent: float = 1.5,
) -> list[FloatArray]:
    """Every painted line of the pitch projected into the image, as polylines in pixels.

    Arcs are sampled every ``step`` metres (straight lines stay straight under a homography and
    are kept as their two ends). Everything is clipped exactly, in homogeneous coordinates, to
    the ground in front of the camera (see the module docstring) and to a box that extends
    ``extent`` image sizes beyond every side of the image (4x the image size by default), so
    that a view with the horizon inside the image gives finite, moderate coordinates. A line
    that leaves that region is split into pieces.

    Args:
        pitch_to_image: a ``(3, 3)`` homography pitch metres -> image pixels, or a
            :class:`~touchline.types.Calibration` (its ``pitch_to_image_matrix``).
        image_size: ``(width, height)`` in pixels (default: the calibration's).
        pitch: the pitch (default 105 x 68 m).
        step: sampling step along the arcs, metres.
        extent: how far beyond the image the lines are kept, in image sizes.

    Returns:
        A list of ``(k, 2)`` float64 polylines (``k >= 2``) in continuous image pixels; ``[]``
        for an invalid calibration, a singular homography or a view of nothing.

    Raises:
        DataError: a matrix that is not ``(3, 3)`` and finite, or a missing ``image_size``.

    >>> lines = project_pitch_lines(np.diag([10.0, 10.0, 1.0]), (1200, 800))
    >>> len(lines) >= 23, lines[0][[0, -1]].tolist()
    (True, [[0.0, 0.0], [1050.0, 0.0]])
    """
    H = _pitch_to_image(pitch_to_image, "project_pitch_lines")
    if H is None:
        return []
    width, height = _image_size(image_size, pitch_to_image, "project_pitch_lines")
    pitch = pitch or Pitch()
    sign = front_sign(H, (pitch.length, pitch.width))
    if sign == 0:
        return []
    pts, a = _sampled_lines(pitch, float(step))
    hs = H * (sign / np.abs(H).max())
    q = pts @ hs.T
    q0, q1 = q[a], q[a + 1]
    planes, offsets = _view_planes(width, height, extent)
    offsets[0] = 1e-12 * float(np.abs(q[:, 2]).max())
    t_lo, t_hi, valid = _clip_segments(q0, q1, planes, offsets)
    vi = np.flatnonzero(valid)
    if len(vi) == 0:
        return []
    d = q1[vi] - q0[vi]
    ends = np.stack([q0[vi] + t_lo[vi, None] * d, q0[vi] + t_hi[vi, None] * d], axis=1)  # (m, 2, 3)
    xy = ends[..., :2] / ends[..., 2:]
    # A segment continues the previous piece when it is the next segment of the same line and
    # neither was clipped at their shared point.
    cont = np.zeros(len(vi), bool)
    cont[1:] = (a[vi[1:]] == a[vi[:-1]] + 1) & (t_hi[vi[:-1]] == 1.0) & (t_lo[vi[1:]] == 0.0)
    starts = ~cont
    take = np.stack([starts, np.ones(len(vi), bool)], axis=1)
    flat = xy[take]
    first = (np.cumsum(take.sum(axis=1)) - take.sum(axis=1))[starts]
    return [p for p in np.split(flat, first[1:]) if len(p) >= 2]


def _to_cv(points: FloatArray) -> NDArray[np.int32]:
    """Continuous pixel coordinates -> OpenCV fixed-point (pixel centres, ``_SHIFT`` bits)."""
    return np.round((points - 0.5) * _ONE).astype(np.int32)


def _check_image(image: Any, name: str) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0:
        raise DataError(f"{name}: expected an image (H, W, 3) or (H, W), got shape {img.shape}")
    return img


def draw_pitch_lines(
    image: np.ndarray,
    calibration_or_H: ArrayLike | Calibration,
    *,
    pitch: Pitch | None = None,
    color: Color = (0, 0, 255),
    thickness: int = 2,
    copy: bool = True,
) -> np.ndarray:
    """Draw the projected pitch lines on an image, anti-aliased.

    Args:
        image: BGR ``uint8`` image ``(H, W, 3)``.
        calibration_or_H: a :class:`~touchline.types.Calibration` or a ``(3, 3)`` homography
            pitch metres -> image pixels.
        pitch: the pitch (default 105 x 68 m).
        color: BGR line colour.
        thickness: line thickness, pixels.
        copy: draw on a copy (default) rather than in place.

    Returns:
        The image with the lines (unchanged for an invalid calibration).

    >>> img = draw_pitch_lines(np.zeros((80, 120, 3), np.uint8), np.eye(3), color=(255, 0, 0))
    >>> bool(img[0:2, 10, 0].any()), bool(img[20, 30].any())
    (True, False)
    """
    img = _check_image(image, "draw_pitch_lines")
    out = img.copy() if copy else img
    size = (out.shape[1], out.shape[0])
    lines = project_pitch_lines(calibration_or_H, size, pitch)
    if lines:
        cv2.polylines(
            out, [_to_cv(p) for p in lines], False, color, int(thickness), cv2.LINE_AA, _SHIFT
        )
    return out


def warp_to_pitch(
    image: np.ndarray,
    calibration_or_image_to_pitch_H: ArrayLike | Calibration,
    *,
    pitch: Pitch | None = None,
    px_per_m: float = 8.0,
    margin: float = 3.0,
) -> tuple[np.ndarray, PitchRaster]:
    """Warp a frame onto a top-down raster of the pitch.

    Args:
        image: the frame, ``(H, W, 3)`` or ``(H, W)``.
        calibration_or_image_to_pitch_H: a :class:`~touchline.types.Calibration` or a
            ``(3, 3)`` homography image pixels -> pitch metres.
        pitch: the pitch (default 105 x 68 m).
        px_per_m: raster resolution, pixels per metre.
        margin: metres of surroundings around the pitch.

    Returns:
        ``(top_down, raster)``: the warped image (bilinear; black where the frame does not see
        the ground, including ground behind the camera) and the raster geometry
        (``raster.pitch_to_raster`` maps metres to its continuous pixels). An invalid
        calibration gives an all-black raster.

    >>> img = np.full((68, 105, 3), 200, np.uint8)  # 1 px per metre, the whole pitch
    >>> top, raster = warp_to_pitch(img, np.eye(3), px_per_m=2.0, margin=1.0)
    >>> top.shape, top[0, 0].tolist(), top[70, 100].tolist()
    ((140, 214, 3), [0, 0, 0], [200, 200, 200])
    """
    img = _check_image(image, "warp_to_pitch")
    pitch = pitch or Pitch()
    raster = PitchRaster.fit(pitch, px_per_m=px_per_m, margin=margin)
    out = np.zeros((raster.height, raster.width, *img.shape[2:]), dtype=img.dtype)
    H = _image_to_pitch(calibration_or_image_to_pitch_H, "warp_to_pitch")
    if H is None:
        return out, raster
    try:
        G = np.asarray(np.linalg.inv(H), dtype=np.float64)  # pitch -> image
    except np.linalg.LinAlgError:
        return out, raster
    sign = front_sign(G, (pitch.length, pitch.width))
    if sign == 0:
        return out, raster
    # cv2 maps integer pixel indices (centres): index i <-> continuous i + 0.5.
    to_cont = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    to_index = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    # Inverse map: raster index -> image index.
    raster_to_image = to_index @ G @ np.linalg.inv(raster.pitch_to_raster) @ to_cont
    raster_to_image /= np.abs(raster_to_image).max()
    cv2.warpPerspective(
        img,
        raster_to_image,
        (raster.width, raster.height),
        dst=out,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    # Ground behind the camera maps (mirrored) into the image too: black it out.
    row = sign * raster_to_image[2]
    w = row[0] * np.arange(raster.width)[None, :] + row[1] * np.arange(raster.height)[:, None]
    w += row[2]
    out[w <= 1e-12 * np.abs(w).max()] = 0
    return out, raster


# --------------------------------------------------------------------------------------------
# Annotators
# --------------------------------------------------------------------------------------------
def _scale(scene: np.ndarray) -> float:
    return max(scene.shape[0], scene.shape[1]) / 1280.0


def _ball_rows(detections: Detections) -> NDArray[np.bool_]:
    return _roles(detections.class_id, detections.class_names, len(detections)) == 3


def _ink(color: Sequence[int]) -> Color:
    """Black or white, whichever reads better on ``color`` (BGR)."""
    b, g, r = (int(c) for c in color)
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 140 else (255, 255, 255)


class BoxAnnotator:
    """Draw a box around every detection; the ball as a small marker above it.

    Args:
        color_by: ``"team"``, ``"class"`` or ``"track"`` (see :func:`colors_for`).
        thickness: line thickness in pixels (default: 2 at 1280 px, scaled with the image).
        ball_marker: draw the ball as a filled downward triangle pointing at it instead of a
            box.

    The box outline lies inside the box: it covers pixels ``[x1, x1 + thickness)`` ...
    ``[x2 - thickness, x2)``.

    >>> dets = Detections(xyxy=[[10, 10, 30, 50]], class_id=[0], data={"team": [1]})
    >>> out = BoxAnnotator(thickness=2).annotate(np.zeros((64, 64, 3), np.uint8), dets)
    >>> out[30, 10].tolist(), out[30, 20].tolist()
    ([50, 40, 225], [0, 0, 0])
    """

    def __init__(
        self,
        *,
        color_by: ColorBy | str = "team",
        thickness: int | None = None,
        ball_marker: bool = True,
    ) -> None:
        self.color_by = color_by
        self.thickness = thickness
        self.ball_marker = ball_marker

    def annotate(
        self, scene: np.ndarray, detections: Detections, *, copy: bool = True
    ) -> np.ndarray:
        """Draw the boxes on ``scene`` (a copy unless ``copy=False``) and return it."""
        out = scene.copy() if copy else scene
        if len(detections) == 0:
            return out
        colors = colors_for(detections, self.color_by)
        s = _scale(out)
        t = self.thickness if self.thickness is not None else max(1, round(2 * s))
        ball = _ball_rows(detections) if self.ball_marker else np.zeros(len(detections), bool)
        half = t / 2
        for box, color, is_ball in zip(
            detections.xyxy.astype(np.float64), colors, ball, strict=True
        ):
            c = (int(color[0]), int(color[1]), int(color[2]))
            x1, y1, x2, y2 = box
            if is_ball:
                self._marker(out, (x1 + x2) / 2, y1, max(9.0, 12.0 * s), c)
                continue
            # Outline centred half a thickness inside the box (never thinner than the box).
            lx, rx = x1 + half, x2 - half
            ty, by = y1 + half, y2 - half
            if rx < lx:
                lx = rx = (x1 + x2) / 2
            if by < ty:
                ty = by = (y1 + y2) / 2
            p1 = _to_cv(np.array([lx, ty]))
            p2 = _to_cv(np.array([rx, by]))
            cv2.rectangle(out, tuple(p1.tolist()), tuple(p2.tolist()), c, t, cv2.LINE_AA, _SHIFT)
        return out

    @staticmethod
    def _marker(out: np.ndarray, cx: float, top: float, size: float, color: Color) -> None:
        gap = size * 0.3
        tri = np.array(
            [[cx, top - gap], [cx - size / 2, top - gap - size], [cx + size / 2, top - gap - size]]
        )
        pts = _to_cv(tri)
        cv2.fillPoly(out, [pts], color, cv2.LINE_AA, _SHIFT)
        cv2.polylines(out, [pts], True, (0, 0, 0), 1, cv2.LINE_AA, _SHIFT)


class LabelAnnotator:
    """Write a label above (or below) every box: ``#<track id>``, else the class name.

    Args:
        color_by: label background colour, as for :class:`BoxAnnotator`.
        text_scale: OpenCV font scale (default: 0.5 at 1280 px, scaled with the image).
        text_thickness: font stroke thickness (default: 1 at 1280 px, scaled).
        text_padding: padding around the text, pixels (default: 3 at 1280 px, scaled).
        show_confidence: append the detection score (``"#12 0.87"``).
        position: ``"top"`` (above the box) or ``"bottom"`` (below it); labels are kept
            inside the image.
        label_ball: also label the ball (off by default: its label would hide the ball and
            the :class:`BoxAnnotator` marker).

    >>> dets = Detections(xyxy=[[20, 30, 40, 60]], tracker_id=[12], confidence=[0.87])
    >>> LabelAnnotator(show_confidence=True).labels(dets)
    ['#12 0.87']
    >>> out = LabelAnnotator().annotate(np.zeros((80, 80, 3), np.uint8), dets)
    >>> bool(out[:30].any()), bool(out[62:].any())
    (True, False)
    """

    def __init__(
        self,
        *,
        color_by: ColorBy | str = "team",
        text_scale: float | None = None,
        text_thickness: int | None = None,
        text_padding: int | None = None,
        show_confidence: bool = False,
        position: Literal["top", "bottom"] = "top",
        label_ball: bool = False,
    ) -> None:
        self.color_by = color_by
        self.text_scale = text_scale
        self.text_thickness = text_thickness
        self.text_padding = text_padding
        self.show_confidence = show_confidence
        self.position = position
        self.label_ball = label_ball

    def labels(self, detections: Detections) -> list[str]:
        """The default label of every detection."""
        n = len(detections)
        if detections.tracker_id is not None:
            out = [f"#{int(t)}" for t in detections.tracker_id]
        elif detections.class_id is not None:
            names = detections.class_names
            out = [names[c] if 0 <= c < len(names) else str(c) for c in detections.class_id]
        else:
            out = [""] * n
        if self.show_confidence and detections.confidence is not None:
            out = [
                f"{s} {c:.2f}".strip() if np.isfinite(c) else s
                for s, c in zip(out, detections.confidence.tolist(), strict=True)
            ]
        return out

    def annotate(
        self,
        scene: np.ndarray,
        detections: Detections,
        labels: Sequence[str] | None = None,
        *,
        copy: bool = True,
    ) -> np.ndarray:
        """Draw the labels (``labels`` overrides the defaults) and return the scene."""
        if self.position not in ("top", "bottom"):
            raise ValueError(f"position must be 'top' or 'bottom', got {self.position!r}")
        out = scene.copy() if copy else scene
        if len(detections) == 0:
            return out
        texts = self.labels(detections) if labels is None else [str(s) for s in labels]
        if len(texts) != len(detections):
            raise DataError(f"LabelAnnotator: {len(texts)} labels for {len(detections)} detections")
        if not self.label_ball:
            texts = [
                "" if b else t for t, b in zip(texts, _ball_rows(detections).tolist(), strict=True)
            ]
        colors = colors_for(detections, self.color_by)
        s = _scale(out)
        scale = self.text_scale if self.text_scale is not None else max(0.35, 0.5 * s)
        thick = self.text_thickness if self.text_thickness is not None else max(1, round(s))
        pad = self.text_padding if self.text_padding is not None else max(2, round(3 * s))
        font = cv2.FONT_HERSHEY_SIMPLEX
        H, W = out.shape[:2]
        for box, color, text in zip(detections.xyxy.astype(np.float64), colors, texts, strict=True):
            if not text:
                continue
            (tw, th), base = cv2.getTextSize(text, font, scale, thick)
            bw, bh = tw + 2 * pad, th + base + 2 * pad
            cx = (box[0] + box[2]) / 2
            x0 = round(cx - bw / 2)
            y0 = round(box[1]) - bh if self.position == "top" else round(box[3])
            x0 = min(max(x0, 0), max(W - bw, 0))
            y0 = min(max(y0, 0), max(H - bh, 0))
            c = tuple(int(v) for v in color)
            cv2.rectangle(out, (x0, y0), (x0 + bw - 1, y0 + bh - 1), c, -1)
            org = (x0 + pad, y0 + pad + th)
            cv2.putText(out, text, org, font, scale, _ink(c), thick, cv2.LINE_AA)
        return out
