"""Matplotlib plots on the pitch for evaluating play: frames, Voronoi cells, surfaces, series.

Everything is drawn in touchline coordinates (metres, origin at the top-left corner, ``x``
along the length, ``y`` down across the pitch): :func:`draw_pitch` sets the axes to metres with
the ``y`` axis inverted, so a point ``(x, y)`` is plotted with ``ax.plot(x, y)`` and the top
touchline is at the top. The pitch itself is drawn from :class:`~touchline.pitch.Pitch`
geometry (no mplsoccer).

No pyplot global state is used: a function called without ``ax`` creates its own
:class:`matplotlib.figure.Figure` (with an Agg canvas) and returns the Axes; save it with
``ax.figure.savefig(path)``. Colours follow :data:`touchline.viz.overlay.TEAM_COLORS` (team 0
blue, team 1 red, goalkeepers ringed in magenta, the ball white), except that referees are grey
here; :data:`PLOT_COLORS` holds them as matplotlib RGB tuples.

Layers (``zorder``): grass 0, surfaces 0.5, Voronoi cells 0.8, pitch lines 1, velocity arrows
2, players 3, labels 4, ball 5. Artists carry a ``gid`` (``"pitch-lines"``, ``"surface"``,
``"voronoi"``, ``"velocities"``, ``"players"``, ``"labels"``, ``"ball"``, ...) so tests and
callers can find them.

>>> ax = draw_pitch()
>>> [float(v) for v in (*ax.get_xlim(), *ax.get_ylim())]
[-3.0, 108.0, 71.0, -3.0]
>>> ax = plot_players(ax, [[30.0, 20.0], [60.0, 40.0]], team=[0, 1], ids=[7, 10])
>>> [c.get_gid() for c in ax.collections][-2:]
['players', 'labels']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import (
    EllipseCollection,
    LineCollection,
    PatchCollection,
    PathCollection,
    PolyCollection,
)
from matplotlib.colors import Colormap, LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrow, Rectangle
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch
from touchline.tracking_meta import AttackDirection
from touchline.types import CLASS_NAMES
from touchline.viz.overlay import TEAM_COLORS, _as_points

__all__ = [
    "PITCH_THEMES",
    "PLOT_COLORS",
    "PitchTheme",
    "control_cmap",
    "draw_pitch",
    "plot_frame",
    "plot_pitch_control",
    "plot_players",
    "plot_series",
    "plot_surface",
]

FloatArray = NDArray[np.float64]
RGB = tuple[float, float, float]
ColorKey = int | str
ThemeName = Literal["grass", "light"]

# Layers.
Z_GRASS, Z_SURFACE, Z_VORONOI, Z_LINES = 0.0, 0.5, 0.8, 1.0
Z_ARROWS, Z_PLAYERS, Z_LABELS, Z_BALL, Z_NOTES = 2.0, 3.0, 4.0, 5.0, 6.0

PITCH_GIDS = ("pitch-lines", "pitch-spots", "pitch-goals")
"""``gid`` of the artists of the painted lines (drawn above surfaces and Voronoi cells)."""

_OWN_FIGURE = "touchline-pitch"  # label of figures sized by draw_pitch (widened for colorbars)
_GOAL_DEPTH = 1.8  # metres drawn behind each goal line
_MAX_PLAYER_SPEED = 12.0  # m/s; faster finite-difference velocities are identity switches
_MAX_VELOCITY_GAP = 1.0  # s; finite differences only between rows at most this far apart
_MIN_ARROW_SPEED = 0.3  # m/s; slower players get no arrow
_LABEL_FONT = FontProperties(weight="bold")


def _bgr_to_rgb(bgr: tuple[int, int, int]) -> RGB:
    b, g, r = bgr
    return (r / 255.0, g / 255.0, b / 255.0)


PLOT_COLORS: dict[ColorKey, RGB] = {
    0: _bgr_to_rgb(TEAM_COLORS["team_0"]),
    1: _bgr_to_rgb(TEAM_COLORS["team_1"]),
    "goalkeeper": _bgr_to_rgb(TEAM_COLORS["goalkeeper"]),
    "referee": (0.33, 0.33, 0.33),
    "ball": _bgr_to_rgb(TEAM_COLORS["ball"]),
    "unknown": _bgr_to_rgb(TEAM_COLORS["unknown"]),
}
"""Default colours (RGB 0..1) by team (0, 1) and role (``"goalkeeper"`` ring, ``"referee"``,
``"ball"``, ``"unknown"`` for players without a team). Override any of them with the
``team_colors`` argument of the plotting functions (any matplotlib colour)."""


@dataclass(frozen=True)
class PitchTheme:
    """Colours of a drawn pitch (any matplotlib colour specification).

    Attributes:
        grass: the pitch surface.
        stripes: alternate mowing stripes, or ``None`` for a flat pitch.
        surround: the margin around the pitch (and the figure background).
        line: the painted lines and goals.
    """

    grass: str
    stripes: str | None
    surround: str
    line: str


PITCH_THEMES: dict[str, PitchTheme] = {
    # The grass and stripes of touchline.pitch.draw_template (the radar).
    "grass": PitchTheme(grass="#3c8c3c", stripes="#469b46", surround="#3c8c3c", line="white"),
    "light": PitchTheme(grass="#f7f7f2", stripes=None, surround="white", line="#8c8c8c"),
}
"""The built-in themes: ``"grass"`` (striped green, white lines) and ``"light"`` (paper)."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _theme(theme: ThemeName | PitchTheme) -> PitchTheme:
    if isinstance(theme, PitchTheme):
        return theme
    if theme not in PITCH_THEMES:
        raise ValueError(
            f"theme must be one of {sorted(PITCH_THEMES)} or a PitchTheme, got {theme!r}"
        )
    return PITCH_THEMES[theme]


