"""Multi-object tracking: motion models, association, appearance, teams and the ball.

:class:`Tracker` is the one contract, ``update(detections, calibration=None, frame=None) ->
tracks``; :class:`FootballTracker` runs the whole pipeline (detect, calibrate, track, teams) on
frames; the other modules are its parts, each usable alone.
"""

from touchline.track.appearance import (
    FEATURE_DIM,
    GrassColor,
    appearance_features,
    cosine_distance,
    ema_update,
    grass_color,
)
from touchline.track.ball import BALL_TRACK_ID, BallConfig, BallTracker, interpolate_ball
from touchline.track.football import FootballTracker, FrameTracks, Measurement
from touchline.track.kalman import BoxKalman, PitchKalman
from touchline.track.teams import (
    TeamAssigner,
    TeamClassifier,
    TeamConfig,
    TrackVotes,
    assign_teams,
)
from touchline.track.tracker import CONFIRMED, LOST, TENTATIVE, Tracker, TrackerConfig

__all__ = [
    "BALL_TRACK_ID",
    "CONFIRMED",
    "FEATURE_DIM",
    "LOST",
    "TENTATIVE",
    "BallConfig",
    "BallTracker",
    "BoxKalman",
    "FootballTracker",
    "FrameTracks",
    "GrassColor",
    "Measurement",
    "PitchKalman",
    "TeamAssigner",
    "TeamClassifier",
    "TeamConfig",
    "TrackVotes",
    "Tracker",
    "TrackerConfig",
    "appearance_features",
    "assign_teams",
    "cosine_distance",
    "ema_update",
    "grass_color",
    "interpolate_ball",
]
