"""Resumable runs: a folder of partial results kept only while its key still holds.

A job computes a key from everything that changes its result (:func:`fingerprint`: inputs,
settings, models; :func:`file_identity` for source files), opens a :class:`Checkpoint` on its
partial folder with it, and saves pieces atomically as it goes. Opening with another key
empties the folder first, so a rerun never mixes results of different inputs or settings.

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp()) / ".partial"
>>> ck = Checkpoint(folder, fingerprint({"threshold": 0.3}))
>>> _ = ck.write_json("progress.json", {"done": 10})
>>> Checkpoint(folder, fingerprint({"threshold": 0.3})).read_json("progress.json")
{'done': 10}
>>> Checkpoint(folder, fingerprint({"threshold": 0.5})).read_json("progress.json") is None
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from touchline.utils.files import write_bytes_atomic, write_json_atomic

__all__ = ["Checkpoint", "file_identity", "fingerprint"]

_KEY_FILE = "key.json"


def fingerprint(*parts: Any) -> str:
    """A short hash of ``parts``: arrays by their bytes, shape and dtype, dataclasses by their
    fields, everything else as sorted JSON (``str`` for what JSON cannot hold).

    >>> fingerprint(np.arange(3), {"a": 1}) == fingerprint(np.arange(3), {"a": 1})
    True
    >>> fingerprint(np.arange(3)) == fingerprint(np.arange(3.0))
    False
    """
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            a = np.ascontiguousarray(p)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.astype(str).tobytes() if a.dtype == object else a.tobytes())
        elif isinstance(p, list | tuple) and any(isinstance(x, np.ndarray) for x in p):
            h.update(fingerprint(*p).encode())
        else:
            if dataclasses.is_dataclass(p) and not isinstance(p, type):
                p = {"type": type(p).__name__} | dataclasses.asdict(p)
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def file_identity(path: str | Path) -> list[Any]:
    """What identifies a source file's content cheaply: resolved path, size, modification time."""
    p = Path(path).resolve()
    st = p.stat()
    return [str(p), st.st_size, st.st_mtime_ns]


class Checkpoint:
    """The partial folder of a run, emptied when ``key`` differs from the one saved there."""

    def __init__(self, folder: str | Path, key: str) -> None:
        self.folder = Path(folder)
        self.key = key
        saved = self.read_json(_KEY_FILE)
        if not (isinstance(saved, dict) and saved.get("key") == key):
            self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.folder / _KEY_FILE, {"key": key})

    def path(self, name: str) -> Path:
        """Where the piece ``name`` lives (it may not exist yet)."""
        return self.folder / name

    def has(self, name: str) -> bool:
        return self.path(name).is_file()

    def pieces(self, pattern: str = "*") -> list[Path]:
        """Saved pieces matching ``pattern``, sorted by name (the key file excluded)."""
        return sorted(p for p in self.folder.glob(pattern) if p.name != _KEY_FILE)

    def write_bytes(self, name: str, data: bytes) -> Path:
        return write_bytes_atomic(self.path(name), data)

    def write_json(self, name: str, obj: Any) -> Path:
        return write_json_atomic(self.path(name), obj)

    def read_json(self, name: str) -> Any:
        """A saved JSON piece, or ``None`` when it is missing or unreadable."""
        try:
            return json.loads(self.path(name).read_text())
        except (OSError, ValueError):
            return None

    def clear(self) -> None:
        """Remove the folder (a finished run leaves nothing to resume)."""
        shutil.rmtree(self.folder, ignore_errors=True)
