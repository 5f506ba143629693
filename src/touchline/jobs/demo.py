"""``touchline demo``: render a synthetic clip and run the whole pipeline on it.

Needs no data files and no network. Runs the job of ``touchline track`` (shipped detector,
shipped calibration model with temporal fusion, tracking in pitch metres, teams) on the pixels
of a clip whose truth is known, scores it, and writes, under the output folder (default
``./touchline-demo``)::

    README.md         what is here, with the scores
    synth/            the clip and its exact ground truth (see ``touchline synth``)
    track/            the outputs of ``touchline track``: tracks.parquet / tracks.csv,
                      homographies.npz, summary.json
    tracking.json     the tracks scored against the ground truth (HOTA, IDF1, pitch error, teams)
    calibration.json  the camera calibrated by Touchline from the pixels alone, with its error
                      against the ground truth
    overlay.mp4       the decoded clip with the pitch lines projected through Touchline's
                      calibration, Touchline's tracks (boxes, ids, team colours) and a radar inset
    radar.mp4         the top-down view of the tracks and the camera's field of view
    stills/           PNG stills of the overlay, the radar and the frame warped onto the pitch
    analysis/         ``touchline analyze`` on the tracks: possession, EDG over time, pitch
                      control, Voronoi and EDG-map plots of the key frame
    predictions/      ``touchline predict --task keypoints`` on the clip (Lightly's format)
    selection/        ``touchline select``: the frames worth labelling, with the report
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from touchline import __version__
from touchline.eval.calibration_metrics import iou_whole
from touchline.eval.tracking_e2e import TrackScores, evaluate_tracks
from touchline.jobs.calibrate import calibration_records
from touchline.jobs.pipeline import FootballTracker
from touchline.jobs.track import TrackResult, track_video
from touchline.synth.clip import SynthClip, SynthConfig, synthesize
from touchline.synth.groundtruth import GroundTruth
from touchline.tracks import Tracks, read_tracks
from touchline.types import Calibration, CalibrationStatus
from touchline.utils.files import write_json_atomic, write_text_atomic
from touchline.video import VideoReader, VideoWriter, write_image
from touchline.viz.overlay import BoxAnnotator, LabelAnnotator, draw_pitch_lines, warp_to_pitch
from touchline.viz.radar import Radar, camera_viewport, inset

if TYPE_CHECKING:
    from touchline.jobs.analyze import AnalyzeResult
    from touchline.jobs.select import SelectionSummary

__all__ = ["DemoResult", "run_demo"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its outputs."""

    out_dir: Path
    clip: SynthClip
    overlay: Path
    radar: Path
    stills: list[Path]
    readme: Path


def run_demo(
    out_dir: str | Path = "touchline-demo",
    *,
    seconds: float = 6.0,
    size: tuple[int, int] = (960, 540),
    seed: int = 7,
    progress: Progress | None = None,
) -> DemoResult:
    """Render a clip with the built-in camera and write overlays, radar and stills.

    Args:
        out_dir: output folder.
        seconds, size, seed: the synthetic clip.
        progress: called as ``progress(stage, done, total)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = SynthConfig(seconds=seconds, size=size, seed=seed, camera="builtin")
    clip = synthesize(
        cfg, out / "synth", progress=(lambda d, t: progress("render", d, t)) if progress else None
    )
    gt = GroundTruth.read(clip.out_dir)
    summary = track_video(
        clip.video,
        out / "track",
        tracker=FootballTracker(fps=clip.fps),
        annotate=False,
        radar=False,
        progress=progress,
    )
    tracks = read_tracks(out / "track" / "tracks.parquet")
    scores = evaluate_tracks(tracks, gt)
    write_json_atomic(
        out / "tracking.json", {"scores": scores.to_json(), "summary": summary.to_json()}
    )
    cals = _calibrations(out / "track" / "homographies.npz", clip.size)
    calib = _calibration_report(cals, gt, out)
    radar = Radar(width=420)
    boxes = BoxAnnotator(color_by="team")
    labels = LabelAnnotator()
    still_at = {0, len(gt) // 2, len(gt) - 1}
    stills: list[Path] = []
    stills_dir = out / "stills"
    with (
        VideoReader(clip.video) as reader,
        VideoWriter(out / "overlay.mp4", clip.fps) as ov_writer,
        VideoWriter(out / "radar.mp4", clip.fps) as radar_writer,
    ):
        total = len(reader)
        for frame in reader:
            k = frame.index
            cal = cals[k]
            dets = tracks.frame(k)
            viewport = camera_viewport(cal, clip.size) if cal.is_valid else None
            top = radar.render_detections(dets, viewport=viewport)
            img = draw_pitch_lines(frame.image, cal, color=(40, 40, 255), thickness=1)
            img = boxes.annotate(img, dets)
            img = labels.annotate(img, dets)
            img = inset(img, top, corner="bottom-right", scale=0.3)
            ov_writer.write(img)
            radar_writer.write(top)
            if k in still_at:
                stills.append(write_image(stills_dir / f"overlay_{k:04d}.png", img))
                stills.append(write_image(stills_dir / f"radar_{k:04d}.png", top))
                warped, _ = warp_to_pitch(frame.image, cal, px_per_m=8.0)
                stills.append(write_image(stills_dir / f"topdown_{k:04d}.png", warped))
            if progress:
                progress("overlay", k + 1, total)
    analysis, selection = _analysis_and_selection(out, clip, tracks, progress)
    readme = write_text_atomic(
        out / "README.md",
        _readme(clip, gt, stills, out, calib, scores, summary, analysis, selection),
    )
    return DemoResult(out, clip, out / "overlay.mp4", out / "radar.mp4", stills, readme)


DEMO_SELECTION = {
    "n_samples": 12,
    "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {
            "input": {
                "type": "SCORES",
                "task": "pitch_keypoints",
                "score": "objectness_least_confidence",
            },
            "strategy": {"type": "WEIGHTS", "strength": 0.5},
        },
    ],
}
"""The demo's selection config: 12 diverse frames, favouring uncertain pitch keypoints."""


