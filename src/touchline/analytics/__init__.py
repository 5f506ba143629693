"""Analytics on tracking data in pitch coordinates: pitch control and Voronoi cells.

>>> from touchline.analytics import pitch_control, voronoi_areas
>>> float(voronoi_areas([[52.5, 34.0]])[0])
7140.0
"""

from __future__ import annotations

from touchline.analytics.pitch_control import (
    PitchControlParams,
    PitchControlResult,
    grid_centres,
    pitch_control,
    pitch_control_frame,
    pitch_control_reference,
)
from touchline.analytics.voronoi import (
    VoronoiControl,
    polygon_area,
    voronoi_areas,
    voronoi_cells,
    voronoi_team_control,
)

__all__ = [
    "PitchControlParams",
    "PitchControlResult",
    "VoronoiControl",
    "grid_centres",
    "pitch_control",
    "pitch_control_frame",
    "pitch_control_reference",
    "polygon_area",
    "voronoi_areas",
    "voronoi_cells",
    "voronoi_team_control",
]
