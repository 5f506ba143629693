"""Custom metadata in the Lightly Worker's metadata format: read, validate, write.

The layout (Lightly's ``.lightly/metadata`` folder; ``metadata_dir`` below is that folder)::

    metadata_dir/
        schema.json              [{"name": "video_name", "path": "video_name",
                                   "defaultValue": "", "valueDataType": "CATEGORICAL_STRING"}, ...]
        match.json               metadata of the whole video match.mp4 (all its frames) ...
        match-053-mp4.json       ... overridden per frame ...
        seq_a/000123.json        ... and per image (sub-folders kept)

A schema entry maps a ``name`` to a dot-separated ``path`` inside the files' ``metadata`` object,
with a ``defaultValue`` for samples whose files lack it and a ``valueDataType`` (one of
:data:`VALUE_TYPES`; values are converted to the Python type given there). A metadata file is
``{"file_name": ..., "type": "image" | "video" | "frame", "metadata": {...}}`` where
``file_name`` is the image's relative path, the video's relative path, or the frame's Lightly
name. Names follow :func:`touchline.select.predictions.prediction_file_name`; a video's own file
is its relative path with the extension replaced by ``.json``.

A sample's metadata is: every schema field at its default, then the values found in its video's
file, then those in its own file. **video_name**, the key selection strategies group frames by,
is always present: a value from the files wins; otherwise it is the video's relative path
(``"dfl_08fd33_4.mp4"``) for a video frame, the folder's relative path for an image in a
sub-folder (``"leicester_liverpool_512"``), and the image's own name for an image at the top.
Lightly ignores metadata whose path is not in the schema, and so does this reader; unknown
top-level keys, unknown schema keys and values of the wrong type are errors.

Sources: https://docs.lightly.ai/docs/work-with-metadata and the Lightly repository's
``docs/source/docker/advanced/datasource_metadata.rst``.

>>> import shutil, tempfile, pathlib
>>> from touchline.select.types import Sample
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> fields = [MetadataField("weather", "weather.sky", "unknown", "CATEGORICAL_STRING")]
>>> _ = write_metadata_schema(d, fields)
>>> _ = write_metadata(d, "clip.mp4", {"weather": "rain"}, fields=fields, kind="video")
>>> samples = [Sample("clip-0-mp4.png", "clip.mp4", "clip.mp4", 0), Sample("a.jpg", "a.jpg")]
>>> read_metadata(d, samples)
{'clip-0-mp4.png': {'weather': 'rain', 'video_name': 'clip.mp4'},
 'a.jpg': {'weather': 'unknown', 'video_name': 'a.jpg'}}
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from touchline.errors import DataError
from touchline.select.inputs import VIDEO_EXTENSIONS, _is_video_frame, _open_root, _read_json
from touchline.select.predictions import _no_such_sample, _required_json, prediction_file_name
from touchline.select.types import Sample, parse_video_frame_name

__all__ = [
    "KINDS",
    "VALUE_TYPES",
    "VIDEO_NAME",
    "MetadataField",
    "attach_metadata",
    "default_video_name",
    "read_metadata",
    "read_metadata_schema",
    "write_metadata",
    "write_metadata_schema",
]

VALUE_TYPES: dict[str, type] = {
    "NUMERIC_INT": int,
    "NUMERIC_FLOAT": float,
    "CATEGORICAL_INT": int,
    "CATEGORICAL_STRING": str,
    "CATEGORICAL_BOOLEAN": bool,
    "CATEGORICAL_DATETIME": str,
    "CATEGORICAL_TIMESTAMP": int,
    "OTHER_STRING": str,
}
"""Lightly's ``valueDataType`` values and the Python type their values are converted to."""

VIDEO_NAME = "video_name"
"""The metadata key naming the video (or frame folder) a sample belongs to."""

KINDS = ("image", "video", "frame")
"""Values of a metadata file's ``type``."""

Kind = Literal["image", "video", "frame"]
_SCHEMA_KEYS = ("name", "path", "defaultValue", "valueDataType")
_FILE_KEYS = ("file_name", "type", "metadata")


def _convert(value: Any, value_type: str, where: str) -> Any:
    """``value`` as the Python type of ``value_type``, or a DataError naming ``where``."""
    target = VALUE_TYPES[value_type]
    ok = False
    if target is bool:
        ok = isinstance(value, bool)
    elif target is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif target is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise DataError(
            f"{where}: {value!r} is not a valid {value_type} value (expected {target.__name__})"
        )
    return value


