"""The contracts the pipeline composes: what a detector, a calibrator and a tracker must do.

Any object with these methods plugs into :class:`touchline.jobs.FootballTracker` (structural
typing: no base class needed). The shipped implementations are
:class:`touchline.detect.Detector` (and any :class:`~touchline.detect.BaseDetector`),
:class:`touchline.calib.CalibrationStream` (online, over a :class:`~touchline.calib.Calibrator`)
or :class:`touchline.calib.CameraMotionOnly` (image space: cuts and camera motion, no pitch), and
:class:`touchline.track.Tracker`.

>>> import numpy as np
>>> from touchline.types import Detections
>>> class Nothing:
...     def detect(self, image: np.ndarray) -> Detections:
...         return Detections.empty()
>>> isinstance(Nothing(), Detector)
True
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from touchline.types import Calibration, Detections

__all__ = ["Calibrator", "CameraStep", "Detector", "Tracker"]


@runtime_checkable
class Detector(Protocol):
    """Objects in one BGR frame: ``detect(image) -> Detections`` in the frame's pixels."""

    def detect(self, image: np.ndarray) -> Detections: ...


class CameraStep(Protocol):
    """What an online calibrator says about one frame."""

    @property
    def calibration(self) -> Calibration:
        """The frame's camera (``cut`` set on the first frame of a new shot)."""
        ...

    @property
    def motion(self) -> NDArray[np.float64] | None:
        """Image -> image homography from the previous frame (``None`` when unknown)."""
        ...


@runtime_checkable
class Calibrator(Protocol):
    """Online camera calibration, one frame at a time, with temporal context.

    ``update(image)`` calibrates the next frame of the clip; ``reset()`` starts a new clip.
    """

    def update(self, image: NDArray[np.uint8]) -> CameraStep: ...

    def reset(self) -> None: ...


@runtime_checkable
class Tracker(Protocol):
    """Online multi-object tracking: detections of one frame in, tracked detections out.

    ``update`` gets the frame's calibration (track in pitch metres when valid), the image (for
    appearance) and the camera ``motion`` from the previous frame when the caller knows it.
    """

    def update(
        self,
        detections: Detections,
        calibration: Calibration | None = None,
        frame: NDArray[np.uint8] | None = None,
        *,
        motion: NDArray[np.float64] | None = None,
    ) -> Detections: ...

    def reset(self) -> None: ...
