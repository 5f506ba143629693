"""Copy a trained ONNX model and its metadata into the package and record it in the manifest.

    python -m touchline.train.ship runs/calib/calib.onnx --name calib \\
        --command "python -m touchline.train.calib --out runs/calib"

Checks that the file is at most 25 MB and loads in onnxruntime, then writes
``src/touchline/models/<name>.onnx``, ``<name>.json`` and the manifest entry (size, SHA-256,
command) atomically.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from touchline.errors import DataError
from touchline.models import MANIFEST, MODELS_DIR, load_session, sha256
from touchline.utils.files import write_bytes_atomic, write_text_atomic

__all__ = ["MAX_BYTES", "ship"]

MAX_BYTES = 25 * 1024 * 1024


def ship(onnx_file: Path, name: str, command: str, models_dir: Path = MODELS_DIR) -> dict:
    """Install ``onnx_file`` (+ the ``.json`` beside it) as shipped model ``name``.

    A ``.json`` file instead of an ONNX one is a data model (e.g. a value surface): it must
    parse as a JSON object with ``values``, and it is its own metadata.
    """
    onnx_file = Path(onnx_file)
    size = onnx_file.stat().st_size
    if size > MAX_BYTES:
        raise DataError(f"{onnx_file}: {size / 1e6:.1f} MB is over the 25 MB limit for shipping")
    suffix = onnx_file.suffix.lower()
    if suffix == ".json":
        try:
            meta = json.loads(onnx_file.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(f"{onnx_file}: not readable JSON ({e})") from None
        if not isinstance(meta, dict) or "values" not in meta:
            raise DataError(f"{onnx_file}: a data model must be a JSON object with 'values'")
        meta["command"] = command
        target = models_dir / f"{name}.json"
        write_text_atomic(target, json.dumps(meta) + "\n")
    else:
        meta_file = onnx_file.with_suffix(".json")
        if not meta_file.is_file():
            raise DataError(f"{onnx_file}: metadata {meta_file.name} missing beside it")
        load_session(onnx_file, threads=1)  # must load
        meta = json.loads(meta_file.read_text())
        meta["command"] = command
        target = models_dir / f"{name}.onnx"
        write_bytes_atomic(target, onnx_file.read_bytes())
        write_text_atomic(models_dir / f"{name}.json", json.dumps(meta, indent=1) + "\n")
    manifest_file = models_dir / MANIFEST.name
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    manifest[name] = {
        "file": target.name,
        "bytes": target.stat().st_size,
        "sha256": sha256(target),
        "command": command,
    }
    write_text_atomic(manifest_file, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest[name]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Ship a trained ONNX model inside the package.")
    ap.add_argument("onnx", type=Path)
    ap.add_argument("--name", required=True)
    ap.add_argument("--command", required=True, help="the exact command that trained it")
    a = ap.parse_args(argv)
    print(json.dumps(ship(a.onnx, a.name, a.command), indent=1))


if __name__ == "__main__":
    main()
