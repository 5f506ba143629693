"""touchline.io.cdf: Common Data Format export, import and validation."""

from __future__ import annotations

import itertools
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import touchline.io.cdf as cdf_module
from touchline.errors import DataError
from touchline.io import (
    TrackingMeta,
    load_tracking,
    read_cdf,
    read_lastrow,
    validate_cdf,
    write_cdf,
)
from touchline.io._common import build_tracks
from touchline.io.cdf import CDF_VERSION, cdf_meta_path
from touchline.tracks import Tracks

kloppy = pytest.importorskip("kloppy")
FILES = Path(kloppy.__file__).parent / "tests" / "files"
LIV = "tracking/lastrow/LIV_[2]-1_CHE.csv"
CM = 0.01

Shared = Callable[[str], Path]


def _tracab() -> Tracks:
    return load_tracking(
        "tracab", meta_data=FILES / "tracab_meta.xml", raw_data=FILES / "tracab_raw.dat"
    )


def _pff() -> Tracks:
    return load_tracking(
        "pff",
        meta_data=FILES / "pff_metadata_10517.json",
        roster_meta_data=FILES / "pff_rosters_10517.json",
        raw_data=FILES / "pff_10517.jsonl",
    )


def _metrica() -> Tracks:
    return load_tracking(
        "metrica", home_data=FILES / "metrica_home.csv", away_data=FILES / "metrica_away.csv"
    )


