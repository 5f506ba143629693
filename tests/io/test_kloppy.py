"""touchline.io.kloppy_io: every kloppy tracking provider to the tracks table and back.

The provider files are the real excerpts kloppy ships with its tests (the same files as
../shared/data/tracking/provider_samples); they are found through the installed kloppy.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from touchline.errors import DataError
from touchline.io import META_KEYS, from_kloppy, load_tracking, to_kloppy
from touchline.io.kloppy_io import KLOPPY_PROVIDERS, _metric_system
from touchline.tracks import TRACK_COLUMN_NAMES

kloppy = pytest.importorskip("kloppy")
import kloppy.domain as kd  # noqa: E402

FILES = Path(kloppy.__file__).parent / "tests" / "files"
CM = 0.01  # the round-trip tolerance, metres

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "skillcorner": (
        "skillcorner",
        {
            "meta_data": FILES / "skillcorner_match_data.json",
            "raw_data": FILES / "skillcorner_structured_data.json",
            "limit": 100,
        },
    ),
    "skillcorner_v3": (
        "skillcorner",
        {
            "meta_data": FILES / "skillcorner_meta_data.json",
            "raw_data": FILES / "skillcorner_v3_raw_data.jsonl",
        },
    ),
    "tracab_dat": (
        "tracab",
        {"meta_data": FILES / "tracab_meta.xml", "raw_data": FILES / "tracab_raw.dat"},
    ),
    "tracab_json": (
        "tracab",
        {"meta_data": FILES / "tracab_meta.json", "raw_data": FILES / "tracab_raw.json"},
    ),
    "metrica_csv": (
        "metrica",
        {"home_data": FILES / "metrica_home.csv", "away_data": FILES / "metrica_away.csv"},
    ),
    "metrica_epts": (
        "metrica_epts",
        {
            "meta_data": FILES / "epts_metrica_metadata.xml",
            "raw_data": FILES / "epts_metrica_tracking.txt",
        },
    ),
    "sportec": (
        "sportec",
        {"meta_data": FILES / "sportec_meta.xml", "raw_data": FILES / "sportec_positional.xml"},
    ),
    "pff": (
        "pff",
        {
            "meta_data": FILES / "pff_metadata_10517.json",
            "roster_meta_data": FILES / "pff_rosters_10517.json",
            "raw_data": FILES / "pff_10517.jsonl",
        },
    ),
    "signality": (
        "signality",
        {
            "meta_data": FILES / "signality_meta_data.json",
            "raw_data_feeds": [
                FILES / "signality_p1_raw_data_subset.json",
                FILES / "signality_p2_raw_data_subset.json",
            ],
            "venue_information": FILES / "signality_venue_information.json",
        },
    ),
    "hawkeye": (
        "hawkeye",
        {
            "ball_feeds": [FILES / "hawkeye_1_1.football.samples.ball"],
            "player_centroid_feeds": [FILES / "hawkeye_1_1.football.samples.centroids"],
            "meta_data": FILES / "hawkeye_meta.json",
            "limit": 100,
        },
    ),
    "secondspectrum": (
        "secondspectrum",
        {
            "meta_data": FILES / "second_spectrum_fake_metadata.xml",
            "raw_data": FILES / "second_spectrum_fake_data.jsonl",
        },
    ),
    "statsperform": (
        "statsperform",
        {
            "ma1_data": FILES / "statsperform_tracking_ma1.json",
            "ma25_data": FILES / "statsperform_tracking_ma25.txt",
        },
    ),
}


SOURCES = {
    "skillcorner_v3": "skillcorner",
    "tracab_dat": "tracab",
    "tracab_json": "tracab",
    "metrica_csv": "metrica",
    "metrica_epts": "metrica",
    "secondspectrum": "second_spectrum",
}


@functools.cache
def _kloppy_load(case: str) -> Any:
    """The kloppy dataset of a case, loaded by kloppy itself (its default coordinates);
    cached, so tests must not modify it (see :func:`_fresh_kloppy_load`)."""
    return _fresh_kloppy_load(case)


def _fresh_kloppy_load(case: str, **extra: Any) -> Any:
    provider, kwargs = CASES[case]
    loader = KLOPPY_PROVIDERS[provider]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(importlib.import_module(loader.module), loader.function)(**kwargs, **extra)


@functools.cache
def _load(case: str) -> Any:
    provider, kwargs = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_tracking(provider, **kwargs)


def _xy(t: Any) -> np.ndarray:
    return t.df[["pitch_x", "pitch_y"]].to_numpy(np.float64)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_provider_loads_with_the_shared_conventions(case: str) -> None:
    t = _load(case)
    df = t.df
    assert len(df) > 0
    assert list(df.columns) == [*TRACK_COLUMN_NAMES, "period", "pitch_z"]
    assert tuple(t.meta.to_dict()) == META_KEYS
    # The source is kloppy's Provider value.
    assert t.meta.source == SOURCES.get(case, CASES[case][0])
    assert t.fps is not None and t.fps > 0
    ball = df[df.track_id == 0]
    assert set(ball.class_name) <= {"ball"} and set(ball.team) <= {-1}
    assert (df[df.track_id != 0].class_name != "ball").all()
    people = df[df.track_id != 0]
    assert set(people.team) <= {0, 1}
    assert set(people.class_name) <= {"player", "goalkeeper"}
    # Track ids are contiguous per team: home players first.
    first = people.groupby("team").track_id.agg(["min", "max"])
    if len(first) == 2:
        assert first.loc[0, "max"] < first.loc[1, "min"]
    meta = t.meta.to_dict()
    assert {int(k) for k in meta["players"]} >= set(people.track_id)
    for tid, team in people.drop_duplicates("track_id")[["track_id", "team"]].values:
        assert meta["players"][str(tid)]["team"] == team
    assert [meta["teams"][k]["ground"] for k in ("0", "1")] == ["home", "away"]
    assert set(meta["attack_direction"].values()) <= {"right", "left"}
    assert set(df.period) <= {p["id"] for p in meta["periods"]}
    # Positions are on (or near) the pitch; frames increase with time.
    length, width = t.pitch_size
    x, y = df.pitch_x[df.track_id != 0], df.pitch_y[df.track_id != 0]
    assert x.between(-10, length + 10).mean() > 0.99 and y.between(-10, width + 10).mean() > 0.99
    frames = df.drop_duplicates("frame")
    assert (np.diff(frames.time) > 0).all()


@pytest.mark.parametrize("case", sorted(CASES))
def test_native_coordinates_match_kloppys_default_coordinates(case: str) -> None:
    # load_tracking reads the provider's own coordinates; kloppy's default loader converts
    # them to its normalised system first. Both must give the same touchline metres.
    native = _load(case)
    default = from_kloppy(_kloppy_load(case))
    assert native.df[["frame", "track_id", "class_name", "team"]].equals(
        default.df[["frame", "track_id", "class_name", "team"]]
    )
    keep = np.ones(len(native), bool)
    if case == "pff":
        # kloppy 3.19's conversion of PFF extra time (periods 3-4) to its default coordinates
        # is off by a whole pitch (x - 105, y - 68): compare regular time only.
        keep = native.df.period.to_numpy() <= 2
    np.testing.assert_allclose(_xy(native)[keep], _xy(default)[keep], atol=1e-4)
    np.testing.assert_allclose(native.df.pitch_z, default.df.pitch_z, atol=1e-4)
    assert native.meta.attack_direction == default.meta.attack_direction


@pytest.mark.parametrize("case", ["skillcorner", "metrica_csv", "tracab_dat", "sportec", "pff"])
def test_conversion_matches_kloppys_own_transform(case: str) -> None:
    # kloppy converts the dataset to a metric top-left / y-down system (= touchline metres);
    # our vectorised affine map must agree.
    ds = _kloppy_load(case)
    ours = from_kloppy(ds)
    length, width = ours.pitch_size
    theirs = from_kloppy(
        ds.transform(to_coordinate_system=_metric_system(kd, length, width, centre=False))
    )
    np.testing.assert_allclose(_xy(ours), _xy(theirs), atol=1e-4)


def test_non_affine_coordinate_systems_go_through_kloppy() -> None:
    # StatsBomb coordinates stretch the pitch zone by zone: from_kloppy lets kloppy undo it.
    ds = _kloppy_load("tracab_dat")
    stretched = ds.transform(to_coordinate_system="statsbomb")
    assert stretched.metadata.coordinate_system.pitch_dimensions.standardized
    np.testing.assert_allclose(_xy(from_kloppy(stretched)), _xy(from_kloppy(ds)), atol=1e-4)


def test_ball_owning_team_orientation_is_resolved_per_period() -> None:
    ds = _kloppy_load("tracab_dat")
    by_possession = from_kloppy(ds.transform(to_orientation="BALL_OWNING_TEAM"))
    home_away = from_kloppy(ds.transform(to_orientation="HOME_AWAY"))
    np.testing.assert_allclose(_xy(by_possession), _xy(home_away), atol=1e-4)
    assert by_possession.meta.attack_direction == {1: "right", 2: "left"}


@pytest.mark.parametrize(
    "case",
    [
        "skillcorner",
        "metrica_csv",
        "tracab_dat",
        "tracab_json",
        "sportec",
        "pff",
        "signality",
        "hawkeye",
        "statsperform",
    ],
)
def test_tracks_to_kloppy_and_back(case: str) -> None:
    t = _load(case)
    back = from_kloppy(to_kloppy(t))
    cols = ["frame", "track_id", "class_name", "team", "period"]
    assert back.df[cols].equals(t.df[cols])
    assert np.abs(_xy(back) - _xy(t)).max() < CM
    np.testing.assert_allclose(back.df.time, t.df.time, atol=1e-6)
    np.testing.assert_allclose(back.df.pitch_z, t.df.pitch_z, atol=1e-4)
    assert back.fps == t.fps and back.pitch_size == t.pitch_size
    for key in ("teams", "players", "attack_direction", "periods", "match_id", "time_origin"):
        assert getattr(back.meta, key) == getattr(t.meta, key), key


@pytest.mark.parametrize("case", ["skillcorner", "metrica_csv", "tracab_dat", "sportec", "pff"])
def test_kloppy_to_tracks_and_back(case: str) -> None:
    ds = _kloppy_load(case) if case != "pff" else _load_native_pff()
    t = from_kloppy(ds)
    out = to_kloppy(t)
    # The reference: kloppy's own transform of the original to the same metric system.
    ref = ds.transform(to_coordinate_system=out.metadata.coordinate_system)
    # A frame in which nothing has coordinates has no rows in the table, so none comes back.
    ref_frames = [
        f
        for f in ref.frames
        if f.players_data or (f.ball_coordinates is not None and np.isfinite(f.ball_coordinates.x))
    ]
    assert len(out.frames) == len(ref_frames) >= len(ref.frames) - 1
    assert out.metadata.orientation == ds.metadata.orientation
    assert [p.id for p in out.metadata.periods] == [p.id for p in ds.metadata.periods]
    assert out.metadata.frame_rate == pytest.approx(ds.metadata.frame_rate)
    worst = 0.0
    compared = 0
    for a, b in zip(out.frames, ref_frames, strict=True):
        assert a.frame_id == b.frame_id and a.period.id == b.period.id
        assert a.timestamp.total_seconds() == pytest.approx(b.timestamp.total_seconds(), abs=1e-6)
        theirs = {p.player_id: d.coordinates for p, d in b.players_data.items()}
        for p, d in a.players_data.items():
            c = theirs[p.player_id]
            worst = max(worst, abs(d.coordinates.x - c.x), abs(d.coordinates.y - c.y))
            compared += 1
        if b.ball_coordinates is not None and np.isfinite(b.ball_coordinates.x):
            worst = max(worst, abs(a.ball_coordinates.x - b.ball_coordinates.x))
            worst = max(worst, abs(a.ball_coordinates.y - b.ball_coordinates.y))
    assert compared > 0 and worst < CM
    # Same teams, players, goalkeepers.
    for team_out, team_in in zip(out.metadata.teams, _home_away(ds), strict=True):
        assert str(team_out.team_id) == str(team_in.team_id)
        seen = {p.player_id for f in ds.frames for p in f.players_data if p.team == team_in}
        assert seen <= {p.player_id for p in team_out.players}


def _load_native_pff() -> Any:
    from kloppy import pff  # a submodule: ``import kloppy`` alone does not load it

    _, kwargs = CASES["pff"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pff.load_tracking(**kwargs, coordinates="pff")


def _home_away(ds: Any) -> list[Any]:
    teams = ds.metadata.teams
    return sorted(teams, key=lambda t: 0 if t.ground == kd.Ground.HOME else 1)


def test_skillcorner_by_hand() -> None:
    provider, kwargs = CASES["skillcorner"]
    t = load_tracking(provider, **{**kwargs, "limit": 1000})
    df = t.df
    meta = t.meta.to_dict()  # the JSON layout written to files
    # SkillCorner match 2417, Bayern (home) 4-0 Dortmund, 10 fps; frame 1523 is 11.2 s into
    # period 1, which starts 141.1 s into the feed.
    assert meta["match_id"] == "2417" and t.fps == 10.0
    assert meta["teams"]["0"]["name"] == "FC Bayern Munchen"
    assert meta["teams"]["1"]["name"] == "Borussia Dortmund"
    assert meta["time_origin"] == "2019-11-09T17:30:00Z"
    assert df.frame.iloc[0] == 1523
    assert df.time.iloc[0] == pytest.approx(152.3)
    np.testing.assert_allclose(df.time, df.frame / 10.0, atol=1e-6)
    assert meta["periods"][0]["start_time"] == pytest.approx(141.1)
    # Goalkeepers from the line-up: Neuer (6627) and Bürki (9252).
    gks = {p["provider_id"] for p in meta["players"].values() if p["position"] == "Goalkeeper"}
    assert gks == {"6627", "9252"}
    gk_rows = df[df.class_name == "goalkeeper"]
    assert set(gk_rows.track_id.map(lambda i: meta["players"][str(i)]["provider_id"])) <= gks
    # kloppy says AWAY_HOME: Bayern attack left in period 1, so Neuer stands right (about
    # 98 m in these frames) and Bürki left (about 9 m).
    assert meta["attack_direction"] == {"1": "left", "2": "right"}
    by_team = gk_rows.groupby("team").pitch_x.mean()
    assert by_team[0] > 90 and by_team[1] < 15
    # Anonymous broadcast tracks keep their provider id and team.
    anon = [p for p in meta["players"].values() if "anon" in (p["provider_id"] or "")]
    assert anon and {p["team"] for p in anon} <= {0, 1}


def test_pff_extra_time_and_rates() -> None:
    t = _load("pff")
    assert t.fps == pytest.approx(29.97)
    assert sorted(set(t.df.period)) == [1, 2, 3, 4]
    assert t.meta.attack_direction == {1: "right", 2: "left", 3: "right", 4: "left"}
    assert t.meta.teams[0].name == "Argentina"
    # The ball height is kept (metres): PFF's first ball is 0.39 m up.
    ball = t.df[t.df.track_id == 0]
    assert ball.pitch_z.iloc[0] == pytest.approx(0.39, abs=1e-6)


def test_duplicate_frame_ids_are_rejected() -> None:
    ds = _fresh_kloppy_load("metrica_csv")
    ds.records[1].frame_id = ds.records[0].frame_id
    with pytest.raises(DataError, match="frame ids are not unique"):
        from_kloppy(ds)


@pytest.mark.parametrize(
    ("provider", "kwargs", "message"),
    [
        ("nosuch", {}, "unknown tracking provider 'nosuch'"),
        ("tracab", {"meta_data": "no/meta.xml", "raw_data": "x.dat"}, "no/meta.xml: no such file"),
        (
            "tracab",
            {"meta_data": FILES / "tracab_meta.xml", "raw_data": FILES / "tracab_raw.dat", "x": 1},
            "unknown arguments ['x']",
        ),
        ("tracab", {"meta_data": FILES / "tracab_meta.xml"}, "missing arguments ['raw_data']"),
        (
            "tracab",
            {"meta_data": FILES / "tracab_raw.dat", "raw_data": FILES / "tracab_raw.dat"},
            "cannot read the tracab tracking data",
        ),
        (
            "skillcorner",
            {"meta_data": FILES / "tracab_meta.xml", "raw_data": FILES / "tracab_raw.dat"},
            "tracab_meta.xml, ",
        ),
    ],
)
def test_load_errors(provider: str, kwargs: dict, message: str) -> None:
    with pytest.raises(DataError) as err:
        load_tracking(provider, **kwargs)
    assert message in str(err.value)
    # One clear message, no chained traceback from inside kloppy.
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__


def test_malformed_file_names_the_file(tmp_path: Path) -> None:
    raw = tmp_path / "broken.jsonl"
    raw.write_text('{"frame": 1, "data": [\n')
    with pytest.raises(DataError, match=r"broken\.jsonl.*cannot read the skillcorner"):
        load_tracking("skillcorner", meta_data=FILES / "skillcorner_match_data.json", raw_data=raw)


def test_from_kloppy_rejects_other_objects() -> None:
    with pytest.raises(DataError, match="expected a kloppy TrackingDataset, got DataFrame"):
        from_kloppy(pd.DataFrame())


def test_pitch_override() -> None:
    ds = _kloppy_load("metrica_csv")  # normalised 0..1: scaled to the pitch given
    t = from_kloppy(ds, pitch=(100.0, 60.0))
    base = from_kloppy(ds)
    assert t.pitch_size == (100.0, 60.0)
    np.testing.assert_allclose(t.df.pitch_x, base.df.pitch_x * 100 / 105, atol=1e-4)
    metric = _load("tracab_dat")  # metres stay metres, re-centred on the given pitch
    moved = load_tracking("tracab", **CASES["tracab_dat"][1], pitch=(100.0, 60.0))
    np.testing.assert_allclose(moved.df.pitch_x, metric.df.pitch_x - 2.5, atol=1e-4)
    np.testing.assert_allclose(moved.df.pitch_y, metric.df.pitch_y - 4.0, atol=1e-4)
    with pytest.raises(DataError, match="pitch must be"):
        from_kloppy(ds, pitch=(0.0, 1.0))


def test_to_kloppy_needs_fps() -> None:
    t = _load("metrica_csv")
    from touchline.tracks import Tracks

    with pytest.raises(DataError, match="no fps"):
        to_kloppy(Tracks(t.df, meta=t.meta))


def test_to_kloppy_without_metadata_infers_periods_and_sides() -> None:
    t = _load("metrica_csv")
    from touchline.tracks import Tracks

    bare = Tracks(t.df.drop(columns=["period"]), fps=t.fps)
    ds = to_kloppy(bare)
    assert [p.id for p in ds.metadata.periods] == [1]
    assert [team.ground for team in ds.metadata.teams] == [kd.Ground.HOME, kd.Ground.AWAY]
    assert ds.metadata.orientation == kd.Orientation.NOT_SET
    back = from_kloppy(ds)
    assert np.abs(_xy(back) - _xy(t)).max() < CM


@pytest.mark.slow
def test_full_skillcorner_match() -> None:
    # The whole SkillCorner match kloppy ships: 34,783 frames (about 6 s to load and convert).
    provider, kwargs = CASES["skillcorner"]
    t = load_tracking(provider, **{**kwargs, "limit": None})
    assert len(t.frames) == 34783
    assert len(t) == 493749
    assert sorted(set(t.df.period)) == [1, 2]


def test_empty_inputs_round_trip() -> None:
    from touchline.tracks import Tracks

    empty = from_kloppy(to_kloppy(Tracks.empty(fps=25.0)))
    assert len(empty) == 0 and empty.fps == 25.0
    assert empty.meta.periods[0].start_frame is None
    nothing = from_kloppy(_fresh_kloppy_load("metrica_csv").filter(lambda f: False))
    assert len(nothing) == 0 and len(nothing.meta.players) == 28
    assert nothing.meta.attack_direction == {1: "right", 2: "left"}
