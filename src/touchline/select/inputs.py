"""Find the samples of a selection run, and read their pixels.

:func:`discover` walks a folder (a local path, or an fsspec URL such as ``s3://bucket/input`` or
``memory://clips``) and returns one :class:`~touchline.select.types.Sample` per image to select
from, named the way the Lightly Worker names them (see :mod:`touchline.select.types`):

* every **video** (``.mp4``, ``.mov``, ``.avi``, ``.mkv``...) gives one sample per frame:
  ``file_name`` is Lightly's frame name (``sub/match-053-mp4.png`` for frame 53 of
  ``sub/match.mp4``: the video's folder is kept, as in Lightly's prediction layout), ``video`` is
  the video's path relative to the input folder (its file name when it sits at the top, e.g.
  ``"dfl_08fd33_4.mp4"``) and ``frame`` the frame index. Frame counts come from
  :func:`touchline.video.probe` (container header, or a packet count: nothing is decoded);
* every **image** (``.jpg``, ``.png``...) gives one sample whose ``file_name`` is its path
  relative to the input folder with ``/`` separators. Images inside a sub-folder are the frames
  of a "video" named after that folder: ``video`` is the folder's relative path
  (``"seq_a"``; ``"a/b"`` when nested) and ``frame`` the image's index in the folder's natural
  order (``2.jpg`` before ``10.jpg``). Images at the top have ``video = frame = None``.

Hidden files and folders (``.lightly/``, ``.DS_Store``) and files of other types are ignored.
The order is deterministic: files in natural order of their relative path, a video's frames in
frame order at the place of the video.

Remote videos (fsspec URLs) are copied once to a local cache folder before probing and
decoding (FFmpeg needs random access); remote images are read into memory.

>>> import shutil, tempfile, pathlib, numpy as np
>>> from touchline.video import write_image, write_video
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_video(d / "clip.mp4", [np.full((16, 16, 3), 40 * k, np.uint8) for k in range(3)], 25)
>>> for k in (10, 2):
...     _ = write_image(d / "seq" / f"{k}.png", np.zeros((8, 8, 3), np.uint8))
>>> [(s.file_name, s.video, s.frame) for s in discover(d)]
[('clip-0-mp4.png', 'clip.mp4', 0), ('clip-1-mp4.png', 'clip.mp4', 1),
 ('clip-2-mp4.png', 'clip.mp4', 2), ('seq/2.png', 'seq', 0), ('seq/10.png', 'seq', 1)]
>>> int(read_frame(discover(d)[2]).mean())
80
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from touchline.errors import DataError, DependencyError, VideoError
from touchline.select.types import Sample, video_frame_name
from touchline.utils.files import write_bytes_atomic
from touchline.video import IMAGE_EXTENSIONS, VideoReader, probe, read_image
from touchline.video import read_frame as _read_video_frame

__all__ = [
    "IMAGE_EXTENSIONS",
    "SEEK_GAP",
    "VIDEO_EXTENSIONS",
    "discover",
    "frame_file_name",
    "iter_frames",
    "read_frame",
]

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}
)
"""File extensions (lower case) read as videos."""

SEEK_GAP = 250
"""Default ``seek_gap`` of :func:`iter_frames`: wanted frames further apart than this many frames
are reached by seeking (decoding from the previous keyframe) instead of decoding every frame in
between. 250 is libx264's default keyframe interval, beyond which a seek always decodes less."""

# ------------------------------------------------------------------------------ locations


def _is_url(path_or_url: str | os.PathLike[str]) -> bool:
    return isinstance(path_or_url, str) and "://" in path_or_url


def _natural_key(path: str) -> tuple[Any, ...]:
    """Sort key of a relative posix path: folder by folder, digits compared as numbers."""
    key: list[Any] = []
    for part in path.split("/"):
        pieces = re.split(r"(\d+)", part.lower())
        key.append(tuple((0, int(p)) if i % 2 else (1, p) for i, p in enumerate(pieces)))
    return (*key, path)


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


