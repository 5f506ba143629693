"""A broadcast camera: the pinhole model and its few-parameter forms.

World frame: touchline pitch metres (x along the touchline from the left goal line, y across from
the far touchline) and ``z`` pointing *down* into the ground, so that (x, y, z) is right-handed;
a point at height ``h`` metres has ``z = -h``. The main camera stands beyond the near touchline
(y > width), above the ground (z < 0), looking across the pitch, so image x follows pitch x.

The parametrisation used by :mod:`touchline.geometry.camera_fit` has 7 numbers: the rotation as a
Rodrigues vector (3), the camera centre (3) and the log of the focal length (1); square pixels,
no skew and the principal point at the image centre.

>>> cam = PinholeCamera.look_at((52.5, 110.0, -20.0), (52.5, 34.0, 0.0), focal=1500.0,
...                             image_size=(1280, 720))
>>> cam.project([[52.5, 34.0, 0.0]])[0].round(1)
array([640., 360.])
>>> np.allclose(camera_from_params(camera_to_params(cam), cam.image_size).P, cam.P)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.errors import DataError

__all__ = [
    "PinholeCamera",
    "camera_angles",
    "camera_from_angles",
    "camera_from_homography",
    "camera_from_params",
    "camera_to_params",
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
# Parametrisations
# --------------------------------------------------------------------------------------------
def _rotation_matrix(w: ArrayLike) -> FloatArray:
    """Rodrigues: the rotation matrix of a rotation vector (3,) (axis times angle)."""
    x, y, z = (float(v) for v in np.asarray(w, dtype=np.float64).reshape(3))
    t = math.sqrt(x * x + y * y + z * z)
    K = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    if t < 1e-12:
        return np.eye(3) + K
    return np.eye(3) + (math.sin(t) / t) * K + ((1.0 - math.cos(t)) / (t * t)) * (K @ K)


def _rotation_vector(R: ArrayLike) -> FloatArray:
    """The rotation vector (3,) of a rotation matrix; angle in [0, pi]."""
    M = np.asarray(R, dtype=np.float64).reshape(3, 3)
    v = np.array([M[2, 1] - M[1, 2], M[0, 2] - M[2, 0], M[1, 0] - M[0, 1]]) / 2  # sin * axis
    s = float(np.linalg.norm(v))
    c = (float(np.trace(M)) - 1.0) / 2
    angle = math.atan2(s, c)
    if s > 1e-6 or c > 0:
        return v * (angle / s) if s > 1e-300 else v
    # Near a half turn the axis comes from the symmetric part: (R + I) / 2 = axis axis^T.
    B = ((M + M.T) / 2 + np.eye(3)) / 2
    k = int(np.argmax(np.diag(B)))
    axis = B[:, k] / math.sqrt(max(float(B[k, k]), 1e-300))
    if float(axis @ v) < 0:
        axis = -axis
    return axis * angle


def camera_to_params(cam: PinholeCamera) -> FloatArray:
    """The 7 parameters of a camera: Rodrigues vector of ``R`` (3), centre ``C`` (3), log focal.

    The principal point and the pixel aspect are not parameters (image centre, square pixels).

    >>> cam = PinholeCamera.look_at((0.0, 0.0, -10.0), (0.0, -10.0, 0.0), focal=1000.0,
    ...                             image_size=(1280, 720))
    >>> camera_to_params(cam).round(3)
    array([ -0.785,   0.   ,   0.   ,   0.   ,   0.   , -10.   ,   6.908])
    """
    return np.concatenate(
        [_rotation_vector(cam.R), np.asarray(cam.C, dtype=np.float64), [math.log(cam.focal)]]
    )


def camera_from_params(params: ArrayLike, image_size: tuple[int, int]) -> PinholeCamera:
    """The camera of 7 parameters (see :func:`camera_to_params`) for an image size.

    >>> cam = camera_from_params([math.pi / 2, 0, 0, 52.5, 100.0, -20.0, math.log(1200)],
    ...                          (1280, 720))
    >>> cam.focal, cam.height
    (1200.0..., 20.0)
    """
    x = np.asarray(params, dtype=np.float64).reshape(-1)
    if x.shape != (7,):
        raise DataError(f"camera parameters must have shape (7,), got {x.shape}")
    R = _rotation_matrix(x[:3])
    w, h = image_size
    f = math.exp(float(x[6]))
    K = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], dtype=np.float64)
    return PinholeCamera(
        K=K, R=np.asarray(R, dtype=np.float64), C=x[3:6].copy(), image_size=(int(w), int(h))
    )


def camera_from_homography(
    pitch_to_image: ArrayLike, image_size: tuple[int, int]
) -> PinholeCamera | None:
    """:meth:`PinholeCamera.from_homography`, or ``None`` when the homography is no camera view.

    >>> cam = PinholeCamera.look_at((52.5, 108.0, -25.0), (40.0, 30.0, 0.0), focal=1400.0,
    ...                             image_size=(1280, 720))
    >>> np.allclose(camera_from_homography(cam.pitch_to_image, (1280, 720)).C, cam.C)
    True
    >>> camera_from_homography(np.diag([1.0, -1.0, 1.0]), (1280, 720)) is None
    True
    """
    H = np.asarray(pitch_to_image, dtype=np.float64)
    if H.shape != (3, 3) or not np.all(np.isfinite(H)):
        return None
    try:
        cam = PinholeCamera.from_homography(H, image_size)
    except (DataError, np.linalg.LinAlgError, ValueError, ZeroDivisionError):
        return None
    if not (np.all(np.isfinite(cam.R)) and np.all(np.isfinite(cam.C)) and cam.focal > 0):
        return None
    return cam


def camera_angles(cam: PinholeCamera) -> tuple[float, float, float]:
    """``(pan, tilt, roll)`` of a camera, radians.

    ``pan``: heading of the optical axis on the ground, 0 looking along -y (across the pitch
    from the main-camera side), positive turning towards +x; ``tilt``: angle of the optical
    axis below the horizon (positive looking down); ``roll``: rotation about the optical axis,
    0 when the image x axis is parallel to the ground, with the sign of
    :meth:`PinholeCamera.look_at`'s ``roll``.

    >>> cam = PinholeCamera.look_at((52.5, 100.0, -20.0), (72.5, 80.0, 0.0), focal=1000.0,
    ...                             image_size=(1280, 720), roll=0.1)
    >>> [round(math.degrees(a), 3) for a in camera_angles(cam)]
    [45.0, 35.264, 5.73]
    """
    R = np.asarray(cam.R, dtype=np.float64)
    fwd = R[2]
    pan = math.atan2(float(fwd[0]), float(-fwd[1]))
    tilt = math.asin(float(np.clip(fwd[2], -1.0, 1.0)))
    roll = math.atan2(float(R[0, 2]), float(R[1, 2]))
    return pan, tilt, roll


def camera_from_angles(
    position: ArrayLike,
    pan: float,
    tilt: float,
    roll: float = 0.0,
    *,
    focal: float,
    image_size: tuple[int, int],
) -> PinholeCamera:
    """The camera at ``position`` with the angles of :func:`camera_angles` (radians).

    >>> cam = camera_from_angles((52.5, 100.0, -20.0), 0.2, 0.3, 0.01, focal=900.0,
    ...                          image_size=(1280, 720))
    >>> np.round(camera_angles(cam), 6)
    array([0.2 , 0.3 , 0.01])
    """
    c = np.asarray(position, dtype=np.float64).reshape(3)
    ct = math.cos(tilt)
    fwd = np.array([math.sin(pan) * ct, -math.cos(pan) * ct, math.sin(tilt)])
    return PinholeCamera.look_at(c, c + fwd, focal=focal, image_size=image_size, roll=roll)
