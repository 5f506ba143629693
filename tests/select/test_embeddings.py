"""Embeddings for frame selection: the shipped embedder, generic ONNX models, crops, the disk cache."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from touchline import models
from touchline.errors import DataError
from touchline.select.embeddings import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Embedder,
    EmbeddingCache,
    ImageEmbedder,
    crop_boxes,
    embed_sample_crops,
    embed_samples,
    sample_key,
)
from touchline.select.types import Sample

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

DIM = 144


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(threads=2)


def _images(n: int, seed: int = 0, size: tuple[int, int] = (90, 160)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(n)]


def _pitch(h: int = 360, w: int = 640) -> np.ndarray:
    """A green pitch with mowing stripes, a white line and noise (BGR)."""
    rng = np.random.default_rng(1)
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (40, 140, 50)
    img[:, (np.arange(w) // 40) % 2 == 1] = (50, 160, 60)
    cv2.line(img, (0, h // 3), (w, h // 3), (235, 235, 235), 3)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


# ---- the shipped model -------------------------------------------------------------------------


def test_shipped_embed_is_verified_and_described():
    path = models.verify("embed")
    info = models.model_info("embed")
    assert path.name == "embed.onnx" and info.bytes == path.stat().st_size <= 25 * 1024 * 1024
    assert info.command == "python -m touchline.train.embed --out runs/embed"
    meta = info.meta
    assert meta["dim"] == DIM and meta["input_size"] == [320, 192] and meta["crop_size"] == [96, 96]
    assert [layer["stride"] for layer in meta["layers"]] == [8, 16]
    assert meta["source"]["sha256"] == models.model_info("detect").sha256


def test_shipped_embed_is_rebuilt_byte_identical_from_the_shipped_detector():
    from touchline.train.embed import build_embed_model

    model = build_embed_model(models.verify("detect"))
    digest = hashlib.sha256(model.SerializeToString()).hexdigest()
    assert digest == models.model_info("embed").sha256


def test_shipped_embed_pools_the_detector_backbone():
    """The graph computes what it claims: pooled, normalised stride-8 and stride-16 features."""
    import onnxruntime as ort

    det = onnx.load(str(models.verify("detect")))
    layers = [layer["tensor"] for layer in models.model_info("embed").meta["layers"]]
    for name in layers:
        det.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    ref = ort.InferenceSession(det.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 64, 96)).astype(np.float32)
    feats = ref.run(layers, {"image": x})

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    expected = unit(np.concatenate([unit(f.mean(axis=(2, 3))) for f in feats], axis=1))
    got = models.load_session("embed").run(None, {"image": x})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_embeddings_are_unit_and_deterministic(embedder):
    imgs = [*_images(3), np.zeros((50, 70), np.uint8), np.zeros((40, 40, 4), np.uint8)]
    e = embedder.embed_images(imgs)
    assert e.shape == (5, DIM) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    again = embedder.embed_images([imgs[1], imgs[1].copy()])
    np.testing.assert_allclose(again[0], again[1], atol=1e-6)
    np.testing.assert_allclose(again[0], e[1], atol=1e-5)  # alone or in a batch
    batch = embedder.embed_images(np.stack(imgs[:3]))  # one (n, h, w, 3) array
    np.testing.assert_allclose(batch, e[:3], atol=1e-5)
    assert isinstance(embedder, ImageEmbedder)


def test_zero_length_inputs_round_trip(embedder, tmp_path):
    assert embedder.embed_images([]).shape == (0, DIM)
    assert embedder.embed_crops(_pitch(), np.zeros((0, 4))).shape == (0, DIM)
    with EmbeddingCache(tmp_path) as cache:
        assert embed_samples([], iter(()), embedder=embedder, cache=cache).shape == (0, DIM)
        assert embed_sample_crops([], iter(()), {}, embedder=embedder, cache=cache) == []
    s = [Sample("a.png", str(tmp_path / "a.png"))]
    out = embed_sample_crops(s, iter(()), {"a.png": np.zeros((0, 4))}, embedder=embedder)
    assert [o.shape for o in out] == [(0, DIM)]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda e: e.embed_images(np.zeros((10, 10, 3), np.uint8)), r"pass \[image\]"),
        (lambda e: e.embed_images([np.zeros((0, 10, 3), np.uint8)]), "empty image"),
        (lambda e: e.embed_images(["frame.png"]), "numpy image array"),
        (lambda e: e.embed_crops(_pitch(), np.zeros((2, 5))), r"shape \(n, 4\)"),
        (lambda e: e.embed_crops(_pitch(), [[10, 10, 5, 20]]), "x2 < x1"),
        (lambda e: e.embed_crops(_pitch(), [[0, 0, np.nan, 5]]), "NaN"),
        (lambda e: e.embed_crops(_pitch(), [[0, 0, 5, 5]], size=(0, 8)), "positive"),
        (lambda e: e.cache_key("video"), "kind must be"),
    ],
)
def test_bad_inputs_raise_clear_errors(embedder, call, match):
    with pytest.raises(DataError, match=match):
        call(embedder)


# ---- crops -----------------------------------------------------------------------------------


def test_crop_boxes_pads_outside_the_image_with_black():
    img = np.full((40, 60, 3), 200, np.uint8)
    c = crop_boxes(img, np.array([[-10, -10, 10, 10], [100, 100, 120, 130]]), (20, 20), 0.0)
    assert c.shape == (2, 20, 20, 3)
    assert c[0, :10, :10].max() == 0 and c[0, 10:, 10:].min() == 200  # the quadrant inside
    assert c[1].max() == 0  # entirely outside
    grown = crop_boxes(img, np.array([[20, 10, 40, 30]]), (40, 40), 0.5)  # 10 px on each side
    assert grown.min() == 200  # still inside the image


def test_crops_of_different_regions_differ_more_than_near_identical_crops(embedder):
    img = _pitch()
    rng = np.random.default_rng(2)
    img[200:320, 420:520] = rng.integers(0, 256, (120, 100, 1), dtype=np.uint8) * [0, 0, 1]
    cv2.rectangle(img, (440, 220), (500, 300), (255, 255, 255), -1)  # a white shirt on red
    boxes = np.array(
        [
            [60, 200, 120, 300],  # grass
            [62, 202, 122, 302],  # the same grass, 2 px away
            [430, 210, 510, 310],  # the red and white patch
        ]
    )
    e = embedder.embed_crops(img, boxes)
    assert float(e[0] @ e[1]) > float(e[0] @ e[2]) + 0.02
    # A crop is the image embedding of the cut-out region at the crop size.
    whole = Embedder(input_size=(96, 96), threads=1)
    x1, y1, x2, y2 = boxes[2]
    ref = whole.embed_images([img[y1:y2, x1:x2]])
    np.testing.assert_allclose(embedder.embed_crops(img, boxes[2:], margin=0.0), ref, atol=1e-5)


# ---- any ONNX model --------------------------------------------------------------------------


def _tiny_model(
    path: Path,
    *,
    layout: str = "NCHW",
    size: tuple[int, int] | None = None,
    batch: int | None = None,
    pooled: bool = False,
    identity: bool = False,
) -> Path:
    """A small conv net (3 -> 8 channels, stride 2) or an identity, written to ``path``."""
    n: Any = batch or "n"
    h: Any = size[1] if size else "h"
    w: Any = size[0] if size else "w"
    x_shape = [n, 3, h, w] if layout == "NCHW" else [n, h, w, 3]
    nodes, inits = [], []
    x = "x"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["x"], ["xc"], perm=[0, 3, 1, 2]))
        x = "xc"
    if identity:
        nodes.append(helper.make_node("Identity", [x], ["fm"]))
        c = 3
    else:
        wts = np.random.default_rng(0).normal(0, 0.5, (8, 3, 3, 3)).astype(np.float32)
        inits.append(numpy_helper.from_array(wts, "w"))
        nodes.append(helper.make_node("Conv", [x, "w"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", ["c"], ["fm"]))
        c = 8
    out = "fm"
    if pooled:
        nodes.append(helper.make_node("GlobalAveragePool", ["fm"], ["gap"]))
        nodes.append(helper.make_node("Flatten", ["gap"], ["vec"], axis=1))
        out, o_shape = "vec", [n, c]
    elif layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["fm"], ["fmh"], perm=[0, 2, 3, 1]))
        out, o_shape = "fmh", [n, None, None, c]
    else:
        o_shape = [n, c, None, None]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, o_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("kwargs", "make", "dim", "size"),
    [
        ({"input_size": (48, 32)}, {}, 8, (48, 32)),  # feature map, size given
        ({}, {"size": (40, 24)}, 8, (40, 24)),  # size read from the fixed input shape
        ({}, {}, 8, (224, 224)),  # nothing known: the default
        ({}, {"layout": "NHWC", "size": (32, 32)}, 8, (32, 32)),  # channels last
        ({"input_size": (32, 32)}, {"pooled": True}, 8, (32, 32)),  # (n, d) output
        ({}, {"size": (32, 32), "batch": 1}, 8, (32, 32)),  # a fixed batch of one
    ],
)
def test_any_onnx_model_works_through_the_generic_path(tmp_path, kwargs, make, dim, size):
    path = _tiny_model(tmp_path / "tiny.onnx", **make)
    emb = Embedder(path, threads=1, batch_size=2, **kwargs)
    assert emb.input_size_ == size and emb.dim == dim
    imgs = [*_images(3, size=(50, 70)), _pitch()]
    e = emb.embed_images(imgs)
    assert e.shape == (4, dim)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(emb.embed_images([imgs[3]])[0], e[3], atol=1e-5)
    assert float(e[0] @ e[3]) < 0.9999
    assert emb.embed_crops(imgs[3], np.array([[0, 0, 30, 30]])).shape == (1, dim)
    assert emb.cache_key("frame").startswith(f"embed sha256={models.sha256(path)}")


def test_generic_preprocessing_is_imagenet_rgb_unless_told(tmp_path):
    path = _tiny_model(tmp_path / "id.onnx", identity=True, size=(16, 8))
    img = np.random.default_rng(3).integers(0, 256, (8, 16, 3), dtype=np.uint8)

    def expected(rgb: np.ndarray, scale: float, mean: Sequence[float], std: Sequence[float]):
        v = ((rgb * scale - np.asarray(mean)) / np.asarray(std)).mean(axis=(0, 1))
        return v / np.linalg.norm(v)

    default = Embedder(path).embed_images([img])[0]
    ref = expected(img[..., ::-1].astype(np.float64), 1 / 255, IMAGENET_MEAN, IMAGENET_STD)
    np.testing.assert_allclose(default, ref, atol=1e-5)
    told = Embedder(path, channels="BGR", pixel_scale=1.0, mean=[10, 20, 30], std=2.0)
    ref = expected(img.astype(np.float64), 1.0, [10, 20, 30], [2, 2, 2])
    np.testing.assert_allclose(told.embed_images([img])[0], ref, atol=1e-5)
    # ... or by a .json beside the model, as for the shipped one.
    (tmp_path / "id.json").write_text(json.dumps({"pixel_scale": 1.0, "mean": 0, "std": 1}))
    ref = expected(img[..., ::-1].astype(np.float64), 1.0, [0, 0, 0], [1, 1, 1])
    np.testing.assert_allclose(Embedder(path).embed_images([img])[0], ref, atol=1e-5)


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        ({"size": (32, 32)}, {"input_size": (64, 64)}, "fixed at 32x32"),
        ({}, {"output": "logits"}, "no output 'logits'"),
        ({}, {"layout": "CHW"}, "layout must be"),
        ({}, {"channels": "HSV"}, "channels must be"),
        ({}, {"mean": [1, 2]}, "mean needs 3 values"),
        ({}, {"std": [1, 0, 1]}, "std has a zero"),
        ({}, {"batch_size": 0}, "batch_size"),
    ],
)
def test_generic_model_configuration_errors(tmp_path, make, kwargs, match):
    path = _tiny_model(tmp_path / "tiny.onnx", **make)
    with pytest.raises(DataError, match=match):
        Embedder(path, **kwargs)


def test_missing_model_file_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nope\.onnx: ONNX model file not found"):
        Embedder(tmp_path / "nope.onnx")


# ---- the cache -------------------------------------------------------------------------------


class Counting:
    """An embedder that counts what it computes (it satisfies :class:`ImageEmbedder`)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.images = 0
        self.crops = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def cache_key(self, kind: str) -> str:
        return self.inner.cache_key(kind)

    def embed_images(self, images: Any) -> np.ndarray:
        self.images += len(images)
        return self.inner.embed_images(images)

    def embed_crops(self, image: Any, boxes_xyxy: Any, *, size: Any = None) -> np.ndarray:
        self.crops += len(boxes_xyxy)
        return self.inner.embed_crops(image, boxes_xyxy, size=size)


