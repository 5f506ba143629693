"""Train the pitch calibration network (torch, CPU), resumable, and export it to ONNX.

The model (:class:`KeypointNet`, about 1.2 M parameters) is a small residual encoder with a
feature-pyramid decoder. At a quarter of the input resolution it predicts one heatmap per
keypoint of :data:`touchline.calib.keypoints.MODEL_KEYPOINTS`, one map per painted line of
:data:`touchline.calib.keypoints.MODEL_LINES` (each line its own channel, so that the calibrator
can fit and intersect lines and fit the circles as conics), a map of any painted line and a
pitch-area map; from pooled features it regresses where four image points land on the pitch
(the *direct* estimate, a second opinion).

Every target comes from a frame's homography (labelled points where they exist, projected ones
elsewhere), so augmentations that move the camera (zoom, crop, roll, perspective, horizontal
flip with the keypoint and line flip maps) keep exact labels. Training data:

* real labelled frames, named as folders of ``../shared/data/pitch_keypoints``: only those of
  :data:`touchline.data.CALIBRATION_TRAINING_SETS` are accepted (every other set is kept for
  evaluation), with strong photometric randomisation (grass hue, faded lines, shadows, blur,
  compression, pasted players);
* synthetic views rendered on the fly by :mod:`touchline.synth.pitchview` under the real
  broadcast cameras of ``calibration/broadcast_camera_homographies.npz`` with heavy domain
  randomisation (grass, mowing patterns, faint lines, light, stands, players, codecs).

A run writes ``checkpoint.pt`` every ``checkpoint_every`` steps (atomically) and resumes from it
when started again with the same command, so a schedule longer than a sitting runs in pieces.
``--init`` starts from the weights of an earlier run (fine-tuning); the shipped model and the
leave-one-match-out models are fine-tunes of one base run (see ``src/touchline/models/README.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.calib.keypoints import MODEL_KEYPOINTS, MODEL_LINES, decode_heatmaps
from touchline.data import CALIBRATION_TRAINING_SETS
from touchline.datasets.yolo_pose import fit_label_homography, fix_near_far, read_split
from touchline.errors import DataError, DependencyError
from touchline.geometry.homography import (
    apply_homography,
    cv2_matrix,
    plausibility,
    ransac_homography,
    refine_homography,
)
from touchline.pitch import Arc, Pitch, Segment, flip_permutation, nearest_on_element
from touchline.train.common import (
    Normalised,
    ResBlock,
    cbr,
    cosine_lr,
    ema_and_optimiser,
    export_onnx_program,
    optimise,
    save_atomic,
    shared_root,
    start_training,
    to_tensor,
)

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise DependencyError("torch", "train") from e

__all__ = ["KeypointNet", "TrainConfig", "export_onnx", "main", "train"]

F64 = NDArray[np.float64]
CACHE_SIZE = (1024, 576)
STRIDE = 4
#: Image points (fractions of width, height) whose pitch positions the direct head regresses.
DIRECT_POINTS = np.array([[0.0, 0.5], [1.0, 0.5], [0.0, 1.0], [1.0, 1.0]])
#: Extra maps after the keypoint and line channels, in output order.
EXTRA_MAPS = ("line", "area")
#: Width (standard deviation, in heatmap cells) of the painted-line targets.
LINE_SIGMA_CELLS = 0.8
#: Frames whose label fit leaves a larger median residual (px at 1920x1080) are dropped.
MAX_LABEL_RESIDUAL_PX = 12.0


def n_channels(n_keypoints: int = len(MODEL_KEYPOINTS), n_lines: int = len(MODEL_LINES)) -> int:
    """Output maps of the network: keypoints, lines, any line, pitch area."""
    return n_keypoints + n_lines + len(EXTRA_MAPS)


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------
class KeypointNet(nn.Module):
    """Heatmaps (keypoints, lines, any line, area) at stride 4 and the direct estimate."""

    def __init__(
        self,
        n_out: int | None = None,
        widths: tuple[int, ...] = (16, 32, 48, 96, 128),
        fpn: int = 64,
    ):
        super().__init__()
        w = widths
        self.n_out = n_out or n_channels()
        self.stem = cbr(3, w[0], 3, 2)
        self.s4 = nn.Sequential(cbr(w[0], w[1], 3, 2), ResBlock(w[1]))
        self.s8 = nn.Sequential(cbr(w[1], w[2], 3, 2), ResBlock(w[2]))
        self.s16 = nn.Sequential(cbr(w[2], w[3], 3, 2), ResBlock(w[3]), ResBlock(w[3], 2))
        self.s32 = nn.Sequential(cbr(w[3], w[4], 3, 2), ResBlock(w[4], 2), ResBlock(w[4], 4))
        self.glob = nn.Linear(w[4], w[4])
        c = fpn
        self.l32, self.l16 = nn.Conv2d(w[4], c, 1), nn.Conv2d(w[3], c, 1)
        self.l8, self.l4 = nn.Conv2d(w[2], c, 1), nn.Conv2d(w[1], c, 1)
        self.head = nn.Sequential(cbr(c, c, 3), nn.Conv2d(c, self.n_out, 1))
        self.direct = nn.Sequential(
            nn.Linear(2 * w[4], 128), nn.ReLU(inplace=True), nn.Linear(128, 8)
        )
        with torch.no_grad():  # heatmaps start near zero (focal-loss prior)
            self.head[-1].bias.fill_(-4.0)  # type: ignore[operator]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)
        f4 = self.s4(x)
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        g = f32.mean((2, 3))
        f32 = f32 + self.glob(g)[:, :, None, None]
        p = self.l32(f32)
        for lat, f in ((self.l16, f16), (self.l8, f8), (self.l4, f4)):
            p = F.interpolate(p, size=f.shape[-2:], mode="nearest") + lat(f)
        return self.head(p), self.direct(torch.cat([g, f32.amax((2, 3))], 1))


class _Exported(Normalised):
    """What ships: normalisation inside, probabilities out."""

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # image: (b, 3, h, w) float32 RGB in 0..255
        maps, direct = self.net(self.normalise(image))
        return torch.sigmoid(maps), direct


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
@dataclass
class _Sample:
    image: np.ndarray  # BGR uint8 at CACHE_SIZE
    H: F64  # cache px -> pitch metres
    points: F64  # (k, 2) labelled points in cache px, nan where not labelled
    name: str


def _scale(sx: float, sy: float) -> F64:
    return np.diag([sx, sy, 1.0])


def _label_residual(H: F64, img_pts: F64, pitch_pts: F64) -> float:
    """Median distance (px) between labelled points and the label homography's projections."""
    proj = apply_homography(np.linalg.inv(H), pitch_pts)
    return float(np.median(np.linalg.norm(proj - img_pts, axis=1)))


