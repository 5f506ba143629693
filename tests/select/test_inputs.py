"""Tests of touchline.select.inputs (discovery, frame reading) and touchline.select.metadata.

Small inputs are generated here (touchline.video's writers); the real frame folders and clips are
read in place through the ``shared`` fixture.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import touchline.select.inputs as inputs_module
from touchline.errors import DataError, DependencyError, VideoError
from touchline.select.inputs import discover, frame_file_name, iter_frames, read_frame
from touchline.select.metadata import (
    MetadataField,
    attach_metadata,
    read_metadata,
    read_metadata_schema,
    write_metadata,
    write_metadata_schema,
)
from touchline.select.types import Sample, video_frame_name
from touchline.video import iter_frames as video_iter_frames
from touchline.video import read_image, write_image, write_video

N = 12  # frames of the synthetic clip


def gray(k: int) -> np.ndarray:
    return np.full((32, 48, 3), 10 + 20 * k, np.uint8)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clip.mp4 (12 frames, keyframe every 4), sub/short.mp4 (3), images at the top, in
    sub-folders (natural order) and nested; hidden and foreign files that must be ignored."""
    d = tmp_path_factory.mktemp("inputs")
    write_video(d / "clip.mp4", (gray(k) for k in range(N)), 25, options={"g": "4"})
    write_video(d / "sub" / "short.mp4", (gray(k) for k in range(3)), 25)
    write_image(d / "top.jpg", gray(1))
    for name, k in (("10.png", 3), ("2.png", 2), ("1.png", 1)):
        write_image(d / "seq_b" / name, gray(k))
    write_image(d / "seq_a" / "0.png", gray(4))
    write_image(d / "a" / "b" / "x.png", gray(5))
    write_image(d / ".hidden.png", gray(0))
    write_image(d / ".lightly" / "y.png", gray(0))
    (d / "notes.txt").write_text("not an input")
    return d


EXPECTED = [
    ("a/b/x.png", "a/b", 0),
    *[(video_frame_name("clip.mp4", k, N), "clip.mp4", k) for k in range(N)],
    ("seq_a/0.png", "seq_a", 0),
    ("seq_b/1.png", "seq_b", 0),
    ("seq_b/2.png", "seq_b", 1),
    ("seq_b/10.png", "seq_b", 2),
    *[(f"sub/{video_frame_name('short.mp4', k, 3)}", "sub/short.mp4", k) for k in range(3)],
    ("top.jpg", None, None),
]


# -------------------------------------------------------------------------------- discover


def test_discover_names_order_and_fields(folder: Path) -> None:
    samples = discover(folder)
    assert [(s.file_name, s.video, s.frame) for s in samples] == EXPECTED
    assert samples[1].source == str(folder / "clip.mp4")
    assert samples[-1].source == str(folder / "top.jpg")
    assert all(s.metadata == {} for s in samples)
    assert discover(folder) == samples  # deterministic


def test_frame_names_follow_lightly_examples() -> None:
    # Lightly's docs: frame 99 of my_video.mp4 (200 frames), also inside a sub-folder
    assert frame_file_name("my_video.mp4", 99, 200) == "my_video-099-mp4.png"
    assert frame_file_name("my_subdir/my_video.mp4", 99, 200) == "my_subdir/my_video-099-mp4.png"


def test_discover_single_file_and_extensions(folder: Path) -> None:
    one = discover(folder / "clip.mp4")
    assert [s.file_name for s in one] == [video_frame_name("clip.mp4", k, N) for k in range(N)]
    only_images = discover(folder, video_exts=())
    assert [s.file_name for s in only_images] == [
        name for name, video, _ in EXPECTED if not str(video).endswith(".mp4")
    ]
    assert [s.file_name for s in discover(folder, image_exts=["JPG"], video_exts=[])] == ["top.jpg"]


