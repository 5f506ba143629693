"""Synthetic clips: the ground truth must be exact.

The painted-line check compares two independent things: the lines as rendered in the frame's
pixels (recovered against a line-free plate of the same frame) and the pitch template projected
through the homography saved in ``ground_truth.json``, rasterised here by supersampling exact
point-in-line tests (none of the renderer's texture, footprint or coverage code is used).
"""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from touchline.pitch import Pitch, convert
from touchline.synth.clip import POSES_FILE, SynthConfig, Synthesizer, synthesize
from touchline.synth.game import simulate_match
from touchline.synth.groundtruth import GroundTruth
from touchline.synth.render import RenderStyle
from touchline.synth.scene import scene_from_lastrow
from touchline.tracks import read_tracks
from touchline.types import CLASS_NAMES, ObjectClass

PITCH = Pitch()


# --------------------------------------------------------------------------------------------
# Independent reference rasteriser
# --------------------------------------------------------------------------------------------
def reference_line_coverage(
    H_img2pitch: np.ndarray, size: tuple[int, int], samples: int = 128
) -> np.ndarray:
    """Share of each pixel inside a painted line, by ``samples`` scrambled Sobol points per
    pixel mapped through the homography and tested against the exact pitch geometry."""
    w, h = size
    hw = PITCH.dims.line_width / 2
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    q = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], axis=1) @ H_img2pitch.T
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = q[:, :2] / q[:, 2:3]
    # The ground is where the map's w has the sign it has at the bottom-centre of the image.
    sign = np.sign(q[(h - 1) * w + w // 2, 2])
    ok = (q[:, 2] * sign > 0) & (np.abs(xy) < 1e4).all(axis=1)
    d = np.full(u.size, 1e3)
    d[ok] = PITCH.paint_distance(xy[ok])
    D = d.reshape(h, w)
    # Pixel footprint across lines from neighbour differences; candidates within reach.
    gx = np.maximum(
        np.abs(np.diff(D, axis=1, prepend=D[:, :1])), np.abs(np.diff(D, axis=1, append=D[:, -1:]))
    )
    gy = np.maximum(
        np.abs(np.diff(D, axis=0, prepend=D[:1])), np.abs(np.diff(D, axis=0, append=D[-1:]))
    )
    band = (hw + 0.8 * (np.minimum(gx, 5) + np.minimum(gy, 5)) + 0.01 > D) & (D < 100)
    ys, xs = np.nonzero(band)
    offsets = qmc.Sobol(2, scramble=True, seed=0).random(samples)
    cov = np.zeros((h, w))
    for s in range(0, len(ys), 4000):
        yy, xx = ys[s : s + 4000], xs[s : s + 4000]
        U = (xx[:, None] + offsets[None, :, 0]).ravel()
        V = (yy[:, None] + offsets[None, :, 1]).ravel()
        p = np.stack([U, V, np.ones_like(U)], axis=1) @ H_img2pitch.T
        inside = PITCH.paint_distance(p[:, :2] / p[:, 2:3]) <= hw
        cov[yy, xx] = inside.reshape(len(yy), samples).mean(axis=1)
    return cov


def frame_line_coverage(image: np.ndarray, plate: np.ndarray, line_color) -> np.ndarray:
    """Coverage of the line colour in each pixel, against the same frame without lines."""
    f, p = image.astype(np.float64), plate.astype(np.float64)
    c = np.asarray(line_color, np.float64)
    den = ((c - p) ** 2).sum(axis=2)
    return np.where(den > 100, ((f - p) * (c - p)).sum(axis=2) / np.maximum(den, 1e-9), 0.0)


# Views: built-in poses and real broadcast poses (from ../shared/data), near and far play.
LINE_CASES = [
    ("builtin", 0, 10, (1280, 720)),
    ("builtin", 3, 20, (960, 540)),
    ("auto", 0, 12, (1280, 720)),
    ("auto", 5, 20, (960, 540)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("camera", "seed", "k", "size"), LINE_CASES)
def test_painted_lines_match_ground_truth_homography(shared, tmp_path, camera, seed, k, size):
    if camera == "auto":
        shared(POSES_FILE)
    cfg = SynthConfig(seconds=(k + 1) / 25, seed=seed, camera=camera, size=size)
    clip = synthesize(cfg, tmp_path)
    gt = GroundTruth.read(clip.out_dir)
    H = np.asarray(gt.frames[k]["homography"])
    syn = Synthesizer(cfg)
    frame = syn.render(k, layers=True)
    plate = syn.render(k, paint_lines=False)
    # Frame-side mask: what the pixels show.
    cov_frame = frame_line_coverage(frame.image, plate.image, syn.renderer.style.line_color)
    # Reference: the template through the saved homography, seen through the same optics.
    cov_ref = reference_line_coverage(H, cfg.size)
    blur = syn.renderer.style.blur_sigma
    if blur > 0:
        cov_ref = cv2.GaussianBlur(cov_ref.astype(np.float32), (0, 0), blur)
    # Ignore pixels where figures, shadows, the ball or boards cover the ground.
    hidden = cv2.dilate(frame.occlusion.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    a = (cov_frame >= 0.5) & ~hidden
    b = (cov_ref >= 0.5) & ~hidden
    assert b.sum() > 500, "the view should show painted lines"
    iou = (a & b).sum() / (a | b).sum()
    print(f"{camera} seed={seed} frame={k}: line IoU {iou:.4f} ({a.sum()} vs {b.sum()} px)")
    assert iou >= 0.95, f"painted-line IoU {iou:.4f} < 0.95 ({a.sum()} vs {b.sum()} px)"


def test_reference_rasteriser_is_not_trivially_agreeing(shared):
    """A camera off by 0.1% in one homography entry must drop the IoU well below 0.95."""
    shared(POSES_FILE)
    cfg = SynthConfig(seconds=0.04 * 11, seed=0, camera="auto", size=(640, 360))
    syn = Synthesizer(cfg)
    cam = syn.cameras[10]
    H = cam.image_to_pitch.copy()
    H_bad = H @ np.array([[1.0, 0, 0], [0, 1.003, 0], [0, 0, 1]])
    good = reference_line_coverage(H, cfg.size, samples=32) >= 0.5
    bad = reference_line_coverage(H_bad, cfg.size, samples=32) >= 0.5
    assert (good & bad).sum() / (good | bad).sum() < 0.8


# --------------------------------------------------------------------------------------------
# Boxes, ids, positions
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("camera", "seed"), [("builtin", 1), ("builtin", 4)])
def test_every_box_contains_its_figure_and_is_tight(camera, seed):
    style = RenderStyle(shadows=False)
    cfg = SynthConfig(seconds=1.2, seed=seed, camera=camera, size=(960, 540), style=style)
    syn = Synthesizer(cfg)
    checked = 0
    for k in (0, 14, 29):
        fr = syn.render(k)
        plate = syn.render(k, actors=False)
        changed = np.abs(fr.image.astype(int) - plate.image.astype(int)).sum(axis=2) > 24
        inside = np.zeros_like(changed)
        for o in fr.objects:
            x1, y1, x2, y2 = (round(v) for v in o.box)
            inside[max(0, y1 - 2) : y2 + 2, max(0, x1 - 2) : x2 + 2] = True
            # Tight: the figure reaches each side of its box (within the optics' blur).
            patch = changed[max(0, y1 - 2) : y2 + 2, max(0, x1 - 2) : x2 + 2]
            if o.visibility > 0.99 and patch.any() and (x2 - x1) * (y2 - y1) > 40:
                rows, cols = np.nonzero(patch)
                assert rows.min() <= 4 and cols.min() <= 4, f"box of {o.id} too big at top/left"
                assert patch.shape[0] - rows.max() <= 5 and patch.shape[1] - cols.max() <= 5, (
                    f"box of {o.id} too big at bottom/right"
                )
            checked += 1
        outside = changed & ~inside
        assert outside.sum() == 0, f"frame {k}: {outside.sum()} figure pixels outside every box"
    assert checked >= 15


def test_ground_truth_is_consistent(tmp_path):
    cfg = SynthConfig(seconds=1.0, seed=2, camera="builtin", size=(640, 360))
    clip = synthesize(cfg, tmp_path)
    gt = GroundTruth.read(clip.out_dir)
    assert len(gt) == 25 and gt.meta["n_frames"] == 25
    n_objects = 0
    for k, f in enumerate(gt.frames):
        cal = gt.calibration(k)
        ids = [o["id"] for o in f["objects"]]
        assert len(ids) == len(set(ids))
        for o in f["objects"]:
            x1, y1, x2, y2 = o["box"]
            assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 360
            assert o["class"] in CLASS_NAMES and 0 <= o["visibility"] <= 1
            # The saved homography takes the foot point to the saved pitch position.
            back = cal.image_to_pitch(np.array([o["foot"]]))[0]
            np.testing.assert_allclose(back, o["pitch"], atol=2e-3)
            if o["class"] != "ball" and o["visibility"] == 1.0 and y2 < 359:
                # The feet are at the bottom of the box.
                assert y2 - (y2 - y1) * 0.2 <= o["foot"][1] <= y2 + 1.5
        n_objects += len(f["objects"])
    # MOT file mirrors the JSON (1-based frames, class id + 1).
    mot = np.loadtxt(clip.mot_gt, delimiter=",", ndmin=2)
    assert len(mot) == n_objects
    first = gt.frames[0]["objects"][0]
    row = mot[(mot[:, 0] == 1) & (mot[:, 1] == first["id"])][0]
    np.testing.assert_allclose(
        row[2:6],
        [
            first["box"][0],
            first["box"][1],
            first["box"][2] - first["box"][0],
            first["box"][3] - first["box"][1],
        ],
        atol=0.01,
    )
    assert row[7] == CLASS_NAMES.index(first["class"]) + 1
    ini = (clip.out_dir / "seqinfo.ini").read_text()
    assert "seqLength = 25" in ini and "imWidth = 640" in ini and "frameRate = 25" in ini
    # The arrays agree with the JSON; the tracks table holds every object.
    npz = np.load(clip.homographies)
    np.testing.assert_allclose(npz["image_to_pitch"][7], gt.frames[7]["homography"], rtol=1e-12)
    tracks = read_tracks(clip.tracks)
    assert len(tracks) == n_objects and tracks.fps == 25.0
    scene = pd.read_parquet(clip.scene)
    assert len(scene) == 25 * len(gt.meta["actors"])
    ids = {a["id"] for a in gt.meta["actors"]}
    assert set(tracks.df["track_id"]) <= ids


def test_deterministic_for_a_seed():
    cfg = SynthConfig(seconds=0.2, seed=11, camera="builtin", size=(320, 180))
    a, b = Synthesizer(cfg).render(3), Synthesizer(cfg).render(3)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.objects == b.objects
    c = Synthesizer(replace(cfg, seed=12)).render(3)
    assert not np.array_equal(a.image, c.image)


def test_cast_and_camera_follow_play():
    syn = Synthesizer(SynthConfig(seconds=4.0, seed=0, camera="builtin", size=(640, 360)))
    roles = [a.role for a in syn.scene.actors]
    assert roles.count(ObjectClass.PLAYER) == 20
    assert roles.count(ObjectClass.GOALKEEPER) == 2
    assert roles.count(ObjectClass.REFEREE) == 3
    assert roles.count(ObjectClass.BALL) == 1
    teams = {a.team for a in syn.scene.actors if a.role == ObjectClass.PLAYER}
    assert teams == {0, 1}
    # The ball stays in view: the camera follows play.
    in_view = 0
    for k in range(0, 100, 10):
        fr = syn.render(k)
        in_view += any(o.role == ObjectClass.BALL for o in fr.objects)
    assert in_view >= 8


# --------------------------------------------------------------------------------------------
# Motion
# --------------------------------------------------------------------------------------------
def test_game_model_is_physical_and_lively():
    scene = simulate_match(seconds=30.0, fps=25.0, seed=4)
    n_players = 22
    xy = scene.xy[:, :n_players]
    assert np.isfinite(xy).all()
    assert (xy[..., 0] >= 0).all() and (xy[..., 0] <= 105).all()
    assert (xy[..., 1] >= 0).all() and (xy[..., 1] <= 68).all()
    speed = np.linalg.norm(np.diff(xy, axis=0), axis=2) * 25
    assert speed.max() <= 7.6  # never faster than a sprinter
    assert 1.0 < speed.mean() < 5.0
    ball = scene.xy[:, n_players]
    ball_speed = np.linalg.norm(np.diff(ball, axis=0), axis=1) * 25
    assert ball_speed.max() > 10  # passes happen
    assert np.abs(np.diff(ball[:, 0])).sum() > 150  # the ball travels
    np.testing.assert_array_equal(scene.xy, simulate_match(30.0, 25.0, seed=4).xy)


def test_velocity_at_matches_full_velocity():
    scene = simulate_match(seconds=2.0, fps=25.0, seed=1)
    full = scene.velocity()
    for k in (0, 1, 25, 49):
        np.testing.assert_allclose(scene.velocity_at(k), full[k], atol=1e-9)


def test_scene_from_lastrow_matches_the_csv(shared):
    path = shared("tracking/lastrow/LIV_[2]-1_CHE.csv")
    scene = scene_from_lastrow(path, fps=20.0)  # the data's own rate: no interpolation
    raw = pd.read_csv(path)
    first = raw[raw["frame"] == 0]
    expected = convert(first[["x", "y"]].to_numpy(), "lastrow", "touchline")
    got = scene.xy[0, : len(first)]
    # Every CSV entity appears at its converted position (order may differ; the tracks table
    # stores positions as float32, so to within its rounding).
    d = np.linalg.norm(expected[:, None] - got[None], axis=2)
    assert d.min(axis=1).max() < 1e-5
    assert scene.n_frames == raw["frame"].nunique()
    roles = [a.role for a in scene.actors]
    # touchline.io recognises the defending goalkeeper; the attacking one is not in the file.
    assert roles.count(ObjectClass.BALL) == 1 and roles.count(ObjectClass.GOALKEEPER) == 1
    assert roles.count(ObjectClass.PLAYER) == 19 and roles.count(ObjectClass.REFEREE) == 3
    gk = next(a for a in scene.actors if a.role == ObjectClass.GOALKEEPER)
    assert gk.team == 1
    # Shirts in the file's bgcolor (attack red, defense blue; BGR), numbers from player_num.
    shirts = {a.team: a.kit.shirt for a in scene.actors if a.role == ObjectClass.PLAYER}
    assert shirts == {0: (0, 0, 255), 1: (255, 0, 0)}
    assert sorted(a.number for a in scene.actors if a.number) == [9, 10]
    # Resampled to 25 fps: same start, same duration to within a frame.
    s25 = scene_from_lastrow(path, fps=25.0)
    assert abs(s25.duration - scene.duration) <= 1 / 20 + 1e-9
    np.testing.assert_allclose(s25.xy[0, :21], scene.xy[0, :21])


def test_synth_from_real_tracking_uses_it(shared, tmp_path):
    path = shared("tracking/lastrow/Real_vs_Barcelona_Calma.csv")
    cfg = SynthConfig(seconds=0.4, seed=0, camera="builtin", size=(480, 270), tracking=path)
    clip = synthesize(cfg, tmp_path)
    gt = GroundTruth.read(clip.out_dir)
    assert gt.meta["scene_source"].startswith("lastrow:")
    scene = scene_from_lastrow(path, fps=25.0)
    for o in gt.frames[5]["objects"]:
        i = next(i for i, a in enumerate(scene.actors) if a.id == o["id"])
        np.testing.assert_allclose(o["pitch"], scene.xy[5, i], atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seconds": 0}, "seconds must be positive"),
        ({"fps": -1}, "fps must be positive"),
        ({"size": (10, 10)}, "size must be between"),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SynthConfig(**kwargs)


def test_bad_inputs_name_the_file(tmp_path):
    from touchline.errors import DataError

    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n1,2\n")
    with pytest.raises(DataError, match=r"notes\.csv"):
        Synthesizer(SynthConfig(seconds=0.1, tracking=bad, camera="builtin"))
    npz = tmp_path / "cams.npz"
    npz.write_bytes(b"not an npz at all")
    with pytest.raises(DataError, match=r"cams\.npz"):
        Synthesizer(SynthConfig(seconds=0.1, camera=str(npz)))
    with pytest.raises(DataError, match=r"missing\.csv"):
        Synthesizer(SynthConfig(seconds=0.1, tracking=tmp_path / "missing.csv"))
    np.savez(tmp_path / "wrong.npz", X=np.zeros(3))
    with pytest.raises(DataError, match="has no array 'H'"):
        Synthesizer(SynthConfig(seconds=0.1, camera=str(tmp_path / "wrong.npz")))


def test_ground_truth_reader_errors(tmp_path):
    from touchline.errors import DataError

    with pytest.raises(DataError, match="no such ground-truth file"):
        GroundTruth.read(tmp_path)
    (tmp_path / "ground_truth.json").write_text(json.dumps({"frames": []}))
    with pytest.raises(DataError, match="not a touchline synth ground truth"):
        GroundTruth.read(tmp_path)
