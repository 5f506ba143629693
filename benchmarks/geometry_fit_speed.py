"""Camera-fit speed: the 7-parameter broadcast camera fitted to points, lines and a circle.

Usage::

    python benchmarks/geometry_fit_speed.py [--trials 200] [--runs 3]
        [--out benchmarks/results/geometry_fit_speed.json]

The case: the main camera 25 m up, 40 m behind the near touchline (``look_at((52.5, 108, -25),
(40, 30, 0))``, focal 1400 px, 1280x720) sees 25 pitch points, 6 pitch lines (30 pixels each)
and the centre circle (40 pixels), all with 0.5 px Gaussian noise; each trial starts from the
true camera turned by 2-4 degrees in pan and tilt, moved by 3-5 m and zoomed by +-10 %
(seeded). Variant ``outliers``: 20 % of the line pixels replaced by uniform random pixels and
1 px noise. Reported per variant: the median and 90th percentile over trials of the time of
one ``fit_camera`` call (best of ``--runs`` repeats; analytic Jacobian, the default), the same
with ``jacobian="numeric"`` (forward differences from one batched residual call) and, for
reference on a fifth of the trials, ``scipy.optimize.least_squares`` (``trf``, Cauchy loss,
2-point differences, no graduated robustness) on the same residuals; and the recovered-camera
error: the largest reprojection error over a 5 m grid of the visible pitch (px), the centre
error (m) and the focal error (%), median and maximum over trials, and the share of converged
fits. One process, one thread of Python.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from _common import header
from touchline.geometry.camera import PinholeCamera, camera_angles, camera_from_angles
from touchline.geometry.camera_fit import (
    CameraFit,
    ConicObs,
    LineObs,
    PointObs,
    fit_camera,
)
from touchline.geometry.conic import circle_conic
from touchline.geometry.lines import line_through
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "geometry_fit_speed.json"
SIZE = (1280, 720)
L, W = 105.0, 68.0
CAMERA = PinholeCamera.look_at(
    (52.5, 108.0, -25.0), (40.0, 30.0, 0.0), focal=1400.0, image_size=SIZE
)
BOX_TOP, BOX_BOTTOM = W / 2 - 20.16, W / 2 + 20.16
GOAL_TOP, GOAL_BOTTOM = W / 2 - 9.16, W / 2 + 9.16
SEGMENTS = [  # pitch lines seen by CAMERA
    ((0.0, 0.0), (L, 0.0)),  # far touchline
    ((L / 2, 0.0), (L / 2, W)),  # halfway line
    ((16.5, BOX_TOP), (16.5, BOX_BOTTOM)),  # penalty box front
    ((0.0, BOX_TOP), (16.5, BOX_TOP)),  # penalty box, far side
    ((0.0, BOX_BOTTOM), (16.5, BOX_BOTTOM)),  # penalty box, near side
    ((5.5, GOAL_TOP), (5.5, GOAL_BOTTOM)),  # goal area front
]


def _inside(px: np.ndarray) -> np.ndarray:
    return np.isfinite(px).all(1) & (px >= 0).all(1) & (px < SIZE).all(1)


def _project(cam: PinholeCamera, pitch: np.ndarray) -> np.ndarray:
    return cam.project(np.c_[pitch, np.zeros(len(pitch))])


def observations(
    rng: np.random.Generator, noise: float, outliers: float
) -> tuple[PointObs, list[LineObs], list[ConicObs]]:
    """25 points, 6 lines x 30 pixels and the centre circle x 40 pixels seen by CAMERA."""
    grid = np.stack(np.meshgrid(np.arange(0, L + 1, 7.5), np.arange(0, W + 1, 8.5)), -1)
    cand = grid.reshape(-1, 2)
    cand = cand[_inside(_project(CAMERA, cand))]
    pitch = cand[rng.choice(len(cand), 25, replace=False)]
    points = PointObs(pitch, _project(CAMERA, pitch) + rng.normal(0, noise, (25, 2)))
    lines = []
    for p, q in SEGMENTS:
        t = np.linspace(0, 1, 3000)[:, None]
        px = _project(CAMERA, np.asarray(p) + t * (np.asarray(q) - np.asarray(p)))
        px = px[_inside(px)]
        px = px[np.linspace(0, len(px) - 1, 30).astype(int)] + rng.normal(0, noise, (30, 2))
        bad = rng.random(30) < outliers
        px[bad] = rng.uniform((0, 0), SIZE, (int(bad.sum()), 2))
        lines.append(LineObs(line_through(p, q), px))
    a = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    px = _project(CAMERA, np.c_[L / 2 + 9.15 * np.cos(a), W / 2 + 9.15 * np.sin(a)])
    px = px[_inside(px)]
    px = px[np.linspace(0, len(px) - 1, 40).astype(int)] + rng.normal(0, noise, (40, 2))
    return points, lines, [ConicObs(circle_conic((L / 2, W / 2), 9.15), px)]


def perturbed(rng: np.random.Generator) -> PinholeCamera:
    """CAMERA turned by 2-4 degrees (pan and tilt), moved by 3-5 m, zoomed by +-10 %."""
    pan, tilt, roll = camera_angles(CAMERA)
    dpan, dtilt = np.radians(rng.uniform(2, 4, 2)) * rng.choice([-1, 1], 2)
    move = rng.normal(size=3)
    move *= rng.uniform(3, 5) / np.linalg.norm(move)
    return camera_from_angles(
        CAMERA.C + move,
        pan + dpan,
        tilt + dtilt,
        roll,
        focal=CAMERA.focal * (1 + rng.choice([-1, 1]) * 0.1),
        image_size=SIZE,
    )


def grid_error(cam: PinholeCamera) -> float:
    """Largest reprojection error (px) over a 5 m grid of the pitch seen by CAMERA."""
    g = np.stack(np.meshgrid(np.arange(0, L + 1, 5.0), np.arange(0, W + 1, 5.0)), -1)
    g = g.reshape(-1, 2)
    true = _project(CAMERA, g)
    keep = _inside(true)
    return float(np.linalg.norm(_project(cam, g[keep]) - true[keep], axis=1).max())


def scipy_fit(
    init: PinholeCamera, points: PointObs, lines: list[LineObs], conics: list[ConicObs]
) -> PinholeCamera:
    """Reference: scipy's least_squares (trf, Cauchy loss of scale 2 px, 2-point differences)
    on the same residuals over the global 7 parameters, straight from ``init``."""
    from scipy.optimize import least_squares

    from touchline.geometry.camera import _rotation_matrix, camera_from_params, camera_to_params
    from touchline.geometry.camera_fit import CameraPrior, _Problem

    prob = _Problem(SIZE, points, lines, conics, CameraPrior())

    def fun(x: np.ndarray) -> np.ndarray:
        return prob.evaluate(_rotation_matrix(x[:3]), x[3:6], math.exp(x[6]), jac=False)[0]

    sol = least_squares(
        fun, camera_to_params(init), loss="cauchy", f_scale=2.0, method="trf", max_nfev=200
    )
    return camera_from_params(sol.x, SIZE)


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3, out


def variant(trials: int, runs: int, noise: float, outliers: float, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    cases = [(*observations(rng, noise, outliers), perturbed(rng)) for _ in range(trials)]
    ms: dict[str, list[float]] = {"analytic": [], "numeric": [], "scipy": []}
    fits: list[CameraFit] = []
    for points, lines, conics, init in cases:
        for jac in ("analytic", "numeric"):
            t, fit = timed(
                partial(fit_camera, init, points=points, lines=lines, conics=conics, jacobian=jac),
                runs,
            )
            ms[jac].append(t)
            if jac == "analytic":
                fits.append(fit)
    scipy_grid = []
    for points, lines, conics, init in cases[: max(trials // 5, 1)]:
        t, cam = timed(partial(scipy_fit, init, points, lines, conics), 1)
        ms["scipy"].append(t)
        scipy_grid.append(grid_error(cam))
    grid = [grid_error(f.camera) for f in fits]
    centre = [float(np.linalg.norm(f.camera.C - CAMERA.C)) for f in fits]
    focal = [abs(f.camera.focal / CAMERA.focal - 1) * 100 for f in fits]

    def q(v: list[float], p: float) -> float:
        return round(float(np.percentile(v, p)), 3)

    return {
        "noise_px": noise,
        "line_outliers": outliers,
        "median_ms": q(ms["analytic"], 50),
        "p90_ms": q(ms["analytic"], 90),
        "numeric_jacobian_median_ms": q(ms["numeric"], 50),
        "numeric_jacobian_p90_ms": q(ms["numeric"], 90),
        "scipy_least_squares_median_ms": q(ms["scipy"], 50),
        "scipy_least_squares_grid_error_px": {
            "median": q(scipy_grid, 50),
            "max": q(scipy_grid, 100),
        },
        "scipy_trials": len(ms["scipy"]),
        "iterations_median": statistics.median(f.iterations for f in fits),
        "converged_share": round(sum(f.converged for f in fits) / len(fits), 3),
        "grid_error_px": {"median": q(grid, 50), "max": q(grid, 100)},
        "centre_error_m": {"median": q(centre, 50), "max": q(centre, 100)},
        "focal_error_pct": {"median": q(focal, 50), "max": q(focal, 100)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3, help="timings per trial (the best counts)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    out = header("geometry_fit_speed") | {
        "camera": {"position": CAMERA.C.tolist(), "target": [40.0, 30.0, 0.0], "focal": 1400.0},
        "observations": "25 points, 6 lines x 30 px, centre circle x 40 px",
        "trials": a.trials,
        "clean": variant(a.trials, a.runs, 0.5, 0.0, seed=0),
        "outliers": variant(a.trials, a.runs, 1.0, 0.2, seed=1),
    }
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