def _analysis_and_selection(
    out: Path, clip: SynthClip, tracks: Tracks, progress: Progress | None
) -> tuple[AnalyzeResult, SelectionSummary]:
    from touchline.jobs.analyze import analyze_tracks
    from touchline.jobs.select import select_frames
    from touchline.select.predict import predict_folder

    analysis = analyze_tracks(
        tracks, out / "analysis", animate=False, ball_grid=(21, 13), progress=progress
    )
    predict_folder(clip.video, out / "predictions", task="keypoints", progress=progress)
    write_json_atomic(out / "selection.json", DEMO_SELECTION)
    run = select_frames(
        clip.video,
        out / "selection",
        config=DEMO_SELECTION,
        predictions=out / "predictions",
        cache=out / "selection" / ".cache",
        progress=progress,
    )
    return analysis, run.summary


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def _shares(p: dict) -> str:
    return ", ".join(f"team {k} {v:.0%}" for k, v in p.items())


def _m(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f} m"


def _calibrations(path: Path, size: tuple[int, int]) -> list[Calibration]:
    """The per-frame calibrations written by the track job (``homographies.npz``)."""
    import numpy as np

    z = np.load(path)
    return [
        Calibration(
            None if np.isnan(H).any() else H,
            confidence=float(c),
            status=CalibrationStatus(str(st)),
            image_size=size,
            cut=bool(cut),
        )
        for H, c, st, cut in zip(z["H"], z["confidence"], z["status"], z["cut"], strict=True)
    ]


def _calibration_report(cals: list[Calibration], gt: GroundTruth, out: Path) -> dict:
    """Write ``calibration.json``: per-frame calibration and its error against ground truth."""
    import numpy as np

    ious = []
    for k, c in enumerate(cals):
        truth = gt.calibration(k)
        if c.is_valid and c.homography is not None and truth.homography is not None:
            ious.append(iou_whole(c.homography, truth.homography, image_size=c.image_size))
        else:
            ious.append(0.0)
    summary = {
        "frames": len(cals),
        "calibrated": int(sum(c.is_valid for c in cals)),
        "iou_whole_mean": float(np.mean(ious)) if ious else 0.0,
        "iou_whole_median": float(np.median(ious)) if ious else 0.0,
    }
    recs = calibration_records(cals)
    for r, v in zip(recs, ious, strict=True):
        r["iou_whole_vs_ground_truth"] = round(float(v), 4)
    write_json_atomic(out / "calibration.json", {"summary": summary, "frames": recs})
    return summary


