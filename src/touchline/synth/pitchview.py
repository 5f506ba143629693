"""Fast, heavily randomised synthetic broadcast views of a pitch, for calibration training.

One call renders what a broadcast camera with a given image -> pitch homography would see: grass
of any colour, mowing pattern, wear and lighting; the painted lines exactly where the homography
puts them (analytic, footprint anti-aliased, so they can serve as labels); advertising boards,
stands (real crops when :class:`ViewAssets` are given), goals, real player crops with shadows,
broadcast graphics, and camera/codec artefacts. Every factor is drawn from the ``rng`` argument,
so a seed reproduces a view; a 640x360 view takes about 15 ms of one core.

* :func:`sample_view`: a random broadcast camera (main, high, low, tactical, behind a goal)
  started from real broadcast poses (:func:`touchline.synth.camera.load_broadcast_poses`) or the
  built-in ones; returns the output px -> pitch metres homography.
* :func:`render_view`: the BGR image of that view.
* :func:`load_view_assets`: real stands, player crops and score bugs cut from the shared
  training splits only (:data:`touchline.data.CALIBRATION_TRAINING_SETS` and
  ``detection/dfl/train``).
* :func:`view_line_coverage`: the painted-line coverage the renderer uses (a label map).

Image coordinates are continuous: pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)`` and its
centre is ``(i + 0.5, j + 0.5)``; homographies map those coordinates to touchline pitch metres
(``x`` along the touchline from the left goal line, ``y`` from the far touchline).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> H = sample_view(rng, (320, 180))
>>> img = render_view(H, (320, 180), rng)
>>> img.shape, img.dtype.name
((180, 320, 3), 'uint8')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.geometry.camera import camera_from_homography
from touchline.geometry.homography import apply_homography, normalise_homography, plausibility
from touchline.pitch import Pitch, distance_image_coverage
from touchline.synth.camera import CameraPose, PinholeCamera, builtin_poses
from touchline.synth.figures import FigurePose, draw_figure
from touchline.synth.scene import Kit

if TYPE_CHECKING:
    from touchline.datasets.yolo_pose import KeypointSample

__all__ = [
    "ViewAssets",
    "ViewStyle",
    "load_view_assets",
    "render_view",
    "sample_view",
    "view_line_coverage",
]

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
Crop = tuple[U8, F32]

# Pitch-space rasters.
_DIST_PPM = 20.0  # texels per metre of the line distance field (5 cm)
_DIST_MARGIN = 3.0  # metres of field around the pitch
_DIST_CAP = 2.0  # distances beyond this are reported as this
_GROUND_MPT = 0.5  # metres per texel of the per-view ground colour raster
_GROUND_MARGIN = 24.0
_HALF = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])  # cv2 px -> continuous
_SOURCE_WIDTH = 640  # asset crops are stored at the scale of 640 px wide frames
_WARP = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ViewAssets:
    """Real image material for :func:`render_view` (all at the scale of 640 px wide frames).

    Attributes:
        backgrounds: BGR crops of what lies beyond the far touchline (boards, stands, crowd),
            rectified so that their bottom row is where the boards meet the ground.
        occluders: ``(BGR crop, alpha float32 in [0, 1])`` of real players, goalkeepers,
            referees and balls.
        overlays: ``(BGR, alpha)`` broadcast graphics (score bugs, logos).
        background_ppm: pixels per metre (along the boards) at each background's bottom row.
        background_sources: the frame each background was cut from (relative to the data root).
        occluder_classes: class of each occluder: 0 ball, 1 goalkeeper, 2 player, 3 referee.

    >>> ViewAssets.empty().backgrounds
    []
    """

    backgrounds: list[U8] = field(default_factory=list)
    occluders: list[Crop] = field(default_factory=list)
    overlays: list[Crop] = field(default_factory=list)
    background_ppm: list[float] = field(default_factory=list)
    background_sources: list[str] = field(default_factory=list)
    occluder_classes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.backgrounds)
        if len(self.background_ppm) != n or len(self.background_sources) != n:
            raise DataError("ViewAssets: one ppm and one source per background")
        if len(self.occluder_classes) != len(self.occluders):
            raise DataError("ViewAssets: one class per occluder")

    @classmethod
    def empty(cls) -> ViewAssets:
        """No real material: everything is synthetic."""
        return cls()


def _u8(a: object) -> U8:
    return np.asarray(a, np.uint8)


def _f32(a: object) -> F32:
    return np.asarray(a, np.float32)


def _fit_frame(path: Path, size: tuple[int, int]) -> U8 | None:
    """Read an image (any stretch) resized to ``size``; None when it cannot be decoded."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return None
    return np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8)


def _pitch_grid(H: F64, size: tuple[int, int]) -> tuple[F64, F64, NDArray[np.bool_]]:
    """Pitch coordinates of every pixel centre and whether its ray meets the ground in front."""
    w, h = size
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    q = np.stack([u, v, np.ones_like(u)], -1) @ H.T
    ref = float((H @ np.array([w / 2, h, 1.0]))[2])
    front = q[..., 2] * np.sign(ref) > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        X, Y = q[..., 0] / q[..., 2], q[..., 1] / q[..., 2]
    return X, Y, front


def _cut_background(
    img: U8, H: F64, pitch: Pitch, avoid: Sequence[tuple[int, int, int, int]] = ()
) -> tuple[U8, float] | None:
    """The part of a frame beyond the pitch edge, rectified column by column, and its scale.

    Per column, the cut starts where the ground leaves the pitch (+1 m) and moves up past the
    remaining grass to the foot of the boards; the crop is the band above it (its height is the
    lowest cut). Columns under a censor box (the black rectangles of the DFL frames) or without
    pitch are dropped, and so are the columns of the ``avoid`` boxes ``(x0, y0, x1, y1)``
    (broadcast graphics); None when less than 40 % of the width or 40 px of height remain.
    """
    from touchline.calib.motion import grass_mask

    h, w = img.shape[:2]
    gx, gy, front = _pitch_grid(H, (w, h))
    m = 1.0
    inside = front & (gx > -m) & (gx < pitch.length + m) & (gy > -m) & (gy < pitch.width + m)
    has = inside.any(axis=0)
    top = np.where(has, np.argmax(inside, axis=0), 0)
    # Metres per pixel along the image rows at the cut (for the scale and the grass skip).
    cols = np.arange(w)
    row = np.clip(top, 0, h - 2)
    nxt = np.minimum(cols + 1, w - 1)
    dx = np.hypot(gx[row, nxt] - gx[row, cols], gy[row, nxt] - gy[row, cols])
    ppm = 1.0 / np.maximum(np.nan_to_num(dx, nan=1e3), 1e-3)
    grass = grass_mask(img)
    rows = np.arange(h)[:, None]
    non_grass = ~grass & (rows < top[None, :])
    lowest = np.where(non_grass.any(axis=0), h - 1 - np.argmax(non_grass[::-1], axis=0), 0)
    cut = np.maximum(lowest + 1, top - (6.0 * ppm).astype(int))
    # Robust across columns (players stand in the margin).
    pad = np.pad(cut.astype(np.float64), 15, mode="edge")
    cut = np.median(np.lib.stride_tricks.sliding_window_view(pad, 31), axis=1).astype(int)
    black = img.max(axis=2) < 16
    frac = (black & (rows < cut[None, :])).sum(axis=0) / np.maximum(cut, 1)
    bad = frac > 0.15
    for x0, _, x1, _ in avoid:
        bad[max(0, x0) : max(0, x1)] = True
    bad = np.convolve(bad.astype(float), np.ones(13), mode="same") > 0
    good = has & ~bad & (cut >= 40)
    # Longest run of good columns.
    best, start = (0, 0), None
    for i, g in enumerate(np.append(good, False)):
        if g and start is None:
            start = i
        elif not g and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    a, b = best
    if b - a < 0.4 * w:
        return None
    hc = int(cut[a:b].min())
    if hc < 40:
        return None
    map_x = np.broadcast_to(np.arange(a, b, dtype=np.float32)[None, :], (hc, b - a))
    map_y = (cut[None, a:b] - hc + np.arange(hc)[:, None]).astype(np.float32)
    crop = cv2.remap(img, np.ascontiguousarray(map_x), map_y, cv2.INTER_NEAREST)
    return np.asarray(crop, np.uint8), float(np.median(ppm[a:b]))


def _label_homography(sample: KeypointSample, pitch: Pitch, size: tuple[int, int]) -> F64 | None:
    """Image (``size``) -> pitch homography of a labelled frame, None when unreliable."""
    from touchline.datasets.yolo_pose import fit_label_homography, fix_near_far

    label, _ = fix_near_far(sample.label, pitch)
    H = fit_label_homography(label, pitch)
    if H is None or plausibility(H, label.frame_size):
        return None
    vis = label.visible
    back = apply_homography(np.linalg.inv(H), label.pitch_points(pitch)[vis])
    if float(np.median(np.linalg.norm(back - label.points[vis], axis=1))) > 15.0:
        return None  # the few frames whose labels disagree (46-88 px residuals)
    fw, fh = label.frame_size
    return H @ np.diag([fw / size[0], fh / size[1], 1.0])


