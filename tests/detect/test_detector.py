"""The shipped detector, its job (``touchline detect``) and ``touchline eval detection``."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from touchline.cli import app
from touchline.detect import Detector, load_detector
from touchline.errors import DataError
from touchline.geometry.boxes import box_iou
from touchline.jobs.detect import detect_path, read_detections_table
from touchline.models import available, model_info
from touchline.video import VideoReader, probe, write_image, write_video

runner = CliRunner()
DFL_TEST = "detection/dfl/test"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


@pytest.fixture
def dfl_frame(shared) -> np.ndarray:
    """A DFL broadcast frame (the clip is 848x478) enlarged to 1920x1080."""
    clip = shared("video/dfl_08fd33_4.mp4")
    image = next(iter(VideoReader(clip, start=100, stop=101))).image
    return cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_LINEAR)


def test_shipped_model_is_in_the_manifest():
    assert "detect" in available()
    info = model_info("detect")
    assert info.bytes <= 25_000_000
    assert "touchline.train.detect" in info.command
    assert info.meta["classes"] == ["player", "goalkeeper", "referee", "ball"]


def test_real_frame_finds_players_and_is_scale_consistent(detector, dfl_frame):
    full = detector.detect(dfl_frame)  # 1920x1080
    names = full.class_name
    assert (names == "player").sum() >= 10
    assert full.confidence is not None and (full.confidence >= detector.threshold).all()
    assert np.all(full.xyxy >= 0) and np.all(full.xyxy[:, [0, 2]] <= 1920)
    small = detector.detect(cv2.resize(dfl_frame, (1280, 720), interpolation=cv2.INTER_AREA))
    people = full[names != "ball"]
    scaled = small[small.class_name != "ball"].xyxy * 1.5
    iou = box_iou(people.xyxy, scaled)
    # the same people come back at the same places from a 720p copy of the frame
    assert (iou.max(axis=1) > 0.6).mean() > 0.85


def test_batch_equals_single(detector, dfl_frame):
    a = cv2.resize(dfl_frame, (1280, 720))
    b = cv2.flip(a, 1)
    batch = detector.detect_batch([a, b])
    assert batch[0] == detector.detect(a)
    assert batch[1] == detector.detect(b)


def test_tiling_matches_the_whole_frame_without_seam_duplicates(detector, dfl_frame):
    # a 3840x2160 mosaic of four copies: tiles of 1920 px run at the scale of one copy
    big = np.vstack([np.hstack([dfl_frame, dfl_frame])] * 2)
    tiled = Detector(tile=1920, tile_overlap=0.2).detect(big)
    whole = detector.detect(dfl_frame)
    people = whole[whole.class_name == "player"].xyxy
    tp = tiled[tiled.class_name == "player"]
    found = []
    for dx, dy in ((0, 0), (1920, 0), (0, 1080), (1920, 1080)):
        shifted = people + np.array([dx, dy, dx, dy], np.float32)
        found.append(box_iou(shifted, tp.xyxy).max(axis=1) > 0.5)
    assert np.mean(found) > 0.85
    self_iou = box_iou(tp.xyxy, tp.xyxy)
    np.fill_diagonal(self_iou, 0)
    assert self_iou.max() <= 0.7  # NMS (IoU 0.7) merged the overlaps between tiles


def test_class_filter(dfl_frame):
    balls = Detector(classes=["ball"], threshold=0.05).detect(dfl_frame)
    assert set(balls.class_name.tolist()) <= {"ball"}
    with pytest.raises(DataError, match="unknown classes"):
        Detector(classes=["umpire"]).detect(dfl_frame)


@pytest.mark.parametrize(
    "shape",
    [(1080, 1920), (97, 333, 3), (333, 97, 3), (2160, 3840, 3), (720, 1280, 1), (720, 1280, 4)],
    ids=["grayscale", "333x97", "97x333", "4k", "one-channel", "bgra"],
)
def test_odd_inputs_work(detector, shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, shape, dtype=np.uint8)
    d = detector.detect(img)
    h, w = shape[:2]
    assert np.all(d.xyxy[:, [0, 2]] <= w) and np.all(d.xyxy[:, [1, 3]] <= h)
    assert d.class_names == detector.class_names


def test_4k_frame_finds_the_same_players(detector, dfl_frame):
    k4 = cv2.resize(dfl_frame, (3840, 2160), interpolation=cv2.INTER_LINEAR)
    a = detector.detect(dfl_frame)
    b = detector.detect(k4)
    pa, pb = a[a.class_name == "player"], b[b.class_name == "player"]
    assert (box_iou(pa.xyxy * 2, pb.xyxy).max(axis=1) > 0.6).mean() > 0.85


@pytest.mark.parametrize(
    "image, match",
    [
        (np.zeros((0, 0, 3), np.uint8), "empty image"),
        (np.zeros((10, 0), np.uint8), "empty image"),
        (np.zeros((10, 10, 2), np.uint8), "channels"),
        ("frame.png", "numpy image"),
    ],
)
def test_bad_inputs_fail_clearly(detector, image, match):
    with pytest.raises(DataError, match=match):
        detector.detect(image)


def test_bad_settings():
    with pytest.raises(DataError, match="threshold"):
        Detector(threshold=1.5)
    with pytest.raises(DataError, match="tile"):
        Detector(tile=10)
    with pytest.raises(DataError, match="input_width"):
        Detector(input_width=100)


def test_dfl_test_split_accuracy(shared):
    """The acceptance numbers of the shipped model (see benchmarks/detect_dfl.py)."""
    from touchline.datasets.detection import stretched_frame_size
    from touchline.eval.detection import evaluate_detection, read_samples

    data = shared(DFL_TEST)
    size = stretched_frame_size(data, read_samples(data))
    assert size == (1920, 1080)
    res = evaluate_detection(data, Detector(), frame_size=size)
    assert res.images == 25
    assert res.ap50["player"] >= 0.93
    assert res.ap50["football"] >= 0.50
    assert res.recall["player"] >= 0.9


# ----------------------------------------------------------------------------- the job / CLI
def test_detect_path_on_images_and_video(tmp_path, dfl_frame):
    frames = tmp_path / "frames"
    small = cv2.resize(dfl_frame, (640, 360))
    write_image(frames / "a.png", small)
    write_image(frames / "b.png", np.zeros((360, 640, 3), np.uint8))
    s = detect_path(frames, tmp_path / "o1")
    assert s.frames == 2 and s.per_class["player"] >= 5
    df = read_detections_table(tmp_path / "o1" / "detections.parquet")
    assert set(df["image"]) == {"a.png"}
    doc = json.loads((tmp_path / "o1" / "detections.json").read_text())
    assert [f["image"] for f in doc["frames"]] == ["a.png", "b.png"] and doc["frames"][1][
        "boxes"
    ] == []
    assert (tmp_path / "o1" / "overlay" / "a.png").is_file()

    clip = write_video(tmp_path / "c.mp4", [small] * 3 + [np.zeros_like(small)], fps=10)
    s = detect_path(clip, tmp_path / "o2", checkpoint_every=2)
    assert s.frames == 4
    df = pd.read_parquet(tmp_path / "o2" / "detections.parquet")
    assert sorted(set(df["frame"])) == [0, 1, 2]
    assert probe(tmp_path / "o2" / "overlay.mp4").frame_count == 4
    assert not (tmp_path / "o2" / ".detect-partial").exists()  # cleaned up


def test_detect_path_resumes(tmp_path, dfl_frame, monkeypatch):
    small = cv2.resize(dfl_frame, (640, 360))
    clip = write_video(tmp_path / "c.mp4", [small] * 6, fps=10)
    det = Detector()
    calls = {"n": 0}
    real = det.detect

    def crashing(image):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(image)

    monkeypatch.setattr(det, "detect", crashing)
    with pytest.raises(KeyboardInterrupt):
        detect_path(clip, tmp_path / "o", detector=det, checkpoint_every=2, overlay=False)
    assert (tmp_path / "o" / ".detect-partial" / "detections.parquet").is_file()
    calls["n"] = 100  # no more crashes; count the frames detected again
    s = detect_path(clip, tmp_path / "o", detector=det, checkpoint_every=2, overlay=False)
    assert calls["n"] - 100 == 2  # frames 0-3 came from the checkpoint
    full = detect_path(clip, tmp_path / "fresh", overlay=False)
    a = pd.read_parquet(tmp_path / "o" / "detections.parquet")
    b = pd.read_parquet(tmp_path / "fresh" / "detections.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert s.frames == full.frames == 6


def test_cli_detect_and_bad_input(tmp_path, dfl_frame):
    img = tmp_path / "f.png"
    write_image(img, cv2.resize(dfl_frame, (960, 540)))
    r = runner.invoke(app, ["detect", str(img), "--out", str(tmp_path / "o"), "--no-overlay"])
    assert r.exit_code == 0, r.output
    assert "detected" in r.output
    assert not (tmp_path / "o" / "overlay").exists()
    r = runner.invoke(app, ["detect", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and r.output.startswith("error: ") and "missing.mp4" in r.output
    r = runner.invoke(
        app, ["detect", str(img), "--out", str(tmp_path / "o"), "--classes", "umpire"]
    )
    assert r.exit_code == 1 and "umpire" in r.output and "Traceback" not in r.output


def test_cli_eval_detection(tmp_path, shared):
    data = shared(DFL_TEST)
    out = tmp_path / "m.json"
    r = runner.invoke(
        app,
        [
            "eval", "detection", "--data", str(data), "--json", str(out),
            "--class-map", "Player=player,goalkeeper,referee", "--class-map", "Ball=ball",
        ],
    )  # fmt: skip
    assert r.exit_code == 1 and "Player" in r.output  # not a class of this dataset
    r = runner.invoke(
        app,
        [
            "eval", "detection", "--data", str(data), "--json", str(out),
            "--class-map", "player=player,goalkeeper,referee", "--class-map", "football=ball",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert set(res) >= {"ap50", "ap50_95", "precision", "recall", "images", "fps"}
    assert set(res["ap50"]) == {"football", "goalkeeper", "player", "referee"}
    # our goalkeepers and referees now count as dataset players (false positives there)
    assert res["ap50"]["player"] >= 0.8 and res["images"] == 25
    assert res["ap50"]["goalkeeper"] == 0.0  # folded into player: no goalkeeper predictions


def test_load_detector_rejects_class_map_for_ours():
    with pytest.raises(DataError, match="class-map"):
        load_detector(None, class_map=["player=person"])


@pytest.mark.parametrize(
    "name, image",
    [
        ("gray.png", np.full((720, 1280), 120, np.uint8)),
        ("odd.png", np.full((97, 333, 3), 120, np.uint8)),
        ("k4.jpg", np.full((2160, 3840, 3), 120, np.uint8)),
    ],
)
def test_cli_detect_odd_images_work(tmp_path, name, image):
    cv2.imwrite(str(tmp_path / name), image)
    r = runner.invoke(app, ["detect", str(tmp_path / name), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "o" / "detections.json").read_text())
    assert doc["image_size"] == [image.shape[1], image.shape[0]] and len(doc["frames"]) == 1
    assert (tmp_path / "o" / "overlay" / f"{name.split('.')[0]}.png").is_file()


def test_cli_detect_empty_file_is_one_clear_line(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    r = runner.invoke(app, ["detect", str(tmp_path / "empty.png"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and r.output.startswith("error: ") and "empty.png" in r.output
    assert "Traceback" not in r.output
