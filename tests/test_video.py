"""Tests of touchline.video: round trips, ranges and seeking, image sources, every bad input.

Fixtures are generated here (numpy, cv2, the writer itself); real clips are read in place through
the ``shared`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from touchline.errors import VideoError
from touchline.video import (
    Frame,
    VideoReader,
    VideoWriter,
    iter_frames,
    probe,
    read_frame,
    read_image,
    write_image,
    write_video,
)

N = 40  # frames of the synthetic clips
W, H = 96, 64


def scene(k: int, width: int = W, height: int = H) -> np.ndarray:
    """Frame ``k``: a smooth gradient at a per-frame grey offset, with a red square moving right."""
    x = np.linspace(0, 120, width, dtype=np.float32)
    y = np.linspace(0, 60, height, dtype=np.float32)[:, None]
    grey = (x + y + 3 * k) % 180 + 40
    image = np.repeat(grey[:, :, None], 3, axis=2).astype(np.uint8)
    image[10:30, 2 * k : 2 * k + 20] = (0, 0, 230)
    return image


def noisy(k: int, width: int = 128, height: int = 96) -> np.ndarray:
    """Hard-to-compress frame (fresh noise each frame), so that files are large enough to cut."""
    rng = np.random.default_rng(k)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """N frames at 25 fps, a keyframe every 12 frames (so that seeking really seeks)."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    return write_video(path, (scene(k) for k in range(N)), 25, options={"g": "12"})


@pytest.fixture(scope="module")
def sequential(clip: Path) -> list[Frame]:
    return list(iter_frames(clip))


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fps", [25, 30000 / 1001, Fraction(30000, 1001), 12.5])
def test_round_trip(tmp_path: Path, fps: float) -> None:
    path = write_video(tmp_path / "rt.mp4", (scene(k) for k in range(N)), fps)
    info = probe(path)
    assert (info.kind, info.width, info.height, info.frame_count, info.codec) == (
        "video",
        W,
        H,
        N,
        "h264",
    )
    assert info.fps == pytest.approx(float(fps), abs=1e-9)
    assert info.duration == pytest.approx(N / float(fps))
    frames = list(VideoReader(path))
    assert len(frames) == N
    for k, frame in enumerate(frames):
        assert frame.index == k
        assert frame.time == pytest.approx(k / float(fps), abs=1e-6)
        assert frame.image.shape == (H, W, 3) and frame.image.dtype == np.uint8
        assert mad(frame.image, scene(k)) < 2.5, k


def test_round_trip_is_unbiased(tmp_path: Path) -> None:
    """Flat greys, including black and white, come back at the same level (no colour drift)."""
    levels = [0, 16, 128, 235, 255]
    path = write_video(tmp_path / "g.mp4", (np.full((32, 32, 3), v, np.uint8) for v in levels), 25)
    for level, frame in zip(levels, iter_frames(path), strict=True):
        assert abs(float(frame.image.mean()) - level) < 1.0


def test_odd_size_is_padded_by_edge_replication(tmp_path: Path) -> None:
    image = scene(0, 33, 21)
    path = write_video(tmp_path / "odd.mp4", [image] * 3, 25)
    info = probe(path)
    assert (info.width, info.height) == (34, 22)
    out = read_frame(path, 0)
    assert mad(out[:21, :33], image) < 2.5
    assert mad(out[:21, 33], image[:, 32]) < 4  # replicated last column
    assert mad(out[21, :33], image[20]) < 4  # replicated last row


def test_explicit_size_and_grayscale_frames(tmp_path: Path) -> None:
    path = tmp_path / "s.mp4"
    with VideoWriter(path, 25, size=(32, 16)) as writer:
        writer.write(np.full((16, 32), 90, np.uint8))
        assert writer.frames_written == 1
        with pytest.raises(VideoError, match=r"frame 1 is 16x32 but the video is 32x16") as err:
            writer.write(np.zeros((32, 16, 3), np.uint8))
        assert path.name in str(err.value)
    assert probe(path).frame_count == 1
    assert abs(read_frame(path, 0).mean() - 90) < 1


