"""Geometric features of a frame from the network's maps: points, painted lines and circles.

The calibration network predicts keypoint heatmaps and one map per painted line
(:data:`touchline.calib.keypoints.MODEL_LINES`). :func:`extract_features` turns them into what a
camera can be fitted to:

* **points**: heatmap peaks with their pitch positions, plus points found by geometry: the
  image intersection of two fitted lines whose pitch lines cross (also where the painted lines
  do not reach each other, such as a penalty-box side line and the touchline) and the points
  where a fitted circle (a conic in the image) meets a fitted line through it;
* **lines**: for each painted line, the image pixels the network puts on it (weighted, thinned
  to a bounded number) with the fitted image line (straight lines) or conic (circles).

>>> import numpy as np
>>> from touchline.pitch import Pitch
>>> pitch_line("halfway_line", Pitch()).round(2)
array([ -68.,    0., 3570.])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from numpy.typing import NDArray

from touchline.calib.model import KeypointPrediction
from touchline.geometry.conic import (
    circle_conic,
    conic_line_intersection,
    fit_conic,
    is_ellipse,
)
from touchline.geometry.lines import fit_line, ransac_line
from touchline.pitch import Arc, Pitch, Segment

__all__ = [
    "FeatureConfig",
    "FrameFeatures",
    "LineFeature",
    "extract_features",
    "pitch_conic",
    "pitch_line",
]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class FeatureConfig:
    """Thresholds of :func:`extract_features`.

    Attributes:
        keypoint_threshold: heatmap peaks below it are not points.
        line_threshold: map cells above it belong to a line.
        min_line_cells: fewer cells than this and the line is ignored.
        max_line_pixels: at most this many pixels are kept per line (evenly spread).
        line_inlier_cells: RANSAC inlier distance of a straight-line fit, in map cells.
        min_line_span_cells: a straight line is fitted only when its cells span this far.
        min_angle_deg: two image lines meeting at a smaller angle are not intersected.
        intersection_margin: intersections up to this share of the frame size outside it are
            kept (extended lines meet beyond the frame).
        intersection_weight: weight of a point found by intersecting lines (keypoints weigh
            their heatmap score).
    """

    keypoint_threshold: float = 0.25
    line_threshold: float = 0.35
    min_line_cells: int = 6
    max_line_pixels: int = 40
    line_inlier_cells: float = 1.2
    min_line_span_cells: float = 6.0
    min_angle_deg: float = 10.0
    intersection_margin: float = 0.25
    intersection_weight: float = 0.6


@dataclass(frozen=True)
class LineFeature:
    """One painted line seen in a frame.

    Attributes:
        name: the painted element (:attr:`touchline.pitch.Pitch.elements`).
        pixels: ``(m, 2)`` frame pixels on it.
        weights: ``(m,)`` their weights (network probability).
        line: fitted image line ``(3,)`` for a straight element (``None`` if not fitted).
        conic: fitted image conic ``(3, 3)`` for a circle (``None`` if not fitted).
    """

    name: str
    pixels: F64
    weights: F64
    line: F64 | None = None
    conic: F64 | None = None

    @property
    def is_arc(self) -> bool:
        return "circle" in self.name or "arc" in self.name


@dataclass(frozen=True)
class FrameFeatures:
    """Everything a camera can be fitted to in one frame (frame pixels, pitch metres).

    Attributes:
        image: ``(n, 2)`` image points; ``pitch``: ``(n, 2)`` their pitch positions;
        weight: ``(n,)`` confidences; ``kind``: ``(n,)`` 0 keypoint, 1 line intersection,
        2 circle and line; ``names``: a name per point.
        lines: the painted lines seen.
        image_size: ``(width, height)`` of the frame.
    """

    image: F64
    pitch: F64
    weight: F64
    kind: NDArray[np.int64]
    names: tuple[str, ...]
    lines: tuple[LineFeature, ...] = field(default=())
    image_size: tuple[int, int] = (0, 0)

    @property
    def n_keypoints(self) -> int:
        return int(np.count_nonzero(self.kind == 0))

    def without(self, name: str) -> FrameFeatures:
        """These features without painted line ``name`` and the points named after it (its
        keypoints and crossings)."""
        keep = np.array([name not in n for n in self.names], bool)
        return FrameFeatures(
            self.image[keep],
            self.pitch[keep],
            self.weight[keep],
            self.kind[keep],
            tuple(n for n, k in zip(self.names, keep, strict=True) if k),
            tuple(f for f in self.lines if f.name != name),
            self.image_size,
        )

    def line(self, name: str) -> LineFeature | None:
        for f in self.lines:
            if f.name == name:
                return f
        return None


@cache
def _pitch_line(name: str, length: float, width: float) -> F64:
    e = Pitch.of_size(length, width).element(name)
    if not isinstance(e, Segment):
        raise KeyError(f"{name} is not a straight line")
    a = np.array([*e.start, 1.0])
    b = np.array([*e.end, 1.0])
    return np.cross(a, b)


def pitch_line(name: str, pitch: Pitch) -> F64:
    """Homogeneous line ``(a, b, c)`` of a straight painted element in pitch metres."""
    return _pitch_line(name, pitch.length, pitch.width).copy()


def pitch_conic(name: str, pitch: Pitch) -> F64:
    """Conic matrix of the full circle of an arc element (centre circle, penalty arcs)."""
    e = pitch.element(name)
    if not isinstance(e, Arc):
        raise KeyError(f"{name} is not an arc")
    return circle_conic(e.center, e.radius)


def _thin(pts: F64, w: F64, k: int) -> tuple[F64, F64]:
    """At most ``k`` points evenly spread along the principal direction (or around the
    centroid for curved sets); keeps the strongest where cells crowd."""
    if len(pts) <= k:
        return pts, w
    c = pts - np.average(pts, axis=0, weights=w)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    t = c @ vt[0]
    order = np.argsort(t)
    idx = order[np.linspace(0, len(order) - 1, k).round().astype(int)]
    return pts[idx], w[idx]


def _ridge(m: NDArray[np.float32], line: F64, reach: float = 2.0) -> tuple[F64, F64]:
    """Sub-cell samples of a line's ridge in map ``m``: along the line, one sample per map
    column (per row for steep lines) at the value-weighted mean position across it, from the
    cells within ``reach`` cells of the coarse ``line`` (cell coordinates)."""
    a, b, c = line / np.hypot(line[0], line[1])
    gh, gw = m.shape
    yy, xx = np.mgrid[0:gh, 0:gw]
    cx, cy = xx + 0.5, yy + 0.5
    near = (np.abs(a * cx + b * cy + c) <= reach) & (m > 0.05)
    if not near.any():
        return np.zeros((0, 2)), np.zeros(0)
    v = m[near].astype(np.float64)
    x, y = cx[near], cy[near]
    if abs(b) >= abs(a):  # more horizontal: one sample per column
        key, along, across, n = xx[near], x, y, gw
    else:
        key, along, across, n = yy[near], y, x, gh
    sw = np.bincount(key, v, n)
    s_across = np.bincount(key, v * across, n)
    s_along = np.bincount(key, v * along, n)
    peak = np.zeros(n)
    np.maximum.at(peak, key, v)
    ok = sw > 0
    pos_across = s_across[ok] / sw[ok]
    pos_along = s_along[ok] / sw[ok]
    pts = (
        np.stack([pos_along, pos_across], 1)
        if abs(b) >= abs(a)
        else np.stack([pos_across, pos_along], 1)
    )
    return pts, peak[ok]


def _extension(pixels: F64, x: F64) -> float:
    """How far ``x`` lies beyond a line's seen pixels, relative to their length."""
    span = float(np.ptp(pixels, axis=0).max()) if len(pixels) > 1 else 0.0
    gap = float(np.min(np.linalg.norm(pixels - x, axis=1))) if len(pixels) else np.inf
    return gap / max(span, 1.0)


