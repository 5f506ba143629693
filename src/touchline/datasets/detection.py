"""Object-detection datasets in the YOLO txt, COCO json and Pascal VOC xml layouts.

Every reader returns :class:`DetectionSample` items whose boxes are a
:class:`~touchline.types.Detections` in continuous image pixels (pixel ``(i, j)`` covers
``[i, i + 1) x [j, j + 1)``), with ``class_names`` taken from the dataset; every writer takes
the same objects back. Malformed input raises :class:`~touchline.errors.DataError` naming the
file and the problem.

* **YOLO txt**: a split folder with ``images/`` and ``labels/``; each label file has one line
  ``cls cx cy w h`` (optionally followed by a confidence) per box, normalised to the image. The
  class names come from a ``data.yaml`` in or above the split (``names`` as a list or a dict,
  ``nc``).
* **COCO json**: ``images``, ``annotations`` (``bbox = [x, y, w, h]`` in pixels) and
  ``categories``; class ids are the positions of the categories sorted by their COCO id.
* **Pascal VOC xml**: one file per image with ``<size>`` and ``<object>`` elements. VOC pixel
  coordinates are 1-based and inclusive, so a box ``xmin..xmax`` covers the continuous range
  ``[xmin - 1, xmax)``: ``x1 = xmin - 1``, ``x2 = xmax`` (and likewise for y).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> dets = Detections(xyxy=[[10, 20, 30, 60]], class_id=[1], class_names=("ball", "player"))
>>> write_voc(d / "a.xml", DetectionSample(d / "a.jpg", (100, 80), dets))
>>> back = read_voc(d / "a.xml", class_names=("ball", "player")).detections
>>> back.xyxy, back.class_name
(array([[10., 20., 30., 60.]], dtype=float32), array(['player'], dtype='<U6'))
"""

from __future__ import annotations

import json
import math
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from touchline.datasets.yolo_pose import image_files
from touchline.errors import DataError
from touchline.types import Detections, as_image_size
from touchline.utils.files import write_text_atomic

__all__ = [
    "DetectionSample",
    "iter_voc_folder",
    "read_coco",
    "read_image_size",
    "read_voc",
    "read_yolo_labels",
    "read_yolo_names",
    "read_yolo_split",
    "stretched_frame_size",
    "write_coco",
    "write_voc",
    "write_yolo_labels",
    "write_yolo_names",
]

DATA_YAML_NAMES = ("data.yaml", "data.yml")


@dataclass(frozen=True)
class DetectionSample:
    """One image and its boxes.

    Attributes:
        image: path of the image file (it need not exist for the writers).
        image_size: ``(width, height)`` of the pixel frame the boxes are expressed in (the
            original frame when a YOLO split was read with ``frame_size``).
        detections: the boxes, ``class_id`` and ``class_names`` of the dataset.
        label_file: the label file the sample was read from, if any.
    """

    image: Path
    image_size: tuple[int, int]
    detections: Detections
    label_file: Path | None = None


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _detections(where: Path | str, **kwargs: Any) -> Detections:
    """``Detections(**kwargs)`` with the file name prefixed to any ``DataError``."""
    try:
        return Detections(**kwargs)
    except DataError as e:
        raise DataError(f"{where}: {e}") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None


def _num(v: float) -> str:
    """Shortest exact text of a float (``12`` rather than ``12.0``)."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def read_image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image, from the PNG/JPEG/BMP/GIF header when possible.

    Other formats (and headers that cannot be parsed) fall back to decoding with OpenCV.

    >>> import tempfile, pathlib, cv2
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.png"
    >>> _ = cv2.imwrite(str(p), np.zeros((30, 40), np.uint8))
    >>> read_image_size(p)
    (40, 30)
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(64 * 1024)
            size = _header_size(head, f)
    except OSError as e:
        raise DataError(f"{path}: cannot read image ({e.strerror})") from None
    if size is not None and size[0] > 0 and size[1] > 0:
        return size
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(f"{path}: cannot decode image (needed for its size)")
    return int(img.shape[1]), int(img.shape[0])


def _header_size(head: bytes, f: Any) -> tuple[int, int] | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return int(w), int(h)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        w, h = struct.unpack("<HH", head[6:10])
        return int(w), int(h)
    if head[:2] == b"BM" and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(int(w)), abs(int(h))
    if head[:2] == b"\xff\xd8":
        f.seek(2)
        while True:
            b = f.read(1)
            while b and b != b"\xff":  # skip to the next marker
                b = f.read(1)
            while b == b"\xff":  # fill bytes
                b = f.read(1)
            if not b:
                return None
            marker = b[0]
            if marker in (0x01, *range(0xD0, 0xD8)):
                continue  # standalone markers
            if marker in (0xD9, 0xDA):
                return None  # end of image / start of scan before any frame header
            seg = f.read(2)
            if len(seg) < 2:
                return None
            (length,) = struct.unpack(">H", seg)
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                data = f.read(5)
                if len(data) < 5:
                    return None
                h, w = struct.unpack(">HH", data[1:5])
                return int(w), int(h)
            f.seek(length - 2, 1)
    return None


# --------------------------------------------------------------------------------------------
# YOLO txt
# --------------------------------------------------------------------------------------------


def _find_unquoted(text: str, char: str, ok: Callable[[int], bool]) -> int:
    """Index of the first ``char`` outside quotes at which ``ok(index)`` holds, else -1."""
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == char and ok(i):
            return i
    return -1


def _strip_comment(line: str) -> str:
    """Drop a YAML ``# comment`` (a ``#`` at the start or after a space, outside quotes)."""
    i = _find_unquoted(line, "#", lambda i: i == 0 or line[i - 1] in " \t")
    return (line if i < 0 else line[:i]).rstrip()


