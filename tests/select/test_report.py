"""The selection report: numbers hand-checked, the PDF renders to PNG, the HTML in Chromium."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from touchline.select.report import ReportData, build_report, nearest_neighbour_distances, summary


def _data(n: int = 90) -> ReportData:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(n, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    videos = np.array(["a.mp4"] * (n - 20) + ["b.mp4"] * 10 + ["c.mp4"] * 10)
    selected = np.r_[np.arange(0, 10), np.arange(n - 20, n - 10), np.arange(n - 10, n)]
    thumbs = [(f"f{i}.png", np.full((36, 64, 3), 20 * (i % 10), np.uint8)) for i in selected[:12]]
    return ReportData(
        file_names=[f"f{i}.png" for i in range(n)],
        selected=selected,
        candidates=np.arange(n) % 9 != 0,
        embeddings=emb,
        scores={"object_frequency": rng.random(n)},
        metadata={"video_name": videos},
        objects=np.arange(n) % 7,
        targets={"video_name": {"a.mp4": 1 / 3, "b.mp4": 1 / 3, "c.mp4": 1 / 3}},
        timings={"embeddings": 1.5, "selection": 0.25},
        config={"n_samples": 30},
        gallery=thumbs,
    )


def test_summary_numbers_hand_checked() -> None:
    d = _data()
    s = summary(d)
    assert s["counts"] == {"input": 90, "after_thresholds": 80, "selected": 30}
    bal = s["metadata_balance"]["video_name"]
    assert bal["before"] == {
        "a.mp4": round(70 / 90, 4),
        "b.mp4": round(10 / 90, 4),
        "c.mp4": round(10 / 90, 4),
    }
    assert bal["after"] == {"a.mp4": 0.3333, "b.mp4": 0.3333, "c.mp4": 0.3333}
    assert bal["target"]["b.mp4"] == pytest.approx(1 / 3)
    obj_after = (np.r_[np.arange(0, 10), np.arange(70, 90)] % 7).mean()
    assert s["objects_per_frame"]["after"]["mean"] == pytest.approx(obj_after, abs=1e-5)
    nn = s["nearest_neighbour_distance"]
    assert sum(nn["before"]) == 90 and sum(nn["after"]) == 30
    assert nn["median_after"] >= nn["median_before"]  # a subset is sparser
    assert s["selected"][:2] == ["f0.png", "f1.png"]


def test_nearest_neighbour_blocked_equals_direct() -> None:
    x = np.random.default_rng(2).normal(size=(50, 5)).astype(np.float32)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(nearest_neighbour_distances(x, block=7), d.min(axis=1), rtol=1e-4)


def test_report_files_render(tmp_path: Path, reference: Callable[[str], Any]) -> None:
    paths = build_report(_data(), tmp_path)
    assert json.loads(paths["json"].read_text())["counts"]["selected"] == 30
    # the PDF: every page renders to a non-blank PNG
    pdfium = reference("pypdfium2")
    pdf = pdfium.PdfDocument(str(paths["pdf"]))
    assert len(pdf) >= 5  # cover + objects + balance + distances + embeddings + gallery
    page = pdf[2].render(scale=1.0).to_pil()
    png = tmp_path / "page.png"
    page.save(png)
    import cv2

    img = cv2.imread(str(png))
    assert img is not None and img.std() > 10
    pdf.close()


def test_report_html_loads_in_headless_chromium(
    tmp_path: Path, chromium: Callable[..., Any]
) -> None:
    paths = build_report(_data(), tmp_path / "r")
    url = paths["html"].resolve().as_uri()
    dom = chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="counts"' in dom.stdout and 'id="balance"' in dom.stdout
    assert dom.stdout.count("<img") >= 5
    shot = tmp_path / "shot.png"
    r = chromium(f"--screenshot={shot}", "--window-size=1200,2000", url)
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    import cv2

    img = cv2.imread(str(shot))
    assert img is not None and img.shape[1] == 1200 and img.std() > 10
