"""Read and write video and images: frames in, frames out.

Every image in Touchline is a numpy ``uint8`` array of shape ``(H, W, 3)`` in **BGR** channel
order, the OpenCV convention (``image[y, x] = (blue, green, red)``). Videos are read and written
with PyAV (FFmpeg); single images with OpenCV.

A *source* is any of:

- a video file (anything FFmpeg opens: mp4, mkv, avi, ...), timed by its own timestamps;
- a folder of images (jpg, jpeg, png, bmp, tif, tiff, webp; any case; hidden files ignored),
  sorted in natural order (``frame2`` before ``frame10``) and played at a chosen ``fps``;
- a single image file, a one-frame source.

Decoding is streaming (bounded memory, frames handed over one at a time), and every failure is a
:class:`~touchline.errors.VideoError` whose message starts with the file at fault.

>>> import shutil, tempfile, pathlib, numpy as np
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> images = [np.full((48, 64, 3), 20 * k, np.uint8) for k in range(5)]
>>> write_video(d / "clip.mp4", images, fps=25)
PosixPath('.../clip.mp4')
>>> probe(d / "clip.mp4")
VideoInfo(path=PosixPath('.../clip.mp4'), kind='video', width=64, height=48, fps=25.0,
          frame_count=5, duration=0.2, codec='h264')
>>> [(f.index, f.time) for f in iter_frames(d / "clip.mp4", stride=2)]
[(0, 0.0), (2, 0.08), (4, 0.16)]
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import av
import av.container
import cv2
import numpy as np
from av.video.reformatter import Interpolation

from touchline.errors import VideoError
from touchline.utils.files import atomic_path, write_bytes_atomic

__all__ = [
    "DEFAULT_FPS",
    "IMAGE_EXTENSIONS",
    "Frame",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "image_names",
    "iter_frames",
    "probe",
    "read_frame",
    "read_image",
    "write_image",
    "write_video",
]

DEFAULT_FPS = 25.0
"""Frame rate (frames/s) of image folders, and of videos that declare none."""

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
"""File extensions (lower case) read as images."""

SourceKind = Literal["video", "images", "image"]

# swscale's default RGB<->YUV conversion is biased by a few grey levels (255 -> 251); these flags
# make it (nearly) exact. Only used for uncommon formats: yuv420p BT.601 goes through OpenCV,
# which is exact and about four times faster.
_SWS_EXACT = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
_BT601_COLORSPACES = frozenset({2, 5, 6})  # unspecified (FFmpeg assumes BT.601), BT470BG, SMPTE170M
_LIMITED_RANGES = frozenset({0, 1})  # unspecified, MPEG (16..235)
_TAG_BT470BG, _TAG_MPEG_RANGE = 5, 1
_X26X = frozenset({"libx264", "libx265"})


@dataclass(frozen=True)
class VideoInfo:
    """What a source holds, read without decoding it.

    Attributes:
        path: the video file, image folder or image file.
        kind: ``"video"``, ``"images"`` (a folder) or ``"image"`` (one file).
        width: frame width in pixels.
        height: frame height in pixels.
        fps: nominal frame rate in frames/s (the chosen ``fps`` for images).
        frame_count: exact number of frames in the source.
        duration: ``frame_count / fps``, in seconds.
        codec: FFmpeg codec name (``"h264"``, ``"hevc"``...); ``""`` for images.
    """

    path: Path
    kind: SourceKind
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    codec: str


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based index of the frame in the source (not in the iteration).
        time: seconds from the start of the source (timestamp-based for videos, ``index / fps``
            for images).
        image: ``uint8`` BGR array of shape ``(H, W, 3)``.

    >>> import numpy as np
    >>> Frame(3, 0.12, np.zeros((2, 2, 3), np.uint8))
    Frame(index=3, time=0.12)
    """

    index: int
    time: float
    image: np.ndarray = field(repr=False)


# --------------------------------------------------------------------------------- sources


def _natural_key(name: str) -> tuple[Any, ...]:
    parts = re.split(r"(\d+)", name.lower())
    return (*(int(p) if i % 2 else p for i, p in enumerate(parts)), name)


def _list_images(folder: Path) -> list[Path]:
    try:
        files = [
            p
            for p in folder.iterdir()
            if not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
        ]
    except OSError as e:
        raise VideoError(folder, f"cannot list the folder ({e.strerror or e})") from e
    if not files:
        exts = " ".join(sorted(IMAGE_EXTENSIONS))
        raise VideoError(folder, f"folder contains no images (looked for {exts})")
    return sorted(files, key=lambda p: _natural_key(p.name))


