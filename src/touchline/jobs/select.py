"""The job behind ``touchline select``: from videos/images, predictions, metadata and a Lightly
selection config to the selected frames, ready for labelling.

Steps (each timed in the report):

1. **inputs** -- every frame of every video and every image under ``input``
   (:func:`touchline.select.inputs.discover`), with Lightly's file names;
2. **metadata** -- Lightly metadata files, ``video_name`` defaulting to the video's (or frame
   folder's) name;
3. **predictions** -- the tasks the config names, in Lightly's prediction format;
4. **embeddings** -- frame embeddings of the shipped ``embed`` model (or any ONNX model),
   cached on disk; an ``EMBEDDINGS`` input with a ``task`` uses the mean embedding of that
   task's object crops in each frame (Lightly: "select images with diverse objects"), the
   frame's own embedding where it has no object;
5. **selection** -- THRESHOLD filters, then one greedy pass over the other strategies
   (:mod:`touchline.select.strategies`); with ``selected_sequence_length`` > 1, whole runs of
   consecutive frames are selected;
6. **outputs** -- ``selection.json``/``.csv``, the frames under ``frames/`` (Lightly names),
   ``label_studio_tasks.json`` and ``cvat_annotations.xml`` (predictions as pre-annotations),
   the report (``report.json``, ``report.html``, ``report.pdf``) and ``summary.json``.

With ``object_level=TASK`` the samples are that task's objects (crops) instead of frames: the
crops are embedded and selected, ``objectness_least_confidence`` is ``1 - score`` of each
object, metadata is the frame's, and ``crops/`` holds the selected crops.

Interrupting a run loses nothing: embeddings are cached as they are computed, and the picks of
the greedy pass are checkpointed under ``out/.select-partial`` (kept only while the inputs,
config and embeddings are unchanged), so a rerun continues where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError
from touchline.select.config import (
    InputType,
    SelectionConfig,
    SelectionEntry,
    StrategyType,
    load_selection_config,
)
from touchline.select.embeddings import (
    Embedder,
    EmbeddingCache,
    embed_sample_crops,
    embed_samples,
    l2_normalise,
)
from touchline.select.export import (
    PreAnnotation,
    extract_crops,
    extract_frames,
    write_label_tools,
    write_selection,
)
from touchline.select.inputs import discover, iter_frames
from touchline.select.metadata import attach_metadata, read_metadata
from touchline.select.pool import Crop, SamplePool, metadata_columns
from touchline.select.predictions import FramePredictions, Task, read_predictions, read_tasks
from touchline.select.report import ReportData, build_report
from touchline.select.strategies import StopReason, objective_from_entry, select
from touchline.select.types import Sample
from touchline.utils.checkpoint import Checkpoint, fingerprint
from touchline.utils.files import write_json_atomic
from touchline.utils.results import JsonResult

__all__ = ["EmbeddingInfo", "SelectionRun", "SelectionSummary", "select_frames"]

Progress = Callable[[str, int, int], Any]


@dataclass(frozen=True)
class EmbeddingInfo(JsonResult):
    """The embedding model used and its dimension."""

    model: str
    dim: int


@dataclass(frozen=True)
class SelectionSummary(JsonResult):
    """The counts, strategies, timings (s per step) and outputs of a run (``summary.json``)."""

    input: str
    samples: int
    kind: str  # "frames" or "objects of <task>"
    candidates: int
    selected: int
    stop_reason: StopReason
    resumed_picks: int
    sequence_length: int
    strategies: list[str]
    embedding: EmbeddingInfo
    timings_s: dict[str, float]
    outputs: list[str]


@dataclass(frozen=True)
class SelectionRun:
    """What :func:`select_frames` decided: the samples, the indices picked, the summary."""

    samples: list[Sample]
    selected: NDArray[np.int64]
    summary: SelectionSummary


def _tasks_needed(cfg: SelectionConfig, object_level: str | None) -> list[str]:
    names = [e.input.task for e in cfg.strategies if e.input.task]
    if object_level:
        names.append(object_level)
    return sorted(set(n for n in names if n))


def _load_predictions(
    predictions: str | Path | None, names: Sequence[str], samples: Sequence[Sample]
) -> tuple[dict[str, Task], dict[str, dict[str, FramePredictions]]]:
    if not names:
        return {}, {}
    if predictions is None:
        raise DataError(
            f"the selection config uses prediction task(s) {list(names)}: give --predictions DIR"
        )
    known = {t.name: t for t in read_tasks(predictions)}
    tasks: dict[str, Task] = {}
    preds: dict[str, dict[str, FramePredictions]] = {}
    for name in names:
        if name not in known:
            raise DataError(
                f"{Path(predictions) / 'tasks.json'}: no task {name!r} (tasks: {sorted(known)})"
            )
        tasks[name] = known[name]
        preds[name] = read_predictions(predictions, known[name], samples)
    return tasks, preds


def _boxes(
    preds: Mapping[str, FramePredictions], samples: Sequence[Sample]
) -> tuple[list[Sample], dict[str, NDArray[np.float64]]]:
    """The samples with boxes, and their boxes (xyxy) by file name."""
    out = {}
    for s in samples:
        fp = preds.get(s.file_name)
        rows = [o.bbox for o in (fp.objects if fp else ()) if o.bbox is not None]
        if rows:
            b = np.asarray(rows, dtype=np.float64)  # xywh
            out[s.file_name] = np.c_[b[:, :2], b[:, :2] + b[:, 2:]]
    return [s for s in samples if s.file_name in out], out


def _digestible(values: NDArray[Any] | None) -> Any:
    """An input as something :func:`fingerprint` hashes (arrays as bytes, the rest as JSON)."""
    if values is None:
        return None
    arr = np.asarray(values)
    return arr.astype(str).tolist() if arr.dtype == object else np.ascontiguousarray(arr)


def select_frames(
    input: str | Path,
    out: str | Path,
    *,
    config: str | Path | Mapping[str, Any],
    predictions: str | Path | None = None,
    metadata: str | Path | None = None,
    object_level: str | None = None,
    tags: str | Path | None = None,
    model: str | Path = "embed",
    cache: str | Path | None = None,
    seed: int = 0,
    extract: bool = True,
    report: bool = True,
    progress: Progress | None = None,
) -> SelectionRun:
    """Select frames (or objects) for labelling; see the module docstring.

    Args:
        input: a folder or fsspec URL of videos and images, or one video.
        out: output folder.
        config: a Lightly selection config (JSON path or dict).
        predictions: the Lightly predictions folder (``tasks.json`` + one folder per task).
        metadata: the Lightly metadata folder (``schema.json`` + per-file JSON).
        object_level: select the objects of this prediction task instead of frames.
        tags: folder of tags for SIMILARITY queries: the ``tag_name`` of an EMBEDDINGS input
            is the file ``<tags>/<tag_name>.txt`` (or ``.json``, a list) naming query samples
            by file name, one per line.
        model: the embedding model: ``"embed"`` (shipped) or any ONNX file.
        cache: embedding cache folder (default ``out/.select-cache``).
        seed: seed of RANDOM inputs and of the typicality reference.
        extract: write the selected frames (or crops) and the labelling-tool files.
        report: write the report.
        progress: ``progress(stage, done, total)``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    cfg_dict = config if isinstance(config, Mapping) else None
    cfg = load_selection_config(config)
    frames = discover(input)
    if not frames:
        raise DataError(f"{input}: no videos or images found")
    frames = attach_metadata(frames, read_metadata(metadata, frames))
    timings["inputs"] = time.perf_counter() - t

    t = time.perf_counter()
    tasks, preds = _load_predictions(predictions, _tasks_needed(cfg, object_level), frames)
    timings["predictions"] = time.perf_counter() - t

    t = time.perf_counter()
    embedder = Embedder(model) if str(model) != "embed" else Embedder()
    cache_dir = Path(cache) if cache is not None else out / ".select-cache"

    with EmbeddingCache(cache_dir) as store:
        if object_level:
            pool = _object_pool(frames, preds[object_level], embedder, store)
        else:
            # one decode of each frame: the crops pass also fills the frame-embedding cache
            inputs = [e.input for e in cfg.strategies if e.input.type is InputType.EMBEDDINGS]
            crops = {
                n: _task_crops(frames, preds[n], embedder, store, progress)
                for n in sorted({str(i.task) for i in inputs if i.task})
            }
            emb = _frame_embeddings(frames, embedder, store, progress)
            task_emb = {n: _mean_with_fallback(c, emb) for n, c in crops.items()}
            pool = SamplePool(frames, emb, task_emb, metadata=metadata_columns(frames))
    timings["embeddings"] = time.perf_counter() - t

    t = time.perf_counter()
    pool = pool.resolve([e.input for e in cfg.strategies], tasks, preds)
    # SIMILARITY queries are samples: taken before any aggregation into sequences
    queries = [_query(e, pool, tags) for e in cfg.strategies]
    length = cfg.selected_sequence_length
    units = pool.sequences(length) if length > 1 else pool  # rows: frames or runs of frames
    objectives = [
        objective_from_entry(e, units.inputs.get(e.input), size=len(units), seed=seed, query=q,
                             class_names=units.class_names.get(e.input))
        for e, q in zip(cfg.strategies, queries, strict=True)
    ]  # fmt: skip
    n_frames = cfg.samples_to_select(len(pool))
    n = n_frames if units.groups is None else -(-n_frames // length)
    # every resolved input is part of the key: changed predictions, metadata or embeddings
    # (another model) start the greedy pass afresh instead of replaying stale picks
    key = fingerprint(cfg.to_dict(), pool.file_names, pool.embeddings, object_level, seed,
                      *(_digestible(units.inputs.get(e.input)) for e in cfg.strategies),
                      *(_digestible(q) for q in queries))  # fmt: skip
    partial = Checkpoint(out / ".select-partial", key)
    saved = partial.read_json("picks.json")
    pre = [int(i) for i in saved] if isinstance(saved, list) else []
    picks: list[int] = list(pre)

    last_save = [time.monotonic()]

    def save() -> None:
        partial.write_json("picks.json", picks)
        last_save[0] = time.monotonic()

    def on_pick(done: int, total: int | None, index: int) -> None:
        if len(picks) < done:
            picks.append(int(index))
        if time.monotonic() - last_save[0] > 2.0:  # a killed process loses at most 2 s
            save()
        if progress is not None:
            progress("select", done, total or len(units))

    try:
        result = select(n, objectives, preselected=pre or None, seed=seed, progress=on_pick)
    except BaseException:  # interrupted (Ctrl-C, an error in a callback): keep the picks
        save()
        raise
    partial.clear()  # done: nothing to resume
    selected = units.expand(result.indices)[:n_frames]
    timings["selection"] = time.perf_counter() - t

    t = time.perf_counter()
    outputs = ["selection.json", "selection.csv", "summary.json"]
    write_selection(out, pool.samples, list(selected), scores=pool.scores, metadata=pool.metadata)
    picked = pool.subset(selected)  # the selected frames (or objects)
    gallery: list[tuple[str, NDArray[np.uint8]]] = []
    if extract:
        if object_level:
            _write_crops(out, picked, frames)
            outputs.append("crops/")
        else:
            sizes, anns = _extract(out, picked.samples, tasks, preds, gallery, progress)
            rank = {f: k for k, f in enumerate(picked.file_names)}
            gallery.sort(key=lambda item: rank.get(item[0], len(rank)))  # pick order
            write_label_tools(out, picked.file_names, sizes, annotations=anns)
            outputs += ["frames/", "label_studio_tasks.json", "cvat_annotations.xml"]
    timings["outputs"] = time.perf_counter() - t
    if report:
        t = time.perf_counter()
        unit_ok = np.ones(len(units), bool)
        for obj in objectives:
            if (keep := obj.keep()) is not None:
                unit_ok &= keep
        cand = np.zeros(len(pool), bool)  # a frame passes when its sequence does
        cand[units.expand(np.flatnonzero(unit_ok))] = True
        targets = {
            e.input.key: dict(e.strategy.target)
            for e in cfg.strategies
            if e.strategy.type is StrategyType.BALANCE and e.input.key and e.strategy.target
        }
        objects = None
        if preds and not object_level:
            first = next(e.input.task for e in cfg.strategies if e.input.task in preds)
            objects = np.array(
                [len(preds[first][s.file_name].objects) if s.file_name in preds[first] else 0
                 for s in pool.samples], float)  # fmt: skip
        build_report(
            ReportData(
                file_names=pool.file_names,
                selected=selected,
                candidates=cand,
                embeddings=pool.embeddings,
                scores=pool.scores,
                metadata={k: np.asarray(v).astype(str) for k, v in pool.metadata.items()},
                objects=objects,
                targets=targets,
                timings=timings,
                config=cfg_dict if cfg_dict is not None else cfg.to_dict(),
                gallery=gallery,
            ),
            out,
        )
        timings["report"] = time.perf_counter() - t
        outputs += ["report.json", "report.html", "report.pdf"]
    summary = SelectionSummary(
        input=str(input),
        samples=len(pool),
        kind=f"objects of {object_level}" if object_level else "frames",
        candidates=int(result.n_candidates) * length,
        selected=int(selected.size),
        stop_reason=result.stop_reason,
        resumed_picks=len(pre),
        sequence_length=length,
        strategies=[e.describe() for e in cfg.strategies],
        embedding=EmbeddingInfo(str(model), int(pool.embeddings.shape[1])),
        timings_s={k: round(v, 3) for k, v in timings.items()},
        outputs=outputs,
    )
    write_json_atomic(out / "summary.json", summary.to_json())
    return SelectionRun(pool.samples, selected, summary)


def _query(entry: SelectionEntry, pool: SamplePool, tags: str | Path | None) -> NDArray[Any] | None:
    """The query embeddings of a SIMILARITY entry: the samples its tag file names."""
    if entry.strategy.type is not StrategyType.SIMILARITY:
        return None
    name = str(entry.input.tag_name)
    folder = Path(tags) if tags is not None else Path(".")
    found = (folder / f"{name}{ext}" for ext in (".txt", ".json", ""))
    path = next((f for f in found if f.is_file()), None)
    if path is None:
        raise DataError(
            f"SIMILARITY tag {name!r}: no file {folder / (name + '.txt')} (give --tags DIR with "
            f"{name}.txt listing the query samples' file names)"
        )
    text = path.read_text()
    try:
        names = json.loads(text) if path.suffix == ".json" else None
    except ValueError as e:
        raise DataError(f"{path}: not valid JSON ({e})") from None
    if names is None:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    index = {f: k for k, f in enumerate(pool.file_names)}
    unknown = [n for n in names if n not in index]
    if unknown:
        raise DataError(f"{path}: {unknown[0]!r} is not one of the input samples")
    if not names:
        raise DataError(f"{path}: the tag names no sample")
    return np.asarray(pool.inputs[entry.input])[[index[n] for n in names]]


def _decoded(stage: str, samples: Sequence[Sample], progress: Progress | None) -> Any:
    """The ``(sample, image)`` pairs of ``samples``, reporting ``progress(stage, k, n)``."""
    for k, item in enumerate(iter_frames(samples)):
        if progress is not None:
            progress(stage, k + 1, len(samples))
        yield item


def _frame_embeddings(
    frames: Sequence[Sample], embedder: Embedder, store: EmbeddingCache, progress: Progress | None
) -> NDArray[np.float32]:
    from touchline.select.embeddings import sample_key

    # decode only the frames the cache lacks (a resumed run skips the rest)
    _, found = store.get(embedder.cache_key("frame"), [sample_key(s) for s in frames])
    todo = [s for s, f in zip(frames, found.tolist(), strict=True) if not f]
    return embed_samples(frames, _decoded("embed", todo, progress), embedder=embedder, cache=store)


def _prefill_frames(
    stream: Any, embedder: Embedder, store: EmbeddingCache, *, batch: int = 4
) -> Any:
    """Pass ``(sample, image)`` pairs through, embedding each frame into the cache on the way
    (small batches: full-resolution frames are large)."""
    from touchline.select.embeddings import sample_key

    ckey = embedder.cache_key("frame")
    keys: list[str] = []
    images: list[NDArray[np.uint8]] = []

    def flush() -> None:
        if images:
            store.put(ckey, list(keys), embedder.embed_images(images))
            keys.clear()
            images.clear()

    try:
        for s, img in stream:
            key = sample_key(s)
            if not store.get(ckey, [key])[1][0]:  # not embedded yet
                keys.append(key)
                images.append(img)
            if len(images) >= batch:
                flush()
            yield s, img
    finally:  # also when the consumer stops early (the generator is closed)
        flush()


def _task_crops(
    frames: Sequence[Sample],
    preds: Mapping[str, FramePredictions],
    embedder: Embedder,
    store: EmbeddingCache,
    progress: Progress | None,
) -> list[NDArray[np.float32] | None]:
    """Per frame, the embeddings of the task's object crops (``None``: no object)."""
    with_boxes, boxes = _boxes(preds, frames)
    feed = _prefill_frames(_decoded("crops", with_boxes, progress), embedder, store)
    try:
        got = embed_sample_crops(with_boxes, feed, boxes, embedder=embedder, cache=store)
    finally:
        feed.close()  # embeds the last, partial batch of frames
    by_name = {s.file_name: c for s, c in zip(with_boxes, got, strict=True)}
    return [by_name.get(s.file_name) for s in frames]


def _mean_with_fallback(
    crops: Sequence[NDArray[np.float32] | None], frame_emb: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Unit mean of each frame's crop embeddings; the frame's own embedding without crops."""
    out = frame_emb.copy()
    for k, c in enumerate(crops):
        if c is not None and len(c):
            out[k] = c.mean(axis=0)
    return l2_normalise(out)


def _object_pool(
    frames: Sequence[Sample],
    preds: Mapping[str, FramePredictions],
    embedder: Embedder,
    store: EmbeddingCache,
) -> SamplePool:
    """The objects of the task with a box as samples, each embedded from its crop."""
    with_boxes, boxes = _boxes(preds, frames)
    crops = embed_sample_crops(with_boxes, iter_frames(with_boxes), boxes, embedder=embedder,
                               cache=store)  # fmt: skip
    index = {s.file_name: k for k, s in enumerate(frames)}
    samples: list[Sample] = []
    rows: list[NDArray[np.float32]] = []
    crop_of: list[Crop] = []
    for s, c in zip(with_boxes, crops, strict=True):
        objs = [o for o in preds[s.file_name].objects if o.bbox is not None]
        stem = str(Path(s.file_name).with_suffix(""))
        for j, o in enumerate(objs):
            samples.append(Sample(f"{stem}-{j}.png", s.source, s.video, s.frame, dict(s.metadata)))
            rows.append(c[j])
            crop_of.append((index[s.file_name], o))
    if not samples:
        raise DataError("object_level: the predictions have no objects with a box")
    emb = np.vstack(rows).astype(np.float32)
    return SamplePool(samples, emb, metadata=metadata_columns(samples), objects=crop_of)


def _extract(
    out: Path,
    sel: Sequence[Sample],
    tasks: Mapping[str, Task],
    preds: Mapping[str, Mapping[str, FramePredictions]],
    gallery: list[tuple[str, NDArray[np.uint8]]],
    progress: Progress | None,
) -> tuple[dict[str, tuple[int, int]], dict[str, list[PreAnnotation]]]:
    import cv2

    sizes: dict[str, tuple[int, int]] = {}

    def stream() -> Any:
        for k, (s, img) in enumerate(iter_frames(sel)):
            sizes[s.file_name] = (int(img.shape[1]), int(img.shape[0]))
            if len(gallery) < 400:
                h, w = img.shape[:2]
                thumb = cv2.resize(
                    img, (192, max(1, round(192 * h / w))), interpolation=cv2.INTER_AREA
                )
                gallery.append(
                    (s.file_name, np.ascontiguousarray(thumb[..., ::-1], dtype=np.uint8))
                )
            if progress is not None:
                progress("extract", k + 1, len(sel))
            yield s, img

    extract_frames(stream(), out / "frames")
    anns: dict[str, list[PreAnnotation]] = {}
    for name, task in tasks.items():
        cats = {c.id: c for c in task.categories}
        for s in sel:
            fp = preds[name].get(s.file_name)
            for o in fp.objects if fp else ():
                c = cats.get(o.category_id)
                box = None
                if o.bbox is not None:
                    x, y, w, h = (float(v) for v in o.bbox)
                    box = (x, y, x + w, y + h)
                anns.setdefault(s.file_name, []).append(
                    PreAnnotation(
                        c.name if c else str(o.category_id),
                        box=box,
                        keypoints=o.keypoints,
                        keypoint_names=c.keypoints if c else None,
                        score=float(o.score),
                    )
                )
    return sizes, anns


def _write_crops(out: Path, picked: SamplePool, frames: Sequence[Sample]) -> None:
    wanted: dict[str, list[tuple[str, tuple[float, float, float, float]]]] = {}
    for s, (fi, obj) in zip(picked.samples, picked.objects or [], strict=True):
        x, y, w, h = (float(v) for v in np.asarray(obj.bbox))
        wanted.setdefault(frames[fi].file_name, []).append((s.file_name, (x, y, x + w, y + h)))
    chosen = [f for f in frames if f.file_name in wanted]
    extract_crops(iter_frames(chosen), wanted, out / "crops")