@pytest.fixture
def pool(tmp_path) -> list[Sample]:
    """Six small frames written as PNG files, one sample each."""
    d = tmp_path / "frames"
    d.mkdir()
    samples = []
    for i, img in enumerate(_images(6, seed=5, size=(72, 128))):
        p = d / f"{i:04d}.png"
        cv2.imwrite(str(p), img)
        samples.append(Sample(f"frames/{p.name}", str(p), video="frames", frame=i))
    return samples


class Frames:
    """A frames iterator factory that decodes lazily and counts the decodes."""

    def __init__(self, samples: Sequence[Sample], fail_after: int | None = None) -> None:
        self.samples = samples
        self.fail_after = fail_after
        self.decoded = 0

    def _load(self, s: Sample) -> np.ndarray:
        self.decoded += 1
        return cv2.imread(s.source)

    def __iter__(self) -> Iterator[tuple[Sample, Any]]:
        for i, s in enumerate(self.samples):
            if self.fail_after is not None and i >= self.fail_after:
                raise RuntimeError("decoder crashed")
            yield s, (lambda s=s: self._load(s))


def test_cache_avoids_recomputation_and_survives_a_restart(pool, tmp_path):
    cache_dir = tmp_path / "cache"
    emb, frames = Counting(Embedder(threads=1)), Frames(pool)
    with EmbeddingCache(cache_dir) as cache:
        first = embed_samples(pool, frames, embedder=emb, cache=cache, batch_size=4)
    assert emb.images == 6 and frames.decoded == 6
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)
    assert not list(cache_dir.rglob("*.part*"))  # only whole shards
    # A new process: new embedder and cache objects on the same folder.
    emb2, frames2 = Counting(Embedder(threads=1)), Frames(pool)
    with EmbeddingCache(cache_dir) as cache2:
        again = embed_samples(pool, frames2, embedder=emb2, cache=cache2)
        assert embed_samples(pool[::-1], iter(()), embedder=emb2, cache=cache2).shape == (6, DIM)
    assert emb2.images == 0 and frames2.decoded == 0
    np.testing.assert_array_equal(again, first)


