"""`touchline select` end to end: a small built world, then the acceptance run on real footage."""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from touchline.cli import app
from touchline.errors import DataError
from touchline.jobs.select import select_frames
from touchline.select.inputs import discover
from touchline.select.predictions import (
    Category,
    FramePredictions,
    ObjectPrediction,
    Task,
    write_predictions,
    write_tasks,
)
from touchline.video import VideoWriter

runner = CliRunner()
TASK = Task("people", "object-detection", (Category(0, "player"), Category(1, "ball")))
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "selection_sports.json"


def _world(tmp_path: Path) -> tuple[Path, Path]:
    """Two short videos and a folder of images, with detection predictions for every frame."""
    src = tmp_path / "in"
    (src / "seq").mkdir(parents=True)
    rng = np.random.default_rng(0)
    import cv2

    for name, n, base in (("a.mp4", 24, 40), ("b.mp4", 12, 160)):
        with VideoWriter(src / name, fps=10, size=(96, 64)) as w:
            for k in range(n):
                img = np.full((64, 96, 3), base, np.uint8)
                cv2.circle(img, (8 + 3 * k, 32), 6, (255, 255, 255), -1)
                w.write(img)
    for k in range(6):
        cv2.imwrite(str(src / "seq" / f"{k:04d}.png"), rng.integers(0, 255, (64, 96, 3), np.uint8))
    samples = discover(src)
    frames = []
    for i, s in enumerate(samples):
        objs = tuple(
            ObjectPrediction(
                j % 2,
                float(0.3 + 0.6 * ((i * 7 + j) % 10) / 10),
                bbox=[5.0 + 10 * j, 10.0, 12.0, 20.0],
            )
            for j in range(1 + i % 3)
        )
        frames.append(FramePredictions(s.file_name, objs))
    pred = tmp_path / "pred"
    write_tasks(pred, [TASK])
    write_predictions(pred, TASK, frames)
    return src, pred


CONFIG: dict[str, Any] = {
    "n_samples": 9,
    "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {
            "input": {"type": "SCORES", "task": "people", "score": "objectness_least_confidence"},
            "strategy": {"type": "WEIGHTS"},
        },
        {
            "input": {"type": "PREDICTIONS", "task": "people", "name": "CATEGORY_COUNT"},
            "strategy": {"type": "THRESHOLD", "threshold": 2, "operation": "BIGGER_EQUAL"},
        },
        {
            "input": {"type": "METADATA", "key": "video_name"},
            "strategy": {"type": "BALANCE", "target": {"a.mp4": 0.34, "b.mp4": 0.33, "seq": 0.33}},
        },
    ],
}


def test_small_world_selection_outputs_and_resume(tmp_path: Path) -> None:
    src, pred = _world(tmp_path)
    run = select_frames(src, tmp_path / "out", config=CONFIG, predictions=pred)
    s = run.summary
    assert s.samples == 42 and s.selected == 9 and s.stop_reason == "n_samples"
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == s.to_json()
    picked = [run.samples[i] for i in run.selected.tolist()]
    # THRESHOLD: only frames with 2+ objects (i % 3 != 0)
    assert all(run.samples.index(p) % 3 != 0 for p in picked)
    videos = [p.metadata["video_name"] for p in picked]
    assert {v: videos.count(v) for v in set(videos)} == {"a.mp4": 3, "b.mp4": 3, "seq": 3}
    out = tmp_path / "out"
    with (out / "selection.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file_name"] for r in rows] == [p.file_name for p in picked]
    assert len(list((out / "frames").rglob("*.png"))) == 9
    tasks = json.loads((out / "label_studio_tasks.json").read_text())
    assert len(tasks) == 9 and tasks[0]["predictions"][0]["result"][0]["type"] == "rectanglelabels"
    assert len(ET.parse(out / "cvat_annotations.xml").getroot().findall("image")) == 9
    report = json.loads((out / "report.json").read_text())
    assert report["counts"] == {"input": 42, "after_thresholds": 28, "selected": 9}
    assert report["metadata_balance"]["video_name"]["after"] == {
        "a.mp4": 0.3333, "b.mp4": 0.3333, "seq": 0.3333}  # fmt: skip

    # interrupted after 4 picks, then rerun: the same selection, 4 picks replayed
    def stop(stage: str, done: int, total: int) -> None:
        if stage == "select" and done == 4:
            raise KeyboardInterrupt

    shutil.rmtree(tmp_path / "out2", ignore_errors=True)
    with pytest.raises(KeyboardInterrupt):
        select_frames(src, tmp_path / "out2", config=CONFIG, predictions=pred, progress=stop)
    again = select_frames(src, tmp_path / "out2", config=CONFIG, predictions=pred)
    assert again.summary.resumed_picks == 4
    np.testing.assert_array_equal(again.selected, run.selected)


def test_sequences_and_object_level(tmp_path: Path) -> None:
    src, pred = _world(tmp_path)
    seq_cfg = {**CONFIG, "n_samples": 8, "selected_sequence_length": 4,
               "strategies": CONFIG["strategies"][:2]}  # fmt: skip
    run = select_frames(src, tmp_path / "seq", config=seq_cfg, predictions=pred, report=False)
    picked = [run.samples[i] for i in run.selected.tolist()]
    assert len(picked) == 8
    for k in range(0, 8, 4):
        run4 = picked[k : k + 4]
        assert len({p.video for p in run4}) == 1
        assert [p.frame for p in run4] == list(range(run4[0].frame, run4[0].frame + 4))  # type: ignore[operator]
    obj_cfg = {"n_samples": 5, "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {"input": {"type": "SCORES", "task": "people", "score": "objectness_least_confidence"},
         "strategy": {"type": "WEIGHTS"}}]}  # fmt: skip
    obj = select_frames(src, tmp_path / "obj", config=obj_cfg, predictions=pred,
                        object_level="people")  # fmt: skip
    assert obj.summary.kind == "objects of people" and obj.summary.samples == 84
    crops = sorted((tmp_path / "obj" / "crops").rglob("*.png"))
    assert len(crops) == 5
    import cv2

    # a 12 x 20 box at (5, 10) grown by 10 % a side: x 3.8..18.2 -> 3..19, y 8..32
    assert cv2.imread(str(crops[0])).shape[:2] == (24, 16)


def test_similarity_to_a_tag(tmp_path: Path) -> None:
    src, _ = _world(tmp_path)
    samples = discover(src)
    query = [s.file_name for s in samples if s.video == "b.mp4"][:2]
    (tmp_path / "tags").mkdir()
    (tmp_path / "tags" / "bright.txt").write_text("\n".join(query) + "\n")
    cfg = {"n_samples": 6, "strategies": [
        {"input": {"type": "EMBEDDINGS", "tag_name": "bright"}, "strategy": {"type": "SIMILARITY"}}]}  # fmt: skip
    run = select_frames(src, tmp_path / "sim", config=cfg, tags=tmp_path / "tags", report=False)
    picked = [run.samples[i].video for i in run.selected.tolist()]
    assert picked.count("b.mp4") == 6  # the bright video's frames are the most similar
    (tmp_path / "sim.json").write_text(json.dumps(cfg))
    r = runner.invoke(app, ["select", "--input", str(src), "--config", str(tmp_path / "sim.json"),
                            "--tags", str(tmp_path / "tags"), "--out", str(tmp_path / "simcli"),
                            "--no-report"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = json.loads((tmp_path / "simcli" / "selection.json").read_text())["selected"]
    assert [row["video"] for row in rows] == ["b.mp4"] * 6
    with pytest.raises(DataError, match="nosuch"):
        bad = {"n_samples": 2, "strategies": [
            {"input": {"type": "EMBEDDINGS", "tag_name": "nosuch"}, "strategy": {"type": "SIMILARITY"}}]}  # fmt: skip
        select_frames(src, tmp_path / "sim2", config=bad, tags=tmp_path / "tags", report=False)


def test_bad_input_names_the_problem(tmp_path: Path) -> None:
    src, pred = _world(tmp_path)
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"n_samples": 3, "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERISTY"}}]}))  # fmt: skip
    r = runner.invoke(app, ["select", "--input", str(src), "--config", str(cfg), "--out",
                            str(tmp_path / "o")])  # fmt: skip
    assert r.exit_code == 1 and "bad.json" in r.output and "DIVERISTY" in r.output
    missing_key = {"n_samples": 3, "strategies": [
        {"input": {"type": "METADATA", "key": "weather"},
         "strategy": {"type": "BALANCE", "target": {"sunny": 0.5}}}]}  # fmt: skip
    with pytest.raises(DataError, match="weather"):
        select_frames(src, tmp_path / "o2", config=missing_key, predictions=pred)
    no_pred = {"n_samples": 3, "strategies": CONFIG["strategies"][1:2]}
    with pytest.raises(DataError, match="--predictions"):
        select_frames(src, tmp_path / "o3", config=no_pred)
    (pred / "people" / "ghost-099-mp4.json").write_text(
        json.dumps({"file_name": "ghost-099-mp4.png", "predictions": []})
    )
    with pytest.raises(DataError, match="ghost-099-mp4"):
        select_frames(src, tmp_path / "o4", config=CONFIG, predictions=pred)


