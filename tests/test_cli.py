"""Tests of the ``touchline`` command: --version, help, synth, demo (wiring only) and info.

Commands run in-process through typer's ``CliRunner``; two tests run the real console script in a
subprocess. Clips are tiny (320x180, 10 fps, 4 frames). The full demo is tested in test_demo.py.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import touchline
from touchline.cli import app
from touchline.pitch import convert
from touchline.types import ObjectClass
from touchline.video import iter_frames, probe

SECONDS, FPS, W, H = 0.4, 10, 320, 180
FRAMES = round(SECONDS * FPS)  # 4
TINY = ["--seconds", str(SECONDS), "--size", f"{W}x{H}", "--fps", str(FPS), "--camera", "builtin"]
OUTPUTS = [
    "clip.mp4",
    "ground_truth.json",
    "homographies.npz",
    "gt/gt.txt",
    "seqinfo.ini",
    "tracks.parquet",
    "tracks.csv",
    "scene.parquet",
    "manifest.json",
]
DFL = "video/dfl_08fd33_4.mp4"
LASTROW = "tracking/lastrow/LIV_[2]-1_CHE.csv"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run(*args: str | Path) -> tuple[int, str, str, BaseException | None]:
    """Invoke the app; returns (exit code, stdout, stderr, exception) with ANSI codes removed."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    return (
        result.exit_code,
        ANSI.sub("", result.stdout),
        ANSI.sub("", result.stderr),
        result.exception,
    )


def squash(text: str) -> str:
    """``text`` without any whitespace (undoes line wrapping by the terminal renderer)."""
    return re.sub(r"\s+", "", text)


