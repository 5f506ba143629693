"""Reading a synthetic clip's ground truth back as Touchline types.

>>> import tempfile
>>> from touchline.synth.clip import SynthConfig, synthesize
>>> clip = synthesize(SynthConfig(seconds=0.2, fps=10, size=(320, 180), camera="builtin"),
...                   tempfile.mkdtemp())
>>> gt = GroundTruth.read(clip.out_dir)
>>> len(gt), gt.calibration(0).is_valid
(2, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from touchline.errors import DataError
from touchline.types import CLASS_NAMES, Calibration, CalibrationStatus, Detections

__all__ = ["GroundTruth"]


@dataclass(frozen=True)
class GroundTruth:
    """The ``ground_truth.json`` of a synthetic clip (see :mod:`touchline.synth.clip`)."""

    path: Path
    meta: dict[str, Any]
    frames: list[dict[str, Any]]

    @classmethod
    def read(cls, path: str | Path) -> GroundTruth:
        """Read from a clip folder or its ``ground_truth.json``; errors name the file."""
        p = Path(path)
        if p.is_dir():
            p = p / "ground_truth.json"
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise DataError(f"{p}: no such ground-truth file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise DataError(f"{p}: not a readable ground-truth JSON ({e})") from e
        if not isinstance(data, dict) or data.get("format") != "touchline-synth/1":
            raise DataError(f"{p}: not a touchline synth ground truth (format key missing)")
        frames = data.pop("frames")
        return cls(p, data, frames)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def image_size(self) -> tuple[int, int]:
        return (int(self.meta["width"]), int(self.meta["height"]))

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    def calibration(self, k: int) -> Calibration:
        """The exact camera of frame ``k`` as a :class:`~touchline.types.Calibration`."""
        return Calibration(
            homography=np.asarray(self.frames[k]["homography"], dtype=np.float64),
            confidence=1.0,
            status=CalibrationStatus.OK,
            image_size=self.image_size,
        )

    def detections(self, k: int) -> Detections:
        """The visible objects of frame ``k`` with ids, teams and pitch positions."""
        objs = self.frames[k]["objects"]
        if not objs:
            return Detections.empty()
        return Detections(
            xyxy=np.array([o["box"] for o in objs], dtype=np.float32),
            confidence=np.ones(len(objs), np.float32),
            class_id=np.array([CLASS_NAMES.index(o["class"]) for o in objs]),
            tracker_id=np.array([o["id"] for o in objs]),
            data={
                "team": np.array([o["team"] for o in objs], dtype=np.int64),
                "pitch_xy": np.array([o["pitch"] for o in objs], dtype=np.float64),
                "visibility": np.array([o["visibility"] for o in objs], dtype=np.float32),
            },
        )