def _palette(team_colors: Mapping[ColorKey, Any] | None) -> dict[ColorKey, RGB]:
    out = dict(PLOT_COLORS)
    for key, value in (team_colors or {}).items():
        if key not in PLOT_COLORS:
            raise ValueError(
                f"team_colors: unknown key {key!r}; expected some of {list(PLOT_COLORS)}"
            )
        out[key] = to_rgb(value)
    return out


def _new_figure(
    figsize: tuple[float, float],
    *,
    layout: Literal["constrained", "compressed"] | None = "compressed",
) -> Figure:
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _pitch_figsize(pitch: Pitch, margin: float, width: float = 9.0) -> tuple[float, float]:
    aspect = (pitch.width + 2 * margin) / (pitch.length + 2 * margin)
    return (width, round(width * aspect + 0.45, 2))


def _figure(ax: Axes) -> Figure:
    fig = ax.get_figure()
    if not isinstance(fig, Figure):  # a SubFigure: use its parent figure
        fig = getattr(fig, "figure", None)
    if not isinstance(fig, Figure):
        raise ValueError("the axes do not belong to a figure")
    return fig


def _has_pitch(ax: Axes) -> bool:
    return any(c.get_gid() == "pitch-lines" for c in ax.collections)


def _ensure_pitch(
    ax: Axes | None, pitch: Pitch | None, theme: ThemeName | PitchTheme = "grass"
) -> Axes:
    """``ax`` with a pitch drawn on it (a new figure when ``ax`` is None)."""
    if ax is None or not _has_pitch(ax):
        return draw_pitch(ax, pitch, theme=theme)
    return ax


def _points_per_metre(ax: Axes) -> float:
    """Typographic points per pitch metre of equal-aspect axes (after the figure's layout)."""
    fig = _figure(ax)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    bbox = ax.get_window_extent()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    px_per_m = min(bbox.width / max(abs(x1 - x0), 1e-9), bbox.height / max(abs(y1 - y0), 1e-9))
    return float(px_per_m * 72.0 / fig.dpi)


def _rows(value: ArrayLike | None, n: int, name: str, dtype: Any = None) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=arr.dtype)
    if arr.shape[0] != n:
        raise DataError(f"{name}: expected {n} rows (one per player), got {arr.shape[0]}")
    return arr


def _contrast(rgb: RGB) -> str:
    r, g, b = rgb
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.6 else "white"


def _label_text(label: Any) -> str:
    if isinstance(label, float | np.floating) and float(label).is_integer():
        return str(int(label))
    return str(label)


# --------------------------------------------------------------------------------------------
# The pitch
# --------------------------------------------------------------------------------------------


def draw_pitch(
    ax: Axes | None = None,
    pitch: Pitch | None = None,
    *,
    theme: ThemeName | PitchTheme = "grass",
    figsize: tuple[float, float] | None = None,
    margin: float = 3.0,
    linewidth: float = 1.4,
) -> Axes:
    """Draw the pitch (lines, arcs, spots, goals) from :class:`~touchline.pitch.Pitch` geometry.

    The axes are set to touchline metres with ``y`` inverted (the top touchline at the top),
    equal aspect, ``margin`` metres around the pitch, and no ticks or frame.

    Args:
        ax: axes to draw on; ``None`` creates a new Figure (Agg canvas, compressed layout).
        pitch: the pitch (default 105 x 68 m).
        theme: ``"grass"``, ``"light"`` or a :class:`PitchTheme`.
        figsize: size in inches of a new figure (default: 9 inches wide, the pitch's aspect).
        margin: metres shown around the pitch (at least the 1.8 m drawn behind the goals).
        linewidth: line width of the markings, in points.

    Returns:
        The axes.

    >>> ax = draw_pitch(pitch=Pitch.of_size(100, 64), theme="light")
    >>> [float(v) for v in ax.get_ylim()], bool(ax.yaxis_inverted()), ax.get_aspect()
    ([67.0, -3.0], True, 1.0)
    """
    pitch = pitch or Pitch()
    th = _theme(theme)
    L, W, m = pitch.length, pitch.width, float(margin)
    if m < 0:
        raise ValueError(f"margin must be >= 0 metres, got {margin!r}")
    if ax is None:
        fig = _new_figure(figsize or _pitch_figsize(pitch, m))
        fig.set_facecolor(th.surround)
        fig.set_label(_OWN_FIGURE if figsize is None else "")
        ax = fig.add_subplot()
    ax.add_patch(
        Rectangle(
            (-m, -m), L + 2 * m, W + 2 * m, facecolor=th.surround, edgecolor="none",
            zorder=Z_GRASS, gid="pitch-surround",
        )
    )  # fmt: skip
    ax.add_patch(
        Rectangle(
            (0, 0), L, W, facecolor=th.grass, edgecolor="none", zorder=Z_GRASS, gid="pitch-grass"
        )
    )
    if th.stripes is not None:
        n = 18
        band = L / n
        stripes = [Rectangle((k * band, 0), band, W) for k in range(0, n, 2)]
        ax.add_collection(
            PatchCollection(
                stripes, facecolor=th.stripes, edgecolor="none", zorder=Z_GRASS, gid="pitch-stripes"
            )
        )
    spots = [a for a in pitch.arcs if a.filled]
    spot_names = {a.name for a in spots}
    lines = [pts for name, pts in pitch.polylines(step=0.25) if name not in spot_names]
    ax.add_collection(
        LineCollection(
            lines, colors=th.line, linewidths=linewidth, capstyle="round", joinstyle="round",
            zorder=Z_LINES, gid="pitch-lines",
        )
    )  # fmt: skip
    r_spot = max(pitch.dims.spot_radius, 0.3)
    ax.add_collection(
        PatchCollection(
            [Circle(a.center, r_spot) for a in spots],
            facecolor=th.line, edgecolor="none", zorder=Z_LINES, gid="pitch-spots",
        )
    )  # fmt: skip
    depth = min(_GOAL_DEPTH, m) if m > 0 else 0.0
    gw, cy = pitch.dims.goal_width, W / 2
    if depth > 0:
        goals = [
            Rectangle((-depth, cy - gw / 2), depth, gw),
            Rectangle((L, cy - gw / 2), depth, gw),
        ]
        ax.add_collection(
            PatchCollection(
                goals, facecolor="none", edgecolor=th.line, linewidth=linewidth,
                zorder=Z_LINES, gid="pitch-goals",
            )
        )  # fmt: skip
    ax.set_xlim(-m, L + m)
    ax.set_ylim(W + m, -m)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_facecolor(th.surround)
    return ax


