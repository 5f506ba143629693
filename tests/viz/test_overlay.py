"""Tests of touchline.viz: projected pitch lines, warps, annotators, the radar and insets.

Every fixture is generated here: cameras come from ``PinholeCamera.look_at`` (world z points
down, so a camera ``h`` metres up has ``z = -h``), images are synthetic.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from touchline.errors import DataError
from touchline.pitch import Pitch, PitchRaster, draw_template
from touchline.synth.camera import PinholeCamera
from touchline.tracks import Tracks
from touchline.types import Calibration, Detections, ObjectClass
from touchline.viz import (
    CLASS_COLORS,
    TEAM_COLORS,
    TRACK_COLORS,
    BoxAnnotator,
    LabelAnnotator,
    Radar,
    camera_viewport,
    color_for,
    colors_for,
    draw_pitch_lines,
    inset,
    project_pitch_lines,
    warp_to_pitch,
)

SIZE = (1280, 720)
PITCH = Pitch()


def _cam(position, target, focal=900.0, size=SIZE) -> PinholeCamera:
    return PinholeCamera.look_at(position, target, focal=focal, image_size=size)


@pytest.fixture
def broadcast() -> PinholeCamera:
    """Main camera above the near touchline, 14 m up, aimed at the centre spot."""
    return _cam((52.5, 105.0, -14.0), (52.5, 34.0, 0.0), focal=900.0)


@pytest.fixture
def wide() -> PinholeCamera:
    """A high camera that sees the whole pitch (all four corners inside the image)."""
    return _cam((52.5, 130.0, -60.0), (52.5, 34.0, 0.0), focal=800.0)


@pytest.fixture
def horizon() -> PinholeCamera:
    """Camera in the middle of the pitch looking level along it: the horizon crosses the
    image and half of the pitch is behind the camera."""
    return _cam((52.5, 34.0, -14.0), (200.0, 34.0, -14.0), focal=600.0)


def _segment_distance(points: np.ndarray, lines: list[np.ndarray]) -> np.ndarray:
    """Distance from every point (n, 2) to the nearest polyline segment."""
    a = np.concatenate([p[:-1] for p in lines])
    b = np.concatenate([p[1:] for p in lines])
    ab = b - a
    ap = points[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    d = ap - t[..., None] * ab
    return np.sqrt((d * d).sum(-1)).min(axis=1)


def _inside(px: np.ndarray, size=SIZE) -> np.ndarray:
    return (px[:, 0] >= 0) & (px[:, 0] < size[0]) & (px[:, 1] >= 0) & (px[:, 1] < size[1])


# --------------------------------------------------------------------------------------------
# project_pitch_lines / draw_pitch_lines
# --------------------------------------------------------------------------------------------
LINE_KEYPOINTS = [
    "centre_spot",
    "halfway_x_top_touchline",
    "halfway_x_bottom_touchline",
    "halfway_x_centre_circle_top",
    "halfway_x_centre_circle_bottom",
    "centre_circle_left",
    "centre_circle_right",
    "left_penalty_box_top_front",
    "right_penalty_box_bottom_front",
    "left_goal_line_x_top_goal_area",
    "right_penalty_arc_top",
]


@pytest.mark.parametrize("camera", ["broadcast", "wide"])
def test_lines_pass_through_keypoints(camera, request):
    cam = request.getfixturevalue(camera)
    lines = project_pitch_lines(cam.pitch_to_image, SIZE)
    kp = PITCH.keypoint_array(LINE_KEYPOINTS)
    px = cam.project(np.c_[kp, np.zeros(len(kp))])
    seen = _inside(px)
    assert seen.sum() >= 5
    assert _segment_distance(px[seen], lines).max() < 0.5
    # ...and a point in the grass is far from every line.
    grass = cam.project([[30.0, 30.0, 0.0]])
    assert _segment_distance(grass, lines)[0] > 20


def test_polyline_ends_at_corners(wide):
    lines = project_pitch_lines(wide.pitch_to_image, SIZE)
    corners = PITCH.keypoint_array(
        ["corner_top_left", "corner_top_right", "corner_bottom_left", "corner_bottom_right"]
    )
    px = wide.project(np.c_[corners, np.zeros(4)])
    assert _inside(px).all()
    ends = np.concatenate([p[[0, -1]] for p in lines])
    d = np.linalg.norm(px[:, None] - ends[None], axis=-1).min(axis=1)
    assert d.max() < 0.5
    # A fully visible pitch is one unbroken polyline per painted line.
    assert len(lines) == len(PITCH.polylines())


def test_lines_sign_and_scale_invariant(broadcast):
    H = broadcast.pitch_to_image
    ref = project_pitch_lines(H, SIZE)
    for scaled in (-H, 3.7 * H, -0.01 * H):
        got = project_pitch_lines(scaled, SIZE)
        assert len(got) == len(ref)
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_calibration_input(broadcast):
    cal = Calibration.from_pitch_to_image(broadcast.pitch_to_image, image_size=SIZE)
    from_cal = project_pitch_lines(cal)
    from_h = project_pitch_lines(broadcast.pitch_to_image, SIZE)
    assert len(from_cal) == len(from_h)
    np.testing.assert_allclose(np.concatenate(from_cal), np.concatenate(from_h), atol=1e-6)
    assert project_pitch_lines(Calibration.uncalibrated(image_size=SIZE)) == []
    img = np.full((720, 1280, 3), 7, np.uint8)
    out = draw_pitch_lines(img, Calibration.uncalibrated())
    assert np.array_equal(out, img)


def test_horizon_in_view_is_finite_and_in_front(horizon):
    H = horizon.pitch_to_image
    # Precondition: a naive projection of the pitch behind the camera lands in the image too.
    pts = np.concatenate([p for _, p in PITCH.polylines(0.5)])
    q = np.c_[pts, np.ones(len(pts))] @ H.T
    with np.errstate(divide="ignore", invalid="ignore"):
        naive = q[:, :2] / q[:, 2:]
    assert (_inside(naive) & (q[:, 2] * np.sign(np.linalg.det(H)) < 0)).any()

    lines = project_pitch_lines(H, SIZE)
    assert lines
    allpts = np.concatenate(lines)
    assert np.isfinite(allpts).all()
    w, h = SIZE
    assert (allpts[:, 0] >= -1.5 * w - 1e-6).all() and (allpts[:, 0] <= 2.5 * w + 1e-6).all()
    assert (allpts[:, 1] >= -1.5 * h - 1e-6).all() and (allpts[:, 1] <= 2.5 * h + 1e-6).all()
    # Every vertex is the image of a painted point in front of the camera (below the horizon).
    ground = horizon.ray_ground(allpts)
    assert np.isfinite(ground).all()
    # (spots are discs: their rim is at line_width / 2 = 0.06 m)
    assert PITCH.paint_distance(ground).max() < 0.065
    assert (allpts[:, 1] > SIZE[1] / 2).all()

    img = np.zeros((720, 1280, 3), np.uint8)
    out = draw_pitch_lines(img, H, thickness=2)
    assert out[400:].any()
    assert not out[:350].any()  # the sky stays untouched


def test_all_behind_camera_gives_no_lines():
    # Looking away from the pitch and up: the mirror image of the pitch would fill the view.
    cam = _cam((52.5, 105.0, -14.0), (52.5, 200.0, -40.0), focal=500.0)
    H = cam.pitch_to_image
    pts = np.concatenate([p for _, p in PITCH.polylines(0.5)])
    q = np.c_[pts, np.ones(len(pts))] @ H.T
    assert _inside(q[:, :2] / q[:, 2:]).mean() > 0.5  # precondition
    assert (cam.depth(np.c_[pts, np.zeros(len(pts))]) < 0).all()
    for m in (H, -H):
        assert project_pitch_lines(m, SIZE) == []
    img = np.zeros((720, 1280, 3), np.uint8)
    assert not draw_pitch_lines(img, H).any()


def test_affine_views_show_everything():
    # Top-down 10 px/m, also with y flipped (a y-up drawing); no horizon, all in front.
    for H in (np.diag([10.0, 10.0, 1.0]), np.array([[10.0, 0, 0], [0, -10.0, 680.0], [0, 0, 1]])):
        lines = project_pitch_lines(H, (1050, 680))
        assert len(lines) == len(PITCH.polylines())


@pytest.mark.parametrize(
    "bad", [np.eye(2), np.full((3, 3), np.nan), [[1, 2, 3]]], ids=["2x2", "nan", "row"]
)
def test_bad_homography_raises(bad):
    with pytest.raises(DataError):
        project_pitch_lines(bad, SIZE)


def test_missing_image_size_raises():
    with pytest.raises(DataError, match="image_size"):
        project_pitch_lines(np.eye(3))


def test_singular_homography_gives_nothing():
    assert project_pitch_lines(np.zeros((3, 3)), SIZE) == []
    assert project_pitch_lines(np.ones((3, 3)), SIZE) == []


def test_draw_pitch_lines_copy_and_colour(broadcast):
    img = np.zeros((720, 1280, 3), np.uint8)
    out = draw_pitch_lines(img, broadcast.pitch_to_image, color=(0, 255, 0))
    assert not img.any() and out[..., 1].any() and not out[..., 0].any()
    same = draw_pitch_lines(img, broadcast.pitch_to_image, copy=False)
    assert same is img and img[..., 2].any()
    # The drawn pixels sit on the projected centre spot.
    spot = broadcast.project([[52.5, 34.0, 0.0]])[0]
    assert out[int(spot[1]), int(spot[0]), 1] > 100


# --------------------------------------------------------------------------------------------
# warp_to_pitch
# --------------------------------------------------------------------------------------------
def _shift(d: float) -> np.ndarray:
    return np.array([[1, 0, d], [0, 1, d], [0, 0, 1]], dtype=np.float64)


def test_warp_pixel_centre_convention():
    raster = PitchRaster.fit(PITCH, px_per_m=4.0, margin=2.0)
    # Image continuous c -> raster continuous 2 c: the raster is the image upsampled x2.
    h_ip = np.linalg.inv(raster.pitch_to_raster) @ np.diag([2.0, 2.0, 1.0])
    ramp = np.tile(np.arange(300, dtype=np.float32) * 4, (200, 1))
    top, got_raster = warp_to_pitch(ramp, h_ip, px_per_m=4.0, margin=2.0)
    assert got_raster == raster and top.dtype == np.float32
    i = np.arange(10, 400)
    # Raster pixel i has centre i + 0.5 -> image continuous (i + 0.5) / 2 -> index i/2 - 0.25.
    np.testing.assert_allclose(top[100, i], 4 * (i / 2 - 0.25), atol=0.2)


def test_warp_recovers_template(broadcast):
    ppm, margin = 8.0, 3.0
    template, raster = draw_template(
        px_per_m=ppm, margin=margin, stripes=None, line_width=0.5, grass=(60, 140, 60)
    )
    # Render the template into the camera view (pixel-centre correct).
    raster_to_image = (
        _shift(-0.5)
        @ broadcast.pitch_to_image
        @ np.linalg.inv(raster.pitch_to_raster)
        @ _shift(0.5)
    )
    frame = cv2.warpPerspective(template, raster_to_image, SIZE, flags=cv2.INTER_LINEAR)
    top, got = warp_to_pitch(frame, broadcast.image_to_pitch, px_per_m=ppm, margin=margin)
    assert got == raster and top.shape == template.shape
    seen = top.min(axis=2) > 0
    # Compare where the camera has at least ~1 px per 12 cm (the near half of the view).
    near = np.zeros_like(seen)
    near[int((34 + margin) * ppm) :] = True
    region = seen & near
    assert region.sum() > 20000
    white_t = template.min(axis=2) > 160
    white_w = top.min(axis=2) > 160
    inter = (white_t & white_w & region).sum()
    union = ((white_t | white_w) & region).sum()
    assert union > 500 and inter / union > 0.7
    # A mask shifted by half a metre no longer matches.
    shifted = np.roll(white_w, 4, axis=1)
    assert (white_t & shifted & region).sum() / ((white_t | shifted) & region).sum() < 0.5


def test_warp_blacks_out_ground_behind_camera(horizon):
    frame = np.full((720, 1280, 3), 200, np.uint8)
    top, raster = warp_to_pitch(frame, horizon.image_to_pitch, px_per_m=2.0, margin=0.0)
    col = lambda x: int(x * raster.px_per_m)  # noqa: E731
    assert top[:, col(20.0)].max() == 0  # behind the camera (x < 52.5)
    assert top[34 * 2, col(80.0)].min() == 200  # in front, inside the view


def test_warp_invalid_calibration_is_black():
    top, raster = warp_to_pitch(np.full((10, 10, 3), 255, np.uint8), Calibration.uncalibrated())
    assert top.shape == (raster.height, raster.width, 3) and not top.any()


# --------------------------------------------------------------------------------------------
# camera_viewport
# --------------------------------------------------------------------------------------------
def _contains(poly: np.ndarray, point) -> bool:
    contour = poly.astype(np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) > 0


def test_viewport_contains_image_centre(broadcast):
    poly = camera_viewport(broadcast.image_to_pitch, SIZE)
    assert poly is not None and np.isfinite(poly).all()
    centre = broadcast.ray_ground([[640.0, 360.0]])[0]
    assert _contains(poly, centre)
    assert not _contains(poly, (2.0, 66.0))  # a near corner, outside this view
    # The image corners that see the ground are polygon vertices.
    corner = broadcast.ray_ground([[0.0, 720.0]])[0]
    assert np.linalg.norm(poly - corner, axis=1).min() < 1e-6
    cal = Calibration(broadcast.image_to_pitch, image_size=SIZE)
    np.testing.assert_allclose(camera_viewport(cal), poly, atol=1e-6)


def test_viewport_tilted_up_is_finite_and_bounded():
    cam = _cam((52.5, 105.0, -14.0), (52.5, -100.0, -30.0), focal=700.0)
    assert np.isnan(cam.ray_ground([[640.0, 100.0]])).all()  # precondition: sky in view
    poly = camera_viewport(cam.image_to_pitch, SIZE, margin=40.0)
    assert poly is not None and np.isfinite(poly).all()
    assert (poly >= -40 - 1e-6).all()
    assert (poly[:, 0] <= 145 + 1e-6).all() and (poly[:, 1] <= 108 + 1e-6).all()
    assert _contains(poly, cam.ray_ground([[640.0, 700.0]])[0])
    assert camera_viewport(-cam.image_to_pitch, SIZE) is not None


def test_viewport_none_without_ground():
    sky = _cam((52.5, 105.0, -14.0), (52.5, 0.0, -200.0), focal=900.0)
    assert camera_viewport(sky.image_to_pitch, SIZE) is None
    assert camera_viewport(Calibration.uncalibrated(image_size=SIZE)) is None


# --------------------------------------------------------------------------------------------
# Colours and annotators
# --------------------------------------------------------------------------------------------
def _dets() -> Detections:
    return Detections(
        xyxy=[[40, 40, 80, 120], [160, 40, 200, 120], [250, 60, 256, 66], [100, 150, 130, 190]],
        confidence=[0.9, 0.8, 0.7, 0.6],
        class_id=[ObjectClass.PLAYER, ObjectClass.PLAYER, ObjectClass.BALL, ObjectClass.REFEREE],
        tracker_id=[3, 4, 5, 25],
        data={"team": [0, 1, -1, -1]},
    )


@pytest.mark.parametrize(
    ("index", "color_by", "expected"),
    [
        (0, "team", TEAM_COLORS["team_0"]),
        (1, "team", TEAM_COLORS["team_1"]),
        (2, "team", TEAM_COLORS["ball"]),
        (3, "team", TEAM_COLORS["referee"]),
        (0, "class", CLASS_COLORS["player"]),
        (3, "class", CLASS_COLORS["referee"]),
        (0, "track", TRACK_COLORS[3 % len(TRACK_COLORS)]),
        (3, "track", TRACK_COLORS[25 % len(TRACK_COLORS)]),
    ],
)
def test_color_for(index, color_by, expected):
    assert color_for(_dets(), index, color_by) == expected


def test_colors_distinct_and_fallbacks():
    assert len(set(TEAM_COLORS.values())) == len(TEAM_COLORS)
    no_team = Detections(xyxy=np.zeros((2, 4)), class_id=[0, 1])
    assert colors_for(no_team).tolist() == [
        list(TEAM_COLORS["unknown"]),
        list(TEAM_COLORS["goalkeeper"]),
    ]
    assert colors_for(Detections(xyxy=np.zeros((1, 4))), "track").tolist() == [
        list(TEAM_COLORS["unknown"])
    ]
    with pytest.raises(ValueError, match="color_by"):
        colors_for(_dets(), "shirt")


def test_box_annotator_draws_inside_boxes_only():
    scene = np.zeros((200, 300, 3), np.uint8)
    dets = _dets()
    out = BoxAnnotator(thickness=2).annotate(scene, dets)
    assert not scene.any()  # copied
    # Box edges are drawn in the team colours...
    assert out[80, 40].tolist() == list(TEAM_COLORS["team_0"])
    assert out[80, 199].tolist() == list(TEAM_COLORS["team_1"])
    assert out[80, 40].tolist() != out[80, 160].tolist()
    # ...box interiors and pixels away from every box are untouched.
    assert not out[50:110, 45:75].any()
    changed = out.any(axis=2)
    near = np.zeros_like(changed)
    for x1, y1, x2, y2 in dets.xyxy.astype(int):
        near[max(y1 - 20, 0) : y2 + 3, max(x1 - 10, 0) : x2 + 10] = True
    assert changed.any() and not (changed & ~near).any()


def test_box_annotator_ball_marker():
    scene = np.zeros((200, 300, 3), np.uint8)
    ball = _dets()[2:3]  # box (250, 60) - (256, 66)
    out = BoxAnnotator(thickness=2).annotate(scene, ball)
    assert not out[60:66, 250:256].any()  # the ball itself stays visible
    assert (out[40:60, 245:261] > 200).all(axis=2).sum() >= 6  # white marker just above it
    boxed = BoxAnnotator(thickness=2, ball_marker=False).annotate(scene, ball)
    assert boxed[60:66, 250:256].any() and not boxed[:59].any()


def test_annotators_empty_and_in_place():
    scene = np.full((50, 60, 3), 9, np.uint8)
    for ann in (BoxAnnotator(), LabelAnnotator()):
        out = ann.annotate(scene, Detections.empty())
        assert out is not scene and np.array_equal(out, scene)
    same = BoxAnnotator().annotate(scene, _dets()[:1], copy=False)
    assert same is scene and (scene != 9).any()


def test_box_thickness_scales_with_image():
    dets = Detections(xyxy=[[100, 100, 400, 400]], class_id=[0], data={"team": [0]})
    small = BoxAnnotator().annotate(np.zeros((720, 1280, 3), np.uint8), dets)
    big = BoxAnnotator().annotate(np.zeros((1440, 2560, 3), np.uint8), dets)
    assert (big[250, 100:120].any(axis=1)).sum() > (small[250, 100:120].any(axis=1)).sum()


def test_box_annotator_keeps_hyper_parameters_verbatim():
    ann = BoxAnnotator(color_by="track", thickness=None, ball_marker=False)
    assert (ann.color_by, ann.thickness, ann.ball_marker) == ("track", None, False)


@pytest.mark.parametrize(
    ("kwargs", "dets", "expected"),
    [
        ({}, _dets(), ["#3", "#4", "#5", "#25"]),
        ({"show_confidence": True}, _dets()[:1], ["#3 0.90"]),
        ({}, Detections(xyxy=np.zeros((2, 4)), class_id=[1, 2]), ["goalkeeper", "referee"]),
        ({}, Detections(xyxy=np.zeros((1, 4))), [""]),
    ],
)
def test_label_texts(kwargs, dets, expected):
    assert LabelAnnotator(**kwargs).labels(dets) == expected


def test_label_annotator_draws_above_boxes():
    scene = np.zeros((200, 300, 3), np.uint8)
    dets = _dets()
    out = LabelAnnotator().annotate(scene, dets)
    assert out[20:40, 40:80].any()  # above the first box
    assert not out[45:115, 45:75].any()  # not over the box
    assert not out[40:60, 240:265].any()  # the ball is not labelled by default
    assert LabelAnnotator(label_ball=True).annotate(scene, dets)[40:60, 240:265].any()
    below = LabelAnnotator(position="bottom").annotate(scene, dets[:1])
    assert below[120:140, 40:80].any() and not below[:40].any()
    custom = LabelAnnotator().annotate(scene, dets[:1], labels=["GK"])
    assert custom.any() and not np.array_equal(custom, out)
    with pytest.raises(DataError):
        LabelAnnotator().annotate(scene, dets, labels=["a"])


# --------------------------------------------------------------------------------------------
# Radar
# --------------------------------------------------------------------------------------------
def _pixel(radar: Radar, img: np.ndarray, xy) -> list[int]:
    u, v, _ = radar.raster.pitch_to_raster @ [xy[0], xy[1], 1.0]
    return img[int(v), int(u)].tolist()


def test_radar_team_colours_at_positions():
    radar = Radar(width=420)
    pts = np.array([[10.0, 20.0], [70.0, 50.0], [52.5, 5.0], [90.0, 34.0]])
    img = radar.render(
        pts,
        teams=[0, 1, -1, 0],
        classes=[ObjectClass.PLAYER, ObjectClass.PLAYER, ObjectClass.REFEREE, 1],
    )
    assert _pixel(radar, img, pts[0]) == list(TEAM_COLORS["team_0"])
    assert _pixel(radar, img, pts[1]) == list(TEAM_COLORS["team_1"])
    assert _pixel(radar, img, pts[2]) == list(TEAM_COLORS["referee"])
    assert _pixel(radar, img, pts[3]) == list(TEAM_COLORS["goalkeeper"])
    # Elsewhere the template is untouched.
    assert _pixel(radar, img, (30.0, 40.0)) == _pixel(radar, radar.template, (30.0, 40.0))


def test_radar_skips_nan_and_keeps_template():
    radar = Radar(width=300)
    before = radar.template.copy()
    one = radar.render([[30.0, 30.0]], teams=[1])
    with_nan = radar.render([[30.0, 30.0], [np.nan, np.nan], [np.nan, 10.0]], teams=[1, 0, 0])
    assert np.array_equal(one, with_nan)
    assert np.array_equal(radar.template, before)
    assert np.array_equal(radar.render(np.empty((0, 2))), before)


def test_radar_ball_drawn_last_and_ids():
    radar = Radar(width=420)
    pts = [[40.0, 30.0], [40.0, 30.0]]
    img = radar.render(pts, teams=[0, -1], classes=[ObjectClass.BALL, ObjectClass.PLAYER])
    assert _pixel(radar, img, pts[0]) == list(TEAM_COLORS["ball"])
    labelled = radar.render(pts[:1], teams=[0], ids=[17])
    assert (labelled != radar.render(pts[:1], teams=[0])).any()


def test_radar_viewport_and_trails():
    radar = Radar(width=420)
    quad = np.array([[20.0, 10.0], [60.0, 10.0], [70.0, 60.0], [10.0, 60.0]])
    img = radar.render(np.empty((0, 2)), viewport=quad)
    inside = _pixel(radar, img, (40.0, 40.0))
    assert sum(inside) > sum(_pixel(radar, radar.template, (40.0, 40.0)))
    assert _pixel(radar, img, (90.0, 40.0)) == _pixel(radar, radar.template, (90.0, 40.0))
    trail = np.array([[80.0, 10.0], [80.0, 30.0], [np.nan, np.nan], [85.0, 40.0], [90.0, 40.0]])
    img = radar.render([[90.0, 40.0]], teams=[1], trails=[trail])
    assert _pixel(radar, img, (80.0, 25.0)) != _pixel(radar, radar.template, (80.0, 25.0))
    assert _pixel(radar, img, (82.5, 35.0)) == _pixel(radar, radar.template, (82.5, 35.0))


def test_radar_background_options():
    flat = Radar(width=210, background=(10, 20, 30), margin=1.0)
    assert flat.template[0, 0].tolist() == [10, 20, 30]
    img = np.full_like(flat.template, 99)
    custom = Radar(width=210, background=img, margin=1.0)
    assert (custom.template == 99).all()
    with pytest.raises(DataError):
        Radar(width=100, background=img)
    assert (flat.width, flat.margin, flat.pitch) == (210, 1.0, None)


def test_radar_render_detections_and_tracks():
    radar = Radar(width=420)
    dets = Detections(
        xyxy=np.zeros((2, 4)),
        class_id=[0, 0],
        tracker_id=[7, 8],
        data={"team": [0, 1], "pitch_xy": [[20.0, 20.0], [60.0, 40.0]]},
    )
    img = radar.render_detections(dets)
    assert _pixel(radar, img, (60.0, 40.0)) == list(TEAM_COLORS["team_1"])
    with pytest.raises(DataError, match="pitch_xy"):
        radar.render_detections(Detections(xyxy=np.zeros((1, 4))))
    frames = []
    for k in range(10):
        d = Detections(
            xyxy=np.zeros((2, 4)),
            class_id=[0, 0],
            tracker_id=[7, 8],
            data={"team": [0, 1], "pitch_xy": [[20.0 + 2 * k, 20.0], [60.0, 40.0 - k]]},
        )
        frames.append((k, k / 10, d))
    tracks = Tracks.from_frames(frames, fps=10.0)
    now = radar.render_tracks(tracks, 9)
    assert _pixel(radar, now, (38.0, 20.0)) == list(TEAM_COLORS["team_0"])
    trailed = radar.render_tracks(tracks, 9, trail=0.5)
    tpl = radar.template
    assert _pixel(radar, trailed, (31.0, 20.0)) != _pixel(radar, tpl, (31.0, 20.0))  # 0.5 s ago
    assert _pixel(radar, trailed, (22.0, 20.0)) == _pixel(radar, tpl, (22.0, 20.0))  # too old


@pytest.mark.parametrize(
    ("corner", "rows", "cols"),
    [
        ("top-left", slice(12, 40), slice(12, 100)),
        ("top-right", slice(12, 40), slice(-100, -12)),
        ("bottom-left", slice(-40, -12), slice(12, 100)),
        ("bottom-right", slice(-40, -12), slice(-100, -12)),
    ],
)
def test_inset_corners(corner, rows, cols):
    frame = np.zeros((360, 640, 3), np.uint8)
    radar = np.full((140, 210, 3), 200, np.uint8)
    out = inset(frame, radar, corner=corner, scale=0.3, alpha=1.0, pad=12)
    assert not frame.any()
    assert (out[rows, cols] == 200).all()
    assert int((out > 0).any(axis=2).sum()) == 192 * 128  # 0.3 * 640 wide, aspect kept
    assert not out[150:210, 250:390].any()


def test_inset_blends_and_validates():
    frame = np.full((360, 640, 3), 100, np.uint8)
    out = inset(frame, np.full((50, 50, 3), 200, np.uint8), alpha=0.5, corner="top-left")
    assert abs(int(out[20, 20, 0]) - 150) <= 1
    with pytest.raises(ValueError, match="corner"):
        inset(frame, frame, corner="middle")
    with pytest.raises(ValueError):
        inset(frame, frame, scale=0.0)


def test_drawn_lines_follow_the_pixel_convention():
    # 10 px/m: the halfway line is at continuous x = 525.0, the border of columns 524 and 525.
    img = np.zeros((700, 1100, 3), np.uint8)
    out = draw_pitch_lines(img, np.diag([10.0, 10.0, 1.0]), color=(255, 255, 255), thickness=1)
    left, right = int(out[200, 524, 0]), int(out[200, 525, 0])
    assert left > 60 and right > 60 and abs(left - right) <= 0.25 * max(left, right)
    assert not out[200, 522].any() and not out[200, 527].any()