def test_frame_of_another_size_raises_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "m.mp4"
    with (
        pytest.raises(VideoError, match="20x10 but the video is 32x16") as err,
        VideoWriter(path, 25) as writer,
    ):
        writer.write(np.zeros((16, 32, 3), np.uint8))
        writer.write(np.zeros((10, 20, 3), np.uint8))
    assert "m.mp4" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_exception_inside_writer_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    with pytest.raises(RuntimeError, match="boom"), VideoWriter(path, 25) as writer:
        for k in range(5):
            writer.write(scene(k))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # neither the final file nor the temporary one


def test_existing_file_is_kept_when_writing_fails(tmp_path: Path) -> None:
    path = write_video(tmp_path / "keep.mp4", [scene(0)] * 2, 25)
    before = path.read_bytes()
    with pytest.raises(RuntimeError), VideoWriter(path, 25) as writer:
        writer.write(scene(1))
        raise RuntimeError
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("images", "size", "match"),
    [
        ([], None, "no frames were written"),
        ([], (16, 16), "no frames were written"),
        ([np.zeros((8, 8, 3), np.float32)], None, "uint8 array of shape"),
        ([np.zeros((8, 8, 2), np.uint8)], None, r"shape \(8, 8, 2\)"),
    ],
)
def test_writer_bad_input(
    tmp_path: Path, images: list[np.ndarray], size: tuple[int, int] | None, match: str
) -> None:
    path = tmp_path / "bad.mp4"
    with pytest.raises(VideoError, match=match) as err:
        write_video(path, images, 25, size=size)
    assert "bad.mp4" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"fps": 0}, {"fps": -1}, {"fps": float("nan")}, {"fps": 25, "size": (0, 10)}],
)
def test_writer_bad_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"fps|size"):
        VideoWriter(tmp_path / "x.mp4", **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ ranges, seeking, reading


@pytest.mark.parametrize(
    ("start", "stop", "stride"),
    [
        (0, None, 1),
        (0, None, 2),
        (0, None, 7),
        (5, None, 1),
        (5, 17, 3),
        (13, 14, 1),
        (20, 20, 1),
        (38, None, 5),
        (30, 1000, 4),
        (N, None, 1),
        (N + 10, None, 2),
    ],
)
def test_start_stop_stride(
    clip: Path, sequential: list[Frame], start: int, stop: int | None, stride: int
) -> None:
    expected = list(range(N))[start:stop:stride]
    with VideoReader(clip, start=start, stop=stop, stride=stride) as reader:
        assert len(reader) == len(expected)
        frames = list(reader)
    assert [f.index for f in frames] == expected
    for frame in frames:
        ref = sequential[frame.index]
        assert frame.time == ref.time
        assert np.array_equal(frame.image, ref.image)


@pytest.mark.parametrize("start", [1, 11, 12, 13, 24, 30, N - 1])
def test_seek_equals_sequential_decoding(clip: Path, sequential: list[Frame], start: int) -> None:
    frames = list(VideoReader(clip, start=start, stop=start + 3))
    ref = sequential[start : start + 3]
    assert [(f.index, f.time) for f in frames] == [(f.index, f.time) for f in ref]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(frames, ref, strict=True))


def test_seek_starts_at_the_keyframe_before_start(clip: Path) -> None:
    """Seeking really skips work: decoding resumes at the keyframe (every 12th frame) before."""
    reader = VideoReader(clip, start=30)
    decoded = reader._decoded(seek=True)
    assert next(decoded)[0] == 24
    decoded.close()


