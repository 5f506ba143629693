"""Synthetic broadcast clips with exact ground truth: ``touchline synth``.

:func:`synthesize` renders a clip and writes, under one output folder::

    clip.mp4             H.264 video
    ground_truth.json    per frame: homography (image px -> pitch m), camera, objects
    homographies.npz     the same cameras as arrays: image_to_pitch, pitch_to_image, P, K, R, C
    gt/gt.txt            MOT ground truth (with seqinfo.ini: the folder is a MOT sequence)
    seqinfo.ini
    tracks.parquet       visible objects as a Touchline tracks table (also tracks.csv)
    scene.parquet        every actor's pitch position in every frame, visible or not
    manifest.json        what was written, with the configuration that made it

Everything is deterministic for a seed. Image coordinates are continuous pixels: pixel (i, j)
covers [i, i+1) x [j, j+1). Pitch coordinates are touchline metres (origin at the top-left
corner, x along the length, y across from the far touchline).

>>> import tempfile
>>> clip = synthesize(SynthConfig(seconds=0.2, fps=10, size=(320, 180), camera="builtin"),
...                   tempfile.mkdtemp())
>>> clip.frames, sorted(p.name for p in clip.out_dir.iterdir())[:3]
(2, ['clip.mp4', 'ground_truth.json', 'gt'])
"""

from __future__ import annotations

import configparser
import io
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from touchline import __version__
from touchline.data import shared_file
from touchline.errors import DataError
from touchline.pitch import Pitch
from touchline.synth.camera import (
    CameraPose,
    FollowCam,
    PinholeCamera,
    builtin_poses,
    load_broadcast_poses,
)
from touchline.synth.game import simulate_match
from touchline.synth.render import FrameObject, RenderedFrame, Renderer, RenderStyle
from touchline.synth.scene import Scene, scene_from_tracks
from touchline.tracks import Tracks
from touchline.types import CLASS_NAMES
from touchline.utils.files import atomic_path, write_json_atomic, write_text_atomic
from touchline.video import VideoWriter

__all__ = [
    "POSES_FILE",
    "SynthClip",
    "SynthConfig",
    "Synthesizer",
    "iter_frames",
    "load_scene",
    "synthesize",
]

#: Real broadcast camera poses, used when present (relative to the shared data folder).
POSES_FILE = "calibration/broadcast_camera_homographies.npz"


@dataclass(frozen=True)
class SynthConfig:
    """What to render.

    Args:
        seconds: clip length (shortened to the data when ``tracking`` is shorter).
        fps: frames per second.
        size: ``(width, height)`` in pixels.
        seed: drives the game, kits, camera pose, zoom drift, grass, crowd, boards and sun.
        tracking: optional real tracking data driving the players: any file
            :func:`touchline.io.read_tracking` reads (a Touchline tracks table, a Last Row
            CSV, CDF JSON Lines or a folder holding them).
        camera: ``"auto"`` (real broadcast poses from ``../shared/data`` when present, else
            built-in), ``"builtin"``, or the path of an npz of broadcast homographies.
        crf: H.264 quality (lower is better; 18-23 is visually lossless to good).
        style: rendering options (its seed is replaced by ``seed``).
    """

    seconds: float = 10.0
    fps: float = 25.0
    size: tuple[int, int] = (1280, 720)
    seed: int = 0
    tracking: Path | None = None
    camera: str = "auto"
    crf: int = 20
    style: RenderStyle = field(default_factory=RenderStyle)

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"seconds must be positive, got {self.seconds}")
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        w, h = self.size
        if w < 64 or h < 36 or w > 7680 or h > 4320:
            raise ValueError(f"size must be between 64x36 and 7680x4320, got {w}x{h}")


@dataclass(frozen=True)
class SynthClip:
    """Paths and facts of a rendered clip."""

    out_dir: Path
    video: Path
    ground_truth: Path
    homographies: Path
    mot_gt: Path
    tracks: Path
    scene: Path
    frames: int
    fps: float
    size: tuple[int, int]
    camera: CameraPose
    scene_source: str