@dataclass(frozen=True)
class MetadataField:
    """One entry of the metadata ``schema.json``.

    Attributes:
        name: the key the value gets in a sample's metadata (Lightly: name in the UI).
        path: dot-separated keys locating the value in a file's ``metadata`` object.
        default: the value of samples whose files do not have it (Lightly's ``defaultValue``).
        value_type: Lightly's ``valueDataType`` (one of :data:`VALUE_TYPES`).

    >>> MetadataField("temp", "weather.temperature", 0, "NUMERIC_FLOAT").default
    0.0
    """

    name: str
    path: str
    default: Any
    value_type: str

    def __post_init__(self) -> None:
        for key in ("name", "path"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value:
                raise DataError(f"metadata field {key} must be a non-empty string, got {value!r}")
        if self.value_type not in VALUE_TYPES:
            raise DataError(
                f"metadata field {self.name!r}: unknown valueDataType {self.value_type!r} "
                f"(one of {', '.join(VALUE_TYPES)})"
            )
        default = _convert(self.default, self.value_type, f"defaultValue of {self.name!r}")
        object.__setattr__(self, "default", default)

    def to_json(self) -> dict[str, Any]:
        """The schema entry as in ``schema.json``.

        >>> MetadataField("n", "n", 1, "NUMERIC_INT").to_json()
        {'name': 'n', 'path': 'n', 'defaultValue': 1, 'valueDataType': 'NUMERIC_INT'}
        """
        return {
            "name": self.name,
            "path": self.path,
            "defaultValue": self.default,
            "valueDataType": self.value_type,
        }

    @classmethod
    def from_json(cls, raw: Any, *, where: str = "schema.json") -> MetadataField:
        """Build a field from a parsed schema entry (``where`` names it in errors).

        >>> MetadataField.from_json({"name": "n", "path": "n", "defaultValue": 0,
        ...                          "valueDataType": "NUMERIC_INT", "color": 1})
        Traceback (most recent call last):
        touchline.errors.DataError: schema.json: unknown key 'color' (schema entries have name, path, defaultValue, valueDataType)
        """
        _exact_keys(raw, _SCHEMA_KEYS, where, "an object", "schema entries")
        try:
            return cls(raw["name"], raw["path"], raw["defaultValue"], raw["valueDataType"])
        except DataError as e:
            raise DataError(f"{where}: {e}") from e

    def lookup(self, metadata: Mapping[str, Any], where: str) -> tuple[bool, Any]:
        """``(found, value)`` of this field in a file's ``metadata`` object.

        >>> MetadataField("t", "w.t", 0.0, "NUMERIC_FLOAT").lookup({"w": {"t": 3}}, "f.json")
        (True, 3.0)
        """
        node: Any = metadata
        for key in self.path.split("."):
            if not isinstance(node, dict) or key not in node:
                return False, None
            node = node[key]
        return True, _convert(node, self.value_type, f"{where}: metadata path {self.path!r}")


def default_video_name(sample: Sample) -> str:
    """The ``video_name`` of a sample that has none in its metadata files.

    >>> default_video_name(Sample("clip-03-mp4.png", "/in/clip.mp4", "clip.mp4", 3))
    'clip.mp4'
    >>> default_video_name(Sample("top.jpg", "/in/top.jpg"))
    'top.jpg'
    """
    return sample.video if sample.video is not None else sample.file_name


def read_metadata_schema(metadata_dir: str | os.PathLike[str]) -> list[MetadataField]:
    """Read ``schema.json`` of a metadata folder.

    Raises:
        DataError: the file is missing or malformed, or two entries share a name.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_metadata_schema(d, [MetadataField("a", "a", False, "CATEGORICAL_BOOLEAN")])
    >>> read_metadata_schema(d)
    [MetadataField(name='a', path='a', default=False, value_type='CATEGORICAL_BOOLEAN')]
    >>> shutil.rmtree(d)
    """
    root = _open_root(metadata_dir)
    raw = _required_json(
        root,
        "schema.json",
        "a metadata folder needs a schema.json listing its fields "
        "(name, path, defaultValue, valueDataType)",
    )
    where = root.where("schema.json")
    if not isinstance(raw, list):
        raise DataError(f"{where}: must be a JSON list of field entries")
    fields = [MetadataField.from_json(e, where=f"{where}: entry {i}") for i, e in enumerate(raw)]
    _check_names(fields, where)
    return fields


def _exact_keys(raw: Any, keys: Sequence[str], where: str, kind: str, what: str) -> None:
    """``raw`` must be a dict holding exactly ``keys`` (DataError naming ``where`` otherwise)."""
    if not isinstance(raw, dict):
        raise DataError(f"{where}: must be {kind} with {', '.join(keys)}")
    for key in raw:
        if key not in keys:
            raise DataError(f"{where}: unknown key {key!r} ({what} have {', '.join(keys)})")
    for key in keys:
        if key not in raw:
            raise DataError(f"{where}: missing key {key!r}")


def _check_names(fields: Sequence[MetadataField], where: str) -> None:
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"{where}: field names must be unique, got {duplicates} twice")


