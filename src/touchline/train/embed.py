"""Build the shipped image embedder (``embed``) from the shipped detector by graph surgery.

    python -m touchline.train.embed --out runs/embed
    python -m touchline.train.ship runs/embed/embed.onnx --name embed \\
        --command "python -m touchline.train.embed --out runs/embed"

No training and no torch: the ``onnx`` package cuts the encoder out of ``detect.onnx`` (the
checksum-verified shipped file) and appends a pooling head, in well under a second. The
embedding of an image is

* the detector's backbone feature maps at strides 8 and 16 (the tensors the feature pyramid
  reads through its ``net.l8`` and ``net.l16`` lateral convolutions: 48 and 96 channels);
* each global-average-pooled and L2-normalised, concatenated (so both scales weigh the same),
  and L2-normalised again: a unit vector of 144 ``float32``.

The stride-32 stage, the feature pyramid and the heads are pruned. The detector's
normalisation, ``(x - mean) / std`` on RGB 0..255 with the ImageNet statistics, stays inside
the graph, so the input is what the detector takes: RGB ``float32`` 0..255, NCHW; batch,
height and width are dynamic. Stride 16 was chosen over stride 32 on real broadcast frames
(nearest neighbours more than 30 frames apart fall in the same match for 97 % of frames at
stride 16 against 85 % at stride 32), and stride 8 added for object crops (referee crops find
a referee as nearest neighbour more often); a global max-pool made both worse.

``embed.json`` records the default input sizes (320x192 for frames, 96x96 for object crops,
crops padded by 10 % of the box on each side), the normalisation, the output and its size, the
layers used, the source model's SHA-256 and the speed measured at build time. The build is
deterministic: the same ``detect.onnx`` gives a byte-identical ``embed.onnx``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from touchline.errors import DataError, DependencyError
from touchline.models import model_info, sha256, verify
from touchline.utils.files import write_bytes_atomic, write_json_atomic

__all__ = [
    "CROP_SIZE",
    "EMBED_LAYERS",
    "FRAME_SIZE",
    "build",
    "build_embed_model",
    "embed_metadata",
    "main",
]

#: Lateral convolutions of the detector's feature pyramid whose inputs are the backbone
#: feature maps used (stride 8 and stride 16).
EMBED_LAYERS: tuple[str, ...] = ("net.l8.weight", "net.l16.weight")
#: Default network input (width, height) for whole frames and for object crops.
FRAME_SIZE = (320, 192)
CROP_SIZE = (96, 96)
CROP_MARGIN = 0.1
OUTPUT = "embedding"
_EPS = 1e-12


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - onnx is a dev/train dependency
        raise DependencyError("onnx", "train") from e
    return onnx


def _backbone_tensors(graph: Any, lateral_weights: tuple[str, ...]) -> list[str]:
    """Names of the tensors read by the convolutions whose weight is each of ``lateral_weights``."""
    found: list[str] = []
    for w in lateral_weights:
        hits = [
            n for n in graph.node if n.op_type == "Conv" and len(n.input) > 1 and n.input[1] == w
        ]
        if len(hits) != 1:
            raise DataError(
                f"detect.onnx: expected one Conv with weight {w!r} (a feature-pyramid lateral), "
                f"found {len(hits)}"
            )
        found.append(hits[0].input[0])
    return found


def _prune(graph: Any, outputs: list[str]) -> tuple[list[Any], set[str]]:
    """Nodes needed for ``outputs`` (in graph order) and the tensor names they read."""
    producer = {o: i for i, n in enumerate(graph.node) for o in n.output}
    keep: set[int] = set()
    todo = list(outputs)
    used: set[str] = set()
    while todo:
        t = todo.pop()
        if t in used:
            continue
        used.add(t)
        i = producer.get(t)
        if i is None or i in keep:
            continue
        keep.add(i)
        todo.extend(x for x in graph.node[i].input if x)
    return [n for i, n in enumerate(graph.node) if i in keep], used


def build_embed_model(detect_path: str | Path, layers: tuple[str, ...] = EMBED_LAYERS) -> Any:
    """The embedding ``onnx.ModelProto`` cut from a detector ONNX file.

    Args:
        detect_path: the detector (``touchline.models.model_path("detect")``).
        layers: weight names of the convolutions whose input feature maps are pooled.

    Returns:
        a checked model with input ``image`` (n, 3, h, w) RGB 0..255 and output
        ``embedding`` (n, 48 + 96) of unit vectors.

    Example:
        >>> from touchline.models import model_path
        >>> m = build_embed_model(model_path("detect"))
        >>> ops = {n.op_type for n in m.graph.node}  # the heads and the pyramid are gone
        >>> [o.name for o in m.graph.output], "Resize" in ops, "GlobalAveragePool" in ops
        (['embedding'], False, True)
    """
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    src = onnx.load(str(detect_path))
    g = src.graph
    if len(g.input) != 1:
        raise DataError(f"{detect_path}: expected one image input, found {len(g.input)}")
    feats = _backbone_tensors(g, layers)
    nodes, used = _prune(g, feats)
    inits = [t for t in g.initializer if t.name in used]
    inferred = onnx.shape_inference.infer_shapes(src)
    channels = {}
    for vi in inferred.graph.value_info:
        if vi.name in feats:
            channels[vi.name] = vi.type.tensor_type.shape.dim[1].dim_value
    if any(not channels.get(f) for f in feats):
        raise DataError(f"{detect_path}: cannot infer the channels of {feats}")

    inits.append(numpy_helper.from_array(np.array([1], np.int64), "embed_axes"))
    inits.append(numpy_helper.from_array(np.array(_EPS, np.float32), "embed_eps"))
    new: list[Any] = []

    def l2(x: str, out: str) -> None:
        new.append(helper.make_node("ReduceL2", [x, "embed_axes"], [f"{out}_norm"], keepdims=1))
        new.append(helper.make_node("Max", [f"{out}_norm", "embed_eps"], [f"{out}_den"]))
        new.append(helper.make_node("Div", [x, f"{out}_den"], [out]))

    parts = []
    for k, f in enumerate(feats):
        new.append(helper.make_node("GlobalAveragePool", [f], [f"embed_gap{k}"]))
        new.append(helper.make_node("Flatten", [f"embed_gap{k}"], [f"embed_vec{k}"], axis=1))
        l2(f"embed_vec{k}", f"embed_unit{k}")
        parts.append(f"embed_unit{k}")
    new.append(helper.make_node("Concat", parts, ["embed_cat"], axis=1))
    l2("embed_cat", OUTPUT)

    dim = sum(channels[f] for f in feats)
    image = helper.make_tensor_value_info(
        g.input[0].name, TensorProto.FLOAT, ["batch", 3, "height", "width"]
    )
    out = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", dim])
    graph = helper.make_graph(nodes + new, "touchline_embed", [image], [out], inits)
    model = helper.make_model(
        graph, opset_imports=list(src.opset_import), producer_name="touchline.train.embed"
    )
    model.ir_version = src.ir_version
    model.doc_string = (
        "Image embedding: the touchline detector's backbone at strides 8 and 16, "
        "global-average-pooled, L2-normalised per scale, concatenated, L2-normalised."
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def _feature_strides(model: Any, feats: list[str], size: tuple[int, int]) -> list[int]:
    """Stride of each feature map, measured by running the pruned encoder once."""
    import onnxruntime as ort

    onnx = _onnx()
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for f in feats:
        m.graph.output.append(onnx.helper.make_tensor_value_info(f, onnx.TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    x = np.zeros((1, 3, size[1], size[0]), np.float32)
    outs = s.run(feats, {model.graph.input[0].name: x})
    return [size[0] // o.shape[3] for o in outs]


def _normalisation(model: Any) -> dict[str, Any]:
    """Mean and std of the ``Sub``/``Div`` at the graph's input, if any."""
    from onnx import numpy_helper

    g = model.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    first = {n.op_type: n for n in g.node[:2]}
    try:
        mean = init[first["Sub"].input[1]].reshape(-1)
        std = init[first["Div"].input[1]].reshape(-1)
    except KeyError:
        return {"inside_graph": False}
    return {
        "inside_graph": True,
        "formula": "(x - mean) / std on RGB 0..255",
        "mean": [round(float(v), 4) for v in mean],
        "std": [round(float(v), 4) for v in std],
    }