# --------------------------------------------------------------------------------------------
# Players
# --------------------------------------------------------------------------------------------

_ROLE_NAMES = ("player", "goalkeeper", "referee", "ball")


def _role_of_names(classes: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """0 player, 1 goalkeeper, 2 referee, 3 ball, -1 unknown, per class name."""
    if classes is None:
        return np.zeros(n, np.int64)
    names = np.asarray(classes, dtype=object).reshape(-1)
    if names.shape[0] != n:
        raise DataError(f"classes: expected {n} class names (one per player), got {names.shape[0]}")
    lut = {name: k for k, name in enumerate(_ROLE_NAMES)}
    return np.array([lut.get(str(c), -1) for c in names], np.int64)


def _player_artists(
    ax: Axes,
    xy: FloatArray,
    team: np.ndarray,
    roles: NDArray[np.int64],
    labels: Sequence[str] | None,
    vel: FloatArray | None,
    palette: Mapping[ColorKey, RGB],
    *,
    radius: float,
    arrow_seconds: float,
    fontsize: float | None,
) -> list[Artist]:
    """Add discs, arrows and labels of the players; return the artists added."""
    ok = np.isfinite(xy).all(axis=1)
    fill = np.array(
        [
            palette[int(t)] if t in (0, 1) and r in (0, 1) else
            palette["goalkeeper"] if r == 1 else
            palette["referee"] if r == 2 else palette["unknown"]
            for t, r in zip(team.tolist(), roles.tolist(), strict=True)
        ]
    ).reshape(-1, 3)  # fmt: skip
    artists: list[Artist] = []
    if vel is not None:
        v = vel * arrow_seconds
        speed = np.hypot(vel[:, 0], vel[:, 1])
        show = ok & np.isfinite(speed) & (speed >= _MIN_ARROW_SPEED)
        if show.any():
            q = ax.quiver(
                xy[show, 0], xy[show, 1], v[show, 0], v[show, 1],
                color=[(*c, 0.95) for c in fill[show]], angles="xy", scale_units="xy", scale=1.0,
                units="xy", width=0.32 * radius, headwidth=3.2, headlength=3.6,
                headaxislength=3.2, minlength=0.0, zorder=Z_ARROWS, gid="velocities",
            )  # fmt: skip
            q.set_edgecolor((0.1, 0.1, 0.1, 0.8))
            q.set_linewidth(0.4)
            artists.append(q)
    if ok.any():
        gk = roles == 1
        edge = np.array([palette["goalkeeper"] if g else (0.08, 0.08, 0.08) for g in gk[ok]])
        widths = np.where(gk[ok], 1.8, 0.9)
        n_ok = int(ok.sum())
        discs = EllipseCollection(
            np.full(n_ok, 2 * radius), np.full(n_ok, 2 * radius), np.zeros(n_ok), units="xy",
            offsets=xy[ok], offset_transform=ax.transData, facecolors=fill[ok],
            edgecolors=edge, linewidths=widths, zorder=Z_PLAYERS, gid="players",
        )  # fmt: skip
        ax.add_collection(discs, autolim=False)
        artists.append(discs)
    if labels is not None and ok.any():
        base = fontsize if fontsize is not None else 1.05 * radius * _points_per_metre(ax)
        keep = [i for i in np.flatnonzero(ok).tolist() if labels[i]]
        if keep:
            paths = [_label_path(labels[i], base) for i in keep]
            texts = _LabelCollection(
                [labels[i] for i in keep], paths, offsets=xy[keep], offset_transform=ax.transData,
                facecolors=[_contrast(tuple(fill[i])) for i in keep], edgecolors="none",
                zorder=Z_LABELS, gid="labels",
            )  # fmt: skip
            # Paths are in points; this follows the figure's dpi (also when saved at another).
            texts.set_transform(Affine2D().scale(1 / 72) + _figure(ax).dpi_scale_trans)
            ax.add_collection(texts, autolim=False)
            artists.append(texts)
    return artists


class _LabelCollection(PathCollection):
    """Disc labels drawn as glyph outlines (one collection: much faster than many Texts)."""

    def __init__(self, texts: Sequence[str], paths: Sequence[Path], **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self.texts = list(texts)


@functools.lru_cache(maxsize=4096)
def _label_path(text: str, base_size: float) -> Path:
    """The outline of a disc label, centred on the origin, in points (cached)."""
    size = base_size * min(1.0, (2.0 / max(len(text), 1)) ** 0.75)
    tp = TextPath((0, 0), text, size=size, prop=_LABEL_FONT)
    ext = tp.get_extents()
    # Centre horizontally on the ink and vertically on the digits' cap height.
    cap = TextPath((0, 0), "0", size=size, prop=_LABEL_FONT).get_extents()
    shift = Affine2D().translate(-(ext.x0 + ext.x1) / 2, -(cap.y0 + cap.y1) / 2)
    return shift.transform_path(tp)


def plot_players(
    ax: Axes | None,
    xy: ArrayLike,
    team: ArrayLike,
    ids: Sequence[Any] | ArrayLike | None = None,
    vel: ArrayLike | None = None,
    *,
    classes: Sequence[str] | ArrayLike | None = None,
    team_colors: Mapping[ColorKey, Any] | None = None,
    radius: float = 1.0,
    arrow_seconds: float = 1.0,
    fontsize: float | None = None,
    pitch: Pitch | None = None,
) -> Axes:
    """Draw players as discs coloured by team, with labels and velocity arrows.

    Args:
        ax: pitch axes (``None``, or axes without a pitch: the pitch is drawn first).
        xy: ``(n, 2)`` positions, touchline metres; NaN rows are skipped.
        team: ``(n,)`` team 0, 1 or -1 (unknown: grey).
        ids: ``(n,)`` labels written in the discs (jersey numbers, track ids, strings).
        vel: ``(n, 2)`` velocities in m/s, drawn as arrows to where the player would be after
            ``arrow_seconds`` (NaN or slower than 0.3 m/s: no arrow).
        classes: ``(n,)`` class names: ``"goalkeeper"`` gets a magenta ring, ``"referee"``
            is grey; default all ``"player"``.
        team_colors: colour overrides, keys as :data:`PLOT_COLORS`.
        radius: disc radius in metres.
        arrow_seconds: seconds of motion an arrow shows.
        fontsize: label size in points (default: fitted to the disc).
        pitch: the pitch drawn when ``ax`` has none.

    Returns:
        The axes.

    >>> ax = plot_players(None, [[10.0, 34.0], [50.0, 20.0]], team=[0, 1], ids=[1, 9],
    ...                   vel=[[0.0, 0.0], [3.0, 1.0]], classes=["goalkeeper", "player"])
    >>> sorted({a.get_gid() for a in ax.get_children() if a.get_gid() in ("players", "velocities")})
    ['players', 'velocities']
    """
    ax = _ensure_pitch(ax, pitch)
    p = _as_points(xy, "plot_players: xy")
    n = len(p)
    t = _rows(team, n, "plot_players: team", np.int64)
    assert t is not None
    v = _rows(vel, n, "plot_players: vel", np.float64)
    if v is not None and v.shape != (n, 2):
        raise DataError(f"plot_players: vel: expected shape ({n}, 2) in m/s, got {v.shape}")
    labels = None
    if ids is not None:
        raw = _rows(np.asarray(ids, dtype=object), n, "plot_players: ids")
        assert raw is not None
        labels = [_label_text(x) for x in raw.tolist()]
    _player_artists(
        ax, p, t, _role_of_names(classes, n), labels, v, _palette(team_colors),
        radius=radius, arrow_seconds=arrow_seconds, fontsize=fontsize,
    )  # fmt: skip
    return ax


def _ball_artist(ax: Axes, xy: FloatArray, palette: Mapping[ColorKey, RGB]) -> Artist:
    ball = Circle(
        (float(xy[0]), float(xy[1])), 0.65, facecolor=palette["ball"], edgecolor="black",
        linewidth=1.1, zorder=Z_BALL, gid="ball",
    )  # fmt: skip
    ax.add_artist(ball)
    return ball


def _voronoi_artist(
    ax: Axes, xy: FloatArray, team: np.ndarray, palette: Mapping[ColorKey, RGB], pitch: Pitch
) -> Artist | None:
    from touchline.analytics.voronoi import voronoi_cells

    if len(xy) == 0:
        return None
    cells = voronoi_cells(xy, pitch)
    keep = [i for i, c in enumerate(cells) if len(c) >= 3]
    if not keep:
        return None
    coll = PolyCollection(
        [cells[i] for i in keep],
        facecolors=[(*palette[int(team[i])], 0.45) for i in keep],
        edgecolors=(1.0, 1.0, 1.0, 0.55), linewidths=0.8, zorder=Z_VORONOI, gid="voronoi",
    )  # fmt: skip
    ax.add_collection(coll)
    return coll


# --------------------------------------------------------------------------------------------
# One frame of a tracks table
# --------------------------------------------------------------------------------------------


class _FrameIndex:
    """Per-frame access to a tracks table, built once (an animation reuses it).

    With ``first``/``last`` only the rows of frames ``first .. last`` and of the frame just
    before and after them are indexed (what velocities need): plotting one frame of a whole
    match does not convert the whole table.
    """

    def __init__(self, tracks: Any, first: int | None = None, last: int | None = None) -> None:
        from touchline.tracks import Tracks

        if not isinstance(tracks, Tracks):
            raise TypeError(f"expected a touchline Tracks table, got {type(tracks).__name__}")
        df: pd.DataFrame = tracks.df
        period = tracks.row_periods()
        if first is not None and last is not None and len(df):
            f = df["frame"].to_numpy()
            lo = int(np.searchsorted(f, first, side="left"))
            hi = int(np.searchsorted(f, last, side="right"))
            if lo > 0:
                lo = int(np.searchsorted(f, f[lo - 1], side="left"))
            if hi < len(f):
                hi = int(np.searchsorted(f, f[hi], side="right"))
            df, period = df.iloc[lo:hi], period[lo:hi]
        self.pitch = Pitch.of_size(*tracks.pitch_size)
        self.frame = df["frame"].to_numpy(np.int64)
        self.frames = np.unique(self.frame)
        self.time = df["time"].to_numpy(np.float64)
        self.track_id = df["track_id"].to_numpy(np.int64)
        self.team = df["team"].to_numpy(np.int64)
        self.xy = df[["pitch_x", "pitch_y"]].to_numpy(np.float64)
        self.confidence = df["confidence"].to_numpy(np.float64)
        self.vel = (
            df[["vx", "vy"]].to_numpy(np.float64) if {"vx", "vy"} <= set(df.columns) else None
        )
        # Role from the class name, else from the class id; an unknown track 0 is the ball.
        lut = {name: k for k, name in enumerate(_ROLE_NAMES)}
        by_id = np.array([lut.get(c, -1) for c in CLASS_NAMES] + [-1], np.int64)
        cid = df["class_id"].to_numpy(np.int64)
        from_id = by_id[np.where((cid >= 0) & (cid < len(CLASS_NAMES)), cid, len(CLASS_NAMES))]
        names = df["class_name"].astype(str).to_numpy()
        from_name = np.array([lut.get(s, -2) for s in names], np.int64)
        role = np.where(from_name >= -1, from_name, from_id)
        role[(role == -1) & (self.track_id == 0)] = 3
        self.role = role
        self.jerseys = {
            t: _label_text(p.jersey) for t, p in tracks.meta.players.items() if p.jersey is not None
        }
        self.direction = tracks.meta.attack_direction
        self.period = period

    def rows(self, frame: int) -> slice:
        lo = int(np.searchsorted(self.frame, frame, side="left"))
        hi = int(np.searchsorted(self.frame, frame, side="right"))
        return slice(lo, hi)

    def velocities(self, frame: int, sl: slice) -> FloatArray:
        """Velocities of the rows ``sl`` (of ``frame``): columns vx/vy, else finite differences."""
        if self.vel is not None:
            return self.vel[sl]
        n = sl.stop - sl.start
        out = np.full((n, 2), np.nan)
        k = int(np.searchsorted(self.frames, frame))
        if n == 0 or k >= len(self.frames) or self.frames[k] != frame:
            return out
        ids, t0, p0 = self.track_id[sl], self.time[sl], self.xy[sl]
        ends: list[tuple[FloatArray, FloatArray]] = []  # (time, position) of prev and next
        for j in (k - 1, k + 1):
            t_j = np.full(n, np.nan)
            p_j = np.full((n, 2), np.nan)
            if 0 <= j < len(self.frames):
                other = self.rows(int(self.frames[j]))
                oid = self.track_id[other]
                pos = np.searchsorted(oid, ids)
                pos_c = np.minimum(pos, max(len(oid) - 1, 0))
                hit = (pos < len(oid)) & (oid[pos_c] == ids) if len(oid) else np.zeros(n, bool)
                t_j[hit] = self.time[other][pos_c[hit]]
                p_j[hit] = self.xy[other][pos_c[hit]]
            ends.append((t_j, p_j))
        (tp, pp), (tn, pn) = ends
        with np.errstate(invalid="ignore", divide="ignore"):
            ok_p = (t0 - tp > 0) & (t0 - tp <= _MAX_VELOCITY_GAP)
            ok_n = (tn - t0 > 0) & (tn - t0 <= _MAX_VELOCITY_GAP)
            central = (pn - pp) / (tn - tp)[:, None]
            back = (p0 - pp) / (t0 - tp)[:, None]
            fwd = (pn - p0) / (tn - t0)[:, None]
        out[ok_p & ok_n] = central[ok_p & ok_n]
        out[ok_p & ~ok_n] = back[ok_p & ~ok_n]
        out[~ok_p & ok_n] = fwd[~ok_p & ok_n]
        speed = np.hypot(out[:, 0], out[:, 1])
        out[(speed > _MAX_PLAYER_SPEED) & (self.role[sl] != 3)] = np.nan
        return out

    def attack_direction(self, frame: int, sl: slice) -> AttackDirection | None:
        """Team 0's attacking direction recorded in the metadata for the frame's period."""
        return self.direction.get(int(self.period[sl.start])) if sl.stop > sl.start else None


def _format_time(t: float) -> str:
    if not np.isfinite(t):
        return ""
    minutes, seconds = divmod(max(t, 0.0), 60.0)
    return f"{int(minutes):02d}:{seconds:05.2f}"


def _direction_artists(
    ax: Axes, direction: AttackDirection, palette: Mapping[ColorKey, RGB], pitch: Pitch
) -> list[Artist]:
    """Arrows in the bottom margin showing which way each team attacks."""
    value = direction.sign
    L, W = pitch.length, pitch.width
    y0, y1 = ax.get_ylim()
    margin = max(y0, y1) - W
    y = W + max(margin, 1.0) * 0.5
    width = min(max(margin, 1.0) * 0.35, 1.2)
    artists: list[Artist] = []
    for team, centre, sign in ((0, 0.3 * L, value), (1, 0.7 * L, -value)):
        length = 0.14 * L
        arrow = FancyArrow(
            centre - sign * length / 2, y, sign * length, 0.0, width=width,
            head_width=2.4 * width, head_length=2.0 * width, length_includes_head=True,
            facecolor=palette[team], edgecolor="white", linewidth=0.6, zorder=Z_NOTES,
            gid="attack-direction", clip_on=False,
        )  # fmt: skip
        ax.add_artist(arrow)
        artists.append(arrow)
    return artists


def _frame_artists(
    ax: Axes,
    index: _FrameIndex,
    frame: int,
    *,
    velocities: bool,
    ids: bool,
    voronoi: bool,
    palette: Mapping[ColorKey, RGB],
    ball: bool,
    attack_direction: str | int | None,
    radius: float,
    arrow_seconds: float,
    fontsize: float | None,
) -> tuple[list[Artist], float]:
    """Draw one frame (not the title); return the artists and the frame's time (NaN if none)."""
    sl = index.rows(frame)
    role, team, xy = index.role[sl], index.team[sl], index.xy[sl]
    time = float(index.time[sl.start]) if sl.stop > sl.start else float("nan")
    people = (role != 3) & np.isfinite(xy).all(axis=1)
    artists: list[Artist] = []
    if voronoi:
        sel = people & np.isin(team, (0, 1)) & np.isin(role, (0, 1))
        cell = _voronoi_artist(ax, xy[sel], team[sel], palette, index.pitch)
        if cell is not None:
            artists.append(cell)
    vel = index.velocities(frame, sl)[people] if velocities else None
    labels = None
    if ids:
        tid = index.track_id[sl][people]
        # jerseys only when every player in view has one: a mix of jersey numbers and track
        # ids would show two players with the same number
        use_jerseys = all(int(i) in index.jerseys for i in tid)
        labels = [index.jerseys[int(i)] if use_jerseys else str(int(i)) for i in tid]
    artists += _player_artists(
        ax, xy[people], team[people], role[people], labels, vel, palette,
        radius=radius, arrow_seconds=arrow_seconds, fontsize=fontsize,
    )  # fmt: skip
    if ball:
        balls = np.flatnonzero((role == 3) & np.isfinite(xy).all(axis=1))
        if balls.size:
            conf = np.nan_to_num(index.confidence[sl][balls], nan=-1.0)
            artists.append(_ball_artist(ax, xy[balls[int(np.argmax(conf))]], palette))
    direction = index.attack_direction(frame, sl)
    if attack_direction is not None:
        try:
            direction = AttackDirection(str(attack_direction))
        except ValueError:
            msg = f"attack_direction must be 'left', 'right', 1 or -1, got {attack_direction!r}"
            raise ValueError(msg) from None
    if direction is not None:
        artists += _direction_artists(ax, direction, palette, index.pitch)
    return artists, time


def _frame_title(frame: int, time: float) -> str:
    clock = _format_time(time)
    return f"frame {frame}" + (f"  ·  {clock}" if clock else "")


def plot_frame(
    tracks: Any,
    frame: int,
    ax: Axes | None = None,
    *,
    velocities: bool = True,
    ids: bool = True,
    voronoi: bool = False,
    team_colors: Mapping[ColorKey, Any] | None = None,
    ball: bool = True,
    title: str | None = None,
    attack_direction: str | int | None = None,
    theme: ThemeName | PitchTheme = "grass",
    radius: float = 1.0,
    arrow_seconds: float = 1.0,
    fontsize: float | None = None,
) -> Axes:
    """Plot one frame of a tracks table: players, ball, velocities, labels, Voronoi cells.

    Players are the rows that are not the ball (``class_name`` ``"ball"``, or an unknown
    class with track id 0), coloured by team; goalkeepers have a magenta ring, referees and
    players without a team are grey. Labels are jersey numbers from
    ``tracks.meta.players[track_id].jersey`` when every player in the frame has
    one, else track ids.
    Velocities come from columns ``vx``/``vy`` when the table has them (e.g. from
    :func:`touchline.trajectories.kinematics`), else from central differences of
    ``pitch_x``/``pitch_y`` over ``time`` with the track's rows in the neighbouring frames
    (one-sided at the ends; none across gaps of more than 1 s).

    Args:
        tracks: a :class:`~touchline.tracks.Tracks` table with pitch positions.
        frame: the frame index to draw.
        ax: pitch axes; ``None`` draws the pitch (of ``tracks.pitch_size``) on a new figure.
        velocities: draw velocity arrows (``arrow_seconds`` of motion).
        ids: write jersey numbers / track ids in the discs.
        voronoi: fill each team player's pitch-bounded Voronoi cell in its team colour.
        team_colors: colour overrides, keys as :data:`PLOT_COLORS`.
        ball: draw the ball (the most confident ball row of the frame).
        title: the title; ``None`` gives ``"frame N · mm:ss.ss"``, ``""`` none.
        attack_direction: the direction team 0 attacks (``"right"``/``+1`` towards
            ``x = length``, ``"left"``/``-1``), drawn as arrows below the pitch; ``None`` uses
            ``tracks.meta.attack_direction`` of the frame's period when recorded.
        theme: pitch theme of a new figure.
        radius: disc radius in metres.
        arrow_seconds: seconds of motion a velocity arrow shows.
        fontsize: label size in points (default: fitted to the disc).

    Returns:
        The axes.

    >>> import pandas as pd
    >>> from touchline.tracks import TRACK_COLUMN_NAMES, Tracks
    >>> rows = pd.DataFrame({c: [0] * 6 for c in TRACK_COLUMN_NAMES}).assign(
    ...     frame=[0, 0, 0, 1, 1, 1], time=[0, 0, 0, 0.04, 0.04, 0.04], track_id=[0, 4, 9] * 2,
    ...     class_name=["ball", "player", "goalkeeper"] * 2, team=[-1, 0, 1] * 2,
    ...     pitch_x=[50.0, 40, 100, 51, 40.2, 100], pitch_y=[30.0, 20, 34, 30, 20, 34])
    >>> ax = plot_frame(Tracks(rows), 1, voronoi=True)
    >>> ax.get_title()
    'frame 1  ·  00:00.04'
    >>> [c.get_gid() for c in ax.collections if c.get_gid() in ("voronoi", "players")]
    ['voronoi', 'players']
    """
    index = _FrameIndex(tracks, int(frame), int(frame))
    f = tracks.df["frame"]
    if not len(f) or not int(f.min()) <= int(frame) <= int(f.max()):
        # A frame inside the table with no rows (a tracking gap) draws the bare pitch.
        span = f"frames {int(f.min())}..{int(f.max())}" if len(f) else "no rows"
        raise DataError(f"plot_frame: frame {int(frame)} is not in the tracks ({span})")
    ax = _ensure_pitch(ax, index.pitch, theme)
    _, time = _frame_artists(
        ax, index, int(frame), velocities=velocities, ids=ids, voronoi=voronoi,
        palette=_palette(team_colors), ball=ball, attack_direction=attack_direction,
        radius=radius, arrow_seconds=arrow_seconds, fontsize=fontsize,
    )  # fmt: skip
    ax.set_title(_frame_title(int(frame), time) if title is None else title, fontsize=11)
    return ax


# --------------------------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------------------------


def _edges(centres: FloatArray, name: str) -> tuple[FloatArray, bool]:
    """Cell edges from cell centres, and whether the spacing is uniform."""
    c = np.asarray(centres, dtype=np.float64).reshape(-1)
    if c.size == 0 or not np.isfinite(c).all():
        raise DataError(f"plot_surface: {name} must be finite cell centres, got {c.size} values")
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5]), True
    d = np.diff(c)
    if not ((d > 0).all() or (d < 0).all()):
        raise DataError(f"plot_surface: {name} must be strictly monotonic cell centres")
    mid = (c[1:] + c[:-1]) / 2
    edges = np.concatenate([[c[0] - d[0] / 2], mid, [c[-1] + d[-1] / 2]])
    return edges, bool(np.allclose(d, d[0], rtol=1e-6, atol=1e-9))