def write_metadata_schema(
    metadata_dir: str | os.PathLike[str], fields: Sequence[MetadataField]
) -> str:
    """Write ``schema.json`` (atomically on a local disk) and return its path.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pathlib.Path(write_metadata_schema(d, [])).name
    'schema.json'
    >>> shutil.rmtree(d)
    """
    _check_names(fields, "metadata schema")
    text = json.dumps([f.to_json() for f in fields], indent=2, allow_nan=False) + "\n"
    return _open_root(metadata_dir).write_bytes("schema.json", text.encode("utf-8"))


def _kind_of(file_name: str) -> Kind:
    if parse_video_frame_name(file_name) is not None:
        return "frame"
    return "video" if posixpath.splitext(file_name)[1].lower() in VIDEO_EXTENSIONS else "image"


def write_metadata(
    metadata_dir: str | os.PathLike[str],
    file_name: str,
    values: Mapping[str, Any],
    *,
    fields: Sequence[MetadataField],
    kind: Kind | None = None,
) -> str:
    """Write the metadata file of an image, a video or a video frame.

    Args:
        metadata_dir: Lightly's ``.lightly/metadata`` folder (local path or fsspec URL).
        file_name: the image's relative path, the video's relative path, or the frame's Lightly
            name (a Sample's ``file_name``, or its ``video`` for a whole video).
        values: values by field *name*; each is stored at the field's ``path``.
        fields: the schema.
        kind: ``"image"``, ``"video"`` or ``"frame"``; ``None`` infers it from ``file_name``.

    Returns:
        The written file.

    Raises:
        DataError: a key is not a field of the schema, or a value has the wrong type.

    >>> import shutil, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> f = [MetadataField("temp", "weather.temperature", 0.0, "NUMERIC_FLOAT")]
    >>> path = write_metadata(d, "seq/1.jpg", {"temp": 21}, fields=f)
    >>> pathlib.Path(path).read_text()
    '{"file_name": "seq/1.jpg", "type": "image", "metadata": {"weather": {"temperature": 21.0}}}\\n'
    >>> write_metadata(d, "seq/1.jpg", {"wind": 3}, fields=f)
    Traceback (most recent call last):
    touchline.errors.DataError: seq/1.jpg: unknown metadata key 'wind' (schema fields: temp)
    >>> shutil.rmtree(d)
    """
    kind = kind or _kind_of(file_name)
    if kind not in KINDS:
        raise DataError(f"{file_name}: metadata kind must be one of {KINDS}, got {kind!r}")
    by_name = {f.name: f for f in fields}
    metadata: dict[str, Any] = {}
    for name, value in values.items():
        field = by_name.get(name)
        if field is None:
            known = ", ".join(by_name) or "none"
            raise DataError(f"{file_name}: unknown metadata key {name!r} (schema fields: {known})")
        value = _convert(value, field.value_type, f"{file_name}: metadata {name!r}")
        *parents, leaf = field.path.split(".")
        node = metadata
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise DataError(f"{file_name}: metadata paths conflict at {key!r}")
            node = child
        node[leaf] = value
    rel = posixpath.splitext(file_name)[0] + ".json"
    content = {"file_name": file_name, "type": kind, "metadata": metadata}
    text = json.dumps(content, allow_nan=False) + "\n"
    return _open_root(metadata_dir).write_bytes(rel, text.encode("utf-8"))


def _targets(samples: Sequence[Sample]) -> dict[str, list[tuple[Kind, str, Sample]]]:
    """``{metadata file: [(kind, expected file_name, sample), ...]}`` for every sample."""
    out: dict[str, list[tuple[Kind, str, Sample]]] = {}
    for s in samples:
        if _is_video_frame(s) and s.video is not None:
            out.setdefault(prediction_file_name(s.file_name), []).append(("frame", s.file_name, s))
            video_rel = posixpath.splitext(s.video)[0] + ".json"
            out.setdefault(video_rel, []).append(("video", s.video, s))
        else:
            out.setdefault(prediction_file_name(s.file_name), []).append(("image", s.file_name, s))
    return out


