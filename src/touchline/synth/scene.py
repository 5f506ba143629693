"""What happens on the pitch: actors (players, goalkeepers, referees, ball) and their motion.

A :class:`Scene` is a time series of pitch positions for a fixed cast of actors. It comes from
the simple game model in :mod:`touchline.synth.game` or from real tracking data
(:func:`scene_from_lastrow`, :func:`scene_from_tracks`).

>>> import numpy as np
>>> from touchline.types import ObjectClass
>>> s = Scene(fps=25.0, actors=[Actor(1, ObjectClass.BALL, -1, 0, KITS["ball"])],
...           xy=np.zeros((3, 1, 2)), z=np.zeros((3, 1)))
>>> s.n_frames, s.duration
(3, 0.12)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch, convert
from touchline.types import ObjectClass

__all__ = [
    "KITS",
    "TEAM_KITS",
    "Actor",
    "Kit",
    "Scene",
    "referee_motion",
    "scene_from_lastrow",
    "scene_from_tracks",
]

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class Kit:
    """Colours (BGR) of a figure: shirt, shorts, socks, plus skin and hair."""

    shirt: BGR
    shorts: BGR
    socks: BGR
    skin: BGR = (140, 170, 215)
    hair: BGR = (30, 35, 45)


# Contrasting team kits (BGR) and the kits of goalkeepers, referees and the ball.
TEAM_KITS: tuple[Kit, ...] = (
    Kit((40, 40, 200), (245, 245, 245), (40, 40, 200)),  # red / white
    Kit((245, 245, 245), (40, 40, 40), (245, 245, 245)),  # white / black
    Kit((170, 90, 20), (245, 245, 245), (170, 90, 20)),  # blue / white
    Kit((30, 200, 240), (150, 60, 20), (30, 200, 240)),  # yellow / blue
    Kit((60, 30, 120), (110, 40, 20), (60, 30, 120)),  # maroon / navy
    Kit((40, 40, 40), (40, 40, 40), (40, 40, 40)),  # black
    Kit((220, 180, 120), (60, 40, 20), (220, 180, 120)),  # sky blue / navy
    Kit((0, 140, 255), (20, 20, 20), (0, 140, 255)),  # orange / black
)
KITS: dict[str, Kit] = {
    "goalkeeper_a": Kit((60, 220, 60), (30, 30, 30), (60, 220, 60)),
    "goalkeeper_b": Kit((200, 60, 200), (30, 30, 30), (200, 60, 200)),
    "goalkeeper_c": Kit((30, 220, 240), (30, 30, 30), (30, 220, 240)),
    "referee": Kit((30, 30, 30), (25, 25, 25), (30, 30, 30)),
    "referee_alt": Kit((60, 230, 240), (25, 25, 25), (25, 25, 25)),
    "ball": Kit((250, 250, 250), (250, 250, 250), (250, 250, 250)),
}


@dataclass(frozen=True)
class Actor:
    """One person or the ball.

    Args:
        id: identity, unique and >= 1 (MOT convention).
        role: player, goalkeeper, referee or ball.
        team: 0 or 1 for team members, -1 otherwise.
        number: shirt number (0 when none).
        kit: colours.
        height: standing height in metres (the ball's diameter for the ball).
    """

    id: int
    role: ObjectClass
    team: int
    number: int
    kit: Kit
    height: float = 1.8


@dataclass
class Scene:
    """Pitch positions of a fixed cast over time.

    Args:
        fps: frames per second.
        actors: the cast, one column of ``xy`` each.
        xy: (T, N, 2) touchline metres; NaN while an actor is absent.
        z: (T, N) height above the ground in metres (non-zero only for a ball in the air).
        pitch: the pitch the positions live on.
        source: where the motion comes from (for the ground-truth metadata).
    """

    fps: float
    actors: list[Actor]
    xy: NDArray[np.float64]
    z: NDArray[np.float64]
    pitch: Pitch = field(default_factory=Pitch)
    source: str = "game-model"

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float64)
        self.z = np.asarray(self.z, dtype=np.float64)
        n = len(self.actors)
        if self.xy.ndim != 3 or self.xy.shape[1:] != (n, 2):
            raise DataError(f"scene xy must be (T, {n}, 2) for {n} actors, got {self.xy.shape}")
        if self.z.shape != self.xy.shape[:2]:
            raise DataError(f"scene z must be {self.xy.shape[:2]}, got {self.z.shape}")
        if self.fps <= 0:
            raise DataError(f"scene fps must be positive, got {self.fps}")
        ids = [a.id for a in self.actors]
        if len(set(ids)) != len(ids) or min(ids, default=1) < 1:
            raise DataError("actor ids must be unique and >= 1")

    @property
    def n_frames(self) -> int:
        return int(self.xy.shape[0])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def ball_index(self) -> int | None:
        for i, a in enumerate(self.actors):
            if a.role == ObjectClass.BALL:
                return i
        return None

    def velocity(self) -> NDArray[np.float64]:
        """(T, N, 2) velocities in m/s (central differences; zero for a single frame)."""
        if self.n_frames < 2:
            return np.zeros_like(self.xy)
        return np.gradient(self.xy, 1.0 / self.fps, axis=0)

    def velocity_at(self, k: int) -> NDArray[np.float64]:
        """(N, 2) velocities in m/s at frame ``k``, equal to ``velocity()[k]`` but O(N)."""
        T = self.n_frames
        if T < 2:
            return np.zeros_like(self.xy[k])
        if k == 0:
            return (self.xy[1] - self.xy[0]) * self.fps
        if k == T - 1:
            return (self.xy[-1] - self.xy[-2]) * self.fps
        return (self.xy[k + 1] - self.xy[k - 1]) * (self.fps / 2)

    def truncated(self, n_frames: int) -> Scene:
        """The first ``n_frames`` frames."""
        return Scene(
            self.fps, self.actors, self.xy[:n_frames], self.z[:n_frames], self.pitch, self.source
        )


# --------------------------------------------------------------------------------------------
# Officials
# --------------------------------------------------------------------------------------------
def _smooth_follow(
    target: NDArray[np.float64], fps: float, max_speed: float, lag: float
) -> NDArray[np.float64]:
    """Follow a (T, 2) target with a first-order lag and a speed cap."""
    out = np.empty_like(target)
    pos = target[0].copy()
    dt = 1.0 / fps
    for i in range(len(target)):
        step = (target[i] - pos) * min(1.0, dt / lag)
        n = float(np.hypot(*step))
        if n > max_speed * dt:
            step *= max_speed * dt / n
        pos = pos + step
        out[i] = pos
    return out


def referee_motion(
    ball: NDArray[np.float64],
    fps: float,
    pitch: Pitch,
    *,
    first_id: int = 900,
    kit: Kit | None = None,
) -> tuple[NDArray[np.float64], list[Actor]]:
    """The referee and two assistants following a ball trajectory (T, 2).

    The referee keeps a diagonal offset from the ball; the assistants walk the touchlines,
    each in one half, level with play. Returns positions (T, 3, 2) and the three actors
    (ids ``first_id`` .. ``first_id + 2``).
    """
    L, W = pitch.length, pitch.width
    b = np.where(np.isnan(ball), np.array([L / 2, W / 2]), ball)
    # The referee keeps play between himself and the far assistant: behind and goal-side.
    side = np.tanh((b[:, :1] - L / 2) / 20.0)
    ref_target = b + np.hstack([-6.0 - 4.0 * side, 8.0 - 2.0 * np.abs(side)])
    ref_target[:, 0] = np.clip(ref_target[:, 0], 3, L - 3)
    ref_target[:, 1] = np.clip(ref_target[:, 1], 3, W - 3)
    ref = _smooth_follow(ref_target, fps, 6.5, 0.8)
    ar1 = np.stack([np.clip(b[:, 0] + 6, L / 2, L - 1), np.full(len(b), -1.2)], axis=1)
    ar2 = np.stack([np.clip(b[:, 0] - 6, 1, L / 2), np.full(len(b), W + 1.2)], axis=1)
    ar1 = _smooth_follow(ar1, fps, 6.0, 0.5)
    ar2 = _smooth_follow(ar2, fps, 6.0, 0.5)
    kit = kit or KITS["referee"]
    actors = [
        Actor(first_id + i, ObjectClass.REFEREE, -1, 0, kit, h)
        for i, h in enumerate((1.82, 1.78, 1.80))
    ]
    return np.stack([ref, ar1, ar2], axis=1), actors


# --------------------------------------------------------------------------------------------
# Real tracking data
# --------------------------------------------------------------------------------------------
def _resample(
    times: NDArray[np.float64], values: NDArray[np.float64], new_times: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Linear interpolation of (T, ...) values at new times; NaN outside the data."""
    flat = values.reshape(len(values), -1)
    out = np.full((len(new_times), flat.shape[1]), np.nan)
    for j in range(flat.shape[1]):
        ok = ~np.isnan(flat[:, j])
        if ok.sum() >= 2:
            out[:, j] = np.interp(new_times, times[ok], flat[ok, j], left=np.nan, right=np.nan)
    return out.reshape((len(new_times), *values.shape[1:]))


def _named_bgr(name: str, default: BGR) -> BGR:
    try:
        from matplotlib.colors import to_rgb

        r, g, b = to_rgb(name)
        return (round(b * 255), round(g * 255), round(r * 255))
    except (ValueError, ImportError):
        return default


def scene_from_lastrow(
    path: str | Path,
    *,
    fps: float = 25.0,
    source_fps: float = 20.0,
    pitch: Pitch | None = None,
    with_referees: bool = True,
) -> Scene:
    """A scene from a Last Row tracking CSV (``player,frame,x,y,z,...,team,...,bgcolor``).

    Coordinates are 0..100 with the origin at the bottom-left (see ``pitch.convert``), at
    ``source_fps`` (20 Hz); they are interpolated to ``fps``. The ball is the row group whose
    ``team`` is empty; ``team`` "attack" becomes team 0 and "defense" team 1, with kit colours
    from ``bgcolor``/``edgecolor``. Referees are added following the ball.

    Raises:
        DataError: missing file, missing columns or no usable rows (the message names the file).
    """
    path = Path(path)
    pitch = pitch or Pitch()
    if not path.is_file():
        raise DataError(f"{path}: no such tracking file")
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: cannot read as CSV ({e})") from e
    need = {"player", "frame", "x", "y", "team"}
    if not rows or not need <= set(rows[0]):
        have = sorted(rows[0]) if rows else []
        raise DataError(f"{path}: not a Last Row CSV: need columns {sorted(need)}, found {have}")
    by_player: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_player.setdefault(r["player"], []).append(r)
    try:
        frames = sorted({int(float(r["frame"])) for r in rows})
    except ValueError as e:
        raise DataError(f"{path}: non-numeric frame ({e})") from e
    f0, n_src = frames[0], frames[-1] - frames[0] + 1
    actors: list[Actor] = []
    tracks: list[NDArray[np.float64]] = []
    zs: list[NDArray[np.float64]] = []
    team_index = {"attack": 0, "defense": 1}
    numbers = {0: 0, 1: 0}
    for pid, prow in sorted(by_player.items(), key=lambda kv: (kv[1][0]["team"] == "", kv[0])):
        xy = np.full((n_src, 2), np.nan)
        z = np.zeros(n_src)
        for r in prow:
            k = int(float(r["frame"])) - f0
            try:
                xy[k] = (float(r["x"]), float(r["y"]))
                z[k] = float(r.get("z") or 0.0)
            except ValueError as e:
                raise DataError(f"{path}: bad coordinate for player {pid} ({e})") from e
        team_name = prow[0]["team"].strip().lower()
        if team_name == "":
            actors.append(Actor(len(actors) + 1, ObjectClass.BALL, -1, 0, KITS["ball"], 0.22))
        else:
            t = team_index.get(team_name, 1)
            numbers[t] += 1
            fallback = TEAM_KITS[0 if t == 0 else 1]
            shirt = _named_bgr(prow[0].get("bgcolor", ""), fallback.shirt)
            trim = _named_bgr(prow[0].get("edgecolor", ""), fallback.shorts)
            kit = Kit(shirt, trim, shirt)
            num = int(float(prow[0]["num"])) if prow[0].get("num") else numbers[t]
            actors.append(
                Actor(
                    len(actors) + 1,
                    ObjectClass.PLAYER,
                    t,
                    num,
                    kit,
                    1.72 + 0.1 * ((len(actors) * 7919) % 10) / 10,
                )
            )
        tracks.append(convert(xy, "lastrow", "touchline", pitch=pitch))
        zs.append(z)
    src_t = np.arange(n_src) / source_fps
    n_out = int(np.floor((n_src - 1) / source_fps * fps)) + 1
    new_t = np.arange(n_out) / fps
    xy_all = _resample(src_t, np.stack(tracks, axis=1), new_t)
    z_all = np.nan_to_num(_resample(src_t, np.stack(zs, axis=1), new_t))
    if with_referees:
        bi = next((i for i, a in enumerate(actors) if a.role == ObjectClass.BALL), None)
        ball = xy_all[:, bi] if bi is not None else np.full((n_out, 2), np.nan)
        ref_xy, refs = referee_motion(ball, fps, pitch, first_id=len(actors) + 1)
        actors += refs
        xy_all = np.concatenate([xy_all, ref_xy], axis=1)
        z_all = np.concatenate([z_all, np.zeros((n_out, len(refs)))], axis=1)
    return Scene(fps, actors, xy_all, z_all, pitch, source=f"lastrow:{path.name}")


def scene_from_tracks(
    path: str | Path, *, fps: float | None = None, pitch: Pitch | None = None
) -> Scene:
    """A scene from a Touchline tracks table (Parquet/CSV with ``pitch_x``/``pitch_y``).

    Frames are taken as consecutive at the table's fps (or ``fps``); team and class come from
    the table, kits from the team.
    """
    from touchline.tracks import read_tracks

    tracks = read_tracks(path)
    df = tracks.df
    fps = fps or tracks.fps or 25.0
    pitch = pitch or Pitch.of_size(*tracks.pitch_size)
    if len(df) == 0:
        raise DataError(f"{path}: the tracks table is empty")
    frames = np.arange(int(df["frame"].min()), int(df["frame"].max()) + 1)
    ids = sorted(df["track_id"].unique())
    col = {tid: i for i, tid in enumerate(ids)}
    xy = np.full((len(frames), len(ids), 2), np.nan)
    fi = (df["frame"].to_numpy() - frames[0]).astype(int)
    ci = np.array([col[t] for t in df["track_id"].to_numpy()])
    xy[fi, ci, 0] = df["pitch_x"].to_numpy(np.float64)
    xy[fi, ci, 1] = df["pitch_y"].to_numpy(np.float64)
    first = df.drop_duplicates("track_id").set_index("track_id")
    actors: list[Actor] = []
    for tid in ids:
        role = ObjectClass(int(first.loc[tid, "class_id"]))
        team = int(first.loc[tid, "team"])
        kit = (
            KITS["ball"]
            if role == ObjectClass.BALL
            else KITS["referee"]
            if role == ObjectClass.REFEREE
            else KITS["goalkeeper_a"]
            if role == ObjectClass.GOALKEEPER
            else TEAM_KITS[max(team, 0) % 2]
        )
        actors.append(
            Actor(
                int(tid) if tid >= 1 else len(actors) + 1,
                role,
                team,
                0,
                kit,
                0.22 if role == ObjectClass.BALL else 1.8,
            )
        )
    return Scene(
        float(fps), actors, xy, np.zeros(xy.shape[:2]), pitch, source=f"tracks:{Path(path).name}"
    )