def _tiny(**meta: Any) -> Tracks:
    """Two frames: the ball, a home player, an away keeper and a referee."""
    return build_tracks(
        frame=[10, 10, 10, 10, 11, 11, 11],
        time=[0.4, 0.4, 0.4, 0.4, 0.44, 0.44, 0.44],
        track_id=[0, 1, 2, 3, 0, 1, 2],
        class_name=["ball", "player", "goalkeeper", "referee", "ball", "player", "goalkeeper"],
        team=[-1, 0, 1, -1, -1, 0, 1],
        pitch_x=[52.5, 40.0, 100.0, 50.0, 60.0, 41.0, float("nan")],
        pitch_y=[34.0, 30.0, 34.0, 10.0, 30.0, 31.0, float("nan")],
        period=[1] * 7,
        pitch_z=[0.5, np.nan, np.nan, np.nan, 1.0, np.nan, np.nan],
        fps=25.0,
        pitch_size=(105.0, 68.0),
        meta=TrackingMeta.from_dict(meta),
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _compare(back: Tracks, t: Tracks, *, classes: bool = False) -> None:
    cols = ["track_id", "team", "period"] + (["class_name"] if classes else [])
    assert back.df[cols].equals(t.df[cols])
    xy = ["pitch_x", "pitch_y"]
    assert np.abs(back.df[xy].to_numpy(float) - t.df[xy].to_numpy(float)).max() < CM
    np.testing.assert_allclose(back.df.time, t.df.time, atol=1e-6)
    np.testing.assert_allclose(back.df.pitch_z, t.df.pitch_z, atol=1e-3)
    assert back.pitch_size == t.pitch_size
    assert back.fps == pytest.approx(t.fps)


# --------------------------------------------------------------------------------------------
# Writing: the file contents by hand
# --------------------------------------------------------------------------------------------


def test_tiny_export_by_hand(tmp_path: Path) -> None:
    t = _tiny(
        attack_direction={"1": "left"},
        match_id="m7",
        time_origin="2024-05-01T18:00:00Z",
        teams={
            "0": {"name": "Reds", "provider_id": "reds", "ground": "home", "color": "#FF0000"},
            "1": {"name": "Blues", "provider_id": "blues", "ground": "away"},
        },
        players={
            "1": {"team": 0, "name": "Ann Lee", "jersey": 9, "provider_id": "p9"},
            "2": {"team": 1, "jersey": 1, "provider_id": "k1"},
        },
    )
    out = write_cdf(t, tmp_path)
    assert out.tracking == tmp_path / "tracking.jsonl" and out.meta == tmp_path / "meta.json"
    first, second = _lines(out.tracking)
    # Team 0 attacks left in period 1, so the standardized file (home attacks +x) is rotated:
    # touchline (40, 30) -> CDF (40 - 52.5, 34 - 30) = (-12.5, 4) -> rotated (12.5, -4).
    assert first == {
        "frame_id": 0,
        "timestamp": "2024-05-01T18:00:00.400000Z",
        "period": "first_half",
        "match": {"id": "m7"},
        "teams": {
            "home": {"id": "reds", "players": [{"id": "p9", "x": 12.5, "y": -4.0}]},
            "away": {"id": "blues", "players": [{"id": "k1", "x": -47.5, "y": -0.0}]},
        },
        "ball": {"x": -0.0, "y": -0.0, "z": 0.5},
        "officials": [{"id": "3", "x": 2.5, "y": -24.0}],
    }
    # The keeper has no position in frame 11: he is left out; frame ids start at 0.
    assert second["frame_id"] == 1 and second["teams"]["away"]["players"] == []
    assert second["ball"] == {"x": -7.5, "y": -4.0, "z": 1.0}
    meta = json.loads(out.meta.read_text())
    assert meta["match"]["kickoff_time"] == "2024-05-01T18:00:00Z".replace("Z", ".000000Z")
    assert meta["match"]["periods"] == [
        {
            "period": "first_half",
            "play_direction": "left_right",
            "start_time": "2024-05-01T18:00:00.400000Z",
            "end_time": "2024-05-01T18:00:00.440000Z",
            "frame_id_start": 0,
            "frame_id_end": 1,
            "left_team_id": "blues",
            "right_team_id": "reds",
        }
    ]
    assert [w["sub_type"] for w in meta["match"]["whistles"]] == ["start", "end"]
    assert meta["teams"]["home"] == {
        "id": "reds",
        "players": [
            {
                "id": "p9",
                "team_id": "reds",
                "jersey_number": 9,
                "is_starter": True,
                "first_name": "Ann",
                "last_name": "Lee",
            }
        ],
        "name": "Reds",
        "jersey_colour": "#FF0000",
    }
    assert meta["venue"] == {"id": "unknown", "pitch_length": 105.0, "pitch_width": 68.0}
    assert meta["meta"]["tracking"]["fps"] == 25 and meta["meta"]["cdf"] == {"version": CDF_VERSION}
    assert validate_cdf(tmp_path) == []


def test_tiny_round_trip_restores_sides(tmp_path: Path) -> None:
    t = _tiny(attack_direction={"1": "left"})
    back = read_cdf(write_cdf(t, tmp_path).tracking)
    keep = np.isfinite(t.df.pitch_x.to_numpy())
    assert back.meta.attack_direction == {1: "left"}
    np.testing.assert_allclose(
        back.df[["pitch_x", "pitch_y"]], t.df[keep][["pitch_x", "pitch_y"]], atol=1e-3
    )
    assert list(back.df.class_name) == ["ball", "player", "player", "referee", "ball", "player"]
    assert list(back.df.frame) == [0, 0, 0, 0, 1, 1]
    standard = read_cdf(tmp_path, standardized=True)
    np.testing.assert_allclose(standard.df.pitch_x, 105.0 - back.df.pitch_x, atol=1e-3)
    assert standard.meta.attack_direction == {1: "right"}


def test_direction_is_inferred_when_unknown(tmp_path: Path) -> None:
    # No attack_direction: the home player (40 m) and away keeper (100 m) say home attacks right.
    out = write_cdf(_tiny(), tmp_path)
    period = json.loads(out.meta.read_text())["match"]["periods"][0]
    assert (period["left_team_id"], period["right_team_id"]) == ("home", "away")
    assert _lines(out.tracking)[0]["teams"]["home"]["players"][0]["x"] == -12.5


# --------------------------------------------------------------------------------------------
# Round trips on real data
# --------------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_lastrow_round_trip(shared: Shared, tmp_path: Path) -> None:
    t = read_lastrow(shared(LIV))
    out = write_cdf(t, tmp_path, match_id="liv-che")
    assert validate_cdf(tmp_path) == []
    first = _lines(out.tracking)[0]
    # The ball of frame 0 (touchline 45.1355, 1.5410): Liverpool (home) attack left, so the
    # standardized CDF point is rotated: (-(45.1355 - 52.5), -(34 - 1.5410)).
    assert (first["ball"]["x"], first["ball"]["y"]) == pytest.approx((7.364, -32.459), abs=1e-3)
    back = read_cdf(out.tracking)
    _compare(back, t)
    assert back.meta.attack_direction == {1: "left"}
    assert back.meta.match_id == "liv-che"
    assert back.meta.time_origin == "1970-01-01T00:00:00Z"
    # Names and ids survive; CDF has no goalkeeper role.
    assert [back.meta.players[k].provider_id for k in (1, 18)] == ["12", "14238"]
    assert back.meta.players[1].jersey == 10
    assert set(back.df.class_name) == {"ball", "player"}


@pytest.mark.parametrize("load", [_tracab, _pff, _metrica], ids=["tracab", "pff", "metrica"])
def test_provider_round_trip(load: Callable[[], Tracks], tmp_path: Path) -> None:
    t = load()
    out = write_cdf(t, tmp_path)
    back = read_cdf(out.tracking)
    _compare(back, t)
    first = int(t.df.frame.min())
    np.testing.assert_array_equal(back.df.frame, t.df.frame - first)
    assert back.meta.attack_direction == t.meta.attack_direction
    # Without a wall-clock origin the export counts from the Unix epoch.
    assert back.meta.time_origin == (t.meta.time_origin or "1970-01-01T00:00:00Z")
    assert [back.meta.teams[k].provider_id for k in (0, 1)] == [
        t.meta.teams[k].provider_id for k in (0, 1)
    ]
    for k, p in back.meta.players.items():
        assert (p.provider_id, p.jersey) == (
            t.meta.players[k].provider_id,
            t.meta.players[k].jersey,
        )
    for p_back, p_in in zip(back.meta.periods, t.meta.periods, strict=True):
        assert p_back.start_time == pytest.approx(p_in.start_time, abs=1e-6)
        assert p_back.end_time == pytest.approx(p_in.end_time, abs=1e-6)


def test_pff_extra_time_periods(tmp_path: Path) -> None:
    out = write_cdf(_pff(), tmp_path)
    lines = _lines(out.tracking)
    names = {line["period"] for line in lines}
    assert names == {"first_half", "second_half", "first_half_extratime", "second_half_extratime"}
    # The only problems are the frames where PFF has no ball (written as null).
    no_ball = sum(line["ball"]["x"] is None for line in lines)
    problems = validate_cdf(tmp_path)
    assert no_ball > 0 and len(problems) == 2 * no_ball
    assert all("ball" in p and "must be a number" in p for p in problems)


def test_missing_ball_is_written_as_null(tmp_path: Path) -> None:
    # Metrica frames 4-6 have no ball: CDF allows null coordinates (the validator package
    # still flags them in its coordinate check, which we report as is).
    out = write_cdf(_metrica(), tmp_path)
    balls = [line["ball"] for line in _lines(out.tracking)]
    assert balls[3:] == [{"x": None, "y": None, "z": None}] * 3
    problems = validate_cdf(tmp_path)
    assert problems and all("ball" in p and "must be a number" in p for p in problems)


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[Path] = []
    real = cdf_module.atomic_path

    def spy(path: Any, **kwargs: Any) -> Any:
        used.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(cdf_module, "atomic_path", spy)
    out = write_cdf(_tracab(), tmp_path)
    assert sorted(used) == sorted([out.tracking, out.meta])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json", "tracking.jsonl"]
    # A failing export leaves the previous files untouched.
    before = out.tracking.read_text()
    bad = Tracks(_tracab().df.assign(time=np.nan), fps=25.0)
    with pytest.raises(DataError, match="finite time"):
        write_cdf(bad, tmp_path)
    assert out.tracking.read_text() == before


def test_names_and_paths(tmp_path: Path) -> None:
    out = write_cdf(_tracab(), tmp_path / "new", tracking_name="match.jsonl")
    assert out.meta.name == "match.meta.json" == cdf_meta_path(out.tracking).name
    assert len(read_cdf(out.tracking)) == len(_tracab())
    assert len(read_cdf(tmp_path / "new")) == len(_tracab())


@pytest.mark.parametrize(
    ("tracks", "message"),
    [
        (lambda: Tracks(_tiny().df, meta={}), "no fps"),
        (lambda: Tracks(_tiny().df.assign(period=7), fps=25.0), "periods [7] have no CDF name"),
        (
            lambda: Tracks(_tiny().df.query("track_id == 0"), fps=25.0),
            "cannot be inferred",
        ),
    ],
)
def test_write_errors(tracks: Callable[[], Tracks], message: str, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"tracking\.jsonl") as err:
        write_cdf(tracks(), tmp_path)
    assert message in str(err.value)


def test_people_without_team_are_dropped_with_a_warning(tmp_path: Path) -> None:
    df = _tiny(attack_direction={"1": "right"}).to_dataframe()
    df.loc[df.track_id == 1, "team"] = -1
    t = Tracks(df, fps=25.0, meta={"attack_direction": {"1": "right"}})
    with pytest.warns(UserWarning, match="2 rows of people without a team"):
        out = write_cdf(t, tmp_path)
    assert _lines(out.tracking)[0]["teams"]["home"]["players"] == []


# --------------------------------------------------------------------------------------------
# Reading errors
# --------------------------------------------------------------------------------------------

GOOD_LINE = {
    "frame_id": 0,
    "timestamp": "2023-10-01T12:00:00Z",
    "period": "first_half",
    "match": {"id": "m"},
    "teams": {
        "home": {"id": "h", "players": [{"id": "a", "x": 1.0, "y": 2.0}]},
        "away": {"id": "w", "players": []},
    },
    "ball": {"x": 0.0, "y": 0.0, "z": 0.0},
}


def _jsonl(tmp_path: Path, *lines: Any, name: str = "tracking.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return p


def test_read_without_meta_file(tmp_path: Path) -> None:
    later = {**GOOD_LINE, "frame_id": 1, "timestamp": "2023-10-01T12:00:00.04Z"}
    t = read_cdf(_jsonl(tmp_path, GOOD_LINE, later))
    assert t.pitch_size == (105.0, 68.0) and t.fps == 25.0
    assert list(t.df.time) == [0.0, 0.0, 0.04, 0.04]
    assert t.meta.time_origin == "2023-10-01T12:00:00Z"
    assert t.meta.teams[0].provider_id == "h"
    # (1, 2) in CDF is (53.5, 32) in touchline metres.
    player = t.df[t.df.track_id == 1].iloc[0]
    assert (player.pitch_x, player.pitch_y) == (53.5, 32.0)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"frame_id": 0,'], "line 1: not valid JSON"),
        ([GOOD_LINE, "[1, 2]"], "line 2: expected a JSON object"),
        (
            [{k: v for k, v in GOOD_LINE.items() if k != "ball"}],
            "line 1: missing required field 'ball'",
        ),
        ([{**GOOD_LINE, "period": "third_half"}], "line 1: unknown period 'third_half'"),
        ([{**GOOD_LINE, "frame_id": "0"}], "frame_id must be an integer"),
        ([{**GOOD_LINE, "timestamp": "noon"}], "line 1: timestamp 'noon' is not a UTC time"),
        ([{**GOOD_LINE, "teams": {"home": GOOD_LINE["teams"]["home"]}}], "'teams.away'"),
        (
            [{**GOOD_LINE, "teams": {"home": {"players": [{"x": 1}]}, "away": {}}}],
            "without an 'id'",
        ),
    ],
)
def test_read_errors_name_file_and_line(tmp_path: Path, lines: list[Any], message: str) -> None:
    with pytest.raises(DataError, match=r"tracking\.jsonl") as err:
        read_cdf(_jsonl(tmp_path, *lines))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"match": {"periods": {}}}', "match.periods: expected a JSON array"),
        ('{"teams": {"home": []}}', "teams.home: expected a JSON object"),
        ('{"match": {"periods": [{"period": "x"}]}}', "unknown period 'x'"),
        ('{"match": {"kickoff_time": "soon"}}', "kickoff_time: 'soon' is not a time"),
    ],
)
def test_read_meta_errors(tmp_path: Path, meta: str, message: str) -> None:
    (tmp_path / "meta.json").write_text(meta)
    with pytest.raises(DataError, match=r"meta\.json") as err:
        read_cdf(_jsonl(tmp_path, GOOD_LINE))
    assert message in str(err.value)