def load_scene(config: SynthConfig, pitch: Pitch | None = None) -> Scene:
    """The motion to render: real tracking data when given, else the simple game model.

    ``config.tracking`` is read by :func:`touchline.io.read_tracking` (a touchline tracks
    table, a Last Row CSV or CDF) and resampled to ``config.fps`` by
    :func:`~touchline.synth.scene.scene_from_tracks`; the scene holds at most
    ``config.seconds`` of it.

    Raises:
        DataError: the tracking file is missing or unreadable (the message names it).

    >>> scene = load_scene(SynthConfig(seconds=0.2, fps=10))
    >>> scene.n_frames, scene.source
    (2, 'game-model:seed=0')
    """
    pitch = pitch or Pitch()
    if config.tracking is None:
        return simulate_match(config.seconds, config.fps, config.seed, pitch)
    return scene_from_tracks(
        Path(config.tracking), fps=config.fps, pitch=pitch, seconds=config.seconds
    )


def _choose_pose(config: SynthConfig, pitch: Pitch, rng: np.random.Generator) -> CameraPose:
    if config.camera == "builtin":
        poses = builtin_poses(pitch)
    elif config.camera == "auto":
        path = shared_file(POSES_FILE)
        poses = load_broadcast_poses(path, pitch) if path else builtin_poses(pitch)
    else:
        path = Path(config.camera)
        if not path.exists():
            raise DataError(
                f"{path}: no such file (camera must be 'auto', 'builtin' or an npz of "
                "broadcast homographies)"
            )
        poses = load_broadcast_poses(path, pitch)
    return poses[int(rng.integers(len(poses)))]


def _cameras(
    config: SynthConfig, scene: Scene, pitch: Pitch
) -> tuple[CameraPose, list[PinholeCamera]]:
    rng = np.random.default_rng([config.seed, 1])
    pose = _choose_pose(config, pitch, rng)
    bi = scene.ball_index
    if bi is None:
        target = np.nanmean(scene.xy, axis=1)
    else:
        target = scene.xy[:, bi].copy()
        missing = np.isnan(target).any(axis=1)
        if missing.any():
            target[missing] = np.nanmean(scene.xy[missing], axis=1)
    target = np.where(np.isnan(target), [pitch.length / 2, pitch.width / 2], target)
    cams = FollowCam(pose, config.size, config.fps, pitch, seed=config.seed).cameras(target)
    return pose, cams


class Synthesizer:
    """Everything needed to render a clip: scene, camera per frame and renderer, built once.

    >>> syn = Synthesizer(SynthConfig(seconds=0.2, fps=10, size=(320, 180), camera="builtin"))
    >>> len(syn), syn.render(1).image.shape
    (2, (180, 320, 3))
    """

    def __init__(self, config: SynthConfig) -> None:
        self.config = config
        self.pitch = Pitch()
        self.scene = load_scene(config, self.pitch)
        self.pose, self.cameras = _cameras(config, self.scene, self.pitch)
        self.renderer = Renderer(self.pitch, config.size, replace(config.style, seed=config.seed))
        T = self.scene.n_frames
        self._empty = Scene(
            config.fps, [], np.zeros((T, 0, 2)), np.zeros((T, 0)), self.pitch, "empty"
        )

    def __len__(self) -> int:
        return self.scene.n_frames

    def render(
        self, k: int, *, layers: bool = False, paint_lines: bool = True, actors: bool = True
    ) -> RenderedFrame:
        """Render frame ``k``.

        ``actors=False`` renders the same frame with nobody on the pitch and
        ``paint_lines=False`` without painted lines (background plates, e.g. for tests).
        """
        if not 0 <= k < len(self):
            raise IndexError(f"frame {k} out of range for a clip of {len(self)} frames")
        scene = self.scene if actors else self._empty
        return self.renderer.render(
            self.cameras[k], scene, k, layers=layers, paint_lines=paint_lines
        )


