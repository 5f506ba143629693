"""Multi-object tracker (touchline.track.tracker): the update contract, lifecycle, two-stage
association, crossings in image and pitch space, camera motion, cuts, re-identification, pitch
output, the ball, determinism and class votes, on hand-built scenes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from touchline.calib.stream import CameraMotionOnly
from touchline.geometry.boxes import box_iou
from touchline.track.ball import BALL_TRACK_ID
from touchline.track.combined import PeopleAndBallTracker
from touchline.track.tracker import Tracker, TrackerConfig
from touchline.types import Calibration, Detections

BOX_W, BOX_H = 20.0, 50.0
PLAYER, REFEREE, BALL = 0, 2, 3

# A broadcast-like perspective camera: pitch (X, Y) in metres, Y the depth from the camera.
# u = CX + F (X - xc) / (Y + D), v = V0 + F * HC / (Y + D): a 1.8 m player 30 m deep is about
# 50 px tall, and one metre of depth is only ~4 px of image height there.
F, CX, V0, HC, D = 1100.0, 640.0, 100.0, 6.0, 10.0


# ---- scene helpers ---------------------------------------------------------------------------
def box(cx: float, foot_y: float, w: float = BOX_W, h: float = BOX_H) -> list[float]:
    """``xyxy`` of a player box whose feet (bottom centre) are at ``(cx, foot_y)``."""
    return [cx - w / 2, foot_y - h, cx + w / 2, foot_y]


def make_dets(
    boxes: Sequence[Sequence[float]] | np.ndarray,
    conf: float | Sequence[float] | None = 0.9,
    cls: int | Sequence[int] | None = PLAYER,
    emb: np.ndarray | None = None,
) -> Detections:
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(b)
    return Detections(
        xyxy=b,
        confidence=None if conf is None else np.broadcast_to(np.asarray(conf, float), (n,)).copy(),
        class_id=None if cls is None else np.broadcast_to(np.asarray(cls), (n,)).copy(),
        embedding=emb,
    )


def ids_of(out: Detections, dets: Detections) -> list[int]:
    """Tracker id of each input row in a (measured-box) output; -1 where it is not output."""
    measured = ~np.asarray(out.data["predicted"], bool)
    res = []
    for b in dets.xyxy:
        hit = np.flatnonzero((out.xyxy == b).all(axis=1) & measured)
        assert hit.size <= 1
        res.append(int(out.tracker_id[hit[0]]) if hit.size else -1)
    return res


def track_ids(
    tracker: Tracker,
    frames: Sequence[Detections],
    calibrations: Sequence[Calibration | None] | None = None,
    motions: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """``(n_frames, n_rows)`` tracker ids of every input row (rows are the true identities)."""
    out = []
    for k, dets in enumerate(frames):
        cal = None if calibrations is None else calibrations[k]
        mot = None if motions is None else motions[k]
        out.append(ids_of(tracker.update(dets, cal, motion=mot), dets))
    return np.array(out)


def id_changes(ids: np.ndarray) -> int:
    """Identity changes over the frames (a row losing its output and coming back under the
    same id is not a change)."""
    total = 0
    for col in ids.T:
        seen = col[col > 0]
        total += int(np.count_nonzero(seen[1:] != seen[:-1]))
    return total


def pitch_to_image(xc: float = 0.0, f: float = F) -> np.ndarray:
    """Pitch -> image homography of the perspective camera looking at lateral position ``xc``."""
    return np.array([[f, CX, CX * D - f * xc], [0.0, V0, V0 * D + f * HC], [0.0, 1.0, D]])


def perspective(xc: float = 0.0, f: float = F, *, cut: bool = False) -> Calibration:
    return Calibration.from_pitch_to_image(pitch_to_image(xc, f), cut=cut)


def pitch_box(cal: Calibration, x: float, y: float, f: float = F) -> list[float]:
    """Image box of a 1.8 m player standing at pitch ``(x, y)`` (box size from the depth)."""
    u, v = cal.pitch_to_image([[x, y]])[0]
    h = f * 1.8 / (y + D)
    return box(u, v, 0.4 * h, h)


def unit(*v: float) -> np.ndarray:
    a = np.asarray(v, np.float64)
    return a / np.linalg.norm(a)


KIT_A = unit(1.0, 0.1, 0.0, 0.0)
KIT_B = unit(0.0, 0.1, 1.0, 0.0)


def walkers(n_frames: int, n: int = 3, speed: float = 1.0) -> list[Detections]:
    """``n`` players 150 px apart walking at their own pace (``speed`` times 2, -1.5, 1, ...
    px/frame: no common motion that could pass for a camera pan)."""
    vx = speed * np.resize([2.0, -1.5, 1.0, -0.5, 1.5, -2.0], n)
    return [
        make_dets([box(100 + 150 * i + vx[i] * k, 300 + 10 * i) for i in range(n)])
        for k in range(n_frames)
    ]


# ---- 1. contract -----------------------------------------------------------------------------
def test_output_contract_and_stable_ids_over_a_walk() -> None:
    tracker = Tracker()
    frames = walkers(12)
    track_conf = []
    for k, dets in enumerate(frames):
        out = tracker.update(dets)
        assert isinstance(out, Detections)
        assert len(out) == 3
        assert out.tracker_id is not None and out.tracker_id.dtype == np.int64
        assert out.tracker_id.tolist() == [1, 2, 3], k
        assert ids_of(out, dets) == [1, 2, 3]
        np.testing.assert_array_equal(out.confidence, dets.confidence)
        assert out.class_id is not None and out.class_id.tolist() == [0, 0, 0]
        assert set(out.data) >= {"pitch_xy", "track_confidence", "predicted"}
        assert out.data["pitch_xy"].shape == (3, 2)
        assert out.data["predicted"].dtype == bool and not out.data["predicted"].any()
        tc = out.data["track_confidence"]
        assert tc.shape == (3,) and ((tc > 0) & (tc <= 1)).all()
        track_conf.append(tc)
        assert out.embedding is None
    assert tracker.frame_index == 12 and tracker.n_tracks == 3
    # The track confidence grows with the track's history.
    assert (np.diff(np.array(track_conf), axis=0) >= 0).all()
    assert (track_conf[-1] > track_conf[0]).all()


def test_output_sorted_by_tracker_id_whatever_the_input_order() -> None:
    tracker = Tracker()
    rng = np.random.default_rng(0)
    frames = walkers(10, n=5)
    for k, dets in enumerate(frames):
        perm = rng.permutation(len(dets)) if k else np.arange(len(dets))
        shuffled = dets[perm]
        out = tracker.update(shuffled)
        assert out.tracker_id.tolist() == sorted(out.tracker_id.tolist())
        # Identities follow the players, not the row order.
        assert ids_of(out, dets) == [1, 2, 3, 4, 5]


def test_empty_frames() -> None:
    tracker = Tracker()
    out = tracker.update(Detections.empty())
    assert len(out) == 0
    assert out.tracker_id is not None and out.tracker_id.shape == (0,)
    assert out.data["pitch_xy"].shape == (0, 2)
    assert out.data["predicted"].shape == (0,)
    tracker = Tracker()
    frames = walkers(6)
    for dets in frames[:3]:
        tracker.update(dets)
    # A blank frame in the middle: coasting rows only, then the same ids come back.
    out = tracker.update(Detections.empty())
    assert out.data["predicted"].all() and len(out) == 3
    assert np.isnan(out.confidence).all()
    for dets in frames[3:]:
        out = tracker.update(dets)
    assert ids_of(out, frames[-1]) == [1, 2, 3]


def test_empty_first_frame_then_players_start_as_tentative() -> None:
    # Only the very first frame confirms immediately: an empty first frame means the players
    # of the second frame wait for ``min_hits``.
    tracker = Tracker()
    tracker.update(Detections.empty())
    frames = walkers(3)
    assert len(tracker.update(frames[0])) == 0
    assert ids_of(tracker.update(frames[1]), frames[1]) == [1, 2, 3]


@pytest.mark.parametrize("conf", [None, np.nan])
def test_unknown_confidence_counts_as_one(conf: float | None) -> None:
    tracker = Tracker()
    for dets in walkers(5):
        dets = make_dets(dets.xyxy, conf=conf)
        out = tracker.update(dets)
        assert ids_of(out, dets) == [1, 2, 3]
        np.testing.assert_array_equal(out.confidence, np.ones(3, np.float32))


def test_class_id_none_tracks_as_players() -> None:
    tracker = Tracker()
    for dets in walkers(5):
        dets = make_dets(dets.xyxy, cls=None)
        out = tracker.update(dets)
        assert ids_of(out, dets) == [1, 2, 3]
        assert out.class_id is not None and out.class_id.tolist() == [PLAYER] * 3


@pytest.mark.parametrize("bad", [None, [[0, 0, 10, 10]], np.zeros((2, 4)), "dets"])
def test_update_rejects_non_detections(bad: object) -> None:
    with pytest.raises(TypeError, match="Detections"):
        Tracker().update(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "overrides",
    [
        {"low_threshold": 0.6, "high_threshold": 0.5},
        {"low_threshold": -0.1},
        {"high_threshold": 1.5},
        {"fps": 0.0},
        {"fps": -25.0},
        {"min_hits": 0},
        {"output_boxes": "smoothed"},
        {"fps": float("nan")},
        {"lost_seconds": -1.0},
        {"reid_seconds": float("nan")},
        {"coast_seconds": float("inf")},
    ],
)
def test_bad_config_raises(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TrackerConfig(**overrides)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Tracker(**overrides)
    with pytest.raises(ValueError):
        Tracker(TrackerConfig(fps=50.0), **overrides)


def test_config_overrides_apply_on_top_of_config() -> None:
    tracker = Tracker(TrackerConfig(fps=50.0, min_hits=3), coast_seconds=0)
    assert (tracker.config.fps, tracker.config.min_hits, tracker.config.coast_seconds) == (
        50.0,
        3,
        0,
    )


def test_durations_are_seconds_frames_follow_fps() -> None:
    at25, at50 = TrackerConfig(), TrackerConfig(fps=50.0)
    assert (at25.lost_frames, at25.reid_frames, at25.coast_frames) == (30, 250, 3)  # as before
    assert (at50.lost_frames, at50.reid_frames, at50.coast_frames) == (60, 500, 6)
    assert TrackerConfig(fps=30.0).lost_frames == 36
    with pytest.raises(ValueError, match="lost_seconds"):
        TrackerConfig(lost_seconds=-0.1)
    with pytest.raises(TypeError):
        TrackerConfig(lost_frames=30)  # type: ignore[call-arg]


def test_the_composed_ball_tracker_follows_the_tracker_fps() -> None:
    assert PeopleAndBallTracker(Tracker(fps=50.0)).ball.config.fps == 50.0


@pytest.mark.parametrize(
    "motion",
    [
        np.eye(2),
        np.eye(3)[:2],
        np.eye(4),
        np.ones(9),
        np.array([[1.0, 0, np.nan], [0, 1, 0], [0, 0, 1]]),
        np.array([[1.0, 0, np.inf], [0, 1, 0], [0, 0, 1]]),
    ],
)
def test_bad_motion_raises(motion: np.ndarray) -> None:
    tracker = Tracker()
    frames = walkers(2)
    tracker.update(frames[0])
    with pytest.raises(ValueError, match="motion"):
        tracker.update(frames[1], motion=motion)


def test_rejected_update_leaves_the_tracker_unchanged() -> None:
    tracker = Tracker()
    frames = walkers(2)
    with pytest.raises(ValueError):
        tracker.update(frames[0], motion=np.full((3, 3), np.nan))
    assert tracker.frame_index == 0
    out = tracker.update(frames[0])
    assert ids_of(out, frames[0]) == [1, 2, 3]


def test_call_is_update() -> None:
    a, b = Tracker(), Tracker()
    for dets in walkers(4):
        assert a(dets) == b.update(dets)


# ---- 2. lifecycle ----------------------------------------------------------------------------
def test_first_frame_confirms_immediately_later_tracks_need_min_hits() -> None:
    tracker = Tracker(min_hits=3)
    frames = walkers(8)
    newcomer = [box(900 + 2 * k, 400) for k in range(8)]
    seen = []
    for k, dets in enumerate(frames):
        rows = list(dets.xyxy) + ([newcomer[k]] if k >= 3 else [])
        d = make_dets(rows)
        out = tracker.update(d)
        assert ids_of(out, d)[:3] == [1, 2, 3], k  # confirmed on frame 1
        seen.append(ids_of(out, d)[3] if k >= 3 else None)
    # Enters on frame index 3, confirmed by its third consecutive match (frame index 5).
    assert seen[3:] == [-1, -1, 4, 4, 4]


@pytest.mark.parametrize("min_hits", [1, 2, 4])
def test_new_track_output_after_min_hits(min_hits: int) -> None:
    tracker = Tracker(min_hits=min_hits)
    tracker.update(walkers(1)[0])
    first_seen = None
    for k in range(6):
        d = make_dets([*walkers(1)[0].xyxy, box(900, 400)])
        if ids_of(tracker.update(d), d)[3] > 0 and first_seen is None:
            first_seen = k + 1  # matches so far
    assert first_seen == min_hits


def test_single_frame_false_positive_is_never_output() -> None:
    tracker = Tracker()
    frames = walkers(10)
    ghost = box(1000, 500)
    outputs = []
    for k, dets in enumerate(frames):
        d = make_dets([*dets.xyxy, ghost], conf=[0.9, 0.9, 0.9, 0.95]) if k == 4 else dets
        outputs.append(tracker.update(d))
        if k == 4:
            assert tracker.n_tracks == 4  # a tentative track was started ...
        if k == 5:
            assert tracker.n_tracks == 3  # ... and dropped on its first miss
    for out in outputs:
        assert set(out.tracker_id.tolist()) == {1, 2, 3}
        assert not (out.xyxy == np.float32(ghost)).all(axis=1).any()


def test_false_positive_on_the_first_frame_is_confirmed_immediately() -> None:
    ghost = box(1000, 500)
    frames = walkers(6)
    for max_coast in (0, 2):
        tracker = Tracker(coast_seconds=max_coast / 25)
        d0 = make_dets([*frames[0].xyxy, ghost])
        assert ids_of(tracker.update(d0), d0) == [1, 2, 3, 4]
        for k, dets in enumerate(frames[1:], start=1):
            out = tracker.update(dets)
            ghost_rows = out.tracker_id == 4
            # After frame 1 the ghost is at most a coasting (predicted) row.
            assert ghost_rows.sum() == (1 if k <= max_coast else 0)
            assert out.data["predicted"][ghost_rows].all()


@pytest.mark.parametrize("gap", [1, 4, 8])
def test_short_miss_keeps_id(gap: int) -> None:
    tracker = Tracker()
    frames = walkers(30)
    ids = []
    for k, dets in enumerate(frames):
        d = dets[[0, 2]] if 10 <= k < 10 + gap else dets
        out = tracker.update(d)
        if not 10 <= k < 10 + gap:
            ids.append(ids_of(out, d))
    assert all(row == [1, 2, 3] for row in ids)
    assert tracker.n_tracks == 3


def test_static_player_missing_almost_lost_frames_keeps_id() -> None:
    tracker = Tracker(lost_seconds=1.2)
    d_all = make_dets([box(100, 300), box(400, 300), box(700, 300)])
    tracker.update(d_all)
    for _ in range(30):
        tracker.update(d_all[[0, 2]])
    assert ids_of(tracker.update(d_all), d_all) == [1, 2, 3]


def test_long_miss_gets_new_id_and_n_tracks_shrinks() -> None:
    tracker = Tracker(lost_seconds=0.2)
    d_all = make_dets([box(100, 300), box(400, 300), box(700, 300)])
    tracker.update(d_all)
    counts = [tracker.n_tracks]
    for _ in range(8):
        tracker.update(d_all[[0, 2]])
        counts.append(tracker.n_tracks)
    # Kept while missed <= lost_frames (5), removed on the 6th miss.
    assert counts == [3, 3, 3, 3, 3, 3, 2, 2, 2]
    # Back: a new, tentative track (not output on its first frame), then id 4.
    assert ids_of(tracker.update(d_all), d_all) == [1, -1, 3]
    assert ids_of(tracker.update(d_all), d_all) == [1, 4, 3]


def test_max_coast_outputs_predicted_rows_up_to_max_coast() -> None:
    tracker = Tracker(coast_seconds=0.08)
    frames = walkers(16, speed=1.5)
    coasted = []
    for k, dets in enumerate(frames):
        d = dets[[0, 2]] if 6 <= k < 11 else dets
        out = tracker.update(d)
        pred = out.data["predicted"]
        if 6 <= k < 11:
            assert ids_of(out, d) == [1, 3]
            coasted.append(out.tracker_id[pred].tolist())
            if pred.any():
                assert np.isnan(out.confidence[pred]).all()
                assert np.isfinite(out.confidence[~pred]).all()
                # Predicted box near the true (unseen) one, since it keeps walking.
                truth = frames[k].xyxy[1]
                assert np.abs(out.xyxy[pred][0] - truth).max() < 6.0
                assert out.data["track_confidence"][pred][0] < out.data["track_confidence"][0]
        else:
            assert not pred.any()
            assert ids_of(out, d) == [1, 2, 3]
        assert out.tracker_id.tolist() == sorted(out.tracker_id.tolist())
    assert coasted == [[2], [2], [], [], []]


def test_max_coast_zero_outputs_measurements_only() -> None:
    tracker = Tracker(coast_seconds=0)
    for k, dets in enumerate(walkers(12)):
        out = tracker.update(dets[[0, 2]] if 4 <= k < 8 else dets)
        assert not out.data["predicted"].any()
        assert len(out) == (2 if 4 <= k < 8 else 3)


# ---- 3. two-stage association ----------------------------------------------------------------
def test_low_score_detection_extends_a_track() -> None:
    tracker = Tracker()
    frames = walkers(20)
    for k, dets in enumerate(frames):
        low = 6 <= k < 14
        conf = [0.9, 0.3, 0.9] if low else 0.9
        d = make_dets(dets.xyxy, conf=conf)
        out = tracker.update(d)
        assert ids_of(out, d) == [1, 2, 3], k
        if low:
            assert out.confidence[out.tracker_id == 2][0] == pytest.approx(0.3)
    assert tracker.n_tracks == 3


@pytest.mark.parametrize("score", [0.05, 0.3, 0.55])
def test_low_score_detection_never_starts_a_track(score: float) -> None:
    # Below ``new_track_threshold`` (0.6): ignored (< low), low stage only (< high), or high
    # but not strong enough to start a track, on the first frame as on the others.
    tracker = Tracker()
    weak = box(1000, 500)
    for dets in walkers(10):
        d = make_dets([*dets.xyxy, weak], conf=[0.9, 0.9, 0.9, score])
        out = tracker.update(d)
        assert ids_of(out, d) == [1, 2, 3, -1]
        assert tracker.n_tracks == 3


def test_low_score_detection_does_not_revive_a_missed_track() -> None:
    # The low stage only extends tracks seen on the previous frame.
    tracker = Tracker(coast_seconds=0)
    d_all = make_dets([box(100, 300), box(400, 300), box(700, 300)])
    tracker.update(d_all)
    tracker.update(d_all[[0, 2]])
    weak = make_dets(d_all.xyxy, conf=[0.9, 0.3, 0.9])
    assert ids_of(tracker.update(weak), weak) == [1, -1, 3]
    assert ids_of(tracker.update(d_all), d_all) == [1, 2, 3]


# ---- 4. crossings ----------------------------------------------------------------------------
@pytest.mark.parametrize("dy", [0.0, 8.0, 20.0])
@pytest.mark.parametrize("speed", [2.0, 6.0])
def test_crossing_in_image_space_keeps_ids(dy: float, speed: float) -> None:
    n = 40
    frames = [
        make_dets([box(200 + speed * k, 300), box(200 + speed * (n - 1 - k), 300 + dy)])
        for k in range(n)
    ]
    ids = track_ids(Tracker(), frames)
    assert (ids[:, 0] == 1).all() and (ids[:, 1] == 2).all(), ids.T


def _meet_and_turn_back(n: int = 50) -> list[tuple[float, float]]:
    """Lateral positions of two players approaching each other at 5 m/s: they meet in the
    middle and both turn back."""
    out = []
    for k in range(n):
        s = 5.0 / 25 * (n / 2 - abs(n / 2 - k))
        out.append((-5.0 + s, 5.0 - s))
    return out


def test_crossing_at_different_depths_keeps_ids_in_pitch_mode() -> None:
    # Their boxes overlap heavily when they meet (IoU ~0.6), and they turn back: an image
    # tracker follows the velocities and swaps them (it does on this scene), the pitch tracker
    # sees two players 3 m apart in depth.
    cal = perspective()
    dy = 3.0
    path = _meet_and_turn_back()
    frames = [
        make_dets([pitch_box(cal, xa, 30.0), pitch_box(cal, xb, 30.0 + dy)]) for xa, xb in path
    ]
    meet = frames[len(frames) // 2].xyxy

    assert box_iou(meet[:1], meet[1:])[0, 0] > 0.5
    tracker = Tracker()
    pitch_xy = []
    ids = []
    for dets in frames:
        out = tracker.update(dets, cal)
        ids.append(ids_of(out, dets))
        pitch_xy.append(out.data["pitch_xy"])
    ids_arr = np.array(ids)
    assert (ids_arr[:, 0] == 1).all() and (ids_arr[:, 1] == 2).all(), ids_arr.T
    # Each track stays on its own depth line.
    depth = np.array([p[:, 1] for p in pitch_xy])
    assert np.abs(depth[:, 0] - 30.0).max() < 1.0
    assert np.abs(depth[:, 1] - 33.0).max() < 1.0


# ---- 5. camera motion ------------------------------------------------------------------------
PAN = 40.0  # px per frame, two box widths: no overlap at all between successive frames


def _pan_scene(n_frames: int = 20) -> tuple[list[Detections], list[np.ndarray | None]]:
    """Five players walking slowly while the camera pans fast: every box moves ~40 px left
    per frame. Returns the frames and the camera motions (previous -> current pixels)."""
    base = np.array([[300.0, 300.0], [450.0, 320.0], [600.0, 310.0], [750.0, 330.0], [900, 305]])
    vx = np.array([0.5, -0.5, 1.0, 0.0, -1.0])
    frames = [
        make_dets([box(x - PAN * k + vx[i] * k, y) for i, (x, y) in enumerate(base)])
        for k in range(n_frames)
    ]
    shift = np.array([[1.0, 0.0, -PAN], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return frames, [None] + [shift] * (n_frames - 1)


def test_fast_pan_with_given_motion_keeps_ids() -> None:
    frames, motions = _pan_scene()
    ids = track_ids(Tracker(ego_motion=False), frames, motions=motions)
    assert (ids == np.arange(1, 6)).all(), ids


def test_fast_pan_without_motion_keeps_ids_by_ego_motion() -> None:
    frames, _ = _pan_scene()
    tracker = Tracker(ego_motion=True)
    ids = track_ids(tracker, frames)
    assert (ids == np.arange(1, 6)).all(), ids
    assert tracker.n_tracks == 5
    # Without ego-motion the same pan breaks the tracks: no overlap with any prediction, so
    # fresh tentative tracks on every frame that never get confirmed, and stale tracks that
    # grab the wrong player when he pans into their old place (here 94 ids, 6 id changes,
    # 11 of 100 rows output of which 5 right).
    blind = Tracker(ego_motion=False)
    ids_blind = track_ids(blind, frames)
    truth = np.broadcast_to(np.arange(1, 6), ids_blind.shape)
    assert (ids_blind == truth).mean() < 0.2
    assert id_changes(ids_blind) > id_changes(ids) == 0
    assert (ids_blind[1:] > 0).sum() > 0  # ... and the rows it outputs have wrong ids:
    assert (ids_blind[1:][ids_blind[1:] > 0] != truth[1:][ids_blind[1:] > 0]).all()


def test_zoom_with_given_motion_keeps_ids() -> None:
    # The camera zooms in by 6 % per frame around the image centre: boxes grow and spread.
    c = np.array([640.0, 360.0])
    zoom = 1.06
    G = np.array([[zoom, 0, (1 - zoom) * c[0]], [0, zoom, (1 - zoom) * c[1]], [0, 0, 1.0]])
    feet = np.array([[400.0, 300.0], [560.0, 420.0], [760.0, 380.0], [900.0, 330.0]])
    frames, motions = [], []
    for k in range(10):
        s = zoom**k
        f = c + (feet - c) * s
        frames.append(make_dets([box(x, y, BOX_W * s, BOX_H * s) for x, y in f]))
        motions.append(G if k else None)
    assert (track_ids(Tracker(ego_motion=False), frames, motions=motions) == np.arange(1, 5)).all()


def test_pan_in_pitch_mode_from_successive_calibrations() -> None:
    # No motion given: the camera motion is implied by two successive calibrations.
    tracker = Tracker(ego_motion=False)
    positions = np.array([[-6.0, 25.0], [-2.0, 35.0], [3.0, 28.0], [7.0, 40.0]])
    prev_feet = np.zeros((4, 2))
    for k in range(20):
        cal = perspective(xc=0.8 * k)  # ~28 px per frame at 30 m
        dets = make_dets([pitch_box(cal, x, y) for x, y in positions])
        out = tracker.update(dets, cal)
        assert ids_of(out, dets) == [1, 2, 3, 4], k
        np.testing.assert_allclose(out.data["pitch_xy"], positions, atol=0.3)
        if k:
            # The implied motion maps the previous frame's feet onto this frame's.
            G = tracker.last_motion
            assert G is not None
            q = np.c_[prev_feet, np.ones(len(prev_feet))] @ G.T
            np.testing.assert_allclose(q[:, :2] / q[:, 2:], dets.foot_points, atol=0.01)
        prev_feet = dets.foot_points.astype(np.float64)


def _textured_plate(width: int = 2080, height: int = 480) -> np.ndarray:
    """A grass-like BGR plate with blocky texture that camera motion can be measured on."""
    g = (np.random.default_rng(2).random((height // 8, width // 8)) * 50).astype(np.uint8)
    return np.kron(np.dstack([g + 30, g + 120, g + 40]), np.ones((8, 8, 1), np.uint8))


def on_frame(tracker: Tracker, camera: CameraMotionOnly, dets: Detections, image) -> Detections:
    """The tracker fed the camera motion and cuts measured on the frame, composed beside it."""
    step = camera.update(image)
    return tracker.update(dets, step.calibration, image, motion=step.motion)


def test_fast_pan_measured_on_frames_keeps_ids() -> None:
    # No ego-motion: the pan is measured on the frames themselves, beside the tracker.
    plate = _textured_plate()
    frames, _ = _pan_scene()
    tracker, camera = Tracker(ego_motion=False), CameraMotionOnly()
    for k, dets in enumerate(frames):
        view = plate[:, int(PAN) * k : int(PAN) * k + 1280]
        out = on_frame(tracker, camera, dets, view)
        assert ids_of(out, dets) == [1, 2, 3, 4, 5], k
        assert not tracker.last_cut
        if k:
            assert tracker.last_motion is not None
            np.testing.assert_allclose(tracker.last_motion[0, 2], -PAN, atol=1.0)


# ---- 6. cuts ---------------------------------------------------------------------------------
def test_cut_in_image_mode_resets_image_states() -> None:
    # Same boxes before and after the cut: without a calibration nothing ties them together.
    tracker = Tracker(coast_seconds=0.12)
    d = make_dets([box(100, 300), box(400, 300), box(700, 300)])
    for _ in range(5):
        assert ids_of(tracker.update(d), d) == [1, 2, 3]
    out = tracker.update(d, Calibration.uncalibrated(cut=True))
    assert tracker.last_cut
    assert len(out) == 0  # no coasting of the old tracks, the new ones are tentative
    assert ids_of(tracker.update(d), d) == [4, 5, 6]
    assert not tracker.last_cut


def test_cut_in_pitch_mode_keeps_ids_by_pitch_positions() -> None:
    # The director switches to another camera (other position and focal length): every box
    # jumps hundreds of pixels, the players keep running smoothly on the pitch.
    tracker = Tracker(output_boxes="filtered", coast_seconds=0.12)
    start = np.array([[-8.0, 22.0], [-3.0, 30.0], [2.0, 26.0], [6.0, 38.0], [10.0, 33.0]])
    vel = np.array([[4.0, 0.0], [-3.0, 1.0], [0.0, -2.0], [5.0, 2.0], [-2.0, -3.0]]) / 25.0
    before = perspective()
    prev_boxes = np.zeros((5, 4), np.float32)
    for k in range(30):
        cut = k == 15
        cal = before if k < 15 else perspective(xc=9.0, f=1500.0, cut=cut)
        f = F if k < 15 else 1500.0
        pos = start + vel * k
        dets = make_dets([pitch_box(cal, x, y, f) for x, y in pos])
        out = tracker.update(dets, cal)
        assert out.tracker_id.tolist() == [1, 2, 3, 4, 5], k
        # Row order is the input order here (ids 1..5 were given in that order).
        np.testing.assert_allclose(out.data["pitch_xy"], pos, atol=0.5)
        if cut:
            assert tracker.last_cut
            moved = np.abs(dets.xyxy - prev_boxes).max()
            assert moved > 100  # the image boxes jumped ...
            # ... and the image filters restarted from the new boxes (not a blend with the
            # old ones): filtered output boxes are the measured ones.
            np.testing.assert_allclose(out.xyxy, dets.xyxy, atol=1e-3)
            assert not out.data["predicted"].any()
        prev_boxes = dets.xyxy


def test_cut_detected_on_frames() -> None:
    plate = _textured_plate()
    crowd = np.random.default_rng(5).integers(0, 255, (480, 1280, 3), dtype=np.uint8)
    d = make_dets([box(100, 300), box(400, 300), box(700, 300)])
    tracker, camera = Tracker(coast_seconds=0.12), CameraMotionOnly()
    for _ in range(3):
        assert ids_of(on_frame(tracker, camera, d, plate[:, :1280]), d) == [1, 2, 3]
    out = on_frame(tracker, camera, d, crowd)
    assert tracker.last_cut and tracker.last_motion is None
    # The image states are gone: no coasting rows of the old tracks.
    assert not out.data["predicted"].any()


# ---- 7. re-identification --------------------------------------------------------------------
def _reid_scene(returner_kit: np.ndarray, gap: int) -> tuple[np.ndarray, list[int]]:
    """Four players on the pitch (kits A, A, B, B), each with his kit as embedding; player 0
    leaves the view for ``gap`` frames and someone wearing ``returner_kit`` comes back where
    he left. Returns the ids of every row per frame and the ids in the last frame."""
    cal = perspective()
    pos = np.array([[-6.0, 28.0], [0.0, 36.0], [4.0, 24.0], [9.0, 32.0]])
    kits = np.stack([KIT_A, KIT_A, KIT_B, KIT_B])
    tracker = Tracker(lost_seconds=0.2, reid_seconds=2.0)
    rows = []
    for k in range(10 + gap + 10):
        emb = kits.copy()
        present = np.ones(4, bool)
        if 10 <= k < 10 + gap:
            present[0] = False
        elif k >= 10 + gap:
            emb[0] = returner_kit
        p = pos + np.array([0.02, 0.0]) * k  # a slow drift: he comes back near where he left
        dets = make_dets([pitch_box(cal, x, y) for x, y in p], emb=emb)[present]
        ids = ids_of(tracker.update(dets, cal), dets)
        full = [-2] * 4
        for j, i in zip(np.flatnonzero(present), ids, strict=True):
            full[j] = i
        rows.append(full)
    return np.array(rows), rows[-1]


def test_reid_same_kit_gets_the_old_id_back() -> None:
    # Lost for 20 frames: beyond lost_frames (5), within reid_frames (50).
    ids, last = _reid_scene(KIT_A, gap=20)
    assert last == [1, 2, 3, 4]
    # Back under his old id from his first frame back, no new id in between.
    assert ids[30].tolist() == [1, 2, 3, 4]
    assert set(ids.ravel().tolist()) <= {-2, 1, 2, 3, 4}


def test_reid_other_kit_does_not_take_the_old_id() -> None:
    ids, last = _reid_scene(KIT_B, gap=20)
    assert last[1:] == [2, 3, 4]
    assert last[0] not in (-1, 1, 2, 3, 4)  # a new track (confirmed after min_hits)
    assert ids[30, 0] == -1  # tentative on its first frame
    assert 1 not in ids[30:, 0]


def test_no_reid_beyond_reid_frames() -> None:
    _, last = _reid_scene(KIT_A, gap=60)
    assert last[0] == 5 and last[1:] == [2, 3, 4]


def _border_return(**config: float) -> np.ndarray:
    """Player 0 stands by the right border, leaves the view for 20 frames and walks back in:
    for his first 3 frames back his box is cut by the border and its appearance (half
    advertising board) looks like nobody's. Returns the ids of every row per frame."""
    from dataclasses import replace

    cal = replace(perspective(), image_size=(1280, 720))
    pos = np.array([[21.0, 28.0], [-6.0, 36.0], [-2.0, 24.0]])
    kits = np.stack([KIT_A, KIT_A, KIT_B])
    tracker = Tracker(lost_seconds=0.2, reid_seconds=2.0, **config)
    rows = []
    for k in range(40):
        b = np.array([pitch_box(cal, x, y) for x, y in pos])
        emb = kits.copy()
        present = np.ones(3, bool)
        if 10 <= k < 30:
            present[0] = False
        elif 30 <= k < 33:  # coming back in: cut by the border
            b[0, 0] += 30.0
            b[0, 2] = 1280.0
            emb[0] = unit(0.2, 1.0, 0.5, 0.3)
        dets = make_dets(b, emb=emb)[present]
        ids = ids_of(tracker.update(dets, cal), dets)
        full = [-2] * 3
        for j, i in zip(np.flatnonzero(present), ids, strict=True):
            full[j] = i
        rows.append(full)
    return np.array(rows)