def test_discover_probes_without_decoding(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("discover must not decode frames")

    monkeypatch.setattr(inputs_module, "VideoReader", no_decoding)
    assert len(discover(folder)) == len(EXPECTED)


def test_discover_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing_folder: no such file or folder"):
        discover(tmp_path / "missing_folder")
    (tmp_path / "empty").mkdir()
    assert discover(tmp_path / "empty") == []
    with pytest.raises(ValueError, match="video_exts"):
        discover(tmp_path, video_exts=[""])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.mp4").write_bytes(b"not a video at all")
    with pytest.raises(VideoError, match=r"bad\.mp4"):
        discover(broken)


def test_discover_name_collision(tmp_path: Path) -> None:
    write_video(tmp_path / "c.mp4", [gray(0)] * 3, 25)
    write_image(tmp_path / "c-0-mp4.png", gray(0))  # the name of frame 0 of c.mp4
    with pytest.raises(DataError, match=r"same Lightly name 'c-0-mp4\.png'"):
        discover(tmp_path)


# ---------------------------------------------------------------------------------- pixels


def test_read_frame_matches_sequential_decoding(folder: Path) -> None:
    samples = discover(folder)
    decoded = [f.image for f in video_iter_frames(folder / "clip.mp4")]
    for s in samples[1 : N + 1]:
        assert s.frame is not None
        assert np.array_equal(read_frame(s), decoded[s.frame])
    image = next(s for s in samples if s.file_name == "seq_b/10.png")
    assert np.array_equal(read_frame(image), read_image(folder / "seq_b" / "10.png"))
    assert read_frame(image).dtype == np.uint8 and read_frame(image).shape == (32, 48, 3)


class CountingReader:
    """Stands in for VideoReader and counts how often a video is opened."""

    opened: ClassVar[list[tuple[int, int | None]]] = []

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from touchline.video import VideoReader

        cls.opened.append((kwargs.get("start", 0), kwargs.get("stop")))
        return VideoReader(*args, **kwargs)


@pytest.mark.parametrize(
    ("frames", "seek_gap", "opens"),
    [
        ([0, 3, 7, 11], 250, [(0, 12)]),  # one sequential pass
        ([11, 1, 5], 250, [(1, 12)]),  # any order: still one pass, from the first wanted
        ([1, 5, 9], 0, [(1, 2), (5, 6), (9, 10)]),  # far apart: seek instead of decoding
        ([1, 2, 9], 3, [(1, 3), (9, 10)]),
    ],
)
def test_iter_frames_decodes_each_video_once(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    frames: list[int],
    seek_gap: int,
    opens: list[tuple[int, int]],
) -> None:
    samples = discover(folder)
    clip = {s.frame: s for s in samples if s.video == "clip.mp4"}
    wanted = [clip[k] for k in frames]
    CountingReader.opened = []
    monkeypatch.setattr(inputs_module, "VideoReader", CountingReader)
    got = list(iter_frames(wanted, seek_gap=seek_gap))
    assert CountingReader.opened == opens
    assert [s.frame for s, _ in got] == sorted(frames)
    decoded = [f.image for f in video_iter_frames(folder / "clip.mp4")]
    for s, image in got:
        assert s.frame is not None
        assert np.array_equal(image, decoded[s.frame])


def test_iter_frames_groups_sources_and_repeats(folder: Path) -> None:
    samples = discover(folder)
    by_name = {s.file_name: s for s in samples}
    short1 = by_name["sub/" + video_frame_name("short.mp4", 1, 3)]
    clip2 = by_name[video_frame_name("clip.mp4", 2, N)]
    clip0 = by_name[video_frame_name("clip.mp4", 0, N)]
    order = [short1, by_name["top.jpg"], clip2, short1, clip0]
    got = [s.file_name for s, _ in iter_frames(order)]
    assert got == [short1.file_name, short1.file_name, "top.jpg", clip0.file_name, clip2.file_name]
    assert list(iter_frames([])) == []
    with pytest.raises(ValueError, match="seek_gap"):
        list(iter_frames(samples, seek_gap=-1))


def test_iter_frames_frame_beyond_end(folder: Path) -> None:
    ghost = Sample("clip-40-mp4.png", str(folder / "clip.mp4"), "clip.mp4", 40)
    with pytest.raises(VideoError, match=r"clip\.mp4: frame 40 could not be decoded"):
        list(iter_frames([ghost]))
    with pytest.raises(IndexError, match="out of range"):
        read_frame(ghost)


# --------------------------------------------------------------------------------- fsspec


@pytest.fixture
def memory_folder(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    fsspec = pytest.importorskip("fsspec")
    monkeypatch.setenv("TOUCHLINE_CACHE", str(tmp_path / "cache"))  # remote videos land here
    fs = fsspec.filesystem("memory")
    for path in folder.rglob("*"):
        if path.is_file():
            fs.pipe_file(f"/inputs_test/{path.relative_to(folder).as_posix()}", path.read_bytes())
    yield "memory://inputs_test"
    fs.rm("/inputs_test", recursive=True)


def test_discover_fsspec_memory(memory_folder: str, folder: Path, tmp_path: Path) -> None:
    samples = discover(memory_folder)
    assert [(s.file_name, s.video, s.frame) for s in samples] == EXPECTED
    assert samples[1].source == "memory:///inputs_test/clip.mp4"
    local = discover(folder)
    for remote, here in zip(samples[N - 1 : N + 3], local[N - 1 : N + 3], strict=True):
        assert np.array_equal(read_frame(remote), read_frame(here))
    got = {s.file_name: image for s, image in iter_frames(samples[:4] + samples[-2:])}
    assert np.array_equal(got["top.jpg"], read_image(folder / "top.jpg"))
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*.mp4"))
    assert cached == ["clip.mp4", "short.mp4"]  # each remote video copied once


def test_fsspec_missing_is_a_dependency_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # makes "import fsspec" fail
    with pytest.raises(DependencyError, match="fsspec"):
        discover("s3://bucket/input")


# ------------------------------------------------------------------------------ real data


@pytest.mark.shared_data
def test_discover_real_frames_and_clips(shared: Callable[[str], Path]) -> None:
    frames = discover(shared("frames"))
    assert Counter(s.video for s in frames) == {
        "chelsea_arsenal_512": 429,
        "india_thailand_512": 161,
        "leicester_liverpool_512": 51,
        None: 1,  # wc2014_ned_arg_1024.jpg, at the top
    }
    leicester = [s for s in frames if s.video == "leicester_liverpool_512"]
    assert [s.frame for s in leicester] == list(range(51))
    assert leicester[7].file_name == "leicester_liverpool_512/0007.jpg"

    clips = discover(shared("video"))
    assert Counter(s.video for s in clips) == {
        "dfl_08fd33_4.mp4": 169,
        "soccertrack_left_camera.mp4": 250,
        "soccertrack_right_camera.mp4": 250,
    }
    dfl = [s for s in clips if s.video == "dfl_08fd33_4.mp4"]
    assert dfl[99].file_name == "dfl_08fd33_4-099-mp4.png"
    image = read_frame(dfl[100])
    assert image.shape == (478, 848, 3)
    got = dict(iter_frames([dfl[100], dfl[5]]))
    assert np.array_equal(got[dfl[100]], image)

    meta = read_metadata(None, frames + clips)
    names = Counter(m["video_name"] for m in meta.values())
    assert names["leicester_liverpool_512"] == 51 and names["dfl_08fd33_4.mp4"] == 169
    assert names["wc2014_ned_arg_1024.jpg"] == 1


# ------------------------------------------------------------------------------- metadata

FIELDS = [
    MetadataField("weather", "weather.description", "unknown", "CATEGORICAL_STRING"),
    MetadataField("temperature", "weather.temperature", 0.0, "NUMERIC_FLOAT"),
    MetadataField("camera", "camera_id", -1, "CATEGORICAL_INT"),
    MetadataField("replay", "replay", False, "CATEGORICAL_BOOLEAN"),
]


@pytest.fixture
def meta_samples() -> list[Sample]:
    return [
        *[
            Sample(frame_file_name("sub/m.mp4", k, 3), "/in/sub/m.mp4", "sub/m.mp4", k)
            for k in range(3)
        ],
        Sample("seq/0.jpg", "/in/seq/0.jpg", "seq", 0),
        Sample("top.jpg", "/in/top.jpg"),
    ]


def test_metadata_round_trip_and_precedence(tmp_path: Path, meta_samples: list[Sample]) -> None:
    write_metadata_schema(tmp_path, FIELDS)
    assert read_metadata_schema(tmp_path) == FIELDS
    frame1 = meta_samples[1].file_name
    write_metadata(
        tmp_path, "sub/m.mp4", {"weather": "rain", "camera": 3}, fields=FIELDS, kind="video"
    )
    write_metadata(tmp_path, frame1, {"replay": True, "camera": 4.0}, fields=FIELDS)
    write_metadata(tmp_path, "top.jpg", {"temperature": 21, "weather": "sun"}, fields=FIELDS)
    assert json.loads((tmp_path / "sub" / "m.json").read_text()) == {
        "file_name": "sub/m.mp4",
        "type": "video",
        "metadata": {"weather": {"description": "rain"}, "camera_id": 3},
    }
    assert json.loads((tmp_path / "sub" / "m-1-mp4.json").read_text())["type"] == "frame"
    meta = read_metadata(tmp_path, meta_samples)
    assert list(meta) == [s.file_name for s in meta_samples]
    base = {"weather": "unknown", "temperature": 0.0, "camera": -1, "replay": False}
    assert meta[meta_samples[0].file_name] == {
        **base,
        "weather": "rain",
        "camera": 3,
        "video_name": "sub/m.mp4",
    }
    assert meta[frame1] == {
        **base,
        "weather": "rain",
        "camera": 4,
        "replay": True,
        "video_name": "sub/m.mp4",
    }
    assert meta["seq/0.jpg"] == {**base, "video_name": "seq"}
    assert meta["top.jpg"] == {
        **base,
        "weather": "sun",
        "temperature": 21.0,
        "video_name": "top.jpg",
    }
    assert isinstance(meta[frame1]["camera"], int) and isinstance(
        meta["top.jpg"]["temperature"], float
    )
    with_meta = attach_metadata(meta_samples, meta)
    assert with_meta[1].metadata == meta[frame1] and with_meta[1] == meta_samples[1]


def test_video_name_from_metadata_files_wins(tmp_path: Path, meta_samples: list[Sample]) -> None:
    fields = [MetadataField("video_name", "match.name", "", "CATEGORICAL_STRING")]
    write_metadata_schema(tmp_path, fields)
    write_metadata(tmp_path, "sub/m.mp4", {"video_name": "BVB-FCB"}, fields=fields, kind="video")
    meta = read_metadata(tmp_path, meta_samples)
    assert [m["video_name"] for m in meta.values()] == ["BVB-FCB"] * 3 + ["seq", "top.jpg"]


def test_no_metadata_folder(tmp_path: Path, meta_samples: list[Sample]) -> None:
    expected = ["sub/m.mp4"] * 3 + ["seq", "top.jpg"]
    assert [m["video_name"] for m in read_metadata(None, meta_samples).values()] == expected
    missing = read_metadata(tmp_path / "nothing", meta_samples)
    assert list(missing.values()) == [{"video_name": v} for v in expected]
    (tmp_path / "empty").mkdir()  # an empty metadata folder: no schema needed
    assert read_metadata(tmp_path / "empty", meta_samples) == missing


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _meta(file_name: str, kind: str, metadata: Any) -> str:
    return json.dumps({"file_name": file_name, "type": kind, "metadata": metadata})


@pytest.mark.parametrize(
    ("rel", "text", "message"),
    [
        (
            "top.json",
            '{"file_name": "top.jpg",\n "type": "image"\n "metadata": {}}',
            r"top\.json: malformed JSON at line 3, column 2",
        ),
        (
            "top.json",
            json.dumps({"file_name": "top.jpg", "type": "image", "metadata": {}, "extra": 1}),
            r"top\.json: unknown key 'extra'",
        ),
        (
            "top.json",
            json.dumps({"file_name": "top.jpg", "metadata": {}}),
            r"top\.json: missing key 'type'",
        ),
        ("top.json", _meta("top.jpg", "frame", {}), r"top\.json: 'type' is 'frame'.*'image'"),
        ("top.json", _meta("other.jpg", "image", {}), r"top\.json: 'file_name' is 'other\.jpg'"),
        ("top.json", _meta("top.jpg", "image", []), r"top\.json: 'metadata' must be an object"),
        (
            "top.json",
            _meta("top.jpg", "image", {"camera_id": "three"}),
            r"top\.json: metadata path 'camera_id': 'three' is not a valid CATEGORICAL_INT",
        ),
        (
            "top.json",
            _meta("top.jpg", "image", {"replay": 1}),
            r"top\.json: metadata path 'replay': 1 is not a valid CATEGORICAL_BOOLEAN",
        ),
        (
            "sub/m-7-mp4.json",
            _meta("sub/m-7-mp4.png", "frame", {}),
            r"m-7-mp4\.json: metadata for a frame that does not exist: video 'sub/m\.mp4' has 3 frames",
        ),
        (
            "ghost.json",
            _meta("ghost.jpg", "image", {}),
            r"ghost\.json: metadata for a file that does not exist",
        ),
        ("top.txt", "hello", r"top\.txt: not a metadata file"),
    ],
)
def test_metadata_bad_files(
    tmp_path: Path, meta_samples: list[Sample], rel: str, text: str, message: str
) -> None:
    write_metadata_schema(tmp_path, FIELDS)
    _write(tmp_path / rel, text)
    with pytest.raises(DataError, match=message):
        read_metadata(tmp_path, meta_samples)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (None, r"schema\.json: missing"),
        ("{oops", r"schema\.json: malformed JSON at line 1, column 2"),
        ('{"name": "a"}', r"schema\.json: must be a JSON list"),
        (
            '[{"name": "a", "path": "a", "defaultValue": 0}]',
            r"entry 0: missing key 'valueDataType'",
        ),
        (
            '[{"name": "a", "path": "a", "defaultValue": 0, "valueDataType": "NUMERIC_INT", "x": 1}]',
            r"entry 0: unknown key 'x'",
        ),
        (
            '[{"name": "a", "path": "a", "defaultValue": 0, "valueDataType": "NUMBER"}]',
            r"entry 0: .*unknown valueDataType 'NUMBER'",
        ),
        (
            '[{"name": "a", "path": "a", "defaultValue": "x", "valueDataType": "NUMERIC_FLOAT"}]',
            r"entry 0: defaultValue of 'a': 'x' is not a valid NUMERIC_FLOAT",
        ),
        (
            '[{"name": "a", "path": "a", "defaultValue": 1, "valueDataType": "NUMERIC_INT"},'
            ' {"name": "a", "path": "b", "defaultValue": 1, "valueDataType": "NUMERIC_INT"}]',
            r"field names must be unique",
        ),
    ],
)
def test_metadata_bad_schema(
    tmp_path: Path, meta_samples: list[Sample], schema: str | None, message: str
) -> None:
    (tmp_path / "top.json").write_text(_meta("top.jpg", "image", {}))
    if schema is not None:
        (tmp_path / "schema.json").write_text(schema)
    with pytest.raises(DataError, match=message):
        read_metadata(tmp_path, meta_samples)


def test_metadata_writer_checks(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"top\.jpg: unknown metadata key 'wind' \(schema fields: weather"
    ):
        write_metadata(tmp_path, "top.jpg", {"wind": 3}, fields=FIELDS)
    with pytest.raises(
        DataError, match=r"metadata 'temperature': 'hot' is not a valid NUMERIC_FLOAT"
    ):
        write_metadata(tmp_path, "top.jpg", {"temperature": "hot"}, fields=FIELDS)
    with pytest.raises(DataError, match="kind must be one of"):
        write_metadata(tmp_path, "top.jpg", {}, fields=FIELDS, kind="clip")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())  # nothing written on error


def test_metadata_fsspec_memory(meta_samples: list[Sample]) -> None:
    fsspec = pytest.importorskip("fsspec")
    url = "memory://meta_test"
    write_metadata_schema(url, FIELDS)
    write_metadata(url, "seq/0.jpg", {"camera": 9}, fields=FIELDS)
    meta = read_metadata(url, meta_samples)
    assert meta["seq/0.jpg"]["camera"] == 9 and meta["top.jpg"]["camera"] == -1
    fsspec.filesystem("memory").rm("/meta_test", recursive=True)
