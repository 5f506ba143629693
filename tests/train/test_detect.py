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

    torch.manual_seed(0)
    net = T.DetectorNet().eval()
    path = T.export_onnx(net, tmp_path / "d.onnx")
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 192, 320)).astype(np.float32)
    with torch.no_grad():
        peaks_t, box_t = T._Exported(net)(torch.from_numpy(x))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    peaks, box = sess.run(None, {"image": x})  # another size than the export example
    # An untrained heatmap is nearly flat: float noise can flip a near-tie of the 3x3 peak
    # test. The values agree wherever both call a peak, and nearly every cell agrees.
    ref = peaks_t.numpy()
    both = (peaks > 0) & (ref > 0)
    np.testing.assert_allclose(peaks[both], ref[both], atol=1e-4)
    assert ((peaks > 0) != (ref > 0)).mean() < 0.01
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


def test_ignore_boxes_mask_the_heatmap_loss_but_not_objects():
    boxes = np.array([[40, 40, 60, 80], [44, 44, 56, 76], [120, 20, 140, 60]], np.float32)
    classes = np.array([T.IGNORE, 0, T.IGNORE])
    heat, _, mask = T._targets(boxes, classes, (192, 128), 4)
    assert mask.sum() == 1  # only the real object regresses
    assert heat[0].max() == 1.0 and (heat[:, 6:15, 31:35] == -1).all()  # the empty ignore box
    assert heat[0, 15, 12] == 1.0  # the object inside an ignore box keeps its peak
    logits = torch.zeros((1, 4, 32, 48))
    target = torch.from_numpy(heat[None])
    weights = torch.ones(4)
    base = T._focal(logits, target, weights)
    # Confident "object" logits inside the ignore box cost nothing; outside they do.
    inside, outside = logits.clone(), logits.clone()
    inside[0, 0, 8, 32] = 6.0
    outside[0, 0, 25, 5] = 6.0
    assert torch.isclose(T._focal(inside, target, weights), base)
    assert T._focal(outside, target, weights) > base + 1.0


def test_ignore_class_reads_from_a_pseudo_split(tmp_path):
    from touchline.datasets.detection import write_yolo_labels, write_yolo_names
    from touchline.types import Detections

    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    names = ("football", "goalkeeper", "player", "referee", "ignore")
    write_yolo_names(tmp_path / "data.yaml", names)
    import cv2

    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), np.zeros((72, 128, 3), np.uint8))
    dets = Detections(xyxy=[[10, 10, 20, 40], [50, 50, 60, 60]], class_id=[2, 4], class_names=names)
    write_yolo_labels(tmp_path / "labels" / "a.txt", dets, (128, 72))
    (s,) = T.load_split(tmp_path)
    assert s.cls.tolist() == [T.CLASS_NAMES.index("player"), T.IGNORE]
