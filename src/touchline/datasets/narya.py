"""The two calibration datasets of Narya (github.com/DonsetPG/narya, MIT): read, write, convert.

**Homography dataset** (``homography_dataset.zip``). Each sample is ``NAME.jpg`` plus
``NAME_homo.npy`` holding a 3x3 float homography (also accepted: shape ``(1, 3, 3)``), scaled so
that ``H[2, 2] == 1``. Images and matrices may sit in separate folders (Narya's
``narya/datasets/homography_dataset.py``, class ``Dataset(images_dir, homo_dir)``, pairs each
image with ``image_id.replace(".jpg", "_homo.npy")`` in ``homo_dir``).

Narya's matrix is *not* pixels -> metres. It maps **normalised frame coordinates** to
**normalised template coordinates**, both in ``[-0.5, 0.5]`` with ``(-0.5, -0.5)`` the top-left
corner and ``(0.5, 0.5)`` the bottom-right corner::

    frame:    u = x / W - 0.5,          v = y / H - 0.5          (x, y image pixels, W x H image)
    template: s = X / 115 - 0.5,        t = Y / 74 - 0.5         (X, Y WC14 template "yards")
              = x_m / length - 0.5,     = y_m / width - 0.5      (touchline metres)

so a Narya homography does not depend on the image resolution. Evidence:

* ``narya/utils/homography.py``, ``warp_image_torch`` (cloned from vcg-uvic/sportsfield_release):
  it builds a grid of *frame* points ``linspace(-0.5, 0.5)``, multiplies it by ``H`` ("warp points
  to model coordinates") and samples the *template* image there after ``* 2`` because "our
  homographies map to coordinates in the range [-0.5, 0.5] (the ones in our GT datasets)": the
  matrix goes frame -> template.
* ``get_four_corners`` (used by ``Dataset.__getitem__`` to make the training target) maps the
  frame points ``[[-0.5, 0.1], [-0.5, 0.5], [0.5, 0.5], [0.5, 0.1]]`` (the lower 60 % of the
  image) through ``H``, and ``compute_homography`` rebuilds ``H`` with
  ``get_perspective_transform(frame_corners, predicted_corners)``: again frame -> template.
* ``horizontal_flip_homo`` is ``H @ diag(-1, 1, 1)`` and the flipped targets negate the template
  ``x``: both frames are centred on 0.
* The scale of both frames comes from sportsfield_release, where Narya's homography code and
  template come from: ``world_cup_data_augmentation/raw_data_loader.py`` maps
  ``[+-0.5] -> [1280, 720]`` frame pixels (corner ``(-0.5, -0.5)`` to pixel ``(0, 0)``) and
  ``[115, 74] -> [+-0.5]`` template units; the template image ``world_cup_template.png``
  (``soccer_field_template.pde``) is 1050 x 680 px with the touchlines on its borders, which is
  the image Narya warps in ``player_ball_tracker.py``. The normalised template therefore spans
  exactly the pitch, whatever its units; it is converted here through the ``wc14`` system of
  :data:`touchline.pitch.COORDINATE_SYSTEMS` (a pitch of another size is stretched).
* Narya's own ``linspace(-0.5, 0.5, W)`` puts the *centres* of the first and last pixel at
  +-0.5, which differs from the formula above by less than one pixel.

Not in the dataset: the homography Narya's keypoint route computes at run time
(``HomographyEstimator.__call__``, ``get_perspective_transform(dst, src)``) maps *template*
pixels of a 320 x 320 resize of that template to 320 x 320 *image* pixels.

**Keypoint dataset** (``keypoints_dataset.zip``). Each sample is ``NAME.jpg`` plus ``NAME.xml``
(``narya/datasets/keypoints_dataset.py``, ``image_id.replace(".jpg", ".xml")``), a Pascal-VOC-like
file read by ``narya/utils/data.py::_parse_xml_file_keypoints`` with the XPaths ``object/name``
(keypoint id, an ``int``), ``object/keypoints/x1`` and ``object/keypoints/y1`` (``int`` pixel
column and row)::

    <annotation>
      <filename>NAME.jpg</filename>
      <size><width>320</width><height>320</height><depth>3</depth></size>
      <object><name>11</name><keypoints><x1>160</x1><y1>171</y1></keypoints></object>
    </annotation>

Coordinates are integer pixel *indices* of the image (320 x 320 in Narya: the masks are 320 x 320,
``_build_mask`` writes ``mask[y1][x1]`` and ``_flip_keypoint`` mirrors ``x`` to ``319 - x``); the
continuous pixel coordinate of index ``i`` is ``i + 0.5``.

The 29 ids (``CLASSES = [str(i) for i in range(29)]``) are named points of the template, not a
grid: ``narya/utils/masks.py::INIT_HOMO_MAPPER`` gives each id's pixel in the 320 x 320 template
and ``FLIP_MAPPER`` its left-right mirror. They are, in id order, :data:`NARYA_KEYPOINT_NAMES`
(ids 0-9 down the left goal line and its boxes, 10-12 the halfway line, 13-22 the right mirror of
0-9, 23/24 and 27/28 where the penalty arcs meet the box front, 25/26 where the centre circle meets
the halfway line). Narya's hand-placed template pixels agree with these points scaled by
``320 / 105`` and ``320 / 68`` (:func:`narya_template_pixels`) to within 3 px.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> kp = NaryaKeypoints({11: (160, 171), 0: (3, 40)}, image_size=(320, 320))
>>> _ = write_narya_keypoints(d / "a.xml", kp)
>>> read_narya_keypoints(d / "a.xml") == kp
True
>>> NARYA_KEYPOINT_NAMES[11]
'centre_spot'
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.datasets.detection import read_image_size
from touchline.datasets.yolo_pose import IMAGE_SUFFIXES, KeypointLabel, image_files
from touchline.errors import DataError
from touchline.pitch import Pitch, coordinate_system
from touchline.types import Calibration, as_image_size
from touchline.utils.files import write_bytes_atomic, write_text_atomic

__all__ = [
    "HOMOGRAPHY_SUFFIX",
    "NARYA_IMAGE_SIZE",
    "NARYA_KEYPOINT_NAMES",
    "NaryaHomographySample",
    "NaryaKeypointSample",
    "NaryaKeypoints",
    "iter_narya_homography_dataset",
    "iter_narya_keypoint_dataset",
    "keypoint_label_to_narya",
    "load_narya_homography_npy",
    "narya_keypoint_pitch_points",
    "narya_template_pixels",
    "narya_to_keypoint_label",
    "narya_to_pitch_homography",
    "pitch_to_narya_homography",
    "read_narya_homography",
    "read_narya_keypoints",
    "write_narya_homography",
    "write_narya_keypoints",
]

F64 = NDArray[np.float64]

HOMOGRAPHY_SUFFIX = "_homo.npy"
"""Suffix replacing ``.jpg`` in the name of a sample's homography file."""

