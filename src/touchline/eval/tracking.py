"""Tracking benchmark: several trackers fed the same noisy detections made from MOT ground truth.

``touchline eval tracking --mot DIR`` needs no frames: for each MOTChallenge sequence of ``DIR``
(``<seq>/gt/gt.txt`` and ``<seq>/seqinfo.ini``) it turns the ground-truth boxes into
detections with a documented, seeded :class:`NoiseModel` (:func:`degrade`), feeds the *same*
detections, frame by frame (every frame ``1..seqLength``, empty ones included), to each
tracker, and scores the tracks with :mod:`touchline.eval.mot_metrics` (HOTA as TrackEval, CLEAR
MOT and IDF1 as py-motmetrics), per sequence and pooled over all sequences
(:func:`~touchline.eval.mot_metrics.combine_mot`). Metrics are fractions in ``[0, 1]``
(HOTA 0.62 means 62 %); MOTA can be negative.

Ground truth: rows whose "consider" flag (7th column) is 0 are dropped and, when there is a
class column (8th), only class 1 is kept (pedestrians in MOTChallenge, the only class of
SportsMOT); detections are all ``class_id`` 0 (player).

Trackers (:func:`resolve_trackers`): ``touchline`` (:class:`touchline.track.Tracker`, image
space, no calibration), and the ``trackers`` package's ``bytetrack`` and ``ocsort`` with their
default parameters except ``frame_rate``, which is the sequence's ``frameRate``. Every tracker
is wrapped in a :class:`TrackerAdapter` (``update(Detections) -> Detections`` with
``tracker_id``, ``reset()``); rows with ``tracker_id < 0`` (tentative tracks) are not output.
A new tracker is built for every sequence. ``fps`` is frames divided by the seconds spent in
the trackers' own ``update`` calls (conversion to and from ``supervision.Detections`` and the
scoring are not timed); ``updates_per_s_25`` is the same on a synthetic clip of 25 moving
players (:func:`speed_test`).

Example:
    >>> import numpy as np
    >>> gt = {1: (np.array([7]), np.array([[10.0, 10.0, 40.0, 80.0]]))}
    >>> dets = degrade(gt, NoiseModel.none(), seed=0, frames=range(1, 3))
    >>> sorted(dets), dets[1].xyxy, len(dets[2])
    ([1, 2], array([[10., 10., 40., 80.]], dtype=float32), 0)
"""

from __future__ import annotations

import configparser
import dataclasses
import inspect
import math
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchline.errors import DataError, TouchlineError
from touchline.eval.mot_metrics import MotTable, combine_mot, evaluate_mot, mot_frames, read_mot
from touchline.types import Detections, ObjectClass
from touchline.utils.results import JsonResult

__all__ = [
    "DEFAULT_TRACKERS",
    "METRIC_KEYS",
    "MotScores",
    "MotSequence",
    "NoiseModel",
    "SupervisionAdapter",
    "TrackerAdapter",
    "TrackerFactory",
    "TrackerScores",
    "TrackingScores",
    "degrade",
    "evaluate_tracking",
    "format_summary",
    "read_sequence",
    "read_sequences",
    "resolve_trackers",
    "sequence_seed",
    "speed_test",
    "synthetic_gt",
    "track_sequence",
]

Progress = Callable[[str, int, int], None]
#: Builds a fresh tracker for a sequence from its frame rate.
TrackerFactory = Callable[[float], "TrackerAdapter"]

DEFAULT_TRACKERS: tuple[str, ...] = ("touchline", "bytetrack", "ocsort")


@dataclass(frozen=True)
class MotScores(JsonResult):
    """The scalar metrics reported per tracker (fractions, except the counts)."""

    hota: float
    deta: float
    assa: float
    loca: float
    detre: float
    detpr: float
    assre: float
    asspr: float
    mota: float
    motp: float
    idf1: float
    idp: float
    idr: float
    idsw: int
    fp: int
    fn: int
    num_gt: int
    num_predictions: int
    num_matches: int
    idtp: int
    idfp: int
    idfn: int


#: The fields of :class:`MotScores`.
METRIC_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(MotScores))
_GT_CLASSES = frozenset({1})
_FALLBACK_BOX = (32.0, 72.0)  # (w, h) of a false positive when the sequence has no box at all


