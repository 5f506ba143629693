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
    except (TouchlineError, ValueError) as e:
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
        typer.Option(help="Real tracking data to animate (Last Row CSV or a tracks table)."),
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
    from touchline.demo import run_demo

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
    from touchline.calib.run import calibrate_path
    from touchline.video import probe

    with _errors():
        probe(source)  # a bad input fails here, before any progress bar is drawn
        cal = Calibrator(KeypointModel(model) if model else None)
        with _progress() as update:
            summary = calibrate_path(
                source, out, calibrator=cal, overlay=overlay, topdown=topdown, progress=update
            )
    console.print(
        f"[green]calibrated[/] {summary['calibrated']}/{summary['frames']} frames "
        f"({summary['cuts']} cuts, {summary['fps']} fps) -> {out}/"
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
    from touchline.detect.run import detect_path
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
    per_class = ", ".join(f"{v} {k}" for k, v in summary["per_class"].items())
    console.print(
        f"[green]detected[/] {summary['detections']} boxes in {summary['frames']} frames "
        f"({per_class}; {summary['fps']} fps) -> {out}/"
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
        int, typer.Option(help="Fill gaps inside a track up to this many frames.")
    ] = 10,
    min_frames: Annotated[
        int, typer.Option(help="Drop tracks seen on fewer frames than this.")
    ] = 5,
    smooth: Annotated[
        int, typer.Option(help="Smoothing window along tracks in frames (odd; 0 turns it off).")
    ] = 7,
    model: Annotated[Path | None, typer.Option(help=_MODEL_HELP)] = None,
    no_calibration: Annotated[
        bool, typer.Option("--no-calibration", help="Track in image space only.")
    ] = False,
) -> None:
    """Track players, goalkeepers, referees and the ball: detect, calibrate, track in pitch
    metres, assign teams; writes the tracks table (Parquet, CSV), annotated and radar videos
    and summary.json. A killed run resumes where it stopped."""
    from touchline.detect import load_detector
    from touchline.track.football import FootballTracker
    from touchline.track.run import track_video
    from touchline.video import probe

    with _errors():
        info = probe(source)  # a bad input fails here, before any progress bar is drawn
        ft = FootballTracker(
            detector=load_detector(model) if model else None,
            calibrator=False if no_calibration else None,
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
                max_gap=max_gap,
                min_frames=min_frames,
                smooth=smooth,
                progress=update,
            )
    teams = ", ".join(f"team {k}: {v}" for k, v in summary["teams"].items())
    resumed = f", {summary['resumed_frames']} resumed" if summary["resumed_frames"] else ""
    console.print(
        f"[green]tracked[/] {summary['tracks']} people over {summary['frames']} frames "
        f"({teams}; ball on {summary['ball_frames']} frames; {summary['fps']} fps{resumed}) "
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
            )
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
            res = evaluate_detection(data, det, class_map=cmap, frame_size=size, progress=update)
        if json_out is not None:
            from touchline.utils.files import write_json_atomic

            write_json_atomic(json_out, res)
    console.print_json(
        json.dumps({k: res[k] for k in ("images", "ap50", "ap50_95", "precision", "recall", "fps")})
    )


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
            help="A folder of MOT sequences (<seq>/gt/gt.txt and <seq>/seqinfo.ini; no frames)."
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
        res["data"] = str(mot)
        write_json_atomic(json_out, res)
    typer.echo(format_summary(res))


def main() -> None:
    """Entry point of the ``touchline`` console script."""
    app(prog_name="touchline")


if __name__ == "__main__":  # pragma: no cover
    main()
