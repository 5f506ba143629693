"""Pitch-control speed: Spearman's model on the full 50x32 grid for 22 players, per frame.

Usage::

    python benchmarks/pitch_control_speed.py [--frames 200] [--runs 3]
        [--out benchmarks/results/pitch_control_speed.json]

Frames: ``--frames`` random but plausible moments (seeded): two 11-player shapes facing each
other around a random centre, positions jittered by 3 m, velocities ~ N(team drift, 2 m/s) per
axis, the defending goalkeeper at its goal, the ball at an attacker's feet. Also timed: the same
number of frames with all 22 players uniform over the pitch (more contested cells, a harder
case). Reported: ``fps`` (``pitch_control`` with default parameters and the defending keeper
marked, one frame at a time, median of ``--runs``), ``uniform_fps``, and the accuracy of the
fast path against the direct reference on a 12x8 grid for a few of the frames.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from _common import header
from touchline.analytics.pitch_control import pitch_control, pitch_control_reference
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pitch_control_speed.json"
L, W = 105.0, 68.0
Frame = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

SHAPE = np.array(
    [[-40, 0], [-25, -20], [-25, -7], [-25, 7], [-25, 20], [-8, -22], [-8, -5], [-8, 10],
     [10, -18], [12, 0], [10, 18]],
    dtype=float,
)  # fmt: skip


def realistic(rng: np.random.Generator) -> Frame:
    centre = np.array([rng.uniform(35, 70), rng.uniform(28, 40)])
    att = centre + SHAPE * [0.9, 1.0] + rng.normal(0, 3, SHAPE.shape)
    dfn = centre + 6 + SHAPE * [-0.8, 0.9] + rng.normal(0, 3, SHAPE.shape)
    dfn[0] = [L - 3 + rng.normal(0, 1), W / 2 + rng.normal(0, 3)]
    att, dfn = np.clip(att, 0.5, [L - 0.5, W - 0.5]), np.clip(dfn, 0.5, [L - 0.5, W - 0.5])
    av = rng.normal([1.5, 0], 2.0, (11, 2))
    dv = rng.normal([-0.5, 0], 2.0, (11, 2))
    return att, av, dfn, dv, att[rng.integers(1, 11)] + rng.normal(0, 0.5, 2)


def uniform(rng: np.random.Generator) -> Frame:
    att, dfn = rng.uniform([0, 0], [L, W], (11, 2)), rng.uniform([0, 0], [L, W], (11, 2))
    av, dv = rng.normal(0, 2.0, (11, 2)), rng.normal(0, 2.0, (11, 2))
    return att, av, dfn, dv, att[rng.integers(1, 11)]


def fps(frames: list[Frame], runs: int) -> tuple[float, list[float]]:
    for f in frames[:5]:  # warm-up
        pitch_control(*f, defence_gk=0)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for f in frames:
            pitch_control(*f, defence_gk=0)
        out.append(len(frames) / (time.perf_counter() - t0))
    return statistics.median(out), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    frames = [realistic(rng) for _ in range(a.frames)]
    uni = [uniform(rng) for _ in range(a.frames)]
    med, runs = fps(frames, a.runs)
    umed, uruns = fps(uni, a.runs)
    err = 0.0
    for f in frames[:3] + uni[:2]:
        kw = {"grid": (12, 8), "defence_gk": 0}
        fast, ref = pitch_control(*f, **kw), pitch_control_reference(*f, **kw)
        err = max(err, float(np.abs(fast.attack - ref.attack).max()))
    out = header("pitch_control_speed") | {
        "input": "22 players (seeded random plausible shapes), velocities, ball; defending keeper",
        "grid": [50, 32],
        "frames": len(frames),
        "runs": a.runs,
        "fps": round(med, 1),
        "ms_per_frame": round(1000 / med, 2),
        "uniform_fps": round(umed, 1),
        "max_abs_diff_vs_reference_12x8": err,
        "all_runs": {"realistic": runs, "uniform": uruns},
    }
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
