"""Frame-to-frame camera motion and cut detection, to carry a pitch calibration through a video.

A broadcast camera pans, tilts and zooms about a (nearly) fixed centre, so the ground plane moves
between consecutive frames by a homography ``G`` (image -> image). Given the calibration of frame
``k - 1`` (``pitch_to_image`` ``P``), frame ``k`` is calibrated by ``G @ P`` until a cut (a change
of shot) breaks the chain.

* :func:`grass_mask` / :func:`pitch_share`: the pitch-grass pixels of a frame, and their share.
* :class:`CameraMotion`: ``G`` from sparse corners on the grass (grass texture and painted lines,
  not the players, who move on their own), pyramidal Lucas-Kanade with a forward-backward check,
  then a robust (MAGSAC++) homography. Works on a downscaled grey image; ``G`` is returned at the
  input resolution.
* :class:`CutDetector`: streaming shot-change detection from an HSV colour-histogram distance and
  the failure of the motion estimate; also flags frames without pitch (close-ups, crowd).

Conventions: images are BGR ``uint8``; image coordinates are continuous pixels (pixel ``(i, j)``
covers ``[i, i + 1) x [j, j + 1)``), and ``G`` maps them from the previous frame to the current
one (``G[2, 2] == 1``).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> g = (rng.random((90, 160)) * 40).astype(np.uint8)
>>> plate = np.dstack([g + 40, g + 110, g + 30])                 # textured green
>>> plate = np.kron(plate, np.ones((4, 4, 1), np.uint8))         # 640 x 360
>>> moved = np.roll(plate, (3, 5), axis=(0, 1))                  # camera pans: +5 px, +3 px
>>> est = CameraMotion()(plate, moved)
>>> est.G[:2, 2].round(1), est.confidence > 0.8
(array([5., 3.]), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.geometry.homography import apply_homography
from touchline.types import Calibration

__all__ = [
    "CameraMotion",
    "CutCheck",
    "CutDetector",
    "MotionConfig",
    "MotionEstimate",
    "calibration_motion",
    "grass_mask",
    "pitch_share",
]

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

#: Width (px) at which the grass mask is computed (wider inputs are downscaled first).
MASK_WIDTH = 640
#: Widest acceptable hue band (OpenCV hue, 0-180) for grass: yellow-green to blue-green.
_HUE_RANGE = (25, 95)
#: Half-width of the hue band kept around the dominant grass hue.
_HUE_HALF_BAND = 14
_MIN_SAT = 40
_MIN_VAL = 25
#: Connected grass regions smaller than this share of the frame are dropped.
_MIN_REGION = 0.004
_K3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


# ----------------------------------------------------------------------------------------------
# Grass
# ----------------------------------------------------------------------------------------------
def _downscale(image: U8, width: int) -> U8:
    """``image`` resized (area) to ``width`` px wide, or itself when not wider."""
    h, w = image.shape[:2]
    if w <= width:
        return image
    height = max(1, round(h * width / w))
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def _grass_small(small_bgr: U8) -> U8:
    """Grass mask (0/255) of an already small BGR image."""
    hsv = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2HSV)
    lo, hi = _HUE_RANGE
    cand = cv2.inRange(hsv, (lo, _MIN_SAT, _MIN_VAL), (hi, 255, 255))
    if cv2.countNonZero(cand) < 0.01 * cand.size:
        return np.zeros(cand.shape, np.uint8)
    # Adapt to the pitch: keep a band around the dominant hue (lighting and turf vary, but
    # shade and sun change brightness much more than hue).
    hue_hist = cv2.calcHist([hsv], [0], cand, [180], [0, 180]).ravel()
    peak = int(np.argmax(np.convolve(hue_hist, np.ones(5), mode="same")))
    mask = cv2.inRange(
        hsv, (max(lo, peak - _HUE_HALF_BAND), _MIN_SAT, _MIN_VAL), (peak + _HUE_HALF_BAND, 255, 255)
    )
    # Clean up: drop specks (crowd, kits), then put back thin painted lines (whitish pixels in
    # gaps a 3x3 closing fills; not players, which are wider or coloured).
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _K3)
    sat_cdf = np.cumsum(cv2.calcHist([hsv], [1], mask, [256], [0, 256]).ravel())
    s_line = 0.6 * float(np.searchsorted(sat_cdf, 0.5 * sat_cdf[-1])) if sat_cdf[-1] else 0.0
    line = cv2.inRange(hsv, (0, 0, _MIN_VAL), (180, max(0.0, s_line - 1), 255))
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _K3)
    mask = cv2.bitwise_or(mask, cv2.bitwise_and(closed, line))
    # Drop small regions (found at half resolution when the mask is large: it is costly).
    h, w = mask.shape
    coarse = (
        mask if w <= 320 else cv2.resize(mask, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)
    )
    n, labels, stats, _ = cv2.connectedComponentsWithStats(coarse, connectivity=8)
    if n > 1:
        small = stats[1:, cv2.CC_STAT_AREA] < _MIN_REGION * coarse.size
        if small.any():
            lut = np.concatenate([[0], np.where(small, 0, 255)]).astype(np.uint8)
            big = lut[labels]
            if big.shape != mask.shape:
                big = cv2.resize(big, (w, h), interpolation=cv2.INTER_NEAREST)
            mask = cv2.bitwise_and(mask, big)
    return np.asarray(mask, np.uint8)


def grass_mask(image: np.ndarray) -> NDArray[np.bool_]:
    """Pitch-grass pixels of a BGR frame (``(H, W)`` bool), painted lines included.

    Green in HSV within a band around the frame's dominant green hue (robust to sun and shade),
    with specks removed, thin whitish gaps (painted lines) filled and small regions dropped: the
    crowd, most boards and most players are excluded (not kits of the grass's own colour, and not
    shadows). Computed at up to :data:`MASK_WIDTH` px wide and upsampled (about 2-4 ms at 720p).

    >>> import numpy as np
    >>> img = np.zeros((180, 320, 3), np.uint8)
    >>> img[60:] = (40, 140, 50)                  # green pitch below a black stand
    >>> img[100:130, 150:160] = (200, 200, 200)   # a player
    >>> m = grass_mask(img)
    >>> bool(m[150, 10]), bool(m[10, 10]), bool(m[115, 155])
    (True, False, False)
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    small = _grass_small(_downscale(image, MASK_WIDTH))
    if small.shape != (h, w):
        return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)) > 0
    return small > 0


