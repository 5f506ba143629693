"""Unsupervised team assignment: two kit-colour clusters, votes along tracks, goalkeepers by side.

* :class:`TeamClassifier`: 2-means (k-means++ init, seeded restarts, numpy) on appearance
  features of players (:func:`~touchline.track.appearance.appearance_features`), with a
  probability, a margin and an outlier test (a crop that fits neither kit).
* :class:`TeamAssigner`: the streaming assigner a tracker calls once per frame. It collects
  player features over the first frames, fits the classifier, replays those frames, then keeps
  per-track vote accumulators so that a track's team is the accumulated evidence of all its
  frames (one noisy frame cannot flip it).
* :func:`assign_teams`: offline, cluster whole tracks from their mean features.

Team convention (the tracks table and :mod:`touchline.viz.overlay`): ``0`` or ``1`` for players
and goalkeepers, ``-1`` for referees, the ball and anything unknown. Which kit is team 0 is
arbitrary but deterministic (see :meth:`TeamClassifier.fit`).

Rules of :class:`TeamAssigner`:

* **Warm-up.** Until the kit clusters are fitted (``TeamConfig.min_samples`` usable player
  crops over ``min_seconds``) every row gets ``-1``; the buffered frames are then
  replayed into the votes, so no evidence is lost.
* **Roles.** A track's role is the majority of the classes the detector gave it (player,
  goalkeeper, referee), so a referee once detected as "player" stays a referee. Rows detected
  as referee or ball are always ``-1``.
* **Players** vote with the classifier's log-odds, each vote clipped to
  ``+-TeamConfig.max_vote`` and the running sum to ``+-TeamConfig.vote_cap`` (so that a track
  taken over by another player after an identity switch recovers in a few dozen frames); a
  decided track changes team only once the sum crosses ``+-TeamConfig.hysteresis`` the other
  way. Crops that are tiny (``min_vote_box``), cut by the top or bottom of the image, or a
  tracker's coasted box (``data["predicted"]``) do not vote. A crop whose distance to the
  nearer kit centre exceeds ``TeamConfig.outlier_factor`` times that kit's median training
  distance is an *outlier*: it casts no vote, and a track most of whose crops are outliers
  (an "odd kit": a referee or steward detected as a player) gets ``-1``.
* **Goalkeepers** are left out of the colour clustering (their kits differ from their
  team's). Each frame showing players of both teams (``TeamConfig.side_min_players``), a
  goalkeeper votes for the team whose players are, on average, on its side: team 1 if
  ``(x_gk - (m0 + m1) / 2)`` has the sign of ``m1 - m0`` (``m`` the mean ``x`` of each team's
  players), with a weight growing with ``|m1 - m0|``. ``x`` is the pitch x
  (``data["pitch_xy"]``) when every row of the frame has a finite one, else the image x of the
  box centre.
* **Goalkeepers detected as players.** An odd-kit "player" track that stands beyond every
  decided player along x in most of the frames that can tell (``TeamConfig.keeper_seconds``,
  boxes clear of the image borders, and with pitch positions more than
  ``touchline_margin_m`` inside the touchlines) is taken for a goalkeeper and assigned by side
  (:meth:`TeamAssigner.track_roles` reports it). Other odd-kit player tracks stay ``-1``.
* Without ``tracker_id`` every row is decided from its own frame.

>>> import numpy as np
>>> from touchline.types import Detections
>>> img = np.full((100, 200, 3), (40, 120, 50), np.uint8)
>>> img[20:80, 20:30] = img[20:80, 60:70] = (30, 30, 200)        # two red players
>>> img[20:80, 120:130] = img[20:80, 160:170] = (240, 240, 240)  # two white players
>>> dets = Detections(
...     xyxy=[[18, 15, 32, 85], [58, 15, 72, 85], [118, 15, 132, 85], [158, 15, 172, 85]],
...     class_id=[0, 0, 0, 0], tracker_id=[1, 2, 3, 4])
>>> assigner = TeamAssigner(TeamConfig(min_samples=4, min_seconds=0.04))
>>> teams = assigner.update(dets, img)
>>> bool(teams[0] == teams[1] != teams[2] == teams[3]), sorted(set(teams.tolist()))
(True, [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchline.track.appearance import appearance_features, normalize_rows
from touchline.types import DEFAULT_PITCH_SIZE, Detections, ObjectClass
from touchline.utils.durations import FramesOf, check_fps, check_seconds

__all__ = [
    "TeamAssigner",
    "TeamClassifier",
    "TeamConfig",
    "TrackVotes",
    "assign_teams",
]

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_PLAYER, _GK, _REF = int(ObjectClass.PLAYER), int(ObjectClass.GOALKEEPER), int(ObjectClass.REFEREE)


# --------------------------------------------------------------------------------------------
# Classifier
# --------------------------------------------------------------------------------------------
def _sq_dist(x: F64, c: F64) -> F64:
    """Squared Euclidean distances ``(n, k)`` between rows of ``x`` and ``c``."""
    d = (x * x).sum(1)[:, None] - 2.0 * x @ c.T + (c * c).sum(1)[None, :]
    return np.asarray(np.maximum(d, 0.0), np.float64)


def _kmeans_pp(x: F64, w: F64, k: int, rng: np.random.Generator) -> F64:
    """k-means++ seeding (weighted)."""
    n = x.shape[0]
    centres = [x[rng.choice(n, p=w / w.sum())]]
    for _ in range(1, k):
        d = _sq_dist(x, np.asarray(centres)).min(1) * w
        total = d.sum()
        i = int(rng.choice(n, p=d / total)) if total > 0 else int(rng.integers(n))
        centres.append(x[i])
    return np.asarray(centres, np.float64)


def _lloyd(x: F64, w: F64, centres: F64, max_iter: int) -> tuple[F64, I64, float]:
    """Weighted Lloyd iterations: centres, labels, inertia."""
    labels = np.full(x.shape[0], -1, np.int64)
    k = centres.shape[0]
    for _ in range(max_iter):
        d = _sq_dist(x, centres)
        new = np.argmin(d, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            m = labels == j
            if w[m].sum() > 0:
                centres[j] = np.average(x[m], axis=0, weights=w[m])
            else:  # an empty cluster takes the worst-fitted point
                far = int(np.argmax(d[np.arange(x.shape[0]), labels] * w))
                centres[j] = x[far]
    d = _sq_dist(x, centres)
    labels = np.argmin(d, axis=1)
    inertia = float((d[np.arange(x.shape[0]), labels] * w).sum())
    return centres, labels, inertia


def _trimmed(
    x: F64, w: F64, centres: F64, labels: I64, factor: float, rounds: int = 2
) -> tuple[F64, I64]:
    """Re-estimate each centre from its members within ``factor`` x their median distance:
    a few odd crops in a cluster (referees, keepers called players) no longer pull it."""
    centres = centres.copy()
    for _ in range(rounds):
        d = _sq_dist(x, centres)
        labels = np.argmin(d, axis=1)
        own = d[np.arange(x.shape[0]), labels]
        for k in range(centres.shape[0]):
            m = labels == k
            if not m.any():
                continue
            keep = m & (own <= factor * max(float(np.median(own[m])), 1e-9))
            if w[keep].sum() > 0:
                centres[k] = np.average(x[keep], axis=0, weights=w[keep])
    return centres, np.argmin(_sq_dist(x, centres), axis=1)


@dataclass
class TeamClassifier:
    """Two kit clusters of appearance features (scikit-learn-like, deterministic).

    Args:
        n_init: k-means restarts (k-means++ seeding); the lowest inertia wins.
        max_iter: Lloyd iterations per restart.
        seed: seed of the restarts.
        trim_factor: after k-means each centre is re-estimated (twice) from its members
            within this many times their median distance.
        outlier_factor: :meth:`is_outlier` threshold, in units of each cluster's median
            training distance (a median: robust to the few referees and keepers detected as
            players that the clusters absorb).

    Attributes (after :meth:`fit`):
        centers_: ``(2, d)`` cluster centres (means of unit features).
        spread_: ``(2,)`` median squared distance of each cluster's members
            to its centre.
        temperature_: scale of the log-odds of :meth:`predict_proba`.

    Distances are squared Euclidean between unit features and centres (``2 * (1 - cos)`` for
    unit centres).

    >>> rng = np.random.default_rng(0)
    >>> a = normalize_rows(np.abs(rng.normal([1, 0, 0], 0.05, (20, 3))))
    >>> b = normalize_rows(np.abs(rng.normal([0, 1, 0], 0.05, (20, 3))))
    >>> clf = TeamClassifier().fit(np.vstack([a, b]))
    >>> labels = clf.predict(np.vstack([a, b]))
    >>> bool((labels[:20] == labels[0]).all() and (labels[20:] == 1 - labels[0]).all())
    True
    >>> clf.is_outlier([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]).tolist()
    [True, False]
    """

    n_init: int = 8
    max_iter: int = 50
    seed: int = 0
    outlier_factor: float = 6.0
    trim_factor: float = 3.0
    centers_: F64 | None = field(default=None, init=False, repr=False)
    spread_: F64 | None = field(default=None, init=False, repr=False)
    temperature_: float = field(default=1.0, init=False, repr=False)

    @property
    def fitted(self) -> bool:
        return self.centers_ is not None

    def fit(self, features: ArrayLike, sample_weight: ArrayLike | None = None) -> TeamClassifier:
        """Cluster ``features`` ``(n, d)`` (all-zero rows are ignored) into two kits.

        Labels are canonical: at the feature component where the two centres differ most,
        cluster 0 has the larger value (so the result does not depend on restart order).

        Raises:
            ValueError: fewer than two usable rows, or a bad shape.
        """
        x = np.asarray(features, np.float64)
        if x.ndim != 2:
            raise ValueError(f"features: expected shape (n, d), got {x.shape}")
        w = np.ones(x.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
        if w.shape != (x.shape[0],) or (w < 0).any():
            raise ValueError("sample_weight: expected n non-negative weights")
        use = (np.abs(x).sum(1) > 0) & (w > 0)
        x, w = x[use], w[use]
        if x.shape[0] < 2:
            raise ValueError(f"need at least 2 non-empty feature rows to fit, got {x.shape[0]}")
        rng = np.random.default_rng(self.seed)
        best: tuple[F64, I64, float] | None = None
        for _ in range(max(1, self.n_init)):
            res = _lloyd(x, w, _kmeans_pp(x, w, 2, rng), self.max_iter)
            if best is None or res[2] < best[2] - 1e-12:
                best = res
        assert best is not None
        centres, labels, _ = best
        centres, labels = _trimmed(x, w, centres, labels, self.trim_factor)
        j = int(np.argmax(np.abs(centres[0] - centres[1])))
        if centres[0, j] < centres[1, j]:
            centres, labels = centres[::-1].copy(), 1 - labels
        d = _sq_dist(x, centres)
        own = d[np.arange(x.shape[0]), labels]
        spread = np.array(
            [np.median(own[labels == k]) if (labels == k).any() else 0.0 for k in (0, 1)]
        )
        gap = float(_sq_dist(centres[:1], centres[1:])[0, 0])
        floor = max(1e-3, 0.02 * gap)
        self.centers_ = centres
        self.spread_ = np.maximum(spread, floor)
        # Log-odds (d0 - d1) / T: T is the typical within-cluster distance.
        self.temperature_ = float(max(np.median(own), floor))
        return self

    def _check(self, features: ArrayLike) -> tuple[F64, F64]:
        if self.centers_ is None or self.spread_ is None:
            raise RuntimeError("TeamClassifier is not fitted: call fit() first")
        x = np.asarray(features, np.float64)
        if x.ndim == 1 and x.size == 0:
            x = x.reshape(0, self.centers_.shape[1])
        if x.ndim != 2 or x.shape[1] != self.centers_.shape[1]:
            raise ValueError(
                f"features: expected shape (n, {self.centers_.shape[1]}), got {x.shape}"
            )
        return x, _sq_dist(x, self.centers_)

    def distances(self, features: ArrayLike) -> F64:
        """Squared distances ``(n, 2)`` to the two centres."""
        return self._check(features)[1]

    def log_odds(self, features: ArrayLike) -> F64:
        """``log P(team 1) / P(team 0)`` per row: ``(d0 - d1) / temperature_``; 0 for empty rows."""
        x, d = self._check(features)
        lo = (d[:, 0] - d[:, 1]) / self.temperature_
        return np.asarray(np.where(np.abs(x).sum(1) > 0, lo, 0.0), np.float64)

    def predict_proba(self, features: ArrayLike) -> F64:
        """``(n, 2)`` probabilities of team 0 and team 1 (a logistic of :meth:`log_odds`)."""
        p1 = 1.0 / (1.0 + np.exp(-np.clip(self.log_odds(features), -50, 50)))
        return np.stack([1.0 - p1, p1], axis=1)

    def margin(self, features: ArrayLike) -> F64:
        """``|d0 - d1|``: how clearly a row sides with one kit (0 for an empty row)."""
        x, d = self._check(features)
        return np.asarray(np.where(np.abs(x).sum(1) > 0, np.abs(d[:, 0] - d[:, 1]), 0.0))

    def is_outlier(self, features: ArrayLike) -> NDArray[np.bool_]:
        """Rows that fit neither kit: nearer-centre distance above ``outlier_factor`` times that
        cluster's :attr:`spread_`; also all-zero rows (no pixels)."""
        x, d = self._check(features)
        assert self.spread_ is not None
        k = np.argmin(d, axis=1)
        far = d[np.arange(x.shape[0]), k] > self.outlier_factor * self.spread_[k]
        return np.asarray(far | ~(np.abs(x).sum(1) > 0))

    def predict(self, features: ArrayLike, *, reject_outliers: bool = False) -> I64:
        """Team 0 or 1 per row; ``-1`` for all-zero rows, and for outliers when
        ``reject_outliers``."""
        x, d = self._check(features)
        labels = np.argmin(d, axis=1).astype(np.int64)
        bad = ~(np.abs(x).sum(1) > 0)
        if reject_outliers:
            bad |= self.is_outlier(x)
        labels[bad] = -1
        return labels