def image_names(source: str | Path) -> list[str]:
    """File names of the frames of an image source, in frame order (empty for a video).

    >>> image_names("clip.mp4")
    []
    """
    path = Path(source)
    if path.is_dir():
        return [p.name for p in _list_images(path)]
    return [path.name] if path.suffix.lower() in IMAGE_EXTENSIONS else []


def _kind(path: Path) -> SourceKind:
    if path.is_dir():
        return "images"
    if not path.exists():
        raise VideoError(path, "no such file or folder")
    return "image" if path.suffix.lower() in IMAGE_EXTENSIONS else "video"


def _reason(e: BaseException) -> str:
    return str(getattr(e, "strerror", None) or e)


def _open_video(path: Path) -> av.container.InputContainer:
    try:
        if path.stat().st_size == 0:
            raise VideoError(path, "file is empty (0 bytes)")
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError) as e:
        raise VideoError(
            path, f"cannot be opened as a video ({_reason(e)}): not a video, or truncated/corrupt"
        ) from e
    if not container.streams.video:
        kinds = ", ".join(s.type for s in container.streams) or "none"
        container.close()
        raise VideoError(path, f"has no video stream (streams: {kinds})")
    return container


def _count_packets(path: Path, container: av.container.InputContainer) -> int:
    stream = container.streams.video[0]
    n = 0
    try:
        for packet in container.demux(stream):
            n += packet.size > 0
    except av.FFmpegError as e:
        raise VideoError(path, f"cannot be read after {n} frames ({_reason(e)})") from e
    return n


def _video_info(path: Path, container: av.container.InputContainer) -> VideoInfo:
    stream = container.streams.video[0]
    rate = stream.guessed_rate or stream.average_rate
    fps = float(rate) if rate else DEFAULT_FPS
    count = stream.frames if stream.frames > 0 else _count_packets(path, container)
    ctx = stream.codec_context
    return VideoInfo(path, "video", ctx.width, ctx.height, fps, count, count / fps, ctx.name)


def _decode_image(path: Path) -> np.ndarray:
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as e:
        raise VideoError(path, f"cannot be read ({_reason(e)})") from e
    if data.size == 0:
        raise VideoError(path, "file is empty (0 bytes)")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as e:
        raise VideoError(path, f"cannot be decoded as an image ({e})") from e
    if image is None:
        raise VideoError(path, "cannot be decoded as an image: not an image, or a corrupt file")
    return image


def _image_info(path: Path, kind: SourceKind, fps: float) -> tuple[VideoInfo, list[Path]]:
    files = _list_images(path) if kind == "images" else [path]
    h, w = _decode_image(files[0]).shape[:2]
    return VideoInfo(path, kind, w, h, fps, len(files), len(files) / fps, ""), files


