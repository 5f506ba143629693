"""Tests of touchline.jobs.demo: one ``run_demo`` in a subprocess that cannot see the shared data.

The subprocess gets ``TOUCHLINE_SHARED_DATA`` pointing to an empty folder and an empty working
directory. ``touchline.data.shared_data_dir`` lets an existing ``$TOUCHLINE_SHARED_DATA`` win over
``./../shared/data`` and over the editable install's ``<project>/../shared/data``, so the demo sees
no shared file at all (checked below); the demo also forces ``camera="builtin"``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from touchline.pitch import Pitch, PitchRaster
from touchline.synth.clip import POSES_FILE
from touchline.video import iter_frames, probe, read_frame

SECONDS, SIZE, SEED, FPS = 1.0, (480, 270), 1, 25.0
FRAMES = round(SECONDS * FPS)

SCRIPT = f"""
import json, sys
from touchline import data
from touchline.jobs.demo import run_demo
from touchline.synth.clip import POSES_FILE

res = run_demo(sys.argv[1], seconds={SECONDS}, size={SIZE}, seed={SEED})
shared = data.shared_data_dir()
print(json.dumps({{
    "shared_dir": None if shared is None else str(shared),
    "poses": None if data.shared_file(POSES_FILE) is None else str(data.shared_file(POSES_FILE)),
    "out_dir": str(res.out_dir),
    "overlay": str(res.overlay),
    "radar": str(res.radar),
    "readme": str(res.readme),
    "stills": [str(p) for p in res.stills],
    "clip_video": str(res.clip.video),
    "clip_frames": res.clip.frames,
    "clip_size": list(res.clip.size),
    "camera": res.clip.camera.source,
}}))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the demo once, isolated from ../shared/data; returns its JSON summary and paths."""
    empty = tmp_path_factory.mktemp("no_shared_data")
    cwd = tmp_path_factory.mktemp("cwd")
    out = tmp_path_factory.mktemp("demo") / "out"
    env = {**os.environ, "TOUCHLINE_SHARED_DATA": str(empty)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(empty=empty, out=out, cwd=cwd)
    return res


@pytest.mark.slow
def test_demo_sees_no_shared_data(demo: dict[str, Any]) -> None:
    assert demo["shared_dir"] == str(demo["empty"].resolve())
    assert demo["poses"] is None
    assert list(demo["empty"].iterdir()) == []
    assert list(demo["cwd"].iterdir()) == []  # nothing written to the working directory


def test_demo_uses_builtin_camera(demo: dict[str, Any]) -> None:
    out = demo["out"]
    gt = json.loads((out / "synth" / "ground_truth.json").read_text())
    manifest = json.loads((out / "synth" / "manifest.json").read_text())
    assert demo["camera"] == "builtin"
    assert gt["camera"]["source"] == "builtin"
    assert manifest["config"]["camera"] == "builtin"
    assert manifest["camera_pose"] == "builtin"
    assert (gt["seed"], gt["width"], gt["height"], gt["fps"]) == (SEED, *SIZE, FPS)
    assert gt["scene_source"] == f"game-model:seed={SEED}"
    assert POSES_FILE not in json.dumps(manifest)


@pytest.mark.slow
def test_demo_result_paths(demo: dict[str, Any]) -> None:
    out = demo["out"]
    assert demo["out_dir"] == str(out)
    assert demo["overlay"] == str(out / "overlay.mp4")
    assert demo["radar"] == str(out / "radar.mp4")
    assert demo["readme"] == str(out / "README.md")
    assert demo["clip_video"] == str(out / "synth" / "clip.mp4")
    assert demo["clip_frames"] == FRAMES
    assert tuple(demo["clip_size"]) == SIZE
    mid, last = FRAMES // 2, FRAMES - 1
    assert demo["stills"] == [
        str(out / "stills" / f"{kind}_{k:04d}.png")
        for k in (0, mid, last)
        for kind in ("overlay", "radar", "topdown")
    ]


def test_readme_lists_existing_files(demo: dict[str, Any]) -> None:
    out = demo["out"]
    text = (out / "README.md").read_text()
    ticked = re.findall(r"`([^`\s]+)`", text)
    paths = [p for p in ticked if "/" in p or re.search(r"\.\w+$", p)]
    assert len(paths) >= 15
    for p in paths:
        assert (out / p).exists(), f"README lists {p}, which does not exist"
    # ... and it lists every output the demo is about.
    for p in (
        "synth/clip.mp4",
        "synth/ground_truth.json",
        "synth/homographies.npz",
        "synth/gt/gt.txt",
        "synth/seqinfo.ini",
        "synth/tracks.parquet",
        "synth/tracks.csv",
        "synth/scene.parquet",
        "calibration.json",
        "tracking.json",
        "track/tracks.parquet",
        "track/tracks.csv",
        "overlay.mp4",
        "radar.mp4",
        "stills/",
        "analysis/edg.csv",
        "analysis/edg.png",
        "predictions/",
        "selection/selection.csv",
        "selection/frames/",
        "selection/report.html",
        "selection/report.pdf",
        "selection/label_studio_tasks.json",
        *(str(Path(s).relative_to(out)) for s in demo["stills"]),
    ):
        assert p in paths, f"README does not list {p}"
    w, h = SIZE
    assert f"{FRAMES} frames, {w}x{h}, {FPS:g} fps" in text
    assert "Camera: builtin" in text
    analysis = json.loads((out / "analysis" / "summary.json").read_text())
    # the test clip is tiny (480x270, 1 s): few frames calibrate, so EDG may be undefined here;
    # the analysis still runs and writes its table and plot (`make demo` renders 960x540, 6 s)
    assert analysis["frames"] == FRAMES and (out / "analysis" / "edg.png").stat().st_size > 0
    selection = json.loads((out / "selection" / "report.json").read_text())
    assert selection["counts"] == {"input": FRAMES, "after_thresholds": FRAMES, "selected": 12}
    assert len(list((out / "selection" / "frames").glob("*.png"))) == 12


def _decoded(path: Path) -> tuple[int, set[tuple[int, ...]]]:
    frames = list(iter_frames(path))
    return len(frames), {f.image.shape for f in frames}


def test_videos_decode_with_the_clip_frame_count(demo: dict[str, Any]) -> None:
    out = demo["out"]
    w, h = SIZE
    radar = PitchRaster.fit(Pitch(), width=420, margin=3.0)
    n_clip, clip_shapes = _decoded(out / "synth" / "clip.mp4")
    assert (n_clip, clip_shapes) == (FRAMES, {(h, w, 3)})
    assert _decoded(out / "overlay.mp4") == (FRAMES, {(h, w, 3)})
    assert _decoded(out / "radar.mp4") == (FRAMES, {(radar.height, radar.width, 3)})
    for name in ("overlay.mp4", "radar.mp4"):
        info = probe(out / name)
        assert (info.fps, info.frame_count, info.codec) == (FPS, FRAMES, "h264")


def test_stills_are_pngs_of_the_right_size(demo: dict[str, Any]) -> None:
    w, h = SIZE
    radar = PitchRaster.fit(Pitch(), width=420, margin=3.0)
    top = PitchRaster.fit(Pitch(), px_per_m=8.0, margin=3.0)
    expected = {
        "overlay": (h, w, 3),
        "radar": (radar.height, radar.width, 3),
        "topdown": (top.height, top.width, 3),
    }
    assert expected["radar"] == (280, 420, 3) and expected["topdown"] == (592, 888, 3)
    for s in map(Path, demo["stills"]):
        assert s.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", s
        image = cv2.imread(str(s), cv2.IMREAD_UNCHANGED)
        assert image is not None
        assert image.shape == expected[s.stem.split("_")[0]], s
        assert image.std() > 5, f"{s} is flat"


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("k", [0, FRAMES // 2, FRAMES - 1])
def test_overlay_draws_on_the_clip(demo: dict[str, Any], k: int) -> None:
    out = demo["out"]
    raw = read_frame(out / "synth" / "clip.mp4", k)
    overlay = read_frame(out / "overlay.mp4", k)
    assert mad(raw, overlay) > 1
    # The radar inset: bottom right, 30 % of the width, 12 px from the edges, 85 % opaque.
    w, h = SIZE
    radar = read_frame(out / "radar.mp4", k)
    tw = round(w * 0.3)
    th = round(radar.shape[0] * tw / radar.shape[1])
    box = (slice(h - 12 - th, h - 12), slice(w - 12 - tw, w - 12))
    small = cv2.resize(radar, (tw, th), interpolation=cv2.INTER_AREA)
    blend = (0.85 * small + 0.15 * raw[box] + 0.5).astype(np.uint8)
    assert mad(overlay[box], raw[box]) > 10
    assert mad(overlay[box], blend) < 6
    # The stills are the videos' frames (compared after H.264, hence loosely): the overlay still
    # is closer to the overlay frame than to the raw frame.
    still = cv2.imread(str(out / "stills" / f"overlay_{k:04d}.png"))
    assert mad(still, overlay) < 6
    assert mad(still, overlay) < mad(still, raw) - 0.5
    radar_still = cv2.imread(str(out / "stills" / f"radar_{k:04d}.png"))
    assert mad(radar_still, radar) < 4


def test_demo_calibrates_the_clip_from_pixels(demo: dict[str, Any]) -> None:
    """The overlay is drawn through Touchline's own calibration, which matches the true camera."""
    doc = json.loads((demo["out"] / "calibration.json").read_text())
    summary = doc["summary"]
    assert summary["frames"] == FRAMES and len(doc["frames"]) == FRAMES
    assert summary["calibrated"] >= 0.9 * FRAMES
    assert summary["iou_whole_mean"] >= 0.85


def test_demo_tracks_the_clip_from_pixels(demo: dict[str, Any]) -> None:
    """The demo runs the whole pipeline (detector, calibration, tracker, teams) and scores it."""
    out = demo["out"]
    doc = json.loads((out / "tracking.json").read_text())
    scores, summary = doc["scores"], doc["summary"]
    assert summary["frames"] == FRAMES
    assert (out / "track" / "tracks.parquet").is_file()
    assert (out / "track" / "tracks.csv").is_file()
    assert scores["gt_ids"] >= 10
    # A tiny 480x270 clip of one second: loose floors that still catch a broken stage.
    assert scores["pitch_hota"] >= 0.5, scores
    assert scores["idf1"] >= 0.5, scores
    assert scores["pitch_error_median_m"] <= 1.0, scores
    text = (out / "README.md").read_text()
    assert "HOTA" in text and "tracking.json" in text
