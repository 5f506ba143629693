"""Team assignment on the real DFL clip: PNG stills coloured by team + timing and team sizes.

Usage::

    python benchmarks/track_teams.py [--frames 150] [--no-tracker] [--out benchmarks/results]

The first ``--frames`` frames of ``video/dfl_08fd33_4.mp4`` (848x478, read in place from
``../shared/data``; one team in white, the other in lime) go through the shipped
:class:`~touchline.detect.Detector`, the tracker (:class:`touchline.track.tracker.Tracker`, fed
the camera motion and cuts of :class:`touchline.calib.CameraMotionOnly`; ``--no-tracker``
decides every row from its own frame) and
:class:`~touchline.track.teams.TeamAssigner`. Stills (enlarged 2x) show every box coloured by
team (``BoxAnnotator(color_by="team")``: blue team 0, red team 1, magenta goalkeeper, yellow
referee, grey undecided) and a tag above it: ``0``/``1`` a player's team, ``G0``/``G1`` a
goalkeeper's, ``R`` a referee, ``?`` undecided. The JSON gives the time of the appearance
features and of the team update per frame, the team sizes per frame and the final team of every
track.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import header, model_header, shared_root
from touchline.calib.stream import CameraMotionOnly
from touchline.detect import Detector
from touchline.track.appearance import FEATURE_DIM, appearance_features, grass_color
from touchline.track.teams import TeamAssigner, TeamConfig
from touchline.types import Detections
from touchline.utils.files import write_json_atomic
from touchline.video import VideoReader, write_image
from touchline.viz.overlay import TEAM_COLORS, BoxAnnotator

CLIP = "video/dfl_08fd33_4.mp4"
STILLS = (15, 30, 75, 120, 149)  # the kits are fitted by frame ~12; 30: the left keeper
SCALE = 2


def _tags(dets: Detections) -> list[tuple[str, tuple[int, int, int]]]:
    team = dets.data["team"]
    out = []
    for c, t in zip(np.asarray(dets.class_id).tolist(), team.tolist(), strict=True):
        color = TEAM_COLORS["team_0"] if t == 0 else TEAM_COLORS["team_1"]
        if c == 3:
            out.append(("", color))
        elif c == 2:
            out.append(("R", TEAM_COLORS["referee"]))
        elif t < 0:
            out.append(("?", TEAM_COLORS["unknown"]))
        else:
            out.append((("G" if c == 1 else "") + str(t), color))
    return out


def draw(image: np.ndarray, dets: Detections) -> np.ndarray:
    big = cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    scaled = Detections(
        xyxy=dets.xyxy * SCALE, class_id=dets.class_id, data={"team": dets.data["team"]}
    )
    out = BoxAnnotator(color_by="team").annotate(big, scaled)
    for (x1, y1, _, _), (text, color) in zip(scaled.xyxy, _tags(dets), strict=True):
        if not text:
            continue
        org = (int(x1), max(12, int(y1) - 4))
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
    return out


def _ms(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000.0
    return {
        "mean": round(float(a.mean()), 3),
        "median": round(float(np.median(a)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--no-tracker", action="store_true", help="no track ids: per-frame teams")
    a = ap.parse_args()
    name = "track_teams" + ("_notracker" if a.no_tracker else "")
    stills_dir = a.out / name

    detector = Detector()
    tracker = None
    if not a.no_tracker:
        from touchline.track.tracker import Tracker

        tracker = Tracker()
    camera = CameraMotionOnly()  # camera motion and cuts measured beside the tracker
    assigner = TeamAssigner(TeamConfig())
    with VideoReader(shared_root() / CLIP, stop=a.frames) as reader:
        frames = [f.image for f in reader]

    t_team: list[float] = []
    n_boxes: list[int] = []
    boxes: list[np.ndarray] = []
    sizes: list[tuple[int, int]] = []
    fitted_at = None
    stills = []
    for k, img in enumerate(frames):
        dets = detector.detect(img)
        balls = dets[dets.class_id == 3]
        people = dets[dets.class_id != 3]
        if tracker is None:
            tracked = people
        else:
            step = camera.update(img)
            tracked = tracker.update(people, step.calibration, img, motion=step.motion)
        t0 = time.perf_counter()
        team = assigner.update(tracked, img)  # computes the features of the player rows
        t_team.append(time.perf_counter() - t0)
        boxes.append(tracked.xyxy)
        n_boxes.append(len(tracked))
        if assigner.fitted and fitted_at is None:
            fitted_at = k
        # Goalkeepers detected as players (found by the assigner) count as goalkeepers.
        cls = np.asarray(tracked.class_id).copy()
        if tracked.tracker_id is not None:
            roles = assigner.track_roles()
            keeper = np.array([roles.get(int(t), -1) == 1 for t in tracked.tracker_id], bool)
            cls[keeper.reshape(-1) & (cls == 0)] = 1
        players = (cls == 0) & (team >= 0)
        if assigner.fitted:
            sizes.append((int((team[players] == 0).sum()), int((team[players] == 1).sum())))
        if k in STILLS:
            shown = Detections.merge(
                [
                    Detections(xyxy=tracked.xyxy, class_id=cls, data={"team": team}),
                    Detections(
                        xyxy=balls.xyxy,
                        class_id=balls.class_id,
                        data={"team": np.full(len(balls), -1)},
                    ),
                ]
            )
            path = stills_dir / f"dfl_08fd33_4_{k:05d}.png"
            write_image(path, draw(img, shown))
            stills.append(
                {
                    "frame": k,
                    "file": f"{name}/{path.name}",
                    "team_0": int((team[players] == 0).sum()),
                    "team_1": int((team[players] == 1).sum()),
                    "goalkeepers": [int(t) for t in team[cls == 1].tolist()],
                    "undecided_players": int(((cls == 0) & (team < 0)).sum()),
                    "referees": int((cls == 2).sum()),
                }
            )

    # The appearance features on their own (best of 3 per frame: the detector's threads are
    # idle by then), on every tracked box of the frame as a tracker would compute them.
    t_feat, t_grass = [], []
    for img, xyxy in zip(frames, boxes, strict=True):
        best_f, best_g = np.inf, np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            grass = grass_color(img)
            t1 = time.perf_counter()
            appearance_features(img, xyxy, grass=grass)
            t2 = time.perf_counter()
            best_f, best_g = min(best_f, t2 - t0), min(best_g, t1 - t0)
        t_feat.append(best_f)
        t_grass.append(best_g)

    s = np.array(sizes)
    share = s.min(axis=1) / np.maximum(s.sum(axis=1), 1)
    result: dict[str, Any] = header(name) | {
        "source": CLIP,
        "frames": len(frames),
        "image_size": [int(frames[0].shape[1]), int(frames[0].shape[0])],
        "detector": model_header("detect"),
        "tracker": tracker is not None,
        "feature_dim": FEATURE_DIM,
        "boxes_per_frame": round(statistics.mean(n_boxes), 2),
        "features_ms_per_frame": _ms(t_feat),
        "grass_color_ms_per_frame": _ms(t_grass),
        "team_update_ms_per_frame_incl_features": _ms(t_team),
        "fitted_at_frame": fitted_at,
        "team_sizes": {
            "frames": len(sizes),
            "mean_team_0": round(float(s[:, 0].mean()), 2),
            "mean_team_1": round(float(s[:, 1].mean()), 2),
            "smaller_team_share_min": round(float(share.min()), 3),
            "frames_smaller_team_ge_30pct": round(float(np.mean(share >= 0.3)), 3),
        },
        "tracks": {str(t): v for t, v in assigner.track_teams().items()},
        "track_roles": {str(t): v for t, v in assigner.track_roles().items()},
        "track_votes": {
            str(t): {
                "role": ["player", "goalkeeper", "referee"][
                    v.effective_role(assigner.config.outlier_share, assigner.config.keeper_frames)
                ],
                "detected_as": ["player", "goalkeeper", "referee"][v.role()],
                "team": v.team(assigner.config.outlier_share, assigner.config.keeper_frames),
                "colour_votes": v.n_colour,
                "outlier_crops": v.n_outlier,
                "side": round(v.side, 2),
            }
            for t, v in sorted(assigner.tracks.items())
        },
        "stills": stills,
    }
    out = a.out / f"{name}.json"
    write_json_atomic(out, result)
    print(json.dumps({k: result[k] for k in ("features_ms_per_frame", "team_sizes", "stills")}))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
