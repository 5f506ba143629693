"""Camera-to-pitch calibration: keypoint model, homographies, fusion, tracking over time.

>>> from touchline.calib import Calibrator
>>> import numpy as np
>>> Calibrator().calibrate(np.zeros((360, 640, 3), np.uint8)).status.value
'no_pitch'
"""

from touchline.calib.calibrator import CalibrationResult, Calibrator, CalibratorConfig
from touchline.calib.model import KeypointModel, KeypointPrediction
from touchline.calib.stream import CalibrationStream, CameraMotionOnly

__all__ = [
    "CalibrationResult",
    "CalibrationStream",
    "Calibrator",
    "CalibratorConfig",
    "CameraMotionOnly",
    "KeypointModel",
    "KeypointPrediction",
]
