"""Tests of the shared data model: Detections, Calibration and the tracks table."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from touchline.errors import DataError, TouchlineError
from touchline.tracking_meta import META_KEYS
from touchline.tracks import (
    PARQUET_METADATA_KEY,
    TRACK_COLUMN_NAMES,
    TRACK_COLUMNS,
    TRACKS_SCHEMA_VERSION,
    Column,
    Tracks,
    TracksBuilder,
    csv_meta_path,
    read_tracks,
)
from touchline.types import CLASS_NAMES, Calibration, CalibrationStatus, Detections, ObjectClass

# --------------------------------------------------------------------------------------------
# Fixtures built by the tests themselves
# --------------------------------------------------------------------------------------------


def make_detections(n: int = 5, seed: int = 0, *, embedding_dim: int = 3) -> Detections:
    """Detections with every field set, including 1-D and 2-D data entries."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, size=(n, 2))
    wh = rng.uniform(1, 80, size=(n, 2))
    return Detections(
        xyxy=np.hstack([xy, xy + wh]),
        confidence=rng.uniform(0, 1, n),
        class_id=rng.integers(0, 4, n),
        tracker_id=np.arange(100, 100 + n),
        embedding=rng.normal(size=(n, embedding_dim)),
        data={
            "team": rng.integers(-1, 2, n).astype(np.int8),
            "pitch_xy": rng.uniform(0, 100, size=(n, 2)),
            "label": np.array([f"obj{i}" for i in range(n)]),
        },
    )


def camera_homography(
    focal: float = 1500.0,
    camera: tuple[float, float, float] = (52.5, 108.0, 20.0),
    target: tuple[float, float] = (52.5, 34.0),
    image_size: tuple[int, int] = (1920, 1080),
) -> np.ndarray:
    """Pitch (metres) -> image (pixels) homography of a pinhole camera looking at ``target``."""
    c = np.asarray(camera, dtype=float)
    forward = np.array([target[0], target[1], 0.0]) - c
    forward /= np.linalg.norm(forward)
    right = np.cross([0.0, 0.0, 1.0], forward)
    right /= np.linalg.norm(right)
    down = np.cross(right, forward)
    rotation = np.stack([right, down, forward])
    k = np.array([[focal, 0, image_size[0] / 2], [0, focal, image_size[1] / 2], [0, 0, 1]])
    projection = k @ np.hstack([rotation, -rotation @ c[:, None]])
    return projection[:, [0, 1, 3]]


def scale_calibration(px_per_m: float = 10.0, **kwargs: Any) -> Calibration:
    """Orthographic top view: image = pitch * px_per_m."""
    return Calibration(np.diag([1 / px_per_m, 1 / px_per_m, 1.0]), **kwargs)


cameras = st.builds(
    camera_homography,
    focal=st.floats(600, 6000),
    camera=st.tuples(st.floats(20, 85), st.floats(85, 140), st.floats(8, 45)),
    target=st.tuples(st.floats(15, 90), st.floats(10, 60)),
)
pitch_points = st.lists(
    st.tuples(st.floats(0, 105), st.floats(0, 68)), min_size=1, max_size=20
).map(lambda p: np.array(p, dtype=float))


# --------------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------------


def test_class_names_match_object_class() -> None:
    assert [c.name.lower() for c in ObjectClass] == list(CLASS_NAMES)
    assert [int(c) for c in ObjectClass] == [0, 1, 2, 3]
    assert CLASS_NAMES[ObjectClass.BALL] == "ball"


def test_errors_share_the_root() -> None:
    assert issubclass(DataError, TouchlineError)


# --------------------------------------------------------------------------------------------
# Detections: construction
# --------------------------------------------------------------------------------------------


def test_detections_coerce_dtypes() -> None:
    dets = Detections(
        xyxy=[[0, 0, 1, 2]],
        confidence=[0.5],
        class_id=[2.0],
        tracker_id=np.array([7], dtype=np.int32),
        embedding=[[1, 2]],
        data={"team": [1]},
        class_names=["a", "b", "c"],
    )
    assert dets.xyxy.dtype == np.float32 and dets.xyxy.shape == (1, 4)
    assert dets.confidence is not None and dets.confidence.dtype == np.float32
    assert dets.class_id is not None and dets.class_id.dtype == np.int64
    assert dets.class_id.tolist() == [2]
    assert dets.tracker_id is not None and dets.tracker_id.dtype == np.int64
    assert dets.embedding is not None and dets.embedding.dtype == np.float32
    assert dets.data["team"].tolist() == [1]
    assert dets.class_names == ("a", "b", "c")


def test_detections_do_not_copy_arrays_of_the_right_dtype() -> None:
    xyxy = np.array([[0, 0, 1, 1]], dtype=np.float32)
    assert Detections(xyxy=xyxy).xyxy is xyxy


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"xyxy": [0, 0, 1, 1]}, r"xyxy: expected shape \(n, 4\), got \(4,\)"),
        ({"xyxy": np.zeros((2, 5))}, r"xyxy: expected shape \(n, 4\), got \(2, 5\)"),
        ({"xyxy": np.zeros((1, 1, 4))}, r"xyxy: expected shape \(n, 4\), got \(1, 1, 4\)"),
        ({"xyxy": [["a", "b", "c", "d"]]}, r"xyxy: cannot convert to float32"),
        ({"xyxy": [[0, 0, np.nan, 1]]}, r"xyxy: row 0 is not finite"),
        ({"xyxy": [[0, 0, 1, 1], [0, 0, np.inf, 1]]}, r"xyxy: row 1 is not finite"),
        ({"xyxy": [[0, 0, 1e39, 1]]}, r"xyxy: row 0 is not finite"),  # float32 overflow
        ({"xyxy": [[5, 0, 4, 1]]}, r"xyxy: row 0 has x2 < x1"),
        ({"xyxy": [[0, 0, 1, 1], [0, 5, 1, 4]]}, r"xyxy: row 1 has x2 < x1 or y2 < y1"),
        (
            {"xyxy": np.zeros((2, 4)), "confidence": [0.5]},
            r"confidence: expected shape \(2,\), got \(1,\)",
        ),
        (
            {"xyxy": np.zeros((2, 4)), "confidence": [[0.5, 0.5]]},
            r"confidence: expected shape \(2,\), got \(1, 2\)",
        ),
        (
            {"xyxy": np.zeros((2, 4)), "class_id": [1, 2, 3]},
            r"class_id: expected shape \(2,\), got \(3,\)",
        ),
        ({"xyxy": np.zeros((1, 4)), "class_id": [1.5]}, r"class_id: expected whole numbers"),
        ({"xyxy": np.zeros((1, 4)), "class_id": ["x"]}, r"class_id: expected integers"),
        (
            {"xyxy": np.zeros((2, 4)), "tracker_id": [[1, 2]]},
            r"tracker_id: expected shape \(2,\), got \(1, 2\)",
        ),
        ({"xyxy": np.zeros((1, 4)), "tracker_id": [np.nan]}, r"tracker_id: expected whole"),
        (
            {"xyxy": np.zeros((2, 4)), "embedding": np.zeros((3, 8))},
            r"embedding: expected shape \(2, d\), got \(3, 8\)",
        ),
        (
            {"xyxy": np.zeros((2, 4)), "embedding": np.zeros(2)},
            r"embedding: expected shape \(2, d\), got \(2,\)",
        ),
        (
            {"xyxy": np.zeros((2, 4)), "data": {"team": [1]}},
            r"data\['team'\]: expected shape \(2, \.\.\.\), got \(1,\)",
        ),
        (
            {"xyxy": np.zeros((2, 4)), "data": {"team": 1}},
            r"data\['team'\]: expected shape \(2, \.\.\.\), got \(\)",
        ),
        ({"xyxy": np.zeros((1, 4)), "data": {1: [1]}}, r"data: keys must be strings"),
        ({"xyxy": np.zeros((1, 4)), "data": [1]}, r"data: expected a dict"),
        ({"xyxy": np.zeros((1, 4)), "class_names": (1, 2)}, r"class_names: expected strings"),
    ],
)
def test_detections_invalid(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        Detections(**kwargs)


def test_detections_zero_size_boxes_are_allowed() -> None:
    dets = Detections(xyxy=[[3, 3, 3, 3]])
    assert dets.area.tolist() == [0.0]


# --------------------------------------------------------------------------------------------
# Detections: indexing, merge, equality
# --------------------------------------------------------------------------------------------


def _expected_rows(dets: Detections, index: Any) -> np.ndarray:
    """Row numbers numpy selects for ``index`` (the reference for Detections indexing)."""
    rows = np.arange(len(dets))
    if isinstance(index, int | np.integer):
        return rows[[index]]
    return rows[index]


@pytest.mark.parametrize(
    "index",
    [
        0,
        3,
        -1,
        np.int64(2),
        slice(1, 4),
        slice(None, None, -2),
        slice(10, 20),
        np.array([True, False, True, False, True]),
        [True, True, False, False, False],
        np.array([4, 0, 0]),
        [3, 1],
        np.array([], dtype=np.int64),
        [],
    ],
)
def test_indexing_slices_every_field(index: Any) -> None:
    dets = make_detections(5)
    rows = _expected_rows(dets, index)
    sub = dets[index]
    assert isinstance(sub, Detections)
    assert len(sub) == len(rows)
    np.testing.assert_array_equal(sub.xyxy, dets.xyxy[rows])
    for name in ("confidence", "class_id", "tracker_id", "embedding"):
        np.testing.assert_array_equal(getattr(sub, name), getattr(dets, name)[rows])
    assert sub.data.keys() == dets.data.keys()
    for key, values in dets.data.items():
        np.testing.assert_array_equal(sub.data[key], values[rows])
        assert sub.data[key].dtype == values.dtype
    assert sub.class_names == dets.class_names


def test_int_index_returns_length_one_detections() -> None:
    dets = make_detections(3)
    one = dets[1]
    assert len(one) == 1 and one.xyxy.shape == (1, 4)
    assert one.embedding is not None and one.embedding.shape == (1, 3)
    assert one.data["pitch_xy"].shape == (1, 2)
    assert one == dets[1:2]


def test_boolean_filter_keeps_none_fields_none() -> None:
    dets = Detections(xyxy=np.zeros((3, 4)), confidence=[0.1, 0.9, 0.8])
    kept = dets[dets.confidence > 0.5]
    assert len(kept) == 2
    assert kept.class_id is None and kept.tracker_id is None and kept.embedding is None
    assert kept.data == {}


@pytest.mark.parametrize(
    ("index", "error"),
    [
        (5, IndexError),
        (-6, IndexError),
        (np.array([True, False]), IndexError),
        (np.zeros((5, 1), dtype=bool), IndexError),
        (np.array([0.5]), TypeError),
        (True, TypeError),
        (np.array([7]), IndexError),
    ],
)
def test_indexing_errors(index: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_detections(5)[index]


def test_merge_concatenates_every_field() -> None:
    a, b = make_detections(2, seed=1), make_detections(3, seed=2)
    merged = Detections.merge([a, b])
    assert len(merged) == 5
    np.testing.assert_array_equal(merged.xyxy, np.concatenate([a.xyxy, b.xyxy]))
    assert merged.tracker_id is not None and b.tracker_id is not None
    np.testing.assert_array_equal(merged.tracker_id[2:], b.tracker_id)
    np.testing.assert_array_equal(merged.data["label"], ["obj0", "obj1", "obj0", "obj1", "obj2"])
    assert merged[:2] == a and merged[2:] == b


def test_merge_skips_empty_items_and_handles_all_empty() -> None:
    a = make_detections(2)
    assert Detections.merge([Detections.empty(), a, Detections.empty()]) == a
    assert Detections.merge([]) == Detections.empty()
    assert Detections.merge([Detections.empty(), Detections.empty()]) == Detections.empty()


@pytest.mark.parametrize(
    ("other", "match"),
    [
        (Detections(xyxy=np.zeros((1, 4)), confidence=[1.0]), r"field 'class_id' is None in"),
        (
            Detections(xyxy=np.zeros((1, 4)), confidence=[1.0], class_id=[0]),
            r"field 'tracker_id' is None in item\(s\) \[1\]",
        ),
        (replace(make_detections(1), data={}), r"data keys differ"),
        (make_detections(1, embedding_dim=4), r"cannot concatenate embedding"),
        (replace(make_detections(1), class_names=("a", "b")), r"class_names differ"),
    ],
)
def test_merge_errors(other: Detections, match: str) -> None:
    with pytest.raises(DataError, match=match):
        Detections.merge([make_detections(2), other])


def test_equality() -> None:
    a = make_detections(4)
    b = make_detections(4)
    assert a == b
    assert a != make_detections(4, seed=1)
    b.data["team"] = b.data["team"].copy()
    b.data["team"][0] = 5
    assert a != b
    assert a != a[:3]
    assert Detections(xyxy=np.zeros((1, 4)), confidence=[np.nan]) == Detections(
        xyxy=np.zeros((1, 4)), confidence=[np.nan]
    )
    assert Detections(xyxy=np.zeros((1, 4))) != Detections(xyxy=np.zeros((1, 4)), class_id=[0])
    assert Detections.empty() != Detections.empty(class_names=("a",))
    assert a.__eq__("x") is NotImplemented


# --------------------------------------------------------------------------------------------
# Detections: constructors, geometry, records
# --------------------------------------------------------------------------------------------


def test_from_xywh_and_cxcywh() -> None:
    xyxy = np.array([[10, 20, 14, 26], [0, 0, 1, 1]], dtype=np.float32)
    a = Detections.from_xywh([[10, 20, 4, 6], [0, 0, 1, 1]], tracker_id=[1, 2])
    b = Detections.from_cxcywh([[12, 23, 4, 6], [0.5, 0.5, 1, 1]], tracker_id=[1, 2])
    np.testing.assert_array_equal(a.xyxy, xyxy)
    assert a == b
    assert len(Detections.from_xywh(np.empty((0, 4)))) == 0
    with pytest.raises(DataError, match=r"from_xywh: expected shape \(n, 4\), got \(1, 3\)"):
        Detections.from_xywh([[1, 2, 3]])
    with pytest.raises(DataError, match="x2 < x1"):
        Detections.from_xywh([[0, 0, -1, 1]])


def test_geometry_properties() -> None:
    dets = Detections(
        xyxy=[[0, 0, 4, 10], [10, 10, 12, 12], [2, 2, 4, 8]],
        class_id=[ObjectClass.PLAYER, ObjectClass.BALL, ObjectClass.REFEREE],
    )
    np.testing.assert_array_equal(dets.wh, [[4, 10], [2, 2], [2, 6]])
    np.testing.assert_array_equal(dets.area, [40, 4, 12])
    np.testing.assert_array_equal(dets.centers, [[2, 5], [11, 11], [3, 5]])
    np.testing.assert_array_equal(dets.foot_points, [[2, 10], [11, 11], [3, 8]])
    assert dets.foot_points.dtype == np.float32
    assert dets.class_name.tolist() == ["player", "ball", "referee"]
    # Without class ids every object stands on the ground.
    np.testing.assert_array_equal(
        Detections(xyxy=dets.xyxy).foot_points, [[2, 10], [11, 12], [3, 8]]
    )
    # The ball is found by name in custom class names.
    custom = Detections(xyxy=dets.xyxy, class_id=[1, 0, 1], class_names=("person", "ball"))
    np.testing.assert_array_equal(custom.foot_points, [[2, 5], [11, 12], [3, 5]])


@pytest.mark.parametrize(
    ("class_id", "match"),
    [
        (None, "class_id is None"),
        ([0, 4], r"class id 4 \(row 1\) is not in class_names"),
        ([-1, 0], r"class id -1 \(row 0\)"),
    ],
)
def test_class_name_errors(class_id: Any, match: str) -> None:
    with pytest.raises(DataError, match=match):
        _ = Detections(xyxy=np.zeros((2, 4)), class_id=class_id).class_name


def test_to_pitch() -> None:
    dets = Detections(xyxy=[[100, 0, 120, 50], [200, 200, 210, 210]], class_id=[0, 3])
    np.testing.assert_allclose(dets.to_pitch(scale_calibration()), [[11, 5], [20.5, 20.5]])
    out = dets.to_pitch(Calibration.uncalibrated())
    assert out.shape == (2, 2) and np.isnan(out).all()
    failed = Calibration(np.eye(3), status=CalibrationStatus.FAILED)
    assert np.isnan(dets.to_pitch(failed)).all()


def test_records_round_trip_through_json() -> None:
    dets = make_detections(4)
    dets.confidence[1] = np.nan
    records = dets.to_records()
    assert len(records) == 4
    assert set(records[0]) == {
        "x1",
        "y1",
        "x2",
        "y2",
        "confidence",
        "class_id",
        "class_name",
        "tracker_id",
        "team",
        "pitch_xy",
        "label",
    }
    assert records[2]["label"] == "obj2"
    assert isinstance(records[0]["team"], int) and isinstance(records[0]["x1"], float)
    assert records[0]["class_name"] == CLASS_NAMES[records[0]["class_id"]]
    back = Detections.from_records(json.loads(json.dumps(records)))
    assert back.embedding is None
    dets.embedding = None
    assert back == dets


def test_records_with_embedding_and_null_values() -> None:
    dets = Detections(
        xyxy=[[0, 0, 1, 1]], confidence=[np.nan], embedding=[[0.25, 0.5]], data={"s": [np.nan]}
    )
    records = dets.to_records(include_embedding=True)
    assert records[0]["embedding"] == [0.25, 0.5]
    # write_json_atomic style: NaN stored as null reads back as NaN.
    records[0]["confidence"] = None
    records[0]["s"] = None
    assert Detections.from_records(records) == dets


def test_from_records_by_class_name_and_errors() -> None:
    recs = [{"x1": 0, "y1": 0, "x2": 1, "y2": 1, "class_name": "ball"}]
    assert Detections.from_records(recs).class_id.tolist() == [3]
    with pytest.raises(DataError, match=r"row 0 has class_name 'bal'"):
        Detections.from_records([{**recs[0], "class_name": "bal"}])
    with pytest.raises(DataError, match=r"record 1 has keys"):
        Detections.from_records([recs[0], {"x1": 0, "y1": 0, "x2": 1, "y2": 1}])
    with pytest.raises(DataError, match=r"missing box keys \['y2'\]"):
        Detections.from_records([{"x1": 0, "y1": 0, "x2": 1}])
    with pytest.raises(DataError, match=r"clash with field names"):
        Detections(xyxy=np.zeros((1, 4)), data={"x1": [0]}).to_records()


@pytest.mark.parametrize(
    "dets",
    [
        make_detections(4),
        make_detections(4)[:0],
        Detections.empty(),
        Detections(xyxy=[[0, 0, 2, 4]], confidence=[np.nan], data={"pitch_xy": [[1.0, 2.0]]}),
        Detections(xyxy=np.zeros((2, 4)), class_id=[3, 9], tracker_id=[1, 2]),
    ],
)
def test_columns_round_trip(dets: Detections) -> None:
    cols = dets.to_columns()
    assert list(cols)[:4] == ["x1", "y1", "x2", "y2"]
    fields = {"confidence", "class_id", "tracker_id", "embedding"}
    assert fields & set(cols) == {f for f in fields if getattr(dets, f) is not None}
    assert Detections.from_columns(cols) == dets
    assert Detections.from_columns(dets.to_columns(["xyxy", *cols])) == dets
    flat = {k: v for k, v in cols.items() if v.ndim == 1}
    assert Detections.from_columns(pd.DataFrame(flat)) == Detections.from_columns(flat)
    if dets.class_id is not None:  # class_name: None for an id outside class_names
        names = [CLASS_NAMES[i] if i < len(CLASS_NAMES) else None for i in dets.class_id]
        assert cols["class_name"].tolist() == names
    # Several items in one table: fields that are None are filled, empty items skipped.
    items = [dets, Detections.empty(), Detections(xyxy=[[1, 1, 2, 2]], class_id=[0])]
    keys = ["xyxy", "confidence", "class_id", "embedding"]
    dim = 0 if dets.embedding is None else dets.embedding.shape[1]
    fill = {"confidence": 1.0, "class_id": -1, "embedding": np.zeros(dim)}
    table = Detections.concat_columns(items, keys, fill)
    assert [table[k].dtype for k in keys] == [np.float32, np.float32, np.int64, np.float32]
    assert table["embedding"].shape == (len(dets) + 1, dim) and table["confidence"][-1] == 1
    head = Detections.from_columns({k: v[: len(dets)] for k, v in table.items()})
    assert head == Detections.from_columns(dets.to_columns(keys, fill))


def test_concat_columns_needs_a_fill_for_fields_missing_in_some_items() -> None:
    a, b = Detections(xyxy=[[0, 0, 1, 1]], confidence=[0.5]), Detections(xyxy=[[2, 2, 3, 3]])
    assert Detections.concat_columns([b, b], ["confidence"]) == {}
    with pytest.raises(DataError, match="column 'confidence' is None in some items"):
        Detections.concat_columns([a, b], ["x1", "confidence"])
    empty = Detections.concat_columns([], ["x1", "class_name"], {"class_name": "unknown"})
    assert empty["x1"].dtype == np.float32 and empty["class_name"].dtype == object


def test_zero_length_detections_everywhere() -> None:
    empty = Detections.empty()
    assert empty.xyxy.shape == (0, 4) and len(empty) == 0
    assert Detections(xyxy=[]) == empty
    for index in (slice(None), [], np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)):
        assert empty[index] == empty
    full = make_detections(3)
    assert len(full[[]]) == 0 and full[[]].data["pitch_xy"].shape == (0, 2)
    assert full[np.zeros(3, dtype=bool)] == full[:0]
    assert Detections.merge([empty, empty]) == empty
    assert Detections.merge([full[:0], full[:0]]) == full[:0]
    assert empty.area.shape == (0,) and empty.wh.shape == (0, 2)
    assert empty.centers.shape == (0, 2) and empty.foot_points.shape == (0, 2)
    assert full[:0].class_name.shape == (0,)
    assert empty.to_pitch(scale_calibration()).shape == (0, 2)
    assert empty.to_records() == [] and full[:0].to_records() == []
    assert Detections.from_records([]) == empty
    assert Detections(xyxy=[], embedding=[]).embedding.shape == (0, 0)


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


def test_calibration_normalises_and_freezes_the_homography() -> None:
    h = np.array([[0.2, 0, 4], [0, 0.2, 6], [0, 0, 2.0]])
    cal = Calibration(h, confidence=np.float32(0.5), status="propagated", image_size=[640, 480])
    assert cal.homography is not None
    np.testing.assert_array_equal(cal.homography, [[0.1, 0, 2], [0, 0.1, 3], [0, 0, 1]])
    assert h[2, 2] == 2.0  # the input is not modified
    assert cal.status is CalibrationStatus.PROPAGATED
    assert cal.confidence == 0.5 and isinstance(cal.confidence, float)
    assert cal.image_size == (640, 480)
    with pytest.raises(ValueError, match="read-only"):
        cal.homography[0, 0] = 1.0
    with pytest.raises(AttributeError):
        cal.confidence = 0.1


def test_homography_with_zero_corner_is_kept_as_given() -> None:
    h = np.array([[2.0, 0, 0], [0, 0, 1], [0, 1, 0]])  # a permutation: invertible, H[2, 2] == 0
    cal = Calibration(h)
    np.testing.assert_array_equal(cal.homography, h)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"homography": np.eye(2)}, r"homography: expected shape \(3, 3\), got \(2, 2\)"),
        ({"homography": np.ones(9)}, r"expected shape \(3, 3\), got \(9,\)"),
        ({"homography": np.diag([1.0, np.nan, 1.0])}, "non-finite"),
        ({"homography": np.diag([1.0, np.inf, 1.0])}, "non-finite"),
        ({"homography": np.zeros((3, 3))}, "singular or ill-conditioned"),
        ({"homography": np.ones((3, 3))}, "singular or ill-conditioned"),
        ({"homography": np.diag([1.0, 1e-14, 1.0])}, r"condition number 1e\+14"),
        ({"homography": [["a"] * 3] * 3}, "cannot convert to float64"),
        ({"homography": None}, "status 'ok' needs a homography"),
        ({"homography": None, "status": "interpolated"}, "status 'interpolated' needs"),
        ({"homography": np.eye(3), "confidence": 1.5}, r"confidence: expected a value in \[0, 1\]"),
        ({"homography": np.eye(3), "confidence": -0.1}, r"confidence: expected a value in"),
        ({"homography": np.eye(3), "confidence": math.nan}, r"confidence: expected a value in"),
        ({"homography": np.eye(3), "confidence": "high"}, r"confidence: expected a number"),
        ({"homography": np.eye(3), "status": "cut"}, r"status: expected one of \['ok'"),
        ({"homography": np.eye(3), "image_size": (0, 10)}, r"image_size: expected positive"),
        ({"homography": np.eye(3), "image_size": (10.5, 10)}, r"image_size: expected positive"),
        ({"homography": np.eye(3), "image_size": 10}, r"image_size: expected \(width, height\)"),
    ],
)
def test_calibration_invalid(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        Calibration(**kwargs)


@pytest.mark.parametrize(
    ("status", "has_homography", "valid"),
    [
        (CalibrationStatus.OK, True, True),
        (CalibrationStatus.PROPAGATED, True, True),
        (CalibrationStatus.INTERPOLATED, True, True),
        (CalibrationStatus.FAILED, True, False),
        (CalibrationStatus.NO_PITCH, True, False),
        (CalibrationStatus.FAILED, False, False),
        (CalibrationStatus.NO_PITCH, False, False),
    ],
)
def test_is_valid(status: CalibrationStatus, has_homography: bool, valid: bool) -> None:
    cal = Calibration(np.eye(3) if has_homography else None, status=status)
    assert cal.is_valid is valid
    out = cal.image_to_pitch([[1.0, 2.0]])
    assert bool(np.isnan(out).all()) is (not valid)
    assert bool(np.isnan(cal.pitch_to_image([[1.0, 2.0]])).all()) is (not valid)
    if valid:
        np.testing.assert_array_equal(out, [[1.0, 2.0]])


def test_uncalibrated() -> None:
    cal = Calibration.uncalibrated("no_pitch", image_size=(1280, 720), cut=True)
    assert cal.homography is None and cal.pitch_to_image_matrix is None
    assert cal.confidence == 0.0 and cal.status is CalibrationStatus.NO_PITCH and cal.cut
    assert not cal.is_valid
    assert Calibration.uncalibrated().status is CalibrationStatus.FAILED
    with pytest.raises(DataError, match="needs a homography"):
        Calibration.uncalibrated(CalibrationStatus.OK)
    with pytest.raises(DataError, match="status: expected one of"):
        Calibration.uncalibrated("nope")


def test_known_mapping_and_from_pitch_to_image() -> None:
    h_p2i = camera_homography()
    cal = Calibration.from_pitch_to_image(h_p2i, confidence=0.9, image_size=(1920, 1080))
    corners = np.array([[0, 0], [105, 0], [105, 68], [0, 68], [52.5, 34]], dtype=float)
    homogeneous = np.c_[corners, np.ones(5)] @ h_p2i.T
    expected = homogeneous[:, :2] / homogeneous[:, 2:]
    np.testing.assert_allclose(cal.pitch_to_image(corners), expected, rtol=1e-12)
    np.testing.assert_allclose(cal.image_to_pitch(expected), corners, atol=1e-9)
    # The centre of the pitch is where the camera looks: the image centre.
    np.testing.assert_allclose(cal.pitch_to_image([[52.5, 34]]), [[960, 540]], atol=1e-9)
    assert cal.pitch_to_image_matrix is not None and cal.pitch_to_image_matrix[2, 2] == 1.0
    np.testing.assert_allclose(
        cal.pitch_to_image_matrix, h_p2i / h_p2i[2, 2], rtol=1e-9, atol=1e-12
    )
    with pytest.raises(DataError, match="from_pitch_to_image: singular"):
        Calibration.from_pitch_to_image(np.zeros((3, 3)))


def test_points_at_infinity_are_nan() -> None:
    # w = x - 100: image points on the line x = 100 map to infinity.
    cal = Calibration(np.array([[1.0, 0, 0], [0, 1, 0], [1, 0, -100]]))
    out = cal.image_to_pitch([[100.0, 5.0], [50.0, 5.0], [np.nan, 1.0]])
    assert np.isnan(out[0]).all() and np.isnan(out[2]).all()
    np.testing.assert_allclose(out[1], [50 / -50, 5 / -50])


@pytest.mark.parametrize("points", [[1.0, 2.0], [[1.0, 2.0, 3.0]], "x"])
def test_mapping_rejects_bad_point_shapes(points: Any) -> None:
    with pytest.raises(DataError, match="image_to_pitch"):
        scale_calibration().image_to_pitch(points)


@settings(max_examples=200, deadline=None)
@given(h_p2i=cameras, points=pitch_points)
def test_pitch_image_round_trip_realistic_cameras(h_p2i: np.ndarray, points: np.ndarray) -> None:
    cal = Calibration.from_pitch_to_image(h_p2i)
    w = np.c_[points, np.ones(len(points))] @ h_p2i[2]
    assume(np.abs(w).min() > 1e-6 * np.abs(w).max())
    image = cal.pitch_to_image(points)
    np.testing.assert_allclose(cal.image_to_pitch(image), points, rtol=1e-9, atol=1e-7)


@settings(max_examples=200, deadline=None)
@given(
    matrix=st.lists(st.floats(-1, 1), min_size=9, max_size=9).map(
        lambda v: np.reshape(v, (3, 3)) + 2 * np.eye(3)
    ),
    points=st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=1, max_size=10).map(
        lambda p: np.array(p, dtype=float)
    ),
)
def test_round_trip_generic_homographies(matrix: np.ndarray, points: np.ndarray) -> None:
    assume(np.linalg.cond(matrix) < 1e3)
    w = np.c_[points, np.ones(len(points))] @ matrix[2]
    assume(np.abs(w).min() > 0.1)
    cal = Calibration(matrix)
    pitch = cal.image_to_pitch(points)
    np.testing.assert_allclose(cal.pitch_to_image(pitch), points, rtol=1e-9, atol=1e-9)
    image = cal.pitch_to_image(points)
    back = cal.image_to_pitch(image)
    finite = np.isfinite(image).all(axis=1) & (np.abs(image).max(axis=1) < 1e6)
    np.testing.assert_allclose(back[finite], points[finite], rtol=1e-7, atol=1e-7)


