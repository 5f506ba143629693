"""Shipped model weights: ONNX files inside the package, checked against a manifest of SHA-256s.

``manifest.json`` lists every shipped model: its file, size, checksum and the command that made
it. Data models (the ``xt`` value surface) are JSON files that are their own metadata. :func:`load_session` verifies the checksum before onnxruntime opens the file, so a truncated
or swapped file fails with a clear error instead of wrong numbers. Nothing is ever downloaded.

>>> sorted(available())
['calib', 'detect', 'embed', 'xt']
>>> path = model_path("calib")
>>> path.suffix
'.onnx'
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from touchline.errors import DataError

__all__ = [
    "ModelInfo",
    "available",
    "load_model",
    "load_session",
    "model_info",
    "model_path",
    "sha256",
    "verify",
]

MODELS_DIR = Path(__file__).resolve().parent
MANIFEST = MODELS_DIR / "manifest.json"


@dataclass(frozen=True)
class ModelInfo:
    """A manifest entry: the ONNX file, its SHA-256, and the model's own metadata."""

    name: str
    path: Path
    sha256: str
    bytes: int
    command: str
    meta: dict[str, Any]


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(MANIFEST.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{MANIFEST}: cannot read the model manifest ({e})") from None
    return data


def available() -> list[str]:
    """Names of the shipped models."""
    return list(_manifest())


def model_info(name: str) -> ModelInfo:
    """Manifest entry and metadata (the ``.json`` next to the ``.onnx``) of a shipped model."""
    man = _manifest()
    if name not in man:
        raise DataError(f"{MANIFEST}: no model named {name!r}; shipped: {sorted(man)}")
    e = man[name]
    path = MODELS_DIR / e["file"]
    meta_file = path.with_suffix(".json")
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{meta_file}: cannot read the model metadata ({err})") from None
    return ModelInfo(name, path, e["sha256"], int(e["bytes"]), e.get("command", ""), meta)


def model_path(name: str) -> Path:
    """Path of a shipped model's ONNX file (not verified; see :func:`verify`)."""
    return model_info(name).path


@cache
def _verified(path: str, size: int, digest: str) -> bool:
    # Cached per (path, size, checksum): hashing a 3 MB file costs ~10 ms, once per process.
    return sha256(path) == digest


def verify(name_or_path: str | Path, expected: str | None = None) -> Path:
    """Check a model file against its manifest checksum; return its path.

    Raises ``DataError`` naming the file when it is missing, has the wrong size or checksum.
    """
    if expected is None:
        info = model_info(str(name_or_path))
        path, expected, size = info.path, info.sha256, info.bytes
    else:
        path, size = Path(name_or_path), -1
    if not path.is_file():
        raise DataError(f"{path}: model file missing (reinstall touchline)")
    actual_size = path.stat().st_size
    if size >= 0 and actual_size != size:
        raise DataError(
            f"{path}: model file has {actual_size} bytes, the manifest says {size} "
            "(truncated or replaced; reinstall touchline)"
        )
    if not _verified(str(path), actual_size, expected):
        raise DataError(f"{path}: checksum mismatch (corrupt or replaced; reinstall touchline)")
    return path


def load_session(name_or_path: str | Path, threads: int | None = None) -> Any:
    """An onnxruntime ``InferenceSession`` on the CPU for a shipped model name or any ONNX path.

    A ``Path``, or a string with a suffix or a folder in it, is a file; any other string names
    a shipped model, which is verified first. ``threads`` defaults to the number of CPU cores
    (at most 4); pass 1 when running several sessions in parallel processes.
    """
    import onnxruntime as ort

    p = Path(name_or_path)
    is_file = isinstance(name_or_path, Path) or bool(p.suffix) or len(p.parts) > 1
    if not is_file:
        p = verify(str(name_or_path))
    elif not p.is_file():
        raise DataError(f"{p}: ONNX model file not found")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(p), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise DataError(f"{p}: not a loadable ONNX model ({e})") from None


def load_model(
    name: str, path: str | Path | None = None, threads: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """Session and metadata of the shipped model ``name``, or of an ONNX file at ``path``.

    A file given by path needs its metadata (the ``.json`` written by training) beside it.
    """
    if path is None:
        return load_session(name, threads), model_info(name).meta
    p = Path(path)
    session = load_session(p, threads)
    meta_file = p.with_suffix(".json")
    if not meta_file.is_file():
        raise DataError(f"{p}: needs its metadata file {meta_file.name} beside it")
    try:
        meta: dict[str, Any] = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{meta_file}: cannot read the model metadata ({e})") from None
    return session, meta