@pytest.mark.shared_data
@pytest.mark.slow
def test_acceptance_sports_config_on_real_footage(
    tmp_path: Path,
    shared: Callable[[str], Path],
    reference: Callable[[str], Any],
    chromium: Callable[..., Any],
) -> None:
    """Lightly's sports tutorial config, unchanged in shape, on the three frame sequences (as
    three videos) and the three clips: 100 frames, balanced across the six videos."""
    src = tmp_path / "in"
    src.mkdir()
    for seq in ("chelsea_arsenal_512", "india_thailand_512", "leicester_liverpool_512"):
        (src / seq).symlink_to(shared(f"frames/{seq}").resolve())
    for clip in ("dfl_08fd33_4.mp4", "soccertrack_left_camera.mp4", "soccertrack_right_camera.mp4"):
        (src / clip).symlink_to(shared(f"video/{clip}").resolve())
    pred, out = tmp_path / "pred", tmp_path / "out"
    r = runner.invoke(app, ["predict", str(src), "--task", "keypoints", "--out", str(pred)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["select", "--input", str(src), "--predictions", str(pred), "--config",
                            str(EXAMPLE), "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["input"] == 429 + 161 + 51 + 169 + 250 + 250
    assert report["counts"]["selected"] == 100
    after = report["metadata_balance"]["video_name"]["after"]
    assert len(after) == 6 and all(abs(v - 1 / 6) <= 0.03 for v in after.values()), after
    assert len(list((out / "frames").rglob("*.*"))) == 100
    # the PDF renders (a page to PNG) and the HTML loads in headless Chromium
    pdfium = reference("pypdfium2")
    pdf = pdfium.PdfDocument(str(out / "report.pdf"))
    png = tmp_path / "page.png"
    pdf[1].render(scale=1.0).to_pil().save(png)
    pdf.close()
    import cv2

    assert cv2.imread(str(png)).std() > 10
    dom = chromium("--dump-dom", (out / "report.html").resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Balance of video_name" in dom.stdout and dom.stdout.count("<img") >= 5


def test_example_configs_parse() -> None:
    from touchline.select.config import load_selection_config

    for path in sorted(EXAMPLE.parent.glob("selection_*.json")):
        cfg = load_selection_config(path)
        assert cfg.strategies, path


def test_metadata_folder_drives_balance_and_thresholds(tmp_path: Path) -> None:
    from touchline.select.metadata import MetadataField, write_metadata, write_metadata_schema

    src, _ = _world(tmp_path)
    samples = discover(src)
    meta = tmp_path / "meta"
    fields = [
        MetadataField("weather", "weather", "sunny", "CATEGORICAL_STRING"),
        MetadataField("sharpness", "sharpness", 1.0, "NUMERIC_FLOAT"),
    ]
    write_metadata_schema(meta, fields)
    write_metadata(meta, "b.mp4", {"weather": "rainy"}, fields=fields)  # every frame of b
    blurry = [s.file_name for s in samples if s.video == "a.mp4"][:6]
    for name in blurry:
        write_metadata(meta, name, {"sharpness": 0.1}, fields=fields)
    cfg = {"n_samples": 10, "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {"input": {"type": "METADATA", "key": "sharpness"},
         "strategy": {"type": "THRESHOLD", "threshold": 0.5, "operation": "BIGGER"}},
        {"input": {"type": "METADATA", "key": "weather"},
         "strategy": {"type": "BALANCE", "target": {"sunny": 0.5, "rainy": 0.5}}}]}  # fmt: skip
    run = select_frames(src, tmp_path / "m", config=cfg, metadata=meta, report=False)
    picked = [run.samples[i] for i in run.selected.tolist()]
    assert not {p.file_name for p in picked} & set(blurry)
    weather = [p.metadata["weather"] for p in picked]
    # within one sample of the 50/50 target against a strong diversity pull (near-duplicate
    # frames of b.mp4 against noise images)
    assert abs(weather.count("rainy") - 5) <= 1
    assert all((p.video == "b.mp4") == (p.metadata["weather"] == "rainy") for p in picked)


def test_changed_predictions_do_not_reuse_checkpointed_picks(tmp_path: Path) -> None:
    src, pred = _world(tmp_path)

    def stop(stage: str, done: int, total: int) -> None:
        if stage == "select" and done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        select_frames(src, tmp_path / "o", config=CONFIG, predictions=pred, progress=stop)
    # the predictions change between the runs: the 3 saved picks no longer apply
    samples = discover(src)
    frames = [FramePredictions(s.file_name, (ObjectPrediction(0, 0.99, bbox=[1.0, 1.0, 5.0, 5.0]),
                                             ObjectPrediction(1, 0.2, bbox=[9.0, 9.0, 5.0, 5.0])))
              for s in samples]  # fmt: skip
    write_predictions(pred, TASK, frames)
    again = select_frames(src, tmp_path / "o", config=CONFIG, predictions=pred, report=False)
    assert again.summary.resumed_picks == 0


def test_class_distribution_balance_and_sequence_thresholds(tmp_path: Path) -> None:
    src, pred = _world(tmp_path)
    cfg = {"n_samples": 6, "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {"input": {"type": "PREDICTIONS", "task": "people", "name": "CLASS_DISTRIBUTION"},
         "strategy": {"type": "BALANCE", "target": {"player": 0.5, "ball": 0.5}}}]}  # fmt: skip
    run = select_frames(src, tmp_path / "cd", config=cfg, predictions=pred, report=False)
    assert run.summary.selected == 6
    seq = {**CONFIG, "n_samples": 8, "selected_sequence_length": 4}
    run = select_frames(src, tmp_path / "sq", config=seq, predictions=pred)
    report = json.loads((tmp_path / "sq" / "report.json").read_text())
    # frames count as candidates when their 4-frame sequence passes the threshold (mean count)
    assert 0 < report["counts"]["after_thresholds"] < report["counts"]["input"]
    assert report["counts"]["after_thresholds"] % 4 == 0