def test_player_coming_back_through_the_border_gets_his_old_id() -> None:
    ids = _border_return()
    assert (ids[30:] == [1, 2, 3]).all(), ids[28:]
    # Judged by appearance, the cut boxes look like a stranger: a new identity appears.
    ids = _border_return(border_margin=-1e9)
    assert set(ids[30:, 0].tolist()) - {-1, 1}, ids[28:]


def test_returning_player_is_not_kept_by_the_tentative_track_started_for_him() -> None:
    # His first frame back fails re-identification (a blurred appearance) and starts a
    # tentative track; on the next frame he is recognised: the old identity wins and the
    # tentative one is never output.
    cal = perspective()
    pos = np.array([[-6.0, 28.0], [0.0, 36.0], [4.0, 24.0]])
    kits = np.stack([KIT_A, KIT_A, KIT_B])
    tracker = Tracker(lost_seconds=0.2, reid_seconds=2.0)
    seen = []
    for k in range(40):
        emb = kits.copy()
        present = np.ones(3, bool)
        if 10 <= k < 30:
            present[0] = False
        elif k == 30:
            emb[0] = unit(0.2, 1.0, 0.5, 0.3)
        dets = make_dets([pitch_box(cal, x, y) for x, y in pos], emb=emb)[present]
        ids = ids_of(tracker.update(dets, cal), dets)
        if k >= 30:
            seen.append(ids[0])
    assert seen == [-1] + [1] * 9