def test_changed_source_invalidates_and_other_settings_do_not_share(pool, tmp_path):
    cache_dir = tmp_path / "cache"
    with EmbeddingCache(cache_dir) as cache:
        first = embed_samples(pool, Frames(pool), embedder=Embedder(threads=1), cache=cache)
    st = os.stat(pool[2].source)
    os.utime(pool[2].source, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    emb = Counting(Embedder(threads=1))
    with EmbeddingCache(cache_dir) as cache:
        again = embed_samples(pool, Frames(pool), embedder=emb, cache=cache)
    assert emb.images == 1
    np.testing.assert_allclose(again, first, atol=1e-5)  # same pixels, recomputed
    other = Counting(Embedder(input_size=(160, 96), threads=1))
    embed_samples(pool, Frames(pool), embedder=other, cache=EmbeddingCache(cache_dir))
    assert other.images == 6


def test_an_interrupted_run_keeps_its_flushed_work(pool, tmp_path):
    cache_dir = tmp_path / "cache"
    emb = Counting(Embedder(threads=1))
    with pytest.raises(RuntimeError, match="decoder crashed"), EmbeddingCache(cache_dir) as cache:
        embed_samples(pool, Frames(pool, fail_after=3), embedder=emb, cache=cache, batch_size=2)
    assert emb.images == 2  # one batch of two done; the third frame was pending
    emb2 = Counting(Embedder(threads=1))
    with EmbeddingCache(cache_dir) as cache:
        embed_samples(pool, Frames(pool), embedder=emb2, cache=cache, batch_size=2)
    assert emb2.images == 4


def test_an_unreadable_shard_is_only_a_miss(pool, tmp_path):
    cache_dir = tmp_path / "cache"
    emb = Embedder(threads=1)
    with EmbeddingCache(cache_dir) as cache:
        embed_samples(pool, Frames(pool), embedder=emb, cache=cache)
    (shard,) = EmbeddingCache(cache_dir).folder(emb.cache_key("frame")).glob("shard-*.npz")
    shard.write_bytes(b"not a zip file")
    counting = Counting(emb)
    with pytest.warns(UserWarning, match="unreadable cache shard"):
        embed_samples(pool, Frames(pool), embedder=counting, cache=EmbeddingCache(cache_dir))
    assert counting.images == 6


def test_a_sample_without_a_frame_is_named(pool, embedder):
    with pytest.raises(DataError, match=r"no image for 1 sample\(s\), e.g. \['frames/0005.png'\]"):
        embed_samples(pool, Frames(pool[:5]), embedder=embedder)


def test_crop_embeddings_are_cached_per_box(pool, tmp_path):
    boxes = {s.file_name: np.array([[5, 5, 40, 60], [60, 10, 100, 70]]) for s in pool[:4]}
    cache_dir = tmp_path / "cache"
    emb = Counting(Embedder(threads=1))
    with EmbeddingCache(cache_dir) as cache:
        first = embed_sample_crops(pool, Frames(pool), boxes, embedder=emb, cache=cache)
    assert emb.crops == 8 and [len(f) for f in first] == [2, 2, 2, 2, 0, 0]
    boxes[pool[1].file_name] = np.array([[5, 5, 40, 60], [61, 10, 100, 70]])  # one box moved
    emb2, frames2 = Counting(Embedder(threads=1)), Frames(pool)
    with EmbeddingCache(cache_dir) as cache:
        again = embed_sample_crops(pool, frames2, boxes, embedder=emb2, cache=cache)
    assert emb2.crops == 2 and frames2.decoded == 1  # only the sample with the moved box
    for k in (0, 2, 3):
        np.testing.assert_array_equal(again[k], first[k])
    np.testing.assert_allclose(again[1][0], first[1][0], atol=1e-5)
    assert sample_key(pool[1], boxes[pool[1].file_name][1]).endswith("|61.00,10.00,100.00,70.00")


# ---- real frames -----------------------------------------------------------------------------


@pytest.mark.shared_data
def test_frames_of_one_match_are_closer_than_frames_of_other_matches(shared, embedder):
    root = shared("frames")
    seqs = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(seqs) == 3
    imgs, label, index = [], [], []
    for k, seq in enumerate(seqs):
        for i, f in enumerate(sorted(seq.glob("*.jpg"))[::4]):
            imgs.append(cv2.imread(str(f)))
            label.append(k)
            index.append(4 * i)
    lab, idx = np.array(label), np.array(index)
    e = embedder.embed_images(imgs)
    sim = e @ e.T
    same = lab[:, None] == lab[None, :]
    for k in range(3):
        m = lab == k
        within = sim[np.ix_(m, m)][~np.eye(m.sum(), dtype=bool)].mean()
        across = sim[np.ix_(m, ~m)].mean()
        assert within > across + 0.01, (seqs[k].name, within, across)
    # Nearest neighbour among frames more than 30 frames (a second or more) apart.
    near = same & (np.abs(idx[:, None] - idx[None, :]) <= 30)
    nn = np.where(near, -np.inf, sim).argmax(axis=1)
    assert (lab[nn] == lab).mean() > 0.9
