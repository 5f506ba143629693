"""Projective geometry of the pitch and the broadcast camera: the bottom layer of calibration.

Homogeneous lines (:mod:`~touchline.geometry.lines`), conics (:mod:`~touchline.geometry.conic`),
the pinhole camera (:mod:`~touchline.geometry.camera`) and the 7-parameter camera fit to points,
lines and circles (:mod:`~touchline.geometry.camera_fit`). Depends on numpy and
:mod:`touchline.errors` only.

>>> import numpy as np
>>> from touchline.geometry import PinholeCamera, map_line
>>> cam = PinholeCamera.look_at((52.5, 108.0, -25.0), (52.5, 34.0, 0.0), focal=1400.0,
...                             image_size=(1280, 720))
>>> halfway = map_line([1.0, 0.0, -52.5], cam.pitch_to_image)  # the image line x = 640
>>> bool(np.allclose(halfway / halfway[0], [1.0, 0.0, -640.0]))
True
"""

from __future__ import annotations

from touchline.geometry.camera import (
    PinholeCamera,
    camera_angles,
    camera_from_angles,
    camera_from_homography,
    camera_from_params,
    camera_to_params,
)
from touchline.geometry.camera_fit import (
    CameraFit,
    CameraPrior,
    ConicObs,
    LineObs,
    PointObs,
    fit_camera,
    fit_camera_multi,
)
from touchline.geometry.conic import (
    circle_conic,
    conic_center,
    conic_line_intersection,
    fit_conic,
    is_ellipse,
    map_conic,
    normalise_conic,
    sample_conic,
    sampson_distance,
    tangent_at,
)
from touchline.geometry.lines import (
    fit_line,
    intersect_lines,
    line_through,
    map_line,
    normalise_line,
    point_line_distance,
    ransac_line,
)

__all__ = [
    "CameraFit",
    "CameraPrior",
    "ConicObs",
    "LineObs",
    "PinholeCamera",
    "PointObs",
    "camera_angles",
    "camera_from_angles",
    "camera_from_homography",
    "camera_from_params",
    "camera_to_params",
    "circle_conic",
    "conic_center",
    "conic_line_intersection",
    "fit_camera",
    "fit_camera_multi",
    "fit_conic",
    "fit_line",
    "intersect_lines",
    "is_ellipse",
    "line_through",
    "map_conic",
    "map_line",
    "normalise_conic",
    "normalise_line",
    "point_line_distance",
    "ransac_line",
    "sample_conic",
    "sampson_distance",
    "tangent_at",
]