def _readme(
    clip: SynthClip,
    gt: GroundTruth,
    stills: list[Path],
    out: Path,
    calib: dict,
    scores: TrackScores,
    summary: TrackResult,
    analysis: AnalyzeResult,
    selection: SelectionSummary,
) -> str:
    n_obj = sum(len(f["objects"]) for f in gt.frames)
    per_frame = n_obj / max(1, len(gt))
    still_list = "\n".join(f"- `{p.relative_to(out)}`" for p in stills)
    w, h = clip.size
    return f"""# Touchline demo output

Made by `touchline demo` (touchline {__version__}): a synthetic broadcast clip rendered with exact
ground truth, then run through the whole pipeline of `touchline track` from its pixels alone:
the shipped detector, the shipped calibration model (fused over time), the tracker (in pitch
metres, with appearance re-identification) and the team assignment. Nothing below is ground
truth except the `synth/` folder.

- Calibration: {calib["calibrated"]} of {calib["frames"]} frames calibrated, mean IoU (whole pitch,
  against the true camera) {calib["iou_whole_mean"]:.3f} (median {calib["iou_whole_median"]:.3f}).
- Tracking ({summary.tracks} tracks of people, {summary.fps} frames/s for the whole job):
  HOTA {_pct(scores.hota)} on image boxes, {_pct(scores.pitch_hota)} on pitch positions;
  IDF1 {_pct(scores.idf1)}; median pitch-position error {_m(scores.pitch_error_median_m)};
  team accuracy {_pct(scores.team_accuracy)}. The detector was trained on real broadcasts
  only, so the stylised synthetic players are outside its domain: expect its boxes to be looser
  than on real footage (the benchmark track_synth.py in the repository separates the two
  effects).

| file | what it is |
|---|---|
| `synth/clip.mp4` | the rendered clip: {clip.frames} frames, {w}x{h}, {clip.fps:g} fps, H.264 |
| `synth/ground_truth.json` | per frame: homography (image px -> pitch m), camera K/R/C, every visible object with id, class, team, box, foot point, pitch position, visibility |
| `synth/homographies.npz` | the per-frame cameras as arrays |
| `synth/gt/gt.txt`, `synth/seqinfo.ini` | the same boxes as a MOT sequence |
| `synth/tracks.parquet`, `synth/tracks.csv` (+ `synth/tracks.csv.meta.json`) | visible objects as a Touchline tracks table (the CSV's metadata in the sidecar) |
| `synth/scene.parquet` | every actor's pitch position in every frame, on screen or not |
| `synth/manifest.json` | the files written and the configuration that made them |
| `track/tracks.parquet`, `track/tracks.csv` | Touchline's tracks: frame, time, id, class, team, box, foot point, pitch x/y, confidences |
| `track/homographies.npz` | Touchline's per-frame calibration as arrays |
| `track/summary.json` | counts, teams and speed of the tracking job |
| `tracking.json` | the tracks scored against the ground truth (HOTA, DetA, AssA, IDF1, MOTA, pitch HOTA, pitch error, teams, ball) |
| `calibration.json` | Touchline's per-frame calibration (homography, status, confidence) and its IoU against the true camera |
| `overlay.mp4` | decoded clip + pitch lines through Touchline's calibration + Touchline's tracks (boxes, ids, team colours) + radar inset |
| `radar.mp4` | top-down view of Touchline's tracks with the camera's field of view |
| `stills/` | PNG stills of both, and the frame warped onto the pitch |
| `analysis/` | `touchline analyze` on Touchline's tracks: `analysis/edg.csv` (possession, EDG and pitch share per frame), `analysis/edg.png` (EDG over time), the key frame's Voronoi, pitch-control and EDG-map PNGs, `analysis/summary.json` |
| `predictions/` | `touchline predict --task keypoints`: the pitch keypoints of every frame in Lightly's prediction format |
| `selection.json` | the selection config used (Lightly's format) |
| `selection/` | `touchline select`: `selection/selection.csv` and `selection/selection.json`, the frames in `selection/frames/`, `selection/label_studio_tasks.json`, `selection/cvat_annotations.xml`, the report `selection/report.html` / `selection/report.pdf` / `selection/report.json` |

- Analysis: possession {_shares(analysis.possession)}; key frame {analysis.key_frames[0]}
  (`analysis/`).
- Selection: {selection.selected} of {selection.samples} frames picked for labelling
  (`selection/report.html`).

On average {per_frame:.1f} objects are visible per frame. Motion: {clip.scene_source}.
Camera: {clip.camera.source} pose at ({clip.camera.position[0]:.1f}, {clip.camera.position[1]:.1f}) m,
{-clip.camera.position[2]:.1f} m high, framing about {clip.camera.view_width:.0f} m of ground.

Stills:
{still_list}

Pitch coordinates are metres with the origin at the top-left corner of the pitch as seen from the
main camera (x along the touchline, y across from the far touchline). Re-run with
`touchline demo --out DIR`; render other clips with `touchline synth --out DIR --seconds 10`.
"""
