"""Narya homography and keypoint datasets: conventions, round trips, conversions, bad files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.datasets.narya import (
    HOMOGRAPHY_SUFFIX,
    NARYA_KEYPOINT_NAMES,
    NaryaKeypoints,
    iter_narya_homography_dataset,
    iter_narya_keypoint_dataset,
    keypoint_label_to_narya,
    load_narya_homography_npy,
    narya_keypoint_pitch_points,
    narya_template_pixels,
    narya_to_keypoint_label,
    narya_to_pitch_homography,
    pitch_to_narya_homography,
    read_narya_homography,
    read_narya_keypoints,
    write_narya_homography,
    write_narya_keypoints,
)
from touchline.datasets.yolo_pose import KeypointLabel, fit_label_homography
from touchline.errors import DataError
from touchline.geometry.homography import apply_homography
from touchline.pitch import DFL_KEYPOINTS, Pitch, convert
from touchline.synth.camera import PinholeCamera

SIZE = (1280, 720)


@pytest.fixture(scope="module")
def cam() -> PinholeCamera:
    return PinholeCamera.look_at(
        (40.0, 105.0, -18.0), (45.0, 34.0, 0.0), focal=1400.0, image_size=SIZE
    )


def _pitch_grid() -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(20, 70, 6), np.linspace(5, 63, 5))
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _image(size: tuple[int, int] = SIZE) -> np.ndarray:
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (30, 140, 60)
    return img


# ------------------------------------------------------------------------------------------
# Homography dataset
# ------------------------------------------------------------------------------------------
def test_written_matrix_follows_narya_normalised_convention(tmp_path: Path, cam: PinholeCamera):
    """Checked from first principles: normalised frame -> normalised template, H[2,2] == 1."""
    img, npy = write_narya_homography(tmp_path, "f1", _image(), cam.image_to_pitch)
    assert (img.name, npy.name) == ("f1.jpg", "f1" + HOMOGRAPHY_SUFFIX)
    Hn = np.load(npy)
    assert Hn.shape == (3, 3) and Hn[2, 2] == 1.0
    P = _pitch_grid()
    px = cam.project(np.c_[P, np.zeros(len(P))])
    frame_norm = px / SIZE - 0.5
    template_norm = P / (105.0, 68.0) - 0.5
    np.testing.assert_allclose(apply_homography(Hn, frame_norm), template_norm, atol=1e-9)
    # Narya's lower-image corners land on the pitch (near half of the image shows the pitch).
    corners = apply_homography(Hn, [[-0.5, 0.1], [-0.5, 0.5], [0.5, 0.5], [0.5, 0.1]])
    assert np.all(np.abs(corners) < 0.6)


def test_homography_round_trip(tmp_path: Path, cam: PinholeCamera):
    write_narya_homography(tmp_path, "f1", _image(), cam.image_to_pitch)
    for path in (tmp_path / "f1.jpg", tmp_path / "f1_homo.npy"):
        image, cal = read_narya_homography(path)
        assert image == tmp_path / "f1.jpg"
        assert cal.image_size == SIZE
        np.testing.assert_allclose(cal.homography, cam.image_to_pitch, rtol=1e-9, atol=1e-12)
        P = _pitch_grid()
        np.testing.assert_allclose(
            cal.pitch_to_image(P), cam.project(np.c_[P, np.zeros(len(P))]), atol=1e-6
        )


def test_matrix_is_resolution_independent(tmp_path: Path, cam: PinholeCamera):
    """A 320x180 copy of a 1280x720 frame: the stored matrix is the same, the reader gives
    the calibration of the smaller image."""
    _, npy_small = write_narya_homography(
        tmp_path, "small", _image((320, 180)), cam.image_to_pitch, image_size=SIZE
    )
    _, npy_big = write_narya_homography(tmp_path, "big", _image(), cam.image_to_pitch)
    np.testing.assert_allclose(np.load(npy_small), np.load(npy_big), atol=1e-12)
    _, cal = read_narya_homography(npy_small)
    assert cal.image_size == (320, 180)
    p = np.array([[400.0, 500.0], [1000.0, 300.0]])
    np.testing.assert_allclose(
        cal.image_to_pitch(p / 4), apply_homography(cam.image_to_pitch, p), atol=1e-9
    )
    _, cal_big = read_narya_homography(npy_small, image_size=SIZE)
    np.testing.assert_allclose(cal_big.homography, cam.image_to_pitch, rtol=1e-9, atol=1e-12)


def test_wc14_yard_homography_converts_through_coordinate_system():
    """A sportsfield_release-style matrix built from a pixels -> WC14 yards homography."""
    H_yards = np.array([[0.08, 0.01, 2.0], [0.002, 0.15, -10.0], [1e-5, 4e-4, 1.0]])
    S = np.array([[SIZE[0], 0, SIZE[0] / 2], [0, SIZE[1], SIZE[1] / 2], [0, 0, 1]])
    N_inv = np.array([[1 / 115, 0, -0.5], [0, 1 / 74, -0.5], [0, 0, 1]])
    Hn = N_inv @ H_yards @ S
    H = narya_to_pitch_homography(Hn / Hn[2, 2], SIZE)
    p = np.array([[100.0, 600.0], [640.0, 360.0], [1200.0, 500.0]])
    expected = convert(apply_homography(H_yards, p), "wc14", "touchline")
    np.testing.assert_allclose(apply_homography(H, p), expected, atol=1e-9)
    # Another pitch size stretches the template onto it.
    big = Pitch.of_size(110, 75)
    H2 = narya_to_pitch_homography(Hn, SIZE, big)
    expected2 = convert(apply_homography(H_yards, p), "wc14", "touchline", pitch=big)
    np.testing.assert_allclose(apply_homography(H2, p), expected2, atol=1e-9)
    np.testing.assert_allclose(pitch_to_narya_homography(H2, SIZE, big), Hn / Hn[2, 2])


def test_separate_folders_and_batched_shape(tmp_path: Path, cam: PinholeCamera):
    imgs, homos = tmp_path / "img", tmp_path / "homo"
    for name in ("b", "a"):
        write_narya_homography(
            imgs, name, _image((64, 36)), cam.image_to_pitch, SIZE, homo_dir=homos
        )
    assert sorted(p.name for p in homos.iterdir()) == ["a_homo.npy", "b_homo.npy"]
    np.save(homos / "a_homo.npy", np.load(homos / "a_homo.npy")[None] * 3.0)  # (1, 3, 3), scaled
    samples = list(iter_narya_homography_dataset(imgs, homos, image_size=SIZE))
    assert [s.image.name for s in samples] == ["a.jpg", "b.jpg"]
    for s in samples:
        np.testing.assert_allclose(
            s.calibration.homography, cam.image_to_pitch, rtol=1e-9, atol=1e-12
        )
    _, cal = read_narya_homography(homos / "b_homo.npy", images_dir=imgs)
    assert cal.image_size == (64, 36)


def test_write_from_image_files(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    img = _image((40, 30))
    cv2.imwrite(str(src / "x.jpg"), img)
    cv2.imwrite(str(src / "y.png"), img)
    H = np.diag([105 / 40, 68 / 30, 1.0])
    out_jpg, _ = write_narya_homography(tmp_path / "out", "x", src / "x.jpg", H)
    assert out_jpg.read_bytes() == (src / "x.jpg").read_bytes()
    out_png, _ = write_narya_homography(tmp_path / "out", "y", src / "y.png", H)
    assert out_png.suffix == ".jpg" and cv2.imread(str(out_png)).shape == (30, 40, 3)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "y_homo.npy"), np.eye(3), atol=1e-12)
    with pytest.raises(DataError, match=r"nope.jpg"):
        write_narya_homography(tmp_path / "out", "z", src / "nope.jpg", H)
    with pytest.raises(DataError, match=r"z_homo.npy"):
        write_narya_homography(tmp_path / "out", "z", img, np.eye(2))
    with pytest.raises(DataError, match=r"z.jpg"):
        write_narya_homography(tmp_path / "out", "z", img.astype(np.float32), H)


def _sample_with_npy(tmp_path: Path, value: object) -> Path:
    cv2.imwrite(str(tmp_path / "s.jpg"), _image((16, 9)))
    npy = tmp_path / "s_homo.npy"
    if isinstance(value, bytes):
        npy.write_bytes(value)
    else:
        np.save(npy, value, allow_pickle=True)
    return npy


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (np.eye(3)[:2], "shape"),
        (np.ones((2, 3, 3)), "shape"),
        (np.array([[1, 0, 0], [0, np.nan, 0], [0, 0, 1]]), "non-finite"),
        (np.array([[1, 0, 0], [0, 1, 0], [0, 0, np.inf]]), "non-finite"),
        (np.array([[1.0, 0, 0], [0, 1, 0], [0.1, 0, 0]]), r"H\[2, 2\] == 0"),
        (np.array([[0.0, 0, 0], [0, 0, 0], [0, 0, 1]]), "singular"),
        (np.array(["a"] * 9).reshape(3, 3), "numeric"),
        (np.array([{"h": 1}], dtype=object), "npy"),
        (b"not an npy file", "npy"),
    ],
)
def test_bad_homography_files(tmp_path: Path, value: object, problem: str):
    _sample_with_npy(tmp_path, value)
    with pytest.raises(DataError, match=problem) as err:
        read_narya_homography(tmp_path / "s.jpg")
    assert "s_homo.npy" in str(err.value)


def test_missing_partners_and_bad_names(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "lonely.jpg"), _image((16, 9)))
    with pytest.raises(DataError, match=r"lonely_homo.npy.*missing"):
        read_narya_homography(tmp_path / "lonely.jpg")
    with pytest.raises(DataError, match=r"lonely_homo.npy"):
        list(iter_narya_homography_dataset(tmp_path))
    np.save(tmp_path / "orphan_homo.npy", np.eye(3))
    with pytest.raises(DataError, match=r"orphan_homo.npy.*no image"):
        read_narya_homography(tmp_path / "orphan_homo.npy")
    np.save(tmp_path / "plain.npy", np.eye(3))
    with pytest.raises(DataError, match=r"plain.npy.*_homo.npy"):
        read_narya_homography(tmp_path / "plain.npy")
    with pytest.raises(DataError, match=r"gone.jpg"):
        read_narya_homography(tmp_path / "gone.jpg")
    with pytest.raises(DataError, match=r"missing.npy"):
        load_narya_homography_npy(tmp_path / "missing.npy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no images"):
        list(iter_narya_homography_dataset(tmp_path / "empty"))


# ------------------------------------------------------------------------------------------
# Keypoint dataset
# ------------------------------------------------------------------------------------------
NARYA_XML = """<annotation>
  <folder>train</folder>
  <filename>frame_0001.jpg</filename>
  <path>/data/train/frame_0001.jpg</path>
  <source><database>Unknown</database></source>
  <size><width>320</width><height>320</height><depth>3</depth></size>
  <segmented>0</segmented>
  <object>
    <name>11</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>
    <keypoints><x1> 160 </x1><y1>171</y1></keypoints>
  </object>
  <object><name>2</name><keypoints><x1>51</x1><y1>65</y1></keypoints></object>
  <object><name>28</name><keypoints><x1>-4</x1><y1>330</y1></keypoints></object>