def _scalar(text: str, where: str) -> str:
    """A YAML scalar: ``'single'`` (``''`` escapes a quote), ``"double"`` (JSON escapes) or plain."""
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] == "'":
        return s[1:-1].replace("''", "'")
    if len(s) >= 2 and s[0] == s[-1] == '"':
        try:
            value = json.loads(s)
        except json.JSONDecodeError:
            raise DataError(f"{where}: bad double-quoted string {s}") from None
        return str(value)
    if s[:1] in ("'", '"'):
        raise DataError(f"{where}: unterminated string {s}")
    return s


def _split_flow(body: str, where: str) -> list[str]:
    """Split the inside of a YAML flow collection at top-level commas (quotes respected)."""
    items, cur, quote = [], "", ""
    for c in body:
        if quote:
            cur += c
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            cur += c
        elif c == ",":
            items.append(cur)
            cur = ""
        elif c in "[]{}":
            raise DataError(f"{where}: nested collections are not supported in names")
        else:
            cur += c
    if quote:
        raise DataError(f"{where}: unterminated string in names")
    items.append(cur)
    if items and not items[-1].strip():
        items.pop()  # trailing comma
    return items


def _key_value(text: str, where: str) -> tuple[str, str]:
    """Split ``key: value`` at the first ``:`` outside quotes."""
    i = _find_unquoted(text, ":", lambda i: i + 1 == len(text) or text[i + 1] in " \t")
    if i < 0:
        raise DataError(f"{where}: expected 'key: value', got {text!r}")
    return _scalar(text[:i], where), text[i + 1 :].strip()


def _names_from_dict(entries: Sequence[tuple[str, str]], where: str) -> list[str]:
    by_id: dict[int, str] = {}
    for key, value in entries:
        try:
            k = int(key)
        except ValueError:
            raise DataError(f"{where}: names key {key!r} is not a class id") from None
        if k in by_id:
            raise DataError(f"{where}: names key {k} appears twice")
        by_id[k] = _scalar(value, where)
    if sorted(by_id) != list(range(len(by_id))):
        raise DataError(f"{where}: names keys must be 0..{len(by_id) - 1}, got {sorted(by_id)}")
    return [by_id[k] for k in range(len(by_id))]


def read_yolo_names(yaml_path: str | Path) -> tuple[str, ...]:
    """Class names of an Ultralytics/Roboflow ``data.yaml``.

    A small parser for the forms those exports use: ``names:`` followed by a block list
    (``- name``) or a block mapping (``0: name``), a flow list ``[a, 'b']`` or a flow mapping
    ``{0: a}``, and ``nc: n``. Without ``names`` the classes are ``class0 .. class{nc-1}``.

    Raises:
        DataError: neither key is present, ``nc`` disagrees with ``names``, the mapping keys are
            not ``0..n-1``, or a line cannot be parsed.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "data.yaml"
    >>> _ = p.write_text("nc: 2\\nnames:\\n  0: ball  # comment\\n  1: 'goal keeper'\\n")
    >>> read_yolo_names(p)
    ('ball', 'goal keeper')
    >>> _ = p.write_text("names: [a, b]\\nnc: 3\\n")
    >>> read_yolo_names(p)
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: ...data.yaml: nc is 3 but names has 2 entries
    """
    path = Path(yaml_path)
    lines = [_strip_comment(ln) for ln in _read_text(path).splitlines()]
    names: list[str] | None = None
    nc: int | None = None
    i = 0
    while i < len(lines):
        line, where = lines[i], f"{path}: line {i + 1}"
        i += 1
        if not line.strip() or line[0] in " \t-" or line.strip() in ("---", "..."):
            continue  # blank, or inside a block of another key
        key, value = _key_value(line, where)
        if key == "nc":
            try:
                nc = int(_scalar(value, where))
            except ValueError:
                raise DataError(f"{where}: nc is not an integer: {value!r}") from None
            if nc < 0:
                raise DataError(f"{where}: nc is negative: {nc}")
        elif key == "names":
            if value[:1] in ("[", "{"):
                close = "]" if value[0] == "[" else "}"
                flow = value
                while not flow.rstrip().endswith(close):
                    if i >= len(lines):
                        raise DataError(f"{where}: names: missing closing {close!r}")
                    flow += " " + lines[i].strip()
                    i += 1
                items = _split_flow(flow.strip()[1:-1], where)
                if close == "]":
                    names = [_scalar(s, where) for s in items]
                else:
                    names = _names_from_dict([_key_value(s.strip(), where) for s in items], where)
            elif value:
                raise DataError(f"{where}: names must be a list or a mapping, got {value!r}")
            else:
                block: list[tuple[int, str]] = []
                while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t-"):
                    if lines[i].strip():
                        block.append((i + 1, lines[i].strip()))
                    i += 1
                if block and all(s.startswith("-") for _, s in block):
                    names = [_scalar(s[1:], f"{path}: line {n}") for n, s in block]
                elif block and not any(s.startswith("-") for _, s in block):
                    entries = [_key_value(s, f"{path}: line {n}") for n, s in block]
                    names = _names_from_dict(entries, where)
                elif block:
                    raise DataError(f"{where}: names mixes list items and mapping entries")
                else:
                    names = []
    if names is None:
        if nc is None:
            raise DataError(f"{path}: no 'names' or 'nc' key")
        return tuple(f"class{k}" for k in range(nc))
    if nc is not None and nc != len(names):
        raise DataError(f"{path}: nc is {nc} but names has {len(names)} entries")
    if any(not n for n in names):
        raise DataError(f"{path}: names has an empty entry: {names}")
    return tuple(names)


