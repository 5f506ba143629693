"""Pseudo-labelled detector training frames from broadcasts that have no boxes (self-training).

The teacher is the detector itself, made stronger by time and resolution: people come from the
network at its own scale with a low threshold, kept only when the person tracker follows them
for a while with a good mean score (:class:`touchline.track.PeopleAndBallTracker` in image
space, with the measured camera motion); the ball comes from the network run at twice the width (the ball is 3-6
pixels in these frames), confirmed by the ball tracker. Stills (no sequence to confirm with) keep
only confident boxes. A person is kept only where the shipped calibration places their feet on
the pitch (``pitch_margin`` metres around it): the labelled DFL frames have no boxes on coaches,
ball boys or spectators, so the pseudo-labels must not teach them either. Everything the
teacher saw but did not keep (a detection above ``ignore_score``, a person the tracker coasts
through, a person off the pitch or in an uncalibrated frame, and every goalkeeper: the
teacher tells a goalkeeper from a player by the kit colours it learnt on DFL, which another
league's kits do not follow) becomes an ``ignore`` box: the
training loss neither rewards nor punishes the network there, so a doubtful player is not
taught as background.

The result is a YOLO split (``images/``, ``labels/``, ``data.yaml`` with the classes
``football goalkeeper player referee ignore``) of 16:9 frames that
:func:`touchline.train.detect.load_split` reads like the DFL splits. Only the sources of
:data:`touchline.data.DETECTOR_PSEUDO_SOURCES` are accepted (never the evaluation sequences).

Usage::

    python -m touchline.train.detect_pseudo --out runs/detect_pseudo [--model T.onnx] [--every 3]

``--model`` is the teacher (an ONNX file from ``python -m touchline.train.detect`` with its
``.json`` beside it; default the shipped detector).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.calib.calibrator import Calibrator
from touchline.calib.motion import CameraMotion
from touchline.data import DETECTOR_PSEUDO_SOURCES, shared_data_dir
from touchline.datasets.detection import write_yolo_labels, write_yolo_names
from touchline.detect import Detector
from touchline.errors import DataError
from touchline.geometry.boxes import box_iou
from touchline.pitch import Pitch
from touchline.track.ball import BallConfig, BallTracker
from touchline.track.combined import PeopleAndBallTracker
from touchline.track.tracker import Tracker, TrackerConfig
from touchline.types import Calibration, Detections
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader

__all__ = ["PseudoConfig", "label_sequence", "label_still", "main"]

#: Dataset classes of the written split (``ignore`` masks the loss).
SPLIT_CLASSES = ("football", "goalkeeper", "player", "referee", "ignore")
_OURS_TO_SPLIT = {"ball": "football", "goalkeeper": "goalkeeper", "player": "player"}
_OURS_TO_SPLIT["referee"] = "referee"
PEOPLE = ("player", "goalkeeper", "referee")


@dataclass(frozen=True)
class PseudoConfig:
    """What decides the labels (recorded in ``pseudo.json``)."""

    every: int = 3  # label one frame in ``every`` of a sequence
    width: int = 1280  # frames are written at this width, 16:9
    low_score: float = 0.15  # teacher threshold (people and ball candidates)
    ignore_score: float = 0.1  # any detection above this that is not kept is ignored
    track_min_frames: int = 10  # a person track must be measured this often ...
    track_mean_score: float = 0.35  # ... with at least this mean score
    ball_score: float = 0.3  # a tracked, measured ball at least this score
    still_person_score: float = 0.5  # stills: people at least this score
    still_ball_score: float = 0.6  # stills: the ball at least this score (2x teacher)
    pitch_margin: float = 1.0  # metres around the pitch where a person's feet may be


class _Teacher:
    """People from the network at its own scale, the ball from it at twice the width."""

    def __init__(self, cfg: PseudoConfig, model: Path | None = None) -> None:
        self.people = Detector(model, threshold=cfg.low_score, classes=PEOPLE)
        self.ball = Detector(model, threshold=cfg.low_score, classes=("ball",), input_width=1920)
        self.class_names = self.people.class_names
        self.threshold = cfg.low_score

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        return Detections.merge([self.people.detect(image), self.ball.detect(image)])


def _frames(source: Path, width: int) -> Iterator[tuple[str, NDArray[np.uint8]]]:
    """Every frame of a folder or video, resized to ``width`` x 16:9 (un-squashing squares);
    streamed, so a long sequence is never held in memory."""
    size = (width, round(width * 9 / 16))
    for fr in VideoReader(source):
        yield f"{fr.index:05d}", cv2.resize(fr.image, size, interpolation=cv2.INTER_AREA)


def _ignore_rest(kept: Detections, seen: Detections, score: float) -> NDArray[np.float32]:
    """Boxes of ``seen`` above ``score`` that overlap no kept box (IoU < 0.3)."""
    conf = seen.confidence if seen.confidence is not None else np.ones(len(seen))
    cand = seen.xyxy[conf >= score]
    if len(kept) and len(cand):
        cand = cand[box_iou(cand, kept.xyxy).max(axis=1) < 0.3]
    return cand.astype(np.float32)


def _without_goalkeepers(kept: Detections, ignore: NDArray) -> tuple[Detections, NDArray]:
    """Goalkeeper boxes moved from ``kept`` to ``ignore`` (an unreliable class off DFL)."""
    if not len(kept):
        return kept, ignore
    gk = kept.class_name == "goalkeeper"
    moved = kept.xyxy[gk].astype(np.float32).reshape(-1, 4)
    return kept[~gk], np.concatenate([ignore.reshape(-1, 4), moved])


def _write(
    out: Path, name: str, image: NDArray[np.uint8], kept: Detections, ignore: NDArray
) -> None:
    names = [_OURS_TO_SPLIT[str(n)] for n in kept.class_name] if len(kept) else []
    names += ["ignore"] * len(ignore)
    xyxy = np.concatenate([kept.xyxy.reshape(-1, 4), ignore.reshape(-1, 4)]).astype(np.float32)
    ids = np.array([SPLIT_CLASSES.index(n) for n in names], np.int64)
    dets = Detections(xyxy=xyxy, class_id=ids, class_names=SPLIT_CLASSES)
    h, w = image.shape[:2]
    cv2.imwrite(str(out / "images" / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    write_yolo_labels(out / "labels" / f"{name}.txt", dets, (w, h))


def on_pitch(dets: Detections, calibration: Calibration | None, margin: float) -> NDArray[np.bool_]:
    """Whether each person's feet (and every ball) are on the pitch plus ``margin`` metres;
    people are ``False`` in a frame without a valid calibration."""
    if not len(dets):
        return np.zeros(0, bool)
    is_ball = dets.class_name == "ball"
    if calibration is None or not calibration.is_valid:
        return is_ball
    return is_ball | Pitch().contains(dets.to_pitch(calibration), margin)


def label_still(
    image: NDArray[np.uint8],
    teacher: _Teacher,
    cfg: PseudoConfig,
    calibration: Calibration | None = None,
) -> tuple[Detections, NDArray[np.float32]]:
    """``(kept, ignore boxes)`` of one frame with no sequence: confident boxes only (people
    on the pitch of ``calibration``; without one, every person is kept)."""
    d = teacher.detect(image)
    if not len(d):
        return d, np.zeros((0, 4), np.float32)
    conf = d.confidence
    assert conf is not None
    is_ball = d.class_name == "ball"
    keep = np.where(is_ball, conf >= cfg.still_ball_score, conf >= cfg.still_person_score)
    if is_ball.sum() > 1:  # one ball at most: the best, if it is confident
        keep &= ~is_ball | (conf >= conf[is_ball].max())
    if calibration is not None:
        keep &= on_pitch(d, calibration, cfg.pitch_margin)
    kept = d[keep]
    return kept, _ignore_rest(kept, d, cfg.ignore_score)


def label_sequence(
    frames: Iterable[tuple[str, NDArray[np.uint8]]],
    teacher: _Teacher,
    cfg: PseudoConfig,
    calibrations: list[Calibration] | None = None,
) -> list[tuple[int, Detections, NDArray[np.float32]]]:
    """``(frame position, kept, ignore boxes)`` for every ``cfg.every``-th frame, kept boxes
    confirmed by the trackers over the whole sequence (people on the pitch of each frame's
    calibration, when ``calibrations`` are given)."""
    people = Tracker(
        TrackerConfig(high_threshold=0.3, new_track_threshold=0.35, low_threshold=cfg.low_score)
    )
    tracker = PeopleAndBallTracker(people, BallTracker(BallConfig(acquire_score=0.45)))
    motion = CameraMotion()
    steps: list[tuple[Detections, Detections]] = []  # (tracks, detections) per frame
    for _, img in frames:
        seen = teacher.detect(img)
        G = motion.update(img).G
        steps.append((tracker.update(seen, None, img, motion=G), seen))
    # Per person track: measured frames and mean score.
    stats: dict[int, list[float]] = {}
    for t, _ in steps:
        for i in range(len(t)):
            if t.class_name[i] != "ball" and not bool(t.data["predicted"][i]):
                stats.setdefault(int(t.tracker_id[i]), []).append(float(t.confidence[i]))
    good = {
        tid
        for tid, s in stats.items()
        if len(s) >= cfg.track_min_frames and float(np.mean(s)) >= cfg.track_mean_score
    }
    out = []
    for k in range(0, len(steps), cfg.every):
        t, seen = steps[k]
        n = len(t)
        predicted = np.array([bool(t.data["predicted"][i]) for i in range(n)], bool)
        is_ball = np.array([t.class_name[i] == "ball" for i in range(n)], bool)
        ids = t.tracker_id if n else np.zeros(0, np.int64)
        keep_person = ~is_ball & ~predicted & np.isin(ids, list(good))
        conf = t.confidence if n else np.zeros(0)
        keep_ball = is_ball & ~predicted & (conf >= cfg.ball_score)
        kept = _snap(t[keep_person | keep_ball], seen)
        if calibrations is not None:
            kept = kept[on_pitch(kept, calibrations[k], cfg.pitch_margin)]
        coasting = t.xyxy[~is_ball & predicted & np.isin(ids, list(good))]
        ignore = np.concatenate([_ignore_rest(kept, seen, cfg.ignore_score), coasting])
        out.append((k, kept, ignore.astype(np.float32)))
    return out


def _snap(tracks: Detections, seen: Detections) -> Detections:
    """Tracked rows with the measured box and class of their detection (the tracker's box is
    filtered and its class a vote over the track: a goalkeeper voted a player stays one)."""
    if not len(tracks) or not len(seen):
        return tracks
    iou = box_iou(tracks.xyxy, seen.xyxy)
    j = iou.argmax(axis=1)
    ok = iou[np.arange(len(tracks)), j] >= 0.5
    xyxy = np.where(ok[:, None], seen.xyxy[j], tracks.xyxy).astype(np.float32)
    assert tracks.class_id is not None and seen.class_id is not None
    cls = np.where(ok, seen.class_id[j], tracks.class_id)
    return Detections(
        xyxy=xyxy, confidence=tracks.confidence, class_id=cls, class_names=tracks.class_names
    )


def build(
    out: Path,
    cfg: PseudoConfig,
    data_root: Path | None = None,
    model: Path | None = None,
    log=print,
) -> dict:
    """Write the pseudo-labelled split to ``out``; returns the counts written."""
    root = data_root or shared_data_dir()
    if root is None:
        raise DataError("the shared data folder (../shared/data) is not on this machine")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    write_yolo_names(out / "data.yaml", SPLIT_CLASSES)
    teacher = _Teacher(cfg, model)
    calibrator = Calibrator()
    counts: dict[str, dict[str, int]] = {}
    for rel in DETECTOR_PSEUDO_SOURCES:
        src = root / rel
        if not src.exists():
            raise DataError(f"{src}: pseudo-label source missing")
        tag = rel.replace("pitch_keypoints/", "").replace("/images", "").replace("/", "_")
        if rel.startswith("frames/"):  # decoded three times: calibrate, label, write
            cals = calibrator.calibrate_video(img for _, img in _frames(src, cfg.width))
            labelled = label_sequence(_frames(src, cfg.width), teacher, cfg, cals)
        else:  # stills
            labelled = [
                (k, *label_still(img, teacher, cfg, calibrator.estimate(img).calibration))
                for k, (_, img) in enumerate(_frames(src, cfg.width))
            ]
        by_frame = {k: (kept, ignore) for k, kept, ignore in labelled}
        c = {"frames": 0, "people": 0, "ball": 0, "ignore": 0}
        for k, (name, image) in enumerate(_frames(src, cfg.width)):
            if k not in by_frame:
                continue
            kept, ignore = _without_goalkeepers(*by_frame[k])
            _write(out, f"{tag}_{name}", image, kept, ignore)
            c["frames"] += 1
            c["ball"] += int((kept.class_name == "ball").sum()) if len(kept) else 0
            c["people"] += len(kept) - (int((kept.class_name == "ball").sum()) if len(kept) else 0)
            c["ignore"] += len(ignore)
        counts[tag] = c
        log(f"{tag}: {json.dumps(c)}")
    from touchline.models import model_path, sha256

    teacher_file = model or model_path("detect")
    write_json_atomic(
        out / "pseudo.json",
        {
            "config": asdict(cfg),
            "teacher": {"file": str(teacher_file), "sha256": sha256(teacher_file)},
            "counts": counts,
        },
    )
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None, help="the teacher ONNX (default shipped)")
    ap.add_argument("--every", type=int, default=PseudoConfig.every)
    a = ap.parse_args(argv)
    build(a.out, PseudoConfig(every=a.every), a.data_root, a.model)


if __name__ == "__main__":
    main()
