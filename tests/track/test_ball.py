"""Ball tracker (touchline.track.ball): candidate choice, jumps, loss, view, cuts, camera motion,
and the offline gap filling of the ball track."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from touchline.errors import DataError
from touchline.track.ball import (
    BALL_TRACK_ID,
    BallConfig,
    BallTracker,
    BallTrackState,
    interpolate_ball,
)
from touchline.tracks import Tracks, TracksBuilder
from touchline.types import Calibration, Detections, ObjectClass

W, H = 1280, 720


def ball_dets(
    centres: list[tuple[float, float]] | np.ndarray,
    scores: list[float] | np.ndarray,
    half: float = 5.0,
    class_id: int = 3,
) -> Detections:
    """Square candidate boxes of half-size ``half`` around ``centres``."""
    c = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    boxes = np.column_stack([c - half, c + half]) if len(c) else np.empty((0, 4))
    return Detections(xyxy=boxes, confidence=scores, class_id=[class_id] * len(c))


def scale_calibration(px_per_m: float, pan_px: float = 0.0, *, cut: bool = False) -> Calibration:
    """A top-down camera: ``px_per_m`` pixels per metre, the view panned by ``pan_px`` pixels."""
    pitch_to_image = np.array([[px_per_m, 0, -pan_px], [0, px_per_m, 0], [0, 0, 1]], float)
    return Calibration.from_pitch_to_image(pitch_to_image, image_size=(W, H), cut=cut)


def track_ball(tracker: BallTracker, n: int, start=(300.0, 360.0), step=(6.0, 0.0), score=0.8):
    """Feed ``n`` frames of a ball rolling from ``start`` by ``step`` px per frame."""
    outs = []
    for k in range(n):
        c = (start[0] + step[0] * k, start[1] + step[1] * k)
        outs.append(tracker.update(ball_dets([c], [score])))
    return outs


# --------------------------------------------------------------------------------------------
# Synthetic broadcast clip: the true ball plus false positives (heads, feet, clutter, penalty
# spot), missed detections, noise; cameras from touchline.synth (a camera following the ball).
# --------------------------------------------------------------------------------------------


@dataclass
class Clip:
    detections: list[Detections]
    truth: list[int]  # row of the true ball in each frame, -1 when not detected
    calibrations: list[Calibration]
    motions: list[np.ndarray | None]


@pytest.fixture(scope="module")
def clip() -> Clip:
    from touchline.synth import SynthConfig, Synthesizer

    size = (960, 540)
    syn = Synthesizer(SynthConfig(seconds=6.0, fps=25, size=size, camera="builtin", seed=3))
    scene, bi = syn.scene, syn.scene.ball_index
    assert bi is not None
    rng = np.random.default_rng(0)
    people = [i for i, a in enumerate(scene.actors) if a.role != ObjectClass.BALL]
    out = Clip([], [], [], [])
    for k, cam in enumerate(syn.cameras):
        x, y = scene.xy[k, bi]
        ball = [[x, y, -(scene.z[k, bi] + 0.11)]]
        centre = cam.project(ball)[0]
        radius = max(cam.focal * 0.11 / cam.depth(ball)[0], 1.5)
        boxes, scores, truth = [], [], -1
        inside = 0 <= centre[0] < size[0] and 0 <= centre[1] < size[1]
        hidden = 60 <= k < 68  # occluded for 8 frames
        if inside and not hidden and rng.random() > 0.15:  # and 15 % missed
            c = centre + rng.normal(0, 0.15 * radius, 2)
            r = radius * rng.uniform(0.9, 1.3)
            truth = 0
            boxes.append([*(c - r), *(c + r)])
            scores.append(rng.uniform(0.25, 0.9))
        xy = scene.xy[k, people]
        heights = np.array([scene.actors[i].height for i in people])
        spots = np.vstack(
            [
                cam.project(np.column_stack([xy, -0.93 * heights])),  # heads
                cam.project(np.column_stack([xy, np.full(len(xy), -0.1)])),  # feet
            ]
        )
        spots = spots[(spots >= 0).all(axis=1) & (spots < size).all(axis=1)]
        if rng.random() < 0.3:  # a boot of the player nearest the ball
            near = people[int(np.argmin(np.hypot(*(xy - scene.xy[k, bi]).T)))]
            boot = cam.project([[*(scene.xy[k, near] + rng.normal(0, 0.3, 2)), -0.1]])[0]
            boxes.append([*(boot - radius), *(boot + radius)])
            scores.append(rng.uniform(0.1, 0.45))
        for _ in range(rng.poisson(1.5)):
            use_spot = len(spots) and rng.random() < 0.7
            p = spots[rng.integers(len(spots))] if use_spot else rng.uniform((0, 0), size)
            r = radius * rng.uniform(0.8, 1.5)
            boxes.append([*(p - r), *(p + r)])
            scores.append(rng.uniform(0.1, 0.55))
        spot = cam.project([[11.0, 34.0, 0.0]])[0]
        if (spot >= 0).all() and (spot < size).all() and rng.random() < 0.5:
            boxes.append([*(spot - 3), *(spot + 3)])
            scores.append(0.35)
        cal = Calibration(cam.image_to_pitch, image_size=size)
        prev = syn.cameras[k - 1] if k else None
        out.detections.append(
            Detections(
                xyxy=np.asarray(boxes, float).reshape(-1, 4),
                confidence=scores,
                class_id=[3] * len(boxes),
            )
        )
        out.truth.append(truth)
        out.calibrations.append(cal)
        out.motions.append(None if prev is None else cam.pitch_to_image @ prev.image_to_pitch)
    return out


@pytest.mark.parametrize("mode", ["calibrated", "motion", "image_only"])
def test_synthetic_clip_picks_the_true_ball(clip: Clip, mode: str) -> None:
    tracker = BallTracker(BallConfig(image_size=(960, 540)))
    right = measured = false_alarms = outputs = 0
    for k, dets in enumerate(clip.detections):
        cal = clip.calibrations[k] if mode == "calibrated" else None
        motion = clip.motions[k] if mode == "motion" else None
        out = tracker.update(dets, cal, motion)
        assert len(out) <= 1
        outputs += len(out)
        if clip.truth[k] >= 0:
            measured += 1
            right += int(len(out) == 1 and tracker.last_status[clip.truth[k]] == "chosen")
        else:
            false_alarms += len(out)
    assert measured > 100
    assert right / measured >= 0.95, (mode, right, measured)
    assert false_alarms <= 0.3 * (len(clip.truth) - measured)
    assert tracker.stats.frames == len(clip.detections)
    assert tracker.stats.frames_measured == outputs
    assert tracker.stats.jumps_rejected > 50  # the clutter was seen and refused


def test_calibrated_output_has_the_pitch_position(clip: Clip) -> None:
    tracker = BallTracker()
    k = next(k for k in range(5, 40) if clip.truth[k] >= 0)
    for j in range(k + 1):
        out = tracker.update(clip.detections[j], clip.calibrations[j])
    assert len(out) == 1
    expected = clip.calibrations[k].image_to_pitch(out.centers.astype(float))
    np.testing.assert_allclose(out.data["pitch_xy"], expected)
    assert np.isfinite(out.data["pitch_xy"]).all()


# --------------------------------------------------------------------------------------------
# Output format and empty inputs
# --------------------------------------------------------------------------------------------


def test_output_row_format() -> None:
    tracker = BallTracker()
    players = [[100, 100, 130, 180], [400, 100, 430, 180]]
    dets = Detections(
        xyxy=[*players, [595, 395, 605, 405]],
        confidence=[0.9, 0.9, 0.7],
        class_id=[0, 1, 3],
        tracker_id=[5, 6, 7],
    )
    out = tracker.update(dets)
    assert len(out) == 1
    np.testing.assert_array_equal(out.xyxy, [[595, 395, 605, 405]])
    assert out.tracker_id.tolist() == [BALL_TRACK_ID] == [0]
    assert out.class_id.tolist() == [int(ObjectClass.BALL)]
    assert out.confidence.tolist() == pytest.approx([0.7])
    assert out.data["predicted"].dtype == bool and not out.data["predicted"][0]
    assert out.data["track_confidence"].dtype == np.float32
    assert np.isnan(out.data["pitch_xy"]).all()  # uncalibrated
    assert tracker.last_status.tolist() == ["other", "other", "chosen"]
    assert BallTracker(BallConfig(ball_id=-7)).update(dets).tracker_id.tolist() == [-7]


def test_empty_and_ball_free_inputs() -> None:
    tracker = BallTracker()
    for dets in (
        Detections.empty(),
        Detections(xyxy=[[0, 0, 20, 40]], confidence=[0.9], class_id=[0]),
        ball_dets([(50, 50)], [0.05]),  # below min_score
    ):
        out = tracker.update(dets)
        assert len(out) == 0
        # Same fields as a non-empty output, so that outputs can be merged.
        assert out.tracker_id is not None and out.confidence is not None
        assert set(out.data) == {"track_confidence", "predicted", "position_sigma", "pitch_xy"}
    assert tracker.last_status.tolist() == ["low_score"]
    assert tracker.state == BallTrackState.SEARCHING
    assert tracker.stats.frames == 3 and tracker.stats.frames_with_candidates == 0
    merged = Detections.merge([out, tracker.update(ball_dets([(60, 60)], [0.9]))])
    assert len(merged) == 1


def test_rows_without_class_or_score_are_candidates() -> None:
    tracker = BallTracker()
    out = tracker.update(Detections(xyxy=[[10, 10, 20, 20]]))  # unknown score counts as 1
    assert len(out) == 1 and np.isnan(out.confidence[0])


def test_outputs_build_a_tracks_table() -> None:
    tracker = BallTracker()
    builder = TracksBuilder()
    for k, out in enumerate(track_ball(tracker, 5)):
        builder.add(k, k / 25, out)
    df = builder.build(fps=25.0).df
    assert df["track_id"].tolist() == [0] * 5
    assert df["class_name"].tolist() == ["ball"] * 5


# --------------------------------------------------------------------------------------------
# Candidate choice, jumps, re-acquisition, switching
# --------------------------------------------------------------------------------------------


def test_acquisition_needs_a_strong_or_confirmed_candidate() -> None:
    tracker = BallTracker()
    assert len(tracker.update(ball_dets([(500, 300)], [0.3]))) == 0
    assert tracker.last_status.tolist() == ["pending"]
    # A weak candidate far from the first is not a confirmation.
    assert len(tracker.update(ball_dets([(900, 100)], [0.3]))) == 0
    out = tracker.update(ball_dets([(905, 102)], [0.3]))  # consistent: confirmed
    assert len(out) == 1 and tracker.stats.acquisitions == 1
    strong = BallTracker()
    assert len(strong.update(ball_dets([(500, 300)], [0.6]))) == 1


def test_best_candidate_near_the_prediction_wins() -> None:
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    track_ball(tracker, 10)  # at (354, 360) moving +6 px / frame
    out = tracker.update(ball_dets([(360, 360), (362, 345), (370, 380)], [0.5, 0.45, 0.55]))
    assert out.centers[0].tolist() == [360, 360]
    assert tracker.last_status.tolist() == ["chosen", "outscored", "outscored"]


def test_implausible_jump_is_rejected() -> None:
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    track_ball(tracker, 10)  # last at (354, 360)
    # A strong candidate 300 px away (~0.23 image widths in one frame) is not the ball.
    out = tracker.update(ball_dets([(654, 360)], [0.95]))
    assert len(out) == 0
    assert tracker.last_status.tolist() == ["jump"]
    assert tracker.stats.jumps_rejected == 1
    assert tracker.state == BallTrackState.TRACKING  # coasting, not lost
    out = tracker.update(ball_dets([(654, 360), (366, 360)], [0.95, 0.4]))
    assert out.centers[0].tolist() == [366, 360]  # the ball continues, the jump is refused
    assert tracker.last_status.tolist() == ["jump", "chosen"]


def test_weak_candidate_far_from_the_prediction_is_gated_after_a_miss() -> None:
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    track_ball(tracker, 10)  # last at (354, 360) moving +6 px / frame
    tracker.update(Detections.empty())
    tracker.update(Detections.empty())
    # Reachable at top speed in 3 frames (150 px) but far from the prediction (372, 360).
    out = tracker.update(ball_dets([(372, 470)], [0.3]))
    assert len(out) == 0 and tracker.last_status.tolist() == ["gated"]
    out = tracker.update(ball_dets([(378, 361)], [0.3]))
    assert len(out) == 1


def test_reacquisition_after_the_track_is_lost() -> None:
    cfg = BallConfig(image_size=(W, H), missed_seconds=0.2)
    tracker = BallTracker(cfg)
    track_ball(tracker, 8)
    for _ in range(cfg.missed_frames + 1):  # the ball is hidden
        assert len(tracker.update(Detections.empty())) == 0
    assert tracker.state == BallTrackState.SEARCHING
    assert tracker.stats.lost == 1
    # It reappears elsewhere, weakly detected: two consistent sightings re-acquire it.
    assert len(tracker.update(ball_dets([(900, 200)], [0.3]))) == 0
    out = tracker.update(ball_dets([(895, 203)], [0.35]))
    assert out.centers[0].tolist() == [895, 203]
    assert tracker.stats.acquisitions == 2 and tracker.stats.reacquisitions == 1


def test_strong_challenger_takes_over_a_lost_cause() -> None:
    cfg = BallConfig(image_size=(W, H))
    tracker = BallTracker(cfg)
    track_ball(tracker, 5, score=0.3)  # weak track (the second sighting confirms it)
    outs = []
    for k in range(cfg.switch_far_frames):  # far away, strong and consistent: the real ball
        outs.append(tracker.update(ball_dets([(1000 + 2 * k, 600)], [0.8])))
    assert [len(o) for o in outs] == [0] * (cfg.switch_far_frames - 1) + [1]
    assert tracker.stats.switches == 1
    assert outs[-1].centers[0, 0] == 1000 + 2 * (cfg.switch_far_frames - 1)


def test_strong_track_is_not_taken_over() -> None:
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    track_ball(tracker, 5, score=0.8)
    for k in range(10):
        c = (330 + 6 * k, 360)
        out = tracker.update(ball_dets([c, (1000, 600)], [0.8, 0.9]))
        assert out.centers[0].tolist() == list(c)
    assert tracker.stats.switches == 0


# --------------------------------------------------------------------------------------------
# Out of view, coasting, cuts
# --------------------------------------------------------------------------------------------


def test_out_of_view_stops_the_prediction() -> None:
    cfg = BallConfig(image_size=(W, H), coast_seconds=4.0, missed_seconds=4.0)
    tracker = BallTracker(cfg)
    track_ball(tracker, 10, start=(1180.0, 300.0), step=(8.0, 0.0))  # last at (1252, 300)
    coasted = []
    for _ in range(30):
        out = tracker.update(Detections.empty())
        if len(out):
            assert out.data["predicted"].tolist() == [True]
            assert np.isnan(out.confidence[0])
            coasted.append(float(out.centers[0, 0]))
    assert tracker.state == BallTrackState.OUT_OF_VIEW
    assert tracker.stats.out_of_view == 1 and tracker.prediction is None
    margin = cfg.view_margin * W
    assert coasted and max(coasted) <= W + margin
    assert len(coasted) < 10  # it stopped soon after leaving
    # A weak candidate back in view is not taken on its own.
    assert len(tracker.update(ball_dets([(1270, 300)], [0.3]))) == 0


def test_coasting_is_off_by_default_and_bounded() -> None:
    quiet = BallTracker()
    track_ball(quiet, 5)
    assert len(quiet.update(Detections.empty())) == 0
    assert quiet.state == BallTrackState.TRACKING
    coasting = BallTracker(BallConfig(coast_seconds=0.08))
    track_ball(coasting, 5)  # last at (324, 360), +6 px / frame
    outs = [coasting.update(Detections.empty()) for _ in range(4)]
    assert [len(o) for o in outs] == [1, 1, 0, 0]
    assert outs[0].centers[0, 0] == pytest.approx(330, abs=1.0)
    assert outs[1].centers[0, 0] == pytest.approx(336, abs=1.5)
    tc = [float(o.data["track_confidence"][0]) for o in outs[:2]]
    assert tc[1] < tc[0] < 0.8
    assert coasting.stats.frames_coasted == 2


def test_camera_cut_resets() -> None:
    tracker = BallTracker()
    for k in range(6):
        tracker.update(ball_dets([(300 + 6 * k, 360)], [0.8]), scale_calibration(20.0))
    # Without a cut, a strong candidate 500 px away is a jump ...
    probe = BallTracker()
    for k in range(6):
        probe.update(ball_dets([(300 + 6 * k, 360)], [0.8]), scale_calibration(20.0))
    assert len(probe.update(ball_dets([(830, 100)], [0.8]), scale_calibration(20.0))) == 0
    # ... after a cut it is the ball of the new shot.
    out = tracker.update(ball_dets([(830, 100)], [0.8]), scale_calibration(20.0, cut=True))
    assert out.centers[0].tolist() == [830, 100]
    assert tracker.stats.resets == 1
    assert tracker.stats.acquisitions == 2 and tracker.stats.reacquisitions == 0
    # A cut with no candidate leaves the tracker searching.
    tracker.update(Detections.empty(), Calibration.uncalibrated(cut=True))
    assert tracker.state == BallTrackState.SEARCHING and tracker.prediction is None


# --------------------------------------------------------------------------------------------
# Camera motion
# --------------------------------------------------------------------------------------------


def _panning_scene(tracker: BallTracker, how: str) -> tuple[Detections, np.ndarray | None]:
    """A ball at rest on the pitch; the camera is still for 10 frames, then pans 20 px per frame
    while the ball is hidden for 5 frames; it reappears weakly detected where it really is."""
    ball_x = 640.0
    pan = 0.0
    for k in range(16):
        moving = k >= 10
        step = 20.0 if moving else 0.0
        pan += step
        motion = np.array([[1, 0, -step], [0, 1, 0], [0, 0, 1]], float)
        cal = scale_calibration(20.0, pan_px=pan) if how == "calibration" else None
        m = motion if how == "motion" else None
        x = ball_x - pan
        if k < 10:
            out = tracker.update(ball_dets([(x, 360)], [0.8]), cal, m)
        elif k < 15:
            out = tracker.update(Detections.empty(), cal, m)
        else:
            out = tracker.update(ball_dets([(x, 360)], [0.3]), cal, m)
        if k == 14:
            prediction = tracker.prediction
    return out, prediction


@pytest.mark.parametrize("how", ["motion", "calibration"])
def test_camera_motion_moves_the_prediction(how: str) -> None:
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    out, prediction = _panning_scene(tracker, how)
    assert prediction is not None
    assert prediction[0] == pytest.approx(640 - 5 * 20, abs=2.0)  # followed the pan
    assert len(out) == 1 and out.centers[0, 0] == pytest.approx(640 - 6 * 20)
    assert tracker.last_status.tolist() == ["chosen"]


def test_without_camera_motion_the_prediction_stays() -> None:
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    out, prediction = _panning_scene(tracker, "none")
    assert prediction is not None and prediction[0] == pytest.approx(640, abs=2.0)
    assert len(out) == 0 and tracker.last_status.tolist() == ["gated"]


def test_bad_motion_matrix_is_refused() -> None:
    with pytest.raises(DataError, match="3x3"):
        BallTracker().update(Detections.empty(), motion=np.eye(2))


# --------------------------------------------------------------------------------------------
# Speed limit: calibrated vs uncalibrated
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("px_per_m", "accepted"),
    [(100.0, True), (20.0, False), (None, False)],
)
def test_speed_limit_follows_the_calibration_scale(px_per_m: float | None, accepted: bool) -> None:
    """A 100 px move in one frame: 1 m at 100 px/m (25 m/s, fine), 5 m at 20 px/m (125 m/s,
    impossible), and 7.8 % of the image width uncalibrated (limit 4 %)."""
    tracker = BallTracker(BallConfig(image_size=(W, H)))
    cal = None if px_per_m is None else scale_calibration(px_per_m)
    for _ in range(6):
        tracker.update(ball_dets([(300.0, 360)], [0.8]), cal)
    out = tracker.update(ball_dets([(400.0, 360)], [0.8]), cal)
    assert (len(out) == 1) is accepted
    assert tracker.last_status.tolist() == ["chosen" if accepted else "jump"]
    if px_per_m is not None and accepted:
        np.testing.assert_allclose(out.data["pitch_xy"], [[4.0, 3.6]])


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="acquire_score"):
        BallConfig(acquire_score=1.5)
    with pytest.raises(ValueError, match="max_speed"):
        BallConfig(max_speed=0)
    with pytest.raises(ValueError, match="confirm_seconds"):
        BallConfig(confirm_seconds=-0.04)
    with pytest.raises(ValueError, match="missed_seconds"):
        BallConfig(missed_seconds=float("nan"))
    with pytest.raises(ValueError, match="coast_seconds"):
        BallConfig(coast_seconds=float("inf"))
    with pytest.raises(ValueError, match="fps"):
        BallConfig(fps=float("inf"))
    assert BallConfig(confirm_seconds=0.0).confirm_frames == 1  # a chain is at least one frame


def test_durations_are_seconds_frames_follow_fps() -> None:
    at25, at50 = BallConfig(), BallConfig(fps=50.0)
    frames = ("confirm_frames", "switch_frames", "switch_far_frames", "missed_frames")
    assert [getattr(at25, f) for f in frames] == [2, 3, 6, 10]  # the frame defaults of before
    assert [getattr(at50, f) for f in frames] == [4, 6, 12, 20]
    assert (at25.coast_frames, BallConfig(coast_seconds=0.12, fps=50.0).coast_frames) == (0, 6)
    # At 50 fps the track survives as long in seconds: 20 missed frames, not 10.
    tracker = BallTracker(BallConfig(image_size=(W, H), fps=50.0))
    track_ball(tracker, 8, step=(3.0, 0.0))
    for _ in range(20):
        tracker.update(Detections.empty())
    assert tracker.state == BallTrackState.TRACKING
    tracker.update(Detections.empty())
    assert tracker.state == BallTrackState.SEARCHING
    with pytest.raises(TypeError):
        BallTracker().update(np.zeros((1, 4)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# interpolate_ball
# --------------------------------------------------------------------------------------------


def _table(rows: list[tuple[int, float, float, bool]], player: bool = True) -> pd.DataFrame:
    """A tracks table: ball rows ``(frame, x, y, calibrated)`` (10 px boxes, 10 px per metre)
    plus, optionally, a player (track 1) in every frame."""
    builder = TracksBuilder()
    for frame, x, y, calibrated in rows:
        cal = scale_calibration(10.0) if calibrated else None
        builder.add(
            frame,
            frame / 25,
            Detections(
                xyxy=[[x - 5, y - 5, x + 5, y + 5]],
                confidence=[0.8],
                class_id=[3],
                tracker_id=[BALL_TRACK_ID],
                data={"track_confidence": [0.7]},
            ),
            cal,
        )
    if player:
        for frame in range(max(r[0] for r in rows) + 1):
            builder.add(
                frame,
                frame / 25,
                Detections(xyxy=[[0, 0, 10, 30]], class_id=[0], tracker_id=[1]),
            )
    return builder.build(fps=25.0).df


def test_interpolate_fills_a_short_gap_with_hand_checked_values() -> None:
    df = _table([(0, 100.0, 200.0, True), (4, 140.0, 180.0, True)])
    df["predicted"] = True  # an extra boolean column: False on the filled rows
    out = interpolate_ball(df, max_gap=3)
    ball = out[out["track_id"] == 0].reset_index(drop=True)
    assert ball["frame"].tolist() == [0, 1, 2, 3, 4]
    assert ball["interpolated"].tolist() == [False, True, True, True, False]
    np.testing.assert_allclose(ball["foot_x"], [100, 110, 120, 130, 140])
    np.testing.assert_allclose(ball["foot_y"], [200, 195, 190, 185, 180])
    np.testing.assert_allclose(ball["x1"], [95, 105, 115, 125, 135])
    np.testing.assert_allclose(ball["y2"], [205, 200, 195, 190, 185])
    np.testing.assert_allclose(ball["pitch_x"], [10, 11, 12, 13, 14], rtol=1e-6)
    np.testing.assert_allclose(ball["pitch_y"], [20, 19.5, 19, 18.5, 18], rtol=1e-6)
    np.testing.assert_allclose(ball["time"], [0, 0.04, 0.08, 0.12, 0.16])
    assert ball["confidence"].isna().tolist() == [False, True, True, True, False]
    assert ball["track_confidence"].isna().tolist() == [False, True, True, True, False]
    assert ball["calib_confidence"].tolist() == [1.0] * 5
    assert (ball["class_name"] == "ball").all() and (ball["team"] == -1).all()
    assert ball["predicted"].tolist() == [True, False, False, False, True]
    # Sorted by frame then track, the players untouched, the dtypes kept, a valid table.
    assert list(zip(out["frame"], out["track_id"], strict=True)) == sorted(
        zip(out["frame"], out["track_id"], strict=True)
    )
    assert not out.loc[out["track_id"] == 1, "interpolated"].any()
    assert (out.dtypes[df.columns] == df.dtypes).all()
    assert out["interpolated"].dtype == bool
    assert len(Tracks(out)) == len(df) + 3
    assert "interpolated" not in df.columns  # the input is not modified


def test_interpolate_pitch_only_when_both_ends_are_calibrated() -> None:
    df = _table([(0, 100.0, 200.0, True), (2, 120.0, 200.0, False)], player=False)
    ball = interpolate_ball(df, max_gap=5)
    assert ball["foot_x"].tolist() == [100, 110, 120]
    assert np.isnan(ball.loc[1, "pitch_x"]) and np.isnan(ball.loc[1, "calib_confidence"])


def test_interpolate_leaves_long_gaps_and_cuts() -> None:
    df = _table([(0, 100.0, 200.0, True), (5, 150.0, 200.0, True), (8, 180.0, 200.0, True)])
    out = interpolate_ball(df, max_gap=3)
    ball = out[out["track_id"] == 0]
    assert ball["frame"].tolist() == [0, 5, 6, 7, 8]  # 4 missing frames > max_gap: untouched
    cut = interpolate_ball(df, max_gap=3, cut_frames={7})
    assert cut[cut["track_id"] == 0]["frame"].tolist() == [0, 5, 8]
    cut_at_end = interpolate_ball(df, max_gap=3, cut_frames=np.array([8]))
    assert cut_at_end[cut_at_end["track_id"] == 0]["frame"].tolist() == [0, 5, 8]
    cut_before = interpolate_ball(df, max_gap=3, cut_frames=[5])  # between 0 and 5 only
    assert cut_before[cut_before["track_id"] == 0]["frame"].tolist() == [0, 5, 6, 7, 8]
    assert len(interpolate_ball(df, max_gap=0)) == len(df)


def test_interpolate_edge_cases() -> None:
    empty = Tracks.empty().df
    out = interpolate_ball(empty, max_gap=5)
    assert len(out) == 0 and "interpolated" in out.columns
    no_ball = _table([(3, 100.0, 200.0, True)])
    no_ball = no_ball[no_ball["track_id"] == 1]
    assert not interpolate_ball(no_ball, max_gap=5)["interpolated"].any()
    custom = _table([(0, 100.0, 200.0, True), (2, 120.0, 200.0, True)], player=False)
    custom["track_id"] = 42
    assert len(interpolate_ball(custom, max_gap=2, ball_id=42)) == 3
    assert len(interpolate_ball(custom, max_gap=2)) == 2  # the default ball id is 0
    with pytest.raises(ValueError, match="max_gap"):
        interpolate_ball(custom, max_gap=-1)
    with pytest.raises(DataError, match="missing columns"):
        interpolate_ball(custom.drop(columns=["foot_x"]), max_gap=2)
    twice = pd.concat([custom, custom], ignore_index=True)
    with pytest.raises(DataError, match="twice"):
        interpolate_ball(twice, max_gap=2, ball_id=42)


def test_predicted_ball_states_its_growing_uncertainty() -> None:
    """Measured: a small position sigma; predicted through a miss: flagged, larger sigma."""
    tracker = BallTracker(BallConfig(coast_seconds=0.4))
    sigmas = []
    for k in range(6):
        dets = ball_dets([(100 + 5 * k, 200)], [0.9]) if k < 4 else Detections.empty()
        out = tracker.update(dets)
        assert len(out) == 1
        sigmas.append(float(out.data["position_sigma"][0]))
        assert bool(out.data["predicted"][0]) == (k >= 4)
    assert sigmas[3] < 2.0 < sigmas[4] < sigmas[5]


def test_pipeline_tracker_predicts_the_ball() -> None:
    from touchline.track.combined import PeopleAndBallTracker

    pb = PeopleAndBallTracker()
    assert pb.ball.config.coast_frames == pb.ball.config.missed_frames > 0
