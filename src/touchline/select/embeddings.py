"""Image embeddings of frames and of object crops, for active-learning selection.

An :class:`Embedder` turns BGR images into unit vectors ``(n, d)`` ``float32`` with an ONNX
model on the CPU. The default is the shipped ``embed`` model (the shipped detector's backbone at
strides 8 and 16, pooled: 144 numbers, frames at 320x192, crops at 96x96; see
``touchline.train.embed``). Any other ONNX image model plugs in by path: its output may be
vectors ``(n, d)``, tokens ``(n, t, d)`` or a feature map ``(n, c, h, w)``, which are
average-pooled; the input layout and size are read from the model's input shape, or from a
``.json`` beside it, or given explicitly, and so is the pixel normalisation (default for an
unknown model: RGB in 0..1 with the ImageNet mean and std). Nothing is downloaded.

:class:`EmbeddingCache` keeps embeddings on disk in ``.npz`` shards written atomically, keyed by
the model's SHA-256 and preprocessing, the sample's ``file_name``, the size and modification
time of its source file, and the crop box; :func:`embed_samples` and
:func:`embed_sample_crops` compute only what the cache lacks, so re-runs and interrupted runs
reuse the work done.

Example:
    >>> import numpy as np
    >>> emb = Embedder()
    >>> frames = [np.full((72, 128, 3), v, np.uint8) for v in (0, 128)]
    >>> e = emb.embed_images(frames)
    >>> e.shape, e.dtype, np.allclose(np.linalg.norm(e, axis=1), 1)
    ((2, 144), dtype('float32'), True)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.detect.image import as_bgr
from touchline.errors import DataError
from touchline.models import load_session, model_info
from touchline.models import sha256 as file_sha256
from touchline.select.types import Sample
from touchline.utils.files import atomic_path, write_json_atomic

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Embedder",
    "EmbeddingCache",
    "ImageEmbedder",
    "crop_boxes",
    "embed_sample_crops",
    "embed_samples",
    "l2_normalise",
    "sample_key",
]

#: Pixel statistics (0..1 RGB) assumed for an ONNX model that says nothing about its input.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_DEFAULT_SIZE = (224, 224)
_EPS = 1e-12

Image = NDArray[Any]
#: What a frames iterator yields for one sample: the image, or a function that decodes it
#: (called only when the cache lacks the sample).
ImageOrLoader = Image | Callable[[], Image]


def l2_normalise(x: NDArray[Any]) -> NDArray[np.float32]:
    """Rows of ``x`` ``(n, d)`` scaled to unit length (all-zero rows stay zero).

    >>> l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    x = np.asarray(x, np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(n, _EPS)).astype(np.float32)


def crop_boxes(
    image: Image, boxes_xyxy: NDArray[Any], size: tuple[int, int], margin: float = 0.1
) -> NDArray[np.uint8]:
    """Crops ``(n, h, w, 3)`` BGR ``uint8`` of ``boxes_xyxy`` (image pixels), resized to ``size``.

    Each box is first grown by ``margin`` times its width (height) on the left and right (top
    and bottom); parts outside the image are black. The crop is stretched to ``size``
    ``(width, height)``.

    Raises:
        DataError: boxes not ``(n, 4)``, not finite, or with ``x2 < x1`` / ``y2 < y1``.

    >>> img = np.zeros((100, 200, 3), np.uint8); img[:, 100:] = 255
    >>> c = crop_boxes(img, np.array([[10, 10, 50, 90], [150, 10, 190, 90]]), (8, 16), 0.0)
    >>> c.shape, int(c[0].max()), int(c[1].min())
    ((2, 16, 8, 3), 0, 255)
    """
    img = as_bgr(image)
    b = _check_boxes(boxes_xyxy)
    w, h = _check_size(size, "size")
    out = np.zeros((len(b), h, w, 3), np.uint8)
    ih, iw = img.shape[:2]
    for k, (x1, y1, x2, y2) in enumerate(b):
        mx, my = margin * (x2 - x1), margin * (y2 - y1)
        ix1, iy1 = math.floor(x1 - mx), math.floor(y1 - my)
        ix2 = max(math.ceil(x2 + mx), ix1 + 1)
        iy2 = max(math.ceil(y2 + my), iy1 + 1)
        cx1, cy1, cx2, cy2 = max(ix1, 0), max(iy1, 0), min(ix2, iw), min(iy2, ih)
        if cx2 <= cx1 or cy2 <= cy1:
            continue  # entirely outside the image: a black crop
        region = img[cy1:cy2, cx1:cx2]
        if (cx1, cy1, cx2, cy2) != (ix1, iy1, ix2, iy2):
            region = cv2.copyMakeBorder(
                region, cy1 - iy1, iy2 - cy2, cx1 - ix1, ix2 - cx2, cv2.BORDER_CONSTANT, value=0
            )
        out[k] = _resize(region, (w, h))
    return out


