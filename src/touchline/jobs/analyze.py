"""The job behind ``touchline analyze``: possession, EDG, pitch control and plots for a play or a
match.

:func:`analyze_tracks` takes any tracks table (ours, a provider's through
:mod:`touchline.io`) and writes to ``out``:

* ``edg.csv`` -- one row per frame: ``frame, time, period, team`` (in possession),
  ``player`` (possessor), ``controlled``, ``edg``, ``edg_smooth``, ``space`` (share of the
  pitch the team in possession controls);
* ``edg.png`` -- EDG over time (raw and smoothed), with the key frames, the goals found
  (:func:`~touchline.analytics.possession.goal_events`) and ``meta.extra["events"]`` marked;
* per key frame ``f``: ``frame_<f>.png`` (players, ids, velocity arrows, Voronoi cells),
  ``pitch_control_<f>.png`` and ``edg_map_<f>.png`` (EDG with the ball moved over the pitch,
  the players where they are);
* ``animation.mp4`` -- the play with the pitch control of the team in possession (plays up to
  ``max_animation_frames`` frames unless asked);
* ``summary.json`` -- frames, possession shares, EDG per team, the top EDG moments, timings.

Key frames default to the frame of highest smoothed EDG. The per-frame series of a long match
is computed in chunks saved under ``out/.analyze-partial``: a killed run resumes from the last
finished chunk (when the input, the surface and the parameters are unchanged). Every file is
written atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from touchline.analytics.edg import EdgParams, edg_map, edg_series, smooth_edg
from touchline.analytics.pitch_control import grid_centres, pitch_control
from touchline.analytics.possession import goal_events, possession
from touchline.analytics.state import GameStates
from touchline.analytics.value import ValueSurface, load_surface
from touchline.tracks import Tracks
from touchline.utils.checkpoint import Checkpoint, fingerprint
from touchline.utils.files import atomic_path, write_json_atomic
from touchline.utils.results import JsonResult

__all__ = ["AnalyzeResult", "EdgSettings", "Moment", "SurfaceInfo", "analyze_tracks", "top_moments"]

Progress = Callable[[str, int, int], Any]
CHUNK = 2000
"""Frames per checkpointed chunk of the EDG series."""


@dataclass(frozen=True)
class Moment(JsonResult):
    """A frame of high smoothed EDG: its time (s), the team in possession and the EDG."""

    frame: int
    time: float
    team: int
    edg: float


@dataclass(frozen=True)
class SurfaceInfo(JsonResult):
    """The value surface used: name, where it came from, grid shape."""

    name: str
    source: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class EdgSettings(JsonResult):
    """The EDG parameters used (of :class:`EdgParams`)."""

    move_scale: float
    discount: float
    counter: float
    grid: tuple[int, int]


@dataclass(frozen=True)
class AnalyzeResult(JsonResult):
    """What :func:`analyze_tracks` found (``summary.json``); team keys are ``"0"``/``"1"``."""

    frames: int
    duration_s: float
    people: int
    ball_frames: int
    surface: SurfaceInfo
    params: EdgSettings
    possession: dict[str, float]  # share of the frames per team
    edg_mean: dict[str, float | None]
    edg_frames: int
    goals: list[dict[str, Any]]  # as :func:`~touchline.analytics.possession.goal_events`
    top_moments: list[Moment]
    key_frames: list[int]
    outputs: list[str]
    resumed_frames: int
    warnings: list[str]
    timings: dict[str, float]  # seconds per stage and ``total_s``


def top_moments(series: pd.DataFrame, n: int = 5, min_gap: float = 5.0) -> list[Moment]:
    """The ``n`` highest smoothed-EDG frames at least ``min_gap`` seconds apart.

    >>> s = pd.DataFrame({"frame": range(6), "time": [0, 1, 2, 10, 11, 12], "team": 0,
    ...                   "edg_smooth": [0.1, 0.5, 0.2, 0.3, 0.1, 0.0]})
    >>> [m.frame for m in top_moments(s, n=3, min_gap=5)]
    [1, 3]
    """
    v = series["edg_smooth"].to_numpy(np.float64)
    t = series["time"].to_numpy(np.float64)
    order = np.argsort(np.where(np.isfinite(v), -v, np.inf), kind="stable")
    picked: list[int] = []
    for k in order.tolist():
        if not np.isfinite(v[k]) or len(picked) >= n:
            break
        if all(abs(t[k] - t[j]) >= min_gap for j in picked):
            picked.append(k)
    return [
        Moment(
            frame=int(series["frame"].iloc[k]),
            time=round(float(t[k]), 3),
            team=int(series["team"].iloc[k]),
            edg=round(float(v[k]), 5),
        )
        for k in picked
    ]


def _fingerprint(states: GameStates, surface: ValueSurface, params: EdgParams) -> str:
    """Everything the EDG series depends on: the game states (positions, velocities, teams,
    keepers, ball, directions, times, pitch), the surface and the parameters."""
    return fingerprint(
        [states.frames, states.times, states.ids, states.team, states.goalkeeper, states.xy,
         states.vel, states.ball, states.direction, states.period, surface.values],
        [states.pitch.length, states.pitch.width],
        params,
    )  # fmt: skip


def _series_resumable(
    states: GameStates,
    surface: ValueSurface,
    poss: Any,
    params: EdgParams,
    partial: Path,
    key: str,
    progress: Progress | None,
) -> tuple[pd.DataFrame, int]:
    """EDG over every frame, in chunks checkpointed under ``partial``; returns (series, resumed)."""
    ck = Checkpoint(partial, key)
    n = len(states)
    parts, resumed = [], 0
    for c, start in enumerate(range(0, n, CHUNK)):
        rows = states.frames[start : start + CHUNK]
        f = ck.path(f"chunk_{c:05d}.parquet")
        if f.exists():
            part = pd.read_parquet(f)
            resumed += len(part)
        else:
            done0 = start

            def tick(done: int, total: int, done0: int = done0) -> None:
                if progress is not None:
                    progress("edg", done0 + done, n)

            part = edg_series(
                states, surface, possession=poss, params=params, frames=rows,
                smooth_seconds=0, progress=tick,
            )  # fmt: skip
            with atomic_path(f) as tmp:
                part.to_parquet(tmp, index=False)
        parts.append(part)
        if progress is not None:
            progress("edg", min(start + CHUNK, n), n)
    series = pd.concat(parts, ignore_index=True)
    return series, resumed


def analyze_tracks(
    tracks: Tracks,
    out: str | Path,
    *,
    surface: ValueSurface | str | Path = "xt",
    params: EdgParams | None = None,
    key_frames: Sequence[int] | None = None,
    animate: bool | None = None,
    max_animation_frames: int = 1500,
    smooth_seconds: float = 1.0,
    ball_grid: tuple[int, int] = (35, 22),
    progress: Progress | None = None,
) -> AnalyzeResult:
    """Analyse a play or a match (see the module docstring); returns the summary.

    Args:
        tracks: a tracks table with pitch positions, teams 0/1 and the ball.
        out: output folder (created).
        surface: a :class:`ValueSurface` or a name/path for
            :func:`~touchline.analytics.value.load_surface` (default the shipped ``xt``).
        params: EDG parameters.
        key_frames: frames to plot (default: the highest smoothed EDG).
        animate: write ``animation.mp4`` (``None``: when the table has at most
            ``max_animation_frames`` frames).
        smooth_seconds: smoothing window of ``edg_smooth``.
        ball_grid: ball positions of the EDG maps ``(nx, ny)``.
        progress: ``progress(stage, done, total)``.
    """
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    p = params or EdgParams()
    surf = surface if isinstance(surface, ValueSurface) else load_surface(surface)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    states = GameStates.from_tracks(tracks)
    warnings: list[str] = []
    if not np.isfinite(states.ball).all(axis=1).any():
        warnings.append(
            "no ball position in any frame: possession and EDG are undefined (NaN); only the "
            "players are plotted"
        )
    for f in key_frames or ():  # checked before the long EDG pass, not after it
        states.index(int(f))
    poss = possession(states)
    goals = goal_events(states)
    timings["states_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    key = _fingerprint(states, surf, p)
    series, resumed = _series_resumable(
        states, surf, poss, p, out / ".analyze-partial", key, progress
    )
    series["edg_smooth"] = smooth_edg(series, smooth_seconds)
    timings["edg_s"] = time.perf_counter() - t0
    pos = poss.to_dataframe().drop(columns=["team"])
    table = series.merge(pos, on="frame", how="left")
    table.insert(2, "period", states.period)
    table["team"] = poss.team  # the team in possession, also where EDG is undefined
    cols = ["frame", "time", "period", "team", "player", "controlled", "distance", "edg",
            "edg_smooth", "space"]  # fmt: skip
    table = table[cols]
    with atomic_path(out / "edg.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")

    moments = top_moments(table.assign(team=series["team"]), n=5)
    if key_frames is None:
        key_frames = [moments[0].frame] if moments else [int(states.frames[-1])]
    t0 = time.perf_counter()
    events = _events(tracks) + [(g["time"], f"goal (team {g['team']})") for g in goals]
    figures = _plots(states, tracks, poss, table, surf, p, list(key_frames), ball_grid, out, events)
    timings["plots_s"] = time.perf_counter() - t0

    do_anim = animate if animate is not None else len(states) <= max_animation_frames
    if do_anim:
        t0 = time.perf_counter()
        _animation(tracks, states, poss, p, out / "animation.mp4", progress)
        figures.append("animation.mp4")
        timings["animation_s"] = time.perf_counter() - t0

    edg_by_team = {
        str(t): round(float(np.nanmean(v)), 5) if np.isfinite(v).any() else None
        for t in (0, 1)
        for v in [series["edg"].to_numpy()[series["team"].to_numpy() == t]]
    }
    timings["total_s"] = time.perf_counter() - t_start
    summary = AnalyzeResult(
        frames=len(states),
        duration_s=round(float(states.times[-1] - states.times[0]), 3),
        people=int(states.ids.size),
        ball_frames=int(np.isfinite(states.ball).all(axis=1).sum()),
        surface=SurfaceInfo(surf.name, surf.source, tuple(surf.shape)),
        params=EdgSettings(p.move_scale, p.discount, p.counter, p.grid),
        possession={str(k): v for k, v in poss.share().items()},
        edg_mean=edg_by_team,
        edg_frames=int(np.isfinite(series["edg"]).sum()),
        goals=goals,
        top_moments=moments,
        key_frames=[int(f) for f in key_frames],
        outputs=["edg.csv", "summary.json", *figures],
        resumed_frames=resumed,
        warnings=warnings,
        timings={k: round(v, 2) for k, v in timings.items()},
    )
    write_json_atomic(out / "summary.json", summary.to_json())
    return summary


def _events(tracks: Tracks) -> list[tuple[float, str]]:
    ev = tracks.meta.extra.get("events") or []
    outl = []
    for e in ev:
        if isinstance(e, dict) and "time" in e:
            outl.append((float(e["time"]), str(e.get("label", e.get("type", "")))))
    return outl


def _plots(
    states: GameStates,
    tracks: Tracks,
    poss: Any,
    table: pd.DataFrame,
    surf: ValueSurface,
    p: EdgParams,
    key_frames: list[int],
    ball_grid: tuple[int, int],
    out: Path,
    events: list[tuple[float, str]],
) -> list[str]:
    from matplotlib.figure import Figure

    from touchline.viz.pitch_plot import (
        PLOT_COLORS,
        draw_pitch,
        plot_frame,
        plot_pitch_control,
        plot_players,
        plot_series,
        plot_surface,
    )

    written: list[str] = []

    def save(fig: Figure, name: str) -> None:
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        written.append(name)

    # EDG over time
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    ax = fig.add_subplot()
    t = table["time"].to_numpy(np.float64)
    events = events + [(float(states.times[states.index(f)]), f"frame {f}") for f in key_frames]
    team_of = table["team"].to_numpy(np.int64)
    names = {k: t.name for k, t in tracks.meta.teams.items()}
    for team in (0, 1):
        mine = team_of == team
        if not mine.any():
            continue
        name = names.get(team) or f"team {team}"
        plot_series(
            t, np.where(mine, table["edg"].to_numpy(np.float64), np.nan), ax,
            smooth=np.where(mine, table["edg_smooth"].to_numpy(np.float64), np.nan),
            label=f"{name} in possession", color=PLOT_COLORS[team],
            ylabel="EDG (expected discounted goals)",
            events=events if team == int(team_of[mine][0]) else None,
            title="EDG of the team in possession",
        )  # fmt: skip
    save(fig, "edg.png")

    for f in key_frames:
        k = states.index(f)
        team = int(poss.team[k])
        # players, velocities, Voronoi
        fig = Figure(figsize=(10, 7), layout="compressed")
        plot_frame(tracks, f, fig.add_subplot(), voronoi=True, theme="light")
        save(fig, f"frame_{f}.png")
        if team < 0 or not np.isfinite(states.ball[k]).all():
            continue
        axy, avel, agk = states.side(k, team)
        dxy, dvel, dgk = states.side(k, 1 - team)
        attack = states.attack(k, team)
        # pitch control of the team in possession
        pc = pitch_control(
            axy, avel, dxy, dvel, states.ball[k], grid=p.grid, pitch=states.pitch,
            params=p.pitch_control, attack_gk=agk, defence_gk=dgk,
        )  # fmt: skip
        fig = Figure(figsize=(10.5, 7), layout="compressed")
        ax = fig.add_subplot()
        plot_pitch_control(pc, tracks, f, ax, attacking_team=team, voronoi=False)
        ax.set_title(f"pitch control of team {team} (in possession), frame {f}")
        save(fig, f"pitch_control_{f}.png")
        # EDG map over ball positions
        m = edg_map(
            axy, avel, dxy, dvel, surf, attack=attack, ball_grid=ball_grid, params=p,
            pitch=states.pitch, attack_gk=agk, defence_gk=dgk,
        )  # fmt: skip
        fig = Figure(figsize=(10.5, 7), layout="compressed")
        ax = draw_pitch(fig.add_subplot(), states.pitch, theme="light")
        plot_surface(
            m.value, m.xs, m.ys, ax, cmap="magma", vmin=0.0, label="EDG with the ball here",
            interpolation="bilinear", pitch=states.pitch, theme="light",
        )  # fmt: skip
        seen = np.isfinite(states.xy[k]).all(axis=1)
        plot_players(
            ax, states.xy[k, seen], states.team[seen], ids=states.ids[seen],
            vel=states.vel[k, seen], pitch=states.pitch,
        )  # fmt: skip
        ax.plot(*states.ball[k], "o", color="white", mec="black", ms=7, zorder=20)
        ax.set_title(
            f"EDG map of team {team} at frame {f} (attacking {attack}; actual EDG "
            f"{table['edg'].iloc[k]:.4f})"
        )
        save(fig, f"edg_map_{f}.png")
    return written


def _animation(
    tracks: Tracks, states: GameStates, poss: Any, p: EdgParams, path: Path,
    progress: Progress | None,
) -> None:  # fmt: skip
    from touchline.viz.animation import animate
    from touchline.viz.pitch_plot import control_cmap

    xs, ys = grid_centres(p.grid, states.pitch)
    blank = np.full((ys.size, xs.size), np.nan)

    def surface_fn(frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = states.index(frame)
        team = int(poss.team[k])
        if team < 0 or not np.isfinite(states.ball[k]).all():
            return blank, xs, ys  # transparent
        axy, avel, agk = states.side(k, team)
        dxy, dvel, dgk = states.side(k, 1 - team)
        pc = pitch_control(
            axy, avel, dxy, dvel, states.ball[k], grid=p.grid, pitch=states.pitch,
            params=p.pitch_control, attack_gk=agk, defence_gk=dgk,
        )  # fmt: skip
        # colour by team 0's control so that the colours do not flip with possession
        return (pc.attack if team == 0 else pc.defence), pc.xs, pc.ys

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress("video", done, total)

    animate(
        tracks, path, frames=states.frames.tolist(), surface_fn=surface_fn,
        surface_kw={"cmap": control_cmap(0), "vmin": 0.0, "vmax": 1.0, "alpha": 0.7},
        progress=tick,
    )  # fmt: skip