def _yaml_quote(name: str) -> str:
    plain = name and name.strip() == name and not any(c in name for c in ":#'\"[]{},&*!|>%@`")
    plain = plain and name[0] not in "-?" and name.lower() not in ("null", "true", "false", "~")
    return name if plain else json.dumps(name, ensure_ascii=False)


def write_yolo_names(path: str | Path, names: Sequence[str]) -> None:
    """Write a ``data.yaml`` with ``names`` (block list) and ``nc``, read by :func:`read_yolo_names`.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "data.yaml"
    >>> write_yolo_names(p, ["ball", "a: b"])
    >>> print(p.read_text(), end="")
    names:
    - ball
    - "a: b"
    nc: 2
    >>> read_yolo_names(p)
    ('ball', 'a: b')
    """
    lines = ["names:", *(f"- {_yaml_quote(n)}" for n in names), f"nc: {len(names)}"]
    write_text_atomic(path, "\n".join(lines) + "\n")


def read_yolo_labels(
    path: str | Path, image_size: tuple[int, int], class_names: Sequence[str]
) -> Detections:
    """Boxes of one YOLO label file, in the pixels of a ``image_size = (width, height)`` frame.

    Each non-blank line is ``cls cx cy w h`` (normalised to the image) with an optional sixth
    field, a confidence (``confidence`` is then set, NaN on lines without one).

    Raises:
        DataError: a line is not numbers, has another number of fields, a class id that is not
            an integer in ``0..len(class_names)-1``, or a negative/non-finite size.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("1 0.5 0.5 0.1 0.2\\n")
    >>> read_yolo_labels(p, (200, 100), ["ball", "player"]).xyxy
    array([[ 90.,  40., 110.,  60.]], dtype=float32)
    >>> _ = p.write_text("2 0.5 0.5 0.1 0.2\\n")
    >>> read_yolo_labels(p, (200, 100), ["ball", "player"])
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: ...a.txt: line 1: class id 2 out of range 0..1
    """
    path = Path(path)
    w, h = as_image_size(image_size, f"{path}: image_size")
    n_classes = len(class_names)
    rows: list[list[float]] = []
    cids: list[int] = []
    confs: list[float] = []
    for no, line in enumerate(_read_text(path).splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}: line {no}"
        if len(fields) not in (5, 6):
            raise DataError(
                f"{where}: {len(fields)} fields; expected 5 (cls cx cy w h) "
                "or 6 (with a confidence)"
            )
        try:
            vals = [float(v) for v in fields]
        except ValueError:
            raise DataError(f"{where}: not a list of numbers: {line.strip()!r}") from None
        if not all(math.isfinite(v) for v in vals):
            raise DataError(f"{where}: non-finite value: {line.strip()!r}")
        cid = vals[0]
        if not cid.is_integer():
            raise DataError(f"{where}: class id {fields[0]!r} is not an integer")
        if not 0 <= cid < n_classes:
            raise DataError(f"{where}: class id {int(cid)} out of range 0..{n_classes - 1}")
        if vals[3] < 0 or vals[4] < 0:
            raise DataError(f"{where}: negative box size: {line.strip()!r}")
        cids.append(int(cid))
        rows.append(vals[1:5])
        confs.append(vals[5] if len(vals) == 6 else math.nan)
    b = np.asarray(rows, dtype=np.float64).reshape(-1, 4) * (w, h, w, h)
    xyxy = np.column_stack(
        [b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2]
    )
    has_conf = any(not math.isnan(c) for c in confs)
    return _detections(
        path,
        xyxy=xyxy,
        class_id=np.asarray(cids, dtype=np.int64),
        confidence=np.asarray(confs, dtype=np.float32) if has_conf else None,
        class_names=tuple(class_names),
    )