def load_real(split_dir: Path, names: tuple[str, ...] = MODEL_KEYPOINTS, log=None) -> list[_Sample]:
    """Labelled frames at the cache size with their fitted homographies.

    Near/far swapped labels are repaired; frames with fewer than 4 usable labels, an
    implausible camera, or a label fit with a median residual above
    :data:`MAX_LABEL_RESIDUAL_PX` (mislabelled points) are dropped and counted in the log.
    """
    pitch = Pitch()
    out: list[_Sample] = []
    dropped: dict[str, int] = {}
    for s in read_split(split_dir):
        label, _fixed = fix_near_far(s.label, pitch)
        H = fit_label_homography(label, pitch)
        reason = None
        if H is None:
            reason = "fewer than 4 labels"
        elif plausibility(H, label.frame_size):
            reason = "implausible camera"
        else:
            v = label.visible
            if _label_residual(H, label.points[v], label.pitch_points(pitch)[v]) > (
                MAX_LABEL_RESIDUAL_PX
            ):
                reason = "label residual"
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        assert H is not None
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if img is None:
            raise DataError(f"{s.image}: cannot decode image")
        img = cv2.resize(img, CACHE_SIZE, interpolation=cv2.INTER_AREA)
        fw, fh = label.frame_size
        S = _scale(CACHE_SIZE[0] / fw, CACHE_SIZE[1] / fh)
        pts = np.full((len(names), 2), np.nan)
        idx = {n: i for i, n in enumerate(label.names)}
        for j, n in enumerate(names):
            if n in idx:
                pts[j] = label.points[idx[n]] * (S[0, 0], S[1, 1])
        out.append(_Sample(img, H @ np.linalg.inv(S), pts, s.image.name))
    if log is not None:
        log(f"{split_dir}: {len(out)} frames, dropped {dropped or 'none'}")
    return out


