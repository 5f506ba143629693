"""Collection rules for ``pytest src tests`` (doctests of the package run too).

The training modules need the optional ``train`` extra (torch); without it their doctests are
not collected (``tests/test_train_calib.py`` covers them where torch is installed).
"""

from __future__ import annotations

import importlib.util

collect_ignore_glob = (
    []
    if importlib.util.find_spec("torch")
    else [
        "src/touchline/train/calib.py",
        "src/touchline/train/detect.py",
        "src/touchline/train/common.py",
        "src/touchline/train/from_onnx.py",
    ]
)
