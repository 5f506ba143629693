"""Finishing a tracks table at the end of a clip: final team votes and roles, coasting rows
dropped, short gaps inside a shot interpolated, short tracks dropped, positions smoothed.

:class:`FinishConfig` holds the user's settings in seconds; :func:`finish_tracks` is the table
operation (in frames of the table).

>>> FinishConfig().frames(25.0), FinishConfig().frames(50.0)
((10, 5, 7), (20, 10, 15))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from touchline.track.ball import BALL_TRACK_ID
from touchline.trajectories import interpolate_gaps, smooth_tracks
from touchline.types import CLASS_NAMES, ObjectClass
from touchline.utils.durations import check_fps, check_seconds, seconds_to_frames

__all__ = ["FinishConfig", "finish_tracks"]


@dataclass(frozen=True)
class FinishConfig:
    """How a clip's table is finished; durations in seconds (frames follow the source's fps).

    Attributes:
        max_gap: gaps inside a track and inside a shot up to this long are interpolated.
        min_duration: tracks seen for less than this are dropped (not the ball).
        smooth: smoothing window along tracks (Savitzky-Golay, degree 2); 0 turns it off.
        drop_predicted: drop the trackers' coasting rows (people and ball).
    """

    max_gap: float = 0.4
    min_duration: float = 0.2
    smooth: float = 0.28
    drop_predicted: bool = True

    def __post_init__(self) -> None:
        check_seconds(
            "FinishConfig", max_gap=self.max_gap, min_duration=self.min_duration, smooth=self.smooth
        )

    def frames(self, fps: float) -> tuple[int, int, int]:
        """``(max_gap, min_frames, smooth)`` in frames at ``fps`` (the window odd, or 0)."""
        check_fps("FinishConfig", fps)
        window = seconds_to_frames(self.smooth, fps)
        window = 0 if window <= 1 else window | 1
        return (
            seconds_to_frames(self.max_gap, fps),
            seconds_to_frames(self.min_duration, fps, 1),
            window,
        )


def finish_tracks(
    df: pd.DataFrame,
    *,
    teams: dict[int, int] | None = None,
    roles: dict[int, int] | None = None,
    cuts: np.ndarray | None = None,
    max_gap: int = 10,
    min_frames: int = 5,
    smooth: int = 7,
    drop_predicted: bool = True,
) -> pd.DataFrame:
    """Final clean-up of a tracks table (a new DataFrame, sorted by frame then track).

    * ``drop_predicted``: the trackers' coasting rows (``predicted``: where they guessed a
      player or the ball they did not see, from the past alone) are dropped; gaps between two
      sightings are then interpolated from both ends (below), and a track no longer runs on
      past the last frame it was seen;
    * ``roles``: ``{track_id: class_id}``; a player track whose role is goalkeeper (e.g. from
      :meth:`~touchline.track.teams.TeamAssigner.track_roles`: the detector often scores a
      goalkeeper's box higher as a player) becomes a goalkeeper on every row;
    * ``teams``: ``{track_id: team}`` overrides the per-frame team (the final vote of each
      track, so a track keeps one team over the clip);
    * tracks (other than the ball, id 0) seen on fewer than ``min_frames`` frames are dropped;
    * gaps of at most ``max_gap`` frames inside a track and inside a shot (no frame of ``cuts``
      in between) are filled by linear interpolation of the box, foot point and pitch position
      (column ``interpolated`` True; ``confidence`` NaN);
    * boxes, foot points and pitch positions are smoothed along each track (Savitzky-Golay,
      ``smooth`` frames, degree 2; 0 or 1 turns it off; the ball is left alone).

    >>> df = pd.DataFrame({"frame": [0, 3], "time": [0.0, 0.12], "track_id": [5, 5],
    ...     "class_id": [0, 0], "class_name": ["player"] * 2, "team": [1, 1],
    ...     "x1": [0.0, 3.0], "y1": [0.0, 0.0], "x2": [2.0, 5.0], "y2": [4.0, 4.0],
    ...     "foot_x": [1.0, 4.0], "foot_y": [4.0, 4.0], "pitch_x": [10.0, 13.0],
    ...     "pitch_y": [5.0, 5.0], "confidence": [0.9, 0.8], "track_confidence": [0.5, 0.6],
    ...     "calib_confidence": [1.0, 1.0]})
    >>> out = finish_tracks(df, min_frames=1, smooth=0)
    >>> out["frame"].tolist(), out["pitch_x"].tolist(), out["interpolated"].tolist()
    ([0, 1, 2, 3], [10.0, 11.0, 12.0, 13.0], [False, True, True, False])
    """
    df = df.copy()
    if "interpolated" not in df:
        df["interpolated"] = False
    if "predicted" not in df:
        df["predicted"] = False
    if roles:
        keepers = [t for t, r in roles.items() if r == int(ObjectClass.GOALKEEPER)]
        upgrade = df["track_id"].isin(keepers) & (df["class_id"] == int(ObjectClass.PLAYER))
        if upgrade.any():
            df.loc[upgrade, "class_id"] = int(ObjectClass.GOALKEEPER)
            df.loc[upgrade, "class_name"] = CLASS_NAMES[ObjectClass.GOALKEEPER]
    if teams:
        mapped = df["track_id"].map(teams)
        df["team"] = np.where(mapped.notna(), mapped, df["team"]).astype(df["team"].dtype)
    if drop_predicted and len(df):
        df = df[~df["predicted"].astype(bool)]
    if min_frames > 1 and len(df):
        counts = df.groupby("track_id")["frame"].transform("size")
        df = df[(counts >= min_frames) | (df["track_id"] == 0)]
    if max_gap > 0 and len(df):
        df = interpolate_gaps(df, max_gap=max_gap, cut_frames=cuts)
    if smooth > 1 and len(df):
        df = smooth_tracks(df, window=smooth, cut_frames=cuts, exclude_ids=[BALL_TRACK_ID])
    df = df.sort_values(["frame", "track_id"], kind="stable").reset_index(drop=True)
    return df
