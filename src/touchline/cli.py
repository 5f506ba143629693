"""The ``touchline`` command.

Every command prints a clear message and exits with status 1 on bad input (a missing file, an
unreadable video, a malformed table); it never shows a traceback for a known problem.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from touchline import __version__
from touchline.errors import TouchlineError

app = typer.Typer(
    name="touchline",
    help="Soccer video to tracking data and insight, on a CPU.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # markdown: docstring line breaks are re-flowed to the terminal width
    rich_markup_mode="markdown",
)
console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"touchline {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Soccer video to tracking data and insight, on a CPU."""


@contextmanager
def _errors() -> Iterator[None]:
    """Known problems become one red line and exit status 1."""
    try:
        yield
    except (TouchlineError, ValueError, OSError) as e:
        # Plain text (a path may contain "[...]") on one line, however narrow the terminal.
        console.print(Text("error: ", style="bold red") + Text(str(e)), soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar fed by ``update(stage, done, total)`` callbacks."""
    columns = (
        TextColumn("{task.description:>8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}")
    return int(m.group(1)), int(m.group(2))


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    seconds: Annotated[float, typer.Option(help="Clip length in seconds.", min=0.04)] = 10.0,
    size: Annotated[str, typer.Option(help="Frame size, WIDTHxHEIGHT.")] = "1280x720",
    fps: Annotated[float, typer.Option(help="Frames per second.", min=1.0, max=120.0)] = 25.0,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same clip.")] = 0,
    tracking: Annotated[
        Path | None,
        typer.Option(help="Real tracking data to animate (a tracks table, LastRow CSV or CDF)."),
    ] = None,
    camera: Annotated[
        str,
        typer.Option(
            help="'auto' (real broadcast poses when ../shared/data has them), "
            "'builtin', or an npz of broadcast homographies."
        ),
    ] = "auto",
    crf: Annotated[int, typer.Option(help="H.264 quality (lower is better).", min=0, max=51)] = 20,
) -> None:
    """Render a synthetic broadcast clip with exact ground truth (homographies, boxes, ids,
    pitch positions; JSON, npz, MOT and tracks table)."""
    from touchline.synth.clip import SynthConfig, synthesize

    with _errors():
        cfg = SynthConfig(
            seconds=seconds,
            fps=fps,
            size=_parse_size(size),
            seed=seed,
            tracking=tracking,
            camera=camera,
            crf=crf,
        )
        t0 = time.perf_counter()
        with _progress() as update:
            clip = synthesize(cfg, out, progress=lambda d, t: update("render", d, t))
        dt = time.perf_counter() - t0
    console.print(
        f"[green]wrote[/] {clip.video} and ground truth in {clip.out_dir}/ "
        f"({clip.frames} frames, {clip.size[0]}x{clip.size[1]}, {dt:.1f} s; "
        f"camera: {clip.camera.source}; motion: {clip.scene_source})"
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "touchline-demo"
    ),
    seconds: Annotated[float, typer.Option(help="Clip length in seconds.", min=0.5)] = 6.0,
    seed: Annotated[int, typer.Option(help="Seed of the clip.")] = 7,
) -> None:
    """Render a short synthetic clip and run every available stage on it (no data needed)."""
    from touchline.jobs.demo import run_demo

    with _errors(), _progress() as update:
        res = run_demo(out, seconds=seconds, seed=seed, progress=update)
    console.print(f"[green]demo written to[/] {res.out_dir}/ — start with {res.readme}")


@app.command()
def info(
    path: Annotated[Path, typer.Argument(help="A video, an image, or a folder of images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a video's (or image folder's) size, frame rate, frame count and duration."""
    from touchline.video import probe

    with _errors():
        vi = probe(path)
    d = {
        "path": str(vi.path),
        "kind": vi.kind,
        "width": vi.width,
        "height": vi.height,
        "fps": vi.fps,
        "frames": vi.frame_count,
        "duration": round(vi.duration, 3),
        "codec": vi.codec,
    }
    if as_json:
        typer.echo(json.dumps(d))
    else:
        typer.echo(
            f"{vi.path}: {vi.kind} {vi.width}x{vi.height}, {vi.fps:g} fps, "
            f"{vi.frame_count} frames ({vi.duration:.2f} s){', ' + vi.codec if vi.codec else ''}"
        )


@app.command()
def calibrate(
    source: Annotated[Path, typer.Argument(help="A video, an image, or a folder of frames.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    overlay: Annotated[
        bool, typer.Option(help="Write the frames with the pitch lines drawn on them.")
    ] = True,
    topdown: Annotated[bool, typer.Option(help="Write the frames warped onto the pitch.")] = True,
    model: Annotated[
        Path | None, typer.Option(help="Another ONNX keypoint model (with its .json beside it).")
    ] = None,
) -> None:
    """Calibrate the camera to the pitch: per-frame homographies (JSON and npz), an overlay
    with the pitch lines drawn, and a top-down view."""
    from touchline.calib.calibrator import Calibrator
    from touchline.calib.model import KeypointModel
    from touchline.jobs.calibrate import calibrate_path
    from touchline.video import probe

    with _errors():
        probe(source)  # a bad input fails here, before any progress bar is drawn
        cal = Calibrator(KeypointModel(model) if model else None)
        with _progress() as update:
            summary = calibrate_path(
                source, out, calibrator=cal, overlay=overlay, topdown=topdown, progress=update
            )
    console.print(
        f"[green]calibrated[/] {summary.calibrated}/{summary.frames} frames "
        f"({summary.cuts} cuts, {summary.fps} fps) -> {out}/"
    )


_MODEL_HELP = (
    "Another detector: an ONNX file from `python -m touchline.train.detect` (with its .json), "
    "or any YOLO-style ONNX export (YOLOv5/v8/v10/11 layouts)."
)


@app.command()
def detect(
    source: Annotated[Path, typer.Argument(help="A video, an image, or a folder of frames.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    overlay: Annotated[bool, typer.Option(help="Write the frames with the boxes drawn.")] = True,
    model: Annotated[Path | None, typer.Option(help=_MODEL_HELP)] = None,
    threshold: Annotated[float | None, typer.Option(help="Minimum detection score.")] = None,
    tile: Annotated[
        int | None,
        typer.Option(help="Tile width in pixels for high-resolution frames (e.g. 1536)."),
    ] = None,
    classes: Annotated[
        str | None, typer.Option(help="Keep only these classes, comma-separated (e.g. ball).")
    ] = None,
    class_map: Annotated[
        list[str] | None,
        typer.Option(
            "--class-map",
            help="For a YOLO model: OURS=model,classes, e.g. player=person ball='sports ball'.",
        ),
    ] = None,
) -> None:
    """Detect players, goalkeepers, referees and the ball: boxes as Parquet and JSON, and an
    overlay (mp4 for a video, PNG per image)."""
    from touchline.detect import load_detector
    from touchline.jobs.detect import detect_path
    from touchline.video import probe

    with _errors():
        probe(source)  # a bad input fails here, before any progress bar is drawn
        det = load_detector(
            model,
            threshold=threshold,
            tile=tile,
            classes=classes.split(",") if classes else None,
            class_map=class_map,
        )
        with _progress() as update:
            summary = detect_path(source, out, detector=det, overlay=overlay, progress=update)
    per_class = ", ".join(f"{v} {k}" for k, v in summary.per_class.items())
    console.print(
        f"[green]detected[/] {summary.detections} boxes in {summary.frames} frames "
        f"({per_class}; {summary.fps} fps) -> {out}/"
    )


@app.command()
def track(
    source: Annotated[Path, typer.Argument(help="A video (or a folder of frames).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    annotated: Annotated[
        bool, typer.Option(help="Write annotated.mp4 (boxes, ids, team colours, radar).")
    ] = True,
    radar: Annotated[bool, typer.Option(help="Write radar.mp4 (the top-down pitch).")] = True,
    max_frames: Annotated[
        int | None, typer.Option(help="Only the first frames of the video.")
    ] = None,
    max_gap: Annotated[
        float, typer.Option(help="Fill gaps inside a track up to this long (seconds).")
    ] = 0.4,
    min_duration: Annotated[
        float, typer.Option(help="Drop tracks seen for less than this (seconds).")
    ] = 0.2,
    smooth: Annotated[
        float, typer.Option(help="Smoothing window along tracks (seconds; 0 turns it off).")
    ] = 0.28,
    model: Annotated[Path | None, typer.Option(help=_MODEL_HELP)] = None,
    no_calibration: Annotated[
        bool, typer.Option("--no-calibration", help="Track in image space only.")
    ] = False,
) -> None:
    """Track players, goalkeepers, referees and the ball: detect, calibrate, track in pitch
    metres, assign teams; writes the tracks table (Parquet, CSV), annotated and radar videos
    and summary.json. A killed run resumes where it stopped."""
    from touchline.calib.stream import CameraMotionOnly
    from touchline.detect import load_detector
    from touchline.jobs.pipeline import FootballTracker
    from touchline.jobs.track import track_video
    from touchline.track.finish import FinishConfig
    from touchline.video import probe

    with _errors():
        info = probe(source)  # a bad input fails here, before any progress bar is drawn
        try:
            finish = FinishConfig(max_gap=max_gap, min_duration=min_duration, smooth=smooth)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
        ft = FootballTracker(
            detector=load_detector(model) if model else None,
            calibrator=CameraMotionOnly() if no_calibration else None,
            finish=finish,
            fps=info.fps or 25.0,
        )
        with _progress() as update:
            summary = track_video(
                source,
                out,
                tracker=ft,
                annotate=annotated,
                radar=radar,
                max_frames=max_frames,
                progress=update,
            )
    teams = ", ".join(f"team {k}: {v}" for k, v in summary.teams.items())
    resumed = f", {summary.resumed_frames} resumed" if summary.resumed_frames else ""
    console.print(
        f"[green]tracked[/] {summary.tracks} people over {summary.frames} frames "
        f"({teams}; ball on {summary.ball_frames} frames; {summary.fps} fps{resumed}) "
        f"-> {out}/"
    )


eval_app = typer.Typer(help="Evaluate a stage against labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("calibration")
def eval_calibration(
    data: Annotated[
        Path, typer.Option(help="A split folder with images/ and labels/ (YOLO-pose layout).")
    ],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics here.")] = None,
    frame_size: Annotated[
        str, typer.Option(help="Size of the original frames the labels are stretched from.")
    ] = "1920x1080",
    model: Annotated[
        Path | None, typer.Option(help="Another ONNX keypoint model (with its .json beside it).")
    ] = None,
    per_frame: Annotated[
        Path | None, typer.Option(help="Also write per-frame scores (CSV) here.")
    ] = None,
) -> None:
    """Calibration accuracy on labelled frames: IoU whole/part, projection and reprojection
    errors, completeness, speed."""
    from touchline.calib.calibrator import Calibrator
    from touchline.calib.model import KeypointModel
    from touchline.datasets.yolo_pose import read_split
    from touchline.eval.calibration import evaluate_calibration

    with _errors():
        read_split(data)  # layout errors surface before any progress bar is drawn
        cal = Calibrator(KeypointModel(model) if model else None)
        with _progress() as update:
            res = evaluate_calibration(
                data,
                cal,
                frame_size=_parse_size(frame_size),
                progress=update,
                per_frame_csv=per_frame,
            ).to_json()
        if json_out is not None:
            from touchline.utils.files import write_json_atomic

            write_json_atomic(json_out, res)
    from touchline.utils.files import _nan_to_none

    brief = {k: v for k, v in res.items() if not isinstance(v, (list, dict))}
    typer.echo(json.dumps(_nan_to_none(brief)))


@eval_app.command("detection")
def eval_detection(
    data: Annotated[
        Path,
        typer.Option(help="A YOLO split folder (images/, labels/, data.yaml) or a COCO json."),
    ],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics here.")] = None,
    class_map: Annotated[
        list[str] | None,
        typer.Option(
            "--class-map",
            help="Fold detector classes onto a dataset class: NAME=ours,ours "
            "(e.g. Player=player,goalkeeper,referee); repeat per class. Default: same names.",
        ),
    ] = None,
    frame_size: Annotated[
        str,
        typer.Option(
            help="WIDTHxHEIGHT the images are resized to first (stretched datasets); 'auto' "
            "undoes a Roboflow square stretch to 16:9; 'none' keeps the images."
        ),
    ] = "auto",
    model: Annotated[Path | None, typer.Option(help=_MODEL_HELP)] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Operating threshold for precision and recall.")
    ] = None,
    tile: Annotated[int | None, typer.Option(help="Tile width in pixels.")] = None,
) -> None:
    """Detection accuracy on a labelled dataset: AP50 and AP50-95 per dataset class,
    precision and recall at the operating threshold, images, frames per second."""
    from touchline.datasets.detection import DEFAULT_STRETCH_NOTE, stretched_frame_size
    from touchline.detect import load_detector
    from touchline.detect.classmap import parse_class_map
    from touchline.eval.detection import evaluate_detection, read_samples

    with _errors():
        samples = read_samples(data)  # layout errors surface before any progress bar
        cmap = parse_class_map(class_map) if class_map else None
        size: tuple[int, int] | None
        if frame_size == "auto":
            size = stretched_frame_size(data, samples)
            if size is not None:
                console.print(DEFAULT_STRETCH_NOTE.format(w=size[0], h=size[1]))
        elif frame_size == "none":
            size = None
        else:
            size = _parse_size(frame_size)
        det = load_detector(model, threshold=threshold, tile=tile)
        with _progress() as update:
            res = evaluate_detection(
                data, det, class_map=cmap, frame_size=size, progress=update
            ).to_json()
        if json_out is not None:
            from touchline.utils.files import write_json_atomic

            write_json_atomic(json_out, res)
    console.print_json(
        json.dumps({k: res[k] for k in ("images", "ap50", "ap50_95", "precision", "recall", "fps")})
    )
    _print_breakdown(res["breakdown"])


def _print_breakdown(breakdown: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> None:
    """Recall (AP50) per class and bucket: where the detector fails."""
    from rich.table import Table

    table = Table(title="recall (AP50) by bucket; n = truth boxes")
    table.add_column("class")
    first = next(iter(breakdown.values()), {})
    cols = [(b, k) for b, buckets in first.items() for k in buckets]
    for b, k in cols:
        table.add_column(f"{b}: {k}", justify="right")
    for cls, by in breakdown.items():
        cells = []
        for b, k in cols:
            s = by[b][k]
            if not s["n_truth"]:
                cells.append("-")
                continue
            ap = "" if s["ap50"] is None else f" ({s['ap50']:.2f})"
            cells.append(f"{s['recall']:.2f}{ap} n={s['n_truth']}")
        table.add_row(cls, *cells)
    console.print(table)


def _names(text: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; ``None`` stays ``None``."""
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise typer.BadParameter(f"expected comma-separated names, got {text!r}")
    return names


@eval_app.command("tracking")
def eval_tracking(
    mot: Annotated[
        Path,
        typer.Option(
            help="A folder of MOT sequences (SEQ/gt/gt.txt and SEQ/seqinfo.ini; no frames)."
        ),
    ],
    json_out: Annotated[Path, typer.Option("--json", help="Write the metrics here.")],
    trackers: Annotated[
        str, typer.Option(help="Comma-separated trackers: touchline, bytetrack, ocsort.")
    ] = "touchline,bytetrack,ocsort",
    seed: Annotated[
        int, typer.Option(help="Seed of the detection noise: same seed, same detections.", min=0)
    ] = 0,
    max_frames: Annotated[
        int | None, typer.Option(help="Only the first N frames of each sequence.", min=1)
    ] = None,
    sequences: Annotated[
        str | None, typer.Option(help="Comma-separated sequence names (default: all).")
    ] = None,
    speed_frames: Annotated[
        int, typer.Option(help="Frames of the 25-player speed test (0 skips it).", min=0)
    ] = 2000,
) -> None:
    """Tracking accuracy without frames: detections made from MOT ground truth by a seeded
    noise model, the same for every tracker; HOTA, IDF1, MOTA and speed per tracker."""
    import dataclasses

    from touchline.eval.tracking import (
        evaluate_tracking,
        format_summary,
        read_sequences,
        resolve_trackers,
    )
    from touchline.utils.files import write_json_atomic

    with _errors():
        tracker_names = _names(trackers) or []
        # Data and tracker errors surface before any progress bar is drawn.
        seqs = read_sequences(mot, _names(sequences))
        factories = resolve_trackers(tracker_names)
        with _progress() as update:
            res = evaluate_tracking(
                seqs,
                trackers=factories,
                seed=seed,
                max_frames=max_frames,
                speed_frames=speed_frames,
                progress=update,
            )
        res = dataclasses.replace(res, data=str(mot))
        write_json_atomic(json_out, res.to_json())
    typer.echo(format_summary(res))


# --------------------------------------------------------------------------------------------
# Tracking data: conversion, trajectory clean-up, analysis of play
# --------------------------------------------------------------------------------------------
_PROVIDER_HELP = (
    "Read with kloppy from this provider (skillcorner, tracab, metrica, sportec, pff, ...); "
    "give its files with --file."
)
_FILE_HELP = "A provider file or loader option as KEY=VALUE, e.g. raw_data=match.jsonl (repeat)."


def _options(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}")
        v: Any = value.strip()
        if re.fullmatch(r"-?\d+", v):
            v = int(v)
        out[key.strip()] = v
    return out


def _read_tracks(source: Path | None, provider: str | None, files: list[str] | None) -> Any:
    """Any tracking input as a Tracks table: a file (sniffed) or a kloppy provider's files."""
    from touchline.io import KLOPPY_PROVIDERS, load_tracking, read_tracking

    if provider and provider.lower() in KLOPPY_PROVIDERS:
        if source is not None:
            raise typer.BadParameter(
                f"--provider {provider} reads the --file options; drop the file argument {source}"
            )
        return load_tracking(provider.lower(), **_options(files))
    if files:
        known = ", ".join(sorted(KLOPPY_PROVIDERS))
        raise typer.BadParameter(f"--file needs --provider (one of: {known})")
    if source is None:
        raise typer.BadParameter("give a tracking file, or --provider with its --file options")
    return read_tracking(source, provider=provider)


def _frame_range(text: str | None) -> list[int] | None:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?:[:-]\s*(\d+)\s*)?", text)
    if not m:
        raise typer.BadParameter(f"expected a frame or a range FIRST:LAST, got {text!r}")
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else first
    if last < first:
        raise typer.BadParameter(f"frame range {text!r} ends before it starts")
    return list(range(first, last + 1))


@app.command()
def convert(
    source: Annotated[
        Path | None, typer.Argument(help="A tracking file: touchline table, LastRow CSV, CDF.")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output: .parquet, .csv or .jsonl (CDF).")
    ] = Path("tracks.parquet"),
    provider: Annotated[str | None, typer.Option(help=_PROVIDER_HELP)] = None,
    file: Annotated[list[str] | None, typer.Option("--file", help=_FILE_HELP)] = None,
) -> None:
    """Convert tracking data between formats (any kloppy provider, LastRow, CDF, our tables)."""
    from touchline.io import write_tracking

    with _errors():
        tracks = _read_tracks(source, provider, file)
        path = write_tracking(tracks, out)
    console.print(
        f"[green]converted[/] {len(tracks.frames)} frames, {len(tracks.track_ids)} tracks -> {path}"
    )


traj_app = typer.Typer(
    help="Clean up trajectories: fill, smooth, remove, merge, add, combine runs.",
    no_args_is_help=True,
)
app.add_typer(traj_app, name="trajectories")


def _write(tracks: Any, out: Path, what: str) -> None:
    from touchline.io import write_tracking

    path = write_tracking(tracks, out)
    console.print(
        f"[green]{what}[/] {len(tracks.frames)} frames, {len(tracks.track_ids)} tracks -> {path}"
    )


@traj_app.command("clean")
def traj_clean(
    source: Annotated[Path, typer.Argument(help="A tracks table (or LastRow/CDF file).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .parquet, .csv or .jsonl.")],
    max_gap: Annotated[
        float, typer.Option(help="Fill gaps up to this long (seconds; linear).", min=0.0)
    ] = 0.4,
    smooth: Annotated[
        str, typer.Option(help="Smoother: savgol, rts (Kalman + RTS) or none.")
    ] = "savgol",
    window: Annotated[
        float, typer.Option(help="Savitzky-Golay window (seconds; odd in frames).", min=0.0)
    ] = 0.28,
    kinematics: Annotated[
        bool, typer.Option(help="Add vx, vy, speed, ax, ay, acceleration (physical caps).")
    ] = True,
) -> None:
    """Fill short gaps, smooth pitch positions and add velocities and accelerations.
    Durations are in seconds, counted in frames at the table's fps (else its ``time`` column's,
    else 25)."""
    from touchline import trajectories as tr
    from touchline.utils.durations import seconds_to_frames

    if smooth not in ("savgol", "rts", "none"):
        raise typer.BadParameter(f"--smooth must be savgol, rts or none, got {smooth!r}")
    with _errors():
        t = _read_tracks(source, None, None)
        fps = t.fps or tr._estimate_fps(t.df) or 25.0
        gap = seconds_to_frames(max_gap, fps)
        t = t.with_table(tr.interpolate_gaps(t.df, max_gap=gap))
        frames = seconds_to_frames(window, fps)
        if smooth == "savgol" and frames > 1:
            t = t.with_table(tr.smooth_tracks(t.df, window=frames | 1, exclude_ids=[0]))
        elif smooth == "rts":
            t = tr.rts_smooth(t)
        if kinematics:
            t = tr.kinematics(t)
        _write(t, out, "cleaned")


@traj_app.command("remove")
def traj_remove(
    source: Annotated[Path, typer.Argument(help="A tracks table.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    ids: Annotated[list[int], typer.Option("--id", help="Track id to remove (repeat).")],
    frames: Annotated[
        str | None, typer.Option(help="Only at these frames: N or FIRST:LAST (inclusive).")
    ] = None,
) -> None:
    """Remove tracks, or their positions over a frame range."""
    from touchline import trajectories as tr

    with _errors():
        t = _read_tracks(source, None, None)
        span = _frame_range(frames)
        for tid in ids:
            t = tr.remove_tracks(t, tid) if span is None else tr.remove_positions(t, tid, span)
        _write(t, out, "removed from")


@traj_app.command("merge")
def traj_merge(
    source: Annotated[Path, typer.Argument(help="A tracks table.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    into: Annotated[int, typer.Option(help="The id that remains.")],
    ids: Annotated[list[int], typer.Option("--id", help="An id merged into --into (repeat).")],
    frames: Annotated[
        str | None, typer.Option(help="Only over these frames: N or FIRST:LAST.")
    ] = None,
    conflict: Annotated[
        str, typer.Option(help="Both ids on one frame: error, keep (--into's row) or merge.")
    ] = "error",
) -> None:
    """Merge fragments of one player into one id (optionally over a frame range)."""
    from touchline import trajectories as tr

    if conflict not in ("error", "keep", "merge"):
        raise typer.BadParameter(f"--conflict must be error, keep or merge, got {conflict!r}")
    with _errors():
        t = _read_tracks(source, None, None)
        for tid in ids:
            t = tr.merge_tracks(t, into, tid, _frame_range(frames), conflict=conflict)  # type: ignore[arg-type]
        _write(t, out, "merged")


@traj_app.command("add")
def traj_add(
    source: Annotated[Path, typer.Argument(help="A tracks table.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    track_id: Annotated[int, typer.Option("--id", help="The id to add positions to.")],
    positions: Annotated[Path, typer.Option(help="CSV with columns frame, x, y (pitch metres).")],
    team: Annotated[int, typer.Option(help="Team of a new entity (-1, 0, 1).")] = -1,
    class_name: Annotated[
        str, typer.Option("--class", help="Class of a new entity: player, goalkeeper, ...")
    ] = "player",
) -> None:
    """Add an entity with its trajectory, or add positions to an existing id."""
    import numpy as np
    import pandas as pd

    from touchline import trajectories as tr
    from touchline.errors import DataError
    from touchline.types import CLASS_NAMES

    with _errors():
        t = _read_tracks(source, None, None)
        try:
            pos = pd.read_csv(positions)
        except (OSError, ValueError) as e:
            raise DataError(f"{positions}: cannot read the positions CSV ({e})") from None
        missing = {"frame", "x", "y"} - set(pos.columns)
        if missing:
            raise DataError(f"{positions}: missing columns {sorted(missing)} (need frame, x, y)")
        if class_name not in CLASS_NAMES:
            raise DataError(f"--class must be one of {list(CLASS_NAMES)}, got {class_name!r}")
        num = pos[["frame", "x", "y"]].apply(pd.to_numeric, errors="coerce")
        for col in ("frame", "x", "y"):
            bad = ~np.isfinite(num[col].to_numpy(float))
            if col == "frame":
                bad |= num[col].to_numpy(float) % 1 != 0
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"{positions}: row {row + 2}: {col} {pos[col].iloc[row]!r} is not "
                    + ("a whole frame number" if col == "frame" else "a number (metres)")
                )
        xy = num[["x", "y"]].to_numpy(float)
        frames = num["frame"].astype(int).tolist()
        try:
            if track_id in set(t.track_ids.tolist()):
                t = tr.add_positions(t, track_id, frames, xy)
            else:
                cid = CLASS_NAMES.index(class_name)
                t = tr.add_track(t, track_id, frames, xy, class_id=cid, team=team)
        except ValueError as e:
            raise DataError(f"{positions}: {e}") from None
        _write(t, out, "added to")


@traj_app.command("combine")
def traj_combine(
    first: Annotated[Path, typer.Argument(help="The first tracking run.")],
    second: Annotated[Path, typer.Argument(help="The run to append.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    id_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="SECOND_ID=FIRST_ID: the same entity in both runs (repeat)."),
    ] = None,
    frame_offset: Annotated[int, typer.Option(help="Added to the second run's frames.")] = 0,
    id_offset: Annotated[
        int | None,
        typer.Option(help="Added to unmapped ids of the second run (default: clear of the first)."),
    ] = None,
) -> None:
    """Merge two tracking runs (e.g. two halves) with an id mapping and a frame offset."""
    from touchline import trajectories as tr

    with _errors():
        a = _read_tracks(first, None, None)
        b = _read_tracks(second, None, None)
        mapping = {int(k): int(v) for k, v in _options(id_map).items()}
        t = tr.combine_runs(a, b, id_map=mapping, frame_offset=frame_offset, id_offset=id_offset)
        _write(t, out, "combined")


@traj_app.command("suggest")
def traj_suggest(
    source: Annotated[Path, typer.Argument(help="A tracks table.")],
    max_gap: Annotated[float, typer.Option(help="Longest gap between fragments, s.")] = 2.0,
    max_speed: Annotated[float, typer.Option(help="Fastest plausible run across it, m/s.")] = 9.0,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Also write them here.")] = None,
) -> None:
    """Suggest fragments that belong to one player (reachable in time, same team)."""
    from touchline import trajectories as tr
    from touchline.utils.files import atomic_path

    with _errors():
        t = _read_tracks(source, None, None)
        s = tr.suggest_merges(t, max_gap_s=max_gap, max_speed=max_speed)
        if csv_out is not None:
            with atomic_path(csv_out) as tmp:
                s.to_csv(tmp, index=False)
    if s.empty:
        console.print("no merge suggestions")
        return
    typer.echo(s.to_string(index=False))


@app.command()
def analyze(
    source: Annotated[
        Path | None, typer.Argument(help="Tracks: our table, a LastRow CSV or CDF.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("analysis"),
    provider: Annotated[str | None, typer.Option(help=_PROVIDER_HELP)] = None,
    file: Annotated[list[str] | None, typer.Option("--file", help=_FILE_HELP)] = None,
    surface: Annotated[
        str, typer.Option(help="Value surface: xt (shipped), epv, xt-grid, or a .csv/.json file.")
    ] = "xt",
    frame: Annotated[
        list[int] | None,
        typer.Option("--frame", help="Key frame to plot (repeat; default: highest EDG)."),
    ] = None,
    animate: Annotated[
        bool | None,
        typer.Option("--animate/--no-animate", help="Write animation.mp4 (default: plays)."),
    ] = None,
    counter: Annotated[
        float, typer.Option(help="Weight of the opponent's value where the ball would be lost.")
    ] = 0.0,
    move_scale: Annotated[float, typer.Option(help="Next-move kernel scale, m.")] = 8.0,
) -> None:
    """Possession, EDG (expected discounted goals), pitch control and Voronoi plots for a play
    or a match; writes edg.csv, summary.json, PNGs and an animation. Resumes a killed run."""
    from touchline.analytics.edg import EdgParams
    from touchline.jobs.analyze import analyze_tracks

    with _errors():
        tracks = _read_tracks(source, provider, file)
        params = EdgParams(move_scale=move_scale, counter=counter)
        with _progress() as update:
            summary = analyze_tracks(
                tracks, out, surface=surface, params=params, key_frames=frame,
                animate=animate, progress=update,
            )  # fmt: skip
    poss = ", ".join(f"team {k}: {v:.0%}" for k, v in summary.possession.items())
    console.print(
        f"[green]analysed[/] {summary.frames} frames ({poss} possession; {len(summary.goals)} "
        f"goals; {summary.timings['total_s']} s) -> {out}/"
    )


# --------------------------------------------------------------------------------------------
# Active-learning frame selection
# --------------------------------------------------------------------------------------------
@app.command()
def predict(
    source: Annotated[
        str, typer.Argument(help="A video, or a folder / fsspec URL of videos and images.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The Lightly predictions folder.")],
    task: Annotated[
        str, typer.Option(help="keypoints (pitch keypoints) or detection (people and ball).")
    ] = "keypoints",
    model: Annotated[Path | None, typer.Option(help="Another ONNX model of the same kind.")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Frames per model call.")] = 8,
) -> None:
    """Write our shipped models' predictions in Lightly's prediction format (tasks.json, schema,
    one JSON per frame). A killed run continues where it stopped."""
    from touchline.select.predict import predict_folder

    with _errors(), _progress() as update:
        s = predict_folder(source, out, task=task, batch_size=batch, model=model,
                           progress=update)  # fmt: skip
    console.print(
        f"[green]predicted[/] {s.task} on {s.frames} frames ({s.predicted} new, "
        f"{s.resumed} already done; {s.objects} objects) -> {out}/"
    )


@app.command("select")
def select_cmd(
    input: Annotated[
        str,
        typer.Option(
            "--input", "-i", help="Videos and images: a folder, a video or an fsspec URL."
        ),
    ],
    config: Annotated[Path, typer.Option(help="Selection config JSON (Lightly's format).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    predictions: Annotated[
        Path | None, typer.Option(help="Lightly predictions folder (tasks.json, TASK/...).")
    ] = None,
    metadata: Annotated[
        Path | None, typer.Option(help="Lightly metadata folder (schema.json, per-file JSON).")
    ] = None,
    object_level: Annotated[
        str | None, typer.Option(help="Select this prediction task's objects (crops), not frames.")
    ] = None,
    tags: Annotated[
        Path | None, typer.Option(help="Folder of TAG_NAME.txt files (SIMILARITY queries).")
    ] = None,
    model: Annotated[
        str, typer.Option(help="Embedding model: embed (shipped) or an ONNX file.")
    ] = "embed",
    cache: Annotated[Path | None, typer.Option(help="Embedding cache folder.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of RANDOM inputs.")] = 0,
    extract: Annotated[
        bool, typer.Option(help="Write the selected frames and labelling-tool files.")
    ] = True,
    report: Annotated[
        bool, typer.Option(help="Write report.json, report.html and report.pdf.")
    ] = True,
) -> None:
    """Select the frames (or objects) worth labelling: Lightly Worker folders and configs in;
    the selection, frames, Label Studio / CVAT imports and a report out. Resumes when killed."""
    from touchline.jobs.select import select_frames

    with _errors(), _progress() as update:
        run = select_frames(
            input, out, config=config, predictions=predictions, metadata=metadata,
            object_level=object_level, tags=tags, model=model, cache=cache, seed=seed,
            extract=extract, report=report, progress=update,
        )  # fmt: skip
    s = run.summary
    console.print(
        f"[green]selected[/] {s.selected} of {s.samples} {s.kind} "
        f"(stop: {s.stop_reason}; {sum(s.timings_s.values()):.1f} s) -> {out}/"
    )


def main() -> None:
    """Entry point of the ``touchline`` console script."""
    app(prog_name="touchline")


if __name__ == "__main__":  # pragma: no cover
    main()