def _fmt_norm(v: float) -> str:
    s = f"{v:.8f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def write_yolo_labels(
    path: str | Path,
    detections: Detections,
    image_size: tuple[int, int],
    *,
    confidence: bool = False,
) -> None:
    """Write a YOLO label file: ``cls cx cy w h`` per box, normalised to ``image_size``.

    Values have 8 decimals (1e-8 of the image size). With ``confidence=True`` and
    ``detections.confidence`` set, the confidence is appended as a sixth field.

    Raises:
        DataError: ``detections.class_id`` is ``None`` (with boxes) or negative, or
            ``image_size`` is invalid.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_yolo_labels(p, Detections(xyxy=[[90, 40, 110, 60]], class_id=[1]), (200, 100))
    >>> p.read_text()
    '1 0.5 0.5 0.1 0.2\\n'
    """
    path = Path(path)
    w, h = as_image_size(image_size, f"{path}: image_size")
    class_id = detections.class_id
    if class_id is None:
        if len(detections):
            raise DataError(f"{path}: cannot write YOLO labels without class_id")
        class_id = np.empty(0, np.int64)
    if (class_id < 0).any():
        raise DataError(f"{path}: negative class_id {class_id.min()}")
    b = detections.xyxy.astype(np.float64)
    cxcywh = np.column_stack(
        [
            (b[:, 0] + b[:, 2]) / 2 / w,
            (b[:, 1] + b[:, 3]) / 2 / h,
            (b[:, 2] - b[:, 0]) / w,
            (b[:, 3] - b[:, 1]) / h,
        ]
    )
    conf = detections.confidence if confidence else None
    lines = []
    for k, (cid, row) in enumerate(zip(class_id, cxcywh, strict=True)):
        fields = [str(int(cid)), *(_fmt_norm(v) for v in row)]
        if conf is not None and np.isfinite(conf[k]):
            fields.append(_fmt_norm(float(conf[k])))
        lines.append(" ".join(fields) + "\n")
    write_text_atomic(path, "".join(lines))


def _find_data_yaml(split: Path) -> Path | None:
    for folder in (split, split.parent):
        for name in DATA_YAML_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def read_yolo_split(
    split_dir: str | Path,
    frame_size: tuple[int, int] | None = None,
    *,
    class_names: Sequence[str] | None = None,
) -> list[DetectionSample]:
    """Samples of a YOLO split folder (``images/`` + ``labels/``), sorted by image name.

    Args:
        split_dir: the split folder.
        frame_size: ``(width, height)`` of the original frames when the images were stretched
            (e.g. ``(1920, 1080)`` for the 1280x1280 DFL images): boxes come back in those
            pixels. By default each image's own size (read from its header).
        class_names: the classes; by default read with :func:`read_yolo_names` from the
            ``data.yaml`` in the split folder or its parent.

    An image without a label file gives empty detections (a background image).

    Raises:
        DataError: no ``images/`` folder, no images, no ``data.yaml`` (and no ``class_names``),
            or a malformed label file.

    >>> import tempfile, pathlib, cv2
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "test" / "images").mkdir(parents=True)
    >>> _ = cv2.imwrite(str(root / "test" / "images" / "a.jpg"), np.zeros((64, 64), np.uint8))
    >>> write_yolo_names(root / "data.yaml", ["ball", "player"])
    >>> dets = Detections(xyxy=[[960, 540, 970, 550]], class_id=[0], class_names=("ball", "player"))
    >>> write_yolo_labels(root / "test" / "labels" / "a.txt", dets, (1920, 1080))
    >>> [s] = read_yolo_split(root / "test", frame_size=(1920, 1080))
    >>> s.image_size, s.detections == dets
    ((1920, 1080), True)
    """
    root = Path(split_dir)
    images, labels = root / "images", root / "labels"
    if not images.is_dir():
        raise DataError(f"{root}: expected an images/ folder (and labels/) in the YOLO layout")
    if class_names is None:
        yaml_path = _find_data_yaml(root)
        if yaml_path is None:
            raise DataError(f"{root}: no data.yaml in the split folder or its parent")
        class_names = read_yolo_names(yaml_path)
    names = tuple(class_names)
    size = None if frame_size is None else as_image_size(frame_size, "frame_size")
    samples = []
    for img in image_files(images):
        img_size = size if size is not None else read_image_size(img)
        lab = labels / (img.stem + ".txt")
        if lab.exists():
            dets = read_yolo_labels(lab, img_size, names)
        else:
            dets = Detections(
                xyxy=np.empty((0, 4), np.float32),
                class_id=np.empty(0, np.int64),
                class_names=names,
            )
        samples.append(DetectionSample(img, img_size, dets, lab if lab.exists() else None))
    return samples


# --------------------------------------------------------------------------------------------
# COCO json
# --------------------------------------------------------------------------------------------


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise DataError(f"{where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise DataError(f"{where}: missing {key!r}")
    return obj[key]


def _coco_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"{where}: expected an integer, got {value!r}")
    return value