def load_pseudo(path: Path) -> list[_Sample]:
    """Pseudo-labelled frames written by :mod:`touchline.train.pseudo`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            images, Hs, names = z["images"], z["H"], z["source"]
    except (OSError, KeyError, ValueError) as e:
        raise DataError(f"{path}: not a pseudo-label file ({e})") from None
    if images.shape[1:3] != (CACHE_SIZE[1], CACHE_SIZE[0]):
        raise DataError(f"{path}: images are {images.shape[1:3]}, expected {CACHE_SIZE[::-1]}")
    nan = np.full((len(MODEL_KEYPOINTS), 2), np.nan)
    return [
        _Sample(np.ascontiguousarray(im), H / H[2, 2], nan, str(n))
        for im, H, n in zip(images, Hs, names, strict=True)
    ]


def _augment_matrix(rng: np.random.Generator, out_size: tuple[int, int]) -> F64:
    """A random camera move: cache px -> output px (zoom, crop, roll, perspective)."""
    W, Hh = CACHE_SIZE
    ow, oh = out_size
    zoom = math.exp(rng.uniform(0.0, math.log(2.2))) if rng.random() < 0.85 else 1.0
    cw, ch = W / zoom, Hh / zoom
    cx = rng.uniform(cw / 2, W - cw / 2)
    cy = rng.uniform(ch / 2, Hh - ch / 2)
    ang = math.radians(rng.normal(0, 1.5))
    src = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    src = src @ rot.T + (cx, cy)
    src += rng.normal(0, 0.015, src.shape) * (cw, ch)
    dst = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], dtype=np.float64)
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)).astype(
        np.float64
    )


def _photometric(img: np.ndarray, rng: np.random.Generator, lines: np.ndarray) -> np.ndarray:
    """Strong appearance randomisation of a real frame (its geometry is untouched).

    ``lines`` is the painted-line target at the image size (0..1): it lets the painted lines be
    faded towards the grass around them (faint, worn lines of other grounds).
    """
    x: np.ndarray = img.astype(np.float32)
    if rng.random() < 0.5:  # faded lines: blend line pixels towards the local background
        bg = cv2.medianBlur(img, 5).astype(np.float32)
        a = rng.uniform(0.3, 0.85) * lines[..., None]
        x = x * (1 - a) + bg * a
    if rng.random() < 0.85:  # grass hue (green to yellow/blue-green), saturation, value
        hsv = cv2.cvtColor(np.clip(x, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV).astype(
            np.float32
        )
        hsv[..., 0] = (hsv[..., 0] + rng.normal(0, 6)) % 180
        hsv[..., 1] *= rng.uniform(0.45, 1.35)
        hsv[..., 2] *= rng.uniform(0.65, 1.3)
        x = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(
            np.float32
        )
    if rng.random() < 0.35:  # a stadium shadow: a soft-edged half-plane, darker and bluer
        h, w = x.shape[:2]
        ang = rng.uniform(0, 2 * math.pi)
        n = np.array([math.cos(ang), math.sin(ang)])
        yy, xx = np.mgrid[0:h:4, 0:w:4].astype(np.float32)  # at a quarter resolution
        d = (xx - rng.uniform(0, w)) * n[0] + (yy - rng.uniform(0, h)) * n[1]
        soft = rng.uniform(2, 30)
        m = cv2.resize(1 / (1 + np.exp(-d / soft)), (w, h), interpolation=cv2.INTER_LINEAR)
        dark = rng.uniform(0.35, 0.8)
        tint = np.array([rng.uniform(1.0, 1.15), 1.0, rng.uniform(0.85, 1.0)], np.float32)
        x = x * (1 - m[..., None] * (1 - dark * tint))
    x = (x - 128) * rng.uniform(0.7, 1.3) + 128 + rng.normal(0, 14)
    if rng.random() < 0.3:
        x *= np.array(rng.uniform(0.85, 1.15, 3), np.float32)  # white balance
    if rng.random() < 0.2:
        g = rng.uniform(0.7, 1.4)
        x = 255 * (np.clip(x, 0, 255) / 255) ** g
    if rng.random() < 0.35:
        x = np.asarray(cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.6)), np.float32)
    if rng.random() < 0.15:  # horizontal motion blur (fast pans)
        k = int(rng.integers(3, 9))
        ker = np.zeros((k, k), np.float32)
        ker[k // 2] = 1.0 / k
        x = cv2.filter2D(x, -1, ker)
    if rng.random() < 0.3:
        x += rng.normal(0, rng.uniform(2, 8), x.shape).astype(np.float32)
    if rng.random() < 0.05:
        x[:] = x.mean(axis=2, keepdims=True)
    out: np.ndarray = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:  # low-resolution broadcast
        h, w = out.shape[:2]
        f = rng.uniform(0.4, 0.8)
        small = cv2.resize(
            out, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
        )
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.4:  # compression
        q = int(rng.integers(25, 90))
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
        dec = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        if dec is not None:
            out = dec
    return out


def _distance_normal(e: Segment | Arc, p: F64) -> tuple[F64, F64]:
    """Distance (m) from points ``(n, 2)`` to a painted element's centre line and the unit
    normal ``(n, 2)`` pointing from the line to each point (the line's normal on it)."""
    if isinstance(e, Arc) and e.filled:
        v = p - np.asarray(e.center, float)
        r = np.hypot(v[:, 0], v[:, 1])
        return np.maximum(r - e.radius, 0.0), v / np.maximum(r, 1e-9)[:, None]
    q, normal = nearest_on_element(e, p)
    v = p - q
    d = np.hypot(v[:, 0], v[:, 1])
    n = np.where((d > 1e-6)[:, None], v / np.maximum(d, 1e-12)[:, None], normal)
    return d, n


@dataclass
class _Batch:
    images: torch.Tensor
    heat: torch.Tensor
    direct: torch.Tensor
    direct_mask: torch.Tensor


class _Targets:
    """Network inputs and targets for a sample under a random (or no) augmentation."""

    def __init__(
        self,
        pitch: Pitch,
        names: tuple[str, ...] = MODEL_KEYPOINTS,
        lines: tuple[str, ...] = MODEL_LINES,
        sigma: float = 1.0,
    ):
        self.pitch = pitch
        self.names = names
        self.lines = lines
        self.kp = pitch.keypoint_array(names)
        self.flip = flip_permutation(names)
        self.line_flip = flip_permutation(lines)
        self.sigma = sigma
        self.mirror = np.array([[-1.0, 0, pitch.length], [0, 1, 0], [0, 0, 1]])
        # Bounding box of every painted element (lines are only evaluated near it).
        self.boxes: dict[str, tuple[F64, F64]] = {}
        for e in pitch.elements:
            if isinstance(e, Segment):
                a, b = np.asarray(e.start, float), np.asarray(e.end, float)
                self.boxes[e.name] = (np.minimum(a, b), np.maximum(a, b))
            else:
                c = np.asarray(e.center, float)
                self.boxes[e.name] = (c - e.radius, c + e.radius)

    def make(
        self,
        s: _Sample,
        rng: np.random.Generator,
        out_size: tuple[int, int],
        augment: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, F64, NDArray[np.bool_]]:
        ow, oh = out_size
        if augment:
            A = _augment_matrix(rng, out_size)
        else:
            A = _scale(ow / CACHE_SIZE[0], oh / CACHE_SIZE[1])
        src_img = s.image
        scale = math.sqrt(abs(np.linalg.det(A[:2, :2]))) / max(abs(A[2, 2]), 1e-9)
        if scale < 0.7:  # shrink with area averaging first: a warp alone aliases thin lines
            f = min(1.0, scale * 1.25)
            size = (max(8, round(CACHE_SIZE[0] * f)), max(8, round(CACHE_SIZE[1] * f)))
            src_img = cv2.resize(s.image, size, interpolation=cv2.INTER_AREA)
            A_img = A @ _scale(CACHE_SIZE[0] / size[0], CACHE_SIZE[1] / size[1])
        else:
            A_img = A
        img = cv2.warpPerspective(
            src_img,
            cv2_matrix(A_img),
            out_size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        H = s.H @ np.linalg.inv(A)  # out px -> pitch
        pts = apply_homography(A, s.points)
        flipped = False
        if augment and rng.random() < 0.5:
            img = img[:, ::-1].copy()
            Fx = np.array([[-1.0, 0, ow], [0, 1, 0], [0, 0, 1]])
            H = self.mirror @ H @ Fx
            pts = apply_homography(Fx, pts)[self.flip]
            flipped = True
        heat = self.heatmaps(H, pts, out_size)
        if augment:
            k = len(self.names) + len(self.lines)
            up = cv2.resize(heat[k], out_size, interpolation=cv2.INTER_LINEAR)
            img = _photometric(img, rng, np.clip(up * 1.5, 0, 1))
        del flipped
        direct, dmask = self.direct(H, out_size)
        return img, heat, direct, dmask

    def synthetic(
        self, rng: np.random.Generator, out_size: tuple[int, int], poses: Any, assets: Any
    ) -> tuple[np.ndarray, np.ndarray, F64, NDArray[np.bool_]]:
        """A domain-randomised synthetic view (:mod:`touchline.synth.pitchview`) and its targets."""
        from touchline.synth.pitchview import render_view, sample_view

        H = sample_view(rng, out_size, poses)
        img = render_view(H, out_size, rng, assets, self.pitch)
        nan = np.full((len(self.names), 2), np.nan)
        heat = self.heatmaps(H, nan, out_size)
        direct, dmask = self.direct(H, out_size)
        return img, heat, direct, dmask

    def _cell_pitch(self, H: F64, out_size: tuple[int, int]) -> tuple[F64, NDArray[np.bool_]]:
        """Pitch position (m) of every stride-4 cell centre, and whether it is on the ground."""
        ow, oh = out_size
        gw, gh = ow // STRIDE, oh // STRIDE
        cx = (np.arange(gw) + 0.5) * STRIDE
        cy = (np.arange(gh) + 0.5) * STRIDE
        gxx, gyy = np.meshgrid(cx, cy)
        q = np.stack([gxx, gyy, np.ones_like(gxx)], -1) @ H.T
        ok = np.sign(q[..., 2]) == np.sign((np.array([ow / 2, oh, 1.0]) @ H.T)[2])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = q[..., :2] / q[..., 2:3]
        p[~ok] = np.nan
        return p, ok

    def heatmaps(self, H: F64, labelled: F64, out_size: tuple[int, int]) -> NDArray[np.float32]:
        """Targets ``(k + l + 2, h / 4, w / 4)``: keypoints, lines, any line, pitch area."""
        ow, oh = out_size
        gw, gh = ow // STRIDE, oh // STRIDE
        nk, nl = len(self.kp), len(self.lines)
        out = np.zeros((nk + nl + 2, gh, gw), np.float32)
        proj = apply_homography(np.linalg.inv(H), self.kp)
        front = self._front(H, self.kp, out_size)
        pts = np.where(np.isfinite(labelled), labelled, proj)
        pts[~front] = np.nan
        cx = (np.arange(gw) + 0.5) * STRIDE
        cy = (np.arange(gh) + 0.5) * STRIDE
        s2 = 2 * (self.sigma * STRIDE) ** 2
        for k, (x, y) in enumerate(pts):
            if not (np.isfinite(x) and -STRIDE < x < ow + STRIDE and -STRIDE < y < oh + STRIDE):
                continue
            gx = np.exp(-((cx - x) ** 2) / s2)
            gy = np.exp(-((cy - y) ** 2) / s2)
            out[k] = np.outer(gy, gx)
        p, ok = self._cell_pitch(H, out_size)
        flat = p.reshape(-1, 2)
        fin = np.isfinite(flat).all(1)
        # Line targets are one cell wide IN THE IMAGE whatever the perspective: the pitch
        # distance to a line is divided by how many metres one cell spans across the line
        # (|J^T n|, J the cell -> pitch Jacobian, n the line's normal on the pitch). Far lines
        # are thin in the image but still on the cells they cross.
        dpx = np.gradient(p, axis=1).reshape(-1, 2)
        dpy = np.gradient(p, axis=0).reshape(-1, 2)
        nb = ok & np.roll(ok, 1, 0) & np.roll(ok, -1, 0) & np.roll(ok, 1, 1) & np.roll(ok, -1, 1)
        valid = nb.reshape(-1) & fin & np.isfinite(dpx).all(1) & np.isfinite(dpy).all(1)
        mpc = np.hypot(np.hypot(*dpx.T), np.hypot(*dpy.T))
        cap = min(3.0 * float(np.nanmax(np.where(valid, mpc, 0.0))) + 0.5, 15.0)
        any_line = np.zeros(gh * gw, np.float32)
        px = np.where(valid, flat[:, 0], np.inf)
        py = np.where(valid, flat[:, 1], np.inf)
        for name, (lo, hi) in self.boxes.items():
            near = (px > lo[0] - cap) & (px < hi[0] + cap) & (py > lo[1] - cap) & (py < hi[1] + cap)
            if not near.any():
                continue
            d, n = _distance_normal(self.pitch.element(name), flat[near])
            across = np.hypot((dpx[near] * n).sum(1), (dpy[near] * n).sum(1))
            dc = d / np.maximum(across, 1e-6)
            v = np.zeros(gh * gw, np.float32)
            v[near] = np.exp(-0.5 * (dc / LINE_SIGMA_CELLS) ** 2)
            np.maximum(any_line, v, out=any_line)
            if name in self.lines:
                out[nk + self.lines.index(name)] = v.reshape(gh, gw)
        out[nk + nl] = any_line.reshape(gh, gw)
        area = (
            (p[..., 0] >= 0)
            & (p[..., 0] <= self.pitch.length)
            & (p[..., 1] >= 0)
            & (p[..., 1] <= self.pitch.width)
        )
        out[nk + nl + 1] = area & ok
        return out

    @staticmethod
    def _front(H: F64, pitch_pts: F64, out_size: tuple[int, int]) -> NDArray[np.bool_]:
        """Pitch points in front of the camera: on the image side of the horizon.

        ``inv(H) @ [X, 1]`` has a third coordinate of the same sign for every point in front;
        the bottom centre of the image (on the ground, in front) fixes which sign.
        """
        ref = (H @ np.array([out_size[0] / 2, out_size[1], 1.0]))[2]
        wq = (np.concatenate([pitch_pts, np.ones((len(pitch_pts), 1))], 1) @ np.linalg.inv(H).T)[
            :, 2
        ]
        return np.sign(wq) == np.sign(ref)

    def direct(self, H: F64, out_size: tuple[int, int]) -> tuple[F64, NDArray[np.bool_]]:
        ow, oh = out_size
        img_pts = DIRECT_POINTS * (ow, oh)
        q = np.concatenate([img_pts, np.ones((4, 1))], 1) @ H.T
        ref = (np.array([ow / 2, oh, 1.0]) @ H.T)[2]
        ok = np.sign(q[:, 2]) == np.sign(ref)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = q[:, :2] / q[:, 2:3]
        p = p / (self.pitch.length, self.pitch.width)
        ok &= np.isfinite(p).all(1) & (np.abs(p - 0.5) < 2.5).all(1)
        return np.nan_to_num(p).ravel(), np.repeat(ok, 2)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Everything that decides the weights (recorded in ``calib.json`` and the checkpoint)."""

    real: list[str] = field(default_factory=lambda: ["dfl/train"])
    real_weights: list[float] = field(default_factory=lambda: [1.0])
    valid: str = "dfl/valid"
    seed: int = 0
    batch: int = 16
    phases: list[tuple[int, int, int]] = field(
        default_factory=lambda: [(448, 252, 3000), (640, 360, 1200)]
    )  # (width, height, iterations)
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 300
    ema: float = 0.998
    synth_share: float = 0.45
    eval_every: int = 500
    checkpoint_every: int = 250
    threads: int = 2
    init: str | None = None  # weights of an earlier run (fine-tuning)
    pseudo: list[str] = field(default_factory=list)  # pseudo-label files (touchline.train.pseudo)
    pseudo_weight: float = 1.0  # sampling weight of each pseudo-label file

    def fingerprint(self) -> str:
        d = asdict(self)
        d.pop("threads")
        d.pop("eval_every")
        d.pop("checkpoint_every")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def _focal(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Quality focal loss on soft Gaussian targets, normalised by the target mass."""
    p = torch.sigmoid(pred)
    bce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
    return (bce * (p - target).abs().pow(2)).sum() / target.sum().clamp(min=1.0)


def _loss(
    maps: torch.Tensor, direct: torch.Tensor, b: _Batch, nk: int, nl: int
) -> dict[str, torch.Tensor]:
    kp = _focal(maps[:, :nk], b.heat[:, :nk])
    lines = _focal(maps[:, nk : nk + nl], b.heat[:, nk : nk + nl])
    line = F.binary_cross_entropy_with_logits(maps[:, nk + nl], b.heat[:, nk + nl]) * 5.0
    area = F.binary_cross_entropy_with_logits(maps[:, nk + nl + 1], b.heat[:, nk + nl + 1])
    m = b.direct_mask
    dl = (
        F.smooth_l1_loss(direct, b.direct, reduction="none", beta=0.05) * m
    ).sum() / m.sum().clamp(min=1.0)
    return {"kp": kp, "lines": lines, "line": line, "area": area, "direct": dl}


def _evaluate(model: nn.Module, samples: list, size: tuple[int, int]) -> dict[str, float]:
    """Median reprojection error (px at 1920x1080) of a RANSAC homography from decoded peaks."""
    model.eval()
    pitch = Pitch()
    kp = pitch.keypoint_array(MODEL_KEYPOINTS)
    errs, fails = [], 0
    with torch.no_grad():
        for s in samples:
            img = cv2.resize(s.image, size, interpolation=cv2.INTER_AREA)
            maps, _ = model(to_tensor([img]))
            hm = torch.sigmoid(maps[0, : len(MODEL_KEYPOINTS)]).numpy()
            pts, score = decode_heatmaps(hm, STRIDE, 0.2)
            ok = np.isfinite(pts).all(1)
            sx, sy = 1920 / size[0], 1080 / size[1]
            r = ransac_homography(kp[ok], pts[ok] * (sx, sy), 12.0, score[ok])
            lab = np.isfinite(s.points).all(1)
            true = s.points[lab] * (1920 / CACHE_SIZE[0], 1080 / CACHE_SIZE[1])
            if r.H is None:
                fails += 1
                errs.append(1e3)
                continue
            Hr = refine_homography(
                r.H, kp[ok][r.inliers], (pts[ok] * (sx, sy))[r.inliers], score[ok][r.inliers]
            )
            e = np.linalg.norm(apply_homography(Hr, kp[lab]) - true, axis=1)
            errs.append(float(np.nan_to_num(np.median(e), nan=1e3)))
    model.train()
    return {
        "reproj_px_median": float(np.median(errs)) if errs else float("nan"),
        "reproj_px_mean_clip": float(np.mean(np.minimum(errs, 100))) if errs else float("nan"),
        "fails": fails,
    }


def _check_sources(cfg: TrainConfig) -> None:
    if len(cfg.real) != len(cfg.real_weights):
        raise DataError(
            f"{len(cfg.real)} real sources but {len(cfg.real_weights)} weights: give one each"
        )
    for src in cfg.real:
        if src.strip("/") not in CALIBRATION_TRAINING_SETS:
            raise DataError(
                f"{src} is not a training set: calibration trains only on "
                f"{', '.join(CALIBRATION_TRAINING_SETS)} (the rest are for evaluation)"
            )


def train(cfg: TrainConfig, out: Path, data_root: Path | None = None, log=print) -> Path:
    """Train (resuming from ``out/checkpoint.pt`` when present), export the final EMA weights to
    ``calib.onnx`` + ``calib.json``."""
    _check_sources(cfg)
    start_training(cfg.seed, cfg.threads)
    root = shared_root(data_root)
    t0 = time.time()
    kp_root = root / "pitch_keypoints"
    real = [load_real(kp_root / src, log=log) for src in cfg.real]
    for f in cfg.pseudo:
        real.append(load_pseudo(Path(f)))
        log(f"{f}: {len(real[-1])} pseudo-labelled frames")
    valid = load_real(kp_root / cfg.valid, log=log) if cfg.valid else []
    poses, assets = _synthetic_sources(root, cfg, log)
    out.mkdir(parents=True, exist_ok=True)
    pitch = Pitch()
    tg = _Targets(pitch)
    nk, nl = len(MODEL_KEYPOINTS), len(MODEL_LINES)
    model = KeypointNet()
    ema = KeypointNet()
    if cfg.init:
        state = torch.load(cfg.init, map_location="cpu")
        model.load_state_dict(state.get("ema", state) if isinstance(state, dict) else state)
        log(f"initialised from {cfg.init}")
    opt = ema_and_optimiser(model, ema, cfg.lr, cfg.weight_decay)
    total = sum(p[2] for p in cfg.phases)
    step, history = 0, []
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():
        st = torch.load(ckpt, map_location="cpu", weights_only=False)
        if st.get("fingerprint") != cfg.fingerprint():
            raise DataError(
                f"{ckpt}: made with another configuration; use another --out or delete it"
            )
        model.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        step, history = int(st["step"]), list(st["history"])
        torch.set_rng_state(st["torch_rng"])
        log(f"resumed from {ckpt} at step {step}")
    weights = np.asarray([*cfg.real_weights, *[cfg.pseudo_weight] * len(cfg.pseudo)], float)
    weights = weights / weights.sum()
    bounds = np.cumsum([p[2] for p in cfg.phases])

    def make_batch(k: int) -> _Batch:
        """Batch ``k``: its own generator seeded by (seed, k), so that a resumed run draws
        the same batches and a background thread can prepare them ahead."""
        r = np.random.default_rng([cfg.seed, k])
        w, h, _ = cfg.phases[int(np.searchsorted(bounds, k, side="right"))]
        imgs, heats, dirs, masks = [], [], [], []
        for _ in range(cfg.batch):
            if poses is not None and r.random() < cfg.synth_share:
                img, heat, d, m = tg.synthetic(r, (w, h), poses, assets)
            else:
                src = real[int(r.choice(len(real), p=weights))]
                img, heat, d, m = tg.make(src[int(r.integers(len(src)))], r, (w, h))
            imgs.append(img)
            heats.append(heat)
            dirs.append(d)
            masks.append(m)
        return _Batch(
            to_tensor(imgs),
            torch.from_numpy(np.stack(heats)),
            torch.from_numpy(np.stack(dirs).astype(np.float32)),
            torch.from_numpy(np.stack(masks).astype(np.float32)),
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(make_batch, step) if step < total else None
        while step < total:
            ph = int(np.searchsorted(bounds, step, side="right"))
            w, h, _ = cfg.phases[ph]
            lr = cosine_lr(cfg.lr, step, total, cfg.warmup)
            assert ahead is not None
            b = ahead.result()
            ahead = pool.submit(make_batch, step + 1) if step + 1 < total else None
            maps, direct = model(b.images)
            losses = _loss(maps, direct, b, nk, nl)
            optimise(
                model, ema, opt, losses, lr=lr, step=step, ema_decay=cfg.ema, max_grad_norm=5.0
            )
            step += 1
            if step % 50 == 0:
                log(
                    f"step {step}/{total} {w}x{h} lr {lr:.2e} "
                    + " ".join(f"{k} {v.item():.4f}" for k, v in losses.items())
                    + f" ({time.time() - t0:.0f} s)"
                )
            if valid and (step % cfg.eval_every == 0 or step == total):
                ev: dict[str, Any] = _evaluate(ema, valid, (w, h))
                ev |= {"step": step, "size": [w, h], "seconds": round(time.time() - t0)}
                history.append(ev)
                log(f"valid {ev}")
            if step % cfg.checkpoint_every == 0 or step == total:
                save_atomic(
                    {
                        "fingerprint": cfg.fingerprint(),
                        "model": model.state_dict(),
                        "ema": ema.state_dict(),
                        "opt": opt.state_dict(),
                        "step": step,
                        "history": history,
                        "torch_rng": torch.get_rng_state(),
                    },
                    ckpt,
                )
    save_atomic({"ema": ema.state_dict()}, out / "final.pt")
    onnx_path = export_onnx(ema, out / "calib.onnx", (cfg.phases[-1][0], cfg.phases[-1][1]))
    meta = {
        "name": "calib",
        "input_size": list(cfg.phases[-1][:2]),
        "input": "RGB float32 0..255, NCHW",
        "stride": STRIDE,
        "keypoints": list(MODEL_KEYPOINTS),
        "lines": list(MODEL_LINES),
        "extra_maps": list(EXTRA_MAPS),
        "direct_points": DIRECT_POINTS.tolist(),
        "direct_scale": [pitch.length, pitch.width],
        "config": asdict(cfg),
        "history": history,
        "train_seconds": round(time.time() - t0),
    }
    base_meta = Path(cfg.init).with_name("calib.json") if cfg.init else None
    if base_meta is not None and base_meta.is_file():  # what the fine-tune started from
        base = json.loads(base_meta.read_text())
        meta["init_run"] = {k: base.get(k) for k in ("config", "history", "train_seconds")}
    (out / "calib.json").write_text(json.dumps(meta, indent=1))
    log(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.2f} MB)")
    return onnx_path


def _synthetic_sources(root: Path, cfg: TrainConfig, log) -> tuple[Any, Any]:
    """Camera poses and real appearance assets for the synthetic views (``None`` when off)."""
    if cfg.synth_share <= 0:
        return None, None
    from touchline.synth.camera import builtin_poses, load_broadcast_poses
    from touchline.synth.pitchview import load_view_assets

    npz = root / "calibration" / "broadcast_camera_homographies.npz"
    poses = load_broadcast_poses(npz) if npz.exists() else builtin_poses()
    assets = load_view_assets(root)
    log(
        f"synthetic views: {len(poses)} camera poses, {len(assets.backgrounds)} backgrounds, "
        f"{len(assets.occluders)} occluders, {len(assets.overlays)} overlays"
    )
    return poses, assets


def export_onnx(net: KeypointNet, path: Path, size: tuple[int, int]) -> Path:
    """Export to ONNX (opset 18, dynamic batch, weights inside the file)."""
    w, h = size
    batch = torch.export.Dim("batch", min=1, max=64)
    return export_onnx_program(
        _Exported(net), torch.zeros(2, 3, h, w), path, ["maps", "direct"], {0: batch}
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument(
        "--real",
        nargs="+",
        default=None,
        help="labelled folders under pitch_keypoints (default dfl/train); NAME=WEIGHT sets a "
        "sampling weight",
    )
    ap.add_argument("--init", type=str, default=None, help="start from these weights (.pt)")
    ap.add_argument(
        "--pseudo", nargs="+", default=None, help="pseudo-label files (touchline.train.pseudo)"
    )
    ap.add_argument("--steps", type=int, default=None, help="one phase at the final size")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--synth-share", type=float, default=None)
    ap.add_argument("--quick", action="store_true", help="a few iterations (smoke test)")
    args = ap.parse_args(argv)
    cfg = TrainConfig()
    if args.real:
        names, wts = [], []
        for r in args.real:
            n, _, wt = r.partition("=")
            names.append(n)
            wts.append(float(wt) if wt else 1.0)
        cfg.real, cfg.real_weights = names, wts
    if args.init:
        cfg.init = args.init
    if args.pseudo:
        cfg.pseudo = list(args.pseudo)
    if args.steps:
        cfg.phases = [(*cfg.phases[-1][:2], args.steps)]
    if args.lr is not None:
        cfg.lr = args.lr
    if args.warmup is not None:
        cfg.warmup = args.warmup
    if args.synth_share is not None:
        cfg.synth_share = args.synth_share
    if args.quick:
        cfg.phases = [(192, 108, 6), (256, 144, 4)]
        cfg.eval_every, cfg.batch, cfg.checkpoint_every = 5, 4, 5
    train(cfg, args.out, args.data_root)


if __name__ == "__main__":
    main()
