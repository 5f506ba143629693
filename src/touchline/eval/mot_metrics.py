"""Multi-object-tracking metrics: CLEAR MOT, identity (IDF1) and HOTA.

The definitions follow the reference implementations so that numbers are comparable:

* ``clear_mot`` — CLEAR MOT as in py-motmetrics: a ground-truth object keeps the tracker id it was
  last matched to while their IoU stays at or above the threshold; the rest are matched by the
  Hungarian algorithm on ``1 - IoU``; a match to another tracker id than the object's last one is
  an identity switch. MOTP is reported as the mean IoU of the matches (motmetrics reports
  ``1 - IoU``).
* ``idf1`` — identity measures of Ristani et al. (2016): one global bipartite matching of
  ground-truth and tracker trajectories maximising the identity true positives.
* ``hota`` — HOTA of Luiten et al. (2020) exactly as TrackEval computes it, for the 19 localisation
  thresholds ``alpha = 0.05, 0.10, ..., 0.95``.

A sequence is a list of :class:`MotFrame`; :func:`read_mot` reads MOTChallenge text files and
:func:`mot_frames` pairs ground truth with tracker output. :func:`combine_mot` pools the
:func:`evaluate_mot` results of several sequences as TrackEval's ``COMBINED_SEQ`` does.

Example:
    >>> import numpy as np
    >>> box = np.array([[0.0, 0.0, 10.0, 10.0]])
    >>> frames = [MotFrame(t, [7], box, [3], box) for t in range(1, 4)]
    >>> s = evaluate_mot(frames)
    >>> s["mota"], s["idf1"], s["hota"], s["idsw"]
    (1.0, 1.0, 1.0, 0)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from touchline.errors import DataError
from touchline.geometry.boxes import box_iou

__all__ = [
    "HOTA_ALPHAS",
    "MotFrame",
    "clear_mot",
    "combine_mot",
    "evaluate_mot",
    "hota",
    "idf1",
    "mot_frames",
    "pitch_similarity",
    "read_mot",
]

#: TrackEval's localisation thresholds 0.05, 0.10, ..., 0.95.
HOTA_ALPHAS: NDArray[np.float64] = np.arange(0.05, 0.99, 0.05)
_EPS = float(np.finfo(float).eps)

MotTable = dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]]


@dataclass(frozen=True)
class MotFrame:
    """Ground truth and tracker output of one frame; boxes are ``(n, 4)`` ``xyxy``.

    ``similarity`` ``(n_gt, n_pr)`` in ``[0, 1]`` replaces the box IoU when given (e.g. a
    similarity of pitch positions, see :func:`pitch_similarity`); the boxes are then not used.

    >>> f = MotFrame(1, [4], [[0, 0, 2, 2]], [], np.zeros((0, 4)))
    >>> f.gt_ids, f.pr_xyxy.shape
    (array([4]), (0, 4))
    """

    frame: int
    gt_ids: NDArray[np.int64]
    gt_xyxy: NDArray[np.float64]
    pr_ids: NDArray[np.int64]
    pr_xyxy: NDArray[np.float64]
    similarity: NDArray[np.float64] | None

    def __init__(
        self,
        frame: int,
        gt_ids: ArrayLike,
        gt_xyxy: ArrayLike,
        pr_ids: ArrayLike,
        pr_xyxy: ArrayLike,
        similarity: ArrayLike | None = None,
    ) -> None:
        object.__setattr__(self, "frame", int(frame))
        sim = None
        if similarity is not None:
            sim = np.asarray(similarity, np.float64)
            n_gt, n_pr = np.asarray(gt_ids).size, np.asarray(pr_ids).size
            if sim.shape != (n_gt, n_pr) or not np.all((sim >= 0) & (sim <= 1)):
                raise DataError(
                    f"frame {frame}: similarity must be ({n_gt}, {n_pr}) in [0, 1], "
                    f"got shape {sim.shape}"
                )
        object.__setattr__(self, "similarity", sim)
        for side, ids, boxes in (("gt", gt_ids, gt_xyxy), ("pr", pr_ids, pr_xyxy)):
            id_arr = np.asarray(ids).reshape(-1)
            if id_arr.size and not np.array_equal(id_arr, np.round(id_arr)):
                raise DataError(f"frame {frame}: {side}_ids must be integers, got {id_arr}")
            id_arr = id_arr.astype(np.int64)
            box_arr = np.asarray(boxes, np.float64)
            if box_arr.size == 0:
                box_arr = box_arr.reshape(0, 4)
            if box_arr.ndim != 2 or box_arr.shape != (len(id_arr), 4):
                raise DataError(
                    f"frame {frame}: {side}_xyxy has shape {box_arr.shape}, "
                    f"expected ({len(id_arr)}, 4) to match {side}_ids"
                )
            if len(np.unique(id_arr)) != len(id_arr):
                raise DataError(f"frame {frame}: duplicate {side} ids {id_arr.tolist()}")
            object.__setattr__(self, f"{side}_ids", id_arr)
            object.__setattr__(self, f"{side}_xyxy", box_arr)


def read_mot(
    path: str | Path, *, gt: bool = True, classes: Collection[int] | None = None
) -> MotTable:
    """Read a MOTChallenge ``gt.txt`` or result file: ``{frame: (ids, xyxy)}``.

    Rows are ``frame,id,x,y,w,h[,conf,class,vis,...]`` with 1-based frames (kept as they are).
    With ``gt=True`` rows whose 7th column (the "consider" flag) is 0 are dropped. With
    ``classes`` given, rows that have an 8th column (the class) outside ``classes`` are dropped
    too (MOTChallenge's pedestrian class, and SportsMOT's only one, is 1).

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
    ...     _ = fh.write("1, 5, 10, 20, 30, 40, 1, 1, 1\\n1, 6, 0, 0, 1, 1, 0, 1, 1\\n")
    >>> table = read_mot(fh.name); os.unlink(fh.name)
    >>> table[1][0], table[1][1]
    (array([5]), array([[10., 20., 40., 60.]]))
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
    ...     _ = fh.write("1, 5, 10, 20, 30, 40, 1, 1, 1\\n1, 6, 0, 0, 1, 1, 1, 7, 1\\n")
    >>> table = read_mot(fh.name, classes={1}); os.unlink(fh.name)
    >>> table[1][0]
    array([5])
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read MOT file ({exc})") from exc
    rows: list[list[float]] = []
    line_nos: list[int] = []
    for no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p for p in line.replace(",", " ").split()]
        if len(parts) < 6:
            raise DataError(f"{path}:{no}: expected at least 6 fields, got {len(parts)}: {line!r}")
        try:
            values = [float(p) for p in parts]
        except ValueError as exc:
            raise DataError(f"{path}:{no}: not a number ({exc}): {line!r}") from exc
        if not all(math.isfinite(v) for v in values[:6]):
            raise DataError(f"{path}:{no}: non-finite frame, id or box: {line!r}")
        if values[0] != int(values[0]) or values[1] != int(values[1]):
            raise DataError(f"{path}:{no}: frame and id must be integers: {line!r}")
        if values[4] < 0 or values[5] < 0:
            raise DataError(f"{path}:{no}: negative box width or height: {line!r}")
        if gt and len(values) >= 7 and values[6] == 0:
            continue
        if classes is not None and len(values) >= 8 and values[7] not in classes:
            continue
        rows.append(values[:6])
        line_nos.append(no)
    table: MotTable = {}
    if not rows:
        return table
    data = np.asarray(rows, np.float64)
    frames = data[:, 0].astype(np.int64)
    ids = data[:, 1].astype(np.int64)
    xyxy = data[:, 2:6].copy()
    xyxy[:, 2:] += xyxy[:, :2]
    keys = np.stack([frames, ids], axis=1)
    _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = np.setdiff1d(np.arange(len(keys)), first)[0]
        raise DataError(
            f"{path}:{line_nos[dup]}: id {ids[dup]} appears twice in frame {frames[dup]}"
        )
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    for f, chunk in zip(uniq, np.split(order, starts[1:]), strict=True):
        table[int(f)] = (ids[chunk], xyxy[chunk])
    return table


