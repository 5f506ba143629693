"""Start a fine-tune from shipped ONNX weights (the package ships ONNX, not torch checkpoints).

The exporter folds each batch norm into the convolution before it (the ONNX initialisers
``<conv>.weight`` and ``<conv>.weight_bias``); where it did not, the batch norm's own
parameters and running statistics are there. :func:`load_onnx_weights` puts both kinds back
into a torch module of the same architecture: a folded pair becomes the folded convolution
followed by a batch norm that is the identity plus the folded bias (running mean 0, running
variance ``1 - eps``), so the module computes what the ONNX graph computes in eval mode. A
fine-tune from such weights must keep the batch norms in eval mode (:func:`freeze_batch_norm`):
batch statistics would undo the folding.

Example (needs the ``train`` extra)::

    net = DetectorNet()
    load_onnx_weights(net, "src/touchline/models/detect.onnx", prefix="net.")
"""

from __future__ import annotations

from pathlib import Path

from touchline.errors import DataError, DependencyError

try:
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise DependencyError("torch", "train") from e

__all__ = ["freeze_batch_norm", "load_onnx_weights"]


def _initialisers(path: str | Path) -> dict[str, torch.Tensor]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    return {
        i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer
    }


def load_onnx_weights(module: nn.Module, path: str | Path, prefix: str = "") -> list[str]:
    """Copy the weights of the ONNX file at ``path`` into ``module`` (initialiser names are
    ``prefix`` + the module's parameter names); returns the names of the folded batch norms.

    Raises :class:`~touchline.errors.DataError` when a parameter has no initialiser or a shape
    differs (another architecture).
    """
    init = _initialisers(path)
    folded: list[str] = []
    modules = dict(module.named_modules())
    with torch.no_grad():
        for name, mod in modules.items():
            if not isinstance(mod, nn.BatchNorm2d):
                continue
            parent, _, idx = name.rpartition(".")
            conv_name = f"{parent}.{int(idx) - 1}" if parent else str(int(idx) - 1)
            key = prefix + name
            if key + ".weight" in init:  # kept as a batch norm
                continue
            bias = init.get(prefix + conv_name + ".weight_bias")
            if bias is None:
                raise DataError(f"{path}: no weights for the batch norm {name!r}")
            _copy(mod.bias, bias, prefix + conv_name + ".weight_bias", path)
            mod.weight.fill_(1.0)
            mod.running_mean.zero_()
            mod.running_var.fill_(1.0 - mod.eps)
            folded.append(name)
        for pname, p in list(module.named_parameters()) + list(module.named_buffers()):
            if any(pname.startswith(f + ".") for f in folded) or pname.endswith(
                "num_batches_tracked"
            ):
                continue
            t = init.get(prefix + pname)
            if t is None:
                raise DataError(f"{path}: no initialiser {prefix + pname!r}")
            _copy(p, t, prefix + pname, path)
    return folded


def _copy(dst: torch.Tensor, src: torch.Tensor, name: str, path: str | Path) -> None:
    if tuple(src.shape) != tuple(dst.shape):
        raise DataError(
            f"{path}: {name!r} has shape {tuple(src.shape)}, the module {tuple(dst.shape)} "
            "(another architecture)"
        )
    dst.copy_(src)


def freeze_batch_norm(module: nn.Module) -> None:
    """Every batch norm of ``module`` to eval mode (running statistics, not the batch's); call
    after each ``module.train()``."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