# --------------------------------------------------------------------------------------------
# Streaming assigner
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TeamConfig:
    """Settings of :class:`TeamAssigner`.

    Durations (``*_seconds``) are in seconds; the assigner counts them in frames at ``fps``
    (nearest whole frame: :attr:`min_frames`, :attr:`max_wait_frames`,
    :attr:`keeper_frames`; at 25 fps the defaults are 10, 50 and 5 frames).

    Args:
        min_samples: player crops collected before the kit clusters are fitted ...
        min_seconds: ... over at least this long (seconds);
        max_wait_seconds: or fit after this long (seconds) if ``min_fit_samples`` were seen.
        min_fit_samples: fewest player crops fitted on after ``max_wait_seconds``.
        min_vote_box: ``(width, height)`` px below which a player crop neither votes nor is
            fitted on; crops cut by the top or bottom of the image neither (their shirt and
            shorts regions are shifted). Rows without a track are still predicted.
        max_vote: bound on one crop's log-odds vote.
        vote_cap: bound on a track's accumulated log-odds (lets it recover after an identity
            switch).
        hysteresis: a decided track changes team only when its sum passes this the other way.
        outlier_factor: see :meth:`TeamClassifier.is_outlier`.
        outlier_share: a player track with more than this share of outlier crops gets ``-1``.
        side_min_players: a goalkeeper votes on frames showing at least this many players of
            each team.
        keeper_seconds, keeper_context_players, touchline_margin_m: a "player" track in an
            odd kit is taken for a goalkeeper when, in frames adding up to at least
            ``keeper_seconds`` (seconds) and in at least half of
            the frames showing ``keeper_context_players`` decided players, it was beyond all of
            them along x (and, with pitch positions, more than ``touchline_margin_m`` inside the
            touchlines: not an assistant referee).
        side_scale_m: team separation (m of pitch x) at which a goalkeeper's vote has full
            weight; ``side_scale_frac`` is the same as a share of the image width when image x
            is used.
        n_init: k-means restarts; ``seed``: their seed.
        fps: frame rate of the frames given to :meth:`TeamAssigner.update` (turns the
            durations into frames).
    """

    min_samples: int = 200
    min_seconds: float = 0.4  # seconds
    max_wait_seconds: float = 2.0  # seconds
    min_fit_samples: int = 20
    min_vote_box: tuple[float, float] = (4.0, 10.0)
    max_vote: float = 4.0
    vote_cap: float = 40.0
    hysteresis: float = 4.0
    outlier_factor: float = 6.0
    outlier_share: float = 0.5
    side_min_players: int = 1
    keeper_seconds: float = 0.2  # seconds
    keeper_context_players: int = 4
    touchline_margin_m: float = 2.0
    side_scale_m: float = 10.0
    side_scale_frac: float = 0.1
    n_init: int = 8
    seed: int = 0
    fps: float = 25.0

    def __post_init__(self) -> None:
        check_fps("TeamConfig", self.fps)
        check_seconds(
            "TeamConfig",
            min_seconds=self.min_seconds,
            max_wait_seconds=self.max_wait_seconds,
            keeper_seconds=self.keeper_seconds,
        )

    # durations in frames at fps
    min_frames = FramesOf("min_seconds")
    max_wait_frames = FramesOf("max_wait_seconds")
    keeper_frames = FramesOf("keeper_seconds")