@dataclass(frozen=True)
class _Root:
    """A local folder or an fsspec location, with the few operations the readers need.

    ``path`` is a local path (``fs is None``) or the filesystem's path without the protocol.
    Relative names (``rel``) always use ``/``.
    """

    given: str
    path: str
    fs: Any = None

    def join(self, rel: str) -> str:
        if not rel:
            return self.path
        if self.fs is None:
            return str(Path(self.path, *rel.split("/")))
        return posixpath.join(self.path, rel)

    def where(self, rel: str = "") -> str:
        """How to name ``rel`` in a message or a Sample: a local path, or a full URL."""
        full = self.join(rel)
        return full if self.fs is None else str(self.fs.unstrip_protocol(full))

    def is_dir(self, rel: str = "") -> bool:
        return (
            Path(self.join(rel)).is_dir()
            if self.fs is None
            else bool(self.fs.isdir(self.join(rel)))
        )

    def is_file(self, rel: str = "") -> bool:
        full = self.join(rel)
        return Path(full).is_file() if self.fs is None else bool(self.fs.isfile(full))

    def files(self, rel: str = "") -> list[str]:
        """Relative paths (below ``rel``) of every non-hidden file, in natural order."""
        top = self.join(rel)
        found: list[str] = []
        if self.fs is None:
            for folder, dirs, names in os.walk(top, followlinks=True):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                base = Path(folder).relative_to(top).as_posix()
                for name in names:
                    if not name.startswith("."):
                        found.append(name if base == "." else f"{base}/{name}")
        else:
            prefix = top.rstrip("/") + "/"
            for full in self.fs.find(top, withdirs=False, detail=False):
                full = str(full)
                if full.startswith(prefix):
                    found.append(full[len(prefix) :])
        return sorted((f for f in found if not _hidden(f)), key=_natural_key)

    def read_bytes(self, rel: str) -> bytes:
        try:
            if self.fs is None:
                return Path(self.join(rel)).read_bytes()
            return bytes(self.fs.cat_file(self.join(rel)))
        except OSError as e:
            raise DataError(f"{self.where(rel)}: cannot be read ({e.strerror or e})") from e

    def write_bytes(self, rel: str, data: bytes) -> str:
        """Write ``rel`` (atomically on a local disk; fsspec writes are not atomic)."""
        if self.fs is None:
            return str(write_bytes_atomic(self.join(rel), data))
        full = self.join(rel)
        self.fs.makedirs(posixpath.dirname(full), exist_ok=True)
        self.fs.pipe_file(full, data)
        return self.where(rel)

    def local_file(self, rel: str) -> Path:
        """A local path holding ``rel``: the file itself, or a cached copy of a remote file."""
        if self.fs is None:
            return Path(self.join(rel))
        return _cached_copy(self.fs, self.join(rel), self.where(rel))


def _open_root(path_or_url: str | os.PathLike[str]) -> _Root:
    if not _is_url(path_or_url):
        return _Root(str(path_or_url), os.fspath(path_or_url))
    url = str(path_or_url)
    try:
        import fsspec  # lazy: only URLs need it
    except ImportError as e:
        raise DependencyError("fsspec", None) from e
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as e:
        raise DataError(f"{url}: cannot open this URL with fsspec ({e})") from e
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in ("file", "local"):
        return _Root(url, str(path))
    return _Root(url, str(path).rstrip("/") or "/", fs)


def _cache_dir() -> Path:
    return Path(os.environ.get("TOUCHLINE_CACHE", Path(tempfile.gettempdir()) / "touchline-cache"))


def _cached_copy(fs: Any, path: str, url: str) -> Path:
    """Copy a remote file once into the cache (keyed by URL, refreshed when its size changes)."""
    digest = hashlib.sha1(url.encode()).hexdigest()[:16]
    local = _cache_dir() / "fsspec" / digest / posixpath.basename(path)
    try:
        size = int(fs.size(path))
        if not (local.is_file() and local.stat().st_size == size):
            write_bytes_atomic(local, bytes(fs.cat_file(path)))
    except OSError as e:
        raise DataError(f"{url}: cannot be copied to {local} ({e.strerror or e})") from e
    return local