def _coco_entry(
    entry: Any, where: str, kind: str, key: str, seen: Mapping[int, Any]
) -> tuple[int, str]:
    """The ``id`` (not yet in ``seen``) and the string ``key`` of a COCO ``kind`` entry."""
    eid = _coco_int(_get(entry, "id", where), f"{where}.id")
    value = _get(entry, key, where)
    if not isinstance(value, str):
        raise DataError(f"{where}.{key}: expected a string, got {value!r}")
    if eid in seen:
        raise DataError(f"{where}: {kind} id {eid} appears twice")
    return eid, value


def read_coco(json_path: str | Path, images_dir: str | Path | None = None) -> list[DetectionSample]:
    """Samples of a COCO detection file, in the order of its ``images`` list.

    ``class_id`` is the position of the category among the categories sorted by COCO id and
    ``class_names`` their names; ``detections.data`` keeps ``"category_id"`` (the COCO id),
    ``"iscrowd"`` (0/1) and ``"annotation_id"``; a ``score`` (results files) becomes the
    ``confidence`` (NaN where absent). Images without annotations give empty detections.
    Image paths are ``images_dir / file_name`` (default: the folder of the json file, as in
    Roboflow exports); an image without ``width``/``height`` is measured from its file.

    Raises:
        DataError: invalid JSON, a missing key, a bbox that is not four finite numbers with
            ``w, h >= 0``, an annotation of an unknown image or a missing category.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = p.write_text(json.dumps({
    ...     "images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48}],
    ...     "categories": [{"id": 1, "name": "ball"}],
    ...     "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}]}))
    >>> [s] = read_coco(p)
    >>> s.detections.xyxy, s.detections.class_name
    (array([[1., 2., 4., 6.]], dtype=float32), array(['ball'], dtype='<U4'))
    """
    path = Path(json_path)
    try:
        doc = json.loads(_read_text(path))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON ({e})") from None
    folder = Path(images_dir) if images_dir is not None else path.parent
    raw_images = _get(doc, "images", str(path))
    raw_cats = _get(doc, "categories", str(path))
    raw_anns = doc.get("annotations", [])
    for key, value in (("images", raw_images), ("categories", raw_cats), ("annotations", raw_anns)):
        if not isinstance(value, list):
            raise DataError(f"{path}: {key!r} must be a list")

    cats: dict[int, str] = {}
    for k, c in enumerate(raw_cats):
        cid, name = _coco_entry(c, f"{path}: categories[{k}]", "category", "name", cats)
        cats[cid] = name
    cat_ids = sorted(cats)
    class_of = {cid: k for k, cid in enumerate(cat_ids)}
    names = tuple(cats[c] for c in cat_ids)

    image_ids: list[int] = []
    info: dict[int, tuple[Path, tuple[int, int]]] = {}
    for k, im in enumerate(raw_images):
        where = f"{path}: images[{k}]"
        iid, file_name = _coco_entry(im, where, "image", "file_name", info)
        image = folder / file_name
        if "width" in im or "height" in im:
            size = as_image_size((im.get("width"), im.get("height")), f"{where} (width, height)")
        elif image.is_file():
            size = read_image_size(image)
        else:
            raise DataError(f"{where}: missing size (width/height) and no image file {image}")
        image_ids.append(iid)
        info[iid] = (image, size)

    per_image: dict[int, list[tuple[list[float], int, int, int, float]]] = {i: [] for i in info}
    has_score = False
    for k, a in enumerate(raw_anns):
        where = f"{path}: annotations[{k}]"
        iid = _coco_int(_get(a, "image_id", where), f"{where}.image_id")
        if iid not in info:
            raise DataError(f"{where}: image_id {iid} is not in 'images'")
        cid = _coco_int(_get(a, "category_id", where), f"{where}.category_id")
        if cid not in cats:
            raise DataError(f"{where}: category_id {cid} is missing from 'categories'")
        bbox = _get(a, "bbox", where)
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
            or not all(math.isfinite(v) for v in bbox)
        ):
            raise DataError(f"{where}: bbox must be four finite numbers [x, y, w, h], got {bbox!r}")
        if bbox[2] < 0 or bbox[3] < 0:
            raise DataError(f"{where}: bbox has a negative width or height {bbox!r}")
        iscrowd = a.get("iscrowd", 0)
        if iscrowd not in (0, 1) or isinstance(iscrowd, float):
            raise DataError(f"{where}: iscrowd must be 0 or 1, got {iscrowd!r}")
        ann_id = _coco_int(a.get("id", -1), f"{where}.id")
        score = a.get("score")
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise DataError(f"{where}: score must be a number, got {score!r}")
            has_score = True
        per_image[iid].append(
            (
                [float(v) for v in bbox],
                class_of[cid],
                int(iscrowd),
                ann_id,
                math.nan if score is None else float(score),
            )
        )

    samples = []
    for iid in image_ids:
        image, size = info[iid]
        anns = per_image[iid]
        xywh = np.asarray([a[0] for a in anns], dtype=np.float64).reshape(-1, 4)
        xyxy = np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])
        class_id = np.asarray([a[1] for a in anns], dtype=np.int64)
        dets = _detections(
            f"{path}: image {iid}",
            xyxy=xyxy,
            class_id=class_id,
            confidence=np.asarray([a[4] for a in anns], np.float32) if has_score else None,
            data={
                "category_id": np.asarray([cat_ids[c] for c in class_id], dtype=np.int64),
                "iscrowd": np.asarray([a[2] for a in anns], dtype=np.int64),
                "annotation_id": np.asarray([a[3] for a in anns], dtype=np.int64),
            },
            class_names=names,
        )
        samples.append(DetectionSample(image, size, dets, path))
    return samples


