"""Touchline: soccer video to tracking data and insight, on a CPU.

>>> import touchline
>>> touchline.__version__ >= "0.1"
True
"""

from touchline.errors import TouchlineError

__version__ = "0.1.0"

__all__ = ["TouchlineError", "__version__"]
