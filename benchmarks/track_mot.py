"""Tracking accuracy and speed on SportsMOT football (``touchline eval tracking``).

Usage::

    python benchmarks/track_mot.py [--trackers touchline,bytetrack,ocsort] [--seed 0]
        [--max-frames N] [--speed-frames 2000] [--out benchmarks/results/track_mot.json]

It runs exactly what ``touchline eval tracking --mot ../shared/data/mot/sportsmot_football_train
--json OUT`` runs: detections made from the ground truth of the 15 football sequences by the
seeded noise model of :class:`touchline.eval.tracking.NoiseModel` (box jitter, ~10 % misses,
some in occlusion-like bursts, ~1 false positive per frame, noisy scores), the same for every
tracker; Touchline's tracker (image space) against the ``trackers`` package's ByteTrack and
OC-SORT with their default parameters (``frame_rate`` from ``seqinfo.ini``). Recorded per
tracker: HOTA, DetA, AssA, IDF1, MOTA (fractions, pooled over the sequences as TrackEval does),
frames per second of the tracker's ``update`` alone, and updates per second with 25 players.

Ablations (``ablations`` in the JSON; ``--no-ablations`` skips them): Touchline's tracker
without coasting (``coast_seconds=0``: only measured boxes are output, as ByteTrack does), and
without coasting nor the camera shift voted from the detections (``ego_motion=False``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from _common import header, shared_root
from touchline.eval.tracking import TrackerAdapter, evaluate_tracking, format_summary
from touchline.track import Tracker, TrackerConfig
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "track_mot.json"
KEYS = ("hota", "deta", "assa", "idf1", "mota", "idsw", "fps", "updates_per_s_25")


def _variant(overrides: dict) -> Callable[[float], TrackerAdapter]:
    def make(fps: float) -> TrackerAdapter:
        return TrackerAdapter(Tracker(TrackerConfig(fps=fps, **overrides)))

    return make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trackers", default="touchline,bytetrack,ocsort")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-frames", type=int, default=None)
    ap.add_argument("--speed-frames", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--no-ablations", dest="ablations", action="store_false")
    a = ap.parse_args()
    data = shared_root() / "mot" / "sportsmot_football_train"
    t0 = time.perf_counter()
    res = evaluate_tracking(
        data,
        trackers=[t.strip() for t in a.trackers.split(",") if t.strip()],
        seed=a.seed,
        max_frames=a.max_frames,
        speed_frames=a.speed_frames,
    )
    scores = {t: s.to_json() for t, s in res.scores.items()}
    out = header("track_mot") | {"seconds": round(time.perf_counter() - t0, 1)} | res.to_json()
    print(json.dumps({t: {k: scores[t][k] for k in KEYS} for t in res.trackers}, indent=2))
    print(format_summary(res))
    if a.ablations:
        variants = {
            "touchline_no_coast": {"coast_seconds": 0},
            "touchline_no_coast_no_ego_motion": {"coast_seconds": 0, "ego_motion": False},
        }
        factories = {name: _variant(kw) for name, kw in variants.items()}
        abl = evaluate_tracking(
            data, trackers=factories, seed=a.seed, max_frames=a.max_frames, speed_frames=0
        )
        out["ablations"] = {
            name: {"config": variants[name]} | {k: abl.scores[name].to_json()[k] for k in KEYS[:-1]}
            for name in variants
        }
        print(format_summary(abl))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
