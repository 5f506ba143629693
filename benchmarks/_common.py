"""Shared helpers of the benchmark scripts: where and how a number was measured."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from typing import Any

import av
import cv2
import numpy as np

import touchline


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