@settings(max_examples=150, deadline=None)
@given(
    h_p2i=cameras,
    points=pitch_points,
    new_size=st.tuples(st.integers(16, 8000), st.integers(16, 8000)),
)
def test_rescaled_is_consistent_with_scaling_points(
    h_p2i: np.ndarray, points: np.ndarray, new_size: tuple[int, int]
) -> None:
    cal = Calibration.from_pitch_to_image(h_p2i, image_size=(1920, 1080), confidence=0.7)
    w = np.c_[points, np.ones(len(points))] @ h_p2i[2]
    assume(np.abs(w).min() > 1e-6 * np.abs(w).max())
    small = cal.rescaled(new_size)
    scale = np.array([new_size[0] / 1920, new_size[1] / 1080])
    image = cal.pitch_to_image(points)
    assert small.image_size == new_size
    assert (small.confidence, small.status, small.cut) == (cal.confidence, cal.status, cal.cut)
    np.testing.assert_allclose(small.pitch_to_image(points), image * scale, rtol=1e-9)
    np.testing.assert_allclose(small.image_to_pitch(image * scale), points, rtol=1e-9, atol=1e-7)
    back = small.rescaled((1920, 1080))
    np.testing.assert_allclose(back.homography, cal.homography, rtol=1e-12, atol=1e-15)


