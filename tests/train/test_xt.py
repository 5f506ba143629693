"""The shipped xT surface is what its training command makes, and it looks like expected threat."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from touchline.analytics.value import load_surface
from touchline.models import model_info
from touchline.train.xt import fit_shipped_xt


@pytest.mark.shared_data
def test_shipped_xt_is_reproduced_by_its_command(
    tmp_path: Path, shared: Callable[[str], Path]
) -> None:
    shared("tracking/metrica_events/Sample_Game_3_events.json")
    doc = fit_shipped_xt(tmp_path)
    shipped = json.loads(model_info("xt").path.read_text())
    assert shipped["command"] == "python -m touchline.train.xt --out runs/xt"
    np.testing.assert_allclose(doc["values"], shipped["values"], atol=2e-6)
    assert (doc["moves"], doc["shots"]) == (shipped["moves"], shipped["shots"])


def test_shipped_xt_shape_and_sanity() -> None:
    s = load_surface("xt")
    v = s.values
    assert v.shape == (12, 16)
    np.testing.assert_allclose(v, v[::-1], atol=1e-9)  # mirrored training data: symmetric
    thirds = [v[:, :5].mean(), v[:, 5:11].mean(), v[:, 11:].mean()]
    assert thirds[0] < thirds[1] < thirds[2]
    iy, ix = np.unravel_index(np.argmax(v), v.shape)
    assert ix >= 14 and 4 <= iy <= 7  # in front of the goal being attacked
    assert s.at([[100.0, 34.0]])[0] > s.at([[100.0, 2.0]])[0]
