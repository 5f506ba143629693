"""Broadcast-style frame rendering with exact ground truth.

The world is a few textured planes seen through a :class:`~touchline.synth.camera.PinholeCamera`:
the ground (striped, noisy grass), the stands (a crowd on sloped planes) and advertising boards
(vertical planes), each warped with its exact plane homography; painted lines are rasterised
analytically from the pitch's distance field (true width at any distance, anti-aliased, never
aliased); players, goalkeepers, referees and the ball are articulated figures with shadows, drawn
far to near.

Image coordinates: pixel (i, j) covers [i, i+1) x [j, j+1); its centre is (i + 0.5, j + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from touchline.geometry.homography import cv2_matrix
from touchline.pitch import Pitch, distance_image_coverage
from touchline.synth.camera import PinholeCamera
from touchline.synth.figures import FigurePose, Sprite, draw_ball, draw_figure
from touchline.synth.scene import Scene
from touchline.types import ObjectClass

__all__ = ["FrameObject", "RenderStyle", "RenderedFrame", "Renderer"]

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class RenderStyle:
    """Look of the rendered world. ``seed`` draws the grass, crowd, boards and sun."""

    seed: int = 0
    grass_ppm: float = 10.0  # texels per metre of the grass texture
    line_ppm: float = 40.0  # texels per metre of the line distance field (<1 mm error)
    line_color: tuple[int, int, int] = (238, 240, 236)
    blur_sigma: float = 0.5  # optics, pixels (0 disables)
    noise_sigma: float = 2.0  # sensor noise, grey levels (0 disables)
    shadows: bool = True
    stands: bool = True
    boards: bool = True


@dataclass(frozen=True)
class FrameObject:
    """Ground truth of one visible actor in one frame.

    ``box`` is the tight box (x1, y1, x2, y2) of the drawn figure clipped to the image;
    ``foot`` the image point of its ground position; ``pitch`` its position in touchline
    metres; ``visibility`` the share of its pixels not hidden by nearer figures (and inside
    the image).
    """

    id: int
    role: ObjectClass
    team: int
    box: tuple[float, float, float, float]
    foot: tuple[float, float]
    pitch: tuple[float, float]
    z: float
    visibility: float


@dataclass
class RenderedFrame:
    """One rendered frame: the BGR image, ground truth, and optional diagnostic layers."""

    image: NDArray[np.uint8]
    camera: PinholeCamera
    objects: list[FrameObject]
    occlusion: NDArray[np.bool_] | None = None  # pixels where something covers the ground


@dataclass(frozen=True)
class _Plane:
    """A textured plane: texture (BGR uint8) and the map texture px -> homogeneous world."""

    texture: NDArray[np.uint8]
    A: F64  # (4, 3): (u_px, v_px, 1) -> homogeneous world point
    kind: str  # "stand" (behind the ground) or "board" (in front of the ground beyond it)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> F32:
    """Gaussian noise blurred with ``sigma`` pixels, scaled to unit standard deviation."""
    n: F32 = np.asarray(
        cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), sigma), np.float32
    )
    return n / np.float32(n.std() + 1e-6)


def _front_mask(H_img_to_plane: np.ndarray, size: tuple[int, int]) -> NDArray[np.bool_]:
    """Pixels whose ray meets the plane in front of the camera (third coordinate > 0)."""
    w, h = size
    r = H_img_to_plane[2]
    u = (np.arange(w, dtype=np.float32) + 0.5) * np.float32(r[0])
    v = (np.arange(h, dtype=np.float32) + 0.5) * np.float32(r[1]) + np.float32(r[2])
    return (v[:, None] + u[None, :]) > 0


def _ground_front(
    cam: PinholeCamera, xs: NDArray[np.intp], ys: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """Whether the rays through pixels (xs, ys) meet the ground in front of the camera."""
    Hinv = np.linalg.inv(cam.P[:, [0, 1, 3]])
    return Hinv[2, 0] * (xs + 0.5) + Hinv[2, 1] * (ys + 0.5) + Hinv[2, 2] > 0


class Renderer:
    """Renders frames of a scene through per-frame cameras.

    Textures are built once per renderer (a second or so); each frame then costs a few warps
    and some drawing (about 60-100 ms at 1280x720 on one core).

    Args:
        pitch: the pitch (line geometry).
        image_size: ``(width, height)``.
        style: colours, resolution and effects.
    """

    def __init__(self, pitch: Pitch, image_size: tuple[int, int], style: RenderStyle | None = None):
        self.pitch = pitch
        self.size = (int(image_size[0]), int(image_size[1]))
        self.style = style or RenderStyle()
        rng = np.random.default_rng(self.style.seed)
        self._rng_seed = self.style.seed
        L, W = pitch.length, pitch.width
        # Ground texture extent (metres): beyond the boards on the far side, generous near side.
        self._g0 = np.array([-14.0, -10.0])
        self._g1 = np.array([L + 14.0, W + 30.0])
        self._grass = self._make_grass(rng)
        self._dist_origin = np.array([-2.0, -2.0])
        self._dist = self._make_distance()
        self._planes = (
            self._make_surroundings(rng) if (self.style.stands or self.style.boards) else []
        )
        self._sun = self._make_sun(rng)
        h, w = self.size[1], self.size[0]
        self._background = self._make_background(w, h)
        nrng = np.random.default_rng(self.style.seed + 7)
        # Sensor noise: a few fixed fields, cycled, split into saturating +/- uint8 parts.
        self._noise: list[tuple[NDArray[np.uint8], NDArray[np.uint8]]] = []
        for _ in range(6 if self.style.noise_sigma > 0 else 0):
            n = np.round(nrng.normal(0, self.style.noise_sigma, (h, w, 1))).repeat(3, axis=2)
            self._noise.append(
                (np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8))
            )

    # ----- textures -------------------------------------------------------------------------
    def _make_grass(self, rng: np.random.Generator) -> NDArray[np.uint8]:
        ppm = self.style.grass_ppm
        ext = self._g1 - self._g0
        tw, th = round(ext[0] * ppm), round(ext[1] * ppm)
        xs = self._g0[0] + (np.arange(tw) + 0.5) / ppm
        ys = self._g0[1] + (np.arange(th) + 0.5) / ppm
        hue = rng.uniform(-1, 1)
        base = np.array([55 + 10 * hue, 128 + 12 * rng.uniform(-1, 1), 62 - 8 * hue], np.float32)
        light = base * np.float32(rng.uniform(1.08, 1.18))
        n_stripes = int(rng.choice([16, 18, 20, 22]))
        band = np.floor(xs / (self.pitch.length / n_stripes)).astype(int) % 2 == 0
        img = np.where(band[None, :, None], light, base) * np.ones((th, 1, 1), np.float32)
        if rng.random() < 0.35:  # checkered mowing
            cross = np.floor(ys / (self.pitch.width / 8)).astype(int) % 2 == 0
            img *= np.where(cross[:, None, None], np.float32(1.04), np.float32(0.97))
        lowf = _smooth_noise(rng, (th, tw), 2.5 * ppm)
        midf = _smooth_noise(rng, (th, tw), 0.25 * ppm)
        img *= (1 + 0.045 * lowf + 0.03 * midf)[..., None]
        # Worn goal mouths: browner near the penalty spots.
        for sx in (
            self.pitch.dims.penalty_spot_distance - 5,
            self.pitch.length - self.pitch.dims.penalty_spot_distance + 5,
        ):
            d2 = ((xs[None, :] - sx) / 6.0) ** 2 + ((ys[:, None] - self.pitch.width / 2) / 9.0) ** 2
            wear = (np.exp(-d2) * rng.uniform(0.1, 0.3)).astype(np.float32)
            img = (
                img * (1 - wear[..., None]) + np.array([70, 110, 120], np.float32) * wear[..., None]
            )
        return np.clip(img, 0, 255).astype(np.uint8)

    def _make_distance(self) -> F32:
        """Distance (m) to the nearest painted line centre over the pitch + 2 m, float32."""
        ppm = self.style.line_ppm
        shape = (round((self.pitch.width + 4.0) * ppm), round((self.pitch.length + 4.0) * ppm))
        return self.pitch.paint_distance_grid(tuple(self._dist_origin), ppm, shape, cap=2.0)

    def _make_surroundings(self, rng: np.random.Generator) -> list[_Plane]:
        L, W = self.pitch.length, self.pitch.width
        planes: list[_Plane] = []
        if self.style.stands:
            # Far stand and the two end stands: sloped planes rising away from the pitch.
            slope = math.radians(rng.uniform(28, 36))
            cs, sn = math.cos(slope), math.sin(slope)
            crowd_ppm = 16.0
            span_u, span_v = L + 80.0, 45.0
            tex = self._crowd(rng, round(span_u * crowd_ppm), round(span_v * crowd_ppm))
            s = 1.0 / crowd_ppm
            y0 = -9.5
            # (u_px, v_px) -> (x, y, z): v_px = 0 at the top (far, high) row of the texture.
            planes.append(
                _Plane(
                    tex,
                    np.array(
                        [
                            [s, 0, -40.0],
                            [0, s * cs, y0 - span_v * cs],
                            [0, s * sn, -span_v * sn],
                            [0, 0, 1],
                        ]
                    ),
                    "stand",
                )
            )
            span_e = W + 60.0
            for x_edge, sign in ((-12.0, -1.0), (L + 12.0, 1.0)):
                tex_e = self._crowd(rng, round(span_e * crowd_ppm), round(span_v * crowd_ppm))
                # u along y (from -30 to W+30), v up the slope away from the pitch.
                planes.append(
                    _Plane(
                        tex_e,
                        np.array(
                            [
                                [0, -sign * s * cs, x_edge + sign * span_v * cs],
                                [s if sign > 0 else -s, 0, -30.0 if sign > 0 else W + 30.0],
                                [0, s * sn, -span_v * sn],
                                [0, 0, 1],
                            ]
                        ),
                        "stand",
                    )
                )
        if self.style.boards:
            bppm = 40.0
            bh = 0.9
            far = self._board_texture(rng, round((L + 8) * bppm), round(bh * bppm))
            s = 1.0 / bppm
            planes.append(
                _Plane(
                    far,
                    np.array(
                        [
                            [s, 0, -4.0],
                            [0, 0, -4.5],
                            [0, s, -bh],
                            [0, 0, 1],
                        ]
                    ),
                    "board",
                )
            )
            for x_edge, sign in ((-5.0, -1.0), (L + 5.0, 1.0)):
                end = self._board_texture(rng, round((W + 6) * bppm), round(bh * bppm))
                planes.append(
                    _Plane(
                        end,
                        np.array(
                            [
                                [0, 0, x_edge],
                                [s if sign > 0 else -s, 0, -3.0 if sign > 0 else W + 3.0],
                                [0, s, -bh],
                                [0, 0, 1],
                            ]
                        ),
                        "board",
                    )
                )
        return planes

    @staticmethod
    def _crowd(rng: np.random.Generator, w: int, h: int) -> NDArray[np.uint8]:
        """A stand full of spectators: rows of seats, each person a head over a torso.

        One seat cell is 8 x 12 texels (0.5 x 0.75 m at 16 texels per metre).
        """
        cw, ch = max(1, w // 8), max(1, h // 12)
        seat = np.array(
            rng.choice([[60, 60, 60], [120, 60, 30], [30, 30, 150], [150, 150, 150]]), np.float32
        )
        shirts = rng.integers(20, 235, size=(ch, cw, 3)).astype(np.float32)
        fans = rng.random((ch, cw)) < 0.4
        shirts[fans] = rng.integers(0, 255, 3) + rng.normal(0, 18, (int(fans.sum()), 3))
        skin = np.array(
            rng.choice([[140, 170, 215], [90, 120, 170], [60, 80, 120]], size=(ch, cw)), np.float32
        )
        filled = (rng.random((ch, cw)) < rng.uniform(0.75, 0.97)).astype(np.float32)[..., None]
        # Cell template: a head (rows 1-4) over a torso (rows 5-11).
        yy, xx = np.mgrid[0:12, 0:8]
        head = (((xx - 3.5) / 2.0) ** 2 + ((yy - 2.5) / 2.0) ** 2 <= 1).astype(np.float32)
        body = ((yy >= 5) & (np.abs(xx - 3.5) <= 1.5 + (yy - 5) * 0.35)).astype(np.float32)
        tile = lambda a: np.tile(a, (ch, cw))[..., None]  # noqa: E731
        up = lambda a: np.repeat(np.repeat(a, 12, axis=0), 8, axis=1)  # noqa: E731
        m_head, m_body = tile(head) * up(filled), tile(body) * up(filled)
        img = seat * 0.8 * (1 - m_head - m_body) + up(shirts) * m_body + up(skin) * m_head
        rows = (np.arange(ch * 12) % 12 == 11)[:, None, None]
        img = np.where(rows, img * 0.4, img)
        img = cv2.GaussianBlur(img, (0, 0), 0.6)
        out = np.zeros((h, w, 3), np.uint8)
        out[: ch * 12, : cw * 8] = np.clip(img, 0, 255)
        return out

    @staticmethod
    def _board_texture(rng: np.random.Generator, w: int, h: int) -> NDArray[np.uint8]:
        """Advertising boards: coloured panels with brand-like lettering."""
        img = np.zeros((h, w, 3), np.uint8)
        words = [
            "TOUCHLINE",
            "NARYA",
            "PITCHSIDE",
            "KICKOFF",
            "OFFSIDE",
            "VOLLEY",
            "CORNER",
            "GOLAZO",
            "STADIA",
            "HALFWAY",
        ]
        x = 0
        while x < w:
            pw = int(rng.integers(6 * h, 14 * h))
            bg = tuple(int(c) for c in rng.integers(0, 256, 3))
            fg = (255, 255, 255) if sum(bg) < 380 else (20, 20, 20)
            cv2.rectangle(img, (x, 0), (x + pw, h), bg, -1)
            word = words[int(rng.integers(len(words)))]
            scale = h / 30.0
            (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_DUPLEX, scale, 2)
            cv2.putText(
                img,
                word,
                (x + max(2, (pw - tw) // 2), (h + th) // 2),
                cv2.FONT_HERSHEY_DUPLEX,
                scale,
                fg,
                max(1, round(scale * 1.5)),
                cv2.LINE_AA,
            )
            x += pw
        return img

    @staticmethod
    def _make_sun(rng: np.random.Generator) -> F64:
        """Shadow direction and length per metre of height, on the ground."""
        az = rng.uniform(0, 2 * math.pi)
        elev = math.radians(rng.uniform(35, 65))
        return np.array([math.cos(az), math.sin(az)]) / math.tan(elev)

    @staticmethod
    def _make_background(w: int, h: int) -> NDArray[np.uint8]:
        """Roof and sky above the stands: a dark vertical gradient."""
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        top = np.array([70, 62, 55], np.float32)
        bottom = np.array([45, 42, 40], np.float32)
        return np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).astype(np.uint8)

    # ----- per frame ------------------------------------------------------------------------
    def _warp_into(
        self,
        img: NDArray[np.uint8],
        texture: NDArray[np.uint8],
        H: F64,
        occl: NDArray[np.bool_] | None = None,
    ) -> None:
        """Paint a textured plane (``H``: texture px -> image px, ``H = P @ A``) over ``img``.

        Only the plane's on-screen bounding box is processed. When the whole texture is in front
        of the camera its projection is exactly the warped region; otherwise the pixels whose ray
        meets the plane behind the camera are restored (a plane point is in front exactly when
        the third coordinate of ``H^-1 p`` is positive, since ``P = K R [I | -C]``).
        """
        w, h = self.size
        th, tw = texture.shape[:2]
        corners = np.array([[0, 0, 1], [tw, 0, 1], [tw, th, 1], [0, th, 1]], np.float64)
        q = corners @ H.T
        all_front = bool((q[:, 2] > 1e-9).all())
        if all_front:
            xy = q[:, :2] / q[:, 2:3]
            lo = np.floor(xy.min(axis=0)).astype(int)
            hi = np.ceil(xy.max(axis=0)).astype(int) + 1
            x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
            x1, y1 = min(w, int(hi[0])), min(h, int(hi[1]))
            if x0 >= x1 or y0 >= y1:
                return
        else:
            x0, y0, x1, y1 = 0, 0, w, h
        M = cv2_matrix(np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ H)
        out = img[y0:y1, x0:x1].copy()
        before = None if all_front else out.copy()
        cv2.warpPerspective(
            texture,
            M,
            (x1 - x0, y1 - y0),
            dst=out,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
        )
        front = None
        if before is not None:
            front = _front_mask(np.linalg.inv(H), self.size)
            np.copyto(out, before, where=~front[..., None])
        img[y0:y1, x0:x1] = out
        if occl is not None:
            cover = (
                cv2.warpPerspective(
                    np.full((th, tw), 255, np.uint8),
                    M,
                    (x1 - x0, y1 - y0),
                    flags=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT,
                    borderValue=0,
                )
                > 0
            )
            if front is not None:
                cover &= front
            occl[y0:y1, x0:x1] |= cover

    def render_background(
        self, cam: PinholeCamera, occl: NDArray[np.bool_] | None = None, paint_lines: bool = True
    ) -> NDArray[np.uint8]:
        """Stands, ground, painted lines and boards through ``cam``: a uint8 BGR image."""
        img = self._background.copy()
        for plane in self._planes:
            if plane.kind == "stand":
                self._warp_into(img, plane.texture, cam.P @ plane.A)
        gppm = self.style.grass_ppm
        A_ground = np.array(
            [[1 / gppm, 0, self._g0[0]], [0, 1 / gppm, self._g0[1]], [0, 0, 0], [0, 0, 1]]
        )
        self._warp_into(img, self._grass, cam.P @ A_ground)
        if paint_lines:
            ys, xs, cov = self.line_pixels(cam)
            if len(ys):
                c = cov[:, None]
                px = img[ys, xs].astype(np.float32)
                line = np.asarray(self.style.line_color, np.float32)
                img[ys, xs] = (px * (1 - c) + line * c + 0.5).astype(np.uint8)
        for plane in self._planes:
            if plane.kind == "board":
                self._warp_into(img, plane.texture, cam.P @ plane.A, occl)
        return img

    def line_coverage_map(self, cam: PinholeCamera) -> F32:
        """Painted-line coverage of every pixel, in [0, 1] (float32, full frame)."""
        out = np.zeros((self.size[1], self.size[0]), np.float32)
        ys, xs, cov = self.line_pixels(cam)
        out[ys, xs] = cov
        return out

    def line_pixels(self, cam: PinholeCamera) -> tuple[NDArray[np.intp], NDArray[np.intp], F32]:
        """Pixels touched by painted lines, as ``(rows, cols, coverage in (0, 1])``.

        The pitch's distance field (metres to the nearest line centre) is warped into the image;
        a pixel's x and y sides projected across the line are the larger one-sided differences
        of that field to its neighbours, and its coverage is the exact area of the line over
        the pixel's trapezoidal footprint (:func:`touchline.pitch.line_coverage`). Lines therefore keep their true width at any
        distance and fade, rather than break up, when thinner than a pixel.
        """
        lppm = self.style.line_ppm
        A = np.array(
            [
                [1 / lppm, 0, self._dist_origin[0]],
                [0, 1 / lppm, self._dist_origin[1]],
                [0, 0, 0],
                [0, 0, 1],
            ]
        )
        D = cv2.warpPerspective(
            self._dist,
            cv2_matrix(cam.P @ A),
            self.size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=50.0,
        )
        ys, xs = np.nonzero(D < 1.5)
        if len(ys):
            ground = _ground_front(cam, xs, ys)
            ys, xs = ys[ground], xs[ground]
        if len(ys) == 0:
            return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0, np.float32)
        half = self.pitch.dims.line_width / 2
        cov = distance_image_coverage(D, ys, xs, half).astype(np.float32)
        keep = cov > 0
        return ys[keep], xs[keep], cov[keep]

    def render(
        self,
        cam: PinholeCamera,
        scene: Scene,
        frame: int,
        *,
        layers: bool = False,
        paint_lines: bool = True,
    ) -> RenderedFrame:
        """Render frame ``frame`` of ``scene`` through ``cam``.

        Args:
            layers: also return the occlusion mask (pixels where boards, shadows, figures or
                the ball cover the ground) in ``RenderedFrame.occlusion``.
            paint_lines: False renders the same frame without painted lines (a background plate
                for tests and for line-segmentation targets).
        """
        if cam.image_size != self.size:
            raise ValueError(f"camera image size {cam.image_size} != renderer size {self.size}")
        occl = np.zeros((self.size[1], self.size[0]), bool) if layers else None
        img = self.render_background(cam, occl, paint_lines)
        objects = self._draw_actors(img, cam, scene, frame, occl)
        if self.style.blur_sigma > 0:
            cv2.GaussianBlur(img, (0, 0), self.style.blur_sigma, dst=img)
        if self._noise:
            pos, neg = self._noise[frame % len(self._noise)]
            cv2.add(img, pos, dst=img)
            cv2.subtract(img, neg, dst=img)
        return RenderedFrame(img, cam, objects, occl)

    # ----- actors ---------------------------------------------------------------------------
    def _draw_actors(
        self,
        img: NDArray[np.uint8],
        cam: PinholeCamera,
        scene: Scene,
        k: int,
        occl: NDArray[np.bool_] | None,
    ) -> list[FrameObject]:
        w, h = self.size
        xy = scene.xy[k]
        zs = scene.z[k]
        vel = scene.velocity_at(k)
        present = ~np.isnan(xy).any(axis=1)
        idx = np.flatnonzero(present)
        if len(idx) == 0:
            return []
        ground = np.hstack([xy[idx], np.zeros((len(idx), 1))])
        depth = cam.depth(ground)
        # Shadows first (they lie on the ground under everyone).
        if self.style.shadows:
            self._draw_shadows(img, cam, scene, idx, xy, zs, occl)
        sprites: list[tuple[int, Sprite, NDArray[np.float64]]] = []
        for j in np.argsort(-depth):
            i = int(idx[j])
            if depth[j] <= 0.5:
                continue
            actor = scene.actors[i]
            foot_px = cam.project(ground[j])[0]
            if actor.role == ObjectClass.BALL:
                r = 0.11
                center = cam.project([[xy[i, 0], xy[i, 1], -(zs[i] + r)]])[0]
                if np.isnan(center).any():
                    continue
                rad = cam.focal * r / max(cam.depth([[xy[i, 0], xy[i, 1], -(zs[i] + r)]])[0], 1e-6)
                spr = draw_ball(center, rad, self.size)
            else:
                head = cam.project([[xy[i, 0], xy[i, 1], -actor.height]])[0]
                if np.isnan(head).any() or np.isnan(foot_px).any():
                    continue
                upv = head - foot_px
                hpx = float(np.linalg.norm(upv))
                if hpx < 1.0:
                    continue
                side_scale = cam.focal / depth[j]
                v_img = cam.project(
                    [[xy[i, 0] + vel[i, 0] * 0.1, xy[i, 1] + vel[i, 1] * 0.1, 0.0]]
                )[0]
                mv = v_img - foot_px
                right = np.array([-upv[1], upv[0]]) / hpx
                if right[0] < 0:
                    right = -right
                facing = float(np.clip(mv @ right / (np.linalg.norm(mv) + 1e-9), -1, 1))
                speed = float(np.hypot(*vel[i]))
                # Stride frequency grows with speed; phase from distance run (stable, per actor).
                phase = (
                    self._phase_offset(actor.id)
                    + k / scene.fps * (1.2 + 0.35 * speed) * 2 * math.pi
                )
                pose = FigurePose(
                    foot=foot_px,
                    up=upv / hpx,
                    px_per_m_up=hpx / actor.height,
                    px_per_m_side=side_scale,
                    height=actor.height,
                    phase=phase,
                    swing=float(np.clip(speed / 8.0, 0.0, 0.75)),
                    facing=facing if abs(facing) > 0.15 else 0.15 * (1 if facing >= 0 else -1),
                )
                spr = draw_figure(
                    pose, actor.kit, self.size, gloves=actor.role == ObjectClass.GOALKEEPER
                )
            if spr.alpha.size == 0 or not (spr.alpha > 0).any():
                continue
            sprites.append((i, spr, foot_px))
        # Composite far to near, keeping an id map for visibility.
        idmap = np.full((h, w), -1, np.int32)
        for n, (_, spr, _) in enumerate(sprites):
            ah, aw = spr.alpha.shape
            sl = (slice(spr.y0, spr.y0 + ah), slice(spr.x0, spr.x0 + aw))
            a3 = spr.alpha[..., None]
            img[sl] = (img[sl].astype(np.float32) * (1 - a3) + spr.color + 0.5).astype(np.uint8)
            idmap[sl][spr.alpha >= 0.5] = n
            if occl is not None:
                occl[sl] |= spr.alpha > 0
        objects = []
        for n, (i, spr, foot_px) in enumerate(sprites):
            box = spr.bbox()
            if box is None:
                continue
            own = int((spr.alpha >= 0.5).sum())
            ah, aw = spr.alpha.shape
            seen = int(
                (idmap[spr.y0 : spr.y0 + ah, spr.x0 : spr.x0 + aw][spr.alpha >= 0.5] == n).sum()
            )
            actor = scene.actors[i]
            objects.append(
                FrameObject(
                    id=actor.id,
                    role=actor.role,
                    team=actor.team,
                    box=box,
                    foot=(float(foot_px[0]), float(foot_px[1])),
                    pitch=(float(xy[i, 0]), float(xy[i, 1])),
                    z=float(zs[i]),
                    visibility=float(seen / own) if own else 0.0,
                )
            )
        objects.sort(key=lambda o: o.id)
        return objects

    def _phase_offset(self, actor_id: int) -> float:
        return ((actor_id * 2654435761 + self._rng_seed) % 1000) / 1000 * 2 * math.pi

    def _draw_shadows(
        self,
        img: NDArray[np.uint8],
        cam: PinholeCamera,
        scene: Scene,
        idx: NDArray[np.int64],
        xy: F64,
        zs: F64,
        occl: NDArray[np.bool_] | None,
    ) -> None:
        w, h = self.size
        mask = np.zeros((h, w), np.uint8)
        H = cam.pitch_to_image
        t = np.linspace(0, 2 * math.pi, 14, endpoint=False)
        circ = np.stack([np.cos(t), np.sin(t)], axis=1)
        polys = []
        for i in idx:
            actor = scene.actors[int(i)]
            base = xy[i]
            if actor.role == ObjectClass.BALL:
                pts = base + self._sun * (zs[i] + 0.11) + circ * 0.12
            else:
                length = self._sun * actor.height
                # A capsule from the feet along the sun direction, 0.5 m wide.
                d = length / (np.linalg.norm(length) + 1e-9)
                nrm = np.array([-d[1], d[0]])
                pts = np.concatenate(
                    [
                        base + circ[:7] @ np.stack([nrm, -d]) * 0.25 * -1,
                        base + length + circ[7:] @ np.stack([nrm, -d]) * 0.25 * -1,
                    ]
                )
                pts = np.concatenate([pts, base + circ * np.array([0.35, 0.25])])
            q = cv2.perspectiveTransform(pts[None].astype(np.float64), H)[0] - 0.5
            if not np.isfinite(q).all() or np.abs(q).max() > 1e5:
                continue
            polys.append(np.round(q * 16).astype(np.int32))
        if not polys:
            return
        for p in polys:
            cv2.fillPoly(mask, [cv2.convexHull(p)], 255, cv2.LINE_AA, 4)
        soft = cv2.GaussianBlur(mask, (0, 0), 1.0)
        ys, xs = np.nonzero(soft)
        if len(ys) == 0:
            return
        f = 1 - soft[ys, xs].astype(np.float32)[:, None] * np.float32(0.42 / 255)
        img[ys, xs] = (img[ys, xs].astype(np.float32) * f + 0.5).astype(np.uint8)
        if occl is not None:
            occl[ys, xs] |= soft[ys, xs] > 5
