"""Atomic writes: an output file either appears whole or not at all.

A long run that is killed never leaves a half-written file behind under the final name, so
"the file exists" always means "the file is complete" (which is what makes runs resumable).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_json_atomic(d / "a.json", {"x": 1})
PosixPath('...a.json')
>>> (d / "a.json").read_text()
'{\\n  "x": 1\\n}\\n'
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "write_bytes_atomic", "write_json_atomic", "write_text_atomic"]


@contextmanager
def atomic_path(path: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    Use it with libraries that insist on writing to a path themselves (pyarrow, PyAV, cv2).
    The temporary name keeps the final suffix (``suffix`` overrides it), since some writers
    choose the format from the extension. On error the temporary file is removed and the
    previous content of ``path``, if any, is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.",
        suffix=".part" + (suffix if suffix is not None else path.suffix),
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp creates 0600; give the file the usual umask permissions
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (NaN is written as null) to ``path`` atomically."""
    text = json.dumps(_nan_to_none(obj), indent=indent, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj
