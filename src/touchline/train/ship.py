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
    """Install ``onnx_file`` (+ the ``.json`` beside it) as shipped model ``name``."""
    onnx_file = Path(onnx_file)
    meta_file = onnx_file.with_suffix(".json")
    size = onnx_file.stat().st_size
    if size > MAX_BYTES:
        raise DataError(f"{onnx_file}: {size / 1e6:.1f} MB is over the 25 MB limit for shipping")
    if not meta_file.is_file():
        raise DataError(f"{onnx_file}: metadata {meta_file.name} missing beside it")
    load_session(onnx_file, threads=1)  # must load
    meta = json.loads(meta_file.read_text())
    meta["command"] = command
    write_bytes_atomic(models_dir / f"{name}.onnx", onnx_file.read_bytes())
    write_text_atomic(models_dir / f"{name}.json", json.dumps(meta, indent=1) + "\n")
    manifest_file = models_dir / MANIFEST.name
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    manifest[name] = {
        "file": f"{name}.onnx",
        "bytes": size,
        "sha256": sha256(models_dir / f"{name}.onnx"),
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
