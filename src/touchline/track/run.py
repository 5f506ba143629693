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
table is finished (every track gets its final team vote; gaps of up to ``max_gap`` frames
inside a shot are interpolated; tracks seen on fewer than ``min_frames`` frames are dropped)
and written. The second pass decodes again and renders the two videos from the final table.
Memory stays bounded by the table itself: frames are never kept.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from touchline.calib.run import calibration_npz
from touchline.errors import DataError
from touchline.track.ball import BALL_TRACK_ID
from touchline.track.football import FootballTracker, Measurement
from touchline.tracks import Tracks, TracksBuilder
from touchline.trajectories import interpolate_gaps, smooth_tracks
from touchline.types import CLASS_NAMES, Calibration, CalibrationStatus, Detections, ObjectClass
from touchline.utils.files import write_bytes_atomic, write_json_atomic

__all__ = ["finish_tracks", "track_video"]

Progress = Callable[[str, int, int], None]
PARTIAL = ".track-partial"
_STATUSES = [s.value for s in CalibrationStatus]


# --------------------------------------------------------------------------------------------
# Checkpoints: the measurements of a run of frames, in one npz per chunk
# --------------------------------------------------------------------------------------------
def _chunk_bytes(frames: list[tuple[int, float, Measurement]]) -> bytes:
    import io

    n_det = np.array([len(m.detections) for _, _, m in frames], np.int64)
    dets = [m.detections for _, _, m in frames]
    dim = next((d.embedding.shape[1] for d in dets if d.embedding is not None and len(d)), 0)

    def cat(get: Callable[[Detections], np.ndarray], shape: tuple[int, ...], dtype: Any) -> Any:
        parts = [get(d) for d in dets if len(d)]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

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
        n_det=n_det,
        xyxy=cat(lambda d: d.xyxy, (0, 4), np.float32),
        confidence=cat(
            lambda d: d.confidence if d.confidence is not None else np.ones(len(d)),
            (0,),
            np.float32,
        ),
        class_id=cat(
            lambda d: d.class_id if d.class_id is not None else np.zeros(len(d)), (0,), np.int64
        ),
        embedding=cat(
            lambda d: d.embedding if d.embedding is not None else np.zeros((len(d), dim)),
            (0, dim),
            np.float32,
        ),
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
    ends = np.cumsum(z["n_det"])
    starts = ends - z["n_det"]
    for i in range(len(z["frame"])):
        a, b = int(starts[i]), int(ends[i])
        emb = z["embedding"][a:b]
        dets = Detections(
            xyxy=z["xyxy"][a:b],
            confidence=z["confidence"][a:b],
            class_id=z["class_id"][a:b],
            embedding=emb if emb.shape[1] else None,
            class_names=class_names,
        )
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
    and whether frames are calibrated. The tracker's settings are not in it: saved
    measurements are replayed through whatever tracker the new run has."""
    det = ft.detector
    meta = json.dumps(getattr(det, "meta", None), sort_keys=True, default=str)
    return {
        "detector": type(det).__name__,
        "model": hashlib.sha256(meta.encode()).hexdigest()[:16],
        "threshold": getattr(det, "threshold", None),
        "class_thresholds": getattr(det, "class_thresholds", None),
        "classes": getattr(det, "classes", None),
        "tile": getattr(det, "tile", None),
        "calibrated": ft.calibrator is not None,
    }


def _fingerprint(src: Path, options: dict[str, Any]) -> str:
    st = src.stat()
    key = json.dumps([str(src.resolve()), st.st_size, int(st.st_mtime), options], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Finishing the table
# --------------------------------------------------------------------------------------------
def finish_tracks(
    df: pd.DataFrame,
    *,
    teams: dict[int, int] | None = None,
    roles: dict[int, int] | None = None,
    cuts: np.ndarray | None = None,
    max_gap: int = 10,
    min_frames: int = 5,
    smooth: int = 7,
    drop_predicted: bool = True,
) -> pd.DataFrame:
    """Final clean-up of a tracks table (a new DataFrame, sorted by frame then track).

    * ``drop_predicted``: the tracker's coasting rows of people (``predicted``: where it
      guessed a player it did not see, from the past alone) are dropped; gaps between two
      sightings are then interpolated from both ends (below), and a track no longer runs on
      past the last frame its player was seen (the ball keeps its own tracker's rows);
    * ``roles``: ``{track_id: class_id}``; a player track whose role is goalkeeper (e.g. from
      :meth:`~touchline.track.teams.TeamAssigner.track_roles`: the detector often scores a
      goalkeeper's box higher as a player) becomes a goalkeeper on every row;
    * ``teams``: ``{track_id: team}`` overrides the per-frame team (the final vote of each
      track, so a track keeps one team over the clip);
    * tracks (other than the ball, id 0) seen on fewer than ``min_frames`` frames are dropped;
    * gaps of at most ``max_gap`` frames inside a track and inside a shot (no frame of ``cuts``
      in between) are filled by linear interpolation of the box, foot point and pitch position
      (column ``interpolated`` True; ``confidence`` NaN);
    * boxes, foot points and pitch positions are smoothed along each track (Savitzky-Golay,
      ``smooth`` frames, degree 2; 0 or 1 turns it off; the ball is left alone).

    >>> df = pd.DataFrame({"frame": [0, 3], "time": [0.0, 0.12], "track_id": [5, 5],
    ...     "class_id": [0, 0], "class_name": ["player"] * 2, "team": [1, 1],
    ...     "x1": [0.0, 3.0], "y1": [0.0, 0.0], "x2": [2.0, 5.0], "y2": [4.0, 4.0],
    ...     "foot_x": [1.0, 4.0], "foot_y": [4.0, 4.0], "pitch_x": [10.0, 13.0],
    ...     "pitch_y": [5.0, 5.0], "confidence": [0.9, 0.8], "track_confidence": [0.5, 0.6],
    ...     "calib_confidence": [1.0, 1.0]})
    >>> out = finish_tracks(df, min_frames=1, smooth=0)
    >>> out["frame"].tolist(), out["pitch_x"].tolist(), out["interpolated"].tolist()
    ([0, 1, 2, 3], [10.0, 11.0, 12.0, 13.0], [False, True, True, False])
    """
    df = df.copy()
    if "interpolated" not in df:
        df["interpolated"] = False
    if "predicted" not in df:
        df["predicted"] = False
    if roles:
        keepers = [t for t, r in roles.items() if r == int(ObjectClass.GOALKEEPER)]
        upgrade = df["track_id"].isin(keepers) & (df["class_id"] == int(ObjectClass.PLAYER))
        if upgrade.any():
            df.loc[upgrade, "class_id"] = int(ObjectClass.GOALKEEPER)
            df.loc[upgrade, "class_name"] = CLASS_NAMES[ObjectClass.GOALKEEPER]
    if teams:
        mapped = df["track_id"].map(teams)
        df["team"] = np.where(mapped.notna(), mapped, df["team"]).astype(df["team"].dtype)
    if drop_predicted and len(df):
        df = df[~df["predicted"].astype(bool) | (df["track_id"] == BALL_TRACK_ID)]
    if min_frames > 1 and len(df):
        counts = df.groupby("track_id")["frame"].transform("size")
        df = df[(counts >= min_frames) | (df["track_id"] == 0)]
    if max_gap > 0 and len(df):
        df = interpolate_gaps(df, max_gap=max_gap, cut_frames=cuts)
    if smooth > 1 and len(df):
        df = smooth_tracks(df, window=smooth, cut_frames=cuts, exclude_ids=[BALL_TRACK_ID])
    df = df.sort_values(["frame", "track_id"], kind="stable").reset_index(drop=True)
    return df


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
    max_gap: int = 10,
    min_frames: int = 5,
    smooth: int = 7,
    checkpoint_every: int = 250,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the whole pipeline on a video and write the outputs (see the module).

    Args:
        source: a video file (or a folder of frames).
        out_dir: output folder (created).
        tracker: the :class:`FootballTracker` (default: shipped models, default settings).
        annotate, radar, csv: write ``annotated.mp4``, ``radar.mp4``, ``tracks.csv``.
        max_frames: only the first frames.
        max_gap, min_frames, smooth: see :func:`finish_tracks`.
        checkpoint_every: frames between checkpoints.
        progress: ``progress(stage, done, total)``.

    Returns:
        The summary (also written to ``summary.json``).
    """
    from touchline.video import VideoReader, probe

    src, out = Path(source), Path(out_dir)
    info = probe(src)
    n_total = info.frame_count if max_frames is None else min(info.frame_count, max_frames)
    if n_total <= 0:
        raise DataError(f"{src}: no frames to track")
    ft = tracker or FootballTracker(fps=info.fps or 25.0)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / PARTIAL
    fingerprint = _fingerprint(
        src, {"max_frames": max_frames, "every": checkpoint_every} | _measurement_key(ft)
    )
    chunks: list[Path] = []
    meta_path = partial / "meta.json"
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            meta = {}
        if meta.get("fingerprint") == fingerprint:
            chunks = [partial / c for c in meta.get("chunks", []) if (partial / c).exists()]
        else:
            shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, exist_ok=True)

    ft.fps = info.fps or ft.fps
    ft.reset()
    builder = TracksBuilder()
    cuts: list[int] = []
    cals: list[Calibration] = []
    frame_ids: list[int] = []
    frame_times: list[float] = []
    n_cal = 0
    pending: list[tuple[int, float, Measurement]] = []
    t_start = time.perf_counter()
    resumed = 0
    names = getattr(ft.detector, "class_names", None) or Detections.empty().class_names

    def consume(frame: int, t: float, m: Measurement, image: np.ndarray) -> None:
        nonlocal n_cal
        tracks = ft.track(m, image)
        predicted = np.asarray(tracks.data.get("predicted", np.zeros(len(tracks), bool)), bool)
        builder.add(frame, t, tracks, m.calibration, extra={"predicted": predicted})
        if m.calibration.cut:
            cuts.append(frame)
        cals.append(m.calibration)
        frame_ids.append(frame)
        frame_times.append(t)
        n_cal += bool(m.calibration.is_valid)

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
                consume(frame, t, m, fr.image)
                previous = fr.image
                resumed += 1
                next_saved = next(replay, None)
            else:
                if resumed and k == resumed:
                    ft.resync(previous)
                m = ft.measure(fr.image)
                consume(fr.index, fr.time, m, fr.image)
                pending.append((fr.index, fr.time, m))
                if len(pending) >= checkpoint_every:
                    name = f"chunk_{pending[0][0]:08d}.npz"
                    write_bytes_atomic(partial / name, _chunk_bytes(pending))
                    chunks.append(partial / name)
                    write_json_atomic(
                        meta_path,
                        {"fingerprint": fingerprint, "chunks": [c.name for c in chunks]},
                    )
                    pending.clear()
            if progress:
                progress("track", k + 1, n_total)
    seconds_track = time.perf_counter() - t_start
    frames_done = k + 1 if n_total else 0

    # The table is sorted by frame and track id: ``predicted`` travels with its rows.
    table = builder.build(fps=ft.fps, image_size=(info.width, info.height))
    df = table.df
    if "predicted" not in df:  # no rows at all
        df["predicted"] = np.zeros(len(df), bool)
    teams = ft.teams.track_teams() if ft.teams is not None else None
    roles = ft.teams.track_roles() if ft.teams is not None else None
    df = finish_tracks(
        df,
        teams=teams,
        roles=roles,
        cuts=np.array(cuts),
        max_gap=max_gap,
        min_frames=min_frames,
        smooth=smooth,
    )
    final = Tracks(
        df,
        fps=ft.fps,
        image_size=(info.width, info.height),
        meta={"source": str(src), "tool": "touchline track"},
    )
    final.to_parquet(out / "tracks.parquet")
    if csv:
        final.to_csv(out / "tracks.csv")
    write_bytes_atomic(out / "homographies.npz", calibration_npz(cals, frame_ids, frame_times))
    homs = {
        f: c.homography
        for f, c in zip(frame_ids, cals, strict=True)
        if c.is_valid and c.homography is not None
    }

    t_render = time.perf_counter()
    if annotate or radar:
        _render(
            src, out, final, homs, max_frames, annotate=annotate, radar=radar, progress=progress
        )
    seconds_render = time.perf_counter() - t_render
    seconds = time.perf_counter() - t_start

    people = df[df["class_id"] != 3]
    summary: dict[str, Any] = {
        "source": str(src),
        "out": str(out),
        "frames": frames_done,
        "resumed_frames": resumed,
        "image_size": [info.width, info.height],
        "fps_video": info.fps,
        "rows": len(df),
        "tracks": int(people["track_id"].nunique()),
        "tracks_by_class": {
            str(c): int(n) for c, n in people.groupby("class_name")["track_id"].nunique().items()
        },
        "players_per_frame": round(float(people.groupby("frame").size().mean()), 2)
        if len(people)
        else 0.0,
        "teams": {
            str(t): int(n)
            for t, n in people[people["class_id"] <= 1]
            .groupby("team")["track_id"]
            .nunique()
            .items()
        },
        "ball_frames": int((df["class_id"] == 3).groupby(df["frame"]).any().sum()),
        "calibrated_frames": n_cal,
        "cuts": cuts,
        "interpolated_rows": int(df["interpolated"].sum()),
        "predicted_rows": int(df["predicted"].sum()),
        "seconds": {
            "total": round(seconds, 2),
            "track_pass": round(seconds_track, 2),
            "render_pass": round(seconds_render, 2),
            **{k: round(v, 2) for k, v in ft.timings.items()},
        },
        "fps": round(frames_done / seconds, 2) if seconds > 0 else None,
        "files": sorted(
            p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")
        ),
    }
    write_json_atomic(out / "summary.json", summary)
    shutil.rmtree(partial, ignore_errors=True)
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
