"""The selection report: ``report.json``, a self-contained ``report.html`` and ``report.pdf``.

What a labelling lead wants to see after a selection run (the Lightly Worker's report has the
same sections):

* counts: input samples, samples left after the thresholds, samples selected; processing time
  per stage;
* objects per frame (from the predictions) before and after selection;
* the balance of each metadata key (e.g. ``video_name``) before and after, with the targets of
  BALANCE strategies;
* histograms of nearest-neighbour distances in embedding space, of all samples and of the
  selected ones (a diverse selection has larger distances);
* a 2-D view of the embeddings (PCA), coloured by a score, with the selected samples marked;
* a gallery of selected frames.

:func:`build_report` takes arrays (numpy in) and writes the three files atomically; every
figure is rendered once and embedded in both the HTML (base64 PNG) and the PDF.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchline.utils.files import atomic_path, write_json_atomic, write_text_atomic

__all__ = ["ReportData", "build_report", "nearest_neighbour_distances", "pca_2d"]


@dataclass
class ReportData:
    """Everything the report shows (rows of the arrays are the input samples).

    Attributes:
        file_names: ``(n,)`` sample names.
        selected: indices of the selected samples, in pick order.
        candidates: ``(n,)`` True where the sample passed the thresholds.
        embeddings: ``(n, d)`` unit embeddings, or ``None``.
        scores: score name -> ``(n,)`` values.
        metadata: key -> ``(n,)`` values (categorical keys are balanced and plotted).
        objects: ``(n,)`` objects per frame (from the predictions), or ``None``.
        targets: key -> {value: share} of BALANCE strategies.
        timings: stage -> seconds.
        config: the selection config (shown verbatim).
        gallery: ``(file_name, RGB uint8 thumbnail)`` of selected samples.
        title: report title.
    """

    file_names: Sequence[str]
    selected: NDArray[np.int64]
    candidates: NDArray[np.bool_] | None = None
    embeddings: NDArray[np.float32] | None = None
    scores: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    metadata: Mapping[str, NDArray[Any]] = field(default_factory=dict)
    objects: NDArray[np.float64] | None = None
    targets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    gallery: Sequence[tuple[str, NDArray[np.uint8]]] = ()
    title: str = "Touchline frame selection"


def nearest_neighbour_distances(
    emb: NDArray[np.float32], *, block: int | None = None
) -> NDArray[np.float64]:
    """Euclidean distance of each row to its nearest other row (blocked: about 16M distances,
    64 MB, at a time whatever ``n``).

    >>> e = np.array([[1, 0], [0.6, 0.8], [0, 1]], np.float32)
    >>> nearest_neighbour_distances(e).round(3).tolist()
    [0.894, 0.632, 0.632]
    """
    x = np.asarray(emb, dtype=np.float32)
    n = len(x)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    sq = (x * x).sum(axis=1)
    block = block or max(1, (1 << 24) // n)
    for a in range(0, n, block):
        b = min(a + block, n)
        d2 = sq[a:b, None] + sq[None, :] - 2.0 * (x[a:b] @ x.T)
        d2[np.arange(b - a), np.arange(a, b)] = np.inf
        out[a:b] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def pca_2d(emb: NDArray[np.float32], *, sample: int = 20000, seed: int = 0) -> NDArray[np.float64]:
    """The first two principal components of ``emb`` (fitted on at most ``sample`` rows).

    >>> e = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    >>> pca_2d(e).shape
    (50, 2)
    """
    x = np.asarray(emb, dtype=np.float64)
    if len(x) == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    fit = x if len(x) <= sample else x[rng.choice(len(x), sample, replace=False)]
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    comps = vt[:2] if vt.shape[0] >= 2 else np.vstack([vt, np.zeros((2 - vt.shape[0], x.shape[1]))])
    return (x - mean) @ comps.T


def _share(values: NDArray[Any]) -> dict[str, float]:
    keys, counts = np.unique(np.asarray(values).astype(str), return_counts=True)
    total = max(int(counts.sum()), 1)
    return {str(k): round(float(c) / total, 4) for k, c in zip(keys, counts, strict=True)}


def _is_categorical(values: NDArray[Any]) -> bool:
    arr = np.asarray(values)
    return arr.dtype.kind in "OUSb" or (arr.dtype.kind in "iu" and len(np.unique(arr)) <= 50)


def _hist(values: NDArray[np.float64], bins: NDArray[np.float64]) -> list[int]:
    v = values[np.isfinite(values)]
    return [int(c) for c in np.histogram(v, bins=bins)[0]]


def summary(data: ReportData) -> dict[str, Any]:
    """The numbers of ``report.json``."""
    n = len(data.file_names)
    sel = np.asarray(data.selected, dtype=np.int64)
    cand = np.ones(n, bool) if data.candidates is None else np.asarray(data.candidates, bool)
    out: dict[str, Any] = {
        "title": data.title,
        "counts": {
            "input": n,
            "after_thresholds": int(cand.sum()),
            "selected": int(sel.size),
        },
        "timings_s": {k: round(float(v), 3) for k, v in data.timings.items()},
    }
    if data.objects is not None:
        obj = np.asarray(data.objects, dtype=np.float64)
        out["objects_per_frame"] = {
            "before": _stats(obj),
            "after": _stats(obj[sel]),
        }
    balance: dict[str, Any] = {}
    for key, values in data.metadata.items():
        v = np.asarray(values)
        if not _is_categorical(v):
            continue
        balance[key] = {"before": _share(v), "after": _share(v[sel])}
        if key in data.targets:
            balance[key]["target"] = {str(k): float(t) for k, t in data.targets[key].items()}
    out["metadata_balance"] = balance
    out["scores"] = {
        name: {"before": _stats(np.asarray(s, float)), "after": _stats(np.asarray(s, float)[sel])}
        for name, s in data.scores.items()
    }
    if data.embeddings is not None and n >= 2:
        # "before": a seeded sample of at most 20,000 rows (exact below that; O(n^2) above)
        every = np.asarray(data.embeddings)
        if n > 20000:
            every = every[np.sort(np.random.default_rng(0).choice(n, 20000, replace=False))]
        nn_all = nearest_neighbour_distances(every)
        nn_sel = nearest_neighbour_distances(np.asarray(data.embeddings)[sel])
        hi = (
            float(np.nanmax(np.concatenate([nn_all, nn_sel])))
            if sel.size >= 2
            else float(np.nanmax(nn_all))
        )
        bins = np.linspace(0.0, max(hi, 1e-6), 21)
        out["nearest_neighbour_distance"] = {
            "bins": [round(float(b), 5) for b in bins],
            "before": _hist(nn_all, bins),
            "after": _hist(nn_sel, bins),
            "median_before": _round(np.nanmedian(nn_all)),
            "median_after": _round(np.nanmedian(nn_sel)) if sel.size >= 2 else None,
        }
    out["selected"] = [data.file_names[i] for i in sel.tolist()]
    return out


def _round(v: float) -> float | None:
    return round(float(v), 5) if np.isfinite(v) else None


def _stats(v: NDArray[np.float64]) -> dict[str, float | None]:
    v = v[np.isfinite(v)]
    if not v.size:
        return {"mean": None, "median": None, "min": None, "max": None}
    return {
        "mean": _round(v.mean()),
        "median": _round(float(np.median(v))),
        "min": _round(v.min()),
        "max": _round(v.max()),
    }


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


def _figures(data: ReportData, numbers: dict[str, Any]) -> list[tuple[str, Any]]:
    from matplotlib.figure import Figure

    figs: list[tuple[str, Any]] = []
    sel = np.asarray(data.selected, dtype=np.int64)
    blue, orange = "#1f77b4", "#ff7f0e"

    if data.objects is not None:
        obj = np.asarray(data.objects, dtype=np.float64)
        fig = Figure(figsize=(7, 3.2), layout="constrained")
        ax = fig.add_subplot()
        top = int(np.nanmax(obj)) if np.isfinite(obj).any() else 1
        bins: list[float] = [
            float(b) for b in np.arange(-0.5, top + 1.5, max(1, math.ceil((top + 1) / 30)))
        ]
        ax.hist(obj[np.isfinite(obj)], bins=bins, density=True, alpha=0.6, color=blue, label="all")
        ax.hist(obj[sel][np.isfinite(obj[sel])], bins=bins, density=True, alpha=0.6, color=orange,
                label="selected")  # fmt: skip
        ax.set_xlabel("objects per frame")
        ax.set_ylabel("share of frames")
        ax.legend()
        ax.set_title("Objects per frame, before and after selection")
        figs.append(("Objects per frame", fig))

    for key, bal in numbers.get("metadata_balance", {}).items():
        cats = sorted(set(bal["before"]) | set(bal["after"]))
        if len(cats) > 40:
            continue
        fig = Figure(figsize=(7, 0.9 + 0.35 * len(cats)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(cats))
        ax.barh(y - 0.2, [bal["before"].get(c, 0.0) for c in cats], 0.4, color=blue, label="all")
        ax.barh(y + 0.2, [bal["after"].get(c, 0.0) for c in cats], 0.4, color=orange,
                label="selected")  # fmt: skip
        if "target" in bal:
            tx = [bal["target"].get(c, np.nan) for c in cats]
            ax.scatter(tx, y + 0.2, marker="|", s=300, color="black", label="target", zorder=5)
        ax.set_yticks(y, cats)
        ax.invert_yaxis()
        ax.set_xlabel("share")
        ax.legend(loc="lower right")
        ax.set_title(f"Balance of {key}")
        figs.append((f"Balance of {key}", fig))

    nn = numbers.get("nearest_neighbour_distance")
    if nn is not None:
        fig = Figure(figsize=(7, 3.2), layout="constrained")
        ax = fig.add_subplot()
        edges = np.asarray(nn["bins"])
        centres, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        for key, color, label in (("before", blue, "all"), ("after", orange, "selected")):
            counts = np.asarray(nn[key], float)
            share = counts / max(counts.sum(), 1)
            ax.bar(centres, share, width=width, alpha=0.6, color=color, label=label)
        ax.set_xlabel("distance to the nearest neighbour (embedding space)")
        ax.set_ylabel("share of samples")
        ax.legend()
        ax.set_title("Nearest-neighbour distances, before and after selection")
        figs.append(("Nearest-neighbour distances", fig))

    if data.embeddings is not None and len(data.file_names) >= 2:
        xy = pca_2d(data.embeddings)
        fig = Figure(figsize=(7, 5.5), layout="constrained")
        ax = fig.add_subplot()
        # colour by the most varied score (a constant one would show nothing)
        varied = sorted(data.scores.items(), key=lambda kv: -float(np.nanstd(kv[1])))
        name, score = varied[0] if varied else (None, None)
        if score is not None:
            sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.asarray(score, float), s=6, cmap="viridis",
                            alpha=0.7, linewidths=0)  # fmt: skip
            fig.colorbar(sc, ax=ax, label=name)
        else:
            ax.scatter(xy[:, 0], xy[:, 1], s=6, color="0.6", alpha=0.7, linewidths=0)
        ax.scatter(xy[sel, 0], xy[sel, 1], s=40, facecolors="none", edgecolors="red",
                   linewidths=1.2, label="selected")  # fmt: skip
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.legend(loc="best")
        ax.set_title("Embeddings (PCA), selected samples circled")
        figs.append(("Embedding view", fig))

    if data.gallery:
        items = list(data.gallery)[:48]
        cols = 6
        rows = math.ceil(len(items) / cols)
        fig = Figure(figsize=(11, 1.6 * rows + 0.4), layout="constrained")
        for i, (name, thumb) in enumerate(items):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.imshow(thumb)
            ax.set_title(name if len(name) <= 28 else "..." + name[-25:], fontsize=6)
            ax.axis("off")
        fig.suptitle(
            f"Selected frames, in pick order (the first {len(items)} of {len(data.selected)})"
        )
        figs.append(("Gallery of selected frames", fig))
    return figs


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _html(
    numbers: dict[str, Any], images: list[tuple[str, bytes]], config: Mapping[str, Any]
) -> str:
    c = numbers["counts"]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
        for k, v in [
            ("input samples", c["input"]),
            ("after thresholds", c["after_thresholds"]),
            ("selected", c["selected"]),
            *((f"time: {k}", f"{v:.2f} s") for k, v in numbers["timings_s"].items()),
        ]
    )
    bal_rows = ""
    for key, bal in numbers.get("metadata_balance", {}).items():
        for cat in sorted(set(bal["before"]) | set(bal["after"])):
            target = bal.get("target", {}).get(cat)
            bal_rows += (
                f"<tr><td>{html.escape(key)}</td><td>{html.escape(cat)}</td>"
                f"<td>{bal['before'].get(cat, 0.0):.3f}</td><td>{bal['after'].get(cat, 0.0):.3f}</td>"
                f"<td>{'' if target is None else f'{target:.3f}'}</td></tr>"
            )
    figs = "".join(
        f'<section><h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode()}"></section>'
        for title, png in images
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(numbers["title"])}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px}}
img{{max-width:100%}}pre{{background:#f5f5f5;padding:1em;overflow:auto}}</style></head>
<body><h1>{html.escape(numbers["title"])}</h1>
<section><h2>Summary</h2><table id="counts">{rows}</table></section>
<section><h2>Metadata balance</h2><table id="balance"><tr><th>key</th><th>value</th><th>all</th>
<th>selected</th><th>target</th></tr>{bal_rows}</table></section>
{figs}
<section><h2>Selection config</h2><pre>{html.escape(json.dumps(dict(config), indent=2))}</pre></section>
</body></html>
"""


