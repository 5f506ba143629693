"""A full real match analysed end to end: kloppy's bundled SkillCorner match (Bayern - Dortmund,
2019-11-09, broadcast tracking at 10 fps).

Usage::

    python benchmarks/analyze_match.py [--out benchmarks/results]

Times what ``touchline analyze --provider skillcorner --file meta_data=... --file raw_data=...``
does: reading the provider files with kloppy into a tracks table
(:func:`touchline.io.load_tracking`), then :func:`touchline.jobs.analyze.analyze_tracks`
without the animation: game states, possession, goals, the EDG and pitch-control share of the
team in possession in every frame (Spearman's model over the 50 x 32 grid), the EDG plot and
the plots of the highest-EDG frame. Reports the peak memory (max RSS) of the process and
writes ``analyze_match.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import kloppy

from _common import header
from touchline.io import load_tracking
from touchline.jobs.analyze import analyze_tracks
from touchline.utils.files import write_json_atomic


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    a = ap.parse_args()
    files = Path(kloppy.__file__).parent / "tests" / "files"
    meta, raw = files / "skillcorner_match_data.json", files / "skillcorner_structured_data.json"
    t0 = time.perf_counter()
    tracks = load_tracking("skillcorner", meta_data=meta, raw_data=raw)
    load_s = time.perf_counter() - t0
    work = Path(tempfile.mkdtemp(prefix="analyze_match_"))
    t1 = time.perf_counter()
    summary = analyze_tracks(tracks, work, animate=False)
    analyze_s = time.perf_counter() - t1
    total = time.perf_counter() - t0
    shutil.rmtree(work)
    match = json.loads(meta.read_text())
    result = header("analyze_match") | {
        "match": {
            "files": [f"kloppy/tests/files/{meta.name}", f"kloppy/tests/files/{raw.name}"],
            "home": match["home_team"]["name"],
            "away": match["away_team"]["name"],
            "score": [match["home_team_score"], match["away_team_score"]],
            "frames": summary.frames,
            "duration_s": summary.duration_s,
            "people_tracks": summary.people,
            "rows": len(tracks),
        },
        "seconds": {
            "load": round(load_s, 1),
            "analyze": round(analyze_s, 1),
            "total": round(total, 1),
        },
        "frames_per_second": round(summary.frames / analyze_s, 1),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "under_10_minutes": total < 600,
        "possession": summary.possession,
        "goals_found": summary.goals,
        "edg_mean": summary.edg_mean,
        "edg_frames": summary.edg_frames,
        "top_moments": [m.to_json() for m in summary.top_moments],
        "timings": summary.timings,
    }
    write_json_atomic(a.out / "analyze_match.json", result)
    print(json.dumps({k: result[k] for k in ("match", "seconds", "peak_memory_mb")}, indent=1))


if __name__ == "__main__":
    main()
