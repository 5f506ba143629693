"""Painted pitch lines found by an image filter, and a label-free score of a calibration.

No network is involved: painted lines are bright, thin, unsaturated ridges on the grass, which a
few morphological operations find on any broadcast (thick bright lines, faint thin lines on
striped grass, shadows, blur, compression, squashed frames).

* :func:`paint_mask`: the painted-line pixels of a frame (:class:`PaintMask`), at a working
  resolution of at most :data:`WORK_WIDTH` px wide.
* :func:`alignment_score`: the share of the template's line length, projected through a
  homography into the frame and onto the grass, that lands on painted-line pixels
  (:class:`Alignment`): high for a correct camera, low for one off by a metre or two.
  :func:`calibration_alignment` does both for a :class:`~touchline.types.Calibration`.

Method of :func:`paint_mask`, at the working resolution (pixel sizes are for a 1280 px wide
frame and scale with the working width):

1. *Whiteness*: the smallest of the B, G, R channels. White paint is high in all three, grass
   is low in blue and red, so mowing stripes, sunlit grass and coloured kits barely respond.
2. *Ridges*: a white top-hat of the whiteness with a 17 px square: bright structures narrower
   than the square (lines at any angle) stand out; steps (shadow edges, stripes) and broad
   shapes do not. Only the ridge's core (at least 40 % of the local peak) is kept, so that a
   bright, blurred line is not widened by its flanks.
3. *Threshold* from the frame's own statistics: the median plus 4.5 robust standard deviations
   (MAD) of the top-hat on the grass, scaled locally by the brightness and texture of the grass
   around each pixel (sunlit grass is brighter and busier than grass in the shade, and so are
   its lines), with hysteresis: pixels above 60 % of it are kept when connected to pixels above
   it, in components of which at least a quarter is above it (faint lines are continuous,
   grass texture is not).
4. *Pitch region*: the grass mask (:func:`touchline.calib.motion.grass_mask`, at a quarter of
   the working width) without broad, strongly textured areas (crowds of the grass's colour),
   closed over the lines and small players, and only its large connected parts: the stands,
   boards and crowd fall outside, and so do large players and graphics (holes).
5. *Shape* (at half resolution): components shorter than 24 px, and components shorter than
   120 px that are not straight strokes (length / width from their second moments below 7:
   player outlines and halos, kits, text), are dropped; so are the 4 px at the frame's edges.

Measured on one core: a median of 5.5 ms for a 1280x720 frame, grass mask included (11 ms for
a 1920x1080 one, 5 ms of it the area downscale; 3.3 ms for 910x512). That is with memory reused
by the allocator: where glibc hands the ~10 MB of per-frame temporaries back to the system
after every call, faulting them in again costs another ~5 ms (``MALLOC_TRIM_THRESHOLD_`` and
``MALLOC_MMAP_THRESHOLD_`` of a few tens of MB avoid it).

:func:`alignment_score` is blind to what cannot be seen: a camera slid *along* the visible lines
(a shift along the touchlines, a pan in a view of mostly horizontal lines) keeps those lines on
paint and loses only the others. In typical broadcast views a 2 m error across the pitch or a
1 degree tilt scores below 0.3, a 2 m slide along it or a 2 degree pan 0.4-0.7 (the true camera:
0.9-1.0).

Conventions: images are BGR ``uint8``; image coordinates are continuous pixels (pixel ``(i, j)``
covers ``[i, i + 1) x [j, j + 1)``); homographies map image pixels to pitch metres.

>>> import numpy as np
>>> from touchline.synth.camera import PinholeCamera
>>> from touchline.viz.overlay import draw_pitch_lines
>>> cam = PinholeCamera.look_at((30.0, 95.0, -18.0), (16.0, 34.0, 0.0), focal=1800.0,
...                             image_size=(1280, 720))        # a view of the left box
>>> grass = np.zeros((720, 1280, 3), np.uint8)
>>> grass[:] = (40, 130, 50)
>>> frame = draw_pitch_lines(grass, cam.pitch_to_image, color=(235, 235, 235), thickness=2)
>>> paint = paint_mask(frame)
>>> H = np.linalg.inv(cam.pitch_to_image)                     # image -> pitch
>>> round(alignment_score(paint, H, (1280, 720)).score, 2)
1.0
>>> off = np.array([[1.0, 0, 1.5], [0, 1, 1.5], [0, 0, 1]]) @ H  # 2 m off
>>> alignment_score(paint, off, (1280, 720)).score < 0.2
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.calib.motion import grass_mask
from touchline.errors import DataError
from touchline.geometry.homography import front_sign
from touchline.pitch import Pitch, Segment
from touchline.types import Calibration

__all__ = [
    "WORK_WIDTH",
    "Alignment",
    "PaintMask",
    "alignment_score",
    "calibration_alignment",
    "paint_mask",
]

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]
Bool = NDArray[np.bool_]

#: Widest working resolution (px); wider frames are downscaled (area) to it.
WORK_WIDTH = 1280
#: Pixel sizes below are for a working image this wide and scale with the working width.
_REF_WIDTH = 1280.0
#: Side of the top-hat square: wider bright structures are not lines.
_TOPHAT = 17.0
#: Threshold: median + this many robust standard deviations of the response on the grass ...
_K_SIGMA = 4.5
#: ... scaled locally by the brightness and texture of the grass around each pixel relative to
#: the whole grass (geometric mean of the two ratios, within ``_LOCAL_RATIO``), and at least
#: ``_MIN_CONTRAST`` grey levels.
_MIN_CONTRAST = 6.0
_LOCAL_RATIO = (0.5, 2.5)
#: A pixel is on the ridge's core when its response is at least this share of the local peak
#: (within ``_THICK`` px), so that a bright line is not widened by its blurred flanks.
_CORE = 0.4
#: Window (px) of the local peak used by ``_CORE``.
_THICK = 9.0
#: Hysteresis: pixels above this share of the threshold are kept when connected to pixels
#: above it, in components where more than ``_SEED_SHARE`` of the pixels are above it.
_HYSTERESIS = 0.6
_SEED_SHARE = 0.25
#: Components shorter than this (bounding-box diagonal) are dropped, and those shorter than
#: ``_LONG`` must be straight strokes: their length / width (from the principal second
#: moments) at least ``_STRAIGHT``.
_MIN_LENGTH = 24.0
_LONG = 120.0
_STRAIGHT = 7.0
#: The grass mask is computed at a quarter of the working width and closed with this disc
#: (quarter-resolution px) over the lines and players it leaves out.
_REGION_CLOSE = 7
#: Grass whose local grey-level standard deviation (5x5, quarter resolution) exceeds
#: ``_TEXTURE_K`` times the median over the grass, and ``_TEXTURE_MIN``, over a broad area
#: (one that survives an opening with a ``_TEXTURE_OPEN`` px disc: a line's band, 5-8 px
#: wide whatever the resolution, does not) is a crowd, not grass.
_TEXTURE_K = 4.0
_TEXTURE_MIN = 10.0
_TEXTURE_OPEN = 9
#: Regions smaller than this share of the largest one are not the pitch.
_REGION_KEEP = 0.3
#: Rows and columns (px) at the frame's edges that are never paint.
_EDGE = 4
#: Connected-component labelling: BBDT computes statistics several times faster than the
#: default algorithm.
_CCL = cv2.CCL_BBDT


# ----------------------------------------------------------------------------------------------
# Painted-line mask
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PaintMask:
    """Painted-line pixels of a frame, at the working resolution.

    Attributes:
        mask: ``(h, w)`` bool, ``True`` on painted-line pixels.
        scale: ``(sx, sy)`` working pixels per input pixel along x and y.
        grass: ``(h, w)`` bool, the pitch region searched: the grass mask closed over the
            lines and players (the stands, boards and crowd are outside).
        image_size: ``(width, height)`` of the input image.
    """

    mask: Bool
    scale: tuple[float, float]
    grass: Bool
    image_size: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """``(h, w)`` of the working resolution."""
        h, w = self.mask.shape
        return (int(h), int(w))

    @property
    def ref_scale(self) -> float:
        """Working width / 1280: the factor applied to the pixel sizes given for 1280 px."""
        return self.shape[1] / _REF_WIDTH

    def near(self, tolerance: float) -> Bool:
        """Pixels within ``tolerance`` working px of a painted-line pixel (the mask dilated by
        a disc; kept per tolerance). Cheaper than :attr:`distance` for one tolerance."""
        cache = self.__dict__.setdefault("_near", {})
        r = max(0, math.floor(tolerance))
        if r not in cache:
            if r == 0 or not self.mask.any():
                cache[r] = self.mask
            else:
                k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
                cache[r] = cv2.dilate(self.mask.view(np.uint8), k).astype(bool)
        return cache[r]

    @functools.cached_property
    def distance(self) -> NDArray[np.float32]:
        """Distance (working px) of every pixel to the nearest painted-line pixel; ``inf``
        everywhere when there is none."""
        if not self.mask.any():
            return np.full(self.mask.shape, np.inf, np.float32)
        free = np.where(self.mask, 0, 255).astype(np.uint8)
        return np.asarray(cv2.distanceTransform(free, cv2.DIST_L2, 3), np.float32)


def _check_image(image: object, where: str) -> U8:
    """A BGR ``uint8`` ``(H, W, 3)`` view of ``image`` (BGRA loses its alpha)."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise DataError(f"{where}: expected a uint8 BGR image, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = np.ascontiguousarray(arr[:, :, :3])
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise DataError(
            f"{where}: expected a BGR image of shape (H, W, 3) (or BGRA (H, W, 4)), got shape "
            f"{arr.shape}; painted lines are found by colour, a greyscale image has none"
        )
    if arr.shape[0] < 16 or arr.shape[1] < 16:
        raise DataError(f"{where}: image too small ({arr.shape[1]}x{arr.shape[0]} px)")
    return arr


