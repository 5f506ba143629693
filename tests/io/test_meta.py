"""touchline.tracking_meta: the metadata every importer writes and its JSON form; and
touchline.io.meta: attack-direction inference."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from touchline.errors import DataError
from touchline.io.meta import infer_attack_direction
from touchline.tracking_meta import (
    META_KEYS,
    AttackDirection,
    PeriodInfo,
    PlayerInfo,
    TeamInfo,
    TrackingMeta,
)
from touchline.tracks import PARQUET_METADATA_KEY, Tracks, csv_meta_path, read_tracks


def _meta() -> TrackingMeta:
    return TrackingMeta(
        source="skillcorner",
        files=("a.json", "b.json"),
        match_id="2417",
        time_origin="2019-11-09T17:30:00Z",
        teams={0: TeamInfo("Bayern", "100", "home"), 1: TeamInfo("Dortmund", "103", "away")},
        players={
            1: PlayerInfo(
                team=0, name="Manuel Neuer", jersey=1, provider_id="6627", position="Goalkeeper"
            ),
            2: PlayerInfo(team=1, jersey=None, provider_id="away_anon_3"),
        },
        periods=(PeriodInfo(1, 141.1, 2894.4, 1523, 2130), PeriodInfo(2, 3997.9, 6807.6)),
        attack_direction={1: AttackDirection.LEFT, 2: AttackDirection.RIGHT},
    )


def test_to_dict_has_every_key_in_order_and_survives_json() -> None:
    d = _meta().to_dict()
    assert tuple(d) == META_KEYS
    assert d["players"]["1"] == {
        "name": "Manuel Neuer",
        "jersey": 1,
        "team": 0,
        "provider_id": "6627",
        "position": "Goalkeeper",
    }
    assert d["attack_direction"] == {"1": "left", "2": "right"}
    assert d["periods"][1]["start_frame"] is None
    back = TrackingMeta.from_dict(json.loads(json.dumps(d)))
    assert back == _meta()


def test_from_dict_defaults_for_missing_keys() -> None:
    m = TrackingMeta.from_dict({})
    assert (m.source, m.files, m.teams, m.players, m.periods, m.attack_direction) == (
        None,
        (),
        {},
        {},
        (),
        {},
    )
    assert m.period(1) is None
    assert _meta().period(2) == PeriodInfo(2, 3997.9, 6807.6)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ([], "expected a dict"),
        ({"teams": []}, "['teams']: expected a dict"),
        ({"teams": {"x": {}}}, "key 'x' is not an integer"),
        ({"teams": {"0": {"ground": "neutral"}}}, "'home', 'away' or null"),
        ({"players": {"3": {"team": 2}}}, "expected -1, 0 or 1"),
        ({"players": {"3": {"team": 0, "jersey": "ten"}}}, "['jersey']: expected an integer"),
        ({"players": {"3": {"team": 0, "jersey": 9.5}}}, "expected an integer or null"),
        ({"periods": {"id": 1}}, "['periods']: expected a list"),
        ({"periods": [{"start_time": 0.0}]}, "a period needs an integer 'id'"),
        ({"periods": [{"id": 1, "start_time": "soon"}]}, "expected a finite number"),
        ({"periods": [{"id": 1, "end_time": float("nan")}]}, "expected a finite number"),
        ({"attack_direction": {"1": "up"}}, "['attack_direction']['1']: expected 'right'"),
        ({"attack_direction": "left"}, "['attack_direction']: expected a dict"),
        ({"x": float("nan")}, "not JSON-serialisable without NaN"),
        ({3: "x"}, "keys must be strings"),
        ({"files": "a.csv"}, "['files']: expected a list"),
    ],
)
def test_from_dict_errors_name_the_key(meta: object, message: str) -> None:
    with pytest.raises(DataError, match=r"Tracks\.meta") as err:
        TrackingMeta.from_dict(meta)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_attack_direction_parses_aliases_and_has_a_sign() -> None:
    assert AttackDirection("RIGHT") is AttackDirection("left_to_right") is AttackDirection.RIGHT
    assert AttackDirection("right_to_left") is AttackDirection("-1") is AttackDirection.LEFT
    assert (AttackDirection.RIGHT.sign, AttackDirection.LEFT.sign) == (1, -1)
    assert AttackDirection.LEFT == "left" and json.dumps(AttackDirection.LEFT) == '"left"'
    with pytest.raises(ValueError, match="up"):
        AttackDirection("up")
    meta = TrackingMeta.from_dict({"attack_direction": {"1": "Left_To_Right", "2": None}})
    assert meta.attack_direction == {1: AttackDirection.RIGHT, 2: None}
    assert meta.to_dict()["attack_direction"] == {"1": "right", "2": None}


def test_extra_keys_are_kept_and_a_bare_source_stays_short() -> None:
    # What the video pipeline and synth write: only a source and free keys.
    for d in ({}, {"source": "clip.mp4"}, {"source": "s", "seed": 3, "k": [1, {"a": None}]}):
        assert TrackingMeta.from_dict(d).to_dict() == d
    m = TrackingMeta.from_dict({"tool": "x", "events": [{"time": 1.5}], "teams": {"0": {}}})
    assert m.extra == {"tool": "x", "events": [{"time": 1.5}]} and m.source is None
    d = m.to_dict()
    assert tuple(d) == (*META_KEYS, "tool", "events")  # known keys, then the extra ones
    assert TrackingMeta.from_dict(d) == m
    assert TrackingMeta(extra={"k": (1, 2)}).extra == {"k": [1, 2]}  # normalised as JSON
    with pytest.raises(DataError, match=r"extra keys \['source'\]"):
        TrackingMeta(extra={"source": "x"})


def test_tracks_meta_is_typed_and_files_keep_the_same_json(tmp_path: Path) -> None:
    written = {**_meta().to_dict(), "tool": "touchline 1.0"}
    t = Tracks.empty(fps=25.0, meta=written)
    assert isinstance(t.meta, TrackingMeta) and t.meta.teams[0].name == "Bayern"
    assert t.meta.attack_direction[1] is AttackDirection.LEFT and t.meta.extra["tool"]
    assert Tracks(t.df, meta=t.meta).meta is t.meta
    parquet, csv = t.to_parquet(tmp_path / "t.parquet"), t.to_csv(tmp_path / "t.csv")
    stored = pq.read_schema(parquet).metadata[PARQUET_METADATA_KEY]
    assert json.loads(stored)["meta"] == written
    assert json.loads(csv_meta_path(csv).read_text())["meta"] == written
    for path in (parquet, csv):
        assert read_tracks(path).meta == t.meta and read_tracks(path) == t
    video = Tracks.empty(meta={"source": "match.mp4"}).to_parquet(tmp_path / "v.parquet")
    stored = pq.read_schema(video).metadata[PARQUET_METADATA_KEY]
    assert json.loads(stored)["meta"] == {"source": "match.mp4"}  # as the pipeline writes it
    with pytest.raises(DataError, match=r"Tracks.meta\['players'\]\['4'\]\['team'\]"):
        Tracks.empty(meta={"players": {"4": {"team": 7}}})


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # Goalkeepers decide even when the outfield players stand the other way round.
        (
            [
                (0, "goalkeeper", 5.0),
                (1, "goalkeeper", 100.0),
                (0, "player", 90.0),
                (1, "player", 10.0),
            ],
            {1: "right"},
        ),
        # Without both goalkeepers, the outfield players' mean position decides.
        ([(0, "goalkeeper", 5.0), (0, "player", 80.0), (1, "player", 40.0)], {1: "left"}),
        # One team only: the half it stands in is the half it defends.
        ([(0, "player", 30.0), (0, "player", 40.0)], {1: "right"}),
        ([(1, "player", 30.0)], {1: "left"}),
        # Nothing to go by.
        ([(-1, "ball", 30.0)], {1: None}),
        ([(0, "player", 52.5), (1, "player", 52.5)], {1: None}),
    ],
)
def test_infer_attack_direction(rows: list[tuple[int, str, float]], expected: dict) -> None:
    df = pd.DataFrame(rows, columns=["team", "class_name", "pitch_x"])
    assert infer_attack_direction(df, 105.0) == expected


def test_infer_attack_direction_per_period_ignores_nan() -> None:
    df = pd.DataFrame(
        {
            "team": [0, 1, 0, 1, 0],
            "class_name": "player",
            "pitch_x": [20.0, 80.0, 90.0, 10.0, float("nan")],
            "period": [1, 1, 2, 2, 3],
        }
    )
    assert infer_attack_direction(df, 105.0) == {1: "right", 2: "left", 3: None}