def build_report(data: ReportData, out: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.html`` and ``report.pdf`` into ``out``; returns paths.

    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> emb = rng.normal(size=(30, 4)).astype(np.float32)
    >>> d = ReportData([f"f{i}.png" for i in range(30)], np.array([0, 5, 9]), embeddings=emb,
    ...                metadata={"video_name": np.array(["a", "b", "c"] * 10)})
    >>> paths = build_report(d, tempfile.mkdtemp())
    >>> sorted(paths), json.loads(paths["json"].read_text())["counts"]["selected"]
    (['html', 'json', 'pdf'], 3)
    """
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    numbers = summary(data)
    figs = _figures(data, numbers)
    images = [(title, _png(fig)) for title, fig in figs]
    paths = {
        "json": write_json_atomic(out / "report.json", numbers),
        "html": write_text_atomic(out / "report.html", _html(numbers, images, data.config)),
    }
    with atomic_path(out / "report.pdf") as tmp, PdfPages(tmp) as pdf:
        cover = Figure(figsize=(8.27, 11.69))
        text = [numbers["title"], ""]
        c = numbers["counts"]
        text += [
            f"input samples: {c['input']}",
            f"after thresholds: {c['after_thresholds']}",
            f"selected: {c['selected']}",
            "",
        ]
        text += [f"time {k}: {v:.2f} s" for k, v in numbers["timings_s"].items()]
        for key, bal in numbers.get("metadata_balance", {}).items():
            text += ["", f"balance of {key} (all -> selected):"]
            for cat in sorted(set(bal["before"]) | set(bal["after"]))[:30]:
                text.append(
                    f"  {cat}: {bal['before'].get(cat, 0.0):.3f} -> {bal['after'].get(cat, 0.0):.3f}"
                )
        cover.text(0.08, 0.95, "\n".join(text), va="top", family="monospace", fontsize=9)
        pdf.savefig(cover)
        for _, fig in figs:
            pdf.savefig(fig)
    paths["pdf"] = out / "report.pdf"
    return paths
