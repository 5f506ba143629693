"""Animate a tracks table on the pitch (matplotlib, Agg) and write it as an mp4.

:func:`animate` draws the pitch once on one reused Figure, caches the rendered background and,
for every frame, only draws that frame's artists (surface, Voronoi cells, the pitch lines above
them, arrows, players, labels, ball, clock) over it (blitting), converts the canvas to an
array and streams it to :class:`touchline.video.VideoWriter`: memory stays bounded whatever the
number of frames.

>>> import pathlib, shutil, tempfile
>>> import pandas as pd
>>> from touchline.tracks import TRACK_COLUMN_NAMES, Tracks
>>> from touchline.video import probe
>>> rows = pd.DataFrame({c: [0] * 3 for c in TRACK_COLUMN_NAMES}).assign(
...     frame=[0, 1, 2], time=[0.0, 0.04, 0.08], track_id=4, class_name="player", team=0,
...     pitch_x=[40.0, 40.2, 40.4], pitch_y=20.0)
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> info = probe(animate(Tracks(rows, fps=25.0), d / "play.mp4", dpi=40))
>>> info.frame_count, info.width % 2, info.height % 2
(3, 0, 0)
>>> shutil.rmtree(d)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.video import DEFAULT_FPS, VideoWriter
from touchline.viz.pitch_plot import (
    PITCH_GIDS,
    ColorKey,
    PitchTheme,
    ThemeName,
    _frame_artists,
    _frame_title,
    _FrameIndex,
    _palette,
    _pitch_figsize,
    _points_per_metre,
    _surface_artist,
    _theme,
    draw_pitch,
)

__all__ = ["ProgressFn", "SurfaceFn", "animate", "figure_to_rgb"]

SurfaceFn = Callable[[int], tuple[Any, Any, Any]]
"""``frame -> (values (ny, nx), xs (nx,), ys (ny,))``: a heatmap to draw under a frame."""

ProgressFn = Callable[[int, int], None]
"""``(frames done, frames in all) -> None``, called after each frame is written."""

_TITLE_INCHES = 0.32  # height of the clock strip above the pitch


def figure_to_rgb(fig: Figure, *, draw: bool = True) -> NDArray[np.uint8]:
    """The rendered pixels of a figure as an ``(H, W, 3)`` uint8 RGB array (a copy).

    Args:
        fig: a figure with an Agg canvas (every figure made by :mod:`touchline.viz` has one).
        draw: render the figure first; ``False`` reads what the canvas last rendered.

    >>> from touchline.viz.pitch_plot import draw_pitch
    >>> ax = draw_pitch(figsize=(2.0, 1.5))
    >>> rgb = figure_to_rgb(ax.figure)
    >>> rgb.shape, rgb.dtype
    ((150, 200, 3), dtype('uint8'))
    """
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
        draw = True
    if draw:
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _even_figure(width_in: float, height_in: float, dpi: float) -> tuple[float, float]:
    """Figure inches giving even pixel sizes (yuv420p video needs them)."""
    w = max(2, round(width_in * dpi / 2) * 2)
    h = max(2, round(height_in * dpi / 2) * 2)
    return ((w + 0.01) / dpi, (h + 0.01) / dpi)  # Agg truncates the canvas size


def animate(
    tracks: Any,
    out_path: str | Path,
    *,
    frames: Iterable[int] | None = None,
    fps: float | None = None,
    surface_fn: SurfaceFn | None = None,
    surface_kw: Mapping[str, Any] | None = None,
    voronoi: bool = False,
    velocities: bool = True,
    ids: bool = True,
    ball: bool = True,
    team_colors: Mapping[ColorKey, Any] | None = None,
    attack_direction: str | int | None = None,
    theme: ThemeName | PitchTheme = "grass",
    width: float = 9.0,
    dpi: float = 80.0,
    radius: float = 1.0,
    arrow_seconds: float = 1.0,
    progress: ProgressFn | None = None,
    **writer_kw: Any,
) -> Path:
    """Render frames of a tracks table as :func:`~touchline.viz.pitch_plot.plot_frame` does,
    and write them as a video.

    Args:
        tracks: a :class:`~touchline.tracks.Tracks` table with pitch positions.
        out_path: the video file (``.mp4``; written atomically).
        frames: the frames to render, in order (default: every frame of the table).
        fps: video frame rate (default ``tracks.fps``, else 25).
        surface_fn: ``frame -> (values, xs, ys)``, a heatmap drawn under each frame (e.g.
            ``lambda f: (r := pitch_control_frame(t, f, 0)).attack, r.xs, r.ys``, with
            ``surface_kw={"cmap": control_cmap(0)}`` for team 0 attacking).
        surface_kw: options of the heatmap: ``cmap`` (default ``"viridis"``), ``vmin``/``vmax``
            (default 0 and 1: keep them fixed so colours mean the same in every frame),
            ``alpha``, ``interpolation``.
        voronoi, velocities, ids, ball, team_colors, attack_direction, radius, arrow_seconds:
            as :func:`~touchline.viz.pitch_plot.plot_frame`.
        theme: the pitch theme.
        width: figure width in inches; the height follows the pitch.
        dpi: pixels per inch (the video is ``width * dpi`` pixels wide, rounded to even).
        progress: called as ``progress(done, total)`` after each frame.
        **writer_kw: passed to :class:`~touchline.video.VideoWriter` (``crf``, ``preset``...).

    Returns:
        The path written.

    Raises:
        DataError: no frames to render.
        VideoError: the video cannot be written (nothing is left at ``out_path``).
    """
    if frames is None:
        index = _FrameIndex(tracks)
        # every frame of the span, so that the video keeps real time across tracking gaps
        frame_list = (
            np.arange(int(index.frames.min()), int(index.frames.max()) + 1, dtype=np.int64)
            if index.frames.size
            else index.frames
        )
    else:
        frame_list = np.asarray([int(f) for f in frames], np.int64)
        if frame_list.size:
            index = _FrameIndex(tracks, int(frame_list.min()), int(frame_list.max()))
    if frame_list.size == 0:
        raise DataError(f"animate: no frames to render into {out_path}")
    rate = float(fps or tracks.fps or DEFAULT_FPS)
    th = _theme(theme)
    palette = _palette(team_colors)
    skw: dict[str, Any] = {"cmap": "viridis", "vmin": 0.0, "vmax": 1.0, "alpha": 0.8}
    skw["interpolation"] = "nearest"
    skw.update(surface_kw or {})

    pitch_h = _pitch_figsize(index.pitch, 3.0, width)[1]
    pitch_h -= 0.45  # _pitch_figsize leaves room for a title; ours is a fixed strip
    fig = Figure(figsize=_even_figure(width, pitch_h + _TITLE_INCHES, dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    fig.set_facecolor(th.surround)
    fig_h = fig.get_size_inches()[1]
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - _TITLE_INCHES / fig_h))
    draw_pitch(ax, index.pitch, theme=th)
    # The painted lines are drawn with every frame, above its surface and Voronoi cells.
    lines = [a for a in ax.get_children() if a.get_gid() in PITCH_GIDS]
    for a in lines:
        a.set_animated(True)
    text_color = "white" if th.line == "white" else "black"
    title = fig.text(
        0.5, 1.0 - _TITLE_INCHES / 2 / fig_h, "", ha="center", va="center", fontsize=10,
        color=text_color, animated=True,
    )  # fmt: skip
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    fontsize = 1.05 * radius * _points_per_metre(ax)

    total = int(frame_list.size)
    dynamic: list[Artist] = []
    with VideoWriter(out_path, rate, **writer_kw) as writer:
        for k, frame in enumerate(frame_list.tolist()):
            for a in dynamic:
                a.remove()
            dynamic = []
            if surface_fn is not None:
                values, xs, ys = surface_fn(frame)
                dynamic.append(_surface_artist(ax, values, xs, ys, **skw))
            arts, time = _frame_artists(
                ax, index, frame, velocities=velocities, ids=ids, voronoi=voronoi,
                palette=palette, ball=ball, attack_direction=attack_direction,
                radius=radius, arrow_seconds=arrow_seconds, fontsize=fontsize,
            )  # fmt: skip
            dynamic += arts
            title.set_text(_frame_title(frame, time))
            canvas.restore_region(background)
            for a in sorted([*dynamic, *lines], key=lambda a: a.get_zorder()):
                a.set_animated(True)
                ax.draw_artist(a)
            fig.draw_artist(title)
            rgba = np.asarray(canvas.buffer_rgba())
            writer.write(cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR))
            if progress is not None:
                progress(k + 1, total)
    for a in dynamic:
        a.remove()
    return Path(out_path)