def _safe_conic(pts: F64, w: F64) -> F64 | None:
    try:
        c = fit_conic(pts, w)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return c if is_ellipse(c) else None


def _arc_ridge(m: NDArray[np.float32], conic: F64, threshold: float) -> tuple[F64, F64]:
    """Sub-cell ridge samples of a curved line in map ``m``: the cells above ``threshold``
    that peak along the coarse ``conic``'s normal (its dominant axis), refined by a parabola
    through the cell and its two neighbours on that axis."""
    iy, ix = np.nonzero(m > threshold)
    if not len(iy):
        return np.zeros((0, 2)), np.zeros(0)
    p = np.stack([ix + 0.5, iy + 0.5, np.ones(len(ix))], 1)
    g = (p @ conic)[:, :2]  # conic gradient (up to a factor): the normal direction
    horiz = np.abs(g[:, 0]) >= np.abs(g[:, 1])  # normal mostly along x: compare left/right
    pad = np.pad(m, 1)
    v = pad[iy + 1, ix + 1]
    lo = np.where(horiz, pad[iy + 1, ix], pad[iy, ix + 1])
    hi = np.where(horiz, pad[iy + 1, ix + 2], pad[iy + 2, ix + 1])
    peak = (v >= lo) & (v >= hi)
    den = lo - 2 * v + hi
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(den < -1e-9, 0.5 * (lo - hi) / den, 0.0)
    off = np.clip(off, -0.5, 0.5)
    x = ix + 0.5 + np.where(horiz, off, 0.0)
    y = iy + 0.5 + np.where(horiz, 0.0, off)
    return np.stack([x, y], 1)[peak].astype(np.float64), v[peak].astype(np.float64)


