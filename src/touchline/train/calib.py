"""Train the pitch keypoint model (torch, CPU) and export it to ONNX.

The model (:class:`KeypointNet`, about 0.7 M parameters) is a small residual encoder with a
feature-pyramid decoder. At a quarter of the input resolution it predicts one heatmap per
keypoint of :data:`touchline.calib.keypoints.MODEL_KEYPOINTS`, a painted-line map and a
pitch-area map; from pooled features it regresses where four image points land on the pitch
(the *direct* estimate, Narya's second opinion).

Training data: the DFL frames of ``pitch_keypoints/dfl/train`` (one label with far and near
swapped is repaired, see :func:`touchline.datasets.yolo_pose.fix_near_far`) and synthetic frames
rendered under the real broadcast camera poses of ``calibration/broadcast_camera_homographies.npz``.
Every target comes from a frame's homography (labelled points where they exist, projected ones
elsewhere), so augmentations that move the camera (zoom, crop, roll, perspective, horizontal
flip with the keypoint flip map) keep exact labels.

The shipped weights were made by (see ``src/touchline/models/README.md``)::

    python -m touchline.train.calib --out runs/calib

which runs two phases (coarse 384x216, then 512x288) in about 75 minutes on 2 cores, selects
the best exponential-moving-average weights on the valid split and writes ``calib.onnx`` and
``calib.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.calib.homography import (
    apply_homography,
    cv2_matrix,
    ransac_homography,
    refine_homography,
)
from touchline.calib.keypoints import MODEL_KEYPOINTS, decode_heatmaps
from touchline.data import shared_data_dir
from touchline.datasets.yolo_pose import fit_label_homography, fix_near_far, read_split
from touchline.errors import DataError, DependencyError
from touchline.pitch import Pitch, flip_permutation
from touchline.train.common import (
    Normalised,
    ResBlock,
    cbr,
    cosine_lr,
    ema_update,
    export_onnx_program,
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


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------
class KeypointNet(nn.Module):
    """Heatmaps (keypoints + line + area) at stride 4 and the direct estimate (8 numbers)."""

    def __init__(self, n_keypoints: int = len(MODEL_KEYPOINTS), widths=(16, 24, 32, 64, 96)):
        super().__init__()
        w = widths
        self.n_keypoints = n_keypoints
        self.stem = cbr(3, w[0], 3, 2)
        self.s4 = nn.Sequential(cbr(w[0], w[1], 3, 2), ResBlock(w[1]))
        self.s8 = nn.Sequential(cbr(w[1], w[2], 3, 2), ResBlock(w[2]))
        self.s16 = nn.Sequential(cbr(w[2], w[3], 3, 2), ResBlock(w[3]), ResBlock(w[3], 2))
        self.s32 = nn.Sequential(cbr(w[3], w[4], 3, 2), ResBlock(w[4], 2), ResBlock(w[4], 4))
        self.glob = nn.Linear(w[4], w[4])
        c = 48
        self.l32, self.l16 = nn.Conv2d(w[4], c, 1), nn.Conv2d(w[3], c, 1)
        self.l8, self.l4 = nn.Conv2d(w[2], c, 1), nn.Conv2d(w[1], c, 1)
        self.head = nn.Sequential(cbr(c, c, 3), nn.Conv2d(c, n_keypoints + 2, 1))
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


class _DistanceField:
    """Distance (m) to the nearest painted line by lookup in a precomputed 10 cm raster."""

    def __init__(self, pitch: Pitch, margin: float = 12.0, ppm: float = 10.0, cap: float = 3.0):
        self.origin = (-margin, -margin)
        self.ppm, self.cap = ppm, cap
        shape = (int((pitch.width + 2 * margin) * ppm), int((pitch.length + 2 * margin) * ppm))
        self.grid = pitch.paint_distance_grid(self.origin, ppm, shape, cap=cap)

    def __call__(self, p: F64) -> np.ndarray:
        u = ((p[..., 0] - self.origin[0]) * self.ppm - 0.5).astype(np.float32)
        v = ((p[..., 1] - self.origin[1]) * self.ppm - 0.5).astype(np.float32)
        u = np.nan_to_num(u, nan=-10.0, posinf=-10.0, neginf=-10.0)
        v = np.nan_to_num(v, nan=-10.0, posinf=-10.0, neginf=-10.0)
        return cv2.remap(
            self.grid, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=self.cap
        )


def _scale(sx: float, sy: float) -> F64:
    return np.diag([sx, sy, 1.0])


def load_real(split_dir: Path, names: tuple[str, ...] = MODEL_KEYPOINTS) -> list[_Sample]:
    """DFL frames at the cache size with their fitted homographies (near/far swaps repaired)."""
    pitch = Pitch()
    out = []
    for s in read_split(split_dir):
        label, _fixed = fix_near_far(s.label, pitch)
        H = fit_label_homography(label, pitch)
        if H is None:
            continue
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
    return out


def render_synthetic(
    n_clips: int, frames_per_clip: int, seed: int, npz: Path | None
) -> list[_Sample]:
    """Synthetic frames under real broadcast camera poses (or built-in ones without the npz)."""
    from touchline.synth.clip import SynthConfig, Synthesizer

    out = []
    for c in range(n_clips):
        cfg = SynthConfig(
            seconds=frames_per_clip * 0.8,
            fps=1.25,
            size=CACHE_SIZE,
            seed=seed + c,
            camera=str(npz) if npz else "builtin",
        )
        syn = Synthesizer(cfg)
        for k in range(len(syn)):
            f = syn.render(k)
            H = np.linalg.inv(f.camera.pitch_to_image)
            pts = np.full((len(MODEL_KEYPOINTS), 2), np.nan)
            out.append(_Sample(f.image, H / H[2, 2], pts, f"synth{c}_{k}"))
    return out


def _augment_matrix(rng: np.random.Generator, out_size: tuple[int, int]) -> F64:
    """A random camera move: cache px -> output px (zoom, crop, roll, perspective)."""
    W, Hh = CACHE_SIZE
    ow, oh = out_size
    zoom = math.exp(rng.uniform(0.0, math.log(1.9))) if rng.random() < 0.85 else 1.0
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


def _colour(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32)
    if rng.random() < 0.8:
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.normal(0, 4)) % 180
        hsv[..., 1] *= rng.uniform(0.6, 1.4)
        hsv[..., 2] *= rng.uniform(0.7, 1.3)
        x = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(
            np.float32
        )
    x = (x - 128) * rng.uniform(0.75, 1.25) + 128 + rng.normal(0, 12)
    if rng.random() < 0.3:
        x = np.asarray(cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.4)), np.float32)
    if rng.random() < 0.3:
        x += rng.normal(0, rng.uniform(2, 8), x.shape).astype(np.float32)
    if rng.random() < 0.05:
        x[:] = x.mean(axis=2, keepdims=True)
    return np.clip(x, 0, 255).astype(np.uint8)


@dataclass
class _Batch:
    images: torch.Tensor
    heat: torch.Tensor
    direct: torch.Tensor
    direct_mask: torch.Tensor


class _Targets:
    def __init__(self, pitch: Pitch, names: tuple[str, ...] = MODEL_KEYPOINTS, sigma: float = 1.0):
        self.pitch = pitch
        self.names = names
        self.kp = pitch.keypoint_array(names)
        self.flip = flip_permutation(names)
        self.field = _DistanceField(pitch)
        self.sigma = sigma
        self.mirror = np.array([[-1.0, 0, pitch.length], [0, 1, 0], [0, 0, 1]])

    def make(
        self, s: _Sample, rng: np.random.Generator, out_size: tuple[int, int], augment: bool = True
    ) -> tuple[np.ndarray, np.ndarray, F64, NDArray[np.bool_]]:
        ow, oh = out_size
        if augment:
            A = _augment_matrix(rng, out_size)
        else:
            A = _scale(ow / CACHE_SIZE[0], oh / CACHE_SIZE[1])
        img = cv2.warpPerspective(
            s.image, cv2_matrix(A), out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        H = s.H @ np.linalg.inv(A)  # out px -> pitch
        pts = apply_homography(A, s.points)
        if augment and rng.random() < 0.5:
            img = img[:, ::-1].copy()
            Fx = np.array([[-1.0, 0, ow], [0, 1, 0], [0, 0, 1]])
            H = self.mirror @ H @ Fx
            pts = apply_homography(Fx, pts)[self.flip]
        if augment:
            img = _colour(img, rng)
        heat = self._heatmaps(H, pts, out_size)
        direct, dmask = self._direct(H, out_size)
        return img, heat, direct, dmask

    def _heatmaps(self, H: F64, labelled: F64, out_size: tuple[int, int]) -> NDArray[np.float32]:
        ow, oh = out_size
        gw, gh = ow // STRIDE, oh // STRIDE
        proj = apply_homography(np.linalg.inv(H), self.kp)
        front = self._front(H, self.kp, out_size)
        pts = np.where(np.isfinite(labelled), labelled, proj)
        pts[~front] = np.nan
        cx = (np.arange(gw) + 0.5) * STRIDE
        cy = (np.arange(gh) + 0.5) * STRIDE
        out = np.zeros((len(self.kp) + 2, gh, gw), np.float32)
        s2 = 2 * (self.sigma * STRIDE) ** 2
        for k, (x, y) in enumerate(pts):
            if not (np.isfinite(x) and -STRIDE < x < ow + STRIDE and -STRIDE < y < oh + STRIDE):
                continue
            gx = np.exp(-((cx - x) ** 2) / s2)
            gy = np.exp(-((cy - y) ** 2) / s2)
            out[k] = np.outer(gy, gx)
        # Line and area maps from the pitch position of every cell centre.
        gxx, gyy = np.meshgrid(cx, cy)
        q = np.stack([gxx, gyy, np.ones_like(gxx)], -1) @ H.T
        ok = np.sign(q[..., 2]) == np.sign((np.array([ow / 2, oh, 1.0]) @ H.T)[2])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = q[..., :2] / q[..., 2:3]
        p[~ok] = np.nan
        d = self.field(p)
        # Footprint of a cell on the ground (m): line targets about one cell wide.
        dpx = np.gradient(p, axis=1)
        dpy = np.gradient(p, axis=0)
        foot = np.sqrt(np.abs(dpx[..., 0] * dpy[..., 1] - dpx[..., 1] * dpy[..., 0]))
        sig = np.maximum(np.nan_to_num(foot, nan=1.0) * 0.6, 0.08)
        line = np.exp(-0.5 * (d / sig) ** 2)
        line[~ok] = 0
        out[-2] = line
        area = (
            (p[..., 0] >= 0)
            & (p[..., 0] <= self.pitch.length)
            & (p[..., 1] >= 0)
            & (p[..., 1] <= self.pitch.width)
        )
        out[-1] = area & ok
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

    def _direct(self, H: F64, out_size: tuple[int, int]) -> tuple[F64, NDArray[np.bool_]]:
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
    """Everything that decides the shipped weights (recorded in ``calib.json``)."""

    data: str = "pitch_keypoints/dfl"
    seed: int = 0
    batch: int = 16
    phases: list[tuple[int, int, int]] = field(
        default_factory=lambda: [(384, 216, 3000), (512, 288, 1000)]
    )  # (width, height, iterations)
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 300
    ema: float = 0.998
    synth_clips: int = 40
    synth_frames: int = 15
    synth_share: float = 0.25
    eval_every: int = 500
    threads: int = 2


def _focal(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Quality focal loss on soft Gaussian targets, normalised by the target mass."""
    p = torch.sigmoid(pred)
    bce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
    return (bce * (p - target).abs().pow(2)).sum() / target.sum().clamp(min=1.0)