def test_rescaled_exact_and_errors() -> None:
    cal = scale_calibration(image_size=(1920, 1080))
    half = cal.rescaled((960, 540))
    np.testing.assert_array_equal(half.homography, np.diag([0.2, 0.2, 1.0]))
    unc = Calibration.uncalibrated(image_size=(100, 100)).rescaled((50, 50))
    assert unc.homography is None and unc.image_size == (50, 50)
    with pytest.raises(DataError, match="image_size is unknown"):
        scale_calibration().rescaled((10, 10))
    with pytest.raises(DataError, match="rescaled: expected positive"):
        cal.rescaled((0, 10))


@settings(max_examples=150, deadline=None)
@given(
    h_p2i=cameras,
    confidence=st.floats(0, 1),
    status=st.sampled_from(list(CalibrationStatus)),
    image_size=st.none() | st.tuples(st.integers(1, 10_000), st.integers(1, 10_000)),
    cut=st.booleans(),
)
def test_calibration_dict_round_trip_is_exact(
    h_p2i: np.ndarray,
    confidence: float,
    status: CalibrationStatus,
    image_size: tuple[int, int] | None,
    cut: bool,
) -> None:
    cal = Calibration.from_pitch_to_image(
        h_p2i, confidence=confidence, status=status, image_size=image_size, cut=cut
    )
    d = cal.to_dict()
    assert d["status"] == status.value and isinstance(d["homography"], list)
    back = Calibration.from_dict(json.loads(json.dumps(d)))
    assert back == cal
    assert back.homography is not None and cal.homography is not None
    assert back.homography.tobytes() == cal.homography.tobytes()