@dataclass
class TrackVotes:
    """Accumulated evidence of one track.

    Attributes:
        roles: how often the track was detected as player, goalkeeper and referee.
        colour: sum of the colour log-odds (team 1 positive), clipped to ``+-vote_cap``.
        n_colour: crops that voted by colour; ``n_outlier``: crops that fitted neither kit.
        side: sum of the goalkeeper side votes (team 1 positive), clipped likewise.
        colour_team, side_team: the decisions, with hysteresis: set by the sign of the first
            evidence, changed only when the sum crosses ``+-hysteresis`` the other way.
        n_context: frames that showed enough players to tell whether the track was beyond
            them all; ``n_beyond``: those where it was (a goalkeeper's place).

    >>> v = TrackVotes()
    >>> [v.vote_colour(x, cap=40.0, hysteresis=2.0) for x in (-3.0, 4.0, -0.5, 2.0)]
    [0, 0, 0, 1]
    """

    roles: NDArray[np.int64] = field(default_factory=lambda: np.zeros(3, np.int64))
    colour: float = 0.0
    n_colour: int = 0
    n_outlier: int = 0
    side: float = 0.0
    colour_team: int = -1
    side_team: int = -1
    n_context: int = 0
    n_beyond: int = 0

    @staticmethod
    def _decide(total: float, current: int, hysteresis: float) -> int:
        if total > hysteresis or (current < 0 and total > 0):
            return 1
        if total < -hysteresis or (current < 0 and total < 0):
            return 0
        return current

    def vote_colour(self, log_odds: float, *, cap: float, hysteresis: float) -> int:
        """Add one crop's colour vote; return the colour decision."""
        self.n_colour += 1
        self.colour = float(np.clip(self.colour + log_odds, -cap, cap))
        self.colour_team = self._decide(self.colour, self.colour_team, hysteresis)
        return self.colour_team

    def vote_side(self, vote: float, *, cap: float, hysteresis: float) -> int:
        """Add one goalkeeper side vote; return the side decision."""
        self.side = float(np.clip(self.side + vote, -cap, cap))
        self.side_team = self._decide(self.side, self.side_team, hysteresis)
        return self.side_team

    def role(self) -> int:
        """The majority detected role (``0`` player, ``1`` goalkeeper, ``2`` referee), ties to
        player."""
        return int(np.argmax(self.roles))

    def odd_kit(self, outlier_share: float) -> bool:
        """Most of the track's crops fit neither team's kit."""
        return self.n_outlier > outlier_share * (self.n_colour + self.n_outlier)

    def effective_role(self, outlier_share: float, keeper_frames: int) -> int:
        """:meth:`role`, except that a "player" in an odd kit (at least ``keeper_frames``
        outlier crops, and most of them) who was beyond every other player in at least half
        (and ``keeper_frames``) of the frames that could tell is a goalkeeper (detectors often
        call goalkeepers players)."""
        role = self.role()
        if (
            role == _PLAYER
            and self.n_outlier >= keeper_frames
            and self.odd_kit(outlier_share)
            and self.n_beyond >= max(keeper_frames, 0.5 * self.n_context)
        ):
            return _GK
        return role

    def team(self, outlier_share: float, keeper_frames: int = 5) -> int:
        """The track's team by its role's evidence; ``-1`` without evidence, for a referee, or
        for a player in an odd kit (a referee or steward detected as a player)."""
        role = self.effective_role(outlier_share, keeper_frames)
        if role == _REF:
            return -1
        if role == _GK:
            return self.side_team
        return -1 if self.odd_kit(outlier_share) else self.colour_team