def write_coco(
    path: str | Path,
    samples: Sequence[DetectionSample],
    *,
    category_ids: Sequence[int] | None = None,
) -> None:
    """Write samples as a COCO detection file (read back by :func:`read_coco`).

    Images get ids ``1..n`` in order and ``file_name`` relative to the json folder (the bare
    name for an image elsewhere); annotations get ids ``1..m``, ``bbox = [x, y, w, h]`` with the
    exact float values, ``area = w * h``, ``iscrowd`` from ``detections.data`` (default 0) and
    ``score`` when ``confidence`` is set. Category ``k`` (``class_names[k]``) gets COCO id
    ``category_ids[k]``, by default ``k + 1``.

    Raises:
        DataError: the samples disagree on ``class_names``, a detection has no ``class_id`` or
            one outside ``class_names``, or ``category_ids`` has the wrong length or repeats.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> dets = Detections(xyxy=[[1, 2, 4, 6.5]], class_id=[0], class_names=("ball",))
    >>> write_coco(p, [DetectionSample(p.parent / "a.jpg", (64, 48), dets)])
    >>> read_coco(p)[0].detections.xyxy
    array([[1. , 2. , 4. , 6.5]], dtype=float32)
    """
    path = Path(path)
    names: tuple[str, ...] | None = None
    for k, s in enumerate(samples):
        if names is None:
            names = s.detections.class_names
        elif s.detections.class_names != names:
            raise DataError(
                f"{path}: sample {k} has class_names {s.detections.class_names!r}, "
                f"expected {names!r}"
            )
    names = names or ()
    ids = list(range(1, len(names) + 1)) if category_ids is None else [int(c) for c in category_ids]
    if len(ids) != len(names) or len(set(ids)) != len(ids):
        raise DataError(f"{path}: category_ids {ids} must be {len(names)} distinct ids")
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for k, s in enumerate(samples):
        w, h = as_image_size(s.image_size, f"{path}: sample {k} image_size")
        try:
            file_name = s.image.relative_to(path.parent).as_posix()
        except ValueError:
            file_name = s.image.name
        images.append({"id": k + 1, "file_name": file_name, "width": w, "height": h})
        d = s.detections
        if len(d) == 0:
            continue
        if d.class_id is None:
            raise DataError(f"{path}: sample {k} ({s.image.name}) has no class_id")
        bad = (d.class_id < 0) | (d.class_id >= len(names))
        if bad.any():
            raise DataError(
                f"{path}: sample {k} ({s.image.name}) has class_id {int(d.class_id[bad][0])} "
                f"outside 0..{len(names) - 1}"
            )
        b = d.xyxy.astype(np.float64)
        crowd = d.data.get("iscrowd")
        for j in range(len(d)):
            x, y, bw, bh = b[j, 0], b[j, 1], b[j, 2] - b[j, 0], b[j, 3] - b[j, 1]
            ann: dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": k + 1,
                "category_id": ids[int(d.class_id[j])],
                "bbox": [float(x), float(y), float(bw), float(bh)],
                "area": float(bw * bh),
                "iscrowd": 0 if crowd is None else int(crowd[j]),
                "segmentation": [],
            }
            if d.confidence is not None and np.isfinite(d.confidence[j]):
                ann["score"] = float(d.confidence[j])
            annotations.append(ann)
    categories = [
        {"id": c, "name": n, "supercategory": "none"} for c, n in zip(ids, names, strict=True)
    ]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    write_text_atomic(path, json.dumps(doc, indent=1) + "\n")


# --------------------------------------------------------------------------------------------
# Pascal VOC xml
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VocRecord:
    path: Path
    image: Path
    size: tuple[int, int]
    names: list[str]
    boxes: list[tuple[float, float, float, float]]  # xmin, ymin, xmax, ymax as written
    difficult: list[int]
    truncated: list[int]


def _voc_text(elem: ET.Element, tag: str, where: str, *, required: bool = True) -> str | None:
    child = elem.find(tag)
    if child is None or child.text is None or not child.text.strip():
        if required:
            raise DataError(f"{where}: missing <{tag}>")
        return None
    return child.text.strip()


def _voc_number(elem: ET.Element, tag: str, where: str) -> float:
    text = _voc_text(elem, tag, where)
    try:
        v = float(text or "")
    except ValueError:
        raise DataError(f"{where}: <{tag}> is not a number: {text!r}") from None
    if not math.isfinite(v):
        raise DataError(f"{where}: <{tag}> is not finite: {text!r}")
    return v


