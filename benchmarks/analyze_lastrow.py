"""Narya's published analyses, reproduced on the two real LastRow goal plays.

Usage::

    python benchmarks/analyze_lastrow.py [--out benchmarks/results]

Narya's notebooks drew, for a LastRow goal play, a frame with Voronoi cells and velocity
vectors, an EDG map at one frame and EDG over the play. This runs ``touchline analyze`` (the
same :func:`touchline.jobs.analyze.analyze_tracks`, shipped xT surface, default EDG model) on
``../shared/data/tracking/lastrow/LIV_[2]-1_CHE.csv`` and ``Real_vs_Barcelona_Calma.csv`` and
keeps its PNGs under ``results/analyze_lastrow/<play>/``. It also scores EDG against the
expectation that it rises over the final seconds before each goal: the mean EDG of the
scoring team over the last ``2 s`` before the goal against its first ``2 s`` of the play, and
the EDG of states with the ball near the opponents' goal against midfield states (the EDG map
of the key frame: ball in the final 16.5 m against the middle third). Writes
``analyze_lastrow.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _common import header
from touchline.data import shared_file
from touchline.errors import DataError
from touchline.io import read_lastrow
from touchline.jobs.analyze import analyze_tracks
from touchline.utils.files import write_json_atomic

PLAYS = {
    "liv_che": "tracking/lastrow/LIV_[2]-1_CHE.csv",
    "real_barcelona": "tracking/lastrow/Real_vs_Barcelona_Calma.csv",
}


def run_play(name: str, rel: str, out: Path) -> dict[str, Any]:
    path = shared_file(rel)
    if path is None:
        raise DataError(f"../shared/data/{rel} not found")
    tracks = read_lastrow(path)
    work = Path(tempfile.mkdtemp(prefix=f"analyze_{name}_"))
    t0 = time.perf_counter()
    summary = analyze_tracks(tracks, work, animate=True)
    seconds = time.perf_counter() - t0
    edg = pd.read_csv(work / "edg.csv")
    goal = summary.goals[0] if summary.goals else None
    before = edg if goal is None else edg[edg["time"] < goal["time"]]
    team = goal["team"] if goal else int(np.bincount(before["team"][before["team"] >= 0]).argmax())
    mine = before["edg"].where(before["team"] == team)
    t = before["time"]
    first = float(mine[t <= t.iloc[0] + 2.0].mean())
    last = float(mine[t >= t.iloc[-1] - 2.0].mean())
    dest = out / "analyze_lastrow" / name
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.png"):
        old.unlink()
    for png in work.glob("*.png"):
        shutil.copy(png, dest / png.name)
    # the EDG map of the key frame: ball near the opponents' goal against midfield
    key = summary.key_frames[0]
    edg_map = _edg_map_bands(tracks, key)
    shutil.rmtree(work)
    return {
        "file": rel,
        "frames": summary.frames,
        "seconds_analysed": round(seconds, 2),
        "goal": goal,
        "scoring_team": team,
        "edg_first_2s": round(first, 5),
        "edg_last_2s_before_goal": round(last, 5),
        "edg_rise": round(last / first, 2) if first > 0 else None,
        "key_frame": key,
        "edg_map": edg_map,
        "possession": summary.possession,
        "top_moments": [m.to_json() for m in summary.top_moments[:3]],
        "pngs": sorted(p.name for p in dest.glob("*.png")),
        "timings": summary.timings,
    }


def _edg_map_bands(tracks: Any, frame: int) -> dict[str, float]:
    from touchline.analytics import GameStates, edg_map, load_surface, possession

    s = GameStates.from_tracks(tracks)
    k = s.index(frame)
    team = int(possession(s).team[k])
    axy, avel, agk = s.side(k, team)
    dxy, dvel, dgk = s.side(k, 1 - team)
    attack = s.attack(k, team)
    m = edg_map(
        axy, avel, dxy, dvel, load_surface("xt"), attack=attack, ball_grid=(35, 22),
        attack_gk=agk, defence_gk=dgk,
    )  # fmt: skip
    length = s.pitch.length
    toward = m.xs if attack == "right" else length - m.xs
    near = m.value[:, toward >= length - 16.5].mean()
    mid = m.value[:, (toward >= length / 3) & (toward <= 2 * length / 3)].mean()
    return {"near_goal_mean": round(float(near), 5), "midfield_mean": round(float(mid), 5)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    a = ap.parse_args()
    plays = {name: run_play(name, rel, a.out) for name, rel in PLAYS.items()}
    result = header("analyze_lastrow") | {"plays": plays}
    write_json_atomic(a.out / "analyze_lastrow.json", result)
    print(json.dumps(plays, indent=1))


if __name__ == "__main__":
    main()