@dataclass
class _Frame:
    tid: I64  # -1: no track
    cls: I64
    x: F64  # position along the pitch length (pitch or image x)
    scale: float  # team separation giving a goalkeeper vote full weight
    feats: F32  # features of the player rows (cls == 0), in row order
    usable: NDArray[np.bool_]  # player rows whose crop may vote (big enough, not cut)
    on_pitch: NDArray[np.bool_]  # rows away from the touchlines (all True without pitch_xy)
    inner: NDArray[np.bool_]  # rows whose box is clear of the image borders


class TeamAssigner:
    """Streaming team assignment for a tracker: call :meth:`update` once per frame.

    Until the kit clusters are fitted (``TeamConfig.min_samples`` player crops over
    ``min_seconds``, or ``max_wait_seconds``) it returns ``-1`` for every row; then it
    replays the buffered frames into the track votes. See the module docstring for the rules.

    Args:
        config: settings.

    Attributes:
        classifier: the :class:`TeamClassifier` (fitted once ``fitted``).
        tracks: the :class:`TrackVotes` of every ``tracker_id`` seen.
    """

    def __init__(self, config: TeamConfig | None = None) -> None:
        self.config = config or TeamConfig()
        self.classifier = TeamClassifier(
            n_init=self.config.n_init,
            seed=self.config.seed,
            outlier_factor=self.config.outlier_factor,
        )
        self.tracks: dict[int, TrackVotes] = {}
        self._buffer: list[_Frame] = []
        self._n_samples = 0

    @property
    def fitted(self) -> bool:
        return self.classifier.fitted

    def track_teams(self) -> dict[int, int]:
        """The current team of every track seen (``-1`` when undecided or not a team member)."""
        share = self.config.outlier_share
        kf = self.config.keeper_frames
        return {tid: v.team(share, kf) for tid, v in sorted(self.tracks.items())}

    def track_roles(self) -> dict[int, int]:
        """The role of every track seen: ``0`` player, ``1`` goalkeeper, ``2`` referee; the
        detected majority, except for goalkeepers detected as players (module docstring)."""
        share, kf = self.config.outlier_share, self.config.keeper_frames
        return {tid: v.effective_role(share, kf) for tid, v in sorted(self.tracks.items())}

    def update(
        self, detections: Detections, image_bgr: np.ndarray, features: ArrayLike | None = None
    ) -> I64:
        """Team per row of ``detections`` (int64, ``0``/``1``/``-1``).

        Args:
            detections: this frame's detections (``class_id`` ``None`` means all players;
                ``tracker_id`` ``None`` or ``-1`` means no track; rows with a true
                ``data["predicted"]``, a tracker's coasted boxes, do not vote).
            image_bgr: the frame (BGR ``uint8``), used for features and the image width.
            features: precomputed :func:`~touchline.track.appearance.appearance_features`
                ``(n, d)`` of every row, from this frame's crops (not a track's running mean:
                every frame should be an independent vote); computed for the player rows when
                ``None``.
        """
        n = len(detections)
        cls = (
            np.zeros(n, np.int64)
            if detections.class_id is None
            else np.asarray(detections.class_id, np.int64)
        )
        tid = (
            np.full(n, -1, np.int64)
            if detections.tracker_id is None
            else np.where(detections.tracker_id >= 0, detections.tracker_id, -1)
        )
        players = cls == _PLAYER
        if features is None:
            feats = appearance_features(image_bgr, detections.xyxy[players])
        else:
            f = np.asarray(features, np.float32)
            if f.ndim != 2 or f.shape[0] != n:
                raise ValueError(f"features: expected shape ({n}, d), got {f.shape}")
            feats = f[players]
        height, width = image_bgr.shape[:2]
        x1, y1, x2, y2 = detections.xyxy[players].T
        min_w, min_h = self.config.min_vote_box
        usable = (
            (x2 - x1 >= min_w)
            & (y2 - y1 >= min_h)
            & (y1 > 1.0)  # not cut by the top or bottom of the image: the regions would shift
            & (y2 < height - 1.0)
            & (np.abs(feats).sum(1) > 0)
        )
        predicted = detections.data.get("predicted")
        if predicted is not None:  # a tracker's coasted box: not a measurement of the player
            usable &= ~np.asarray(predicted, np.bool_).reshape(n)[players]
        bx1, by1, bx2, by2 = detections.xyxy.T
        inner = (bx1 > 1.0) & (by1 > 1.0) & (bx2 < width - 1.0) & (by2 < height - 1.0)
        frame = _Frame(
            tid,
            cls,
            *self._positions(detections, width),
            feats,
            usable,
            self._on_pitch(detections),
            inner,
        )
        if self.fitted:
            return self._vote(frame)
        self._buffer.append(frame)
        self._n_samples += int(np.count_nonzero(usable))
        if not self._ready():
            return np.full(n, -1, np.int64)
        weights = self._buffer_weights() * np.concatenate([b.usable for b in self._buffer])
        self.classifier.fit(np.vstack([b.feats for b in self._buffer]), weights)
        out = np.full(n, -1, np.int64)
        for b in self._buffer:
            out = self._vote(b)
        self._buffer.clear()
        return out

    # ---- internals ----------------------------------------------------------------------

    def _positions(self, dets: Detections, width: int) -> tuple[F64, float]:
        pxy = dets.data.get("pitch_xy")
        if pxy is not None and len(dets):
            p = np.asarray(pxy, np.float64).reshape(len(dets), -1)
            if p.shape[1] >= 1 and np.isfinite(p[:, 0]).all():
                return p[:, 0].copy(), self.config.side_scale_m
        x = 0.5 * (dets.xyxy[:, 0] + dets.xyxy[:, 2]).astype(np.float64)
        return x, self.config.side_scale_frac * float(width)

    def _on_pitch(self, dets: Detections) -> NDArray[np.bool_]:
        """Rows at least ``touchline_margin_m`` inside the touchlines (assistant referees and
        stewards stand on or beyond them); all True without finite pitch positions."""
        pxy = dets.data.get("pitch_xy")
        n = len(dets)
        if pxy is None or not n:
            return np.ones(n, np.bool_)
        p = np.asarray(pxy, np.float64).reshape(n, -1)
        if p.shape[1] < 2:
            return np.ones(n, np.bool_)
        y, m = p[:, 1], self.config.touchline_margin_m
        width = DEFAULT_PITCH_SIZE[1]
        return np.asarray(~np.isfinite(y) | ((y > m) & (y < width - m)), np.bool_)

    def _ready(self) -> bool:
        c = self.config
        frames = len(self._buffer)
        if self._n_samples >= max(c.min_samples, 2) and frames >= c.min_frames:
            return True
        return frames >= c.max_wait_frames and self._n_samples >= max(c.min_fit_samples, 2)

    def _buffer_weights(self) -> F64:
        """Each buffered crop weighted by 1 / (its track's crop count): tracks count alike."""
        tids = np.concatenate([b.tid[b.cls == _PLAYER] for b in self._buffer])
        w = np.ones(tids.shape[0])
        tracked = tids >= 0
        if tracked.any():
            _, inv, counts = np.unique(tids[tracked], return_inverse=True, return_counts=True)
            w[tracked] = 1.0 / counts[inv]
            w[~tracked] = float(np.median(w[tracked]))
        return w

    def _vote(self, fr: _Frame) -> I64:
        c = self.config
        n = fr.tid.shape[0]
        out = np.full(n, -1, np.int64)
        for i in np.flatnonzero((fr.tid >= 0) & (fr.cls >= 0) & (fr.cls <= _REF)).tolist():
            self.tracks.setdefault(int(fr.tid[i]), TrackVotes()).roles[fr.cls[i]] += 1

        # Players: colour votes.
        rows = np.flatnonzero(fr.cls == _PLAYER)
        if rows.size:
            lo = np.clip(self.classifier.log_odds(fr.feats), -c.max_vote, c.max_vote)
            outl = self.classifier.is_outlier(fr.feats)
            for r, v, o, u in zip(
                rows.tolist(), lo.tolist(), outl.tolist(), fr.usable.tolist(), strict=True
            ):
                t = int(fr.tid[r])
                if t < 0:
                    out[r] = -1 if o else int(v > 0)
                    continue
                tv = self.tracks[t]
                if not u:
                    continue
                if o:
                    tv.n_outlier += 1
                else:
                    tv.vote_colour(v, cap=c.vote_cap, hysteresis=c.hysteresis)

        # Resolve every tracked player/goalkeeper row by its track's role and evidence.
        share, kf = c.outlier_share, c.keeper_frames
        role = fr.cls.copy()
        person = (fr.cls == _PLAYER) | (fr.cls == _GK)
        for i in np.flatnonzero((fr.tid >= 0) & person).tolist():
            tv = self.tracks[int(fr.tid[i])]
            role[i] = tv.effective_role(share, kf)
            out[i] = tv.team(share, kf)

        # Goalkeeper places: is an odd-kit "player" track beyond every decided player?
        decided = person & (role == _PLAYER) & (out >= 0)
        if np.count_nonzero(decided) >= c.keeper_context_players:
            lo_x, hi_x = float(fr.x[decided].min()), float(fr.x[decided].max())
            odd = (fr.tid >= 0) & person & (role == _PLAYER) & (out < 0)
            for i in np.flatnonzero(odd).tolist():
                tv = self.tracks[int(fr.tid[i])]
                if not fr.inner[i]:  # entering or leaving the view: beyond the others anyway
                    continue
                tv.n_context += 1
                tv.n_beyond += int(bool(fr.on_pitch[i]) and not lo_x <= fr.x[i] <= hi_x)
                role[i] = tv.effective_role(share, kf)

        # Goalkeepers: side votes from this frame's player teams.
        is_player = person & (role == _PLAYER)
        keepers = np.flatnonzero(person & (role == _GK))
        x0 = fr.x[is_player & (out == 0)]
        x1 = fr.x[is_player & (out == 1)]
        if keepers.size and min(x0.size, x1.size) >= max(1, c.side_min_players):
            m0, m1 = float(x0.mean()), float(x1.mean())
            weight = min(1.0, abs(m1 - m0) / fr.scale) if fr.scale > 0 else 1.0
            for i in keepers.tolist():
                vote = weight * float(np.sign((fr.x[i] - 0.5 * (m0 + m1)) * (m1 - m0)))
                t = int(fr.tid[i])
                if t < 0:
                    out[i] = -1 if vote == 0 else int(vote > 0)
                    continue
                tv = self.tracks[t]
                tv.vote_side(vote, cap=c.vote_cap, hysteresis=c.hysteresis)
                out[i] = tv.team(share, kf)
        out[(fr.cls != _PLAYER) & (fr.cls != _GK)] = -1
        return out


