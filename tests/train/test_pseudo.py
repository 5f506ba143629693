"""Pseudo-labels for self-training: strongly calibrated frames of a sequence, at 16:9."""

from __future__ import annotations

import numpy as np
import pytest

from touchline.calib.calibrator import view_distance
from touchline.models import model_path
from touchline.synth.clip import SynthConfig, Synthesizer
from touchline.train.pseudo import SIZE, PseudoConfig, pseudo_labels
from touchline.video import write_image


def test_kept_frames_carry_their_camera_at_the_label_size(tmp_path):
    # A rendered sequence with exact cameras, stored squashed to 512x512 like the Narya folders.
    import cv2

    syn = Synthesizer(SynthConfig(seconds=12 / 25, fps=25, size=(960, 540), seed=5))
    seq = tmp_path / "data" / "frames" / "clip"
    truth = []
    for k in range(len(syn)):
        f = syn.render(k)
        write_image(seq / f"{k:04d}.jpg", cv2.resize(f.image, (512, 512)))
        S = np.diag([960 / SIZE[0], 540 / SIZE[1], 1.0])  # label px -> rendered px
        truth.append(np.linalg.inv(f.camera.pitch_to_image) @ S)
    cfg = PseudoConfig(min_confidence=0.5, min_alignment=0.5, stride=2)
    images, Hs, names = pseudo_labels(
        tmp_path / "data", model_path("calib"), ["frames/clip"], cfg, log=lambda *_: None
    )
    assert images.shape[1:] == (SIZE[1], SIZE[0], 3) and len(Hs) == len(names) >= 1
    assert len(names) <= (len(syn) + 1) // 2  # every other strong frame at most
    for H, name in zip(Hs, names, strict=True):
        k = int(name.split("#")[1])
        assert view_distance(H, truth[k], SIZE) < 1.0, name


def test_a_missing_sequence_is_an_error(tmp_path):
    from touchline.errors import DataError

    with pytest.raises(DataError, match="missing"):
        pseudo_labels(tmp_path, model_path("calib"), ["frames/none"])
