"""A broadcast camera: pinhole model, decomposition of real homographies, ball-following control.

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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError
from touchline.pitch import Pitch, coordinate_system

__all__ = [
    "CameraPose",
    "FollowCam",
    "PinholeCamera",
    "builtin_poses",
    "load_broadcast_poses",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PinholeCamera:
    """A pinhole camera with square pixels: ``x_img ~ K R (X - C)``.

    Args:
        K: (3, 3) intrinsics (pixels).
        R: (3, 3) rotation world -> camera (OpenCV axes: x right, y down, z forward).
        C: (3,) camera centre in world metres (z down: ``C[2] = -height``).
        image_size: ``(width, height)`` in pixels.
    """

    K: FloatArray
    R: FloatArray
    C: FloatArray
    image_size: tuple[int, int]

    @classmethod
    def look_at(
        cls,
        position: ArrayLike,
        target: ArrayLike,
        *,
        focal: float,
        image_size: tuple[int, int],
        roll: float = 0.0,
    ) -> PinholeCamera:
        """A camera at ``position`` aimed at ``target`` (world metres), horizon level + ``roll``."""
        c = np.asarray(position, dtype=np.float64)
        fwd = np.asarray(target, dtype=np.float64) - c
        norm = np.linalg.norm(fwd)
        if norm < 1e-9:
            raise DataError("camera target coincides with its position")
        fwd /= norm
        down = np.array([0.0, 0.0, 1.0])
        y_cam = down - (down @ fwd) * fwd
        if np.linalg.norm(y_cam) < 1e-6:
            raise DataError("camera looks straight up or down; the horizon is undefined")
        y_cam /= np.linalg.norm(y_cam)
        x_cam = np.cross(y_cam, fwd)
        if roll:
            cr, sr = math.cos(roll), math.sin(roll)
            x_cam, y_cam = cr * x_cam + sr * y_cam, -sr * x_cam + cr * y_cam
        R = np.stack([x_cam, y_cam, fwd])
        w, h = image_size
        K = np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1]], dtype=np.float64)
        return cls(K=K, R=R, C=c, image_size=(int(w), int(h)))

    @classmethod
    def from_homography(
        cls, pitch_to_image: ArrayLike, image_size: tuple[int, int]
    ) -> PinholeCamera:
        """Recover K, R, C from a ground-plane homography (pitch metres -> pixels).

        Assumes square pixels and the principal point at the image centre (true of broadcast
        cameras up to a few pixels); the focal length comes from the orthogonality of the first
        two rotation columns. Raises ``DataError`` when the homography is not a camera view.
        """
        H = np.asarray(pitch_to_image, dtype=np.float64)
        w, h = image_size
        K0 = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]], dtype=np.float64)
        A = np.linalg.solve(K0, H)
        a1, a2 = A[:, 0], A[:, 1]
        # Two linear equations in u = 1/f^2 (orthogonal columns, equal norms); least squares.
        rows = np.array(
            [
                [a1[0] * a2[0] + a1[1] * a2[1], a1[2] * a2[2]],
                [a1[0] ** 2 + a1[1] ** 2 - a2[0] ** 2 - a2[1] ** 2, a1[2] ** 2 - a2[2] ** 2],
            ]
        )
        u = -(rows[:, 0] @ rows[:, 1]) / max(float(rows[:, 0] @ rows[:, 0]), 1e-300)
        if not np.isfinite(u) or u <= 0:
            raise DataError("homography has no real focal length (not a perspective view)")
        f = 1.0 / math.sqrt(u)
        M = np.diag([1 / f, 1 / f, 1.0]) @ A
        lam = (np.linalg.norm(M[:, 0]) + np.linalg.norm(M[:, 1])) / 2
        r1, r2, t = M[:, 0] / lam, M[:, 1] / lam, M[:, 2] / lam
        R = np.stack([r1, r2, np.cross(r1, r2)], axis=1)
        U, _, Vt = np.linalg.svd(R)
        R = U @ Vt
        if np.linalg.det(R) < 0:
            raise DataError("homography is a mirror image")
        centre = np.array([52.5, 34.0, 0.0])
        if (R @ centre + t)[2] < 0:  # the pitch must be in front of the camera
            R, t = R @ np.diag([-1.0, -1.0, 1.0]), -t
        C = -R.T @ t
        K = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], dtype=np.float64)
        return cls(K=K, R=R, C=C, image_size=(int(w), int(h)))

    # ----- projection ----------------------------------------------------------------------
    @property
    def P(self) -> FloatArray:
        """(3, 4) projection matrix."""
        return self.K @ self.R @ np.hstack([np.eye(3), -self.C[:, None]])

    @property
    def focal(self) -> float:
        return float(self.K[0, 0])

    @property
    def height(self) -> float:
        """Camera height above the ground, metres."""
        return float(-self.C[2])

    @property
    def pitch_to_image(self) -> FloatArray:
        """(3, 3) homography of the ground plane z = 0 to pixels, normalised to H[2,2] = 1."""
        H = self.P[:, [0, 1, 3]]
        return H / H[2, 2]

    @property
    def image_to_pitch(self) -> FloatArray:
        """(3, 3) homography pixels -> ground-plane metres, normalised to H[2,2] = 1."""
        H = np.linalg.inv(self.P[:, [0, 1, 3]])
        return H / H[2, 2]

    def depth(self, points: ArrayLike) -> FloatArray:
        """Distance along the optical axis (m) of world points (n, 3); negative behind."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        return (p - self.C) @ self.R[2]

    def project(self, points: ArrayLike) -> FloatArray:
        """Pixels (n, 2) of world points (n, 3); NaN for points behind the camera."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        q = (self.K @ self.R @ (p - self.C).T).T
        with np.errstate(divide="ignore", invalid="ignore"):
            out = q[:, :2] / q[:, 2:3]
        out[q[:, 2] <= 1e-6] = np.nan
        return out

    def ray_ground(self, pixels: ArrayLike) -> FloatArray:
        """Where the rays through pixels (n, 2) meet the ground (n, 2); NaN above the horizon."""
        px = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        d = (np.linalg.inv(self.K @ self.R) @ np.hstack([px, np.ones((len(px), 1))]).T).T
        with np.errstate(divide="ignore", invalid="ignore"):
            s = -self.C[2] / d[:, 2]
        out = self.C[:2] + s[:, None] * d[:, :2]
        out[~(s > 0)] = np.nan
        return out

    @property
    def horizontal_fov(self) -> float:
        """Horizontal field of view, radians."""
        return 2 * math.atan(self.image_size[0] / 2 / self.focal)

    def scaled(self, image_size: tuple[int, int]) -> PinholeCamera:
        """The same view rendered at another resolution (same field of view)."""
        s = image_size[0] / self.image_size[0]
        K = self.K.copy()
        K[0, 0] = K[1, 1] = self.focal * s
        K[0, 2], K[1, 2] = image_size[0] / 2, image_size[1] / 2
        return PinholeCamera(K=K, R=self.R, C=self.C, image_size=image_size)


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
