"""Training of the detector (needs the ``train`` extra: torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from touchline.detect.centernet import decode_centernet  # noqa: E402
from touchline.geometry.boxes import box_iou  # noqa: E402
from touchline.train import detect as T  # noqa: E402


def test_targets_decode_back_to_the_boxes():
    boxes = np.array(
        [[10, 20, 22, 47], [100.5, 40.2, 106.1, 45.9], [200, 100, 230, 170], [0, 0, 8, 30]],
        np.float32,
    )
    classes = np.array([0, 3, 2, 1])
    heat, reg, mask = T._targets(boxes, classes, (384, 256), 4)
    assert heat.shape == (4, 64, 96) and reg.shape == (4, 64, 96) and mask.sum() == 4
    peaks = np.where(heat == 1.0, heat, 0.0).astype(np.float32)
    box = np.concatenate([reg[:2], np.exp(reg[2:]) * T.STRIDE]).astype(np.float32)
    xyxy, _, cls = decode_centernet(peaks, box, T.STRIDE, 0.5)
    order = np.argsort(cls)
    np.testing.assert_allclose(xyxy[order], boxes[np.argsort(classes)], atol=1e-3)


def test_views_keep_boxes_inside_and_on_objects(shared):
    data = shared("detection/dfl/valid")
    samples = T.load_split(data)[:4]
    views = T._Views(samples, T._ball_bank(samples), T.TrainConfig())
    rng = np.random.default_rng(0)
    for _ in range(20):
        img, boxes, classes = views.view(rng, (256, 192))
        assert img.shape == (192, 256, 3) and img.dtype == np.uint8
        assert len(boxes) == len(classes)
        assert np.all(boxes[:, [0, 2]] >= 0) and np.all(boxes[:, [0, 2]] <= 256)
        assert np.all(boxes[:, [1, 3]] >= 0) and np.all(boxes[:, [1, 3]] <= 192)
        assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])


@pytest.mark.slow
def test_export_matches_torch(tmp_path):
    import onnxruntime as ort

    net = T.DetectorNet().eval()
    path = T.export_onnx(net, tmp_path / "d.onnx")
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 192, 320)).astype(np.float32)
    with torch.no_grad():
        peaks_t, box_t = T._Exported(net)(torch.from_numpy(x))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    peaks, box = sess.run(None, {"image": x})  # another size than the export example
    np.testing.assert_allclose(peaks, peaks_t.numpy(), atol=1e-4)
    np.testing.assert_allclose(box, box_t.numpy(), rtol=1e-3, atol=1e-3)
    assert box_iou(np.zeros((0, 4)), np.zeros((0, 4))).shape == (0, 0)


def test_synthetic_frames_and_their_mix_into_the_views():
    syn = T.render_synthetic(1, 2, seed=1000, scale=0.3)
    assert len(syn) == 2
    for s in syn:
        h, w = s.image.shape[:2]
        assert (w, h) == (576, 324) and len(s.xyxy) == len(s.cls) > 0
        assert np.all(s.xyxy[:, [0, 2]] >= 0) and np.all(s.xyxy[:, [0, 2]] <= w)
        assert np.all(s.xyxy[:, 2] > s.xyxy[:, 0]) and np.all(s.xyxy[:, 3] > s.xyxy[:, 1])
        assert set(s.cls.tolist()) <= {0, 1, 2, 3}
    # synthetic_share 1: every view comes from the synthetic frames (the real pool is empty).
    cfg = T.TrainConfig(synthetic_share=1.0, mosaic=0.0)
    views = T._Views([], [], cfg, syn)
    img, boxes, classes = views.view(np.random.default_rng(0), (256, 192))
    assert img.shape == (192, 256, 3) and len(boxes) == len(classes)
