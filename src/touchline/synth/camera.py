"""A broadcast camera: pinhole model, decomposition of real homographies, ball-following control.

:class:`PinholeCamera` lives in :mod:`touchline.geometry.camera` and is re-exported here.

World frame: touchline pitch metres (x along the touchline from the left goal line, y across from
the far touchline) and ``z`` pointing *down* into the ground, so that (x, y, z) is right-handed;
a point at height ``h`` metres has ``z = -h``. The main camera stands beyond the near touchline
(y > width), above the ground (z < 0), looking across the pitch, so image x follows pitch x.

>>> cam = PinholeCamera.look_at((52.5, 110.0, -20.0), (52.5, 34.0, 0.0), focal=1500.0,
...                             image_size=(1280, 720))
>>> cam.project([[52.5, 34.0, 0.0]])[0].round(1)
array([640., 360.])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.geometry.camera import PinholeCamera
from touchline.pitch import Pitch, coordinate_system

__all__ = [
    "CameraPose",
    "FollowCam",
    "PinholeCamera",
    "builtin_poses",
    "load_broadcast_poses",
]

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Poses: where the broadcast camera stands and how far it zooms
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CameraPose:
    """A broadcast camera placement and how tightly it frames play.

    Args:
        position: camera centre, world metres (z down: ``position[2] = -height``).
        view_width: metres of ground across the frame at the aim point (real broadcast views:
            20-52 m, median 31 m).
        source: where the pose comes from.
    """

    position: tuple[float, float, float]
    view_width: float
    source: str = "builtin"


def builtin_poses(pitch: Pitch | None = None) -> list[CameraPose]:
    """Typical main-camera placements near the halfway line, from real broadcast poses."""
    pitch = pitch or Pitch()
    L, W = pitch.length, pitch.width
    # Quartiles of the 4144 real poses decomposed from broadcast_camera_homographies.npz
    # (World Cup 2014 + TS-WorldCup): ~37 m behind the near touchline, ~13.5 m up, framing
    # 20-52 m of ground (median 31 m). Built in so that rendering needs no data files.
    return [
        CameraPose((L / 2, W + 37.0, -13.5), 31.0),
        CameraPose((L / 2 - 2.4, W + 30.7, -15.5), 25.0),
        CameraPose((L / 2 + 2.2, W + 40.6, -12.6), 38.0),
        CameraPose((L / 2 - 6.6, W + 23.7, -19.0), 45.0),
    ]


def load_broadcast_poses(
    path: str | Path, pitch: Pitch | None = None, *, limit: int | None = None
) -> list[CameraPose]:
    """Camera placements decomposed from real broadcast homographies.

    Reads an npz with ``H`` (N, 3, 3) mapping 1280x720 pixels to the WC14 yard template
    (``../shared/data/calibration/broadcast_camera_homographies.npz``). Each homography is
    decomposed into a camera centre and the width of ground it frames; implausible ones (mirror
    images, cameras below 5 m or above 80 m, on the far side, views narrower than 8 m or wider
    than 110 m) are dropped.

    Raises:
        DataError: the file is missing, unreadable, lacks ``H``, or yields no plausible pose.
    """
    path = Path(path)
    pitch = pitch or Pitch()
    try:
        with np.load(path, allow_pickle=False) as data:
            Hs = np.asarray(data["H"], dtype=np.float64)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except KeyError:
        raise DataError(f"{path}: has no array 'H' (expected (N, 3, 3) homographies)") from None
    except (ValueError, OSError, EOFError) as e:  # numpy's zip/pickle/format errors
        raise DataError(f"{path}: not an npz archive of homographies") from e
    if Hs.ndim != 3 or Hs.shape[1:] != (3, 3):
        raise DataError(f"{path}: 'H' has shape {Hs.shape}, expected (N, 3, 3)")
    # metres (touchline) -> yards (wc14), then yards -> pixels (inverse of the stored map).
    to_yards = np.linalg.inv(coordinate_system("wc14").to_touchline_matrix(pitch))
    poses: list[CameraPose] = []
    for i, H in enumerate(Hs[:limit] if limit else Hs):
        try:
            cam = PinholeCamera.from_homography(np.linalg.inv(H) @ to_yards, (1280, 720))
        except (DataError, np.linalg.LinAlgError):
            continue
        x, y, z = cam.C
        if not (5 < -z < 80 and y > pitch.width + 5 and -60 < x < pitch.length + 60):
            continue
        aim = cam.ray_ground([[640.0, 360.0]])[0]
        if np.isnan(aim).any():
            continue
        width = 1280.0 * float(np.linalg.norm(np.r_[aim, 0.0] - cam.C)) / cam.focal
        if not 8.0 < width < 110.0:
            continue
        poses.append(CameraPose((float(x), float(y), float(z)), width, source=f"{path.name}#{i}"))
    if not poses:
        raise DataError(f"{path}: no plausible broadcast camera pose among {len(Hs)} homographies")
    return poses


# --------------------------------------------------------------------------------------------
# Following play
# --------------------------------------------------------------------------------------------
@dataclass
class FollowCam:
    """Pan, tilt and zoom a fixed camera to follow a target on the pitch, like a camera operator.

    The aim point trails the target through a critically damped spring (``lag`` seconds), leads
    it slightly in the direction of motion, and stays inside the pitch; the zoom drifts slowly
    around the pose's view width (``zoom_range``), zooming out when play moves fast.

    Args:
        pose: where the camera stands and its typical focal length (at 1280 px width).
        image_size: output resolution.
        fps: frames per second of the target trajectory.
        lag: time constant of the pan, seconds.
        zoom_range: (min, max) zoom factor (2 = half the pose's view width).
        min_view_width: never frame less than this many metres of ground (real broadcast
            wide shots rarely show less than ~18 m).
        seed: seed of the zoom drift.
    """

    pose: CameraPose
    image_size: tuple[int, int]
    fps: float
    pitch: Pitch
    lag: float = 0.6
    lead: float = 0.5
    zoom_range: tuple[float, float] = (0.75, 1.2)
    min_view_width: float = 16.0
    seed: int = 0

    def cameras(self, target: ArrayLike) -> list[PinholeCamera]:
        """One camera per frame for a target trajectory ``(T, 2)`` (pitch metres)."""
        tgt = np.asarray(target, dtype=np.float64)
        if tgt.ndim != 2 or tgt.shape[1] != 2:
            raise DataError(f"target trajectory must be (T, 2), got {tgt.shape}")
        T = len(tgt)
        dt = 1.0 / self.fps
        rng = np.random.default_rng(self.seed)
        # Critically damped spring towards target + lead * velocity.
        vel_t = np.gradient(tgt, dt, axis=0) if T > 1 else np.zeros_like(tgt)
        goal = tgt + self.lead * vel_t
        w = 2.0 / self.lag
        aim = np.empty_like(tgt)
        pos, vel = goal[0].copy(), np.zeros(2)
        for i in range(T):
            acc = w * w * (goal[i] - pos) - 2 * w * vel
            vel += acc * dt
            pos += vel * dt
            aim[i] = pos
        aim[:, 0] = np.clip(aim[:, 0], 8.0, self.pitch.length - 8.0)
        aim[:, 1] = np.clip(aim[:, 1], 10.0, self.pitch.width - 6.0)
        # Zoom: slow smooth drift (sum of sinusoids), pulled out when the aim moves fast.
        t = np.arange(T) * dt
        phases = rng.uniform(0, 2 * np.pi, 3)
        periods = rng.uniform([7.0, 13.0, 23.0], [11.0, 19.0, 31.0])
        drift = sum(np.sin(2 * np.pi * t / p + ph) for p, ph in zip(periods, phases, strict=True))
        speed = np.linalg.norm(np.gradient(aim, dt, axis=0), axis=1) if T > 1 else np.zeros(T)
        lo, hi = self.zoom_range
        mid, half = (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / 2
        zoom = np.exp(mid + half * (drift / 3.0) - 0.02 * np.clip(speed - 4.0, 0, 10))
        zoom = np.clip(zoom, lo, hi)
        # Focal length that frames view_width / zoom metres of ground at the aim point.
        C = np.asarray(self.pose.position, dtype=np.float64)
        dist = np.linalg.norm(np.hstack([aim, np.zeros((T, 1))]) - C, axis=1)
        view = np.maximum(self.pose.view_width / zoom, self.min_view_width)
        f = self.image_size[0] * dist / view
        return [
            PinholeCamera.look_at(
                C, (aim[i, 0], aim[i, 1], 0.0), focal=float(f[i]), image_size=self.image_size
            )
            for i in range(T)
        ]
