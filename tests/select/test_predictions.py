"""Tests of touchline.select.predictions: Lightly's prediction format, round trips, bad input.

Every fixture is written by the tests (JSON text or the writers); no shared data is needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.select.inputs import frame_file_name
from touchline.select.predictions import (
    Category,
    FramePredictions,
    ObjectPrediction,
    Task,
    infer_bbox,
    prediction_file_name,
    read_predictions,
    read_task,
    read_tasks,
    write_prediction,
    write_predictions,
    write_tasks,
)
from touchline.select.types import Sample

N = 12  # frames of the fictive video clip.mp4

PITCH = Task(
    "pitch",
    "keypoint-detection",
    (Category(0, "pitch", ("corner", "spot", "centre"), ((1, 2), (2, 3))),),
)
PLAYERS = Task(
    "players",
    "object-detection",
    (Category(0, "player"), Category(1, "goalkeeper"), Category(2, "ball")),
)
POSE = Task("pose", "keypoint-detection", (Category(1, "person"),))  # no keypoint names


@pytest.fixture
def samples() -> list[Sample]:
    video = [
        Sample(frame_file_name("clip.mp4", k, N), "/in/clip.mp4", "clip.mp4", k) for k in range(N)
    ]
    sub = [
        Sample(frame_file_name("sub/s.mp4", k, 3), "/in/sub/s.mp4", "sub/s.mp4", k)
        for k in range(3)
    ]
    images = [
        Sample("seq/1.jpg", "/in/seq/1.jpg", "seq", 0),
        Sample("seq/10.jpg", "/in/seq/10.jpg", "seq", 1),
        Sample("top.png", "/in/top.png"),
    ]
    return video + sub + images


def frame3(samples: list[Sample]) -> str:
    return samples[3].file_name  # clip-03-mp4.png


# ----------------------------------------------------------------------------- round trips


def test_tasks_round_trip(tmp_path: Path) -> None:
    written = write_tasks(tmp_path, [PITCH, PLAYERS, POSE])
    assert [Path(p).relative_to(tmp_path).as_posix() for p in written] == [
        "tasks.json",
        "pitch/schema.json",
        "players/schema.json",
        "pose/schema.json",
    ]
    assert json.loads((tmp_path / "tasks.json").read_text()) == ["pitch", "players", "pose"]
    assert json.loads((tmp_path / "pitch" / "schema.json").read_text()) == {
        "task_type": "keypoint-detection",
        "categories": [
            {
                "id": 0,
                "name": "pitch",
                "keypoints": ["corner", "spot", "centre"],
                "skeleton": [[1, 2], [2, 3]],
            }
        ],
    }
    assert read_tasks(tmp_path) == [PITCH, PLAYERS, POSE]
    assert read_task(tmp_path, "players") == PLAYERS


def test_legacy_task_description_key(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "schema.json").write_text(
        json.dumps({"task_description": "object-detection", "categories": [{"id": 0, "name": "a"}]})
    )
    assert read_task(tmp_path, "old") == Task("old", "object-detection", (Category(0, "a"),))


def players_frames(samples: list[Sample]) -> list[FramePredictions]:
    return [
        FramePredictions(
            frame3(samples),
            (
                ObjectPrediction(0, 0.9, bbox=[10.5, 20, 30, 60], probabilities=[0.8, 0.15, 0.05]),
                ObjectPrediction(2, 0.4, bbox=[300, 200, 8, 8]),
            ),
        ),
        FramePredictions("seq/10.jpg", (ObjectPrediction(1, 0.7, bbox=[0, 0, 0, 0]),)),
        FramePredictions(samples[N + 1].file_name, (ObjectPrediction(0, 1.0, bbox=[1, 2, 3, 4]),)),
        FramePredictions("top.png"),  # a file with no object
    ]


def test_object_detection_round_trip(tmp_path: Path, samples: list[Sample]) -> None:
    write_tasks(tmp_path, [PLAYERS])
    frames = players_frames(samples)
    paths = write_predictions(tmp_path, PLAYERS, frames)
    assert [Path(p).relative_to(tmp_path / "players").as_posix() for p in paths] == [
        "clip-03-mp4.json"
        if frame3(samples) == "clip-03-mp4.png"
        else prediction_file_name(frame3(samples)),
        "seq/10.json",
        prediction_file_name(samples[N + 1].file_name),
        "top.json",
    ]
    assert json.loads(Path(paths[0]).read_text()) == {
        "file_name": frame3(samples),
        "predictions": [
            {
                "category_id": 0,
                "bbox": [10.5, 20.0, 30.0, 60.0],
                "score": 0.9,
                "probabilities": [0.8, 0.15, 0.05],
            },
            {"category_id": 2, "bbox": [300.0, 200.0, 8.0, 8.0], "score": 0.4},
        ],
    }
    got = read_predictions(tmp_path, PLAYERS, samples)
    assert list(got) == [s.file_name for s in samples]
    by_name = {f.file_name: f for f in frames}
    for name, frame in got.items():
        if name in by_name:
            assert frame == by_name[name] and not frame.missing
        else:
            assert frame == FramePredictions(name, missing=True) and len(frame) == 0
    assert got["top.png"].missing is False and len(got["top.png"]) == 0


def test_keypoint_round_trip_with_inferred_boxes(tmp_path: Path, samples: list[Sample]) -> None:
    write_tasks(tmp_path, [PITCH, POSE])
    with_box = ObjectPrediction(
        0, 0.8, keypoints=[[5, 6, 0.9], [50, 60, 0.2], [0, 0, 0.0]], bbox=[0, 0, 100, 100]
    )
    no_box = ObjectPrediction(
        0, 0.6, keypoints=[10, 20, 0.9, 30, 60, 0.5, 900, 900, 0.0], probabilities=[1.0]
    )
    invisible = ObjectPrediction(0, 0.1, keypoints=[1, 1, 0, 2, 2, 0, 3, 3, 0])
    frame = FramePredictions("seq/1.jpg", (with_box, no_box, invisible))
    path = write_prediction(tmp_path, PITCH, frame)
    written = json.loads(Path(path).read_text())["predictions"]
    assert "bbox" in written[0] and "bbox" not in written[1] and "bbox" not in written[2]
    assert written[1]["keypoints"] == [10, 20, 0.9, 30, 60, 0.5, 900, 900, 0.0]
    got = read_predictions(tmp_path, "pitch", samples)["seq/1.jpg"]
    assert got == frame
    # visible keypoints span x 10..30, y 20..60; 10 % margin on each side
    assert got.objects[1].bbox is not None and got.objects[1].bbox_inferred
    np.testing.assert_allclose(got.objects[1].bbox, [8, 16, 24, 48])
    assert got.objects[2].bbox is None and not got.objects[2].bbox_inferred
    assert not got.objects[0].bbox_inferred
    # a schema without keypoint names takes any number of keypoints
    pose = FramePredictions("top.png", (ObjectPrediction(1, 0.5, keypoints=[1, 2, 0.3] * 17),))
    write_prediction(tmp_path, POSE, pose)
    assert read_predictions(tmp_path, POSE, samples)["top.png"] == pose


def test_lightly_frame_name_example(tmp_path: Path) -> None:
    # Lightly's docs: frame 99 of my_subdir/my_video.mp4 with 200 frames
    name = frame_file_name("my_subdir/my_video.mp4", 99, 200)
    write_tasks(tmp_path, [PLAYERS])
    path = write_prediction(tmp_path, PLAYERS, FramePredictions(name))
    assert Path(path).relative_to(tmp_path).as_posix() == "players/my_subdir/my_video-099-mp4.json"
    assert json.loads(Path(path).read_text())["file_name"] == "my_subdir/my_video-099-mp4.png"


def test_require_all(tmp_path: Path, samples: list[Sample]) -> None:
    write_tasks(tmp_path, [PLAYERS])
    write_predictions(tmp_path, PLAYERS, players_frames(samples))
    with pytest.raises(
        DataError,
        match=rf"players: {len(samples) - 4} of {len(samples)} inputs have no prediction file \(first: clip-00-mp4\.json",
    ):
        read_predictions(tmp_path, PLAYERS, samples, require_all=True)
    write_predictions(tmp_path, PLAYERS, [FramePredictions(s.file_name) for s in samples])
    assert not any(
        f.missing for f in read_predictions(tmp_path, PLAYERS, samples, require_all=True).values()
    )


def test_hidden_files_ignored_and_empty_inputs(tmp_path: Path, samples: list[Sample]) -> None:
    write_tasks(tmp_path, [PLAYERS])
    (tmp_path / "players" / ".DS_Store").write_text("junk")
    assert all(f.missing for f in read_predictions(tmp_path, PLAYERS, samples).values())
    assert read_predictions(tmp_path, PLAYERS, []) == {}


def test_fsspec_memory_round_trip(samples: list[Sample]) -> None:
    fsspec = pytest.importorskip("fsspec")
    url = "memory://predictions_test"
    write_tasks(url, [PLAYERS, PITCH])
    frames = players_frames(samples)
    write_predictions(url, PLAYERS, frames)
    assert read_tasks(url) == [PLAYERS, PITCH]
    got = read_predictions(url, PLAYERS, samples)
    assert got["seq/10.jpg"] == frames[1]
    fsspec.filesystem("memory").rm("/predictions_test", recursive=True)


def test_infer_bbox_margin() -> None:
    def box(*args: Any, **kwargs: Any) -> list[float]:
        found = infer_bbox(*args, **kwargs)
        assert found is not None
        return [float(v) for v in found]

    points = np.array([[100, 50, 0.5], [140, 150, 1.0], [0, 0, 0.0]])  # the last is invisible
    # x 100..140 (40 px), y 50..150 (100 px); 10 % on each side: 4 and 10 px
    assert box(points) == [96, 40, 48, 120]
    assert box(points, margin=0) == [99, 49, 42, 102]  # at least 1 px on each side
    assert box(points, margin=0, min_pad=0) == [100, 50, 40, 100]
    assert box(np.array([[7, 9, 0.3]])) == [6, 8, 2, 2]
    assert infer_bbox(np.zeros((0, 3))) is None
    with pytest.raises(ValueError, match="margin and min_pad"):
        infer_bbox(points, margin=-0.1)


# ------------------------------------------------------------------------------- bad input


def obj(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "category_id": 0,
        "keypoints": [1, 2, 0.9, 3, 4, 0.8, 5, 6, 0.7],
        "score": 0.5,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def doc(*objects: Any, file_name: str = "clip-03-mp4.png") -> str:
    return json.dumps({"file_name": file_name, "predictions": list(objects)})


BAD_PREDICTIONS = [
    # (file relative to the task folder, content, expected message)
    (
        "clip-03-mp4.json",
        '{"file_name": "clip-03-mp4.png",\n  "predictions": [\n    {"category_id": 0,}\n]}',
        r"pitch/clip-03-mp4\.json: malformed JSON at line 3, column 23",
    ),
    ("clip-03-mp4.json", b"\xff\xfe{}", r"clip-03-mp4\.json: not UTF-8"),
    (
        "clip-40-mp4.json",
        doc(file_name="clip-40-mp4.png"),
        r"clip-40-mp4\.json: prediction for a frame that does not exist: video 'clip\.mp4' has 12 frames \(0\.\.11\), not frame 40",
    ),
    (
        "match-03-mp4.json",
        doc(file_name="match-03-mp4.png"),
        r"match-03-mp4\.json: prediction for a frame of video 'match\.mp4', which is not an input \(inputs: videos clip\.mp4 \(12 frames\), sub/s\.mp4 \(3 frames\); 3 images",
    ),
    (
        "clip-3-mp4.json",
        doc(file_name="clip-3-mp4.png"),
        r"clip-3-mp4\.json: name does not follow Lightly's frame naming: frame 3 of 'clip\.mp4' is 'clip-03-mp4\.json'",
    ),
    (
        "seq/99.json",
        doc(file_name="seq/99.jpg"),
        r"seq/99\.json: prediction for a file that does not exist: no input image or video frame is named seq/99\.<ext>",
    ),
    ("clip_frame3.json", doc(), r"clip_frame3\.json: prediction for a file that does not exist"),
    ("notes.txt", "hello", r"notes\.txt: not a prediction file"),
    (
        "clip-03-mp4.json",
        doc(file_name="clip-04-mp4.png"),
        r"clip-03-mp4\.json: 'file_name' is 'clip-04-mp4\.png' but this file holds the predictions of 'clip-03-mp4\.png'",
    ),
    (
        "clip-03-mp4.json",
        json.dumps({"file_name": "clip-03-mp4.png"}),
        r"clip-03-mp4\.json: missing key 'predictions'",
    ),
    (
        "clip-03-mp4.json",
        json.dumps({"file_name": "clip-03-mp4.png", "predictions": {}}),
        r"'predictions' must be a list",
    ),
    (
        "clip-03-mp4.json",
        json.dumps({"file_name": "clip-03-mp4.png", "prediction": [], "model": "x"}),
        r"clip-03-mp4\.json: unknown key 'prediction' .*did you mean 'predictions'",
    ),
    ("clip-03-mp4.json", json.dumps([1, 2]), r"must be a JSON object"),
    (
        "clip-03-mp4.json",
        doc(obj(), obj(category_id=7)),
        r"clip-03-mp4\.json: predictions\[1\]: unknown category_id 7 \(schema categories: 0 \(pitch\)\)",
    ),
    ("clip-03-mp4.json", doc(obj(category_id="0")), r"predictions\[0\]: unknown category_id '0'"),
    (
        "clip-03-mp4.json",
        doc(obj(keypoints=[1, 2, 0.9, 3])),
        r"predictions\[0\]: keypoints must be \[x1, y1, s1, \.\.\., xk, yk, sk\] \(a multiple of 3 values\), got 4 values",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(keypoints=[1, 2, 0.9, 3, 4, 0.8])),
        r"predictions\[0\]: 2 keypoints \(6 values\) but category 0 \(pitch\) has 3 keypoints in the schema \(9 values expected\)",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(keypoints=[1, 2, -0.9, 3, 4, 0.8, 5, 6, 0.7])),
        r"confidences s must be >= 0",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(keypoints=[1, "a", 0.9, 3, 4, 0.8, 5, 6, 0.7])),
        r"keypoints must be numbers",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(bbox=[10, 10, -5, 20])),
        r"predictions\[0\]: bbox \[x, y, w, h\] must have w >= 0 and h >= 0, got \[10\.0, 10\.0, -5\.0, 20\.0\]",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(bbox=[10, 10, 5])),
        r"bbox \[x, y, w, h\] must have shape \(4,\), got shape \(3,\)",
    ),
    (
        "clip-03-mp4.json",
        '{"file_name": "clip-03-mp4.png", "predictions": [{"category_id": 0, "keypoints": [1, 2, 0.9, 3, 4, 0.8, 5, 6, 0.7], "score": 0.5, "bbox": [NaN, 0, 1, 1]}]}',
        r"bbox \[x, y, w, h\] must be finite",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(bboxes=[1, 2, 3, 4])),
        r"predictions\[0\]: unknown key 'bboxes' \(keypoint-detection objects have: bbox, category_id, keypoints, probabilities, score\)",
    ),
    ("clip-03-mp4.json", doc(obj(score=None)), r"predictions\[0\]: missing key 'score'"),
    (
        "clip-03-mp4.json",
        doc(obj(score=1.5)),
        r"predictions\[0\]: score must be a number in \[0, 1\], got 1\.5",
    ),
    ("clip-03-mp4.json", doc(obj(score=True)), r"score must be a number"),
    (
        "clip-03-mp4.json",
        doc(obj(probabilities=[0.5, 0.5])),
        r"predictions\[0\]: 2 probabilities but the schema has 1 categories",
    ),
    (
        "clip-03-mp4.json",
        doc(obj(probabilities=[1.2])),
        r"probabilities must be values in \[0, 1\]",
    ),
    ("clip-03-mp4.json", doc("not an object"), r"predictions\[0\]: must be a JSON object"),
]


@pytest.mark.parametrize(("rel", "content", "message"), BAD_PREDICTIONS)
def test_bad_prediction_files(
    tmp_path: Path, samples: list[Sample], rel: str, content: str | bytes, message: str
) -> None:
    write_tasks(tmp_path, [PITCH])
    path = tmp_path / "pitch" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_predictions(tmp_path, PITCH, samples)


def test_probabilities_must_sum_to_one(tmp_path: Path, samples: list[Sample]) -> None:
    write_tasks(tmp_path, [PLAYERS])
    (tmp_path / "players" / "top.json").write_text(
        doc(
            {
                "category_id": 0,
                "bbox": [0, 0, 1, 1],
                "score": 0.5,
                "probabilities": [0.5, 0.3, 0.1],
            },
            file_name="top.png",
        )
    )
    with pytest.raises(
        DataError, match=r"top\.json: predictions\[0\]: probabilities must sum to 1.*sum 0\.9"
    ):
        read_predictions(tmp_path, PLAYERS, samples)
    (tmp_path / "players" / "top.json").write_text(
        doc({"category_id": 0, "keypoints": [1, 2, 3], "score": 0.5}, file_name="top.png")
    )
    with pytest.raises(DataError, match=r"unknown key 'keypoints' \(object-detection objects have"):
        read_predictions(tmp_path, PLAYERS, samples)
    (tmp_path / "players" / "top.json").write_text(
        doc({"category_id": 0, "score": 0.5}, file_name="top.png")
    )
    with pytest.raises(DataError, match=r"missing key 'bbox'"):
        read_predictions(tmp_path, PLAYERS, samples)


def test_ambiguous_prediction_name(tmp_path: Path) -> None:
    twins = [Sample("a.jpg", "/in/a.jpg"), Sample("a.png", "/in/a.png")]
    write_tasks(tmp_path, [PLAYERS])
    (tmp_path / "players" / "a.json").write_text(doc(file_name="a.jpg"))
    with pytest.raises(DataError, match=r"a\.json: ambiguous: inputs a\.jpg, a\.png"):
        read_predictions(tmp_path, PLAYERS, twins)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, r"tasks\.json: missing"),
        ({"tasks.json": '{"pitch": 1}'}, r"tasks\.json: must be a JSON list of task names"),
        ({"tasks.json": '["pitch", "pitch"]'}, r"tasks\.json: tasks listed twice: \['pitch'\]"),
        ({"tasks.json": '["pitch"]'}, r"pitch/schema\.json: missing"),
        (
            {"tasks.json": '["pitch"]', "pitch/schema.json": '{"categories": []}'},
            r"pitch/schema\.json: missing key 'task_type'",
        ),
        (
            {
                "tasks.json": '["pitch"]',
                "pitch/schema.json": '{"task_type": "pose", "categories": []}',
            },
            r"pitch/schema\.json: unknown task_type 'pose'",
        ),
        (
            {"tasks.json": '["pitch"]', "pitch/schema.json": '{"task_type": "object-detection"}'},
            r"'categories' must be a list",
        ),
        (
            {
                "tasks.json": '["pitch"]',
                "pitch/schema.json": '{"task_type": "object-detection", "categories": [{"id": "0", "name": "a"}]}',
            },
            r"categories\[0\]: 'id' must be an integer",
        ),
        (
            {
                "tasks.json": '["pitch"]',
                "pitch/schema.json": '{"task_type": "object-detection", "categories": [{"id": 0, "name": "a"}, {"id": 0, "name": "b"}]}',
            },
            r"category ids must be unique",
        ),
        (
            {
                "tasks.json": '["pitch"]',
                "pitch/schema.json": '{"task_type": "keypoint-detection", "categories": [{"id": 0, "name": "a", "keypoints": "abc"}]}',
            },
            r"'keypoints' must be a list of keypoint names",
        ),
        (
            {"tasks.json": '["pitch"]', "pitch/schema.json": '{"task_type": '},
            r"pitch/schema\.json: malformed JSON at line 1, column 15",
        ),
    ],
)
def test_bad_tasks(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with pytest.raises(DataError, match=message):
        read_tasks(tmp_path)


def test_unsupported_task_type_and_missing_folder(tmp_path: Path, samples: list[Sample]) -> None:
    weather = Task("weather", "classification", (Category(0, "sunny"),))
    write_tasks(tmp_path, [weather])
    assert read_tasks(tmp_path) == [weather]
    with pytest.raises(DataError, match="'classification' is not supported"):
        read_predictions(tmp_path, weather, samples)
    with pytest.raises(DataError, match=r"players: the task folder of 'players' is missing"):
        read_predictions(tmp_path, PLAYERS, samples)
    with pytest.raises(DataError, match="unknown task_type"):
        Task("x", "pose")
    with pytest.raises(DataError, match="non-empty folder name"):
        Task("a/b", "object-detection")


def test_writer_validates(tmp_path: Path) -> None:
    bad = FramePredictions("top.png", (ObjectPrediction(5, 0.5, bbox=[0, 0, 1, 1]),))
    with pytest.raises(
        DataError, match=r"players/top\.json: predictions\[0\]: unknown category_id 5"
    ):
        write_prediction(tmp_path, PLAYERS, bad)
    two = FramePredictions("top.png", (ObjectPrediction(0, 0.5, keypoints=[1, 2, 0.5] * 2),))
    with pytest.raises(DataError, match="2 keypoints"):
        write_prediction(tmp_path, PITCH, two)
    assert not list(tmp_path.rglob("*.json"))
    with pytest.raises(DataError, match="objects must be ObjectPrediction"):
        FramePredictions("a.jpg", ({"category_id": 0},))  # type: ignore[arg-type]