def _surface_artist(
    ax: Axes,
    values: ArrayLike,
    xs: ArrayLike,
    ys: ArrayLike,
    *,
    cmap: str | Colormap,
    vmin: float | None,
    vmax: float | None,
    alpha: float,
    interpolation: str,
) -> Any:
    v = np.asarray(values, dtype=np.float64)
    x_edges, x_uniform = _edges(np.asarray(xs), "xs")
    y_edges, y_uniform = _edges(np.asarray(ys), "ys")
    shape = (len(y_edges) - 1, len(x_edges) - 1)
    if v.shape != shape:
        raise DataError(
            f"plot_surface: values expected shape (len(ys), len(xs)) = {shape}, got {v.shape}"
        )
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    masked = np.ma.masked_invalid(v)
    if x_uniform and y_uniform:
        extent = (x_edges[0], x_edges[-1], y_edges[-1], y_edges[0])
        art: Any = ax.imshow(
            masked, extent=extent, origin="upper", cmap=cmap, vmin=vmin, vmax=vmax,
            alpha=alpha, interpolation=interpolation, zorder=Z_SURFACE, aspect="auto",
        )  # fmt: skip
    else:
        art = ax.pcolormesh(
            x_edges, y_edges, masked, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha,
            zorder=Z_SURFACE, shading="flat",
        )  # fmt: skip
    art.set_gid("surface")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_aspect("equal", adjustable="box")
    return art