# --------------------------------------------------------------------------------------------
# Noise model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseModel:
    """How ground-truth boxes become detections (every draw from one seeded generator).

    Per true box, in this order:

    * **Miss** with overall probability ``miss_rate``. A share ``burst_share`` of the misses
      comes in bursts that imitate occlusions: at each appearance of an object a burst starts
      with a probability chosen so that bursts hide ``miss_rate * burst_share`` of the boxes,
      and hides that appearance and the next ones, ``burst_min..burst_max`` in all (uniform);
      the remaining misses are independent per box, so that the total is ``miss_rate`` in
      expectation (a little less where bursts are cut by the end of a track).
    * **Jitter**: the centre moves by ``N(0, centre_sigma * w)`` in x and
      ``N(0, centre_sigma * h)`` in y; width and height are multiplied by
      ``exp(N(0, size_sigma))`` each. With ``clip_to_image`` (and a known image size) the box
      is clipped to the image; a box left under 1 px wide or high is dropped.
    * **Score**: ``N(score_mean, score_sd)``; a share ``low_score_rate`` of the true boxes get
      a score uniform in ``[low_score_min, low_score_max]`` instead (hard, half-hidden
      players: what ByteTrack's low-score stage is for). Scores are clipped to
      ``[score_min, 1]``.

    Per frame: a Poisson number (mean ``fp_per_frame``) of **false positives**, each the size
    of a random true box of the sequence (times the size jitter), centred uniformly in the
    image (or in the span of the sequence's boxes when the image size is unknown), scored
    ``N(fp_score_mean, fp_score_sd)`` clipped likewise. Finally the rows of each frame are
    shuffled, so that their order says nothing about identities.

    >>> NoiseModel().miss_rate, NoiseModel.none().miss_rate
    (0.1, 0.0)
    """

    miss_rate: float = 0.10
    burst_share: float = 0.3
    burst_min: int = 3
    burst_max: int = 10
    centre_sigma: float = 0.05
    size_sigma: float = 0.05
    fp_per_frame: float = 1.0
    score_mean: float = 0.8
    score_sd: float = 0.15
    low_score_rate: float = 0.05
    low_score_min: float = 0.1
    low_score_max: float = 0.5
    fp_score_mean: float = 0.4
    fp_score_sd: float = 0.15
    score_min: float = 0.01
    clip_to_image: bool = True

    def __post_init__(self) -> None:
        for name in ("miss_rate", "burst_share", "low_score_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0 or (name == "miss_rate" and value >= 1.0):
                raise ValueError(f"NoiseModel.{name} must be in [0, 1), got {value}")
        for name in ("centre_sigma", "size_sigma", "fp_per_frame", "score_sd", "fp_score_sd"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"NoiseModel.{name} must be finite and >= 0, got {value}")
        if not 1 <= self.burst_min <= self.burst_max:
            raise ValueError(
                f"NoiseModel: need 1 <= burst_min <= burst_max, got {self.burst_min}, "
                f"{self.burst_max}"
            )
        if not 0.0 <= self.score_min <= 1.0 or self.low_score_min > self.low_score_max:
            raise ValueError("NoiseModel: bad score range (score_min, low_score_min/max)")

    @classmethod
    def none(cls) -> NoiseModel:
        """No noise: every ground-truth box, exactly, scored 1, no false positive.

        >>> NoiseModel.none().fp_per_frame
        0.0
        """
        return cls(
            miss_rate=0.0,
            centre_sigma=0.0,
            size_sigma=0.0,
            fp_per_frame=0.0,
            score_mean=1.0,
            score_sd=0.0,
            low_score_rate=0.0,
            clip_to_image=False,
        )

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict.

        >>> NoiseModel().to_dict()["fp_per_frame"]
        1.0
        """
        return dataclasses.asdict(self)

    def burst_start_probability(self) -> float:
        """Probability that a burst starts at an appearance, so that bursts hide a share
        ``miss_rate * burst_share`` of the boxes (bursts may overlap; solved by bisection).

        >>> round(NoiseModel(miss_rate=0.1, burst_share=0.3).burst_start_probability(), 4)
        0.0047
        """
        target = self.miss_rate * self.burst_share
        if target <= 0.0:
            return 0.0
        lengths = np.arange(self.burst_min, self.burst_max + 1)
        lo, hi = 0.0, 1.0
        for _ in range(60):
            q = 0.5 * (lo + hi)
            hidden = 1.0 - float(np.mean((1.0 - q) ** lengths))
            lo, hi = (q, hi) if hidden < target else (lo, q)
        return 0.5 * (lo + hi)


def sequence_seed(seed: int, name: str) -> int:
    """The seed of one sequence, derived from the run's ``seed`` and the sequence name.

    >>> sequence_seed(0, "a") == sequence_seed(0, "a") != sequence_seed(0, "b")
    True
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    state = np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))]).generate_state(1)
    return int(state[0])


def _flatten(gt: Mapping[int, tuple[Any, Any]], frames: Sequence[int]) -> tuple[NDArray, ...]:
    wanted = set(frames)
    f_list, id_list, box_list = [], [], []
    for f in sorted(gt):
        if f not in wanted:
            continue
        ids = np.asarray(gt[f][0], np.int64).reshape(-1)
        boxes = np.asarray(gt[f][1], np.float64).reshape(-1, 4)
        f_list.append(np.full(len(ids), f, np.int64))
        id_list.append(ids)
        box_list.append(boxes)
    if not f_list:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4))
    return np.concatenate(f_list), np.concatenate(id_list), np.concatenate(box_list)


