"""Where the real data lives: ``../shared/data`` beside the project, or ``$TOUCHLINE_SHARED_DATA``.

Nothing is ever downloaded. Functions here only locate files; callers decide what to do when a
file is absent (the synthetic renderer falls back to built-in defaults, tests fail under CI).

>>> from touchline.data import shared_data_dir
>>> p = shared_data_dir()
>>> p is None or p.is_dir()
True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CALIBRATION_TRAINING_SETS",
    "DETECTOR_PSEUDO_SOURCES",
    "ENV_VAR",
    "shared_data_dir",
    "shared_file",
]

ENV_VAR = "TOUCHLINE_SHARED_DATA"

#: The labelled pitch-keypoint sets (under ``pitch_keypoints/``) that calibration training may
#: read, for labels or for real stands and score bugs. Every other set is for evaluation only.
CALIBRATION_TRAINING_SETS: tuple[str, ...] = (
    "dfl/train",
    "wc2022/japan_spain",
    "wc2022/canada_morocco",
)

#: The unlabelled broadcasts (under the shared data folder) whose pseudo-labels the detector
#: may train on: sequences (confirmed by tracking) and stills. ``frames/leicester_liverpool_512``
#: and ``pitch_keypoints/wc2022/argentina_france`` are evaluation only.
DETECTOR_PSEUDO_SOURCES: tuple[str, ...] = (
    "frames/india_thailand_512",
    "frames/chelsea_arsenal_512",
    "pitch_keypoints/wc2022/japan_spain/images",
    "pitch_keypoints/wc2022/canada_morocco/images",
)


def _candidates() -> list[Path]:
    env = os.environ.get(ENV_VAR)
    if env:  # an explicit choice: no silent fallback to another folder
        return [Path(env)]
    out: list[Path] = []
    out.append(Path.cwd() / ".." / "shared" / "data")
    # An editable install: src/touchline/data.py -> project root is three levels up.
    out.append(Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
    return out


def shared_data_dir() -> Path | None:
    """The shared data folder, or ``None`` when it is not on this machine.

    When ``$TOUCHLINE_SHARED_DATA`` is set it is the only candidate (``None`` if it does not
    exist); otherwise ``../shared/data`` relative to the working directory, then relative to the
    project root of an editable install.
    """
    for c in _candidates():
        if c.is_dir():
            return c.resolve()
    return None


def shared_file(relative: str | Path) -> Path | None:
    """A file under the shared data folder, or ``None`` when the folder or the file is absent.

    >>> shared_file("no/such/file.bin") is None
    True
    """
    root = shared_data_dir()
    if root is None:
        return None
    p = root / relative
    return p if p.exists() else None
