"""YOLO-pose pitch keypoint labels, the DFL label repair, and the shipped-model manifest."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from touchline.datasets.yolo_pose import (
    KeypointLabel,
    fit_label_homography,
    fix_near_far,
    read_split,
    read_yolo_pose_label,
    write_yolo_pose_label,
)
from touchline.errors import DataError
from touchline.geometry.homography import apply_homography, plausibility
from touchline.pitch import DFL_KEYPOINTS, Pitch, near_far_permutation

ROTATED = "42ba34_9_2_png.rf.abf25a0cf0d30df0142704a05f9db1dd"


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 1, (32, 2)) * (1920, 1080)
    pts[rng.random(32) < 0.5] = np.nan
    write_yolo_pose_label(tmp_path / "a.txt", KeypointLabel(pts, (1920, 1080)))
    back = read_yolo_pose_label(tmp_path / "a.txt", (1920, 1080))
    assert np.array_equal(back.visible, np.isfinite(pts).all(1))
    assert np.allclose(back.points[back.visible], pts[back.visible], atol=0.01)


@pytest.mark.parametrize(
    "text,msg",
    [("0 0.5 0.5 1 1 0.1 0.2\n", r"expected 5 \+ 3 x 32"), ("0 a b\n", "not a list of numbers")],
)
def test_malformed_label_names_the_file(tmp_path, text, msg):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(DataError, match=r"bad\.txt.*" + msg):
        read_yolo_pose_label(f)


def test_split_layout_errors(tmp_path):
    with pytest.raises(DataError, match="images/"):
        read_split(tmp_path)
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match="no images"):
        read_split(tmp_path)


def test_empty_label_file_means_no_keypoints(tmp_path):
    (tmp_path / "e.txt").write_text("")
    lab = read_yolo_pose_label(tmp_path / "e.txt")
    assert not lab.visible.any() and fit_label_homography(lab) is None


def test_label_homography_of_a_known_camera():
    from touchline.synth.camera import PinholeCamera

    cam = PinholeCamera.look_at(
        (52.5, 105.0, -22.0), (70.0, 30.0, 0.0), focal=2200.0, image_size=(1920, 1080)
    )
    kp = Pitch().keypoint_array()
    img = apply_homography(cam.pitch_to_image, kp)
    vis = (img[:, 0] > 0) & (img[:, 0] < 1920) & (img[:, 1] > 0) & (img[:, 1] < 1080)
    img[~vis] = np.nan
    H = fit_label_homography(KeypointLabel(img, (1920, 1080)))
    assert H is not None
    assert np.allclose(apply_homography(H, img[vis]), kp[vis], atol=1e-6)
    # Collinear labels (one line only) give no homography.
    line = np.full((32, 2), np.nan)
    for i, n in enumerate(DFL_KEYPOINTS):
        if n.startswith("left_goal_line"):
            line[i] = img[i] if vis[i] else (100.0 + i, 200.0 + 3 * i)
    assert fit_label_homography(KeypointLabel(line, (1920, 1080))) is None


def test_near_far_swapped_label_is_repaired(shared):
    """The one DFL frame labelled from the other touchline: detected and repaired, the rest
    of the split left untouched."""
    split = shared("pitch_keypoints/dfl/train")
    fixed = []
    for s in read_split(split):
        lab, was_fixed = fix_near_far(s.label)
        if was_fixed:
            fixed.append(s.image.stem)
            H = fit_label_homography(lab)
            assert H is not None and plausibility(H, (1920, 1080)) == []
            assert plausibility(fit_label_homography(s.label), (1920, 1080)) == ["mirror image"]
            assert np.array_equal(
                lab.points, s.label.points[near_far_permutation()], equal_nan=True
            )
    assert fixed == [ROTATED]


# ----- shipped models ------------------------------------------------------------------------
def test_shipped_model_is_verified(tmp_path, monkeypatch):
    from touchline import models

    info = models.model_info("calib")
    assert info.path.is_file() and info.bytes == info.path.stat().st_size <= 25 * 1024 * 1024
    assert models.sha256(info.path) == info.sha256
    assert info.command.startswith("python -m touchline.train.calib")
    # A corrupted copy fails with a message naming the file.
    d = tmp_path / "m"
    shutil.copytree(models.MODELS_DIR, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    raw = bytearray((d / "calib.onnx").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (d / "calib.onnx").write_bytes(bytes(raw))
    monkeypatch.setattr(models, "MODELS_DIR", d)
    monkeypatch.setattr(models, "MANIFEST", d / "manifest.json")
    with pytest.raises(DataError, match=r"calib\.onnx: checksum mismatch"):
        models.load_session("calib")
    (d / "calib.onnx").write_bytes(bytes(raw[:1000]))
    with pytest.raises(DataError, match="truncated"):
        models.load_session("calib")
    with pytest.raises(DataError, match="no model named 'nope'"):
        models.model_info("nope")
    manifest = json.loads((d / "manifest.json").read_text())
    assert set(manifest) == {"calib", "detect", "embed", "xt"}
