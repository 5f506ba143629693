"""Top-down "radar" view of the pitch: objects, trails and the camera's field of view.

Positions are touchline metres (origin at the top-left corner of the pitch, x along the length,
y across from the far touchline). The radar image is a :func:`~touchline.pitch.draw_template`
raster; ``radar.raster.pitch_to_raster`` maps metres to its continuous pixel coordinates.

Example:
    >>> radar = Radar(width=210)
    >>> img = radar.render([[52.5, 34.0], [np.nan, np.nan]], teams=[0, -1])
    >>> img.shape, round(radar.raster.px_per_m, 3)
    ((140, 210, 3), 1.892)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.geometry.homography import front_sign
from touchline.pitch import Pitch, PitchRaster, draw_template
from touchline.types import CLASS_NAMES, Calibration, Detections, ObjectClass
from touchline.viz.overlay import (
    _SHIFT,
    TEAM_COLORS,
    _as_points,
    _colors,
    _image_size,
    _image_to_pitch,
    _to_cv,
)

__all__ = ["Radar", "camera_viewport", "inset"]

FloatArray = NDArray[np.float64]
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]

_FADE_LEVELS = 4


def _optional_rows(value: ArrayLike | None, n: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value).reshape(-1)
    if arr.shape[0] != n:
        raise DataError(f"Radar.render: {name} has {arr.shape[0]} rows for {n} points")
    return arr


class Radar:
    """A top-down radar of the pitch, drawn on a cached template.

    Args:
        pitch: the pitch (default 105 x 68 m).
        width: radar width in pixels.
        margin: metres of grass around the pitch.
        background: ``None`` (striped grass), a BGR colour (flat grass of that colour) or a
            BGR image used as is (its shape fixes the raster; ``width`` must match it).
        radius: dot radius in pixels (default: about 1 m, at least 3 px).

    Attributes:
        template: the cached background image (do not modify).
        raster: the :class:`~touchline.pitch.PitchRaster` of the radar.

    >>> radar = Radar(width=420)
    >>> img = radar.render([[10.0, 20.0]], teams=[1])
    >>> u, v, _ = radar.raster.pitch_to_raster @ [10.0, 20.0, 1.0]
    >>> img[int(v), int(u)].tolist() == list(TEAM_COLORS["team_1"])
    True
    """

    def __init__(
        self,
        pitch: Pitch | None = None,
        *,
        width: int = 420,
        margin: float = 3.0,
        background: tuple[int, int, int] | np.ndarray | None = None,
        radius: int | None = None,
    ) -> None:
        self.pitch = pitch
        self.width = width
        self.margin = margin
        self.background = background
        self.radius = radius
        p = pitch or Pitch()
        if isinstance(background, np.ndarray):
            raster = PitchRaster.fit(p, width=width, margin=margin)
            if background.shape[:2] != (raster.height, raster.width) or background.ndim != 3:
                raise DataError(
                    f"Radar.background: expected an image of shape "
                    f"({raster.height}, {raster.width}, 3) for width={width}, "
                    f"got {background.shape}"
                )
            template = np.ascontiguousarray(background, dtype=np.uint8).copy()
        elif background is not None:
            b, g, r = (int(v) for v in background)
            template, raster = draw_template(
                p, width=width, margin=margin, grass=(b, g, r), stripes=None
            )
        else:
            template, raster = draw_template(p, width=width, margin=margin)
        template.setflags(write=False)
        self._pitch = p
        self._template = template
        self._raster = raster
        self._grass = template[template.shape[0] // 2, 1].astype(np.float64)
        s = raster.px_per_m
        self._radius = int(radius) if radius is not None else max(3, round(1.05 * s))
        self._font_scale = max(0.28, 0.32 * width / 420)

    @property
    def template(self) -> np.ndarray:
        """The cached background image (read-only)."""
        return self._template

    @property
    def raster(self) -> PitchRaster:
        """The raster geometry: ``raster.pitch_to_raster`` maps metres to radar pixels."""
        return self._raster

    def to_raster(self, points: ArrayLike) -> FloatArray:
        """Pitch metres (n, 2) -> continuous radar pixels (n, 2)."""
        p = _as_points(points, "Radar.to_raster")
        s, m = self._raster.px_per_m, self._raster.margin
        return (p + m) * s

    # ----- drawing --------------------------------------------------------------------------
    def render(
        self,
        points: ArrayLike,
        *,
        teams: ArrayLike | None = None,
        classes: ArrayLike | None = None,
        ids: ArrayLike | None = None,
        trails: Sequence[ArrayLike] | None = None,
        viewport: ArrayLike | None = None,
    ) -> np.ndarray:
        """Draw one frame of the radar.

        Args:
            points: ``(n, 2)`` positions in touchline metres; NaN rows are skipped.
            teams: ``(n,)`` team per point (0, 1, or -1 unknown).
            classes: ``(n,)`` :class:`~touchline.types.ObjectClass` per point; the ball is
                drawn last as a small white dot, goalkeepers and referees in their colours.
            ids: ``(n,)`` labels written beside the dots (e.g. track ids); ``None`` for none.
            trails: past positions, a list of ``(k, 2)`` arrays in metres (oldest first, NaN
                breaks a trail); with one trail per point each takes its point's colour.
                Drawn as polylines that fade towards the oldest end.
            viewport: ``(k, 2)`` polygon in metres, e.g. :func:`camera_viewport`; drawn as a
                translucent outlined area.

        Returns:
            A new BGR image of the radar.
        """
        p = _as_points(points, "Radar.render")
        n = len(p)
        teams_ = _optional_rows(teams, n, "teams")
        classes_ = _optional_rows(classes, n, "classes")
        ids_ = _optional_rows(ids, n, "ids")
        img = self._template.copy()
        colors = _colors(n, "team", class_id=classes_, team=teams_, class_names=CLASS_NAMES)
        if viewport is not None:
            self._draw_viewport(img, _as_points(viewport, "Radar.render viewport"))
        if trails is not None and len(trails) > 0:
            if len(trails) == n:
                trail_colors = colors
            else:
                trail_colors = np.repeat(
                    np.array([TEAM_COLORS["unknown"]], np.uint8), len(trails), axis=0
                )
            self._draw_trails(img, trails, trail_colors)
        if n == 0:
            return img
        uv = self.to_raster(p)
        ok: NDArray[np.bool_] = np.asarray(np.isfinite(uv).all(axis=1))
        ball: NDArray[np.bool_] = np.zeros(n, bool)
        if classes_ is not None:
            ball = np.asarray(classes_ == int(ObjectClass.BALL))
        r = self._radius
        cv_uv = _to_cv(np.where(ok[:, None], uv, 0.0))
        one = 1 << _SHIFT
        for i in np.flatnonzero(ok & ~ball).tolist():
            c = tuple(int(v) for v in colors[i])
            centre = (int(cv_uv[i, 0]), int(cv_uv[i, 1]))
            cv2.circle(img, centre, r * one, c, -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(img, centre, r * one, (20, 20, 20), 1, cv2.LINE_AA, _SHIFT)
        if ids_ is not None:
            font = cv2.FONT_HERSHEY_SIMPLEX
            for i in np.flatnonzero(ok & ~ball).tolist():
                label = str(ids_[i])
                org = (int(uv[i, 0] + r), int(uv[i, 1] - r))
                cv2.putText(
                    img, label, org, font, self._font_scale, (255, 255, 255), 1, cv2.LINE_AA
                )
        rb = max(3, round(0.7 * r))
        for i in np.flatnonzero(ok & ball).tolist():
            centre = (int(cv_uv[i, 0]), int(cv_uv[i, 1]))
            cv2.circle(img, centre, rb * one, TEAM_COLORS["ball"], -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(img, centre, rb * one, (0, 0, 0), 1, cv2.LINE_AA, _SHIFT)
        return img

    def _draw_viewport(self, img: np.ndarray, polygon: FloatArray) -> None:
        poly = polygon[np.isfinite(polygon).all(axis=1)]
        if len(poly) < 3:
            return
        pts = _to_cv(self.to_raster(poly))
        overlay = img.copy()
        cv2.fillPoly(overlay, [pts], (255, 255, 255), cv2.LINE_AA, _SHIFT)
        cv2.addWeighted(overlay, 0.18, img, 0.82, 0.0, dst=img)
        cv2.polylines(img, [pts], True, (235, 235, 235), 1, cv2.LINE_AA, _SHIFT)

    def _draw_trails(
        self, img: np.ndarray, trails: Sequence[ArrayLike], colors: NDArray[np.uint8]
    ) -> None:
        """All trails at once: segments grouped by (colour, fade level), one call per group."""
        arrays = [_as_points(t, "Radar.render trail") for t in trails]
        if sum(len(a) for a in arrays) < 2:
            return
        lengths = np.array([len(a) for a in arrays])
        uv = self.to_raster(np.concatenate(arrays))
        trail_of = np.repeat(np.arange(len(arrays)), lengths)
        first = np.cumsum(lengths) - lengths
        age = np.arange(len(uv)) - first[trail_of]  # index along its own trail
        # Segment j joins points j and j + 1 of the same trail.
        finite: NDArray[np.bool_] = np.asarray(np.isfinite(uv).all(axis=1))
        seg = np.flatnonzero((trail_of[:-1] == trail_of[1:]) & finite[:-1] & finite[1:])
        if len(seg) == 0:
            return
        t = trail_of[seg]
        level = np.minimum(age[seg] * _FADE_LEVELS // (lengths[t] - 1), _FADE_LEVELS - 1)
        # Trails of the same colour share their calls.
        _, color_id = np.unique(colors, axis=0, return_inverse=True)
        key = color_id.reshape(-1)[t] * _FADE_LEVELS + level
        order = np.argsort(key, kind="stable")
        key, seg = key[order], seg[order]
        pts = _to_cv(np.where(np.isfinite(uv), uv, 0.0))
        segs = np.stack([pts[seg], pts[seg + 1]], axis=1)  # (m, 2, 2)
        bounds = np.flatnonzero(np.diff(key)) + 1
        thickness = max(1, round(self._raster.px_per_m * 0.4))
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(key)], strict=True):
            k = int(key[lo])
            alpha = (k % _FADE_LEVELS + 1) / _FADE_LEVELS
            base = colors[int(t[order[lo]])].astype(np.float64)
            c = np.round(self._grass * (1 - alpha) + base * alpha)
            col = (int(c[0]), int(c[1]), int(c[2]))
            # An (m, 2, 2) array is m two-point polylines (faster than a list of arrays).
            cv2.polylines(img, segs[lo:hi], False, col, thickness, cv2.LINE_AA, _SHIFT)  # type: ignore[call-overload]

    def render_detections(self, detections: Detections, **kwargs: Any) -> np.ndarray:
        """Render :class:`~touchline.types.Detections` with ``data["pitch_xy"]``.

        Colours come from ``data["team"]`` and ``class_id``, labels from ``tracker_id``;
        ``kwargs`` (``trails``, ``viewport``) go to :meth:`render`.

        Raises:
            DataError: ``data["pitch_xy"]`` is missing (compute it with
                ``detections.to_pitch(calibration)``).

        >>> dets = Detections(xyxy=np.zeros((1, 4)), class_id=[3],
        ...                   data={"pitch_xy": [[52.5, 34.0]]})
        >>> Radar(width=210).render_detections(dets).shape
        (140, 210, 3)
        """
        if "pitch_xy" not in detections.data:
            if len(detections) == 0:
                return self.render(np.empty((0, 2)), **kwargs)
            raise DataError(
                "Radar.render_detections: detections.data['pitch_xy'] is missing; set it to "
                "detections.to_pitch(calibration)"
            )
        classes = detections.class_id
        if classes is not None and detections.class_names != CLASS_NAMES:
            # Map custom class names onto ObjectClass ids by name (-1 when unknown).
            lut = np.array(
                [CLASS_NAMES.index(c) if c in CLASS_NAMES else -1 for c in detections.class_names]
                + [-1]
            )
            inside = (classes >= 0) & (classes < len(detections.class_names))
            classes = lut[np.where(inside, classes, len(detections.class_names))]
        return self.render(
            detections.data["pitch_xy"],
            teams=detections.data.get("team"),
            classes=classes,
            ids=detections.tracker_id,
            **kwargs,
        )

    def render_tracks(
        self, tracks: Any, frame: int, *, trail: float = 0.0, **kwargs: Any
    ) -> np.ndarray:
        """Render one frame of a :class:`~touchline.tracks.Tracks` table.

        Args:
            tracks: the tracks table.
            frame: the source frame index.
            trail: seconds of history drawn behind every object present in ``frame``.
            kwargs: passed to :meth:`render` (e.g. ``viewport``).

        >>> from touchline.tracks import Tracks
        >>> dets = Detections(xyxy=[[0, 0, 2, 4]], class_id=[0], tracker_id=[7],
        ...                   data={"team": [0], "pitch_xy": [[30.0, 20.0]]})
        >>> t = Tracks.from_frames([(0, 0.0, dets)])
        >>> Radar(width=210).render_tracks(t, 0).shape
        (140, 210, 3)
        """
        dets = tracks.frame(frame)
        if trail > 0 and len(dets) > 0:
            df = tracks.df
            frames = df["frame"].to_numpy()
            hi = int(np.searchsorted(frames, frame, side="right"))
            times = df["time"].to_numpy()
            now = times[hi - 1]
            lo = int(np.searchsorted(frames, frame, side="left"))
            past = df.iloc[:hi]
            past = past[(times[:hi] >= now - trail) | (np.arange(hi) >= lo)]
            xy = past[["pitch_x", "pitch_y"]].to_numpy(dtype=np.float64)
            tid = past["track_id"].to_numpy()
            order = np.argsort(tid, kind="stable")  # rows are frame-sorted already
            tid_sorted = tid[order]
            trails = []
            for t in dets.tracker_id:
                a, b = np.searchsorted(tid_sorted, [t, t + 1])
                trails.append(xy[order[a:b]])
            kwargs.setdefault("trails", trails)
        return self.render_detections(dets, **kwargs)


# --------------------------------------------------------------------------------------------
# Camera field of view
# --------------------------------------------------------------------------------------------
def _clip_polygon(poly: FloatArray, plane: FloatArray, offset: float) -> FloatArray:
    """Sutherland-Hodgman: keep the part of a closed homogeneous polygon (k, 3) with
    ``poly @ plane >= offset``."""
    if len(poly) == 0:
        return poly
    f = poly @ plane - offset
    nxt = np.roll(poly, -1, axis=0)
    fn = np.roll(f, -1)
    inside, inside_n = f >= 0, fn >= 0
    crossing = inside != inside_n
    t = np.where(crossing, f / np.where(crossing, f - fn, 1.0), 0.0)
    cross = poly + t[:, None] * (nxt - poly)
    stacked = np.stack([poly, cross], axis=1)  # (k, 2, 3): the vertex, then the crossing
    keep = np.stack([inside, crossing], axis=1)
    return stacked[keep]


def camera_viewport(
    image_to_pitch: ArrayLike | Calibration,
    image_size: tuple[int, int] | None = None,
    pitch: Pitch | None = None,
    step: float = 16,
    *,
    margin: float = 40.0,
) -> FloatArray | None:
    """The part of the ground the camera sees, as a polygon in pitch metres.

    The image border (sampled every ``step`` pixels) is mapped to the ground and clipped, in
    homogeneous coordinates, to the ground in front of the camera (what lies above the horizon
    is dropped) and to the pitch extended by ``margin`` metres, so the polygon stays finite.

    Args:
        image_to_pitch: a ``(3, 3)`` homography image pixels -> pitch metres, or a
            :class:`~touchline.types.Calibration`.
        image_size: ``(width, height)`` in pixels (default: the calibration's).
        pitch: the pitch (default 105 x 68 m).
        step: spacing of the border samples, pixels.
        margin: metres beyond the pitch where the polygon is cut.

    Returns:
        ``(k, 2)`` float64 polygon (k >= 3) in metres, or ``None`` when no part of the image
        shows the ground (or the calibration is invalid).

    >>> poly = camera_viewport(np.diag([0.1, 0.1, 1.0]), (1050, 680))
    >>> poly.min(axis=0).tolist(), poly.max(axis=0).tolist()
    ([0.0, 0.0], [105.0, 68.0])
    """
    H = _image_to_pitch(image_to_pitch, "camera_viewport")
    if H is None:
        return None
    w, h = _image_size(image_size, image_to_pitch, "camera_viewport")
    pitch = pitch or Pitch()
    try:
        G = np.asarray(np.linalg.inv(H), dtype=np.float64)
        sign = front_sign(G, (pitch.length, pitch.width))
    except np.linalg.LinAlgError:
        return None
    if sign == 0:
        return None
    step = max(float(step), 1.0)
    nx, ny = max(1, int(np.ceil(w / step))), max(1, int(np.ceil(h / step)))
    xs, ys = np.linspace(0, w, nx + 1), np.linspace(0, h, ny + 1)
    border = np.concatenate(
        [
            np.stack([xs[:-1], np.zeros(nx)], 1),
            np.stack([np.full(ny, float(w)), ys[:-1]], 1),
            np.stack([xs[::-1][:-1], np.full(nx, float(h))], 1),
            np.stack([np.zeros(ny), ys[::-1][:-1]], 1),
        ]
    )
    # Homogeneous ground points of the border; for pixel u the ground point P = H u is in front
    # of the camera when the image w of P, 1 / P_w for G = H^-1, has the front sign.
    hs = H * (sign / np.abs(H).max())
    poly = np.hstack([border, np.ones((len(border), 1))]) @ hs.T
    x0, y0, x1, y1 = -margin, -margin, pitch.length + margin, pitch.width + margin
    poly = _clip_polygon(poly, np.array([0.0, 0.0, 1.0]), 1e-12 * float(np.abs(poly).max()))
    for plane in ([1, 0, -x0], [-1, 0, x1], [0, 1, -y0], [0, -1, y1]):
        poly = _clip_polygon(poly, np.asarray(plane, np.float64), 0.0)
    if len(poly) < 3:
        return None
    out = poly[:, :2] / poly[:, 2:]
    if not np.isfinite(out).all():
        return None
    # Drop consecutive duplicates (clipping at a vertex).
    keep = np.ones(len(out), bool)
    keep[1:] = np.abs(np.diff(out, axis=0)).max(axis=1) > 1e-9
    out = out[keep]
    return out if len(out) >= 3 else None


# --------------------------------------------------------------------------------------------
# Picture in picture
# --------------------------------------------------------------------------------------------
_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def inset(
    frame: np.ndarray,
    radar_image: np.ndarray,
    *,
    corner: Corner | str = "bottom-right",
    scale: float = 0.3,
    alpha: float = 0.85,
    pad: int = 12,
    copy: bool = True,
) -> np.ndarray:
    """Paste a radar image into a corner of a frame, alpha-blended.

    Args:
        frame: BGR frame ``(H, W, 3)``.
        radar_image: BGR image to paste.
        corner: ``"top-left"``, ``"top-right"``, ``"bottom-left"`` or ``"bottom-right"``.
        scale: width of the inset as a fraction of the frame width (it is shrunk further to fit
            inside the frame with ``pad``).
        alpha: opacity of the inset (1 = opaque).
        pad: distance from the frame edges, pixels.
        copy: draw on a copy (default) rather than in place.

    Raises:
        ValueError: an unknown corner, or ``scale`` / ``alpha`` outside ``(0, 1]``.

    >>> out = inset(np.zeros((100, 200, 3), np.uint8), np.full((20, 40, 3), 255, np.uint8),
    ...             scale=0.2, alpha=1.0, pad=5, corner="top-left")
    >>> out[5:25, 5:45].min(), out[30:, :].max()
    (np.uint8(255), np.uint8(0))
    """
    if corner not in _CORNERS:
        raise ValueError(f"corner must be one of {_CORNERS}, got {corner!r}")
    if not 0 < scale <= 1 or not 0 <= alpha <= 1:
        raise ValueError(f"scale must be in (0, 1] and alpha in [0, 1], got {scale}, {alpha}")
    out = frame.copy() if copy else frame
    H, W = out.shape[:2]
    rh, rw = radar_image.shape[:2]
    tw = max(1, round(W * scale))
    th = max(1, round(rh * tw / rw))
    fit = min(1.0, (W - 2 * pad) / tw, (H - 2 * pad) / th)
    if fit <= 0:
        return out
    tw, th = max(1, int(tw * fit)), max(1, int(th * fit))
    interp = cv2.INTER_AREA if tw < rw else cv2.INTER_LINEAR
    small = cv2.resize(radar_image, (tw, th), interpolation=interp)
    x0 = pad if corner.endswith("left") else W - pad - tw
    y0 = pad if corner.startswith("top") else H - pad - th
    roi = out[y0 : y0 + th, x0 : x0 + tw]
    if alpha >= 1:
        roi[...] = small
    else:
        cv2.addWeighted(small, alpha, roi, 1 - alpha, 0.0, dst=roi)
    return out