def _burst_mask(
    ids: NDArray[np.int64], frames: NDArray[np.int64], noise: NoiseModel, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Rows hidden by bursts: per object, over its appearances in frame order."""
    n = len(ids)
    q = noise.burst_start_probability()
    starts = rng.random(n) < q
    lengths = rng.integers(noise.burst_min, noise.burst_max + 1, n)
    hidden = np.zeros(n, bool)
    if not starts.any():
        return hidden
    order = np.lexsort((frames, ids))
    sorted_ids = ids[order]
    bounds = np.flatnonzero(np.diff(sorted_ids)) + 1
    for chunk in np.split(np.arange(n), bounds):
        rows = order[chunk]
        diff = np.zeros(len(rows) + 1, np.int64)
        for k in np.flatnonzero(starts[rows]).tolist():
            diff[k] += 1
            diff[min(k + int(lengths[rows[k]]), len(rows))] -= 1
        hidden[rows] = np.cumsum(diff[:-1]) > 0
    return hidden


def _scores(
    mean: float, sd: float, n: int, noise: NoiseModel, rng: np.random.Generator
) -> NDArray[np.float64]:
    return np.clip(rng.normal(mean, sd, n), noise.score_min, 1.0)


def degrade(
    gt: Mapping[int, tuple[Any, Any]],
    noise: NoiseModel,
    seed: int,
    *,
    image_size: tuple[int, int] | None = None,
    frames: Iterable[int] | None = None,
    with_truth: bool = False,
) -> dict[int, Detections]:
    """Detections made from ground truth by ``noise`` (see :class:`NoiseModel`), seeded.

    Args:
        gt: ``{frame: (ids, xyxy)}`` as :func:`~touchline.eval.mot_metrics.read_mot` returns.
        noise: the noise model.
        seed: same seed, same detections (use :func:`sequence_seed` per sequence).
        image_size: ``(width, height)``: where false positives go and what boxes are clipped
            to; ``None`` uses the span of the ground-truth boxes and clips nothing.
        frames: the frames to produce, every one of them (empty :class:`Detections` where
            nothing is left); default ``1..max(gt)``. Ground truth of other frames is ignored.
        with_truth: also set ``data["gt_id"]``, the source object id (``-1`` for a false
            positive), for checks; never give it to a tracker.

    Returns:
        ``{frame: Detections}`` with ``xyxy``, ``confidence`` and ``class_id`` 0 (player).

    >>> gt = {1: (np.array([3, 4]), np.array([[0.0, 0, 10, 20], [50, 50, 60, 70]]))}
    >>> d = degrade(gt, NoiseModel.none(), seed=1, with_truth=True)[1]
    >>> sorted(d.data["gt_id"].tolist()), d.confidence.tolist()
    ([3, 4], [1.0, 1.0])
    """
    frame_list = (
        sorted(set(int(f) for f in frames))
        if frames is not None
        else list(range(1, max(gt, default=0) + 1))
    )
    rng = np.random.default_rng(seed)
    f_all, id_all, box_all = _flatten(gt, frame_list)
    n = len(id_all)

    # Misses: bursts first, then independent misses topping the total up to miss_rate.
    burst = _burst_mask(id_all, f_all, noise, rng)
    burst_rate = noise.miss_rate * noise.burst_share
    p_independent = 1.0 - (1.0 - noise.miss_rate) / (1.0 - burst_rate)
    keep = ~burst & (rng.random(n) >= p_independent)

    # Jitter (centre relative to the box size, size log-normal).
    w = box_all[:, 2] - box_all[:, 0]
    h = box_all[:, 3] - box_all[:, 1]
    cx = (box_all[:, 0] + box_all[:, 2]) / 2 + rng.normal(0.0, 1.0, n) * noise.centre_sigma * w
    cy = (box_all[:, 1] + box_all[:, 3]) / 2 + rng.normal(0.0, 1.0, n) * noise.centre_sigma * h
    w = w * np.exp(rng.normal(0.0, noise.size_sigma, n))
    h = h * np.exp(rng.normal(0.0, noise.size_sigma, n))
    true_xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    if noise.centre_sigma == 0.0 and noise.size_sigma == 0.0:
        true_xyxy = box_all.copy()  # exact, without the round trip through the centre

    # Scores: a normal around score_mean, some hard boxes uniform in a low range.
    score = _scores(noise.score_mean, noise.score_sd, n, noise, rng)
    low = rng.random(n) < noise.low_score_rate
    score[low] = rng.uniform(noise.low_score_min, noise.low_score_max, int(low.sum()))

    # False positives: Poisson per frame, sizes of true boxes, anywhere in the image.
    n_fp = rng.poisson(noise.fp_per_frame, len(frame_list)) if noise.fp_per_frame > 0 else None
    total_fp = 0 if n_fp is None else int(n_fp.sum())
    if n:
        pick = rng.integers(0, n, total_fp)
        fp_w = (box_all[pick, 2] - box_all[pick, 0]) * np.exp(
            rng.normal(0.0, noise.size_sigma, total_fp)
        )
        fp_h = (box_all[pick, 3] - box_all[pick, 1]) * np.exp(
            rng.normal(0.0, noise.size_sigma, total_fp)
        )
    else:
        fp_w = np.full(total_fp, _FALLBACK_BOX[0])
        fp_h = np.full(total_fp, _FALLBACK_BOX[1])
    if image_size is not None:
        x_lo, y_lo, x_hi, y_hi = 0.0, 0.0, float(image_size[0]), float(image_size[1])
    elif n:
        x_lo, y_lo = box_all[:, :2].min(0)
        x_hi, y_hi = box_all[:, 2:].max(0)
    else:
        x_lo = y_lo = x_hi = y_hi = 0.0
        total_fp = 0
        n_fp = None
    fp_cx = rng.uniform(x_lo, max(x_lo, x_hi), total_fp)
    fp_cy = rng.uniform(y_lo, max(y_lo, y_hi), total_fp)
    fp_xyxy = np.stack([fp_cx - fp_w / 2, fp_cy - fp_h / 2, fp_cx + fp_w / 2, fp_cy + fp_h / 2], 1)
    fp_score = _scores(noise.fp_score_mean, noise.fp_score_sd, total_fp, noise, rng)
    fp_frame = (
        np.repeat(np.asarray(frame_list, np.int64), n_fp)
        if n_fp is not None
        else np.zeros(0, np.int64)
    )

    xyxy = np.concatenate([true_xyxy[keep], fp_xyxy.reshape(-1, 4)])
    conf = np.concatenate([score[keep], fp_score])
    src = np.concatenate([id_all[keep], np.full(total_fp, -1, np.int64)])
    frame_of = np.concatenate([f_all[keep], fp_frame])
    if noise.clip_to_image and image_size is not None:
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0.0, float(image_size[0]))
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0.0, float(image_size[1]))
        big = (xyxy[:, 2] - xyxy[:, 0] >= 1.0) & (xyxy[:, 3] - xyxy[:, 1] >= 1.0)
        xyxy, conf, src, frame_of = xyxy[big], conf[big], src[big], frame_of[big]

    # Group by frame, rows shuffled within each frame.
    order = np.lexsort((rng.random(len(frame_of)), frame_of))
    xyxy, conf, src, frame_of = xyxy[order], conf[order], src[order], frame_of[order]
    starts = np.searchsorted(frame_of, frame_list, "left")
    ends = np.searchsorted(frame_of, frame_list, "right")
    out: dict[int, Detections] = {}
    for f, a, b in zip(frame_list, starts, ends, strict=True):
        out[f] = Detections(
            xyxy=xyxy[a:b],
            confidence=conf[a:b],
            class_id=np.full(b - a, int(ObjectClass.PLAYER), np.int64),
            data={"gt_id": src[a:b]} if with_truth else {},
        )
    return out


# --------------------------------------------------------------------------------------------
# MOT sequences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MotSequence:
    """One MOTChallenge sequence: ground truth and what ``seqinfo.ini`` says."""

    name: str
    path: Path
    gt: MotTable
    frame_rate: float
    length: int
    image_size: tuple[int, int] | None


def _ini_number(ini: Path, section: configparser.SectionProxy, key: str, kind: type) -> Any:
    raw = section.get(key)
    if raw is None:
        raise DataError(f"{ini}: missing {key}= in [Sequence]")
    try:
        value = kind(raw.strip())
    except ValueError:
        raise DataError(f"{ini}: {key}={raw!r} is not a valid {kind.__name__}") from None
    if not (math.isfinite(value) and value > 0):
        raise DataError(f"{ini}: {key}={raw!r} must be positive")
    return value


def read_sequence(path: str | Path) -> MotSequence:
    """Read ``path/seqinfo.ini`` (``frameRate``, ``seqLength``, optional ``imWidth`` and
    ``imHeight``) and ``path/gt/gt.txt``.

    Raises:
        DataError: a missing or malformed file (the message names it), ground truth outside
            frames ``1..seqLength``.
    """
    path = Path(path)
    ini = path / "seqinfo.ini"
    gt_file = path / "gt" / "gt.txt"
    if not ini.is_file():
        raise DataError(f"{ini}: missing (a MOT sequence needs seqinfo.ini and gt/gt.txt)")
    if not gt_file.is_file():
        raise DataError(f"{gt_file}: missing (a MOT sequence needs seqinfo.ini and gt/gt.txt)")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(ini.read_text(), source=str(ini))
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ini}: cannot parse ({exc})") from None
    section_name = next((s for s in parser.sections() if s.lower() == "sequence"), None)
    if section_name is None:
        raise DataError(f"{ini}: no [Sequence] section")
    section = parser[section_name]
    frame_rate = float(_ini_number(ini, section, "frameRate", float))
    length = int(_ini_number(ini, section, "seqLength", int))
    image_size = None
    if section.get("imWidth") is not None or section.get("imHeight") is not None:
        image_size = (
            int(_ini_number(ini, section, "imWidth", int)),
            int(_ini_number(ini, section, "imHeight", int)),
        )
    gt = read_mot(gt_file, gt=True, classes=_GT_CLASSES)
    outside = [f for f in gt if not 1 <= f <= length]
    if outside:
        raise DataError(
            f"{gt_file}: frame {min(outside) if min(outside) < 1 else max(outside)} is outside "
            f"1..{length} (seqLength in {ini})"
        )
    return MotSequence(path.name, path, gt, frame_rate, length, image_size)


def read_sequences(root: str | Path, names: Sequence[str] | None = None) -> list[MotSequence]:
    """The sequences of a MOT folder: every subfolder with ``seqinfo.ini`` or ``gt/``
    (sorted by name), or ``root`` itself when it is one sequence; ``names`` keeps only those.

    Raises:
        DataError: ``root`` is missing or holds no sequence, a name in ``names`` is not there,
            or a sequence's files are missing or malformed.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (expected MOT sequences <seq>/gt/gt.txt)")
    if (root / "seqinfo.ini").is_file() or (root / "gt").is_dir():
        dirs = [root]
    else:
        dirs = sorted(
            p
            for p in root.iterdir()
            if p.is_dir() and ((p / "seqinfo.ini").exists() or (p / "gt").exists())
        )
    if not dirs:
        raise DataError(
            f"{root}: no MOT sequence (expected subfolders with seqinfo.ini and gt/gt.txt)"
        )
    if names is not None:
        by_name = {p.name: p for p in dirs}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise DataError(f"{root}: no sequence {unknown}; there are {sorted(by_name)}")
        dirs = [by_name[n] for n in dict.fromkeys(names)]
    return [read_sequence(p) for p in dirs]


# --------------------------------------------------------------------------------------------
# Tracker adapters
# --------------------------------------------------------------------------------------------


class TrackerAdapter:
    """One interface over every tracker: ``update(Detections) -> Detections`` with
    ``tracker_id`` (``< 0``: tentative, not output), and ``reset()``.

    Wraps any object with ``update(detections)`` and ``reset()``; subclasses convert the
    detections to and from the tracker's own type. ``seconds`` adds up the time spent in the
    wrapped tracker's ``update`` alone; ``params`` describes the tracker for the report.

    >>> class Still:  # gives every detection the id of its row
    ...     def update(self, d): return Detections(d.xyxy, tracker_id=np.arange(len(d)))
    ...     def reset(self): pass
    >>> a = TrackerAdapter(Still(), {"kind": "still"})
    >>> a.update(Detections([[0, 0, 1, 1]])).tracker_id, a.updates
    (array([0]), 1)
    """

    def __init__(self, tracker: Any, params: Mapping[str, Any] | None = None) -> None:
        self.tracker = tracker
        self.params: dict[str, Any] = dict(params or {})
        self.seconds = 0.0
        self.updates = 0

    def _to_native(self, detections: Detections) -> Any:
        return detections

    def _from_native(self, output: Any) -> Detections:
        if not isinstance(output, Detections):
            raise DataError(
                f"{type(self.tracker).__name__}.update returned {type(output).__name__}, "
                "expected touchline.types.Detections"
            )
        return output

    def update(self, detections: Detections) -> Detections:
        """Track one frame; the result has ``tracker_id`` set."""
        native = self._to_native(detections)
        t0 = time.perf_counter()
        output = self.tracker.update(native)
        self.seconds += time.perf_counter() - t0
        self.updates += 1
        result = self._from_native(output)
        if result.tracker_id is None:
            raise DataError(f"{type(self.tracker).__name__}.update returned no tracker_id")
        return result

    def reset(self) -> None:
        """Forget every track (a new sequence) and the timing."""
        self.tracker.reset()
        self.seconds = 0.0
        self.updates = 0


class SupervisionAdapter(TrackerAdapter):
    """A tracker of the ``trackers`` package: converts to and from ``supervision.Detections``."""

    def _to_native(self, detections: Detections) -> Any:
        import supervision as sv

        n = len(detections)
        return sv.Detections(
            xyxy=detections.xyxy.astype(np.float64),
            confidence=(
                None if detections.confidence is None else detections.confidence.astype(np.float64)
            ),
            class_id=(
                np.zeros(n, np.int64) if detections.class_id is None else detections.class_id
            ),
        )

    def _from_native(self, output: Any) -> Detections:
        tid = output.tracker_id
        n = len(output.xyxy)
        return Detections(
            xyxy=np.asarray(output.xyxy, np.float32).reshape(n, 4),
            confidence=None if output.confidence is None else np.asarray(output.confidence),
            class_id=None if output.class_id is None else np.asarray(output.class_id),
            tracker_id=np.full(n, -1, np.int64) if tid is None else np.asarray(tid),
        )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def _init_params(cls: type, **given: Any) -> dict[str, Any]:
    """The constructor's parameters: defaults, overridden by ``given``."""
    out: dict[str, Any] = {}
    for name, p in inspect.signature(cls).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        value = given.get(name, p.default)
        if value is inspect.Parameter.empty:
            continue
        out[name] = _jsonable(value)
    return out


def _trackers_package() -> Any:
    try:
        import trackers
    except ImportError as exc:
        raise TouchlineError(
            "the bytetrack and ocsort baselines need the 'trackers' package: make install-dev "
            "(pip install --no-deps trackers==2.6.1 supervision==0.31.2, plus the dev extra) "
            f"({exc})"
        ) from None
    return trackers


def _bytetrack(frame_rate: float) -> TrackerAdapter:
    cls = _trackers_package().ByteTrackTracker
    return SupervisionAdapter(cls(frame_rate=frame_rate), _init_params(cls, frame_rate=frame_rate))


def _ocsort(frame_rate: float) -> TrackerAdapter:
    cls = _trackers_package().OCSORTTracker
    return SupervisionAdapter(cls(frame_rate=frame_rate), _init_params(cls, frame_rate=frame_rate))


def _touchline(frame_rate: float) -> TrackerAdapter:
    from touchline.track import Tracker, TrackerConfig

    config = TrackerConfig(fps=frame_rate)
    tracker = Tracker(config)
    params = _jsonable(dataclasses.asdict(config))
    return TrackerAdapter(tracker, params)


_FACTORIES: dict[str, TrackerFactory] = {
    "touchline": _touchline,
    "bytetrack": _bytetrack,
    "ocsort": _ocsort,
}


def resolve_trackers(
    trackers: Sequence[str] | Mapping[str, TrackerFactory] = DEFAULT_TRACKERS,
) -> dict[str, TrackerFactory]:
    """Name -> factory; built-in names are checked by building each tracker once.

    Raises:
        ValueError: an unknown name or none at all.
        TouchlineError: a tracker's package is not installed.

    >>> sorted(resolve_trackers({"mine": lambda fps: TrackerAdapter(None)}))
    ['mine']
    """
    if isinstance(trackers, Mapping):
        factories = dict(trackers)
    else:
        unknown = [t for t in trackers if t not in _FACTORIES]
        if unknown:
            raise ValueError(f"unknown tracker(s) {unknown}; choose from {sorted(_FACTORIES)}")
        factories = {t: _FACTORIES[t] for t in dict.fromkeys(trackers)}
        for factory in factories.values():
            factory(25.0)
    if not factories:
        raise ValueError(f"no tracker given; choose from {sorted(_FACTORIES)}")
    return factories


# --------------------------------------------------------------------------------------------
# Running and scoring
# --------------------------------------------------------------------------------------------


def track_sequence(
    adapter: TrackerAdapter,
    detections: Mapping[int, Detections],
    frames: Sequence[int],
    progress: Callable[[int], None] | None = None,
) -> MotTable:
    """Feed ``detections[f]`` for every ``f`` in ``frames`` (in order) to ``adapter``; the
    rows with ``tracker_id >= 0`` as a MOT table ``{frame: (ids, xyxy)}``.

    >>> class Same:
    ...     def update(self, d): return Detections(d.xyxy, tracker_id=np.zeros(len(d)))
    ...     def reset(self): pass
    >>> dets = {1: Detections([[0, 0, 2, 2]]), 2: Detections.empty()}
    >>> track_sequence(TrackerAdapter(Same()), dets, [1, 2])
    {1: (array([0]), array([[0., 0., 2., 2.]]))}
    """
    table: MotTable = {}
    for k, f in enumerate(frames):
        out = adapter.update(detections[f])
        assert out.tracker_id is not None  # checked by the adapter
        keep = out.tracker_id >= 0
        if keep.any():
            table[f] = (out.tracker_id[keep].astype(np.int64), out.xyxy[keep].astype(np.float64))
        if progress is not None:
            progress(k + 1)
    return table


def synthetic_gt(
    n_objects: int = 25,
    frames: int = 2000,
    image_size: tuple[int, int] = (1280, 720),
    seed: int = 0,
) -> MotTable:
    """``n_objects`` player-sized boxes moving smoothly (bouncing off the borders) for
    ``frames`` frames, every one visible in every frame: the clip of :func:`speed_test`.

    >>> gt = synthetic_gt(3, 5)
    >>> len(gt), gt[5][0].tolist(), gt[5][1].shape
    (5, [1, 2, 3], (3, 4))
    """
    rng = np.random.default_rng(seed)
    size = np.array(image_size, np.float64)
    w = rng.uniform(25.0, 45.0, n_objects)
    wh = np.stack([w, w * rng.uniform(2.0, 2.5, n_objects)], 1)
    lo, hi = wh / 2, size - wh / 2
    pos = rng.uniform(lo, hi)
    vel = rng.normal(0.0, 3.0, (n_objects, 2))
    ids = np.arange(1, n_objects + 1, dtype=np.int64)
    table: MotTable = {}
    for f in range(1, frames + 1):
        vel = 0.95 * vel + rng.normal(0.0, 0.5, vel.shape)
        pos = pos + vel
        bounce = (pos < lo) | (pos > hi)
        vel[bounce] *= -1
        pos = np.clip(pos, lo, hi)
        table[f] = (ids, np.concatenate([pos - wh / 2, pos + wh / 2], 1))
    return table


def speed_test(
    factory: TrackerFactory,
    *,
    n_objects: int = 25,
    frames: int = 2000,
    frame_rate: float = 25.0,
    seed: int = 0,
) -> float:
    """Tracker updates per second on :func:`synthetic_gt` with box jitter and score noise
    (no miss, no false positive: ``n_objects`` detections in every frame).

    >>> class Same:
    ...     def update(self, d): return Detections(d.xyxy, tracker_id=np.arange(len(d)))
    ...     def reset(self): pass
    >>> speed_test(lambda fps: TrackerAdapter(Same()), frames=10) > 0
    True
    """
    gt = synthetic_gt(n_objects, frames, seed=seed)
    noise = NoiseModel(miss_rate=0.0, fp_per_frame=0.0, low_score_rate=0.0)
    dets = degrade(gt, noise, seed, image_size=(1280, 720), frames=range(1, frames + 1))
    adapter = factory(frame_rate)
    track_sequence(adapter, dets, list(range(1, frames + 1)))
    return adapter.updates / max(adapter.seconds, 1e-12)


def _merge_params(all_params: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One dict of parameters; a key whose value differs between sequences becomes a list."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for p in all_params for k in p):
        values = [p.get(key) for p in all_params]
        distinct = [v for i, v in enumerate(values) if v not in values[:i]]
        out[key] = distinct[0] if len(distinct) == 1 else distinct
    return out


def _ticker(
    progress: Progress | None, stage: str, offset: int, length: int, total: int
) -> Callable[[int], None] | None:
    """A per-frame callback reporting ``offset + done`` of ``total`` every 50 frames."""
    if progress is None:
        return None

    def tick(done: int) -> None:
        if done % 50 == 0 or done == length:
            progress(stage, offset + done, total)

    return tick


def _brief(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in METRIC_KEYS}


@dataclass(frozen=True)
class SequenceTrackerScores(MotScores):
    """A tracker's metrics on one sequence."""

    fps: float | None


@dataclass(frozen=True)
class NoiseCounts(JsonResult):
    """What the noise model made of a sequence's ground truth."""

    gt_boxes: int
    detections: int
    true_detections: int
    false_positives: int
    miss_rate: float | None


@dataclass(frozen=True)
class SequenceScores(JsonResult):
    """One sequence: its frames, seed, noise and per-tracker metrics (JSON: one key each)."""

    frames: int
    frame_rate: float
    seed: int
    noise: NoiseCounts
    trackers: dict[str, SequenceTrackerScores]

    def to_json(self) -> dict[str, Any]:
        """The fields as a dict, each tracker a key of its own in place of ``trackers``."""
        out = super().to_json()
        return out | out.pop("trackers")


@dataclass(frozen=True)
class TrackerScores(MotScores):
    """A tracker's metrics pooled over all sequences, its speed and HOTA per alpha."""

    hota_alpha: list[float]
    fps: float | None
    seconds: float
    frames: int
    updates_per_s_25: float | None


@dataclass(frozen=True)
class TrackingScores(JsonResult):
    """What :func:`evaluate_tracking` measured; in JSON each tracker of ``scores`` is a key of
    its own, first."""

    scores: dict[str, TrackerScores]
    noise_model: dict[str, Any]  # NoiseModel.to_dict() and the run's seed
    sequences: dict[str, SequenceScores]
    data: str
    frames: int
    params: dict[str, dict[str, Any]]  # per tracker
    trackers: list[str]
    metric_scale: str = "fraction: metrics in [0, 1] (MOTA can be negative); counts as integers"

    def to_json(self) -> dict[str, Any]:
        """The fields as a dict, the trackers' scores first, one key each (as in sequences)."""
        out = super().to_json()
        return out.pop("scores") | out


def evaluate_tracking(
    data: str | Path | Sequence[MotSequence],
    *,
    trackers: Sequence[str] | Mapping[str, TrackerFactory] = DEFAULT_TRACKERS,
    noise: NoiseModel | None = None,
    seed: int = 0,
    max_frames: int | None = None,
    sequences: Sequence[str] | None = None,
    speed_frames: int = 2000,
    progress: Progress | None = None,
) -> TrackingScores:
    """Run every tracker on the same degraded detections of every sequence and score them.

    Args:
        data: a MOT folder (see :func:`read_sequences`) or sequences already read.
        trackers: names among ``touchline bytetrack ocsort``, or ``{name: factory}``.
        noise: the detection noise (default :class:`NoiseModel`'s defaults).
        seed: the run's seed; each sequence gets :func:`sequence_seed` of it.
        max_frames: only the first frames of each sequence (ground truth included).
        sequences: only these sequence names (with a folder ``data``).
        speed_frames: frames of the 25-object :func:`speed_test` (0 skips it).
        progress: ``progress(stage, done, total)`` per sequence and for the speed test.

    Returns:
        The pooled scores of each tracker, the per-sequence ones, the noise model (with
        ``seed``) and the trackers' parameters.

    >>> class Oracle:  # knows nothing: one id per row, a poor tracker
    ...     def update(self, d): return Detections(d.xyxy, tracker_id=np.arange(len(d)))
    ...     def reset(self): pass
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "s1"; (d / "gt").mkdir(parents=True)
    >>> _ = (d / "seqinfo.ini").write_text("[Sequence]\\nframeRate=25\\nseqLength=3\\n")
    >>> _ = (d / "gt" / "gt.txt").write_text("1,1,0,0,10,20,1,1,1\\n2,1,1,0,10,20,1,1,1\\n")
    >>> r = evaluate_tracking(d.parent, trackers={"rows": lambda fps: TrackerAdapter(Oracle())},
    ...                       noise=NoiseModel.none(), speed_frames=0)
    >>> r.scores["rows"].mota, r.frames, r.noise_model["seed"]
    (1.0, 3, 0)
    """
    noise = noise if noise is not None else NoiseModel()
    if isinstance(data, str | Path):
        root: str = str(data)
        seqs = read_sequences(data, sequences)
    else:
        seqs = [s for s in data if sequences is None or s.name in sequences]
        root = str(Path(seqs[0].path).parent) if seqs else ""
    if not seqs:
        raise DataError(f"{root or 'sequences'}: no MOT sequence to evaluate")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    factories = resolve_trackers(trackers)
    names = list(factories)

    per_seq: dict[str, SequenceScores] = {}
    full: dict[str, list[dict[str, Any]]] = {t: [] for t in names}
    seconds = dict.fromkeys(names, 0.0)
    params: dict[str, list[dict[str, Any]]] = {t: [] for t in names}
    total_frames = 0
    for seq in seqs:
        length = seq.length if max_frames is None else min(seq.length, max_frames)
        frames = list(range(1, length + 1))
        gt = {f: v for f, v in seq.gt.items() if f <= length}
        dets = degrade(
            gt,
            noise,
            sequence_seed(seed, seq.name),
            image_size=seq.image_size,
            frames=frames,
            with_truth=True,
        )
        src = np.concatenate([d.data["gt_id"] for d in dets.values()])
        n_gt = sum(len(v[0]) for v in gt.values())
        noise_counts = NoiseCounts(
            gt_boxes=n_gt,
            detections=len(src),
            true_detections=int((src >= 0).sum()),
            false_positives=int((src < 0).sum()),
            miss_rate=(1.0 - float((src >= 0).sum()) / n_gt) if n_gt else None,
        )
        seq_scores: dict[str, SequenceTrackerScores] = {}
        dets = {
            f: Detections(xyxy=d.xyxy, confidence=d.confidence, class_id=d.class_id)
            for f, d in dets.items()
        }
        total = length * len(names)
        for i, name in enumerate(names):
            adapter = factories[name](seq.frame_rate)

            tick = _ticker(progress, seq.name, i * length, length, total)
            try:
                pr = track_sequence(adapter, dets, frames, tick)
                metrics = evaluate_mot(mot_frames(gt, pr))
            except DataError as exc:
                raise DataError(f"{name} on {seq.name}: {exc}") from None
            full[name].append(metrics)
            seconds[name] += adapter.seconds
            params[name].append(adapter.params)
            seq_scores[name] = SequenceTrackerScores(
                **_brief(metrics),
                fps=adapter.updates / adapter.seconds if adapter.seconds > 0 else None,
            )
        per_seq[seq.name] = SequenceScores(
            length, seq.frame_rate, sequence_seed(seed, seq.name), noise_counts, seq_scores
        )
        total_frames += length

    scores: dict[str, TrackerScores] = {}
    for i, name in enumerate(names):
        speed = None
        if speed_frames > 0:
            if progress is not None:
                progress("speed@25", i * speed_frames, len(names) * speed_frames)
            speed = speed_test(factories[name], frames=speed_frames, seed=seed)
            if progress is not None:
                progress("speed@25", (i + 1) * speed_frames, len(names) * speed_frames)
        pooled = combine_mot(full[name])
        scores[name] = TrackerScores(
            **_brief(pooled),
            hota_alpha=pooled["hota_alpha"],
            fps=total_frames / seconds[name] if seconds[name] > 0 else None,
            seconds=seconds[name],
            frames=total_frames,
            updates_per_s_25=speed,
        )
    return TrackingScores(
        scores,
        noise_model=noise.to_dict() | {"seed": seed},
        sequences=per_seq,
        data=root,
        frames=total_frames,
        params={name: _merge_params(params[name]) for name in names},
        trackers=names,
    )


def format_summary(result: TrackingScores) -> str:
    """A short text table of :func:`evaluate_tracking`'s result (metrics in percent).

    >>> m = dict.fromkeys(METRIC_KEYS, 0) | {"hota": 0.5, "deta": 0.6, "assa": 0.4,
    ...                                      "idf1": 0.55, "mota": 0.7, "idsw": 3}
    >>> x = TrackerScores(**m, hota_alpha=[], fps=1234.5, seconds=1.0, frames=10,
    ...                   updates_per_s_25=None)
    >>> print(format_summary(TrackingScores({"x": x}, {}, {}, "", 10, {}, ["x"])))
    tracker      HOTA   DetA   AssA   IDF1   MOTA   IDSW       fps  upd/s@25
    x            50.0   60.0   40.0   55.0   70.0      3      1234         -
    (10 frames; HOTA..MOTA in %, the JSON holds fractions)
    """

    def pct(v: Any) -> str:
        return f"{100 * v:6.1f}" if v is not None else "     -"

    def num(v: Any, width: int) -> str:
        return f"{v:{width}.0f}" if v is not None else " " * (width - 1) + "-"

    lines = [
        f"{'tracker':<10} {'HOTA':>6} {'DetA':>6} {'AssA':>6} {'IDF1':>6} {'MOTA':>6} "
        f"{'IDSW':>6} {'fps':>9} {'upd/s@25':>9}"
    ]
    for name in result.trackers:
        r = result.scores[name]
        metrics = " ".join(pct(v) for v in (r.hota, r.deta, r.assa, r.idf1, r.mota))
        lines.append(
            f"{name:<10} {metrics} {r.idsw:>6} {num(r.fps, 9)} {num(r.updates_per_s_25, 9)}"
        )
    lines.append(f"({result.frames} frames; HOTA..MOTA in %, the JSON holds fractions)")
    return "\n".join(lines)
