"""Selection outputs: the table, frames, crops and the labelling-tool imports."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.errors import DataError
from touchline.select.export import (
    PreAnnotation,
    cvat_xml,
    extract_crops,
    extract_frames,
    label_studio_tasks,
    write_label_tools,
    write_selection,
)
from touchline.select.types import Sample


def _samples(tmp_path: Path) -> list[Sample]:
    img = tmp_path / "seq" / "000001.jpg"
    img.parent.mkdir()
    cv2.imwrite(str(img), np.full((40, 60, 3), 90, np.uint8))
    return [
        Sample("clip-00-mp4.png", str(tmp_path / "clip.mp4"), "clip.mp4", 0),
        Sample("clip-01-mp4.png", str(tmp_path / "clip.mp4"), "clip.mp4", 1),
        Sample("seq/000001.jpg", str(img), "seq", 0),
    ]


def test_selection_table(tmp_path: Path) -> None:
    s = _samples(tmp_path)
    j, c = write_selection(tmp_path / "out", s, [2, 0], scores={"w": np.array([0.1, 0.2, np.nan])},
                           metadata={"video_name": np.array(["clip.mp4", "clip.mp4", "seq"])})  # fmt: skip
    rows = json.loads(j.read_text())["selected"]
    assert [r["file_name"] for r in rows] == ["seq/000001.jpg", "clip-00-mp4.png"]
    assert rows[0]["w"] is None and rows[1]["w"] == 0.1 and rows[0]["video_name"] == "seq"
    with c.open() as fh:
        table = list(csv.DictReader(fh))
    assert table[1]["rank"] == "1" and table[1]["frame"] == "0" and table[1]["video"] == "clip.mp4"
    with pytest.raises(DataError, match="index 7"):
        write_selection(tmp_path / "x", s, [7])


def test_frames_and_crops(tmp_path: Path) -> None:
    s = _samples(tmp_path)
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[20:60, 50:70] = 255
    paths = extract_frames([(s[1], frame), (s[2], np.zeros((40, 60, 3), np.uint8))], tmp_path / "f")
    assert paths[0].name == "clip-01-mp4.png" and cv2.imread(str(paths[0])).shape == (100, 200, 3)
    assert paths[1] == tmp_path / "f" / "seq" / "000001.jpg"
    assert paths[1].read_bytes() == Path(s[2].source).read_bytes()  # copied, not re-encoded
    boxes = [("clip-01-mp4-0.png", (50, 20, 70, 60)), ("clip-01-mp4-1.png", (190, 90, 260, 140))]
    crops = extract_crops([(s[1], frame)], {"clip-01-mp4.png": boxes}, tmp_path / "c", margin=0.0)
    assert [p.name for p in crops] == ["clip-01-mp4-0.png", "clip-01-mp4-1.png"]
    c0 = cv2.imread(str(crops[0]))
    assert c0.shape == (40, 20, 3) and c0.min() == 255
    assert cv2.imread(str(crops[1])).shape == (10, 10, 3)  # clipped to the image


def test_label_studio_and_cvat(tmp_path: Path) -> None:
    kp = np.array([[10.0, 20.0, 2.0], [0.0, 0.0, 0.0], [30.0, 40.0, 1.0]])
    ann = {"a.png": [PreAnnotation("player", box=(20, 10, 60, 90), score=0.8),
                     PreAnnotation("pitch", keypoints=kp, keypoint_names=["c1", "c2", "c3"])]}  # fmt: skip
    sizes = {"a.png": (200, 100), "b.png": (200, 100)}
    tasks = label_studio_tasks(["a.png", "b.png"], annotations=ann, sizes=sizes)
    res = tasks[0]["predictions"][0]["result"]
    box = res[0]["value"]
    assert (box["x"], box["y"], box["width"], box["height"]) == (10.0, 10.0, 20.0, 80.0)
    assert [r["value"]["keypointlabels"] for r in res[1:]] == [["c1"], ["c3"]]  # invisible dropped
    assert res[2]["value"]["x"] == 15.0 and "predictions" not in tasks[1]
    root = ET.fromstring(cvat_xml(["a.png", "b.png"], sizes, annotations=ann))
    images = root.findall("image")
    assert [i.get("name") for i in images] == ["a.png", "b.png"]
    b = images[0].find("box")
    assert b is not None and (b.get("xtl"), b.get("ybr"), b.get("label")) == (
        "20.00",
        "90.00",
        "player",
    )
    pts = images[0].findall("points")
    assert [(p.get("label"), p.get("points")) for p in pts] == [
        ("c1", "10.00,20.00"), ("c3", "30.00,40.00")]  # fmt: skip
    assert [n.text for n in root.iter("name")] == ["player", "c1", "c2", "c3"]
    ls, cv = write_label_tools(tmp_path, ["a.png"], sizes, annotations=ann)
    assert json.loads(ls.read_text())[0]["data"]["file_name"] == "a.png"
    ET.parse(cv)
    with pytest.raises(DataError, match=r"b\.png"):
        cvat_xml(["b.png"], {})