def _read_json(root: _Root, rel: str) -> Any:
    """Parse ``rel`` as JSON; malformed files raise DataError with the line and column."""
    data = root.read_bytes(rel)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise DataError(f"{root.where(rel)}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise DataError(
            f"{root.where(rel)}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from e


# -------------------------------------------------------------------------------- discover


def frame_file_name(video: str, frame: int, n_frames: int) -> str:
    """Lightly's name of frame ``frame`` of ``video`` (a path relative to the input folder).

    The folder is kept (``sub/clip-07-mp4.png``), as Lightly names the frames of videos in
    sub-folders; the name itself is :func:`touchline.select.types.video_frame_name`.

    >>> frame_file_name("sub/clip.mp4", 7, 40)
    'sub/clip-07-mp4.png'
    """
    folder, name = posixpath.split(video)
    frame_name = video_frame_name(name, frame, n_frames)
    return f"{folder}/{frame_name}" if folder else frame_name


def _suffixes(exts: Iterable[str], what: str) -> frozenset[str]:
    out = set()
    for ext in exts:
        if not isinstance(ext, str) or not ext:
            raise ValueError(f"{what} must be file extensions such as '.mp4', got {ext!r}")
        out.add(("" if ext.startswith(".") else ".") + ext.lower())
    return frozenset(out)


def discover(
    path_or_url: str | os.PathLike[str],
    *,
    video_exts: Iterable[str] = VIDEO_EXTENSIONS,
    image_exts: Iterable[str] = IMAGE_EXTENSIONS,
) -> list[Sample]:
    """Every sample (video frame or image) under a folder, in a deterministic order.

    Args:
        path_or_url: a local folder, a single video or image file, or an fsspec URL of either
            (``s3://bucket/input``; needs the ``fsspec`` package and the protocol's backend).
        video_exts: extensions read as videos (any case, with or without the dot).
        image_exts: extensions read as images.

    Returns:
        The samples (see the module docstring for their names); an empty list for a folder
        without videos or images.

    Raises:
        DataError: the path does not exist, or two inputs get the same Lightly name.
        VideoError: a video cannot be opened (the message names it).
        DependencyError: a URL is given and fsspec is not installed.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> from touchline.video import write_image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_image(d / "a.jpg", np.zeros((4, 4, 3), np.uint8))
    >>> discover(d)
    [Sample(file_name='a.jpg', source='.../a.jpg', video=None, frame=None, metadata={})]
    >>> shutil.rmtree(d)
    """
    videos, images = _suffixes(video_exts, "video_exts"), _suffixes(image_exts, "image_exts")
    root = _open_root(path_or_url)
    if root.is_dir():
        rels = root.files()
    elif root.is_file():  # a single file: its folder is the root
        parent, name = (
            (str(Path(root.path).parent), Path(root.path).name)
            if root.fs is None
            else posixpath.split(root.path)
        )
        root, rels = _Root(root.given, parent, root.fs), [name]
    else:
        raise DataError(f"{root.where()}: no such file or folder")

    samples: list[Sample] = []
    in_folder: dict[str, int] = {}
    for rel in rels:
        ext = posixpath.splitext(rel)[1].lower()
        if ext in videos:
            n = probe(root.local_file(rel)).frame_count
            source = root.where(rel)
            samples.extend(Sample(frame_file_name(rel, k, n), source, rel, k) for k in range(n))
        elif ext in images:
            folder = posixpath.dirname(rel)
            if folder:
                index = in_folder.get(folder, 0)
                in_folder[folder] = index + 1
                samples.append(Sample(rel, root.where(rel), folder, index))
            else:
                samples.append(Sample(rel, root.where(rel)))
    _check_unique(samples)
    return samples


def _check_unique(samples: Sequence[Sample]) -> None:
    seen: dict[str, Sample] = {}
    for s in samples:
        other = seen.setdefault(s.file_name, s)
        if other is not s:
            raise DataError(
                f"two inputs get the same Lightly name {s.file_name!r}: {other.source} and "
                f"{s.source}; rename one of them"
            )


# ---------------------------------------------------------------------------------- pixels


def _is_video_frame(sample: Sample) -> bool:
    """A video frame's source is its video; an image's source ends with its own file name."""
    if sample.frame is None:
        return False
    return not sample.source.replace("\\", "/").endswith(sample.file_name)


def _local_source(source: str) -> Path:
    if not _is_url(source):
        return Path(source)
    folder, name = source.rsplit("/", 1)
    return _open_root(folder).local_file(name)


def _decode_image_bytes(data: bytes, where: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise VideoError(where, "cannot be decoded as an image: not an image, or a corrupt file")
    return image


def _read_image_sample(sample: Sample) -> np.ndarray:
    if not _is_url(sample.source):
        return read_image(sample.source)
    folder, name = sample.source.rsplit("/", 1)
    return _decode_image_bytes(_open_root(folder).read_bytes(name), sample.source)


def read_frame(sample: Sample) -> np.ndarray:
    """The pixels of one sample, ``uint8`` BGR ``(H, W, 3)``.

    A video frame is reached by seeking to the keyframe before it (not by decoding the video
    from its start). For many samples use :func:`iter_frames`, which decodes each video once.

    Raises:
        VideoError: the file cannot be read or decoded.
        IndexError: the frame is beyond the end of its video.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> from touchline.video import write_image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_image(d / "s" / "0.png", np.full((4, 6, 3), 7, np.uint8))
    >>> read_frame(discover(d)[0]).shape
    (4, 6, 3)
    >>> shutil.rmtree(d)
    """
    if _is_video_frame(sample):
        assert sample.frame is not None
        return _read_video_frame(_local_source(sample.source), sample.frame)
    return _read_image_sample(sample)


def _segments(frames: Sequence[int], gap: int) -> list[list[int]]:
    out: list[list[int]] = []
    for k in frames:
        if out and k - out[-1][-1] <= gap:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def iter_frames(
    samples: Iterable[Sample], *, seek_gap: int = SEEK_GAP
) -> Iterator[tuple[Sample, np.ndarray]]:
    """Yield ``(sample, image)`` for many samples, decoding each video once, sequentially.

    Samples are grouped by source file (videos and images) in order of first appearance; the
    frames of a video come in increasing frame order. A video is decoded forward from its first
    wanted frame; when the next wanted frame is more than ``seek_gap`` frames ahead the decoder
    seeks instead (one re-open per gap, never one per frame). A sample listed twice is yielded
    twice.

    Args:
        samples: samples from :func:`discover` (any subset, any order).
        seek_gap: largest run of unwanted frames decoded rather than skipped by a seek (``>= 0``).

    Raises:
        VideoError: a source cannot be read, or a video ends before a wanted frame.

    >>> import shutil, tempfile, pathlib, numpy as np
    >>> from touchline.video import write_video
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_video(d / "c.mp4", [np.full((8, 8, 3), 50 * k, np.uint8) for k in range(4)], 25)
    >>> s = discover(d)
    >>> [(x.frame, int(image.mean())) for x, image in iter_frames([s[3], s[1]])]
    [(1, 50), (3, 150)]
    >>> shutil.rmtree(d)
    """
    if not isinstance(seek_gap, int) or seek_gap < 0:
        raise ValueError(f"seek_gap must be an integer >= 0, got {seek_gap!r}")
    groups: dict[str, dict[int, list[Sample]]] = {}
    for s in samples:
        key = s.frame if _is_video_frame(s) and s.frame is not None else -1
        groups.setdefault(s.source, {}).setdefault(key, []).append(s)
    for source, by_frame in groups.items():
        if -1 in by_frame:  # an image
            image = _read_image_sample(by_frame[-1][0])
            for s in by_frame.pop(-1):
                yield s, image
        if by_frame:
            yield from _iter_video(source, by_frame, seek_gap)


def _iter_video(
    source: str, by_frame: dict[int, list[Sample]], seek_gap: int
) -> Iterator[tuple[Sample, np.ndarray]]:
    path = _local_source(source)
    for segment in _segments(sorted(by_frame), seek_gap):
        wanted = set(segment)
        with VideoReader(path, start=segment[0], stop=segment[-1] + 1) as reader:
            for frame in reader:
                if frame.index in wanted:
                    wanted.discard(frame.index)
                    for s in by_frame[frame.index]:
                        yield s, frame.image
        if wanted:
            count = reader.info.frame_count
            raise VideoError(
                path, f"frame {min(wanted)} could not be decoded (the video has {count} frames)"
            )
