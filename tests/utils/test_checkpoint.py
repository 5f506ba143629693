"""The one checkpoint utility of resumable jobs: keys, atomic pieces, clean-up."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from touchline.utils.checkpoint import Checkpoint, file_identity, fingerprint


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.3


def test_fingerprint_sees_values_dtypes_and_settings() -> None:
    a = np.arange(6).reshape(2, 3)
    assert fingerprint(a, Settings()) == fingerprint(a.copy(), Settings())
    assert fingerprint(a) != fingerprint(a.reshape(3, 2))
    assert fingerprint(a) != fingerprint(a.astype(np.float32))
    assert fingerprint(Settings()) != fingerprint(Settings(0.5))
    assert fingerprint([1, 2], 3) != fingerprint([1], 2, 3)


def test_a_new_key_empties_the_folder_and_the_same_key_keeps_it(tmp_path) -> None:
    folder = tmp_path / ".partial"
    ck = Checkpoint(folder, "k1")
    ck.write_bytes("chunk_00000010.npz", b"b")
    ck.write_bytes("chunk_00000000.npz", b"a")
    ck.write_json("progress.json", {"done": 2})
    again = Checkpoint(folder, "k1")
    assert [p.name for p in again.pieces("chunk_*")] == ["chunk_00000000.npz", "chunk_00000010.npz"]
    assert again.read_json("progress.json") == {"done": 2}
    other = Checkpoint(folder, "k2")
    assert other.pieces() == [] and other.read_json("progress.json") is None
    other.clear()
    assert not folder.exists()


def test_an_unreadable_piece_reads_as_missing(tmp_path) -> None:
    ck = Checkpoint(tmp_path / "p", "k")
    ck.path("progress.json").write_text("{not json")
    assert ck.read_json("progress.json") is None


def test_file_identity_changes_when_the_file_does(tmp_path) -> None:
    f = tmp_path / "clip.mp4"
    f.write_bytes(b"1234")
    before = file_identity(f)
    f.write_bytes(b"12345")
    os.utime(f, ns=(1, 1))
    assert file_identity(f) != before
