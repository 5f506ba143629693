"""Fine-tunes start from shipped ONNX weights (needs the ``train`` extra: torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from touchline.errors import DataError  # noqa: E402
from touchline.models import model_path  # noqa: E402
from touchline.train import detect as T  # noqa: E402
from touchline.train.from_onnx import freeze_batch_norm, load_onnx_weights  # noqa: E402


def _onnx_outputs(path, x):
    import onnxruntime as ort

    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(None, {"image": x})


def test_shipped_detector_round_trips_into_torch():
    """The torch module rebuilt from detect.onnx computes what the ONNX graph computes."""
    path = model_path("detect")
    net = T.DetectorNet()
    folded = load_onnx_weights(net, path, prefix="net.")
    assert folded  # the exporter folded batch norms, and they were put back as identities
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 128, 192)).astype(np.float32)
    with torch.no_grad():
        peaks, box = T._Exported(net.eval())(torch.from_numpy(x))
    ref_peaks, ref_box = _onnx_outputs(path, x)
    np.testing.assert_allclose(peaks.numpy(), ref_peaks, atol=1e-5)
    np.testing.assert_allclose(box.numpy(), ref_box, rtol=1e-4, atol=1e-3)


@pytest.mark.slow
def test_export_then_load_gives_the_same_function(tmp_path):
    """A freshly exported small net (random batch-norm statistics) comes back exactly."""
    torch.manual_seed(0)
    net = T.DetectorNet(widths=(8, 8, 16, 16, 16))
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)  # distinct values: the exporter shares equal ones
    path = T.export_onnx(net.eval(), tmp_path / "tiny.onnx")
    back = T.DetectorNet(widths=(8, 8, 16, 16, 16))
    load_onnx_weights(back, path, prefix="net.")
    back.train()
    freeze_batch_norm(back)  # training mode, batch norms on their running statistics
    x = np.random.default_rng(1).uniform(0, 255, (2, 3, 64, 96)).astype(np.float32)
    with torch.no_grad():
        got = T._Exported(back)(torch.from_numpy(x))
    ref = _onnx_outputs(path, x)
    np.testing.assert_allclose(got[0].numpy(), ref[0], atol=1e-5)


def test_another_architecture_is_refused():
    with pytest.raises(DataError, match="shape"):
        load_onnx_weights(T.DetectorNet(widths=(8, 8, 16, 16, 16)), model_path("detect"), "net.")
