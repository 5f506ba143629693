"""Pitch keypoint labels in the YOLO-pose layout of the shared DFL data.

A split folder holds ``images/`` and ``labels/``; each label file has one line
``cls cx cy w h`` followed by ``k`` triples ``x y v`` normalised to the (possibly stretched)
image, ``v == 0`` meaning absent. Points are returned in the pixels of the original frame
(``frame_size``, 1920x1080 for the DFL frames that were stretched to 640x640).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> pts = np.full((32, 2), np.nan); pts[0] = (960.0, 540.0)
>>> write_yolo_pose_label(d / "a.txt", KeypointLabel(pts, (1920, 1080)))
>>> lab = read_yolo_pose_label(d / "a.txt", (1920, 1080))
>>> lab.points[0], int(lab.visible.sum())
(array([960., 540.]), 1)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.pitch import DFL_KEYPOINTS, Pitch, near_far_permutation
from touchline.utils.files import write_text_atomic

__all__ = [
    "IMAGE_SUFFIXES",
    "KeypointLabel",
    "KeypointSample",
    "fit_label_homography",
    "fix_near_far",
    "general_position",
    "image_files",
    "iter_split",
    "read_split",
    "read_yolo_pose_label",
    "write_yolo_pose_label",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class KeypointLabel:
    """Labelled pitch keypoints of one frame.

    Attributes:
        points: ``(k, 2)`` pixel coordinates in the original frame; ``nan`` where absent.
        frame_size: ``(width, height)`` of that frame.
        names: keypoint names, in the order of ``points`` (default: the 32 DFL keypoints).
    """

    points: F64
    frame_size: tuple[int, int]
    names: tuple[str, ...] = field(default=tuple(DFL_KEYPOINTS))

    @property
    def visible(self) -> NDArray[np.bool_]:
        return np.asarray(np.isfinite(self.points).all(axis=1))

    def pitch_points(self, pitch: Pitch | None = None) -> F64:
        """True pitch positions (metres) of the keypoints, ``(k, 2)``."""
        return (pitch or Pitch()).keypoint_array(self.names)

    def near_far_swapped(self) -> KeypointLabel:
        """The same clicks with far and near touchline points swapped (top <-> bottom names)."""
        perm = near_far_permutation(self.names)
        return KeypointLabel(self.points[perm], self.frame_size, self.names)


@dataclass(frozen=True)
class KeypointSample:
    """An image file and its label."""

    image: Path
    label: KeypointLabel
    label_file: Path


def read_yolo_pose_label(
    path: str | Path, frame_size: tuple[int, int] = (1920, 1080), n_keypoints: int = 32
) -> KeypointLabel:
    """Read one label file; raises ``DataError`` naming the file on a malformed line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    w, h = frame_size
    pts = np.full((n_keypoints, 2), np.nan)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines:
        try:
            vals = [float(v) for v in lines[0].split()]
        except ValueError:
            raise DataError(f"{path}: line 1 is not a list of numbers") from None
        if len(vals) != 5 + 3 * n_keypoints:
            raise DataError(
                f"{path}: line 1 has {len(vals)} numbers; expected 5 + 3 x {n_keypoints}"
            )
        kp = np.asarray(vals[5:]).reshape(n_keypoints, 3)
        vis = kp[:, 2] > 0
        pts[vis] = kp[vis, :2] * (w, h)
    return KeypointLabel(
        pts,
        (w, h),
        tuple(DFL_KEYPOINTS) if n_keypoints == 32 else tuple(f"kp{i}" for i in range(n_keypoints)),
    )


def write_yolo_pose_label(path: str | Path, label: KeypointLabel) -> None:
    """Write a label file (one ``pitch`` object whose box spans the visible keypoints)."""
    w, h = label.frame_size
    vis = label.visible
    if vis.any():
        p = label.points[vis] / (w, h)
        lo, hi = np.clip(p.min(0), 0, 1), np.clip(p.max(0), 0, 1)
        box = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[0] - lo[0], hi[1] - lo[1]]
    else:
        box = [0.5, 0.5, 1.0, 1.0]
    vals: list[str] = ["0", *(f"{v:.6f}" for v in box)]
    for ok, (x, y) in zip(vis, label.points, strict=True):
        vals += [f"{x / w:.6f}", f"{y / h:.6f}", "2"] if ok else ["0", "0", "0"]
    write_text_atomic(path, " ".join(vals) + "\n")


