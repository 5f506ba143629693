"""End-to-end tracking scores against synthetic ground truth, and pitch-space HOTA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from touchline.errors import DataError
from touchline.eval.mot_metrics import MotFrame, evaluate_mot, pitch_similarity
from touchline.eval.tracking import NoiseModel
from touchline.eval.tracking_e2e import SimulatedDetector, evaluate_tracks
from touchline.synth import GroundTruth, SynthConfig, synthesize
from touchline.tracks import TracksBuilder
from touchline.types import Detections


@pytest.fixture(scope="module")
def gt(tmp_path_factory: pytest.TempPathFactory) -> GroundTruth:
    out: Path = tmp_path_factory.mktemp("clip")
    synthesize(SynthConfig(seconds=1.2, size=(480, 270), seed=4, camera="builtin"), out)
    return GroundTruth.read(out)


def _tracks(gt: GroundTruth, edit=None):  # type: ignore[no-untyped-def]
    b = TracksBuilder()
    for k in range(len(gt)):
        d = gt.detections(k)
        if edit is not None:
            d = edit(k, d)
        b.add(k, k / gt.fps, d, gt.calibration(k))
    return b.build(fps=gt.fps)


def test_perfect_tracks_score_one(gt: GroundTruth) -> None:
    s = evaluate_tracks(_tracks(gt), gt)
    for v in (s.hota, s.idf1, s.mota, s.pitch_hota, s.pitch_idf1, s.team_accuracy):
        assert v == pytest.approx(1.0)
    assert s.pitch_error_median_m < 1e-3
    assert s.referee_no_team == 1.0
    assert s.ball_found == 1.0


def test_swapped_ids_and_teams_and_shifted_positions_cost(gt: GroundTruth) -> None:
    def swap(k: int, d: Detections) -> Detections:
        ids = d.tracker_id.copy()
        if k >= len(gt) // 2:  # every identity changes halfway
            ids = ids + 1000
        pxy = d.data["pitch_xy"] + [2.0, 0.0]  # 2 m off
        return Detections(d.xyxy, d.confidence, d.class_id, ids,
                          data={"team": d.data["team"], "pitch_xy": pxy})  # fmt: skip

    s = evaluate_tracks(_tracks(gt, swap), gt)
    assert s.hota < 0.8 and s.idf1 < 0.6
    assert s.pitch_error_median_m == pytest.approx(2.0, abs=1e-3)
    assert s.pitch_hota < s.hota  # 2 m off lowers the pitch similarity too


def test_team_labels_are_scored_up_to_a_swap(gt: GroundTruth) -> None:
    def flip(k: int, d: Detections) -> Detections:
        team = d.data["team"].copy()
        team[team >= 0] = 1 - team[team >= 0]
        return Detections(d.xyxy, d.confidence, d.class_id, d.tracker_id,
                          data={"team": team, "pitch_xy": d.data["pitch_xy"]})  # fmt: skip

    assert evaluate_tracks(_tracks(gt, flip), gt).team_accuracy == 1.0


def test_simulated_detector_follows_the_noise_model(gt: GroundTruth) -> None:
    det = SimulatedDetector(gt, NoiseModel(fp_per_frame=0.0), seed=3)
    n_true = n_det = 0
    for k in range(len(gt)):
        d = det.detect(None)
        g = gt.detections(k)
        n_true += len(g)
        n_det += len(d)
        assert d.class_id is not None
        assert set(d.class_id.tolist()) <= set(g.class_id.tolist())
    assert 0.8 < n_det / n_true < 0.97  # about 10 % misses
    again = SimulatedDetector(gt, NoiseModel(fp_per_frame=0.0), seed=3)
    np.testing.assert_array_equal(again.detect(None).xyxy, SimulatedDetector(
        gt, NoiseModel(fp_per_frame=0.0), seed=3).detect(None).xyxy)  # fmt: skip


def test_pitch_similarity_and_mot_frames_with_similarity() -> None:
    sim = pitch_similarity([[0.0, 0.0], [10.0, 0.0]], [[0.0, 1.0], [10.0, 0.0]])
    assert sim[0, 0] == pytest.approx(np.exp(np.log(0.05) / 25))
    assert sim[1, 1] == 1.0 and sim[0, 1] < 1e-4  # 10 m apart
    frames = [MotFrame(t, [1, 2], np.zeros((2, 4)), [7, 8], np.zeros((2, 4)), similarity=sim)
              for t in range(3)]  # fmt: skip
    s = evaluate_mot(frames)
    assert s["idf1"] == 1.0 and 0.9 < s["hota"] < 1.0
    with pytest.raises(DataError, match="similarity"):
        MotFrame(0, [1], np.zeros((1, 4)), [2], np.zeros((1, 4)), similarity=[[1.5]])