NARYA_IMAGE_SIZE: tuple[int, int] = (320, 320)
"""``(width, height)`` of Narya's keypoint images, masks and template."""

NARYA_KEYPOINT_NAMES: tuple[str, ...] = (
    "corner_top_left",  # 0
    "left_goal_line_x_top_penalty_box",
    "left_penalty_box_top_front",
    "left_goal_line_x_top_goal_area",
    "left_goal_area_top_front",
    "left_goal_line_x_bottom_goal_area",  # 5
    "left_goal_area_bottom_front",
    "left_goal_line_x_bottom_penalty_box",
    "left_penalty_box_bottom_front",
    "corner_bottom_left",
    "halfway_x_top_touchline",  # 10
    "centre_spot",
    "halfway_x_bottom_touchline",
    "corner_top_right",
    "right_goal_line_x_top_penalty_box",
    "right_penalty_box_top_front",  # 15
    "right_goal_line_x_top_goal_area",
    "right_goal_area_top_front",
    "right_goal_line_x_bottom_goal_area",
    "right_goal_area_bottom_front",
    "right_goal_line_x_bottom_penalty_box",  # 20
    "right_penalty_box_bottom_front",
    "corner_bottom_right",
    "left_penalty_arc_top",
    "left_penalty_arc_bottom",
    "halfway_x_centre_circle_top",  # 25
    "halfway_x_centre_circle_bottom",
    "right_penalty_arc_top",
    "right_penalty_arc_bottom",
)
"""Our :attr:`touchline.pitch.Pitch.keypoints` name of each Narya keypoint id (the index)."""

