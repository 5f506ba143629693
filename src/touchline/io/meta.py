"""Attack-direction inference from positions, and the conventions of the tables the importers
of :mod:`touchline.io` build.

The metadata every importer writes is a :class:`~touchline.tracking_meta.TrackingMeta`
(``Tracks.meta``; its layout is documented in :mod:`touchline.tracking_meta`).

Conventions of the tables the importers build: track 0 is the ball (class ``"ball"``, team -1);
team 0 is the home team (the attacking side for LastRow) and team 1 the away (defending) side;
``pitch_x``/``pitch_y`` are touchline metres; image columns are NaN. Two extra columns follow the
canonical ones: ``period`` (int8, the match period) and ``pitch_z`` (float32 metres, the ball's
height; NaN for people and when unknown).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from touchline.tracking_meta import AttackDirection

__all__ = ["infer_attack_direction"]


# --------------------------------------------------------------------------------------------
# Attack direction from positions
# --------------------------------------------------------------------------------------------


def infer_attack_direction(
    df: pd.DataFrame, pitch_length: float
) -> dict[int, AttackDirection | None]:
    """Which way team 0 attacks in each period, from where the teams stand.

    A team defends the goal its goalkeeper stands nearer to on average; without goalkeepers of
    both teams, the team whose outfield players stand on average nearer the left goal defends
    it. Periods come from the ``period`` column (all period 1 without it).

    Args:
        df: a tracks table (``team``, ``class_name``, ``pitch_x``; ``period`` optional).
        pitch_length: metres.

    Returns:
        ``{period: AttackDirection | None}`` (``None`` when the period has no team rows).

    >>> df = pd.DataFrame({"team": [0, 1, 0, 1], "class_name": "player",
    ...     "pitch_x": [30.0, 70.0, 80.0, 20.0], "period": [1, 1, 2, 2]})
    >>> infer_attack_direction(df, 105.0) == {1: "right", 2: "left"}
    True
    """
    period = (
        df["period"].to_numpy(np.int64) if "period" in df.columns else np.ones(len(df), np.int64)
    )
    team = df["team"].to_numpy(np.int64)
    x = df["pitch_x"].to_numpy(np.float64)
    gk = (df["class_name"].astype(str) == "goalkeeper").to_numpy()
    finite = np.isfinite(x)
    out: dict[int, AttackDirection | None] = {}
    for p in (int(v) for v in np.unique(period)):
        rows = (period == p) & finite
        value: AttackDirection | None = None
        for subset in (gk, ~gk):
            means = [x[rows & subset & (team == k)] for k in (0, 1)]
            if all(m.size for m in means):
                m0, m1 = (float(m.mean()) for m in means)
                if not math.isclose(m0, m1):
                    value = AttackDirection.RIGHT if m0 < m1 else AttackDirection.LEFT
                    break
        if value is None:  # one team only: the side of the halfway line it stands on
            for k in (0, 1):
                mine = x[rows & (team == k)]
                if mine.size and not math.isclose(float(mine.mean()), pitch_length / 2):
                    on_left = float(mine.mean()) < pitch_length / 2
                    value = AttackDirection("right" if on_left == (k == 0) else "left")
                    break
        out[p] = value
    return out