</annotation>
"""


def test_reads_a_narya_style_voc_file(tmp_path: Path):
    p = tmp_path / "frame_0001.xml"
    p.write_text(NARYA_XML)
    kp = read_narya_keypoints(p)
    assert kp.points == {11: (160, 171), 2: (51, 65), 28: (-4, 330)}
    assert kp.image_size == (320, 320) and kp.filename == "frame_0001.jpg"
    assert kp.ids.tolist() == [2, 11, 28]
    assert kp.pixels.tolist() == [[51, 65], [160, 171], [-4, 330]]
    np.testing.assert_allclose(
        kp.pitch_points(),
        Pitch().keypoint_array(
            ["left_penalty_box_top_front", "centre_spot", "right_penalty_arc_bottom"]
        ),
    )


@pytest.mark.parametrize(
    "kp",
    [
        NaryaKeypoints({i: (3 * i - 5, 300 - i) for i in range(29)}, (320, 320), "a b.jpg"),
        NaryaKeypoints({7: (0, 0)}),
        NaryaKeypoints({}, (1920, 1080)),
    ],
)
def test_keypoint_xml_round_trip(tmp_path: Path, kp: NaryaKeypoints):
    path = write_narya_keypoints(tmp_path / "k.xml", kp)
    assert read_narya_keypoints(path) == kp
    # Narya's own XPaths see one name and one x1/y1 per object, in the same order.
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    names = [int(e.text) for e in root.findall("object/name")]
    xs = [int(e.text) for e in root.findall("object/keypoints/x1")]
    ys = [int(e.text) for e in root.findall("object/keypoints/y1")]
    assert dict(zip(names, zip(xs, ys, strict=True), strict=True)) == kp.points


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<annotation><object><name>3</name>", "malformed XML"),
        ("", "malformed XML"),
        (
            "<annotation><object><keypoints><x1>1</x1><y1>2</y1></keypoints></object></annotation>",
            "<name> is missing",
        ),
        (
            "<annotation><object><name>3</name><keypoints><y1>2</y1></keypoints></object></annotation>",
            "<x1> is missing",
        ),
        ("<annotation><object><name>3</name></object></annotation>", "<x1> is missing"),
        (
            "<annotation><object><name>3</name><keypoints><x1>1.5</x1><y1>2</y1></keypoints>"
            "</object></annotation>",
            "not an integer",
        ),
        (
            "<annotation><object><name>left</name><keypoints><x1>1</x1><y1>2</y1></keypoints>"
            "</object></annotation>",
            "not an integer",
        ),
        (
            "<annotation><object><name>29</name><keypoints><x1>1</x1><y1>2</y1></keypoints>"
            "</object></annotation>",
            "0..28",
        ),
        (
            "<annotation><object><name>-1</name><keypoints><x1>1</x1><y1>2</y1></keypoints>"
            "</object></annotation>",
            "0..28",
        ),
        (
            "<annotation>" + 2 * "<object><name>4</name><keypoints><x1>1</x1><y1>2</y1></keypoints>"
            "</object>" + "</annotation>",
            "more than once",
        ),
        ("<annotation><size><width>0</width><height>5</height></size></annotation>", "positive"),
        ("<annotation><size><width>10</width></size></annotation>", "<height> is missing"),
    ],
)
def test_malformed_keypoint_xml(tmp_path: Path, body: str, problem: str):
    p = tmp_path / "bad_file.xml"
    p.write_text(body)
    with pytest.raises(DataError, match=problem) as err:
        read_narya_keypoints(p)
    assert "bad_file.xml" in str(err.value)


def test_keypoint_write_rejects_bad_content(tmp_path: Path):
    with pytest.raises(DataError, match=r"k.xml.*29"):
        write_narya_keypoints(tmp_path / "k.xml", NaryaKeypoints({29: (1, 1)}))
    with pytest.raises(DataError, match=r"k.xml.*integer"):
        write_narya_keypoints(tmp_path / "k.xml", NaryaKeypoints({3: (1.5, 1)}))  # type: ignore[dict-item]
    assert not (tmp_path / "k.xml").exists()
    with pytest.raises(DataError, match=r"nothing.xml"):
        read_narya_keypoints(tmp_path / "nothing.xml")


def test_ids_are_named_template_points():
    """Narya's FLIP_MAPPER pairs are left-right mirrors, and its 320x320 template pixels
    (INIT_HOMO_MAPPER, a sample) agree with our named points to within 3 px."""
    assert len(NARYA_KEYPOINT_NAMES) == 29 == len(set(NARYA_KEYPOINT_NAMES))
    pitch = Pitch()
    pts = narya_keypoint_pitch_points(pitch)
    flip = {i: i + 13 for i in range(10)} | {23: 27, 24: 28} | {i: i for i in (10, 11, 12, 25, 26)}
    for a, b in flip.items():
        np.testing.assert_allclose(pts[b], (pitch.length - pts[a][0], pts[a][1]), atol=1e-12)
    narya_px = {
        0: (3, 3),
        2: (51, 65),
        4: (17, 117),
        8: (51, 254),
        11: (160, 160),
        15: (270, 66),
        19: (304, 203),
        23: (51, 128),
        25: (161, 118),
        28: (269, 192),
    }
    ours = narya_template_pixels((320, 320), pitch)
    for i, xy in narya_px.items():
        assert np.abs(ours[i] - xy).max() <= 3.0, (i, NARYA_KEYPOINT_NAMES[i], ours[i], xy)
    assert set(NARYA_KEYPOINT_NAMES) - set(DFL_KEYPOINTS) == {"centre_spot"}


def test_keypoints_to_label_with_a_known_camera(cam: PinholeCamera):
    pitch = Pitch()
    P = narya_keypoint_pitch_points(pitch)
    px = cam.project(np.c_[P, np.zeros(len(P))])
    inside = (px >= 0).all(1) & (px < SIZE).all(1)
    truth = KeypointLabel(np.where(inside[:, None], px, np.nan), SIZE, NARYA_KEYPOINT_NAMES)
    kp = keypoint_label_to_narya(truth, (320, 320), filename="f.jpg")
    assert set(kp.points) == set(np.flatnonzero(inside).tolist()) and len(kp.points) >= 6
    assert kp.image_size == (320, 320) and kp.filename == "f.jpg"
    for i, (x, y) in kp.points.items():  # the integer pixel that contains the point
        assert (x, y) == (int(px[i, 0] / 4), int(px[i, 1] / 2.25))
    lab = narya_to_keypoint_label(kp, SIZE)
    assert lab.names == NARYA_KEYPOINT_NAMES and lab.frame_size == SIZE
    np.testing.assert_array_equal(lab.visible, inside)
    err = np.abs(lab.points[inside] - px[inside])
    assert (err[:, 0] <= 2.0).all() and (err[:, 1] <= 1.125).all()  # half a 320 px cell
    H = fit_label_homography(lab, pitch)
    assert H is not None
    got = apply_homography(H, px[inside])
    assert np.abs(got - P[inside]).max() < 1.0
    # With the DFL names: same points under the same names, centre spot dropped.
    dfl = narya_to_keypoint_label(kp, SIZE, names=DFL_KEYPOINTS)
    assert dfl.names == DFL_KEYPOINTS and int(dfl.visible.sum()) == len(kp.points) - 1
    for j, name in enumerate(DFL_KEYPOINTS):
        if dfl.visible[j]:
            np.testing.assert_array_equal(
                dfl.points[j], lab.points[NARYA_KEYPOINT_NAMES.index(name)]
            )
            np.testing.assert_allclose(dfl.pitch_points()[j], pitch.keypoint(name))


def test_pixel_index_convention():
    kp = NaryaKeypoints({0: (0, 0), 22: (319, 319)}, (320, 320))
    lab = narya_to_keypoint_label(kp)
    assert lab.frame_size == (320, 320)
    np.testing.assert_array_equal(lab.points[[0, 22]], [[0.5, 0.5], [319.5, 319.5]])
    assert keypoint_label_to_narya(lab).points == kp.points
    # Without <size> the pixels are Narya's 320 x 320.
    lab2 = narya_to_keypoint_label(NaryaKeypoints({11: (159, 159)}), (640, 640))
    np.testing.assert_array_equal(lab2.points[11], [319.0, 319.0])


def test_keypoint_dataset_folder(tmp_path: Path):
    imgs, xmls = tmp_path / "img", tmp_path / "xml"
    imgs.mkdir()
    for name, pid in (("b", 1), ("a", 0)):
        cv2.imwrite(str(imgs / f"{name}.jpg"), _image((32, 32)))
        write_narya_keypoints(xmls / f"{name}.xml", NaryaKeypoints({pid: (5, 6)}))
    samples = list(iter_narya_keypoint_dataset(imgs, xmls))
    assert [(s.image.name, s.xml.name, s.keypoints.points) for s in samples] == [
        ("a.jpg", "a.xml", {0: (5, 6)}),
        ("b.jpg", "b.xml", {1: (5, 6)}),
    ]
    cv2.imwrite(str(imgs / "c.jpg"), _image((32, 32)))
    with pytest.raises(DataError, match=r"c.xml.*missing"):
        list(iter_narya_keypoint_dataset(imgs, xmls))
    with pytest.raises(DataError, match=r"not a folder"):
        list(iter_narya_keypoint_dataset(tmp_path / "nope"))
