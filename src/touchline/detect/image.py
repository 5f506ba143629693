"""Input checks shared by every detector: one BGR ``uint8`` image, or a clear error.

Example:
    >>> import numpy as np
    >>> as_bgr(np.zeros((97, 333), np.uint8)).shape
    (97, 333, 3)
    >>> as_bgr(np.zeros((0, 10, 3), np.uint8))
    Traceback (most recent call last):
    ...
    touchline.errors.DataError: image: empty image of shape (0, 10, 3)
"""

from __future__ import annotations

import cv2
import numpy as np

from touchline.errors import DataError

__all__ = ["as_bgr"]


def as_bgr(image: np.ndarray, where: str = "image") -> np.ndarray:
    """A ``(h, w, 3)`` BGR ``uint8`` view or copy of ``image``.

    Grayscale ``(h, w)`` / ``(h, w, 1)`` images are expanded to three channels, BGRA drops its
    alpha; float images in 0..1 or 0..255 and 16-bit images are converted.

    Raises:
        DataError: not an array, an empty image, or an unsupported number of channels.
    """
    if not isinstance(image, np.ndarray):
        raise DataError(f"{where}: expected a numpy image array, got {type(image).__name__}")
    if image.ndim not in (2, 3) or image.size == 0 or min(image.shape[:2]) == 0:
        raise DataError(f"{where}: empty image of shape {image.shape}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise DataError(
            f"{where}: expected 1, 3 or 4 channels, got shape {image.shape} "
            "(pass images as (height, width, channels))"
        )
    img = image
    if img.dtype != np.uint8:
        if img.dtype.kind == "f":
            if not np.isfinite(img).all():
                raise DataError(f"{where}: the float image has NaN or infinite pixels")
            scale = 255.0 if float(img.max(initial=0.0)) <= 1.0 else 1.0
            img = np.clip(img * scale, 0, 255).astype(np.uint8)
        elif img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        elif img.dtype == np.bool_ or img.dtype.kind in "iu":
            img = np.clip(img, 0, 255).astype(np.uint8)
        else:
            raise DataError(f"{where}: unsupported pixel type {img.dtype}")
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img