# --------------------------------------------------------------------------------------------
# Offline
# --------------------------------------------------------------------------------------------
def assign_teams(
    features: ArrayLike,
    track_ids: ArrayLike,
    *,
    classifier: TeamClassifier | None = None,
) -> dict[int, int]:
    """Teams of whole tracks from their crops' features (offline, players only).

    Each track's features are averaged (and renormalised) and the track means are clustered,
    every track weighing the same: more robust than clustering crops, since a track mean
    averages out occlusions and blur. A track whose mean is an outlier of the clusters of track
    means (:meth:`TeamClassifier.is_outlier`: a referee or steward track) gets ``-1``.

    Args:
        features: ``(n, d)`` appearance features of player crops.
        track_ids: ``(n,)`` the track of each crop.
        classifier: an unfitted :class:`TeamClassifier` with custom settings (default one).

    Returns:
        ``{track_id: team}``; ``{}`` for no crops. With a single track, that track is team 0.

    >>> f = normalize_rows([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.1, 1, 0], [0, 0.9, 0.1]])
    >>> teams = assign_teams(f, [5, 5, 7, 7, 9])
    >>> teams[7] == teams[9] != teams[5]
    True
    """
    x = np.asarray(features, np.float32)
    ids = np.asarray(track_ids, np.int64).reshape(-1)
    if x.ndim != 2 or x.shape[0] != ids.shape[0]:
        raise ValueError(f"features {x.shape} and track_ids {ids.shape} do not match")
    if ids.size == 0:
        return {}
    uniq, inv = np.unique(ids, return_inverse=True)
    sums = np.zeros((uniq.size, x.shape[1]), np.float64)
    np.add.at(sums, inv, x)
    means = normalize_rows(sums)
    if uniq.size == 1:
        return {int(uniq[0]): 0}
    clf = classifier or TeamClassifier()
    clf.fit(means)
    labels = clf.predict(means, reject_outliers=True)
    return {int(t): int(lab) for t, lab in zip(uniq.tolist(), labels.tolist(), strict=True)}