def test_calibration_dict_of_uncalibrated_and_errors() -> None:
    cal = Calibration.uncalibrated("no_pitch", image_size=(64, 48), cut=True)
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    minimal = Calibration.from_dict({"homography": None, "confidence": 0, "status": "failed"})
    assert minimal == Calibration.uncalibrated()
    with pytest.raises(DataError, match=r"missing keys \['status'\]"):
        Calibration.from_dict({"homography": None, "confidence": 0})
    with pytest.raises(DataError, match=r"unknown keys \['imagesize'\]"):
        Calibration.from_dict({**cal.to_dict(), "imagesize": [1, 1]})
    with pytest.raises(DataError, match="expected a dict"):
        Calibration.from_dict([1, 2])


def test_calibration_equality() -> None:
    a = scale_calibration(confidence=0.5)
    assert a == scale_calibration(confidence=0.5)
    assert a != scale_calibration(confidence=0.6)
    assert a != scale_calibration(confidence=0.5, cut=True)
    assert a != scale_calibration(px_per_m=11, confidence=0.5)
    assert a != Calibration.uncalibrated()
    assert Calibration.uncalibrated() == Calibration.uncalibrated()


# --------------------------------------------------------------------------------------------
# Tracks: schema and construction
# --------------------------------------------------------------------------------------------