def test_seek_that_overshoots_falls_back_to_sequential(
    clip: Path, sequential: list[Frame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demuxer that lands after the target must not lose frames: decoding restarts at 0."""
    from touchline import video

    class Overshooting:
        def __init__(self, container: av.container.InputContainer) -> None:
            self._container = container

        def __getattr__(self, name: str) -> object:
            return getattr(self._container, name)

        def seek(self, offset: int, **kwargs: object) -> None:
            time_base = self._container.streams.video[0].time_base
            assert time_base is not None
            jump = round(13 / 25 / time_base)  # 13 frames too far: the next keyframe
            self._container.seek(offset + jump, **kwargs)  # type: ignore[arg-type]

    real_open = video._open_video
    monkeypatch.setattr(video, "_open_video", lambda p: Overshooting(real_open(p)))
    frames = list(VideoReader(clip, start=13, stop=16))
    assert [f.index for f in frames] == [13, 14, 15]
    assert all(np.array_equal(f.image, sequential[f.index].image) for f in frames)


def test_reader_iterates_again_and_closes(clip: Path) -> None:
    reader = VideoReader(clip, stride=10)
    assert [f.index for f in reader] == [0, 10, 20, 30]
    assert [f.index for f in reader] == [0, 10, 20, 30]
    assert "stride=10" in repr(reader)
    frames = iter(reader)
    next(frames)
    reader.close()
    assert list(frames) == []
    with pytest.raises(ValueError, match="closed"):
        iter(reader)


def test_read_frame(clip: Path, sequential: list[Frame]) -> None:
    assert np.array_equal(read_frame(clip, 17), sequential[17].image)
    assert np.array_equal(read_frame(clip, -1), sequential[-1].image)
    assert np.array_equal(read_frame(clip, -N), sequential[0].image)
    for index in (N, -N - 1):
        with pytest.raises(IndexError, match=f"clip.mp4: frame {index} is out of range"):
            read_frame(clip, index)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stride": 0}, "stride must be an integer >= 1"),
        ({"stride": 1.5}, "stride must be an integer >= 1"),
        ({"start": -1}, "start must be an integer >= 0"),
        ({"start": 5, "stop": 4}, r"stop must be None or an integer >= start \(5\)"),
        ({"fps": 0}, "fps must be a positive"),
    ],
)
def test_reader_bad_arguments(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    write_image(tmp_path / "a.png", scene(0))
    with pytest.raises(ValueError, match=match):
        VideoReader(tmp_path, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- image sources


def test_image_folder(tmp_path: Path) -> None:
    names = ["frame10.PNG", "frame2.Png", "frame1.png", "frame3.BMP", "frame11.tiff"]
    for k, name in enumerate(names):
        write_image(tmp_path / name, scene(k))
    write_image(tmp_path / ".hidden0.png", scene(9))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub.png").mkdir()
    info = probe(tmp_path, fps=10)
    assert (info.kind, info.width, info.height, info.frame_count, info.codec) == (
        "images",
        W,
        H,
        5,
        "",
    )
    assert info.duration == pytest.approx(0.5)
    with VideoReader(tmp_path, fps=10, start=1, stride=2) as reader:
        assert len(reader) == 2
        frames = list(reader)
    assert [(f.index, f.time) for f in frames] == [(1, 0.1), (3, 3 / 10)]
    # natural order: frame1, frame2, frame3, frame10, frame11 -> written as k = 2, 1, 3, 0, 4
    assert np.array_equal(frames[0].image, scene(1))
    assert np.array_equal(frames[1].image, scene(0))
    assert [f.index for f in iter_frames(tmp_path)] == [0, 1, 2, 3, 4]
    assert np.array_equal(read_frame(tmp_path, -1), scene(4))


def test_single_image_source(tmp_path: Path) -> None:
    path = write_image(tmp_path / "one.jpg", scene(0))
    info = probe(path)
    assert (info.kind, info.frame_count, info.width, info.height) == ("image", 1, W, H)
    frames = list(VideoReader(path))
    assert [(f.index, f.time) for f in frames] == [(0, 0.0)]
    assert mad(frames[0].image, scene(0)) < 3  # jpeg is lossy


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (np.full((5, 7), 200, np.uint8), (200, 200, 200)),
        (np.full((5, 7, 1), 60, np.uint8), (60, 60, 60)),
        (
            np.dstack([np.full((5, 7, 3), (10, 20, 30), np.uint8), np.zeros((5, 7), np.uint8)]),
            (10, 20, 30),
        ),
        (np.full((5, 7, 3), (1, 2, 3), np.uint8), (1, 2, 3)),
    ],
    ids=["gray", "gray1", "bgra", "bgr"],
)
def test_read_image_converts_to_bgr(tmp_path: Path, image: np.ndarray, expected: tuple) -> None:
    path = write_image(tmp_path / "x.png", image)
    out = read_image(path)
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    assert out[2, 3].tolist() == list(expected)


def test_read_image_sixteen_bit(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), np.full((4, 4, 3), 65535, np.uint16))
    out = read_image(path)
    assert out.dtype == np.uint8 and out.max() == 255


def test_write_image_is_atomic_and_checks_extension(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    assert write_image(path, scene(0)) == path
    assert np.array_equal(read_image(path), scene(0))
    for name in ("a.xyz", "noext"):
        with pytest.raises(VideoError, match="unknown image extension") as err:
            write_image(tmp_path / name, scene(0))
        assert name in str(err.value)
    with pytest.raises(VideoError, match="uint8") as err:
        write_image(tmp_path / "f.png", np.zeros((4, 4, 3), np.float64))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


# --------------------------------------------------------------------------- bad sources

Maker = Callable[[Path], Path]


def _text(tmp: Path) -> Path:
    path = tmp / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    return path


def _random(tmp: Path) -> Path:
    path = tmp / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    return path


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.mp4"
    path.write_bytes(b"")
    return path


def _audio_only(tmp: Path) -> Path:
    path = tmp / "audio.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        samples = np.zeros((1, 1024), np.float32)
        for k in range(10):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, k * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _truncated(tmp: Path, *, faststart: bool) -> Path:
    full = write_video(tmp / "full.mp4", (noisy(k) for k in range(50)), 25, faststart=faststart)
    data = full.read_bytes()
    path = tmp / ("cut_faststart.mp4" if faststart else "cut.mp4")
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


def _no_images(tmp: Path) -> Path:
    folder = tmp / "nothing"
    folder.mkdir()
    (folder / "readme.txt").write_text("x")
    write_image(folder / ".hidden.png", scene(0))
    return folder


def _corrupt_image(tmp: Path) -> Path:
    folder = tmp / "frames"
    folder.mkdir()
    write_image(folder / "f0.png", scene(0))
    (folder / "f1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 30)
    write_image(folder / "f2.png", scene(2))
    return folder


def _mixed_sizes(tmp: Path) -> Path:
    folder = tmp / "frames"
    folder.mkdir()
    write_image(folder / "f0.png", np.zeros((10, 20, 3), np.uint8))
    write_image(folder / "f1.png", np.zeros((10, 20, 3), np.uint8))
    write_image(folder / "f2.png", np.zeros((12, 30, 3), np.uint8))
    return folder


BAD_SOURCES: list[tuple[str, Maker, str, str]] = [
    # id, maker, file name the message must contain, text it must contain
    ("missing", lambda t: t / "missing.mp4", "missing.mp4", "no such file or folder"),
    ("no-images", _no_images, "nothing", "folder contains no images"),
    ("empty", _empty, "empty.mp4", "empty (0 bytes)"),
    ("text", _text, "notes.mp4", "cannot be opened as a video"),
    ("random", _random, "noise.mp4", "cannot be opened as a video"),
    ("audio-only", _audio_only, "audio.m4a", "has no video stream (streams: audio)"),
    ("truncated", lambda t: _truncated(t, faststart=False), "cut.mp4", "truncated"),
    ("truncated-faststart", lambda t: _truncated(t, faststart=True), "cut_faststart", "of 50"),
    ("corrupt-image", _corrupt_image, "f1.png", "cannot be decoded as an image"),
    (
        "mixed-sizes",
        _mixed_sizes,
        "f2.png",
        "image is 30x12 but the folder's first image f0.png is 20x10",
    ),
]


@pytest.mark.parametrize(
    ("maker", "name", "text"), [c[1:] for c in BAD_SOURCES], ids=[c[0] for c in BAD_SOURCES]
)
def test_bad_source(tmp_path: Path, maker: Maker, name: str, text: str) -> None:
    path = maker(tmp_path)
    yielded: list[int] = []
    with pytest.raises(VideoError) as err:
        for frame in VideoReader(path):
            yielded.append(frame.index)
    message = str(err.value)
    assert name in message and text in message, message
    assert not isinstance(err.value.__cause__, VideoError)
    # frames before the fault are delivered: f0 for the image folders, a prefix for truncation
    assert yielded == list(range(len(yielded)))
    if name in ("f1.png", "f2.png"):
        assert yielded == list(range(int(name[1])))
    if "faststart" in name:
        assert len(yielded) < 50


@pytest.mark.parametrize(
    ("maker", "name"),
    [
        (c[1], c[2])
        for c in BAD_SOURCES
        if c[0] not in ("truncated-faststart", "corrupt-image", "mixed-sizes")
    ],
    ids=[
        c[0]
        for c in BAD_SOURCES
        if c[0] not in ("truncated-faststart", "corrupt-image", "mixed-sizes")
    ],
)
def test_bad_source_fails_at_probe(tmp_path: Path, maker: Maker, name: str) -> None:
    path = maker(tmp_path)
    with pytest.raises(VideoError, match=name):
        probe(path)


def test_truncated_faststart_declares_all_frames(tmp_path: Path) -> None:
    path = _truncated(tmp_path, faststart=True)
    assert probe(path).frame_count == 50  # the index survived: the damage shows when decoding
    with pytest.raises(VideoError, match=r"cut_faststart\.mp4: .* of 50 frames"):
        read_frame(path, 49)


@pytest.mark.parametrize(
    ("maker", "text"),
    [
        (lambda t: t / "nope.png", "no such file"),
        (lambda t: t, "is a folder"),
        (_empty, r"empty \(0 bytes\)"),
        (_text, "cannot be decoded as an image"),
        (lambda t: write_video(t / "v.mp4", [scene(0)], 25), "cannot be decoded as an image"),
    ],
    ids=["missing", "folder", "empty", "text", "video"],
)
def test_read_image_errors(tmp_path: Path, maker: Maker, text: str) -> None:
    path = maker(tmp_path)
    with pytest.raises(VideoError, match=text) as err:
        read_image(path)
    assert path.name in str(err.value)


# ------------------------------------------------------------------------------ real clips


@pytest.mark.shared_data
def test_dfl_clip(shared: Callable[[str], Path]) -> None:
    path = shared("video/dfl_08fd33_4.mp4")
    info = probe(path)
    assert (info.width, info.height, info.fps, info.frame_count, info.codec) == (
        848,
        478,
        25.0,
        169,
        "h264",
    )
    keep = {0, 1, 100, 101, 168}
    count, kept = 0, {}
    for frame in VideoReader(path):
        assert frame.index == count
        assert frame.time == pytest.approx(count / 25, abs=1e-6)
        if frame.index in keep:
            kept[frame.index] = frame.image
        count += 1
    assert count == 169
    assert kept[0].shape == (478, 848, 3)
    for frame in VideoReader(path, start=100, stop=102):
        assert np.array_equal(frame.image, kept[frame.index])
    assert np.array_equal(read_frame(path, -1), kept[168])


@pytest.mark.shared_data
def test_soccertrack_clips(shared: Callable[[str], Path]) -> None:
    left = shared("video/soccertrack_left_camera.mp4")
    right = shared("video/soccertrack_right_camera.mp4")
    for path in (left, right):
        info = probe(path)
        assert (info.width, info.height, info.fps, info.frame_count) == (3072, 1728, 25.0, 250)
    # One full decode (stride only skips the colour conversion). The reader raises if fewer
    # frames decode than declared, and a 251st frame (index 250, a multiple of 10) would show.
    with VideoReader(left, stride=10) as reader:
        assert len(reader) == 25
        indices = []
        for frame in reader:
            indices.append(frame.index)
            assert frame.image.shape == (1728, 3072, 3)
    assert indices == list(range(0, 250, 10))
