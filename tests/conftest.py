"""Shared test helpers.

Tests that read ``../shared/data`` use the ``shared`` fixture: it returns the path, skips when the
data is absent on a developer machine, and FAILS when ``CI=true`` (CI always has the data beside it).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from touchline.data import shared_data_dir


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_shared(relative: str) -> Path:
    """Path of a shared-data file; fail under CI, skip elsewhere, when it is missing."""
    root = shared_data_dir()
    path = None if root is None else root / relative
    if path is None or not path.exists():
        msg = f"shared data file missing: ../shared/data/{relative}"
        if _in_ci():
            pytest.fail(msg + " (CI=true: shared data must be present)")
        pytest.skip(msg)
    return path


@pytest.fixture
def shared() -> Callable[[str], Path]:
    """``shared("video/dfl_08fd33_4.mp4")`` -> Path, failing under CI when absent."""
    return require_shared


def require_module(name: str) -> Any:
    """Import a reference package of the dev set-up; fail under CI, skip elsewhere, if absent."""
    try:
        return importlib.import_module(name)
    except ImportError:
        msg = f"reference package {name!r} is not installed (make test installs it)"
        if _in_ci():
            pytest.fail(msg + " (CI=true)")
        pytest.skip(msg)


@pytest.fixture
def reference() -> Callable[[str], Any]:
    """``reference("motmetrics")`` -> the module, failing under CI when it is missing."""
    return require_module


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these, Chromium keeps calling Google's hosts, which this network refuses
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., Any]:
    """``chromium("--dump-dom", url)`` -> CompletedProcess of headless Chromium (Debian's
    package, which ``make test`` installs); fails under CI, skips elsewhere, when missing."""
    import shutil
    import subprocess

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "chromium is missing (make test installs Debian's chromium package)"
        if _in_ci():
            pytest.fail(msg)
        pytest.skip(msg)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180)

    return run