def _voc_flag(elem: ET.Element, tag: str, where: str) -> int:
    text = _voc_text(elem, tag, where, required=False)
    if text is None:
        return 0
    if text not in ("0", "1"):
        raise DataError(f"{where}: <{tag}> must be 0 or 1, got {text!r}")
    return int(text)


def _parse_voc(path: Path) -> _VocRecord:
    try:
        root = ET.fromstring(_read_text(path))
    except ET.ParseError as e:
        raise DataError(f"{path}: malformed XML ({e})") from None
    if root.tag != "annotation":
        raise DataError(f"{path}: root element is <{root.tag}>, expected <annotation>")
    size_el = root.find("size")
    if size_el is None:
        raise DataError(f"{path}: missing <size>")
    w = _voc_number(size_el, "width", f"{path}: <size>")
    h = _voc_number(size_el, "height", f"{path}: <size>")
    if not (w.is_integer() and h.is_integer() and w > 0 and h > 0):
        raise DataError(f"{path}: <size> must be positive integers, got {w} x {h}")
    filename = _voc_text(root, "filename", str(path), required=False)
    if filename is None:
        image = path.with_suffix(".jpg")
    else:
        candidates = [path.parent / filename, path.parent.parent / "JPEGImages" / filename]
        image = next((c for c in candidates if c.is_file()), candidates[0])
    names, boxes, difficult, truncated = [], [], [], []
    for k, obj in enumerate(root.iter("object")):
        where = f"{path}: object {k}"
        name = _voc_text(obj, "name", where)
        bnd = obj.find("bndbox")
        if bnd is None:
            raise DataError(f"{where}: missing <bndbox>")
        xmin, ymin, xmax, ymax = (
            _voc_number(bnd, t, where) for t in ("xmin", "ymin", "xmax", "ymax")
        )
        if xmax < xmin - 1 or ymax < ymin - 1:
            raise DataError(
                f"{where}: inverted box xmin={xmin} ymin={ymin} xmax={xmax} ymax={ymax}"
            )
        names.append(str(name))
        boxes.append((xmin, ymin, xmax, ymax))
        difficult.append(_voc_flag(obj, "difficult", where))
        truncated.append(_voc_flag(obj, "truncated", where))
    return _VocRecord(path, image, (int(w), int(h)), names, boxes, difficult, truncated)


def _voc_sample(rec: _VocRecord, class_names: Sequence[str] | None) -> DetectionSample:
    names = tuple(sorted(set(rec.names))) if class_names is None else tuple(class_names)
    index = {n: k for k, n in enumerate(names)}
    for k, n in enumerate(rec.names):
        if n not in index:
            raise DataError(f"{rec.path}: object {k}: unknown class {n!r}; known: {list(names)}")
    b = np.asarray(rec.boxes, dtype=np.float64).reshape(-1, 4)
    xyxy = np.column_stack([b[:, 0] - 1, b[:, 1] - 1, b[:, 2], b[:, 3]])
    dets = _detections(
        rec.path,
        xyxy=xyxy,
        class_id=np.asarray([index[n] for n in rec.names], dtype=np.int64),
        data={
            "difficult": np.asarray(rec.difficult, dtype=np.int64),
            "truncated": np.asarray(rec.truncated, dtype=np.int64),
        },
        class_names=names,
    )
    return DetectionSample(rec.image, rec.size, dets, rec.path)


def read_voc(xml_path: str | Path, class_names: Sequence[str] | None = None) -> DetectionSample:
    """One Pascal VOC annotation file.

    Boxes are converted from VOC's 1-based inclusive pixels to continuous pixels:
    ``x1 = xmin - 1``, ``y1 = ymin - 1``, ``x2 = xmax``, ``y2 = ymax``. ``class_names`` defaults
    to the sorted object names of this file (use :func:`iter_voc_folder` or pass the list for
    ids consistent across files); ``data`` keeps ``"difficult"`` and ``"truncated"`` (0/1). The
    image is ``<filename>`` beside the xml file, or in ``../JPEGImages/`` (VOC layout).

    Raises:
        DataError: malformed XML, a missing ``<size>``, ``<name>`` or ``<bndbox>``, a coordinate
            that is not a number, an inverted box, or a name not in ``class_names``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xml"
    >>> _ = p.write_text("<annotation><size><width>64</width><height>48</height></size>"
    ...     "<object><name>ball</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
    ...     "<xmax>10</xmax><ymax>5</ymax></bndbox></object></annotation>")
    >>> read_voc(p).detections.xyxy
    array([[ 0.,  0., 10.,  5.]], dtype=float32)
    """
    return _voc_sample(_parse_voc(Path(xml_path)), class_names)


def _voc_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    if (folder / "Annotations").is_dir():
        folder = folder / "Annotations"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml")
    if not files:
        raise DataError(f"{folder}: no .xml annotation files")
    return files


