"""Visualisation: pitch-line overlays, top-down warps, box and label annotators, the radar.

Annotators follow supervision's contract, ``annotate(scene, detections) -> scene``; images are
BGR ``uint8``; pitch positions are touchline metres.

>>> import numpy as np
>>> from touchline.types import Detections
>>> dets = Detections(xyxy=[[10, 10, 30, 50]], class_id=[0], tracker_id=[3],
...                   data={"team": [0], "pitch_xy": [[52.5, 34.0]]})
>>> frame = BoxAnnotator().annotate(np.zeros((120, 160, 3), np.uint8), dets)
>>> frame = inset(frame, Radar(width=210).render_detections(dets), scale=0.5)
>>> frame.shape
(120, 160, 3)
"""

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

__all__ = [
    "CLASS_COLORS",
    "TEAM_COLORS",
    "TRACK_COLORS",
    "BoxAnnotator",
    "LabelAnnotator",
    "Radar",
    "camera_viewport",
    "color_for",
    "colors_for",
    "draw_pitch_lines",
    "inset",
    "project_pitch_lines",
    "warp_to_pitch",
]
