"""Camera motion and cut detection against the synthetic renderer's exact cameras.

The true motion between frames ``k - 1`` and ``k`` is ``P_k @ inv(P_{k-1})`` with ``P`` the
rendered camera's ``pitch_to_image``; the estimate is compared with it on a grid of on-pitch image
points. Warped clips (a known homography per frame) add fast pans and zooms and a check of the
rescaling to full resolution. Measured numbers are printed (visible without ``-s``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from touchline.calib.motion import (
    CameraMotion,
    CutDetector,
    MotionConfig,
    MotionEstimate,
    grass_mask,
    pitch_share,
)
from touchline.synth.clip import SynthConfig, Synthesizer
from touchline.synth.render import RenderedFrame
from touchline.video import VideoReader

SIZE = (640, 360)
PITCH_LW = (105.0, 68.0)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
@dataclass
class Clip:
    syn: Synthesizer
    frames: list[RenderedFrame]

    @property
    def images(self) -> list[np.ndarray]:
        return [f.image for f in self.frames]

    def P(self, k: int) -> np.ndarray:
        return np.asarray(self.frames[k].camera.pitch_to_image, np.float64)

    def G_true(self, a: int, b: int) -> np.ndarray:
        """Image motion from frame ``a`` to frame ``b``."""
        return self.P(b) @ np.linalg.inv(self.P(a))


def _render(seed: int, n: int) -> Clip:
    syn = Synthesizer(SynthConfig(seconds=1.2, fps=25, size=SIZE, seed=seed, camera="builtin"))
    return Clip(syn, [syn.render(k) for k in range(n)])


@pytest.fixture(scope="module")
def clip3() -> Clip:
    return _render(3, 30)


@pytest.fixture(scope="module")
def clip8() -> Clip:
    return _render(8, 10)


def apply(H: np.ndarray, p: np.ndarray) -> np.ndarray:
    q = np.c_[p, np.ones(len(p))] @ H.T
    return q[:, :2] / q[:, 2:]


def on_pitch_grid(P: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """Image points (continuous px) of a 32x18 grid that see the pitch (1 m inside it)."""
    w, h = size
    xs, ys = np.meshgrid(np.linspace(8, w - 8, 32), np.linspace(8, h - 8, 18))
    p = np.c_[xs.ravel(), ys.ravel()]
    q = apply(np.linalg.inv(P), p)
    inside = (q[:, 0] > 1) & (q[:, 0] < PITCH_LW[0] - 1) & (q[:, 1] > 1)
    inside &= q[:, 1] < PITCH_LW[1] - 1
    assert inside.sum() > 100
    return p[inside]


def transfer_error(G: np.ndarray | None, G_true: np.ndarray, p: np.ndarray) -> np.ndarray:
    assert G is not None
    return np.linalg.norm(apply(G, p) - apply(G_true, p), axis=1)


def cv_matrix(H: np.ndarray) -> np.ndarray:
    """Continuous-coordinate homography -> the matrix cv2.warpPerspective expects."""
    T = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    return np.linalg.inv(T) @ H @ T


def warp(image: np.ndarray, A: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.warpPerspective(image, cv_matrix(A), size, flags=cv2.INTER_LINEAR)


def pan_zoom(n: int) -> list[np.ndarray]:
    """Views ``A_k`` (base px -> frame px) of a fast pan (9-13 px/frame) and a 1.2%/frame zoom."""
    views = []
    for k in range(n):
        s = 1.0 + 0.012 * k
        ox, oy = 20 + 12.0 * k, 70 + 1.5 * k
        views.append(np.array([[s, 0, -s * ox], [0, s, -s * oy], [0, 0, 1.0]]))
    return views


# --------------------------------------------------------------------------------------------
# Grass
# --------------------------------------------------------------------------------------------
def test_grass_mask_covers_the_pitch_not_stands_or_players(clip3: Clip) -> None:
    f = clip3.syn.render(0, layers=True)
    assert f.occlusion is not None
    m = grass_mask(f.image)
    assert m.shape == f.image.shape[:2] and m.dtype == np.bool_
    h, w = m.shape
    ys, xs = np.mgrid[0:h, 0:w]
    q = apply(np.linalg.inv(f.camera.pitch_to_image), np.c_[xs.ravel() + 0.5, ys.ravel() + 0.5])
    qx, qy = q[:, 0].reshape(h, w), q[:, 1].reshape(h, w)
    on = (qx > 0.5) & (qx < PITCH_LW[0] - 0.5) & (qy > 0.5) & (qy < PITCH_LW[1] - 0.5)
    # Beyond the pitch surround (>6 m out): boards and stands; q is behind the camera above the
    # horizon, where the mapped point is meaningless, so use the image rows above the pitch too.
    far = ~((qx > -6) & (qx < PITCH_LW[0] + 6) & (qy > -6) & (qy < PITCH_LW[1] + 6))
    free = on & ~f.occlusion
    figures = np.zeros_like(f.occlusion)
    for o in f.objects:
        x1, y1, x2, y2 = (round(v) for v in o.box)
        figures[y1:y2, x1:x2] |= f.occlusion[y1:y2, x1:x2]
    lines = clip3.syn.renderer.line_coverage_map(f.camera) > 0.9
    lines &= ~f.occlusion
    cover = {
        "free pitch": float(m[free].mean()),
        "lines": float(m[lines].mean()),
        "stands/boards": float(m[far].mean()),
        "player figures": float(m[figures].mean()),
    }
    print("grass mask coverage:", {k: round(v, 3) for k, v in cover.items()})
    assert cover["free pitch"] > 0.97
    assert cover["lines"] > 0.7
    assert far.mean() > 0.1 and cover["stands/boards"] < 0.1
    assert figures.sum() > 500 and cover["player figures"] < 0.5


def test_pitch_share_and_frames_without_pitch(clip3: Clip) -> None:
    rng = np.random.default_rng(0)
    grey = np.full((360, 640, 3), 128, np.uint8)
    blue = np.full((360, 640, 3), (200, 60, 20), np.uint8)
    noise = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    coarse_noise = cv2.resize(
        rng.integers(0, 256, (45, 80, 3), dtype=np.uint8), SIZE, interpolation=cv2.INTER_NEAREST
    )
    motion = CameraMotion()
    for name, img in [("grey", grey), ("blue", blue), ("noise", noise), ("blocks", coarse_noise)]:
        share = pitch_share(img)
        est = motion(clip3.images[0], img)
        print(f"{name}: pitch_share={share:.3f} motion={est.reason!r}")
        assert share < 0.02, name
        assert est.G is None and est.confidence == 0.0 and est.reason, name
        assert motion(img, img).G is None, name  # nothing on grass to track
    assert 0.6 < pitch_share(clip3.images[0]) < 0.95
    # Textureless grass: all pitch, but nothing to track.
    green = np.full((360, 640, 3), (40, 140, 50), np.uint8)
    assert pitch_share(green) > 0.99
    assert motion(green, green).G is None


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="BGR"):
        grass_mask(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="BGR"):
        CameraMotion().update(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="min_inliers"):
        MotionConfig(min_inliers=3)


# --------------------------------------------------------------------------------------------
# Motion
# --------------------------------------------------------------------------------------------
def test_motion_matches_the_rendered_cameras(clip3: Clip, capsys: pytest.CaptureFixture) -> None:
    motion = CameraMotion()
    assert motion.update(clip3.images[0]).reason == "first frame"
    medians, p90s, moved, confs = [], [], [], []
    for k in range(1, len(clip3.frames)):
        est = motion.update(clip3.images[k])
        G_true = clip3.G_true(k - 1, k)
        p = on_pitch_grid(clip3.P(k - 1))
        err = transfer_error(est.G, G_true, p)
        medians.append(np.median(err))
        p90s.append(np.percentile(err, 90))
        moved.append(np.median(np.linalg.norm(apply(G_true, p) - p, axis=1)))
        confs.append(est.confidence)
        assert est.G is not None and est.G[2, 2] == pytest.approx(1.0)
        assert 0 <= est.confidence <= 1 and est.inliers <= est.tracked <= est.features
        # Stateless pair call agrees with the streaming one.
        pair = motion(clip3.images[k - 1], clip3.images[k])
        assert np.median(transfer_error(pair.G, G_true, p)) < 0.5
    with capsys.disabled():
        print(
            f"\nmotion vs truth over {len(medians)} frames (camera moves median "
            f"{np.median(moved):.2f} px/frame, max {max(moved):.2f}): per-frame median error "
            f"mean {np.mean(medians):.3f} px, max {max(medians):.3f} px; per-frame p90 max "
            f"{max(p90s):.3f} px; confidence min {min(confs):.2f}"
        )
    assert max(moved) > 3  # the clip does move
    assert max(medians) < 0.5 and np.mean(medians) < 0.25
    assert max(p90s) < 1.0
    assert min(confs) > 0.5


def test_chained_motion_stays_on_the_cameras(clip3: Clip, capsys: pytest.CaptureFixture) -> None:
    motion = CameraMotion()
    motion.update(clip3.images[0])
    G = np.eye(3)
    errors = []
    for k in range(1, 21):
        est = motion.update(clip3.images[k])
        assert est.G is not None
        G = est.G @ G
        errors.append(np.median(transfer_error(G, clip3.G_true(0, k), on_pitch_grid(clip3.P(0)))))
    p = on_pitch_grid(clip3.P(0))
    total = np.median(np.linalg.norm(apply(clip3.G_true(0, 20), p) - p, axis=1))
    # Calibration propagated through the chain: pitch points land where the camera puts them.
    P20 = G @ clip3.P(0)
    with capsys.disabled():
        print(
            f"\nchained over 20 frames (camera moved {total:.1f} px): median error "
            f"{errors[-1]:.3f} px (max over the chain {max(errors):.3f} px)"
        )
    assert total > 5
    assert max(errors) < 2.0
    pts = apply(np.linalg.inv(clip3.P(20)), on_pitch_grid(clip3.P(20)))
    assert np.median(np.linalg.norm(apply(P20, pts) - apply(clip3.P(20), pts), axis=1)) < 2.0


def test_fast_pan_and_zoom(clip3: Clip, capsys: pytest.CaptureFixture) -> None:
    out = (480, 270)
    views = pan_zoom(20)
    frames = [warp(clip3.images[0], A, out) for A in views]
    p = apply(views[0], on_pitch_grid(clip3.P(0)))
    p = p[(p[:, 0] > 10) & (p[:, 0] < out[0] - 10) & (p[:, 1] > 10) & (p[:, 1] < out[1] - 10)]
    det = CutDetector()
    cuts, medians, moved = [], [], []
    for k, img in enumerate(frames):
        cuts.append(det.update(img))
        if k == 0:
            continue
        assert det.last is not None
        G_true = views[k] @ np.linalg.inv(views[k - 1])
        q = apply(views[k - 1] @ np.linalg.inv(views[0]), p)
        medians.append(np.median(transfer_error(det.last.motion.G, G_true, q)))
        moved.append(np.median(np.linalg.norm(apply(G_true, q) - q, axis=1)))
    with capsys.disabled():
        print(
            f"\nfast pan+zoom ({np.median(moved):.1f} px/frame): per-frame median error max "
            f"{max(medians):.3f} px; cuts {sum(cuts)}"
        )
    assert min(moved) > 8 and np.median(moved) > 10
    assert not any(cuts)
    assert max(medians) < 0.5


@pytest.mark.parametrize("work_width", [640, 480])
def test_motion_is_returned_at_full_resolution(clip3: Clip, work_width: int) -> None:
    w, h = 1280, 720
    base = cv2.resize(clip3.images[0], (w, h), interpolation=cv2.INTER_CUBIC)
    c = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    a = np.deg2rad(0.8)
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [1e-5, 5e-6, 1]])
    G_true = np.linalg.inv(c) @ np.diag([1.05, 1.05, 1]) @ R @ c
    G_true[:2, 2] += (9.0, -5.0)
    G_true /= G_true[2, 2]
    moved = warp(base, G_true, (w, h))
    est = CameraMotion(MotionConfig(work_width=work_width))(base, moved)
    xs, ys = np.meshgrid(np.linspace(100, 1180, 12), np.linspace(260, 660, 6))
    err = transfer_error(est.G, G_true, np.c_[xs.ravel(), ys.ravel()])
    print(f"1280x720 at work width {work_width}: median error {np.median(err):.3f} px")
    assert np.median(err) < 0.5 and err.max() < 1.5


# --------------------------------------------------------------------------------------------
# Cuts
# --------------------------------------------------------------------------------------------
def run(det: CutDetector, images: list[np.ndarray]) -> list[int]:
    return [i for i, img in enumerate(images) if det.update(img)]


def test_no_cut_within_a_continuous_clip(clip3: Clip, clip8: Clip) -> None:
    for clip in (clip3, clip8):
        assert run(CutDetector(), clip.images) == []


def test_cut_between_two_broadcasts_fires_exactly_at_the_cut(clip3: Clip, clip8: Clip) -> None:
    det = CutDetector()
    assert run(det, clip3.images[:10] + clip8.images) == [10]
    det.reset()
    assert run(det, clip8.images + clip3.images[20:]) == [10]
    assert det.last is not None and not det.last.cut and det.last.motion.G is not None


def test_cut_to_another_part_of_the_same_pitch(clip3: Clip) -> None:
    """Same colours (histograms barely move): the motion failure gives the cut away."""
    crops = [img[:, 0:400] for img in clip3.images[:6]] + [
        img[:, 240:640] for img in clip3.images[6:12]
    ]
    det = CutDetector()
    fired = []
    for i, img in enumerate(crops):
        if det.update(img):
            fired.append(i)
            assert det.last is not None
            at_cut = det.last
    assert fired == [6]
    assert at_cut.hist_distance < CutDetector().soft_distance
    assert at_cut.motion.G is None or at_cut.motion.confidence < 0.25


def test_frames_without_pitch_are_flagged_and_cut(clip3: Clip) -> None:
    rng = np.random.default_rng(1)
    crowd = cv2.resize(
        rng.integers(0, 256, (45, 80, 3), dtype=np.uint8), SIZE, interpolation=cv2.INTER_NEAREST
    )
    grey = np.full((360, 640, 3), 90, np.uint8)
    seq = [*clip3.images[:5], crowd, np.roll(crowd, 4, axis=1), grey, *clip3.images[5:10]]
    det = CutDetector()
    fired, flags = [], []
    for i, img in enumerate(seq):
        if det.update(img):
            fired.append(i)
        assert det.last is not None
        flags.append(det.last.no_pitch)
    assert flags == [False] * 5 + [True] * 3 + [False] * 5
    # Into the crowd, crowd -> grey, back to the pitch; not within the (panning) crowd shot.
    assert fired == [5, 7, 8]


def test_frame_size_change_is_a_cut(clip3: Clip) -> None:
    det = CutDetector()
    assert run(det, [clip3.images[0], clip3.images[1], clip3.images[2][:, :600]]) == [2]
    assert det.last is not None and det.last.motion.reason == "frame size changed"


# --------------------------------------------------------------------------------------------
# Real broadcast clip
# --------------------------------------------------------------------------------------------
@pytest.mark.shared_data
@pytest.mark.slow
def test_dfl_clip(shared: Callable[[str], Path], capsys: pytest.CaptureFixture) -> None:
    path = shared("video/dfl_08fd33_4.mp4")
    det = CutDetector()
    cuts, ests, shares, dists = [], [], [], []
    with VideoReader(path) as reader:
        for frame in reader:
            if det.update(frame.image):
                cuts.append(frame.index)
            assert det.last is not None
            shares.append(det.last.pitch_share)
            dists.append(det.last.hist_distance)
            if frame.index > 0:
                ests.append(det.last.motion)
    n = len(ests) + 1
    ok = [e for e in ests if e.G is not None]
    conf = np.array([e.confidence for e in ests])
    with capsys.disabled():
        print(
            f"\nDFL clip: {n} frames, cuts at {cuts} ({len(cuts)}), motion ok on {len(ok)}/"
            f"{len(ests)} pairs, confidence median {np.median(conf):.2f} min {conf.min():.2f}, "
            f"inliers median {np.median([e.inliers for e in ok]):.0f}, residual median "
            f"{np.median([e.residual for e in ok]):.2f} px, pitch share {min(shares):.2f}-"
            f"{max(shares):.2f}, histogram distance max {max(dists):.3f}"
        )
    assert n == 169
    assert len(cuts) <= 2  # one continuous shot (0 measured)
    assert len(ok) >= 0.9 * len(ests)  # 168/168 measured
    assert np.median(conf) > 0.5
    assert min(shares) > 0.3


def test_motion_estimate_defaults() -> None:
    est = MotionEstimate(None, reason="x")
    assert not est.ok and est.confidence == 0.0 and np.isnan(est.residual)