def plot_surface(
    values: ArrayLike,
    xs: ArrayLike,
    ys: ArrayLike,
    ax: Axes | None = None,
    *,
    cmap: str | Colormap = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    alpha: float = 0.8,
    colorbar: bool = True,
    label: str | None = None,
    interpolation: str = "nearest",
    pitch: Pitch | None = None,
    theme: ThemeName | PitchTheme = "grass",
) -> Axes:
    """A heatmap over the pitch (pitch control, EDG maps, value surfaces), under the lines.

    Args:
        values: ``(ny, nx)`` values, ``values[iy, ix]`` at ``(xs[ix], ys[iy])``; NaN cells are
            transparent.
        xs: ``(nx,)`` cell-centre x coordinates, metres (as :class:`PitchControlResult.xs`).
        ys: ``(ny,)`` cell-centre y coordinates, metres (y down).
        ax: pitch axes; ``None`` draws the pitch on a new figure.
        cmap, vmin, vmax, alpha, interpolation: as :meth:`matplotlib.axes.Axes.imshow`.
        colorbar: add a colorbar beside the axes.
        label: the colorbar label.
        pitch: the pitch drawn when ``ax`` has none.
        theme: pitch theme when the pitch is drawn here.

    Returns:
        The axes. Each cell covers its centre plus half the spacing to its neighbours, so a
        grid from :func:`touchline.analytics.grid_centres` covers the pitch exactly (irregular
        spacing is drawn with ``pcolormesh``).

    >>> xs, ys = np.array([13.125, 39.375, 65.625, 91.875]), np.array([17.0, 51.0])
    >>> ax = plot_surface(np.arange(8.0).reshape(2, 4), xs, ys, label="value")
    >>> [round(float(e), 3) for e in ax.images[0].get_extent()]
    [0.0, 105.0, 68.0, 0.0]
    """
    ax = _ensure_pitch(ax, pitch, theme)
    art = _surface_artist(
        ax, values, xs, ys, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha,
        interpolation=interpolation,
    )  # fmt: skip
    if colorbar:
        fig = _figure(ax)
        if fig.get_label() == _OWN_FIGURE and len(fig.axes) == 1:
            w, h = fig.get_size_inches()
            fig.set_size_inches(w * 1.1, h)  # room for the colorbar beside the pitch
        cb = fig.colorbar(art, ax=ax, shrink=0.8, pad=0.01, fraction=0.04)
        cb.solids.set_alpha(1.0) if cb.solids is not None else None
        if label:
            cb.set_label(label)
    return ax


