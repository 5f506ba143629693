"""Train the people-and-ball detector (torch, CPU) and export it to ONNX.

The model (:class:`DetectorNet`, about 1.2 M parameters) is a centre-heatmap detector
(CenterNet-style): a small residual encoder (strides 2 to 32, dilated at the coarse levels for
context) with a feature-pyramid decoder back to stride 4, where it predicts one heatmap per
class (player, goalkeeper, referee, ball), the sub-cell offset of each object's centre and its
log width and height. The first two convolutions reach stride 4 at once, so the whole network
costs about 20 ms for a 960x544 input on 2 cores (onnxruntime).

Scale: the detector sees broadcast frames at 960 pixels wide (a 1920x1080 frame halved, a 720p
frame enlarged by 4/3), where players are about 12x27 pixels and the ball about 5x5.

Training data: the DFL frames of ``detection/dfl/train`` (1280x1280 images stretched back to
1920x1080), on random 384x384 views with strong augmentation: scale (0.55-1.8x), crop, flip,
colour, blur, noise, low resolution, 2x2 mosaics, and copy-paste of real ball patches onto grass.
``detection/dfl/valid`` selects the best exponential-moving-average weights (mean AP50 over the
four classes); ``detection/dfl/test`` is never read here.

Synthetic frames (``--synthetic-clips``): frames one second apart of clips rendered by
:mod:`touchline.synth` under real broadcast camera poses (seeds 1000 and up; the benchmarks
render seeds below 100), drawn for a share ``--synthetic-share`` of the views. They add close
cameras (players 60-100 px tall at 960 wide, beyond the DFL scales) and exact tight boxes.
``--init`` starts from earlier weights (a fine-tune).

The shipped weights were made by (see ``src/touchline/models/README.md``)::

    python -m touchline.train.detect --out runs/detect
    python -m touchline.train.detect --out runs/detect_synth --init runs/detect/best.pt \
        --synthetic-clips 60 --synthetic-share 0.25 --steps 2000 --lr 1e-3 --warmup 100

Checkpoints are written every 250 steps; rerunning the same command resumes from the last one.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.datasets.detection import read_yolo_split
from touchline.detect.centernet import decode_centernet
from touchline.errors import DataError, DependencyError
from touchline.eval.detection_metrics import DetectionEvaluator, match_detections
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
from touchline.types import CLASS_NAMES, Detections

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise DependencyError("torch", "train") from e

__all__ = ["DetectorNet", "TrainConfig", "export_onnx", "main", "train"]

STRIDE = 4
#: Width of the network input for a broadcast frame (any frame is resized to this width).
INPUT_WIDTH = 960
FRAME = (1920, 1080)
CACHE_SCALE = 0.6  # training images are kept in memory at 0.6 x 1080p
#: Dataset class names folded onto ours.
NAME_MAP = {"football": "ball", "ball": "ball", "sports ball": "ball"}
BALL = CLASS_NAMES.index("ball")
#: Class id of an ``ignore`` box (pseudo-labels): the heatmap loss is masked inside it.
IGNORE = -1


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------
class DetectorNet(nn.Module):
    """Raw outputs at stride 4: ``classes`` heatmap logits, then offset x, y, log w, log h."""

    def __init__(
        self, n_classes: int = len(CLASS_NAMES), widths: tuple[int, ...] = (16, 24, 48, 96, 128)
    ) -> None:
        super().__init__()
        w = widths
        self.n_classes = n_classes
        self.stem = cbr(3, w[0], 3, 2)
        self.s4 = cbr(w[0], w[1], 3, 2)
        self.s8 = nn.Sequential(cbr(w[1], w[2], 3, 2), ResBlock(w[2]), ResBlock(w[2]))
        self.s16 = nn.Sequential(cbr(w[2], w[3], 3, 2), ResBlock(w[3]), ResBlock(w[3], 2))
        self.s32 = nn.Sequential(cbr(w[3], w[4], 3, 2), ResBlock(w[4]), ResBlock(w[4], 3))
        c = 32
        self.l32, self.l16 = nn.Conv2d(w[4], c, 1), nn.Conv2d(w[3], c, 1)
        self.l8, self.l4 = nn.Conv2d(w[2], c, 1), nn.Conv2d(w[1], c, 1)
        self.smooth8 = cbr(c, c, 3)
        self.head = nn.Sequential(cbr(c, c, 3), nn.Conv2d(c, n_classes + 4, 1))
        with torch.no_grad():  # heatmaps start at the focal-loss prior 0.01
            last = self.head[-1]
            assert isinstance(last, nn.Conv2d) and last.bias is not None
            last.bias.zero_()
            last.bias[:n_classes].fill_(-4.6)
            last.bias[n_classes + 2 :].fill_(math.log(3.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f4 = self.s4(self.stem(x))
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        p = self.l32(f32)
        p = F.interpolate(p, size=f16.shape[-2:], mode="nearest") + self.l16(f16)
        p = F.interpolate(p, size=f8.shape[-2:], mode="nearest") + self.l8(f8)
        p = self.smooth8(p)
        p = F.interpolate(p, size=f4.shape[-2:], mode="nearest") + self.l4(f4)
        return self.head(p)


class _Exported(Normalised):
    """What ships: normalisation inside; peaks (3x3 maxima of the class heatmaps) and boxes."""

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # image: (b, 3, h, w) float32 RGB in 0..255, h and w multiples of 32
        out = self.net(self.normalise(image))
        nc = int(self.net.n_classes)  # type: ignore[arg-type]
        heat = torch.sigmoid(out[:, :nc])
        peaks = heat * (F.max_pool2d(heat, 3, 1, 1) == heat).to(heat.dtype)
        box = torch.cat([out[:, nc : nc + 2], torch.exp(out[:, nc + 2 :]) * STRIDE], 1)
        return peaks, box


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
@dataclass
class _Sample:
    image: np.ndarray  # BGR uint8 at CACHE_SCALE x 1080p
    xyxy: NDArray[np.float32]  # cache pixels
    cls: NDArray[np.int64]  # our class ids
    name: str


def _our_ids(dets: Detections) -> NDArray[np.int64]:
    names = dets.class_name if len(dets) else np.empty(0, str)
    ids = []
    for n in names:
        ours = NAME_MAP.get(str(n).lower(), str(n).lower())
        if ours == "ignore":
            ids.append(IGNORE)
            continue
        if ours not in CLASS_NAMES:
            raise DataError(f"detection class {n!r} has no counterpart in {CLASS_NAMES}")
        ids.append(CLASS_NAMES.index(ours))
    return np.asarray(ids, np.int64)


def load_split(split_dir: Path, scale: float = CACHE_SCALE) -> list[_Sample]:
    """Images resized to ``scale`` x 1920x1080 (undoing the stretch) and their boxes."""
    size = (round(FRAME[0] * scale), round(FRAME[1] * scale))
    out = []
    for s in read_yolo_split(split_dir, frame_size=FRAME):
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if img is None:
            raise DataError(f"{s.image}: cannot read the image")
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        out.append(
            _Sample(
                img,
                (s.detections.xyxy * scale).astype(np.float32),
                _our_ids(s.detections),
                s.image.name,
            )
        )
    return out


def render_synthetic(
    clips: int,
    frames: int,
    seed: int = 1000,
    scale: float = CACHE_SCALE,
    min_visibility: float = 0.2,
) -> list[_Sample]:
    """``frames`` frames, one second apart, of each of ``clips`` synthetic clips (seeds
    ``seed, seed + 1, ...``; the benchmarks use seeds below 100), at ``scale`` x 1080p, with
    the boxes of every object at least ``min_visibility`` visible."""
    from touchline.synth import SynthConfig, Synthesizer

    size = (round(FRAME[0] * scale), round(FRAME[1] * scale))
    out = []
    for i in range(clips):
        fps = 25.0
        syn = Synthesizer(SynthConfig(seconds=frames, fps=fps, size=size, seed=seed + i))
        for k in range(0, min(len(syn), int(frames * fps)), int(fps)):
            f = syn.render(k)
            objs = [o for o in f.objects if o.visibility >= min_visibility]
            xyxy = np.array([o.box for o in objs], np.float32).reshape(-1, 4)
            cls = np.array([int(o.role) for o in objs], np.int64)
            out.append(_Sample(f.image, xyxy, cls, f"synth_{seed + i}_{k}"))
    return out


@dataclass
class _Patch:
    image: np.ndarray  # BGR patch around a ball, cache pixels
    box: NDArray[np.float32]  # ball box inside the patch


def _ball_bank(samples: list[_Sample]) -> list[_Patch]:
    bank = []
    for s in samples:
        h, w = s.image.shape[:2]
        for b in s.xyxy[s.cls == BALL]:
            cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            r = max(b[2] - b[0], b[3] - b[1]) * 1.2 + 2
            x0, y0 = int(max(0, cx - r)), int(max(0, cy - r))
            x1, y1 = int(min(w, cx + r + 1)), int(min(h, cy + r + 1))
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            bank.append(
                _Patch(s.image[y0:y1, x0:x1].copy(), (b - [x0, y0, x0, y0]).astype(np.float32))
            )
    return bank


def _is_grass(pixel_bgr: np.ndarray) -> bool:
    hsv = cv2.cvtColor(pixel_bgr.reshape(1, 1, 3).astype(np.uint8), cv2.COLOR_BGR2HSV)[0, 0]
    return bool(30 <= hsv[0] <= 90 and hsv[1] > 50 and hsv[2] > 40)


class _Views:
    """Random training views (image, boxes, classes) of a given size."""

    def __init__(
        self,
        samples: list[_Sample],
        bank: list[_Patch],
        cfg: TrainConfig,
        synthetic: list[_Sample] | None = None,
        pseudo: list[_Sample] | None = None,
    ) -> None:
        self.samples, self.bank, self.cfg = samples, bank, cfg
        self.synthetic = synthetic or []
        self.pseudo = pseudo or []

    def view(
        self, rng: np.random.Generator, size: tuple[int, int]
    ) -> tuple[np.ndarray, NDArray[np.float32], NDArray[np.int64]]:
        if rng.random() < self.cfg.mosaic:
            return self._mosaic(rng, size)
        return self._single(rng, size)

    def _mosaic(self, rng: np.random.Generator, size: tuple[int, int]):
        w, h = size
        hw, hh = w // 2, h // 2
        img = np.zeros((h, w, 3), np.uint8)
        boxes, classes = [], []
        for x0, y0 in ((0, 0), (hw, 0), (0, hh), (hw, hh)):
            im, b, c = self._single(rng, (hw, hh))
            img[y0 : y0 + hh, x0 : x0 + hw] = im
            boxes.append(b + np.array([x0, y0, x0, y0]))
            classes.append(c)
        return img, np.concatenate(boxes).astype(np.float32), np.concatenate(classes)

    def _single(self, rng: np.random.Generator, size: tuple[int, int]):
        cfg = self.cfg
        pool = self.samples
        u = rng.random()
        if self.synthetic and u < cfg.synthetic_share:
            pool = self.synthetic
        elif self.pseudo and u < cfg.synthetic_share + cfg.pseudo_share:
            pool = self.pseudo
        s = pool[int(rng.integers(len(pool)))]
        w, h = size
        zoom = INPUT_WIDTH / (FRAME[0] * CACHE_SCALE)
        zoom *= math.exp(rng.uniform(math.log(cfg.scale[0]), math.log(cfg.scale[1])))
        zx = zoom * math.exp(rng.normal(0, 0.05))  # slight aspect jitter
        ih, iw = s.image.shape[:2]
        balls = s.xyxy[s.cls == BALL]
        if len(balls) and rng.random() < cfg.ball_focus:
            b = balls[int(rng.integers(len(balls)))]
            cx = (b[0] + b[2]) / 2 + rng.uniform(-0.4, 0.4) * w / zx
            cy = (b[1] + b[3]) / 2 + rng.uniform(-0.4, 0.4) * h / zoom
        else:  # keep the view inside the frame where it fits
            mx, my = min(w / 2 / zx, iw / 2), min(h / 2 / zoom, ih / 2)
            cx, cy = rng.uniform(mx, iw - mx), rng.uniform(my, ih - my)
        flip = rng.random() < 0.5
        sx = -zx if flip else zx
        M = np.array([[sx, 0, w / 2 - sx * cx], [0, zoom, h / 2 - zoom * cy]], np.float64)
        fill = (114, 114, 114)
        img = cv2.warpAffine(
            s.image,
            M,
            (w, h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=fill,
        )
        xs = s.xyxy[:, [0, 2]] * sx + M[0, 2]
        ys = s.xyxy[:, [1, 3]] * zoom + M[1, 2]
        box = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1)
        clipped = np.stack(
            [
                np.clip(box[:, 0], 0, w),
                np.clip(box[:, 1], 0, h),
                np.clip(box[:, 2], 0, w),
                np.clip(box[:, 3], 0, h),
            ],
            1,
        )
        area = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
        carea = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        keep = (carea >= 0.45 * np.maximum(area, 1e-6)) & (clipped[:, 2] - clipped[:, 0] >= 1)
        boxes, classes = [clipped[keep]], [s.cls[keep]]
        if self.bank:
            n_paste = int(rng.choice([0, 0, 1, 1, 2]))
            for _ in range(n_paste):
                pasted = self._paste(img, rng, zoom)
                if pasted is not None:
                    boxes.append(pasted[None])
                    classes.append(np.array([BALL]))
        img = self._photometric(img, rng)
        return img, np.concatenate(boxes).astype(np.float32), np.concatenate(classes)

    def _paste(self, img: np.ndarray, rng: np.random.Generator, zoom: float):
        p = self.bank[int(rng.integers(len(self.bank)))]
        z = zoom * rng.uniform(0.8, 1.25)
        ph, pw = p.image.shape[:2]
        tw, th = max(3, round(pw * z)), max(3, round(ph * z))
        h, w = img.shape[:2]
        if tw >= w or th >= h:
            return None
        for _ in range(6):
            x0, y0 = int(rng.integers(0, w - tw)), int(rng.integers(0, h - th))
            if _is_grass(img[y0 + th // 2, x0 + tw // 2]):
                break
        else:
            return None
        patch = cv2.resize(p.image, (tw, th), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        yy, xx = np.mgrid[0:th, 0:tw]
        r = np.hypot((xx - (tw - 1) / 2) / (tw / 2), (yy - (th - 1) / 2) / (th / 2))
        alpha = np.clip((1.0 - r) / 0.35, 0, 1)[..., None]
        region = img[y0 : y0 + th, x0 : x0 + tw].astype(np.float32)
        img[y0 : y0 + th, x0 : x0 + tw] = (alpha * patch + (1 - alpha) * region).astype(np.uint8)
        b = p.box * [tw / pw, th / ph, tw / pw, th / ph] + [x0, y0, x0, y0]
        return b.astype(np.float32)

    @staticmethod
    def _photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6)) % 180
        hsv[..., 1] *= rng.uniform(0.6, 1.4)
        hsv[..., 2] *= rng.uniform(0.65, 1.35)
        out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR)
        out = out.astype(np.float32)
        out = (out - out.mean()) * rng.uniform(0.75, 1.25) + out.mean()
        if rng.random() < 0.2:
            k = int(rng.choice([3, 5]))
            out = cv2.GaussianBlur(out, (k, k), 0)
        if rng.random() < 0.2:  # low resolution
            h, w = out.shape[:2]
            f = rng.uniform(1.4, 2.5)
            small = cv2.resize(
                out, (max(8, int(w / f)), max(8, int(h / f))), interpolation=cv2.INTER_LINEAR
            )
            out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.3:
            out = out + rng.normal(0, rng.uniform(2, 8), out.shape).astype(np.float32)
        if rng.random() < 0.05:
            g = out.mean(2, keepdims=True)
            out = np.repeat(g, 3, 2)
        return np.clip(out, 0, 255).astype(np.uint8)


def _targets(
    boxes: NDArray[np.float32], classes: NDArray[np.int64], size: tuple[int, int], nc: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmaps ``(nc, h, w)``, regression ``(4, h, w)`` and its mask ``(h, w)`` at stride 4.

    Cells inside an :data:`IGNORE` box (grown by one cell) are -1 in every class heatmap
    where no object's Gaussian reaches: :func:`_focal` leaves them out.
    """
    gw, gh = size[0] // STRIDE, size[1] // STRIDE
    heat = np.zeros((nc, gh, gw), np.float32)
    reg = np.zeros((4, gh, gw), np.float32)
    mask = np.zeros((gh, gw), np.float32)
    ignore = classes == IGNORE
    for x1, y1, x2, y2 in boxes[ignore] / STRIDE:
        xa, ya = max(0, math.floor(x1) - 1), max(0, math.floor(y1) - 1)
        heat[:, ya : min(gh, math.ceil(y2) + 1), xa : min(gw, math.ceil(x2) + 1)] = -1.0
    boxes, classes = boxes[~ignore], classes[~ignore]
    # Larger objects first so small ones (the ball) keep their regression cell on collisions.
    order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    for i in order:
        x1, y1, x2, y2 = boxes[i] / STRIDE
        bw, bh = max(x2 - x1, 0.25), max(y2 - y1, 0.25)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        ix, iy = min(int(cx), gw - 1), min(int(cy), gh - 1)
        sx, sy = max(0.5, 0.54 * bw / 6), max(0.5, 0.54 * bh / 6)
        rx, ry = math.ceil(3 * sx), math.ceil(3 * sy)
        xa, xb = max(0, ix - rx), min(gw, ix + rx + 1)
        ya, yb = max(0, iy - ry), min(gh, iy + ry + 1)
        g = np.exp(
            -((np.arange(xa, xb) - ix) ** 2)[None, :] / (2 * sx * sx)
            - ((np.arange(ya, yb) - iy) ** 2)[:, None] / (2 * sy * sy)
        )
        c = int(classes[i])
        np.maximum(heat[c, ya:yb, xa:xb], g, out=heat[c, ya:yb, xa:xb])
        heat[c, iy, ix] = 1.0
        reg[:, iy, ix] = (cx - ix, cy - iy, math.log(bw), math.log(bh))
        mask[iy, ix] = 1.0
    return heat, reg, mask


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Everything that decides the shipped weights (recorded in ``detect.json``)."""

    data: str = "detection/dfl"
    seed: int = 0
    batch: int = 16
    size: tuple[int, int] = (384, 384)
    steps: int = 6000
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 300
    ema: float = 0.998
    scale: tuple[float, float] = (0.55, 1.8)
    mosaic: float = 0.2
    ball_focus: float = 0.25
    class_weights: tuple[float, ...] = (1.0, 2.0, 2.0, 2.0)
    eval_every: int = 500
    checkpoint_every: int = 250
    threads: int = 2
    #: Start from these weights (a ``best.pt`` of an earlier run) instead of random ones.
    init: str = ""
    #: Synthetic frames from :mod:`touchline.synth` mixed in: clips (seeds
    #: ``synthetic_seed...``), frames per clip, and the share of views drawn from them.
    synthetic_clips: int = 0
    synthetic_frames: int = 8
    synthetic_seed: int = 1000
    synthetic_share: float = 0.0
    #: Pseudo-labelled broadcasts (a split written by :mod:`touchline.train.detect_pseudo`,
    #: its ``ignore`` boxes masking the loss) and the share of views drawn from them.
    pseudo: str = ""
    pseudo_share: float = 0.0
    #: Keep every batch norm on its running statistics (needed when ``init`` is an ONNX file,
    #: whose batch norms were folded into the convolutions).
    freeze_bn: bool = False


def _focal(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, normalised by the number of objects."""
    pos = target.eq(1).float()
    logp = F.logsigmoid(logits)
    log1mp = F.logsigmoid(-logits)
    p = logp.exp()
    pos_loss = -(logp * (1 - p).pow(2) * pos)
    valid = target.ge(0).float()  # -1: an ignore box
    neg_loss = -(log1mp * p.pow(2) * (1 - target.clamp(min=0)).pow(4) * (1 - pos) * valid)
    w = weights.view(1, -1, 1, 1)
    return ((pos_loss + neg_loss) * w).sum() / pos.sum().clamp(min=1.0)


