"""Helpers of the tracking-metric tests that compare with the reference packages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from touchline.eval.mot_metrics import MotFrame


@pytest.fixture
def trackeval_data(reference) -> Callable[[list[MotFrame]], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """``trackeval_data(frames)`` -> one sequence as TrackEval's metrics take it: ids renumbered
    0.. per side, IoUs computed by TrackEval's own box code. Fails under CI, skips elsewhere,
    when ``trackeval`` is missing."""
    reference("trackeval")
    from trackeval.datasets._base_dataset import _BaseDataset

    def xywh(b: np.ndarray) -> np.ndarray:
        return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1)

    def data(frames: list[MotFrame]) -> dict[str, Any]:
        gu = np.unique(np.concatenate([f.gt_ids for f in frames]))
        pu = np.unique(np.concatenate([f.pr_ids for f in frames]))
        return {
            "num_gt_dets": sum(len(f.gt_ids) for f in frames),
            "num_tracker_dets": sum(len(f.pr_ids) for f in frames),
            "num_gt_ids": len(gu),
            "num_tracker_ids": len(pu),
            "gt_ids": [np.searchsorted(gu, f.gt_ids) for f in frames],
            "tracker_ids": [np.searchsorted(pu, f.pr_ids) for f in frames],
            "similarity_scores": [
                _BaseDataset._calculate_box_ious(
                    xywh(f.gt_xyxy), xywh(f.pr_xyxy), box_format="xywh"
                )
                for f in frames
            ],
        }

    return data