def control_cmap(
    attacking_team: int | None = None, team_colors: Mapping[ColorKey, Any] | None = None
) -> Colormap:
    """Diverging colormap for pitch control: defending team colour -> white -> attacking.

    ``attacking_team=None`` gives matplotlib's ``"bwr"`` (attack red).

    >>> cmap = control_cmap(0)
    >>> [round(c, 2) for c in cmap(1.0)[:3]] == [round(c, 2) for c in PLOT_COLORS[0]]
    True
    """
    if attacking_team is None:
        from matplotlib import colormaps

        return colormaps["bwr"]
    if attacking_team not in (0, 1):
        raise ValueError(f"attacking_team must be 0, 1 or None, got {attacking_team!r}")
    pal = _palette(team_colors)
    return LinearSegmentedColormap.from_list(
        f"control_team{attacking_team}",
        [pal[1 - attacking_team], (1.0, 1.0, 1.0), pal[attacking_team]],
    )


def plot_pitch_control(
    result: Any,
    tracks: Any = None,
    frame: int | None = None,
    ax: Axes | None = None,
    *,
    attacking_team: int | None = None,
    alpha: float = 0.8,
    colorbar: bool = True,
    interpolation: str = "bilinear",
    team_colors: Mapping[ColorKey, Any] | None = None,
    **frame_kwargs: Any,
) -> Axes:
    """Pitch control (``result.attack`` 0..1) as a heatmap, with the frame's players on top.

    Args:
        result: a :class:`~touchline.analytics.PitchControlResult`.
        tracks: the tracks table; with ``frame``, the players are drawn with :func:`plot_frame`.
        frame: the frame of ``result``.
        ax: pitch axes; ``None`` draws the pitch on a new figure (of ``tracks.pitch_size``).
        attacking_team: 0 or 1: the colormap runs from the defending team's colour through
            white to the attacking team's; ``None``: matplotlib's ``"bwr"`` (attack red).
        alpha: heatmap opacity.
        colorbar: add a colorbar.
        interpolation: heatmap interpolation (``"nearest"`` shows the cells).
        team_colors: colour overrides, keys as :data:`PLOT_COLORS`.
        **frame_kwargs: passed to :func:`plot_frame` (``voronoi``, ``ids``, ``title``...).

    Returns:
        The axes.

    >>> from touchline.analytics import pitch_control
    >>> r = pitch_control([[60.0, 30.0]], [[0.0, 0.0]], [[40.0, 30.0]], [[0.0, 0.0]], None,
    ...                   grid=(21, 14))
    >>> ax = plot_pitch_control(r, attacking_team=0)
    >>> ax.images[0].get_array().shape
    (14, 21)
    """
    pitch = None
    if tracks is not None:
        pitch = Pitch.of_size(*tracks.pitch_size)
    theme = frame_kwargs.pop("theme", "grass")
    ax = _ensure_pitch(ax, pitch, theme)
    plot_surface(
        result.attack, result.xs, result.ys, ax, cmap=control_cmap(attacking_team, team_colors),
        vmin=0.0, vmax=1.0, alpha=alpha, colorbar=colorbar, interpolation=interpolation,
        label="P(attacking team controls)" if colorbar else None,
    )  # fmt: skip
    if tracks is not None and frame is not None:
        plot_frame(tracks, frame, ax, team_colors=team_colors, **frame_kwargs)
    return ax


