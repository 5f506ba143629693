"""Simple articulated figures (players, goalkeepers, referees) and the ball, drawn in image space.

A figure is a skeleton in body metres (height along the image "up" direction, width along the
image "right" direction), posed by a running cycle, and drawn with anti-aliased OpenCV
primitives into a small patch with its own alpha. The patch's non-zero alpha gives the figure's
exact bounding box, so ground-truth boxes contain every pixel of the figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.synth.scene import Kit

__all__ = ["FigurePose", "Sprite", "draw_ball", "draw_figure"]

_SHIFT = 4
_ONE = 1 << _SHIFT
_BOOT = (25, 25, 25)


@dataclass(frozen=True)
class FigurePose:
    """Where and how to draw a figure.

    Args:
        foot: (2,) image point under the figure (ground contact), pixels.
        up: (2,) unit image direction from feet to head.
        px_per_m_up: pixels per metre along ``up`` (vertical foreshortening included).
        px_per_m_side: pixels per metre across (the horizontal image scale at that depth).
        height: body height, metres.
        phase: running-cycle phase, radians.
        swing: stride amplitude in radians (0 standing, ~0.6 sprinting).
        facing: -1..1, how much the motion is sideways in the image (sign = direction).
    """

    foot: NDArray[np.float64]
    up: NDArray[np.float64]
    px_per_m_up: float
    px_per_m_side: float
    height: float
    phase: float
    swing: float
    facing: float


@dataclass(frozen=True)
class Sprite:
    """A drawn patch: premultiplied colour (h, w, 3) float32, alpha (h, w) float32 in [0, 1],
    and the image position of its top-left pixel."""

    color: NDArray[np.float32]
    alpha: NDArray[np.float32]
    x0: int
    y0: int

    def bbox(self) -> tuple[float, float, float, float] | None:
        """Tight box (x1, y1, x2, y2) of pixels with any coverage; pixel i spans [i, i+1)."""
        ys, xs = np.nonzero(self.alpha > 0)
        if len(xs) == 0:
            return None
        return (
            float(self.x0 + xs.min()),
            float(self.y0 + ys.min()),
            float(self.x0 + xs.max() + 1),
            float(self.y0 + ys.max() + 1),
        )


class _Canvas:
    """A patch to draw into, in image coordinates with pixel centres at i + 0.5."""

    def __init__(self, points: NDArray[np.float64], pad: float, image_size: tuple[int, int]):
        w, h = image_size
        lo = np.floor(points.min(axis=0) - pad).astype(int)
        hi = np.ceil(points.max(axis=0) + pad).astype(int)
        self.x0, self.y0 = max(0, int(lo[0])), max(0, int(lo[1]))
        x1, y1 = min(w, int(hi[0])), min(h, int(hi[1]))
        self.w, self.h = max(0, x1 - self.x0), max(0, y1 - self.y0)
        self.color = np.zeros((self.h, self.w, 3), np.uint8)
        self.alpha = np.zeros((self.h, self.w), np.uint8)

    @property
    def empty(self) -> bool:
        return self.w == 0 or self.h == 0

    def _pt(self, p: NDArray[np.float64]) -> tuple[int, int]:
        # cv2 draws with pixel centres at integers: shift by half a pixel.
        return (round((p[0] - self.x0 - 0.5) * _ONE), round((p[1] - self.y0 - 0.5) * _ONE))

    def line(
        self,
        a: NDArray[np.float64],
        b: NDArray[np.float64],
        color: tuple[int, int, int],
        thick: float,
    ) -> None:
        t = max(1, round(thick))
        for img, c in ((self.color, color), (self.alpha, 255)):
            cv2.line(img, self._pt(a), self._pt(b), c, t, cv2.LINE_AA, _SHIFT)

    def poly(self, pts: NDArray[np.float64], color: tuple[int, int, int]) -> None:
        q = np.array([self._pt(p) for p in pts], np.int32)
        for img, c in ((self.color, color), (self.alpha, 255)):
            cv2.fillConvexPoly(img, q, c, cv2.LINE_AA, _SHIFT)

    def circle(self, c: NDArray[np.float64], r: float, color: tuple[int, int, int]) -> None:
        rr = max(1, round(r * _ONE))
        for img, col in ((self.color, color), (self.alpha, 255)):
            cv2.circle(img, self._pt(c), rr, col, -1, cv2.LINE_AA, _SHIFT)

    def sprite(self) -> Sprite:
        a = self.alpha.astype(np.float32) / 255.0
        # Colour was drawn over black with the same coverage: it is premultiplied already.
        return Sprite(self.color.astype(np.float32), a, self.x0, self.y0)


def draw_figure(
    pose: FigurePose, kit: Kit, image_size: tuple[int, int], gloves: bool = False
) -> Sprite:
    """Draw one person; returns its sprite (empty patch when it is off-screen)."""
    H = pose.height
    up = pose.up / (np.linalg.norm(pose.up) + 1e-12)
    right = np.array([-up[1], up[0]])  # image right, perpendicular to up
    if right[0] < 0:
        right = -right
    su, ss = pose.px_per_m_up, pose.px_per_m_side

    th = pose.swing * math.sin(pose.phase)
    side = pose.facing
    # Seen side-on a body is narrower (chest depth ~0.25 m vs shoulder width ~0.42 m).
    wf = 1.0 - 0.45 * abs(side)
    hip_a, knee_a = 0.53 * H, 0.29 * H
    sh_a, head_a, head_r = 0.81 * H, 0.915 * H, 0.062 * H
    thigh, shin = hip_a - knee_a, knee_a - 0.03 * H
    sole = 0.03 * H  # ankle height above the sole

    def leg(sign: float) -> tuple[tuple[float, float], ...]:
        """Hip, knee and ankle of one leg as (metres up, metres right)."""
        a = sign * th
        knee_b = sign * 0.07 * wf + side * thigh * math.sin(a)
        k_a = hip_a - thigh * math.cos(a)
        bend = max(0.0, -math.sin(a * sign * 1.0)) * 0.9 * pose.swing
        s_ang = a - sign * bend
        ankle_b = knee_b + side * shin * math.sin(s_ang) - side * 0.12 * bend
        ankle_a = k_a - shin * math.cos(s_ang)
        return (hip_a, sign * 0.07 * wf), (k_a, knee_b), (ankle_a, ankle_b)

    body_legs = [leg(-1.0), leg(1.0)]
    # The body drops until the lower foot stands on the ground (this is the running bob).
    drop = min(lg[2][0] for lg in body_legs) - sole

    def P(a: float, b: float) -> NDArray[np.float64]:
        """Body point: a metres up from the ground contact, b metres to the image right."""
        return pose.foot + up * ((a - drop) * su) + right * (b * ss)

    legs = [tuple(P(*j) for j in lg) for lg in body_legs]
    arm_sw = -0.8 * th
    arms = []
    for sign in (-1.0, 1.0):
        a = sign * arm_sw
        elbow_ab = (sh_a - 0.28 * math.cos(a), sign * 0.2 * wf + side * 0.28 * math.sin(a))
        hand_ab = (
            elbow_ab[0] - 0.27 * math.cos(a + 0.4 * abs(pose.swing)),
            elbow_ab[1] + side * 0.27 * math.sin(a + 0.6 * pose.swing),
        )
        arms.append((P(sh_a - 0.02, sign * 0.19 * wf), P(*elbow_ab), P(*hand_ab)))

    limb = max(1.0, 0.12 * ss)
    arm_t = max(1.0, 0.085 * ss)
    pts = np.array(
        [p for lg in legs for p in lg]
        + [p for ar in arms for p in ar]
        + [P(head_a + head_r, 0), P(0, 0)]
    )
    cv = _Canvas(pts, pad=limb + 2 + head_r * ss, image_size=image_size)
    if cv.empty:
        return Sprite(np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), np.float32), 0, 0)
    # Far leg and arm first, then torso, then near ones (order by facing is not needed at this
    # scale: both legs are drawn before the body).
    for hip, knee, ankle in legs:
        cv.line(hip, knee, kit.skin, limb)  # thigh (skin below the shorts)
        cv.line(knee, ankle, kit.socks, limb * 0.95)  # shin in socks
        cv.line(ankle, ankle + right * (0.09 * ss * (1 if side >= 0 else -1)), _BOOT, limb * 0.9)
    # Shorts: a quad from the waist to mid-thigh (lower corners ordered left to right).
    mids = sorted((lg[0] * 0.45 + lg[1] * 0.55 for lg in legs), key=lambda p: float(p @ right))
    cv.poly(
        np.array(
            [
                P(hip_a + 0.06, -0.17 * wf),
                P(hip_a + 0.06, 0.17 * wf),
                mids[1] + right * 0.06 * ss,
                mids[0] - right * 0.06 * ss,
            ]
        ),
        kit.shorts,
    )
    # Torso.
    cv.poly(
        np.array(
            [
                P(sh_a + 0.02, -0.21 * wf),
                P(sh_a + 0.02, 0.21 * wf),
                P(hip_a + 0.04, 0.16 * wf),
                P(hip_a + 0.04, -0.16 * wf),
            ]
        ),
        kit.shirt,
    )
    # Arms: sleeve then forearm (goalkeepers wear long sleeves and gloves).
    for shoulder, elbow, hand in arms:
        cv.line(shoulder, elbow, kit.shirt, arm_t)
        cv.line(elbow, hand, kit.shirt if gloves else kit.skin, arm_t * 0.9)
        if gloves:
            cv.circle(hand, 0.06 * ss, (240, 240, 240))
    # Neck, head, hair.
    cv.line(P(sh_a, 0), P(head_a - head_r * 0.6, 0), kit.skin, max(1.0, 0.09 * ss))
    cv.circle(P(head_a, 0), head_r * ss, kit.skin)
    cv.circle(P(head_a + head_r * 0.35, 0), head_r * ss * 0.8, kit.hair)
    return cv.sprite()


def draw_ball(center: NDArray[np.float64], radius_px: float, image_size: tuple[int, int]) -> Sprite:
    """A white ball with a shaded lower side; at least ~1.2 px across so it never vanishes."""
    r = max(0.6, radius_px)
    cv = _Canvas(center[None, :], pad=r + 2, image_size=image_size)
    if cv.empty:
        return Sprite(np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), np.float32), 0, 0)
    cv.circle(center, r, (235, 235, 235))
    if r > 2.5:
        cv.circle(center + np.array([0.25 * r, 0.3 * r]), 0.55 * r, (175, 175, 180))
        cv.circle(center - np.array([0.2 * r, 0.25 * r]), 0.35 * r, (250, 250, 250))
    return cv.sprite()
