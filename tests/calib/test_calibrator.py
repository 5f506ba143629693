"""Calibration: geometry, fusion and temporal logic (with a fake network fed by ground truth),
then the shipped model on real frames."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from touchline.calib.calibrator import Calibrator, CalibratorConfig, view_distance
from touchline.calib.keypoints import MODEL_KEYPOINTS, decode_heatmaps
from touchline.calib.model import KeypointPrediction
from touchline.eval.calibration_metrics import iou_whole
from touchline.geometry.homography import (
    apply_homography,
    dlt,
    plausibility,
    ransac_homography,
    refine_homography,
)
from touchline.pitch import Pitch
from touchline.synth.camera import PinholeCamera
from touchline.types import CalibrationStatus

PITCH = Pitch()
SIZE = (1280, 720)


def broadcast_camera(pan: float = 0.0, zoom: float = 1.0, x: float = 52.5) -> PinholeCamera:
    """A main-camera view: 25 m up, 40 m behind the near touchline, aimed across the pitch."""
    target = (x + pan, 30.0, 0.0)
    return PinholeCamera.look_at((52.5, 108.0, -25.0), target, focal=1400.0 * zoom, image_size=SIZE)


class FakeModel:
    """Stands in for the network: 'predicts' what a camera really sees (plus noise/failures)."""

    names = MODEL_KEYPOINTS

    def __init__(self, cameras, noise=1.0, outliers=0, keypoints=True, area=True, seed=0):
        self.cameras = list(cameras)
        self.noise, self.outliers, self.keypoints, self.area = noise, outliers, keypoints, area
        self.rng = np.random.default_rng(seed)
        self.calls = 0

    def predict(self, images):
        out = []
        for im in images:
            cam = self.cameras[min(self.calls, len(self.cameras) - 1)]
            self.calls += 1
            out.append(self._one(cam, (im.shape[1], im.shape[0])))
        return out

    def _one(self, cam, size):
        w, h = size
        P = np.diag([w / SIZE[0], h / SIZE[1], 1.0]) @ cam.pitch_to_image
        kp = PITCH.keypoint_array(self.names)
        pts = apply_homography(P, kp)
        front = (np.c_[kp, np.ones(len(kp))] @ P.T)[:, 2] > 0
        inside = front & (pts[:, 0] > 0) & (pts[:, 0] < w) & (pts[:, 1] > 0) & (pts[:, 1] < h)
        pts = pts + self.rng.normal(0, self.noise, pts.shape)
        scores = np.where(inside, 0.9, 0.0)
        if self.outliers:
            idx = self.rng.choice(np.where(inside)[0], self.outliers, replace=False)
            pts[idx] = self.rng.uniform(0, (w, h), (self.outliers, 2))
        if not self.keypoints:
            scores[:] = 0.0
        pts[scores == 0] = np.nan
        gw, gh = 128, 72
        cells = np.stack(
            np.meshgrid((np.arange(gw) + 0.5) * w / gw, (np.arange(gh) + 0.5) * h / gh), -1
        )
        Hinv = np.linalg.inv(P)
        q = cells.reshape(-1, 2) @ Hinv[:, :2].T + Hinv[:, 2]
        ground = apply_homography(Hinv, cells.reshape(-1, 2))
        area = (q[:, 2] * (Hinv @ [w / 2, h, 1])[2] > 0) & PITCH.contains(
            np.nan_to_num(ground, nan=-1e9)
        )
        area = area.reshape(gh, gw).astype(np.float32) * (1.0 if self.area else 0.0)
        d = PITCH.paint_distance(np.nan_to_num(ground, nan=-1e9)).reshape(gh, gw)
        line = ((d < 1.2) & (area.reshape(gh, gw) > 0)).astype(np.float32)
        anchors = np.array([[0.0, 0.5], [1.0, 0.5], [0.0, 1.0], [1.0, 1.0]]) * (w, h)
        return KeypointPrediction(
            points=pts,
            scores=scores,
            names=self.names,
            line=line if self.area else line * 0,
            area=area,
            direct=apply_homography(Hinv, anchors) + self.rng.normal(0, 0.3, (4, 2)),
            direct_image_points=anchors,
            image_size=(w, h),
        )


def true_H(cam: PinholeCamera) -> np.ndarray:
    return np.linalg.inv(cam.pitch_to_image)


def blank(n=1):
    return [np.full((SIZE[1], SIZE[0], 3), (40, 150, 50), np.uint8) for _ in range(n)]  # grass


# ----- homography ----------------------------------------------------------------------------
def test_dlt_is_invariant_to_units_and_weights_matter():
    cam = broadcast_camera()
    kp = PITCH.keypoint_array()
    img = apply_homography(cam.pitch_to_image, kp)
    ok = np.isfinite(img).all(1) & (np.abs(img) < 5000).all(1)
    H = dlt(kp[ok], img[ok])
    assert np.allclose(H / H[2, 2], cam.pitch_to_image / cam.pitch_to_image[2, 2], rtol=1e-6)
    bad = img[ok].copy()
    bad[0] += 200.0
    w = np.ones(len(bad))
    w[0] = 1e-9  # a zero-weighted outlier cannot pull the fit
    assert np.allclose(apply_homography(dlt(kp[ok], bad, w), kp[ok][1:]), img[ok][1:], atol=1e-3)


def test_ransac_then_refinement_beats_plain_dlt_under_noise_and_outliers():
    rng = np.random.default_rng(3)
    cam = broadcast_camera(pan=-20)
    kp = PITCH.keypoint_array()
    img = apply_homography(cam.pitch_to_image, kp)
    vis = (img[:, 0] > 0) & (img[:, 0] < 1280) & (img[:, 1] > 0) & (img[:, 1] < 720)
    src, clean = kp[vis], img[vis]
    noisy = clean + rng.normal(0, 1.5, clean.shape)
    noisy[:3] += rng.uniform(80, 200, (3, 2))
    r = ransac_homography(src, noisy, threshold=8.0)
    assert r.H is not None and not r.inliers[:3].any() and r.inliers[3:].all()
    Hr = refine_homography(r.H, src[r.inliers], noisy[r.inliers], loss_scale=4.0)
    err_refined = np.abs(apply_homography(Hr, src) - clean).max()
    err_dlt = np.abs(apply_homography(dlt(src, noisy), src) - clean).max()
    assert err_refined < 6.0 < err_dlt


def test_ransac_needs_four_points():
    r = ransac_homography(np.zeros((3, 2)), np.zeros((3, 2)), 1.0)
    assert r.H is None and not r.inliers.any()


def test_plausibility_rejects_impossible_cameras():
    H = true_H(broadcast_camera())
    assert plausibility(H, SIZE) == []
    assert plausibility(np.diag([1.0, -1.0, 1.0]) @ H, SIZE) == ["mirror image"]
    assert plausibility(np.eye(3) * 0.0, SIZE) == ["not invertible"]
    # Horizon inside the lower half of the image: the view tilts above the pitch.
    sky = PinholeCamera.look_at(
        (52.5, 108.0, -25.0), (52.5, -400.0, -60.0), focal=1400.0, image_size=SIZE
    )
    assert plausibility(true_H(sky), SIZE)
    # A camera looking from 1 km away.
    far = PinholeCamera.look_at(
        (52.5, 1100.0, -25.0), (52.5, 34.0, 0.0), focal=30000.0, image_size=SIZE
    )
    assert any("400 m" in r for r in plausibility(true_H(far), SIZE))


def test_decode_heatmaps_subpixel_and_threshold():
    hm = np.zeros((3, 20, 30), np.float32)
    yy, xx = np.mgrid[:20, :30]
    cx, cy = 12.3, 7.6  # cell coordinates of the true peak (continuous)
    hm[0] = np.exp(-((xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2) / 2)
    hm[1, 3, 4] = 0.05  # below threshold
    pts, score = decode_heatmaps(hm, stride=4.0, threshold=0.1)
    assert np.abs(pts[0] / 4 - (cx, cy)).max() < 0.25
    assert np.isnan(pts[1]).all() and np.isnan(pts[2]).all() and score[1] == pytest.approx(0.05)


# ----- one frame -----------------------------------------------------------------------------
@pytest.mark.parametrize("pan,zoom", [(0, 1.0), (-30, 1.6), (35, 2.2), (-45, 1.0)])
def test_calibrator_recovers_the_camera(pan, zoom):
    cam = broadcast_camera(pan, zoom)
    res = Calibrator(FakeModel([cam], noise=1.0, outliers=2)).estimate(blank()[0])
    assert res.calibration.status == CalibrationStatus.OK and res.source == "keypoints"
    assert iou_whole(res.calibration.homography, true_H(cam), (105, 68), image_size=SIZE) > 0.97
    assert res.verification > 0.9 and 0.5 < res.calibration.confidence <= 1.0


def test_calibration_is_expressed_in_the_input_frame_size():
    cam = broadcast_camera(10, 1.3)
    small = np.zeros((360, 640, 3), np.uint8)
    c = Calibrator(FakeModel([cam], noise=0.2)).calibrate(small)
    assert c.image_size == (640, 360)
    up = c.rescaled(SIZE)
    assert view_distance(up.homography, true_H(cam), SIZE) < 0.3


def test_direct_estimate_is_the_fallback_and_is_trusted_less():
    cam = broadcast_camera(5, 1.2)
    res = Calibrator(FakeModel([cam], keypoints=False)).estimate(blank()[0])
    assert res.source == "direct" and res.calibration.is_valid
    assert res.calibration.confidence <= 0.5
    assert view_distance(res.calibration.homography, true_H(cam), SIZE) < 2.0
    off = Calibrator(FakeModel([cam], keypoints=False), CalibratorConfig(use_direct=False))
    assert not off.calibrate(blank()[0]).is_valid


def test_agreeing_direct_estimate_raises_confidence():
    cam = broadcast_camera(-10, 1.4)
    with_d = Calibrator(FakeModel([cam])).estimate(blank()[0])
    without = Calibrator(FakeModel([cam]), CalibratorConfig(use_direct=False)).estimate(blank()[0])
    assert with_d.calibration.confidence > without.calibration.confidence


def test_frame_without_pitch_is_never_given_a_homography():
    cam = broadcast_camera()
    res = Calibrator(FakeModel([cam], area=False)).estimate(blank()[0])
    assert res.calibration.status == CalibrationStatus.NO_PITCH
    assert res.calibration.homography is None


def test_keypoints_that_contradict_the_pitch_area_are_rejected():
    # The keypoints say one camera, the area map (what the network sees as pitch) another.
    seen, claimed = broadcast_camera(-40, 2.0), broadcast_camera(40, 2.0)
    m = FakeModel([seen], keypoints=True)
    m2 = FakeModel([claimed])
    p_area = m._one(seen, SIZE)
    p_kp = m2._one(claimed, SIZE)

    class Mixed:
        names = MODEL_KEYPOINTS

        def predict(self, images):
            from dataclasses import replace

            return [replace(p_area, points=p_kp.points, scores=p_kp.scores, direct=p_kp.direct)]

    res = Calibrator(Mixed()).estimate(blank()[0])
    assert res.calibration.status == CalibrationStatus.FAILED


# ----- video ---------------------------------------------------------------------------------
def _pan_clip(n=20, cut_at=None, step=1):
    from touchline.synth.clip import SynthConfig, Synthesizer

    syn = Synthesizer(
        SynthConfig(seconds=n * step / 25, fps=25, size=(640, 360), seed=3, camera="builtin")
    )
    frames = [syn.render(k * step) for k in range(n)]
    if cut_at is not None:
        other = Synthesizer(
            SynthConfig(seconds=n / 25, fps=25, size=(640, 360), seed=11, camera="builtin")
        )
        frames = frames[:cut_at] + [other.render(k) for k in range(cut_at, n)]
    images = [f.image for f in frames]
    Hs = [np.linalg.inv(f.camera.pitch_to_image) for f in frames]
    cams = [f.camera for f in frames]
    return images, Hs, cams


class FailingModel(FakeModel):
    """Fails (no keypoints, no direct estimate) on the given frames."""

    def __init__(self, cameras, fail, **kw):
        super().__init__(cameras, **kw)
        self.fail = set(fail)

    def _one(self, cam, size):
        k = self.calls - 1
        p = super()._one(cam, size)
        if k in self.fail:
            from dataclasses import replace

            return replace(
                p, points=p.points * np.nan, scores=p.scores * 0, direct=p.direct * np.nan
            )
        return p


def _scaled(cams, size=(640, 360)):
    out = []
    for c in cams:
        out.append(c)
    return out


def test_failed_frames_are_propagated_by_camera_motion():
    images, Hs, cams = _pan_clip(20)
    fail = range(6, 14)
    cal = Calibrator(FailingModel(cams, fail, noise=0.3))
    # FakeModel works in SIZE; our frames are 640x360 and the cameras render at 640x360.
    cal.model.predict = _native_predict(cal.model)
    res = list(cal.calibrate_frames(images))
    for k in fail:
        r = res[k]
        assert r.calibration.status == CalibrationStatus.PROPAGATED, k
        assert view_distance(r.calibration.homography, Hs[k], (640, 360)) < 1.0, k
    assert all(res[k].calibration.status == CalibrationStatus.OK for k in range(6))


class BlindModel(FailingModel):
    """Fails on ``fail`` and, on ``blind``, sees no painted lines either (nothing verifies)."""

    def __init__(self, cameras, fail, blind, **kw):
        super().__init__(cameras, fail, **kw)
        self.blind = set(blind)

    def _one(self, cam, size):
        from dataclasses import replace

        p = super()._one(cam, size)
        return replace(p, line=p.line * 0) if self.calls - 1 in self.blind else p


def test_camera_is_carried_through_frames_that_do_not_verify():
    # Keypoints fail on frames 4-17; on 6-9 not even the carried camera can be verified (no
    # lines seen). The camera keeps moving by the measured motion through 6-9, so 10-17 are
    # propagated again, and where the camera really is (a fast pan).
    images, Hs, cams = _pan_clip(20, step=4)
    assert view_distance(Hs[5], Hs[10], (640, 360)) > 1.0
    model = BlindModel(cams, range(4, 18), range(6, 10), noise=0.3)
    model.predict = _native_predict(model)
    res = list(Calibrator(model).calibrate_frames(images))
    status = [r.calibration.status for r in res]
    assert status[6:10] == [CalibrationStatus.FAILED] * 4
    for k in range(10, 18):
        assert status[k] == CalibrationStatus.PROPAGATED, k
        assert view_distance(res[k].calibration.homography, Hs[k], (640, 360)) < 1.0, k
    # Far into a run of unverified frames, the carried camera is given up.
    model = BlindModel(cams, range(4, 18), range(6, 18), noise=0.3)
    model.predict = _native_predict(model)
    res = list(Calibrator(model, CalibratorConfig(max_propagation=3)).calibrate_frames(images))
    assert all(r.calibration.status == CalibrationStatus.FAILED for r in res[7:18])


def _native_predict(model):
    """The fake model for cameras rendered at the frame size itself (no 1280x720 rescale)."""

    def predict(images):
        out = []
        for im in images:
            cam = model.cameras[min(model.calls, len(model.cameras) - 1)]
            model.calls += 1
            scale = np.diag([SIZE[0] / im.shape[1], SIZE[1] / im.shape[0], 1.0])
            cam_big = PinholeCamera(scale @ cam.K, cam.R, cam.C, SIZE)
            out.append(model._one(cam_big, (im.shape[1], im.shape[0])))
        return out

    return predict


def test_cut_restarts_the_track_and_is_flagged():
    images, _, cams = _pan_clip(16, cut_at=8)
    fail = [8, 9]  # right after the cut: nothing to propagate from
    model = FailingModel(cams, fail, noise=0.3)
    cal = Calibrator(model)
    model.predict = _native_predict(model)
    res = list(cal.calibrate_frames(images))
    assert [k for k, r in enumerate(res) if r.calibration.cut] == [8]
    assert res[8].calibration.status == CalibrationStatus.FAILED
    assert res[9].calibration.status == CalibrationStatus.FAILED
    assert res[10].calibration.status == CalibrationStatus.OK


def test_offline_pass_smooths_and_fills_gaps():
    images, Hs, cams = _pan_clip(20)
    model = FailingModel(cams, [], noise=3.0, seed=2)
    model.predict = _native_predict(model)
    results = []
    # Noisy keypoints put single-frame cameras a metre or two off; the painted-line check
    # would reject some of them, this test is about what the offline pass makes of them.
    cfg = CalibratorConfig(max_propagation=0, paint_check=False)
    cals = Calibrator(model, cfg).calibrate_video(images, results=results)
    both = [k for k in range(len(cals)) if cals[k].is_valid and results[k].calibration.is_valid]
    assert len(both) >= 15
    raw = [view_distance(results[k].calibration.homography, Hs[k], (640, 360)) for k in both]
    smooth = [view_distance(cals[k].homography, Hs[k], (640, 360)) for k in both]
    assert np.median(smooth) < np.median(raw)
    # Gaps: frames that failed (no propagation allowed) are interpolated offline.
    model = FailingModel(cams, [7, 8, 9], noise=0.3)
    model.predict = _native_predict(model)
    cals = Calibrator(model, CalibratorConfig(max_propagation=0)).calibrate_video(images)
    assert [c.status.value for c in cals[7:10]] == ["interpolated"] * 3
    assert max(view_distance(cals[k].homography, Hs[k], (640, 360)) for k in (7, 8, 9)) < 1.5


# ----- the shipped model on real frames -----------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return Calibrator()


def _dfl_frame(shared, k=40):
    from touchline.video import read_frame

    return read_frame(shared("video/dfl_08fd33_4.mp4"), k)


def test_shipped_model_calibrates_a_real_broadcast_frame(shipped, shared):
    img = _dfl_frame(shared)
    res = shipped.estimate(img)
    assert res.calibration.status == CalibrationStatus.OK, res
    assert res.inliers >= 6 and res.verification > 0.6
    assert plausibility(res.calibration.homography, (img.shape[1], img.shape[0])) == []


@pytest.mark.parametrize(
    "match, frame",
    [
        # the cross-broadcaster test match (never trained on): a penalty-box view
        ("argentina_france", "worldcup2_100_jpg"),
        # centre-circle views: the halfway line, the circle and a touchline, few keypoints
        ("japan_spain", "video_1_130_jpg"),
        ("japan_spain", "video_1_500_jpg"),
    ],
)
def test_shipped_model_calibrates_world_cup_broadcasts(shipped, shared, match, frame):
    import cv2

    from touchline.datasets.yolo_pose import fit_label_homography, iter_split

    split = shared(f"pitch_keypoints/wc2022/{match}")
    s = next(x for x in iter_split(split) if x.image.name.startswith(frame + "."))
    img = cv2.imread(str(s.image))  # 640x640: a 16:9 broadcast frame squashed to a square
    res = shipped.estimate(img)
    assert res.calibration.status == CalibrationStatus.OK
    gt = fit_label_homography(s.label, PITCH)
    assert gt is not None
    pred = res.calibration.rescaled((1920, 1080)).homography
    assert view_distance(pred, gt, (1920, 1080)) < 1.0


@pytest.mark.parametrize("kind", ["flat", "noise", "crowd", "dark", "closeup", "grass"])
def test_frames_without_pitch_are_reported_uncalibrated(shipped, shared, kind):
    rng = np.random.default_rng(1)
    if kind == "flat":
        img = np.full((720, 1280, 3), (60, 140, 200), np.uint8)
    elif kind == "noise":
        img = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    elif kind == "dark":
        img = np.zeros((720, 1280, 3), np.uint8)
    elif kind == "crowd":  # the stands above the pitch in a real frame, blown up
        import cv2

        frame = _dfl_frame(shared, 100)
        img = cv2.resize(frame[: frame.shape[0] // 6], (1280, 720))
    else:
        # a close-up: a sixth of a real frame around players (bits of grass, kits, maybe a
        # piece of line) blown up to a full frame; nobody could place it on the pitch
        import cv2

        frame = _dfl_frame(shared, 100 if kind == "closeup" else 20)
        h, w = frame.shape[:2]
        y0, x0 = (h // 2, w // 3) if kind == "closeup" else (int(h * 0.75), w // 2)
        img = cv2.resize(frame[y0 : y0 + h // 6, x0 : x0 + w // 6], (1280, 720))
    res = shipped.estimate(img)
    assert not res.calibration.is_valid and res.calibration.homography is None, res.source
    assert res.calibration.status in (CalibrationStatus.NO_PITCH, CalibrationStatus.FAILED)


def test_shipped_model_tracks_the_real_clip(shipped, shared):
    from touchline.video import VideoReader

    results = []
    cals = shipped.calibrate_video(
        VideoReader(shared("video/dfl_08fd33_4.mp4"), stop=40), results=results
    )
    assert sum(c.is_valid for c in cals) >= 38
    assert not any(c.cut for c in cals)
    # Consecutive frames of a continuous shot place the view consistently (no jumps).
    size = cals[0].image_size
    jumps = [
        view_distance(a.homography, b.homography, size)
        for a, b in itertools.pairwise(cals)
        if a.is_valid and b.is_valid
    ]
    assert np.median(jumps) < 0.5 and max(jumps) < 3.0


def test_streaming_path_gives_the_same_cameras_with_and_without_the_worker_thread(shared):
    from touchline.video import VideoReader

    frames = [f.image for f in VideoReader(shared("video/dfl_08fd33_4.mp4"), stop=12)]
    a = list(Calibrator().calibrate_frames(frames))
    b = list(Calibrator(config=CalibratorConfig(prefetch=0)).calibrate_frames(frames))
    for ra, rb in zip(a, b, strict=True):
        assert ra.calibration.status == rb.calibration.status
        if ra.calibration.homography is not None:
            assert np.array_equal(ra.calibration.homography, rb.calibration.homography)
