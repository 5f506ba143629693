"""Cameras from a frame's features: homography hypotheses refined as a 7-parameter camera.

A broadcast camera has few free parameters (pan, tilt, roll, focal length, position), far
fewer than the 8 of a free homography, so with few features in view (a centre-circle view
shows the halfway line, the circle and maybe a touchline) the camera model still pins the
whole pitch down where a homography extrapolates wildly. :func:`solve_frame`:

1. hypotheses: a weighted RANSAC homography over the points (keypoints, line intersections,
   circle and line crossings), the network's direct estimate, and any cameras given by the
   caller (the previous frame's, carried by the measured motion);
2. each hypothesis becomes a camera (principal point at the frame centre, square pixels) and is
   refined by :func:`touchline.geometry.camera_fit.fit_camera` against the points, every
   painted line's pixels (distance to the line's image) and the circles' pixels (distance to
   the circle's conic).

Frames squashed to a square (512x512 or 640x640 exports of 16:9 broadcasts) do not have square
pixels: the camera is fitted in a virtual 16:9 frame and mapped back
(:attr:`SolverConfig.display_aspect`).

>>> import numpy as np
>>> from touchline.calib.features import FrameFeatures
>>> empty = FrameFeatures(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0),
...                       np.zeros(0, np.int64), (), (), (1280, 720))
>>> solve_frame(empty)
[]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchline.calib.features import FrameFeatures, pitch_conic, pitch_line
from touchline.errors import DataError
from touchline.geometry.camera import PinholeCamera, camera_from_homography
from touchline.geometry.camera_fit import (
    CameraFit,
    CameraPrior,
    ConicObs,
    LineObs,
    PointObs,
    fit_camera,
)
from touchline.geometry.homography import normalise_homography, ransac_homography
from touchline.pitch import Pitch

__all__ = ["CameraCandidate", "SolverConfig", "display_transform", "solve_frame"]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class SolverConfig:
    """Settings of :func:`solve_frame`.

    Attributes:
        ransac_threshold: RANSAC inlier distance, a share of the frame width.
        min_inliers: a RANSAC homography needs this many inliers.
        loss_scale: robust loss scale of the camera fit, a share of the frame width.
        display_aspect: width / height the frame is shown at; ``None``: the frame's own
            unless it is nearly square (< 1.25), which is taken as a squashed 16:9 frame.
        max_iterations: Levenberg-Marquardt iterations per hypothesis.
    """

    ransac_threshold: float = 0.008
    min_inliers: int = 4
    loss_scale: float = 0.003
    display_aspect: float | None = None
    max_iterations: int = 25


@dataclass(frozen=True)
class CameraCandidate:
    """A camera hypothesis for a frame.

    Attributes:
        source: where it started: ``keypoints``, ``direct`` or a caller's name.
        homography: image -> pitch (frame pixels to metres).
        camera: the fitted camera in the display frame (``None`` for a plain homography).
        fit: the camera fit (``None`` for a plain homography).
        inliers: RANSAC inliers of the points (keypoint hypotheses), else 0.
    """

    source: str
    homography: F64
    camera: PinholeCamera | None
    fit: CameraFit | None
    inliers: int


def display_transform(image_size: tuple[int, int], aspect: float | None = None) -> F64:
    """Frame pixels -> display pixels (a vertical scale when the frame is squashed).

    >>> display_transform((640, 640)).round(4).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.5625, 0.0], [0.0, 0.0, 1.0]]
    >>> display_transform((1280, 720)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    w, h = image_size
    a = aspect if aspect is not None else (w / h if w / h >= 1.25 else 16 / 9)
    return np.diag([1.0, (w / a) / h, 1.0])


def _apply(A: F64, p: F64) -> F64:
    return p @ A[:2, :2].T + A[:2, 2]


def solve_frame(
    feats: FrameFeatures,
    inits: Sequence[tuple[str, F64]] = (),
    pitch: Pitch | None = None,
    config: SolverConfig | None = None,
    *,
    keypoints: bool = True,
    enough: Callable[[CameraCandidate], bool] | None = None,
    max_iterations: int | None = None,
) -> list[CameraCandidate]:
    """Camera hypotheses of a frame, each refined against all its features (see the module).

    Args:
        feats: the frame's features (:func:`touchline.calib.features.extract_features`).
        inits: extra starting points ``(source, image_to_pitch)`` in frame pixels (e.g. the
            direct estimate, or the previous frame's camera carried by the motion), tried in
            this order after the keypoint hypothesis, except ``propagated`` ones, tried first.
        pitch: the pitch (default 105 x 68 m).
        config: settings.
        keypoints: also start from a RANSAC homography of the points.
        enough: called with each refined candidate; ``True`` stops (the later hypotheses are
            not fitted).
        max_iterations: overrides the configuration's iterations per fit.

    Returns:
        One candidate per hypothesis tried that gave a camera (a plain homography when the
        RANSAC one is no camera view).
    """
    pitch = pitch or Pitch()
    cfg = config or SolverConfig()
    W, H = feats.image_size
    A = display_transform((W, H), cfg.display_aspect)
    Ai: F64 = np.asarray(np.linalg.inv(A), dtype=np.float64)
    size = (int(W), round(H * A[1, 1]))
    img = _apply(A, feats.image)
    out: list[CameraCandidate] = []
    starts: list[tuple[str, PinholeCamera, int]] = []
    raw: dict[str, F64] = {}
    use = np.ones(len(img), bool)
    inits = sorted(inits, key=lambda i: i[0] != "propagated")  # the carried camera first
    for name, Hf in inits:
        if name != "propagated":
            continue
        cam = _start(Hf, Ai, size)
        if cam is not None:
            starts.append((name, cam, 0))
            raw[name] = normalise_homography(np.asarray(Hf, float))
    if keypoints and len(img) >= 4:
        r = ransac_homography(
            feats.pitch, img, cfg.ransac_threshold * W, feats.weight, iterations=200
        )
        if r.H is not None and r.inliers.sum() >= cfg.min_inliers:
            # The camera fit (robust loss) sees every point RANSAC did not reject outright.
            use = r.residuals < 3 * cfg.ransac_threshold * W
            cam = camera_from_homography(r.H, size)
            if cam is not None:
                starts.append(("keypoints", cam, int(r.inliers.sum())))
            else:
                try:
                    Hip = normalise_homography(np.linalg.inv(r.H) @ A)
                except np.linalg.LinAlgError:  # a degenerate sample (collinear points)
                    Hip = None
                if Hip is not None and np.all(np.isfinite(Hip)):
                    n_in = int(r.inliers.sum())
                    out.append(CameraCandidate("homography", Hip, None, None, n_in))
                    if enough is not None:
                        enough(out[-1])
    for name, Hf in inits:
        if name == "propagated":
            continue
        cam = _start(Hf, Ai, size)
        if cam is not None:
            starts.append((name, cam, 0))
            raw[name] = normalise_homography(np.asarray(Hf, float))
    if not starts:
        return out
    n_obs = int(use.sum()) + sum(len(f.pixels) for f in feats.lines)
    if n_obs == 0:  # nothing to refine against: the hypotheses as they are
        for name, cam, n_in in starts:
            Hip = raw.get(name, normalise_homography(cam.image_to_pitch @ A))
            out.append(CameraCandidate(name, Hip, cam, None, n_in))
            if enough is not None and enough(out[-1]):
                break
        return out
    points = PointObs(feats.pitch[use], img[use], feats.weight[use]) if use.any() else None
    lines: list[LineObs] = []
    conics: list[ConicObs] = []
    for f in feats.lines:
        px = _apply(A, f.pixels)
        if f.is_arc:
            conics.append(ConicObs(pitch_conic(f.name, pitch), px, f.weights))
        else:
            lines.append(LineObs(pitch_line(f.name, pitch), px, f.weights))
    prior = CameraPrior()
    for name, cam, n_in in starts:
        try:
            fit = fit_camera(
                cam,
                points=points,
                lines=lines,
                conics=conics,
                loss_scale_px=cfg.loss_scale * W,
                prior=prior,
                max_iterations=max_iterations or cfg.max_iterations,
            )
        except (DataError, ValueError, np.linalg.LinAlgError):
            continue
        Hdisp = fit.camera.image_to_pitch
        if not np.all(np.isfinite(Hdisp)):
            continue
        Hip = normalise_homography(Hdisp @ A)
        out.append(CameraCandidate(name, Hip, fit.camera, fit, n_in))
        if enough is not None and enough(out[-1]):
            break
    return out


def _start(Hf: F64, Ai: F64, size: tuple[int, int]) -> PinholeCamera | None:
    """The camera of an image -> pitch homography in frame pixels (display frame)."""
    try:
        P = np.linalg.inv(np.asarray(Hf, float) @ Ai)  # pitch -> display px
    except np.linalg.LinAlgError:
        return None
    return camera_from_homography(P, size)
