"""Tests of touchline.viz.animation: frames rendered on one figure and streamed to an mp4.

Videos are read back with touchline.video; every table is built here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from touchline.analytics.pitch_control import grid_centres
from touchline.errors import DataError
from touchline.tracks import TRACK_COLUMN_NAMES, Tracks
from touchline.video import VideoReader, probe
from touchline.viz import PLOT_COLORS, animate, draw_pitch, figure_to_rgb

FPS = 25.0
SPEED = 25.0  # m/s: a fast mover makes the motion easy to measure


def _runner(n_frames: int = 12, *, fps: float | None = FPS) -> Tracks:
    """One team-0 player running along y = 34 from x = 20 at SPEED m/s, and a still ball."""
    t = np.arange(n_frames) / FPS
    df = pd.DataFrame(
        {
            "frame": np.repeat(np.arange(n_frames), 2),
            "time": np.repeat(t, 2),
            "track_id": np.tile([0, 5], n_frames),
            "class_id": np.tile([3, 0], n_frames),
            "class_name": np.tile(["ball", "player"], n_frames),
            "team": np.tile([-1, 0], n_frames),
            "pitch_x": np.c_[np.full(n_frames, 90.0), 20.0 + SPEED * t].ravel(),
            "pitch_y": np.c_[np.full(n_frames, 60.0), np.full(n_frames, 34.0)].ravel(),
        }
    )
    for col in TRACK_COLUMN_NAMES:
        if col not in df.columns:
            df[col] = 0.0
    return Tracks(df, fps=fps)


def _blue_centroid_x(bgr: np.ndarray) -> float:
    """Mean column of the pixels in team 0's colour (the runner's disc)."""
    b, g, r = (np.round(np.asarray(PLOT_COLORS[0]) * 255)[::-1]).tolist()
    diff = np.abs(bgr.astype(int) - [b, g, r]).max(axis=2)
    cols = np.nonzero(diff < 40)[1]
    assert cols.size > 10, "the runner's disc is not in the frame"
    return float(cols.mean())


def test_animate_writes_every_frame_and_the_runner_moves(tmp_path: Path) -> None:
    done: list[tuple[int, int]] = []
    path = animate(
        _runner(), tmp_path / "play.mp4", dpi=40, radius=2.5, ids=False,
        progress=lambda k, n: done.append((k, n)),
    )  # fmt: skip
    assert path == tmp_path / "play.mp4"
    info = probe(path)
    assert info.frame_count == 12 and info.fps == FPS
    # 9 inches at 40 dpi; the height follows the pitch (plus the clock strip), both even.
    assert info.width == 360 and info.height % 2 == 0 and 240 < info.height < 260
    assert done == [(k, 12) for k in range(1, 13)]
    with VideoReader(path) as reader:
        frames = [f.image for f in reader]
    assert len(frames) == 12 and frames[0].shape == (info.height, info.width, 3)
    assert frames[0].std() > 5  # not blank
    # The disc moves right by SPEED * 11 / FPS = 11 m, i.e. 11 m * (360 px / 111 m).
    shift = _blue_centroid_x(frames[-1]) - _blue_centroid_x(frames[0])
    assert shift == pytest.approx(11.0 * 360 / 111, abs=2.0)


def test_animate_frames_fps_and_surface(tmp_path: Path) -> None:
    calls: list[int] = []
    xs, ys = grid_centres((8, 5))

    def surface(frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        calls.append(frame)
        return np.full((5, 8), 1.0), xs, ys

    path = animate(
        _runner(fps=None), tmp_path / "s.mp4", frames=[6, 2, 4], fps=10.0, dpi=30,
        surface_fn=surface, surface_kw={"cmap": "gray", "alpha": 1.0},
    )  # fmt: skip
    info = probe(path)
    assert (info.frame_count, info.fps) == (3, 10.0)
    assert calls == [6, 2, 4]
    with VideoReader(path) as reader:
        image = next(iter(reader)).image
    # The surface (value 1 in "gray": white) covers the pitch: a quarter of the way across.
    h, w = image.shape[:2]
    assert image[int(h * 0.3), int(w * 0.25)].min() > 200


def test_animate_voronoi(tmp_path: Path) -> None:
    colours = []
    for voronoi in (False, True):
        path = animate(_runner(3), tmp_path / f"v{voronoi}.mp4", voronoi=voronoi, dpi=30)
        with VideoReader(path) as reader:
            image = next(iter(reader)).image
        h, w = image.shape[:2]
        colours.append(image[int(h * 0.3), int(w * 0.7)].astype(int))  # BGR
    (b0, g0, _), (b1, _, _) = colours
    assert g0 > b0 + 40  # grass
    assert b1 > b0 + 40  # the only team player's cell covers the pitch in team 0's blue


def test_animate_failures_leave_no_file(tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    with pytest.raises(DataError, match="no frames"):
        animate(_runner(), out, frames=[])
    assert not out.exists()

    def broken(frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if frame == 3:
            raise RuntimeError("surface failed")
        xs, ys = grid_centres((4, 3))
        return np.zeros((3, 4)), xs, ys

    with pytest.raises(RuntimeError, match="surface failed"):
        animate(_runner(), out, surface_fn=broken, dpi=20)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_figure_to_rgb() -> None:
    ax = draw_pitch(figsize=(3.0, 2.0))
    rgb = figure_to_rgb(ax.figure)  # type: ignore[arg-type]
    assert rgb.shape == (200, 300, 3) and rgb.dtype == np.uint8
    r, g, _ = rgb[60, 80].astype(int)
    assert g > r + 40  # grass