def _speed(path: Path, size: tuple[int, int], batch: int, threads: int) -> float:
    """Network images per second (no preprocessing) at ``size`` with ``threads``."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 255, (batch, 3, size[1], size[0])).astype(np.float32)
    s.run(None, {"image": x})
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 1.0:
        s.run(None, {"image": x})
        n += batch
    return n / (time.perf_counter() - t0)


def embed_metadata(
    model: Any, detect_path: str | Path, feats: list[str], strides: list[int]
) -> dict[str, Any]:
    """The ``embed.json`` metadata of a model made by :func:`build_embed_model`.

    Example:
        >>> from touchline.models import model_path
        >>> p = model_path("detect")
        >>> m = build_embed_model(p)
        >>> meta = embed_metadata(m, p, ["relu_6", "relu_11"], [8, 16])
        >>> meta["dim"], meta["input_size"], meta["crop_size"]
        (144, [320, 192], [96, 96])
    """
    dim = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    return {
        "name": "embed",
        "kind": "embedding",
        "input": "RGB float32 0..255, NCHW, any height and width",
        "input_name": model.graph.input[0].name,
        "layout": "NCHW",
        "channels": "RGB",
        "pixel_scale": 1.0,
        "mean": [0.0, 0.0, 0.0],
        "std": [1.0, 1.0, 1.0],
        "normalisation": _normalisation(model),
        "input_size": list(FRAME_SIZE),
        "crop_size": list(CROP_SIZE),
        "crop_margin": CROP_MARGIN,
        "resize": "stretched to the input size (aspect not kept)",
        "output": OUTPUT,
        "dim": int(dim),
        "unit_norm": True,
        "pooling": "global average per scale, L2 per scale, concatenated, L2",
        "layers": [{"tensor": f, "stride": s} for f, s in zip(feats, strides, strict=True)],
        "source": {
            "model": "detect",
            "file": Path(detect_path).name,
            "sha256": sha256(detect_path),
        },
        "opset": int(model.opset_import[0].version),
    }


def build(out: Path, detect_path: Path | None = None, bench: bool = True) -> dict[str, Any]:
    """Write ``embed.onnx`` and ``embed.json`` to ``out``; return the metadata.

    ``detect_path`` defaults to the shipped detector (checksum verified); ``bench`` measures
    the network's speed on this machine (2 threads at most) into ``meta["speed"]``.

    >>> import tempfile
    >>> meta = build(Path(tempfile.mkdtemp()), bench=False)
    >>> meta["dim"], [layer["stride"] for layer in meta["layers"]]
    (144, [8, 16])
    """
    onnx = _onnx()
    if detect_path is None:
        detect_path = verify("detect")
        if model_info("detect").meta.get("kind") != "centernet":
            raise DataError(f"{detect_path}: the shipped detector is not the expected CenterNet")
    model = build_embed_model(detect_path)
    feats = _backbone_tensors(onnx.load(str(detect_path)).graph, EMBED_LAYERS)
    strides = _feature_strides(model, feats, FRAME_SIZE)
    meta = embed_metadata(model, detect_path, feats, strides)
    target = Path(out) / "embed.onnx"
    write_bytes_atomic(target, model.SerializeToString())
    meta["bytes"] = target.stat().st_size
    if bench:
        threads = min(os.cpu_count() or 1, 2)
        meta["speed"] = {
            "threads": threads,
            "note": "network only, batch 16, random input, images/s on the build machine",
            "frames_per_s": round(_speed(target, FRAME_SIZE, 16, threads), 1),
            "crops_per_s": round(_speed(target, CROP_SIZE, 16, threads), 1),
        }
    write_json_atomic(target.with_suffix(".json"), meta, indent=1)
    return meta


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m touchline.train.embed --out DIR [--detect FILE] [--no-bench]``.

    >>> import tempfile
    >>> main(["--out", tempfile.mkdtemp(), "--no-bench"])
    {...
     "dim": 144,
    ...}
    """
    ap = argparse.ArgumentParser(description="Build embed.onnx from the shipped detector.")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--detect", type=Path, default=None, help="detector ONNX (default shipped)")
    ap.add_argument("--no-bench", action="store_true", help="skip the speed measurement")
    a = ap.parse_args(argv)
    meta = build(a.out, a.detect, bench=not a.no_bench)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
