"""Tests of the YOLO ONNX adapter on tiny hand-built ONNX models (no torch).

Each model outputs a constant tensor in the layout under test (plus ``0 * mean(images)`` so the
output depends on the input), i.e. known boxes in letterboxed network pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from touchline.detect.postprocess import letterbox  # noqa: E402
from touchline.detect.yolo import YoloOnnxDetector  # noqa: E402
from touchline.errors import DataError  # noqa: E402

NAMES = ("person", "sports ball", "referee")
NAMES_META = "{0: 'person', 1: 'sports ball', 2: 'referee'}"
NC = len(NAMES)

# (x1, y1, x2, y2) in a 1280x720 frame, class, score
PERSON = ((100, 200, 300, 600), 0, 0.9)
PERSON_DUP = ((104, 204, 304, 604), 0, 0.8)  # IoU ~0.94 with PERSON: removed by NMS
BALL = ((1000, 300, 1040, 340), 1, 0.7)
REFEREE = ((110, 210, 290, 590), 2, 0.6)  # overlaps PERSON, other class: kept
LOW = ((500, 100, 600, 300), 0, 0.1)  # below the threshold
OBJECTS = [PERSON, PERSON_DUP, BALL, REFEREE, LOW]
N_ROWS = 8  # anchors, the last ones all zero


def to_net(box: tuple[float, ...]) -> np.ndarray:
    """A 1280x720 frame box in 640x640 letterboxed pixels (scale 0.5, 140 rows padding on top)."""
    x1, y1, x2, y2 = box
    return np.array([x1 / 2, y1 / 2 + 140, x2 / 2, y2 / 2 + 140], np.float32)


def rows_v8(objects: list[Any] = OBJECTS) -> np.ndarray:
    """``(N, 4 + nc)``: cx, cy, w, h, class scores (the other classes get a small score)."""
    out = np.zeros((N_ROWS, 4 + NC), np.float32)
    for i, (box, cls, score) in enumerate(objects):
        x1, y1, x2, y2 = to_net(box)
        out[i, :4] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
        out[i, 4:] = 0.05
        out[i, 4 + cls] = score
    return out


def rows_v5(objects: list[Any] = OBJECTS) -> np.ndarray:
    """``(N, 5 + nc)``: cx, cy, w, h, objectness, class probabilities."""
    v8 = rows_v8(objects)
    out = np.zeros((N_ROWS, 5 + NC), np.float32)
    out[:, :4] = v8[:, :4]
    for i, (_, cls, score) in enumerate(objects):
        out[i, 4] = score
        out[i, 5:] = 0.05
        out[i, 5 + cls] = 1.0
    # high objectness but a low class probability: 0.9 * 0.2 = 0.18 < threshold
    out[len(objects), :5] = [320, 320, 50, 50, 0.9]
    out[len(objects), 5:] = 0.2
    return out


def rows_end2end(objects: list[Any] = OBJECTS) -> np.ndarray:
    out = np.zeros((N_ROWS, 6), np.float32)
    for i, (box, cls, score) in enumerate(objects):
        out[i] = [*to_net(box), score, cls]
    return out


def make_model(
    path: Path,
    const: np.ndarray,
    *,
    input_shape: list[Any] | None = None,
    output_shape: list[Any] | None = None,
    names: str | None = None,
    two_inputs: bool = False,
) -> Path:
    """An ONNX model mapping ``images`` to ``const + 0 * mean(images)`` (batch-broadcast)."""
    input_shape = input_shape or [1, 3, 640, 640]
    const = const[None] if const.ndim == 2 else const
    batch = input_shape[0]
    if output_shape is None:
        output_shape = [batch, *const.shape[1:]]
    nodes = [
        helper.make_node(
            "ReduceMean", ["images"], ["mean"], axes=list(range(1, len(input_shape))), keepdims=1
        ),
        helper.make_node(
            "Constant", [], ["shape"], value=numpy_helper.from_array(np.array([-1, 1, 1]))
        ),
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),
        helper.make_node(
            "Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.float32))
        ),
        helper.make_node("Mul", ["mean3", "zero"], ["nothing"]),
        helper.make_node(
            "Constant", [], ["boxes"], value=numpy_helper.from_array(const.astype(np.float32))
        ),
        helper.make_node("Add", ["boxes", "nothing"], ["output0"]),
    ]
    inputs = [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)]
    if two_inputs:
        inputs.append(helper.make_tensor_value_info("extra", TensorProto.FLOAT, [1]))
    graph = helper.make_graph(
        nodes,
        "tiny_yolo",
        inputs,
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {"names": names})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def expected(objects: list[Any], image_size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """Frame boxes of ``objects`` for a frame of another size (mapped through its letterbox)."""
    boxes = np.array([to_net(box) for box, _, _ in objects])
    w, h = image_size
    _, lb = letterbox(np.zeros((h, w, 3), np.uint8), (640, 640))
    return lb.to_original(boxes)


FRAME = np.full((720, 1280, 3), 90, np.uint8)

LAYOUT_CASES = {
    "v8": lambda: rows_v8().T,  # (4 + nc, N)
    "v8-transposed": rows_v8,  # (N, 4 + nc)
    "v5": rows_v5,
    "end2end": rows_end2end,
}


@pytest.mark.parametrize("case", list(LAYOUT_CASES))
@pytest.mark.parametrize("names_from", ["metadata", "argument"])
def test_layouts_give_known_boxes(tmp_path: Path, case: str, names_from: str) -> None:
    meta = NAMES_META if names_from == "metadata" else None
    path = make_model(tmp_path / f"{case}.onnx", LAYOUT_CASES[case](), names=meta)
    det = YoloOnnxDetector(path, class_names=None if meta else NAMES)
    assert det.layout == case.removesuffix("-transposed")
    assert det.input_size == (640, 640)
    assert det.class_names == NAMES
    dets = det.detect(FRAME)
    # end2end models have NMS inside: the duplicate is theirs to remove, not ours
    objects = [PERSON, PERSON_DUP, BALL, REFEREE] if case == "end2end" else [PERSON, BALL, REFEREE]
    assert dets.class_names == NAMES
    assert dets.class_id is not None and dets.confidence is not None
    assert dets.class_id.tolist() == [cls for _, cls, _ in objects]
    np.testing.assert_allclose(dets.confidence, [s for _, _, s in objects], atol=1e-6)
    np.testing.assert_allclose(dets.xyxy, [box for box, _, _ in objects], atol=1e-3)
    assert (dets.confidence >= det.threshold).all()


def test_threshold_and_max_dets(tmp_path: Path) -> None:
    path = make_model(tmp_path / "m.onnx", rows_v8().T, names=NAMES_META)
    low = YoloOnnxDetector(path, threshold=0.05, iou_threshold=0.99)
    dets = low.detect(FRAME)
    assert len(dets) == 5  # the duplicate survives a 0.99 IoU threshold, LOW the 0.05 score
    one = YoloOnnxDetector(path, max_dets=1).detect(FRAME)
    assert one.class_id is not None
    assert one.class_id.tolist() == [0] and len(one) == 1


def test_class_map_folds_and_drops(tmp_path: Path) -> None:
    path = make_model(tmp_path / "m.onnx", rows_v8().T, names=NAMES_META)
    fold = {"person": "player", "sports ball": "ball", "referee": "player"}
    det = YoloOnnxDetector(path, class_map=fold)
    assert det.class_names == ("player", "ball")
    assert det.model_class_names == NAMES
    dets = det.detect(FRAME)
    # person and referee are now one class: NMS removes the referee inside the person box
    assert dets.class_names == ("player", "ball")
    assert dets.class_id is not None
    assert dets.class_id.tolist() == [0, 1]
    assert dets.class_name.tolist() == ["player", "ball"]
    np.testing.assert_allclose(dets.xyxy, [PERSON[0], BALL[0]], atol=1e-3)

    only_ball = YoloOnnxDetector(path, class_map={"sports ball": "ball"}).detect(FRAME)
    assert only_ball.class_names == ("ball",)
    assert only_ball.class_id is not None
    assert only_ball.class_id.tolist() == [0]
    np.testing.assert_allclose(only_ball.xyxy, [BALL[0]], atol=1e-3)

    det.keep_classes(["ball"])  # the output-class filter of BaseDetector
    assert det.detect(FRAME).class_id.tolist() == [1]  # type: ignore[union-attr]
    kept = YoloOnnxDetector(path, classes=["referee"]).detect(FRAME)
    assert kept.class_id is not None
    assert kept.class_id.tolist() == [2]

    with pytest.raises(DataError, match=r"'sports_ball'.*not classes of the model"):
        YoloOnnxDetector(path, class_map={"sports_ball": "ball"})


def test_names_metadata_parsing(tmp_path: Path) -> None:
    sparse = make_model(tmp_path / "s.onnx", rows_v8().T, names="{0: 'person', 2: 'referee'}")
    assert YoloOnnxDetector(sparse).class_names == ("person", "class1", "referee")
    listed = make_model(tmp_path / "l.onnx", rows_v8().T, names=str(list(NAMES)))
    assert YoloOnnxDetector(listed).class_names == NAMES
    unnamed = make_model(tmp_path / "u.onnx", rows_v8().T)
    det = YoloOnnxDetector(unnamed)  # nc inferred from the v8 shape (7 = 4 + 3)
    assert det.class_names == ("class0", "class1", "class2")
    assert det.detect(FRAME).class_id.tolist() == [0, 1, 2]  # type: ignore[union-attr]
    for bad in ("__import__('os').getcwd()", "{'a': 1}", "42"):
        evil = make_model(tmp_path / "evil.onnx", rows_v8().T, names=bad)
        with pytest.raises(DataError, match=r"evil\.onnx.*'names' metadata"):
            YoloOnnxDetector(evil)


def test_end2end_needs_names_when_explicit(tmp_path: Path) -> None:
    path = make_model(tmp_path / "e2e.onnx", rows_end2end())
    with pytest.raises(DataError, match="class_names="):
        YoloOnnxDetector(path, layout="end2end")
    det = YoloOnnxDetector(path, layout="end2end", class_names=NAMES)
    assert len(det.detect(FRAME)) == 4
    too_few = YoloOnnxDetector(path, layout="end2end", class_names=["person"])
    with pytest.raises(DataError, match="class id 1 is outside"):
        too_few.detect(FRAME)


class CountingSession:
    """Wraps an onnxruntime session and counts the runs."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.batches: list[int] = []

    def run(self, output_names: Any, feeds: dict[str, np.ndarray]) -> Any:
        self.batches.append(next(iter(feeds.values())).shape[0])
        return self.session.run(output_names, feeds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def test_dynamic_batch_runs_once(tmp_path: Path) -> None:
    path = make_model(
        tmp_path / "dyn.onnx", rows_v8().T, input_shape=["batch", 3, 640, 640], names=NAMES_META
    )
    det = YoloOnnxDetector(path)
    counter = CountingSession(det._session)
    det._session = counter
    images = [FRAME, np.full((97, 333), 50, np.uint8), np.zeros((1280, 720, 3), np.uint8)]
    results = det.detect_batch(images)
    assert counter.batches == [3]
    assert len(results) == 3
    sizes = [(1280, 720), (333, 97), (720, 1280)]
    kept = [PERSON, BALL, REFEREE]
    for dets, size in zip(results, sizes, strict=True):
        assert dets.class_id is not None
        assert dets.class_id.tolist() == [0, 1, 2]
        np.testing.assert_allclose(dets.xyxy, expected(kept, size), atol=1e-3)
        w, h = size
        assert (dets.xyxy[:, [0, 2]] <= w).all() and (dets.xyxy[:, [1, 3]] <= h).all()
    assert det.detect_batch([]) == []


def test_static_batch_runs_in_chunks(tmp_path: Path) -> None:
    one = make_model(tmp_path / "one.onnx", rows_v8().T, names=NAMES_META)
    det = YoloOnnxDetector(one)
    counter = CountingSession(det._session)
    det._session = counter
    assert len(det.detect_batch([FRAME, FRAME, FRAME])) == 3
    assert counter.batches == [1, 1, 1]

    two = make_model(
        tmp_path / "two.onnx", rows_v8().T, input_shape=[2, 3, 640, 640], names=NAMES_META
    )
    det = YoloOnnxDetector(two)
    counter = CountingSession(det._session)
    det._session = counter
    results = det.detect_batch([FRAME, FRAME, FRAME])
    assert counter.batches == [2, 2]  # the last batch is padded
    assert [len(d) for d in results] == [3, 3, 3]
    assert len(det.detect(FRAME)) == 3


def test_dynamic_input_size(tmp_path: Path) -> None:
    # fully dynamic: input (batch, 3, h, w), output of unknown shape (found by a blank run)
    half = rows_v8().T.copy()
    half[:4] /= 2  # the boxes of a 320x320 input
    path = make_model(
        tmp_path / "dyn.onnx",
        half,
        input_shape=["batch", 3, "height", "width"],
        output_shape=["batch", "channels", "anchors"],
        names=NAMES_META,
    )
    det = YoloOnnxDetector(path, input_size=(320, 320))
    assert det.input_size == (320, 320)
    assert det.layout == "v8"
    dets = det.detect(FRAME)
    np.testing.assert_allclose(dets.xyxy, [PERSON[0], BALL[0], REFEREE[0]], atol=1e-3)
    assert YoloOnnxDetector(path, input_size=(300, 200)).input_size == (320, 224)
    assert YoloOnnxDetector(path).input_size == (640, 640)
    fixed = make_model(tmp_path / "fixed.onnx", rows_v8().T, names=NAMES_META)
    with pytest.raises(DataError, match=r"fixed 640x640 input"):
        YoloOnnxDetector(fixed, input_size=(320, 320))


def test_odd_images(tmp_path: Path) -> None:
    path = make_model(tmp_path / "m.onnx", rows_v8().T, names=NAMES_META)
    det = YoloOnnxDetector(path)
    color = det.detect(FRAME)
    gray = det.detect(np.full((720, 1280), 90, np.uint8))
    assert gray == color
    small = det.detect(np.zeros((97, 333, 3), np.uint8))
    assert (small.xyxy >= 0).all() and (small.xyxy[:, [0, 2]] <= 333).all()
    assert (small.xyxy[:, [1, 3]] <= 97).all()
    np.testing.assert_allclose(small.xyxy, expected([PERSON, BALL, REFEREE], (333, 97)), atol=1e-3)
    with pytest.raises(DataError, match="empty image"):
        det.detect(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(DataError, match=r"image 1: empty image"):
        det.detect_batch([FRAME, np.zeros((10, 0), np.uint8)])


def test_bad_model_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.onnx"
    with pytest.raises(DataError, match=r"missing\.onnx: ONNX model file not found"):
        YoloOnnxDetector(missing)
    for name in ("junk.onnx", "junk.bin"):
        junk = tmp_path / name
        junk.write_bytes(b"this is not an onnx model")
        with pytest.raises(DataError, match=rf"{name}: not a loadable ONNX model"):
            YoloOnnxDetector(junk)
    two = make_model(tmp_path / "two.onnx", rows_v8().T, two_inputs=True)
    with pytest.raises(DataError, match=r"two\.onnx: expected one image input"):
        YoloOnnxDetector(two)
    rank3 = make_model(tmp_path / "rank3.onnx", rows_v8().T, input_shape=[1, 640, 640])
    with pytest.raises(DataError, match=r"rank3\.onnx: expected an input of shape"):
        YoloOnnxDetector(rank3)
    gray_input = make_model(tmp_path / "gray.onnx", rows_v8().T, input_shape=[1, 1, 640, 640])
    with pytest.raises(DataError, match=r"gray\.onnx: expected an input of shape"):
        YoloOnnxDetector(gray_input)


def test_unknown_layout_shape(tmp_path: Path) -> None:
    path = make_model(tmp_path / "odd.onnx", np.zeros((10, 10), np.float32), names=NAMES_META)
    with pytest.raises(DataError, match=r"odd\.onnx: output shape \(batch, 10, 10\).*layout="):
        YoloOnnxDetector(path)
    tiny = make_model(tmp_path / "tiny.onnx", np.zeros((3, 4), np.float32))
    with pytest.raises(DataError, match=r"tiny\.onnx.*too small"):
        YoloOnnxDetector(tiny)
    v8 = make_model(tmp_path / "v8.onnx", rows_v8(), names=NAMES_META)  # (1, 8, 7)
    with pytest.raises(DataError, match=r"not a v5 layout"):
        YoloOnnxDetector(v8, layout="v5")
    with pytest.raises(DataError, match=r"layout must be one of"):
        YoloOnnxDetector(v8, layout="yolo")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"iou_threshold": -0.1}, "iou_threshold"),
        ({"max_dets": 0}, "max_dets"),
        ({"threads": 0}, "threads"),
        ({"class_names": ["a", ""]}, "class_names"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    path = make_model(tmp_path / "m.onnx", rows_v8().T)
    with pytest.raises(DataError, match=match):
        YoloOnnxDetector(path, **kwargs)


def test_cli_detect_and_eval_with_a_yolo_export(tmp_path: Path) -> None:
    """A user's YOLO export plugged in by path and class map, through both commands."""
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from touchline.cli import app
    from touchline.datasets.detection import write_yolo_labels, write_yolo_names
    from touchline.types import Detections
    from touchline.video import write_image

    runner = CliRunner()
    model = make_model(tmp_path / "yolo.onnx", rows_v8().T, names=NAMES_META)
    img = write_image(tmp_path / "split" / "images" / "f.png", FRAME)
    cmap = ["--class-map", "player=person", "--class-map", "ball=sports ball"]
    r = runner.invoke(
        app, ["detect", str(img), "--out", str(tmp_path / "o"), "--model", str(model), *cmap]
    )
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(tmp_path / "o" / "detections.parquet")
    assert sorted(df["class_name"]) == ["ball", "player"]  # the referee class is not mapped
    got = df.sort_values("class_name")[["x1", "y1", "x2", "y2"]].to_numpy()
    np.testing.assert_allclose(got, [BALL[0], PERSON[0]], atol=1e-3)

    # the same model scored on a labelled split holding exactly those two boxes
    write_yolo_names(tmp_path / "data.yaml", ["Person", "Ball"])
    truth = Detections(xyxy=[PERSON[0], BALL[0]], class_id=[0, 1], class_names=("Person", "Ball"))
    write_yolo_labels(tmp_path / "split" / "labels" / "f.txt", truth, (1280, 720))
    out = tmp_path / "m.json"
    r = runner.invoke(
        app,
        ["eval", "detection", "--data", str(tmp_path / "split"), "--json", str(out),
         "--model", str(model), "--class-map", "Person=person", "--class-map", "Ball=sports ball"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert res["ap50"] == {"Person": 1.0, "Ball": 1.0} and res["images"] == 1