def iter_frames(config: SynthConfig) -> Iterator[tuple[Scene, RenderedFrame]]:
    """Render frames one by one (no files): ``(scene, frame)`` pairs."""
    syn = Synthesizer(config)
    for k in range(len(syn)):
        yield syn.scene, syn.render(k)


def synthesize(
    config: SynthConfig,
    out_dir: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SynthClip:
    """Render a clip and write it with its ground truth under ``out_dir``.

    Args:
        config: what to render.
        out_dir: output folder (created; files in it are replaced atomically).
        progress: called as ``progress(done, total)`` after each frame.
    """
    syn = Synthesizer(config)  # validates every input before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pitch, scene, pose, cams = syn.pitch, syn.scene, syn.pose, syn.cameras
    T = len(syn)
    frames_json: list[dict[str, object]] = []
    mot_rows: list[str] = []
    track_rows: list[dict[str, object]] = []
    with VideoWriter(out / "clip.mp4", config.fps, crf=config.crf) as writer:
        for k in range(T):
            fr = syn.render(k)
            writer.write(fr.image)
            t = k / config.fps
            frames_json.append(_frame_record(k, t, fr))
            for o in fr.objects:
                mot_rows.append(_mot_row(k, o))
                track_rows.append(_track_row(k, t, o))
            if progress is not None:
                progress(k + 1, T)
    w, h = config.size
    # Cameras as arrays.
    with atomic_path(out / "homographies.npz") as tmp, tmp.open("wb") as fh:
        np.savez_compressed(
            fh,
            image_to_pitch=np.stack([c.image_to_pitch for c in cams]),
            pitch_to_image=np.stack([c.pitch_to_image for c in cams]),
            P=np.stack([c.P for c in cams]),
            K=np.stack([c.K for c in cams]),
            R=np.stack([c.R for c in cams]),
            C=np.stack([c.C for c in cams]),
            frame=np.arange(T),
            time=np.arange(T) / config.fps,
        )
    meta = {
        "format": "touchline-synth/1",
        "touchline": __version__,
        "video": "clip.mp4",
        "fps": config.fps,
        "width": w,
        "height": h,
        "n_frames": T,
        "seed": config.seed,
        "pitch": {"length": pitch.length, "width": pitch.width},
        "coordinates": {
            "image": "pixels; pixel (i, j) covers [i, i+1) x [j, j+1)",
            "pitch": "touchline metres: origin top-left corner, x along the length, "
            "y across from the far touchline",
            "homography": "image_to_pitch maps image pixels to pitch metres (H[2,2] = 1)",
            "box": "x1, y1, x2, y2: tight box of the drawn figure, clipped to the image",
        },
        "classes": list(CLASS_NAMES),
        "scene_source": scene.source,
        "camera": {
            "source": pose.source,
            "position": list(pose.position),
            "view_width": pose.view_width,
        },
        "actors": [
            {
                "id": a.id,
                "class": CLASS_NAMES[int(a.role)],
                "class_id": int(a.role),
                "team": a.team,
                "number": a.number,
                "height": round(a.height, 3),
                "kit": asdict(a.kit),
            }
            for a in scene.actors
        ],
    }
    write_json_atomic(out / "ground_truth.json", {**meta, "frames": frames_json}, indent=None)
    # MOT sequence.
    write_text_atomic(out / "gt" / "gt.txt", "".join(mot_rows))
    ini = configparser.ConfigParser()
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini["Sequence"] = {
        "name": out.name or "synth",
        "imDir": "img1",
        "frameRate": f"{config.fps:g}",
        "seqLength": str(T),
        "imWidth": str(w),
        "imHeight": str(h),
        "imExt": ".jpg",
        "video": "clip.mp4",
    }
    buf = io.StringIO()
    ini.write(buf)
    write_text_atomic(out / "seqinfo.ini", buf.getvalue())
    # Tracks table (visible objects) and full scene.
    tracks = Tracks(
        pd.DataFrame(track_rows) if track_rows else Tracks.empty().df,
        fps=config.fps,
        image_size=(w, h),
        pitch_size=(pitch.length, pitch.width),
        meta={"source": "touchline synth ground truth", "seed": config.seed},
    )
    tracks.to_parquet(out / "tracks.parquet")
    tracks.to_csv(out / "tracks.csv")
    with atomic_path(out / "scene.parquet") as tmp:
        _scene_table(scene).to_parquet(tmp, index=False)
    write_json_atomic(
        out / "manifest.json",
        {
            "files": [
                "clip.mp4",
                "ground_truth.json",
                "homographies.npz",
                "gt/gt.txt",
                "seqinfo.ini",
                "tracks.parquet",
                "tracks.csv",
                "scene.parquet",
            ],
            "config": {
                "seconds": config.seconds,
                "fps": config.fps,
                "size": list(config.size),
                "seed": config.seed,
                "tracking": str(config.tracking) if config.tracking else None,
                "camera": config.camera,
                "crf": config.crf,
            },
            "frames": T,
            "camera_pose": pose.source,
            "scene_source": scene.source,
        },
    )
    return SynthClip(
        out_dir=out,
        video=out / "clip.mp4",
        ground_truth=out / "ground_truth.json",
        homographies=out / "homographies.npz",
        mot_gt=out / "gt" / "gt.txt",
        tracks=out / "tracks.parquet",
        scene=out / "scene.parquet",
        frames=T,
        fps=config.fps,
        size=config.size,
        camera=pose,
        scene_source=scene.source,
    )


def _frame_record(k: int, t: float, fr: RenderedFrame) -> dict[str, object]:
    cam = fr.camera
    return {
        "frame": k,
        "time": round(t, 6),
        "homography": cam.image_to_pitch.tolist(),
        "camera": {"K": cam.K.tolist(), "R": cam.R.tolist(), "C": cam.C.tolist()},
        "objects": [
            {
                "id": o.id,
                "class": CLASS_NAMES[int(o.role)],
                "team": o.team,
                "box": [round(v, 2) for v in o.box],
                "foot": [round(v, 3) for v in o.foot],
                "pitch": [round(v, 4) for v in o.pitch],
                "z": round(o.z, 3),
                "visibility": round(o.visibility, 3),
            }
            for o in fr.objects
        ],
    }


def _mot_row(k: int, o: FrameObject) -> str:
    x1, y1, x2, y2 = o.box
    # MOT: frame (1-based), id, left, top, width, height, conf flag, class, visibility.
    # Class is Touchline's class id + 1 (1 player, 2 goalkeeper, 3 referee, 4 ball).
    return (
        f"{k + 1},{o.id},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},1,"
        f"{int(o.role) + 1},{o.visibility:.3f}\n"
    )


def _track_row(k: int, t: float, o: FrameObject) -> dict[str, object]:
    x1, y1, x2, y2 = o.box
    return {
        "frame": k,
        "time": t,
        "track_id": o.id,
        "class_id": int(o.role),
        "class_name": CLASS_NAMES[int(o.role)],
        "team": o.team,
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "foot_x": o.foot[0],
        "foot_y": o.foot[1],
        "pitch_x": o.pitch[0],
        "pitch_y": o.pitch[1],
        "confidence": 1.0,
        "track_confidence": 1.0,
        "calib_confidence": 1.0,
    }


def _scene_table(scene: Scene) -> pd.DataFrame:
    T, N = scene.xy.shape[:2]
    return pd.DataFrame(
        {
            "frame": np.repeat(np.arange(T), N),
            "time": np.repeat(np.arange(T) / scene.fps, N),
            "id": np.tile([a.id for a in scene.actors], T),
            "class_id": np.tile([int(a.role) for a in scene.actors], T).astype(np.int16),
            "team": np.tile([a.team for a in scene.actors], T).astype(np.int8),
            "pitch_x": scene.xy[..., 0].ravel(),
            "pitch_y": scene.xy[..., 1].ravel(),
            "z": scene.z.ravel(),
        }
    )
