"""Tests of touchline.viz.pitch_plot: the pitch, frames, players, Voronoi cells, surfaces, series.

Plots are rendered with the Agg canvas and checked on their pixels: a pitch point is pushed
through ``ax.transData`` to find the pixel where it is drawn. Every table is built here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.image import AxesImage

from touchline.analytics.pitch_control import grid_centres, pitch_control
from touchline.analytics.voronoi import polygon_area
from touchline.errors import DataError
from touchline.pitch import Pitch
from touchline.tracks import TRACK_COLUMN_NAMES, Tracks
from touchline.video import read_image
from touchline.viz import (
    PITCH_THEMES,
    PLOT_COLORS,
    control_cmap,
    draw_pitch,
    figure_to_rgb,
    plot_frame,
    plot_pitch_control,
    plot_players,
    plot_series,
    plot_surface,
)

FPS = 25.0
CLASS_IDS = {"player": 0, "goalkeeper": 1, "referee": 2, "ball": 3}


def _play(
    n_frames: int = 5,
    *,
    meta: dict | None = None,
    pitch_size: tuple[float, float] = (105.0, 68.0),
    extra: dict[str, list[float]] | None = None,
) -> Tracks:
    """Six team players (a keeper each side), a referee, an unknown person and the ball.

    Track 2 (team 0) runs along x at 5 m/s; everyone else stands still.
    """
    people = [
        # track_id, class, team, x, y
        (1, "goalkeeper", 0, 5.0, 34.0),
        (2, "player", 0, 30.0, 20.0),
        (3, "player", 0, 40.0, 50.0),
        (11, "goalkeeper", 1, 100.0, 34.0),
        (12, "player", 1, 70.0, 20.0),
        (13, "player", 1, 75.0, 50.0),
        (50, "referee", -1, 52.5, 10.0),
        (60, "player", -1, 20.0, 60.0),
        (0, "ball", -1, 60.0, 40.0),
    ]
    rows = []
    for f in range(n_frames):
        t = f / FPS
        for tid, cls, team, x, y in people:
            rows.append((f, t, tid, cls, team, x + (5.0 * t if tid == 2 else 0.0), y))
    df = pd.DataFrame(rows, columns=["frame", "time", "track_id", "class_name", "team", "px", "py"])
    df = df.rename(columns={"px": "pitch_x", "py": "pitch_y"})
    df["class_id"] = df["class_name"].map(CLASS_IDS)
    for col in TRACK_COLUMN_NAMES:
        if col not in df.columns:
            df[col] = 0.9 if col == "confidence" else 0.0
    for col, values in (extra or {}).items():
        df[col] = values
    return Tracks(df, fps=FPS, pitch_size=pitch_size, meta=meta)


def _rgb(ax: Axes) -> np.ndarray:
    return figure_to_rgb(ax.figure)  # type: ignore[arg-type]


def _pixel(ax: Axes, rgb: np.ndarray, x: float, y: float) -> np.ndarray:
    """The RGB colour (0..255) where pitch point (x, y) is drawn."""
    u, v = ax.transData.transform((x, y))
    return rgb[int(rgb.shape[0] - v), int(u)].astype(int)


def _close(color: np.ndarray, rgb01: tuple[float, ...], tol: int = 12) -> bool:
    return bool(np.abs(color - np.round(np.asarray(rgb01[:3]) * 255)).max() <= tol)


def _gid(ax: Axes, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


# --------------------------------------------------------------------------------------------
# draw_pitch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("theme", "size"), [("grass", (105.0, 68.0)), ("light", (105.0, 68.0)), ("grass", (90.0, 60.0))]
)
def test_draw_pitch_png_geometry_and_colours(
    tmp_path: Path, theme: str, size: tuple[float, float]
) -> None:
    pitch = Pitch.of_size(*size)
    ax = draw_pitch(pitch=pitch, theme=theme)  # type: ignore[arg-type]
    L, W = size
    assert [float(v) for v in ax.get_xlim()] == [-3.0, L + 3.0]
    assert [float(v) for v in ax.get_ylim()] == [W + 3.0, -3.0]  # y down
    assert ax.get_aspect() == 1.0 and not ax.get_xticks().size and not ax.get_yticks().size
    # The top touchline is drawn above the bottom one.
    assert ax.transData.transform((10, 0))[1] > ax.transData.transform((10, W))[1]

    path = tmp_path / "pitch.png"
    ax.figure.savefig(path)
    image = read_image(path)
    assert image.std() > 5  # not blank

    rgb = _rgb(ax)
    grass = _pixel(ax, rgb, L * 0.3, W * 0.3)  # away from every line
    if theme == "grass":
        r, g, b = grass
        assert g > r + 40 and g > b + 40  # green
    else:
        assert grass.min() > 235  # paper
    # The halfway line is painted in the line colour (a pixel of the 3x3 neighbourhood).
    u, v = ax.transData.transform((L / 2, W * 0.3))
    block = rgb[int(rgb.shape[0] - v) - 1 : int(rgb.shape[0] - v) + 2, int(u) - 1 : int(u) + 2]
    line = np.round(np.asarray(_to_rgb(PITCH_THEMES[theme].line)) * 255)
    assert np.abs(block.reshape(-1, 3) - line).max(axis=1).min() <= 25
    # Every painted element is drawn: lines and arcs, three spots, two goals.
    (lines,) = _gid(ax, "pitch-lines")
    arcs = len([a for a in pitch.arcs if not a.filled])
    assert len(lines.get_segments()) == len(pitch.segments) + arcs
    assert len(_gid(ax, "pitch-spots")[0].get_paths()) == 3
    assert len(_gid(ax, "pitch-goals")[0].get_paths()) == 2


def _to_rgb(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"theme": "night"}, ValueError), ({"margin": -1.0}, ValueError)],
)
def test_draw_pitch_rejects_bad_arguments(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        draw_pitch(**kwargs)


def test_plots_leave_no_pyplot_state() -> None:
    before = (
        sys.modules["matplotlib.pyplot"].get_fignums() if "matplotlib.pyplot" in sys.modules else []
    )
    draw_pitch()
    plot_frame(_play(), 0)
    plot_series([0.0, 1.0], [0.0, 1.0])
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == before


# --------------------------------------------------------------------------------------------
# plot_players
# --------------------------------------------------------------------------------------------


def test_plot_players_discs_are_drawn_where_the_players_are() -> None:
    xy = np.array([[30.0, 20.0], [70.0, 45.0], [50.0, 60.0], [90.0, 10.0], [np.nan, 3.0]])
    ax = plot_players(None, xy, team=[0, 1, -1, 0, 1], classes=["player"] * 3 + ["referee"] * 2)
    rgb = _rgb(ax)
    assert _close(_pixel(ax, rgb, 30.0, 20.0), PLOT_COLORS[0])
    assert _close(_pixel(ax, rgb, 70.0, 45.0), PLOT_COLORS[1])
    assert _close(_pixel(ax, rgb, 50.0, 60.0), PLOT_COLORS["unknown"])
    assert _close(_pixel(ax, rgb, 90.0, 10.0), PLOT_COLORS["referee"])  # referee: grey
    (discs,) = _gid(ax, "players")
    assert len(discs.get_offsets()) == 4  # the NaN row is skipped
    # Off the disc (1.5 m away) it is grass again.
    r, g, _ = _pixel(ax, rgb, 31.5, 20.0)
    assert g > r + 40


def test_plot_players_goalkeeper_ring_labels_and_colour_overrides() -> None:
    ax = plot_players(
        None, [[20.0, 20.0], [60.0, 30.0]], team=[0, 1], ids=[1, "A"],
        classes=["goalkeeper", "player"], team_colors={1: "yellow"}, radius=2.0,
    )  # fmt: skip
    rgb = _rgb(ax)
    assert _close(_pixel(ax, rgb, 20.0, 21.2), PLOT_COLORS[0])  # team fill inside the ring
    assert _close(_pixel(ax, rgb, 20.0, 21.97), PLOT_COLORS["goalkeeper"], tol=40)  # the ring
    assert _close(_pixel(ax, rgb, 60.0, 31.2), (1.0, 1.0, 0.0))
    (labels,) = _gid(ax, "labels")
    assert labels.texts == ["1", "A"]
    # Light discs get dark labels and dark discs light ones.
    assert [tuple(c[:3]) for c in labels.get_facecolors()] == [(1.0, 1.0, 1.0), (0.0, 0.0, 0.0)]


def test_plot_players_velocity_arrows() -> None:
    xy = [[20.0, 20.0], [40.0, 30.0], [60.0, 40.0], [80.0, 50.0]]
    vel = [[4.0, 0.0], [0.0, -3.0], [0.1, 0.0], [np.nan, np.nan]]  # slow and NaN: no arrow
    ax = plot_players(None, xy, team=[0, 1, 0, 1], vel=vel, arrow_seconds=2.0)
    (q,) = _gid(ax, "velocities")
    np.testing.assert_allclose(q.get_offsets(), [[20.0, 20.0], [40.0, 30.0]])
    np.testing.assert_allclose(np.c_[q.U, q.V], [[8.0, 0.0], [0.0, -6.0]])
    # The arrow tip is drawn 8 m ahead of the first player (past its disc).
    rgb = _rgb(ax)
    assert _close(_pixel(ax, rgb, 26.0, 20.0), PLOT_COLORS[0], tol=40)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"xy": [1.0, 2.0, 3.0], "team": [0]}, "xy"),
        ({"xy": [[1.0, 2.0]], "team": [0, 1]}, "team"),
        ({"xy": [[1.0, 2.0]], "team": [0], "vel": [[1.0, 2.0], [3.0, 4.0]]}, "vel"),
        ({"xy": [[1.0, 2.0]], "team": [0], "ids": [1, 2]}, "ids"),
        ({"xy": [[1.0, 2.0]], "team": [0], "classes": []}, "classes"),
    ],
)
def test_plot_players_rejects_bad_shapes(kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        plot_players(None, **kwargs)


def test_plot_players_draws_on_a_blank_axes_and_accepts_no_players() -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    out = plot_players(ax, np.zeros((0, 2)), team=[])
    assert out is ax and _gid(ax, "pitch-lines") and not _gid(ax, "players")


# --------------------------------------------------------------------------------------------
# plot_frame
# --------------------------------------------------------------------------------------------


def test_plot_frame_png_players_ball_and_labels(tmp_path: Path) -> None:
    meta = {"players": {"2": {"jersey": 9}, "12": {"jersey": "10"}, "13": {"name": "x"}}}
    tracks = _play(meta=meta)
    ax = plot_frame(tracks, 2)
    path = tmp_path / "frame.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 0 and read_image(path).std() > 5

    (discs,) = _gid(ax, "players")
    assert len(discs.get_offsets()) == 8  # all but the ball
    (labels,) = _gid(ax, "labels")
    # Some players have no jersey: track ids for all (a mix could show one number twice).
    assert labels.texts == ["1", "2", "3", "11", "12", "13", "50", "60"]
    every = {str(i): {"jersey": i + 100} for i in (1, 2, 3, 11, 12, 13, 50, 60)}
    (full,) = _gid(plot_frame(_play(meta={"players": every}), 2), "labels")
    assert full.texts == ["101", "102", "103", "111", "112", "113", "150", "160"]
    rgb = _rgb(ax)
    assert _close(_pixel(ax, rgb, 60.0, 40.0), PLOT_COLORS["ball"])  # the ball, white
    x2 = 30.0 + 5.0 * 2 / FPS
    assert _close(_pixel(ax, rgb, x2, 20.0 + 0.75), PLOT_COLORS[0])  # below the label
    assert _close(_pixel(ax, rgb, 70.0, 20.75), PLOT_COLORS[1])
    assert ax.get_title() == "frame 2  ·  00:00.08"


def test_plot_frame_of_a_frame_not_in_the_tracks_is_an_error() -> None:
    from touchline.errors import DataError

    tracks = _play()
    last = int(tracks.df["frame"].max())
    with pytest.raises(DataError, match=f"frame {last + 5} is not in the tracks"):
        plot_frame(tracks, last + 5)


def test_plot_frame_velocities_from_finite_differences_and_columns() -> None:
    tracks = _play()
    for frame in (0, 2, 4):  # one-sided at the ends, central inside
        (q,) = _gid(plot_frame(tracks, frame, ids=False), "velocities")
        np.testing.assert_allclose(np.c_[q.U, q.V], [[5.0, 0.0]], atol=1e-4)  # only track 2 moves
    n = len(tracks)
    vx = np.where(tracks.df["track_id"] == 3, 2.0, 0.0)
    with_columns = _play(extra={"vx": list(vx), "vy": [1.0] * n})
    (q,) = _gid(plot_frame(with_columns, 1), "velocities")
    assert len(q.U) == 9 - 1  # every person (not the ball) moves down at 1 m/s
    assert sorted(zip(q.U.tolist(), q.V.tolist(), strict=True))[-1] == (2.0, 1.0)
    assert not _gid(plot_frame(tracks, 1, velocities=False), "velocities")


def test_plot_frame_voronoi_cells_one_per_team_player() -> None:
    tracks = _play(pitch_size=(100.0, 64.0))
    ax = plot_frame(tracks, 0, voronoi=True)
    (cells,) = _gid(ax, "voronoi")
    polys = [p.vertices for p in cells.get_paths()]
    assert len(polys) == 6  # team players only: not the referee, the unknown person or ball
    assert sum(polygon_area(p) for p in polys) == pytest.approx(100.0 * 64.0, rel=1e-6)
    assert [float(v) for v in ax.get_xlim()] == [-3.0, 103.0]  # the table's pitch size
    # Cells are filled in team colours, under the pitch lines.
    rgb = _rgb(ax)
    r, _, _ = _pixel(ax, rgb, 85.0, 5.0)  # team 1's cell: reddish over the grass
    assert r > 90
    (lines,) = _gid(ax, "pitch-lines")
    assert cells.get_zorder() < lines.get_zorder() < _gid(ax, "players")[0].get_zorder()


@pytest.mark.parametrize(
    ("direction", "meta", "expected"),
    [
        (None, None, None),
        ("right", None, 1),
        (-1, None, -1),
        (None, {"attack_direction": {"1": "left"}}, -1),  # no period column: all period 1
        ("left_to_right", {"attack_direction": {"1": "left"}}, 1),  # the argument wins
    ],
)
def test_plot_frame_attack_direction(
    direction: str | int | None, meta: dict | None, expected: int | None
) -> None:
    ax = plot_frame(_play(meta=meta), 0, attack_direction=direction)
    arrows = _gid(ax, "attack-direction")
    if expected is None:
        assert not arrows
        return
    assert len(arrows) == 2
    # Team 0's arrow (first; its first vertex is the tip) points towards +x for "right", and
    # team 1's the other way; both lie in the margin below the pitch.
    for arrow, sign in zip(arrows, (expected, -expected), strict=True):
        xy = arrow.get_xy()
        assert np.sign(xy[0, 0] - xy[:, 0].mean()) == sign
        assert (xy[:, 1] > 68.0).all()


def test_plot_frame_options_and_empty_frames() -> None:
    tracks = _play()
    gap = tracks.with_table(tracks.df[tracks.df["frame"] != 1].reset_index(drop=True))
    ax = plot_frame(gap, 1, title="")  # a tracking gap, no rows: only the pitch
    assert ax.get_title() == "" and not _gid(ax, "players") and not _gid(ax, "ball")
    ax = plot_frame(tracks, 0, ball=False, ids=False, title="kick-off")
    assert ax.get_title() == "kick-off" and not _gid(ax, "ball") and not _gid(ax, "labels")
    shared = draw_pitch(theme="light")
    assert plot_frame(tracks, 0, shared) is shared
    with pytest.raises(ValueError, match="team_colors"):
        plot_frame(tracks, 0, team_colors={"coach": "red"})
    with pytest.raises(TypeError, match="Tracks"):
        plot_frame(tracks.df, 0)


# --------------------------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------------------------


def test_plot_surface_extent_pixels_and_layering(tmp_path: Path) -> None:
    xs, ys = grid_centres((10, 6))
    values = np.tile(np.linspace(0.0, 1.0, 10), (6, 1))
    values[0, 0] = np.nan  # transparent
    ax = plot_surface(values, xs, ys, cmap="viridis", vmin=0.0, vmax=1.0, alpha=1.0, label="v")
    (image,) = ax.images
    assert image.get_extent() == pytest.approx([0.0, 105.0, 68.0, 0.0], abs=1e-9)
    assert len(ax.figure.axes) == 2  # the colorbar
    rgb = _rgb(ax)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    assert _close(_pixel(ax, rgb, xs[9], ys[3]), cmap(1.0), tol=3)  # right column: value 1
    assert _close(_pixel(ax, rgb, xs[4], ys[5] + 3), cmap(4 / 9), tol=3)
    r, g, _ = _pixel(ax, rgb, xs[0], ys[0])  # NaN cell: the grass shows
    assert g > r + 40
    # Lines stay on top of the surface.
    assert _close(_pixel(ax, rgb, 52.5, 0.0), (1.0, 1.0, 1.0), tol=40)
    ax.figure.savefig(tmp_path / "surface.png")
    assert read_image(tmp_path / "surface.png").std() > 5


def test_plot_surface_irregular_grid_and_errors() -> None:
    ax = plot_surface(np.ones((2, 3)), [5.0, 20.0, 80.0], [10.0, 50.0], colorbar=False)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_gid() == "surface" and not ax.images
    assert [float(v) for v in ax.get_xlim()] == [-3.0, 108.0]  # the pitch view is kept
    with pytest.raises(DataError, match=r"\(2, 3\)"):
        plot_surface(np.ones((3, 2)), [5.0, 20.0, 80.0], [10.0, 50.0])
    with pytest.raises(DataError, match="monotonic"):
        plot_surface(np.ones((1, 3)), [5.0, 20.0, 10.0], [10.0])


def test_plot_pitch_control_colours_follow_the_attacking_team() -> None:
    result = pitch_control(
        [[30.0, 34.0]], [[0.0, 0.0]], [[80.0, 34.0]], [[0.0, 0.0]], None, grid=(21, 14)
    )
    tracks = _play()
    ax = plot_pitch_control(result, tracks, 0, attacking_team=0, alpha=1.0, interpolation="nearest")
    image = next(a for a in ax.get_children() if isinstance(a, AxesImage))
    assert image.get_array().shape == (14, 21)
    assert _gid(ax, "players")  # players on top
    rgb = _rgb(ax)
    # Near the attacker the control is 1: team 0's colour; near the defender team 1's.
    assert _close(_pixel(ax, rgb, 15.0, 8.0), PLOT_COLORS[0], tol=15)
    assert _close(_pixel(ax, rgb, 95.0, 8.0), PLOT_COLORS[1], tol=15)
    assert _close(np.round(np.asarray(control_cmap(1)(1.0)[:3]) * 255), PLOT_COLORS[1], tol=1)
    assert control_cmap(None).name == "bwr"
    with pytest.raises(ValueError, match="attacking_team"):
        control_cmap(2)


# --------------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------------


def test_plot_series_lines_smoothing_and_events(tmp_path: Path) -> None:
    t = np.arange(0.0, 20.0, 0.04)
    v = np.where(t < 10.0, 0.0, 1.0) + np.where(np.arange(t.size) % 2, 0.2, -0.2)
    events = [(10.0, "goal"), (10.3, "restart"), (15.0, "shot")]
    ax = plot_series(t, v, events=events, smooth=1.0, label="EDG", ylabel="EDG (xG)")
    raw, smooth = ax.get_lines()[:2]
    assert raw.get_label() == "EDG" and smooth.get_label() == "EDG (1 s mean)"
    s = np.asarray(smooth.get_ydata())
    # The alternating noise averages out away from the step; the step survives.
    assert np.abs(s[(t > 1) & (t < 9)]).max() < 0.02
    assert np.abs(s[(t > 11) & (t < 19)] - 1.0).max() < 0.02
    assert len(_gid(ax, "event")) == 3
    labels = _gid(ax, "event-label")
    assert [a.get_text().strip() for a in labels] == ["goal", "restart", "shot"]
    heights = [a.get_position()[1] for a in labels]
    assert heights[0] != heights[1] and heights[2] == heights[0]  # close labels are stacked
    assert ax.get_ylabel() == "EDG (xG)"
    ax.figure.savefig(tmp_path / "series.png")
    assert read_image(tmp_path / "series.png").std() > 5


def test_plot_series_given_smooth_values_and_errors() -> None:
    t = np.arange(5.0)
    ax = plot_series(t, t**2, smooth=t**2 - 1)
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), t**2 - 1)
    with pytest.raises(DataError, match="times"):
        plot_series(t, t[:3])
    with pytest.raises(DataError, match="smooth"):
        plot_series(t, t, smooth=[1.0, 2.0])
    with pytest.raises(ValueError, match="seconds"):
        plot_series(t, t, smooth=-1.0)