def synth(out: Path, *extra: str) -> Path:
    code, _, err, exc = run("synth", "--out", out, *TINY, *extra)
    assert code == 0, f"synth failed ({exc!r}):\n{err}"
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three tiny clips: seed 3 twice (in different folders) and seed 4."""
    root = tmp_path_factory.mktemp("synth")
    return {
        "a": synth(root / "a", "--seed", "3"),
        "b": synth(root / "b", "--seed", "3"),
        "c": synth(root / "c", "--seed", "4"),
    }


# ------------------------------------------------------------------------ version and help


def test_version_matches_package() -> None:
    code, out, _, _ = run("--version")
    assert code == 0
    assert out == f"touchline {touchline.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", touchline.__version__)


def test_no_args_shows_help_listing_commands() -> None:
    code, out, err, _ = run()
    # no_args_is_help: click prints the help and exits with the usage-error status 2.
    assert code == 2
    assert err == ""
    assert "Usage: touchline [OPTIONS] COMMAND" in out
    for command in ("synth", "demo", "info"):
        assert re.search(rf"^\W*{command}\s", out, re.MULTILINE), f"{command} not in help"


def test_command_help() -> None:
    code, out, _, _ = run("synth", "--help")
    assert code == 0
    for option in ("--out", "--seconds", "--size", "--fps", "--seed", "--tracking", "--camera"):
        assert option in out


def _console_commands() -> list[list[str]]:
    commands = [[sys.executable, "-c", "from touchline.cli import main; main()"]]
    script = Path(sys.executable).parent / "touchline"
    if script.exists():
        commands.insert(0, [str(script)])
    return commands


@pytest.mark.parametrize("command", _console_commands(), ids=lambda c: Path(c[0]).name)
def test_console_script_version(command: list[str]) -> None:
    proc = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"touchline {touchline.__version__}\n"
    assert proc.stderr == ""


def test_console_script_is_installed() -> None:
    assert (Path(sys.executable).parent / "touchline").exists(), "console script not installed"


# ------------------------------------------------------------------------------------ synth


def test_synth_writes_every_output(clips: dict[str, Path]) -> None:
    out = clips["a"]
    for name in OUTPUTS:
        assert (out / name).is_file(), f"missing {name}"
        assert (out / name).stat().st_size > 0, f"empty {name}"
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(n for n in OUTPUTS if n != "manifest.json")
    assert manifest["frames"] == FRAMES
    assert manifest["config"]["size"] == [W, H]
    assert manifest["config"]["seed"] == 3
    assert manifest["config"]["camera"] == "builtin"
    assert manifest["config"]["tracking"] is None
    assert manifest["camera_pose"] == "builtin"
    assert manifest["scene_source"].startswith("game-model")


def test_synth_ground_truth_is_consistent(clips: dict[str, Path]) -> None:
    out = clips["a"]
    gt = json.loads((out / "ground_truth.json").read_text())
    assert gt["format"] == "touchline-synth/1"
    assert (gt["width"], gt["height"], gt["fps"]) == (W, H, FPS)
    assert len(gt["frames"]) == FRAMES
    assert [f["frame"] for f in gt["frames"]] == list(range(FRAMES))
    assert gt["camera"]["source"] == "builtin"
    objects = [(f["frame"], o) for f in gt["frames"] for o in f["objects"]]
    assert len(objects) > FRAMES  # players are on screen

    # MOT: one row per object, 1-based frames, same ids and boxes (left, top, width, height).
    rows = (out / "gt" / "gt.txt").read_text().splitlines()
    assert len(rows) == len(objects)
    for row, (k, o) in zip(rows, objects, strict=True):
        fields = row.split(",")
        assert len(fields) == 9
        assert int(fields[0]) == k + 1
        assert int(fields[1]) == o["id"]
        x1, y1, x2, y2 = o["box"]
        assert float(fields[2]) == pytest.approx(x1, abs=0.01)
        assert float(fields[3]) == pytest.approx(y1, abs=0.01)
        assert float(fields[4]) == pytest.approx(x2 - x1, abs=0.02)
        assert float(fields[5]) == pytest.approx(y2 - y1, abs=0.02)
    seqinfo = (out / "seqinfo.ini").read_text()
    assert f"seqLength = {FRAMES}" in seqinfo
    assert f"imWidth = {W}" in seqinfo and f"imHeight = {H}" in seqinfo
    assert f"frameRate = {FPS}" in seqinfo

    # Tracks table: the same objects; scene table: every actor in every frame.
    tracks = pd.read_parquet(out / "tracks.parquet")
    assert len(tracks) == len(objects)
    assert len(pd.read_csv(out / "tracks.csv")) == len(objects)
    scene = pd.read_parquet(out / "scene.parquet")
    assert len(scene) == FRAMES * len(gt["actors"])

    # Homographies: the JSON's cameras as arrays.
    with np.load(out / "homographies.npz") as npz:
        assert npz["image_to_pitch"].shape == (FRAMES, 3, 3)
        np.testing.assert_allclose(
            npz["image_to_pitch"], [f["homography"] for f in gt["frames"]], rtol=1e-12
        )
        np.testing.assert_array_equal(npz["frame"], np.arange(FRAMES))


def test_synth_video_decodes(clips: dict[str, Path]) -> None:
    video = clips["a"] / "clip.mp4"
    info = probe(video)
    assert (info.kind, info.width, info.height, info.fps) == ("video", W, H, FPS)
    assert info.frame_count == FRAMES
    frames = list(iter_frames(video))
    assert [f.index for f in frames] == list(range(FRAMES))
    assert all(f.image.shape == (H, W, 3) for f in frames)
    assert frames[0].image.std() > 5  # a rendered picture, not a flat frame


def test_synth_same_seed_same_ground_truth(clips: dict[str, Path]) -> None:
    a = (clips["a"] / "ground_truth.json").read_bytes()
    b = (clips["b"] / "ground_truth.json").read_bytes()
    c = (clips["c"] / "ground_truth.json").read_bytes()
    assert a == b
    assert a != c
    assert (clips["a"] / "gt" / "gt.txt").read_bytes() == (
        clips["b"] / "gt" / "gt.txt"
    ).read_bytes()


def test_synth_with_lastrow_tracking(tmp_path: Path, shared: Callable[[str], Path]) -> None:
    csv_path = shared(LASTROW)
    out = tmp_path / "lr"
    code, _, err, exc = run(
        "synth", "--out", out, "--seconds", str(SECONDS), "--size", f"{W}x{H}",
        "--fps", str(FPS), "--tracking", csv_path,
    )  # fmt: skip
    assert code == 0, f"{exc!r}\n{err}"
    source = f"lastrow:{csv_path.name}"
    manifest = json.loads((out / "manifest.json").read_text())
    gt = json.loads((out / "ground_truth.json").read_text())
    assert manifest["scene_source"] == source
    assert gt["scene_source"] == source
    assert manifest["config"]["tracking"] == str(csv_path)
    assert len(gt["frames"]) == FRAMES

    # Frame 0 of the CSV, converted to touchline metres.
    with csv_path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(float(r["frame"])) == 0]
    players = [r for r in rows if r["team"].strip()]
    balls = [r for r in rows if not r["team"].strip()]
    assert len(players) == 20 and len(balls) == 1
    expected = convert([(float(r["x"]), float(r["y"])) for r in players], "lastrow", "touchline")
    expected_ball = convert([(float(balls[0]["x"]), float(balls[0]["y"]))], "lastrow", "touchline")

    def nearest(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.linalg.norm(xy[:, None, :] - expected[None, :, :], axis=2)
        return d.min(axis=1), d.argmin(axis=1)

    # Every actor (scene table): the 20 players map one-to-one onto the CSV's players.
    scene = pd.read_parquet(out / "scene.parquet")
    s0 = scene[scene["frame"] == 0]
    people = [int(ObjectClass.PLAYER), int(ObjectClass.GOALKEEPER)]
    sp = s0[s0["class_id"].isin(people)][["pitch_x", "pitch_y"]].to_numpy()
    assert len(sp) == len(players)
    dist, idx = nearest(sp)
    assert dist.max() < 1e-5
    assert sorted(idx.tolist()) == list(range(len(players)))
    sb = s0[s0["class_id"] == int(ObjectClass.BALL)][["pitch_x", "pitch_y"]].to_numpy()
    np.testing.assert_allclose(sb, expected_ball, atol=1e-5)

    # The players visible in frame 0: their exact (float64) positions match within 1e-6 m, the
    # JSON's (rounded to 0.1 mm) within the rounding and the tracks table's (float32) within
    # float32 precision.
    vis = {o["id"]: o["pitch"] for o in gt["frames"][0]["objects"] if o["class"] == "player"}
    assert len(vis) >= 3
    exact = s0.set_index("id").loc[sorted(vis), ["pitch_x", "pitch_y"]].to_numpy()
    assert nearest(exact)[0].max() < 1e-5
    assert nearest(np.array([vis[i] for i in sorted(vis)]))[0].max() < 5.1e-5
    tracks = pd.read_parquet(out / "tracks.parquet")
    t0 = tracks[(tracks["frame"] == 0) & (tracks["class_id"] == int(ObjectClass.PLAYER))]
    assert sorted(t0["track_id"]) == sorted(vis)
    assert nearest(t0[["pitch_x", "pitch_y"]].to_numpy(np.float64))[0].max() < 1e-5


# ------------------------------------------------------------------------------ bad input


def assert_one_error(code: int, err: str, exc: BaseException | None, *needles: str) -> None:
    """Exit 1, exactly one ``error:`` line, no traceback, and ``needles`` in the message."""
    assert code == 1, err
    assert isinstance(exc, SystemExit), repr(exc)
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    starts = [ln for ln in lines if ln.startswith("error:")]
    assert len(starts) == 1, err
    message = squash(err[err.index("error:") :])
    for needle in needles:
        assert squash(needle) in message, f"{needle!r} not in {err!r}"


def test_synth_bad_size_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err, exc = run("synth", "--out", tmp_path / "o", *TINY[:2], "--size", "abc")
    assert code == 2
    assert isinstance(exc, SystemExit)
    assert "Traceback" not in out + err
    assert "expected WIDTHxHEIGHT" in err and "'abc'" in err
    assert not (tmp_path / "o" / "clip.mp4").exists()


def test_synth_zero_seconds_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err, exc = run("synth", "--out", tmp_path / "o", "--seconds", "0")
    assert code == 2
    assert isinstance(exc, SystemExit)
    assert "Traceback" not in out + err
    assert "--seconds" in err and "0.04" in err


def test_synth_size_out_of_range(tmp_path: Path) -> None:
    code, _, err, exc = run("synth", "--out", tmp_path / "o", *TINY, "--size", "10x10")
    assert_one_error(code, err, exc, "size must be between", "10x10")


def test_synth_missing_tracking_file(tmp_path: Path) -> None:
    code, _, err, exc = run(
        "synth", "--out", tmp_path / "o", *TINY, "--tracking", "/nonexistent.csv"
    )
    assert_one_error(code, err, exc, "/nonexistent.csv", "no such file or folder")


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "notes.csv",
            "just some notes\nnothing tabular here\n",
            "neither a touchline tracks table",
        ),
        ("table.csv", "a,b,c\n1,2,3\n", "neither a touchline tracks table"),
        ("notes.txt", "just some notes\n", "cannot tell the tracking format"),
    ],
)
def test_synth_tracking_not_a_tracking_file(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code, _, err, exc = run("synth", "--out", tmp_path / "o", *TINY, "--tracking", path)
    assert_one_error(code, err, exc, str(path), problem)
    assert not (tmp_path / "o" / "clip.mp4").exists()


def test_synth_missing_camera_file(tmp_path: Path) -> None:
    code, _, err, exc = run(
        "synth", "--out", tmp_path / "o", *TINY[:-2], "--camera", "/nonexistent.npz"
    )
    assert_one_error(code, err, exc, "/nonexistent.npz", "no such file")


@pytest.mark.parametrize("name", ["cameras.npz", "cameras.txt"])
def test_synth_camera_not_an_npz(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("these are not homographies\n")
    code, _, err, exc = run("synth", "--out", tmp_path / "o", *TINY[:-2], "--camera", path)
    assert_one_error(code, err, exc, str(path), "not an npz archive of homographies")


def test_synth_camera_npz_without_homographies(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, X=np.eye(3)[None])
    code, _, err, exc = run("synth", "--out", tmp_path / "o", *TINY[:-2], "--camera", path)
    assert_one_error(code, err, exc, str(path), "has no array 'H'")


def test_info_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.mp4"
    code, out, err, exc = run("info", path)
    assert_one_error(code, err, exc, str(path), "no such file")
    assert out == ""


def test_info_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    code, _, err, exc = run("info", path)
    assert_one_error(code, err, exc, str(path), "empty (0 bytes)")


def test_info_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_text("this is not a video\n" * 20)
    code, _, err, exc = run("info", path)
    assert_one_error(code, err, exc, str(path), "cannot be opened as a video")


def test_info_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    code, _, err, exc = run("info", tmp_path)
    assert_one_error(code, err, exc, str(tmp_path), "no images")


def test_console_script_error_exit_status(tmp_path: Path) -> None:
    """The installed entry point (a real process) exits 1 with a one-line error on stderr."""
    path = tmp_path / "nope.mp4"
    command = _console_commands()[0]
    proc = subprocess.run(
        [*command, "info", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
        stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr == f"error: {path}: no such file or folder\n"


def test_error_is_one_line_when_piped(tmp_path: Path) -> None:
    path = tmp_path / ("a_rather_long_video_file_name_" * 3 + ".mp4")
    command = _console_commands()[0]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.run(
        [*command, "info", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
        stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == f"error: {path}: no such file or folder\n"


def test_error_keeps_brackets_in_paths(tmp_path: Path) -> None:
    path = tmp_path / "[bold]clip.mp4"
    code, _, err, exc = run("info", path)
    assert_one_error(code, err, exc, str(path), "no such file")


# ------------------------------------------------------------------------------------- info


def test_info_dfl_clip(shared: Callable[[str], Path]) -> None:
    path = shared(DFL)
    code, out, err, _ = run("info", path)
    assert code == 0, err
    assert out.startswith(f"{path}: video 848x478, 25 fps, 169 frames (6.76 s)")
    assert out.rstrip().endswith("h264")


def test_info_json_dfl_clip(shared: Callable[[str], Path]) -> None:
    path = shared(DFL)
    code, out, err, _ = run("info", "--json", path)
    assert code == 0, err
    d = json.loads(out)
    assert d == {
        "path": str(path),
        "kind": "video",
        "width": 848,
        "height": 478,
        "fps": 25.0,
        "frames": 169,
        "duration": 6.76,
        "codec": "h264",
    }


def test_info_image_folder(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for k in range(3):
        assert cv2.imwrite(
            str(folder / f"frame_{k:03d}.png"), np.full((30, 40, 3), 60 * k, np.uint8)
        )
    (folder / "notes.txt").write_text("ignored")
    code, out, err, _ = run("info", folder)
    assert code == 0, err
    assert out == f"{folder}: images 40x30, 25 fps, 3 frames (0.12 s)\n"
    code, out, err, _ = run("info", "--json", folder)
    assert code == 0, err
    d = json.loads(out)
    assert (d["kind"], d["width"], d["height"], d["frames"], d["codec"]) == (
        "images",
        40,
        30,
        3,
        "",
    )
    assert d["duration"] == pytest.approx(0.12)


def test_info_synth_clip(clips: dict[str, Path]) -> None:
    code, out, err, _ = run("info", "--json", clips["a"] / "clip.mp4")
    assert code == 0, err
    d = json.loads(out)
    assert (d["width"], d["height"], d["fps"], d["frames"]) == (W, H, FPS, FRAMES)


# ------------------------------------------------------------------------------------- demo


def test_demo_command_wiring(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    code, _, err, exc = run("demo", "--out", out, "--seconds", "0.5", "--seed", "2")
    assert code == 0, f"{exc!r}\n{err}"
    assert squash(f"demo written to {out}/") in squash(err)
    readme = out / "README.md"
    assert readme.is_file()
    gt = json.loads((out / "synth" / "ground_truth.json").read_text())
    assert gt["seed"] == 2
    assert gt["camera"]["source"] == "builtin"
    n = len(gt["frames"])
    assert n == round(0.5 * 25)
    for name in ("overlay.mp4", "synth/clip.mp4"):
        info = probe(out / name)
        assert (info.width, info.height, info.frame_count) == (960, 540, n)
    assert probe(out / "radar.mp4").frame_count == n


def test_demo_rejects_too_short(tmp_path: Path) -> None:
    code, out, err, exc = run("demo", "--out", tmp_path / "d", "--seconds", "0.1")
    assert code == 2
    assert isinstance(exc, SystemExit)
    assert "--seconds" in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "d").exists()
