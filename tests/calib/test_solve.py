"""Calibration from lines and circles: features read off per-line maps, cameras fitted to them.

A fake network 'predicts' what a known camera sees (keypoint peaks, one map per painted line,
the any-line and pitch-area maps), so every case has an exact answer. The cases are the ones a
keypoint-only homography cannot solve: centre-circle views with two keypoints, views with lines
but no keypoints, squashed frames.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from touchline.calib.calibrator import Calibrator, CalibratorConfig, view_distance
from touchline.calib.features import extract_features, pitch_conic
from touchline.calib.keypoints import MODEL_KEYPOINTS, MODEL_LINES
from touchline.calib.model import KeypointPrediction
from touchline.calib.solve import display_transform
from touchline.geometry.camera import PinholeCamera
from touchline.geometry.conic import map_conic, sampson_distance
from touchline.geometry.homography import apply_homography
from touchline.geometry.lines import point_line_distance
from touchline.pitch import Pitch
from touchline.types import CalibrationStatus

PITCH = Pitch()
SIZE = (1280, 720)
GRID = (160, 90)  # stride-4 maps of a 640x360 network input


def camera(target=(52.5, 30.0), position=(52.5, 108.0, -25.0), focal=1400.0, size=SIZE):
    return PinholeCamera.look_at(position, (*target, 0.0), focal=focal, image_size=size)


class LineModel:
    """A fake calibration network: exact maps of what ``cam`` sees in a frame of ``size``.

    ``keep`` names the keypoints it reports (default all in view); ``lines`` the painted lines
    it sees (default all).
    """

    names = MODEL_KEYPOINTS
    line_names = MODEL_LINES

    def __init__(self, cam, keep=None, lines=None, direct_offset=None, noise=0.0, seed=0):
        self.cam, self.keep, self.lines = cam, keep, lines
        self.direct_offset = direct_offset
        self.rng = np.random.default_rng(seed)
        self.noise = noise

    def predict(self, images):
        return [self.one((im.shape[1], im.shape[0])) for im in images]

    def one(self, size):
        w, h = size
        P = np.diag([w / self.cam.image_size[0], h / self.cam.image_size[1], 1.0])
        P = P @ self.cam.pitch_to_image  # pitch -> frame px
        Hinv = np.linalg.inv(P)
        kp = PITCH.keypoint_array(self.names)
        pts = apply_homography(P, kp)
        front = (np.c_[kp, np.ones(len(kp))] @ P.T)[:, 2] > 0
        inside = front & (pts[:, 0] > 0) & (pts[:, 0] < w) & (pts[:, 1] > 0) & (pts[:, 1] < h)
        if self.keep is not None:
            inside &= np.isin(np.array(self.names), self.keep)
        pts = pts + self.rng.normal(0, self.noise, pts.shape)
        scores = np.where(inside, 0.9, 0.0)
        pts[~inside] = np.nan
        gw, gh = GRID
        cells = np.stack(
            np.meshgrid((np.arange(gw) + 0.5) * w / gw, (np.arange(gh) + 0.5) * h / gh), -1
        ).reshape(-1, 2)
        q = cells @ Hinv[:, :2].T + Hinv[:, 2]
        ground = apply_homography(Hinv, cells)
        ok = q[:, 2] * (Hinv @ [w / 2, h, 1])[2] > 0
        g = np.nan_to_num(ground, nan=-1e9)
        area = (ok & PITCH.contains(g)).reshape(gh, gw).astype(np.float32)
        # Line maps: each painted element sampled densely on the pitch, projected, splatted
        # on the cells it crosses and blurred to about one cell.
        import cv2

        C = np.diag([gw / w, gh / h, 1.0]) @ P  # pitch -> cells
        maps = np.zeros((len(self.line_names), gh, gw), np.float32)
        any_line = np.zeros((gh, gw), np.float32)
        for e in PITCH.elements:
            pts_e = e.sample(0.05)
            qe = np.c_[pts_e, np.ones(len(pts_e))] @ C.T
            fr = qe[:, 2] > 0
            xy = qe[fr, :2] / qe[fr, 2:3]
            inb = (xy[:, 0] >= 0) & (xy[:, 0] < gw) & (xy[:, 1] >= 0) & (xy[:, 1] < gh)
            m = np.zeros((gh + 2, gw + 2), np.float32)
            c = xy[inb] - 0.5 + 1  # bilinear splat on cell centres (sub-cell exact)
            i0 = np.floor(c).astype(int)
            fx, fy = (c - i0).T
            for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                               (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):  # fmt: skip
                np.add.at(m, (i0[:, 1] + dy, i0[:, 0] + dx), wt)
            m = np.minimum(m[1:-1, 1:-1], 1.0)
            m = np.asarray(cv2.GaussianBlur(m, (0, 0), 0.6), np.float32)
            m = np.clip(m / max(float(m.max()), 1e-6), 0, 1) if m.any() else m
            np.maximum(any_line, m, out=any_line)
            if e.name in self.line_names and (self.lines is None or e.name in self.lines):
                maps[self.line_names.index(e.name)] = m
        anchors = np.array([[0.0, 0.5], [1.0, 0.5], [0.0, 1.0], [1.0, 1.0]]) * (w, h)
        direct = apply_homography(Hinv, anchors)
        if self.direct_offset is not None:
            direct = direct + self.direct_offset
        return KeypointPrediction(
            points=pts,
            scores=scores,
            names=self.names,
            line=any_line,
            area=area,
            direct=direct,
            direct_image_points=anchors,
            image_size=(w, h),
            lines=maps,
            line_names=self.line_names,
        )


def frame(size=SIZE):
    return np.full((size[1], size[0], 3), (40, 150, 50), np.uint8)


def true_H(cam, size=SIZE):
    S = np.diag([size[0] / cam.image_size[0], size[1] / cam.image_size[1], 1.0])
    return np.linalg.inv(S @ cam.pitch_to_image)


# ----- features ---------------------------------------------------------------------------
def test_fitted_lines_and_circle_are_where_the_camera_puts_them():
    cam = camera(target=(52.5, 30.0))
    pred = LineModel(cam).one(SIZE)
    feats = extract_features(pred, PITCH)
    names = {f.name for f in feats.lines}
    assert {"halfway_line", "top_touchline", "centre_circle"} <= names
    P = cam.pitch_to_image
    for f in feats.lines:
        if f.line is not None:
            # points of the true line in view lie on the fitted line
            e = PITCH.element(f.name)
            true = apply_homography(P, e.sample(0.5))
            m = 16  # two map cells: a line at the border is cut in half by it
            inside = (true[:, 0] > m) & (true[:, 0] < SIZE[0] - m) & (true[:, 1] > m)
            inside &= true[:, 1] < SIZE[1] - m
            if inside.sum() < 5:
                continue
            d = np.abs(point_line_distance(f.line, true[inside]))
            assert np.median(d) < 2.0, (f.name, np.median(d))
        if f.conic is not None:
            true = map_conic(pitch_conic(f.name, PITCH), P)
            assert np.median(np.abs(sampson_distance(true, f.pixels))) < 4.0, f.name


def test_line_intersections_become_points_at_their_pitch_position():
    # The left penalty box from the main camera: its side lines meet the goal line and,
    # extended, meet nothing painted; the fitted lines' crossings land on the true pixels.
    cam = camera(target=(14.0, 30.0), focal=1600.0)
    pred = LineModel(cam, keep=[]).one(SIZE)  # no keypoints at all: only line geometry
    feats = extract_features(pred, PITCH)
    inter = feats.kind == 1
    assert inter.sum() >= 3
    proj = apply_homography(cam.pitch_to_image, feats.pitch[inter])
    err = np.linalg.norm(proj - feats.image[inter], axis=1)
    # a crossing far beyond what is seen of a line extrapolates its direction: such points
    # weigh less, and the well-supported ones are within a few pixels
    w = feats.weight[inter]
    strong = w >= 0.5 * w.max()
    assert np.median(err) < 3.0 and err[strong].max() < 5.0
    assert w[np.argmax(err)] < 0.5 * w.max()


def test_circle_meets_the_halfway_line_at_the_circle_top_and_bottom():
    cam = camera(target=(52.5, 32.0), focal=1500.0)
    pred = LineModel(cam, keep=[]).one(SIZE)
    feats = extract_features(pred, PITCH)
    circ = feats.kind == 2
    assert circ.sum() == 2
    assert sorted(feats.pitch[circ][:, 1].round(2).tolist()) == [24.85, 43.15]
    proj = apply_homography(cam.pitch_to_image, feats.pitch[circ])
    assert np.linalg.norm(proj - feats.image[circ], axis=1).max() < 6.0


# ----- cameras from features -----------------------------------------------------------------
@pytest.mark.parametrize(
    "case, target, focal, keep",
    [
        # centre-circle view, two keypoints on the halfway line: a homography cannot be solved
        ("centre two keypoints", (52.5, 32.0), 1500.0, ["halfway_x_top_touchline", "centre_spot"]),
        # no keypoint at all: lines, circle and the direct estimate's start
        ("centre lines only", (52.5, 32.0), 1500.0, []),
        ("penalty box lines only", (16.0, 30.0), 1700.0, []),
        ("wide view, all keypoints", (40.0, 34.0), 1000.0, None),
    ],
)
def test_calibrator_solves_views_a_homography_of_keypoints_cannot(case, target, focal, keep):
    cam = camera(target=target, focal=focal)
    model = LineModel(cam, keep=keep, direct_offset=np.array([[2.0, 1.0]] * 4))
    res = Calibrator(model).estimate(frame())
    assert res.calibration.status == CalibrationStatus.OK, case
    d = view_distance(res.calibration.homography, true_H(cam), SIZE)
    assert d < 0.25, (case, d)


def test_without_line_maps_two_keypoints_do_not_calibrate():
    # The same centre view through a keypoint-only model fails: what the lines add.
    cam = camera(target=(52.5, 32.0), focal=1500.0)
    model = LineModel(cam, keep=["halfway_x_top_touchline", "centre_spot"])
    base = model.one(SIZE)
    no_lines = replace(base, lines=np.zeros((0, 1, 1), np.float32), line_names=())

    class KeypointsOnly:
        names = MODEL_KEYPOINTS

        def predict(self, images):
            return [no_lines for _ in images]

    res = Calibrator(KeypointsOnly(), CalibratorConfig(use_direct=False)).estimate(frame())
    assert res.calibration.status == CalibrationStatus.FAILED


def test_squashed_square_frames_are_fitted_as_16_by_9():
    # A 16:9 broadcast stored as 640x640 (the Roboflow and Narya exports): the camera model
    # only holds in the unsquashed frame.
    cam = camera(target=(30.0, 30.0), focal=1200.0)
    model = LineModel(cam, keep=[])
    res = Calibrator(model).estimate(frame((640, 640)))
    assert res.calibration.status == CalibrationStatus.OK
    Hs = true_H(cam, (640, 640))
    assert view_distance(res.calibration.homography, Hs, (640, 640)) < 0.3
    assert np.allclose(display_transform((640, 640)), np.diag([1.0, 0.5625, 1.0]))


def test_wrong_line_labels_do_not_verify():
    # The network calls the right half's lines by the left half's names: the true camera
    # explains where the lines are but not their names, and a camera fitted to the wrong names
    # does not explain the maps either.
    cam = camera(target=(88.0, 30.0), focal=1600.0)
    model = LineModel(cam, keep=[])
    good = model.one(SIZE)
    names = list(MODEL_LINES)
    wrong_maps = good.lines.copy()
    for i, n in enumerate(names):
        if n.startswith("right"):
            wrong_maps[names.index(n.replace("right", "left"))] = good.lines[i]
            wrong_maps[i] = 0
    wrong = replace(good, lines=wrong_maps, direct=good.direct * np.nan)
    cal = Calibrator(model)
    assert cal._class_agreement(good, true_H(cam)) > 0.8
    assert cal._class_agreement(wrong, true_H(cam)) < 0.5
    res = cal._single(wrong)
    assert res.calibration.status == CalibrationStatus.FAILED