def pitch_share(image: np.ndarray) -> float:
    """Share of the frame covered by pitch grass, in [0, 1] (near 0 for close-ups and crowd).

    >>> import numpy as np
    >>> pitch_share(np.full((90, 160, 3), 128, np.uint8))
    0.0
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    mask = _grass_small(_downscale(image, MASK_WIDTH))
    return float(np.count_nonzero(mask)) / float(mask.size)


# ----------------------------------------------------------------------------------------------
# Camera motion
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MotionConfig:
    """Settings of :class:`CameraMotion` (pixel sizes at the working resolution).

    Args:
        work_width: wider frames are downscaled (area) to this width (px) for tracking.
        max_features: most corners tracked per frame.
        quality: ``goodFeaturesToTrack`` quality level (relative to the strongest corner); low,
            so that grass texture is used and not only lines and players.
        min_distance: minimum distance between corners. Corners are detected at half the
            working resolution (4x cheaper, and tracking does not need them exactly on a corner)
            and tracked at the working resolution; this and ``mask_erode`` are in half-resolution
            pixels.
        mask_erode: the grass mask is eroded by this many pixels so corners do not touch players
            or the pitch edge.
        lk_window: Lucas-Kanade window size.
        lk_levels: pyramid levels above the base.
        fb_threshold: largest forward-backward error kept.
        ransac_threshold: largest reprojection error of a MAGSAC++ inlier.
        min_inliers: fewer inliers than this: no estimate.
        max_shift: largest allowed motion of an image corner, as a share of the image diagonal.
        max_zoom: largest allowed area ratio of the moved image (and of its inverse).
    """

    work_width: int = 640
    max_features: int = 200
    quality: float = 0.001
    min_distance: int = 6
    mask_erode: int = 2
    lk_window: int = 21
    lk_levels: int = 3
    fb_threshold: float = 0.5
    ransac_threshold: float = 1.0
    min_inliers: int = 15
    max_shift: float = 0.35
    max_zoom: float = 1.6

    def __post_init__(self) -> None:
        if self.work_width < 64:
            raise ValueError(f"work_width must be >= 64, got {self.work_width}")
        if self.min_inliers < 4:
            raise ValueError(f"min_inliers must be >= 4, got {self.min_inliers}")


@dataclass(frozen=True)
class MotionEstimate:
    """Camera motion between two frames.

    Attributes:
        G: 3x3 homography mapping continuous pixel coordinates of the previous frame to the
            current one (input resolution, ``G[2, 2] == 1``), or ``None`` when it failed.
        inliers: correspondences agreeing with ``G``.
        tracked: corners that passed the forward-backward check.
        features: corners detected on the previous frame's grass.
        confidence: in [0, 1]: ``inliers / features``, scaled down when there are fewer than
            ``4 * min_inliers`` inliers; 0 when ``G`` is ``None``.
        residual: median inlier reprojection error (input px); ``nan`` without ``G``.
        reason: why ``G`` is ``None`` (empty otherwise).
    """

    G: F64 | None
    inliers: int = 0
    tracked: int = 0
    features: int = 0
    confidence: float = 0.0
    residual: float = math.nan
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether an estimate was made."""
        return self.G is not None


