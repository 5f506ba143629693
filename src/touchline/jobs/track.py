"""The ``touchline track`` job: a video in; tracks, videos and a summary out.

Writes into ``out_dir``:

* ``tracks.parquet`` and ``tracks.csv`` (+ ``tracks.csv.meta.json``): the tracks table
  (:mod:`touchline.tracks`: frame, time, track id, class, team, box, image foot point, pitch
  x/y, confidences) plus the columns ``predicted`` (the tracker's coasting position while the
  detector missed the object) and ``interpolated`` (filled afterwards between two sightings);
* ``annotated.mp4``: the video with boxes and ids in team colours and a radar inset;
* ``radar.mp4``: the top-down pitch with every tracked object and the camera's view;
* ``homographies.npz``: the camera calibration of every frame (as ``touchline calibrate``);
* ``summary.json``: counts, teams, calibration and speed.

Two passes. The first decodes each frame once and runs detection, calibration and appearance
(:meth:`FootballTracker.measure`, the expensive half), then the tracker and the team votes.
Every ``checkpoint_every`` frames the measurements so far are saved under ``.track-partial/``;
a killed run started again with the same source resumes there: the saved measurements are
replayed through the (cheap) tracker, and only the rest of the video is measured. Then the
table is finished by :meth:`FootballTracker.finished` with the tracker's ``finish`` settings
(the same table as ``FootballTracker()(video)`` in Python) and written. The second pass decodes again and renders the two videos from the final table.
Memory stays bounded by the table itself: frames are never kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from touchline.errors import DataError
from touchline.jobs.calibrate import calibration_npz
from touchline.jobs.detect import detector_key
from touchline.jobs.pipeline import FootballTracker, Measurement, TrackCollector
from touchline.tracks import Tracks
from touchline.types import Calibration, CalibrationStatus, Detections
from touchline.utils.checkpoint import Checkpoint, file_identity, fingerprint
from touchline.utils.files import write_bytes_atomic, write_json_atomic
from touchline.utils.results import JsonResult

__all__ = ["TrackResult", "track_video"]

Progress = Callable[[str, int, int], None]
PARTIAL = ".track-partial"
_STATUSES = [s.value for s in CalibrationStatus]
_DETECTION_KEYS = ("xyxy", "confidence", "class_id", "embedding")  # Detections.to_columns


@dataclass(frozen=True)
class TrackResult(JsonResult):
    """What :func:`track_video` did (``summary.json``): counts of people (by class, by team),
    ball and calibrated frames, cut frames, seconds per stage and speed."""

    source: str
    out: str
    frames: int
    resumed_frames: int
    image_size: tuple[int, int]
    fps_video: float
    rows: int
    tracks: int
    tracks_by_class: dict[str, int]
    players_per_frame: float
    teams: dict[str, int]
    ball_frames: int
    calibrated_frames: int
    cuts: list[int]
    interpolated_rows: int
    predicted_rows: int
    seconds: dict[str, float]  # total, track_pass, render_pass and the tracker's stages
    fps: float | None
    files: list[str]


# --------------------------------------------------------------------------------------------
# Checkpoints: the measurements of a run of frames, in one npz per chunk
# --------------------------------------------------------------------------------------------
def _chunk_bytes(frames: list[tuple[int, float, Measurement]]) -> bytes:
    import io

    dets = [m.detections for _, _, m in frames]
    dim = next((d.embedding.shape[1] for d in dets if d.embedding is not None and len(d)), 0)
    fill = {"confidence": 1.0, "class_id": 0, "embedding": np.zeros(dim)}
    columns: dict[str, Any] = Detections.concat_columns(dets, _DETECTION_KEYS, fill)
    H = np.full((len(frames), 3, 3), np.nan)
    G = np.full((len(frames), 3, 3), np.nan)
    for i, (_, _, m) in enumerate(frames):
        if m.calibration.homography is not None:
            H[i] = m.calibration.homography
        if m.motion is not None:
            G[i] = m.motion
    buf = io.BytesIO()
    np.savez(
        buf,
        frame=np.array([f for f, _, _ in frames], np.int64),
        time=np.array([t for _, t, _ in frames], np.float64),
        n_det=np.array([len(d) for d in dets], np.int64),
        **columns,
        H=H,
        calib_confidence=np.array([m.calibration.confidence for _, _, m in frames]),
        status=np.array([_STATUSES.index(m.calibration.status.value) for _, _, m in frames]),
        cut=np.array([m.calibration.cut for _, _, m in frames]),
        image_size=np.array(
            [m.calibration.image_size or (0, 0) for _, _, m in frames], np.int64
        ).reshape(-1, 2),
        G=G,
    )
    return buf.getvalue()


def _read_chunk(
    path: Path, class_names: tuple[str, ...]
) -> Iterator[tuple[int, float, Measurement]]:
    z = np.load(path)
    cols = {k: z[k] for k in _DETECTION_KEYS if k != "embedding" or z[k].shape[1]}
    ends = np.cumsum(z["n_det"])
    starts = ends - z["n_det"]
    for i in range(len(z["frame"])):
        a, b = int(starts[i]), int(ends[i])
        dets = Detections.from_columns({k: v[a:b] for k, v in cols.items()}, class_names)
        H = z["H"][i]
        w, h = (int(v) for v in z["image_size"][i])
        cal = Calibration(
            None if np.isnan(H).any() else H,
            confidence=float(z["calib_confidence"][i]),
            status=CalibrationStatus(_STATUSES[int(z["status"][i])]),
            image_size=(w, h) if w > 0 else None,
            cut=bool(z["cut"][i]),
        )
        G = z["G"][i]
        m = Measurement(dets, cal, None if np.isnan(G).any() else G)
        yield int(z["frame"][i]), float(z["time"][i]), m


def _measurement_key(ft: FootballTracker) -> dict[str, Any]:
    """What the checkpointed measurements depend on: the detector (model, thresholds, tiling)
    and the calibrator (kind, model, settings). The tracker's settings are not in it: saved
    measurements are replayed through whatever tracker the new run has."""
    det = ft.detector
    cal = getattr(ft.calibrator, "calibrator", None)  # a CalibrationStream's Calibrator
    return {
        "calibrator": type(ft.calibrator).__name__,
        "calibration": fingerprint(
            getattr(getattr(cal, "model", None), "meta", None), getattr(cal, "config", None)
        ),
    } | detector_key(det)


# --------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------
def track_video(
    source: str | Path,
    out_dir: str | Path,
    *,
    tracker: FootballTracker | None = None,
    annotate: bool = True,
    radar: bool = True,
    csv: bool = True,
    max_frames: int | None = None,
    checkpoint_every: int = 250,
    progress: Progress | None = None,
) -> TrackResult:
    """Run the whole pipeline on a video and write the outputs (see the module).

    ``tracks.parquet`` holds exactly ``tracker(VideoReader(source, stop=max_frames))``.

    Args:
        source: a video file (or a folder of frames).
        out_dir: output folder (created).
        tracker: the :class:`FootballTracker` (default: shipped models, default settings;
            its ``finish`` settings finish the table).
        annotate, radar, csv: write ``annotated.mp4``, ``radar.mp4``, ``tracks.csv``.
        max_frames: only the first frames.
        checkpoint_every: frames between checkpoints.
        progress: ``progress(stage, done, total)``.

    Returns:
        The result (also written to ``summary.json``).
    """
    from touchline.video import VideoReader, probe

    src, out = Path(source), Path(out_dir)
    info = probe(src)
    n_total = info.frame_count if max_frames is None else min(info.frame_count, max_frames)
    if n_total <= 0:
        raise DataError(f"{src}: no frames to track")
    ft = tracker or FootballTracker(fps=info.fps or 25.0)
    out.mkdir(parents=True, exist_ok=True)
    partial = Checkpoint(
        out / PARTIAL,
        fingerprint(
            file_identity(src),
            {"max_frames": max_frames, "every": checkpoint_every} | _measurement_key(ft),
        ),
    )
    chunks = partial.pieces("chunk_*.npz")

    ft.set_fps(info.fps)
    ft.reset()
    collected = TrackCollector()
    pending: list[tuple[int, float, Measurement]] = []
    t_start = time.perf_counter()
    resumed = 0
    names = getattr(ft.detector, "class_names", None) or Detections.empty().class_names

    replay: Iterator[tuple[int, float, Measurement]] = iter(())
    if chunks:
        replay = (item for c in chunks for item in _read_chunk(c, tuple(names)))
    next_saved = next(replay, None)
    previous: np.ndarray | None = None
    with VideoReader(src, stop=max_frames) as reader:
        for k, fr in enumerate(reader):
            if next_saved is not None and next_saved[0] == fr.index:
                frame, t, m = next_saved
                # The calibrator's temporal state restarts after the replayed frames.
                collected.add(ft.step(fr.image, frame=frame, time=t, measurement=m))
                previous = fr.image
                resumed += 1
                next_saved = next(replay, None)
            else:
                if resumed and k == resumed:
                    ft.resync(previous)
                step = ft.step(fr.image, frame=fr.index, time=fr.time)
                collected.add(step)
                pending.append((fr.index, fr.time, step.measurement))
                if len(pending) >= checkpoint_every:
                    partial.write_bytes(f"chunk_{pending[0][0]:08d}.npz", _chunk_bytes(pending))
                    pending.clear()
            if progress:
                progress("track", k + 1, n_total)
    seconds_track = time.perf_counter() - t_start
    frames_done = k + 1 if n_total else 0

    final = ft.finished(collected, str(src))
    df = final.df
    final.to_parquet(out / "tracks.parquet")
    if csv:
        final.to_csv(out / "tracks.csv")
    cals, frame_ids = collected.calibrations, collected.frames
    write_bytes_atomic(out / "homographies.npz", calibration_npz(cals, frame_ids, collected.times))
    homs = {
        f: c.homography
        for f, c in zip(frame_ids, cals, strict=True)
        if c.is_valid and c.homography is not None
    }
    cuts = collected.cuts
    n_cal = collected.n_calibrated

    t_render = time.perf_counter()
    if annotate or radar:
        _render(
            src, out, final, homs, max_frames, annotate=annotate, radar=radar, progress=progress
        )
    seconds_render = time.perf_counter() - t_render
    seconds = time.perf_counter() - t_start

    people = df[df["class_id"] != 3]
    summary = TrackResult(
        source=str(src),
        out=str(out),
        frames=frames_done,
        resumed_frames=resumed,
        image_size=(info.width, info.height),
        fps_video=info.fps,
        rows=len(df),
        tracks=int(people["track_id"].nunique()),
        tracks_by_class={
            str(c): int(n) for c, n in people.groupby("class_name")["track_id"].nunique().items()
        },
        players_per_frame=round(float(people.groupby("frame").size().mean()), 2)
        if len(people)
        else 0.0,
        teams={
            str(t): int(n)
            for t, n in people[people["class_id"] <= 1]
            .groupby("team")["track_id"]
            .nunique()
            .items()
        },
        ball_frames=int((df["class_id"] == 3).groupby(df["frame"]).any().sum()),
        calibrated_frames=n_cal,
        cuts=cuts,
        interpolated_rows=int(df["interpolated"].sum()),
        predicted_rows=int(df["predicted"].sum()),
        seconds={
            "total": round(seconds, 2),
            "track_pass": round(seconds_track, 2),
            "render_pass": round(seconds_render, 2),
            **{k: round(v, 2) for k, v in ft.timings.items()},
        },
        fps=round(frames_done / seconds, 2) if seconds > 0 else None,
        files=sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")),
    )
    write_json_atomic(out / "summary.json", summary.to_json())
    partial.clear()
    return summary


def _render(
    src: Path,
    out: Path,
    tracks: Tracks,
    homs: dict[int, np.ndarray],
    max_frames: int | None,
    *,
    annotate: bool,
    radar: bool,
    progress: Progress | None,
) -> None:
    from touchline.video import VideoReader, VideoWriter
    from touchline.viz.overlay import BoxAnnotator, LabelAnnotator
    from touchline.viz.radar import Radar, camera_viewport, inset

    fps = tracks.fps or 25.0
    top = Radar(width=420)
    boxes = BoxAnnotator(color_by="team")
    labels = LabelAnnotator(color_by="team")
    df = tracks.df
    frames = df["frame"].to_numpy()
    # "superfast" encodes 1.7x faster than the default "veryfast" for 1.5x the bytes.
    aw = VideoWriter(out / "annotated.mp4", fps, preset="superfast") if annotate else None
    rw = VideoWriter(out / "radar.mp4", fps, preset="superfast") if radar else None
    try:
        with VideoReader(src, stop=max_frames) as reader:
            n = len(reader)
            for k, fr in enumerate(reader):
                a, b = np.searchsorted(frames, [fr.index, fr.index + 1])
                dets = tracks.frame(fr.index) if b > a else Detections.empty()
                H = homs.get(fr.index)
                view = (
                    camera_viewport(H, (fr.image.shape[1], fr.image.shape[0]))
                    if H is not None
                    else None
                )
                radar_img = (
                    top.render_detections(dets, viewport=view) if radar or annotate else None
                )
                if aw is not None:
                    img = labels.annotate(boxes.annotate(fr.image, dets), dets)
                    if radar_img is not None:
                        img = inset(img, radar_img, corner="bottom-right", scale=0.3)
                    aw.write(img)
                if rw is not None and radar_img is not None:
                    rw.write(radar_img)
                if progress:
                    progress("render", k + 1, n)
    finally:
        for w in (aw, rw):
            if w is not None:
                w.close()
