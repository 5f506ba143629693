"""Visualisation: pitch-line overlays, top-down warps, box and label annotators, the radar,
and matplotlib pitch plots and animations for evaluating play.

Annotators follow supervision's contract, ``annotate(scene, detections) -> scene``; images are
BGR ``uint8``; pitch positions are touchline metres. The matplotlib plots
(:mod:`touchline.viz.pitch_plot`, :mod:`touchline.viz.animation`) are imported on first use.

>>> import numpy as np
>>> from touchline.types import Detections
>>> dets = Detections(xyxy=[[10, 10, 30, 50]], class_id=[0], tracker_id=[3],
...                   data={"team": [0], "pitch_xy": [[52.5, 34.0]]})
>>> frame = BoxAnnotator().annotate(np.zeros((120, 160, 3), np.uint8), dets)
>>> frame = inset(frame, Radar(width=210).render_detections(dets), scale=0.5)
>>> frame.shape
(120, 160, 3)
"""

import importlib
from typing import TYPE_CHECKING, Any

from touchline.viz.overlay import (
    CLASS_COLORS,
    TEAM_COLORS,
    TRACK_COLORS,
    BoxAnnotator,
    LabelAnnotator,
    color_for,
    colors_for,
    draw_pitch_lines,
    project_pitch_lines,
    warp_to_pitch,
)
from touchline.viz.radar import Radar, camera_viewport, inset

if TYPE_CHECKING:
    from touchline.viz.animation import animate, figure_to_rgb
    from touchline.viz.pitch_plot import (
        PITCH_THEMES,
        PLOT_COLORS,
        PitchTheme,
        control_cmap,
        draw_pitch,
        plot_frame,
        plot_pitch_control,
        plot_players,
        plot_series,
        plot_surface,
    )

# Matplotlib plots load matplotlib and pandas: imported when first asked for.
_LAZY = {
    "animate": "touchline.viz.animation",
    "figure_to_rgb": "touchline.viz.animation",
    **dict.fromkeys(
        (
            "PITCH_THEMES",
            "PLOT_COLORS",
            "PitchTheme",
            "control_cmap",
            "draw_pitch",
            "plot_frame",
            "plot_pitch_control",
            "plot_players",
            "plot_series",
            "plot_surface",
        ),
        "touchline.viz.pitch_plot",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "CLASS_COLORS",
    "PITCH_THEMES",
    "PLOT_COLORS",
    "TEAM_COLORS",
    "TRACK_COLORS",
    "BoxAnnotator",
    "LabelAnnotator",
    "PitchTheme",
    "Radar",
    "animate",
    "camera_viewport",
    "color_for",
    "colors_for",
    "control_cmap",
    "draw_pitch",
    "draw_pitch_lines",
    "figure_to_rgb",
    "inset",
    "plot_frame",
    "plot_pitch_control",
    "plot_players",
    "plot_series",
    "plot_surface",
    "project_pitch_lines",
    "warp_to_pitch",
]