def _loss(maps: torch.Tensor, direct: torch.Tensor, b: _Batch, nk: int) -> dict[str, torch.Tensor]:
    kp = _focal(maps[:, :nk], b.heat[:, :nk])
    line = F.binary_cross_entropy_with_logits(maps[:, nk], b.heat[:, nk]) * 5.0
    area = F.binary_cross_entropy_with_logits(maps[:, nk + 1], b.heat[:, nk + 1])
    m = b.direct_mask
    dl = (
        F.smooth_l1_loss(direct, b.direct, reduction="none", beta=0.05) * m
    ).sum() / m.sum().clamp(min=1.0)
    return {"kp": kp, "line": line, "area": area, "direct": dl}


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
        "reproj_px_median": float(np.median(errs)),
        "reproj_px_mean_clip": float(np.mean(np.minimum(errs, 100))),
        "fails": fails,
    }


def train(cfg: TrainConfig, out: Path, data_root: Path | None = None, log=print) -> Path:
    """Train, keep the best EMA weights on valid, export ``calib.onnx`` + ``calib.json``."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(cfg.seed)
    root = data_root or shared_data_dir()
    if root is None:
        raise DataError("../shared/data not found (set TOUCHLINE_SHARED_DATA)")
    t0 = time.time()
    real = load_real(root / cfg.data / "train")
    valid = load_real(root / cfg.data / "valid")
    npz = root / "calibration" / "broadcast_camera_homographies.npz"
    synth = render_synthetic(
        cfg.synth_clips, cfg.synth_frames, 1000 + cfg.seed, npz if npz.exists() else None
    )
    log(
        f"data: {len(real)} real, {len(valid)} valid, {len(synth)} synthetic ({time.time() - t0:.0f} s)"
    )
    out.mkdir(parents=True, exist_ok=True)
    pitch = Pitch()
    tg = _Targets(pitch)
    nk = len(MODEL_KEYPOINTS)
    model = KeypointNet(nk)
    ema = KeypointNet(nk)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = sum(p[2] for p in cfg.phases)
    step, best, history = 0, math.inf, []
    for w, h, iters in cfg.phases:
        for _ in range(iters):
            lr = cosine_lr(cfg.lr, step, total, cfg.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            imgs, heats, dirs, masks = [], [], [], []
            for _ in range(cfg.batch):
                src = synth if (synth and rng.random() < cfg.synth_share) else real
                s = src[int(rng.integers(len(src)))]
                img, heat, d, m = tg.make(s, rng, (w, h))
                imgs.append(img)
                heats.append(heat)
                dirs.append(d)
                masks.append(m)
            b = _Batch(
                to_tensor(imgs),
                torch.from_numpy(np.stack(heats)),
                torch.from_numpy(np.stack(dirs).astype(np.float32)),
                torch.from_numpy(np.stack(masks).astype(np.float32)),
            )
            maps, direct = model(b.images)
            losses = _loss(maps, direct, b, nk)
            loss = sum(losses.values())
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[union-attr]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            ema_update(ema, model, step, cfg.ema)
            step += 1
            if step % 50 == 0:
                log(
                    f"step {step}/{total} {w}x{h} lr {lr:.2e} "
                    + " ".join(f"{k} {v.item():.4f}" for k, v in losses.items())
                    + f" ({time.time() - t0:.0f} s)"
                )
            if step % cfg.eval_every == 0 or step == total:
                ev: dict[str, Any] = _evaluate(ema, valid, (w, h))
                ev |= {"step": step, "size": [w, h], "seconds": round(time.time() - t0)}
                history.append(ev)
                log(f"valid {ev}")
                # Select within the final resolution only (the exported model runs at it).
                if (w, h) == tuple(cfg.phases[-1][:2]) and ev["reproj_px_mean_clip"] < best:
                    best = ev["reproj_px_mean_clip"]
                    torch.save(ema.state_dict(), out / "best.pt")
        torch.save(ema.state_dict(), out / f"phase_{w}x{h}.pt")
    ema.load_state_dict(torch.load(out / "best.pt"))
    onnx_path = export_onnx(ema, out / "calib.onnx", (cfg.phases[-1][0], cfg.phases[-1][1]))
    meta = {
        "name": "calib",
        "input_size": list(cfg.phases[-1][:2]),
        "input": "RGB float32 0..255, NCHW",
        "stride": STRIDE,
        "keypoints": list(MODEL_KEYPOINTS),
        "extra_maps": ["line", "area"],
        "direct_points": DIRECT_POINTS.tolist(),
        "direct_scale": [pitch.length, pitch.width],
        "config": asdict(cfg),
        "history": history,
        "train_seconds": round(time.time() - t0),
    }
    (out / "calib.json").write_text(json.dumps(meta, indent=1))
    log(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.2f} MB)")
    return onnx_path


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
    ap.add_argument("--quick", action="store_true", help="a few iterations (smoke test)")
    args = ap.parse_args(argv)
    cfg = TrainConfig()
    if args.quick:
        cfg.phases = [(192, 108, 6), (256, 144, 4)]
        cfg.synth_clips, cfg.synth_frames, cfg.eval_every, cfg.batch = 1, 2, 5, 4
    train(cfg, args.out, args.data_root)


if __name__ == "__main__":
    main()