def test_read_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such CDF tracking file"):
        read_cdf(tmp_path / "none.jsonl")
    with pytest.raises(DataError, match=r"no CDF tracking file \(\*\.jsonl\)"):
        read_cdf(tmp_path)
    _jsonl(tmp_path, GOOD_LINE, name="a.jsonl")
    _jsonl(tmp_path, GOOD_LINE, name="b.jsonl")
    with pytest.raises(DataError, match=r"several \.jsonl files"):
        read_cdf(tmp_path)


# --------------------------------------------------------------------------------------------
# Validation: the cdf package and the built-in fallback
# --------------------------------------------------------------------------------------------


@pytest.fixture(params=["package", "builtin"])
def validator(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "package":
        pytest.importorskip("cdf")
    else:
        monkeypatch.setitem(sys.modules, "cdf", None)  # import cdf -> ImportError
        assert cdf_module._cdf_package() is None
    return str(request.param)


def test_valid_export_passes(validator: str, tmp_path: Path) -> None:
    out = write_cdf(_tracab(), tmp_path)
    assert validate_cdf(tmp_path) == []
    assert validate_cdf(out.tracking) == []
    assert validate_cdf(out.meta) == []
    assert validate_cdf(out.tracking, limit=2) == []


def _broken(tmp_path: Path, change: Callable[[dict[str, Any]], None], which: str) -> Path:
    out = write_cdf(_tracab(), tmp_path)
    if which == "meta":
        doc = json.loads(out.meta.read_text())
        change(doc)
        out.meta.write_text(json.dumps(doc))
        return out.meta
    lines = _lines(out.tracking)
    change(lines[0])
    out.tracking.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return out.tracking


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("tracking", lambda d: d.pop("frame_id"), "frame_id", "no frame_id"),
    ("tracking", lambda d: d.update(timestamp="2023-12-16 17:04"), "timestamp", "bad timestamp"),
    ("tracking", lambda d: d.update(period="half_time"), "half_time", "bad period"),
    ("tracking", lambda d: d["teams"].pop("away"), "away", "no away team"),
    ("tracking", lambda d: d["ball"].pop("z"), "z", "ball without z"),
    ("tracking", lambda d: d.update(frame_id=5), "frame_id", "frames not starting at 0"),
    ("meta", lambda d: d.pop("venue"), "venue", "no venue"),
    ("meta", lambda d: d["match"].pop("whistles"), "whistles", "no whistles"),
    ("meta", lambda d: d["match"]["periods"][0].pop("play_direction"), "play_direction", "dir"),
    ("meta", lambda d: d["teams"]["home"]["players"][0].pop("jersey_number"), "jersey", "jersey"),
    ("meta", lambda d: d["meta"]["tracking"].update(fps=25.5), "fps", "fps not integer"),
]


