"""Analytics on tracking data in pitch coordinates: game states, possession, pitch control,
Voronoi cells, value surfaces (EPV, expected threat) and the Expected Discounted Goal (EDG).

>>> from touchline.analytics import pitch_control, voronoi_areas
>>> float(voronoi_areas([[52.5, 34.0]])[0])
7140.0
"""

from __future__ import annotations

from touchline.analytics.edg import (
    EdgMap,
    EdgParams,
    EdgResult,
    edg,
    edg_map,
    edg_series,
    fit_move_scale,
    move_kernel,
    smooth_edg,
)
from touchline.analytics.pitch_control import (
    PitchControlParams,
    PitchControlResult,
    grid_centres,
    pitch_control,
    pitch_control_frame,
    pitch_control_reference,
)
from touchline.analytics.possession import Possession, goal_events, possession
from touchline.analytics.state import GameStates
from touchline.analytics.value import SURFACES, ValueSurface, load_epv, load_surface, load_xt
from touchline.analytics.voronoi import (
    VoronoiControl,
    polygon_area,
    voronoi_areas,
    voronoi_cells,
    voronoi_team_control,
)
from touchline.analytics.xt import (
    Moves,
    Shots,
    XtModel,
    events_from_kloppy,
    events_from_metrica_csv,
    fit_xt,
    fit_xt_from_files,
)

__all__ = [
    "SURFACES",
    "EdgMap",
    "EdgParams",
    "EdgResult",
    "GameStates",
    "Moves",
    "PitchControlParams",
    "PitchControlResult",
    "Possession",
    "Shots",
    "ValueSurface",
    "VoronoiControl",
    "XtModel",
    "edg",
    "edg_map",
    "edg_series",
    "events_from_kloppy",
    "events_from_metrica_csv",
    "fit_move_scale",
    "fit_xt",
    "fit_xt_from_files",
    "goal_events",
    "grid_centres",
    "load_epv",
    "load_surface",
    "load_xt",
    "move_kernel",
    "pitch_control",
    "pitch_control_frame",
    "pitch_control_reference",
    "polygon_area",
    "possession",
    "smooth_edg",
    "voronoi_areas",
    "voronoi_cells",
    "voronoi_team_control",
]