def read_metadata(
    metadata_dir: str | os.PathLike[str] | None,
    samples: Sequence[Sample],
    *,
    fields: Sequence[MetadataField] | None = None,
) -> dict[str, dict[str, Any]]:
    """The metadata of every sample: schema defaults, then video files, then own files.

    Args:
        metadata_dir: Lightly's ``.lightly/metadata`` folder (local path or fsspec URL), or
            ``None`` (or a missing or empty folder) for no metadata: then every sample gets
            only its ``video_name`` (and the defaults of ``fields``, if given).
        samples: the input samples.
        fields: the schema; ``None`` reads ``schema.json``.

    Returns:
        ``{file_name: {field name: value, ..., "video_name": ...}}`` in the order of ``samples``.

    Raises:
        DataError: malformed JSON (file, line and column), a file for a sample that is not an
            input, a file whose ``type`` or ``file_name`` does not match its name, an unknown
            top-level key, a value of the wrong type.

    >>> from touchline.select.types import Sample
    >>> read_metadata(None, [Sample("seq/0.jpg", "/in/seq/0.jpg", "seq", 0)])
    {'seq/0.jpg': {'video_name': 'seq'}}
    """
    result: dict[str, dict[str, Any]] = {}
    root = None if metadata_dir is None else _open_root(metadata_dir)
    if root is not None and not (root.is_dir() and root.files()):
        root = None  # no folder, or an empty one: no metadata
    if root is not None and fields is None:
        fields = read_metadata_schema(root.given)
    fields = list(fields or [])
    for s in samples:
        result[s.file_name] = {f.name: f.default for f in fields}
    found_video: dict[str, dict[str, Any]] = {}
    found_own: dict[str, dict[str, Any]] = {}
    if root is not None:
        targets = _targets(samples)
        for rel in root.files():
            if rel == "schema.json":
                continue
            where = root.where(rel)
            hits = targets.get(rel)
            if not rel.endswith(".json"):
                raise DataError(
                    f"{where}: not a metadata file: metadata files are JSON files named after "
                    "their image, video or frame"
                )
            if not hits:
                raise _no_such_sample(where, rel, samples, "metadata")
            kinds = {(kind, name) for kind, name, _ in hits}
            if len(kinds) > 1:
                names = ", ".join(sorted(name for _, name in kinds))
                raise DataError(f"{where}: ambiguous: inputs {names} all have this metadata file")
            kind, name = kinds.pop()
            values = _read_file(root, rel, kind, name, fields)
            store = found_video if kind == "video" else found_own
            for _, _, s in hits:
                store[s.file_name] = values
    for s in samples:
        meta = result[s.file_name]
        meta.update(found_video.get(s.file_name, {}))
        meta.update(found_own.get(s.file_name, {}))
        if VIDEO_NAME not in found_video.get(s.file_name, {}) and VIDEO_NAME not in found_own.get(
            s.file_name, {}
        ):
            meta[VIDEO_NAME] = default_video_name(s)
    return result


def _read_file(
    root: Any, rel: str, kind: Kind, file_name: str, fields: Sequence[MetadataField]
) -> dict[str, Any]:
    """The values found in one metadata file (fields absent from it are left out)."""
    where = root.where(rel)
    raw = _read_json(root, rel)
    _exact_keys(raw, _FILE_KEYS, where, "a JSON object", "metadata files")
    if raw["type"] != kind:
        raise DataError(
            f"{where}: 'type' is {raw['type']!r} but this file holds the metadata of the {kind} "
            f"{file_name!r} (expected 'type': {kind!r})"
        )
    if raw["file_name"] != file_name:
        raise DataError(
            f"{where}: 'file_name' is {raw['file_name']!r} but this file holds the metadata of "
            f"{file_name!r}"
        )
    metadata = raw["metadata"]
    if not isinstance(metadata, dict):
        raise DataError(f"{where}: 'metadata' must be an object, got {type(metadata).__name__}")
    values: dict[str, Any] = {}
    for field in fields:
        found, value = field.lookup(metadata, where)
        if found:
            values[field.name] = value
    return values


def attach_metadata(
    samples: Sequence[Sample], metadata: Mapping[str, Mapping[str, Any]]
) -> list[Sample]:
    """Copies of ``samples`` whose ``metadata`` is their entry in ``metadata`` (by file_name).

    >>> s = attach_metadata([Sample("a.jpg", "a.jpg")], read_metadata(None, [Sample("a.jpg", "a.jpg")]))
    >>> s[0].metadata
    {'video_name': 'a.jpg'}
    """
    return [dataclasses.replace(s, metadata=dict(metadata.get(s.file_name, {}))) for s in samples]