def iter_voc_folder(
    folder: str | Path, class_names: Sequence[str] | None = None
) -> Iterator[DetectionSample]:
    """Samples of a folder of VOC xml files (or of a VOC root with ``Annotations/``), by name.

    ``class_names`` defaults to the sorted object names of all the files, so that class ids
    agree across samples.

    Raises:
        DataError: the folder does not exist or holds no ``.xml`` file, or a file is malformed
            (see :func:`read_voc`).

    >>> import tempfile
    >>> list(iter_voc_folder(tempfile.mkdtemp()))
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: ...: no .xml annotation files
    """
    files = _voc_files(Path(folder))
    if class_names is None:
        records = [_parse_voc(p) for p in files]
        names = tuple(sorted({n for r in records for n in r.names}))
        for r in records:
            yield _voc_sample(r, names)
    else:
        for p in files:
            yield _voc_sample(_parse_voc(p), class_names)


def write_voc(path: str | Path, sample: DetectionSample) -> None:
    """Write one sample as a Pascal VOC annotation file (read back by :func:`read_voc`).

    Boxes are written as ``xmin = x1 + 1``, ``ymin = y1 + 1``, ``xmax = x2``, ``ymax = y2``
    (integers when whole, else exact floats); ``difficult``/``truncated`` come from
    ``detections.data`` (default 0).

    Raises:
        DataError: ``detections.class_id`` is ``None`` or outside ``class_names``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xml"
    >>> d = Detections(xyxy=[[0, 0, 10, 5]], class_id=[0], class_names=("ball",))
    >>> write_voc(p, DetectionSample(p.parent / "a.jpg", (64, 48), d))
    >>> print(p.read_text().split("<bndbox>")[1].split("</bndbox>")[0].split())
    ['<xmin>1</xmin>', '<ymin>1</ymin>', '<xmax>10</xmax>', '<ymax>5</ymax>']
    """
    path = Path(path)
    w, h = as_image_size(sample.image_size, f"{path}: image_size")
    d = sample.detections
    if len(d) and d.class_id is None:
        raise DataError(f"{path}: cannot write VOC objects without class_id")
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = sample.image.parent.name
    ET.SubElement(root, "filename").text = sample.image.name
    size = ET.SubElement(root, "size")
    for tag, v in (("width", w), ("height", h), ("depth", 3)):
        ET.SubElement(size, tag).text = str(v)
    ET.SubElement(root, "segmented").text = "0"
    b = d.xyxy.astype(np.float64)
    for j in range(len(d)):
        assert d.class_id is not None
        cid = int(d.class_id[j])
        if not 0 <= cid < len(d.class_names):
            raise DataError(f"{path}: object {j} has class_id {cid} outside class_names")
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = d.class_names[cid]
        ET.SubElement(obj, "pose").text = "Unspecified"
        for tag in ("truncated", "difficult"):
            flag = d.data.get(tag)
            ET.SubElement(obj, tag).text = "0" if flag is None else str(int(bool(flag[j])))
        bnd = ET.SubElement(obj, "bndbox")
        values = (b[j, 0] + 1, b[j, 1] + 1, b[j, 2], b[j, 3])
        for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), values, strict=True):
            ET.SubElement(bnd, tag).text = _num(v)
    ET.indent(root)
    write_text_atomic(path, ET.tostring(root, encoding="unicode") + "\n")


# --------------------------------------------------------------------------------------------
# Stretched exports
# --------------------------------------------------------------------------------------------

DEFAULT_STRETCH_NOTE = (
    "note: the images were stretched to a square (Roboflow export); evaluating them as "
    "{w}x{h} (16:9) frames. Pass --frame-size to override."
)
_STRETCH = re.compile(r"Resize to (\d+)x(\d+) \(Stretch\)", re.IGNORECASE)


def stretched_frame_size(
    data: str | Path, samples: Sequence[DetectionSample]
) -> tuple[int, int] | None:
    """16:9 frame size to undo a Roboflow square stretch, or ``None`` when there is none.

    A Roboflow export says ``Resize to WxH (Stretch)`` in its ``README.roboflow.txt`` (in the
    dataset folder or up to two levels above). Broadcast frames are 16:9, so square images
    of side ``s`` are mapped back to ``1.5 s x 0.84375 s`` (1280 -> 1920x1080); any 16:9 size
    gives the same boxes up to resampling, since detectors rescale their input.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "README.roboflow.txt").write_text("* Resize to 1280x1280 (Stretch)")
    >>> s = DetectionSample(d / "a.jpg", (1280, 1280), Detections.empty())
    >>> stretched_frame_size(d, [s])
    (1920, 1080)
    """
    if not samples:
        return None
    p = Path(data)
    folder = p if p.is_dir() else p.parent
    for cand in (folder, folder.parent, folder.parent.parent):
        readme = cand / "README.roboflow.txt"
        if readme.is_file():
            m = _STRETCH.search(readme.read_text(errors="replace"))
            if m is None:
                return None
            w, h = int(m.group(1)), int(m.group(2))
            if w != h or any(s.image_size != (w, h) for s in samples):
                return None
            return round(w * 1.5), round(w * 1.5 * 9 / 16)
    return None