def image_files(folder: str | Path) -> list[Path]:
    """The images of a folder (by suffix), sorted by name; ``DataError`` naming the folder when
    it is not a folder or holds no image.

    >>> import tempfile
    >>> image_files(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: ...: no images
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{root}: no images")
    return files


def iter_split(
    split_dir: str | Path, frame_size: tuple[int, int] = (1920, 1080)
) -> Iterator[KeypointSample]:
    """Samples of a split folder (``images/`` + ``labels/``), sorted by file name.

    Raises ``DataError`` when the folder layout is wrong. An image without a label file yields
    an empty label (no keypoints).
    """
    root = Path(split_dir)
    images, labels = root / "images", root / "labels"
    if not images.is_dir():
        raise DataError(f"{root}: expected an images/ folder (and labels/) in the YOLO-pose layout")
    for img in image_files(images):
        lab = labels / (img.stem + ".txt")
        if lab.exists():
            label = read_yolo_pose_label(lab, frame_size)
        else:
            label = KeypointLabel(np.full((32, 2), np.nan), frame_size)
        yield KeypointSample(img, label, lab)


def read_split(
    split_dir: str | Path, frame_size: tuple[int, int] = (1920, 1080)
) -> list[KeypointSample]:
    """All samples of a split folder, see :func:`iter_split`."""
    return list(iter_split(split_dir, frame_size))


def fit_label_homography(label: KeypointLabel, pitch: Pitch | None = None) -> F64 | None:
    """The image -> pitch homography fitted (normalised DLT) to a label's visible keypoints.

    ``None`` when the labelled keypoints do not define one: fewer than 4, or not four of them
    in general position (see :func:`general_position`).
    """
    from touchline.geometry.homography import dlt

    vis = label.visible
    if vis.sum() < 4:
        return None
    img, pit = label.points[vis], label.pitch_points(pitch)[vis]
    if not general_position(pit):
        return None
    H = dlt(img, pit)
    if not np.all(np.isfinite(H)) or abs(np.linalg.det(H)) < 1e-300:
        return None
    return H


def general_position(points: F64, tolerance: float = 0.5) -> bool:
    """Whether ``points`` (n, 2) hold four points no three of which are collinear (within
    ``tolerance``, in the points' units): the condition for them to define a homography.

    That fails exactly when one line holds all the points but at most one (three labelled
    points on the halfway line and one beside it leave the homography undetermined).

    >>> general_position(np.array([[0, 0], [1, 0], [2, 0], [0, 5.0]]))
    False
    >>> general_position(np.array([[0, 0], [4, 0], [0, 3], [4, 3.0]]))
    True
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(p)
    if n < 4:
        return False
    for i in range(n):
        d = p - p[i]
        for j in range(i + 1, n):
            u = d[j]
            norm = float(np.hypot(*u))
            if norm <= tolerance:
                continue
            dist = np.abs(d[:, 0] * u[1] - d[:, 1] * u[0]) / norm
            if np.count_nonzero(dist <= tolerance) >= n - 1:
                return False
    return True


def fix_near_far(label: KeypointLabel, pitch: Pitch | None = None) -> tuple[KeypointLabel, bool]:
    """Repair a label whose far and near points were swapped; returns ``(label, fixed)``.

    A swap makes the fitted homography a mirror image (the camera seems to look at the pitch
    from below). When the label as given is implausible and the swapped one is plausible, the
    swapped label is returned. One DFL training frame
    (``42ba34_9_2_png.rf.abf25a0cf0d30df0142704a05f9db1dd``) is labelled this way.
    """
    from touchline.geometry.homography import plausibility

    H = fit_label_homography(label, pitch)
    if H is None or not plausibility(H, label.frame_size):
        return label, False
    other = label.near_far_swapped()
    H2 = fit_label_homography(other, pitch)
    if H2 is not None and not plausibility(H2, other.frame_size):
        return other, True
    return label, False