def _static_overlays(files: Sequence[Path]) -> list[tuple[U8, F32, tuple[int, int, int, int]]]:
    """Graphics that stay put while the camera moves: the top band's static components, as
    ``(BGR, alpha, box)`` with the box in the pixels of 640 x 360 frames."""
    frames = [f for f in (_fit_frame(p, (640, 360)) for p in files) if f is not None]
    if len(frames) < 8:
        return []
    band = np.stack([f[:90] for f in frames]).astype(np.float32)
    med = np.median(band, axis=0)
    dev = np.percentile(np.abs(band - med).max(axis=3), 75, axis=0)
    static = np.where(dev < 14, 255, 0).astype(np.uint8)
    static = _u8(cv2.morphologyEx(static, cv2.MORPH_CLOSE, np.ones((5, 9), np.uint8)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(static)
    out = []
    for x, y, bw, bh, area in stats[1:n]:
        if area < 400 or bw < 40 or bh < 8 or bw > 400:
            continue
        x0, y0 = max(0, int(x) - 2), max(0, int(y) - 2)
        x1, y1 = min(640, int(x + bw) + 2), min(90, int(y + bh) + 2)
        alpha = cv2.GaussianBlur(static[y0:y1, x0:x1].astype(np.float32) / 255, (0, 0), 0.7)
        crop = np.clip(med[y0:y1, x0:x1], 0, 255).astype(np.uint8)
        out.append((crop, np.asarray(alpha, np.float32), (x0, y0, x1, y1)))
    return out


@lru_cache(maxsize=256)
def _box_prior(h: int, w: int) -> F32:
    """A soft ellipse filling a box: where a person in a detection box can be."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h * 2 - 1
    x = (np.arange(w, dtype=np.float32) + 0.5) / w * 2 - 1
    r2 = x[None, :] ** 2 / 1.1 + y[:, None] ** 2 / 1.25
    return np.clip((1.0 - r2) * 4.0, 0.0, 1.0).astype(np.float32)


def load_view_assets(
    data_root: str | Path,
    *,
    exclude: Sequence[str] = (),
    max_backgrounds: int = 96,
    max_occluders: int = 3000,
    seed: int = 0,
) -> ViewAssets:
    """Real stands, player crops and score bugs for :func:`render_view`.

    Backgrounds are cut (with each frame's labelled homography) from the sets of
    :data:`touchline.data.CALIBRATION_TRAINING_SETS` under ``pitch_keypoints``; occluders are the
    boxes of ``detection/dfl/train`` (alpha: not grass inside the box, softened); overlays are
    the static score bugs of the World Cup matches among those sets. Only training splits are
    read; ``exclude`` drops sources whose path contains one of the strings. Takes a few
    seconds.

    Raises:
        DataError: ``data_root`` holds none of the sources.

    >>> from touchline.data import shared_data_dir
    >>> root = shared_data_dir()
    >>> assets = load_view_assets(root, max_backgrounds=3, max_occluders=20) if root else None
    >>> assets is None or (len(assets.backgrounds) <= 3 and len(assets.occluders) <= 20)
    True
    """
    from touchline.calib.motion import grass_mask
    from touchline.data import CALIBRATION_TRAINING_SETS
    from touchline.datasets.detection import read_yolo_split
    from touchline.datasets.yolo_pose import read_split

    root = Path(data_root)
    rng = np.random.default_rng(seed)
    pitch = Pitch()
    size = (_SOURCE_WIDTH, _SOURCE_WIDTH * 9 // 16)

    def allowed(p: Path) -> bool:
        """Not excluded by the caller (the sources are training sets already)."""
        rel = p.relative_to(root)
        return not any(e in rel.as_posix() for e in exclude)

    sources = [root / "pitch_keypoints" / s for s in CALIBRATION_TRAINING_SETS]
    sources = [s for s in sources if (s / "images").is_dir() and allowed(s)]
    overlays: list[Crop] = []
    avoid: dict[Path, list[tuple[int, int, int, int]]] = {}
    for folder in sources:
        if folder.parent.name == "wc2022":  # broadcast graphics that stay put over a match
            found = _static_overlays(sorted((folder / "images").glob("*.jpg")))
            overlays += [(c, a) for c, a, _ in found]
            avoid[folder] = [b for _, _, b in found]
    backgrounds: list[U8] = []
    ppms: list[float] = []
    names: list[str] = []
    quota = math.ceil(max_backgrounds / max(1, len(sources)))
    for src in sources:
        samples = read_split(src)
        kept = 0
        for k in rng.permutation(len(samples)):
            if kept >= quota or len(backgrounds) >= max_backgrounds:
                break
            s = samples[int(k)]
            if not allowed(s.image):
                continue
            H = _label_homography(s, pitch, size)
            if H is None:
                continue
            img = _fit_frame(s.image, size)
            if img is None:
                continue
            cut = _cut_background(img, H, pitch, avoid.get(src, []))
            if cut is None:
                continue
            backgrounds.append(cut[0])
            ppms.append(cut[1])
            names.append(s.image.relative_to(root).as_posix())
            kept += 1
    occluders: list[Crop] = []
    classes: list[int] = []
    det = root / "detection" / "dfl" / "train"
    if (det / "images").is_dir() and allowed(det) and max_occluders > 0:
        samples_d = read_yolo_split(det, frame_size=size)
        n_boxes = sum(len(sd.detections.xyxy) for sd in samples_d)
        keep_p = min(1.0, max_occluders / max(1, n_boxes))
        for sd in samples_d:
            d = sd.detections
            if len(d.xyxy) == 0 or len(occluders) >= max_occluders:
                continue
            pick = rng.random(len(d.xyxy)) < keep_p
            if not pick.any():
                continue
            raw = cv2.imread(str(sd.image), cv2.IMREAD_REDUCED_COLOR_2)
            if raw is None:
                continue
            img = _u8(cv2.resize(raw, size, interpolation=cv2.INTER_AREA))
            notgrass = (~grass_mask(img)).astype(np.float32)
            cids = np.full(len(d.xyxy), 2) if d.class_id is None else np.asarray(d.class_id)
            for box, cid in zip(d.xyxy[pick], cids[pick], strict=True):
                x0, y0 = max(0, int(box[0]) - 1), max(0, int(box[1]) - 1)
                x1, y1 = min(size[0], math.ceil(box[2]) + 1), min(size[1], int(box[3]) + 2)
                if x1 - x0 < 2 or y1 - y0 < 3:
                    continue
                a = notgrass[y0:y1, x0:x1] * _box_prior(y1 - y0, x1 - x0)
                share = float(a.mean())
                if not 0.12 < share < 0.7:  # nothing found, or mostly background
                    continue
                a = _f32(cv2.GaussianBlur(a, (0, 0), 0.6))
                occluders.append((img[y0:y1, x0:x1].copy(), np.asarray(a, np.float32)))
                classes.append(int(cid))
                if len(occluders) >= max_occluders:
                    break
    if not backgrounds and not occluders and not overlays:
        raise DataError(
            f"{root}: none of the view-asset sources found (pitch_keypoints, detection)"
        )
    return ViewAssets(backgrounds, occluders, overlays, ppms, names, classes)


# --------------------------------------------------------------------------------------------
# Cached rasters (built once, deterministic)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _line_field(pitch: Pitch) -> NDArray[np.uint16]:
    """Distance (mm, uint16) to the nearest painted line centre over the pitch + margin, in
    5 cm texels (half the memory and twice the warp speed of float32; 1 mm steps)."""
    shape = (
        round((pitch.width + 2 * _DIST_MARGIN) * _DIST_PPM),
        round((pitch.length + 2 * _DIST_MARGIN) * _DIST_PPM),
    )
    d = pitch.paint_distance_grid((-_DIST_MARGIN, -_DIST_MARGIN), _DIST_PPM, shape, _DIST_CAP)
    return np.round(d * 1000).astype(np.uint16)


@lru_cache(maxsize=4)
def _ground_grid(pitch: Pitch) -> tuple[F32, F32]:
    """Pitch metres (X, Y) of the ground raster's texel centres, each (gh, gw)."""
    xs = (
        -_GROUND_MARGIN
        + (np.arange(round((pitch.length + 2 * _GROUND_MARGIN) / _GROUND_MPT)) + 0.5) * _GROUND_MPT
    )
    ys = (
        -_GROUND_MARGIN
        + (np.arange(round((pitch.width + 2 * _GROUND_MARGIN) / _GROUND_MPT)) + 0.5) * _GROUND_MPT
    )
    X, Y = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    return X, Y


def _periodic_noise(rng: np.random.Generator, n: int, feature: float) -> F32:
    """Periodic Gaussian noise (n x n), correlation length ``feature`` texels, unit std."""
    f = np.fft.fftfreq(n)
    k2 = f[:, None] ** 2 + f[None, :] ** 2
    spec = np.fft.fft2(rng.normal(0, 1, (n, n))) * np.exp(-k2 * (math.pi * feature) ** 2)
    out = np.real(np.fft.ifft2(spec))
    return ((out - out.mean()) / (out.std() + 1e-9)).astype(np.float32)


@lru_cache(maxsize=1)
def _noise_bank() -> tuple[F32, F32]:
    """(low: 512^2 periodic, ~12 texel features; mid: 512^2, ~3 texels)."""
    rng = np.random.default_rng(20240611)
    return _periodic_noise(rng, 512, 12.0), _periodic_noise(rng, 512, 3.0)


@lru_cache(maxsize=1)
def _fine_texture() -> U8:
    """Grass-blade noise, 2048^2 uint8 (128 + 32 x unit noise; a 1024^2 periodic tile)."""
    n = _periodic_noise(np.random.default_rng(20240612), 1024, 0.7)
    return np.clip(np.round(128 + 32 * np.tile(n, (2, 2))), 0, 255).astype(np.uint8)


_WORDS = (
    "TOUCHLINE", "VOLTA", "KICKOFF", "GOLAZO", "AIRLINE", "BANK", "MOTORS", "BET",
    "ENERGY", "COLA", "PAY", "CRYPTO", "TELECOM", "TYRES", "BEER", "SPORT", "STADIA",
    "OFFSIDE", "NORD", "ZENITH", "FLY", "HOTEL", "CAR", "LIVE", "MEDIA", "INSURE",
)  # fmt: skip


@lru_cache(maxsize=1)
def _panel_bank() -> list[U8]:
    """Advertising panels 32 px high: coloured boards with brand-like lettering."""
    rng = np.random.default_rng(7)
    out = []
    for _ in range(64):
        h = 32
        w = int(rng.integers(90, 320))
        kind = rng.random()
        if kind < 0.25:
            bg = np.array([255, 255, 255]) * rng.uniform(0.85, 1.0)
        elif kind < 0.4:
            bg = np.array([20, 20, 20]) + rng.integers(0, 30, 3)
        else:
            bg = _hsv_bgr(
                float(rng.integers(0, 180)), rng.uniform(0.6, 1.0), rng.uniform(0.47, 1.0)
            ).astype(float)
        img = np.empty((h, w, 3), np.uint8)
        img[:] = np.clip(bg, 0, 255).astype(np.uint8)
        if rng.random() < 0.3:  # a second colour block or stripe
            x0 = int(rng.integers(0, w // 2))
            col = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.rectangle(img, (x0, 0), (x0 + int(rng.integers(10, w // 2 + 11)), h), col, -1)
        fg = (255, 255, 255) if float(np.mean(bg)) < 140 else (int(rng.integers(0, 60)),) * 3
        if rng.random() < 0.4:
            fg = (int(rng.integers(256)), int(rng.integers(256)), int(rng.integers(256)))
        word = str(rng.choice(_WORDS))
        if rng.random() < 0.3:
            word += f" {rng.integers(1, 99)}"
        font = int(
            rng.choice(
                [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX]
            )
        )
        scale = rng.uniform(0.6, 1.0)
        (tw, th), _ = cv2.getTextSize(word, font, scale, 2)
        if tw > w - 4:
            scale *= (w - 4) / tw
            (tw, th), _ = cv2.getTextSize(word, font, scale, 2)
        cv2.putText(img, word, ((w - tw) // 2, (h + th) // 2), font, scale, fg, 2, cv2.LINE_AA)
        out.append(img)
    return out


@lru_cache(maxsize=1)
def _crowd_bank() -> list[U8]:
    """Synthetic stands (seat rows with spectators), 16 texels per metre, 4 variants."""
    rng = np.random.default_rng(11)
    out = []
    for _ in range(4):
        cw, ch = 96, 22  # cells of 8 x 12 texels: 0.5 m x 0.75 m
        seat = rng.integers(20, 160, 3).astype(np.float32)
        shirts = rng.integers(10, 245, (ch, cw, 3)).astype(np.float32)
        grey = shirts.mean(axis=2, keepdims=True)
        shirts = grey + (shirts - grey) * 0.45  # real crowds are mostly dull
        fans = rng.random((ch, cw)) < rng.uniform(0.2, 0.6)
        shirts[fans] = rng.integers(0, 255, 3) + rng.normal(0, 20, (int(fans.sum()), 3))
        skin = np.array([[140, 170, 215], [90, 120, 170], [60, 80, 120]], np.float32)[
            rng.integers(0, 3, (ch, cw))
        ]
        filled = (rng.random((ch, cw)) < rng.uniform(0.6, 0.98)).astype(np.float32)[..., None]
        yy, xx = np.mgrid[0:12, 0:8]
        head = (((xx - 3.5) / 2.0) ** 2 + ((yy - 2.5) / 2.0) ** 2 <= 1).astype(np.float32)
        body = ((yy >= 5) & (np.abs(xx - 3.5) <= 1.5 + (yy - 5) * 0.35)).astype(np.float32)

        def up(a: np.ndarray) -> np.ndarray:
            return np.repeat(np.repeat(a, 12, axis=0), 8, axis=1)

        mh = np.tile(head, (ch, cw))[..., None] * up(filled)
        mb = np.tile(body, (ch, cw))[..., None] * up(filled)
        img = seat * 0.8 * (1 - mh - mb) + up(shirts) * mb + up(skin) * mh
        img[np.arange(ch * 12) % 12 == 11] *= 0.45
        out.append(np.clip(cv2.GaussianBlur(img, (0, 0), 0.7), 0, 255).astype(np.uint8))
    return out


@lru_cache(maxsize=8)
def _radius2(size: tuple[int, int]) -> F32:
    """Squared distance from the image centre, 1 at the corners (for vignetting)."""
    w, h = size
    x = (np.arange(w, dtype=np.float32) + 0.5 - w / 2) / (w / 2)
    y = (np.arange(h, dtype=np.float32) + 0.5 - h / 2) / (h / 2)
    return np.ascontiguousarray(
        (x[None, :] ** 2 * 0.78 + y[:, None] ** 2 * 0.22).astype(np.float32)
    )


@lru_cache(maxsize=8)
def _noise_frame(size: tuple[int, int]) -> U8:
    """Sensor noise: 128 + 16 x standard normal (uint8), 32 px larger than the frame."""
    w, h = size
    rng = np.random.default_rng(5)
    return np.clip(np.round(128 + rng.normal(0, 16, (h + 32, w + 32, 3))), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------
def _oriented(H: np.ndarray, size: tuple[int, int]) -> F64:
    """``H`` scaled so that rays meeting the ground in front have a positive third coordinate."""
    Hn = normalise_homography(np.asarray(H, np.float64))
    w, h = size
    if (Hn @ np.array([w / 2, h, 1.0]))[2] < 0:
        Hn = -Hn
    return Hn


def _tex(ox: float, oy: float, texels_per_m: float) -> F64:
    """Pitch metres -> cv2 texel index of a raster whose corner (0, 0) is at ``(ox, oy)``."""
    s = texels_per_m
    return np.array([[s, 0, -ox * s - 0.5], [0, s, -oy * s - 0.5], [0, 0, 1.0]])


@dataclass(frozen=True)
class _Fields:
    """Per-pixel geometry of a view: pitch coordinates, horizon side and pixel footprints."""

    X: F32  # pitch metres of each pixel centre (1e6 above the horizon)
    Y: F32
    front: NDArray[np.bool_]  # the ray meets the ground in front of the camera
    smax: F32  # largest singular value of d(pitch)/d(pixel): metres per pixel, worst direction
    sdet: F32  # sqrt |det|: metres per pixel, geometric mean
    coarse: tuple[F64, F64, F64, F64]  # the Jacobian entries on the coarse grid (xu, xv, yu, yv)


def _coarse_jacobian(H: F64, size: tuple[int, int], step: int = 8) -> tuple[F64, F64, F64, F64]:
    """d(pitch)/d(pixel) on a grid every ``step`` pixels (huge above the horizon)."""
    w, h = size
    u = np.linspace(0.5, w - 0.5, max(2, w // step + 1))
    v = np.linspace(0.5, h - 0.5, max(2, h // step + 1))
    uu, vv = np.meshgrid(u, v)
    q = np.stack([uu, vv, np.ones_like(uu)], -1) @ H.T
    ok = q[..., 2] > 1e-9
    ws = np.where(ok, q[..., 2], 1.0)
    X, Y = q[..., 0] / ws, q[..., 1] / ws
    big = 1e3
    return (
        np.where(ok, (H[0, 0] - X * H[2, 0]) / ws, big),
        np.where(ok, (H[0, 1] - X * H[2, 1]) / ws, big),
        np.where(ok, (H[1, 0] - Y * H[2, 0]) / ws, big),
        np.where(ok, (H[1, 1] - Y * H[2, 1]) / ws, big),
    )


def _up(a: np.ndarray, size: tuple[int, int]) -> F32:
    """A coarse grid field resized to the full frame (linear)."""
    return np.asarray(
        cv2.resize(np.asarray(a, np.float32), size, interpolation=cv2.INTER_LINEAR), np.float32
    )


@lru_cache(maxsize=8)
def _pixel_grid(size: tuple[int, int]) -> tuple[F32, F32]:
    """Pixel-centre coordinates (U, V), contiguous float32 (h, w) each."""
    w, h = size
    U, V = np.meshgrid(np.arange(w, dtype=np.float32) + 0.5, np.arange(h, dtype=np.float32) + 0.5)
    return np.ascontiguousarray(U), np.ascontiguousarray(V)


def _fields(H: F64, size: tuple[int, int]) -> _Fields:
    U, V = _pixel_grid(size)
    h = [np.float32(x) for x in H.ravel()]
    wq = h[6] * U + h[7] * V + h[8]
    front = wq > 1e-9
    iw = np.float32(1.0) / np.where(front, wq, np.float32(1e-6))
    X = _f32((h[0] * U + h[1] * V + h[2]) * iw)
    Y = _f32((h[3] * U + h[4] * V + h[5]) * iw)
    X[~front] = 1e6
    Y[~front] = 1e6
    xu, xv, yu, yv = _coarse_jacobian(H, size)
    a = xu**2 + xv**2 + yu**2 + yv**2
    det = np.abs(xu * yv - xv * yu)
    smax = np.sqrt((a + np.sqrt(np.maximum(a * a - 4 * det * det, 0))) / 2)
    return _Fields(X, Y, front, _up(smax, size), _up(np.sqrt(det), size), (xu, xv, yu, yv))


def _camera(H: F64, size: tuple[int, int]) -> PinholeCamera | None:
    """The pinhole camera of a view, or None when the homography is not one."""
    try:
        cam = camera_from_homography(np.linalg.inv(H), size)
    except np.linalg.LinAlgError:
        return None
    return cam if cam is not None and 0.5 < cam.height < 300 else None


def _clip_poly(poly: F64, a: F64, c: float) -> F64:
    """Sutherland-Hodgman: keep the part of a polygon (n, d) where ``poly @ a + c >= 0``."""
    out = []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        fp, fq = float(p @ a + c), float(q @ a + c)
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            out.append(p + fp / (fp - fq) * (q - p))
    return np.asarray(out, np.float64).reshape(-1, poly.shape[1])


def _project_poly(cam: PinholeCamera, world: F64, size: tuple[int, int]) -> F64 | None:
    """Pixel polygon (continuous) of a planar world polygon, clipped to the front and the frame."""
    pc = (np.asarray(world, np.float64) - cam.C) @ cam.R.T
    pc = _clip_poly(pc, np.array([0.0, 0.0, 1.0]), -0.3)
    if len(pc) < 3:
        return None
    q = pc @ cam.K.T
    poly = q[:, :2] / q[:, 2:3]
    w, h = size
    m = 4.0
    for a, c in (((1, 0), m), ((-1, 0), w + m), ((0, 1), m), ((0, -1), h + m)):
        poly = _clip_poly(poly, np.asarray(a, np.float64), c)
        if len(poly) < 3:
            return None
    return poly


def _roi(poly: F64, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Integer pixel box ``(x0, y0, x1, y1)`` covering a continuous polygon, inside the frame."""
    x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 1
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(size[0], int(x1)), min(size[1], int(y1))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return x0, y0, x1, y1


def _poly_alpha(poly: F64, box: tuple[int, int, int, int]) -> F32:
    """Anti-aliased coverage (float32 0..1) of a convex polygon over an ROI."""
    x0, y0, x1, y1 = box
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((poly - (x0 + 0.5, y0 + 0.5)) * 16).astype(np.int32)
    cv2.fillConvexPoly(m, pts, 255, cv2.LINE_AA, 4)
    return m.astype(np.float32) * np.float32(1 / 255)


def _blend(dst: U8, src: U8, alpha: F32) -> None:
    """``dst = dst * (1 - alpha) + src * alpha`` in place (uint8 images, float32 alpha)."""
    out = cv2.blendLinear(src, dst, alpha, np.float32(1.0) - alpha)
    dst[...] = out


# --------------------------------------------------------------------------------------------
# The ground
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ViewStyle:
    """Ranges of the randomisation of :func:`render_view` (defaults: the full, heavy range).

    Args:
        line_strength: how far the paint is from the grass towards its colour (0 invisible,
            1 full paint), drawn uniformly in this range (faint lines are common).
        line_width: painted line width range, metres.
        max_occluders: most player crops per view (0-``max`` drawn).
        line_wear: probability of worn paint (gaps along the lines).
        shadow_prob: probability of a stadium shadow across the pitch.
        surroundings: draw boards, stands and goals (False: grass everywhere, for tests).
        camera_effects: blur, noise, exposure, JPEG, ... (False: clean images for tests).
        overlays: most broadcast graphics per view.

    >>> ViewStyle.clean().max_occluders
    0
    """

    line_strength: tuple[float, float] = (0.12, 1.0)
    line_width: tuple[float, float] = (0.08, 0.15)
    max_occluders: int = 25
    line_wear: float = 0.4
    shadow_prob: float = 0.35
    surroundings: bool = True
    camera_effects: bool = True
    overlays: int = 2

    @classmethod
    def clean(cls) -> ViewStyle:
        """Bright full-strength unworn lines, no occluders, shadows, graphics or camera effects."""
        return cls(
            line_strength=(1.0, 1.0),
            max_occluders=0,
            line_wear=0.0,
            shadow_prob=0.0,
            camera_effects=False,
            overlays=0,
        )


def _hsv_bgr(h: float, s: float, v: float) -> F32:
    px = np.array([[[round(h) % 180, round(min(s, 1) * 255), round(min(v, 1) * 255)]]], np.uint8)
    return _f32(cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0])


def _grass_colour(rng: np.random.Generator) -> F32:
    """Base grass colour: yellow-green to blue-green, dull to vivid, dark to bright (BGR)."""
    hue = rng.normal(44, 7) if rng.random() < 0.75 else rng.uniform(30, 82)
    sat = rng.uniform(0.3, 0.85) if rng.random() < 0.8 else rng.uniform(0.15, 0.35)
    val = float(np.clip(rng.normal(0.52, 0.12), 0.22, 0.82))
    return _hsv_bgr(float(np.clip(hue, 28, 85)), sat, val)


_WEAR_COLOURS = (
    (55.0, 85.0, 115.0),  # bare earth
    (95.0, 165.0, 185.0),  # straw
    (80.0, 125.0, 120.0),  # pale, dead grass
)
_TRACK_COLOURS = (
    (60.0, 70.0, 160.0),  # red running track
    (150.0, 100.0, 60.0),  # blue track
    (120.0, 125.0, 125.0),  # concrete
    (70.0, 140.0, 60.0),  # artificial turf
)


@dataclass(frozen=True)
class _Mowing:
    """Mowing pattern evaluated per pixel: stripes, checkerboard or circles in pitch metres."""

    kind: str  # none, stripes, checker, circles
    normals: tuple[tuple[float, float], ...]
    period: float
    phase: float
    sharp: float
    amp: float
    tint: tuple[float, float, float]
    centre: tuple[float, float]


def _draw_mowing(rng: np.random.Generator, pitch: Pitch) -> _Mowing:
    L, W = pitch.length, pitch.width
    r = rng.random()
    normals: tuple[tuple[float, float], ...] = ()
    if r < 0.42:  # stripes parallel to the goal lines
        kind, normals = "stripes", ((1.0, 0.0),)
    elif r < 0.54:  # parallel to the touchlines
        kind, normals = "stripes", ((0.0, 1.0),)
    elif r < 0.62:
        a = float(rng.choice([-1, 1]) * rng.uniform(math.radians(25), math.radians(65)))
        kind, normals = "stripes", ((math.cos(a), math.sin(a)),)
    elif r < 0.74:
        kind, normals = "checker", ((1.0, 0.0), (0.0, 1.0))
    elif r < 0.79:
        kind = "circles"
    else:
        kind = "none"
    if rng.random() < 0.6:
        along_x = not normals or abs(normals[0][0]) > 0.5
        width = L / int(rng.integers(18, 27)) if along_x else W / int(rng.integers(12, 18))
    else:
        width = math.exp(rng.uniform(0.0, math.log(6.0)))
    tint = 1.0 + rng.normal(0, 0.12, 3)
    centre = (L / 2, W / 2) if rng.random() < 0.7 else (rng.uniform(0, L), rng.uniform(0, W))
    return _Mowing(
        kind=kind,
        normals=normals,
        period=2 * width,
        phase=0.0 if rng.random() < 0.7 else rng.uniform(0, 2 * math.pi),
        sharp=rng.uniform(1.0, 8.0),
        amp=rng.uniform(0.02, 0.2) if rng.random() < 0.85 else rng.uniform(0.0, 0.03),
        tint=(float(tint[0]), float(tint[1]), float(tint[2])),
        centre=(float(centre[0]), float(centre[1])),
    )


def _mowing_field(m: _Mowing, f: _Fields, size: tuple[int, int]) -> F32 | None:
    """Relative brightness change of the mowing pattern per pixel (None: no pattern)."""
    if m.kind == "none" or m.amp <= 0:
        return None
    k = np.float32(m.sharp)
    norm = np.float32(1 / math.tanh(m.sharp))
    scale = np.float32(2 * math.pi / m.period)
    xu, xv, yu, yv = f.coarse

    def profile(t: F32) -> F32:
        return np.tanh(k * np.sin(t)) * norm

    if m.kind == "circles":
        r = np.hypot(f.X - np.float32(m.centre[0]), f.Y - np.float32(m.centre[1]))
        s = profile(r * scale + np.float32(m.phase))
        fade = np.clip((np.float32(m.period) / f.smax - 3) / 5, 0, 1)
        return np.asarray(s * fade * np.float32(m.amp), np.float32)
    out: F32 | None = None
    fade_c = None
    for n0, n1 in m.normals:
        t = (f.X * np.float32(n0) + f.Y * np.float32(n1)) * scale + np.float32(m.phase)
        s = profile(t)
        out = s if out is None else out * s
        across = np.hypot(xu * n0 + yu * n1, xv * n0 + yv * n1)  # metres per px along n
        fc = np.clip((m.period / np.maximum(across, 1e-6) - 3) / 5, 0, 1)
        fade_c = fc if fade_c is None else np.minimum(fade_c, fc)
    assert out is not None and fade_c is not None
    return np.asarray(out * _up(fade_c * m.amp, size), np.float32)


def _ground_raster(
    rng: np.random.Generator, pitch: Pitch, style: ViewStyle, H: F64, size: tuple[int, int]
) -> tuple[F32, F32, F32]:
    """Per-view ground raster in pitch space: ``(lit BGR + texture mask (gh, gw, 4), light
    (gh, gw, 3), base grass colour)``: colour, patchiness, wear, surround, shadow and sun."""
    X, Y = _ground_grid(pitch)
    L, W = pitch.length, pitch.width
    gh, gw = X.shape
    base = _grass_colour(rng)
    low, mid = _noise_bank()

    def window(tex: F32) -> F32:
        oy, ox = (int(v) for v in rng.integers(0, tex.shape[0], 2))
        t = np.take(tex, np.arange(oy, oy + gh), axis=0, mode="wrap")
        t = np.take(t, np.arange(ox, ox + gw), axis=1, mode="wrap")
        return t if rng.random() < 0.5 else np.ascontiguousarray(t[::-1, ::-1])

    n_low, n_mid = window(low), window(mid)
    patch = rng.uniform(0.0, 0.14)
    mod = 1 + patch * (0.8 * n_low + 0.35 * n_mid)
    col = [base[c] * mod for c in range(3)]
    if rng.random() < 0.5:  # patches of another green
        alt = _grass_colour(rng)
        t = np.clip(0.5 + 0.6 * n_low, 0, 1) * rng.uniform(0.1, 0.45)
        col = [col[c] * (1 - t) + alt[c] * mod * t for c in range(3)]
    if rng.random() < 0.75:  # wear: goal mouths, centre, linesmen's runs, random patches
        amp = rng.uniform(0.15, 0.8)
        xs, ys = X[0], Y[:, 0]

        def blob(cx: float, cy: float, sx: float, sy: float) -> F32:  # separable Gaussian
            return np.outer(np.exp(-(((ys - cy) / sy) ** 2)), np.exp(-(((xs - cx) / sx) ** 2)))

        wear = np.zeros_like(X)
        for gx in (rng.uniform(2, 9), L - rng.uniform(2, 9)):
            g = blob(gx, W / 2, rng.uniform(2.5, 8), rng.uniform(4, 12))
            wear += amp * rng.uniform(0.4, 1.0) * g
        if rng.random() < 0.4:
            wear += amp * 0.6 * blob(L / 2, W / 2, 8.0, 8.0)
        if rng.random() < 0.35:  # the assistant referees' runs
            far = np.outer(np.exp(-(((ys + 1.5) / 0.8) ** 2)), xs > L / 2)
            near = np.outer(np.exp(-(((ys - W - 1.5) / 0.8) ** 2)), xs < L / 2)
            wear += amp * 0.7 * (far + near)
        for _ in range(int(rng.integers(0, 4))):
            cx, cy, r = rng.uniform(0, L), rng.uniform(0, W), rng.uniform(1.5, 6)
            wear += amp * rng.uniform(0.3, 1) * blob(cx, cy, r, r)
        wear = np.clip(wear * np.clip(0.7 + 0.5 * n_mid, 0.2, 1.3), 0, 0.9)
        wc = np.asarray(_WEAR_COLOURS[int(rng.integers(0, 3))]) * rng.uniform(0.7, 1.2)
        col = [col[c] * (1 - wear) + np.float32(wc[c]) * wear for c in range(3)]
    texmask = np.ones_like(X)
    if rng.random() < 0.35:  # beyond the pitch: another shade, a running track, concrete
        m = rng.uniform(1.0, 5.0)
        out = np.maximum(np.maximum(-X - m, X - L - m), np.maximum(-Y - m, Y - W - m))
        t = np.clip(out / 0.5 + 0.5, 0, 1)
        if rng.random() < 0.5:
            sc = base * rng.uniform(0.75, 1.2)
            keep = 1.0
        else:
            sc = np.asarray(_TRACK_COLOURS[int(rng.integers(0, 4))]) * rng.uniform(0.7, 1.2)
            keep = 0.2
        col = [col[c] * (1 - t) + np.float32(sc[c]) * t for c in range(3)]
        texmask = 1 - t * (1 - keep)
    light = [np.ones_like(X) for _ in range(3)]
    if rng.random() < style.shadow_prob:  # stadium shadow: a straight soft edge, darker, bluer
        a = rng.uniform(0, 2 * math.pi)
        n = np.array([math.cos(a), math.sin(a)])
        w, h = size
        q = apply_homography(H, [[rng.uniform(0.1, 0.9) * w, rng.uniform(0.3, 0.95) * h]])[0]
        c = float(n @ np.nan_to_num(q))
        soft = rng.uniform(0.15, 3.0)
        s = 1 / (1 + np.exp(-np.clip((n[0] * X + n[1] * Y - c) / soft, -30, 30)))
        dark = rng.uniform(0.3, 0.75)
        tint = np.array([1.15, 1.0, 0.85]) * rng.uniform(0.95, 1.05, 3)
        for k in range(3):
            light[k] = light[k] * (1 - s * (1 - min(1.0, dark * tint[k])))
    if rng.random() < 0.3:  # sun patches
        sun = np.clip(window(low) * 1.5 - 0.8, 0, 1)
        gain = rng.uniform(0.1, 0.35)
        for k, warm in enumerate((0.9, 1.0, 1.08)):
            light[k] = light[k] * (1 + gain * warm * sun)
    lit = np.stack([col[0] * light[0], col[1] * light[1], col[2] * light[2], texmask], -1)
    return (
        np.ascontiguousarray(lit, np.float32),
        np.ascontiguousarray(np.stack(light, -1), np.float32),
        base,
    )


def _line_pixels(
    H: F64, size: tuple[int, int], pitch: Pitch, half_width: float, smax: F32
) -> tuple[NDArray[np.intp], NDArray[np.intp], F32]:
    """Pixels touched by paint, ``(rows, cols, coverage in (0, 1])``.

    The pitch's distance field (5 cm texels) is warped into the image; each pixel's x and y
    sides projected across the line are the larger one-sided differences of that field, and its
    coverage is the exact area of the line over the pixel's footprint
    (:func:`touchline.pitch.line_coverage`): true width at any distance, fading when sub-pixel.
    """
    M = _tex(-_DIST_MARGIN, -_DIST_MARGIN, _DIST_PPM) @ H @ _HALF
    dist_mm = cv2.warpPerspective(
        _line_field(pitch), M, size, flags=_WARP, borderMode=cv2.BORDER_CONSTANT,
        borderValue=round(_DIST_CAP * 1000),
    )  # fmt: skip
    dist = dist_mm.astype(np.float32) * np.float32(0.001)
    thr = np.minimum(np.float32(half_width + 1e-3) + smax * np.float32(1.25), _DIST_CAP - 0.05)
    ys, xs = np.nonzero(dist < thr)
    if len(ys):
        wq = H[2, 0] * (xs + 0.5) + H[2, 1] * (ys + 0.5) + H[2, 2]
        ys, xs = ys[wq > 1e-9], xs[wq > 1e-9]
    if len(ys) == 0:
        return ys, xs, np.zeros(0, np.float32)
    cov = distance_image_coverage(dist, ys, xs, half_width).astype(np.float32)
    keep = cov > 1e-3
    return ys[keep], xs[keep], cov[keep]


def view_line_coverage(
    image_to_pitch: np.ndarray,
    size: tuple[int, int],
    pitch: Pitch | None = None,
    line_width: float | None = None,
) -> F32:
    """Painted-line coverage (float32 0..1, ``(h, w)``) of a view, as :func:`render_view`
    paints it (before occluders): a pixel-exact line label.

    >>> from touchline.synth.camera import PinholeCamera
    >>> cam = PinholeCamera.look_at((52.5, 100.0, -20.0), (52.5, 34.0, 0.0), focal=400.0,
    ...                             image_size=(320, 180))
    >>> cov = view_line_coverage(cam.image_to_pitch, (320, 180))
    >>> cov.shape, float(cov[:, 158:162].max()) > 0.5   # the halfway line, mid-image
    ((180, 320), True)
    """
    pitch = pitch or Pitch()
    size = (int(size[0]), int(size[1]))
    H = _oriented(image_to_pitch, size)
    f = _fields(H, size)
    lw = pitch.dims.line_width if line_width is None else float(line_width)
    ys, xs, cov = _line_pixels(H, size, pitch, lw / 2, f.smax)
    out = np.zeros((size[1], size[0]), np.float32)
    out[ys, xs] = cov
    return out


# --------------------------------------------------------------------------------------------
# Surroundings: stands, boards, goals
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Stadium:
    """Where the boards stand (metres beyond the pitch lines) and which face the camera."""

    far: float
    near: float
    left: float
    right: float
    board_height: float
    back: dict[str, bool]  # the camera is on the pitch side of this board line
    boards: dict[str, bool]  # a board stands on this side
    stands: int  # the real background behind the boards, -1 for a synthetic crowd


def _draw_stadium(
    rng: np.random.Generator, pitch: Pitch, cam: PinholeCamera | None, assets: ViewAssets
) -> _Stadium:
    far, near = rng.uniform(3.0, 9.0), rng.uniform(3.0, 8.0)
    left, right = rng.uniform(3.0, 7.0), rng.uniform(3.0, 7.0)
    L, W = pitch.length, pitch.width
    cx, cy = (float(cam.C[0]), float(cam.C[1])) if cam is not None else (L / 2, W + 40.0)
    back = {"far": cy > -far, "near": cy < W + near, "left": cx > -left, "right": cx < L + right}
    real = bool(assets.backgrounds) and rng.random() < 0.85
    stands = int(rng.integers(len(assets.backgrounds))) if real else -1
    # A real background brings its own boards: then synthetic ones only half of the time.
    p_back, p_front = (0.5 if real else 0.9), 0.3
    boards = {k: bool(rng.random() < (p_back if back[k] else p_front)) for k in back}
    return _Stadium(far, near, left, right, rng.uniform(0.8, 1.0), back, boards, stands)


def _draw_stands(
    img: U8,
    rng: np.random.Generator,
    f: _Fields,
    H: F64,
    size: tuple[int, int],
    pitch: Pitch,
    st: _Stadium,
    assets: ViewAssets,
) -> None:
    """Fill what lies beyond the back board lines (and above the horizon) with stands."""
    w, h = size
    L, W = pitch.length, pitch.width
    terms = []
    if st.back["far"]:
        terms.append(np.float32(-st.far) - f.Y)
    if st.back["near"]:
        terms.append(f.Y - np.float32(W + st.near))
    if st.back["left"]:
        terms.append(np.float32(-st.left) - f.X)
    if st.back["right"]:
        terms.append(f.X - np.float32(L + st.right))
    if terms:
        d = terms[0] if len(terms) == 1 else np.maximum.reduce(terms)
        alpha = np.clip(d / np.maximum(f.smax, np.float32(1e-3)) + np.float32(0.5), 0, 1)
        alpha[~f.front] = 1.0
    else:
        alpha = (~f.front).astype(np.float32)
    rows_any = np.flatnonzero(alpha.max(axis=1) > 0)
    if len(rows_any) == 0:
        return
    yl = int(rows_any[-1]) + 1
    below = alpha < 0.5
    e = np.where(below.any(axis=0), below.argmax(axis=0), h).astype(np.float64)
    # Scale: ground pixels per metre along the rows where the stands begin.
    cols = np.flatnonzero((e > 0) & (e < h))
    if len(cols):
        u, v = cols + 0.5, e[cols] + 0.5
        q = np.stack([u, v, np.ones_like(u)], 1) @ H.T
        X, Y = q[:, 0] / q[:, 2], q[:, 1] / q[:, 2]
        du = np.hypot((H[0, 0] - X * H[2, 0]) / q[:, 2], (H[1, 0] - Y * H[2, 0]) / q[:, 2])
        ppm_dst = float(np.median(1.0 / np.maximum(du, 1e-4)))
    else:
        ppm_dst = w / 60.0
    if st.stands >= 0:
        src, ppm_src = assets.backgrounds[st.stands], assets.background_ppm[st.stands]
    else:
        bank = _crowd_bank()
        src = bank[int(rng.integers(len(bank)))]
        ppm_src = 16.0 * rng.uniform(1.5, 3.0)  # the crowd is 10-40 m behind the boards
    hs, ws = src.shape[:2]
    scale = float(np.clip(ppm_dst / ppm_src * rng.uniform(0.85, 1.2), 0.35, 6.0))
    scale = max(scale, w / (ws * 0.98))  # never repeat the crop sideways
    # Above the crop: an upper tier (the crop again) or the roof, or stretch it to fit.
    e_top = float(e[e < h].max()) if (e < h).any() else float(h)
    scale_y = scale
    if e_top / scale > hs and rng.random() < 0.5:
        scale_y = min(e_top / hs, 2.5 * scale)
    x_src = (np.arange(w, dtype=np.float32) + 0.5 - w / 2) / scale
    x_src += np.float32(rng.uniform(-0.5, 0.5) * max(0.0, ws - w / scale) + ws / 2 - 0.5)
    map_x = np.ascontiguousarray(np.broadcast_to(x_src[None, :], (yl, w)), np.float32)
    yy = np.arange(yl, dtype=np.float32)[:, None] + 0.5
    map_y = (hs - (e[None, :].astype(np.float32) - yy) / np.float32(scale_y) - 0.5).astype(
        np.float32
    )
    roof = rng.random() < 0.5
    roof_col = tuple(float(v) for v in rng.uniform(15, 110) * rng.uniform(0.85, 1.15, 3))
    stands = cv2.remap(
        src, map_x, map_y, cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT if roof else cv2.BORDER_WRAP, borderValue=roof_col,
    )  # fmt: skip
    gain = rng.uniform(0.55, 1.15)
    if abs(gain - 1) > 0.02:
        stands = cv2.convertScaleAbs(stands, alpha=gain)
    if scale < 0.8 and rng.random() < 0.5:
        stands = cv2.GaussianBlur(stands, (0, 0), 0.6)
    _blend(img[:yl], np.asarray(stands, np.uint8), np.ascontiguousarray(alpha[:yl]))


def _board_texture(
    rng: np.random.Generator, length: float, height: float, assets: ViewAssets, facing: bool
) -> U8:
    """A strip of advertising boards ``length`` x ``height`` metres (32 texels high)."""
    th = 32
    tw = max(8, round(length / height * th))
    if not facing:  # the back of a board: plain dark structure
        grey = int(rng.integers(15, 90))
        tex = np.full((th, tw, 3), grey, np.uint8)
        tex[: th // 6] = min(255, grey + 30)
        return tex
    pieces: list[U8] = []
    if assets.backgrounds and rng.random() < 0.3:  # the boards of a real frame
        k = int(rng.integers(len(assets.backgrounds)))
        bg, ppm = assets.backgrounds[k], assets.background_ppm[k]
        band = max(3, min(bg.shape[0], round(height * ppm * rng.uniform(0.9, 1.2))))
        strip = bg[-band:]
        bw = max(8, round(strip.shape[1] * th / band))
        strip = _u8(cv2.resize(strip, (bw, th), interpolation=cv2.INTER_LINEAR))
        pieces = [strip]
    else:
        bank = _panel_bank()
        r = rng.random()
        if r < 0.35:
            pieces = [bank[int(rng.integers(len(bank)))]]
        elif r < 0.6:
            pieces = [bank[int(i)] for i in rng.integers(len(bank), size=2)]
        else:
            pieces = [bank[int(i)] for i in rng.integers(len(bank), size=12)]
    seq, total, i = [], 0, 0
    while total < tw:
        p = pieces[i % len(pieces)]
        seq.append(p)
        total += p.shape[1]
        i += 1
    tex = np.hstack(seq)
    off = int(rng.integers(0, max(1, tex.shape[1] - tw + 1)))
    tex = np.ascontiguousarray(tex[:, off : off + tw])
    gain = rng.uniform(0.6, 1.3)
    return np.asarray(cv2.convertScaleAbs(tex, alpha=gain), np.uint8)


def _draw_plane(img: U8, cam: PinholeCamera, size: tuple[int, int], corners: F64, tex: U8) -> None:
    """Texture a planar world quad ``(top-left, top-right, bottom-right, bottom-left)``."""
    poly = _project_poly(cam, corners, size)
    if poly is None:
        return
    box = _roi(poly, size)
    if box is None:
        return
    x0, y0, x1, y1 = box
    th, tw = tex.shape[:2]
    tl, tr, bl = corners[0], corners[1], corners[3]
    A = np.vstack([np.column_stack([(tr - tl) / tw, (bl - tl) / th, tl]), [0.0, 0.0, 1.0]])
    G = cam.P @ A  # texel (continuous) -> image (continuous)
    shift = np.array([[1.0, 0, -0.5], [0, 1.0, -0.5], [0, 0, 1.0]])
    M = shift @ np.linalg.inv(G) @ _HALF @ np.array([[1.0, 0, x0], [0, 1.0, y0], [0, 0, 1.0]])
    warped = cv2.warpPerspective(
        tex, M, (x1 - x0, y1 - y0), flags=_WARP, borderMode=cv2.BORDER_REPLICATE
    )
    _blend(img[y0:y1, x0:x1], np.asarray(warped, np.uint8), _poly_alpha(poly, box))


def _draw_boards(
    img: U8,
    rng: np.random.Generator,
    cam: PinholeCamera,
    size: tuple[int, int],
    pitch: Pitch,
    st: _Stadium,
    assets: ViewAssets,
    back: bool,
) -> None:
    """The boards on the far side of the camera (``back``) or between it and the pitch."""
    L, W, hb = pitch.length, pitch.width, st.board_height
    x0, x1, y0, y1 = -st.left, L + st.right, -st.far, W + st.near
    quads = {  # as seen from the pitch: top-left, top-right, bottom-right, bottom-left
        "far": [(x0, y0), (x1, y0)],
        "right": [(x1, y0), (x1, y1)],
        "near": [(x1, y1), (x0, y1)],
        "left": [(x0, y1), (x0, y0)],
    }
    for side, ((ax, ay), (bx, by)) in quads.items():
        if not st.boards[side] or st.back[side] != back:
            continue
        corners = np.array([[ax, ay, -hb], [bx, by, -hb], [bx, by, 0.0], [ax, ay, 0.0]], np.float64)
        length = math.hypot(bx - ax, by - ay)
        _draw_plane(img, cam, size, corners, _board_texture(rng, length, hb, assets, back))


def _draw_goals(
    img: U8, rng: np.random.Generator, cam: PinholeCamera, size: tuple[int, int], pitch: Pitch
) -> None:
    """Both goals: posts and crossbar (white, 12 cm) and a translucent net."""
    L, W = pitch.length, pitch.width
    gw, gh = pitch.dims.goal_width, pitch.dims.goal_height
    depth, back_h = rng.uniform(1.2, 2.5), rng.uniform(0.9, 2.3)
    net_a = rng.uniform(0.12, 0.35)
    net_col = np.full(3, rng.uniform(170, 240), np.float32)
    post_col = tuple(float(v) for v in np.full(3, rng.uniform(200, 255)))
    w, h = size
    for x0, sgn in ((0.0, -1.0), (L, 1.0)):
        ya, yb = W / 2 - gw / 2, W / 2 + gw / 2
        xb = x0 + sgn * depth
        pts = np.array(
            [[x0, ya, 0], [x0, yb, 0], [x0, ya, -gh], [x0, yb, -gh], [xb, ya, 0], [xb, yb, 0]],
            np.float64,
        )
        p = cam.project(pts)
        if np.isnan(p).any():
            continue
        lo, hi = p.min(axis=0), p.max(axis=0)
        if hi[0] < 0 or hi[1] < 0 or lo[0] > w or lo[1] > h:
            continue
        panels = [
            [[xb, ya, -back_h], [xb, yb, -back_h], [xb, yb, 0], [xb, ya, 0]],  # back
            [[x0, ya, -gh], [x0, yb, -gh], [xb, yb, -back_h], [xb, ya, -back_h]],  # roof
            [[x0, ya, -gh], [xb, ya, -back_h], [xb, ya, 0], [x0, ya, 0]],  # sides
            [[x0, yb, -gh], [xb, yb, -back_h], [xb, yb, 0], [x0, yb, 0]],
        ]
        for quad in panels:
            poly = _project_poly(cam, np.asarray(quad, np.float64), size)
            box = None if poly is None else _roi(poly, size)
            if poly is None or box is None:
                continue
            bx0, by0, bx1, by1 = box
            a = _poly_alpha(poly, box) * np.float32(net_a)
            roi = img[by0:by1, bx0:bx1]
            solid = np.empty_like(roi)
            solid[:] = net_col.astype(np.uint8)
            _blend(roi, solid, a)
        # Posts and crossbar: anti-aliased lines as thick as 12 cm at their distance.
        frame = cam.project(
            np.array([[x0, ya, 0], [x0, ya, -gh], [x0, yb, -gh], [x0, yb, 0]], np.float64)
        )
        dist = float(np.linalg.norm(np.array([x0, W / 2, -gh / 2]) - cam.C))
        thick = 0.12 * cam.focal / max(dist, 1e-3)
        if thick < 0.3:
            continue
        layer = img.copy() if thick < 1 else img
        pts_i = np.round((frame - 0.5) * 16).astype(np.int32)
        cv2.polylines(layer, [pts_i], False, post_col, max(1, round(thick)), cv2.LINE_AA, 4)
        if thick < 1:
            cv2.addWeighted(layer, thick, img, 1 - thick, 0, dst=img)


# --------------------------------------------------------------------------------------------
# Players, referees, ball
# --------------------------------------------------------------------------------------------
def _rand_bgr(rng: np.random.Generator) -> tuple[int, int, int]:
    b, g, r = (int(v) for v in rng.integers(0, 256, 3))
    return (b, g, r)


def _synthetic_person(rng: np.random.Generator, kit: Kit) -> Crop:
    """An articulated running or standing figure (:mod:`touchline.synth.figures`), 64 px tall,
    as a crop whose height is the person's height, and its alpha."""
    ppm = 64 / 1.8
    pose = FigurePose(
        foot=np.array([32.0, 74.0]),
        up=np.array([0.0, -1.0]),
        px_per_m_up=ppm,
        px_per_m_side=ppm,
        height=1.8,
        phase=rng.uniform(0, 2 * math.pi),
        swing=rng.uniform(0.0, 0.7),
        facing=float(rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 1.0)),
    )
    spr = draw_figure(pose, kit, (64, 80), gloves=rng.random() < 0.1)
    ys, xs = np.nonzero(spr.alpha > 0.02)
    if len(ys) == 0:
        return np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), np.float32)
    y0, y1, x0, x1 = ys.min(), 74 - spr.y0, xs.min(), xs.max() + 1
    a = spr.alpha[y0:y1, x0:x1]
    col = spr.color[y0:y1, x0:x1] / np.maximum(a, 1e-3)[..., None]
    return np.clip(col, 0, 255).astype(np.uint8), np.ascontiguousarray(a, np.float32)


@lru_cache(maxsize=1)
def _person_bank() -> list[Crop]:
    """96 synthetic figures in random kits and poses (used without real crops)."""
    rng = np.random.default_rng(17)
    out = []
    for _ in range(96):
        kit = Kit(_rand_bgr(rng), _rand_bgr(rng), _rand_bgr(rng))
        out.append(_synthetic_person(rng, kit))
    return out


def _affine_paste(
    img: U8, crop: U8, alpha: F32, M: F64, size: tuple[int, int], opacity: float = 1.0
) -> None:
    """Paste ``crop`` mapped by the 2x3 cv2 affine ``M`` (crop index -> image index)."""
    ch, cw = alpha.shape
    corners = np.array(
        [[-0.5, -0.5, 1], [cw - 0.5, -0.5, 1], [cw - 0.5, ch - 0.5, 1], [-0.5, ch - 0.5, 1]]
    )
    q = corners @ M.T + 0.5
    box = _roi(q, size)
    if box is None:
        return
    x0, y0, x1, y1 = box
    Mr = M.copy()
    Mr[:, 2] -= (x0, y0)
    dsize = (x1 - x0, y1 - y0)
    a = cv2.warpAffine(alpha, Mr, dsize, flags=cv2.INTER_LINEAR, borderValue=0)
    if opacity != 1.0:
        a = a * np.float32(opacity)
    if float(a.max()) <= 0:
        return
    c = cv2.warpAffine(crop, Mr, dsize, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    _blend(img[y0:y1, x0:x1], np.asarray(c, np.uint8), np.asarray(a, np.float32))


def _draw_occluders(
    img: U8,
    rng: np.random.Generator,
    H: F64,
    cam: PinholeCamera | None,
    size: tuple[int, int],
    pitch: Pitch,
    assets: ViewAssets,
    style: ViewStyle,
    light: F32,
) -> None:
    """0..max real (or synthetic) players at plausible sizes, far to near, with shadows."""
    w, h = size
    L, W = pitch.length, pitch.width
    n = (
        0
        if style.max_occluders <= 0 or rng.random() < 0.15
        else int(rng.integers(1, style.max_occluders + 1))
    )
    ball = style.max_occluders > 0 and rng.random() < 0.45
    if n == 0 and not ball:
        return
    cand = rng.uniform((-0.05 * w, 0.0), (1.05 * w, 1.15 * h), (6 * n + 12, 2))
    P = apply_homography(H, cand)
    wq = np.concatenate([cand, np.ones((len(cand), 1))], 1) @ H[2]
    ok = (wq > 0) & (P[:, 0] > -3) & (P[:, 0] < L + 3) & (P[:, 1] > -3) & (P[:, 1] < W + 3)
    pts = P[ok]
    if len(pts) == 0:
        return
    if rng.random() < 0.6 and n > 2:  # play is clustered
        spread = rng.uniform(4, 14)
        k = n // 2
        pts = np.concatenate([pts[: n - k], pts[0] + rng.normal(0, spread, (k, 2))])
    pts = pts[: n + int(ball)]
    kinds = ["person"] * min(n, len(pts))
    if ball:
        kinds = [*kinds[: len(pts) - 1], "ball"]
    classes = np.asarray(assets.occluder_classes, np.int64)
    persons = np.flatnonzero(classes > 0)
    balls = np.flatnonzero(classes == 0)
    Ginv = np.linalg.inv(H)
    foot = apply_homography(Ginv, pts)
    order = (
        np.argsort(-np.linalg.norm(pts - cam.C[:2], axis=1))
        if cam is not None
        else np.argsort(foot[:, 1])
    )
    sun = rng.random() < 0.5
    sun_dir = rng.uniform(0, 2 * math.pi)
    sun_len = rng.uniform(0.3, 1.6)
    sun_vec = np.array([math.cos(sun_dir), math.sin(sun_dir)]) * sun_len
    shadow_k = rng.uniform(0.25, 0.55)
    contact = rng.random() < 0.8
    gh_, gw_ = light.shape[:2]
    sprites = []
    for i in order:
        p, fp = pts[i], foot[i]
        if not np.isfinite(fp).all():
            continue
        hm = 0.22 if kinds[i] == "ball" else rng.uniform(1.7, 1.95)
        if cam is not None:
            head = cam.project([[p[0], p[1], -hm]])[0]
            if np.isnan(head).any():
                continue
        else:
            e = apply_homography(H, np.stack([fp, fp + np.array([1.0, 0.0])]))
            ppm = 1.0 / max(float(np.linalg.norm(e[1] - e[0])), 1e-6)
            head = fp - (0.0, hm * ppm)
        upv = head - fp
        lp = float(np.linalg.norm(upv))
        if lp < 2.0 or lp > 3 * h:
            continue
        if kinds[i] == "ball":
            real_ball = int(balls[int(rng.integers(len(balls)))]) if len(balls) else -1
            small = real_ball >= 0 and lp < 1.5 * assets.occluders[real_ball][1].shape[0]
            if small and rng.random() < 0.5:  # a real ball, when it need not be enlarged
                crop, alpha = assets.occluders[real_ball]
            else:
                r = 8
                crop = np.full((2 * r, 2 * r, 3), int(rng.integers(200, 255)), np.uint8)
                alpha = np.zeros((2 * r, 2 * r), np.float32)
                cv2.circle(alpha, (r, r), r - 1, 1.0, -1, cv2.LINE_AA)
                cv2.circle(crop, (r + 2, r + 3), r // 2, (150, 150, 150), -1, cv2.LINE_AA)
                crop = _u8(cv2.GaussianBlur(crop, (0, 0), 1.5))
        elif len(persons) and rng.random() < 0.9:
            # Of a few random crops, the one whose size needs the least rescaling.
            pick = persons[rng.integers(len(persons), size=6)]
            ratio = [abs(math.log(assets.occluders[int(j)][1].shape[0] / lp)) for j in pick]
            crop, alpha = assets.occluders[int(pick[int(np.argmin(ratio))])]
        else:
            bank = _person_bank()
            crop, alpha = bank[int(rng.integers(len(bank)))]
        if rng.random() < 0.5:
            crop, alpha = np.ascontiguousarray(crop[:, ::-1]), np.ascontiguousarray(alpha[:, ::-1])
        ix = int(np.clip((p[0] + _GROUND_MARGIN) / _GROUND_MPT, 0, gw_ - 1))
        iy = int(np.clip((p[1] + _GROUND_MARGIN) / _GROUND_MPT, 0, gh_ - 1))
        gain = light[iy, ix] * rng.uniform(0.8, 1.15)
        crop = np.clip(crop.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        sprites.append((p, fp, upv, lp, hm, crop, alpha))
    if not sprites:
        return
    # Shadows first: they lie on the ground under everyone.
    shade = np.zeros((h, w), np.float32)
    for p, fp, upv, lp, hm, _, alpha in sprites:
        ch, cw = alpha.shape
        s = lp / ch
        e_up = upv / lp
        e_r = np.array([-e_up[1], e_up[0]])
        if sun:
            tip = apply_homography(Ginv, [p + sun_vec])[0] - fp  # image shift per metre of height
            if np.isfinite(tip).all():
                Msh = np.column_stack(
                    [
                        s * e_r,
                        -(hm / ch) * tip,
                        fp + (0.5 - cw / 2) * s * e_r + (ch - 0.5) * (hm / ch) * tip - 0.5,
                    ]
                )
                _affine_paste_float(shade, alpha, Msh, size)
        if contact:
            rx = max(1.0, 0.35 * lp / hm)
            ry = max(0.7, rx * 0.35)
            cv2.ellipse(
                shade,
                (round(fp[0] * 4), round(fp[1] * 4)),
                (round(rx * 4), round(ry * 4)),
                0,
                0,
                360,
                0.6,
                -1,
                cv2.LINE_AA,
                2,
            )
    if float(shade.max()) > 0:
        shade = _f32(cv2.GaussianBlur(shade, (0, 0), 0.8))
        ys, xs = np.nonzero(shade > 0.01)
        fac = 1 - np.minimum(shade[ys, xs], 1.0)[:, None] * np.float32(shadow_k)
        img[ys, xs] = (img[ys, xs].astype(np.float32) * fac).astype(np.uint8)
    for _, fp, upv, lp, _, crop, alpha in sprites:
        ch, cw = alpha.shape
        s = lp / ch
        e_up = upv / lp
        e_r = np.array([-e_up[1], e_up[0]])
        M = np.column_stack(
            [s * e_r, -s * e_up, fp + (0.5 - cw / 2) * s * e_r - (0.5 - ch) * s * e_up - 0.5]
        )
        _affine_paste(img, crop, alpha, M, size)


def _affine_paste_float(dst: F32, alpha: F32, M: F64, size: tuple[int, int]) -> None:
    """``dst = max(dst, alpha mapped by M)`` over the mapped box."""
    ch, cw = alpha.shape
    corners = np.array(
        [[-0.5, -0.5, 1], [cw - 0.5, -0.5, 1], [cw - 0.5, ch - 0.5, 1], [-0.5, ch - 0.5, 1]]
    )
    box = _roi(corners @ M.T + 0.5, size)
    if box is None:
        return
    x0, y0, x1, y1 = box
    Mr = M.copy()
    Mr[:, 2] -= (x0, y0)
    a = cv2.warpAffine(alpha, Mr, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderValue=0)
    np.maximum(dst[y0:y1, x0:x1], a, out=dst[y0:y1, x0:x1])


# --------------------------------------------------------------------------------------------
# Broadcast graphics and camera
# --------------------------------------------------------------------------------------------
_TEAMS = ("ARS", "CHE", "BAY", "RMA", "BAR", "JPN", "ESP", "CAN", "MAR", "BRA", "GER", "ITA",
          "FRA", "POR", "NED", "USA", "MEX", "KOR", "AUS", "ARG", "LIV", "MCI", "JUV", "PSG")  # fmt: skip


def _synthetic_overlay(rng: np.random.Generator, frame_w: int) -> Crop:
    """A score bug (teams, score, clock on coloured boxes) or a translucent channel logo."""
    font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX]))
    if rng.random() < 0.7:
        t1, t2 = rng.choice(len(_TEAMS), 2, replace=False)
        parts = [
            _TEAMS[int(t1)],
            f"{rng.integers(0, 5)}-{rng.integers(0, 5)}",
            _TEAMS[int(t2)],
            f"{rng.integers(0, 95):02d}:{rng.integers(0, 60):02d}",
        ]
        bh = max(9, round(frame_w * rng.uniform(0.022, 0.04)))
        scale = bh / 26.0
        pad = max(2, bh // 4)
        widths = [cv2.getTextSize(t, font, scale, 1)[0][0] + 2 * pad for t in parts]
        bw = int(sum(widths))
        img = np.zeros((bh, bw, 3), np.uint8)
        cols = [
            tuple(int(c) for c in rng.integers(0, 256, 3) * rng.uniform(0.2, 1.0)) for _ in range(2)
        ]
        x = 0
        for k, (t, tw) in enumerate(zip(parts, widths, strict=True)):
            col = cols[k % 2] if rng.random() < 0.8 else cols[0]
            cv2.rectangle(img, (x, 0), (x + tw, bh), col, -1)
            fg = (255, 255, 255) if sum(col) < 400 else (20, 20, 20)
            cv2.putText(img, t, (x + pad, int(bh * 0.72)), font, scale, fg, 1, cv2.LINE_AA)
            x += tw
        alpha = np.full((bh, bw), rng.uniform(0.8, 1.0), np.float32)
        return img, alpha
    word = str(rng.choice(["HD", "LIVE", "TV", "SPORT", "REPLAY", "1", "FOOT+", "GOAL TV"]))
    scale = frame_w / 640 * rng.uniform(0.5, 1.0)
    (tw, th), base = cv2.getTextSize(word, font, scale, 2)
    img = np.full((th + base + 4, tw + 4, 3), 255, np.uint8)
    a = np.zeros(img.shape[:2], np.uint8)
    cv2.putText(a, word, (2, th + 2), font, scale, 255, 2, cv2.LINE_AA)
    return img, _f32(a.astype(np.float32) * np.float32(rng.uniform(0.4, 0.9) / 255))


def _draw_overlays(img: U8, rng: np.random.Generator, assets: ViewAssets, style: ViewStyle) -> None:
    """0..``style.overlays`` score bugs and logos, in alternating top corners (then bottom)."""
    h, w = img.shape[:2]
    n = int(rng.integers(0, style.overlays + 1))
    first_right = rng.random() < 0.5
    for j in range(n):
        if assets.overlays and rng.random() < 0.25:
            crop, alpha = assets.overlays[int(rng.integers(len(assets.overlays)))]
            s = w / _SOURCE_WIDTH * rng.uniform(0.8, 1.3)
            size = (max(4, round(crop.shape[1] * s)), max(4, round(crop.shape[0] * s)))
            crop = _u8(cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR))
            alpha = _f32(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR))
        else:
            crop, alpha = _synthetic_overlay(rng, w)
        ch, cw = alpha.shape
        if cw >= w or ch >= h:
            continue
        mx, my = int(w * rng.uniform(0.01, 0.06)), int(h * rng.uniform(0.02, 0.07))
        right = first_right != (j % 2 == 1)  # corners alternate: graphics never overlap
        x0 = w - mx - cw if right else mx
        y0 = my if j < 2 else h - my - ch
        _blend(
            img[y0 : y0 + ch, x0 : x0 + cw],
            np.ascontiguousarray(crop),
            np.ascontiguousarray(alpha, np.float32),
        )


def _camera_effects(img: U8, rng: np.random.Generator) -> U8:
    """Optics and sensor: vignetting, tone (exposure, gamma, white balance, contrast),
    saturation, blur or motion blur, noise, chromatic shift."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        v = np.float32(1.0) - np.float32(rng.uniform(0.05, 0.4)) * _radius2((w, h))
        v8 = cv2.convertScaleAbs(v, alpha=255.0)
        img = _u8(cv2.multiply(img, cv2.merge([v8, v8, v8]), scale=1 / 255))
    x = np.arange(256, dtype=np.float64) / 255
    gain = math.exp(rng.uniform(math.log(0.75), math.log(1.3)))
    gamma = math.exp(rng.uniform(math.log(0.8), math.log(1.25)))
    contrast = rng.uniform(0.75, 1.3)
    lift = rng.uniform(0, 0.06) if rng.random() < 0.3 else 0.0
    wb = np.clip(rng.normal(1.0, 0.05, 3), 0.85, 1.15)
    lut = np.empty((256, 1, 3), np.uint8)
    for c in range(3):
        y = np.clip(x * gain * wb[c], 0, 1) ** gamma
        y = (y - 0.5) * contrast + 0.5
        y = lift + (1 - lift) * y
        lut[:, 0, c] = np.clip(np.round(y * 255), 0, 255).astype(np.uint8)
    img = _u8(cv2.LUT(img, lut))
    if rng.random() < 0.6:
        s = rng.uniform(0.55, 1.25)
        grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        img = _u8(cv2.addWeighted(img, s, grey, 1 - s, 0))
    r = rng.random()
    if r < 0.45:
        img = _u8(cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.3)))
    elif r < 0.57:
        n = int(rng.integers(3, 10))
        kern = np.zeros((n, n), np.float32)
        a = rng.normal(0, 0.3)
        mid = (n - 1) / 2
        dx, dy = math.cos(a) * mid, math.sin(a) * mid
        p0, p1 = (round(mid - dx), round(mid - dy)), (round(mid + dx), round(mid + dy))
        cv2.line(kern, p0, p1, 1.0, 1, cv2.LINE_AA)
        img = _u8(cv2.filter2D(img, -1, kern / kern.sum()))
    if rng.random() < 0.6:
        noise = _noise_frame((w, h))
        oy, ox = (int(v) for v in rng.integers(0, 32, 2))
        k = rng.uniform(1.0, 7.0) / 16.0
        img = _u8(cv2.addWeighted(img, 1.0, noise[oy : oy + h, ox : ox + w], k, -128 * k))
    if rng.random() < 0.15:
        c = int(rng.choice([0, 2]))
        d = int(rng.choice([-1, 1])) * int(rng.integers(1, 3))
        img[:, :, c] = np.roll(img[:, :, c], d, axis=1)
    return np.asarray(img, np.uint8)


def _codec(img: U8, rng: np.random.Generator) -> U8:
    """Transmission: low-resolution source upscaled, interlacing, JPEG re-encoding."""
    h, w = img.shape[:2]
    if rng.random() < 0.3:
        s = rng.uniform(0.35, 0.8)
        small = cv2.resize(
            img, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA
        )
        img = _u8(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    if rng.random() < 0.05:
        d = int(rng.integers(1, 4))
        img = img.copy()
        img[1::2] = np.roll(img[1::2], d, axis=1)
    if rng.random() < 0.7:
        q = int(rng.integers(25, 96))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        dec = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        if dec is not None:
            img = _u8(dec)
    return np.asarray(img, np.uint8)


@lru_cache(maxsize=1)
def _warm_allocator() -> bool:
    """Free one 16 MB block once: glibc then raises its mmap threshold, so that full-frame
    temporaries are recycled instead of being mapped and faulted in anew (3-10x faster)."""
    block = np.empty(4 << 20, np.float32)
    del block
    return True


# --------------------------------------------------------------------------------------------
# The view
# --------------------------------------------------------------------------------------------
def render_view(
    image_to_pitch: np.ndarray,
    size: tuple[int, int],
    rng: np.random.Generator,
    assets: ViewAssets | None = None,
    pitch: Pitch | None = None,
    *,
    style: ViewStyle | None = None,
) -> U8:
    """A randomised broadcast-like BGR image (uint8, ``(h, w, 3)``) of the view ``image_to_pitch``.

    Args:
        image_to_pitch: (3, 3) homography, output pixels (continuous, see the module notes)
            -> touchline pitch metres.
        size: ``(width, height)`` of the output.
        rng: every random choice comes from it (a seed reproduces the image).
        assets: real stands, players and graphics (:func:`load_view_assets`); synthetic ones
            without.
        pitch: the pitch (line geometry); 105 x 68 m by default.
        style: ranges of the randomisation (:class:`ViewStyle`).

    The painted lines are exactly where ``image_to_pitch`` puts the pitch's lines (centres; the
    width varies around the standard 12 cm). Boards, stands and goals need a homography that is
    a pinhole camera view (as from :func:`sample_view`); otherwise they are left out.

    >>> from touchline.synth.camera import PinholeCamera
    >>> cam = PinholeCamera.look_at((52.5, 100.0, -20.0), (52.5, 34.0, 0.0), focal=400.0,
    ...                             image_size=(320, 180))
    >>> a = render_view(cam.image_to_pitch, (320, 180), np.random.default_rng(3))
    >>> b = render_view(cam.image_to_pitch, (320, 180), np.random.default_rng(3))
    >>> a.shape, bool((a == b).all())
    ((180, 320, 3), True)
    """
    _warm_allocator()
    pitch = pitch or Pitch()
    style = style or ViewStyle()
    assets = assets or ViewAssets.empty()
    size = (int(size[0]), int(size[1]))
    w, h = size
    if w < 8 or h < 8:
        raise ValueError(f"output size {size} is too small")
    H = _oriented(image_to_pitch, size)
    if not np.isfinite(H).all():
        raise ValueError("image_to_pitch is not finite")
    f = _fields(H, size)
    lit, light, base = _ground_raster(rng, pitch, style, H, size)
    mow = _draw_mowing(rng, pitch)
    G = cv2.warpPerspective(
        lit, _tex(-_GROUND_MARGIN, -_GROUND_MARGIN, 1 / _GROUND_MPT) @ H @ _HALF, size,
        flags=_WARP, borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    chans = list(cv2.split(G))
    texmask = chans[3]
    stripes = _mowing_field(mow, f, size)
    # Fine grass texture: periodic noise in pitch space (so it goes through perspective).
    fine_amp = rng.uniform(0.0, 0.12)
    fine_mpt = rng.uniform(0.04, 0.12)
    ang = rng.uniform(0, 2 * math.pi)
    sx, sy = 1 / fine_mpt, rng.uniform(0.5, 1.0) / fine_mpt
    R = np.array(
        [[math.cos(ang) * sx, -math.sin(ang) * sx], [math.sin(ang) * sy, math.cos(ang) * sy]]
    )
    # Centred on the nearest ground in view; +-1024 texels (41-123 m) around it, none beyond.
    near = np.nan_to_num(apply_homography(H, [[w / 2, h - 0.5]])[0])
    A = np.vstack([np.column_stack([R, 1024 + rng.uniform(-8, 8, 2) - R @ near]), [0, 0, 1.0]])
    fine8 = cv2.warpPerspective(
        _fine_texture(), A @ H @ _HALF, size, flags=_WARP, borderMode=cv2.BORDER_CONSTANT,
        borderValue=128,
    )  # fmt: skip
    fade = np.clip(np.float32(3 * fine_mpt) / np.maximum(f.sdet, 1e-4), 0.1, 1.0)
    fine = (fine8.astype(np.float32) - np.float32(128)) * (fade * np.float32(fine_amp / 32))
    for c in range(3):
        m = fine if stripes is None else stripes * np.float32(mow.tint[c]) + fine
        chans[c] = chans[c] * (np.float32(1.0) + texmask * m)
    # Painted lines.
    lw = rng.uniform(*style.line_width)
    strength = rng.uniform(*style.line_strength)
    r = rng.random()
    if r < 0.08:
        lc = np.array([150, 225, 240]) * rng.uniform(0.85, 1.05)  # yellowish
    elif r < 0.18:
        lc = np.full(3, rng.uniform(170, 215))  # greyish
    else:
        lc = np.full(3, rng.uniform(215, 255)) + rng.normal(0, 4, 3)
    ys, xs, cov = _line_pixels(H, size, pitch, lw / 2, f.smax)
    if len(ys):
        a = cov * np.float32(strength)
        px, py = f.X[ys, xs], f.Y[ys, xs]
        if rng.random() < style.line_wear:  # worn paint, gaps
            mid = _noise_bank()[1]
            s = rng.uniform(0.5, 2.5)
            o = rng.uniform(0, 512, 2)
            ix = np.mod(px * s + o[0], 512).astype(np.intp)
            iy = np.mod(py * s + o[1], 512).astype(np.intp)
            gaps = np.clip(1.5 - rng.uniform(0.5, 1.5) * mid[iy, ix], 0.1, 1.0)
            a = a * gaps.astype(np.float32)
        gh_, gw_ = light.shape[:2]
        lx = np.clip(((px + _GROUND_MARGIN) / _GROUND_MPT).astype(np.intp), 0, gw_ - 1)
        ly = np.clip(((py + _GROUND_MARGIN) / _GROUND_MPT).astype(np.intp), 0, gh_ - 1)
        lit_px = light[ly, lx]
        tex_px = 1 + 0.5 * fine[ys, xs]
        for c in range(3):
            cur = chans[c][ys, xs]
            paint = np.float32(lc[c]) * lit_px[:, c] * tex_px
            chans[c][ys, xs] = cur + a * (paint - cur)
    img = _u8(cv2.convertScaleAbs(cv2.merge(chans[:3])))
    cam = _camera(H, size)
    if style.surroundings:
        st = _draw_stadium(rng, pitch, cam, assets)
        _draw_stands(img, rng, f, H, size, pitch, st, assets)
        if cam is not None:
            _draw_boards(img, rng, cam, size, pitch, st, assets, back=True)
            _draw_goals(img, rng, cam, size, pitch)
        _draw_occluders(img, rng, H, cam, size, pitch, assets, style, light)
        if cam is not None:
            _draw_boards(img, rng, cam, size, pitch, st, assets, back=False)
    else:
        _draw_occluders(img, rng, H, cam, size, pitch, assets, style, light)
    if style.camera_effects:
        img = _camera_effects(img, rng)
    if style.overlays > 0:
        _draw_overlays(img, rng, assets, style)
    if style.camera_effects:
        img = _codec(img, rng)
    del base
    return np.ascontiguousarray(img, np.uint8)


# --------------------------------------------------------------------------------------------
# Cameras
# --------------------------------------------------------------------------------------------
def _pitch_share(H: F64, size: tuple[int, int], pitch: Pitch) -> float:
    """Share of a 24 x 14 grid of image points that lands on the pitch (+2 m), in front."""
    w, h = size
    g = np.stack(np.meshgrid(np.linspace(0.5, w - 0.5, 24), np.linspace(0.5, h - 0.5, 14)), -1)
    g = g.reshape(-1, 2)
    wq = np.concatenate([g, np.ones((len(g), 1))], 1) @ H[2]
    p = apply_homography(H, g)
    m = 2.0
    on = (
        (wq > 0)
        & (p[:, 0] > -m)
        & (p[:, 0] < pitch.length + m)
        & (p[:, 1] > -m)
        & (p[:, 1] < pitch.width + m)
    )
    return float(on.mean())


def _sample_camera(
    rng: np.random.Generator, size: tuple[int, int], poses: Sequence[CameraPose], pitch: Pitch
) -> PinholeCamera:
    L, W = pitch.length, pitch.width
    r = rng.random()
    logu = lambda lo, hi: math.exp(rng.uniform(math.log(lo), math.log(hi)))  # noqa: E731
    if r < 0.55:  # the main camera, from a real pose
        pose = poses[int(rng.integers(len(poses)))]
        x, y, z = pose.position
        C = np.array(
            [x + rng.normal(0, 4), W + (y - W) * rng.uniform(0.8, 1.25), z * rng.uniform(0.8, 1.3)]
        )
        view = pose.view_width * rng.uniform(0.7, 1.4) if rng.random() < 0.5 else logu(15, 70)
    elif r < 0.67:  # high main camera
        C = np.array([L / 2 + rng.normal(0, 10), W + rng.uniform(25, 60), -rng.uniform(22, 45)])
        view = logu(18, 75)
    elif r < 0.77:  # low main camera
        C = np.array([L / 2 + rng.normal(0, 15), W + rng.uniform(8, 25), -rng.uniform(5, 9)])
        view = logu(15, 55)
    elif r < 0.87:  # close, low camera along the touchline (tactical cam)
        C = np.array([rng.uniform(5, L - 5), W + rng.uniform(3, 12), -rng.uniform(8, 15)])
        view = logu(15, 50)
    else:  # behind a goal
        left = rng.random() < 0.5
        back = rng.uniform(8, 35)
        C = np.array([-back if left else L + back, W / 2 + rng.normal(0, 8), -rng.uniform(5, 22)])
        view = logu(15, 55)
    if r >= 0.87:
        ax = rng.uniform(3, 40)
        ax = ax if C[0] < 0 else L - ax
        ay = W / 2 + rng.normal(0, 12)
    elif 0.77 <= r < 0.87:
        ax = C[0] + rng.normal(0, 15)
        ay = rng.uniform(0.25 * W, W + 2)
    elif rng.random() < 0.15:  # a corner (kick)
        sx, sy = rng.choice([-1.0, 1.0], 2)
        ax = (0.0 if sx < 0 else L) - sx * rng.uniform(2, 18)
        ay = (0.0 if sy < 0 else W) - sy * rng.uniform(2, 15)
    else:
        ax = rng.uniform(-5, L + 5) if rng.random() < 0.6 else C[0] + rng.normal(0, 25)
        ay = rng.normal(29, 9) if rng.random() < 0.65 else rng.uniform(-3, W + 3)
    ax, ay = float(np.clip(ax, -8, L + 8)), float(np.clip(ay, -4, W + 4))
    view = float(np.clip(view, 12, 80))
    dist = float(np.linalg.norm(np.array([ax, ay, 0.0]) - C))
    focal = size[0] * dist / view
    roll = math.radians(float(np.clip(rng.normal(0, 0.9), -2.9, 2.9)))
    return PinholeCamera.look_at(C, (ax, ay, 0.0), focal=focal, image_size=size, roll=roll)


def sample_view(
    rng: np.random.Generator,
    size: tuple[int, int],
    poses: Sequence[CameraPose] | None = None,
    *,
    pitch: Pitch | None = None,
) -> F64:
    """A random broadcast camera view: the (3, 3) output px -> pitch metres homography.

    Camera families: the main camera (from a real pose of ``poses``, moved, raised or lowered),
    a high and a low main camera, a close low camera along the touchline (8-15 m up) and a
    camera behind a goal. Pan and tilt aim anywhere on the pitch (both goals, corners, the
    centre, the touchlines), the zoom frames 15-70 m of ground at the aim point, the roll is
    within 3 degrees. Views that are not plausible cameras or show less than 30 % pitch are
    redrawn.

    Args:
        rng: the random generator.
        size: ``(width, height)`` of the output.
        poses: real camera placements (:func:`touchline.synth.camera.load_broadcast_poses` on
            ``calibration/broadcast_camera_homographies.npz``); the built-in ones when None.
        pitch: the pitch; 105 x 68 m by default.

    >>> H = sample_view(np.random.default_rng(1), (640, 360))
    >>> from touchline.geometry.homography import plausibility
    >>> plausibility(H, (640, 360))
    []
    """
    pitch = pitch or Pitch()
    size = (int(size[0]), int(size[1]))
    poses = list(poses) if poses else builtin_poses(pitch)
    for _ in range(200):
        try:
            cam = _sample_camera(rng, size, poses, pitch)
        except DataError:
            continue
        H = _oriented(cam.image_to_pitch, size)
        if not np.isfinite(H).all() or plausibility(H, size, (pitch.length, pitch.width)):
            continue
        if _pitch_share(H, size, pitch) < 0.3:
            continue
        return H
    raise DataError("sample_view: no plausible camera in 200 draws (check the poses)")
