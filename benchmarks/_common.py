"""Shared helpers of the benchmark scripts: where and how a number was measured."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

import touchline
from touchline.data import shared_data_dir
from touchline.errors import DataError
from touchline.models import model_info
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity(0)) if affinity else os.cpu_count(),
        "python": platform.python_version(),
        "touchline": touchline.__version__,
        "av": av.__version__,
        "ffmpeg_libavcodec": ".".join(map(str, av.library_versions.get("libavcodec", ()))),
        "numpy": np.__version__,
        "cv2": cv2.__version__,
    }


def header(name: str) -> dict[str, Any]:
    """The common head of every result file: benchmark name, exact command, time, machine."""
    return {
        "benchmark": name,
        "command": shlex.join(sys.orig_argv),
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }


def shared_root() -> Path:
    """``../shared/data`` (or ``TOUCHLINE_SHARED_DATA``), or a clear error."""
    root = shared_data_dir()
    if root is None:
        raise DataError("../shared/data not found (set TOUCHLINE_SHARED_DATA)")
    return root


def model_header(name: str) -> dict[str, Any]:
    """File, checksum and training command of a shipped model, for a result file."""
    info = model_info(name)
    return {"file": info.path.name, "sha256": info.sha256, "command": info.command}


def run_splits(
    name: str,
    doc: str,
    model: str,
    dataset: str,
    evaluator: Callable[[], Callable[[Path], dict[str, Any]]],
    brief: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """The ``main`` of an accuracy benchmark of a shipped model on labelled splits.

    Command line ``[--splits test valid] [--out results/NAME.json]`` (``doc``'s first line is
    the description). ``evaluator()`` loads the model (after the arguments are parsed) and
    returns the evaluation of one split folder ``../shared/data/DATASET/SPLIT`` as a JSON
    document; ``brief`` picks what is printed of it. Written: the :func:`header`, the
    :func:`model_header` of ``model`` and ``splits`` (split -> its document).
    """
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--splits", nargs="+", default=["test", "valid"])
    ap.add_argument("--out", type=Path, default=RESULTS / f"{name}.json")
    a = ap.parse_args()
    root = shared_root()
    evaluate = evaluator()
    out = header(name) | {"model": model_header(model), "splits": {}}
    for split in a.splits:
        res = evaluate(root / dataset / split)
        out["splits"][split] = res
        print(split, json.dumps(brief(res)))
    write_json_atomic(a.out, out)


def dfl_frames_720p(n: int) -> list[np.ndarray]:
    """The first ``n`` frames of the real DFL clip (848x478), enlarged to 1280x720."""
    clip = shared_root() / "video" / "dfl_08fd33_4.mp4"
    if not clip.is_file():
        raise DataError(f"{clip} not found")
    return [
        cv2.resize(f.image, (1280, 720), interpolation=cv2.INTER_LINEAR)
        for f in VideoReader(clip, stop=n)
    ]


#: The last commit before issue 16 (calibration that generalises): its code and its shipped
#: calibration model are "before" in the side-by-side benchmarks.
BASELINE_COMMIT = "fe7bc5a"


def baseline_tree(commit: str = BASELINE_COMMIT) -> Path:
    """An export of an earlier commit's ``src`` (``git archive``, cached under the temp dir), so
    that its code and shipped models run side by side with today's."""
    import subprocess
    import tarfile
    import tempfile

    root = Path(__file__).resolve().parents[1]
    full = subprocess.run(
        ["git", "-C", str(root), "rev-parse", f"{commit}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = Path(tempfile.gettempdir()) / f"touchline-baseline-{full[:12]}"
    if not (path / "src" / "touchline" / "__init__.py").is_file():
        tmp = path.with_suffix(".part")
        tmp.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", full, "src"],
            check=True,
            capture_output=True,
        ).stdout
        import io

        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        tmp.replace(path)
    return path


#: The last commit before issue 18's detector (self-trained on other broadcasts): its shipped
#: detector is "before" in the detection benchmarks.
DETECT_BASELINE_COMMIT = "1d6a589"


def baseline_model(name: str, commit: str) -> Path:
    """The ONNX file of shipped model ``name`` at ``commit`` (its ``.json`` beside it)."""
    return baseline_tree(commit) / "src" / "touchline" / "models" / f"{name}.onnx"


def run_baseline(code: str, commit: str = BASELINE_COMMIT, timeout: float = 3600) -> Any:
    """Run Python ``code`` with the baseline commit's package imported instead of today's and
    return the JSON document it prints on its last line of output."""
    import json
    import subprocess

    tree = baseline_tree(commit)
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=timeout,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
