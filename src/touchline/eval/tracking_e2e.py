"""End-to-end tracking scores against a synthetic clip's exact ground truth.

:func:`evaluate_tracks` compares a :class:`~touchline.tracks.Tracks` table (from
``touchline track`` or :class:`~touchline.track.FootballTracker`) with the
:class:`~touchline.synth.GroundTruth` of the clip it was made from:

* **identity**: HOTA (DetA, AssA), MOTA and IDF1 on the people (players, goalkeepers,
  referees), boxes in image pixels (:mod:`touchline.eval.mot_metrics`); and the same on the
  pitch (``pitch_hota`` ...): positions compared by
  :func:`~touchline.eval.mot_metrics.pitch_similarity` (SoccerNet game-state HOTA's
  localisation, 0.05 at ``pitch_tau`` = 5 m) instead of box overlap;
* **pitch position**: for every tracked box matched to a ground-truth box (IoU >= 0.5, one to
  one per frame), the distance in metres between the tracked ``pitch_x``/``pitch_y`` and the
  true position: median, mean, 90th percentile;
* **teams**: the share of matched player and goalkeeper rows whose team is right, with the two
  labels mapped to the ground truth's by the better of the two assignments; referees must have
  team -1;
* **ball**: the share of frames with a visible ball where the ball track is within 1 m (pitch)
  or its box overlaps the true one.

Example:
    >>> import tempfile
    >>> from touchline.synth import GroundTruth, SynthConfig, synthesize
    >>> from touchline.tracks import TracksBuilder
    >>> clip = synthesize(SynthConfig(seconds=0.4, size=(320, 180), camera="builtin"),
    ...                   tempfile.mkdtemp())
    >>> gt = GroundTruth.read(clip.out_dir)
    >>> b = TracksBuilder()
    >>> for k in range(len(gt)):  # the ground truth itself scores perfectly
    ...     b.add(k, k / gt.fps, gt.detections(k), gt.calibration(k))
    >>> s = evaluate_tracks(b.build(), gt)
    >>> s.hota, s.idf1, s.pitch_hota, s.pitch_error_median_m < 0.01, s.team_accuracy
    (1.0, 1.0, 1.0, True, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from touchline.eval.mot_metrics import MotFrame, evaluate_mot, pitch_similarity
from touchline.geometry.boxes import box_iou
from touchline.synth.groundtruth import GroundTruth
from touchline.tracks import Tracks
from touchline.types import Detections, ObjectClass
from touchline.utils.results import JsonResult

__all__ = ["SimulatedDetector", "TrackScores", "evaluate_tracks"]

_PEOPLE = (int(ObjectClass.PLAYER), int(ObjectClass.GOALKEEPER), int(ObjectClass.REFEREE))
_BALL = int(ObjectClass.BALL)


class SimulatedDetector:
    """A stand-in detector replaying a synthetic clip's true boxes through a noise model.

    Frame ``k`` of the clip (the ``k``-th call of :meth:`detect`) gets the true boxes of frame
    ``k`` degraded by :class:`~touchline.eval.tracking.NoiseModel` (misses, jitter, score
    noise, false positives), with the true class of each box (false positives are players).
    It isolates calibration, tracking and teams from the detector's own errors.

    >>> import tempfile
    >>> from touchline.synth import GroundTruth, SynthConfig, synthesize
    >>> clip = synthesize(SynthConfig(seconds=0.2, size=(320, 180), camera="builtin"),
    ...                   tempfile.mkdtemp())
    >>> det = SimulatedDetector(GroundTruth.read(clip.out_dir), seed=1)
    >>> d = det.detect(None)
    >>> d.class_id is not None and len(d) > 0
    True
    """

    def __init__(self, gt: GroundTruth, noise: Any = None, seed: int = 0) -> None:
        from touchline.eval.tracking import NoiseModel, degrade

        self.noise = noise or NoiseModel()
        table: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        cls_of: dict[int, int] = {}
        for k in range(len(gt)):
            g = gt.detections(k)
            if len(g) == 0:
                continue
            assert g.tracker_id is not None and g.class_id is not None
            table[k + 1] = (g.tracker_id, g.xyxy.astype(np.float64))
            cls_of.update(zip(g.tracker_id.tolist(), g.class_id.tolist(), strict=True))
        self._frames = degrade(
            table,
            self.noise,
            seed,
            image_size=gt.image_size,
            frames=range(1, len(gt) + 1),
            with_truth=True,
        )
        self._cls = cls_of
        self._k = 0
        self.truth = np.zeros(0, np.int64)
        self.class_names = gt.detections(0).class_names

    def reset(self) -> None:
        """Start again at frame 0."""
        self._k = 0

    def detect(self, image: Any) -> Detections:
        """The detections of the next frame (``image`` is ignored); :attr:`truth` then holds
        the true id of each row (-1 for a false positive)."""
        self._k += 1
        d = self._frames.get(self._k)
        if d is None or len(d) == 0:
            self.truth = np.zeros(0, np.int64)
            return Detections.empty()
        ids = d.data["gt_id"]
        self.truth = np.asarray(ids, np.int64)
        cls = np.array([self._cls.get(int(i), 0) for i in ids], np.int64)
        return Detections(xyxy=d.xyxy, confidence=d.confidence, class_id=cls)


@dataclass(frozen=True)
class TrackScores(JsonResult):
    """What :func:`evaluate_tracks` measured (see the module); ``None``: nothing to score."""

    hota: float
    deta: float
    assa: float
    loca: float
    mota: float
    idf1: float
    idsw: int
    fp: int
    fn: int
    pitch_hota: float
    pitch_deta: float
    pitch_assa: float
    pitch_idf1: float
    pitch_mota: float
    frames: int
    gt_ids: int
    track_ids: int
    matched_rows: int
    pitch_rows: int
    pitch_error_median_m: float | None
    pitch_error_mean_m: float | None
    pitch_error_p90_m: float | None
    team_accuracy: float | None
    team_unassigned: float | None  # None (and no JSON key) when no player row was matched
    referee_rows: int
    referee_no_team: float | None
    ball_frames: int
    ball_found: float | None

    def to_json(self) -> dict[str, Any]:
        """The fields as a dict, without ``team_unassigned`` when it is ``None``."""
        out = super().to_json()
        if self.team_unassigned is None:
            del out["team_unassigned"]
        return out


def _match(gt_xyxy: np.ndarray, pr_xyxy: np.ndarray, min_iou: float) -> np.ndarray:
    if len(gt_xyxy) == 0 or len(pr_xyxy) == 0:
        return np.zeros((0, 2), np.int64)
    iou = box_iou(gt_xyxy, pr_xyxy)
    r, c = linear_sum_assignment(-iou)
    ok = iou[r, c] >= min_iou
    return np.stack([r[ok], c[ok]], 1)


def evaluate_tracks(
    tracks: Tracks,
    gt: GroundTruth,
    *,
    min_iou: float = 0.5,
    min_visibility: float = 0.0,
    pitch_tau: float = 5.0,
) -> TrackScores:
    """Scores of ``tracks`` against ``gt`` (see the module).

    Args:
        tracks: the tracks table; its ``frame`` column indexes the clip's frames.
        gt: the clip's ground truth.
        min_iou: IoU for a tracked box to count as a ground-truth object (pitch error, teams).
        min_visibility: ground-truth objects less visible than this (share of the box not
            hidden by others) are left out of every score, together with the tracks matched
            to them.
        pitch_tau: distance (m) at which the pitch similarity of ``pitch_hota`` falls to 0.05.
    """
    df = tracks.df
    by_frame = {int(f): g for f, g in df.groupby("frame", sort=True)}
    frames: list[MotFrame] = []
    pitch_frames: list[MotFrame] = []
    errors: list[np.ndarray] = []
    team_pairs: list[tuple[np.ndarray, np.ndarray]] = []
    ref_ok: list[np.ndarray] = []
    ball_seen = ball_hit = 0
    for k in range(len(gt)):
        g = gt.detections(k)
        cls = g.class_id if g.class_id is not None else np.zeros(len(g), np.int64)
        vis = g.data.get("visibility", np.ones(len(g)))
        people = np.isin(cls, _PEOPLE)
        hidden = people & (vis < min_visibility)
        keep_gt = people & ~hidden
        rows = by_frame.get(k)
        if rows is None:
            pr_ids = np.zeros(0, np.int64)
            pr_xyxy = np.zeros((0, 4))
            pr_cls = np.zeros(0, np.int64)
            pr_team = np.zeros(0, np.int64)
            pr_xy = np.zeros((0, 2))
        else:
            pr_ids = rows["track_id"].to_numpy(np.int64)
            pr_xyxy = rows[["x1", "y1", "x2", "y2"]].to_numpy(np.float64)
            pr_cls = rows["class_id"].to_numpy(np.int64)
            pr_team = rows["team"].to_numpy(np.int64)
            pr_xy = rows[["pitch_x", "pitch_y"]].to_numpy(np.float64)
        pr_people = pr_cls != _BALL
        # Tracks matched to a hidden object are neither right nor wrong: drop them.
        if hidden.any() and pr_people.any():
            m = _match(g.xyxy[hidden].astype(np.float64), pr_xyxy[pr_people], min_iou)
            drop = np.flatnonzero(pr_people)[m[:, 1]]
            pr_people[drop] = False
        assert g.tracker_id is not None
        args = (
            k,
            g.tracker_id[keep_gt],
            g.xyxy[keep_gt].astype(np.float64),
            pr_ids[pr_people],
            pr_xyxy[pr_people],
        )
        frames.append(MotFrame(*args))
        gt_xy = np.asarray(g.data["pitch_xy"], np.float64)[keep_gt]
        pitch_frames.append(
            MotFrame(*args, similarity=pitch_similarity(gt_xy, pr_xy[pr_people], pitch_tau))
        )
        gi = np.flatnonzero(keep_gt)
        pi = np.flatnonzero(pr_people)
        m = _match(g.xyxy[gi].astype(np.float64), pr_xyxy[pi], min_iou)
        if len(m):
            gm, pm = gi[m[:, 0]], pi[m[:, 1]]
            true_xy = np.asarray(g.data["pitch_xy"], np.float64)[gm]
            errors.append(np.linalg.norm(pr_xy[pm] - true_xy, axis=1))
            true_team = np.asarray(g.data["team"], np.int64)[gm]
            is_ref = cls[gm] == int(ObjectClass.REFEREE)
            team_pairs.append((true_team[~is_ref], pr_team[pm][~is_ref]))
            ref_ok.append(pr_team[pm][is_ref] == -1)
        balls = np.flatnonzero(cls == _BALL)
        if balls.size:
            ball_seen += 1
            pb = np.flatnonzero(pr_cls == _BALL)
            if pb.size:
                true_xy = np.asarray(g.data["pitch_xy"], np.float64)[balls[0]]
                d = np.linalg.norm(pr_xy[pb] - true_xy, axis=1)
                iou = box_iou(g.xyxy[balls[:1]], pr_xyxy[pb])[0]
                ball_hit += bool(((d <= 1.0) | (iou > 0)).any())
    scores = evaluate_mot(frames)
    on_pitch = evaluate_mot(pitch_frames)
    err = np.concatenate(errors) if errors else np.zeros(0)
    finite = err[np.isfinite(err)]
    team_accuracy = team_unassigned = None
    if team_pairs:
        t_true = np.concatenate([p[0] for p in team_pairs])
        t_pred = np.concatenate([p[1] for p in team_pairs])
        same = float(np.mean(t_pred == t_true)) if t_true.size else 0.0
        swapped = float(np.mean(t_pred == 1 - t_true)) if t_true.size else 0.0
        team_accuracy = max(same, swapped)
        team_unassigned = float(np.mean(t_pred < 0)) if t_true.size else 0.0
    refs = np.concatenate(ref_ok) if ref_ok else np.zeros(0, bool)

    def stat(f: Any) -> float | None:
        return float(f(finite)) if finite.size else None

    return TrackScores(
        **{
            k: scores[k]
            for k in ("hota", "deta", "assa", "loca", "mota", "idf1", "idsw", "fp", "fn")
        },
        **{f"pitch_{k}": on_pitch[k] for k in ("hota", "deta", "assa", "idf1", "mota")},
        frames=len(gt),
        gt_ids=len({i for f in frames for i in f.gt_ids.tolist()}),
        track_ids=len({i for f in frames for i in f.pr_ids.tolist()}),
        matched_rows=int(err.size),
        pitch_rows=int(finite.size),
        pitch_error_median_m=stat(np.median),
        pitch_error_mean_m=stat(np.mean),
        pitch_error_p90_m=stat(lambda a: np.percentile(a, 90)),
        team_accuracy=team_accuracy,
        team_unassigned=team_unassigned,
        referee_rows=int(refs.size),
        referee_no_team=float(refs.mean()) if refs.size else None,
        ball_frames=ball_seen,
        ball_found=float(ball_hit / ball_seen) if ball_seen else None,
    )