_NARYA_ID = {name: i for i, name in enumerate(NARYA_KEYPOINT_NAMES)}


# --------------------------------------------------------------------------------------------
# Homography dataset
# --------------------------------------------------------------------------------------------
class NaryaHomographySample(NamedTuple):
    """An image file and its calibration (image pixels -> pitch metres)."""

    image: Path
    calibration: Calibration


def _frame_to_pixels(image_size: tuple[int, int]) -> F64:
    """Normalised frame ``[-0.5, 0.5]^2`` -> pixels of a ``(width, height)`` image."""
    w, h = as_image_size(image_size, "image_size")
    return np.array([[w, 0.0, w / 2], [0.0, h, h / 2], [0.0, 0.0, 1.0]])


def _template_to_pitch(pitch: Pitch | None) -> F64:
    """Normalised template ``[-0.5, 0.5]^2`` -> touchline metres (through the wc14 system)."""
    pitch = pitch or Pitch()
    wc14 = coordinate_system("wc14")
    ex, ey = wc14.size(pitch)
    to_wc14 = np.array([[ex, 0.0, ex / 2], [0.0, ey, ey / 2], [0.0, 0.0, 1.0]])
    return wc14.to_touchline_matrix(pitch) @ to_wc14


def _scaled(H: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        return H / H[2, 2]


def narya_to_pitch_homography(
    H_narya: ArrayLike, image_size: tuple[int, int], pitch: Pitch | None = None
) -> F64:
    """Narya's normalised frame -> template matrix as image pixels -> pitch metres.

    ``image_size`` is ``(width, height)`` of the image the result is expressed in.

    >>> H = narya_to_pitch_homography(np.eye(3), (1280, 720))
    >>> Calibration(H).image_to_pitch([[0, 0], [640, 360], [1280, 720]])
    array([[  0. ,   0. ], [ 52.5,  34. ], [105. ,  68. ]])
    """
    Hn = np.asarray(H_narya, dtype=np.float64)
    S = _frame_to_pixels(image_size)
    return _scaled(_template_to_pitch(pitch) @ Hn @ np.linalg.inv(S))


def pitch_to_narya_homography(
    H_image_to_pitch: ArrayLike, image_size: tuple[int, int], pitch: Pitch | None = None
) -> F64:
    """Image pixels -> pitch metres as Narya's normalised frame -> template matrix (``[2,2] = 1``).

    Inverse of :func:`narya_to_pitch_homography`.

    >>> H = np.diag([105 / 1280, 68 / 720, 1.0])  # the image shows exactly the pitch
    >>> np.allclose(pitch_to_narya_homography(H, (1280, 720)), np.eye(3))
    True
    """
    H = np.asarray(H_image_to_pitch, dtype=np.float64)
    S = _frame_to_pixels(image_size)
    return _scaled(np.linalg.inv(_template_to_pitch(pitch)) @ H @ S)


def load_narya_homography_npy(path: str | Path) -> F64:
    """Read and check one ``*_homo.npy`` file: a finite 3x3 matrix, returned with ``[2, 2] = 1``.

    Raises ``DataError`` naming the file when it is missing or unreadable, has another shape than
    ``(3, 3)`` or ``(1, 3, 3)``, holds non-finite values or has ``H[2, 2] == 0``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a_homo.npy"
    >>> np.save(p, 2 * np.eye(3))
    >>> load_narya_homography_npy(p)
    array([[1., 0., 0.], [0., 1., 0.], [0., 0., 1.]])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: homography file missing")
    try:
        raw = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy array ({e})") from None
    if not isinstance(raw, np.ndarray) or raw.dtype.kind not in "iuf":
        raise DataError(f"{path}: expected a numeric array, got {getattr(raw, 'dtype', raw)!r}")
    if raw.shape == (1, 3, 3):
        raw = raw[0]
    if raw.shape != (3, 3):
        raise DataError(f"{path}: expected a homography of shape (3, 3), got {raw.shape}")
    H = raw.astype(np.float64)
    if not np.isfinite(H).all():
        raise DataError(f"{path}: homography has non-finite values {H.tolist()}")
    if H[2, 2] == 0:
        raise DataError(f"{path}: homography has H[2, 2] == 0 and cannot be normalised")
    return _scaled(H)


def _pair_paths(path: Path, images_dir: Path | None, homo_dir: Path | None) -> tuple[Path, Path]:
    """``(image, npy)`` of a sample given either file."""
    if path.name.endswith(HOMOGRAPHY_SUFFIX):
        stem = path.name[: -len(HOMOGRAPHY_SUFFIX)]
        folder = images_dir or path.parent
        for suffix in (".jpg", *IMAGE_SUFFIXES):
            for cand in (folder / (stem + suffix), folder / (stem + suffix.upper())):
                if cand.is_file():
                    return cand, path
        raise DataError(f"{path}: no image {stem}.jpg beside it in {folder}")
    if path.suffix.lower() == ".npy":
        raise DataError(f"{path}: a Narya homography file name must end with {HOMOGRAPHY_SUFFIX}")
    return path, (homo_dir or path.parent) / (path.stem + HOMOGRAPHY_SUFFIX)


def read_narya_homography(
    path: str | Path,
    *,
    image_size: tuple[int, int] | None = None,
    images_dir: str | Path | None = None,
    homo_dir: str | Path | None = None,
    pitch: Pitch | None = None,
) -> NaryaHomographySample:
    """One sample from its image or its ``*_homo.npy`` file: ``(image_path, calibration)``.

    The calibration maps pixels of an image of ``image_size`` (default: the size of the image
    file) to pitch metres. The partner file is looked up beside the given one, or in
    ``images_dir`` / ``homo_dir``. Raises ``DataError`` naming the file on a missing partner or
    a bad matrix (see :func:`load_narya_homography_npy`).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_narya_homography(d, "f1", np.zeros((72, 128, 3), np.uint8),
    ...                            np.diag([105 / 128, 68 / 72, 1.0]))
    >>> image, cal = read_narya_homography(d / "f1_homo.npy")
    >>> image.name, cal.image_size, cal.image_to_pitch([[128, 72]])
    ('f1.jpg', (128, 72), array([[105., 68.]]))
    """
    image, npy = _pair_paths(
        Path(path),
        None if images_dir is None else Path(images_dir),
        None if homo_dir is None else Path(homo_dir),
    )
    if not image.is_file():
        raise DataError(f"{image}: image file missing")
    if not npy.is_file():
        raise DataError(f"{npy}: homography file missing for image {image.name}")
    Hn = load_narya_homography_npy(npy)
    size = as_image_size(image_size, "image_size") if image_size else read_image_size(image)
    try:
        cal = Calibration(narya_to_pitch_homography(Hn, size, pitch), image_size=size)
    except DataError as e:
        raise DataError(f"{npy}: {e}") from None
    return NaryaHomographySample(image, cal)


def write_narya_homography(
    out_dir: str | Path,
    name: str,
    image: np.ndarray | str | Path,
    H_image_to_pitch: ArrayLike,
    image_size: tuple[int, int] | None = None,
    *,
    homo_dir: str | Path | None = None,
    pitch: Pitch | None = None,
) -> tuple[Path, Path]:
    """Write ``NAME.jpg`` and ``NAME_homo.npy`` (atomically); returns both paths.

    Args:
        out_dir: folder of the image (and of the matrix unless ``homo_dir`` is given).
        name: sample name, without extension.
        image: ``uint8`` BGR ``(H, W, 3)`` / grayscale array, or an image file (a ``.jpg`` is
            copied byte for byte, anything else re-encoded).
        H_image_to_pitch: 3x3 homography, image pixels -> pitch metres.
        image_size: ``(width, height)`` of the image ``H_image_to_pitch`` is expressed in;
            default the size of ``image``. The written matrix is resolution independent.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> img, npy = write_narya_homography(d, "a", np.zeros((8, 8, 3), np.uint8), np.eye(3))
    >>> img.name, npy.name, float(np.load(npy)[2, 2])
    ('a.jpg', 'a_homo.npy', 1.0)
    """
    from touchline.video import write_image

    if not name or "/" in name or "\\" in name:
        raise DataError(f"write_narya_homography: bad sample name {name!r}")
    out = Path(out_dir)
    img_path = out / f"{name}.jpg"
    npy_path = (Path(homo_dir) if homo_dir is not None else out) / f"{name}{HOMOGRAPHY_SUFFIX}"
    H = np.asarray(H_image_to_pitch, dtype=np.float64)
    if H.shape != (3, 3) or not np.isfinite(H).all():
        raise DataError(f"{npy_path}: H_image_to_pitch must be a finite 3x3 matrix, got {H!r}")
    copy_from: Path | None = None
    if isinstance(image, str | Path):
        src = Path(image)
        if not src.is_file():
            raise DataError(f"{src}: image file missing")
        size = read_image_size(src)
        if src.suffix.lower() in (".jpg", ".jpeg"):
            copy_from, pixels = src, None
        else:
            pixels = cv2.imread(str(src), cv2.IMREAD_COLOR)
    else:
        pixels = np.asarray(image)
        if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
            raise DataError(
                f"{img_path}: image must be a uint8 (H, W[, C]) array, "
                f"got {pixels.dtype} {pixels.shape}"
            )
        size = (int(pixels.shape[1]), int(pixels.shape[0]))
    size = as_image_size(image_size, "image_size") if image_size is not None else size
    Hn = pitch_to_narya_homography(H, size, pitch)
    if not np.isfinite(Hn).all():
        raise DataError(f"{npy_path}: the homography cannot be normalised (H[2, 2] == 0)")
    buf = _npy_bytes(Hn)
    if copy_from is not None:
        write_bytes_atomic(img_path, copy_from.read_bytes())
    elif pixels is not None:
        write_image(img_path, pixels)
    write_bytes_atomic(npy_path, buf)
    return img_path, npy_path


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    bio = io.BytesIO()
    np.save(bio, array, allow_pickle=False)
    return bio.getvalue()


def iter_narya_homography_dataset(
    images_dir: str | Path,
    homo_dir: str | Path | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    pitch: Pitch | None = None,
) -> Iterator[NaryaHomographySample]:
    """Samples of a Narya homography folder (images, with ``*_homo.npy`` beside them or in
    ``homo_dir``), sorted by file name. Raises ``DataError`` when the folder has no images or an
    image has no matrix.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("b", "a"):
    ...     _ = write_narya_homography(d, n, np.zeros((8, 8, 3), np.uint8), np.eye(3))
    >>> [s.image.name for s in iter_narya_homography_dataset(d)]
    ['a.jpg', 'b.jpg']
    """
    root = Path(images_dir)
    files = image_files(root)
    for img in files:
        yield read_narya_homography(img, image_size=image_size, homo_dir=homo_dir, pitch=pitch)


# --------------------------------------------------------------------------------------------
# Keypoint dataset
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NaryaKeypoints:
    """The content of one Narya keypoint XML file.

    Attributes:
        points: keypoint id (0..28, see :data:`NARYA_KEYPOINT_NAMES`) -> ``(x1, y1)`` integer
            pixel column and row in the image.
        image_size: ``(width, height)`` from the ``<size>`` element, if any.
        filename: the ``<filename>`` element, if any.
    """

    points: dict[int, tuple[int, int]] = field(default_factory=dict)
    image_size: tuple[int, int] | None = None
    filename: str | None = None

    @property
    def ids(self) -> NDArray[np.int64]:
        """Keypoint ids in increasing order, ``(n,)``."""
        return np.array(sorted(self.points), dtype=np.int64)

    @property
    def pixels(self) -> NDArray[np.int64]:
        """``(n, 2)`` integer ``(x1, y1)`` in the order of :attr:`ids`."""
        return np.array([self.points[i] for i in sorted(self.points)], dtype=np.int64).reshape(
            -1, 2
        )

    def pitch_points(self, pitch: Pitch | None = None) -> F64:
        """``(n, 2)`` pitch metres of the keypoints, in the order of :attr:`ids`."""
        return narya_keypoint_pitch_points(pitch)[self.ids]


class NaryaKeypointSample(NamedTuple):
    """An image file, its XML file and the annotation read from it."""

    image: Path
    xml: Path
    keypoints: NaryaKeypoints


def narya_keypoint_pitch_points(pitch: Pitch | None = None) -> F64:
    """``(29, 2)`` pitch metres of the Narya keypoint ids.

    >>> narya_keypoint_pitch_points()[[0, 11, 22]]
    array([[  0. ,   0. ], [ 52.5,  34. ], [105. ,  68. ]])
    """
    return (pitch or Pitch()).keypoint_array(NARYA_KEYPOINT_NAMES)


def narya_template_pixels(
    template_size: tuple[int, int] = NARYA_IMAGE_SIZE, pitch: Pitch | None = None
) -> F64:
    """``(29, 2)`` continuous pixels of the keypoint ids in a template image of ``template_size``
    covering the pitch edge to edge (Narya's 320 x 320 resize of ``world_cup_template.png``).

    >>> narya_template_pixels()[11]
    array([160., 160.])
    """
    pitch = pitch or Pitch()
    w, h = as_image_size(template_size, "template_size")
    return narya_keypoint_pitch_points(pitch) * (w / pitch.length, h / pitch.width)


def _int_text(elem: ET.Element | None, path: Path, what: str) -> int:
    if elem is None or elem.text is None:
        raise DataError(f"{path}: malformed Narya keypoint XML, {what} is missing")
    try:
        return int(elem.text.strip())
    except ValueError:
        raise DataError(
            f"{path}: malformed Narya keypoint XML, {what} is {elem.text.strip()!r}, not an integer"
        ) from None


def read_narya_keypoints(path: str | Path) -> NaryaKeypoints:
    """Read a Narya keypoint XML file (schema in the module docstring).

    Raises ``DataError`` naming the file when it is unreadable or not XML, an ``<object>`` lacks
    ``name``, ``keypoints/x1`` or ``keypoints/y1``, a value is not an integer, an id is outside
    0..28 or appears twice.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xml"
    >>> _ = p.write_text("<annotation><object><name>2</name>"
    ...                  "<keypoints><x1>51</x1><y1>65</y1></keypoints></object></annotation>")
    >>> read_narya_keypoints(p).points
    {2: (51, 65)}
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    except ET.ParseError as e:
        raise DataError(f"{path}: malformed XML ({e})") from None
    points: dict[int, tuple[int, int]] = {}
    for k, obj in enumerate(root.findall("object")):
        where = f"object {k + 1}"
        kp_id = _int_text(obj.find("name"), path, f"{where} <name>")
        if not 0 <= kp_id < len(NARYA_KEYPOINT_NAMES):
            raise DataError(f"{path}: {where} has keypoint id {kp_id}; Narya ids are 0..28")
        if kp_id in points:
            raise DataError(f"{path}: keypoint id {kp_id} appears more than once")
        x = _int_text(obj.find("keypoints/x1"), path, f"{where} <keypoints><x1>")
        y = _int_text(obj.find("keypoints/y1"), path, f"{where} <keypoints><y1>")
        points[kp_id] = (x, y)
    size = None
    size_el = root.find("size")
    if size_el is not None:
        w = _int_text(size_el.find("width"), path, "<size><width>")
        h = _int_text(size_el.find("height"), path, "<size><height>")
        if w <= 0 or h <= 0:
            raise DataError(f"{path}: <size> must be positive, got {w} x {h}")
        size = (w, h)
    fn = root.find("filename")
    filename = fn.text.strip() if fn is not None and fn.text else None
    return NaryaKeypoints(points, size, filename)


def write_narya_keypoints(path: str | Path, keypoints: NaryaKeypoints) -> Path:
    """Write a Narya keypoint XML file atomically (objects in increasing id order).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xml"
    >>> print(write_narya_keypoints(p, NaryaKeypoints({2: (51, 65)})).read_text().strip())
    <annotation>
      <object>
        <name>2</name>
        <keypoints>
          <x1>51</x1>
          <y1>65</y1>
        </keypoints>
      </object>
    </annotation>
    """
    path = Path(path)
    root = ET.Element("annotation")
    if keypoints.filename is not None:
        ET.SubElement(root, "filename").text = keypoints.filename
    if keypoints.image_size is not None:
        w, h = as_image_size(keypoints.image_size, f"{path}: image_size")
        size = ET.SubElement(root, "size")
        ET.SubElement(size, "width").text = str(w)
        ET.SubElement(size, "height").text = str(h)
        ET.SubElement(size, "depth").text = "3"
    for kp_id in sorted(keypoints.points):
        if not 0 <= kp_id < len(NARYA_KEYPOINT_NAMES):
            raise DataError(f"{path}: keypoint id {kp_id} is outside Narya's 0..28")
        x, y = keypoints.points[kp_id]
        if any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in (x, y)):
            raise DataError(f"{path}: keypoint {kp_id} must have integer pixels, got {(x, y)!r}")
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = str(int(kp_id))
        kps = ET.SubElement(obj, "keypoints")
        ET.SubElement(kps, "x1").text = str(int(x))
        ET.SubElement(kps, "y1").text = str(int(y))
    ET.indent(root)
    return write_text_atomic(path, ET.tostring(root, encoding="unicode") + "\n")


def narya_to_keypoint_label(
    keypoints: NaryaKeypoints,
    frame_size: tuple[int, int] | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    names: Sequence[str] = NARYA_KEYPOINT_NAMES,
) -> KeypointLabel:
    """A :class:`~touchline.datasets.yolo_pose.KeypointLabel` with our keypoint ``names``.

    Pixel index ``i`` becomes the pixel centre ``i + 0.5``, scaled from ``image_size`` (default
    the XML's ``<size>``, else 320 x 320) to ``frame_size`` (default ``image_size``). Ids whose
    name is not in ``names`` are dropped (with ``DFL_KEYPOINTS``, only ``centre_spot``).

    >>> lab = narya_to_keypoint_label(NaryaKeypoints({11: (160, 160)}), (640, 640))
    >>> i = lab.names.index("centre_spot"); lab.points[i], lab.frame_size
    (array([321., 321.]), (640, 640))
    """
    src = as_image_size(image_size or keypoints.image_size or NARYA_IMAGE_SIZE, "image_size")
    dst = as_image_size(frame_size, "frame_size") if frame_size is not None else src
    index = {n: i for i, n in enumerate(names)}
    pts = np.full((len(names), 2), np.nan)
    scale = np.array([dst[0] / src[0], dst[1] / src[1]])
    for kp_id, (x, y) in keypoints.points.items():
        j = index.get(NARYA_KEYPOINT_NAMES[kp_id])
        if j is not None:
            pts[j] = (np.array([x, y], dtype=np.float64) + 0.5) * scale
    return KeypointLabel(pts, dst, tuple(names))


def keypoint_label_to_narya(
    label: KeypointLabel,
    image_size: tuple[int, int] | None = None,
    *,
    filename: str | None = None,
) -> NaryaKeypoints:
    """Narya keypoints of a label: its visible Narya-named points, as the integer pixel that
    contains them in an image of ``image_size`` (default the label's frame size).

    >>> pts = np.full((29, 2), np.nan); pts[11] = (640.0, 360.0)
    >>> lab = KeypointLabel(pts, (1280, 720), NARYA_KEYPOINT_NAMES)
    >>> keypoint_label_to_narya(lab, (320, 320)).points
    {11: (160, 160)}
    """
    dst = as_image_size(image_size or label.frame_size, "image_size")
    fw, fh = as_image_size(label.frame_size, "label.frame_size")
    out: dict[int, tuple[int, int]] = {}
    for name, (x, y), ok in zip(label.names, label.points, label.visible, strict=True):
        kp_id = _NARYA_ID.get(name)
        if kp_id is None or not ok:
            continue
        out[kp_id] = (math.floor(x * dst[0] / fw), math.floor(y * dst[1] / fh))
    return NaryaKeypoints(dict(sorted(out.items())), dst, filename)


def iter_narya_keypoint_dataset(
    images_dir: str | Path, xml_dir: str | Path | None = None
) -> Iterator[NaryaKeypointSample]:
    """Samples of a Narya keypoint folder (images with ``NAME.xml`` beside them or in
    ``xml_dir``), sorted by name. Raises ``DataError`` when there are no images or an image has
    no XML file.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_bytes_atomic(d / "a.jpg", b"")
    >>> _ = write_narya_keypoints(d / "a.xml", NaryaKeypoints({0: (3, 3)}))
    >>> [(s.image.name, s.keypoints.points) for s in iter_narya_keypoint_dataset(d)]
    [('a.jpg', {0: (3, 3)})]
    """
    root = Path(images_dir)
    files = image_files(root)
    xml_root = Path(xml_dir) if xml_dir is not None else root
    for img in files:
        xml = xml_root / (img.stem + ".xml")
        if not xml.is_file():
            raise DataError(f"{xml}: keypoint XML file missing for image {img.name}")
        yield NaryaKeypointSample(img, xml, read_narya_keypoints(xml))
