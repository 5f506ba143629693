"""Pseudo-labels for detector self-training (no torch needed)."""

from __future__ import annotations

import numpy as np

from touchline.data import DETECTOR_PSEUDO_SOURCES
from touchline.train import detect_pseudo as P
from touchline.types import Detections


class _Fixed:
    """A teacher that always sees the same boxes."""

    def __init__(self, dets: Detections) -> None:
        self.dets = dets

    def detect(self, image):
        return self.dets


def test_evaluation_sequences_are_never_pseudo_labelled():
    assert not any("leicester" in s or "argentina_france" in s for s in DETECTOR_PSEUDO_SOURCES)


def test_still_keeps_confident_boxes_one_ball_and_ignores_the_rest():
    dets = Detections(
        xyxy=[[0, 0, 10, 30], [50, 0, 60, 30], [100, 100, 104, 104], [200, 100, 204, 104],
              [300, 0, 310, 30], [1, 1, 10, 30]],
        confidence=[0.9, 0.3, 0.8, 0.7, 0.05, 0.2],
        class_id=[0, 0, 3, 3, 0, 2],
    )  # fmt: skip
    kept, ignore = P.label_still(np.zeros((8, 8, 3), np.uint8), _Fixed(dets), P.PseudoConfig())
    assert kept.xyxy.tolist() == [[0, 0, 10, 30], [100, 100, 104, 104]]  # best ball only
    # the doubtful player and the weaker ball are ignored; below ignore_score nothing is; a
    # box on top of a kept one is not ignored (it is the same object)
    assert ignore.tolist() == [[50, 0, 60, 30], [200, 100, 204, 104]]


def test_sequence_keeps_people_the_tracker_confirms(tmp_path):
    """A player seen in every frame is kept; a flicker seen once is ignored, not taught."""
    cfg = P.PseudoConfig(every=2, track_min_frames=4)

    class Moving:
        k = 0

        def detect(self, image):
            self.k += 1
            boxes = [[100 + 2 * self.k, 100, 120 + 2 * self.k, 150]]
            conf = [0.45]
            if self.k == 3:  # a one-frame flicker
                boxes.append([400, 300, 420, 350])
                conf.append(0.4)
            return Detections(xyxy=boxes, confidence=conf, class_id=[0] * len(conf))

    frames = [(f"{k:05d}", np.full((360, 640, 3), 90, np.uint8)) for k in range(8)]
    out = P.label_sequence(frames, Moving(), cfg)
    assert [k for k, *_ in out] == [0, 2, 4, 6]
    for k, kept, ignore in out:
        if k >= 2:  # once the track exists
            assert len(kept) == 1 and kept.class_name[0] == "player"
        if k == 2:
            assert ignore.tolist() == [[400, 300, 420, 350]]


def test_people_off_the_pitch_are_not_taught():
    from touchline.types import Calibration

    cal = Calibration(np.diag([0.1, 0.1, 1.0]))  # 10 px per metre, pitch at (0..1050, 0..680)
    dets = Detections(
        xyxy=[[100, 100, 110, 130], [100, 700, 110, 760], [500, 300, 504, 304]],
        confidence=[0.9, 0.9, 0.9],
        class_id=[0, 0, 3],
    )  # on the pitch, feet 8 m beyond the touchline, the ball
    assert P.on_pitch(dets, cal, 1.0).tolist() == [True, False, True]
    assert P.on_pitch(dets, None, 1.0).tolist() == [False, False, True]
    kept, ignore = P.label_still(np.zeros((8, 8, 3), np.uint8), _Fixed(dets), P.PseudoConfig(), cal)
    assert kept.xyxy.tolist() == [[100, 100, 110, 130], [500, 300, 504, 304]]
    assert ignore.tolist() == [[100, 700, 110, 760]]


def test_goalkeepers_are_never_taught_from_other_kits():
    kept = Detections(
        xyxy=[[0, 0, 10, 30], [50, 0, 60, 30]], confidence=[0.9, 0.9], class_id=[1, 0]
    )
    out, ignore = P._without_goalkeepers(kept, np.zeros((0, 4), np.float32))
    assert out.class_name.tolist() == ["player"] and ignore.tolist() == [[0, 0, 10, 30]]
