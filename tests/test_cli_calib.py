"""``touchline calibrate`` and ``touchline eval calibration`` as a user runs them."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from touchline.cli import app
from touchline.eval.calibration_metrics import SUMMARY_KEYS
from touchline.synth.clip import SynthConfig, synthesize
from touchline.video import probe, write_image

runner = CliRunner()


def test_calibrate_image_without_pitch(tmp_path):
    img = tmp_path / "flat.png"
    write_image(img, np.full((270, 480, 3), (200, 120, 40), np.uint8))
    r = runner.invoke(app, ["calibrate", str(img), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert [f["status"] for f in doc["frames"]] == ["no_pitch"]
    assert doc["frames"][0]["homography"] is None and doc["frames"][0]["file"] == "flat.png"
    npz = np.load(tmp_path / "out" / "homographies.npz")
    assert npz["H"].shape == (1, 3, 3) and np.isnan(npz["H"]).all()
    assert (tmp_path / "out" / "overlay" / "flat.png").is_file()
    assert (tmp_path / "out" / "topdown" / "flat.png").is_file()


def test_calibrate_video_writes_every_output(tmp_path):
    clip = synthesize(
        SynthConfig(seconds=0.4, fps=10, size=(320, 180), seed=1, camera="builtin"), tmp_path / "c"
    )
    out = tmp_path / "out"
    r = runner.invoke(app, ["calibrate", str(clip.video), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "calibrated" in r.output
    doc = json.loads((out / "calibration.json").read_text())
    assert len(doc["frames"]) == 4 and doc["image_size"] == [320, 180]
    for f in doc["frames"]:
        assert set(f) >= {"frame", "time", "status", "confidence", "cut", "homography", "source"}
    npz = np.load(out / "homographies.npz")
    assert npz["H"].shape == (4, 3, 3) and list(npz["frame"]) == [0, 1, 2, 3]
    for name in ("overlay.mp4", "topdown.mp4"):
        assert probe(out / name).frame_count == 4
    assert not list(out.glob(".*tmp*"))  # atomic writes leave no temporaries


@pytest.mark.parametrize("args", [["calibrate", "missing.mp4", "--out", "o"]])
def test_calibrate_bad_input_is_one_clear_line(tmp_path, args):
    r = runner.invoke(app, args)
    assert r.exit_code == 1
    assert r.output.startswith("error: ") and "missing.mp4" in r.output
    assert "Traceback" not in r.output


def test_calibrate_corrupt_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 100)
    r = runner.invoke(app, ["calibrate", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "bad.mp4" in r.output and "Traceback" not in r.output


def test_eval_calibration_on_a_small_split(tmp_path, shared):
    src = shared("pitch_keypoints/dfl/valid")
    split = tmp_path / "split"
    (split / "images").mkdir(parents=True)
    (split / "labels").mkdir()
    for img in sorted((src / "images").iterdir())[:3]:
        shutil.copy(img, split / "images" / img.name)
        shutil.copy(src / "labels" / (img.stem + ".txt"), split / "labels" / (img.stem + ".txt"))
    out = tmp_path / "m.json"
    r = runner.invoke(
        app,
        [
            "eval",
            "calibration",
            "--data",
            str(split),
            "--json",
            str(out),
            "--per-frame",
            str(tmp_path / "f.csv"),
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert set(SUMMARY_KEYS) <= set(res)
    assert res["frames"] == 3 and 0.0 <= res["completeness"] <= 1.0
    assert len(res["per_frame"]) == 3 and (tmp_path / "f.csv").read_text().count("\n") == 4
    brief = json.loads(r.output.strip().splitlines()[-1])
    assert brief["frames"] == 3


def test_eval_calibration_bad_folder(tmp_path):
    r = runner.invoke(app, ["eval", "calibration", "--data", str(tmp_path)])
    assert r.exit_code == 1 and "images/" in r.output