def _resize(img: Image, size: tuple[int, int]) -> Image:
    """Stretch ``img`` to ``size`` (w, h), anti-aliased when shrinking and cheap at any size.

    Halve with a Gaussian pyramid while both sides stay at least twice the target, then
    bilinear (exact area averaging at 1/2), or area averaging if an axis still shrinks more.
    """
    tw, th = size
    while img.shape[1] >= 2 * tw and img.shape[0] >= 2 * th:
        img = cv2.pyrDown(img)
    h, w = img.shape[:2]
    if (w, h) == size:
        return img
    shrink = tw < 0.5 * w or th < 0.5 * h
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _check_boxes(boxes: NDArray[Any]) -> NDArray[np.float64]:
    b = np.asarray(boxes, np.float64)
    if b.size == 0:
        return b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise DataError(f"boxes_xyxy: expected shape (n, 4), got {b.shape}")
    if not np.isfinite(b).all():
        raise DataError("boxes_xyxy: boxes have NaN or infinite coordinates")
    bad = (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    if bad.any():
        raise DataError(
            f"boxes_xyxy: box {int(np.argmax(bad))} has x2 < x1 or y2 < y1 ({b[bad][0].tolist()})"
        )
    return b


def _check_size(size: Sequence[int], what: str) -> tuple[int, int]:
    if len(size) != 2 or min(int(size[0]), int(size[1])) < 1:
        raise DataError(f"{what}: expected (width, height) of positive integers, got {size}")
    return int(size[0]), int(size[1])


def _static(d: Any) -> int | None:
    return d if isinstance(d, int) and d > 0 else None


@runtime_checkable
class ImageEmbedder(Protocol):
    """The contract of an embedder: ``dim``, :meth:`cache_key` and the two ``embed_*`` verbs.

    :func:`embed_samples` and :func:`embed_sample_crops` take any object that has them.

    >>> isinstance(Embedder(), ImageEmbedder)
    True
    """

    @property
    def dim(self) -> int:
        """Length of an embedding."""
        ...

    def cache_key(self, kind: str) -> str:
        """A string that changes whenever the embeddings of ``kind`` (frame, crop) would."""
        ...

    def embed_images(self, images: Sequence[Image] | Image) -> NDArray[np.float32]:
        """Unit embeddings ``(n, dim)`` of BGR images."""
        ...

    def embed_crops(
        self, image: Image, boxes_xyxy: NDArray[Any], *, size: tuple[int, int] | None = None
    ) -> NDArray[np.float32]:
        """Unit embeddings ``(n, dim)`` of the boxes of one BGR image."""
        ...


class Embedder:
    """Embed BGR images and object crops with an ONNX model on the CPU.

    Args:
        model: a shipped model name (default ``"embed"``, checksum verified) or the path of
            any ONNX image model; a ``.json`` beside it may give ``input_size``,
            ``crop_size``, ``crop_margin``, ``layout``, ``channels``, ``pixel_scale``,
            ``mean``, ``std`` and ``output`` (the keys of ``embed.json``).
        input_size: network (width, height) for whole images; default the model's metadata,
            else its fixed input shape, else 224x224.
        crop_size: network (width, height) for crops; default the metadata, else the fixed
            input shape, else ``input_size``.
        crop_margin: each box grows by this fraction of its size on every side.
        layout: ``"NCHW"`` or ``"NHWC"``; default the metadata, else guessed from the input
            shape (the axis of length 1 or 3).
        channels: ``"RGB"`` or ``"BGR"`` order the model expects (one-channel models get
            grey); default the metadata, else RGB.
        pixel_scale: factor applied to 0..255 pixels before ``(x - mean) / std``; default the
            metadata, else 1/255.
        mean, std: per-channel normalisation after scaling; default the metadata, else the
            ImageNet statistics (identity for the shipped model, which normalises inside).
        output: the output to use (default the metadata, else the first).
        batch_size: images per network call.
        threads: onnxruntime threads (default the CPU cores, at most 4).

    Example:
        >>> emb = Embedder()
        >>> emb.dim, emb.input_size_, emb.crop_size_
        (144, (320, 192), (96, 96))
        >>> img = np.random.default_rng(0).integers(0, 255, (120, 200, 3), dtype=np.uint8)
        >>> emb.embed_crops(img, np.array([[10, 10, 40, 80]])).shape
        (1, 144)
    """

    def __init__(
        self,
        model: str | Path = "embed",
        *,
        input_size: tuple[int, int] | None = None,
        crop_size: tuple[int, int] | None = None,
        crop_margin: float | None = None,
        layout: str | None = None,
        channels: str | None = None,
        pixel_scale: float | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        output: str | None = None,
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        self.model = model
        self.input_size = input_size
        self.crop_size = crop_size
        self.crop_margin = crop_margin
        self.layout = layout
        self.channels = channels
        self.pixel_scale = pixel_scale
        self.mean = mean
        self.std = std
        self.output = output
        self.batch_size = int(batch_size)
        self.threads = threads
        if self.batch_size < 1:
            raise DataError(f"Embedder: batch_size must be at least 1, got {batch_size}")

        p = Path(model)
        is_file = isinstance(model, Path) or bool(p.suffix) or len(p.parts) > 1
        self.session = load_session(model, threads)
        if is_file:
            self.sha256_ = file_sha256(p)
            meta_file = p.with_suffix(".json")
            meta: dict[str, Any] = {}
            if meta_file.is_file():
                try:
                    meta = json.loads(meta_file.read_text())
                except (OSError, json.JSONDecodeError) as e:
                    raise DataError(f"{meta_file}: cannot read the model metadata ({e})") from None
            self.name_ = p.name
        else:
            info = model_info(str(model))
            self.sha256_, meta, self.name_ = info.sha256, info.meta, info.name
        self.meta_ = meta
        self._configure(meta)

    # ---- configuration -------------------------------------------------------------------

    def _configure(self, meta: Mapping[str, Any]) -> None:
        where = f"Embedder({self.name_})"
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise DataError(f"{where}: expected an image model with one input, got {len(inputs)}")
        inp = inputs[0]
        shape = list(inp.shape)
        if len(shape) != 4:
            raise DataError(f"{where}: expected a 4-d image input, got shape {shape}")
        self.input_name_: str = inp.name
        if inp.type not in ("tensor(float)", "tensor(uint8)"):
            raise DataError(f"{where}: input type {inp.type} unsupported (float32 or uint8)")
        self.uint8_input_ = inp.type == "tensor(uint8)"

        layout = (self.layout or meta.get("layout") or "").upper()
        if not layout:
            c1, c3 = _static(shape[1]), _static(shape[3])
            layout = "NHWC" if c3 in (1, 3) and c1 not in (1, 3) else "NCHW"
        if layout not in ("NCHW", "NHWC"):
            raise DataError(f"{where}: layout must be 'NCHW' or 'NHWC', got {layout!r}")
        self.layout_ = layout
        c_dim, h_dim, w_dim = (1, 2, 3) if layout == "NCHW" else (3, 1, 2)
        n_ch = _static(shape[c_dim]) or 3
        if n_ch not in (1, 3):
            raise DataError(f"{where}: expected 1 or 3 input channels, got shape {shape}")
        self.n_channels_ = n_ch
        self.fixed_batch_ = _static(shape[0])
        fixed = None
        if _static(shape[h_dim]) and _static(shape[w_dim]):
            fixed = (int(shape[w_dim]), int(shape[h_dim]))
        self.fixed_size_ = fixed

        def size(explicit: Any, key: str, fallback: tuple[int, int]) -> tuple[int, int]:
            s = explicit or meta.get(key) or fixed or fallback
            s = _check_size(s, f"{where}: {key}")
            if fixed is not None and s != fixed:
                raise DataError(
                    f"{where}: the model's input is fixed at {fixed[0]}x{fixed[1]} (w x h), "
                    f"{key} {s[0]}x{s[1]} was asked for"
                )
            return s

        self.input_size_ = size(self.input_size, "input_size", _DEFAULT_SIZE)
        self.crop_size_ = size(self.crop_size, "crop_size", self.input_size_)
        margin = self.crop_margin if self.crop_margin is not None else meta.get("crop_margin")
        self.crop_margin_ = float(0.1 if margin is None else margin)

        ch = (self.channels or meta.get("channels") or "RGB").upper()
        if ch not in ("RGB", "BGR"):
            raise DataError(f"{where}: channels must be 'RGB' or 'BGR', got {ch!r}")
        self.channels_ = ch
        scale = self.pixel_scale if self.pixel_scale is not None else meta.get("pixel_scale")
        self.pixel_scale_ = float(1 / 255 if scale is None else scale)
        mean = self.mean if self.mean is not None else meta.get("mean", IMAGENET_MEAN)
        std = self.std if self.std is not None else meta.get("std", IMAGENET_STD)
        self.mean_ = self._per_channel(mean, "mean")
        self.std_ = self._per_channel(std, "std")
        if (self.std_ == 0).any():
            raise DataError(f"{where}: std has a zero: {self.std_.tolist()}")
        self._identity = (
            self.pixel_scale_ == 1.0 and not self.mean_.any() and bool((self.std_ == 1).all())
        )

        outputs = [o.name for o in self.session.get_outputs()]
        out = self.output or meta.get("output") or outputs[0]
        if out not in outputs:
            raise DataError(f"{where}: no output {out!r}; the model has {outputs}")
        self.output_ = out
        oshape = next(o.shape for o in self.session.get_outputs() if o.name == out)
        self._dim: int | None = None
        if len(oshape) in (2, 3) and _static(oshape[-1]):
            self._dim = int(oshape[-1])
        elif len(oshape) == 4:  # a feature map in the input's layout
            c = _static(oshape[1 if self.layout_ == "NCHW" else 3])
            self._dim = c

    def _per_channel(self, v: Sequence[float] | float, what: str) -> NDArray[np.float32]:
        a = np.asarray(v, np.float32).reshape(-1)
        if a.size == 1:
            a = np.repeat(a, self.n_channels_)
        if a.size == 3 and self.n_channels_ == 1:
            a = a[:1] * 0 + a.mean()
        if a.size != self.n_channels_:
            raise DataError(
                f"Embedder({self.name_}): {what} needs {self.n_channels_} values, got {a.tolist()}"
            )
        return a

    # ---- contract --------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Length of an embedding (known from the output shape, else from one test run).

        >>> Embedder().dim
        144
        """
        if self._dim is None:
            w, h = self.input_size_
            self._dim = int(self._embed_batch(np.zeros((1, h, w, 3), np.uint8)).shape[1])
        return self._dim

    def cache_key(self, kind: str) -> str:
        """Identity of this embedder's ``kind`` (``"frame"`` or ``"crop"``) embeddings.

        It holds the model's SHA-256 and everything of the preprocessing that changes them.

        >>> Embedder().cache_key("crop")[:12]
        'embed sha256'
        """
        if kind not in ("frame", "crop"):
            raise DataError(f"cache_key: kind must be 'frame' or 'crop', got {kind!r}")
        w, h = self.input_size_ if kind == "frame" else self.crop_size_
        parts = [
            f"embed sha256={self.sha256_}",
            f"kind={kind}",
            f"size={w}x{h}",
            f"layout={self.layout_}",
            f"channels={self.channels_ if self.n_channels_ == 3 else 'GRAY'}",
            f"scale={self.pixel_scale_!r}",
            f"mean={self.mean_.tolist()}",
            f"std={self.std_.tolist()}",
            f"output={self.output_}",
        ]
        if kind == "crop":
            parts.append(f"margin={self.crop_margin_!r}")
        return " ".join(parts)

    def embed_images(self, images: Sequence[Image] | Image) -> NDArray[np.float32]:
        """Unit embeddings ``(n, dim)`` ``float32`` of BGR images of any size.

        Args:
            images: a list of ``(h, w, 3)`` BGR images (grey and BGRA are converted), or one
                array ``(n, h, w, 3)``. Each is stretched to ``input_size``.

        >>> emb = Embedder()
        >>> img = np.zeros((90, 160, 3), np.uint8); img[40:] = (40, 160, 60)
        >>> a, b = emb.embed_images([img, img.copy()])
        >>> float(a @ b) > 0.9999
        True
        >>> emb.embed_images([]).shape
        (0, 144)
        """
        if isinstance(images, np.ndarray):
            if images.ndim != 4:
                raise DataError(
                    f"embed_images: expected a batch (n, h, w, 3) or a list of images, got "
                    f"an array of shape {images.shape} (pass [image] for one image)"
                )
            seq: Sequence[Image] = list(images)
        else:
            seq = images
        w, h = self.input_size_
        out = np.zeros((len(seq), self.dim), np.float32)
        step = self.fixed_batch_ or self.batch_size
        for i in range(0, len(seq), step):  # resize a batch at a time: bounded memory
            chunk = seq[i : i + step]
            batch = np.empty((len(chunk), h, w, 3), np.uint8)
            for k, im in enumerate(chunk):
                batch[k] = _resize(as_bgr(im, f"images[{i + k}]"), (w, h))
            out[i : i + len(chunk)] = self._embed_batch(batch)
        return out

    def embed_crops(
        self,
        image: Image,
        boxes_xyxy: NDArray[Any],
        *,
        size: tuple[int, int] | None = None,
        margin: float | None = None,
    ) -> NDArray[np.float32]:
        """Unit embeddings ``(n, dim)`` of the boxes ``(n, 4)`` (xyxy, image pixels) of a BGR image.

        Each box grows by ``margin`` (default ``crop_margin``) on every side and is stretched
        to ``size`` (default ``crop_size``); see :func:`crop_boxes`.

        >>> emb = Embedder()
        >>> img = np.zeros((200, 300, 3), np.uint8); img[:, 150:] = (0, 0, 255)
        >>> e = emb.embed_crops(img, np.array([[10, 10, 60, 110], [200, 10, 250, 110]]))
        >>> e.shape, float(e[0] @ e[1]) < 0.99
        ((2, 144), True)
        """
        s = self.crop_size_ if size is None else _check_size(size, "size")
        if self.fixed_size_ is not None and s != self.fixed_size_:
            raise DataError(f"embed_crops: the model's input is fixed at {self.fixed_size_}")
        m = self.crop_margin_ if margin is None else float(margin)
        return self._embed_batch(crop_boxes(image, boxes_xyxy, s, m))

    # ---- inference -------------------------------------------------------------------------

    def _blob(self, batch: NDArray[np.uint8]) -> NDArray[Any]:
        n, h, w = batch.shape[:3]
        if self.n_channels_ == 1:
            src = np.stack([cv2.cvtColor(im, cv2.COLOR_BGR2GRAY) for im in batch])[..., None]
            order = [0]
        else:
            src, order = batch, [2, 1, 0] if self.channels_ == "RGB" else [0, 1, 2]
        dtype = np.uint8 if self.uint8_input_ else np.float32
        c_axis = 1 if self.layout_ == "NCHW" else 3
        shape = (n, len(order), h, w) if c_axis == 1 else (n, h, w, len(order))
        out: NDArray[Any] = np.empty(shape, dtype)
        for c, k in enumerate(order):  # one strided copy per channel: faster than transposes
            if c_axis == 1:
                out[:, c] = src[..., k]
            else:
                out[..., c] = src[..., k]
        if not self.uint8_input_ and not self._identity:
            bshape = [1, 1, 1, 1]
            bshape[c_axis] = len(order)
            out *= np.float32(self.pixel_scale_)
            out -= self.mean_.reshape(bshape)
            out /= self.std_.reshape(bshape)
        return out

    def _pool(self, y: NDArray[Any]) -> NDArray[np.float32]:
        if y.ndim == 2:
            return np.asarray(y, np.float32)
        if y.ndim == 3:  # tokens (n, t, d)
            return np.asarray(y.mean(axis=1), np.float32)
        if y.ndim == 4:  # feature map, in the input's layout
            axes = (2, 3) if self.layout_ == "NCHW" else (1, 2)
            return np.asarray(y.mean(axis=axes), np.float32)
        raise DataError(
            f"Embedder({self.name_}): output {self.output_!r} has shape {y.shape}; expected "
            "(n, d), (n, t, d) or (n, c, h, w)"
        )

    def _embed_batch(self, batch: NDArray[np.uint8]) -> NDArray[np.float32]:
        n = len(batch)
        if n == 0:
            return np.zeros((0, self.dim), np.float32)
        step = self.fixed_batch_ or self.batch_size
        parts = []
        for i in range(0, n, step):
            chunk = batch[i : i + step]
            k = len(chunk)
            if self.fixed_batch_ and k < step:  # a model with a fixed batch: pad, then drop
                pad = np.zeros((step - k, *chunk.shape[1:]), chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            y = self.session.run([self.output_], {self.input_name_: self._blob(chunk)})[0]
            parts.append(self._pool(np.asarray(y))[:k])
        out = l2_normalise(np.concatenate(parts))
        if self._dim is None:
            self._dim = out.shape[1]
        return out


# ---- cache ---------------------------------------------------------------------------------


def _stamp(source: str) -> str:
    """``size:mtime_ns`` of a local source file, ``-`` when it is not one (e.g. a URL)."""
    try:
        st = os.stat(source)
    except (OSError, ValueError):
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def sample_key(sample: Sample, box: Sequence[float] | None = None) -> str:
    """Cache key of a sample (and a crop box): name, source size and mtime, box.

    >>> sample_key(Sample("a-1-mp4.png", "/no/such/a.mp4"), (1, 2.5, 3, 4))
    'a-1-mp4.png|-|1.00,2.50,3.00,4.00'
    """
    key = f"{sample.file_name}|{_stamp(sample.source)}"
    if box is not None:
        key += "|" + ",".join(f"{float(v):.2f}" for v in box)
    return key


class EmbeddingCache:
    """Embeddings on disk: one folder per embedder identity, ``.npz`` shards of keys and rows.

    Shards are written atomically (a killed run never leaves a broken one), so everything
    flushed before an interruption is reused. New rows are kept in memory and written as a
    shard every ``shard_size`` rows, on :meth:`flush`, and when a ``with`` block ends (also on
    an error). A shard that cannot be read is ignored with a warning (its rows are recomputed).

    Args:
        directory: the cache folder (created when needed).
        shard_size: rows per shard written during a run.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> with EmbeddingCache(d) as c:
        ...     c.put("model A", ["x", "y"], np.eye(2, dtype=np.float32))
        >>> EmbeddingCache(d).get("model A", ["y", "z"])[1].tolist()
        [True, False]
    """

    def __init__(self, directory: str | Path, *, shard_size: int = 1024) -> None:
        self.directory = Path(directory)
        self.shard_size = int(shard_size)
        self._rows: dict[str, dict[str, NDArray[np.float32]]] = {}
        self._pending: dict[str, dict[str, NDArray[np.float32]]] = {}
        self._count = 0

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()

    def folder(self, key: str) -> Path:
        """The folder of an embedder identity (``key``: :meth:`Embedder.cache_key`).

        >>> EmbeddingCache("/tmp/c").folder("model A").name
        '7c4a7a803380c808c349'
        """
        return self.directory / hashlib.sha256(key.encode()).hexdigest()[:20]

    def _load(self, key: str) -> dict[str, NDArray[np.float32]]:
        rows = self._rows.get(key)
        if rows is not None:
            return rows
        rows = {}
        folder = self.folder(key)
        for shard in sorted(folder.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as z:
                    keys, emb = z["keys"], z["emb"]
                if emb.ndim != 2 or len(keys) != len(emb):
                    raise ValueError(f"keys {keys.shape} and rows {emb.shape} do not match")
            except Exception as e:  # any unreadable shard is only a cache miss
                warnings.warn(f"{shard}: unreadable cache shard ignored ({e})", stacklevel=3)
                continue
            for k, v in zip(keys.tolist(), emb.astype(np.float32), strict=True):
                rows[str(k)] = v
        self._rows[key] = rows
        return rows

    def get(self, key: str, items: Sequence[str]) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """Rows ``(n, d)`` of ``items`` under embedder ``key`` and a mask of those found.

        Rows not found are zero; ``d`` is 0 when nothing is found.

        >>> rows, found = EmbeddingCache("/nonexistent").get("model A", ["x"])
        >>> rows.shape, found.tolist()
        ((1, 0), [False])
        """
        rows = self._load(key)
        found = np.array([i in rows for i in items], bool)
        d = next((len(rows[i]) for i in items if i in rows), 0)
        out = np.zeros((len(items), d), np.float32)
        for j, i in enumerate(items):
            if found[j]:
                out[j] = rows[i]
        return out, found

    def put(self, key: str, items: Sequence[str], emb: NDArray[Any]) -> None:
        """Add rows ``emb`` ``(n, d)`` for ``items`` under embedder ``key`` (written on flush).

        >>> c = EmbeddingCache("/nonexistent")
        >>> c.put("model A", ["x"], np.ones((1, 3)))
        >>> c.get("model A", ["x"])[0].tolist()
        [[1.0, 1.0, 1.0]]
        """
        emb = np.asarray(emb, np.float32)
        if emb.ndim != 2 or len(emb) != len(items):
            raise DataError(f"EmbeddingCache.put: {len(items)} items but rows of shape {emb.shape}")
        rows, pending = self._load(key), self._pending.setdefault(key, {})
        for i, v in zip(items, emb, strict=True):
            rows[i] = pending[i] = v
        if sum(len(p) for p in self._pending.values()) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        """Write the rows added since the last flush as new shards (atomically).

        >>> EmbeddingCache("/nonexistent").flush()  # nothing pending: writes nothing
        """
        for key, pending in self._pending.items():
            if not pending:
                continue
            folder = self.folder(key)
            folder.mkdir(parents=True, exist_ok=True)
            info = folder / "key.json"
            if not info.exists():
                write_json_atomic(info, {"key": key})
            self._count += 1
            name = f"shard-{time.time_ns():020d}-{os.getpid()}-{self._count}.npz"
            keys = np.array(list(pending), dtype=str)
            emb = np.stack(list(pending.values())).astype(np.float32)
            with atomic_path(folder / name) as tmp, open(tmp, "wb") as f:
                np.savez(f, keys=keys, emb=emb)
            pending.clear()


# ---- samples -------------------------------------------------------------------------------


def _image(x: ImageOrLoader) -> Image:
    return x() if callable(x) else x


def _needed(
    samples: Sequence[Sample], frames: Iterable[tuple[Sample, ImageOrLoader]], missing: set[str]
) -> Iterable[tuple[str, Image]]:
    """Decoded images of the samples named in ``missing``, stopping once all are seen."""
    todo = set(missing)
    if not todo:
        return
    for sample, image in frames:
        if sample.file_name in todo:
            todo.discard(sample.file_name)
            yield sample.file_name, _image(image)
            if not todo:
                return
    if todo:
        names = sorted(todo)
        raise DataError(
            f"embed: the frames iterator gave no image for {len(names)} sample(s), e.g. {names[:3]}"
        )


def embed_samples(
    samples: Sequence[Sample],
    frames: Iterable[tuple[Sample, ImageOrLoader]],
    *,
    embedder: ImageEmbedder | None = None,
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
) -> NDArray[np.float32]:
    """Unit embeddings ``(n, d)`` of whole frames, one row per sample in ``samples`` order.

    Only samples the cache lacks are embedded; ``frames`` (pairs of a sample and its BGR
    image, or a function decoding it) is read only as far as needed, and not at all when the
    cache has everything. Rows are added to the cache every ``batch_size`` images, so an
    interrupted run keeps what it computed once the cache is flushed (``with`` block).

    Raises:
        DataError: a sample the cache lacks never comes out of ``frames``.

    Example:
        >>> import tempfile
        >>> samples = [Sample(f"f{i}.png", f"/none/f{i}.png") for i in range(3)]
        >>> imgs = [np.full((36, 64, 3), 60 * i, np.uint8) for i in range(3)]
        >>> with EmbeddingCache(tempfile.mkdtemp()) as cache:
        ...     e = embed_samples(samples, zip(samples, imgs), cache=cache)
        ...     again = embed_samples(samples, iter(()), cache=cache)  # no frames needed
        >>> e.shape, bool(np.array_equal(e, again))
        ((3, 144), True)
    """
    emb = embedder if embedder is not None else Embedder()
    names = [s.file_name for s in samples]
    keys = [sample_key(s) for s in samples]
    ckey = emb.cache_key("frame")
    out = np.zeros((len(samples), emb.dim), np.float32)
    if cache is not None:
        rows, found = cache.get(ckey, keys)
        if found.any():
            out[found] = rows[found]
    else:
        found = np.zeros(len(samples), bool)
    where: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if not found[i]:
            where.setdefault(n, []).append(i)

    buf_names: list[str] = []
    buf_images: list[Image] = []

    def run() -> None:
        e = emb.embed_images(buf_images)
        rows_idx = [where[n] for n in buf_names]
        for k, idx in enumerate(rows_idx):
            out[idx] = e[k]
        if cache is not None:
            cache.put(ckey, [keys[idx[0]] for idx in rows_idx], e)
        buf_names.clear()
        buf_images.clear()

    for name, image in _needed(samples, frames, set(where)):
        buf_names.append(name)
        buf_images.append(image)
        if len(buf_images) >= batch_size:
            run()
    if buf_images:
        run()
    return out


def embed_sample_crops(
    samples: Sequence[Sample],
    frames: Iterable[tuple[Sample, ImageOrLoader]],
    boxes: Mapping[str, NDArray[Any]],
    *,
    embedder: ImageEmbedder | None = None,
    cache: EmbeddingCache | None = None,
) -> list[NDArray[np.float32]]:
    """Unit embeddings of object crops: one ``(k_i, d)`` array per sample, in ``samples`` order.

    ``boxes`` maps a sample's ``file_name`` to its boxes ``(k, 4)`` xyxy in image pixels (a
    missing name: no boxes). A sample's frame is decoded only when one of its boxes is not
    cached.

    Example:
        >>> samples = [Sample("f0.png", "/none/f0.png")]
        >>> img = np.zeros((72, 128, 3), np.uint8); img[:, 64:] = 200
        >>> out = embed_sample_crops(samples, [(samples[0], img)], {"f0.png": [[0, 0, 30, 60]]})
        >>> [o.shape for o in out]
        [(1, 144)]
    """
    emb = embedder if embedder is not None else Embedder()
    ckey = emb.cache_key("crop")
    out: list[NDArray[np.float32]] = []
    keys: list[list[str]] = []
    missing: set[str] = set()
    for s in samples:
        b = _check_boxes(np.asarray(boxes.get(s.file_name, np.zeros((0, 4)))))
        k = [sample_key(s, row) for row in b]
        rows = np.zeros((len(b), emb.dim), np.float32)
        found = np.zeros(len(b), bool)
        if cache is not None and k:
            got, found = cache.get(ckey, k)
            if found.any():
                rows[found] = got[found]
        if not found.all():
            missing.add(s.file_name)
        out.append(rows)
        keys.append(k)
    index = {s.file_name: i for i, s in enumerate(samples)}
    for name, image in _needed(samples, frames, missing):
        i = index[name]
        b = _check_boxes(np.asarray(boxes[name]))
        e = emb.embed_crops(image, b)
        out[i] = e
        if cache is not None:
            cache.put(ckey, keys[i], e)
    return out