def _loss(out: torch.Tensor, heat, reg, mask, weights) -> dict[str, torch.Tensor]:
    nc = heat.shape[1]
    m = mask.unsqueeze(1)
    n = mask.sum().clamp(min=1.0)
    l1 = (out[:, nc:] - reg).abs() * m
    return {
        "heat": _focal(out[:, :nc], heat, weights),
        "offset": l1[:, :2].sum() / n,
        "size": l1[:, 2:].sum() / n,
    }


def predict_torch(model: nn.Module, image: np.ndarray, threshold: float = 0.05) -> Detections:
    """Detections of one BGR image already at network scale (h, w multiples of 32)."""
    exported = _Exported(model).eval()
    x = torch.from_numpy(np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1))).float()
    with torch.no_grad():
        peaks, box = exported(x[None])
    xyxy, score, cls = decode_centernet(peaks[0].numpy(), box[0].numpy(), STRIDE, threshold)
    return Detections(xyxy=xyxy, confidence=score, class_id=cls)


def _pad32(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    ph, pw = -h % 32, -w % 32
    return cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(0, 0, 0))


def _predictions(model: nn.Module, samples: list[_Sample]) -> list[tuple[Detections, Detections]]:
    """(prediction at score 0.05, truth) per sample, in the sample's pixels."""
    model.eval()
    out = []
    for s in samples:
        f = INPUT_WIDTH / s.image.shape[1]
        img = cv2.resize(s.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        pred = predict_torch(model, _pad32(img))
        pred = Detections(xyxy=pred.xyxy / f, confidence=pred.confidence, class_id=pred.class_id)
        out.append((pred, Detections(xyxy=s.xyxy, class_id=s.cls)))
    model.train()
    return out


def best_f1_thresholds(model: nn.Module, samples: list[_Sample]) -> dict[str, float]:
    """Per class, the score threshold with the best F1 (IoU 0.5) on ``samples``."""
    pairs = _predictions(model, samples)
    grid = np.round(np.arange(0.1, 0.9, 0.025), 3)
    out = {}
    for c, name in enumerate(CLASS_NAMES):
        scores, hits, n_gt = [], [], 0
        for pred, truth in pairs:
            assert pred.class_id is not None and pred.confidence is not None
            assert truth.class_id is not None
            sel = pred.class_id == c
            gt = truth.xyxy[truth.class_id == c]
            scores.append(pred.confidence[sel])
            hits.append(
                match_detections(pred.xyxy[sel], pred.confidence[sel], gt, np.array([0.5]))[0]
            )
            n_gt += len(gt)
        sc, hit = np.concatenate(scores), np.concatenate(hits)
        f1 = [2 * (hit & (sc >= t)).sum() / max((sc >= t).sum() + n_gt, 1) for t in grid]
        out[name] = float(grid[int(np.argmax(f1))])
    return out


def _evaluate(model: nn.Module, samples: list[_Sample]) -> dict[str, Any]:
    ev = DetectionEvaluator(CLASS_NAMES)
    for pred, truth in _predictions(model, samples):
        ev.add(pred, truth)
    summ = ev.summary()
    ap = [v for v in summ["ap50"].values() if v is not None]
    return {"ap50": summ["ap50"], "ap50_95": summ["ap50_95"], "score": float(np.mean(ap))}


def train(cfg: TrainConfig, out: Path, data_root: Path | None = None, log=print) -> Path:
    """Train (resuming from ``out/checkpoint.pt``), keep the best EMA weights, export ONNX."""
    start_training(cfg.seed, cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    root = shared_root(data_root)
    real = load_split(root / cfg.data / "train")
    valid = load_split(root / cfg.data / "valid")
    bank = _ball_bank(real)
    synthetic = render_synthetic(cfg.synthetic_clips, cfg.synthetic_frames, cfg.synthetic_seed)
    pseudo = load_split(Path(cfg.pseudo)) if cfg.pseudo else []
    views = _Views(real, bank, cfg, synthetic, pseudo)
    log(
        f"data: {len(real)} train, {len(synthetic)} synthetic, {len(pseudo)} pseudo-labelled, "
        f"{len(valid)} valid, {len(bank)} ball patches"
    )
    out.mkdir(parents=True, exist_ok=True)
    nc = len(CLASS_NAMES)
    model, ema = DetectorNet(nc), DetectorNet(nc)
    if cfg.init.endswith(".onnx"):
        from touchline.train.from_onnx import load_onnx_weights

        if not cfg.freeze_bn:
            raise DataError(f"--init {cfg.init}: ONNX weights need --freeze-bn (folded norms)")
        load_onnx_weights(model, cfg.init, prefix="net.")
    elif cfg.init:
        model.load_state_dict(torch.load(cfg.init))
    opt = ema_and_optimiser(model, ema, cfg.lr, cfg.weight_decay)
    step, best, history, spent = 0, -math.inf, [], 0.0
    ckpt_path = out / "checkpoint.pt"
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        if ck["config"] != asdict(cfg):
            raise DataError(f"{ckpt_path}: made with another config; use a new --out folder")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step, best, history, spent = ck["step"], ck["best"], ck["history"], ck["seconds"]
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        log(f"resumed at step {step}")
    weights = torch.tensor(cfg.class_weights, dtype=torch.float32)
    t_start = time.time() - spent
    if cfg.freeze_bn:
        from touchline.train.from_onnx import freeze_batch_norm
    while step < cfg.steps:
        lr = cosine_lr(cfg.lr, step, cfg.steps, cfg.warmup)
        model.train()
        if cfg.freeze_bn:
            freeze_batch_norm(model)
        imgs, heats, regs, masks = [], [], [], []
        for _ in range(cfg.batch):
            img, boxes, classes = views.view(rng, cfg.size)
            h, r, m = _targets(boxes, classes, cfg.size, nc)
            imgs.append(img)
            heats.append(h)
            regs.append(r)
            masks.append(m)
        out_t = model(to_tensor(imgs))
        losses = _loss(
            out_t,
            torch.from_numpy(np.stack(heats)),
            torch.from_numpy(np.stack(regs)),
            torch.from_numpy(np.stack(masks)),
            weights,
        )
        optimise(model, ema, opt, losses, lr=lr, step=step, ema_decay=cfg.ema, max_grad_norm=10.0)
        step += 1
        if step % 50 == 0:
            log(
                f"step {step}/{cfg.steps} lr {lr:.2e} "
                + " ".join(f"{k} {v.item():.4f}" for k, v in losses.items())
                + f" ({time.time() - t_start:.0f} s)"
            )
        if step % cfg.eval_every == 0 or step == cfg.steps:
            ev = _evaluate(ema, valid) | {"step": step, "seconds": round(time.time() - t_start)}
            history.append(ev)
            log(f"valid {ev}")
            if ev["score"] > best:
                best = ev["score"]
                save_atomic(ema.state_dict(), out / "best.pt")
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_atomic(
                {
                    "config": asdict(cfg),
                    "model": model.state_dict(),
                    "ema": ema.state_dict(),
                    "opt": opt.state_dict(),
                    "step": step,
                    "best": best,
                    "history": history,
                    "seconds": time.time() - t_start,
                    "rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                },
                ckpt_path,
            )
    path = write_model(out, cfg, history, round(time.time() - t_start), valid)
    log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return path


def write_model(
    out: Path,
    cfg: TrainConfig,
    history: list[dict[str, Any]],
    seconds: int | None,
    valid: list[_Sample],
) -> Path:
    """Export ``out/best.pt`` to ``out/detect.onnx`` with its metadata ``out/detect.json``
    (including per-class score thresholds with the best F1 on ``valid``)."""
    ema = DetectorNet(len(CLASS_NAMES))
    ema.load_state_dict(torch.load(out / "best.pt"))
    thresholds = best_f1_thresholds(ema, valid)
    onnx_path = export_onnx(ema, out / "detect.onnx")
    meta = {
        "name": "detect",
        "kind": "centernet",
        "classes": list(CLASS_NAMES),
        "input_width": INPUT_WIDTH,
        "input": "RGB float32 0..255, NCHW, height and width multiples of 32",
        "outputs": {"peaks": "class heatmap 3x3 maxima", "box": "offset x, y (cells), w, h (px)"},
        "stride": STRIDE,
        "class_thresholds": thresholds,
        "config": asdict(cfg),
        "history": history,
        "best_valid": max(history, key=lambda e: e["score"]) if history else None,
        "train_seconds": seconds,
    }
    (out / "detect.json").write_text(json.dumps(meta, indent=1))
    return onnx_path


def export_onnx(net: DetectorNet, path: Path) -> Path:
    """Export to ONNX (opset 18; dynamic batch, height and width; weights inside the file)."""
    batch = torch.export.Dim("batch", min=1, max=64)
    h32 = torch.export.Dim("h32", min=2, max=256)
    w32 = torch.export.Dim("w32", min=2, max=256)
    return export_onnx_program(
        _Exported(net),
        torch.zeros(2, 3, 544, 960),
        path,
        ["peaks", "box"],
        {0: batch, 2: 32 * h32, 3: 32 * w32},
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--steps", type=int, default=None, help="override the number of steps")
    ap.add_argument("--quick", action="store_true", help="a few iterations (smoke test)")
    ap.add_argument("--init", default=None, help="start from these weights (a best.pt)")
    ap.add_argument("--lr", type=float, default=None, help="override the peak learning rate")
    ap.add_argument("--warmup", type=int, default=None, help="override the warm-up steps")
    ap.add_argument(
        "--synthetic-clips", type=int, default=None, help="synthetic clips mixed in (seeds 1000+)"
    )
    ap.add_argument(
        "--synthetic-share", type=float, default=None, help="share of views from synthetic frames"
    )
    ap.add_argument(
        "--pseudo",
        default=None,
        help="a pseudo-labelled split (python -m touchline.train.detect_pseudo)",
    )
    ap.add_argument(
        "--pseudo-share", type=float, default=None, help="share of views from --pseudo frames"
    )
    ap.add_argument(
        "--freeze-bn", action="store_true", default=None, help="batch norms on running statistics"
    )
    ap.add_argument(
        "--export-only",
        action="store_true",
        help="export the best weights so far (OUT/best.pt) without training",
    )
    args = ap.parse_args(argv)
    cfg = TrainConfig()
    if args.quick:
        cfg.steps, cfg.batch, cfg.eval_every, cfg.checkpoint_every = 6, 4, 3, 3
        cfg.size = (192, 192)
    if args.steps is not None:
        cfg.steps = args.steps
    for name in (
        "init",
        "lr",
        "warmup",
        "synthetic_clips",
        "synthetic_share",
        "pseudo",
        "pseudo_share",
        "freeze_bn",
    ):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    if args.export_only:
        ck = torch.load(args.out / "checkpoint.pt", weights_only=False)
        root = shared_root(args.data_root)
        valid = load_split(root / cfg.data / "valid")
        path = write_model(args.out, cfg, ck["history"], round(ck["seconds"]), valid)
        print(f"wrote {path} (best of steps 1-{ck['step']})")
        return
    train(cfg, args.out, args.data_root)


if __name__ == "__main__":
    main()
