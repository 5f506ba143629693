"""Selection speed: 100 of 100,000 frames with DIVERSITY + WEIGHTS (two scores) + BALANCE.

Usage::

    python benchmarks/select_speed.py [--samples 100000] [--dim 128] [--select 100]
        [--runs 3] [--out benchmarks/results/select_speed.json]

Input (seeded, generated here): ``--samples`` frames of 8 videos with skewed lengths (40%,
20%, 12%, 10%, 8%, 5%, 3%, 2%); a ``--dim``-d unit embedding per frame from a mixture of 64
Gaussian clusters of random sizes (clusters are shared between videos); two scores per frame,
``object_frequency`` (players seen, Poisson around a per-cluster rate, divided by its maximum)
and ``objectness_least_confidence`` (Beta(2, 5)); the ``video_name`` metadata.

The config is the acceptance config (Lightly's sports tutorial shape), parsed by
``SelectionConfig.from_dict`` and turned into objectives by ``objective_from_entry``: EMBEDDINGS
with DIVERSITY, the two SCORES with WEIGHTS, METADATA ``video_name`` with BALANCE at equal
shares. Reported: ``seconds`` (the median of ``--runs`` selections, objectives built from the
arrays included, data generation excluded), peak memory of one more selection (tracemalloc
peak of Python/numpy allocations, and the growth of the process's peak RSS), the balance
reached, the coverage radius of the picks (largest distance from any frame to its nearest
pick) against that of uniformly random picks, the mean scores of the picks against the
population, and whether a run interrupted after half the picks and resumed equals the
uninterrupted run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from _common import header
from touchline.select.config import SelectionConfig
from touchline.select.strategies import (
    SelectionResult,
    k_center_greedy,
    objective_from_entry,
    select,
)
from touchline.utils.files import write_json_atomic

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "select_speed.json"
VIDEO_SHARES = [0.40, 0.20, 0.12, 0.10, 0.08, 0.05, 0.03, 0.02]
TASK = "volleyball_pose"


class Interrupted(Exception):
    """Stands for a kill in the middle of a run."""


def generate(n: int, dim: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = 64
    centres = rng.normal(size=(k, dim)).astype(np.float32)
    sizes = rng.dirichlet(np.full(k, 0.7))
    cluster = rng.choice(k, size=n, p=sizes)
    emb = centres[cluster]
    for s in range(0, n, 10_000):  # in chunks: keep the generator's float64 temporaries small
        blk = emb[s : s + 10_000]
        blk += rng.normal(0.0, 0.35, size=blk.shape).astype(np.float32)
        blk /= np.linalg.norm(blk, axis=1, keepdims=True)
    counts = np.floor(np.asarray(VIDEO_SHARES) * n).astype(int)
    counts[0] += n - counts.sum()
    video = np.repeat([f"rally_{i:02d}.mp4" for i in range(len(counts))], counts)
    rate = rng.uniform(2.0, 12.0, size=k)[cluster]
    freq = rng.poisson(rate).astype(np.float64)
    return {
        "embeddings": emb,
        "object_frequency": freq / freq.max(),
        "objectness_least_confidence": rng.beta(2.0, 5.0, size=n),
        "video_name": video,
    }


def config(videos: list[str], n_select: int) -> SelectionConfig:
    share = 1.0 / len(videos)
    return SelectionConfig.from_dict(
        {
            "n_samples": n_select,
            "strategies": [
                {"input": {"type": "EMBEDDINGS", "task": TASK}, "strategy": {"type": "DIVERSITY"}},
                {
                    "input": {"type": "SCORES", "task": TASK, "score": "object_frequency"},
                    "strategy": {"type": "WEIGHTS"},
                },
                {
                    "input": {
                        "type": "SCORES",
                        "task": TASK,
                        "score": "objectness_least_confidence",
                    },
                    "strategy": {"type": "WEIGHTS"},
                },
                {
                    "input": {"type": "METADATA", "key": "video_name"},
                    "strategy": {"type": "BALANCE", "target": dict.fromkeys(videos, share)},
                },
            ],
        },
        source="select_speed config",
    )


def run(cfg: SelectionConfig, data: dict[str, np.ndarray], **kw: Any) -> SelectionResult:
    arrays = [
        data["embeddings"],
        data["object_frequency"],
        data["objectness_least_confidence"],
        data["video_name"],
    ]
    objectives = [objective_from_entry(e, a) for e, a in zip(cfg.strategies, arrays, strict=True)]
    return select(cfg.samples_to_select(len(arrays[0])), objectives, **kw)


def coverage_radius(emb: np.ndarray, picks: np.ndarray, chunk: int = 20_000) -> float:
    c = emb[picks].astype(np.float64)
    worst = 0.0
    for s in range(0, len(emb), chunk):
        x = emb[s : s + chunk].astype(np.float64)
        d2 = (x * x).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2.0 * x @ c.T
        worst = max(worst, float(np.sqrt(np.maximum(d2, 0.0).min(axis=1).max())))
    return worst


def min_pairwise(emb: np.ndarray, picks: np.ndarray) -> float:
    c = emb[picks].astype(np.float64)
    d = np.sqrt(np.maximum(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1), 0.0))
    np.fill_diagonal(d, np.inf)
    return float(d.min())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--select", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()

    t0 = time.perf_counter()
    data = generate(a.samples, a.dim)
    gen_s = time.perf_counter() - t0
    videos = sorted(set(data["video_name"].tolist()))
    cfg = config(videos, a.select)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run(cfg, data)  # warm-up, and the growth of the peak RSS during a first selection
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, result = [], None
    for _ in range(a.runs):
        t = time.perf_counter()
        result = run(cfg, data)
        times.append(time.perf_counter() - t)
    assert result is not None

    tracemalloc.start()
    run(cfg, data)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # a run killed after half the picks, resumed from the picks its progress callback saved
    half, saved = a.select // 2, list[int]()

    def save(done: int, total: int | None, index: int) -> None:
        saved.append(index)
        if done == half:
            raise Interrupted

    with contextlib.suppress(Interrupted):
        run(cfg, data, progress=save)
    resumed = run(cfg, data, preselected=saved)
    resume_equal = bool(
        np.array_equal(resumed.indices, result.indices)
        and np.array_equal(resumed.log_objective, result.log_objective)
    )

    picks = result.indices
    names, counts = np.unique(data["video_name"][picks], return_counts=True)
    shares = counts / counts.sum()
    rng = np.random.default_rng(1)
    random_picks = rng.choice(a.samples, size=a.select, replace=False)
    emb = data["embeddings"]
    input_mb = sum(v.nbytes for v in data.values()) / 1e6
    out = header("select_speed") | {
        "input": (
            f"{a.samples} frames of {len(videos)} videos (shares {VIDEO_SHARES}), {a.dim}-d unit "
            "embeddings from a 64-cluster mixture, scores object_frequency and "
            "objectness_least_confidence, metadata video_name (seeded)"
        ),
        "config": cfg.to_dict(),
        "samples": a.samples,
        "dim": a.dim,
        "selected": len(picks),
        "stop_reason": result.stop_reason,
        "runs": a.runs,
        "seconds": round(statistics.median(times), 3),
        "ms_per_pick": round(1000 * statistics.median(times) / max(len(picks), 1), 2),
        "all_runs_seconds": [round(t, 3) for t in times],
        "generate_seconds": round(gen_s, 2),
        "input_mb": round(input_mb, 1),
        "memory": {
            "tracemalloc_peak_mb": round(traced_peak / 1e6, 1),
            "ru_maxrss_growth_mb": round((rss_after - rss_before) / 1024, 1),
            "ru_maxrss_mb": round(rss_after / 1024, 1),
            "note": "tracemalloc: peak of allocations during one selection (inputs excluded); "
            "ru_maxrss: process peak RSS (Linux KiB -> MB) after all runs, and its growth "
            "during the first selection (inputs already in memory)",
        },
        "balance": {
            "target_share": round(1.0 / len(videos), 4),
            "counts": dict(zip(names.tolist(), counts.tolist(), strict=True)),
            "max_abs_share_error": round(float(np.abs(shares - 1.0 / len(videos)).max()), 4),
            "input_shares": VIDEO_SHARES,
        },
        "coverage_radius": {
            "selected": round(coverage_radius(emb, picks), 4),
            "diversity_only": round(coverage_radius(emb, k_center_greedy(emb, a.select)), 4),
            "random": round(coverage_radius(emb, random_picks), 4),
            "note": "largest distance from any frame to its nearest pick (lower: better covered)",
        },
        "min_distance_between_picks": {
            "selected": round(min_pairwise(emb, picks), 4),
            "random": round(min_pairwise(emb, random_picks), 4),
        },
        "mean_scores": {
            k: {
                "selected": round(float(data[k][picks].mean()), 4),
                "all": round(float(data[k].mean()), 4),
            }
            for k in ("object_frequency", "objectness_least_confidence")
        },
        "resume_after_half_equal": resume_equal,
    }
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "config")}, indent=1))
    write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