def make_tracks_df(n_frames: int = 3, n_tracks: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame, track = np.meshgrid(np.arange(n_frames), np.arange(n_tracks), indexing="ij")
    n = frame.size
    xy = rng.uniform(0, 1000, (n, 2))
    class_id = rng.integers(0, 4, n)
    return pd.DataFrame(
        {
            "frame": frame.ravel(),
            "time": frame.ravel() / 25.0,
            "track_id": track.ravel() + 1,
            "class_id": class_id,
            "class_name": [CLASS_NAMES[i] for i in class_id],
            "team": rng.integers(-1, 2, n),
            "x1": xy[:, 0],
            "y1": xy[:, 1],
            "x2": xy[:, 0] + 10,
            "y2": xy[:, 1] + 30,
            "foot_x": xy[:, 0] + 5,
            "foot_y": xy[:, 1] + 30,
            "pitch_x": rng.uniform(0, 105, n),
            "pitch_y": np.where(rng.uniform(size=n) < 0.3, np.nan, rng.uniform(0, 68, n)),
            "confidence": rng.uniform(size=n),
            "track_confidence": np.nan,
            "calib_confidence": 0.8,
        }
    )


def test_track_columns_schema() -> None:
    assert TRACK_COLUMN_NAMES == (
        "frame",
        "time",
        "track_id",
        "class_id",
        "class_name",
        "team",
        "x1",
        "y1",
        "x2",
        "y2",
        "foot_x",
        "foot_y",
        "pitch_x",
        "pitch_y",
        "confidence",
        "track_confidence",
        "calib_confidence",
    )
    assert all(isinstance(c, Column) and c.description for c in TRACK_COLUMNS)
    units = {c.name: c.unit for c in TRACK_COLUMNS}
    assert units["time"] == "s" and units["x1"] == "px" and units["pitch_x"] == "m"
    dtypes = Tracks.empty().df.dtypes
    for col in TRACK_COLUMNS:
        assert pd.api.types.pandas_dtype(col.dtype) == dtypes[col.name], col.name


def test_tracks_coerce_sort_and_keep_extras() -> None:
    df = make_tracks_df()
    df["speed"] = np.arange(len(df), dtype=np.float64)
    df = df.iloc[::-1]  # reversed order, non-RangeIndex
    df = df[["speed", *reversed(TRACK_COLUMN_NAMES)]]  # extras first, canonical reversed
    before = df.copy()
    tracks = Tracks(df, fps=25, image_size=(1920, 1080), meta={"source": "x.mp4", "k": (1, 2)})
    out = tracks.df
    assert list(out.columns) == [*TRACK_COLUMN_NAMES, "speed"]
    assert out.index.equals(pd.RangeIndex(len(df)))
    assert out["frame"].is_monotonic_increasing
    assert out["track_id"].tolist()[:4] == [1, 2, 3, 4]
    assert out["speed"].tolist() == list(range(len(df)))  # extras follow their rows
    for col in TRACK_COLUMNS:
        assert out[col.name].dtype == pd.api.types.pandas_dtype(col.dtype)
    pd.testing.assert_frame_equal(df, before)  # the input is untouched
    assert tracks.fps == 25.0 and isinstance(tracks.fps, float)
    assert tracks.meta.to_dict() == {"source": "x.mp4", "k": [1, 2]}
    assert tracks.meta.source == "x.mp4" and tracks.meta.extra == {"k": [1, 2]}
    assert len(tracks) == 12
    np.testing.assert_array_equal(tracks.frames, [0, 1, 2])
    np.testing.assert_array_equal(tracks.track_ids, [1, 2, 3, 4])
    copy = tracks.to_dataframe()
    copy.loc[0, "x1"] = -1
    assert tracks.df.loc[0, "x1"] != -1
    assert "rows=12" in repr(tracks)


def _modified(column: str, value: Any, row: int = 0) -> pd.DataFrame:
    df = make_tracks_df()
    df[column] = df[column].astype(object)
    df.loc[row, column] = value
    return df


@pytest.mark.parametrize(
    ("df", "match"),
    [
        (make_tracks_df().drop(columns=["x1", "team"]), r"missing columns \['team', 'x1'\]"),
        (pd.DataFrame({"frame": [1]}), r"missing columns \['time', 'track_id'"),
        (
            pd.concat([make_tracks_df(), make_tracks_df().iloc[[5]]]),
            r"duplicate \(frame, track_id\) = \(1, 2\)",
        ),
        (_modified("team", 2), r"column 'team': expected -1 \(unknown\), 0 or 1, got 2 at row"),
        (_modified("frame", 1.5), r"column 'frame': expected int64, got 1.5"),
        (_modified("frame", np.nan), r"column 'frame': expected int64, got nan"),
        (_modified("x1", "left"), r"column 'x1': expected float32, got values that are not num"),
        (
            _modified("class_id", 40_000),
            r"column 'class_id': value 40000 at row 0 does not fit in int16",
        ),
        (_modified("team", -200), r"column 'team': value -200 at row 0 does not fit in int8"),
        (_modified("class_name", None, row=3), r"column 'class_name': missing value at row 3"),
        (
            make_tracks_df().set_axis([*TRACK_COLUMN_NAMES[:-1], "frame"], axis=1),
            r"duplicate column names \['frame'\]",
        ),
    ],
)
def test_tracks_invalid_tables(df: pd.DataFrame, match: str) -> None:
    with pytest.raises(DataError, match=match):
        Tracks(df)


def test_tracks_duplicate_message_counts_all() -> None:
    df = pd.concat([make_tracks_df()] * 2)
    with pytest.raises(DataError, match=r"\(0, 1\).*12 duplicate rows in all"):
        Tracks(df)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fps": 0}, "Tracks.fps: expected a positive"),
        ({"fps": math.nan}, "Tracks.fps: expected a positive"),
        ({"fps": "fast"}, "Tracks.fps: expected a number"),
        ({"image_size": (1920,)}, r"Tracks.image_size: expected \(width, height\)"),
        ({"pitch_size": (-105, 68)}, "Tracks.pitch_size: expected positive metres"),
        ({"pitch_size": None}, r"Tracks.pitch_size: expected \(length, width\)"),
        ({"meta": {"x": math.nan}}, "Tracks.meta: not JSON-serialisable"),
        ({"meta": {"x": object()}}, "Tracks.meta: not JSON-serialisable"),
        ({"meta": {1: "x"}}, "Tracks.meta: keys must be strings"),
        ({"meta": [1]}, "Tracks.meta: expected a dict"),
    ],
)
def test_tracks_invalid_metadata(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        Tracks.empty(**kwargs)


def test_tracks_rejects_non_dataframe() -> None:
    with pytest.raises(DataError, match="expected a pandas DataFrame, got dict"):
        Tracks({"frame": [1]})


def test_tracks_equality() -> None:
    a = Tracks(make_tracks_df(), fps=25)
    assert a == Tracks(make_tracks_df(), fps=25)
    assert a != Tracks(make_tracks_df(), fps=30)
    assert a != Tracks(make_tracks_df(seed=1), fps=25)
    assert a != Tracks(make_tracks_df(), fps=25, meta={"a": 1})
    assert Tracks.empty() == Tracks.empty()


# --------------------------------------------------------------------------------------------
# Tracks: builder and per-frame access
# --------------------------------------------------------------------------------------------


def test_builder_fills_every_column() -> None:
    cal = scale_calibration(confidence=0.75)
    dets = Detections(
        xyxy=[[100, 0, 120, 50], [200, 200, 210, 210]],
        confidence=[0.9, 0.4],
        class_id=[ObjectClass.GOALKEEPER, ObjectClass.BALL],
        tracker_id=[8, 3],
        data={"team": [1, -1], "track_confidence": [0.5, 0.25], "ignored": [1, 2]},
    )
    builder = TracksBuilder()
    builder.add(10, 0.4, dets, cal)
    builder.add(9, 0.36, dets[:1], Calibration.uncalibrated())
    builder.add(11, 0.44, Detections(xyxy=[[0, 0, 10, 10]], tracker_id=[8]))
    builder.add(
        12, 0.48, Detections(xyxy=[[0, 0, 10, 10]], tracker_id=[8], data={"pitch_xy": [[1, 2]]})
    )
    builder.add(13, 0.52, Detections.empty())  # no tracker ids needed when empty
    assert len(builder) == 5
    tracks = builder.build(fps=25.0, image_size=(1920, 1080))
    df = tracks.df
    assert list(df.columns) == list(TRACK_COLUMN_NAMES)
    assert df["frame"].tolist() == [9, 10, 10, 11, 12]
    assert df["track_id"].tolist() == [8, 3, 8, 8, 8]
    assert df["time"].tolist() == [0.36, 0.4, 0.4, 0.44, 0.48]
    assert df["class_id"].tolist() == [1, 3, 1, -1, -1]
    assert df["class_name"].tolist() == ["goalkeeper", "ball", "goalkeeper", "unknown", "unknown"]
    assert df["team"].tolist() == [1, -1, 1, -1, -1]
    assert df[["foot_x", "foot_y"]].to_numpy().tolist() == [
        [110, 50],
        [205, 205],
        [110, 50],
        [5, 10],
        [5, 10],
    ]
    pitch = df[["pitch_x", "pitch_y"]].to_numpy()
    assert np.isnan(pitch[[0, 3]]).all()
    np.testing.assert_allclose(pitch[[1, 2, 4]], [[20.5, 20.5], [11, 5], [1, 2]], rtol=1e-6)
    np.testing.assert_allclose(df["confidence"], [0.9, 0.4, 0.9, np.nan, np.nan], rtol=1e-6)
    np.testing.assert_allclose(df["track_confidence"], [0.5, 0.25, 0.5, np.nan, np.nan])
    np.testing.assert_allclose(df["calib_confidence"], [np.nan, 0.75, 0.75, np.nan, np.nan])
    np.testing.assert_array_equal(tracks.frames, [9, 10, 11, 12])


def test_frame_gives_detections_back() -> None:
    cal = scale_calibration()
    dets = make_detections(6)  # tracker ids 100..105, in order
    del dets.data["label"], dets.data["pitch_xy"]
    tracks = Tracks.from_frames([(0, 0.0, dets, cal), (2, 0.08, dets[::2])])
    got = tracks.frame(0)
    assert len(got) == 6
    np.testing.assert_array_equal(got.xyxy, dets.xyxy)
    np.testing.assert_array_equal(got.confidence, dets.confidence)
    np.testing.assert_array_equal(got.class_id, dets.class_id)
    np.testing.assert_array_equal(got.tracker_id, dets.tracker_id)
    np.testing.assert_array_equal(got.data["team"], dets.data["team"])
    np.testing.assert_allclose(got.data["pitch_xy"], dets.to_pitch(cal), rtol=1e-6)
    assert np.isnan(got.data["track_confidence"]).all()
    assert got.embedding is None
    assert len(tracks.frame(2)) == 3 and np.isnan(tracks.frame(2).data["pitch_xy"]).all()
    absent = tracks.frame(1)
    assert len(absent) == 0 and absent.data["pitch_xy"].shape == (0, 2)
    assert tracks.frame(0, class_names=("a", "b", "c", "d")).class_names == ("a", "b", "c", "d")


@pytest.mark.parametrize(
    ("dets", "match"),
    [
        (Detections(xyxy=np.zeros((1, 4))), "no tracker_id; run a tracker first"),
        (Detections(xyxy=np.zeros((1, 4)), tracker_id=[1], class_id=[9]), "class id 9"),
        (
            Detections(xyxy=np.zeros((1, 4)), tracker_id=[1], data={"team": [[1, 1]]}),
            r"data\['team'\] expected shape \(1,\), got \(1, 2\)",
        ),
        (
            Detections(xyxy=np.zeros((1, 4)), tracker_id=[1], data={"pitch_xy": [1.0]}),
            r"data\['pitch_xy'\] expected shape \(1, 2\), got \(1,\)",
        ),
    ],
)
def test_builder_errors(dets: Detections, match: str) -> None:
    with pytest.raises(DataError, match=match):
        TracksBuilder().add(0, 0.0, dets)


def test_builder_duplicate_frame_fails_at_build() -> None:
    builder = TracksBuilder()
    dets = Detections(xyxy=np.zeros((1, 4)), tracker_id=[4])
    builder.add(7, 0.0, dets)
    builder.add(7, 0.0, dets)
    with pytest.raises(DataError, match=r"duplicate \(frame, track_id\) = \(7, 4\)"):
        builder.build()
    with pytest.raises(DataError, match="frame must be an integer"):
        builder.add(1.5, 0.0, dets)


def test_builder_zero_length() -> None:
    assert TracksBuilder().build() == Tracks.empty()
    built = Tracks.from_frames([(0, 0.0, Detections.empty())], fps=30.0)
    assert built == Tracks.empty(fps=30.0)
    assert len(built.frames) == 0 and len(built.track_ids) == 0
    assert len(built.frame(0)) == 0


# --------------------------------------------------------------------------------------------
# Tracks: files
# --------------------------------------------------------------------------------------------

SUFFIXES = [".parquet", ".pq", ".csv", ".csv.gz"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_file_round_trip_with_metadata(tmp_path: Path, suffix: str) -> None:
    tracks = Tracks(
        make_tracks_df(),
        fps=29.97,
        image_size=(1280, 720),
        pitch_size=(100.0, 64.0),
        meta={"source": "match.mp4", "nested": {"a": [1, 2.5, None]}},
    )
    path = tracks.write(tmp_path / f"tracks{suffix}")
    back = read_tracks(path)
    assert back == tracks
    pd.testing.assert_frame_equal(back.df, tracks.df)
    assert back.fps == 29.97 and back.image_size == (1280, 720)
    assert back.pitch_size == (100.0, 64.0) and back.meta == tracks.meta
    assert Tracks.read(path) == tracks
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_empty_file_round_trip(tmp_path: Path, suffix: str) -> None:
    tracks = Tracks.empty()
    back = read_tracks(tracks.write(tmp_path / f"empty{suffix}"))
    assert back == tracks and len(back) == 0


def test_parquet_metadata_layout_and_extras(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    df = make_tracks_df()
    df["speed"] = np.linspace(0, 1, len(df)).astype(np.float16)
    df["note"] = pd.array(["a", None] * (len(df) // 2), dtype="string")
    tracks = Tracks(df, fps=50.0)
    path = tracks.to_parquet(tmp_path / "t.parquet")
    stored = json.loads(pq.read_schema(path).metadata[PARQUET_METADATA_KEY])
    assert stored == {
        "schema_version": TRACKS_SCHEMA_VERSION,
        "fps": 50.0,
        "image_size": None,
        "pitch_size": [105.0, 68.0],
        "meta": {},
    }
    back = read_tracks(path)
    assert back == tracks and back.df["speed"].dtype == np.float16


def test_csv_is_plain_with_sidecar(tmp_path: Path) -> None:
    df = make_tracks_df(1, 2)
    df["count"] = [3, 4]
    tracks = Tracks(df, fps=25.0)
    path = tracks.to_csv(tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join([*TRACK_COLUMN_NAMES, "count"])
    assert len(lines) == 3
    sidecar = csv_meta_path(path)
    assert sidecar == tmp_path / "t.csv.meta.json"
    assert json.loads(sidecar.read_text())["fps"] == 25.0
    assert read_tracks(path) == tracks
    # Without the sidecar, the table still reads (default metadata).
    sidecar.unlink()
    plain = read_tracks(path)
    assert plain.fps is None and plain.df.equals(tracks.df)


def test_csv_keeps_awkward_class_names(tmp_path: Path) -> None:
    names = ["", "NA", "null", "nan", "a,b", 'say "hi"', "line\nbreak", "12", " pad "]
    df = make_tracks_df(1, len(names))
    df["class_name"] = names
    tracks = Tracks(df)
    assert read_tracks(tracks.to_csv(tmp_path / "t.csv")).df["class_name"].tolist() == names


def test_csv_refuses_carriage_returns(tmp_path: Path) -> None:
    df = make_tracks_df(1, 2)
    df["note"] = ["ok", "a\rb"]
    with pytest.raises(DataError, match=r"column 'note' holds a carriage return"):
        Tracks(df).to_csv(tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_a_stale_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    Tracks.empty(fps=25.0, meta={"run": 1}).to_csv(path)
    Tracks.empty().to_csv(path)
    back = read_tracks(path)
    assert back.fps is None and back.meta.to_dict() == {}


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    df = make_tracks_df(1, 1)
    df["obj"] = [object()]
    with pytest.raises(DataError, match="cannot convert the tracks table to Arrow"):
        Tracks(df).to_parquet(tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


def _write_newer_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(Tracks.empty().df, preserve_index=False)
    table = table.replace_schema_metadata({PARQUET_METADATA_KEY: b'{"schema_version": 99}'})
    pq.write_table(table, path)


@pytest.mark.parametrize(
    ("name", "setup", "match"),
    [
        ("t.txt", None, r"t.txt: unsupported tracks file suffix"),
        ("missing.parquet", None, r"missing.parquet: no such file"),
        ("missing.csv.gz", None, r"missing.csv.gz: no such file"),
        (
            "bad.parquet",
            lambda p: p.write_text("not parquet"),
            r"bad.parquet: not a readable Parquet",
        ),
        ("bad.csv.gz", lambda p: p.write_text("not gzip"), r"bad.csv.gz: not a readable CSV"),
        ("empty.csv", lambda p: p.write_text(""), r"empty.csv: not a readable CSV"),
        (
            "cols.csv",
            lambda p: make_tracks_df().drop(columns=["pitch_x"]).to_csv(p, index=False),
            r"cols.csv: Tracks: missing columns \['pitch_x'\]",
        ),
        (
            "dtype.csv",
            lambda p: _modified("track_id", "seven").to_csv(p, index=False),
            r"dtype.csv: column 'track_id': expected int64, got values that are not numbers",
        ),
        (
            "dtype.parquet",
            lambda p: _modified("team", 0.5).astype({"team": float}).to_parquet(p),
            r"dtype.parquet: column 'team': expected int8, got 0.5",
        ),
        ("newer.parquet", _write_newer_parquet, r"newer.parquet: tracks schema version 99"),
    ],
)
def test_read_errors_name_the_file(tmp_path: Path, name: str, setup: Any, match: str) -> None:
    path = tmp_path / name
    if setup is not None:
        setup(path)
    with pytest.raises(DataError, match=match):
        read_tracks(path)


@pytest.mark.parametrize(
    ("sidecar", "match"),
    [
        ("{not json", r"t.csv.meta.json: invalid metadata sidecar"),
        ("[1, 2]", r"t.csv.meta.json: metadata must be a JSON object"),
        ('{"schema_version": 2}', r"t.csv.meta.json: tracks schema version 2 is not supported"),
        ('{"fps": -1}', r"t.csv: Tracks.fps: expected a positive frame rate"),
    ],
)
def test_read_errors_in_the_sidecar(tmp_path: Path, sidecar: str, match: str) -> None:
    path = Tracks.empty().to_csv(tmp_path / "t.csv")
    csv_meta_path(path).write_text(sidecar)
    with pytest.raises(DataError, match=match):
        read_tracks(path)


float32s = st.floats(width=32, allow_nan=True, allow_infinity=True)


@st.composite
def tracks_tables(draw: st.DrawFn) -> Tracks:
    keys = draw(
        st.lists(
            st.tuples(st.integers(0, 2**40), st.integers(-(2**62), 2**62)),
            max_size=12,
            unique=True,
        )
    )
    n = len(keys)
    floats = {
        name: draw(st.lists(float32s, min_size=n, max_size=n))
        for name in TRACK_COLUMN_NAMES
        if name.startswith(("x", "y", "foot", "pitch")) or name.endswith("confidence")
    }
    df = pd.DataFrame(
        {
            "frame": [k[0] for k in keys],
            "time": draw(st.lists(st.floats(allow_infinity=False), min_size=n, max_size=n)),
            "track_id": [k[1] for k in keys],
            "class_id": draw(st.lists(st.integers(-(2**15), 2**15 - 1), min_size=n, max_size=n)),
            "class_name": draw(
                st.lists(
                    st.text(
                        st.characters(exclude_categories=("Cs",), exclude_characters="\r"),
                        max_size=8,
                    ),
                    min_size=n,
                    max_size=n,
                )
            ),
            "team": draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n)),
            **{name: np.array(values, dtype=np.float32) for name, values in floats.items()},
        }
    )
    fps = draw(st.none() | st.floats(0.5, 240))
    free_keys = st.text(max_size=5).filter(lambda k: k not in META_KEYS)  # typed ones aside
    meta = draw(st.dictionaries(free_keys, st.integers() | st.text(max_size=5)))
    return Tracks(df, fps=fps, meta=meta)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tracks=tracks_tables(), suffix=st.sampled_from(SUFFIXES))
def test_file_round_trips_are_exact(tracks: Tracks, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        back = read_tracks(tracks.write(Path(tmp) / f"tracks{suffix}"))
    assert back == tracks
    for name in TRACK_COLUMN_NAMES:
        if tracks.df[name].dtype.kind == "f":
            # Bit-exact floats (-0.0 included); NaN stays NaN.
            got, want = back.df[name].to_numpy(), tracks.df[name].to_numpy()
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            assert got[~np.isnan(got)].tobytes() == want[~np.isnan(want)].tobytes()
