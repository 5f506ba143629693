"""Multi-object tracking: motion models, association, appearance, teams and the ball.

:class:`Tracker` is the one contract, ``update(detections, calibration=None, frame=None) ->
tracks``; :func:`finish_tracks` cleans a clip's table up at its end; the other modules are its
parts, each usable alone. The whole pipeline (detect, calibrate, track, teams, finish) is
:class:`touchline.jobs.FootballTracker`.
"""

from touchline.track.appearance import (
    FEATURE_DIM,
    GrassColor,
    appearance_features,
    cosine_distance,
    ema_update,
    grass_color,
)
from touchline.track.ball import (
    BALL_TRACK_ID,
    BallConfig,
    BallTracker,
    interpolate_ball,
    merge_ball,
    split_ball,
)
from touchline.track.combined import PeopleAndBallTracker
from touchline.track.finish import FinishConfig, finish_tracks
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
    "FinishConfig",
    "GrassColor",
    "PeopleAndBallTracker",
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
    "finish_tracks",
    "grass_color",
    "interpolate_ball",
    "merge_ball",
    "split_ball",
]
