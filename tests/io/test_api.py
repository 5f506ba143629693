"""touchline.io: read_tracking sniffs the format, write_tracking picks it by suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import touchline.io as tio
from touchline.errors import DataError
from touchline.io import AttackDirection, read_tracking, write_tracking
from touchline.tracks import TRACK_COLUMN_NAMES, Tracks

kloppy = pytest.importorskip("kloppy")
FILES = Path(kloppy.__file__).parent / "tests" / "files"

LASTROW = (
    "player,frame,x,y,z,dx,dy,coords,player_num,player_obj,team,num,name,edgecolor,bgcolor\n"
    "0,0,50,50,0,0,0,,,,,,,,\n4,0,40,60,,0,0,,7,4,attack,,,white,red\n"
    "9,0,2,50,,0,0,,,9,defense,,,white,blue\n"
    "0,1,1,50,0,0,0,,,,,,,,\n4,1,30,60,,0,0,,7,4,attack,,,white,red\n"
    "9,1,2,51,,0,0,,,9,defense,,,white,blue\n"
)


def _metrica() -> Tracks:
    return tio.load_tracking(
        "metrica", home_data=FILES / "metrica_home.csv", away_data=FILES / "metrica_away.csv"
    )


def test_public_api() -> None:
    assert set(tio.__all__) >= {
        "read_lastrow",
        "from_kloppy",
        "to_kloppy",
        "load_tracking",
        "write_cdf",
        "read_cdf",
        "validate_cdf",
        "read_tracking",
        "write_tracking",
    }
    for name in tio.__all__:
        assert getattr(tio, name) is not None


@pytest.mark.parametrize("suffix", [".parquet", ".pq", ".csv", ".csv.gz"])
def test_touchline_tables_round_trip_exactly(tmp_path: Path, suffix: str) -> None:
    t = _metrica()
    path = write_tracking(t, tmp_path / f"match{suffix}")
    back = read_tracking(path)
    assert back.meta == t.meta and back.fps == t.fps and back.pitch_size == t.pitch_size
    if suffix in (".parquet", ".pq"):
        assert back == t
    else:  # CSV keeps the canonical columns exactly; extras get the dtypes pandas infers
        canonical = list(TRACK_COLUMN_NAMES)
        assert back.df[canonical].equals(t.df[canonical])
        np.testing.assert_array_equal(back.df.period, t.df.period)
        np.testing.assert_allclose(back.df.pitch_z, t.df.pitch_z)
    assert read_tracking(path, provider="touchline").meta == t.meta


def test_cdf_by_suffix(tmp_path: Path) -> None:
    t = _metrica()
    path = write_tracking(t, tmp_path / "game.jsonl")
    assert path == tmp_path / "game.jsonl" and (tmp_path / "game.meta.json").is_file()
    for source in (path, tmp_path):
        back = read_tracking(source)
        assert back.meta.source == "cdf"
        np.testing.assert_allclose(back.df.pitch_x, t.df.pitch_x, atol=1e-3)


def test_lastrow_csv_is_sniffed(tmp_path: Path) -> None:
    p = tmp_path / "goal.csv"
    p.write_text(LASTROW)
    t = read_tracking(p)
    assert t.meta.source == "lastrow"
    assert t.meta.teams[0].color == "red"
    assert t.meta.players[1].jersey == 7
    assert t.meta.attack_direction == {1: AttackDirection.LEFT}
    assert read_tracking(p, provider="LastRow") == t


@pytest.mark.shared_data
def test_shared_lastrow_is_sniffed(shared: Callable[[str], Path]) -> None:
    t = read_tracking(shared("tracking/lastrow/LIV_[2]-1_CHE.csv"))
    assert t.meta.source == "lastrow" and len(t.frames) == 195


@pytest.mark.parametrize(
    ("name", "content", "provider", "message"),
    [
        ("x.txt", "a", None, "cannot tell the tracking format"),
        ("x.csv", "a,b\n1,2\n", None, "neither a touchline tracks table"),
        ("x.csv", "a,b\n1,2\n", "statsbomb", "unknown tracking format 'statsbomb'"),
        ("x.dat", "a", "tracab", "use touchline.io.load_tracking('tracab', meta_data=..."),
    ],
)
def test_read_errors(
    tmp_path: Path, name: str, content: str, provider: str | None, message: str
) -> None:
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(DataError, match=name) as err:
        read_tracking(p, provider=provider)
    assert message in str(err.value)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.parquet: no such file or folder"):
        read_tracking(tmp_path / "nope.parquet")


def test_write_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"t\.json: unsupported suffix"):
        write_tracking(Tracks.empty(), tmp_path / "t.json")
