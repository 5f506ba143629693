"""The pipelines: decode, run the stages, write outputs, checkpoints and summaries.

:class:`FootballTracker` is the one video-to-tracks pipeline; the job modules
(:mod:`~touchline.jobs.calibrate`, :mod:`~touchline.jobs.detect`, :mod:`~touchline.jobs.track`,
:mod:`~touchline.jobs.analyze`, :mod:`~touchline.jobs.select`, :mod:`~touchline.jobs.demo`) are
what the CLI commands run, each usable from Python with the same result.
"""

from touchline.jobs.pipeline import FootballTracker, FrameTracks, Measurement, TrackCollector

__all__ = ["FootballTracker", "FrameTracks", "Measurement", "TrackCollector"]
