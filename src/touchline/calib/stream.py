"""Online calibration, one frame at a time: the :class:`touchline.protocols.Calibrator` contract.

* :class:`CalibrationStream`: a :class:`~touchline.calib.Calibrator` fed frame by frame, with
  its temporal context (camera carried by the measured motion, cuts, propagation);
* :class:`CameraMotionOnly`: no pitch, only the camera motion and cuts (tracking in image
  space).

>>> import numpy as np
>>> from touchline.protocols import Calibrator
>>> cam = CameraMotionOnly()
>>> isinstance(cam, Calibrator), cam.update(np.zeros((90, 160, 3), np.uint8)).calibration.status.value
(True, 'failed')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from touchline.calib.calibrator import CalibrationResult, Calibrator
from touchline.calib.motion import CutDetector
from touchline.types import Calibration, CalibrationStatus

__all__ = ["CalibrationStream", "CameraMotionOnly"]


class _Feed:
    """An iterator fed one item at a time, so a streaming generator can be driven per frame."""

    def __init__(self) -> None:
        self.item: NDArray[np.uint8] | None = None

    def __iter__(self) -> Iterator[NDArray[np.uint8]]:
        while self.item is not None:
            item, self.item = self.item, None
            yield item


class CalibrationStream:
    """:meth:`Calibrator.calibrate_frames` driven one frame at a time (``update``/``reset``).

    Args:
        calibrator: the calibrator (default: the shipped model).
    """

    def __init__(self, calibrator: Calibrator | None = None) -> None:
        self.calibrator = calibrator or Calibrator()
        self.reset()

    def reset(self) -> None:
        """Start a new clip: forget the camera history."""
        self._feed = _Feed()
        self._stream = iter(self.calibrator.calibrate_frames(self._feed, prefetch=0))

    def update(self, image: NDArray[np.uint8]) -> CalibrationResult:
        """Calibrate the next frame (BGR) of the clip."""
        self._feed.item = image
        return next(self._stream)


class CameraMotionOnly:
    """No calibration: every frame ``failed`` with its ``cut`` flag and the camera motion
    from the previous frame, for tracking in image space."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._cuts = CutDetector()

    def update(self, image: NDArray[np.uint8]) -> CalibrationResult:
        cut = self._cuts.update(image)
        last = self._cuts.last
        motion = None if cut or last is None else last.motion.G
        h, w = image.shape[:2]
        cal = replace(
            Calibration.uncalibrated(CalibrationStatus.FAILED, image_size=(w, h)), cut=cut
        )
        return CalibrationResult(cal, "none", 0.0, 0, 0.0, motion=motion)
