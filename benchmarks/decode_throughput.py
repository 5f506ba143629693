"""Video decode (and encode) throughput of ``touchline.video``, in frames per second.

Usage::

    python benchmarks/decode_throughput.py [--out benchmarks/results/decode_throughput.json]
        [--runs 3]

Inputs:

- the real DFL Bundesliga clip ``../shared/data/video/dfl_08fd33_4.mp4`` (848x478 H.264, 169
  frames), and the SoccerTrack wide-angle clip (3072x1728 HEVC, 250 frames), read in place; a
  missing file is reported as skipped, with the reason, rather than failing the run;
- a synthetic 1280x720 clip written on the fly with :class:`touchline.video.VideoWriter`
  (panning noise texture, per-frame sensor noise and moving shapes, so that H.264 has real
  work), which also gives the write throughput.

Each decode figure is the median of ``--runs`` full decodes to uint8 BGR arrays (the frames are
produced exactly as a caller of ``VideoReader`` gets them). The JSON is printed and written
atomically to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import header
from touchline.data import shared_file
from touchline.synth.clip import SynthConfig, synthesize
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader, VideoWriter, probe

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "decode_throughput.json"
SYNTH_SIZE = (1280, 720)  # width, height
SYNTH_FRAMES = 250
SYNTH_FPS = 25.0


def time_decode(path: Path, runs: int, stride: int = 1) -> dict[str, Any]:
    """Median throughput of ``runs`` full decodes of ``path`` (frames yielded per second)."""
    info = probe(path)
    results = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with VideoReader(path, stride=stride) as reader:
            n = sum(1 for _ in reader)  # each frame arrives as a uint8 BGR array
        seconds = time.perf_counter() - t0
        results.append({"seconds": round(seconds, 4), "frames": n, "fps": round(n / seconds, 2)})
    decoded = info.frame_count  # every frame is decoded, stride only skips the BGR conversion
    median_s = statistics.median(r["seconds"] for r in results)
    return {
        "frames": info.frame_count,
        "frames_yielded": results[0]["frames"],
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "codec": info.codec,
        "stride": stride,
        "decode_fps": round(results[0]["frames"] / median_s, 2),
        "decoded_frames_per_s": round(decoded / median_s, 2),
        "runs": results,
    }


def synthetic_frames(n: int, size: tuple[int, int], seed: int = 0) -> Iterator[np.ndarray]:
    """Textured, moving 8-bit BGR frames: a panning grass-like texture, noise, moving blobs."""
    w, h = size
    rng = np.random.default_rng(seed)
    texture: np.ndarray = rng.integers(0, 256, (h + 200, w + 400, 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(texture, (0, 0), 2.0)
    texture = cv2.addWeighted(texture, 0.5, np.full_like(texture, (40, 120, 50)), 0.5, 0)
    sensor = [rng.integers(-6, 7, (h, w, 3), dtype=np.int16) for _ in range(8)]
    players = rng.uniform((0, 0), (w, h), (22, 2))
    speeds = rng.normal(0, 4, (22, 2))
    for k in range(n):
        x0, y0 = int(200 + 180 * np.sin(k / 40)), int(100 + 80 * np.cos(k / 55))
        frame = texture[y0 : y0 + h, x0 : x0 + w].astype(np.int16) + sensor[k % len(sensor)]
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        players = (players + speeds) % (w, h)
        for i, (x, y) in enumerate(players):
            colour = (30, 30, 220) if i < 11 else (230, 230, 230)
            cv2.ellipse(frame, (int(x), int(y)), (9, 22), 0, 0, 360, colour, -1)
        bx, by = int((37 * k) % w), int(h / 2 + h / 3 * np.sin(k / 9))
        cv2.circle(frame, (bx, by), 5, (255, 255, 255), -1)
        yield frame


def time_write(path: Path, n: int, size: tuple[int, int], fps: float) -> dict[str, Any]:
    """Write the synthetic clip; only time spent inside the writer counts."""
    seconds = 0.0
    with VideoWriter(path, fps) as writer:
        for image in synthetic_frames(n, size):
            t0 = time.perf_counter()
            writer.write(image)
            seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        writer.close()  # flush the encoder inside the timed region
        seconds += time.perf_counter() - t0
    return {
        "codec": writer.codec,
        "crf": writer.crf,
        "preset": writer.preset,
        "frames": n,
        "seconds": round(seconds, 4),
        "write_fps": round(n / seconds, 2),
        "bytes": path.stat().st_size,
    }


def real_input(name: str, relative: str, runs: int, strides: list[int]) -> list[dict[str, Any]]:
    """Rows for a shared-data clip, or one skipped row when it is absent."""
    path, shown = shared_file(relative), f"../shared/data/{relative}"
    if path is None:
        reason = f"{shown} not found (set $TOUCHLINE_SHARED_DATA)"
        return [{"name": name, "path": shown, "skipped": True, "reason": reason}]
    return [
        {"name": name if s == 1 else f"{name} (stride {s})", "path": shown}
        | time_decode(path, runs, s)
        for s in strides
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the JSON and write it to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    parser.add_argument("--runs", type=int, default=3, help="full decodes per input (median)")
    args = parser.parse_args(argv)

    inputs: list[dict[str, Any]] = []
    inputs += real_input("dfl_08fd33_4", "video/dfl_08fd33_4.mp4", args.runs, [1, 5])
    inputs += real_input("soccertrack_left", "video/soccertrack_left_camera.mp4", args.runs, [1])

    with tempfile.TemporaryDirectory(prefix="touchline-bench-") as tmp:
        path = Path(tmp) / "synthetic_720p.mp4"
        write = time_write(path, SYNTH_FRAMES, SYNTH_SIZE, SYNTH_FPS)
        description = (
            f"synthetic {SYNTH_SIZE[0]}x{SYNTH_SIZE[1]}: panning noise texture, sensor noise, "
            "22 moving ellipses and a ball; written with VideoWriter defaults"
        )
        for stride in (1, 5):
            row = {
                "name": "synthetic_720p" if stride == 1 else f"synthetic_720p (stride {stride})",
                "path": None,
                "description": description,
            } | time_decode(path, args.runs, stride)
            if stride == 1:
                row["write"] = write
            inputs.append(row)

        # A real `touchline synth` clip (built-in camera, so it needs no data files).
        clip = synthesize(
            SynthConfig(
                seconds=SYNTH_FRAMES / SYNTH_FPS, size=SYNTH_SIZE, camera="builtin", seed=0
            ),
            Path(tmp) / "synth",
        )
        inputs.append(
            {
                "name": "touchline_synth_720p",
                "path": None,
                "description": "touchline synth --seconds 10 --size 1280x720 --camera builtin --seed 0",
            }
            | time_decode(clip.video, args.runs, 1)
        )

    result = {
        **header("decode_throughput"),
        "notes": (
            "decode_fps = frames yielded per second (median of runs, full decode each; with a "
            "stride every frame is still decoded, only the BGR conversion is skipped); "
            "decoded_frames_per_s counts every decoded frame."
        ),
        "inputs": inputs,
    }
    print(json.dumps(result, indent=2))
    write_json_atomic(args.out, result)
    return result


if __name__ == "__main__":
    main()
