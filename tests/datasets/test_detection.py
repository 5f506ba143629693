"""Object-detection datasets: YOLO txt, COCO json and Pascal VOC xml readers and writers."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.datasets.detection import (
    DetectionSample,
    iter_voc_folder,
    read_coco,
    read_image_size,
    read_voc,
    read_yolo_labels,
    read_yolo_names,
    read_yolo_split,
    write_coco,
    write_voc,
    write_yolo_labels,
    write_yolo_names,
)
from touchline.errors import DataError
from touchline.types import Detections

NAMES = ("ball", "goalkeeper", "player", "referee")
DFL_NAMES = ("football", "goalkeeper", "player", "referee")


def random_dets(rng: np.random.Generator, n: int, size=(1920, 1080), **kw) -> Detections:
    w, h = size
    xy = rng.uniform(0, 1, (n, 2)) * (w, h)
    wh = rng.uniform(1, 80, (n, 2))
    xyxy = np.column_stack([xy, np.minimum(xy + wh, (w, h))])
    return Detections(xyxy=xyxy, class_id=rng.integers(0, len(NAMES), n), class_names=NAMES, **kw)


# ---- YOLO ------------------------------------------------------------------------------------


def test_yolo_labels_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    dets = random_dets(rng, 40)
    write_yolo_labels(tmp_path / "a.txt", dets, (1920, 1080))
    back = read_yolo_labels(tmp_path / "a.txt", (1920, 1080), NAMES)
    assert np.array_equal(back.class_id, dets.class_id)
    assert back.class_names == NAMES
    assert back.confidence is None
    np.testing.assert_allclose(back.xyxy, dets.xyxy, atol=1e-3)
    # Writing what was read gives the same file: the text is stable.
    write_yolo_labels(tmp_path / "b.txt", back, (1920, 1080))
    assert (tmp_path / "b.txt").read_text() == (tmp_path / "a.txt").read_text()


def test_yolo_labels_stretched_frame(tmp_path):
    # The same normalised line means different pixels in the stretched image and the frame.
    (tmp_path / "a.txt").write_text("2 0.5 0.25 0.1 0.1\n")
    img = read_yolo_labels(tmp_path / "a.txt", (1280, 1280), NAMES)
    frame = read_yolo_labels(tmp_path / "a.txt", (1920, 1080), NAMES)
    np.testing.assert_allclose(img.xyxy, [[576, 256, 704, 384]])
    np.testing.assert_allclose(frame.xyxy, [[864, 216, 1056, 324]])


def test_yolo_labels_confidence_and_empty(tmp_path):
    dets = Detections(
        xyxy=[[0, 0, 10, 10], [5, 5, 20, 30]], class_id=[0, 3], confidence=[0.25, 0.5]
    )
    write_yolo_labels(tmp_path / "a.txt", dets, (100, 100), confidence=True)
    back = read_yolo_labels(tmp_path / "a.txt", (100, 100), NAMES)
    np.testing.assert_allclose(back.confidence, [0.25, 0.5])
    write_yolo_labels(tmp_path / "e.txt", Detections.empty(), (100, 100))
    assert (tmp_path / "e.txt").read_text() == ""
    empty = read_yolo_labels(tmp_path / "e.txt", (100, 100), NAMES)
    assert len(empty) == 0 and empty.class_id is not None


def test_write_yolo_labels_needs_class_id(tmp_path):
    with pytest.raises(DataError, match=r"a\.txt: cannot write YOLO labels without class_id"):
        write_yolo_labels(tmp_path / "a.txt", Detections(xyxy=[[0, 0, 1, 1]]), (10, 10))


@pytest.mark.parametrize(
    "text,msg",
    [
        ("0 0.5 0.5 0.1\n", r"line 1: 4 fields; expected 5"),
        ("0 0.5 0.5 0.1 0.1 0.9 7\n", r"line 1: 7 fields"),
        ("0 0.5 0.5 0.1 0.1\n\nx 0.5 0.5 0.1 0.1\n", r"line 3: not a list of numbers"),
        ("4 0.5 0.5 0.1 0.1\n", r"line 1: class id 4 out of range 0\.\.3"),
        ("-1 0.5 0.5 0.1 0.1\n", r"class id -1 out of range"),
        ("1.5 0.5 0.5 0.1 0.1\n", r"class id '1\.5' is not an integer"),
        ("0 nan 0.5 0.1 0.1\n", r"non-finite value"),
        ("0 0.5 0.5 -0.1 0.1\n", r"negative box size"),
    ],
)
def test_yolo_malformed_label(tmp_path, text, msg):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=r"bad\.txt: (line \d+: )?" + msg):
        read_yolo_labels(path, (100, 100), NAMES)


def test_yolo_missing_label_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.txt: cannot read"):
        read_yolo_labels(tmp_path / "nope.txt", (100, 100), NAMES)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("names:\n- football\n- goalkeeper\nnc: 2\n", ("football", "goalkeeper")),
        ("names:\n  - a\n  - 'b c'\n", ("a", "b c")),
        ("nc: 2\nnames: ['a', \"b, c\"]  # flow\n", ("a", "b, c")),
        ("names: [a,\n  b,\n  c]\nnc: 3\n", ("a", "b", "c")),
        ("names:\n  1: b\n  0: a\n", ("a", "b")),
        ("names: {0: a, 1: 'it''s'}\n", ("a", "it's")),
        ("train: x/images\nnc: 3\n", ("class0", "class1", "class2")),
        (
            "path: ../d\nnames:\n  0: person # c\n\n  1: 'x # y'\nroboflow:\n  version: 1\n",
            ("person", "x # y"),
        ),
    ],
)
def test_read_yolo_names(tmp_path, text, expected):
    path = tmp_path / "data.yaml"
    path.write_text(text)
    assert read_yolo_names(path) == expected


@pytest.mark.parametrize(
    "text,msg",
    [
        ("train: a\n", r"no 'names' or 'nc' key"),
        ("names: [a, b]\nnc: 3\n", r"nc is 3 but names has 2 entries"),
        ("names:\n  0: a\n  2: c\n", r"names keys must be 0\.\.1, got \[0, 2\]"),
        ("names:\n  a: x\n", r"names key 'a' is not a class id"),
        ("names:\n  - a\n  0: b\n", r"names mixes list items and mapping entries"),
        ("names: [a, b\nnc: 2\n", r"missing closing"),
        ("names: football\n", r"names must be a list or a mapping"),
        ("nc: four\n", r"nc is not an integer"),
        ("names: ['a, b]\n", r"unterminated string"),
        ("names\n", r"expected 'key: value'"),
    ],
)
def test_read_yolo_names_malformed(tmp_path, text, msg):
    path = tmp_path / "data.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=r"data\.yaml.*" + msg):
        read_yolo_names(path)


def test_yolo_names_round_trip(tmp_path):
    names = ["ball", "a: b", "it's", "#x", "- dash", "true", " pad", 'q"uote']
    write_yolo_names(tmp_path / "data.yaml", names)
    assert read_yolo_names(tmp_path / "data.yaml") == tuple(names)


def make_split(root: Path, sizes: dict[str, tuple[int, int]]) -> Path:
    split = root / "valid"
    (split / "images").mkdir(parents=True)
    (split / "labels").mkdir()
    for stem, (w, h) in sizes.items():
        ext = ".png" if stem.startswith("p") else ".jpg"
        cv2.imwrite(str(split / "images" / (stem + ext)), np.zeros((h, w, 3), np.uint8))
    return split


def test_yolo_split_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    split = make_split(tmp_path, {"a": (64, 48), "p1": (40, 30), "z": (20, 20)})
    write_yolo_names(tmp_path / "data.yaml", NAMES)
    originals = {"a": random_dets(rng, 5, (64, 48)), "p1": random_dets(rng, 3, (40, 30))}
    sizes = {"a": (64, 48), "p1": (40, 30)}
    for stem, dets in originals.items():
        write_yolo_labels(split / "labels" / f"{stem}.txt", dets, sizes[stem])
    samples = read_yolo_split(split)
    assert [s.image.stem for s in samples] == ["a", "p1", "z"]
    assert [s.image_size for s in samples] == [(64, 48), (40, 30), (20, 20)]
    for s in samples[:2]:
        ref = originals[s.image.stem]
        assert s.detections.class_names == NAMES
        assert np.array_equal(s.detections.class_id, ref.class_id)
        np.testing.assert_allclose(s.detections.xyxy, ref.xyxy, atol=1e-5)
        assert s.label_file == split / "labels" / f"{s.image.stem}.txt"
    assert len(samples[2].detections) == 0 and samples[2].label_file is None
    # frame_size rescales every box from the image to the original frame.
    stretched = read_yolo_split(split, frame_size=(128, 96))
    np.testing.assert_allclose(stretched[0].detections.xyxy, samples[0].detections.xyxy * 2)
    assert stretched[0].image_size == (128, 96)


def test_yolo_split_errors(tmp_path):
    with pytest.raises(DataError, match="expected an images/ folder"):
        read_yolo_split(tmp_path)
    split = make_split(tmp_path, {"a": (10, 10)})
    with pytest.raises(DataError, match=r"no data\.yaml"):
        read_yolo_split(split)
    assert read_yolo_split(split, class_names=NAMES)[0].detections.class_names == NAMES
    (tmp_path / "data.yaml").write_text("names: [ball]\n")
    (split / "labels" / "a.txt").write_text("1 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=r"a\.txt: line 1: class id 1 out of range 0\.\.0"):
        read_yolo_split(split)


def test_read_image_size_matches_decoder(tmp_path):
    for ext in (".jpg", ".png", ".bmp", ".webp"):
        path = tmp_path / f"a{ext}"
        cv2.imwrite(str(path), np.zeros((37, 53, 3), np.uint8))
        assert read_image_size(path) == (53, 37), ext
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"junk\.jpg: cannot decode image"):
        read_image_size(tmp_path / "junk.jpg")


@pytest.mark.shared_data
def test_dfl_detection_test_split(shared):
    split = shared("detection/dfl/test")
    samples = read_yolo_split(split, frame_size=(1920, 1080))
    assert len(samples) == 25
    assert all(s.detections.class_names == DFL_NAMES for s in samples)
    # Per-class counts agree with a direct count of the label lines.
    direct: Counter[int] = Counter()
    for txt in sorted((split / "labels").glob("*.txt")):
        for line in txt.read_text().splitlines():
            if line.strip():
                direct[int(line.split()[0])] += 1
    counted: Counter[int] = Counter()
    for s in samples:
        counted.update(s.detections.class_id.tolist())
    assert counted == direct
    assert sum(direct.values()) > 25 and set(direct) == {0, 1, 2, 3}
    xyxy = np.concatenate([s.detections.xyxy for s in samples])
    assert (xyxy[:, :2] >= -1e-3).all()
    assert (xyxy[:, 2] <= 1920 + 1e-3).all() and (xyxy[:, 3] <= 1080 + 1e-3).all()
    assert (xyxy[:, 2:] > xyxy[:, :2]).all()
    # The image header gives the stretched size, as decoding does.
    img = samples[0].image
    assert read_image_size(img) == (1280, 1280) == cv2.imread(str(img)).shape[1::-1]
    native = read_yolo_split(split)
    assert native[0].image_size == (1280, 1280)
    scale = np.array([1920, 1080, 1920, 1080]) / 1280
    np.testing.assert_allclose(
        native[0].detections.xyxy * scale, samples[0].detections.xyxy, rtol=1e-5, atol=1e-3
    )


# ---- COCO ------------------------------------------------------------------------------------


def coco_samples(tmp_path: Path) -> list[DetectionSample]:
    rng = np.random.default_rng(3)
    a = random_dets(rng, 6, data={"iscrowd": np.array([0, 1, 0, 0, 0, 1])})
    b = Detections(
        xyxy=np.empty((0, 4)),
        class_id=np.empty(0, int),
        data={"iscrowd": np.empty(0, int)},
        class_names=NAMES,
    )
    c = random_dets(rng, 3, data={"iscrowd": np.zeros(3, int)})
    return [
        DetectionSample(tmp_path / "a.jpg", (1920, 1080), a),
        DetectionSample(tmp_path / "sub" / "b.jpg", (1920, 1080), b),
        DetectionSample(tmp_path / "c.png", (1920, 1080), c),
    ]


def test_coco_round_trip(tmp_path):
    samples = coco_samples(tmp_path)
    write_coco(tmp_path / "ann.json", samples)
    back = read_coco(tmp_path / "ann.json")
    assert [s.image for s in back] == [s.image for s in samples]
    for s, r in zip(samples, back, strict=True):
        assert r.image_size == s.image_size
        assert r.detections.class_names == NAMES
        np.testing.assert_allclose(r.detections.xyxy, s.detections.xyxy, rtol=0, atol=1e-6)
        assert np.array_equal(r.detections.class_id, s.detections.class_id)
        assert np.array_equal(r.detections.data["iscrowd"], s.detections.data["iscrowd"])
        assert np.array_equal(r.detections.data["category_id"], s.detections.class_id + 1)
    assert len(back[1].detections) == 0
    # Writing what was read reproduces the file exactly.
    write_coco(tmp_path / "again.json", back)
    assert (tmp_path / "again.json").read_text() == (tmp_path / "ann.json").read_text()


def test_coco_category_ids_and_scores(tmp_path):
    dets = Detections(
        xyxy=[[0.5, 1.25, 10, 20], [3, 4, 5, 6]],
        class_id=[1, 0],
        confidence=[0.75, 0.5],
        class_names=("ball", "player"),
    )
    write_coco(
        tmp_path / "a.json",
        [DetectionSample(tmp_path / "x.jpg", (64, 48), dets)],
        category_ids=[90, 7],
    )
    doc = json.loads((tmp_path / "a.json").read_text())
    assert {c["id"]: c["name"] for c in doc["categories"]} == {90: "ball", 7: "player"}
    assert doc["annotations"][0]["bbox"] == [0.5, 1.25, 9.5, 18.75]
    assert doc["annotations"][0]["area"] == 9.5 * 18.75
    [back] = read_coco(tmp_path / "a.json")
    # class ids follow the categories sorted by COCO id: player (7) then ball (90).
    assert back.detections.class_names == ("player", "ball")
    assert back.detections.class_name.tolist() == ["player", "ball"]
    assert back.detections.data["category_id"].tolist() == [7, 90]
    np.testing.assert_allclose(back.detections.confidence, [0.75, 0.5])
    with pytest.raises(DataError, match="must be 2 distinct ids"):
        write_coco(tmp_path / "b.json", [back], category_ids=[1, 1])


def test_write_coco_rejects_mixed_class_names(tmp_path):
    a = Detections(xyxy=[[0, 0, 1, 1]], class_id=[0], class_names=("a",))
    b = Detections(xyxy=[[0, 0, 1, 1]], class_id=[0], class_names=("b",))
    samples = [DetectionSample(tmp_path / "a.jpg", (4, 4), d) for d in (a, b)]
    with pytest.raises(DataError, match="sample 1 has class_names"):
        write_coco(tmp_path / "x.json", samples)
    bad = Detections(xyxy=[[0, 0, 1, 1]], class_id=[3], class_names=("a",))
    with pytest.raises(DataError, match=r"class_id 3 outside 0\.\.0"):
        write_coco(tmp_path / "x.json", [DetectionSample(tmp_path / "a.jpg", (4, 4), bad)])


def test_coco_size_from_image_file(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((12, 34), np.uint8))
    doc = {"images": [{"id": 1, "file_name": "a.png"}], "categories": [], "annotations": []}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    assert read_coco(tmp_path / "c.json")[0].image_size == (34, 12)
    (tmp_path / "imgs").mkdir()
    with pytest.raises(DataError, match="missing size"):
        read_coco(tmp_path / "c.json", images_dir=tmp_path / "imgs")


GOOD_IMAGE = {"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}
GOOD_ANN = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}


@pytest.mark.parametrize(
    "doc,msg",
    [
        ("{not json", r"invalid JSON"),
        ({"categories": []}, r"missing 'images'"),
        ({"images": {}, "categories": []}, r"'images' must be a list"),
        ({"images": [GOOD_IMAGE], "categories": [], "annotations": [GOOD_ANN]},
         r"annotations\[0\]: category_id 1 is missing from 'categories'"),
        ({"images": [], "categories": [{"id": 1, "name": "a"}], "annotations": [GOOD_ANN]},
         r"annotations\[0\]: image_id 1 is not in 'images'"),
        ({"images": [GOOD_IMAGE], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{**GOOD_ANN, "bbox": [1, 2, 3]}]}, r"bbox must be four finite numbers"),
        ({"images": [GOOD_IMAGE], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{**GOOD_ANN, "bbox": [1, 2, -3, 4]}]}, r"negative width or height"),
        ({"images": [GOOD_IMAGE], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{**GOOD_ANN, "bbox": None}]}, r"bbox must be four"),
        ({"images": [GOOD_IMAGE], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{k: v for k, v in GOOD_ANN.items() if k != "bbox"}]},
         r"annotations\[0\]: missing 'bbox'"),
        ({"images": [GOOD_IMAGE], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{**GOOD_ANN, "iscrowd": 2}]}, r"iscrowd must be 0 or 1"),
        ({"images": [{**GOOD_IMAGE, "width": 0}], "categories": []},
         r"images\[0\] \(width, height\): expected positive integer"),
        ({"images": [GOOD_IMAGE, GOOD_IMAGE], "categories": []}, r"image id 1 appears twice"),
        ({"images": [], "categories": [{"id": "1", "name": "a"}]},
         r"categories\[0\]\.id: expected an integer"),
        ({"images": [], "categories": [{"id": 1}]}, r"categories\[0\]: missing 'name'"),
    ],
)  # fmt: skip
def test_coco_malformed(tmp_path, doc, msg):
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(DataError, match=r"bad\.json: .*" + msg):
        read_coco(path)


# ---- VOC -------------------------------------------------------------------------------------


def test_voc_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    dets = random_dets(
        rng, 7, data={"difficult": rng.integers(0, 2, 7), "truncated": rng.integers(0, 2, 7)}
    )
    sample = DetectionSample(tmp_path / "f.jpg", (1920, 1080), dets)
    write_voc(tmp_path / "f.xml", sample)
    back = read_voc(tmp_path / "f.xml", class_names=NAMES)
    assert back.image == tmp_path / "f.jpg" and back.image_size == (1920, 1080)
    assert back.label_file == tmp_path / "f.xml"
    assert back.detections == dets  # exact, float32 coordinates survive the +-1 shift


def test_voc_convention_and_defaults(tmp_path):
    xml = """<annotation>
      <filename>im.jpg</filename>
      <size><width>100</width><height>50</height><depth>3</depth></size>
      <object><name>player</name><difficult>1</difficult>
        <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>100</xmax><ymax>50</ymax></bndbox></object>
      <object><name>ball</name>
        <bndbox><xmin>10.5</xmin><ymin>20</ymin><xmax>12</xmax><ymax>21</ymax></bndbox></object>
    </annotation>"""
    ann = tmp_path / "VOC" / "Annotations"
    ann.mkdir(parents=True)
    (tmp_path / "VOC" / "JPEGImages").mkdir()
    cv2.imwrite(str(tmp_path / "VOC" / "JPEGImages" / "im.jpg"), np.zeros((50, 100), np.uint8))
    (ann / "im.xml").write_text(xml)
    s = read_voc(ann / "im.xml")
    # A box covering every pixel (1..100 inclusive) spans the whole continuous image.
    np.testing.assert_array_equal(s.detections.xyxy, [[0, 0, 100, 50], [9.5, 19, 12, 21]])
    assert s.detections.class_names == ("ball", "player")
    assert s.detections.class_name.tolist() == ["player", "ball"]
    assert s.detections.data["difficult"].tolist() == [1, 0]
    assert s.image == tmp_path / "VOC" / "JPEGImages" / "im.jpg"
    write_voc(tmp_path / "out.xml", s)
    text = (tmp_path / "out.xml").read_text()
    assert "<xmin>1</xmin>" in text and "<xmin>10.5</xmin>" in text and "<xmax>100</xmax>" in text


def test_iter_voc_folder_shares_class_names(tmp_path):
    for stem, names in (("a", ["player"]), ("b", ["ball", "referee"]), ("c", [])):
        n = len(names)
        dets = Detections(
            xyxy=np.tile([0.0, 0, 5, 5], (n, 1)).reshape(n, 4),
            class_id=np.arange(n),
            class_names=tuple(names),
        )
        write_voc(tmp_path / f"{stem}.xml", DetectionSample(tmp_path / f"{stem}.jpg", (8, 8), dets))
    samples = list(iter_voc_folder(tmp_path))
    assert [s.label_file.stem for s in samples] == ["a", "b", "c"]
    assert all(s.detections.class_names == ("ball", "player", "referee") for s in samples)
    assert samples[1].detections.class_name.tolist() == ["ball", "referee"]
    assert len(samples[2].detections) == 0
    fixed = list(iter_voc_folder(tmp_path, class_names=("referee", "player", "ball")))
    assert fixed[0].detections.class_id.tolist() == [1]
    with pytest.raises(DataError, match=r"b\.xml: object 1: unknown class 'referee'"):
        list(iter_voc_folder(tmp_path, class_names=("ball", "player")))
    with pytest.raises(DataError, match="not a folder"):
        list(iter_voc_folder(tmp_path / "missing"))


def voc_xml(size: str = "<size><width>10</width><height>10</height></size>", obj: str = "") -> str:
    return f"<annotation><filename>a.jpg</filename>{size}{obj}</annotation>"


BOX = "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"


@pytest.mark.parametrize(
    "text,msg",
    [
        ("<annotation><size>", r"malformed XML"),
        ("<foo/>", r"root element is <foo>"),
        (voc_xml(size=""), r"missing <size>"),
        (voc_xml(size="<size><width>10</width></size>"), r"<size>: missing <height>"),
        (voc_xml(size="<size><width>10</width><height>x</height></size>"), r"<height> is not a number"),
        (voc_xml(size="<size><width>0</width><height>10</height></size>"), r"positive integers"),
        (voc_xml(obj=f"<object>{BOX}</object>"), r"object 0: missing <name>"),
        (voc_xml(obj="<object><name>a</name></object>"), r"object 0: missing <bndbox>"),
        (voc_xml(obj="<object><name>a</name><bndbox><xmin>1</xmin></bndbox></object>"),
         r"object 0: missing <ymin>"),
        (voc_xml(obj=f"<object><name>a</name>{BOX.replace('>5</xmax', '>-3</xmax')}</object>"),
         r"object 0: inverted box"),
        (voc_xml(obj=f"<object><name>a</name><difficult>2</difficult>{BOX}</object>"),
         r"<difficult> must be 0 or 1"),
    ],
)  # fmt: skip
def test_voc_malformed(tmp_path, text, msg):
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(DataError, match=r"bad\.xml: .*" + msg):
        read_voc(path)


def test_write_voc_needs_class_id(tmp_path):
    sample = DetectionSample(tmp_path / "a.jpg", (8, 8), Detections(xyxy=[[0, 0, 1, 1]]))
    with pytest.raises(DataError, match="without class_id"):
        write_voc(tmp_path / "a.xml", sample)