def _odd(x: float, lo: int = 3) -> int:
    """The odd integer nearest ``x``, at least ``lo``."""
    return max(lo, 2 * round((x - 1) / 2) + 1)


def _disc(d: int) -> U8:
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)), np.uint8)


def _median(values: np.ndarray, where: np.ndarray) -> float:
    """Median of ``values[where]`` from every other row and column (fast); 0 when empty."""
    sub = values[::2, ::2][where[::2, ::2]]
    if sub.size == 0:
        sub = values[where]
    return float(np.median(sub)) if sub.size else 0.0


def _threshold_map(
    sample: np.ndarray, grass: np.ndarray, grey: np.ndarray, sd: np.ndarray, size: tuple[int, int]
) -> np.ndarray | None:
    """Per-pixel detection threshold (``size``) from quarter-resolution images: the response
    ``sample``d on the ``grass`` and the ``grey`` frame.

    Globally: the median plus :data:`_K_SIGMA` robust standard deviations (MAD, from the
    histogram) of the response on the grass. Locally, it is scaled by the brightness and the
    texture (``sd``: local grey-level standard deviation) of the grass around each pixel
    relative to the whole grass (3x3 medians of block means, robust to lines and players):
    sunlit grass is brighter and busier, and its lines brighter, than grass in the shade.
    ``None`` without grass.
    """
    hist = cv2.calcHist([sample], [0], grass, [256], [0, 256]).ravel()
    total = float(hist.sum())
    if total < 100:
        return None
    med = int(np.searchsorted(np.cumsum(hist), 0.5 * total))
    # MAD from the same histogram: |r - med| folded around the median.
    dev = np.bincount(np.abs(np.arange(256) - med), weights=hist, minlength=256)
    mad = float(np.searchsorted(np.cumsum(dev), 0.5 * total))
    thr = med + _K_SIGMA * 1.4826 * max(mad, 0.5)
    # Local brightness: block means (1/16 of the working width), then a 3x3 median of them.
    qh, qw = grey.shape
    cw, ch = max(4, qw // 4), max(3, qh // 4)
    level = cv2.medianBlur(cv2.resize(grey, (cw, ch), interpolation=cv2.INTER_AREA), 3)
    level = cv2.resize(level, (qw, qh), interpolation=cv2.INTER_LINEAR)
    ghist = cv2.calcHist([level], [0], grass, [256], [0, 256]).ravel()
    typical = max(8.0, float(np.searchsorted(np.cumsum(ghist), 0.5 * ghist.sum())))
    bright = level.astype(np.float32) / np.float32(typical)
    # Local texture: the same for the grey level's local standard deviation.
    tex = cv2.medianBlur(cv2.resize(sd, (cw, ch), interpolation=cv2.INTER_AREA), 3)
    tex = cv2.resize(tex, (qw, qh), interpolation=cv2.INTER_LINEAR)
    texture = tex / max(0.5, _median(tex, grass > 0))
    ratio = np.sqrt(bright * texture)
    ratio = np.clip(ratio, *_LOCAL_RATIO)
    local = np.clip(thr * ratio, _MIN_CONTRAST, 255.0)
    return np.asarray(
        cv2.resize(np.ceil(local).astype(np.uint8), size, interpolation=cv2.INTER_LINEAR), np.uint8
    )


def _grass_and_region(
    work: np.ndarray, grass: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grass mask, pitch region (0/255), grey image and its local standard deviation (5x5), at
    a quarter of the working width."""
    wh, ww = work.shape[:2]
    qw = max(16, ww // 4)
    qh = max(9, round(wh * qw / ww))
    # Bilinear, not area: 10x faster, and the grass hue does not need anti-aliasing.
    small = np.asarray(cv2.resize(work, (qw, qh), interpolation=cv2.INTER_LINEAR), np.uint8)
    grey = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8)
    g: np.ndarray
    if grass is None:
        g = np.where(grass_mask(small), 255, 0).astype(np.uint8)
    else:
        garr = np.asarray(grass)
        if garr.ndim != 2 or min(garr.shape) < 2:
            raise DataError(f"paint_mask: grass must be a 2-D mask, got shape {garr.shape}")
        g = np.where(garr > 0, 255, 0).astype(np.uint8)
        g = cv2.resize(g, (qw, qh), interpolation=cv2.INTER_AREA)
        g = np.where(g >= 128, 255, 0).astype(np.uint8)
    # Crowds can be of the grass's colour (yellow-green fans under warm light): leave out
    # broad, strongly textured areas (thin textured bands, i.e. lines and edges, stay).
    f = grey.astype(np.float32)
    mean = cv2.blur(f, (5, 5))
    sd = np.sqrt(np.maximum(cv2.blur(f * f, (5, 5)) - mean * mean, 0))
    if cv2.countNonZero(g):
        limit = max(_TEXTURE_MIN, _TEXTURE_K * _median(sd, g > 0))
        busy: np.ndarray = np.where(sd > limit, 255, 0).astype(np.uint8)
        busy = cv2.morphologyEx(busy, cv2.MORPH_OPEN, _disc(_TEXTURE_OPEN))
        g = cv2.bitwise_and(g, cv2.bitwise_not(busy))
    k = _odd(_REGION_CLOSE * ww / _REF_WIDTH)
    # Pad so that the closing does not eat into the frame border.
    padded = cv2.copyMakeBorder(g, k, k, k, k, cv2.BORDER_REPLICATE)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, _disc(k))
    region = np.ascontiguousarray(closed[k:-k, k:-k])
    # The pitch is one large region; smaller ones are stands or boards of the grass's colour.
    n, labels = cv2.connectedComponents(region, connectivity=8)
    if n > 2:
        area = np.bincount(labels.ravel(), minlength=n)
        area[0] = 0
        keep = area >= _REGION_KEEP * area.max()
        region = _select(labels, keep)
        g = cv2.bitwise_and(g, region)
    return g, np.asarray(region, np.uint8), grey, sd


def _select(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """0/255 image of the components whose ``keep`` is true (``keep[0]``, the background, is
    ignored)."""
    lut = np.where(keep, 255, 0).astype(np.uint8)
    lut[0] = 0
    if len(lut) <= 256:  # an 8-bit table lookup is several times faster than fancy indexing
        table = np.zeros(256, np.uint8)
        table[: len(lut)] = lut
        return np.asarray(cv2.LUT(labels.astype(np.uint8), table), np.uint8)
    return lut[labels]


def _nonzero(image: np.ndarray) -> NDArray[np.int32]:
    """``(n, 2)`` x, y of the nonzero pixels (``cv2.findNonZero``: 20x faster than numpy)."""
    xy = cv2.findNonZero(image)
    return np.zeros((0, 2), np.int32) if xy is None else np.asarray(xy, np.int32).reshape(-1, 2)


def _shape_filter(mask: np.ndarray, seeds: np.ndarray, s: float) -> np.ndarray:
    """Keep the long or straight components of ``mask`` (0/255) that hold a ``seeds`` pixel
    (hysteresis); returns a 0/255 mask of the same size.

    Works at half resolution (a 2x2 max-pool of the mask; fast). A component is dropped when it
    is shorter than :data:`_MIN_LENGTH`, or shorter than :data:`_LONG` and not a straight
    stroke (player outlines, kits and text are curly or compact), or has no seed.
    """
    h, w = mask.shape
    hw, hh = (w + 1) // 2, (h + 1) // 2
    half = cv2.resize(mask, (hw, hh), interpolation=cv2.INTER_AREA)
    half = cv2.threshold(half, 0, 255, cv2.THRESH_BINARY)[1]
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(half, 8, cv2.CV_32S, _CCL)
    if n <= 1:
        return np.zeros_like(mask)
    seed_half = cv2.resize(seeds, (hw, hh), interpolation=cv2.INTER_AREA)
    seed_xy = _nonzero(seed_half)
    seed_count = np.bincount(labels[seed_xy[:, 1], seed_xy[:, 0]], minlength=n)
    seeded = seed_count > _SEED_SHARE * stats[:, cv2.CC_STAT_AREA]
    diag = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = seeded & (diag >= max(3.0, _MIN_LENGTH * s / 2))
    keep[0] = False
    # A short component must be a straight stroke: the ratio of its principal second moments
    # (length / width squared) is large.
    short = keep & (diag < _LONG * s / 2)
    if short.any():
        xy = _nonzero(half)
        lab = labels[xy[:, 1], xy[:, 0]]
        sel = short[lab]
        lab, x, y = lab[sel], xy[sel, 0].astype(np.float64), xy[sel, 1].astype(np.float64)
        cnt = np.maximum(np.bincount(lab, minlength=n), 1)
        dx = x - (np.bincount(lab, x, n) / cnt)[lab]
        dy = y - (np.bincount(lab, y, n) / cnt)[lab]
        sxx = np.bincount(lab, dx * dx, n) / cnt + 1 / 12
        syy = np.bincount(lab, dy * dy, n) / cnt + 1 / 12
        sxy = np.bincount(lab, dx * dy, n) / cnt
        mid, det = (sxx + syy) / 2, sxx * syy - sxy * sxy
        root = np.sqrt(np.maximum(mid * mid - det, 0))
        ratio = (mid + root) / np.maximum(mid - root, 1e-6)
        keep &= ~short | (ratio >= _STRAIGHT**2)
    kept = cv2.resize(_select(labels, keep), (w, h), interpolation=cv2.INTER_NEAREST)
    return np.asarray(cv2.bitwise_and(mask, kept, dst=kept), np.uint8)


def paint_mask(
    image_bgr: np.ndarray, *, grass: np.ndarray | None = None, width: int | None = None
) -> PaintMask:
    """The painted-line pixels of a broadcast frame (see the module docstring for the method).

    Args:
        image_bgr: BGR ``uint8`` image ``(H, W, 3)`` (BGRA is accepted, its alpha ignored).
        grass: the frame's grass mask (bool or 0/255, any resolution of the same frame, e.g.
            :func:`touchline.calib.motion.grass_mask`); computed when ``None``.
        width: working width (px); default the input width, at most :data:`WORK_WIDTH`.
            The image is never upscaled.

    Returns:
        A :class:`PaintMask` at the working resolution (empty for a frame without grass).

    Raises:
        DataError: not a BGR(A) ``uint8`` image (e.g. greyscale), or a bad ``width``/``grass``.

    >>> import numpy as np
    >>> img = np.zeros((360, 640, 3), np.uint8)
    >>> img[:] = (40, 130, 50)                   # grass
    >>> img[:, 300:302] = (230, 230, 230)        # a painted line
    >>> img[100:160, 500:515] = (240, 240, 240)  # a white kit
    >>> p = paint_mask(img)
    >>> float(p.mask[:, 300:302].any(axis=1).mean()) > 0.95, int(p.mask[:, 400:].sum()), p.scale
    (True, 0, (1.0, 1.0))
    """
    img = _check_image(image_bgr, "paint_mask")
    h, w = img.shape[:2]
    if width is not None and (not isinstance(width, int | np.integer) or width < 16):
        raise DataError(f"paint_mask: width must be an integer >= 16, got {width!r}")
    ww = min(w, WORK_WIDTH if width is None else int(width))
    wh = max(16, round(h * ww / w))
    work = img if ww == w else cv2.resize(img, (ww, wh), interpolation=cv2.INTER_AREA)
    scale = (ww / w, wh / h)
    s = ww / _REF_WIDTH

    g_small, r_small, grey, sd = _grass_and_region(np.asarray(work, np.uint8), grass)
    region = cv2.resize(r_small, (ww, wh), interpolation=cv2.INTER_NEAREST)
    empty = np.zeros((wh, ww), bool)
    if cv2.countNonZero(g_small) < 0.01 * g_small.size:
        return PaintMask(empty, scale, region > 0, (w, h))

    # Full-resolution buffers are reused (dst=...): fewer fresh pages to fault in per frame.
    b, gr, r = cv2.split(work)
    white = cv2.min(b, gr, dst=b)
    cv2.min(white, r, dst=white)
    k = _odd(_TOPHAT * s)
    response = cv2.morphologyEx(white, cv2.MORPH_TOPHAT, np.ones((k, k), np.uint8))
    # Statistics on the grass, from the response sampled at the grass mask's resolution.
    qh, qw = g_small.shape
    sample = cv2.resize(response, (qw, qh), interpolation=cv2.INTER_NEAREST)
    thr = _threshold_map(sample, g_small, grey, sd, (ww, wh))
    if thr is None:
        return PaintMask(empty, scale, region > 0, (w, h))
    t = _odd(_THICK * s)
    peak = cv2.dilate(response, np.ones((t, t), np.uint8))
    scaled = cv2.convertScaleAbs(response, dst=gr, alpha=1.0 / _CORE)
    core = cv2.compare(scaled, peak, cv2.CMP_GE, dst=peak)
    cv2.bitwise_and(core, region, dst=core)
    # The frame's edge rows and columns often carry compression or scaling artefacts.
    core[:_EDGE], core[-_EDGE:], core[:, :_EDGE], core[:, -_EDGE:] = 0, 0, 0, 0
    seeds = cv2.compare(response, thr, cv2.CMP_GE, dst=r)
    cv2.bitwise_and(seeds, core, dst=seeds)
    low = cv2.convertScaleAbs(thr, dst=thr, alpha=_HYSTERESIS)
    mask = cv2.compare(response, low, cv2.CMP_GE, dst=white)
    cv2.bitwise_and(mask, core, dst=mask)
    mask = _shape_filter(mask, seeds, s)
    return PaintMask(mask > 0, scale, region > 0, (w, h))


# ----------------------------------------------------------------------------------------------
# Alignment score
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alignment:
    """How well a projected pitch template lies on the painted lines of a frame.

    Attributes:
        score: share in [0, 1] of the visible template line length (in the frame, in front of
            the camera, on the grass) that lies within tolerance of a painted-line pixel;
            ``nan`` when too little line is visible to judge.
        visible_length_px: that visible length (working pixels).
        matched_length_px: the part of it on painted lines (working pixels).
    """

    score: float
    visible_length_px: float
    matched_length_px: float


@functools.lru_cache(maxsize=8)
def _template(pitch: Pitch, step: float) -> tuple[F64, F64]:
    """The template's line pieces: starts and ends ``(n, 2)`` in pitch metres, at most ``step``
    metres long (spots, which are not lines, are left out)."""
    starts, ends = [], []
    for prim in pitch.elements:
        if not isinstance(prim, Segment) and prim.filled:
            continue
        pts = prim.sample(step)
        starts.append(pts[:-1])
        ends.append(pts[1:])
    return np.concatenate(starts), np.concatenate(ends)


def alignment_score(
    paint: PaintMask,
    image_to_pitch: ArrayLike,
    image_size: tuple[int, int],
    *,
    pitch: Pitch | None = None,
    tolerance_px: float = 3.0,
    step_m: float = 0.25,
    min_length_px: float = 100.0,
) -> Alignment:
    """Share of the projected template line length that lands on painted lines.

    The pitch's lines (spots left out) are cut into pieces of at most ``step_m`` metres and
    projected into the working image; each piece weighs its projected length. A piece counts
    when both ends are in front of the camera and its middle is in the frame and on the
    pitch region of ``paint`` (:attr:`PaintMask.grass`); it matches when its middle is within
    ``tolerance_px`` of a painted-line pixel.

    Args:
        paint: the frame's :func:`paint_mask`.
        image_to_pitch: ``(3, 3)`` homography, pixels of an image of size ``image_size`` ->
            pitch metres (the same frame as ``paint``, at any resolution, even squashed).
        image_size: ``(width, height)`` of the image the homography is expressed in.
        pitch: the pitch (default 105 x 68 m).
        tolerance_px: match distance, in pixels of a 1280 px wide frame (scaled with the
            working width, at least 1 working px).
        step_m: piece length along the lines, metres.
        min_length_px: below this visible length (pixels of a 1280 px wide frame) the score is
            ``nan``.

    Raises:
        DataError: a homography that is not a finite, invertible ``(3, 3)`` matrix, a bad
            ``image_size``, ``step_m`` or ``tolerance_px``.

    >>> import numpy as np
    >>> img = np.zeros((720, 1280, 3), np.uint8); img[:] = (40, 130, 50)
    >>> img[:, 639:641] = (230, 230, 230)        # the halfway line, seen from above
    >>> paint = paint_mask(img)
    >>> H = np.array([[0.01, 0, 46.1], [0, 0.01, 30.4], [0, 0, 1]])  # 100 px per metre
    >>> a = alignment_score(paint, H, (1280, 720))
    >>> round(a.score, 2), round(a.visible_length_px)
    (1.0, 700)
    >>> off = H + [[0, 0, 0.5], [0, 0, 0], [0, 0, 0]]             # 50 cm off
    >>> round(alignment_score(paint, off, (1280, 720)).score, 2)
    0.0
    """
    pitch = pitch or Pitch()
    H = np.asarray(image_to_pitch, dtype=np.float64)
    if H.shape != (3, 3) or not np.isfinite(H).all():
        raise DataError(f"alignment_score: expected a finite (3, 3) homography, got {H.shape}")
    try:
        iw, ih = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise DataError(f"alignment_score: bad image_size {image_size!r}") from None
    if iw <= 0 or ih <= 0:
        raise DataError(f"alignment_score: bad image_size {image_size!r}")
    if not (step_m > 0 and tolerance_px >= 0):
        raise DataError(
            f"alignment_score: step_m must be > 0 and tolerance_px >= 0, got {step_m!r}, "
            f"{tolerance_px!r}"
        )
    try:
        P = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        raise DataError("alignment_score: singular homography") from None
    hh, ww = paint.shape
    P = np.diag([ww / iw, hh / ih, 1.0]) @ P  # pitch -> working pixels
    s = paint.ref_scale
    sign = front_sign(P, (pitch.length, pitch.width))
    if sign == 0:
        return Alignment(math.nan, 0.0, 0.0)
    a, b = _template(pitch, float(step_m))
    Pn = P * (sign / float(np.abs(P).max()))

    def project(pts: F64) -> tuple[F64, NDArray[np.bool_]]:
        q = pts @ Pn[:, :2].T + Pn[:, 2]
        front = q[:, 2] > 1e-12
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = q[:, :2] / q[:, 2:3]
        return xy, front

    qa, fa = project(a)
    qb, fb = project(b)
    qm, fm = project(0.5 * (a + b))
    ok = fa & fb & fm
    ok &= (qm[:, 0] >= 0) & (qm[:, 0] < ww) & (qm[:, 1] >= 0) & (qm[:, 1] < hh)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return Alignment(math.nan, 0.0, 0.0)
    col = qm[idx, 0].astype(np.int64)
    row = qm[idx, 1].astype(np.int64)
    on = paint.grass[row, col]
    idx, col, row = idx[on], col[on], row[on]
    length = np.hypot(*(qb[idx] - qa[idx]).T)
    visible = float(length.sum())
    matched = float(length[paint.near(max(1.0, tolerance_px * s))[row, col]].sum())
    if visible < min_length_px * s:
        return Alignment(math.nan, visible, matched)
    return Alignment(matched / visible, visible, matched)


def calibration_alignment(
    image_bgr: np.ndarray,
    calibration: Calibration,
    *,
    paint: PaintMask | None = None,
    pitch: Pitch | None = None,
    tolerance_px: float = 3.0,
    step_m: float = 0.25,
    min_length_px: float = 100.0,
) -> Alignment:
    """:func:`alignment_score` of a :class:`~touchline.types.Calibration` on a frame.

    The calibration's ``image_size`` is used when known (the frame may be another resolution
    of it), else the frame's size. An invalid calibration scores ``nan``. Pass ``paint`` to
    reuse a mask already computed for ``image_bgr``.

    >>> import numpy as np
    >>> img = np.zeros((360, 640, 3), np.uint8)
    >>> calibration_alignment(img, Calibration.uncalibrated()).score
    nan
    """
    img = _check_image(image_bgr, "calibration_alignment")
    if not calibration.is_valid or calibration.homography is None:
        return Alignment(math.nan, 0.0, 0.0)
    paint = paint if paint is not None else paint_mask(img)
    size = calibration.image_size or (img.shape[1], img.shape[0])
    return alignment_score(
        paint,
        calibration.homography,
        size,
        pitch=pitch,
        tolerance_px=tolerance_px,
        step_m=step_m,
        min_length_px=min_length_px,
    )
