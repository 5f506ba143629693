"""The tracking benchmark: noise model, runner, pooled metrics, ``touchline eval tracking``.

Real data: the first SportsMOT football sequence (725 frames, ~14 players per frame); runs on it
are cut to a few hundred frames. The ``trackers`` package (ByteTrack, OC-SORT) and TrackEval
are reference packages of the dev set-up (required under CI).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from touchline.cli import app
from touchline.errors import DataError
from touchline.eval.mot_metrics import MotFrame, combine_mot, evaluate_mot, mot_frames
from touchline.eval.tracking import (
    METRIC_KEYS,
    NoiseModel,
    SupervisionAdapter,
    TrackerAdapter,
    degrade,
    evaluate_tracking,
    read_sequence,
    read_sequences,
    resolve_trackers,
    sequence_seed,
    speed_test,
    synthetic_gt,
)
from touchline.types import Detections
from touchline.utils.files import write_json_atomic

SEQ = "mot/sportsmot_football_train"
FIRST = "v_1yHWGw8DH4A_c029"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
runner = CliRunner()


# ---- helpers ---------------------------------------------------------------------------------


def first_sequence(shared: Callable[[str], Path]) -> Path:
    return shared(SEQ) / FIRST


def concat(dets: dict[int, Detections], key: str) -> np.ndarray:
    return np.concatenate(
        [np.asarray(getattr(d, key) if key != "gt_id" else d.data[key]) for d in dets.values()]
    )


class IouTracker:
    """A stand-in tracker: greedy IoU matching to the previous frame's boxes, new id otherwise."""

    def __init__(self, threshold: float = 0.3) -> None:
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.boxes = np.zeros((0, 4))
        self.ids = np.zeros(0, np.int64)
        self.next_id = 0

    def update(self, dets: Detections) -> Detections:
        from touchline.geometry.boxes import box_iou

        out = np.full(len(dets), -1, np.int64)
        if len(dets) and len(self.boxes):
            iou = box_iou(dets.xyxy.astype(float), self.boxes)
            for i, j in sorted(np.argwhere(iou >= self.threshold), key=lambda p: -iou[p[0], p[1]]):
                if out[i] < 0 and self.ids[j] not in out:
                    out[i] = self.ids[j]
        for i in np.flatnonzero(out < 0):
            out[i] = self.next_id
            self.next_id += 1
        self.boxes, self.ids = dets.xyxy.astype(float), out
        return Detections(dets.xyxy, confidence=dets.confidence, tracker_id=out)