@dataclass
class _Frame:
    """A frame prepared for tracking (working resolution)."""

    size: tuple[int, int]  # input (width, height)
    scale: tuple[float, float]  # working / input, per axis
    grey: U8  # working-resolution grey image
    half: U8  # the grey image at half the working resolution (corner detection)
    small_bgr: U8  # BGR at half the working resolution (grass mask, colour histograms)
    grass: U8  # grass mask at half the working resolution, 0/255
    feature_mask: U8  # eroded grass mask at half the working resolution, 0/255
    _corners: NDArray[np.float32] | None = field(default=None, repr=False)

    @property
    def share(self) -> float:
        return float(np.count_nonzero(self.grass)) / float(self.grass.size)


class CameraMotion:
    """Estimate the image -> image homography ``G`` between consecutive frames.

    Two ways to use it:

    * ``motion(prev_bgr, cur_bgr) -> MotionEstimate``: one pair, no state.
    * ``motion.update(frame_bgr) -> MotionEstimate``: streaming; ``G`` maps the previous frame
      given to ``update`` to this one (the first frame, or one after :meth:`reset`, gives
      ``G=None`` with reason ``"first frame"``). Each frame is prepared once (downscaled, grass-masked), and the last motion
      predicts where corners move (helps with fast pans).

    ``G`` is in continuous pixel coordinates at the input resolution; chain it as
    ``P_k = G_k @ P_{k-1}`` for a ``pitch_to_image`` calibration ``P``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> g = (rng.random((45, 80)) * 50).astype(np.uint8)
    >>> plate = np.kron(np.dstack([g + 30, g + 120, g + 40]), np.ones((8, 8, 1), np.uint8))
    >>> motion = CameraMotion()
    >>> motion.update(plate[:, :600]).reason
    'first frame'
    >>> est = motion.update(plate[:, 4:604])           # the view moves 4 px to the right
    >>> est.G[:2, 2].round(1), est.inliers > 50
    (array([-4.,  0.]), True)
    """

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        c = self.config
        self._win = (c.lk_window, c.lk_window)
        self._criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
        self._erode = (
            cv2.getStructuringElement(cv2.MORPH_RECT, (2 * c.mask_erode + 1, 2 * c.mask_erode + 1))
            if c.mask_erode > 0
            else None
        )
        self._prev: _Frame | None = None
        self._last_G: F64 | None = None
        self.current: _Frame | None = None  # the last frame given to update (for CutDetector)

    # -- public API --------------------------------------------------------------------------
    def __call__(self, prev_bgr: np.ndarray, cur_bgr: np.ndarray) -> MotionEstimate:
        """``G`` from ``prev_bgr`` to ``cur_bgr`` (stateless; see the class docstring)."""
        return self._estimate(self._prepare(prev_bgr), self._prepare(cur_bgr), None)

    def update(self, frame_bgr: np.ndarray) -> MotionEstimate:
        """Motion from the previous frame given to ``update`` to ``frame_bgr``."""
        cur = self._prepare(frame_bgr)
        prev, self._prev, self.current = self._prev, cur, cur
        if prev is None:
            self._last_G = None
            return MotionEstimate(None, reason="first frame")
        if prev.size != cur.size:
            self._last_G = None
            return MotionEstimate(None, reason="frame size changed")
        est = self._estimate(prev, cur, self._last_G)
        self._last_G = est.G
        return est

    def reset(self) -> None:
        """Forget the previous frame (the next :meth:`update` starts a new chain)."""
        self._prev = self.current = None
        self._last_G = None

    # -- internals ---------------------------------------------------------------------------
    def _prepare(self, image: np.ndarray) -> _Frame:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"expected a BGR uint8 image (H, W, 3), got {image.dtype} {image.shape}"
            )
        h, w = image.shape[:2]
        work = _downscale(image, self.config.work_width)
        wh, ww = work.shape[:2]
        grey = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
        half_size = ((ww + 1) // 2, (wh + 1) // 2)
        half = cv2.resize(grey, half_size, interpolation=cv2.INTER_AREA)
        small = np.asarray(cv2.resize(work, half_size, interpolation=cv2.INTER_AREA), np.uint8)
        grass = _grass_small(small)
        fmask = grass if self._erode is None else cv2.erode(grass, self._erode)
        return _Frame(
            size=(w, h),
            scale=(ww / w, wh / h),
            grey=np.asarray(grey, np.uint8),
            half=np.asarray(half, np.uint8),
            small_bgr=small,
            grass=grass,
            feature_mask=np.asarray(fmask, np.uint8),
        )

    def _corners(self, f: _Frame) -> NDArray[np.float32]:
        if f._corners is None:
            c = self.config
            pts = cv2.goodFeaturesToTrack(
                f.half,
                maxCorners=c.max_features,
                qualityLevel=c.quality,
                minDistance=c.min_distance,
                mask=f.feature_mask,
                blockSize=5,
            )
            if pts is None:
                f._corners = np.zeros((0, 1, 2), np.float32)
            else:  # half-resolution cv2 coordinates -> working-resolution cv2 coordinates
                sx = f.grey.shape[1] / f.half.shape[1]
                sy = f.grey.shape[0] / f.half.shape[0]
                p = (pts.reshape(-1, 2) + 0.5) * np.array([sx, sy]) - 0.5
                f._corners = p.astype(np.float32).reshape(-1, 1, 2)
        return f._corners

    def _to_input(self, pts: NDArray[np.float32], f: _Frame) -> F64:
        """cv2 working-resolution points -> continuous input-resolution points."""
        p = pts.reshape(-1, 2).astype(np.float64) + 0.5
        return p / np.array(f.scale)

    def _estimate(self, prev: _Frame, cur: _Frame, guess: F64 | None) -> MotionEstimate:
        c = self.config
        p0 = self._corners(prev)
        n = len(p0)
        if n < c.min_inliers:
            return MotionEstimate(None, features=n, reason="too few corners on grass")
        flags = 0
        p1_init = p0.copy()  # output buffer, or the prediction with OPTFLOW_USE_INITIAL_FLOW
        if guess is not None:
            # Predict with the last motion (constant camera velocity), in working cv2 coords.
            p1_init = self._from_input(apply_homography(guess, self._to_input(p0, prev)), cur)
            flags = cv2.OPTFLOW_USE_INITIAL_FLOW
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(
            prev.grey, cur.grey, p0, p1_init, winSize=self._win, maxLevel=c.lk_levels,
            criteria=self._criteria, flags=flags,
        )  # fmt: skip
        p0b, st2, _ = cv2.calcOpticalFlowPyrLK(
            cur.grey, prev.grey, p1, p0.copy(), winSize=self._win, maxLevel=c.lk_levels,
            criteria=self._criteria, flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
        )  # fmt: skip
        fb = np.linalg.norm((p0 - p0b).reshape(-1, 2), axis=1)
        good = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < c.fb_threshold)
        tracked = int(good.sum())
        if tracked < c.min_inliers:
            return MotionEstimate(None, tracked=tracked, features=n, reason="tracking failed")
        src = self._to_input(p0[good], prev)
        dst = self._to_input(p1[good], cur)
        thr = c.ransac_threshold / min(cur.scale)
        G, inl = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, thr, maxIters=500, confidence=0.995)
        if G is None or inl is None:
            return MotionEstimate(None, tracked=tracked, features=n, reason="no homography")
        inl_b = inl.ravel().astype(bool)
        k = int(inl_b.sum())
        if k < c.min_inliers:
            return MotionEstimate(
                None, inliers=k, tracked=tracked, features=n, reason="too few inliers"
            )
        G = np.asarray(G, np.float64)
        G = G / G[2, 2]
        if not self._plausible(G, cur.size):
            return MotionEstimate(
                None, inliers=k, tracked=tracked, features=n, reason="implausible motion"
            )
        res = float(np.median(np.linalg.norm(apply_homography(G, src[inl_b]) - dst[inl_b], axis=1)))
        conf = (k / n) * min(1.0, k / (4.0 * c.min_inliers))
        return MotionEstimate(G, k, tracked, n, float(np.clip(conf, 0.0, 1.0)), res)

    @staticmethod
    def _from_input(p: F64, f: _Frame) -> NDArray[np.float32]:
        return (p * np.array(f.scale) - 0.5).astype(np.float32).reshape(-1, 1, 2)

    def _plausible(self, G: F64, size: tuple[int, int]) -> bool:
        w, h = size
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        q = apply_homography(G, corners)
        if not np.isfinite(q).all():
            return False
        if np.linalg.norm(q - corners, axis=1).max() > self.config.max_shift * math.hypot(w, h):
            return False
        d1, d2 = q[2] - q[0], q[3] - q[1]
        area = 0.5 * abs(d1[0] * d2[1] - d1[1] * d2[0])
        ratio = area / (w * h)
        z = self.config.max_zoom
        if not 1 / z < ratio < z:
            return False
        # The moved image must stay a convex quadrilateral with the same orientation.
        e = np.roll(q, -1, axis=0) - q
        turns = e[:, 0] * np.roll(e, -1, axis=0)[:, 1] - e[:, 1] * np.roll(e, -1, axis=0)[:, 0]
        return bool((turns > 0).all())