def extract_features(
    pred: KeypointPrediction, pitch: Pitch | None = None, config: FeatureConfig | None = None
) -> FrameFeatures:
    """Points, lines and circles of one frame from the network's prediction (see the module)."""
    pitch = pitch or Pitch()
    cfg = config or FeatureConfig()
    W, H = pred.image_size
    ok = np.isfinite(pred.points).all(1) & (pred.scores >= cfg.keypoint_threshold)
    kp_pitch = pitch.keypoint_array(pred.names)
    img = [pred.points[ok]]
    pit = [kp_pitch[ok]]
    wts = [pred.scores[ok]]
    kinds = [np.zeros(int(ok.sum()), np.int64)]
    names = [n for n, o in zip(pred.names, ok, strict=True) if o]
    if not len(pred.line_names):
        return FrameFeatures(
            np.concatenate(img), np.concatenate(pit), np.concatenate(wts),
            np.concatenate(kinds), tuple(names), (), (W, H),
        )  # fmt: skip
    gh, gw = pred.lines.shape[1:]
    sx, sy = W / gw, H / gh
    feats: list[LineFeature] = []
    # All maps thresholded at once; a line with too few cells is not looked at again.
    ci, iy, ix = np.nonzero(pred.lines > cfg.line_threshold)
    count = np.bincount(ci, minlength=len(pred.line_names))
    bounds = np.concatenate([[0], np.cumsum(count)])
    for k, (name, m) in enumerate(zip(pred.line_names, pred.lines, strict=True)):
        if count[k] < cfg.min_line_cells:
            continue
        a, b = bounds[k], bounds[k + 1]
        cells = np.stack([ix[a:b] + 0.5, iy[a:b] + 0.5], 1).astype(np.float64)
        val = m[iy[a:b], ix[a:b]].astype(np.float64)
        line = conic = None
        arc = "circle" in name or "arc" in name
        if not arc:
            span = np.ptp(cells, axis=0).max()
            if span >= cfg.min_line_span_cells:
                ln, inl = ransac_line(cells, cfg.line_inlier_cells, weights=val, iterations=64)
                if ln is not None and inl.sum() >= cfg.min_line_cells:
                    ridge = _ridge(m, ln)
                    if len(ridge[0]) >= cfg.min_line_cells:
                        # The ridge samples lie along the coarse line already: one weighted
                        # fit, one trim of the samples off it, one refit.
                        cells, val = ridge
                        ln2 = fit_line(cells, val)
                        near = np.abs(cells @ ln2[:2] + ln2[2]) < 0.5 * cfg.line_inlier_cells
                        if near.sum() >= cfg.min_line_cells:
                            cells, val = cells[near], val[near]
                            ln = fit_line(cells, val)
                    else:
                        cells, val = cells[inl], val[inl]
                    line = ln
        else:
            if len(cells) >= 12:
                conic = _safe_conic(cells, val)
                if conic is not None:
                    ridge = _arc_ridge(m, conic, cfg.line_threshold)
                    if len(ridge[0]) >= 8:
                        cells, val = ridge
                        conic = _safe_conic(cells, val) if len(cells) >= 12 else conic
        px = cells * (sx, sy)
        S = np.diag([1 / sx, 1 / sy, 1.0])  # frame px -> cells
        if line is not None:
            line = S.T @ line
            line = line / np.linalg.norm(line[:2])
        if conic is not None:
            conic = S.T @ conic @ S
            conic = conic / np.abs(conic).max()
        px, val = _thin(px, val, cfg.max_line_pixels)
        feats.append(LineFeature(name, px, val, line, conic))
    # Intersections of fitted straight lines whose pitch lines cross near the pitch (all
    # pairs at once: pitch crossings are fixed per pair of names, image ones are cross
    # products of the fitted lines).
    straight = [f for f in feats if f.line is not None]
    margin = cfg.intersection_margin
    if len(straight) >= 2:
        ii, jj = np.triu_indices(len(straight), 1)
        L = np.stack([f.line for f in straight if f.line is not None])
        P = np.stack([pitch_line(f.name, pitch) for f in straight])
        Xh = np.cross(P[ii], P[jj])
        xh = np.cross(L[ii], L[jj])
        cos_max = math.cos(math.radians(cfg.min_angle_deg))
        with np.errstate(divide="ignore", invalid="ignore"):
            X = Xh[:, :2] / Xh[:, 2:3]
            x = xh[:, :2] / xh[:, 2:3]
        keep = (np.abs(Xh[:, 2]) > 1e-9) & (np.abs(xh[:, 2]) > 1e-12)
        keep &= pitch.contains(np.nan_to_num(X, nan=-1e9), margin=1.0)
        keep &= np.abs((L[ii, :2] * L[jj, :2]).sum(1)) <= cos_max
        keep &= (x[:, 0] >= -margin * W) & (x[:, 0] <= (1 + margin) * W)
        keep &= (x[:, 1] >= -margin * H) & (x[:, 1] <= (1 + margin) * H)
        for q in np.flatnonzero(keep):
            a, b = straight[ii[q]], straight[jj[q]]
            # Trust falls with how far the lines are extended beyond what is seen of them
            # (relative to the seen length): a short line's direction is uncertain.
            reach = max(_extension(a.pixels, x[q]), _extension(b.pixels, x[q]))
            w = cfg.intersection_weight * min(float(a.weights.mean()), float(b.weights.mean()))
            w /= 1.0 + 2.0 * reach
            img.append(x[q][None])
            pit.append(X[q][None])
            wts.append(np.array([w]))
            kinds.append(np.array([1]))
            names.append(f"{a.name}_x_{b.name}")
    # A fitted circle meets a fitted straight line through it at known pitch points.
    for f in feats:
        if f.conic is None:
            continue
        C_pitch = pitch_conic(f.name, pitch)
        for g in straight:
            X2 = conic_line_intersection(C_pitch, pitch_line(g.name, pitch))
            if len(X2) != 2:
                continue
            assert g.line is not None
            x2 = conic_line_intersection(f.conic, g.line)
            if len(x2) != 2:
                continue
            # Pair them by the broadcast convention (the camera stands beyond the near
            # touchline): along a line across the pitch, far (small pitch y) is up in the
            # image; along a line down the pitch, left is left.
            lp = pitch_line(g.name, pitch)
            axis = 1 if abs(lp[0]) > abs(lp[1]) else 0  # the line runs along pitch y or x
            xi = x2[np.argsort(x2[:, axis])]
            Xi = X2[np.argsort(X2[:, axis])]
            inside = (xi[:, 0] > -margin * W) & (xi[:, 0] < (1 + margin) * W)
            w = cfg.intersection_weight * float(f.weights.mean())
            for p, P, keep in zip(xi, Xi, inside, strict=True):
                if keep:
                    img.append(p[None])
                    pit.append(P[None])
                    wts.append(np.array([w]))
                    kinds.append(np.array([2]))
                    names.append(f"{f.name}_x_{g.name}")
    return FrameFeatures(
        np.concatenate(img),
        np.concatenate(pit),
        np.concatenate(wts),
        np.concatenate(kinds),
        tuple(names),
        tuple(feats),
        (W, H),
    )