class Oracle:
    """A perfect tracker: knows the ground truth and the frame (every frame is fed in order)."""

    def __init__(self, gt: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.gt = gt
        self.frame = 0

    def reset(self) -> None:
        self.frame = 0

    def update(self, dets: Detections) -> Detections:
        self.frame += 1
        ids, boxes = self.gt.get(self.frame, (np.zeros(0, np.int64), np.zeros((0, 4))))
        if len(dets) == 0:
            return Detections(dets.xyxy, tracker_id=np.zeros(0, np.int64))
        same = np.all(np.abs(dets.xyxy[:, None, :] - boxes[None, :, :]) < 1e-3, axis=2)
        assert same.sum(1).tolist() == [1] * len(dets), "detections are not the exact gt boxes"
        return Detections(dets.xyxy, tracker_id=ids[same.argmax(1)])


def write_sequence(
    root: Path,
    name: str,
    n_frames: int = 40,
    n_objects: int = 4,
    ini: str | None = None,
    gt_text: str | None = None,
) -> Path:
    """A tiny MOT sequence: ``n_objects`` boxes moving right, well apart."""
    seq = root / name
    (seq / "gt").mkdir(parents=True)
    if ini is None:
        ini = (
            f"[Sequence]\nname={name}\nimDir=img1\nframeRate=25\nseqLength={n_frames}\n"
            "imWidth=640\nimHeight=360\nimExt=.jpg\n"
        )
    (seq / "seqinfo.ini").write_text(ini)
    if gt_text is None:
        rows = [
            f"{f},{k + 1},{20 + 2 * f},{20 + 80 * k},30,60,1,1,1"
            for f in range(1, n_frames + 1)
            for k in range(n_objects)
        ]
        gt_text = "\n".join(rows) + "\n"
    (seq / "gt" / "gt.txt").write_text(gt_text)
    return seq


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    r = runner.invoke(app, ["eval", "tracking", *[str(a) for a in args]])
    return r.exit_code, ANSI.sub("", r.stdout), re.sub(r"\s+", " ", ANSI.sub("", r.stderr))


# ---- noise model -----------------------------------------------------------------------------


def test_degrade_is_seeded() -> None:
    gt = synthetic_gt(8, 60, seed=3)
    frames = range(1, 61)
    a = degrade(gt, NoiseModel(), 5, image_size=(1280, 720), frames=frames)
    b = degrade(gt, NoiseModel(), 5, image_size=(1280, 720), frames=frames)
    c = degrade(gt, NoiseModel(), 6, image_size=(1280, 720), frames=frames)
    assert sorted(a) == list(frames)
    assert all(a[f] == b[f] for f in frames)
    assert not all(len(a[f]) == len(c[f]) and a[f] == c[f] for f in frames)
    assert {int(c) for f in frames for c in a[f].class_id} == {0}
    assert sequence_seed(0, "x") == sequence_seed(0, "x")
    assert len({sequence_seed(0, "x"), sequence_seed(0, "y"), sequence_seed(1, "x")}) == 3


def test_noise_rates_on_a_real_sequence(shared) -> None:  # type: ignore[no-untyped-def]
    seq = read_sequence(first_sequence(shared))
    assert (seq.length, seq.frame_rate, seq.image_size) == (725, 25.0, (1280, 720))
    frames = range(1, seq.length + 1)
    dets = degrade(
        seq.gt, NoiseModel(), 0, image_size=seq.image_size, frames=frames, with_truth=True
    )
    assert sorted(dets) == list(frames)
    src, conf = concat(dets, "gt_id"), concat(dets, "confidence")
    n_gt = sum(len(v[0]) for v in seq.gt.values())
    miss = 1 - (src >= 0).sum() / n_gt
    assert 0.085 < miss < 0.115
    fp_per_frame = (src < 0).sum() / seq.length
    assert 0.85 < fp_per_frame < 1.15
    true_conf, fp_conf = conf[src >= 0], conf[src < 0]
    assert 0.74 < true_conf.mean() < 0.81 and 0.35 < fp_conf.mean() < 0.45
    assert 0.08 < (true_conf < 0.6).mean() < 0.2  # ByteTrack's low-score stage has work
    assert conf.min() >= 0.01 and conf.max() <= 1.0
    # Bursts: a missed box's previous appearance is missed far more often than 10 %.
    kept = {(f, int(i)) for f, d in dets.items() for i in d.data["gt_id"] if i >= 0}
    prev_missed = []
    for f, (ids, _) in seq.gt.items():
        for i in ids.tolist():
            if (f, i) not in kept and f > 1 and i in seq.gt.get(f - 1, ([],))[0]:
                prev_missed.append((f - 1, i) not in kept)
    assert np.mean(prev_missed) > 0.2


def test_jitter_statistics() -> None:
    gt = {
        f: (np.arange(10), np.tile([[100.0, 100.0, 200.0, 300.0]], (10, 1))) for f in range(1, 201)
    }
    noise = NoiseModel(miss_rate=0.0, fp_per_frame=0.0, clip_to_image=False)
    dets = degrade(gt, noise, 1, with_truth=True)
    xyxy = np.concatenate([d.xyxy for d in dets.values()]).astype(float)
    assert len(xyxy) == 2000 and (concat(dets, "gt_id") >= 0).all()
    cx, cy = xyxy[:, [0, 2]].mean(1), xyxy[:, [1, 3]].mean(1)
    w, h = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
    assert abs((cx - 150).mean()) < 0.5 and (cx - 150).std() == pytest.approx(5.0, rel=0.1)
    assert abs((cy - 200).mean()) < 1.0 and (cy - 200).std() == pytest.approx(10.0, rel=0.1)
    assert np.log(w / 100).std() == pytest.approx(0.05, rel=0.1)
    assert np.log(h / 200).std() == pytest.approx(0.05, rel=0.1)


def test_no_noise_and_empty_frames() -> None:
    gt = {2: (np.array([4]), np.array([[1.0, 2, 31, 62]]))}
    dets = degrade(gt, NoiseModel.none(), 0, frames=range(1, 5), with_truth=True)
    assert [len(dets[f]) for f in range(1, 5)] == [0, 1, 0, 0]
    assert dets[2].xyxy.tolist() == [[1, 2, 31, 62]] and dets[2].data["gt_id"].tolist() == [4]
    fp_only = degrade(
        {}, NoiseModel(fp_per_frame=3.0), 0, image_size=(320, 180), frames=range(1, 50)
    )
    boxes = np.concatenate([d.xyxy for d in fp_only.values()])
    assert len(boxes) > 100 and boxes.min() >= 0 and boxes[:, 2].max() <= 320
    assert not degrade({}, NoiseModel(), 0, frames=range(1, 3))[1]  # nowhere to put an FP


@pytest.mark.parametrize(
    "kwargs",
    [{"miss_rate": 1.0}, {"burst_min": 0}, {"centre_sigma": -1.0}, {"fp_per_frame": np.nan}],
)
def test_noise_model_rejects_bad_parameters(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="NoiseModel"):
        NoiseModel(**kwargs)


# ---- pooled metrics --------------------------------------------------------------------------


def _frames(seed: int, id_offset: int) -> list[MotFrame]:
    gt = synthetic_gt(5, 40, seed=seed)
    dets = degrade(gt, NoiseModel(), seed, image_size=(1280, 720), frames=range(1, 41))
    tracker = TrackerAdapter(IouTracker())
    out = []
    for f in range(1, 41):
        d = tracker.update(dets[f])
        out.append(MotFrame(f, gt[f][0] + id_offset, gt[f][1], d.tracker_id + id_offset, d.xyxy))
    return out


def test_combine_equals_one_long_sequence() -> None:
    a, b = _frames(1, 0), _frames(2, 1000)
    b_shifted = [MotFrame(f.frame + 100, f.gt_ids, f.gt_xyxy, f.pr_ids, f.pr_xyxy) for f in b]
    pooled = combine_mot([evaluate_mot(a), evaluate_mot(b)])
    whole = evaluate_mot(a + b_shifted)
    for key in (*METRIC_KEYS, "num_frames"):
        assert pooled[key] == pytest.approx(whole[key], abs=1e-9), key
    for key in ("hota_alpha", "assa_alpha", "loca_alpha", "hota_tp"):
        np.testing.assert_allclose(pooled[key], whole[key], atol=1e-9, err_msg=key)
    single = combine_mot([evaluate_mot(a)])
    assert all(single[k] == pytest.approx(evaluate_mot(a)[k]) for k in METRIC_KEYS)
    assert combine_mot([])["num_gt"] == 0


def test_combine_matches_trackeval(reference, trackeval_data) -> None:  # type: ignore[no-untyped-def]
    trackeval = reference("trackeval")
    seqs = [_frames(1, 0), _frames(4, 0)]
    metric = trackeval.metrics.HOTA()
    ref = metric.combine_sequences(
        {str(i): metric.eval_sequence(trackeval_data(s)) for i, s in enumerate(seqs)}
    )
    ours = combine_mot([evaluate_mot(s) for s in seqs])
    for key in ("HOTA", "DetA", "AssA", "LocA"):
        np.testing.assert_allclose(ours[f"{key.lower()}_alpha"], ref[key], atol=1e-9, err_msg=key)
    ident = trackeval.metrics.Identity()
    ref_id = ident.combine_sequences(
        {str(i): ident.eval_sequence(trackeval_data(s)) for i, s in enumerate(seqs)}
    )
    assert ours["idf1"] == pytest.approx(ref_id["IDF1"], abs=1e-9)


# ---- runner ----------------------------------------------------------------------------------


def test_perfect_tracker_scores_one(shared) -> None:  # type: ignore[no-untyped-def]
    seq = read_sequence(first_sequence(shared))
    res = evaluate_tracking(
        [seq],
        trackers={
            "oracle": lambda fps: TrackerAdapter(Oracle(seq.gt)),
            "iou": lambda fps: TrackerAdapter(IouTracker()),
        },
        noise=NoiseModel.none(),
        max_frames=200,
        speed_frames=0,
    )
    oracle, iou = res.scores["oracle"], res.scores["iou"]
    for v in (oracle.hota, oracle.idf1, oracle.mota, oracle.deta, oracle.assa):
        assert v == pytest.approx(1.0)
    assert oracle.idsw == 0 and res.frames == 200
    assert 0.3 < iou.hota < 1.0 and iou.updates_per_s_25 is None
    assert speed_test(lambda fps: TrackerAdapter(IouTracker()), frames=20) > 0
    assert res.sequences[FIRST].noise.miss_rate == 0.0
    json.dumps(res.to_json(), allow_nan=False)


def test_bytetrack_and_ocsort_on_a_short_clip(shared, reference, tmp_path) -> None:  # type: ignore[no-untyped-def]
    reference("trackers")
    res = evaluate_tracking(
        shared(SEQ),
        trackers=["bytetrack", "ocsort"],
        sequences=[FIRST],
        max_frames=150,
        speed_frames=30,
        seed=0,
    )
    for name in ("bytetrack", "ocsort"):
        r = res.scores[name]
        assert set(METRIC_KEYS) <= set(r.to_json()) and r.fps > 0 and r.updates_per_s_25 > 0
        assert 0.0 <= r.deta <= 1 and 0.0 <= r.assa <= 1
    bt = res.scores["bytetrack"]
    assert 0.4 < bt.hota < 0.9 and 0.5 < bt.idf1 < 0.95 and 0.7 < bt.mota < 1.0
    assert res.params["bytetrack"]["frame_rate"] == 25.0
    assert res.params["bytetrack"]["track_activation_threshold"] == 0.7
    assert res.params["ocsort"]["minimum_consecutive_frames"] == 3
    assert res.noise_model["seed"] == 0 and res.noise_model["miss_rate"] == 0.1
    assert set(res.sequences) == {FIRST} and res.frames == 150
    assert set(res.sequences[FIRST].trackers) == {"bytetrack", "ocsort"}
    assert set(res.to_json()["sequences"][FIRST]) >= {"bytetrack", "ocsort", "noise", "frames"}
    path = write_json_atomic(tmp_path / "r.json", res.to_json())
    assert json.loads(path.read_text())["bytetrack"]["hota"] == pytest.approx(bt.hota)


def test_supervision_adapter_round_trip(reference) -> None:  # type: ignore[no-untyped-def]
    trackers = reference("trackers")
    adapter = SupervisionAdapter(trackers.ByteTrackTracker(frame_rate=25.0))
    box = Detections([[10, 10, 40, 80]], confidence=[0.9], class_id=[0])
    outs = [adapter.update(d) for d in (box, Detections.empty(), box, box)]
    assert [len(o) for o in outs] == [1, 0, 1, 1]
    assert outs[-1].tracker_id is not None and outs[-1].tracker_id.tolist() == [0]
    assert outs[-1].xyxy.dtype == np.float32 and adapter.updates == 4
    adapter.reset()
    assert adapter.updates == 0 and adapter.seconds == 0.0


def test_resolve_trackers() -> None:
    with pytest.raises(ValueError, match="unknown tracker"):
        resolve_trackers(["nope"])
    with pytest.raises(ValueError, match="no tracker"):
        resolve_trackers({})


# ---- command line ----------------------------------------------------------------------------


def test_cli_round_trip(tmp_path, reference) -> None:  # type: ignore[no-untyped-def]
    reference("trackers")
    mot = tmp_path / "mot"
    write_sequence(mot, "a")
    write_sequence(mot, "b", n_frames=30, n_objects=3)
    out = tmp_path / "res" / "r.json"
    code, stdout, stderr = run_cli(
        "--mot",
        mot,
        "--json",
        out,
        "--trackers",
        "bytetrack,ocsort",
        "--speed-frames",
        "10",
        "--seed",
        "3",
    )
    assert code == 0, stderr
    res = json.loads(out.read_text())
    assert res["trackers"] == ["bytetrack", "ocsort"] and set(res["sequences"]) == {"a", "b"}
    assert res["frames"] == 70 and res["data"] == str(mot) and res["noise_model"]["seed"] == 3
    for name in ("bytetrack", "ocsort"):
        assert {"hota", "idf1", "mota", "fps", "updates_per_s_25"} <= set(res[name])
        assert name in stdout
    assert "HOTA" in stdout
    code, _, _ = run_cli(
        "--mot",
        mot,
        "--json",
        out,
        "--trackers",
        "bytetrack",
        "--speed-frames",
        "0",
        "--sequences",
        "b",
        "--max-frames",
        "5",
    )
    res = json.loads(out.read_text())
    assert code == 0 and res["frames"] == 5 and list(res["sequences"]) == ["b"]
    assert res["bytetrack"]["updates_per_s_25"] is None


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: root.mkdir(), "no MOT sequence"),
        (lambda root: None, "no such folder"),
        (lambda root: (write_sequence(root, "s") / "seqinfo.ini").unlink(), "seqinfo.ini: missing"),
        (lambda root: (write_sequence(root, "s") / "gt" / "gt.txt").unlink(), "gt.txt: missing"),
        (lambda root: write_sequence(root, "s", gt_text="1,1,0,0,x,5\n"), "gt.txt:1: not a number"),
        (
            lambda root: write_sequence(root, "s", ini="[Sequence]\nframeRate=25\n"),
            "missing seqLength",
        ),
        (
            lambda root: write_sequence(root, "s", ini="[Sequence]\nframeRate=25\nseqLength=ten\n"),
            "seqLength='ten'",
        ),
        (lambda root: write_sequence(root, "s", ini="frameRate=25\n"), "cannot parse"),
        (
            lambda root: write_sequence(root, "s", ini="[Other]\nseqLength=2\n"),
            "no [Sequence] section",
        ),
        (
            lambda root: write_sequence(
                root,
                "s",
                n_frames=3,
                gt_text="9,1,0,0,5,5,1,1,1\n",
                ini="[Sequence]\nframeRate=25\nseqLength=3\n",
            ),
            "frame 9 is outside 1..3",
        ),
    ],
)
def test_cli_bad_input(tmp_path: Path, setup: Callable[[Path], Any], message: str) -> None:
    root = tmp_path / "mot"
    setup(root)
    code, _, stderr = run_cli(
        "--mot", root, "--json", tmp_path / "r.json", "--trackers", "bytetrack"
    )
    assert code == 1 and message in stderr, stderr
    assert not (tmp_path / "r.json").exists()


def test_cli_bad_options(tmp_path: Path) -> None:
    write_sequence(tmp_path / "mot", "s")
    code, _, stderr = run_cli(
        "--mot", tmp_path / "mot", "--json", tmp_path / "r.json", "--trackers", "foo"
    )
    assert code == 1 and "unknown tracker" in stderr
    code, _, stderr = run_cli(
        "--mot", tmp_path / "mot", "--json", tmp_path / "r.json", "--sequences", "zz"
    )
    assert code == 1 and "no sequence ['zz']" in stderr


def test_read_sequences_single_folder_and_filter(tmp_path: Path) -> None:
    seq = write_sequence(tmp_path / "mot", "only")
    assert [s.name for s in read_sequences(seq)] == ["only"]
    with pytest.raises(DataError, match="no sequence"):
        read_sequences(tmp_path / "mot", ["other"])
    gt = read_sequence(seq).gt
    assert len(mot_frames(gt, {})) == 40
