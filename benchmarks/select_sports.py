"""Lightly's sports-tutorial selection on real footage, end to end, timed.

Usage::

    python benchmarks/select_sports.py [--out benchmarks/results]

Input: the three frame sequences of ``../shared/data/frames`` (as three videos) and the three
clips of ``../shared/data/video`` (1,310 frames; two of the clips are 3072x1728 HEVC). Runs
``touchline predict --task keypoints`` (the shipped calibration model's pitch keypoints in
Lightly's prediction format), then ``touchline select`` with ``examples/selection_sports.json``
(100 frames: DIVERSITY of the task's embeddings, WEIGHTS of ``object_frequency`` and of
``objectness_least_confidence``, BALANCE of ``video_name`` with equal targets), each in a fresh
process (embedding cache cold). Writes ``select_sports.json`` (times of each stage, the balance
reached) and, under ``results/select_sports/``, the report's ``report.json``, the PDF's pages
rendered to PNG, and a screenshot of the HTML in headless Chromium.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import header
from touchline.data import shared_file
from touchline.errors import DataError
from touchline.utils.files import write_json_atomic

ROOT = Path(__file__).resolve().parents[1]
SEQUENCES = ("chelsea_arsenal_512", "india_thailand_512", "leicester_liverpool_512")
CLIPS = ("dfl_08fd33_4.mp4", "soccertrack_left_camera.mp4", "soccertrack_right_camera.mp4")


def _link(src: Path) -> None:
    for name in SEQUENCES:
        p = shared_file(f"frames/{name}")
        if p is None:
            raise DataError(f"../shared/data/frames/{name} not found")
        (src / name).symlink_to(p.resolve())
    for name in CLIPS:
        p = shared_file(f"video/{name}")
        if p is None:
            raise DataError(f"../shared/data/video/{name} not found")
        (src / name).symlink_to(p.resolve())


def _run(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "touchline.cli", *args], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="select_sports_"))
    src, pred, out = work / "in", work / "pred", work / "out"
    src.mkdir()
    _link(src)
    predict_s = _run(["predict", str(src), "--task", "keypoints", "--out", str(pred)])
    select_s = _run(["select", "--input", str(src), "--predictions", str(pred), "--config",
                     str(ROOT / "examples" / "selection_sports.json"), "--out", str(out)])  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    dest = a.out / "select_sports"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(out / "report.json", dest / "report.json")
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(out / "report.pdf"))
    pages = len(pdf)
    for k in range(pages):
        pdf[k].render(scale=0.8).to_pil().save(dest / f"report_page{k + 1}.png")
    pdf.close()
    exe = shutil.which("chromium")
    if exe:
        subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={work / 'profile'}", f"--screenshot={dest / 'report_html.png'}",
             "--window-size=1100,2600", (out / "report.html").as_uri()],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    after = report["metadata_balance"]["video_name"]["after"]
    result = header("select_sports") | {
        "frames": report["counts"]["input"],
        "selected": report["counts"]["selected"],
        "seconds": {"predict": round(predict_s, 1), "select": round(select_s, 1)},
        "select_stages_s": summary["timings_s"],
        "balance_after": after,
        "balance_worst_error": round(max(abs(v - 1 / 6) for v in after.values()), 4),
        "nearest_neighbour_median": {
            "all": report["nearest_neighbour_distance"]["median_before"],
            "selected": report["nearest_neighbour_distance"]["median_after"],
        },
        "pdf_pages": pages,
    }
    write_json_atomic(a.out / "select_sports.json", result)
    shutil.rmtree(work)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
