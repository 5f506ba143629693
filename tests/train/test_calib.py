"""Training of the calibration model (needs the ``train`` extra: torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from touchline.calib.keypoints import MODEL_KEYPOINTS, MODEL_LINES, decode_heatmaps  # noqa: E402
from touchline.geometry.homography import apply_homography  # noqa: E402
from touchline.pitch import Pitch  # noqa: E402
from touchline.synth.camera import PinholeCamera  # noqa: E402
from touchline.train import calib as T  # noqa: E402


def _sample() -> T._Sample:
    cam = PinholeCamera.look_at(
        (52.5, 108.0, -25.0), (30.0, 34.0, 0.0), focal=1200.0, image_size=T.CACHE_SIZE
    )
    H = np.linalg.inv(cam.pitch_to_image)
    img = np.full((T.CACHE_SIZE[1], T.CACHE_SIZE[0], 3), 90, np.uint8)
    return T._Sample(img, H / H[2, 2], np.full((len(MODEL_KEYPOINTS), 2), np.nan), "cam")


@pytest.mark.parametrize("augment", [False, True])
def test_targets_put_keypoints_where_the_homography_projects_them(augment):
    pitch = Pitch()
    tg = T._Targets(pitch)
    rng = np.random.default_rng(4)
    s = _sample()
    for _ in range(5 if augment else 1):
        img, heat, direct, mask = tg.make(s, rng, (384, 216), augment=augment)
        assert img.shape == (216, 384, 3) and heat.shape == (T.n_channels(), 54, 96)
        pts, _ = decode_heatmaps(heat[: len(MODEL_KEYPOINTS)], T.STRIDE, 0.5)
        found = np.isfinite(pts).all(1)
        assert found.sum() >= 4
        # Recover the output-frame homography from the direct targets and check the peaks.
        corners = T.DIRECT_POINTS * (384, 216)
        from touchline.geometry.homography import dlt

        assert mask.all()
        Hout = dlt(corners, direct.reshape(4, 2) * (pitch.length, pitch.width))
        proj = apply_homography(np.linalg.inv(Hout), pitch.keypoint_array(MODEL_KEYPOINTS))
        err = np.abs(proj[found] - pts[found])
        assert np.median(err) < 0.3 and err.max() < 1.5
        # Line and area targets are consistent with the pitch.
        assert 0 < heat[-1].mean() < 1 and heat[-2].max() > 0.9


def test_flip_swaps_left_and_right_keypoints():
    tg = T._Targets(Pitch())
    s = _sample()
    names = list(MODEL_KEYPOINTS)
    left = names.index("left_penalty_spot")
    right = names.index("right_penalty_spot")
    seen_flip = False
    for seed in range(12):
        rng = np.random.default_rng(seed)
        _, heat, _, _ = tg.make(s, rng, (384, 216))
        # The camera looks at the left half: only a flip makes the right spot appear.
        if heat[right].max() > 0.5:
            seen_flip = True
            assert heat[left].max() < 0.5
    assert seen_flip


def test_model_shapes_and_export(tmp_path):
    net = T.KeypointNet()
    maps, direct = net(torch.zeros(2, 3, 216, 384))
    assert maps.shape == (2, T.n_channels(), 54, 96) and direct.shape == (2, 8)
    path = T.export_onnx(net.eval(), tmp_path / "m.onnx", (256, 144))
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    m, _ = sess.run(None, {"image": np.zeros((3, 3, 144, 256), np.float32)})
    assert m.shape == (3, T.n_channels(), 36, 64) and m.min() >= 0 and m.max() <= 1


@pytest.mark.slow
def test_quick_training_run_end_to_end(tmp_path, shared):
    root = shared("pitch_keypoints/dfl/train").parents[2]
    T.main(["--out", str(tmp_path), "--quick", "--data-root", str(root)])
    import json

    meta = json.loads((tmp_path / "calib.json").read_text())
    assert meta["keypoints"] == list(MODEL_KEYPOINTS) and meta["history"]
    assert meta["lines"] == list(MODEL_LINES)
    from touchline.calib.model import KeypointModel

    pred = KeypointModel(tmp_path / "calib.onnx").predict([np.zeros((360, 640, 3), np.uint8)])[0]
    assert pred.points.shape == (len(MODEL_KEYPOINTS), 2)
    assert pred.lines.shape[0] == len(MODEL_LINES) and pred.line_names == MODEL_LINES
    # The run left a checkpoint: the same command resumes from it (nothing left to do) and a
    # different configuration in the same folder is refused.
    assert (tmp_path / "checkpoint.pt").is_file()
    T.main(["--out", str(tmp_path), "--quick", "--data-root", str(root)])
    from touchline.errors import DataError

    with pytest.raises(DataError, match="another configuration"):
        T.main(["--out", str(tmp_path), "--quick", "--data-root", str(root), "--lr", "0.5"])


@pytest.mark.parametrize("source", ["wc2022/argentina_france", "dfl/test", "dfl/valid"])
def test_evaluation_sets_are_refused_as_training_data(tmp_path, source):
    from touchline.errors import DataError

    with pytest.raises(DataError, match="not a training set"):
        T.main(["--out", str(tmp_path), "--quick", "--real", source])


def test_line_targets_are_one_cell_wide_in_the_image_near_and_far():
    # The far touchline is foreshortened (a cell spans metres across it) and the near lines are
    # not: both targets peak on the cells the projected line crosses and stay about a cell
    # wide, so far lines are not lost between cell centres.
    from touchline.geometry.lines import map_line, point_line_distance

    tg = T._Targets(Pitch())
    s = _sample()
    size = (384, 216)
    _, heat, _, _ = tg.make(s, np.random.default_rng(0), size, augment=False)
    A = np.diag([size[0] / T.CACHE_SIZE[0], size[1] / T.CACHE_SIZE[1], 1.0])
    P = np.diag([1 / T.STRIDE, 1 / T.STRIDE, 1.0]) @ A @ np.linalg.inv(s.H)  # pitch -> cells
    nk = len(MODEL_KEYPOINTS)
    checked = 0
    for name in ("top_touchline", "halfway_line", "left_penalty_box_front"):
        m = heat[nk + MODEL_LINES.index(name)]
        if m.max() < 0.5:
            continue
        e = Pitch().element(name)
        line = map_line(np.cross([*e.start, 1.0], [*e.end, 1.0]), P)
        iy, ix = np.nonzero(m > 0.5)
        d = np.abs(point_line_distance(line, np.stack([ix + 0.5, iy + 0.5], 1)))
        assert d.max() < 1.5, name  # only cells the line crosses or touches
        assert m.max() > 0.8, name
        checked += 1
    assert checked >= 2