@pytest.mark.parametrize(
    ("which", "change", "word"), [b[:3] for b in BROKEN], ids=[b[3] for b in BROKEN]
)
def test_broken_files_are_reported(
    validator: str, tmp_path: Path, which: str, change: Callable[[dict[str, Any]], None], word: str
) -> None:
    path = _broken(tmp_path, change, which)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the validator's warnings are captured, not leaked
        problems = validate_cdf(path)
    assert problems, f"{validator} validator missed it"
    assert any(word in p for p in problems), problems
    assert all(p.startswith(path.name) for p in problems), problems


def test_malformed_line_is_a_problem(validator: str, tmp_path: Path) -> None:
    out = write_cdf(_tracab(), tmp_path)
    out.tracking.write_text(out.tracking.read_text() + "{oops\n")
    problems = validate_cdf(out.tracking)
    assert problems and all(p.startswith("tracking.jsonl") for p in problems)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no such file or folder"),
        (lambda d: d, "no CDF files"),
        (lambda d: (d / "x.txt", (d / "x.txt").write_text("x"))[0], "not a CDF file"),
    ],
)
def test_validate_bad_paths(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    with pytest.raises(DataError, match=message):
        validate_cdf(make(tmp_path))


def test_package_and_builtin_agree_on_the_shipped_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    # The validator's own v0.3.2 samples pass both checks.
    package = pytest.importorskip("cdf")
    samples = Path(package.__file__).parent / "files" / f"v{CDF_VERSION}" / "sample"
    assert cdf_module._builtin_meta(samples / "meta.json") == []
    assert cdf_module._builtin_tracking(samples / "tracking.jsonl", None) == []
    assert validate_cdf(samples / "meta.json") == []


def test_frame_table_sanity(tmp_path: Path) -> None:
    # Every tracking line lists the same team ids, increasing frame ids and UTC timestamps.
    out = write_cdf(_pff(), tmp_path)
    lines = _lines(out.tracking)
    ids = [line["frame_id"] for line in lines]
    assert ids[0] == 0 and all(b > a for a, b in itertools.pairwise(ids))
    stamps = pd.to_datetime([line["timestamp"] for line in lines], utc=True)
    assert stamps.is_monotonic_increasing
    assert {line["teams"]["home"]["id"] for line in lines} == {"364"}


def test_empty_table_round_trips(tmp_path: Path) -> None:
    out = write_cdf(Tracks.empty(fps=25.0), tmp_path)
    assert out.tracking.read_text() == ""
    assert validate_cdf(tmp_path) == []
    back = read_cdf(out.tracking)
    assert len(back) == 0 and back.pitch_size == (105.0, 68.0)


def test_play_direction_without_sides_is_taken_as_is(tmp_path: Path) -> None:
    # A file whose home team attacks -x (play_direction right_left) and that does not give
    # the sides: its coordinates are the actual ones, nothing is rotated.
    _jsonl(tmp_path, GOOD_LINE)
    (tmp_path / "meta.json").write_text(
        json.dumps(
            {"match": {"periods": [{"period": "first_half", "play_direction": "right_left"}]}}
        )
    )
    t = read_cdf(tmp_path)
    assert t.meta.attack_direction == {1: "left"}
    player = t.df[t.df.track_id == 1].iloc[0]
    assert (player.pitch_x, player.pitch_y) == (53.5, 32.0)