def mot_frames(
    gt: Mapping[int, tuple[ArrayLike, ArrayLike]], pr: Mapping[int, Any]
) -> list[MotFrame]:
    """Pair two ``read_mot`` tables into frames (the sorted union of their frame numbers).

    >>> g = {1: (np.array([1]), np.array([[0.0, 0, 1, 1]]))}
    >>> [(f.frame, len(f.gt_ids), len(f.pr_ids)) for f in mot_frames(g, {2: g[1]})]
    [(1, 1, 0), (2, 0, 1)]
    """
    empty = (np.zeros(0, np.int64), np.zeros((0, 4)))
    return [MotFrame(f, *gt.get(f, empty), *pr.get(f, empty)) for f in sorted(set(gt) | set(pr))]


@dataclass(frozen=True)
class _Prepared:
    gt_ids: NDArray[np.int64]
    pr_ids: NDArray[np.int64]
    iou: NDArray[np.float64]


def _prepare(frames: Sequence[MotFrame]) -> list[_Prepared]:
    return [
        _Prepared(
            f.gt_ids,
            f.pr_ids,
            box_iou(f.gt_xyxy, f.pr_xyxy) if f.similarity is None else f.similarity,
        )
        for f in frames
    ]


def pitch_similarity(gt_xy: ArrayLike, pr_xy: ArrayLike, tau: float = 5.0) -> NDArray[np.float64]:
    """Similarity of pitch positions for HOTA: ``exp(ln(0.05) * d^2 / tau^2)`` (1 at the same
    place, 0.05 at ``tau`` metres; the localisation similarity of SoccerNet's game-state
    HOTA). NaN positions have similarity 0.

    >>> pitch_similarity([[0.0, 0.0]], [[0.0, 0.0], [5.0, 0.0], [np.nan, 0.0]]).round(3)
    array([[1.  , 0.05, 0.  ]])
    """
    a = np.asarray(gt_xy, np.float64).reshape(-1, 2)
    b = np.asarray(pr_xy, np.float64).reshape(-1, 2)
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    sim = np.exp(np.log(0.05) * d2 / tau**2)
    return np.where(np.isfinite(sim), sim, 0.0)


