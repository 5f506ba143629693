"""Building blocks shared by the training scripts (torch, CPU): layers, input tensors, the
learning-rate schedule, the start of a run, the optimisation step, weight averaging, atomic
checkpoints and ONNX export."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from touchline.data import shared_data_dir
from touchline.errors import DataError, DependencyError

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise DependencyError("torch", "train") from e

__all__ = [
    "MEAN",
    "STD",
    "Normalised",
    "ResBlock",
    "cbr",
    "cosine_lr",
    "ema_and_optimiser",
    "ema_update",
    "export_onnx_program",
    "optimise",
    "save_atomic",
    "shared_root",
    "start_training",
    "to_tensor",
]

#: ImageNet statistics in 0..255 RGB, applied inside every exported graph.
MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def cbr(i: int, o: int, k: int = 3, s: int = 1, d: int = 1) -> nn.Sequential:
    """Convolution (no bias), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(i, o, k, s, d * (k // 2), dilation=d, bias=False),
        nn.BatchNorm2d(o),
        nn.ReLU(inplace=True),
    )


class ResBlock(nn.Module):
    """Two 3x3 convolutions (optionally dilated) with an identity shortcut."""

    def __init__(self, c: int, d: int = 1) -> None:
        super().__init__()
        self.a = cbr(c, c, 3, 1, d)
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, d, dilation=d, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.b(self.a(x)))


class Normalised(nn.Module):
    """Base of the exported wrappers: holds ``net`` and normalises 0..255 RGB input."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def normalise(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std  # type: ignore[operator]


def to_tensor(imgs: list[np.ndarray]) -> torch.Tensor:
    """BGR uint8 images (same size) -> normalised RGB NCHW float tensor."""
    x = np.stack(imgs)[..., ::-1].astype(np.float32)
    x = (x - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def cosine_lr(base: float, step: int, total: int, warmup: int, floor: float = 0.03) -> float:
    """Linear warm-up, then cosine decay to ``floor * base``."""
    decay = 0.5 * (1 + math.cos(math.pi * step / total)) * (1 - floor) + floor
    return base * min(1.0, (step + 1) / warmup) * decay


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, step: int, decay: float) -> None:
    """Exponential moving average of the weights (buffers such as BN counts are copied)."""
    d = min(decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
        if pe.dtype.is_floating_point:
            pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        else:
            pe.copy_(pm)


def start_training(seed: int, threads: int) -> None:
    """Seed torch, give it ``threads`` threads and keep OpenCV on one."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    cv2.setNumThreads(1)


def shared_root(data_root: Path | None) -> Path:
    """``data_root``, else the shared data folder (``DataError`` when it is not found)."""
    root = data_root or shared_data_dir()
    if root is None:
        raise DataError("../shared/data not found (set TOUCHLINE_SHARED_DATA)")
    return root


def ema_and_optimiser(
    model: nn.Module, ema: nn.Module, lr: float, weight_decay: float
) -> torch.optim.AdamW:
    """Start ``ema`` as a frozen copy of ``model``; return the AdamW optimiser of ``model``."""
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def optimise(
    model: nn.Module,
    ema: nn.Module,
    opt: torch.optim.Optimizer,
    losses: dict[str, torch.Tensor],
    *,
    lr: float,
    step: int,
    ema_decay: float,
    max_grad_norm: float,
) -> None:
    """One step of ``opt`` at ``lr`` on the sum of ``losses`` (gradients clipped to
    ``max_grad_norm``), then the EMA update of ``ema``."""
    for g in opt.param_groups:
        g["lr"] = lr
    loss = sum(losses.values())
    opt.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[union-attr]
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    opt.step()
    ema_update(ema, model, step, ema_decay)


def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file, so a killed run never leaves half a file."""
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def export_onnx_program(
    module: nn.Module,
    example: torch.Tensor,
    path: Path,
    output_names: list[str],
    dynamic: dict[int, Any],
) -> Path:
    """Export ``module`` (input ``image``) to ONNX opset 18 with the weights inside the file."""
    import onnx

    prog = torch.onnx.export(
        module.eval(),
        (example,),
        input_names=["image"],
        output_names=output_names,
        opset_version=18,
        dynamo=True,
        external_data=False,
        dynamic_shapes={"image": dynamic},
    )
    tmp = path.with_suffix(".tmp.onnx")
    assert prog is not None
    prog.save(str(tmp), external_data=False)
    onnx.checker.check_model(str(tmp))
    tmp.replace(path)
    return path