def _check_fps(fps: float) -> float:
    if not (isinstance(fps, int | float | Fraction) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive finite number of frames per second, got {fps!r}")
    return float(fps)


def probe(path: str | Path, *, fps: float = DEFAULT_FPS) -> VideoInfo:
    """Describe a source without decoding it.

    For a video, ``fps`` is the stream's nominal rate (FFmpeg's ``guessed_rate``, i.e.
    ``r_frame_rate``; else the average rate; else :data:`DEFAULT_FPS`) and ``frame_count`` comes
    from the container header, or from counting packets (no decoding) when the header has none.

    Args:
        path: a video file, a folder of images or an image file.
        fps: frame rate given to image sources, in frames/s (ignored for videos).

    Returns:
        The :class:`VideoInfo` of the source.

    Raises:
        VideoError: the path is missing, empty, not a video or image, or has no video stream.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for k in range(3):
    ...     _ = write_image(d / f"f{k}.png", np.zeros((10, 20, 3), np.uint8))
    >>> info = probe(d, fps=10)
    >>> info.kind, info.width, info.height, info.frame_count, info.duration
    ('images', 20, 10, 3, 0.3)
    >>> shutil.rmtree(d)
    """
    path = Path(path)
    fps = _check_fps(fps)
    kind = _kind(path)
    if kind != "video":
        return _image_info(path, kind, fps)[0]
    container = _open_video(path)
    try:
        return _video_info(path, container)
    finally:
        container.close()


# ---------------------------------------------------------------------------------- reading


def _to_bgr(frame: av.VideoFrame) -> np.ndarray:
    if (
        frame.format.name == "yuv420p"
        and frame.colorspace in _BT601_COLORSPACES
        and frame.color_range in _LIMITED_RANGES
        and frame.width % 2 == 0
        and frame.height % 2 == 0
    ):
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24", interpolation=_SWS_EXACT)


class VideoReader:
    """Iterate over the frames of a video file, an image folder or an image.

    Frames are decoded one at a time (bounded memory). With ``start > 0`` a video is seeked to the
    keyframe before ``start`` and decoded forward, giving the same indices, times and pixels as
    decoding from the beginning. A video that decodes fewer frames than its container declares
    (truncated or corrupt) yields the frames it could decode, then raises :class:`VideoError`.

    Args:
        source: a video file, a folder of images or an image file.
        start: index of the first frame to yield.
        stop: index at which to stop (exclusive); ``None`` for the end of the source.
        stride: yield every ``stride``-th frame from ``start`` (``>= 1``).
        fps: frame rate given to image sources, in frames/s (videos use their own).

    Raises:
        ValueError: ``start < 0``, ``stop < start``, ``stride < 1`` or ``fps <= 0``.
        VideoError: the source cannot be opened (also raised during iteration for a bad frame).

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_video(d / "c.mp4", [np.zeros((32, 32, 3), np.uint8)] * 10, fps=25)
    >>> with VideoReader(path, start=3, stop=9, stride=2) as reader:
    ...     print(len(reader), [f.index for f in reader], reader.info.frame_count)
    3 [3, 5, 7] 10
    >>> shutil.rmtree(d)
    """

    def __init__(
        self,
        source: str | Path,
        *,
        start: int = 0,
        stop: int | None = None,
        stride: int = 1,
        fps: float = DEFAULT_FPS,
    ) -> None:
        if not isinstance(start, int) or start < 0:
            raise ValueError(f"start must be an integer >= 0, got {start!r}")
        if stop is not None and (not isinstance(stop, int) or stop < start):
            raise ValueError(f"stop must be None or an integer >= start ({start}), got {stop!r}")
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be an integer >= 1, got {stride!r}")
        self.source = Path(source)
        self.start = start
        self.stop = stop
        self.stride = stride
        self._closed = False
        self._containers: set[av.container.InputContainer] = set()
        kind = _kind(self.source)
        self._files: list[Path] = []
        if kind == "video":
            container = _open_video(self.source)
            try:
                self.info = _video_info(self.source, container)
            finally:
                container.close()
        else:
            self.info, self._files = _image_info(self.source, kind, _check_fps(fps))

    def __len__(self) -> int:
        end = self.info.frame_count if self.stop is None else min(self.stop, self.info.frame_count)
        return max(0, -(-(end - self.start) // self.stride))

    def __repr__(self) -> str:
        return (
            f"VideoReader({str(self.source)!r}, start={self.start}, stop={self.stop}, "
            f"stride={self.stride}, frames={len(self)})"
        )

    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise ValueError(f"{self.source}: the reader is closed")
        return self._iter_video() if self.info.kind == "video" else self._iter_images()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder; iterations in progress stop. Calling it twice is harmless."""
        self._closed = True
        for container in list(self._containers):
            container.close()
        self._containers.clear()

    # -- image sources

    def _iter_images(self) -> Iterator[Frame]:
        first, (w, h) = self._files[0], (self.info.width, self.info.height)
        end = len(self._files) if self.stop is None else min(self.stop, len(self._files))
        for index in range(self.start, end, self.stride):
            path = self._files[index]
            image = _decode_image(path)
            if image.shape[:2] != (h, w):
                size = f"{image.shape[1]}x{image.shape[0]}"
                raise VideoError(
                    path, f"image is {size} but the folder's first image {first.name} is {w}x{h}"
                )
            yield Frame(index, index / self.info.fps, image)
            if self._closed:
                return

    # -- video sources

    def _decoded(self, seek: bool) -> Generator[tuple[int, float, av.VideoFrame], None, None]:
        """(index, time, frame) of every decoded frame, from the keyframe before ``start`` on."""
        container = _open_video(self.source)
        self._containers.add(container)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps, tb, t0 = self.info.fps, stream.time_base, stream.start_time or 0
            if seek and tb is not None:
                target = t0 + round(self.start / fps / tb)
                try:
                    container.seek(target, stream=stream, backward=True)
                except av.FFmpegError:  # not seekable: decode from the beginning
                    seek = False
            prev = -1
            for frame in container.decode(stream):
                if frame.pts is None or tb is None:
                    index = prev + 1
                    time = index / fps
                else:
                    time = float((frame.pts - t0) * tb)
                    index = max(round(time * fps), prev + 1)
                if seek and prev < 0 and (index > self.start or frame.pts is None):
                    # The seek landed after the target (or cannot be checked): start over.
                    container.close()
                    yield from self._decoded(seek=False)
                    return
                prev = index
                yield index, time, frame
                if self._closed:
                    return
        finally:
            container.close()
            self._containers.discard(container)

    def _iter_video(self) -> Iterator[Frame]:
        declared = self.info.frame_count
        stop = math.inf if self.stop is None else self.stop
        if stop <= self.start:
            return
        decoded = 0  # frames decoded so far, counted from the first frame of the source
        frames = self._decoded(seek=self.start > 0)
        try:
            for index, time, frame in frames:
                if index >= stop:
                    return
                decoded = index + 1
                if index >= self.start and (index - self.start) % self.stride == 0:
                    yield Frame(index, time, _to_bgr(frame))
                if self._closed:
                    return
        except av.FFmpegError as e:
            raise VideoError(
                self.source,
                f"decoding failed after {decoded} of {declared} frames ({_reason(e)}): "
                "the file is truncated or corrupt",
            ) from e
        finally:
            frames.close()
        if not self._closed and decoded < min(declared, stop):
            raise VideoError(
                self.source,
                f"only {decoded} of {declared} frames could be decoded: "
                "the file is truncated or corrupt",
            )


def iter_frames(source: str | Path, **kwargs: Any) -> Iterator[Frame]:
    """Yield the :class:`Frame` objects of a source; keyword arguments go to :class:`VideoReader`.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_image(d / "one.png", np.zeros((4, 6, 3), np.uint8))
    >>> [(f.index, f.image.shape) for f in iter_frames(path)]
    [(0, (4, 6, 3))]
    >>> shutil.rmtree(d)
    """
    with VideoReader(source, **kwargs) as reader:
        yield from reader


def read_frame(source: str | Path, index: int, *, fps: float = DEFAULT_FPS) -> np.ndarray:
    """Decode one frame of a source (seeking, not decoding from the start).

    Args:
        source: a video file, a folder of images or an image file.
        index: 0-based frame index; negative values count from the end (``-1`` is the last).
        fps: frame rate given to image sources (only matters for their timing).

    Returns:
        The ``uint8`` BGR image, shape ``(H, W, 3)``.

    Raises:
        IndexError: ``index`` is outside the source.
        VideoError: the source cannot be read.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> images = [np.full((16, 16, 3), 50 * k, np.uint8) for k in range(4)]
    >>> path = write_video(d / "c.mp4", images, fps=25)
    >>> int(read_frame(path, 2).mean()), int(read_frame(path, -1).mean())
    (100, 150)
    >>> shutil.rmtree(d)
    """
    count = probe(source, fps=fps).frame_count
    position = index + count if index < 0 else index
    if not 0 <= position < count:
        raise IndexError(f"{source}: frame {index} is out of range (the source has {count} frames)")
    with VideoReader(source, start=position, stop=position + 1, fps=fps) as reader:
        for frame in reader:
            return frame.image
    raise IndexError(f"{source}: frame {index} could not be decoded (it has {count} frames)")


# ---------------------------------------------------------------------------------- writing


def _check_image(path: Path, image: Any, what: str) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))
    ):
        raise VideoError(
            path,
            f"{what} must be a uint8 array of shape (H, W, 3) in BGR order, "
            f"got dtype {image.dtype} and shape {image.shape}",
        )
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class VideoWriter:
    """Encode BGR frames to a video file (H.264 in mp4 by default), atomically.

    The file is written beside ``path`` under a temporary name and renamed onto ``path`` by a
    clean :meth:`close`; if the ``with`` block raises, no file is left under the final name.
    Frame ``k`` gets the timestamp ``k / fps`` seconds. Chroma-subsampled formats (``yuv420p``)
    need even sizes: an odd width or height is padded by replicating the last column or row.

    Args:
        path: output file; the container format follows its extension (``.mp4``, ``.mkv``...).
        fps: frame rate in frames/s; fractional rates such as ``30000 / 1001`` are kept exact.
        size: ``(width, height)`` in pixels; ``None`` takes it from the first frame.
        codec: FFmpeg encoder name.
        crf: constant rate factor of libx264/libx265 (0 lossless ... 51 worst; 20 is visually
            transparent for analysis).
        preset: libx264/libx265 speed preset (``"ultrafast"`` ... ``"veryslow"``).
        pix_fmt: pixel format stored in the file.
        faststart: put the index at the front of an mp4 (for streaming and partial reads).
        options: extra encoder options, e.g. ``{"g": "12"}`` for a keyframe every 12 frames.

    Attributes:
        frames_written: number of frames written so far.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with VideoWriter(d / "odd.mp4", fps=30000 / 1001) as writer:
    ...     for k in range(3):
    ...         writer.write(np.full((31, 45, 3), 80, np.uint8))
    >>> writer.frames_written
    3
    >>> info = probe(d / "odd.mp4")
    >>> info.width, info.height, round(info.fps, 3), info.frame_count
    (46, 32, 29.97, 3)
    >>> shutil.rmtree(d)
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        size: tuple[int, int] | None = None,
        codec: str = "libx264",
        crf: int = 20,
        preset: str = "veryfast",
        pix_fmt: str = "yuv420p",
        faststart: bool = False,
        options: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.fps = _check_fps(fps)
        if size is not None and not (
            len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)
        ):
            raise ValueError(f"size must be (width, height) in positive pixels, got {size!r}")
        try:
            fmt = av.VideoFormat(pix_fmt)
        except ValueError as e:
            raise ValueError(f"unknown pixel format {pix_fmt!r}") from e
        self.codec, self.crf, self.preset, self.pix_fmt = codec, crf, preset, pix_fmt
        self.faststart = faststart
        self.options = dict(options or {})
        self.size = size
        self.frames_written = 0
        self._rate = Fraction(fps).limit_denominator(1001000)
        self._pad = (fmt.chroma_width(2) < 2, fmt.chroma_height(2) < 2)
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._done = False
        self._atomic: AbstractContextManager[Path] = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        if size is not None:
            self._open(*size)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self._discard(exc)

    def _discard(self, exc: BaseException) -> None:
        """Drop the partial output: close the container and remove the temporary file."""
        if self._done:
            return
        self._done = True
        if self._container is not None:
            with contextlib.suppress(Exception):  # the output is thrown away anyway
                self._container.close()
        self._atomic.__exit__(type(exc), exc, exc.__traceback__)

    def _open(self, width: int, height: int) -> None:
        self.size = (width, height)
        w, h = width + (width % 2) * self._pad[0], height + (height % 2) * self._pad[1]
        muxer = {"movflags": "+faststart"} if self.faststart else {}
        try:
            self._container = av.open(str(self._tmp), mode="w", options=muxer)
            stream = self._container.add_stream(self.codec, rate=self._rate)
            if not isinstance(stream, av.VideoStream):
                raise ValueError(f"{self.codec} is not a video encoder")
            stream.width, stream.height, stream.pix_fmt = w, h, self.pix_fmt
            stream.time_base = 1 / self._rate
            stream.codec_context.time_base = 1 / self._rate
            if self.pix_fmt == "yuv420p":
                stream.codec_context.colorspace = _TAG_BT470BG
                stream.codec_context.color_range = _TAG_MPEG_RANGE
            x26x = {"crf": str(self.crf), "preset": self.preset} if self.codec in _X26X else {}
            stream.options = {**x26x, **{k: str(v) for k, v in self.options.items()}}
            self._stream = stream
        except (av.FFmpegError, ValueError, OSError) as e:
            err = VideoError(self.path, f"cannot create a {self.codec} video ({_reason(e)})")
            self._discard(err)
            raise err from e

    def _to_av(self, image: np.ndarray) -> av.VideoFrame:
        h, w = image.shape[:2]
        pad_w, pad_h = (w % 2) * self._pad[0], (h % 2) * self._pad[1]
        if pad_w or pad_h:
            image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        if self.pix_fmt == "yuv420p":
            i420: np.ndarray = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)
            return av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        return frame.reformat(format=self.pix_fmt, interpolation=_SWS_EXACT)

    def write(self, image: np.ndarray) -> None:
        """Append one frame.

        Args:
            image: ``uint8`` BGR array of shape ``(H, W, 3)`` (grayscale ``(H, W)`` is accepted).

        Raises:
            VideoError: the writer is closed, the image is not uint8 BGR, its size differs from
                the first frame's, or the encoder fails.
        """
        if self._done:
            raise VideoError(self.path, "the writer is closed")
        image = _check_image(self.path, image, f"frame {self.frames_written}")
        h, w = image.shape[:2]
        if self._container is None:
            self._open(w, h)
        elif (w, h) != self.size:
            width, height = self.size or (0, 0)
            raise VideoError(
                self.path,
                f"frame {self.frames_written} is {w}x{h} but the video is {width}x{height}",
            )
        container, stream = self._container, self._stream
        assert container is not None and stream is not None
        frame = self._to_av(image)
        frame.pts = self.frames_written
        frame.time_base = 1 / self._rate
        try:
            for packet in stream.encode(frame):
                container.mux(packet)
        except av.FFmpegError as e:
            err = VideoError(self.path, f"encoding frame {self.frames_written} failed ({e})")
            self._discard(err)
            raise err from e
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file and move it to ``path``. Calling it twice is harmless.

        Raises:
            VideoError: no frame was written (nothing is saved), or the encoder failed.
        """
        if self._done:
            return
        container, stream = self._container, self._stream
        if container is None or stream is None or self.frames_written == 0:
            err = VideoError(self.path, "no frames were written: an empty video is not saved")
            self._discard(err)
            raise err
        try:
            for packet in stream.encode(None):
                container.mux(packet)
            container.close()
        except av.FFmpegError as e:
            err = VideoError(self.path, f"finishing the video failed ({e})")
            self._discard(err)
            raise err from e
        self._done = True
        self._atomic.__exit__(None, None, None)


def write_video(path: str | Path, images: Iterable[np.ndarray], fps: float, **kwargs: Any) -> Path:
    """Encode ``images`` (uint8 BGR, one size) to ``path`` atomically and return the path.

    Keyword arguments go to :class:`VideoWriter` (``codec``, ``crf``, ``preset``...).

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_video(d / "c.mp4", (np.zeros((8, 8, 3), np.uint8) for _ in range(4)), 25)
    >>> probe(path).frame_count
    4
    >>> shutil.rmtree(d)
    """
    with VideoWriter(path, fps, **kwargs) as writer:
        for image in images:
            writer.write(image)
    return Path(path)


# ----------------------------------------------------------------------------------- images


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``uint8`` BGR ``(H, W, 3)``.

    Grayscale images are expanded to three channels, alpha is dropped, 16-bit images are scaled
    to 8 bits and the EXIF orientation is applied (OpenCV's ``IMREAD_COLOR``).

    Raises:
        VideoError: the file is missing, a folder, empty, or not a decodable image.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_image(d / "gray.png", np.full((5, 7), 200, np.uint8))
    >>> image = read_image(path)
    >>> image.shape, image.dtype, image[0, 0].tolist()
    ((5, 7, 3), dtype('uint8'), [200, 200, 200])
    >>> shutil.rmtree(d)
    """
    path = Path(path)
    if path.is_dir():
        raise VideoError(path, "is a folder, not an image file")
    if not path.exists():
        raise VideoError(path, "no such file")
    return _decode_image(path)


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an image atomically; the format follows the extension (png, jpg, bmp, tiff, webp).

    Args:
        path: output file.
        image: ``uint8`` BGR ``(H, W, 3)``, BGRA ``(H, W, 4)`` or grayscale ``(H, W)``.

    Returns:
        ``path``.

    Raises:
        VideoError: unknown extension, or an image that is not uint8 with 1, 3 or 4 channels.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(d / "a.png", np.zeros((4, 4, 3), np.uint8)).name
    'a.png'
    >>> shutil.rmtree(d)
    """
    path = Path(path)
    ext = path.suffix.lower()
    if not ext or not cv2.haveImageWriter(f"x{ext}"):
        raise VideoError(
            path, f"unknown image extension {ext!r}: use .png, .jpg, .bmp, .tif or .webp"
        )
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))
    ):
        raise VideoError(
            path,
            "image must be a uint8 array of shape (H, W), (H, W, 3) or (H, W, 4), "
            f"got dtype {image.dtype} and shape {image.shape}",
        )
    try:
        ok, buffer = cv2.imencode(ext, image)
    except cv2.error as e:
        raise VideoError(path, f"cannot be encoded as {ext} ({e})") from e
    if not ok:
        raise VideoError(path, f"cannot be encoded as {ext}")
    return write_bytes_atomic(path, buffer.tobytes())