def _ratio(num: float, den: float) -> float:
    """``num / den``, NaN when ``den`` is zero (motmetrics' ``quiet_divide``)."""
    return float(num) / float(den) if den != 0 else math.nan


def _lsa_with_missing(costs: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Hungarian assignment where NaN marks forbidden pairs (as motmetrics' ``lap`` does).

    Forbidden pairs get a cost so large that any feasible pairing of maximum size is preferred;
    the returned pairs are those on allowed edges only.
    """
    if costs.size == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    valid = np.isfinite(costs)
    if not valid.any():
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    filled = costs.copy()
    if not valid.all():
        c = np.abs(costs[valid]).max() + 1
        filled[~valid] = 2 * min(costs.shape) * c + 1
    rows, cols = linear_sum_assignment(filled)
    keep = valid[rows, cols]
    return rows[keep], cols[keep]


def _clear_mot(prepared: Sequence[_Prepared], iou_threshold: float) -> dict[str, float | int]:
    last: dict[int, int] = {}
    fp = fn = idsw = num_gt = num_pr = matches = 0
    iou_sum = 0.0
    for p in prepared:
        n, m = len(p.gt_ids), len(p.pr_ids)
        num_gt += n
        num_pr += m
        matched = 0
        if n and m:
            valid = p.iou >= iou_threshold
            gt_used = np.zeros(n, bool)
            pr_used = np.zeros(m, bool)
            column = {int(h): j for j, h in enumerate(p.pr_ids)}
            for i, g in enumerate(p.gt_ids.tolist()):
                j = column.get(last[g]) if g in last else None
                if j is not None and valid[i, j] and not pr_used[j]:
                    gt_used[i] = pr_used[j] = True
                    iou_sum += float(p.iou[i, j])
                    matched += 1
            costs = np.where(valid, 1.0 - p.iou, np.nan)
            costs[gt_used, :] = np.nan
            costs[:, pr_used] = np.nan
            rows, cols = _lsa_with_missing(costs)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                g, h = int(p.gt_ids[i]), int(p.pr_ids[j])
                if g in last and last[g] != h:
                    idsw += 1
                last[g] = h
                iou_sum += float(p.iou[i, j])
                matched += 1
        matches += matched
        fn += n - matched
        fp += m - matched
    mota = 1.0 - _ratio(fn + fp + idsw, num_gt) if num_gt else math.nan
    return {
        "MOTA": mota,
        "MOTP": _ratio(iou_sum, matches),
        "FP": fp,
        "FN": fn,
        "IDSW": idsw,
        "num_gt": num_gt,
        "num_predictions": num_pr,
        "num_matches": matches,
    }


def clear_mot(frames: Sequence[MotFrame], iou_threshold: float = 0.5) -> dict[str, float | int]:
    """CLEAR MOT counts and scores (py-motmetrics' algorithm); MOTP is the mean IoU of matches.

    Ratios with a zero denominator (no ground truth, no match) are NaN.

    >>> a, b = np.array([[0.0, 0, 10, 10]]), np.array([[20.0, 0, 30, 10]])
    >>> frames = [MotFrame(1, [1], a, [1], a), MotFrame(2, [1], a, [2], a),
    ...           MotFrame(3, [1], a, [2], b)]
    >>> r = clear_mot(frames)
    >>> r["IDSW"], r["FP"], r["FN"], r["MOTA"], r["MOTP"]
    (1, 1, 1, 0.0, 1.0)
    """
    return _clear_mot(_prepare(frames), iou_threshold)


def _index(ids_per_frame: Sequence[NDArray[np.int64]]) -> tuple[int, list[NDArray[np.intp]]]:
    """Map arbitrary ids to ``0..k-1`` over the sequence; returns ``k`` and per-frame indices."""
    if not ids_per_frame:
        return 0, []
    flat = np.concatenate(list(ids_per_frame))
    uniq, inverse = np.unique(flat, return_inverse=True)
    splits = np.cumsum([len(ids) for ids in ids_per_frame])[:-1]
    return len(uniq), list(np.split(inverse.astype(np.intp), splits))


def _idf1(prepared: Sequence[_Prepared], iou_threshold: float) -> dict[str, float | int]:
    no, g_idx = _index([p.gt_ids for p in prepared])
    nh, h_idx = _index([p.pr_ids for p in prepared])
    oc = np.bincount(np.concatenate([np.zeros(0, np.intp), *g_idx]), minlength=no).astype(float)
    hc = np.bincount(np.concatenate([np.zeros(0, np.intp), *h_idx]), minlength=nh).astype(float)
    tp = np.zeros((no, nh))
    for p, gi, hi in zip(prepared, g_idx, h_idx, strict=True):
        r, c = np.nonzero(p.iou >= iou_threshold)
        np.add.at(tp, (gi[r], hi[c]), 1.0)
    size = no + nh
    fpm = np.zeros((size, size))
    fnm = np.zeros((size, size))
    fpm[no:, :nh] = np.nan
    fnm[:no, nh:] = np.nan
    fnm[:no, :nh] = oc[:, None] - tp
    fnm[np.arange(no), nh + np.arange(no)] = oc
    fpm[:no, :nh] = hc[None, :] - tp
    fpm[no + np.arange(nh), np.arange(nh)] = hc
    rows, cols = _lsa_with_missing(fpm + fnm)
    idfp = round(float(fpm[rows, cols].sum()))
    idfn = round(float(fnm[rows, cols].sum()))
    num_gt, num_pr = int(oc.sum()), int(hc.sum())
    idtp = num_gt - idfn
    return {
        "IDF1": _ratio(2 * idtp, num_gt + num_pr),
        "IDP": _ratio(idtp, idtp + idfp),
        "IDR": _ratio(idtp, idtp + idfn),
        "IDTP": idtp,
        "IDFP": idfp,
        "IDFN": idfn,
    }


def idf1(frames: Sequence[MotFrame], iou_threshold: float = 0.5) -> dict[str, float | int]:
    """Identity measures IDF1, IDP, IDR and the IDTP/IDFP/IDFN counts (Ristani et al., 2016).

    >>> a = np.array([[0.0, 0, 10, 10]])
    >>> frames = [MotFrame(t, [1], a, [1 if t < 3 else 2], a) for t in range(4)]
    >>> r = idf1(frames)
    >>> r["IDTP"], r["IDFP"], r["IDFN"], r["IDF1"]
    (3, 1, 1, 0.75)
    """
    return _idf1(_prepare(frames), iou_threshold)


def _hota(prepared: Sequence[_Prepared]) -> dict[str, Any]:
    alphas = HOTA_ALPHAS
    na = len(alphas)
    num_gt = sum(len(p.gt_ids) for p in prepared)
    num_pr = sum(len(p.pr_ids) for p in prepared)
    tp = np.zeros(na)
    fn = np.zeros(na)
    fp = np.zeros(na)
    loc = np.zeros(na)
    ass_a = np.zeros(na)
    ass_re = np.zeros(na)
    ass_pr = np.zeros(na)
    if num_pr == 0 or num_gt == 0:
        fn[:] = num_gt if num_pr == 0 else 0
        fp[:] = num_pr if num_pr != 0 else 0
        loc[:] = 1.0
    else:
        ng, g_idx = _index([p.gt_ids for p in prepared])
        nt, t_idx = _index([p.pr_ids for p in prepared])
        potential = np.zeros((ng, nt))
        g_count = np.bincount(np.concatenate(g_idx), minlength=ng).astype(float)[:, None]
        t_count = np.bincount(np.concatenate(t_idx), minlength=nt).astype(float)[None, :]
        for p, gi, ti in zip(prepared, g_idx, t_idx, strict=True):
            sim = p.iou
            denom = sim.sum(0)[None, :] + sim.sum(1)[:, None] - sim
            mask = denom > _EPS
            sim_iou = np.zeros_like(sim)
            sim_iou[mask] = sim[mask] / denom[mask]
            potential[gi[:, None], ti[None, :]] += sim_iou
        alignment = potential / (g_count + t_count - potential)
        matches = np.zeros((na, ng, nt))
        for p, gi, ti in zip(prepared, g_idx, t_idx, strict=True):
            n, m = len(gi), len(ti)
            if n == 0 or m == 0:
                fp += m
                fn += n
                continue
            sim = p.iou
            rows, cols = linear_sum_assignment(-(alignment[gi[:, None], ti[None, :]] * sim))
            matched_sim = sim[rows, cols]
            ok = matched_sim[None, :] >= alphas[:, None] - _EPS
            k = ok.sum(1)
            tp += k
            fn += n - k
            fp += m - k
            loc += (ok * matched_sim[None, :]).sum(1)
            a_i, pair = np.nonzero(ok)
            np.add.at(matches, (a_i, gi[rows[pair]], ti[cols[pair]]), 1.0)
        denom_tp = np.maximum(1.0, tp)
        ass_a = (matches**2 / np.maximum(1.0, g_count + t_count - matches)).sum((1, 2)) / denom_tp
        ass_re = (matches**2 / np.maximum(1.0, g_count)).sum((1, 2)) / denom_tp
        ass_pr = (matches**2 / np.maximum(1.0, t_count)).sum((1, 2)) / denom_tp
        loc = np.maximum(1e-10, loc) / np.maximum(1e-10, tp)
    det_re = tp / np.maximum(1.0, tp + fn)
    det_pr = tp / np.maximum(1.0, tp + fp)
    det_a = tp / np.maximum(1.0, tp + fn + fp)
    hota_a = np.sqrt(det_a * ass_a)
    per_alpha = {
        "HOTA": hota_a,
        "DetA": det_a,
        "AssA": ass_a,
        "LocA": loc,
        "DetRe": det_re,
        "DetPr": det_pr,
        "AssRe": ass_re,
        "AssPr": ass_pr,
    }
    out: dict[str, Any] = {name: float(arr.mean()) for name, arr in per_alpha.items()}
    out["alpha"] = alphas.copy()
    out.update({f"{name}_alpha": arr for name, arr in per_alpha.items()})
    out.update({"HOTA_TP": tp.astype(np.int64), "HOTA_FN": fn.astype(np.int64)})
    out["HOTA_FP"] = fp.astype(np.int64)
    return out


def hota(frames: Sequence[MotFrame]) -> dict[str, Any]:
    """HOTA, DetA, AssA, LocA (and DetRe/DetPr/AssRe/AssPr) as TrackEval computes them.

    The scalar entries are means over :data:`HOTA_ALPHAS`; ``"<name>_alpha"`` holds the per-alpha
    arrays and ``"HOTA_TP"``/``"HOTA_FN"``/``"HOTA_FP"`` the per-alpha counts.

    >>> a = np.array([[0.0, 0, 10, 10]])
    >>> r = hota([MotFrame(t, [5], a, [9], a) for t in range(3)])
    >>> r["HOTA"], r["DetA"], r["AssA"], r["LocA"], r["HOTA_alpha"].shape
    (1.0, 1.0, 1.0, 1.0, (19,))
    """
    return _hota(_prepare(frames))


def _json_number(value: float | int) -> float | int | None:
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def evaluate_mot(frames: Sequence[MotFrame], iou_threshold: float = 0.5) -> dict[str, Any]:
    """All metrics in one JSON-friendly dict (undefined ratios become ``None``).

    Keys: ``hota deta assa loca detre detpr assre asspr mota motp idf1 idp idr idsw fp fn
    num_gt num_predictions num_matches idtp idfp idfn num_frames``, ``alpha`` and the per-alpha
    lists ``hota_alpha deta_alpha assa_alpha loca_alpha assre_alpha asspr_alpha`` and counts
    ``hota_tp hota_fn hota_fp`` (what :func:`combine_mot` needs).

    >>> a = np.array([[0.0, 0, 10, 10]])
    >>> s = evaluate_mot([MotFrame(1, [1], a, [], np.zeros((0, 4)))])
    >>> s["mota"], s["motp"], s["fn"], s["hota"], s["idf1"]
    (0.0, None, 1, 0.0, 0.0)
    """
    prepared = _prepare(frames)
    cm = _clear_mot(prepared, iou_threshold)
    ident = _idf1(prepared, iou_threshold)
    h = _hota(prepared)
    out: dict[str, Any] = {
        key.lower(): _json_number(h[key])
        for key in ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")
    }
    out.update({key.lower(): _json_number(val) for key, val in cm.items()})
    out.update({key.lower(): _json_number(val) for key, val in ident.items()})
    out["num_frames"] = len(prepared)
    out["alpha"] = [round(float(a), 2) for a in h["alpha"]]
    for key in _ALPHA_KEYS:
        out[f"{key.lower()}_alpha"] = [float(v) for v in h[f"{key}_alpha"]]
    for key in ("HOTA_TP", "HOTA_FN", "HOTA_FP"):
        out[key.lower()] = [int(v) for v in h[key]]
    return out


_ALPHA_KEYS = ("HOTA", "DetA", "AssA", "LocA", "AssRe", "AssPr")
_SUMMED = ("fp", "fn", "idsw", "num_gt", "num_predictions", "num_matches", "idtp", "idfp", "idfn")


def combine_mot(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pool per-sequence :func:`evaluate_mot` results into one, as TrackEval combines sequences.

    HOTA: the per-alpha TP/FN/FP counts are summed, AssA/AssRe/AssPr and LocA are averaged
    weighted by each sequence's per-alpha TP, and DetA, DetRe, DetPr and HOTA are recomputed per
    alpha from the pooled values. CLEAR MOT and identity: the counts are summed and the ratios
    recomputed (MOTP weighted by matches). With disjoint ids this equals evaluating all frames
    as one sequence. Ratios with a zero denominator are ``None``, as in :func:`evaluate_mot`.

    >>> a = np.array([[0.0, 0, 10, 10]])
    >>> one = evaluate_mot([MotFrame(t, [1], a, [1], a) for t in range(3)])
    >>> two = evaluate_mot([MotFrame(t, [1], a, [1 if t else 2], a) for t in range(2)])
    >>> c = combine_mot([one, two])
    >>> c["idsw"], c["num_gt"], c["mota"], c["idf1"], round(c["hota"], 4)
    (1, 5, 0.8, 0.8, 0.8944)
    """
    if not results:
        return evaluate_mot([])
    counts = {k: np.sum([np.asarray(r[k], np.int64) for r in results], 0) for k in _SUMMED}
    tp_seq = [np.asarray(r["hota_tp"], np.float64) for r in results]
    tp = np.sum(tp_seq, 0)
    fn = np.sum([r["hota_fn"] for r in results], 0).astype(np.float64)
    fp = np.sum([r["hota_fp"] for r in results], 0).astype(np.float64)

    def weighted(key: str) -> NDArray[np.float64]:
        total = np.sum(
            [np.asarray(r[key], np.float64) * w for r, w in zip(results, tp_seq, strict=True)], 0
        )
        return np.asarray(total, np.float64)

    per_alpha = {key: weighted(f"{key.lower()}_alpha") / np.maximum(1.0, tp) for key in _ALPHA_KEYS}
    per_alpha["LocA"] = np.maximum(1e-10, weighted("loca_alpha")) / np.maximum(1e-10, tp)
    per_alpha["DetA"] = tp / np.maximum(1.0, tp + fn + fp)
    per_alpha["HOTA"] = np.sqrt(per_alpha["DetA"] * per_alpha["AssA"])
    det_re = tp / np.maximum(1.0, tp + fn)
    det_pr = tp / np.maximum(1.0, tp + fp)
    c = {k: int(v) for k, v in counts.items()}
    motp_sum = sum((r["motp"] or 0.0) * r["num_matches"] for r in results)
    out: dict[str, Any] = {
        "hota": float(per_alpha["HOTA"].mean()),
        "deta": float(per_alpha["DetA"].mean()),
        "assa": float(per_alpha["AssA"].mean()),
        "loca": float(per_alpha["LocA"].mean()),
        "detre": float(det_re.mean()),
        "detpr": float(det_pr.mean()),
        "assre": float(per_alpha["AssRe"].mean()),
        "asspr": float(per_alpha["AssPr"].mean()),
        "mota": _json_number(1.0 - _ratio(c["fn"] + c["fp"] + c["idsw"], c["num_gt"])),
        "motp": _json_number(_ratio(motp_sum, c["num_matches"])),
        "idf1": _json_number(_ratio(2 * c["idtp"], c["num_gt"] + c["num_predictions"])),
        "idp": _json_number(_ratio(c["idtp"], c["idtp"] + c["idfp"])),
        "idr": _json_number(_ratio(c["idtp"], c["idtp"] + c["idfn"])),
    }
    out.update(c)
    out["num_frames"] = int(sum(r["num_frames"] for r in results))
    out["alpha"] = [round(float(a), 2) for a in HOTA_ALPHAS]
    for key in _ALPHA_KEYS:
        out[f"{key.lower()}_alpha"] = [float(v) for v in per_alpha[key]]
    out.update({"hota_tp": tp.astype(int).tolist(), "hota_fn": fn.astype(int).tolist()})
    out["hota_fp"] = fp.astype(int).tolist()
    return out