def test_embeddings_are_output_as_unit_vectors() -> None:
    tracker = Tracker()
    d = make_dets([box(100, 300), box(400, 300)], emb=np.stack([KIT_A, KIT_B]))
    for _ in range(3):
        out = tracker.update(d)
    assert out.embedding is not None and out.embedding.shape == (2, 4)
    np.testing.assert_allclose(np.linalg.norm(out.embedding, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out.embedding, np.stack([KIT_A, KIT_B]), atol=1e-5)


def _kit_frame(players: list[tuple[float, float, tuple[int, int, int]]]) -> np.ndarray:
    """A grass-green BGR frame with solid-colour player boxes ``(cx, foot_y, colour)``."""
    img = np.zeros((720, 1280, 3), np.uint8)
    img[:] = (40, 130, 50)
    for cx, fy, colour in players:
        x1, y1, x2, y2 = (round(v) for v in box(cx, fy))
        img[y1:y2, x1 + 3 : x2 - 3] = colour
    return img


RED, WHITE = (30, 30, 200), (240, 240, 240)


@pytest.mark.parametrize("returner", [RED, WHITE])
def test_reid_from_frame_features_in_image_mode(returner: tuple[int, int, int]) -> None:
    # No embeddings and no calibration: appearance comes from the frames (kit colours). The
    # red player is away for 12 frames (lost_frames 5); a red or a white player comes back.
    tracker = Tracker(lost_seconds=0.2, reid_seconds=2.0)
    players = [(200.0, 300.0, RED), (600.0, 320.0, WHITE), (1000.0, 310.0, WHITE)]
    back = [(200.0, 300.0, returner), *players[1:]]
    first_back = []
    for k in range(26):
        here = players if k < 8 else players[1:] if k < 20 else back
        d = make_dets([box(cx, fy) for cx, fy, _ in here])
        out = tracker.update(d, None, _kit_frame(here))
        assert out.embedding is not None and out.embedding.shape[0] == len(out)
        ids = ids_of(out, d)
        assert ids[-2:] == [2, 3], k
        if k < 8:
            assert ids == [1, 2, 3]
        elif k >= 20:
            first_back.append(ids[0])
    if returner == RED:
        assert first_back == [1] * 6
    else:
        assert first_back == [-1] + [4] * 5


# ---- 8. pitch output -------------------------------------------------------------------------
def test_pitch_xy_is_a_filtered_estimate_in_pitch_mode_and_nan_in_image_mode() -> None:
    cal = perspective()
    rng = np.random.default_rng(1)
    start = np.array([[-10.0, 22.0], [0.0, 30.0], [8.0, 40.0]])
    vel = np.array([[5.0, 0.0], [0.0, 3.0], [-4.0, -2.0]]) / 25.0
    pitch_tr, image_tr, uncal_tr = Tracker(), Tracker(), Tracker()
    err_meas, err_out = [], []
    for k in range(40):
        truth = start + vel * k
        noisy = truth + rng.normal(0.0, 0.25, truth.shape)  # noisy foot points
        dets = make_dets([pitch_box(cal, x, y) for x, y in noisy])
        out = pitch_tr.update(dets, cal)
        assert ids_of(out, dets) == [1, 2, 3]
        xy = out.data["pitch_xy"]
        assert xy.shape == (3, 2) and np.isfinite(xy).all()
        if k >= 10:
            err_meas.append(np.linalg.norm(noisy - truth, axis=1))
            err_out.append(np.linalg.norm(xy - truth, axis=1))
        clean = make_dets([pitch_box(cal, x, y) for x, y in truth])
        for tr, c in ((image_tr, None), (uncal_tr, Calibration.uncalibrated())):
            o = tr.update(clean, c)
            assert ids_of(o, clean) == [1, 2, 3]
            assert o.data["pitch_xy"].shape == (3, 2) and np.isnan(o.data["pitch_xy"]).all()
    err_out_a, err_meas_a = np.concatenate(err_out), np.concatenate(err_meas)
    assert err_out_a.max() < 0.6
    # Filtered: closer to the truth than the raw measurements on average.
    assert err_out_a.mean() < 0.8 * err_meas_a.mean()


# ---- 9. ball ---------------------------------------------------------------------------------
def _ball_box(cx: float, cy: float) -> list[float]:
    return [cx - 5, cy - 5, cx + 5, cy + 5]


def test_ball_is_routed_to_the_ball_tracker() -> None:
    cal = perspective()
    tracker = PeopleAndBallTracker()
    kits = np.stack([KIT_A, KIT_A, KIT_B])
    for k in range(12):
        players = walkers(12)[k]
        ball = _ball_box(500 + 6 * k, 400 - 2 * k)
        rows = [*players.xyxy, ball]
        emb = np.vstack([kits, unit(0, 0, 0, 1)])
        dets = make_dets(rows, conf=[0.9, 0.9, 0.9, 0.8], cls=[0, 0, 0, BALL], emb=emb)
        # The ball row comes first in the input; it is last in the output.
        dets = dets[[3, 0, 1, 2]]
        out = tracker.update(dets, cal)
        assert len(out) == 4
        assert out.tracker_id.tolist() == [1, 2, 3, BALL_TRACK_ID]
        assert out.class_id.tolist() == [0, 0, 0, BALL]
        np.testing.assert_array_equal(out.xyxy[3], np.float32(ball))
        # Fields consistent over all rows, embeddings included.
        assert out.embedding is not None and out.embedding.shape == (4, 4)
        np.testing.assert_allclose(out.embedding[:3], kits, atol=1e-5)
        assert set(out.data) == {"pitch_xy", "track_confidence", "predicted"}
        for v in out.data.values():
            assert len(v) == 4
        assert np.isfinite(out.data["pitch_xy"]).all()  # the ball's centre on the pitch too
        assert not out.data["predicted"].any()
        assert tracker.people.n_tracks == 3  # the ball is not a player track


def test_ball_rows_never_get_player_ids() -> None:
    # Many ball candidates (true ball and false positives), every frame: none of them becomes a
    # player track, and at most one row is output as the ball.
    tracker = PeopleAndBallTracker()
    rng = np.random.default_rng(3)
    for k, players in enumerate(walkers(15)):
        cands = [_ball_box(400 + 5 * k, 450)] + [
            _ball_box(*rng.uniform([50, 50], [1200, 650])) for _ in range(3)
        ]
        dets = make_dets(
            [*players.xyxy, *cands], conf=[0.9] * 3 + [0.9, 0.7, 0.7, 0.7], cls=[0] * 3 + [3] * 4
        )
        out = tracker.update(dets)
        is_ball = out.class_id == BALL
        assert is_ball.sum() <= 1
        assert (out.tracker_id[is_ball] == BALL_TRACK_ID).all()
        assert (out.tracker_id[~is_ball] >= 1).all()
        assert out.tracker_id[~is_ball].tolist() == [1, 2, 3]
        assert out.embedding is None
        assert tracker.people.n_tracks == 3


def test_ball_only_frames_and_a_person_tracker_alone_drops_balls() -> None:
    dets = make_dets([_ball_box(300, 300)], conf=0.9, cls=BALL)
    out = PeopleAndBallTracker().update(dets)
    assert out.tracker_id.tolist() == [BALL_TRACK_ID] and out.class_id.tolist() == [BALL]
    off = Tracker()
    for players in walkers(3):
        d = make_dets([*players.xyxy, _ball_box(300, 300)], cls=[0, 0, 0, BALL])
        out = off.update(d)
        assert out.tracker_id.tolist() == [1, 2, 3]
        assert BALL not in out.class_id


# ---- 10. determinism -------------------------------------------------------------------------
def _busy_scene() -> tuple[list[Detections], list[Calibration | None]]:
    rng = np.random.default_rng(7)
    frames, cals = [], []
    for k, d in enumerate(walkers(25, n=6)):
        keep = rng.random(6) > 0.15
        conf = rng.uniform(0.2, 1.0, 6).astype(np.float32)
        emb = np.stack([KIT_A, KIT_B] * 3) + rng.normal(0, 0.05, (6, 4))
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        rows = [*d.xyxy, _ball_box(300 + 4 * k, 500)]
        dets = make_dets(
            rows, conf=[*conf, 0.8], cls=[0] * 6 + [BALL], emb=np.vstack([emb, emb[:1]])
        )
        frames.append(dets[np.append(keep, True)])
        cals.append(perspective(cut=k == 12) if k % 9 else None)
    return frames, cals


def test_same_inputs_same_outputs_and_reset_restarts_ids() -> None:
    frames, cals = _busy_scene()

    def run(tracker: Tracker) -> list[Detections]:
        return [tracker.update(d, c) for d, c in zip(frames, cals, strict=True)]

    tracker = Tracker()
    first = run(tracker)
    second = run(Tracker())
    assert all(a == b for a, b in zip(first, second, strict=True))
    assert max(int(o.tracker_id.max(initial=0)) for o in first) >= 6
    tracker.reset()
    assert tracker.frame_index == 0 and tracker.n_tracks == 0
    again = run(tracker)
    assert all(a == b for a, b in zip(first, again, strict=True))
    assert first[0].tracker_id[first[0].class_id != BALL].min() == 1


# ---- 11. class votes -------------------------------------------------------------------------
def test_class_is_the_majority_vote_of_the_track() -> None:
    tracker = Tracker()
    classes = []
    for k, players in enumerate(walkers(20)):
        # Player 2 is a referee, misclassified as a player on his first frame and every 4th.
        ref_cls = PLAYER if k % 4 == 0 else REFEREE
        d = make_dets(players.xyxy, cls=[PLAYER, ref_cls, PLAYER])
        out = tracker.update(d)
        assert ids_of(out, d) == [1, 2, 3]
        classes.append(out.class_id.tolist())
    assert classes[0] == [PLAYER, PLAYER, PLAYER]
    assert all(c == [PLAYER, REFEREE, PLAYER] for c in classes[2:])


def test_class_ids_beyond_the_default_classes_are_kept() -> None:
    names = ("player", "goalkeeper", "referee", "ball", "staff")
    tracker = Tracker()
    for players in walkers(4):
        d = Detections(
            xyxy=players.xyxy, confidence=[0.9] * 3, class_id=[0, 4, 2], class_names=names
        )
        out = tracker.update(d)
        assert out.class_names == names
        assert out.class_id.tolist() == [0, 4, 2]


# ---- appearance arriving after the first frame -----------------------------------------------
def test_embeddings_arriving_after_the_first_frame_are_used() -> None:
    cal = perspective()
    pos = np.array([[-6.0, 28.0], [0.0, 36.0], [4.0, 24.0]])
    kits = np.stack([KIT_A, KIT_A, KIT_B])
    tracker = Tracker(lost_seconds=0.2, reid_seconds=2.0)
    for k in range(40):
        present = np.array([not 10 <= k < 25, True, True])
        d = make_dets([pitch_box(cal, x, y) for x, y in pos], emb=None if k == 0 else kits)
        out = tracker.update(d[present], cal)
        if k:
            assert out.embedding is not None, k
            measured = ~out.data["predicted"]  # coasted rows carry a zero embedding
            norms = np.linalg.norm(out.embedding, axis=1)
            np.testing.assert_allclose(norms[measured], 1.0, atol=1e-5)
            assert (norms[~measured] == 0).all()
    # Player 1 was away 15 frames (> lost_frames, < reid_frames): re-identified.
    assert ids_of(out, d) == [1, 2, 3]


def test_a_settled_kit_is_never_matched_to_the_other_kit() -> None:
    def det(x: float, kit: int) -> Detections:
        return Detections(
            xyxy=[[x, 50, x + 20, 100]], confidence=[0.9], class_id=[0], data={"kit": [kit]}
        )

    for kit_after, same_id in ((0, True), (-1, True), (1, False)):
        tracker = Tracker()
        for k in range(8):  # kit 0 seen 8 times: settled
            first = tracker.update(det(100 + k, 0))
        assert first.tracker_id.tolist() == [1]
        later = [tracker.update(det(108 + k, kit_after)) for k in range(3)][-1]
        assert (later.tracker_id.tolist() == [1]) is same_id, kit_after
