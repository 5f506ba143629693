"""The records frame selection works on: samples (frames of videos, images) and their naming.

A **sample** is one image to select: a frame of a video, an image file, or an image in a folder
of frames. Its ``file_name`` is the name the Lightly Worker gives it, which is also the stem of
its prediction and metadata files:

* a frame of a video ``match.mp4`` with ``N`` frames: ``match-{frame:0{d}d}-mp4.png`` where
  ``d`` is the number of digits of ``N`` (Lightly's rule: 200 frames give 3 digits, 1000 give
  4), e.g. ``match-053-mp4.png`` for a 300-frame video;
* an image: its path relative to the input folder, with ``/`` separators
  (``seq_a/000123.jpg``).

>>> video_frame_name("match.mp4", 53, 300)
'match-053-mp4.png'
>>> parse_video_frame_name("match-053-mp4.png")
('match', 53, 'mp4')
>>> parse_video_frame_name("seq_a/000123.jpg") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

__all__ = ["Sample", "parse_video_frame_name", "video_frame_name"]

_VIDEO_FRAME = re.compile(r"^(?P<video>.+)-(?P<frame>\d+)-(?P<ext>[A-Za-z0-9]+)\.png$")


def video_frame_name(video: str, frame: int, n_frames: int) -> str:
    """Lightly's file name of frame ``frame`` of ``video`` (a file name with its extension)."""
    p = PurePosixPath(video)
    digits = len(str(max(int(n_frames), 1)))
    return f"{p.stem}-{int(frame):0{digits}d}-{p.suffix.lstrip('.')}.png"


def parse_video_frame_name(name: str) -> tuple[str, int, str] | None:
    """``(video stem, frame, extension)`` of a Lightly video-frame name, else ``None``."""
    m = _VIDEO_FRAME.match(PurePosixPath(name).name if "/" not in name else name)
    if m is None:
        return None
    return m.group("video"), int(m.group("frame")), m.group("ext")


@dataclass(frozen=True)
class Sample:
    """One image to select from.

    Attributes:
        file_name: Lightly's name (see the module docstring); unique within a run.
        source: path or URL of the file holding it (the video, or the image).
        video: the video name (a video's file name, or a frame folder's name) or ``None``.
        frame: frame index within the video (or the image's index within its folder), or
            ``None``.
        metadata: custom metadata (e.g. ``{"video_name": "match.mp4"}``).
    """

    file_name: str
    source: str
    video: str | None = None
    frame: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)