def calibration_motion(previous: Calibration | None, current: Calibration | None) -> F64 | None:
    """The image motion two calibrations imply: the homography taking the previous frame's
    pixels to the current frame's through the pitch plane, or ``None`` unless both are valid,
    of the same image size, and their composition is finite.

    >>> from touchline.types import Calibration
    >>> a = Calibration(np.diag([0.1, 0.1, 1.0]))
    >>> b = Calibration(np.array([[0.1, 0, -1.0], [0, 0.1, 0], [0, 0, 1]]))  # panned 10 px
    >>> calibration_motion(a, b).round(3).tolist()
    [[1.0, 0.0, 10.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if previous is None or current is None or not (previous.is_valid and current.is_valid):
        return None
    sizes = previous.image_size, current.image_size
    if sizes[0] is not None and sizes[1] is not None and sizes[0] != sizes[1]:
        return None
    to_image = current.pitch_to_image_matrix
    if previous.homography is None or to_image is None:
        return None
    G = np.asarray(to_image @ previous.homography, np.float64)
    return G if np.isfinite(G).all() else None


# ----------------------------------------------------------------------------------------------
# Cuts
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CutCheck:
    """What :meth:`CutDetector.update` saw on a frame.

    Attributes:
        cut: a shot change between the previous frame and this one.
        hist_distance: Bhattacharyya distance of the HSV colour histograms (0 same, 1 disjoint).
        motion: the camera motion from the previous frame.
        pitch_share: share of this frame covered by grass (from the tracker's half-resolution
            mask, so it can differ slightly from :func:`pitch_share`).
        no_pitch: the grass share is below ``CutDetector.min_pitch_share``.
    """

    cut: bool
    hist_distance: float
    motion: MotionEstimate
    pitch_share: float
    no_pitch: bool


class CutDetector:
    """Streaming shot-change detector: ``update(frame_bgr) -> bool`` (``True`` on a cut).

    A frame is a cut when the colour histograms jump (``hist_distance >= hard_distance``), or
    when the camera motion from the previous frame fails (no ``G`` or ``confidence <
    min_confidence``) while either the histograms moved (``>= soft_distance``) or both frames
    show the pitch (continuous pans and zooms keep most grass corners trackable; a new view of a
    similar-looking pitch does not). Without pitch in either frame, only the histogram decides.
    A change of frame size is a cut; the first frame is not.

    Thresholds: on continuous footage the distance stays small (at most 0.06 on synthetic pans and
    zooms, 0.11 on a real broadcast clip, where the score overlay appears); hard cuts between
    two different broadcasts measured 0.56-0.92. The motion of continuous footage has confidence
    0.5-1 (0.47 at worst on the real clip); across a cut tracking fails outright. :attr:`last` keeps the details, including the motion ``G``
    (so a pipeline needs no second :class:`CameraMotion`).

    Args:
        motion: the motion estimator to use (a new :class:`CameraMotion` by default).
        hard_distance: histogram distance that is a cut on its own.
        soft_distance: histogram distance that is a cut when the motion also fails.
        min_confidence: motion confidence below which the motion counts as failed.
        min_pitch_share: grass share below which a frame is flagged ``no_pitch``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> g = (rng.random((45, 80)) * 50).astype(np.uint8)
    >>> plate = np.kron(np.dstack([g + 30, g + 120, g + 40]), np.ones((8, 8, 1), np.uint8))
    >>> crowd = np.kron(rng.integers(0, 255, (45, 80, 3), dtype=np.uint8), np.ones((8, 8, 1),
    ...                 np.uint8))
    >>> det = CutDetector()
    >>> [det.update(f) for f in (plate[:, :600], plate[:, 3:603], crowd[:, :600])]
    [False, False, True]
    >>> det.last.no_pitch
    True
    """

    def __init__(
        self,
        motion: CameraMotion | None = None,
        *,
        hard_distance: float = 0.5,
        soft_distance: float = 0.2,
        min_confidence: float = 0.25,
        min_pitch_share: float = 0.1,
    ) -> None:
        self.motion = motion or CameraMotion()
        self.hard_distance = hard_distance
        self.soft_distance = soft_distance
        self.min_confidence = min_confidence
        self.min_pitch_share = min_pitch_share
        self._prev_hist: NDArray[np.float32] | None = None
        self._prev_share = 0.0
        self.last: CutCheck | None = None

    def reset(self) -> None:
        """Forget the previous frame."""
        self.motion.reset()
        self._prev_hist = None
        self.last = None

    def update(self, frame_bgr: np.ndarray) -> bool:
        """Whether ``frame_bgr`` starts a new shot (details in :attr:`last`)."""
        est = self.motion.update(frame_bgr)
        f = self.motion.current
        assert f is not None
        hsv = cv2.cvtColor(f.small_bgr, cv2.COLOR_BGR2HSV)
        hist = np.asarray(cv2.calcHist([hsv], [0, 1], None, [30, 16], [0, 180, 0, 256]), np.float32)
        cv2.normalize(hist, hist, 1.0, 0.0, cv2.NORM_L1)
        share = f.share
        if self._prev_hist is None:
            d, cut = 0.0, False
        else:
            d = float(cv2.compareHist(self._prev_hist, hist, cv2.HISTCMP_BHATTACHARYYA))
            failed = est.G is None or est.confidence < self.min_confidence
            both_pitch = min(share, self._prev_share) >= self.min_pitch_share
            cut = (
                d >= self.hard_distance
                or (failed and (d >= self.soft_distance or both_pitch))
                or est.reason == "frame size changed"
            )
        self._prev_hist, self._prev_share = hist, share
        self.last = CutCheck(cut, d, est, share, share < self.min_pitch_share)
        return cut