# --------------------------------------------------------------------------------------------
# Time series
# --------------------------------------------------------------------------------------------


def _smooth_seconds(t: FloatArray, v: FloatArray, seconds: float) -> FloatArray:
    """Centred moving mean over ``seconds`` (NaN-aware), on the median sample spacing."""
    if not (np.isfinite(seconds) and seconds > 0):
        raise ValueError(f"smooth must be a positive window in seconds, got {seconds!r}")
    dt = float(np.nanmedian(np.diff(t))) if t.size > 1 else 1.0
    k = max(1, round(seconds / dt)) if dt > 0 else 1
    s = pd.Series(v).rolling(window=k, center=True, min_periods=max(1, k // 3)).mean()
    return s.to_numpy(np.float64)


def _event_levels(times: Sequence[float], span: float, gap: float = 0.06) -> list[int]:
    """Stack event labels that would overlap: each gets the lowest free level."""
    last: list[float] = []
    levels = []
    for t in times:
        for k, prev in enumerate(last):
            if t - prev >= gap * span:
                last[k] = t
                levels.append(k)
                break
        else:
            last.append(t)
            levels.append(len(last) - 1)
    return levels


def plot_series(
    times: ArrayLike,
    values: ArrayLike,
    ax: Axes | None = None,
    *,
    events: Iterable[tuple[float, str]] | None = None,
    smooth: float | ArrayLike | None = None,
    label: str | None = None,
    ylabel: str | None = None,
    xlabel: str = "time (s)",
    title: str | None = None,
    color: Any = None,
    figsize: tuple[float, float] = (9.0, 3.2),
) -> Axes:
    """A time series (e.g. EDG over time) with event markers and an optional smoothed line.

    Args:
        times: ``(n,)`` times in seconds.
        values: ``(n,)`` values (NaN: gaps).
        ax: axes; ``None`` creates a new figure of ``figsize`` inches.
        events: ``(time, label)`` pairs, drawn as dashed vertical lines labelled at the top
            (labels that would overlap are stacked).
        smooth: a window in seconds for a centred moving mean drawn as a second, bolder line
            (the raw line is then lighter), or ``(n,)`` smoothed values to draw as is.
        label: legend label of the series.
        ylabel, xlabel, title: axis labels and title.
        color: line colour (default: the axes' colour cycle).
        figsize: size of a new figure.

    Returns:
        The axes.

    >>> t = np.arange(0, 10, 0.1)
    >>> ax = plot_series(t, np.sin(t), events=[(2.0, "goal"), (2.3, "shot")], smooth=1.0,
    ...                  label="EDG", ylabel="EDG")
    >>> [line.get_label() for line in ax.get_lines()[:2]]
    ['EDG', 'EDG (1 s mean)']
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if t.shape != v.shape:
        raise DataError(f"plot_series: times {t.shape} and values {v.shape} must have one shape")
    if ax is None:
        ax = _new_figure(figsize).add_subplot()
    raw = ax.plot(t, v, color=color, lw=1.0, label=label or "_series", zorder=3)[0]
    base = raw.get_color()
    if smooth is not None:
        if np.ndim(smooth) == 0:
            s = _smooth_seconds(t, v, float(smooth))  # type: ignore[arg-type]
            name = f"{label or 'series'} ({float(smooth):g} s mean)"  # type: ignore[arg-type]
        else:
            s = np.asarray(smooth, dtype=np.float64).reshape(-1)
            if s.shape != t.shape:
                raise DataError(f"plot_series: smooth has shape {s.shape}, expected {t.shape}")
            name = f"{label or 'series'} (smoothed)"
        raw.set_alpha(0.45)
        ax.plot(t, s, color=base, lw=2.2, label=name, zorder=4)
    finite = v[np.isfinite(v)]
    if finite.size and finite.min() < 0 < finite.max():
        ax.axhline(0.0, color="0.4", lw=0.8, zorder=1)
    if t.size:
        lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
        if hi > lo:
            ax.set_xlim(lo, hi)
    marks = sorted((float(et), str(el)) for et, el in (events or []))
    if marks:
        x0, x1 = ax.get_xlim()
        levels = _event_levels([m[0] for m in marks], abs(x1 - x0) or 1.0)
        trans = ax.get_xaxis_transform()
        for (et, el), level in zip(marks, levels, strict=True):
            ax.axvline(et, color="0.25", ls="--", lw=0.9, zorder=2, gid="event")
            ax.text(
                et, 0.98 - 0.11 * level, f" {el}", transform=trans, ha="left", va="top",
                fontsize=8, color="0.15", zorder=5, gid="event-label",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )  # fmt: skip
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if label or smooth is not None:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return ax
