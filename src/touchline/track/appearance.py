"""CPU-cheap appearance features of people boxes: shirt and shorts colour histograms.

A box is resampled (area interpolation) onto a small :data:`GRID_W` x :data:`GRID_H` grid;
two regions of it are described:

* the **shirt**: rows 15-50 % of the box height, the central 60 % of its width;
* the **shorts**: rows 50-70 %, the same columns.

Each pixel votes, with linear (soft) binning, into a colour-name-like histogram of
:data:`REGION_BINS` bins: 12 hues x 2 brightness levels (dark, bright) for coloured pixels and
4 grey levels (black, dark grey, light grey, white) for unsaturated ones, a pixel splitting its
vote between the two by its saturation. Black and white kits therefore keep their own bins:
dark or bright pixels are not thrown away, they are described by the grey levels. Brightness
is measured *relative to the grass behind the box* (Lab lightness divided by the grass's), so a
white kit in the shade and a dark kit in the sun do not meet in the middle grey levels.

Grass is down-weighted: a pixel's vote is multiplied by ``1 - g`` where ``g`` is its
similarity (a Gaussian in CIE Lab) to the grass. Two grass references are used: the frame's
grass (:func:`grass_color`: its chromaticity and its range of lightness, sun and shade stripes
included) and the box's own background (its outer columns' grass-like pixels: it follows the
local light). Lime or green kits survive: they share the grass's hue but not its lightness.
Pixels outside the image do not vote.

Each region histogram is normalised to sum 1, square-rooted (so that a dot product is the
Bhattacharyya coefficient) and L2-normalised; the shorts block is weighted by
:data:`SHORTS_WEIGHT` and the concatenation L2-normalised. The cosine similarity of two features
is then their dot product. Boxes with no pixel inside the image give an all-zero row (cosine
distance 1 to everything).

Cost: about 1 ms for 25 boxes on a 848x478 frame on one CPU core (one ``cv2.resize`` per box,
everything else vectorised; ~0.15 ms of it is :func:`grass_color`, which can be passed in).

>>> import numpy as np
>>> img = np.full((120, 200, 3), (40, 120, 50), np.uint8)   # grass (BGR)
>>> img[30:90, 20:40] = (30, 30, 200)                        # a red player
>>> img[30:90, 120:140] = (240, 240, 240)                    # a white player
>>> img[30:90, 160:180] = (20, 20, 210)                      # another red player
>>> boxes = np.array([[18, 25, 42, 95], [118, 25, 142, 95], [158, 25, 182, 95]], np.float32)
>>> f = appearance_features(img, boxes)
>>> f.shape, f.dtype, np.allclose(np.linalg.norm(f, axis=1), 1)
((3, 56), dtype('float32'), True)
>>> cosine_distance(f[:1], f[1:]).round(2)
array([[1., 0.]], dtype=float32)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FEATURE_DIM",
    "GRID_H",
    "GRID_W",
    "REGION_BINS",
    "GrassColor",
    "appearance_features",
    "cosine_distance",
    "ema_update",
    "grass_color",
    "normalize_rows",
]

F32 = NDArray[np.float32]

#: Width and height (px) of the grid a box is resampled to.
GRID_W, GRID_H = 16, 32
_SHIRT_ROWS = (round(0.15 * GRID_H), round(0.50 * GRID_H))  # rows 5..16
_SHORTS_ROWS = (_SHIRT_ROWS[1], round(0.70 * GRID_H))  # rows 16..22
_COLS = (round(0.20 * GRID_W), round(0.80 * GRID_W))  # central 60 %: cols 3..13
_BORDER = 2  # outer columns on each side used for the box's own background colour

_N_HUE = 12  # hue bins of 30 degrees (15 OpenCV hue units)
_N_GREY = 4  # grey levels
#: Bins of one region histogram: 12 hues x 2 brightness levels + 4 grey levels.
REGION_BINS = 2 * _N_HUE + _N_GREY
#: Length of a feature row: shirt then shorts histograms.
FEATURE_DIM = 2 * REGION_BINS
#: Weight of the shorts block relative to the shirt block (shorts are smaller, often occluded).
SHORTS_WEIGHT = 0.6

# Chromatic share of a pixel: ramps of saturation and value (OpenCV 8-bit HSV).
_SAT_RAMP = (45.0, 110.0)
_VAL_RAMP = (35.0, 80.0)
# Lightness relative to the grass behind the box (Lab L / grass L): centres of the grey levels
# and the ramp from "dark colour" to "bright colour".
_GREY_CENTRES = (0.45, 0.8, 1.15, 1.5)
_BRIGHT_RAMP = (0.7, 1.3)
_DEFAULT_BG_L = 128.0  # reference lightness without grass

# Grass similarity: Gaussian widths in 8-bit Lab (L 0-255; a, b offset by 128).
_GRASS_SIGMA_L_FRAME = 12.0  # beyond the frame's grass lightness range
_GRASS_L_PERCENTILES = (3.0, 97.0)
_GRASS_SIGMA_L_LOCAL = 22.0  # the grass right around the box
_GRASS_SIGMA_AB = 9.0
_LOCAL_MAX_AB = 12.0  # chromatic (ab) width of "grass-like" for a box's background pixels
_LOCAL_MIN_SHARE = 0.3  # a box's background is grass when this share of it is grass-like
_THUMB_WIDTH = 128
_GRASS_HUE = (25, 95)


def normalize_rows(x: ArrayLike) -> F32:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), float32.

    >>> normalize_rows([[3.0, 4.0], [0.0, 0.0]])
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {a.shape}")
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    return np.asarray(a / np.where(norm > 1e-12, norm, 1.0), np.float32)


def cosine_distance(a: ArrayLike, b: ArrayLike) -> F32:
    """``1 - cos`` between every row of ``a`` ``(n, d)`` and of ``b`` ``(m, d)``: ``(n, m)``.

    Rows are normalised first; an all-zero row is at distance 1 from everything. Values are in
    ``[0, 2]`` (``[0, 1]`` for the non-negative :func:`appearance_features`).

    >>> cosine_distance([[1.0, 0.0]], [[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    array([[0., 1., 1.]], dtype=float32)
    """
    aa, bb = normalize_rows(a), normalize_rows(b)
    if aa.shape[1] != bb.shape[1]:
        raise ValueError(f"feature dimensions differ: {aa.shape[1]} and {bb.shape[1]}")
    return np.asarray(np.clip(1.0 - aa @ bb.T, 0.0, 2.0), np.float32)


def ema_update(old: ArrayLike | None, new: ArrayLike, alpha: float = 0.1) -> F32:
    """Exponential moving average of unit features, renormalised: a track's running appearance.

    ``normalize((1 - alpha) * old + alpha * new)`` row by row; ``old`` ``None`` (a new track)
    gives ``new``. Works on one feature ``(d,)`` or rows ``(n, d)``. An all-zero ``new`` row (no
    pixels) leaves ``old`` unchanged.

    >>> ema_update([1.0, 0.0], [0.0, 1.0], alpha=0.5).round(3)
    array([0.707, 0.707], dtype=float32)
    >>> ema_update(None, [0.0, 2.0])
    array([0., 1.], dtype=float32)
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    n = np.asarray(new, dtype=np.float32)
    one = n.ndim == 1
    n2 = normalize_rows(n.reshape(1, -1) if one else n)
    if old is None:
        out = n2
    else:
        o = np.asarray(old, dtype=np.float32)
        o2 = normalize_rows(o.reshape(1, -1) if o.ndim == 1 else o)
        if o2.shape != n2.shape:
            raise ValueError(f"shapes differ: {o2.shape} and {n2.shape}")
        empty = ~(np.abs(n2).sum(axis=1, keepdims=True) > 0)
        out = normalize_rows(np.where(empty, o2, (1.0 - alpha) * o2 + alpha * n2))
    return out[0] if one else out


@dataclass(frozen=True)
class GrassColor:
    """A frame's grass in 8-bit Lab (OpenCV: L 0-255, a and b offset by 128).

    Attributes:
        lab: median colour ``(3,)`` of the grass pixels.
        l_range: ``(low, high)`` lightness percentiles of the grass pixels: sun and shade
            stripes change the lightness of grass much more than its chromaticity.
    """

    lab: F32
    l_range: tuple[float, float]


def grass_color(image_bgr: np.ndarray) -> GrassColor | None:
    """The frame's grass colour (:class:`GrassColor`), or ``None`` without grass.

    From the green pixels (OpenCV hue 25-95, saturation > 40) of the frame subsampled to at
    most 128 px wide: their median Lab colour and their 3rd-97th percentile
    lightness; ``None`` when they cover less than 5 % of the frame.

    >>> img = np.full((90, 160, 3), (40, 120, 50), np.uint8)
    >>> g = grass_color(img)
    >>> g.lab.round(), g.l_range
    (array([114.,  89., 164.], dtype=float32), (114.0, 114.0))
    >>> grass_color(np.zeros((90, 160, 3), np.uint8)) is None
    True
    """
    img = _check_image(image_bgr)
    step = max(1, -(-img.shape[1] // _THUMB_WIDTH))  # subsample: a colour census, not a picture
    img = np.ascontiguousarray(img[step // 2 :: step, step // 2 :: step])
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    green = cv2.inRange(hsv, (_GRASS_HUE[0], 41, 26), (_GRASS_HUE[1], 255, 255))
    count = cv2.countNonZero(green)
    if count < 0.05 * green.size:
        return None
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    # Percentiles from the masked 256-bin histograms of each Lab channel.
    cdf = [np.cumsum(cv2.calcHist([lab], [c], green, [256], [0, 256]).ravel()) for c in range(3)]
    lo, hi = (float(np.searchsorted(cdf[0], q / 100.0 * count)) for q in _GRASS_L_PERCENTILES)
    med = np.array([np.searchsorted(c, 0.5 * count) for c in cdf], np.float32)
    return GrassColor(med, (float(lo), float(hi)))


def _check_image(image: np.ndarray) -> NDArray[np.uint8]:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image (H, W, 3), got {img.dtype} {img.shape}")
    return img


def _resample_boxes(
    img: NDArray[np.uint8], xyxy: NDArray[np.float64]
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """Every box on the grid: pixels ``(n, GRID_H, GRID_W, 3)`` and inside-image mask."""
    n = xyxy.shape[0]
    h, w = img.shape[:2]
    grid = np.zeros((n, GRID_H, GRID_W, 3), np.uint8)
    x1, y1, x2, y2 = xyxy.T
    bw = np.maximum(x2 - x1, 1e-6)
    bh = np.maximum(y2 - y1, 1e-6)
    # The part of each box inside the image, in whole pixels, and where it lands on the grid.
    ix1 = np.clip(np.floor(x1), 0, w).astype(np.int64)
    ix2 = np.clip(np.ceil(x2), 0, w).astype(np.int64)
    iy1 = np.clip(np.floor(y1), 0, h).astype(np.int64)
    iy2 = np.clip(np.ceil(y2), 0, h).astype(np.int64)
    gx1 = np.clip(np.rint((ix1 - x1) / bw * GRID_W), 0, GRID_W).astype(np.int64)
    gx2 = np.clip(np.rint((ix2 - x1) / bw * GRID_W), 0, GRID_W).astype(np.int64)
    gy1 = np.clip(np.rint((iy1 - y1) / bh * GRID_H), 0, GRID_H).astype(np.int64)
    gy2 = np.clip(np.rint((iy2 - y1) / bh * GRID_H), 0, GRID_H).astype(np.int64)
    ok = (ix2 > ix1) & (iy2 > iy1) & (gx2 > gx1) & (gy2 > gy1)
    rows = np.stack([ix1, ix2, iy1, iy2, gx1, gx2, gy1, gy2], axis=1)[ok].tolist()
    for i, (a1, a2, b1, b2, u1, u2, v1, v2) in zip(np.flatnonzero(ok).tolist(), rows, strict=True):
        crop = img[b1:b2, a1:a2]
        if u2 - u1 == GRID_W and v2 - v1 == GRID_H:  # whole box inside: resize in place
            cv2.resize(crop, (GRID_W, GRID_H), dst=grid[i], interpolation=cv2.INTER_AREA)
        else:
            patch = cv2.resize(crop, (u2 - u1, v2 - v1), interpolation=cv2.INTER_AREA)
            grid[i, v1:v2, u1:u2] = patch.reshape(v2 - v1, u2 - u1, 3)
    v = np.arange(GRID_H)[None, :, None]
    u = np.arange(GRID_W)[None, None, :]
    valid = (
        ok[:, None, None]
        & (v >= gy1[:, None, None])
        & (v < gy2[:, None, None])
        & (u >= gx1[:, None, None])
        & (u < gx2[:, None, None])
    )
    return grid, valid


def _similarity(
    lab: tuple[F32, F32, F32],
    ref: tuple[F32 | float, F32 | float, F32 | float],
    sigma_l: float,
    l_range: tuple[float, float] | None = None,
) -> F32:
    """Gaussian similarity of Lab planes ``lab`` to the colour ``ref`` (broadcastable planes);
    lightness differences inside ``l_range`` (when given) count as zero."""
    L, A, B = lab
    if l_range is None:
        dl = L - ref[0]
    else:
        dl = np.maximum(l_range[0] - L, 0.0) + np.maximum(L - l_range[1], 0.0)
    da, db = A - ref[1], B - ref[2]
    q = dl * dl * (1.0 / sigma_l**2) + (da * da + db * db) * (1.0 / _GRASS_SIGMA_AB**2)
    return np.asarray(np.exp(-0.5 * q), np.float32)


def _planes(image: np.ndarray, shape: tuple[int, ...]) -> tuple[F32, F32, F32]:
    """The three channels of an OpenCV image as float32 planes of ``shape``."""
    a, b, c = (np.asarray(p.reshape(shape), np.float32) for p in cv2.split(image))
    return a, b, c


def _ramp(x: F32, lo: float, hi: float) -> F32:
    return np.asarray(np.clip((x - lo) / (hi - lo), 0.0, 1.0), np.float32)


def _pixel_weights(
    lab: tuple[F32, F32, F32],
    valid: F32,
    border: tuple[F32, F32, F32],
    border_ok: F32,
    grass: GrassColor,
) -> tuple[F32, F32]:
    """Vote weights of region pixels and the lightness of the grass behind each box.

    ``lab``/``valid``: the L, a, b planes ``(n, h, w)`` of the region pixels and their
    inside-image mask; ``border``/``border_ok``: the same for the box's outer columns
    ``(n, m)``. A pixel's weight is ``1 -`` its similarity to the frame's grass or to the box's
    own background, when that is grass (the mean of its outer columns' grass-like pixels).
    """
    ref = grass.lab
    sim = _similarity(lab, (ref[0], ref[1], ref[2]), _GRASS_SIGMA_L_FRAME, grass.l_range)
    # The local grass: border pixels weighted by their chromatic closeness to the frame's grass
    # (whatever their lightness: sun and shade), so that limbs and other players count little.
    bl, ba, bb = border
    da, db = ba - ref[1], bb - ref[2]
    wb = np.exp((da * da + db * db) * (-0.5 / _LOCAL_MAX_AB**2)) * border_ok
    total = wb.sum(axis=1)
    norm = 1.0 / np.maximum(total, 1e-6)
    local = [((wb * c).sum(axis=1) * norm)[:, None, None] for c in border]
    near = total > _LOCAL_MIN_SHARE * bl.shape[1]
    if near.any():
        loc = _similarity(
            (lab[0][near], lab[1][near], lab[2][near]),
            (local[0][near], local[1][near], local[2][near]),
            _GRASS_SIGMA_L_LOCAL,
        )
        sim[near] = np.maximum(sim[near], loc)
    bg_l = np.where(near, local[0][:, 0, 0], ref[0]).astype(np.float32)
    return np.asarray(valid * (1.0 - sim), np.float32), bg_l


def appearance_features(
    image_bgr: np.ndarray, xyxy: ArrayLike, *, grass: GrassColor | None = None
) -> F32:
    """Shirt and shorts colour features of boxes: ``(n, FEATURE_DIM)`` float32, unit rows.

    Args:
        image_bgr: the frame, BGR ``uint8`` ``(H, W, 3)``.
        xyxy: ``(n, 4)`` boxes in image pixels; they may extend beyond the image (only pixels
            inside are used) and be tiny.
        grass: the frame's grass colour (:func:`grass_color`); estimated from the frame when
            ``None`` (pass it to save ~0.2 ms when it is already known).

    Returns:
        One row per box, L2-normalised (cosine similarity = dot product); all zeros for a box
        with no pixel inside the image. See the module docstring for the layout.

    >>> img = np.full((60, 80, 3), 255, np.uint8)
    >>> appearance_features(img, np.zeros((0, 4))).shape
    (0, 56)
    >>> f = appearance_features(img, [[10, 10, 20, 40], [-30, -30, -5, -5], [70, 30, 90, 70]])
    >>> np.linalg.norm(f, axis=1).round(3).tolist()
    [1.0, 0.0, 1.0]
    """
    img = _check_image(image_bgr)
    boxes = np.asarray(xyxy, dtype=np.float64)
    if boxes.size == 0:
        return np.zeros((0, FEATURE_DIM), np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"xyxy: expected shape (n, 4), got {boxes.shape}")
    n = boxes.shape[0]
    grid, valid = _resample_boxes(img, boxes)
    r0, r1 = _SHIRT_ROWS[0], _SHORTS_ROWS[1]
    c0, c1 = _COLS
    region = np.ascontiguousarray(grid[:, r0:r1, c0:c1])
    rh, rw = region.shape[1:3]
    flat = region.reshape(n * rh, rw, 3)
    lab = _planes(cv2.cvtColor(flat, cv2.COLOR_BGR2LAB), (n, rh, rw))
    hue, sat, val = _planes(cv2.cvtColor(flat, cv2.COLOR_BGR2HSV), (n, rh, rw))
    weight = valid[:, r0:r1, c0:c1].astype(np.float32)
    bg_l = np.full(n, _DEFAULT_BG_L, np.float32)
    frame_grass = grass_color(img) if grass is None else grass
    if frame_grass is not None:
        cols = np.r_[0:_BORDER, GRID_W - _BORDER : GRID_W]
        border = np.ascontiguousarray(grid[:, :, cols]).reshape(n * GRID_H, cols.size, 3)
        border_lab = _planes(cv2.cvtColor(border, cv2.COLOR_BGR2LAB), (n, -1))
        border_ok = valid[:, :, cols].reshape(n, -1).astype(np.float32)
        weight, bg_l = _pixel_weights(lab, weight, border_lab, border_ok, frame_grass)

    # Soft colour-name binning of every region pixel: up to 4 chromatic + 2 grey entries.
    chroma = _ramp(sat, *_SAT_RAMP) * _ramp(val, *_VAL_RAMP)
    p = hue / (180.0 / _N_HUE) - 0.5
    h0f = np.floor(p)
    fh = p - h0f
    h0 = h0f.astype(np.int64) % _N_HUE
    h1 = (h0 + 1) % _N_HUE
    light = np.asarray(lab[0] / np.maximum(bg_l, 20.0)[:, None, None], np.float32)  # vs grass
    fb = _ramp(light, *_BRIGHT_RAMP)
    step = _GREY_CENTRES[1] - _GREY_CENTRES[0]
    q = np.clip((light - _GREY_CENTRES[0]) / step, 0.0, _N_GREY - 1.0)
    g0 = np.minimum(np.floor(q), _N_GREY - 2).astype(np.int64)
    fg = q - g0

    # Region index per pixel row: 0 shirt, 1 shorts; bin offset of each (box, region).
    part = (np.arange(r0, r1) >= _SHORTS_ROWS[0]).astype(np.int64)[None, :, None]
    base = (np.arange(n)[:, None, None] * 2 + part) * REGION_BINS
    idx = []
    wts = []
    for hb, fw in ((h0, 1.0 - fh), (h1, fh)):
        for level, lw in ((0, 1.0 - fb), (1, fb)):
            idx.append(base + level * _N_HUE + hb)
            wts.append(weight * chroma * fw * lw)
    grey = weight * (1.0 - chroma)
    idx += [base + 2 * _N_HUE + g0, base + 2 * _N_HUE + g0 + 1]
    wts += [grey * (1.0 - fg), grey * fg]
    all_idx = np.concatenate([np.broadcast_to(i, weight.shape).ravel() for i in idx])
    counts = np.bincount(
        all_idx, weights=np.concatenate([w.ravel() for w in wts]), minlength=n * 2 * REGION_BINS
    ).reshape(n, 2, REGION_BINS)

    total = counts.sum(axis=2, keepdims=True)
    hist: NDArray[np.float64] = np.sqrt(counts / np.where(total > 1e-9, total, 1.0))
    hist = hist / np.maximum(np.linalg.norm(hist, axis=2, keepdims=True), 1e-12)
    hist[:, 1] *= SHORTS_WEIGHT
    return normalize_rows(hist.reshape(n, FEATURE_DIM))
